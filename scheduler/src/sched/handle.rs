//! `Handle`: a way into a runtime from any thread (a plain thread, a Tokio
//! task, a timer firing on sysmon or on the outside-runtime timer thread),
//! to start goroutines there or arm timers in it.
//!
//! A handle refers to one of two things, and never keeps a run alive:
//! - **a run** (`Handle::current`, inside a goroutine or runtime thread):
//!   the `Sched` of that `run`, held weakly. Once the run shuts down, the
//!   handle reports the runtime as gone.
//! - **a `Runtime`** (`Runtime::handle`, obtainable before `run` starts):
//!   a [`Door`] shared with the `Runtime`, which knows which of its runs is
//!   in progress. Goroutines given to it before the first run wait at the
//!   door and start when that run starts (so a thread handed the handle
//!   need not race `run`); during a run they start at once; after a run
//!   ended (between runs, or once the `Runtime` is dropped) the runtime is
//!   gone. Goroutines still waiting when the `Runtime` is dropped never run.
//!
//! A goroutine given to a handle whose runtime is gone is never started: its
//! `JoinHandle` yields `Err(Panic)` at once (Tokio's spawn on a shut-down
//! runtime gives a `JoinError` the same way), with the message every
//! abandoned goroutine has, "goroutine abandoned: goro::run returned before
//! it finished", and goroutine id 0 (it never had one).

use std::panic::Location;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::g::task::{self, Task, TaskInfo};
use crate::sched::current::{self, Current};
use crate::sched::m::{Item, MLocal};
use crate::sched::Sched;
use crate::JoinHandle;

/// A handle to a goro runtime: `Clone + Send + Sync`, usable from any
/// thread to start goroutines in it ([`go`](Handle::go)). See the module
/// docs for what it refers to before, during and after a run.
#[derive(Clone)]
pub struct Handle {
    target: Target,
}

#[derive(Clone)]
enum Target {
    /// One run (`Handle::current`).
    Run(Weak<Sched>),
    /// A `Runtime` and whichever of its runs is in progress.
    Runtime(Arc<Door>),
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Handle { .. }")
    }
}

impl Handle {
    /// The runtime of the calling goroutine (or runtime thread).
    ///
    /// # Panics
    /// On a thread outside any goro runtime; there, use a handle obtained
    /// inside (or from `Runtime::handle`) and passed to the thread, or
    /// [`try_current`](Handle::try_current).
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Some(h) => h,
            None => panic!(
                "goro::Handle::current called outside a goro runtime (not in a goroutine); \
                 get a Handle inside the runtime, or from Runtime::handle(), and pass it here"
            ),
        }
    }

    /// The runtime of the calling goroutine, M or helper thread; `None` on a
    /// thread outside any goro runtime.
    pub fn try_current() -> Option<Handle> {
        let sched = match current::get() {
            // SAFETY: `Current::M` points at this thread's live MLocal.
            Current::M(l) => Arc::downgrade(&unsafe { &*l }.sched),
            Current::Helper(s) => {
                // SAFETY: `s` comes from `Arc::as_ptr` of an Arc this helper
                // thread holds for as long as it is marked as a helper, so
                // the count is at least 1; we add our own reference.
                let strong = unsafe {
                    Arc::increment_strong_count(s);
                    Arc::from_raw(s)
                };
                Arc::downgrade(&strong)
            }
            Current::None => return None,
        };
        Some(Handle {
            target: Target::Run(sched),
        })
    }

    /// The handle `Runtime::handle` returns.
    pub(crate) fn of_runtime(door: Arc<Door>) -> Handle {
        Handle {
            target: Target::Runtime(door),
        }
    }

    /// The run in progress, if any.
    pub(crate) fn sched(&self) -> Option<Arc<Sched>> {
        match &self.target {
            Target::Run(run) => run.upgrade(),
            Target::Runtime(door) => door.running(),
        }
    }

    pub(crate) fn is(&self, sched: &Sched) -> bool {
        match &self.target {
            Target::Run(run) => std::ptr::eq(run.as_ptr(), sched),
            Target::Runtime(door) => door.running().is_some_and(|s| std::ptr::eq(&*s, sched)),
        }
    }

    /// Starts a goroutine running `f` in this handle's runtime, from any
    /// thread, and returns its `JoinHandle` (which async code can await).
    /// Dropping the `JoinHandle` detaches the goroutine.
    ///
    /// If the runtime is gone (see the module docs), `f` is dropped unrun
    /// and the `JoinHandle` yields `Err(Panic)` at once.
    ///
    /// # Panics
    /// If the goroutine cannot get a stack (the error `go!` panics with).
    #[track_caller]
    pub fn go<F, T>(&self, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let site = Location::caller();
        if let Target::Runtime(door) = &self.target {
            let mut state = door.lock();
            if let DoorState::NotStarted { pending, next_id } = &mut *state {
                let info = door.info(*next_id, site);
                *next_id += 1;
                let (task, handle) = task::create(info, f);
                pending.push(task);
                return handle;
            }
        }
        self.go_with(site, crate::GoBuilder::new(), f)
    }

    /// Starts `f` with `options` in the run in progress (`go`'s second
    /// half, and `Bubble::go`); abandons it if there is none.
    #[track_caller]
    pub(crate) fn go_with<F, T>(
        &self,
        site: &'static Location<'static>,
        options: crate::GoBuilder,
        f: F,
    ) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        match self.sched() {
            Some(sched) if !sched.is_shutting_down() => {
                match sched.spawn_global(site, options, f) {
                    Ok(handle) => handle,
                    Err(e) => panic!("{e}"),
                }
            }
            _ => {
                drop(f);
                abandoned(site)
            }
        }
    }
}

/// A goroutine that was never started: its handle yields `Err` at once.
fn abandoned<T: Send + 'static>(site: &'static Location<'static>) -> JoinHandle<T> {
    let info = TaskInfo::new(0, 0, site, 0, false, None, None);
    let (task, handle) = task::create(info, || -> T {
        unreachable!("goro: an abandoned task was run")
    });
    task.abandon();
    handle
}

/// The way into a `Runtime`'s runs, shared by the `Runtime` and the handles
/// it gave out (module docs).
pub(crate) struct Door {
    state: Mutex<DoorState>,
    /// The runtime's default stack size, for goroutines that wait here.
    stack_size: usize,
}

enum DoorState {
    /// Before the first run: goroutines given to a handle wait in
    /// `pending`, with ids reserved from `next_id` (after the main
    /// goroutine's, 1); `run` queues them and goes on numbering from there.
    NotStarted { pending: Vec<Task>, next_id: u64 },
    /// A run is in progress.
    Running(Weak<Sched>),
    /// Between runs, or the `Runtime` was dropped.
    Closed,
}

impl Door {
    pub(crate) fn new(stack_size: usize) -> Arc<Door> {
        Arc::new(Door {
            state: Mutex::new(DoorState::NotStarted {
                pending: Vec::new(),
                next_id: 2,
            }),
            stack_size,
        })
    }

    fn lock(&self) -> MutexGuard<'_, DoorState> {
        // No code that can panic runs under this lock but `task::create`'s
        // allocation; a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn info(&self, id: u64, site: &'static Location<'static>) -> TaskInfo {
        TaskInfo::new(id, 0, site, self.stack_size, false, None, None)
    }

    fn running(&self) -> Option<Arc<Sched>> {
        match &*self.lock() {
            DoorState::Running(run) => run.upgrade(),
            _ => None,
        }
    }

    /// A run starts (its main goroutine spawned by `m0`, nothing run yet):
    /// the goroutines waiting here are queued on it, and the run numbers
    /// its goroutines after theirs. The run is the door's until the
    /// returned guard drops.
    pub(crate) fn open(self: &Arc<Door>, sched: &Arc<Sched>, m0: &MLocal) -> OpenDoor {
        let mut state = self.lock();
        let previous = std::mem::replace(&mut *state, DoorState::Running(Arc::downgrade(sched)));
        let DoorState::NotStarted { pending, next_id } = previous else {
            return OpenDoor(self.clone());
        };
        // Under the door's lock: no `go` can take an id before the store.
        sched
            .next_goid
            .fetch_max(next_id, std::sync::atomic::Ordering::Relaxed);
        m0.skip_goids_below(next_id);
        drop(state);
        for task in pending {
            if crate::sched::spawn::reserve_stack(sched).is_err() {
                task.abandon();
                continue;
            }
            sched
                .extra_spawned
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            crate::sched::enqueue::submit_global(sched, Item::Fresh(task));
        }
        OpenDoor(self.clone())
    }

    /// The `Runtime` is dropped: goroutines still waiting never run.
    pub(crate) fn close(&self) {
        let previous = std::mem::replace(&mut *self.lock(), DoorState::Closed);
        if let DoorState::NotStarted { pending, .. } = previous {
            for task in pending {
                task.abandon();
            }
        }
    }
}

/// A run in progress behind its door; dropped when `run` returns.
pub(crate) struct OpenDoor(Arc<Door>);

impl Drop for OpenDoor {
    fn drop(&mut self) {
        *self.0.lock() = DoorState::Closed;
    }
}

impl Sched {
    /// Queues a new goroutine on the global queue (spawns from threads that
    /// have no P) and wakes an idle M for it.
    pub(crate) fn spawn_global<F, T>(
        &self,
        site: &'static std::panic::Location<'static>,
        options: crate::GoBuilder,
        f: F,
    ) -> Result<crate::JoinHandle<T>, crate::SpawnError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        crate::sched::spawn::reserve_stack(self)?;
        let id = self
            .next_goid
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let bubble = options.bubble.clone();
        let (task, handle) = crate::sched::spawn::new_task(self, id, 0, site, &options, bubble, f);
        self.extra_spawned
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        crate::sched::enqueue::submit_global(self, Item::Fresh(task));
        Ok(handle)
    }
}
