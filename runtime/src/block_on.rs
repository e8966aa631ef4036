//! `block_on`: running a future to completion on the calling goroutine.
//!
//! The future is polled by the goroutine that called `block_on`, in place
//! on its stack. When it returns `Pending` the goroutine parks through the
//! park/ready contract (`WaitReason::Future`, shown as `[future]` in dumps)
//! and the thread goes on running other goroutines; the future's `Waker`
//! readies the goroutine from any thread. Outside the runtime the same code
//! blocks the calling thread (its `Waiter` is a thread parker).
//!
//! Why a `!Send` future is sound here: a started goroutine never changes OS
//! thread (docs/soundness.md), so every poll and the final drop happen on
//! the thread that created the future. Only the `Waker` crosses threads,
//! and it is `Signal`, which is `Send + Sync` and holds no part of the future.
//! (`spawn_migratory`'s unsafe contract already forbids thread-tied values
//! across a park, `!Send` futures included.)
//!
//! The wake protocol, in `Signal`'s state word (bits `NOTIFIED`, `PARKED`):
//! - Every wake sets `NOTIFIED`; the poller clears the word (Acquire)
//!   before each poll, so a wake that races a poll makes the loop poll
//!   again and the poll sees what the waker published.
//! - After a `Pending` poll the poller stores its `Waiter` in the signal's
//!   cell and publishes `PARKED` with one CAS from 0; if `NOTIFIED` was set
//!   meanwhile the CAS fails and it polls again instead of parking.
//! - The one wake whose `fetch_or(NOTIFIED)` finds exactly `PARKED` owns the
//!   parked goroutine: it takes the `Waiter` and readies it, so it is woken
//!   exactly once. Every other wake finds `NOTIFIED` set or nobody parked
//!   and touches nothing else: duplicate and late wakes (after `block_on`
//!   returned, after the runtime ended) are harmless.
//! - The poller clears the word after its park returns (the owning wake
//!   took the cell before readying it, so the cell is the poller's again).
//! - A goroutine unwound while parked (runtime shutdown) withdraws with a
//!   CAS from `PARKED` to 0; if an owning wake got there first, it waits
//!   until that wake has finished readying it (`wakes` catches up with
//!   `parks`), as the park contract requires of a withdrawal.
//!
//! The ready path allocates nothing: each thread keeps one spare `Signal`,
//! and the `Waker` handed to the future borrows it without touching its
//! reference count; only a waker the future clones adds a reference. A
//! `Signal` goes back to the spare slot only if no clone outlived the call.

use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::pin;
use std::sync::atomic::{fence, AtomicU32, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use goro_scheduler::{current_waiter, park, preempt_point, WaitReason, Waiter};

/// Runs `fut` to completion on the calling goroutine and returns its output.
///
/// In a goroutine, a `Pending` poll parks the goroutine, not the thread,
/// until the future's `Waker` is called (from any thread). Outside the
/// runtime it blocks the calling thread. `fut` need not be `Send`: it is
/// only ever polled, and dropped, on the calling thread.
///
/// Futures that need an executor's context while polled (Tokio's I/O and
/// timers) need `goro::compat::tokio::block_on` (feature `tokio`).
///
/// ```
/// # use goro_runtime as goro;
/// let v = goro::run(|| {
///     let rc = std::rc::Rc::new(20); // !Send, held across the await
///     goro::block_on(async move { *rc + 22 })
/// });
/// assert_eq!(v, 42);
/// ```
pub fn block_on<F: Future>(fut: F) -> F::Output {
    block_on_with(fut, |fut, cx| fut.poll(cx))
}

/// `block_on` with each poll made through `poll` (the Tokio bridge enters
/// Tokio's context around it).
pub(crate) fn block_on_with<F, P>(fut: F, mut poll: P) -> F::Output
where
    F: Future,
    P: FnMut(std::pin::Pin<&mut F>, &mut Context<'_>) -> Poll<F::Output>,
{
    let signal = Spare::take();
    let out = {
        let mut fut = pin!(fut);
        // SAFETY: `signal` outlives `waker` (dropped at the end of this
        // block), and the borrowed waker owns no reference (ManuallyDrop).
        let waker = ManuallyDrop::new(unsafe { Waker::from_raw(raw_waker(&signal)) });
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(v) = poll(fut.as_mut(), &mut cx) {
                break v;
            }
            signal.wait();
        }
        // The future is dropped here, on this thread, before the signal
        // is recycled (its destructor may still wake it).
    };
    Spare::put(signal);
    out
}

/// Where a blocked `block_on` is found by its wakers (see the module doc).
struct Signal {
    /// `NOTIFIED | PARKED` bits. Invariant: `PARKED` is set only by the
    /// poller, by a CAS from 0, while `waiter` holds its `Waiter`, and is
    /// cleared only by the poller (after its park, or withdrawing).
    state: AtomicU8,
    /// The parked poller's waiter: the poller's while `PARKED` is clear,
    /// the owning wake's once its `fetch_or` found exactly `PARKED`.
    waiter: UnsafeCell<Option<Waiter>>,
    /// Parks published (poller only) and owning wakes finished: equal when
    /// no owning wake is still readying the poller.
    parks: AtomicU32,
    wakes: AtomicU32,
}

const NOTIFIED: u8 = 1;
const PARKED: u8 = 2;

// SAFETY: `waiter` is reached by one party at a time, handed over through
// `state` (see the field invariants); everything else is atomic.
unsafe impl Sync for Signal {}

impl Signal {
    fn new() -> Signal {
        Signal {
            state: AtomicU8::new(0),
            waiter: UnsafeCell::new(None),
            parks: AtomicU32::new(0),
            wakes: AtomicU32::new(0),
        }
    }

    fn wake(&self) {
        if self.state.fetch_or(NOTIFIED, Ordering::AcqRel) != PARKED {
            return; // nobody parked, or an earlier wake owns the wake-up
        }
        // SAFETY: our fetch_or found exactly `PARKED` (Acquire, after the
        // poller's Release CAS wrote the cell): this wake owns the cell,
        // and no other wake can (they all find `NOTIFIED` set).
        let waiter = unsafe { (*self.waiter.get()).take() };
        if let Some(w) = waiter {
            // SAFETY: registered by `wait` for one park and taken by the
            // one owning wake, so woken once; a withdrawal waits for
            // `wakes` below, so it is not woken after its goroutine left.
            let wakeup = unsafe { w.wake_later() };
            self.wakes.fetch_add(1, Ordering::Release);
            drop(wakeup);
        }
    }

    /// Waits for a wake after a `Pending` poll, then clears the state.
    fn wait(&self) {
        // SAFETY: `PARKED` is clear (the poller clears it after each park),
        // so the cell is ours.
        unsafe { *self.waiter.get() = Some(current_waiter()) };
        match self
            .state
            .compare_exchange(0, PARKED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                let parks = self.parks.load(Ordering::Relaxed).wrapping_add(1);
                self.parks.store(parks, Ordering::Relaxed);
                let withdraw = Withdraw(self);
                park(WaitReason::Future);
                std::mem::forget(withdraw);
            }
            Err(_) => {
                // Woken during the poll: poll again, but let others run if
                // this goroutine has had its time (a future that always
                // wakes itself must not starve its M).
                // SAFETY: the CAS failed, `PARKED` is still clear: ours.
                unsafe { *self.waiter.get() = None };
                preempt_point();
            }
        }
        // Consume the wake(s) and clear `PARKED`; Acquire pairs with every
        // waker's fetch_or.
        self.state.swap(0, Ordering::Acquire);
    }
}

/// Withdraws the waiter if its goroutine is unwound while parked.
struct Withdraw<'a>(&'a Signal);

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        let s = self.0;
        if s.state
            .compare_exchange(PARKED, 0, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            // SAFETY: `PARKED` is cleared by us before any wake owned it.
            drop(unsafe { (*s.waiter.get()).take() });
            return;
        }
        // An owning wake is readying us: wait until it is done with us.
        while s.wakes.load(Ordering::Acquire) != s.parks.load(Ordering::Relaxed) {
            std::thread::yield_now();
        }
    }
}

/// The calling thread's spare `Signal`, so that `block_on` of a ready
/// future allocates nothing.
struct Spare;

thread_local! {
    static SPARE: Cell<Option<Arc<Signal>>> = const { Cell::new(None) };
}

impl Spare {
    fn take() -> Arc<Signal> {
        SPARE
            .try_with(Cell::take)
            .ok()
            .flatten()
            .unwrap_or_else(|| Arc::new(Signal::new()))
    }

    fn put(signal: Arc<Signal>) {
        // Reused only if no waker clone outlived the call: a clone must not
        // wake a later, unrelated `block_on`.
        if Arc::strong_count(&signal) != 1 {
            return;
        }
        // Pairs with the Release decrement of the last clone dropped.
        fence(Ordering::Acquire);
        signal.state.store(0, Ordering::Relaxed);
        let _ = SPARE.try_with(|s| s.set(Some(signal)));
    }
}

/// A `RawWaker` for `signal` that does not own a reference.
fn raw_waker(signal: &Arc<Signal>) -> RawWaker {
    RawWaker::new(Arc::as_ptr(signal).cast(), &VTABLE)
}

// The vtable's data pointer is `Arc::as_ptr` of a live `Arc<Signal>`; the
// borrowed waker owns no count, every clone owns one.
static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: `data` is a live Arc<Signal> (the waker being cloned keeps it
    // alive); the new waker owns the count added here.
    unsafe { Arc::increment_strong_count(data.cast::<Signal>()) };
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: `wake` is only called on owned wakers (clones): the borrowed
    // one is never consumed (ManuallyDrop), so this count is ours to drop.
    let signal = unsafe { Arc::from_raw(data.cast::<Signal>()) };
    signal.wake();
}

unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: the waker it is called on keeps the Signal alive.
    unsafe { &*data.cast::<Signal>() }.wake();
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: as in `wake`: only owned wakers are dropped.
    drop(unsafe { Arc::from_raw(data.cast::<Signal>()) });
}
