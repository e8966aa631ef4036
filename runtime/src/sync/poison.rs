//! Poisoning for [`Mutex`](super::Mutex) and [`RwLock`](super::RwLock), as
//! std does it: a guard that is dropped while its goroutine panics (and was
//! not already panicking when it was taken) marks the lock poisoned, and the
//! next locker hears of it.
//!
//! The public API fixes `Mutex::lock() -> MutexGuard` (Go's `Lock()` has no error),
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

/// Whether a lock is poisoned (RwLock's; Mutex keeps the flag in its lock
/// word, see `raw_mutex.rs`).
pub(crate) struct Flag(AtomicBool);

/// What a guard remembers to decide, when dropped, whether it poisons.
pub(crate) struct Guard {
    panicking: bool,
}

impl Flag {
    pub(crate) const fn new() -> Flag {
        Flag(AtomicBool::new(false))
    }

    pub(crate) fn is_poisoned(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    pub(crate) fn set_poisoned(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub(crate) fn clear_poison(&self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

impl Guard {
    /// Taken just before locking. Whether this thread panics cannot change
    /// in between, and reading the panic count before the lock's atomic
    /// instruction keeps that load off the path its unlock waits on (a
    /// locked instruction waits for every load before it).
    #[inline]
    pub(crate) fn before_locking() -> Guard {
        Guard {
            panicking: std::thread::panicking(),
        }
    }

    /// Whether dropping the guard now poisons its lock: its goroutine
    /// panics, and did not when it locked. Both are evaluated (`&`, not
    /// `&&`): the load is cheaper than a branch on the first before it.
    #[inline]
    pub(crate) fn poisons(&self) -> bool {
        !self.panicking & std::thread::panicking()
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

/// The std-like surface [`Mutex`](super::Mutex) and
/// [`RwLock`](super::RwLock) share, for a lock type with a `$poison` field
/// (with `is_poisoned` and `clear_poison`), a `data: UnsafeCell<T>` field
/// and a `new` constructor: `into_inner`,
/// `get_mut`, `is_poisoned`, `clear_poison`, `Default`, `From`, and a
/// `Debug` showing the data when `$try_access` gets it without waiting.
macro_rules! std_lock_surface {
    ($lock:ident, $try_access:ident, $poison:ident) => {
        impl<T> $lock<T> {
            /// Consumes the lock and returns the data; `Err` if poisoned.
            pub fn into_inner(self) -> std::sync::LockResult<T> {
                let poisoned = self.$poison.is_poisoned();
                super::poison::map_result(poisoned, self.data.into_inner())
            }
        }

        impl<T: ?Sized> $lock<T> {
            /// Whether a holder panicked (and the flag was not cleared since).
            pub fn is_poisoned(&self) -> bool {
                self.$poison.is_poisoned()
            }

            /// Clears the poisoned state.
            pub fn clear_poison(&self) {
                self.$poison.clear_poison();
            }

            /// The data, through exclusive access (no locking); `Err` if
            /// poisoned.
            pub fn get_mut(&mut self) -> std::sync::LockResult<&mut T> {
                let poisoned = self.$poison.is_poisoned();
                super::poison::map_result(poisoned, self.data.get_mut())
            }
        }

        impl<T: Default> Default for $lock<T> {
            fn default() -> $lock<T> {
                $lock::new(T::default())
            }
        }

        impl<T> From<T> for $lock<T> {
            fn from(value: T) -> $lock<T> {
                $lock::new(value)
            }
        }

        impl<T: ?Sized + std::fmt::Debug> std::fmt::Debug for $lock<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut d = f.debug_struct(stringify!($lock));
                match self.$try_access() {
                    Ok(guard) => d.field("data", &&*guard),
                    Err(std::sync::TryLockError::Poisoned(e)) => d.field("data", &&**e.get_ref()),
                    Err(std::sync::TryLockError::WouldBlock) => {
                        d.field("data", &format_args!("<locked>"))
                    }
                };
                d.field("poisoned", &self.$poison.is_poisoned())
                    .finish_non_exhaustive()
            }
        }
    };
}
pub(crate) use std_lock_surface;
