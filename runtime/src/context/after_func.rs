//! `after_func`: run a function in its own goroutine once a context is done
//! (Go 1.21's `context.AfterFunc`).
//!
//! The registration is a child of the context's canceler like any derived
//! context, so it costs no goroutine and no timer while it waits: the
//! cancel walk that reaches it starts the goroutine. The function sits in
//! an `Option` under a lock, and whoever takes it out decides the race
//! between the cancel (runs it) and [`AfterFunc::stop`] (drops it and
//! unregisters): exactly one of them wins. Registered in a synctest
//! bubble, the goroutine joins that bubble (`Bubble::go`), even when a
//! bubble timer's deadline is what cancels the context.

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use goro_scheduler::{Bubble, Handle, Lock};

use super::cancel::{Canceler, Child};
use super::Context;

type Job = Box<dyn FnOnce() + Send>;

/// The part registered with the canceler.
pub(super) struct AfterFuncCore {
    /// Index in the canceler's children (under its lock).
    pub(super) slot: AtomicUsize,
    f: Lock<Option<Job>>,
    /// Where the goroutine starts.
    runtime: Handle,
    /// The synctest bubble it was registered in, which the goroutine joins.
    bubble: Option<Bubble>,
}

impl AfterFuncCore {
    /// The context is done: start `f` unless `stop` took it.
    pub(super) fn run(&self) {
        let f = self.f.lock().take();
        if let Some(f) = f {
            // Detached; nothing runs if the runtime has ended.
            drop(match &self.bubble {
                Some(b) => b.go(&self.runtime, f),
                None => self.runtime.go(f),
            });
        }
    }
}

/// Arranges for `f` to run in its own goroutine once `ctx` is done (at once
/// if it is already). Returns the handle that can [`stop`](AfterFunc::stop)
/// it; dropping the handle does not (as with `time::after_func`).
///
/// For a context that can never be done (`background()`), `f` never runs.
/// Registered in a synctest bubble, `f` runs in that bubble (while it
/// lasts), whoever cancels the context.
///
/// # Panics
/// Outside a goro runtime (there would be nowhere to start the goroutine).
#[track_caller]
pub fn after_func<F>(ctx: &Context, f: F) -> AfterFunc
where
    F: FnOnce() + Send + 'static,
{
    let Some(runtime) = Handle::try_current() else {
        panic!("goro: context::after_func called outside a goro runtime; call it inside goro::run");
    };
    let core = Arc::new(AfterFuncCore {
        slot: AtomicUsize::new(0),
        f: Lock::new(Some(Box::new(f))),
        runtime,
        bubble: Bubble::current(),
    });
    let canceler = ctx.node.canceler.clone();
    if let Some(c) = &canceler {
        if c.adopt(Child::AfterFunc(core.clone())).is_err() {
            core.run();
        }
    }
    AfterFunc { core, canceler }
}

/// The handle [`after_func`] returns.
pub struct AfterFunc {
    core: Arc<AfterFuncCore>,
    canceler: Option<Arc<Canceler>>,
}

impl AfterFunc {
    /// Stops `f` from running. Returns true if this call prevented it;
    /// false if it has already been started or stopped.
    pub fn stop(&self) -> bool {
        let f = self.core.f.lock().take();
        let Some(f) = f else {
            return false;
        };
        if let Some(c) = &self.canceler {
            c.disown(&self.core.slot);
        }
        drop(f);
        true
    }
}

impl std::fmt::Debug for AfterFunc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AfterFunc { .. }")
    }
}
