//! Poisoning for [`Mutex`](super::Mutex) and [`RwLock`](super::RwLock), as
//! std does it: a guard that is dropped while its goroutine panics (and was
//! not already panicking when it was taken) marks the lock poisoned, and the
//! next locker hears of it.
//!
//! API.md fixes `Mutex::lock() -> MutexGuard` (Go's `Lock()` has no error),
//! so the plain calls (`lock`, `read`, `write`) panic on a poisoned lock
//! with a message that names the recovery calls; the `*_result` variants,
//! `try_*`, `into_inner` and `get_mut` report it with std's `PoisonError`
//! and `TryLockError`, and `clear_poison` resets it.
//!
//! `std::thread::panicking()` counts panics per OS thread: a goroutine that
//! parks while unwinding makes it `true` for the others on its thread until
//! it finishes, so a guard dropped by one of those then poisons too (rare,
//! and on the safe side).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::PoisonError;

/// Whether a lock is poisoned.
pub(crate) struct Flag(AtomicBool);

/// What a guard remembers to decide, when dropped, whether it poisons.
pub(crate) struct Guard {
    panicking: bool,
}

impl Flag {
    pub(crate) const fn new() -> Flag {
        Flag(AtomicBool::new(false))
    }

    pub(crate) fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    pub(crate) fn clear(&self) {
        self.0.store(false, Ordering::Relaxed);
    }

    /// The poison guard for a lock just taken.
    pub(crate) fn guard(&self) -> Guard {
        Guard {
            panicking: std::thread::panicking(),
        }
    }

    /// Called when a guard is dropped, still holding the lock.
    pub(crate) fn done(&self, guard: &Guard) {
        if !guard.panicking && std::thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

/// `Ok(value)`, or `Err(PoisonError)` carrying it when `poisoned`.
pub(crate) fn map_result<T>(poisoned: bool, value: T) -> Result<T, PoisonError<T>> {
    if poisoned {
        Err(PoisonError::new(value))
    } else {
        Ok(value)
    }
}

/// The value, or the panic of a plain `lock`/`read`/`write` on a poisoned
/// lock.
#[track_caller]
pub(crate) fn or_panic<T>(what: &str, result: Result<T, PoisonError<T>>) -> T {
    match result {
        Ok(v) => v,
        Err(e) => {
            drop(e); // unlock before panicking
            poisoned(what)
        }
    }
}

#[cold]
#[track_caller]
fn poisoned(what: &str) -> ! {
    panic!(
        "goro::sync::{what} is poisoned: a goroutine panicked while holding it \
         (recover with {what}::clear_poison, or lock with the *_result variant)"
    )
}
