//! `WaitGroup`: wait for a set of goroutines to finish (Go's sync.WaitGroup).
//!
//! The counter is an atomic, so `add` and `done` that do not bring it to
//! zero never take the lock. The transition to zero happens under the lock,
//! together with taking out the waiters, and `wait` registers only after
//! seeing a non-zero counter under the same lock: a waiter is therefore
//! woken by exactly the round it waited for, even when the group is reused
//! at once.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use goro_scheduler::Lock;

use super::wait_list::{park_on, wake_all, Queue, Wait, WaitList};
use crate::sched::WaitReason;

/// Waits for a collection of goroutines to finish. Cloning gives another
/// handle to the same group.
///
/// ```
/// # use goro_runtime as goro;
/// goro::run(|| {
///     let wg = goro::sync::WaitGroup::new();
///     for _ in 0..3 {
///         wg.go(|| { /* work */ });
///     }
///     wg.wait();
/// });
/// ```
#[derive(Clone, Default)]
pub struct WaitGroup {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    count: AtomicI64,
    waiters: Lock<WaitList>,
}

impl WaitGroup {
    /// A group with a zero counter (Go's zero `sync.WaitGroup`).
    pub fn new() -> WaitGroup {
        WaitGroup::default()
    }

    /// Adds `delta` (which may be negative) to the counter; when it reaches
    /// zero every goroutine blocked in [`wait`](Self::wait) is released.
    ///
    /// # Panics
    /// If the counter would go negative (`sync: negative WaitGroup
    /// counter`, as Go); the counter is left unchanged.
    #[track_caller]
    pub fn add(&self, delta: i64) {
        let count = &self.inner.count;
        let mut cur = count.load(Ordering::Relaxed);
        loop {
            let new = checked(cur, delta);
            if new == 0 && cur != 0 {
                return self.add_to_zero(delta);
            }
            match count.compare_exchange_weak(cur, new, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return,
                Err(now) => cur = now,
            }
        }
    }

    /// The transition to zero: under the lock, so no waiter of this round
    /// registers after the waiters are taken out.
    #[track_caller]
    fn add_to_zero(&self, delta: i64) {
        let list = self.inner.waiters.lock();
        let count = &self.inner.count;
        let mut cur = count.load(Ordering::Relaxed);
        let new = loop {
            let new = checked(cur, delta);
            match count.compare_exchange_weak(cur, new, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => break new,
                Err(now) => cur = now,
            }
        };
        if new == 0 && !list.is_empty() {
            let mut list = list;
            let woken = list.take_all(false);
            drop(list);
            wake_all(woken);
        }
    }

    /// Decrements the counter by one.
    #[track_caller]
    pub fn done(&self) {
        self.add(-1);
    }

    /// Parks until the counter is zero.
    pub fn wait(&self) {
        if self.inner.count.load(Ordering::Acquire) == 0 {
            return;
        }
        let list = self.inner.waiters.lock();
        if self.inner.count.load(Ordering::Acquire) == 0 {
            return;
        }
        let wait = Wait {
            data: (),
            queue: Queue::Back,
            reason: WaitReason::SyncWaitGroupWait,
        };
        // Nothing to give back if unwound: a wake only said "zero".
        park_on(&self.inner.waiters, list, |l| l, wait, || {}, |_| {});
    }

    /// Runs `f` in a new goroutine counted by the group (Go 1.25's
    /// `wg.Go`): one `add(1)` now, one `done()` when `f` returns or panics.
    /// The group's goroutines are spread over the Ps
    /// ([`Placement::Spread`](crate::Placement)): a group's purpose is work
    /// done in parallel, and a started goroutine never changes thread.
    ///
    /// # Panics
    /// Outside a runtime, or when no stack can be had (as `go!`).
    #[track_caller]
    pub fn go<F>(&self, f: F) -> crate::JoinHandle<()>
    where
        F: FnOnce() + Send + 'static,
    {
        self.add(1);
        let done = DoneOnDrop(self.clone());
        crate::spawn_spread(move || {
            let _done = done;
            f();
        })
    }

    /// The current counter (for diagnostics).
    pub fn count(&self) -> i64 {
        self.inner.count.load(Ordering::Acquire)
    }
}

impl std::fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitGroup")
            .field("count", &self.count())
            .finish()
    }
}

/// Calls `done` when dropped, so a panicking goroutine still counts down.
struct DoneOnDrop(WaitGroup);

impl Drop for DoneOnDrop {
    fn drop(&mut self) {
        self.0.done();
    }
}

#[track_caller]
fn checked(cur: i64, delta: i64) -> i64 {
    match cur.checked_add(delta) {
        Some(n) if n >= 0 => n,
        _ => negative(),
    }
}

#[cold]
#[track_caller]
fn negative() -> ! {
    panic!("sync: negative WaitGroup counter")
}
