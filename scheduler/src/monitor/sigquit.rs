//! SIGQUIT: as in Go, the process prints every goroutine to stderr and
//! exits with status 2.
//!
//! The handler is installed once per process, by the first `run`, and only
//! if SIGQUIT still has its default action (a program that ignores it or
//! handles it itself keeps its choice). The handler itself only bumps a
//! futex word and wakes the `goro-sigquit` thread (both async-signal-safe);
//! that thread writes `SIGQUIT: quit`, then the dump of every runtime
//! running in the process (`dump/`), and exits. With no runtime running,
//! it restores the default action and re-raises the signal, so the process
//! ends as it would have without goro.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Once, Weak};

use crate::sched::Sched;
use crate::sys::futex;
use crate::sys::poison::Unpoisoned;

/// Bumped by the handler; the dumping thread sleeps on it.
static RECEIVED: AtomicU32 = AtomicU32::new(0);

/// The runtimes running in this process.
static RUNTIMES: Mutex<Vec<Weak<Sched>>> = Mutex::new(Vec::new());

/// Keeps a runtime in the SIGQUIT dump until dropped (the end of `run`).
pub(crate) struct Registration(Weak<Sched>);

/// Lists `shared` for SIGQUIT dumps, installing the handler on first use.
pub(crate) fn register(sched: &Arc<Sched>) -> Registration {
    install_once();
    let weak = Arc::downgrade(sched);
    runtimes().push(weak.clone());
    Registration(weak)
}

impl Drop for Registration {
    fn drop(&mut self) {
        runtimes().retain(|w| !w.ptr_eq(&self.0));
    }
}

fn runtimes() -> std::sync::MutexGuard<'static, Vec<Weak<Sched>>> {
    RUNTIMES.lock_unpoisoned()
}

fn install_once() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        if !crate::sys::signal::is_default(libc::SIGQUIT) {
            return;
        }
        let started = std::thread::Builder::new()
            .name("goro-sigquit".into())
            .spawn(dump_on_signal);
        if started.is_err() {
            return;
        }
        // SAFETY: the handler only does async-signal-safe work (an atomic
        // add and a futex wake).
        unsafe { crate::sys::signal::install(libc::SIGQUIT, on_sigquit) };
    });
}

extern "C" fn on_sigquit(_signal: libc::c_int) {
    RECEIVED.fetch_add(1, Ordering::SeqCst);
    futex::wake(&RECEIVED, 1);
}

/// The `goro-sigquit` thread: waits for the signal, dumps, exits.
fn dump_on_signal() {
    while RECEIVED.load(Ordering::SeqCst) == 0 {
        futex::wait(&RECEIVED, 0, None);
    }
    let live: Vec<Arc<Sched>> = runtimes().iter().filter_map(Weak::upgrade).collect();
    if live.is_empty() {
        // SAFETY: restoring the default action and raising the signal on
        // this thread ends the process the way SIGQUIT does without goro.
        unsafe {
            libc::signal(libc::SIGQUIT, libc::SIG_DFL);
            libc::raise(libc::SIGQUIT);
        }
        return;
    }
    let mut text = String::from("SIGQUIT: quit\n\n");
    for sched in &live {
        text.push_str(&crate::monitor::dump::dump(sched, None));
    }
    crate::sys::report::write_stderr(&text);
    std::process::exit(2)
}
