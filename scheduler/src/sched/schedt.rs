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
use crate::sched::idle::Idle;
use crate::sched::m::{Item, M};
use crate::sched::SysmonState;
use crate::sys::poison::RwUnpoisoned;
use crate::trace::TraceFile;

/// What a run's `Sched` is made from (the `Builder`'s settings, and the
/// stack pool that outlives runs).
#[derive(Debug, Clone)]
pub(crate) struct SchedConfig {
    /// The initial P count.
    pub procs: usize,
    /// Who set it.
    pub procs_source: ProcsSource,
    /// Default usable stack size of goroutines.
    pub stack_size: usize,
    /// Cap on `blocking` helper threads.
    pub max_blocking_threads: usize,
    /// What an unhandled goroutine panic does.
    pub unhandled_panic: UnhandledPanic,
    /// The stack pool, shared by every run of a `Runtime`.
    pub stacks: Arc<StackPool>,
}

/// State shared by every thread of one `run`.
///
/// Fields are private to the scheduler core (`sched/`); everything else
/// reads through the methods below. Each says who writes it and who reads
/// it; "set at start" fields are immutable afterwards.
pub(crate) struct Sched {
    // The queues and the Ms that serve them.
    /// Global queue of fresh tasks and readied migratory goroutines: pushed
    /// by any thread (`enqueue.rs`), taken by Ms (every 61st tick, and
    /// when their own queues are empty).
    pub(super) injector: Injector<Item>,
    /// Idle and spinning Ms (`idle.rs`, with its own invariants).
    pub(super) idle: Idle<Arc<M>>,
    /// The P count. Written (SeqCst) under the `resize` lock (`procs.rs`);
    /// read by anyone.
    pub(super) gomaxprocs: AtomicUsize,
    /// Ms holding a P, indexed by P: written under `resize` (and by
    /// `new_m` at start), read by thieves, timers and observers.
    pub(super) active: RwLock<Vec<Arc<M>>>,
    /// Every M of this run (active and retiring), by M id: appended by
    /// `new_m`, read by observers and shutdown.
    pub(super) all: RwLock<Vec<Arc<M>>>,
    /// The join handles of M threads started after M0: pushed by
    /// `start_m`, drained by M0 at the end of the run.
    pub(super) threads: Mutex<Vec<ThreadHandle<()>>>,
    /// Serializes P-set changes (`set_gomaxprocs`, automatic updates,
    /// `lock_os_thread`) and holds who set the P count.
    pub(super) resize: Mutex<ProcsSource>,
    /// M ids (Ms and sysmon), handed out in creation order (Relaxed).
    pub(super) next_m_id: AtomicUsize,

    // Goroutines (`registry.rs`).
    /// Goroutine ids, handed out to Ms in batches (Relaxed: only unique).
    pub(super) next_goid: AtomicU64,
    /// Every G allocated by this run (Go's `allgs`), for observers
    /// (`monitor/snapshot.rs`): appended by `new_g`, emptied by
    /// `free_goroutines`; no G is freed before then.
    pub(super) all_gs: Mutex<Vec<GRef>>,
    /// Idle Gs (without stacks) beyond what the Ps cache, for any M to
    /// reuse; leaked boxes owned by this pool.
    pub(super) spare_gs: Mutex<Vec<GRef>>,
    /// Gs of stopped Ms, freed by M0 once every M has stopped.
    pub(super) graveyard: Mutex<Vec<GRef>>,
    /// Started migratory goroutines (they have no home M to list them):
    /// pushed and removed by the M that starts and finishes each.
    pub(super) migratory_live: Mutex<Vec<GRef>>,
    /// Goroutines spawned from threads without a P (counted by no M):
    /// incremented by `spawn_global`, read by `num_goroutine`.
    pub(super) extra_spawned: AtomicU64,

    // Memory.
    /// The stack pool, shared with later runs. Set at start.
    pub(super) stacks: Arc<StackPool>,
    /// `Builder::stack_size`. Set at start.
    pub(super) default_stack_size: usize,
    /// In mprotect-guard mode: goroutines that hold or may need a stack
    /// (taken at spawn, returned at finish), and the cap (set at start).
    pub(super) stack_reservations: AtomicUsize,
    /// See `stack_reservations`.
    pub(super) stack_budget: Option<usize>,
    /// Batches of free task-cell memory passed between Ms
    /// (`g/cell_alloc.rs`).
    pub(super) spare_blocks: Stash,

    // Helpers, monitors and the run's lifecycle.
    /// The `blocking` helper pool.
    pub(super) blocking: BlockingPool,
    /// What the Ms share with sysmon (its sleep word, the coarse clock).
    pub(super) sysmon: SysmonState,
    /// The `GORO_TRACE` file, when one is written (`trace/`). Set at start.
    pub(super) trace: Option<Arc<TraceFile>>,
    /// `Builder::unhandled_panic`, read when a goroutine panics. Set at
    /// start.
    pub(super) unhandled_panic: UnhandledPanic,
    /// Goroutine panics of this run (`panics.rs`): incremented by the M
    /// the goroutine ended on, read by `PanicWatch`es.
    pub(super) panics: AtomicUsize,
    /// The main goroutine's id (dumps say `created by goro::run`): written
    /// once by the lifecycle right after the spawn, read by observers.
    pub(super) main_goid: AtomicU64,
    /// Set (SeqCst) once when the main goroutine ends (`shutdown.rs`); read
    /// by every M at each scheduling round and by everything that must not
    /// start new work.
    pub(super) shutdown: AtomicBool,
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
            idle: Idle::new(),
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
            panics: AtomicUsize::new(0),
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

    pub(crate) fn active_ms(&self) -> RwLockReadGuard<'_, Vec<Arc<M>>> {
        self.active.read_unpoisoned()
    }

    pub(crate) fn all_ms(&self) -> RwLockReadGuard<'_, Vec<Arc<M>>> {
        self.all.read_unpoisoned()
    }

    /// Whether every P is idle and no goroutine runs anywhere.
    pub(crate) fn all_idle(&self) -> bool {
        self.idle.idle_ms() >= self.active_ms().len()
            && self
                .all_ms()
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
        for w in self.all_ms().iter() {
            n += w.spawned.load(Ordering::Relaxed) as i64;
            n -= w.exited.load(Ordering::Relaxed) as i64;
        }
        n.max(0) as usize
    }
}
