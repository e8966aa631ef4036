//! `Semaphore`: a weighted semaphore (golang.org/x/sync/semaphore).
//!
//! `size` tokens; `acquire(n)` takes `n` of them, parking until it can.
//! Waiters are served strictly in arrival order: while the first waiter
//! cannot have its `n`, later ones wait too even if their smaller `n` would
//! fit (no barging, so a large request cannot starve). `release` grants
//! tokens to waiters from the front before waking them, so a woken waiter
//! already holds its tokens. Everything happens under one short [`Lock`].

use std::fmt;

use goro_scheduler::{Lock, LockGuard};

use super::wait_list::{park_on, wake_all, Queue, Unwound, Wait, WaitList, Woken};
use crate::sched::WaitReason;

/// A weighted semaphore; see the module comment.
///
/// ```
/// # use goro_runtime as goro;
/// goro::run(|| {
///     let sem = goro::sync::Semaphore::new(3);
///     sem.acquire(2);
///     assert!(!sem.try_acquire(2));
///     assert!(sem.try_acquire(1));
///     sem.release(3);
/// });
/// ```
pub struct Semaphore {
    size: usize,
    state: Lock<State>,
}

struct State {
    /// Tokens held.
    held: usize,
    /// Parked acquirers, each with its `n`.
    waiters: WaitList<usize>,
}

impl Semaphore {
    /// A semaphore with `size` tokens, all free.
    pub const fn new(size: usize) -> Semaphore {
        Semaphore {
            size,
            state: Lock::new(State {
                held: 0,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Takes `n` tokens, parking until they are free and every earlier
    /// waiter is served.
    ///
    /// # Panics
    /// If `n` exceeds the semaphore's size (it could never succeed).
    #[track_caller]
    pub fn acquire(&self, n: usize) {
        if n > self.size {
            panic!(
                "goro::sync::Semaphore: acquire({n}) on a semaphore of size {}: it could never succeed",
                self.size
            );
        }
        crate::preempt_point(); // as every runtime call that may park
        let mut state = self.state.lock();
        if self.size - state.held >= n && state.waiters.is_empty() {
            state.held += n;
            return;
        }
        let wait = Wait {
            data: n,
            queue: Queue::Back,
            reason: WaitReason::Semacquire,
        };
        let granted = park_on(
            &self.state,
            state,
            |s| &mut s.waiters,
            wait,
            || {},
            |how| self.unwound(n, how),
        );
        debug_assert!(
            granted,
            "semaphore waiters are only woken with their tokens"
        );
    }

    /// Takes `n` tokens if they are free now and nobody waits; never parks.
    pub fn try_acquire(&self, n: usize) -> bool {
        crate::preempt_point(); // see Mutex::try_lock
        let mut state = self.state.lock();
        let ok = n <= self.size - state.held && state.waiters.is_empty();
        if ok {
            state.held += n;
        }
        ok
    }

    /// Gives back `n` tokens, waking the waiters they let through.
    ///
    /// # Panics
    /// If fewer than `n` tokens are held (the semaphore is unchanged).
    #[track_caller]
    pub fn release(&self, n: usize) {
        let mut state = self.state.lock();
        if n > state.held {
            let held = state.held;
            drop(state);
            panic!("goro::sync::Semaphore: release({n}) with only {held} tokens held");
        }
        state.held -= n;
        let woken = self.grant(&mut state);
        drop(state);
        wake_all(woken);
    }

    /// The number of tokens (`new`'s `size`).
    pub fn size(&self) -> usize {
        self.size
    }

    /// Tokens free now (a snapshot).
    pub fn available(&self) -> usize {
        self.size - self.state.lock().held
    }

    /// Grants tokens to waiters from the front while the first one fits.
    fn grant(&self, state: &mut LockGuard<'_, State>) -> Vec<Woken<usize>> {
        let mut woken = Vec::new();
        while let Some(&n) = state.waiters.front() {
            if self.size - state.held < n {
                break;
            }
            state.held += n;
            woken.extend(state.waiters.pop_front(true));
        }
        woken
    }

    /// A parked acquirer is being unwound: give back its tokens if it was
    /// granted them, or let the waiters behind it try if it left the front.
    #[cold]
    fn unwound(&self, n: usize, how: Unwound) {
        match how {
            Unwound::Woken { .. } => self.release(n),
            Unwound::Withdrawn => {
                let mut state = self.state.lock();
                let woken = self.grant(&mut state);
                drop(state);
                wake_all(woken);
            }
        }
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Semaphore")
            .field("size", &self.size)
            .field("held", &state.held)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}
