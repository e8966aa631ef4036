//! `Mutex<T>`: Go's sync.Mutex with std's data-owning, guard-based API.
//!
//! The algorithm (one-CAS fast path, short spin, FIFO queue, starvation
//! mode with direct hand-over) is [`RawMutex`]; this file adds the data,
//! the guard and poisoning (see `poison.rs` for the choice: `lock()` panics
//! on a poisoned mutex, `lock_result()` and `try_lock()` report it as std
//! does). A goroutine blocked in `lock` parks (its OS thread runs other
//! goroutines); a plain thread blocks on a futex.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::{LockResult, TryLockError, TryLockResult};

use super::poison;
use super::raw_mutex::RawMutex;

/// A mutual exclusion lock protecting a `T`; see the module comment.
///
/// ```
/// # use goro_runtime as goro;
/// use std::sync::Arc;
/// goro::run(|| {
///     let counter = Arc::new(goro::sync::Mutex::new(0));
///     let wg = goro::sync::WaitGroup::new();
///     for _ in 0..10 {
///         let counter = counter.clone();
///         wg.go(move || *counter.lock() += 1);
///     }
///     wg.wait();
///     assert_eq!(*counter.lock(), 10);
/// });
/// ```
pub struct Mutex<T: ?Sized> {
    /// The lock, and the poison flag (in the lock word: see `raw_mutex.rs`).
    pub(super) raw: RawMutex,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands out access to `T` to one holder at a time, on any
// thread, so `T: Send` suffices for both (as std's Mutex).
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: sharing a `&Mutex` only lets each thread take its turn as the one
// holder of `T`, so `T: Send` suffices (as std's Mutex); `T: Sync` is not
// needed because no two threads reach `T` at once.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// Holds a [`Mutex`] locked; unlocks when dropped. `!Send`, like std's: it
/// is released by whoever took it.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized + 'a> {
    pub(super) mutex: &'a Mutex<T>,
    poison: poison::Guard,
    /// The mutex was poisoned when this guard took it.
    was_poisoned: bool,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: a shared guard only gives `&T`, which is fine to share across
// threads when `T: Sync` (as std's MutexGuard).
unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}

impl<T> Mutex<T> {
    /// A new unlocked mutex (usable in a `static`).
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            raw: RawMutex::new(),
            data: UnsafeCell::new(value),
        }
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks, parking the goroutine (or blocking the thread) until it can.
    ///
    /// # Panics
    /// If the mutex is poisoned (a holder panicked); see
    /// [`lock_result`](Self::lock_result) to recover instead.
    #[track_caller]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        poison::or_panic("Mutex", self.lock_result())
    }

    /// Locks like [`lock`](Self::lock), reporting poisoning as std's
    /// `Mutex::lock` does (the guard is inside the `PoisonError`).
    pub fn lock_result(&self) -> LockResult<MutexGuard<'_, T>> {
        let poison = poison::Guard::before_locking();
        let poisoned = self.raw.lock();
        // SAFETY: we just locked it.
        unsafe { self.guard(poison, poisoned) }
    }

    /// Locks if it is free now (and not being handed to a waiter).
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        // A preemption point, as every runtime call: a goroutine polling
        // try_lock must let the holder run (GOMAXPROCS=1).
        crate::preempt_point();
        let poison = poison::Guard::before_locking();
        let Some(poisoned) = self.raw.try_lock() else {
            return Err(TryLockError::WouldBlock);
        };
        // SAFETY: we just locked it.
        unsafe { self.guard(poison, poisoned) }.map_err(TryLockError::Poisoned)
    }

    /// The guard for a lock the caller just took, which found it
    /// `poisoned` or not.
    ///
    /// # Safety
    /// The caller holds `raw` and hands that to the guard.
    unsafe fn guard(&self, poison: poison::Guard, poisoned: bool) -> LockResult<MutexGuard<'_, T>> {
        let guard = MutexGuard {
            mutex: self,
            poison,
            was_poisoned: poisoned,
            _not_send: PhantomData,
        };
        poison::map_result(poisoned, guard)
    }
}

poison::std_lock_surface!(Mutex, try_lock, raw);

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// Unlocks without the poison check and returns the mutex (Cond's wait
    /// releases it this way and locks it again later).
    pub(super) fn unlock_for_wait(self) -> &'a Mutex<T> {
        let mutex = self.mutex;
        std::mem::forget(self);
        // SAFETY: the guard held the lock and is forgotten, so it does not
        // unlock again.
        unsafe { mutex.raw.unlock() };
        mutex
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock, and `&mut self` makes this the
        // only reference through it.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        let poisons = self.poison.poisons();
        if self.was_poisoned {
            // The holder may have cleared the flag since (std's recovery
            // idiom), so it is set the plain way.
            if poisons {
                self.mutex.raw.set_poisoned();
            }
            // SAFETY: the guard holds the lock; references it handed out
            // borrow it and are gone.
            unsafe { self.mutex.raw.unlock() }
        } else {
            // SAFETY: the guard holds the lock; references it handed out
            // borrow it and are gone; the flag was clear when it locked.
            unsafe { self.mutex.raw.unlock_poisoning(poisons) }
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
