//! The FIFO of goroutines (or threads) parked on one sync primitive.
//!
//! A primitive keeps a `WaitList` inside the state its [`Lock`] guards and
//! blocks with [`park_on`]: it registers the caller under the lock, releases
//! the lock, parks, and withdraws the registration if the caller is unwound
//! while parked (an abandoned goroutine at runtime shutdown), so a waker
//! never finds a goroutine that is gone. Wakers take waiters out under the
//! lock and wake them after releasing it.

use std::collections::VecDeque;

use goro_scheduler::{Lock, LockGuard};

use crate::sched::{current_waiter, park, WaitReason, Waiter};

/// Parked callers in arrival order.
#[derive(Default)]
pub(crate) struct WaitList {
    waiters: VecDeque<Waiter>,
}

impl WaitList {
    pub(crate) fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    /// Takes every waiter out, for waking once the lock is released.
    pub(crate) fn take_all(&mut self) -> Vec<Waiter> {
        self.waiters.drain(..).collect()
    }

    fn withdraw(&mut self, me: &Waiter) {
        if let Some(i) = self.waiters.iter().position(|w| w.same_as(me)) {
            self.waiters.remove(i);
        }
    }
}

/// Wakes waiters taken from a [`WaitList`].
pub(crate) fn wake_all(waiters: Vec<Waiter>) {
    for w in waiters {
        // SAFETY: each waiter was registered once by `park_on` and taken out
        // of its list under the primitive's lock, so it is woken once.
        unsafe { w.wake() };
    }
}

/// Queues the caller on the list `list` selects from the guarded state,
/// releases `guard` and parks until a waker takes it out and wakes it.
pub(crate) fn park_on<S>(
    lock: &Lock<S>,
    mut guard: LockGuard<'_, S>,
    list: fn(&mut S) -> &mut WaitList,
    reason: WaitReason,
) {
    list(&mut guard).waiters.push_back(current_waiter());
    drop(guard);
    let withdraw = Withdraw { lock, list };
    park(reason);
    std::mem::forget(withdraw);
}

/// Takes the caller's registration back if it is unwound while parked.
struct Withdraw<'a, S> {
    lock: &'a Lock<S>,
    list: fn(&mut S) -> &mut WaitList,
}

impl<S> Drop for Withdraw<'_, S> {
    fn drop(&mut self) {
        let me = current_waiter();
        (self.list)(&mut self.lock.lock()).withdraw(&me);
    }
}
