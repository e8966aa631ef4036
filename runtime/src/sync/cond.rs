//! `Cond`: Go's sync.Cond, a place for goroutines to wait for a condition
//! on data guarded by a [`Mutex`].
//!
//! Like Go's notify list, a notification wakes only goroutines that were
//! already waiting: `wait` registers on the list before it unlocks the
//! mutex, so a `notify_*` made by whoever takes the mutex next finds it, and
//! one made earlier does not count for it (there are no stored permits).
//! `notify_one` wakes the longest waiter, `notify_all` every waiter; a woken
//! waiter locks the mutex again before `wait` returns, so, as in Go, it must
//! check its condition again ([`wait_while`](Cond::wait_while) loops for it).
//! A Cond is not tied to one mutex, but its waiters should share one.

use std::fmt;

use goro_scheduler::Lock;

use super::mutex::MutexGuard;
use super::wait_list::{park_on, wake_all, Queue, Wait, WaitList};
use crate::sched::WaitReason;

/// A condition variable; see the module comment.
///
/// ```
/// # use goro_runtime as goro;
/// use std::sync::Arc;
/// use goro::sync::{Cond, Mutex};
/// goro::run(|| {
///     let pair = Arc::new((Mutex::new(false), Cond::new()));
///     let p = pair.clone();
///     goro::go!(move || {
///         *p.0.lock() = true;
///         p.1.notify_all();
///     });
///     let (ready, cond) = &*pair;
///     let guard = cond.wait_while(ready.lock(), |ready| !*ready);
///     assert!(*guard);
/// });
/// ```
#[derive(Default)]
pub struct Cond {
    waiters: Lock<WaitList>,
}

impl Cond {
    /// A Cond with no waiters (Go: `sync.NewCond`, minus the lock: a Cond
    /// is given its guard at each `wait`).
    pub const fn new() -> Cond {
        Cond {
            waiters: Lock::new(WaitList::new()),
        }
    }

    /// Unlocks the guard's mutex, parks until notified, and locks the mutex
    /// again.
    ///
    /// # Panics
    /// If the mutex is poisoned when it is locked again (as
    /// [`Mutex::lock`](super::Mutex::lock)).
    #[track_caller]
    pub fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let mutex = guard.mutex;
        let wait = Wait {
            data: (),
            queue: Queue::Back,
            reason: WaitReason::SyncCondWait,
        };
        let list = self.waiters.lock();
        // Registered first, then unlocked: a notify after the unlock finds us.
        // Unwound while parked: nothing to give back (the mutex is unlocked;
        // a notification it took is lost, as for an exiting goroutine).
        park_on(
            &self.waiters,
            list,
            |l| l,
            wait,
            move || {
                guard.unlock_for_wait();
            },
            |_| {},
        );
        mutex.lock()
    }

    /// Waits while `condition` holds for the guarded data (checked first,
    /// and again after every wake-up), then returns the guard.
    #[track_caller]
    pub fn wait_while<'a, T: ?Sized>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> MutexGuard<'a, T> {
        while condition(&mut *guard) {
            guard = self.wait(guard);
        }
        guard
    }

    /// Wakes the goroutine that has waited longest, if any (Go's Signal).
    pub fn notify_one(&self) {
        let woken = self.waiters.lock().pop_front(false);
        if let Some(w) = woken {
            w.wake();
        }
    }

    /// Wakes every waiting goroutine (Go's Broadcast).
    pub fn notify_all(&self) {
        let mut list = self.waiters.lock();
        if list.is_empty() {
            return;
        }
        let woken = list.take_all(false);
        drop(list);
        wake_all(woken);
    }
}

impl fmt::Debug for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cond")
            .field("waiters", &self.waiters.lock().len())
            .finish()
    }
}
