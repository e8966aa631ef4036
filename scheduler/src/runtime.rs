//! The runtime: its configuration (`Builder`), its shared state, and the
//! life of one `run`.
//!
//! `Runtime::run(f)` turns the calling thread into M0 (the worker of P0),
//! starts one more M per extra P plus sysmon, and runs `f` as the main
//! goroutine, pinned to M0 (so `f` and its result need not be `Send`).
//! When the main goroutine returns, the runtime shuts down as Go's process
//! exit would, but without leaking: every M unwinds the goroutines homed on
//! it, on its own thread, after in-flight `blocking` calls finished; M0 then
//! joins the Ms, sysmon and the blocking pool, frees every G and returns the
//! stacks to the runtime's pool, which the next `run` reuses.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};
use std::thread::JoinHandle as ThreadHandle;

use crossbeam_deque::Injector;
use goro_stack::{GuardMode, PoolConfig, StackPool};

use crate::blocking::{BlockingPool, DEFAULT_MAX_BLOCKING_THREADS};
use crate::config::procs::{self, ProcsSource};
use crate::config::{self, MAX_PROCS};
use crate::g::cell_alloc::Stash;
use crate::g::panic::UnhandledPanic;
use crate::g::task::{self, Pinned, TaskInfo};
use crate::g::{GRef, G};
use crate::monitor::sysmon::{self, SysmonState};
use crate::sched::current::{self, Current};
use crate::sched::handle::{Door, Handle};
use crate::sched::m::{Item, MLocal, M};
use crate::sched::schedule;
use crate::trace::TraceFile;

/// Configures a [`Runtime`]: `goro::Runtime::builder().procs(4).build()`.
#[derive(Debug, Clone)]
pub struct Builder {
    procs: Option<usize>,
    stack_size: Option<usize>,
    max_blocking_threads: usize,
    unhandled_panic: UnhandledPanic,
    pool: PoolConfig,
    under_test_harness: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            procs: None,
            stack_size: None,
            max_blocking_threads: DEFAULT_MAX_BLOCKING_THREADS,
            unhandled_panic: UnhandledPanic::Ignore,
            pool: PoolConfig::default(),
            under_test_harness: false,
        }
    }
}

impl Builder {
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Number of Ps (GOMAXPROCS); automatic updates are then off.
    /// Default: `GOMAXPROCS`, else the CPUs available lowered to the cgroup
    /// CPU limit, followed as they change (docs/gomaxprocs.md).
    pub fn procs(mut self, n: usize) -> Builder {
        self.procs = Some(n);
        self
    }

    /// Default usable stack size of goroutines, in bytes. Default:
    /// `GORO_STACK_SIZE`, else 256 KiB (release) / 1 MiB (debug).
    pub fn stack_size(mut self, bytes: usize) -> Builder {
        self.stack_size = Some(bytes);
        self
    }

    /// Cap on helper threads for [`blocking`](crate::blocking) (default 512).
    pub fn max_blocking_threads(mut self, n: usize) -> Builder {
        self.max_blocking_threads = n;
        self
    }

    /// What a panic that ends a goroutine other than the main one does to
    /// the program: [`UnhandledPanic::Ignore`] (the default, std's rule for
    /// threads: it is printed, and whoever joins the goroutine gets it as a
    /// [`Panic`](crate::Panic)) or [`UnhandledPanic::Exit`] (Go's rule: it is
    /// printed and the process exits with status 2 at once, joined or not).
    /// A panic of the main goroutine is resumed in `run`'s caller either way.
    pub fn unhandled_panic(mut self, policy: UnhandledPanic) -> Builder {
        self.unhandled_panic = policy;
        self
    }

    /// For `#[goro::test]`: the runtime runs inside libtest, whose other
    /// threads (the harness's main thread, other tests' runtimes) cannot
    /// wake its goroutines; deadlock detection sets them aside
    /// (`monitor/deadlock.rs`), so a deadlocked test fails with the report
    /// instead of hanging.
    #[doc(hidden)]
    pub fn under_test_harness(mut self) -> Builder {
        self.under_test_harness = true;
        self
    }

    /// Test switch: use `mprotect` guard pages under a VMA budget, as on a
    /// kernel older than 6.13, optionally with a given budget (in stacks).
    #[doc(hidden)]
    pub fn force_mprotect_guards(mut self, budget: Option<usize>) -> Builder {
        self.pool.force_mprotect_guards = true;
        self.pool.vma_budget_override = budget;
        self
    }

    pub fn build(self) -> io::Result<Runtime> {
        let (procs, procs_source) = match self.procs {
            Some(n) => (n, ProcsSource::Explicit),
            None => config::initial_procs(|| procs::detect().procs),
        };
        if procs == 0 || procs > MAX_PROCS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("goro: procs must be between 1 and {MAX_PROCS}, got {procs}"),
            ));
        }
        let stack_size = match self.stack_size {
            Some(s) => goro_stack::parse_stack_size(&s.to_string()).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("goro: stack_size: {e}"),
                )
            })?,
            None => config::default_stack_size(),
        };
        let stacks = StackPool::new(self.pool)?;
        Ok(Runtime {
            procs,
            procs_source,
            stack_size,
            max_blocking_threads: self.max_blocking_threads,
            unhandled_panic: self.unhandled_panic,
            stacks: Arc::new(stacks),
            door: Door::new(stack_size),
            under_test_harness: self.under_test_harness,
        })
    }
}

/// A configured runtime. `run` may be called any number of times; stacks
/// are kept between runs.
pub struct Runtime {
    procs: usize,
    procs_source: ProcsSource,
    stack_size: usize,
    max_blocking_threads: usize,
    unhandled_panic: UnhandledPanic,
    stacks: Arc<StackPool>,
    /// Where `Runtime::handle`'s handles reach its runs (`sched/handle.rs`).
    door: Arc<Door>,
    under_test_harness: bool,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.door.close();
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("procs", &self.procs)
            .field("stack_size", &self.stack_size)
            .finish()
    }
}

impl Runtime {
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// A handle to this runtime, from any thread, before or while `run`
    /// runs: goroutines given to it before the first `run` start when that
    /// run starts; after a run has returned, the runtime is gone (the
    /// handle's `go` yields a `JoinHandle` that is `Err` at once). See
    /// [`Handle`].
    pub fn handle(&self) -> Handle {
        Handle::of_runtime(self.door.clone())
    }

    /// Runs `main` as the main goroutine and returns its result. Goroutines
    /// still running when it returns are abandoned (unwound), as in Go.
    /// A panic in `main` is resumed in the caller after shutdown.
    ///
    /// # Panics
    /// When called from inside a goroutine.
    #[track_caller]
    pub fn run<F, R>(&self, main: F) -> R
    where
        F: FnOnce() -> R + 'static,
        R: 'static,
    {
        if !matches!(current::get(), Current::None) {
            panic!("goro: Runtime::run called from inside a goroutine or a runtime thread; use go! to start more goroutines");
        }
        crate::g::panic::install_hook();
        goro_stack::install_overflow_handler();
        let _signal_stack = goro_stack::ensure_signal_stack();
        let sched = Sched::new(self);
        let _sigquit = crate::monitor::sigquit::register(&sched);
        let (w0, fresh0) = sched.new_worker(0);
        // Numbered like Go's: M0 runs `main`, M1 is sysmon.
        sched.sysmon.set_m_id(sched.next_m_id());
        for p in 1..self.procs {
            sched.start_worker(p);
        }
        let sysmon = {
            let s = sched.clone();
            std::thread::Builder::new()
                .name("goro-sysmon".into())
                .spawn(move || sysmon::sysmon_main(s))
                .expect("goro: cannot start the sysmon thread")
        };
        let local = MLocal::new(w0, sched.clone(), fresh0);
        let prev = current::set(Current::M(&local));
        let main_handle = {
            let sched = sched.clone();
            let main = Pinned(main);
            let guard = ShutdownOnDrop(sched);
            let spawned = crate::sched::spawn::spawn_pinned(
                &local,
                std::panic::Location::caller(),
                move || {
                    let _guard = guard;
                    Pinned(main.call())
                },
            );
            spawned.unwrap_or_else(|e| panic!("{e}"))
        };
        sched.main_goid.store(main_handle.id(), Ordering::Relaxed);
        let _door = self.door.open(&sched, &local);
        schedule::schedule_loop(&local);
        schedule::shutdown_worker(&local);
        local.m.thread_alive.store(false, Ordering::Relaxed);
        sched.join_threads();
        let _ = sysmon.join();
        sched.blocking.shutdown();
        sched.free_goroutines(&local);
        current::set(prev);
        drop(local);
        if let Some(trace) = &sched.trace {
            trace.finish();
        }
        match main_handle.join() {
            Ok(Pinned(r)) => r,
            Err(p) => p.resume(),
        }
    }
}

/// Starts the shutdown when the main goroutine ends (normally or by panic).
struct ShutdownOnDrop(Arc<Sched>);

impl Drop for ShutdownOnDrop {
    fn drop(&mut self) {
        self.0.begin_shutdown();
    }
}

/// State shared by every thread of one `run`.
pub(crate) struct Sched {
    pub stacks: Arc<StackPool>,
    pub default_stack_size: usize,
    /// Global queue of fresh tasks (and readied migratory goroutines).
    pub injector: Injector<Item>,
    /// Batches of free task-cell memory passed between Ms (`task_blocks.rs`).
    pub spare_blocks: Stash,
    pub gomaxprocs: AtomicUsize,
    pub nspinning: AtomicUsize,
    /// Go's `sched.needspinning`: work was queued while no P was idle.
    pub needspinning: AtomicBool,
    pub nidle: AtomicUsize,
    pub idle: Mutex<Vec<Arc<M>>>,
    pub next_goid: AtomicU64,
    /// The main goroutine's id (dumps say `created by goro::run`).
    main_goid: AtomicU64,
    /// M ids (workers and sysmon), in creation order.
    next_m_id: AtomicUsize,
    shutdown: AtomicBool,
    /// Workers holding a P, indexed by P.
    active: RwLock<Vec<Arc<M>>>,
    /// Every worker of this run (active and retiring), by worker id.
    all: RwLock<Vec<Arc<M>>>,
    threads: Mutex<Vec<ThreadHandle<()>>>,
    /// Gs of stopped Ms, freed by M0 once every M has stopped.
    graveyard: Mutex<Vec<GRef>>,
    /// Every G allocated by this run (Go's `allgs`), for observers
    /// (`snapshot.rs`). No G is freed before `free_goroutines` empties it.
    all_gs: Mutex<Vec<GRef>>,
    /// Idle Gs (without stacks) beyond what the Ps cache, for any M to
    /// reuse; leaked boxes owned by this pool.
    spare_gs: Mutex<Vec<GRef>>,
    pub migratory_live: Mutex<Vec<GRef>>,
    /// Goroutines spawned from helper threads (not counted by a worker).
    pub extra_spawned: AtomicU64,
    pub blocking: BlockingPool,
    /// `Builder::unhandled_panic`, read when a goroutine panics.
    pub unhandled_panic: UnhandledPanic,
    pub sysmon: SysmonState,
    /// In mprotect-guard mode: goroutines that may need a stack, and the cap.
    pub stack_reservations: AtomicUsize,
    pub stack_budget: Option<usize>,
    /// The `GORO_TRACE` file, when one is written (`trace/`).
    pub trace: Option<Arc<TraceFile>>,
    /// `Builder::under_test_harness`: read by deadlock detection.
    pub under_test_harness: bool,
    /// Serializes P-set changes (`set_gomaxprocs`, automatic updates,
    /// `lock_os_thread`) and holds who set the P count.
    resize: Mutex<ProcsSource>,
}

impl Sched {
    fn new(rt: &Runtime) -> Arc<Sched> {
        let stack_budget = match rt.stacks.guard_mode() {
            GuardMode::GuardRegions => None,
            GuardMode::Mprotect { budget } => Some(budget),
        };
        Arc::new(Sched {
            stacks: rt.stacks.clone(),
            default_stack_size: rt.stack_size,
            injector: Injector::new(),
            spare_blocks: Stash::default(),
            gomaxprocs: AtomicUsize::new(rt.procs),
            nspinning: AtomicUsize::new(0),
            needspinning: AtomicBool::new(false),
            nidle: AtomicUsize::new(0),
            idle: Mutex::new(Vec::new()),
            next_goid: AtomicU64::new(1),
            main_goid: AtomicU64::new(0),
            next_m_id: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
            active: RwLock::new(Vec::new()),
            all: RwLock::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
            graveyard: Mutex::new(Vec::new()),
            all_gs: Mutex::new(Vec::new()),
            spare_gs: Mutex::new(Vec::new()),
            migratory_live: Mutex::new(Vec::new()),
            extra_spawned: AtomicU64::new(0),
            blocking: BlockingPool::new(rt.max_blocking_threads),
            unhandled_panic: rt.unhandled_panic,
            sysmon: SysmonState::new(),
            stack_reservations: AtomicUsize::new(0),
            stack_budget,
            under_test_harness: rt.under_test_harness,
            resize: Mutex::new(rt.procs_source),
            trace: TraceFile::open_from_env(),
        })
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    pub(crate) fn main_goid(&self) -> u64 {
        self.main_goid.load(Ordering::Relaxed)
    }

    fn next_m_id(&self) -> usize {
        self.next_m_id.fetch_add(1, Ordering::Relaxed)
    }

    fn begin_shutdown(&self) {
        crate::monitor::leaks::report_at_exit(self);
        self.shutdown.store(true, Ordering::SeqCst);
        // Running goroutines yield at their next runtime call, so their Ms
        // reach a scheduling point and stop (`wait_for_ms_to_stop`).
        for w in self.all_workers().iter() {
            w.preempt.store(true, Ordering::Relaxed);
        }
        self.wake_all_idle();
        self.sysmon.poke();
    }

    pub(crate) fn active_workers(&self) -> RwLockReadGuard<'_, Vec<Arc<M>>> {
        self.active.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn all_workers(&self) -> RwLockReadGuard<'_, Vec<Arc<M>>> {
        self.all.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether every P is idle and no goroutine runs anywhere.
    pub(crate) fn all_idle(&self) -> bool {
        self.nidle.load(Ordering::SeqCst) >= self.active_workers().len()
            && self
                .all_workers()
                .iter()
                .all(|w| w.running.load(Ordering::Relaxed) == 0)
    }

    /// Creates a worker for P `p` (registered, not started).
    fn new_worker(self: &Arc<Sched>, p: usize) -> (Arc<M>, crossbeam_deque::Worker<Item>) {
        let fresh = crossbeam_deque::Worker::new_lifo();
        let mut all = self.all.write().unwrap_or_else(|e| e.into_inner());
        let w = Arc::new(M::new(self.next_m_id(), fresh.stealer(), Arc::as_ptr(self)));
        w.p.store(p, Ordering::Relaxed);
        all.push(w.clone());
        drop(all);
        let mut active = self.active.write().unwrap_or_else(|e| e.into_inner());
        if active.len() <= p {
            active.push(w.clone());
        } else {
            active[p] = w.clone();
        }
        (w, fresh)
    }

    /// Creates and starts an M for P `p`.
    pub(crate) fn start_worker(self: &Arc<Sched>, p: usize) {
        let (w, fresh) = self.new_worker(p);
        let sched = self.clone();
        let handle = std::thread::Builder::new()
            .name(format!("goro-m{}", w.id))
            .spawn(move || mstart(sched, w, fresh))
            .unwrap_or_else(|e| crate::fatal(format_args!("cannot start an M thread: {e}")));
        self.threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(handle);
    }

    fn lock_resize(&self) -> MutexGuard<'_, ProcsSource> {
        self.resize.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Who set the P count.
    pub(crate) fn procs_source(&self) -> ProcsSource {
        *self.lock_resize()
    }

    /// Sets the P count explicitly (`set_gomaxprocs`), which stops
    /// automatic updates; returns the previous count.
    pub(crate) fn set_procs(self: &Arc<Sched>, n: usize) -> usize {
        let mut source = self.lock_resize();
        *source = ProcsSource::Explicit;
        self.resize(&source, n)
    }

    /// Applies the default rule's `n`: with `restore`
    /// (`set_default_gomaxprocs`) the count becomes automatic again;
    /// without (sysmon's update) nothing happens if it was set explicitly
    /// in the meantime, so no automatic change follows `set_gomaxprocs`.
    pub(crate) fn set_default_procs(self: &Arc<Sched>, n: usize, restore: bool) {
        let mut source = self.lock_resize();
        if restore {
            *source = ProcsSource::Automatic;
        } else if *source != ProcsSource::Automatic {
            return;
        }
        self.resize(&source, n);
    }

    /// sysmon, about once a second: re-reads the affinity mask and the
    /// cgroup limit and follows them, unless updates are off.
    pub(crate) fn update_default_procs(self: &Arc<Sched>) {
        if !config::automatic_updates(self.procs_source()) || self.is_shutting_down() {
            return;
        }
        let n = procs::detect().procs;
        if n != self.gomaxprocs.load(Ordering::SeqCst) {
            self.set_default_procs(n, false);
        }
    }

    /// Changes the P count (the caller holds the resize lock); returns the
    /// previous count.
    fn resize(self: &Arc<Sched>, _serial: &MutexGuard<'_, ProcsSource>, n: usize) -> usize {
        let n = n.clamp(1, MAX_PROCS);
        let old = self.gomaxprocs.load(Ordering::SeqCst);
        if n > old {
            self.gomaxprocs.store(n, Ordering::SeqCst);
            for p in old..n {
                self.start_worker(p);
            }
        } else if n < old {
            let removed: Vec<Arc<M>> = {
                let mut active = self.active.write().unwrap_or_else(|e| e.into_inner());
                active.split_off(n)
            };
            self.gomaxprocs.store(n, Ordering::SeqCst);
            for w in removed {
                w.has_p.store(false, Ordering::SeqCst);
                w.wake_up();
            }
        }
        crate::trace::procs(self, old, n);
        old
    }

    /// Takes P `p` away from `w` (which keeps running its own goroutines)
    /// and gives it to a new M.
    pub(crate) fn hand_off_p(self: &Arc<Sched>, w: &Arc<M>) {
        let _serial = self.lock_resize();
        if !w.has_p.swap(false, Ordering::SeqCst) {
            return;
        }
        let p = w.p.load(Ordering::Relaxed);
        let still_active = self
            .active_workers()
            .get(p)
            .is_some_and(|x| Arc::ptr_eq(x, w));
        if still_active && !self.is_shutting_down() {
            crate::trace::handoff(self, w.id);
            self.start_worker(p);
        }
    }

    /// Waits until every M has left its scheduler loop (each notices the
    /// shutdown at its next scheduling point), so that from here on no
    /// goroutine runs anywhere. A worker added after this looked finds the
    /// shutdown flag set before it could run anything.
    pub(crate) fn wait_for_ms_to_stop(&self) {
        let mut rounds = 0u32;
        while self
            .all_workers()
            .iter()
            .any(|w| w.scheduling.load(Ordering::Acquire))
        {
            // Usually a few microseconds (an M finishing a time slice);
            // a goroutine computing without runtime calls takes longer.
            if rounds < 100 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            rounds += 1;
        }
    }

    /// Waits until no `blocking` call is in flight (their closures may
    /// borrow goroutine stacks that shutdown is about to unwind).
    pub(crate) fn wait_for_blocking_calls(&self) {
        while self.blocking.in_flight.load(Ordering::SeqCst) != 0 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// Waits until no observer holds a parked goroutine still (`scan.rs`):
    /// holds live under the `all_gs` lock, and once the shutdown flag is
    /// set no new one is taken.
    pub(crate) fn wait_for_observers(&self) {
        drop(self.all_gs.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// A new G, registered for observers.
    pub(crate) fn new_g(&self) -> Box<G> {
        let g = G::new();
        let gref = GRef(std::ptr::NonNull::from(&*g));
        self.all_gs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(gref);
        g
    }

    /// Runs `f` over every G of this run; they stay allocated meanwhile.
    pub(crate) fn with_all_gs<R>(&self, f: impl FnOnce(&[GRef]) -> R) -> R {
        f(&self.all_gs.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// An idle G from the runtime-wide pool (it has no stack).
    pub(crate) fn take_spare_g(&self) -> Option<Box<G>> {
        let g = self
            .spare_gs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()?;
        // SAFETY: `put_spare_g` leaked this box into the pool, its only
        // owner, and it was just taken out.
        Some(unsafe { Box::from_raw(g.0.as_ptr()) })
    }

    /// Pools an idle G a P could not cache, giving its stack back (Gs are
    /// not freed while the runtime runs: observers may be reading them).
    pub(crate) fn put_spare_g(&self, g: Box<G>) {
        if let Some(s) = g.take_spare_stack() {
            self.stacks.release(s);
        }
        let g = GRef(std::ptr::NonNull::from(Box::leak(g)));
        self.spare_gs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(g);
    }

    // Gs are boxed: queues and waiters hold their addresses (GRef).
    #[allow(clippy::vec_box)]
    pub(crate) fn bury(&self, gs: Vec<Box<G>>) {
        let mut yard = self.graveyard.lock().unwrap_or_else(|e| e.into_inner());
        yard.extend(
            gs.into_iter()
                .map(|g| GRef(std::ptr::NonNull::from(Box::leak(g)))),
        );
    }

    fn join_threads(&self) {
        loop {
            let handles =
                std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
            if handles.is_empty() {
                break;
            }
            for h in handles {
                let _ = h.join();
            }
        }
    }

    /// After every M stopped: unwind leftover migratory goroutines, drain
    /// the global queue and free every G, returning stacks to the pool.
    fn free_goroutines(&self, m0: &MLocal) {
        // From here on observers see no G (they read under this lock).
        self.all_gs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        let migratory = std::mem::take(
            &mut *self
                .migratory_live
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for &g in &migratory {
            // No M runs any more: these Gs are alive and suspended, and M0
            // may unwind them (migratory goroutines may change thread).
            G::force_unwind(g, m0);
        }
        loop {
            match self.injector.steal() {
                crossbeam_deque::Steal::Success(Item::Fresh(t)) => t.abandon(),
                crossbeam_deque::Steal::Success(Item::Migratory(_))
                | crossbeam_deque::Steal::Retry => {}
                crossbeam_deque::Steal::Empty => break,
            }
        }
        let mut yard =
            std::mem::take(&mut *self.graveyard.lock().unwrap_or_else(|e| e.into_inner()));
        yard.append(&mut self.spare_gs.lock().unwrap_or_else(|e| e.into_inner()));
        yard.extend(migratory);
        for g in yard {
            // SAFETY: every M has stopped, so nothing refers to these Gs;
            // each was leaked from a Box exactly once.
            let g = unsafe { Box::from_raw(g.0.as_ptr()) };
            if let Some(s) = g.take_spare_stack() {
                self.stacks.release(s);
            }
        }
    }

    /// Returns a stack reservation taken by a spawn (mprotect-guard mode).
    pub(crate) fn release_reservation(&self) {
        if self.stack_budget.is_some() {
            self.stack_reservations.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// `num_goroutine`: goroutines spawned and not yet finished.
    pub(crate) fn num_goroutine(&self) -> usize {
        let mut n: i64 = self.extra_spawned.load(Ordering::Relaxed) as i64;
        for w in self.all_workers().iter() {
            n += w.spawned.load(Ordering::Relaxed) as i64;
            n -= w.exited.load(Ordering::Relaxed) as i64;
        }
        n.max(0) as usize
    }
}

fn mstart(sched: Arc<Sched>, m: Arc<M>, fresh: crossbeam_deque::Worker<Item>) {
    let _signal_stack = goro_stack::ensure_signal_stack();
    let local = MLocal::new(m, sched.clone(), fresh);
    let prev = current::set(Current::M(&local));
    schedule::schedule_loop(&local);
    if sched.is_shutting_down() {
        schedule::shutdown_worker(&local);
    } else {
        // Retired: every goroutine homed here has finished.
        local.give_up_fresh_work();
        for g in local.free.borrow_mut().drain(..) {
            sched.put_spare_g(g);
        }
        local.m.gfree.store(0, Ordering::Relaxed);
    }
    local.m.thread_alive.store(false, Ordering::Relaxed);
    current::set(prev);
}

/// `GORO_MIGRATE_AGGRESSIVELY=1`: migratory goroutines go through the
/// global queue at every park (a stress mode for `spawn_migratory` code).
pub(crate) fn migrate_aggressively() -> bool {
    config::env().migrate_aggressively
}

/// Creates the task for a spawn (shared by every spawn flavour).
pub(crate) fn new_task<F, T>(
    sched: &Sched,
    id: u64,
    parent: u64,
    site: &'static std::panic::Location<'static>,
    stack_size: Option<usize>,
    migratory: bool,
    f: F,
) -> (crate::g::task::Task, crate::JoinHandle<T>)
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let info = TaskInfo {
        id,
        parent,
        spawn_site: site,
        stack_size: stack_size.unwrap_or(sched.default_stack_size),
        migratory,
    };
    task::create(info, f)
}
