//! The join protocol of a task: what its two owners, the goroutine that
//! runs it (the *completer*) and its `JoinHandle` (the *joiner*), share
//! besides the result, and the races between them.
//!
//! - **Completion vs join.** The completer writes the result, then
//!   [`JoinState::complete`] swaps the state to `DONE` and takes the
//!   joiner's waiter if one was published. The joiner ([`JoinState::wait`],
//!   [`JoinState::poll`]) returns at once if it sees `DONE`; otherwise it
//!   stores its waiter and publishes it with a `RUNNING -> WAITING` CAS,
//!   which fails (the recheck) if the task finished meanwhile. Whatever the
//!   interleaving, the joiner reads the result after the completer wrote
//!   it, and a joiner that parks is woken exactly once.
//! - **Completion vs detach.** Each owner holds one of the task cell's two
//!   references ([`Refs`]); the handle's drop is a detach. The last one to
//!   let go frees the cell, result included, after everything the other
//!   did (`Release` decrements, an `Acquire` fence in the last one): the
//!   result is dropped exactly once, by the joiner or by the free.
//!
//! Everything is generic over its shared-memory primitives ([`JoinSync`]:
//! std's in the scheduler, loom's in the models), reusing the G state's
//! [`StateWord`] for the state byte, so that the loom models at the bottom
//! explore every interleaving of the very code tasks run, as `state.rs`'s
//! do. What a waiter is (a parked goroutine, an async `Waker`) and how to
//! park are the caller's (`task.rs`): this file names nothing of the
//! scheduler.

use std::cell::UnsafeCell;
use std::sync::atomic::{self, AtomicU8, AtomicUsize, Ordering};
use std::task::Poll;

use crate::g::state::StateWord;

/// The primitives a task's join protocol is built from.
pub(crate) trait JoinSync {
    /// The join state byte.
    type State: StateWord;
    /// The reference count.
    type Count: CountWord;
    /// The joiner's waiter slot.
    type Slot<J>: WaiterSlot<J>;
    /// A fence of the same memory model as the words.
    fn fence(order: Ordering);
}

/// An atomic `usize` counting a cell's references.
pub(crate) trait CountWord {
    fn new(n: usize) -> Self;
    fn fetch_sub(&self, n: usize, order: Ordering) -> usize;
}

/// The joiner's waiter, if any; the join state says who owns it.
pub(crate) trait WaiterSlot<J> {
    fn empty() -> Self;
    /// Puts `waiter` in, returning what was there.
    ///
    /// # Safety
    /// The caller owns the slot (see [`JoinState::waiter`]).
    unsafe fn replace(&self, waiter: Option<J>) -> Option<J>;
}

/// std's primitives, for tasks.
pub(crate) struct StdSync;

impl JoinSync for StdSync {
    type State = AtomicU8;
    type Count = AtomicUsize;
    type Slot<J> = UnsafeCell<Option<J>>;
    fn fence(order: Ordering) {
        atomic::fence(order)
    }
}

impl CountWord for AtomicUsize {
    fn new(n: usize) -> Self {
        AtomicUsize::new(n)
    }
    fn fetch_sub(&self, n: usize, order: Ordering) -> usize {
        AtomicUsize::fetch_sub(self, n, order)
    }
}

impl<J> WaiterSlot<J> for UnsafeCell<Option<J>> {
    fn empty() -> Self {
        UnsafeCell::new(None)
    }
    unsafe fn replace(&self, waiter: Option<J>) -> Option<J> {
        // SAFETY: the caller owns the slot: no other access overlaps.
        unsafe { std::ptr::replace(self.get(), waiter) }
    }
}

/// A task cell's reference count: one for the scheduler's `Task` (dropped
/// by the goroutine once the task completed, or by shutdown), one for the
/// `JoinHandle` (dropped after the join, or early: a detach).
pub(crate) struct Refs<S: JoinSync = StdSync> {
    /// Starts at 2; each owner decrements it once (`Release`, so that
    /// everything the owner did happens before the free); the owner that
    /// takes it to 0 fences (`Acquire`) and frees the cell.
    count: S::Count,
}

impl<S: JoinSync> Refs<S> {
    /// The count of a new task cell: both references held.
    pub(crate) fn two() -> Self {
        Refs {
            count: S::Count::new(2),
        }
    }

    /// Drops one reference. True if it was the last: the caller frees the
    /// cell, and everything the other owner did happens before.
    pub(crate) fn release(&self) -> bool {
        if self.count.fetch_sub(1, Ordering::Release) != 1 {
            return false;
        }
        S::fence(Ordering::Acquire);
        true
    }
}

const RUNNING: u8 = 0;
const WAITING: u8 = 1;
const DONE: u8 = 2;

/// Completion flag plus the waiting joiner, if any: one atomic byte, so a
/// detached or already-finished task completes with a single swap.
pub(crate) struct JoinState<J, S: JoinSync = StdSync> {
    /// `RUNNING`, `WAITING` (a waiter is published) or `DONE`.
    /// - The completer swaps in `DONE`, once (`AcqRel`: Release publishes
    ///   the result written before it; Acquire, if it saw `WAITING`, makes
    ///   the waiter's store visible).
    /// - The joiner CASes `RUNNING -> WAITING` to publish its waiter
    ///   (`AcqRel`; Release for the waiter) and `WAITING -> RUNNING` to
    ///   take it back (`AcqRel`); it loads the state (`Acquire`) to see
    ///   `DONE`, after which it reads the result.
    state: S::State,
    /// The joiner's waiter. Owned by the joiner while the state is
    /// `RUNNING` (it writes it before publishing `WAITING`, or replaces it
    /// after taking it back), and by the completer once its swap saw
    /// `WAITING` (it takes it out). Nobody else touches it; a waiter left
    /// behind is dropped with the cell.
    waiter: S::Slot<J>,
}

impl<J, S: JoinSync> JoinState<J, S> {
    pub(crate) fn new() -> Self {
        JoinState {
            state: S::State::new(RUNNING),
            waiter: S::Slot::empty(),
        }
    }

    /// The task finished: its result is written. Returns the waiter to
    /// wake, if the joiner had published one. The completer calls this
    /// once.
    pub(crate) fn complete(&self) -> Option<J> {
        if self.state.swap(DONE, Ordering::AcqRel) != WAITING {
            return None;
        }
        // SAFETY: the joiner stored its waiter before publishing `WAITING`
        // (Release), which our swap acquired, and never touches the slot
        // again once the state is `DONE`: we own it now.
        unsafe { self.waiter.replace(None) }
    }

    /// Whether the task is done (Acquire: its result is then readable).
    pub(crate) fn is_done(&self) -> bool {
        self.state.load(Ordering::Acquire) == DONE
    }

    /// Takes the joiner's slot back from a `WAITING` state left by an
    /// earlier poll. Returns false if the task is done.
    fn reclaim(&self) -> bool {
        match self.state.load(Ordering::Acquire) {
            RUNNING => true,
            DONE => false,
            _ => self
                .state
                .compare_exchange(WAITING, RUNNING, Ordering::AcqRel, Ordering::Acquire)
                .is_ok(),
        }
    }

    /// Stores `waiter` and publishes `WAITING`; false if the task finished
    /// meanwhile (the waiter is then dropped, never published).
    ///
    /// # Safety
    /// Called by the single joiner, with the state `RUNNING` as it left it
    /// (after `reclaim` returned true), so the completer does not read the
    /// slot.
    unsafe fn publish(&self, waiter: J) -> bool {
        // SAFETY: forwarded from the caller: we own the slot.
        drop(unsafe { self.waiter.replace(Some(waiter)) });
        match self
            .state
            .compare_exchange(RUNNING, WAITING, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(_) => {
                // SAFETY: the completer saw `RUNNING`, not `WAITING`: the
                // slot is still ours.
                drop(unsafe { self.waiter.replace(None) });
                false
            }
        }
    }

    /// The joiner's blocking wait: returns once the task is done, after
    /// publishing `waiter()` and calling `park` if it was not yet. `park`
    /// must return only once the published waiter was woken (a wake may
    /// come before it is called). Called by the joiner only, at most once.
    pub(crate) fn wait(&self, waiter: impl FnOnce() -> J, park: impl FnOnce()) {
        if !self.reclaim() {
            return;
        }
        // SAFETY: `reclaim` left the state `RUNNING`, owned by this joiner.
        if unsafe { self.publish(waiter()) } {
            park();
        }
    }

    /// The joiner's poll: `Ready` once the task is done, else the waiter
    /// that `register` makes from the previous one (if a poll left one) is
    /// published and will be woken when it is. Called by the joiner only.
    pub(crate) fn poll(&self, register: impl FnOnce(Option<J>) -> J) -> Poll<()> {
        if !self.reclaim() {
            return Poll::Ready(());
        }
        // SAFETY: `reclaim` left the state `RUNNING`, owned by this joiner.
        let previous = unsafe { self.waiter.replace(None) };
        // SAFETY: as above.
        if unsafe { self.publish(register(previous)) } {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_published_waiter_is_handed_to_the_completer_once() {
        let join: JoinState<u32> = JoinState::new();
        assert_eq!(join.poll(|previous| previous.unwrap_or(1)), Poll::Pending);
        // A poll again takes the waiter back and may keep it.
        assert_eq!(join.poll(|previous| previous.unwrap() + 1), Poll::Pending);
        assert!(!join.is_done());
        assert_eq!(join.complete(), Some(2));
        assert!(join.is_done());
        assert_eq!(
            join.poll(|_| unreachable!("done: nothing to register")),
            Poll::Ready(())
        );
        join.wait(|| unreachable!("done"), || unreachable!("done"));
    }

    #[test]
    fn the_last_reference_frees() {
        let refs: Refs = Refs::two();
        assert!(!refs.release());
        assert!(refs.release());
    }

    /// Exhaustive interleavings (loom) of a task completing while its
    /// joiner registers, parks, polls again or detaches, on the join code
    /// tasks run. The loom `AtomicU8`'s `StateWord` impl is `state.rs`'s.
    ///
    /// Each weakening of an ordering, the fence or the recheck makes
    /// models fail (done once by hand on this code; loom reports a data
    /// race, "causality violation", on the result or the waiter slot,
    /// unless said otherwise):
    /// - `complete`'s swap `AcqRel -> Release` (the completer's take of
    ///   the slot races the joiner's store): `joined`, `polled`,
    ///   `detached_after_a_poll`;
    /// - `complete`'s swap `AcqRel -> Acquire` (the joiner's read of the
    ///   result races its write): `joined`, `polled`;
    /// - `publish`'s CAS `AcqRel -> Acquire` on success (the slot):
    ///   `joined`, `polled`, `detached_after_a_poll`;
    /// - `reclaim`'s load `Acquire -> Relaxed` (the result): `joined`,
    ///   `polled`;
    /// - `reclaim`'s take-back CAS `Relaxed` on success and failure (the
    ///   result, after a failed take-back): `polled`;
    /// - `Refs::release` without its `Acquire` fence, or with a `Relaxed`
    ///   decrement (the free's drop of the result): all four;
    /// - `publish` without its recheck (a plain `store(WAITING)` instead
    ///   of the CAS from `RUNNING`): a joiner that comes after the
    ///   completion waits forever, "Model exceeded maximum number of
    ///   branches": `joined`, `polled`.
    mod models {
        use std::sync::atomic::Ordering;
        use std::task::Poll;

        use loom::cell::UnsafeCell;
        use loom::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize};
        use loom::sync::Arc;
        use loom::thread;

        use super::super::*;

        /// loom's primitives.
        struct Loom;

        impl JoinSync for Loom {
            type State = AtomicU8;
            type Count = AtomicUsize;
            type Slot<J> = UnsafeCell<Option<J>>;
            fn fence(order: Ordering) {
                loom::sync::atomic::fence(order)
            }
        }

        impl CountWord for AtomicUsize {
            fn new(n: usize) -> Self {
                AtomicUsize::new(n)
            }
            fn fetch_sub(&self, n: usize, order: Ordering) -> usize {
                AtomicUsize::fetch_sub(self, n, order)
            }
        }

        impl<J> WaiterSlot<J> for UnsafeCell<Option<J>> {
            fn empty() -> Self {
                UnsafeCell::new(None)
            }
            unsafe fn replace(&self, waiter: Option<J>) -> Option<J> {
                // SAFETY: the caller owns the slot (what loom checks).
                self.with_mut(|slot| unsafe { std::ptr::replace(slot, waiter) })
            }
        }

        /// A task's result, counting its drops.
        struct Output(Arc<AtomicUsize>);

        impl Drop for Output {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }

        /// A task cell as `task.rs` lays it out: the references, the join
        /// state, and the result; plus the joiner's park, a flag.
        ///
        /// A waiter (`()`) is woken by setting `woken`; a parked joiner
        /// spins on it (`yield_now`). Release/Acquire, as the goroutine
        /// state's transitions order a wake before the resumed goroutine
        /// (loom's `unpark` would order more: it joins the woken thread's
        /// causality even when it is not parked, hiding a missing Acquire
        /// on a path that does not park).
        struct Cell {
            refs: Refs<Loom>,
            join: JoinState<(), Loom>,
            result: UnsafeCell<Option<Output>>,
            drops: Arc<AtomicUsize>,
            woken: AtomicBool,
        }

        // SAFETY: `result` is written by the completer before `complete`,
        // and read by the joiner after it saw `DONE` or by the last
        // reference's free: the claim under test, loom reports the access
        // as a data race if the orderings allow it. The waiter slot: see
        // `JoinState::waiter`, checked the same way.
        unsafe impl Sync for Cell {}
        // SAFETY: as above.
        unsafe impl Send for Cell {}

        impl Cell {
            fn new() -> Arc<Cell> {
                Arc::new(Cell {
                    refs: Refs::two(),
                    join: JoinState::new(),
                    result: UnsafeCell::new(None),
                    drops: Arc::new(AtomicUsize::new(0)),
                    woken: AtomicBool::new(false),
                })
            }

            /// Spawns the goroutine running the task: it writes the result,
            /// completes, wakes the joiner if it waits, and drops its
            /// reference (`TaskCell::run`, `Header::complete`, `Task::drop`).
            fn start(cell: &Arc<Cell>) -> thread::JoinHandle<()> {
                let cell = cell.clone();
                thread::spawn(move || {
                    let output = Output(cell.drops.clone());
                    // SAFETY: the task is not complete: nobody else reads it.
                    cell.result.with_mut(|r| unsafe { *r = Some(output) });
                    if let Some(()) = cell.join.complete() {
                        cell.woken.store(true, Ordering::Release);
                    }
                    cell.release();
                })
            }

            /// The joiner's park: returns once its waiter was woken.
            fn park(&self) {
                while !self.woken.load(Ordering::Acquire) {
                    thread::yield_now();
                }
            }

            /// Drops a reference; the last one frees the cell's result.
            fn release(&self) {
                if self.refs.release() {
                    // SAFETY: the last reference: nobody else touches the cell.
                    drop(self.result.with_mut(|r| unsafe { (*r).take() }));
                }
            }

            /// The joiner takes the result (`take_output`) once `wait` or
            /// `poll` said the task is done (no load of its own: that would
            /// hide a missing Acquire in theirs).
            fn take_result(&self) {
                // SAFETY: done: the completer no longer touches the result.
                let output = self.result.with_mut(|r| unsafe { (*r).take() });
                assert!(output.is_some(), "the joiner gets the result");
            }

            fn dropped_once(&self) {
                assert_eq!(self.drops.load(Ordering::Relaxed), 1);
            }
        }

        /// Runs `joiner` on its own thread against a task completing on
        /// another, then checks that the result was dropped exactly once.
        fn check(joiner: fn(&Cell)) {
            loom::model(move || {
                let cell = Cell::new();
                let goroutine = Cell::start(&cell);
                let handle = {
                    let cell = cell.clone();
                    thread::spawn(move || joiner(&cell))
                };
                goroutine.join().unwrap();
                handle.join().unwrap();
                cell.dropped_once();
            });
        }

        /// `JoinHandle::join` racing the completion: parks until woken.
        #[test]
        fn joined() {
            check(|cell| {
                cell.join.wait(|| (), || cell.park());
                cell.take_result();
                cell.release();
            });
        }

        /// An async joiner polling twice before it waits (the second poll
        /// takes its waiter back and keeps it), then woken: its next poll
        /// is ready.
        #[test]
        fn polled() {
            check(|cell| {
                let first = cell.join.poll(|previous| assert!(previous.is_none()));
                if first.is_pending() {
                    let again = cell.join.poll(|previous| previous.expect("kept"));
                    if again.is_pending() {
                        cell.park();
                        let woken = cell.join.poll(|_| unreachable!("woken once done"));
                        assert_eq!(woken, Poll::Ready(()));
                    }
                }
                cell.take_result();
                cell.release();
            });
        }

        /// The handle dropped (a detach) racing the completion.
        #[test]
        fn detached() {
            check(|cell| cell.release());
        }

        /// The handle dropped after one poll left its waiter published.
        #[test]
        fn detached_after_a_poll() {
            check(|cell| {
                let _ = cell.join.poll(|_| ());
                cell.release();
            });
        }
    }
}
