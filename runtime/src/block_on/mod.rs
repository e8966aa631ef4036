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
//! and it is a [`Signal`](signal), which is `Send + Sync` and holds no part
//! of the future. (`spawn_migratory`'s unsafe contract already forbids
//! thread-tied values across a park, `!Send` futures included.)
//!
//! The wake protocol and the waker's reference counting are in `signal.rs`.
//!
//! The ready path allocates nothing: each thread keeps one spare `Signal`,
//! and the `Waker` handed to the future borrows it without touching its
//! reference count; only a waker the future clones adds a reference. A
//! `Signal` goes back to the spare slot only if no clone outlived the call.

mod signal;

use std::cell::Cell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};

use signal::SignalRef;

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
#[inline]
pub fn block_on<F: Future>(fut: F) -> F::Output {
    block_on_with(fut, |fut, cx| fut.poll(cx))
}

/// `block_on` with each poll made through `poll` (the Tokio bridge enters
/// Tokio's context around it). Inlined into the caller: measured 4% less
/// per round trip of notify_pingpong than a call.
#[inline(always)]
pub(crate) fn block_on_with<F, P>(fut: F, mut poll: P) -> F::Output
where
    F: Future,
    P: FnMut(Pin<&mut F>, &mut Context<'_>) -> Poll<F::Output>,
{
    let signal = Spare::take();
    let out = {
        let mut fut = pin!(fut);
        // SAFETY: `signal` outlives `waker` (dropped at the end of this
        // block), and the borrowed waker owns no reference (ManuallyDrop).
        let waker = ManuallyDrop::new(unsafe { Waker::from_raw(signal.borrowed_raw_waker()) });
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

/// The calling thread's spare `Signal`, so that `block_on` of a ready
/// future allocates nothing.
struct Spare;

thread_local! {
    static SPARE: Cell<Option<SignalRef>> = const { Cell::new(None) };
}

impl Spare {
    /// Inlined: it runs before any park, so the thread pointer it reads
    /// is this thread's (see `put` for the other end).
    #[inline]
    fn take() -> SignalRef {
        match SPARE.try_with(Cell::take) {
            Ok(Some(s)) => s,
            _ => SignalRef::new(),
        }
    }

    /// Never inlined: it runs after the parks, and the thread-local's
    /// address must be computed afresh there, not reused from `take`
    /// (docs/soundness.md: no TLS address is kept across a switch; a
    /// migratory goroutine may have changed thread).
    #[inline(never)]
    fn put(signal: SignalRef) {
        // Reused only if no waker clone outlived the call: a clone must not
        // wake a later, unrelated `block_on`.
        if let Some(signal) = signal.into_unshared() {
            let _ = SPARE.try_with(|s| s.set(Some(signal)));
        }
    }
}
