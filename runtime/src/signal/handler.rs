//! The process side of `goro::signal`: the C handler, the self-pipe it
//! writes to, and the `goro-signal` thread that turns its bytes into
//! deliveries.
//!
//! The handler does only async-signal-safe work: it sets the signal's
//! pending flag and writes one byte to a non-blocking pipe (a full pipe
//! drops the byte, but the flag stays set, so nothing is lost: the thread
//! reads the flags, not the bytes). Signals of one kind that arrive before
//! the thread looks coalesce into one delivery, as Go's do.
//!
//! Dispositions: the first watcher of a signal saves its current action
//! and installs the handler; when the last watcher goes, the saved action
//! comes back. That restores the default action for most signals, and
//! goro's own behaviour for SIGQUIT (the goroutine dump) and std's for
//! SIGPIPE (ignored), as the API promises.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::OnceLock;

/// Signal numbers are below this (Linux's `_NSIG`).
pub(super) const NSIG: usize = 65;

/// Set by the handler, cleared by the thread when it delivers.
static PENDING: [AtomicBool; NSIG] = [const { AtomicBool::new(false) }; NSIG];

/// The pipe's write end, for the handler (-1 until the thread runs).
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);

/// The actions saved when the handler was installed, by signal number
/// (only touched under the registry's lock, which every caller holds).
pub(super) struct Saved {
    actions: [Option<libc::sigaction>; NSIG],
}

impl Saved {
    pub(super) const fn new() -> Saved {
        Saved {
            actions: [None; NSIG],
        }
    }

    /// Catches `sig` from now on, saving the action it had.
    pub(super) fn catch(&mut self, sig: libc::c_int) -> io::Result<()> {
        start_thread()?;
        if self.actions[sig as usize].is_some() {
            return Ok(());
        }
        // SAFETY: all-zero is a valid sigaction (empty mask, no flags).
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SA_ONSTACK: the handler may interrupt a goroutine on its small
        // stack; SA_RESTART: interrupted system calls carry on, as in Go.
        action.sa_flags = libc::SA_RESTART | libc::SA_ONSTACK;
        // SAFETY: all-zero is a valid sigaction (SIG_DFL, empty mask, no
        // flags, no restorer); the kernel overwrites it.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: `action` is valid and its handler only does
        // async-signal-safe work; `old` is written by the kernel.
        if unsafe { libc::sigaction(sig, &action, &mut old) } != 0 {
            return Err(io::Error::last_os_error());
        }
        self.actions[sig as usize] = Some(old);
        Ok(())
    }

    /// Gives `sig` back the action it had before [`catch`](Self::catch).
    pub(super) fn release(&mut self, sig: libc::c_int) {
        if let Some(old) = self.actions[sig as usize].take() {
            // SAFETY: `old` is the action the kernel gave us for `sig`.
            unsafe { libc::sigaction(sig, &old, std::ptr::null_mut()) };
        }
    }
}

extern "C" fn on_signal(sig: libc::c_int) {
    // SAFETY: reading and restoring this thread's errno is what a handler
    // must do so that the interrupted code sees its own error.
    let errno = unsafe { *libc::__errno_location() };
    if let Some(flag) = PENDING.get(sig as usize) {
        flag.store(true, Ordering::SeqCst);
    }
    let fd = WAKE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = 0u8;
        // SAFETY: write(2) is async-signal-safe; one byte from a live local.
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    }
    // SAFETY: `__errno_location` is this thread's errno, always valid;
    // restoring the value read on entry hides the handler's own errors.
    unsafe { *libc::__errno_location() = errno };
}

/// Starts the `goro-signal` thread once; it calls `super::deliver` for
/// each pending signal.
fn start_thread() -> io::Result<()> {
    static STARTED: OnceLock<Result<(), i32>> = OnceLock::new();
    let started = STARTED.get_or_init(|| {
        let mut fds = [0 as RawFd; 2];
        // SAFETY: `fds` has room for the two descriptors.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error().raw_os_error().unwrap_or(0));
        }
        let [read_end, write_end] = fds;
        // SAFETY: a plain fcntl on the write end we just made: the handler
        // must never block on a full pipe.
        unsafe { libc::fcntl(write_end, libc::F_SETFL, libc::O_NONBLOCK) };
        let spawned = std::thread::Builder::new()
            .name("goro-signal".into())
            .spawn(move || dispatch(read_end));
        if let Err(e) = spawned {
            return Err(e.raw_os_error().unwrap_or(0));
        }
        WAKE_FD.store(write_end, Ordering::SeqCst);
        Ok(())
    });
    started.map_err(io::Error::from_raw_os_error)
}

/// The `goro-signal` thread: sleeps in read(2) on the pipe, then delivers
/// every pending signal. A read-blocked thread also keeps the deadlock
/// check quiet while signals may still come (`scheduler/src/monitor/deadlock.rs`,
/// rule 4), as Go's signal-receiving thread does.
fn dispatch(read_end: RawFd) {
    let mut buf = [0u8; 64];
    loop {
        // SAFETY: reads into a live buffer of its length.
        let n = unsafe { libc::read(read_end, buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                // Nothing can deliver signals any more: say so rather
                // than leave them caught and silently dropped.
                eprintln!("goro: the goro-signal thread cannot read its pipe ({e}); watched signals will no longer be delivered");
                return;
            }
        }
        for (sig, flag) in PENDING.iter().enumerate() {
            if flag.swap(false, Ordering::SeqCst) {
                super::deliver(sig as libc::c_int);
            }
        }
    }
}
