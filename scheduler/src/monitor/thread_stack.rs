//! The stack of another M's thread at this moment, for the held-thread
//! report (`held.rs`): what the goroutine holding that thread is doing.
//!
//! A thread's running stack cannot be read from outside while it runs, so
//! the thread reads its own: sysmon sends it `SIGURG` (as Go's preemption
//! does: a signal programs rarely use, ignored by default), and the handler
//! walks the interrupted stack with `backtrace::trace_unsynchronized` into a
//! static buffer, then marks the capture done; sysmon waits a bounded time
//! for it, then symbolizes the addresses off that thread. An interrupted
//! system call (a `std::thread::sleep`, a blocking read) is restarted
//! (`SA_RESTART`, and std's sleep resumes its remaining time after `EINTR`).
//!
//! The walk in a signal handler is what Rust profilers do (pprof-rs); its
//! caveat is the unwinder's lookup of the loader's module list, which may
//! take the loader's lock: a thread interrupted inside `dlopen` would wait
//! for itself. The capture is made at most once per spawn site and process,
//! only for a goroutine that already holds its thread for the threshold, and
//! never when the program handles `SIGURG` itself.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use crate::monitor::dump::frames::{CodeAddress, WALK_LIMIT};
use crate::sys::poison::Unpoisoned;

/// `IDLE` -> `REQUESTED` (sysmon) -> `DONE` (the handler) -> `IDLE`.
const IDLE: u32 = 0;
const REQUESTED: u32 = 1;
const DONE: u32 = 2;

static STATE: AtomicU32 = AtomicU32::new(IDLE);
/// The captured return addresses; written by the handler between
/// `REQUESTED` and `DONE` (Release), read by the requester after it sees
/// `DONE` (Acquire). One capture at a time (`CAPTURE`).
static ADDRS: [AtomicUsize; WALK_LIMIT] = [const { AtomicUsize::new(0) }; WALK_LIMIT];
static LEN: AtomicUsize = AtomicUsize::new(0);
/// Serializes captures.
static CAPTURE: Mutex<()> = Mutex::new(());
/// Whether the handler is installed (SIGURG had its default action).
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// How long a capture waits for the thread's handler.
const WAIT: Duration = Duration::from_millis(100);

/// The stack of thread `thread` (a pthread id from `sys::thread::pthread_id`
/// of a live thread), innermost first, from the code the signal
/// interrupted; `None` if it could not be had (SIGURG is the program's, or
/// the thread did not answer in time).
pub(crate) fn capture(thread: u64) -> Option<Vec<CodeAddress>> {
    install_once();
    if !INSTALLED.load(Ordering::Acquire) {
        return None;
    }
    let _one = CAPTURE.lock_unpoisoned();
    STATE.store(REQUESTED, Ordering::Release);
    // SAFETY: `thread` is a live thread of this process (an M's, which
    // outlives the runtime's sysmon); the handler is installed.
    if unsafe { libc::pthread_kill(thread as libc::pthread_t, libc::SIGURG) } != 0 {
        STATE.store(IDLE, Ordering::Relaxed);
        return None;
    }
    let start = Instant::now();
    while STATE.load(Ordering::Acquire) != DONE {
        if start.elapsed() >= WAIT {
            // Too late: a handler that runs now finds IDLE and does nothing.
            return match STATE.swap(IDLE, Ordering::AcqRel) {
                DONE => Some(collect()),
                _ => None,
            };
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let addrs = collect();
    STATE.store(IDLE, Ordering::Release);
    Some(addrs)
}

fn collect() -> Vec<CodeAddress> {
    let n = LEN.load(Ordering::Acquire);
    ADDRS[..n]
        .iter()
        .map(|a| CodeAddress::Return(a.load(Ordering::Relaxed) as u64))
        .collect()
}

extern "C" fn on_sigurg(_: libc::c_int) {
    if STATE
        .compare_exchange(REQUESTED, REQUESTED, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        return;
    }
    let mut n = 0;
    // SAFETY: nothing else walks this thread's stack meanwhile (we are on
    // it), and the closure only stores into static atomics: no allocation,
    // no lock (the module docs say what the unwinder itself may take).
    unsafe {
        backtrace::trace_unsynchronized(|frame| {
            ADDRS[n].store(frame.ip() as usize, Ordering::Relaxed);
            n += 1;
            n < WALK_LIMIT
        });
    }
    LEN.store(n, Ordering::Release);
    let _ = STATE.compare_exchange(REQUESTED, DONE, Ordering::Release, Ordering::Relaxed);
}

fn install_once() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        if !crate::sys::signal::is_default(libc::SIGURG) {
            return;
        }
        // SAFETY: the handler only touches static atomics and walks its
        // own thread's stack (see the module docs for the unwinder).
        if unsafe { crate::sys::signal::install(libc::SIGURG, on_sigurg) } {
            INSTALLED.store(true, Ordering::Release);
        }
    });
}
