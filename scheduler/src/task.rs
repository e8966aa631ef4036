//! Tasks: what a spawn creates before the goroutine has a stack.
//!
//! `go!` allocates exactly one heap object, a [`TaskCell`], holding the
//! closure, then the closure's result, plus the join state. Two views of the
//! same `Arc` exist: the scheduler's `Task` (`Arc<dyn Runnable>`, queued,
//! stolen, finally run on a goroutine) and the user's [`JoinHandle<T>`]
//! (`Arc<dyn Joinable<T>>`). A fresh task is only this cell; the G and its
//! stack are taken from the running P's caches when it first runs, so queued
//! work costs no stack memory and stealing moves one pointer.

use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, Location};
use std::sync::{Arc, Mutex};

use crate::g::current_g;
use crate::panic::Panic;
use crate::park::{self, WaitReason, Waiter};

/// Facts about a task that the scheduler needs before it runs.
pub(crate) struct TaskInfo {
    pub id: u64,
    /// The spawning goroutine's id (0: spawned by the runtime or a thread).
    pub parent: u64,
    pub spawn_site: &'static Location<'static>,
    /// Usable stack bytes requested for this goroutine.
    pub stack_size: usize,
    /// Started with `spawn_migratory`: may move between Ms at park points.
    pub migratory: bool,
}

/// The scheduler's view of a task.
pub(crate) trait Runnable: Send + Sync {
    fn info(&self) -> &TaskInfo;
    /// Runs the closure to completion on the current goroutine, catching a
    /// panic, and publishes the outcome to the joiner.
    fn run(&self);
    /// Completes the task without running it (runtime shutdown): drops the
    /// closure here, on its home thread, and reports it abandoned.
    fn abandon(&self);
}

pub(crate) type Task = Arc<dyn Runnable>;

/// The joiner's view of a task.
trait Joinable<T>: Send + Sync {
    fn info(&self) -> &TaskInfo;
    fn join_state(&self) -> &JoinState;
    /// Takes the outcome. Only called once `JoinState::done` is set.
    fn take_output(&self) -> Result<T, Panic>;
}

enum Stage<F, T> {
    Pending(F),
    Running,
    Finished(Result<T, Panic>),
    Taken,
}

/// Completion flag plus the parked joiner, if any.
pub(crate) struct JoinState {
    inner: Mutex<JoinInner>,
}

struct JoinInner {
    done: bool,
    waiter: Option<Waiter>,
}

impl JoinState {
    fn new() -> JoinState {
        JoinState {
            inner: Mutex::new(JoinInner {
                done: false,
                waiter: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, JoinInner> {
        // The lock is never held across user code, so it cannot be poisoned
        // by a user panic; recover from poison anyway rather than cascade.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn complete(&self) {
        let waiter = {
            let mut inner = self.lock();
            inner.done = true;
            inner.waiter.take()
        };
        if let Some(w) = waiter {
            // SAFETY: the waiter was registered by `wait` below for exactly
            // one park, and is taken out under the lock, so it is woken once.
            unsafe { w.wake() };
        }
    }

    fn is_done(&self) -> bool {
        self.lock().done
    }

    fn wait(&self) {
        loop {
            {
                let mut inner = self.lock();
                if inner.done {
                    return;
                }
                inner.waiter = Some(park::current_waiter());
            }
            park::park(WaitReason::JoinHandle);
        }
    }
}

pub(crate) struct TaskCell<F, T> {
    info: TaskInfo,
    stage: UnsafeCell<Stage<F, T>>,
    join: JoinState,
}

// SAFETY: `stage` is touched by the running goroutine (run/abandon, which the
// scheduler calls at most once, on one thread) and by the joiner only after
// `join.done` was published under the join mutex, which orders the accesses.
// `F: Send` moves the closure to the thread that runs it; `T: Send` moves the
// result to the joiner. Pinned (`spawn_local`) tasks wrap a `!Send` closure in
// `Pinned`, whose own SAFETY comment covers that case.
unsafe impl<F: Send, T: Send> Sync for TaskCell<F, T> {}
// SAFETY: as above.
unsafe impl<F: Send, T: Send> Send for TaskCell<F, T> {}

impl<F, T> TaskCell<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    pub(crate) fn create(info: TaskInfo, f: F) -> (Task, JoinHandle<T>) {
        let cell = Arc::new(TaskCell {
            info,
            stage: UnsafeCell::new(Stage::Pending(f)),
            join: JoinState::new(),
        });
        let handle = JoinHandle {
            inner: cell.clone(),
            _not_unpin: PhantomData,
        };
        (cell, handle)
    }
}

impl<F, T> Runnable for TaskCell<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fn info(&self) -> &TaskInfo {
        &self.info
    }

    fn run(&self) {
        // SAFETY: the scheduler runs a task once, on one goroutine; nobody
        // else touches `stage` until `join.done` is set below.
        let stage = unsafe { &mut *self.stage.get() };
        let f = match std::mem::replace(stage, Stage::Running) {
            Stage::Pending(f) => f,
            _ => unreachable!("goro: task {} run twice", self.info.id),
        };
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(f));
        let outcome = match outcome {
            Ok(v) => Ok(v),
            Err(payload) => {
                if forced_unwind_in_progress() {
                    // Runtime shutdown is unwinding this goroutine (corosensei's
                    // forced unwind): report it abandoned and keep unwinding.
                    *stage = Stage::Finished(Err(Panic::abandoned(self.info.id)));
                    self.join.complete();
                    std::panic::resume_unwind(payload);
                }
                Err(Panic::new(payload, self.info.id))
            }
        };
        *stage = Stage::Finished(outcome);
        self.join.complete();
    }

    fn abandon(&self) {
        // SAFETY: called instead of `run`, once, by the thread owning the task.
        let stage = unsafe { &mut *self.stage.get() };
        if let Stage::Pending(f) = std::mem::replace(stage, Stage::Running) {
            drop(f);
            *stage = Stage::Finished(Err(Panic::abandoned(self.info.id)));
            self.join.complete();
        }
    }
}

fn forced_unwind_in_progress() -> bool {
    // SAFETY: `current_g` is the goroutine running this code, alive while it runs.
    current_g().is_some_and(|g| unsafe { g.as_ref() }.force_unwinding.get())
}

impl<F, T> Joinable<T> for TaskCell<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fn info(&self) -> &TaskInfo {
        &self.info
    }

    fn join_state(&self) -> &JoinState {
        &self.join
    }

    fn take_output(&self) -> Result<T, Panic> {
        // SAFETY: `join.done` was observed under the join mutex, so the
        // goroutine has stopped touching `stage`; JoinHandle::join consumes
        // the only handle, so this runs once.
        let stage = unsafe { &mut *self.stage.get() };
        match std::mem::replace(stage, Stage::Taken) {
            Stage::Finished(r) => r,
            _ => unreachable!("goro: join of unfinished task {}", self.info.id),
        }
    }
}

/// An owned permission to join a goroutine (wait for it and take its result).
///
/// Dropping the handle detaches the goroutine: it keeps running and its
/// result is dropped when it finishes, as with `std::thread::JoinHandle`.
pub struct JoinHandle<T> {
    inner: Arc<dyn Joinable<T>>,
    _not_unpin: PhantomData<T>,
}

impl<T> JoinHandle<T> {
    /// Waits for the goroutine to finish and returns its result, or the
    /// [`Panic`] that ended it. Parks the calling goroutine (or blocks the
    /// calling plain thread) meanwhile.
    pub fn join(self) -> Result<T, Panic> {
        self.inner.join_state().wait();
        self.inner.take_output()
    }

    /// Whether the goroutine has finished (its result is ready).
    pub fn is_finished(&self) -> bool {
        self.inner.join_state().is_done()
    }

    /// The goroutine's id (as shown in dumps and panic reports).
    pub fn id(&self) -> u64 {
        self.inner.info().id
    }
}

impl<T> std::fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinHandle")
            .field("goroutine", &self.id())
            .finish()
    }
}

/// A `!Send` value pinned to the worker thread that created it: the closure
/// of a `spawn_local` goroutine, and the closure and result of the main
/// goroutine.
pub(crate) struct Pinned<V>(pub V);

impl<V> Pinned<V> {
    /// Calls a pinned closure (a method call moves the whole wrapper into
    /// the caller's closure, never just the `!Send` field).
    pub(crate) fn call<T>(self) -> T
    where
        V: FnOnce() -> T,
    {
        (self.0)()
    }
}

// SAFETY: a `Pinned` is created on a worker thread and handed only to a G
// homed on that same worker that is never pushed to a stealable queue; G's
// never move after they start, and `abandon` drops an unrun closure on that
// worker too. The main goroutine's `Pinned` result is taken by `run` on the
// same thread. So the value is created, used and dropped on one thread.
unsafe impl<V> Send for Pinned<V> {}
