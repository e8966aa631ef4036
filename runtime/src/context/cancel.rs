//! The cancellation tree (Go's `cancelCtx` and `propagateCancel`).
//!
//! Every cancelable context (`with_cancel`, `with_deadline`, ...) owns one
//! [`Canceler`]; contexts that only add a value share their parent's. A new
//! canceler registers with its nearest cancelable ancestor, the `parent`
//! here: it is pushed on the parent's `children` and remembers its index
//! there (`slot`). Cancelling is one walk down that tree:
//!
//! - `mark` decides, under the canceler's lock, that it is done: it stores
//!   the [`Error`] (an atomic, so `err()` is one load) and the cause, and
//!   takes the children out; then it closes the `done` channel, outside the
//!   lock, which wakes every goroutine parked on it (in `recv` or `select!`).
//! - The walk continues with the children taken out, iteratively (an
//!   explicit work list, so a chain of 100,000 nested contexts does not
//!   overflow a goroutine's stack). A child cancelled by its parent needs no
//!   unregistering: the parent's list is gone with it.
//! - The context where the cancel started (a `CancelFunc`, its deadline)
//!   unregisters from its parent: a swap-remove at its `slot`, fixing the
//!   `slot` of the child moved into the hole, O(1) under the parent's lock.
//!   So a long-lived parent holds only its live children.
//!
//! Registration races with the parent's cancel are decided by the parent's
//! lock: a parent that is already done refuses the child (`adopt` returns
//! the reason, and the child is cancelled at once); a parent cancelled
//! after the child registered takes the child out with the rest. The `slot`
//! fields are read and written only under the lock of the parent whose list
//! they index.
//!
//! The `done` channel is made on first use (most contexts are only ever
//! asked `err()`), under the lock, already closed if the context is done;
//! `mark` closes it if it exists by then. Either way, once a cancel has
//! returned every `done()` receiver is closed. Wake-ups happen after the
//! canceler's lock is released, and no user code runs under it.

use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use goro_scheduler::{Lock, Unpoisoned};

use super::after_func::AfterFuncCore;
use super::error::{Cause, Error};
use crate::chan::{chan, Receiver, Sender};

/// The cancellation state of one cancelable context.
pub(super) struct Canceler {
    /// The nearest cancelable ancestor, where this one is registered.
    parent: Option<Arc<Canceler>>,
    /// Index in `parent`'s children (under `parent`'s lock).
    slot: AtomicUsize,
    /// This context's deadline: its own, or the inherited earlier one.
    deadline: Option<Instant>,
    /// `Error::LIVE`, then the code of the [`Error`]; stored under `state`.
    err: AtomicU8,
    /// Made on first `done()`; the Sender keeps it open until `mark`.
    done: OnceLock<(Sender<()>, Receiver<()>)>,
    state: Lock<State>,
    /// Where the context was made (`with_cancel` and friends), for the
    /// early-drop report.
    site: &'static Location<'static>,
    /// Set (once, Relaxed) by the first use of the context: `done`, `err`,
    /// `cause`, or deriving a child.
    used: AtomicBool,
    /// Its `CancelFunc` was dropped, not called, before any use (Relaxed:
    /// a report, not a synchronization).
    dropped_unused: AtomicBool,
}

#[derive(Default)]
struct State {
    /// The cause given when cancelled (`None`: the error is the cause).
    cause: Option<Cause>,
    /// What a cancel of this context must cancel too.
    children: Vec<Child>,
}

/// Something registered with a canceler: cancelled along with it.
pub(super) enum Child {
    Context(Arc<Canceler>),
    AfterFunc(Arc<AfterFuncCore>),
}

impl Child {
    fn slot(&self) -> &AtomicUsize {
        match self {
            Child::Context(c) => &c.slot,
            Child::AfterFunc(a) => &a.slot,
        }
    }
}

/// Why a canceler ended, as handed down to its descendants.
pub(super) type Reason = (Error, Option<Cause>);

impl Canceler {
    /// A canceler registered with `parent` (cancelled at once if `parent`
    /// is already done).
    #[track_caller]
    pub(super) fn new(parent: Option<&Arc<Canceler>>, deadline: Option<Instant>) -> Arc<Canceler> {
        if let Some(parent) = parent {
            parent.note_use();
        }
        let c = Arc::new(Canceler {
            parent: parent.cloned(),
            slot: AtomicUsize::new(0),
            deadline,
            err: AtomicU8::new(Error::LIVE),
            done: OnceLock::new(),
            state: Lock::new(State::default()),
            site: Location::caller(),
            used: AtomicBool::new(false),
            dropped_unused: AtomicBool::new(false),
        });
        if let Some(parent) = parent {
            if let Err((err, cause)) = parent.adopt(Child::Context(c.clone())) {
                // Not registered anywhere, and no children yet.
                let _ = c.mark(err, cause);
            }
        }
        c
    }

    /// Records a use of the context; the first use of one whose
    /// `CancelFunc` was dropped unused reports the trap (one load after the
    /// first use).
    pub(super) fn note_use(&self) {
        if !self.used.load(Ordering::Relaxed)
            && !self.used.swap(true, Ordering::Relaxed)
            && self.dropped_unused.load(Ordering::Relaxed)
        {
            report_dropped_unused(self.site);
        }
    }

    /// A cancel function dropped without being called: cancels, noting
    /// whether nothing had used the context yet (see `note_use`).
    fn cancel_on_drop(&self) {
        if !self.used.load(Ordering::Relaxed) {
            self.dropped_unused.store(true, Ordering::Relaxed);
        }
        self.cancel(Error::Canceled, None);
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    pub(super) fn err(&self) -> Option<Error> {
        Error::from_code(self.err.load(Ordering::Acquire))
    }

    /// The cause it was cancelled with (its error when none was given).
    pub(super) fn cause(&self) -> Option<Cause> {
        let st = self.state.lock();
        let err = self.err()?;
        Some(st.cause.clone().unwrap_or_else(|| Arc::new(err)))
    }

    /// A receiver of the channel closed when this context is done.
    pub(super) fn done(&self) -> Receiver<()> {
        if let Some((_, rx)) = self.done.get() {
            return rx.clone();
        }
        let (_, rx) = {
            let _st = self.state.lock();
            self.done.get_or_init(|| {
                let (tx, rx) = chan(0);
                if self.err().is_some() {
                    rx.close_now();
                }
                (tx, rx)
            })
        };
        rx.clone()
    }

    /// How many children are registered (a test hook: a cancelled or
    /// dropped child must not stay here).
    pub(super) fn child_count(&self) -> usize {
        self.state.lock().children.len()
    }

    /// Cancels this context and its descendants, and unregisters it from
    /// its parent. Only the first cancel counts.
    pub(super) fn cancel(&self, err: Error, cause: Option<Cause>) {
        let Some(children) = self.mark(err, cause.clone()) else {
            return;
        };
        if let Some(parent) = &self.parent {
            parent.disown(&self.slot);
        }
        cancel_all(children, &(err, cause));
    }

    /// Registers `child`, or returns why this context is already done.
    pub(super) fn adopt(&self, child: Child) -> Result<(), Reason> {
        let mut st = self.state.lock();
        if let Some(err) = self.err() {
            return Err((err, st.cause.clone()));
        }
        child.slot().store(st.children.len(), Ordering::Relaxed);
        st.children.push(child);
        Ok(())
    }

    /// Unregisters the child whose `slot` this is (nothing to do once this
    /// context is done: its list went with the cancel).
    pub(super) fn disown(&self, slot: &AtomicUsize) {
        let removed = {
            let mut st = self.state.lock();
            if self.err().is_some() {
                return;
            }
            let i = slot.load(Ordering::Relaxed);
            debug_assert!(std::ptr::eq(st.children[i].slot(), slot));
            let removed = st.children.swap_remove(i);
            if let Some(moved) = st.children.get(i) {
                moved.slot().store(i, Ordering::Relaxed);
            }
            let (len, cap) = (st.children.len(), st.children.capacity());
            if cap > 64 && len < cap / 4 {
                st.children.shrink_to(cap / 2);
            }
            removed
        };
        // The last reference to a child may go here: outside the lock.
        drop(removed);
    }

    /// Marks it done with `err`; returns its children for the caller to
    /// cancel, or `None` if it was done already.
    fn mark(&self, err: Error, cause: Option<Cause>) -> Option<Vec<Child>> {
        let children = {
            let mut st = self.state.lock();
            if self.err().is_some() {
                return None;
            }
            st.cause = cause;
            self.err.store(err.code(), Ordering::Release);
            std::mem::take(&mut st.children)
        };
        // Made before our critical section: we see it here. Made after: it
        // was made closed (`done` checks `err` under the lock).
        if let Some((_, rx)) = self.done.get() {
            rx.close_now();
        }
        Some(children)
    }
}

/// Cancels `children` and all their descendants with `reason`.
pub(super) fn cancel_all(mut work: Vec<Child>, reason: &Reason) {
    while let Some(child) = work.pop() {
        match child {
            Child::Context(c) => {
                if let Some(grandchildren) = c.mark(reason.0, reason.1.clone()) {
                    work.extend(grandchildren);
                }
            }
            Child::AfterFunc(a) => a.run(),
        }
    }
}

impl Drop for Canceler {
    /// Drops the chain of ancestors iteratively (a deep chain would
    /// otherwise recurse once per level).
    fn drop(&mut self) {
        let mut next = self.parent.take();
        while let Some(parent) = next {
            next = Arc::into_inner(parent).and_then(|mut p| p.parent.take());
        }
    }
}

/// Cancels its context: call [`cancel`](Self::cancel), or drop it (so the
/// context is always released, Go's "always call cancel" by construction).
///
/// Cancelling releases the context's resources: it unregisters from its
/// parent, and a deadline timer stops mattering. Only the first cancel has
/// an effect.
///
/// Note that `let (ctx, _) = with_cancel(&parent);` drops the `CancelFunc`
/// at once, so `ctx` is cancelled immediately: bind it (`_cancel`) to keep
/// the context alive for the scope. `#[must_use]` cannot catch that form
/// (a `let` pattern is not an unused value), so goro reports it at run
/// time instead: the first use (`done`, `err`, `cause`, a derived context)
/// of a context whose `CancelFunc` was dropped, not called, before any use
/// prints one line on stderr naming the `with_cancel` call, once per call
/// site. A context nobody uses is never reported, and neither is one
/// cancelled by `cancel()`.
#[must_use = "dropping a CancelFunc cancels its context at once"]
pub struct CancelFunc {
    canceler: Arc<Canceler>,
    /// Runs on the cancelling thread after every `cancel` (and the drop):
    /// cleanup that must be done when `cancel` returns, such as
    /// `signal::notify_context`'s unregistering. Must be idempotent.
    on_cancel: Option<Box<dyn Fn() + Send + Sync>>,
}

impl CancelFunc {
    pub(super) fn new(canceler: Arc<Canceler>) -> CancelFunc {
        CancelFunc {
            canceler,
            on_cancel: None,
        }
    }

    /// This cancel func, also running `hook` (idempotent) each time it
    /// cancels, on the cancelling thread.
    pub(crate) fn with_hook(mut self, hook: impl Fn() + Send + Sync + 'static) -> CancelFunc {
        self.on_cancel = Some(Box::new(hook));
        self
    }

    /// Cancels the context (with [`Error::Canceled`]) and everything
    /// derived from it; closes their `done` channels.
    pub fn cancel(&self) {
        self.canceler.cancel(Error::Canceled, None);
        self.run_hook();
    }

    fn run_hook(&self) {
        if let Some(hook) = &self.on_cancel {
            hook();
        }
    }
}

impl Drop for CancelFunc {
    fn drop(&mut self) {
        self.canceler.cancel_on_drop();
        self.run_hook();
    }
}

/// Prints, once per call site, that a context was used after its
/// `CancelFunc` had been dropped before anything used it: almost always
/// `let (ctx, _) = with_cancel(..)`, whose `_` drops it at once. (A
/// report, not a panic: the program is correct Rust, and the context does
/// what it says, it is just cancelled.)
fn report_dropped_unused(site: &'static Location<'static>) {
    static REPORTED: Mutex<Vec<&'static Location<'static>>> = Mutex::new(Vec::new());
    let mut reported = REPORTED.lock_unpoisoned();
    if reported.contains(&site) {
        return;
    }
    reported.push(site);
    drop(reported);
    eprintln!(
        "goro: the context made at {site} is used, but it was cancelled when its CancelFunc \
         was dropped, before anything used it. `let (ctx, _) = ...` drops the CancelFunc at \
         once: bind it (`let (ctx, _cancel) = ...`) to keep the context alive until the end \
         of the scope, or call `cancel()` when you mean to cancel."
    );
}

impl std::fmt::Debug for CancelFunc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelFunc")
            .field("err", &self.canceler.err())
            .finish()
    }
}

/// Cancels its context with a cause (Go's `CancelCauseFunc`): see
/// [`with_cancel_cause`](super::with_cancel_cause). Dropping it cancels
/// with no cause (the cause is then [`Error::Canceled`]).
#[must_use = "dropping a CancelCauseFunc cancels its context at once"]
pub struct CancelCauseFunc {
    canceler: Arc<Canceler>,
}

impl CancelCauseFunc {
    pub(super) fn new(canceler: Arc<Canceler>) -> CancelCauseFunc {
        CancelCauseFunc { canceler }
    }

    /// Cancels the context with [`Error::Canceled`], recording `cause`
    /// (returned by [`Context::cause`](super::Context::cause) of it and of
    /// every context derived from it). Only the first cancel counts.
    pub fn cancel(&self, cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) {
        self.canceler
            .cancel(Error::Canceled, Some(Arc::from(cause.into())));
    }
}

impl Drop for CancelCauseFunc {
    fn drop(&mut self) {
        self.canceler.cancel_on_drop();
    }
}

impl std::fmt::Debug for CancelCauseFunc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelCauseFunc")
            .field("err", &self.canceler.err())
            .finish()
    }
}
