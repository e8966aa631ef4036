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
//! The wake protocol, in `Signal`:
//! - `notified` is set by every wake; the poller clears it (Acquire) before
//!   each poll, so a wake that races a poll makes the loop poll again and
//!   the poll sees what the waker published.
//! - The parked goroutine's `Waiter` sits in `parked` under a runtime
//!   `Lock`. The poller registers it only after seeing `notified` still
//!   clear under that lock; the first waker to set `notified` takes it under
//!   the lock and wakes it, so it is woken exactly once. Later wakes see
//!   `notified` already set and touch nothing: duplicate and late wakes
//!   (after `block_on` returned, after the runtime ended) are harmless.
//! - A goroutine unwound while parked (runtime shutdown) withdraws its
//!   `Waiter` under the lock; a waker that took it first finished its
//!   `ready` under that lock, as the park contract requires.
//!
//! The ready path allocates nothing: each thread keeps one spare `Signal`,
//! and the `Waker` handed to the future borrows it without touching its
//! reference count; only a waker the future clones adds a reference. A
//! `Signal` goes back to the spare slot only if no clone outlived the call.

use std::cell::Cell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::pin;
use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use goro_scheduler::{current_waiter, park, preempt_point, Lock, WaitReason, Waiter};

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
    /// Set by every wake; cleared by the poller before each poll.
    notified: AtomicBool,
    /// The parked caller's waiter. Invariant: `Some` only while the caller
    /// is parked or about to park in `wait`, and only while `notified` was
    /// seen clear under this lock.
    parked: Lock<Option<Waiter>>,
}

impl Signal {
    fn new() -> Signal {
        Signal {
            notified: AtomicBool::new(false),
            parked: Lock::new(None),
        }
    }

    fn wake(&self) {
        if self.notified.swap(true, Ordering::AcqRel) {
            return; // an earlier wake has woken (or will wake) the poller
        }
        let waiter = self.parked.lock().take();
        if let Some(w) = waiter {
            // SAFETY: registered by `wait` for one park; taken under the
            // lock by the one wake that set `notified`, so woken once, and
            // `wait`'s withdrawal takes the same lock, so it is never woken
            // after its goroutine left.
            unsafe { w.wake() };
        }
    }

    /// Waits for a wake after a `Pending` poll, then clears `notified`.
    fn wait(&self) {
        {
            let mut parked = self.parked.lock();
            if !self.notified.swap(false, Ordering::Acquire) {
                *parked = Some(current_waiter());
                drop(parked);
                let withdraw = Withdraw(self);
                park(WaitReason::Future);
                std::mem::forget(withdraw);
            } else {
                // Woken during the poll: poll again, but let others run if
                // this goroutine has had its time (a future that always
                // wakes itself must not starve its M).
                drop(parked);
                preempt_point();
                return;
            }
        }
        // The wake that readied us set `notified`; consume it.
        self.notified.swap(false, Ordering::Acquire);
    }
}

/// Withdraws the waiter if its goroutine is unwound while parked.
struct Withdraw<'a>(&'a Signal);

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        // Under the lock: a waker that took the waiter first has finished
        // readying it (the park contract's rule for withdrawals).
        drop(self.0.parked.lock().take());
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
        signal.notified.store(false, Ordering::Relaxed);
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
