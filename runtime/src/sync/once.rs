//! `Once`: run an initialization exactly once (Go's sync.Once).
//!
//! The fast path is one atomic load of the state (`COMPLETE`). The first
//! caller marks it `RUNNING` under the waiter list's lock and runs `f`
//! without it; callers that come meanwhile park on the list until `f` ends.
//!
//! **Panics: Go's rule, not std's poisoning.** If `f` panics, the panic goes
//! on in its caller, but the Once counts as done: the parked callers return
//! and later calls do nothing (Go: "if f panics, Do considers it to have
//! returned"). A Once holds no data that a half-run `f` could leave broken;
//! for a value that must be initialized exactly once, keep a retry flag in
//! it or use std's `OnceLock`. As in Go, calling `call_once` on the same
//! Once from inside `f` deadlocks.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};

use goro_scheduler::Lock;

use super::wait_list::{park_on, wake_all, Queue, Wait, WaitList};
use crate::sched::WaitReason;

const INCOMPLETE: u8 = 0;
const RUNNING: u8 = 1;
const COMPLETE: u8 = 2;

/// Runs a function once; see the module comment.
///
/// ```
/// # use goro_runtime as goro;
/// static INIT: goro::sync::Once = goro::sync::Once::new();
/// goro::run(|| {
///     let wg = goro::sync::WaitGroup::new();
///     for _ in 0..10 {
///         wg.go(|| INIT.call_once(|| println!("once")));
///     }
///     wg.wait();
///     assert!(INIT.is_completed());
/// });
/// ```
#[derive(Default)]
pub struct Once {
    state: AtomicU8,
    waiters: Lock<WaitList>,
}

impl Once {
    /// A Once whose function has not run (Go's zero `sync.Once`).
    pub const fn new() -> Once {
        Once {
            state: AtomicU8::new(INCOMPLETE),
            waiters: Lock::new(WaitList::new()),
        }
    }

    /// Runs `f` if no call has run it yet; otherwise waits until the call
    /// running it finishes (or returns at once if it finished).
    pub fn call_once<F: FnOnce()>(&self, f: F) {
        if self.state.load(Ordering::Acquire) != COMPLETE {
            self.call_once_slow(f);
        }
    }

    #[cold]
    fn call_once_slow<F: FnOnce()>(&self, f: F) {
        let list = self.waiters.lock();
        match self.state.load(Ordering::Acquire) {
            COMPLETE => {}
            INCOMPLETE => {
                self.state.store(RUNNING, Ordering::Relaxed);
                drop(list);
                let _complete = CompleteOnDrop(self);
                f();
            }
            _ => {
                let wait = Wait {
                    data: (),
                    queue: Queue::Back,
                    reason: WaitReason::SyncMutexLock,
                };
                // Woken only by the completion; nothing to give back.
                park_on(&self.waiters, list, |l| l, wait, || {}, |_| {});
            }
        }
    }

    /// Whether a `call_once` has finished (returned or panicked).
    pub fn is_completed(&self) -> bool {
        self.state.load(Ordering::Acquire) == COMPLETE
    }
}

/// Marks the Once complete and wakes its waiters, also when `f` panics.
struct CompleteOnDrop<'a>(&'a Once);

impl Drop for CompleteOnDrop<'_> {
    fn drop(&mut self) {
        let mut list = self.0.waiters.lock();
        self.0.state.store(COMPLETE, Ordering::Release);
        let woken = list.take_all(false);
        drop(list);
        wake_all(woken);
    }
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Once")
            .field("completed", &self.is_completed())
            .finish()
    }
}
