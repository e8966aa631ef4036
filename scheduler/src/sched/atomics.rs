//! The atomics, fence, futex and lock the idle/sleep protocol runs on:
//! std's (and goro's futex) in the scheduler, loom's in the models. Like
//! `g/state.rs`, the protocol's types (`Sleeper`, `Idle`) are generic over
//! them, so the models explore the very code the scheduler runs.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::sys::poison::Unpoisoned;

/// One world of synchronization primitives.
pub(crate) trait Atomics: Sized + 'static {
    /// A futex word.
    type U32: Atomic<u32>;
    /// A counter.
    type Usize: Atomic<usize> + Counter;
    /// A flag.
    type Bool: Atomic<bool>;
    /// A mutex around a list.
    type Lock<T>: ListLock<T>;
    /// A SeqCst fence.
    fn fence();
    /// Blocks while `word` holds `expected`, for at most `timeout` (it may
    /// return early; callers loop).
    fn wait(word: &Self::U32, expected: u32, timeout: Option<Duration>);
    /// Wakes the thread blocked in [`wait`](Self::wait) on `word`, if any.
    fn wake(word: &Self::U32);
    /// Wakes the M blocked in the network poller.
    fn interrupt_poller();
}

/// The operations the protocol uses on an atomic holding a `V`.
pub(crate) trait Atomic<V> {
    fn new(v: V) -> Self;
    fn load(&self, order: Ordering) -> V;
    fn store(&self, v: V, order: Ordering);
    fn swap(&self, v: V, order: Ordering) -> V;
    fn compare_exchange(
        &self,
        current: V,
        new: V,
        success: Ordering,
        failure: Ordering,
    ) -> Result<V, V>;
}

/// An atomic counter.
pub(crate) trait Counter {
    fn fetch_add(&self, n: usize, order: Ordering) -> usize;
    fn fetch_sub(&self, n: usize, order: Ordering) -> usize;
}

/// A mutex around a `T`, taken for the length of a closure.
pub(crate) trait ListLock<T> {
    fn new(v: T) -> Self;
    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R;
}

/// Implements [`Atomic`] for an atomic type with std's methods (std's
/// here, loom's in the models).
macro_rules! impl_atomic {
    ($atomic:ty, $v:ty) => {
        impl $crate::sched::atomics::Atomic<$v> for $atomic {
            fn new(v: $v) -> Self {
                <$atomic>::new(v)
            }
            #[inline]
            fn load(&self, order: std::sync::atomic::Ordering) -> $v {
                <$atomic>::load(self, order)
            }
            #[inline]
            fn store(&self, v: $v, order: std::sync::atomic::Ordering) {
                <$atomic>::store(self, v, order)
            }
            #[inline]
            fn swap(&self, v: $v, order: std::sync::atomic::Ordering) -> $v {
                <$atomic>::swap(self, v, order)
            }
            #[inline]
            fn compare_exchange(
                &self,
                current: $v,
                new: $v,
                success: std::sync::atomic::Ordering,
                failure: std::sync::atomic::Ordering,
            ) -> Result<$v, $v> {
                <$atomic>::compare_exchange(self, current, new, success, failure)
            }
        }
    };
}

/// Implements [`Counter`] for an atomic `usize` type.
macro_rules! impl_counter {
    ($atomic:ty) => {
        impl $crate::sched::atomics::Counter for $atomic {
            #[inline]
            fn fetch_add(&self, n: usize, order: std::sync::atomic::Ordering) -> usize {
                <$atomic>::fetch_add(self, n, order)
            }
            #[inline]
            fn fetch_sub(&self, n: usize, order: std::sync::atomic::Ordering) -> usize {
                <$atomic>::fetch_sub(self, n, order)
            }
        }
    };
}

impl_atomic!(AtomicU32, u32);
impl_atomic!(AtomicUsize, usize);
impl_atomic!(AtomicBool, bool);
impl_counter!(AtomicUsize);

impl<T> ListLock<T> for Mutex<T> {
    fn new(v: T) -> Self {
        Mutex::new(v)
    }
    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.lock_unpoisoned())
    }
}

/// The scheduler's world: std's atomics, goro's futex, the epoll poller.
pub(crate) struct Std;

impl Atomics for Std {
    type U32 = AtomicU32;
    type Usize = AtomicUsize;
    type Bool = AtomicBool;
    type Lock<T> = Mutex<T>;
    #[inline]
    fn fence() {
        std::sync::atomic::fence(Ordering::SeqCst);
    }
    fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
        crate::sys::futex::wait(word, expected, timeout);
    }
    fn wake(word: &AtomicU32) {
        crate::sys::futex::wake(word, 1);
    }
    fn interrupt_poller() {
        crate::netpoll::interrupt();
    }
}

/// loom's world, for the models of `sleep.rs` and `idle.rs`: a condition
/// variable under a mutex stands in for the futex.
#[cfg(test)]
pub(crate) mod model {
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use loom::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize};
    use loom::sync::{Condvar, Mutex};

    use super::{Atomic, Atomics, ListLock};

    impl_atomic!(AtomicU32, u32);
    impl_atomic!(AtomicUsize, usize);
    impl_atomic!(AtomicBool, bool);
    impl_counter!(AtomicUsize);

    /// A futex word: the value, and a condition variable for waiters.
    pub(crate) struct Word {
        v: AtomicU32,
        lock: Mutex<()>,
        cv: Condvar,
    }

    impl Atomic<u32> for Word {
        fn new(v: u32) -> Self {
            Word {
                v: AtomicU32::new(v),
                lock: Mutex::new(()),
                cv: Condvar::new(),
            }
        }
        fn load(&self, order: Ordering) -> u32 {
            self.v.load(order)
        }
        fn store(&self, v: u32, order: Ordering) {
            self.v.store(v, order)
        }
        fn swap(&self, v: u32, order: Ordering) -> u32 {
            self.v.swap(v, order)
        }
        fn compare_exchange(
            &self,
            current: u32,
            new: u32,
            success: Ordering,
            failure: Ordering,
        ) -> Result<u32, u32> {
            self.v.compare_exchange(current, new, success, failure)
        }
    }

    impl<T> ListLock<T> for Mutex<T> {
        fn new(v: T) -> Self {
            Mutex::new(v)
        }
        fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
            f(&mut self.lock().unwrap())
        }
    }

    /// The models' world.
    pub(crate) struct Loom;

    impl Atomics for Loom {
        type U32 = Word;
        type Usize = AtomicUsize;
        type Bool = AtomicBool;
        type Lock<T> = Mutex<T>;
        fn fence() {
            loom::sync::atomic::fence(Ordering::SeqCst);
        }
        fn wait(word: &Word, expected: u32, _timeout: Option<Duration>) {
            let mut guard = word.lock.lock().unwrap();
            while word.v.load(Ordering::SeqCst) == expected {
                guard = word.cv.wait(guard).unwrap();
            }
        }
        fn wake(word: &Word) {
            let _guard = word.lock.lock().unwrap();
            word.cv.notify_all();
        }
        fn interrupt_poller() {
            unreachable!("the models have no poller");
        }
    }
}
