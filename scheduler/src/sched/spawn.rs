//! Starting goroutines, and the calls a goroutine makes about itself.
//!
//! `go!`/`try_go` create a task (one allocation) and push it on the current
//! P's fresh queue, from which any idle P may steal it before it starts; an
//! idle P is woken when none is spinning. `spawn_local` and the main
//! goroutine get their G (and stack) at once and go on the current M's home
//! queue: they never leave this thread. `spawn_migratory` goroutines may
//! move between Ms at park points, hence `unsafe`.

use std::panic::Location;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::config::procs::RuntimeInfo;
use crate::g::task::Pinned;
use crate::g::task::TaskInfo;
use crate::g::Yield;
use crate::sched::bubble::Bubble;
use crate::sched::current::{self, Current};
use crate::sched::enqueue::{make_runnable, spread, submit};
use crate::sched::m::{bump, Item, MLocal};
use crate::sched::Sched;
use crate::JoinHandle;

/// Why a goroutine could not be started.
#[derive(Debug)]
#[non_exhaustive]
pub enum SpawnError {
    /// No stack can be had: the guarded-stack budget of an older kernel
    /// (see the message) is used up.
    StackLimit(goro_stack::StackError),
    /// Called outside a running goro runtime.
    NoRuntime,
}

impl std::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpawnError::StackLimit(e) => write!(f, "goro: cannot start a goroutine: {e}"),
            SpawnError::NoRuntime => f.write_str(
                "goro: go! called outside a goro runtime; start one with goro::run(|| { ... }) \
                 and spawn goroutines from inside it",
            ),
        }
    }
}

impl std::error::Error for SpawnError {}

/// Where a new goroutine starts (`GoBuilder::placement`).
///
/// A started goroutine never changes thread (that is what makes goro
/// sound), so where it starts is where it will run: goroutines that will
/// compute at the same time must start on different Ps to run in parallel,
/// while goroutines that hand work back and forth are fastest on one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Placement {
    /// On the spawning P, from which idle Ps may steal it before it starts
    /// (the default, `go!`): a goroutine that talks to its spawner stays on
    /// its thread, unless an idle P takes it first.
    #[default]
    Near,
    /// On the Ps in turn: each goroutine spawned this way from one M goes
    /// to the next P's queue (this one's included) and wakes that P. For
    /// workers that park first and compute later (a worker pool, workers
    /// behind a gate): `WaitGroup::go` and `errgroup::Group::go` use it.
    Spread,
}

/// Options for one goroutine (`goro::GoBuilder`).
#[derive(Debug, Clone, Default)]
pub struct GoBuilder {
    stack_size: Option<usize>,
    /// Shown in dumps, `scheddetail`, traces and reports; `None` costs the
    /// spawn path nothing (no allocation, one word copied).
    name: Option<Arc<str>>,
    /// `spawn_migratory` (not settable by users: it needs `unsafe`).
    migratory: bool,
    placement: Placement,
    /// The synctest bubble to start in (`synctest::run`'s root, a bubble
    /// timer's `after_func`); otherwise a goroutine joins its spawner's
    /// bubble, if any.
    pub(crate) bubble: Option<Bubble>,
}

impl GoBuilder {
    /// A builder with the runtime's defaults (stack size, no name).
    pub fn new() -> GoBuilder {
        GoBuilder::default()
    }

    /// Usable stack size of this goroutine, in bytes (rounded up to pages).
    pub fn stack_size(mut self, bytes: usize) -> GoBuilder {
        self.stack_size = Some(bytes);
        self
    }

    /// Starts the goroutine as the root of `bubble` (`synctest::run`).
    pub(crate) fn bubble(mut self, bubble: Bubble) -> GoBuilder {
        self.bubble = Some(bubble);
        self
    }

    /// Where the goroutine starts (default [`Placement::Near`]).
    pub fn placement(mut self, placement: Placement) -> GoBuilder {
        self.placement = placement;
        self
    }

    /// Names the goroutine: the name shows in goroutine dumps (SIGQUIT,
    /// `dump_goroutines`, the deadlock report), `GODEBUG=scheddetail=1`,
    /// the leak report and `GORO_TRACE` traces, next to its id.
    pub fn name(mut self, name: impl Into<Arc<str>>) -> GoBuilder {
        self.name = Some(name.into());
        self
    }

    /// Starts the goroutine, or returns why it could not be started.
    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> Result<JoinHandle<T>, SpawnError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        spawn_task(f, self, Location::caller())
    }
}

/// Starts a goroutine running `f`; panics if it cannot (see [`try_go`]).
/// This is what `go!` expands to.
#[track_caller]
pub fn go<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    or_panic(spawn_task(f, GoBuilder::new(), Location::caller()))
}

/// The panicking form of the fallible spawns (`go!`, `spawn_local`, ...).
#[track_caller]
fn or_panic<T>(spawned: Result<JoinHandle<T>, SpawnError>) -> JoinHandle<T> {
    // A `match`, not `unwrap_or_else`: a closure would not inherit
    // `#[track_caller]`, and the panic would blame this file.
    match spawned {
        Ok(handle) => handle,
        Err(e) => panic!("{e}"),
    }
}

/// Starts a goroutine running `f`, or returns why it could not be started
/// (`SpawnError::StackLimit` when no guarded stack can be had).
#[track_caller]
pub fn try_go<F, T>(f: F) -> Result<JoinHandle<T>, SpawnError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    spawn_task(f, GoBuilder::new(), Location::caller())
}

/// Starts a goroutine that the scheduler may move to another OS thread
/// whenever it parks (Go's behaviour), for better load balance.
///
/// # Safety
/// For the goroutine's whole life, no code it runs (including every
/// library it calls, transitively):
/// 1. accesses thread-local storage in a function activation that is live
///    across a call that may park (any goro channel, sync, time or net
///    operation, `gosched`, `blocking`, `join`, `go!` under preemption).
///    Fresh accesses after the park in the same activation are forbidden as
///    well, because the compiler may reuse the thread pointer it computed
///    before the park (LLVM issue 98479);
/// 2. holds across such a call a value tied to the OS thread: references or
///    handles derived from thread-locals (`LocalKey::with` borrows,
///    `rand::ThreadRng`, `tracing` span guards, `std::io::StdoutLock`),
///    guards of thread-owned locks (`std::sync::MutexGuard`,
///    `ReentrantLock` guards), `ThreadId`s or `thread::current()` used for
///    identity, `errno`, or thread-affine OS or FFI state (signal masks,
///    floating-point environment, CPU affinity, credentials, namespaces,
///    GL/COM/GIL/JNI contexts);
/// 3. relies on `std::thread::panicking()` being accurate for other
///    goroutines on the same thread.
///
/// Use [`goroutine_local!`](crate::goroutine_local) instead of
/// `thread_local!`. The runtime pins a migratory goroutine that parks while
/// unwinding until the unwinding ends. `GORO_MIGRATE_AGGRESSIVELY=1` moves
/// such goroutines at every park, to surface violations in tests.
#[track_caller]
pub unsafe fn spawn_migratory<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let options = GoBuilder {
        migratory: true,
        ..GoBuilder::new()
    };
    or_panic(spawn_task(f, options, Location::caller()))
}

/// Starts a goroutine running a `!Send` closure, pinned to the current M:
/// it starts and ends on this OS thread.
///
/// # Panics
/// Outside a goroutine, or when no stack can be had.
#[track_caller]
pub fn spawn_local<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + 'static,
    T: Send + 'static,
{
    let site = Location::caller();
    let l = match current::m() {
        Some(l) => l,
        None => panic!("goro: spawn_local called outside a goroutine; call it inside goro::run"),
    };
    let f = Pinned(f);
    or_panic(spawn_pinned(l, site, move || f.call()))
}

/// Creates a goroutine pinned to `l`'s M (spawn_local, main goroutine).
pub(crate) fn spawn_pinned<F, T>(
    l: &MLocal,
    site: &'static Location<'static>,
    f: F,
) -> Result<JoinHandle<T>, SpawnError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    reserve_stack(&l.sched)?;
    let (task, handle) = new_task_on(l, site, &GoBuilder::new(), f);
    let g = crate::sched::schedule::start(l, task);
    // SAFETY: `start` just made the G on this M; nobody else knows it.
    drop(unsafe { make_runnable(g, Some(l), false) });
    Ok(handle)
}

/// Creates the task for a spawn from M `l` (counted and traced there).
/// `options` by reference: the spawn path copies no builder, and clones
/// only the name and bubble a spawn has.
fn new_task_on<F, T>(
    l: &MLocal,
    site: &'static Location<'static>,
    options: &GoBuilder,
    f: F,
) -> (crate::g::task::Task, JoinHandle<T>)
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let bubble = match &options.bubble {
        Some(b) => Some(b.clone()),
        None => l.running().and_then(crate::g::G::bubble),
    };
    let (id, parent) = (l.next_goid(), l.current_goid());
    crate::trace::spawn(l.trace.as_ref(), parent, id, site, options.name.as_ref());
    let created = crate::sched::spawn::new_task(&l.sched, id, parent, site, options, bubble, f);
    bump(&l.m.spawned);
    created
}

pub(crate) fn reserve_stack(sched: &crate::sched::Sched) -> Result<(), SpawnError> {
    if let Some(budget) = sched.stack_budget {
        let prev = sched.stack_reservations.fetch_add(1, Ordering::Relaxed);
        if prev >= budget {
            sched.stack_reservations.fetch_sub(1, Ordering::Relaxed);
            return Err(SpawnError::StackLimit(sched.stacks.limit_error(prev)));
        }
    }
    Ok(())
}

/// Spawn back-pressure (the length of Go's local run queue). A goroutine
/// that has spawned this many goroutines since it was last resumed, while
/// its P's fresh queue holds at least as many, yields, and its M runs fresh
/// tasks until half of them are done (`schedule::local_work`). A loop
/// spawning a million goroutines would otherwise queue them all before any
/// ran: a task cell each, 128 MB of memory touched for the first time,
/// where a bounded backlog recycles a few hundred cells through the P's
/// caches (the measurements: docs/benchmarks.md, "Why these constants").
/// Fan-outs that spawn a few children and wait (skynet) never reach the
/// streak, so their depth-first order is untouched.
pub(crate) const SPAWN_BACKLOG: usize = 256;

fn spawn_task<F, T>(
    f: F,
    options: GoBuilder,
    site: &'static Location<'static>,
) -> Result<JoinHandle<T>, SpawnError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match current::get() {
        Current::M(l) => {
            // SAFETY: `Current::M` points at this thread's live MLocal.
            let l = unsafe { &*l };
            reserve_stack(&l.sched)?;
            let placement = options.placement;
            let (task, handle) = new_task_on(l, site, &options, f);
            match placement {
                Placement::Near => submit(l, Item::Fresh(task)),
                Placement::Spread => spread(l, Item::Fresh(task)),
            }
            let streak = l.spawn_streak.get() + 1;
            l.spawn_streak.set(streak);
            if streak >= SPAWN_BACKLOG as u32
                && l.fresh.len() >= SPAWN_BACKLOG
                && l.current.get().is_some()
            {
                l.drain_fresh.set(true);
                gosched();
            } else {
                preempt_point();
            }
            Ok(handle)
        }
        Current::Helper(s) => {
            // SAFETY: a helper thread holds an Arc of its Sched.
            let sched = unsafe { &*s };
            sched.spawn_global(site, options, f)
        }
        Current::None => Err(SpawnError::NoRuntime),
    }
}

/// Yields the processor, letting other goroutines run (`runtime.Gosched`).
/// Outside a goroutine it yields the OS thread.
pub fn gosched() {
    match crate::g::current_g() {
        Some(g) => {
            g.suspend(Yield::Gosched);
        }
        None => std::thread::yield_now(),
    }
}

/// Yields if sysmon asked the running goroutine to (it has run for more than
/// 10 ms). Every runtime call does this; call it in long loops that make no
/// runtime calls, since goro cannot preempt pure computation.
#[inline]
pub fn preempt_point() {
    if let Some(l) = current::m() {
        if l.m.preempt.load(Ordering::Relaxed) && l.current.get().is_some() {
            gosched();
        }
    }
}

/// Number of goroutines that exist now (`runtime.NumGoroutine`): started or
/// queued and not yet finished. 0 outside a runtime.
pub fn num_goroutine() -> usize {
    current::with_sched(|s| s.num_goroutine()).unwrap_or(0)
}

/// The current P count (`runtime.GOMAXPROCS(0)`); outside a runtime, the
/// default a new runtime would use.
pub fn gomaxprocs() -> usize {
    current::with_sched(|s| s.gomaxprocs.load(Ordering::SeqCst))
        .unwrap_or_else(crate::config::default_procs)
}

/// Sets the P count of the running runtime and returns the previous one;
/// `0` only queries (`runtime.GOMAXPROCS(n)`). New Ps start at once. A
/// removed P stops taking new goroutines at once; its M keeps running the
/// goroutines already started on it (they cannot change thread) and exits
/// when the last one finishes. Values above 1024 are clamped.
///
/// # Panics
/// Outside a runtime.
#[track_caller]
pub fn set_gomaxprocs(n: usize) -> usize {
    let sched = match current::m() {
        Some(l) => l.sched.clone(),
        None => panic!("goro: set_gomaxprocs called outside a goro runtime"),
    };
    if n == 0 {
        return sched.gomaxprocs.load(Ordering::SeqCst);
    }
    sched.set_procs(n)
}

/// Returns to the default P count and turns automatic updates back on
/// (unless `GODEBUG=updatemaxprocs=0`), undoing `GOMAXPROCS`,
/// `Builder::procs` and `set_gomaxprocs` (`runtime.SetDefaultGOMAXPROCS`).
/// The default is re-read now, so this also applies a change at once.
///
/// # Panics
/// Outside a runtime.
#[track_caller]
pub fn set_default_gomaxprocs() {
    let sched = match current::m() {
        Some(l) => l.sched.clone(),
        None => panic!("goro: set_default_gomaxprocs called outside a goro runtime"),
    };
    sched.set_default_procs(crate::config::procs::detect().procs, true);
}

/// The P count, who set it, and the inputs of the default rule (affinity
/// mask, cgroup limit and its file), read now. Outside a runtime, about
/// the count a new runtime would start with. Its `Display` is a short
/// report.
pub fn runtime_info() -> RuntimeInfo {
    let d = crate::config::procs::detect();
    let (n, source) =
        current::with_sched(|s| (s.gomaxprocs.load(Ordering::SeqCst), s.procs_source()))
            .unwrap_or_else(|| crate::config::initial_procs(|| d.procs));
    let mut info = RuntimeInfo::new(n, source, crate::config::automatic_updates(source), d);
    current::with_sched(|s| {
        for m in s.all_ms().iter() {
            info.idle_wait += m.idle_wait();
            let (spins, watches) = m.idle_effort();
            info.full_spins += spins;
            info.home_watches += watches;
        }
    });
    info
}

/// Wires the calling goroutine to its OS thread (`runtime.LockOSThread`).
///
/// goroutines never change thread anyway; what this adds is exclusivity:
/// the thread stops taking new goroutines at once (its P moves to a fresh
/// M), so after the goroutines already started on it finish, only the
/// locked goroutine runs there. The thread is not reused for new work even
/// after `unlock_os_thread` (its state may have been changed, as Go
/// assumes when a locked goroutine exits); it exits when its last goroutine
/// ends. Calls nest.
#[track_caller]
pub fn lock_os_thread() {
    let Some(l) = current::m() else { return };
    let Some(g) = l.running() else { return };
    let depth = g.locked.load(Ordering::Relaxed);
    g.locked.store(
        depth
            .checked_add(1)
            .expect("goro: lock_os_thread nesting overflow"),
        Ordering::Relaxed,
    );
    if depth == 0 {
        l.sched.hand_off_p(&l.m);
        l.give_up_fresh_work();
    }
}

/// Undoes one [`lock_os_thread`]; a no-op when not locked.
pub fn unlock_os_thread() {
    if let Some(g) = crate::g::current_g() {
        let depth = g.locked.load(Ordering::Relaxed);
        g.locked.store(depth.saturating_sub(1), Ordering::Relaxed);
    }
}

/// `GORO_MIGRATE_AGGRESSIVELY=1`: migratory goroutines go through the
/// global queue at every park (a stress mode for `spawn_migratory` code).
pub(crate) fn migrate_aggressively() -> bool {
    crate::config::env().migrate_aggressively
}

/// Creates the task for a spawn (shared by every spawn flavour).
pub(crate) fn new_task<F, T>(
    sched: &Sched,
    id: u64,
    parent: u64,
    site: &'static std::panic::Location<'static>,
    options: &GoBuilder,
    bubble: Option<Bubble>,
    f: F,
) -> (crate::g::task::Task, crate::JoinHandle<T>)
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let info = TaskInfo::new(
        id,
        parent,
        site,
        options.stack_size.unwrap_or(sched.default_stack_size),
        options.migratory,
        options.name.clone(),
        bubble,
    );
    if let Some(b) = info.bubble() {
        b.0.spawned();
    }
    crate::g::task::create(info, f)
}
