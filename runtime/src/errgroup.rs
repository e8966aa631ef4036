//! `goro::errgroup`: a group of goroutines working on subtasks of one task,
//! with the first error, an optional concurrency limit and an optional
//! context cancelled on failure (golang.org/x/sync/errgroup).
//!
//! ```
//! # use goro_runtime as goro; // the doctest links goro's runtime crate
//! goro::run(|| {
//!     let (g, ctx) = goro::errgroup::with_context(&goro::context::background());
//!     g.set_limit(2);
//!     for i in 0..5u32 {
//!         g.go(move || if i == 3 { Err(format!("task {i} failed")) } else { Ok(()) });
//!     }
//!     assert_eq!(g.wait(), Err("task 3 failed".to_string()));
//!     assert!(ctx.err().is_some());
//! });
//! ```
//!
//! Design, as in Go: a [`WaitGroup`] counts the goroutines; the limit is a
//! goro channel of capacity `n` used as a semaphore (`go` sends a token
//! before spawning, parking while `n` are running; a finishing goroutine
//! takes one back), so waiting for a slot parks and never spins. The first
//! error is kept; later ones are dropped.
//!
//! Panics: a panic in a group goroutine is caught, recorded (the first one
//! wins) and cancels the group's context like an error; [`Group::wait`]
//! waits for every goroutine and then re-raises it with
//! `std::panic::resume_unwind` (as recent x/sync does), so it is neither
//! lost nor mistaken for success. The panic message is still printed when
//! it happens, as for any goroutine.

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Arc;

use goro_scheduler::{forced_unwind_in_progress, Lock};

use crate::chan::{chan, Receiver, Sender};
use crate::context::{self, CancelFunc, Context};
use crate::sync::WaitGroup;

/// A collection of goroutines whose first error [`wait`](Group::wait)
/// returns. `E` is the goroutines' error type.
///
/// [`wait`](Group::wait) consumes the group, so the first error is handed
/// out once; the group's own goroutines cannot add to it (use a channel to
/// the goroutine that owns it). Dropping a group without waiting detaches
/// its goroutines (like dropping a `JoinHandle`); a `with_context` context
/// is then cancelled when the last of them finishes.
pub struct Group<E> {
    shared: Arc<Shared<E>>,
}

struct Shared<E> {
    running: WaitGroup,
    limit: Lock<Option<Arc<Limit>>>,
    first: Lock<Failure<E>>,
    /// `with_context`'s context, cancelled on failure and by `wait`.
    cancel: Option<CancelFunc>,
}

/// What went wrong first.
struct Failure<E> {
    err: Option<E>,
    panic: Option<Box<dyn Any + Send>>,
}

/// The semaphore: a token in the channel per running goroutine.
struct Limit {
    tokens: Sender<()>,
    returned: Receiver<()>,
}

impl<E: Send + 'static> Group<E> {
    /// A group with no limit and no context.
    pub fn new() -> Group<E> {
        Group::with_cancel(None)
    }

    fn with_cancel(cancel: Option<CancelFunc>) -> Group<E> {
        Group {
            shared: Arc::new(Shared {
                running: WaitGroup::new(),
                limit: Lock::new(None),
                first: Lock::new(Failure {
                    err: None,
                    panic: None,
                }),
                cancel,
            }),
        }
    }

    /// Runs `f` in a new goroutine of the group. With a limit set, parks
    /// until fewer than the limit are running. The group's goroutines are
    /// spread over the Ps ([`Placement::Spread`](crate::Placement)): a
    /// started goroutine never changes thread, and a group's work is meant
    /// to run in parallel.
    ///
    /// # Panics
    /// If the limit is 0 (it would wait forever).
    #[track_caller]
    pub fn go<F>(&self, f: F)
    where
        F: FnOnce() -> Result<(), E> + Send + 'static,
    {
        let limit = self.shared.limit.lock().clone();
        if let Some(l) = &limit {
            if l.tokens.cap() == 0 {
                panic!("errgroup: go with a limit of 0 would wait forever");
            }
            // Cannot fail: `l` holds the receiving side.
            let _ = l.tokens.send(());
        }
        self.spawn(f, limit);
    }

    /// Runs `f` in a new goroutine of the group if that is possible without
    /// waiting (fewer than the limit are running); returns whether it did.
    #[track_caller]
    pub fn try_go<F>(&self, f: F) -> bool
    where
        F: FnOnce() -> Result<(), E> + Send + 'static,
    {
        let limit = self.shared.limit.lock().clone();
        if let Some(l) = &limit {
            if l.tokens.try_send(()).is_err() {
                return false;
            }
        }
        self.spawn(f, limit);
        true
    }

    /// Limits the group to `n` goroutines running at once (`go` waits,
    /// `try_go` declines beyond that). A negative `n` removes the limit,
    /// as in Go; a new group has none.
    ///
    /// # Panics
    /// If goroutines of the group are running (the limit cannot change
    /// under them).
    #[track_caller]
    pub fn set_limit(&self, n: isize) {
        let mut limit = self.shared.limit.lock();
        let active = self.shared.running.count();
        if active != 0 {
            drop(limit);
            panic!(
                "errgroup: modify limit while {active} goroutines in the group are still active"
            );
        }
        *limit = usize::try_from(n).ok().map(|n| {
            let (tokens, returned) = chan(n);
            Arc::new(Limit { tokens, returned })
        });
    }

    /// Waits for every goroutine of the group to finish, cancels the
    /// `with_context` context, and returns the first error.
    ///
    /// # Panics
    /// With the first panic of a group goroutine, re-raised here after all
    /// have finished.
    pub fn wait(self) -> Result<(), E> {
        self.shared.running.wait();
        if let Some(c) = &self.shared.cancel {
            c.cancel();
        }
        let first = {
            let mut first = self.shared.first.lock();
            Failure {
                err: first.err.take(),
                panic: first.panic.take(),
            }
        };
        if let Some(payload) = first.panic {
            resume_unwind(payload);
        }
        first.err.map_or(Ok(()), Err)
    }

    /// Starts `f`'s goroutine; its spawn site is the caller of `go`.
    #[track_caller]
    fn spawn<F>(&self, f: F, limit: Option<Arc<Limit>>)
    where
        F: FnOnce() -> Result<(), E> + Send + 'static,
    {
        self.shared.running.add(1);
        let shared = self.shared.clone();
        drop(crate::spawn_spread(move || {
            let _finish = Finish {
                shared: &shared,
                limit,
            };
            match catch_unwind(AssertUnwindSafe(f)) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => shared.fail(Failed::Error(e)),
                Err(payload) if forced_unwind_in_progress() => resume_unwind(payload),
                Err(payload) => shared.fail(Failed::Panic(payload)),
            }
        }));
    }
}

impl<E> Shared<E> {
    /// Records a failure if it is the first of its kind, and cancels the
    /// context on the group's first failure.
    fn fail(&self, failed: Failed<E>) {
        let mut first = self.first.lock();
        let was_ok = first.err.is_none() && first.panic.is_none();
        let rejected = match failed {
            Failed::Error(e) if first.err.is_none() => {
                first.err = Some(e);
                None
            }
            Failed::Panic(p) if first.panic.is_none() => {
                first.panic = Some(p);
                None
            }
            later => Some(later),
        };
        drop(first);
        // A later failure's value is user data: dropped outside the lock.
        drop(rejected);
        if was_ok {
            if let Some(c) = &self.cancel {
                c.cancel();
            }
        }
    }
}

/// A goroutine's failure.
enum Failed<E> {
    Error(E),
    Panic(Box<dyn Any + Send>),
}

/// Returns the goroutine's token and counts it done, also when it panics.
struct Finish<'a, E> {
    shared: &'a Shared<E>,
    limit: Option<Arc<Limit>>,
}

impl<E> Drop for Finish<'_, E> {
    fn drop(&mut self) {
        if let Some(l) = &self.limit {
            let _ = l.returned.try_recv();
        }
        self.shared.running.done();
    }
}

impl<E: Send + 'static> Default for Group<E> {
    fn default() -> Group<E> {
        Group::new()
    }
}

impl<E> std::fmt::Debug for Group<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("running", &self.shared.running.count())
            .finish_non_exhaustive()
    }
}

/// A group with a context derived from `parent`, cancelled when a group
/// goroutine first fails (error or panic) or when [`Group::wait`] returns,
/// whichever comes first (Go's `errgroup.WithContext`). The context's
/// cause is [`context::Error::Canceled`].
pub fn with_context<E: Send + 'static>(parent: &Context) -> (Group<E>, Context) {
    let (ctx, cancel) = context::with_cancel(parent);
    (Group::with_cancel(Some(cancel)), ctx)
}
