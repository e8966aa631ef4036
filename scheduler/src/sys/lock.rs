//! `Lock<T>`: the runtime's short-critical-section mutex (Go's `lock_futex`).
//!
//! Channels, timers and `select` guard their state with it. Two things set
//! it apart from `std::sync::Mutex`:
//! - `select` must lock several channels of different element types at once
//!   (in address order, as Go's `sellock`) and unlock them later, which a
//!   guard-only API cannot express: `raw_lock`/`raw_unlock` allow it, with
//!   `locked_data` giving the state under a lock held that way.
//! - No user code ever runs under it, so there is no poisoning.
//!
//! The word is 0 (free), 1 (held) or 2 (held, maybe with sleepers). `lock`
//! takes a free lock with one CAS; under contention it spins with exponential
//! backoff (the holder is on another core for a few dozen nanoseconds; backing
//! off keeps the spinners from stealing the lock's cache line from the holder,
//! which doubled throughput on a channel hammered from two cores) and then
//! sleeps on the futex, marking the word 2 so that `unlock` knows to wake one
//! sleeper (Drepper's "Futexes are tricky", mutex 2). It blocks the OS thread,
//! not the goroutine: critical sections are a few hundred instructions, shorter
//! than a goroutine switch.

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::sys::futex;

const FREE: u32 = 0;
const HELD: u32 = 1;
const CONTENDED: u32 = 2;
const SPINS: u32 = 12;
const BACKOFF_MAX: u32 = 6;

/// A mutex for runtime-internal state; see the module comment.
pub struct Lock<T> {
    word: AtomicU32,
    data: UnsafeCell<T>,
}

// SAFETY: the data is only reached while the lock is held (guard, or
// `locked_data` under `raw_lock`), so one thread at a time; moving `T`
// between threads needs `T: Send`.
unsafe impl<T: Send> Send for Lock<T> {}
// SAFETY: shared access to the data goes through the lock (one thread at a
// time), so `&Lock<T>` across threads only ever hands `T` from one thread
// to the next, which `T: Send` allows.
unsafe impl<T: Send> Sync for Lock<T> {}

impl<T: Default> Default for Lock<T> {
    fn default() -> Lock<T> {
        Lock::new(T::default())
    }
}

/// Access to a [`Lock`]'s data; unlocks on drop.
pub struct LockGuard<'a, T> {
    lock: &'a Lock<T>,
}

impl<T> Lock<T> {
    /// An unlocked lock around `data`.
    pub const fn new(data: T) -> Lock<T> {
        Lock {
            word: AtomicU32::new(FREE),
            data: UnsafeCell::new(data),
        }
    }

    /// Locks and returns a guard.
    #[inline]
    pub fn lock(&self) -> LockGuard<'_, T> {
        self.raw_lock();
        LockGuard { lock: self }
    }

    /// Locks without a guard; pair with [`raw_unlock`](Self::raw_unlock).
    #[inline]
    pub fn raw_lock(&self) {
        if self
            .word
            .compare_exchange(FREE, HELD, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
    }

    #[cold]
    fn lock_contended(&self) {
        for spin in 0..SPINS {
            if self.word.load(Ordering::Relaxed) == FREE
                && self
                    .word
                    .compare_exchange(FREE, HELD, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return;
            }
            for _ in 0..1u32 << spin.min(BACKOFF_MAX) {
                std::hint::spin_loop();
            }
        }
        // Passive spin (Go's `osyield`): the holder may be waiting for this
        // CPU; one yield is far cheaper than a futex round trip.
        std::thread::yield_now();
        if self
            .word
            .compare_exchange(FREE, HELD, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return;
        }
        // From here on we may have sleepers behind us: take it as CONTENDED
        // so our unlock wakes the next one.
        while self.word.swap(CONTENDED, Ordering::Acquire) != FREE {
            futex::wait(&self.word, CONTENDED, None);
        }
    }

    /// Unlocks a lock taken with [`raw_lock`](Self::raw_lock).
    ///
    /// # Safety
    /// The calling thread holds the lock through `raw_lock`, and no
    /// reference from `locked_data` outlives this call.
    #[inline]
    pub unsafe fn raw_unlock(&self) {
        if self.word.swap(FREE, Ordering::Release) == CONTENDED {
            futex::wake(&self.word, 1);
        }
    }

    /// The data under a lock taken with [`raw_lock`](Self::raw_lock).
    ///
    /// # Safety
    /// The calling thread holds the lock, the reference is dropped before
    /// `raw_unlock`, and no other reference to the data is live.
    #[allow(clippy::mut_from_ref)]
    #[inline]
    pub unsafe fn locked_data(&self) -> &mut T {
        // SAFETY: forwarded from the caller.
        unsafe { &mut *self.data.get() }
    }
}

impl<T> Deref for LockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock, and `&mut self` makes this the
        // only reference through it.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for LockGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: the guard took the lock with `raw_lock`; the references it
        // handed out borrow the guard and are gone.
        unsafe { self.lock.raw_unlock() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn counts_under_contention() {
        let lock = Arc::new(Lock::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    for _ in 0..100_000 {
                        *lock.lock() += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*lock.lock(), 400_000);
    }

    #[test]
    fn raw_lock_excludes_guards() {
        let lock = Arc::new(Lock::new(Vec::new()));
        lock.raw_lock();
        let other = {
            let lock = lock.clone();
            std::thread::spawn(move || lock.lock().push(2))
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        // SAFETY: we hold the lock through raw_lock.
        unsafe { lock.locked_data().push(1) };
        // SAFETY: we still hold the lock through raw_lock, and the
        // reference `locked_data` gave above is gone.
        unsafe { lock.raw_unlock() };
        other.join().unwrap();
        assert_eq!(*lock.lock(), vec![1, 2]);
    }
}
