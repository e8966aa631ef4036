//! `goro::context`: cancellation, deadlines and request-scoped values that
//! flow down a tree of goroutines (Go's `context` package).
//!
//! ```
//! # use goro_runtime as goro; // the doctest links goro's runtime crate
//! use std::time::Duration;
//! use goro::context::{self, Error};
//!
//! goro::run(|| {
//!     let (ctx, _cancel) = context::with_timeout(&context::background(), Duration::from_millis(10));
//!     let worker = {
//!         let ctx = ctx.clone();
//!         goro::go!(move || {
//!             goro::select! {
//!                 recv(ctx.done()) -> _ => ctx.err(),
//!                 recv(goro::time::after(Duration::from_secs(5))) -> _ => None,
//!             }
//!         })
//!     };
//!     assert_eq!(worker.join().unwrap(), Some(Error::DeadlineExceeded));
//! });
//! ```
//!
//! Design. A [`Context`] is an `Arc` to an immutable node: its parent (for
//! value lookup), an optional key/value (`value.rs`), and the *canceler* it
//! answers `done`/`err`/`deadline` from: its own for a cancelable context,
//! its parent's for a value context, none for `background()` and
//! `without_cancel`, which are never done. So `err()` is one atomic load,
//! with no walk up the chain. The cancelers form the cancellation tree
//! (`cancel.rs`): each registers with its nearest cancelable ancestor, a
//! cancel walks down the tree closing `done` channels, and a cancelled or
//! dropped child unregisters in O(1). Deadlines are entries on the
//! runtime's per-P timer heaps (`deadline.rs`), not goroutines;
//! [`after_func`] registrations are children in the same tree
//! (`after_func.rs`).
//!
//! `done()` is a goro channel that is closed on cancel (receives give
//! `Err(RecvError)`), so it works in `select!`, from goroutines and from
//! plain threads alike. Every call returns a clone of the same `Receiver`.
//!
//! Dropping a [`CancelFunc`] cancels its context, so a context is always
//! released. The one trap this sets, `let (ctx, _) = with_cancel(&p)`
//! (the `_` drops the `CancelFunc` at once, so `ctx` is born cancelled),
//! is reported on stderr, once per call site, when such a context is first
//! used: see [`CancelFunc`]. A `Context` is `Clone + Send + Sync`; cloning is an `Arc` clone.

mod after_func;
mod cancel;
mod deadline;
mod error;
mod value;

use std::any::Any;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

pub use after_func::{after_func, AfterFunc};
pub use cancel::{CancelCauseFunc, CancelFunc};
pub use error::{Cause, Error};

use crate::chan::Receiver;
use cancel::Canceler;

/// Carries a cancellation signal, a deadline and values across API
/// boundaries and goroutines. Cheap to clone (an `Arc`).
#[derive(Clone)]
pub struct Context {
    node: Arc<Node>,
}

struct Node {
    /// For value lookup; `None` only for the root.
    parent: Option<Context>,
    value: Option<Box<dyn value::Entry>>,
    /// Where `done`/`err`/`deadline` come from; `None`: never done.
    canceler: Option<Arc<Canceler>>,
}

/// The root context: never cancelled, no deadline, no values (Go's
/// `context.Background()`). Every call returns the same context.
pub fn background() -> Context {
    static BACKGROUND: OnceLock<Context> = OnceLock::new();
    BACKGROUND
        .get_or_init(|| Context {
            node: Arc::new(Node {
                parent: None,
                value: None,
                canceler: None,
            }),
        })
        .clone()
}

/// A placeholder where the right context is not known yet (Go's
/// `context.TODO()`); the same as [`background`].
pub fn todo() -> Context {
    background()
}

/// A child of `parent` that is cancelled when the returned [`CancelFunc`]
/// is called or dropped, or when `parent` is.
#[track_caller]
pub fn with_cancel(parent: &Context) -> (Context, CancelFunc) {
    let c = parent.new_canceler(parent.deadline());
    (parent.derive(None, Some(c.clone())), CancelFunc::new(c))
}

/// Like [`with_cancel`], but the [`CancelCauseFunc`] records why
/// (Go's `WithCancelCause`); read it back with [`Context::cause`].
#[track_caller]
pub fn with_cancel_cause(parent: &Context) -> (Context, CancelCauseFunc) {
    let c = parent.new_canceler(parent.deadline());
    (
        parent.derive(None, Some(c.clone())),
        CancelCauseFunc::new(c),
    )
}

/// A child of `parent` that is cancelled with [`Error::DeadlineExceeded`]
/// at `deadline` (or at once if it has passed), or cancelled like
/// [`with_cancel`]'s. A deadline later than the parent's is the parent's.
#[track_caller]
pub fn with_deadline(parent: &Context, deadline: Instant) -> (Context, CancelFunc) {
    with_deadline_impl(parent, deadline, None)
}

/// [`with_deadline`] after `timeout` from now.
#[track_caller]
pub fn with_timeout(parent: &Context, timeout: Duration) -> (Context, CancelFunc) {
    with_deadline_impl(parent, crate::time::deadline_after(timeout), None)
}

/// Like [`with_deadline`], with `cause` as the [`Context::cause`] when the
/// deadline passes (Go's `WithDeadlineCause`).
#[track_caller]
pub fn with_deadline_cause(
    parent: &Context,
    deadline: Instant,
    cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> (Context, CancelFunc) {
    with_deadline_impl(parent, deadline, Some(Arc::from(cause.into())))
}

/// [`with_deadline_cause`] after `timeout` from now.
#[track_caller]
pub fn with_timeout_cause(
    parent: &Context,
    timeout: Duration,
    cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> (Context, CancelFunc) {
    with_deadline_cause(parent, crate::time::deadline_after(timeout), cause)
}

#[track_caller]
fn with_deadline_impl(
    parent: &Context,
    deadline: Instant,
    cause: Option<Cause>,
) -> (Context, CancelFunc) {
    if parent.deadline().is_some_and(|d| d <= deadline) {
        return with_cancel(parent);
    }
    let c = parent.new_canceler(Some(deadline));
    deadline::arm(&c, deadline, cause);
    (parent.derive(None, Some(c.clone())), CancelFunc::new(c))
}

/// A child of `parent` carrying `value` under `key` (Go's `WithValue`);
/// cancellation and deadline are the parent's.
///
/// Keys are compared by type and value: `ctx.value::<V>(key)` finds the
/// nearest `with_value` whose key has `key`'s type and equals it. Prefer a
/// private key type (`#[derive(PartialEq, Eq)] struct UserKey;`) to a
/// string, which any other code can use too.
pub fn with_value<K, V>(parent: &Context, key: K, value: V) -> Context
where
    K: Any + Eq + Send + Sync,
    V: Any + Send + Sync,
{
    parent.derive(Some(value::entry(key, value)), parent.node.canceler.clone())
}

/// A child of `parent` with its values but never cancelled and without a
/// deadline (Go's `WithoutCancel`).
pub fn without_cancel(parent: &Context) -> Context {
    parent.derive(None, None)
}

impl Context {
    /// A channel that is closed when this context is done (receives then
    /// return `Err(RecvError)`); for `select!`. Never closed for a context
    /// that cannot be cancelled. Every call returns a clone of the same
    /// receiver.
    pub fn done(&self) -> Receiver<()> {
        match &self.node.canceler {
            Some(c) => {
                c.note_use();
                c.done()
            }
            None => never(),
        }
    }

    /// `None` while not done; then why: [`Error::Canceled`] or
    /// [`Error::DeadlineExceeded`].
    pub fn err(&self) -> Option<Error> {
        let c = self.node.canceler.as_ref()?;
        c.note_use();
        c.err()
    }

    /// `None` while not done; then the cause it was cancelled with (Go's
    /// `context.Cause`): the one given to [`CancelCauseFunc::cancel`] or
    /// [`with_deadline_cause`] of this context or the ancestor whose cancel
    /// reached it, else the [`Error`] itself.
    pub fn cause(&self) -> Option<Cause> {
        let c = self.node.canceler.as_ref()?;
        c.note_use();
        c.cause()
    }

    /// When this context will be cancelled by a deadline, if it has one.
    pub fn deadline(&self) -> Option<Instant> {
        self.node.canceler.as_ref().and_then(|c| c.deadline())
    }

    /// The value stored under `key` by the nearest [`with_value`] on the
    /// way up whose key has `key`'s type and equals it; `None` if there is
    /// none, or if that value is not a `V`.
    pub fn value<V: Any>(&self, key: impl Any + Eq) -> Option<&V> {
        let mut ctx = self;
        loop {
            if let Some(entry) = &ctx.node.value {
                if value::matches(&**entry, &key) {
                    return entry.value().downcast_ref();
                }
            }
            ctx = ctx.node.parent.as_ref()?;
        }
    }

    /// How many contexts and `after_func`s are registered for cancellation
    /// with this context's canceler (test hook: cancelled children must
    /// leave).
    #[doc(hidden)]
    pub fn child_count(&self) -> usize {
        self.node.canceler.as_ref().map_or(0, |c| c.child_count())
    }

    /// A canceler for a child of this context.
    #[track_caller]
    fn new_canceler(&self, deadline: Option<Instant>) -> Arc<Canceler> {
        Canceler::new(self.node.canceler.as_ref(), deadline)
    }

    fn derive(
        &self,
        value: Option<Box<dyn value::Entry>>,
        canceler: Option<Arc<Canceler>>,
    ) -> Context {
        Context {
            node: Arc::new(Node {
                parent: Some(self.clone()),
                value,
                canceler,
            }),
        }
    }
}

impl Default for Context {
    /// [`background`].
    fn default() -> Context {
        background()
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("err", &self.err())
            .field("deadline", &self.deadline())
            .finish_non_exhaustive()
    }
}

impl Drop for Node {
    /// Drops the chain of ancestors iteratively (a deep chain would
    /// otherwise recurse once per level).
    fn drop(&mut self) {
        let mut next = self.parent.take();
        while let Some(ctx) = next {
            next = Arc::into_inner(ctx.node).and_then(|mut n| n.parent.take());
        }
    }
}

/// The `done` channel of contexts that are never cancelled: one channel,
/// open for the life of the process, and made outside any synctest bubble
/// whoever asks first (it is shared by all).
fn never() -> Receiver<()> {
    static NEVER: OnceLock<Receiver<()>> = OnceLock::new();
    NEVER
        .get_or_init(crate::chan::never_outside_bubbles)
        .clone()
}
