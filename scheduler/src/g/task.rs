//! Tasks: what a spawn creates before the goroutine has a stack.
//!
//! `go!` makes exactly one allocation, a task cell, holding the closure,
//! then the closure's result, plus the join state. The cell is reference
//! counted by hand (two references: the scheduler's [`Task`], queued, stolen
//! and finally run on a goroutine, and the user's [`JoinHandle<T>`]) and
//! reached through a per-type vtable, like a `dyn` object, so that its
//! memory can come from the per-M block caches of `cell_alloc.rs` instead
//! of the global allocator. A fresh task is only this cell; the G and its
//! stack are taken from the running P's caches when it first runs, so
//! queued work costs no stack memory and stealing moves one pointer.

use std::alloc::Layout;
use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, Location};
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicU8, AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use crate::g::cell_alloc::{alloc_cell, free_cell};
use crate::g::current_g;
use crate::g::panic::Panic;
use crate::g::wait_reason::WaitReason;
use crate::sched::park::{self, Waiter};

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

enum Stage<F, T> {
    Pending(F),
    Running,
    Finished(Result<T, Panic>),
    Taken,
}

/// Completion flag plus the waiting joiner, if any: one atomic word, so a
/// detached or already-finished task completes with a single swap.
///
/// The joiner's cell is owned by the joiner while the state is `RUNNING`
/// and by the completer once it has seen `WAITING`. A joiner that polls
/// again (`impl Future for JoinHandle`) takes the cell back with a
/// `WAITING -> RUNNING` exchange before replacing its waker; if that fails
/// the task is done.
pub(crate) struct JoinState {
    state: AtomicU8,
    /// Written by the (single) joiner before it publishes `WAITING`, taken
    /// by the completer after it sees `WAITING`.
    waiter: UnsafeCell<Option<Joiner>>,
}

/// Who waits for a task: a parked `join`, or an async task's `Waker`.
enum Joiner {
    Park(Waiter),
    Task(Waker),
}

const RUNNING: u8 = 0;
const WAITING: u8 = 1;
const DONE: u8 = 2;

impl JoinState {
    fn new() -> JoinState {
        JoinState {
            state: AtomicU8::new(RUNNING),
            waiter: UnsafeCell::new(None),
        }
    }

    fn complete(&self) {
        if self.state.swap(DONE, Ordering::AcqRel) == WAITING {
            // SAFETY: the joiner stored its waiter before publishing
            // `WAITING` (Release), which our swap acquired, and never
            // touches the cell again: we own it now.
            let waiter = unsafe { (*self.waiter.get()).take() };
            match waiter {
                // SAFETY: registered by `wait` for exactly one park, and
                // only this completion (the one swap that saw `WAITING`)
                // takes it, so it is woken once.
                Some(Joiner::Park(w)) => unsafe { w.wake() },
                Some(Joiner::Task(w)) => w.wake(),
                None => {}
            }
        }
    }

    fn is_done(&self) -> bool {
        self.state.load(Ordering::Acquire) == DONE
    }

    /// Takes the joiner's cell back from a `WAITING` state left by an
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

    /// Stores `joiner` and publishes `WAITING`; false if the task finished
    /// meanwhile (the joiner is then dropped, never published).
    ///
    /// # Safety
    /// Called by the single joiner, with the state `RUNNING` as it left it
    /// (after `reclaim` returned true), so the completer does not read the cell.
    unsafe fn publish(&self, joiner: Option<Joiner>) -> bool {
        // SAFETY: forwarded from the caller: we own the cell.
        unsafe { *self.waiter.get() = joiner };
        match self
            .state
            .compare_exchange(RUNNING, WAITING, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(_) => {
                // SAFETY: the completer saw `RUNNING`, not `WAITING`: the cell is still ours.
                unsafe { *self.waiter.get() = None };
                false
            }
        }
    }

    /// Parks until `complete`. Called by the joiner only, at most once
    /// (`JoinHandle::join` consumes the handle).
    fn wait(&self) {
        if !self.reclaim() {
            return;
        }
        // SAFETY: `reclaim` left the state `RUNNING`, owned by this joiner.
        if unsafe { self.publish(Some(Joiner::Park(park::current_waiter()))) } {
            park::park(WaitReason::JoinHandle);
        }
    }

    /// The joiner's poll: `Ready` once the task is done, else `waker` is
    /// woken when it is.
    fn poll(&self, waker: &Waker) -> Poll<()> {
        if !self.reclaim() {
            return Poll::Ready(());
        }
        // SAFETY: `reclaim` left the state `RUNNING`, owned by this joiner.
        let previous = unsafe { (*self.waiter.get()).take() };
        let joiner = match previous {
            Some(Joiner::Task(w)) if w.will_wake(waker) => w,
            _ => waker.clone(),
        };
        // SAFETY: as above.
        if unsafe { self.publish(Some(Joiner::Task(joiner))) } {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

/// What every task cell starts with; a [`Task`] points here.
#[repr(C)]
struct Header {
    refs: AtomicUsize,
    vtable: &'static Vtable,
    info: TaskInfo,
    join: JoinState,
}

/// The operations of one `TaskCell<F, T>` type.
struct Vtable {
    run: unsafe fn(NonNull<Header>),
    abandon: unsafe fn(NonNull<Header>),
    destroy: unsafe fn(NonNull<Header>),
}

#[repr(C)]
struct TaskCell<F, T> {
    header: Header,
    stage: UnsafeCell<Stage<F, T>>,
}

/// Creates a task running `f`: the scheduler's reference and the joiner's.
pub(crate) fn create<F, T>(info: TaskInfo, f: F) -> (Task, JoinHandle<T>)
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let cell = alloc_cell(Layout::new::<TaskCell<F, T>>()).cast::<TaskCell<F, T>>();
    // SAFETY: freshly allocated with the cell's layout.
    unsafe {
        cell.as_ptr().write(TaskCell {
            header: Header {
                refs: AtomicUsize::new(2),
                vtable: &TaskCell::<F, T>::VTABLE,
                info,
                join: JoinState::new(),
            },
            stage: UnsafeCell::new(Stage::Pending(f)),
        })
    };
    let header = cell.cast::<Header>();
    let handle = JoinHandle {
        task: Task(header),
        take_output: TaskCell::<F, T>::take_output,
        _output: PhantomData,
    };
    (Task(header), handle)
}

// The vtable functions get a pointer to a live `TaskCell<F, T>` of their own
// type: `create` stores this type's vtable in the header, and a `Task` keeps
// the cell alive.
impl<F, T> TaskCell<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    const VTABLE: Vtable = Vtable {
        run: Self::run,
        abandon: Self::abandon,
        destroy: Self::destroy,
    };

    /// # Safety
    /// `h` heads a live `TaskCell<F, T>`.
    unsafe fn cell<'a>(h: NonNull<Header>) -> &'a Self {
        // SAFETY: forwarded from the caller.
        unsafe { h.cast::<Self>().as_ref() }
    }

    /// Runs the closure to completion on the current goroutine, catching a
    /// panic, and publishes the outcome to the joiner.
    unsafe fn run(h: NonNull<Header>) {
        // SAFETY: the vtable contract above.
        let cell = unsafe { Self::cell(h) };
        let info = &cell.header.info;
        // SAFETY: the scheduler runs a task once, on one goroutine; nobody
        // else touches `stage` until `join.complete()` below.
        let stage = unsafe { &mut *cell.stage.get() };
        let f = match std::mem::replace(stage, Stage::Running) {
            Stage::Pending(f) => f,
            _ => unreachable!("goro: task {} run twice", info.id),
        };
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(f));
        let outcome = match outcome {
            Ok(v) => Ok(v),
            Err(payload) => {
                if forced_unwind_in_progress() {
                    // Runtime shutdown is unwinding this goroutine (corosensei's
                    // forced unwind): report it abandoned and keep unwinding.
                    *stage = Stage::Finished(Err(Panic::abandoned(info.id)));
                    cell.header.join.complete();
                    std::panic::resume_unwind(payload);
                }
                crate::sched::panics::on_goroutine_panic(info.id);
                Err(Panic::new(payload, info.id))
            }
        };
        *stage = Stage::Finished(outcome);
        cell.header.join.complete();
    }

    /// Completes the task without running it (runtime shutdown): drops the
    /// closure here, on its home thread, and reports it abandoned.
    unsafe fn abandon(h: NonNull<Header>) {
        // SAFETY: the vtable contract above.
        let cell = unsafe { Self::cell(h) };
        // SAFETY: called instead of `run`, once, by the thread owning the task.
        let stage = unsafe { &mut *cell.stage.get() };
        if let Stage::Pending(f) = std::mem::replace(stage, Stage::Running) {
            drop(f);
            *stage = Stage::Finished(Err(Panic::abandoned(cell.header.info.id)));
            cell.header.join.complete();
        }
    }

    /// Drops the cell and frees its memory; called by the last reference.
    unsafe fn destroy(h: NonNull<Header>) {
        let cell = h.cast::<Self>();
        // SAFETY: the last reference is gone, so nothing else uses the
        // cell; it was allocated by `create` with this layout.
        unsafe {
            cell.as_ptr().drop_in_place();
            free_cell(cell.cast(), Layout::new::<Self>());
        }
    }

    /// Takes the outcome. Only called once the join state is `DONE`.
    unsafe fn take_output(h: NonNull<Header>) -> Result<T, Panic> {
        // SAFETY: the vtable contract above.
        let cell = unsafe { Self::cell(h) };
        // SAFETY: the join state was seen `DONE` (Acquire), so the
        // goroutine has stopped touching `stage`; only the one JoinHandle
        // calls this (`join` consumes it, `poll` has it `&mut`).
        let stage = unsafe { &mut *cell.stage.get() };
        match std::mem::replace(stage, Stage::Taken) {
            Stage::Finished(r) => r,
            Stage::Taken => panic!("goro: JoinHandle polled again after it returned its result"),
            _ => unreachable!("goro: join of unfinished task {}", cell.header.info.id),
        }
    }
}

/// Whether the running goroutine is being unwound because the runtime
/// abandoned it at shutdown. Code that catches panics inside a goroutine
/// (`catch_unwind`) must resume such an unwind at once: it is not a user
/// panic, and the goroutine's stack must unwind to its root.
///
/// When `run` returns, goroutines that are still alive never run again
/// (no goroutine observes the end of `main`, as in Go); then each is
/// unwound on its own thread, so its destructors run. That unwind is the
/// only one a goroutine can see after `main`'s end, and only through
/// `catch_unwind`:
///
/// ```
/// # use goro_scheduler as goro;
/// # let work = || {};
/// let supervised = std::panic::catch_unwind(work);
/// if let Err(payload) = supervised {
///     if goro::forced_unwind_in_progress() {
///         std::panic::resume_unwind(payload); // the runtime's: let it go
///     }
///     // a real panic of `work`: restart it, log it, abort...
/// }
/// ```
pub fn forced_unwind_in_progress() -> bool {
    current_g().is_some_and(|g| g.force_unwinding.get())
}

/// One counted reference to a task cell (the scheduler's view of a task).
pub(crate) struct Task(NonNull<Header>);

// SAFETY: the cell's `stage` is touched by the running goroutine (run or
// abandon, which the scheduler calls at most once, on one thread) and by the
// joiner only after it saw the join state `DONE` (Acquire, after the
// completer's swap), which orders the accesses; the header is immutable apart
// from its atomics and the join waiter (see `JoinState`). `create` requires
// `F: Send` (the closure moves to the thread that runs it) and `T: Send` (the
// result moves to the joiner). Pinned (`spawn_local`) tasks wrap a `!Send`
// closure in `Pinned`, whose own SAFETY comment covers that case.
unsafe impl Send for Task {}
// SAFETY: as above.
unsafe impl Sync for Task {}

impl Task {
    fn header(&self) -> &Header {
        // SAFETY: this reference keeps the cell alive.
        unsafe { self.0.as_ref() }
    }

    pub(crate) fn info(&self) -> &TaskInfo {
        &self.header().info
    }

    /// Runs the task's closure (once; see `TaskCell::run`).
    pub(crate) fn run(&self) {
        // SAFETY: the header's vtable belongs to its cell's type.
        unsafe { (self.header().vtable.run)(self.0) }
    }

    /// Completes the task without running it (see `TaskCell::abandon`).
    pub(crate) fn abandon(&self) {
        // SAFETY: as in `run`.
        unsafe { (self.header().vtable.abandon)(self.0) }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        let header = self.header();
        if header.refs.fetch_sub(1, Ordering::Release) == 1 {
            // Everything the other reference did happens before the free.
            fence(Ordering::Acquire);
            // SAFETY: this was the last reference; the vtable is the cell's.
            unsafe { (header.vtable.destroy)(self.0) };
        }
    }
}

/// An owned permission to join a goroutine (wait for it and take its result).
///
/// Dropping the handle detaches the goroutine: it keeps running and its
/// result is dropped when it finishes, as with `std::thread::JoinHandle`.
pub struct JoinHandle<T> {
    task: Task,
    take_output: unsafe fn(NonNull<Header>) -> Result<T, Panic>,
    _output: PhantomData<T>,
}

impl<T> JoinHandle<T> {
    /// Waits for the goroutine to finish and returns its result, or the
    /// [`Panic`] that ended it. Parks the calling goroutine (or blocks the
    /// calling plain thread) meanwhile.
    pub fn join(self) -> Result<T, Panic> {
        self.task.header().join.wait();
        // SAFETY: `take_output` belongs to the cell's type, and the task is
        // done; `join` consumes the handle, so the output is taken once.
        unsafe { (self.take_output)(self.task.0) }
    }

    /// Whether the goroutine has finished (its result is ready).
    pub fn is_finished(&self) -> bool {
        self.task.header().join.is_done()
    }

    /// The goroutine's id (as shown in dumps and panic reports).
    pub fn id(&self) -> u64 {
        self.task.info().id
    }
}

/// Async code awaits a goroutine: the output is the goroutine's result, or
/// the [`Panic`] that ended it. The task that awaits is woken when the
/// goroutine finishes, from the goroutine's thread.
impl<T> std::future::Future for JoinHandle<T> {
    type Output = Result<T, Panic>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match this.task.header().join.poll(cx.waker()) {
            // SAFETY: `take_output` belongs to the cell's type and the task
            // is done; a second call after `Ready` panics in `take_output`.
            Poll::Ready(()) => Poll::Ready(unsafe { (this.take_output)(this.task.0) }),
            Poll::Pending => Poll::Pending,
        }
    }
}

// A JoinHandle owns no `T` in place (the output lives in the task cell),
// so moving it never moves a pinned value.
impl<T> Unpin for JoinHandle<T> {}

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
