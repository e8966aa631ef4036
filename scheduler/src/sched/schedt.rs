//! `Sched`: the state every thread of one run shares (Go's `schedt`).
//!
//! Its parts are operated by the files that own them: the idle and
//! spinning Ms by `idle.rs`, the M set and P-set changes by `procs.rs`,
//! the G registry by `registry.rs`, the end of the run by `shutdown.rs`.
//! This file holds the definition, its construction and the small
//! read-only queries everyone needs.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::thread::JoinHandle as ThreadHandle;

use crossbeam_deque::Injector;
use goro_stack::{GuardMode, StackPool};

use crate::blocking::BlockingPool;
use crate::config::procs::ProcsSource;
use crate::g::cell_alloc::Stash;
use crate::g::panic::UnhandledPanic;
use crate::g::GRef;
use crate::sched::m::{Item, M};
use crate::sched::SysmonState;
use crate::sys::poison::RwUnpoisoned;
use crate::trace::TraceFile;

/// What a run's `Sched` is made from (the `Builder`'s settings, and the
/// stack pool that outlives runs).
#[derive(Debug, Clone)]
pub(crate) struct SchedConfig {
    pub procs: usize,
    pub procs_source: ProcsSource,
    pub stack_size: usize,
    pub max_blocking_threads: usize,
    pub unhandled_panic: UnhandledPanic,
    pub stacks: Arc<StackPool>,
}

/// State shared by every thread of one `run`.
pub(crate) struct Sched {
    pub(super) stacks: Arc<StackPool>,
    pub(super) default_stack_size: usize,
    /// Global queue of fresh tasks (and readied migratory goroutines).
    pub(super) injector: Injector<Item>,
    /// Batches of free task-cell memory passed between Ms (`g/cell_alloc.rs`).
    pub(super) spare_blocks: Stash,
    pub(super) gomaxprocs: AtomicUsize,
    pub(super) nspinning: AtomicUsize,
    /// Go's `sched.needspinning`: work was queued while no P was idle.
    pub(super) needspinning: AtomicBool,
    pub(super) nidle: AtomicUsize,
    pub(super) idle: Mutex<Vec<Arc<M>>>,
    pub(super) next_goid: AtomicU64,
    /// The main goroutine's id (dumps say `created by goro::run`).
    pub(super) main_goid: AtomicU64,
    /// M ids (workers and sysmon), in creation order.
    pub(super) next_m_id: AtomicUsize,
    pub(super) shutdown: AtomicBool,
    /// Workers holding a P, indexed by P.
    pub(super) active: RwLock<Vec<Arc<M>>>,
    /// Every worker of this run (active and retiring), by worker id.
    pub(super) all: RwLock<Vec<Arc<M>>>,
    pub(super) threads: Mutex<Vec<ThreadHandle<()>>>,
    /// Gs of stopped Ms, freed by M0 once every M has stopped.
    pub(super) graveyard: Mutex<Vec<GRef>>,
    /// Every G allocated by this run (Go's `allgs`), for observers
    /// (`snapshot.rs`). No G is freed before `free_goroutines` empties it.
    pub(super) all_gs: Mutex<Vec<GRef>>,
    /// Idle Gs (without stacks) beyond what the Ps cache, for any M to
    /// reuse; leaked boxes owned by this pool.
    pub(super) spare_gs: Mutex<Vec<GRef>>,
    pub(super) migratory_live: Mutex<Vec<GRef>>,
    /// Goroutines spawned from helper threads (not counted by a worker).
    pub(super) extra_spawned: AtomicU64,
    pub(super) blocking: BlockingPool,
    /// `Builder::unhandled_panic`, read when a goroutine panics.
    pub(super) unhandled_panic: UnhandledPanic,
    pub(super) sysmon: SysmonState,
    /// In mprotect-guard mode: goroutines that may need a stack, and the cap.
    pub(super) stack_reservations: AtomicUsize,
    pub(super) stack_budget: Option<usize>,
    /// The `GORO_TRACE` file, when one is written (`trace/`).
    pub(super) trace: Option<Arc<TraceFile>>,
    /// Serializes P-set changes (`set_gomaxprocs`, automatic updates,
    /// `lock_os_thread`) and holds who set the P count.
    pub(super) resize: Mutex<ProcsSource>,
}

impl Sched {
    pub(crate) fn new(rt: &SchedConfig) -> Arc<Sched> {
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

    pub(crate) fn set_main_goid(&self, id: u64) {
        self.main_goid.store(id, Ordering::Relaxed);
    }

    /// The `blocking` helper pool.
    pub(crate) fn blocking(&self) -> &BlockingPool {
        &self.blocking
    }

    /// Batches of free task-cell memory passed between Ms.
    pub(crate) fn spare_blocks(&self) -> &Stash {
        &self.spare_blocks
    }

    /// Sysmon's sleep word and coarse clock.
    pub(crate) fn sysmon(&self) -> &SysmonState {
        &self.sysmon
    }

    /// The `GORO_TRACE` file, when one is written.
    pub(crate) fn trace_file(&self) -> Option<&Arc<TraceFile>> {
        self.trace.as_ref()
    }

    /// `Builder::unhandled_panic`.
    pub(crate) fn unhandled_panic(&self) -> UnhandledPanic {
        self.unhandled_panic
    }

    /// Tasks in the global queue.
    pub(crate) fn global_queue_len(&self) -> usize {
        self.injector.len()
    }

    /// Goroutines spawned from threads without a P (counted nowhere else).
    pub(crate) fn extra_spawned(&self) -> u64 {
        self.extra_spawned.load(Ordering::SeqCst)
    }

    pub(crate) fn next_m_id(&self) -> usize {
        self.next_m_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn active_workers(&self) -> RwLockReadGuard<'_, Vec<Arc<M>>> {
        self.active.read_unpoisoned()
    }

    pub(crate) fn all_workers(&self) -> RwLockReadGuard<'_, Vec<Arc<M>>> {
        self.all.read_unpoisoned()
    }

    /// Whether every P is idle and no goroutine runs anywhere.
    pub(crate) fn all_idle(&self) -> bool {
        self.nidle.load(Ordering::SeqCst) >= self.active_workers().len()
            && self
                .all_workers()
                .iter()
                .all(|w| w.running.load(Ordering::Relaxed) == 0)
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
