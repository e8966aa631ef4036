//! An M (OS thread) with its P (the right to run Go code: queues and
//! caches), in two halves: [`M`], what other threads may touch (reached
//! through a G's `home` pointer, the M list and the idle list), and
//! [`MLocal`], what only the M's own thread touches.
//!
//! goro binds one M to one P for the P's lifetime, because a started
//! goroutine must finish on the thread it started on (docs/soundness.md):
//! the P's "home" queue holds started goroutines that only this M may run.
//!
//! Per P (fields of `MLocal`, owned by the M's thread, and of `M`,
//! shared with other threads):
//! - `fresh`: a crossbeam-deque of tasks that have not started; the owner
//!   pops the newest, other Ps steal the oldest half when idle (`Stealer`),
//!   as Go's `runqsteal` does.
//! - `home`: started goroutines readied by other threads (MPSC; only this M
//!   pops). A goroutine readied by a goroutine of this same M instead goes to
//! - `runnext`: one G that runs next and inherits the time slice (Go's
//!   `runnext`), so a channel ping-pong stays on one thread.
//! - `free`: idle Gs that keep their stacks, so spawning is allocation- and
//!   syscall-free once warm (Go's `gFree` plus stack cache in one).
//! - `live`: every started goroutine homed here (for shutdown and stack
//!   trimming; observers use the runtime's registry of all Gs instead).
//!
//! An M that loses its P (`set_gomaxprocs` shrinking, or a goroutine
//! calling `lock_os_thread`) keeps running the goroutines homed on it, takes
//! no new work, and its thread exits when the last one finishes.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam_deque::{Injector, Steal, Stealer};

use crate::g::cell_alloc::BlockCache;
use crate::g::task::Task;
use crate::g::{GRef, G};
use crate::runtime::Sched;
use crate::sched::current::{self, Current};
use crate::sched::lookahead::HomeLookahead;
use crate::time::TimerHeap;
use crate::trace::MTrace;

/// Work in a stealable queue.
pub(crate) enum Item {
    /// A task that has not started (any M may run it).
    Fresh(Task),
    /// A started goroutine from `spawn_migratory`, readied (any M may resume it).
    Migratory(GRef),
}

/// Fresh queues shorter than this are left to their own M by impatient
/// thieves (see `MLocal::steal_from_others`).
const GROUP_SIZE: usize = 4;

/// How many idle Gs (with stacks) a P keeps before returning them.
pub(crate) const FREE_G_CACHE: usize = 256;

impl Item {
    /// The id of the goroutine this item starts or resumes.
    pub(crate) fn goid(&self) -> u64 {
        match self {
            Item::Fresh(task) => task.info().id,
            // SAFETY: a queued G is alive.
            Item::Migratory(g) => unsafe { g.get() }.id(),
        }
    }
}

/// An M as other threads see it: its home queue, its sleep word, the
/// stealing end of its P's fresh queue, its timers and its counters.
pub(crate) struct M {
    pub id: usize,
    pub home: Injector<GRef>,
    pub stealer: Stealer<Item>,
    /// Fresh tasks handed here by a busier P (`balance.rs`); stealable
    /// like the fresh queue.
    pub inbox: Injector<Item>,
    /// Sleep state for the futex (see `idle.rs`).
    pub sleep: AtomicU32,
    /// False once this worker lost its P (retiring).
    pub has_p: AtomicBool,
    /// Set by sysmon: the running goroutine overstayed its slice.
    pub preempt: AtomicBool,
    /// Bumped at each schedule that starts a new time slice.
    pub schedtick: AtomicU64,
    /// Id of the goroutine running now, 0 when none.
    pub running: AtomicU64,
    /// Spawned/exited goroutine counts (for `num_goroutine`); written by
    /// this worker's M only, with [`bump`].
    pub spawned: AtomicU64,
    pub exited: AtomicU64,
    /// Started goroutines homed here (live list length).
    pub live: AtomicU64,
    /// Idle Gs cached by this P (the length of `MLocal::free`, for
    /// `scheddetail`).
    pub gfree: AtomicUsize,
    /// Whether this M is a spinning M (counted in `nspinning`); written
    /// only by this M.
    pub spinning: AtomicBool,
    /// `blocking` calls made by goroutines on this P (Go's `syscalltick`).
    pub syscalltick: AtomicU64,
    /// True until this M's scheduler loop has returned (Release): from
    /// then on it runs no goroutine again. Shutdown waits for every M to
    /// clear it before it unwinds any stack (`Sched::wait_for_ms_to_stop`).
    pub scheduling: AtomicBool,
    /// False once this M's thread has finished its shutdown share (or
    /// retired): it no longer counts as a thread.
    pub thread_alive: AtomicBool,
    /// In the idle list (guarded by the idle list's mutex).
    pub idle: AtomicBool,
    /// Woken by `wakep` to look for work as a spinning M.
    pub woken_spinning: AtomicBool,
    /// Set by sysmon about once a second: trim stacks when next idle.
    pub trim_request: AtomicBool,
    /// Blocked in `epoll_wait` as the poller's blocker (`netpoll.rs`).
    pub in_poller: AtomicBool,
    /// The P this worker holds (meaningful while `has_p`).
    pub p: AtomicUsize,
    /// This P's timers (see `timer.rs`).
    pub timers: TimerHeap,
    /// The runtime this worker belongs to (it outlives its workers' use).
    pub sched: *const Sched,
}

// SAFETY: all fields are Sync except the `shared` pointer, which is only
// dereferenced while the runtime is running (Sched outlives that).
unsafe impl Send for M {}
// SAFETY: as above.
unsafe impl Sync for M {}

impl M {
    pub(crate) fn new(id: usize, stealer: Stealer<Item>, sched: *const Sched) -> M {
        M {
            id,
            sched,
            home: Injector::new(),
            stealer,
            inbox: Injector::new(),
            sleep: AtomicU32::new(crate::sched::idle::AWAKE),
            has_p: AtomicBool::new(true),
            preempt: AtomicBool::new(false),
            schedtick: AtomicU64::new(0),
            running: AtomicU64::new(0),
            spawned: AtomicU64::new(0),
            exited: AtomicU64::new(0),
            live: AtomicU64::new(0),
            gfree: AtomicUsize::new(0),
            spinning: AtomicBool::new(false),
            syscalltick: AtomicU64::new(0),
            scheduling: AtomicBool::new(true),
            thread_alive: AtomicBool::new(true),
            idle: AtomicBool::new(false),
            woken_spinning: AtomicBool::new(false),
            trim_request: AtomicBool::new(false),
            in_poller: AtomicBool::new(false),
            p: AtomicUsize::new(0),
            timers: TimerHeap::new(),
        }
    }

    /// Queues a readied goroutine homed here and wakes this M if it sleeps.
    pub(crate) fn push_home(&self, g: GRef) {
        self.home.push(g);
        std::sync::atomic::fence(Ordering::SeqCst);
        self.notify();
    }
}

/// The half of an M only its own thread touches. Lives on the M's own stack for the
/// whole scheduler loop; goroutines reach it through `current::m()`.
pub(crate) struct MLocal {
    pub m: Arc<M>,
    pub sched: Arc<Sched>,
    pub fresh: crossbeam_deque::Worker<Item>,
    pub runnext: Cell<Option<GRef>>,
    /// The next goroutines of the home queue, taken out to prefetch.
    pub home_ahead: HomeLookahead,
    /// The goroutine running now.
    pub current: Cell<Option<GRef>>,
    /// Boxed: a G's address is its identity (GRef) while it lives.
    #[allow(clippy::vec_box)]
    pub free: RefCell<Vec<Box<G>>>,
    pub live: RefCell<Vec<GRef>>,
    pub tick: Cell<u64>,
    /// Where the next trimming pass resumes in `live`.
    pub trim_cursor: Cell<usize>,
    /// The last goroutine yielded: take fresh work before the home queue.
    pub prefer_fresh: Cell<bool>,
    /// Spawns by the running goroutine since it was resumed, and whether
    /// they made it yield to drain the fresh queue (`spawn::SPAWN_BACKLOG`).
    pub spawn_streak: Cell<u32>,
    pub drain_fresh: Cell<bool>,
    /// `runnext` hand-offs in a row (see `local_work`).
    pub runnext_streak: Cell<u32>,
    pub rng: Cell<u64>,
    /// Goroutine ids handed out in batches (Go's `goidcache`).
    pub goid_next: Cell<u64>,
    pub goid_end: Cell<u64>,
    /// Free task-cell memory (`task_blocks.rs`).
    pub blocks: BlockCache,
    /// The lighter P that fresh tasks go to until the next sample, and
    /// the starts left until then (`balance.rs`).
    pub balance_target: RefCell<Option<Arc<M>>>,
    pub balance_countdown: Cell<u32>,
    /// This M's `GORO_TRACE` buffer, when the runtime writes a trace.
    pub trace: Option<MTrace>,
}

const GOID_BATCH: u64 = 16;

impl MLocal {
    pub(crate) fn new(
        m: Arc<M>,
        sched: Arc<Sched>,
        fresh: crossbeam_deque::Worker<Item>,
    ) -> MLocal {
        let seed = (m.id as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let trace = sched.trace.as_ref().map(|f| MTrace::new(f.clone(), m.id));
        MLocal {
            trace,
            m,
            sched,
            fresh,
            runnext: Cell::new(None),
            home_ahead: HomeLookahead::default(),
            current: Cell::new(None),
            free: RefCell::new(Vec::new()),
            live: RefCell::new(Vec::new()),
            tick: Cell::new(0),
            trim_cursor: Cell::new(0),
            prefer_fresh: Cell::new(false),
            spawn_streak: Cell::new(0),
            drain_fresh: Cell::new(false),
            runnext_streak: Cell::new(0),
            rng: Cell::new(seed),
            goid_next: Cell::new(0),
            goid_end: Cell::new(0),
            blocks: BlockCache::default(),
            balance_target: RefCell::new(None),
            balance_countdown: Cell::new(0),
        }
    }

    /// A worker that lost its P hands its queued fresh tasks to the global
    /// queue, where the Ps take them, and its timers to the active Ps.
    pub(crate) fn give_up_fresh_work(&self) {
        crate::time::rehome(&self.m, &self.sched);
        while let Some(item) = self.fresh.pop() {
            self.m.inbox.push(item);
        }
        crate::sched::balance::drain_inbox(&self.sched, &self.m);
    }

    pub(crate) fn worker_ptr(&self) -> *const M {
        Arc::as_ptr(&self.m)
    }

    /// Takes an idle G from this P's cache.
    #[allow(clippy::vec_box)]
    pub(crate) fn pop_free(&self) -> Option<Box<G>> {
        let mut free = self.free.borrow_mut();
        let g = free.pop();
        self.m.gfree.store(free.len(), Ordering::Relaxed);
        g
    }

    /// Caches an idle G on this P; gives it back when the cache is full.
    pub(crate) fn push_free(&self, g: Box<G>) -> Option<Box<G>> {
        let mut free = self.free.borrow_mut();
        if free.len() >= FREE_G_CACHE {
            return Some(g);
        }
        free.push(g);
        self.m.gfree.store(free.len(), Ordering::Relaxed);
        None
    }

    /// Makes `g` run next on this M; a G already there goes to the home
    /// queue's tail.
    pub(crate) fn put_runnext(&self, g: GRef) {
        if let Some(old) = self.runnext.replace(Some(g)) {
            self.m.home.push(old);
        }
    }

    /// The id of the goroutine running on this M (0 between goroutines).
    pub(crate) fn current_goid(&self) -> u64 {
        // SAFETY: the running goroutine's G is alive while it runs.
        self.current.get().map_or(0, |g| unsafe { g.get() }.id())
    }

    /// Skips this M's cached goroutine ids below `id` (ids the `Runtime`'s
    /// door gave out before the run started, `handle.rs`).
    pub(crate) fn skip_goids_below(&self, id: u64) {
        if self.goid_next.get() < id {
            self.goid_next.set(id.min(self.goid_end.get()));
        }
    }

    pub(crate) fn next_goid(&self) -> u64 {
        if self.goid_next.get() == self.goid_end.get() {
            let start = self
                .sched
                .next_goid
                .fetch_add(GOID_BATCH, Ordering::Relaxed);
            self.goid_next.set(start);
            self.goid_end.set(start + GOID_BATCH);
        }
        let id = self.goid_next.get();
        self.goid_next.set(id + 1);
        id
    }

    /// A cheap per-M random number (xorshift64*).
    pub(crate) fn random(&self) -> u64 {
        let mut x = self.rng.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Queues fresh work on this P (or globally if it has no P) and wakes an
    /// idle P to steal it if none is spinning (Go's `wakep`).
    pub(crate) fn push_fresh(&self, item: Item) {
        if self.m.has_p.load(Ordering::Relaxed) {
            self.fresh.push(item);
        } else {
            self.sched.injector.push(item);
        }
        std::sync::atomic::fence(Ordering::SeqCst);
        self.sched.wakep();
    }

    /// Steals half of another P's fresh queue into ours; returns the first
    /// stolen item. Unless `patient`, a P whose queue holds fewer than
    /// `GROUP_SIZE` tasks is skipped: those are most likely the goroutines
    /// its running spawner is about to wait for (Go keeps the last in
    /// `runnext`, which thieves leave alone for a few microseconds), and
    /// stealing one would split a group that talks across two Ms for its
    /// whole life (docs/design.md).
    pub(crate) fn steal_from_others(&self, patient: bool) -> Option<Item> {
        let workers = self.sched.active_workers();
        let n = workers.len();
        if n == 0 {
            return None;
        }
        let start = (self.random() % n as u64) as usize;
        for i in 0..n {
            let w = &workers[(start + i) % n];
            if Arc::ptr_eq(w, &self.m) {
                continue;
            }
            let fresh = || retry_steal(|| w.stealer.steal_batch_and_pop(&self.fresh));
            let handed = || retry_steal(|| w.inbox.steal_batch_and_pop(&self.fresh));
            let item = if patient || w.stealer.len() >= GROUP_SIZE {
                fresh().or_else(handed)
            } else {
                handed()
            };
            if let Some(item) = item {
                crate::trace::steal(self, w.id, item.goid());
                return Some(item);
            }
        }
        None
    }

    /// Runs the due timers of other Ps (their Ms may be busy in a long
    /// goroutine); a spinning M does this as Go's `stealWork` does.
    pub(crate) fn run_others_timers(&self) {
        let workers = self.sched.active_workers();
        let mut now = None;
        for w in workers.iter() {
            if Arc::ptr_eq(w, &self.m) || !w.timers.is_pending() {
                continue;
            }
            let now = *now.get_or_insert_with(std::time::Instant::now);
            if w.timers.is_due(now) {
                w.timers.run_due(now);
            }
        }
    }

    /// Takes from the global queue (a batch into the local deque).
    pub(crate) fn take_global(&self) -> Option<Item> {
        self.take_batch(&self.sched.injector)
    }

    /// Takes the oldest task of this P's own fresh queue (the end thieves
    /// steal from).
    pub(crate) fn take_oldest_fresh(&self) -> Option<Item> {
        retry_steal(|| self.m.stealer.steal())
    }

    /// Moves tasks handed to this P (`balance.rs`) into its fresh queue and
    /// returns the first.
    pub(crate) fn take_inbox(&self) -> Option<Item> {
        self.take_batch(&self.m.inbox)
    }

    /// Moves a batch of `from` into this P's fresh queue and returns its
    /// first task.
    fn take_batch(&self, from: &Injector<Item>) -> Option<Item> {
        // `is_empty` first: a steal from an empty injector costs a fence.
        if from.is_empty() {
            return None;
        }
        retry_steal(|| from.steal_batch_and_pop(&self.fresh))
    }

    /// Takes the oldest goroutine readied for this M (see `lookahead.rs`).
    #[inline]
    pub(crate) fn take_home(&self) -> Option<GRef> {
        let live = self.m.live.load(Ordering::Relaxed);
        self.home_ahead.take(&self.m.home, live)
    }

    /// Whether readied goroutines wait for this M.
    pub(crate) fn has_home_work(&self) -> bool {
        !self.home_ahead.is_empty() || !self.m.home.is_empty()
    }
}

/// Runs a crossbeam steal operation until it is not asked to retry.
pub(crate) fn retry_steal<T>(mut steal: impl FnMut() -> Steal<T>) -> Option<T> {
    loop {
        match steal() {
            Steal::Success(t) => return Some(t),
            Steal::Empty => return None,
            Steal::Retry => continue,
        }
    }
}

/// Queues a readied migratory goroutine where any M can take it.
pub(crate) fn push_migratory(g: GRef) {
    // SAFETY: a migratory G's home is the worker that last ran it; workers
    // outlive every goroutine of their runtime, and so does `Sched`.
    let sched = unsafe { &*(*g.get().home.load(Ordering::Acquire)).sched };
    let aggressive = crate::runtime::migrate_aggressively();
    if let Current::M(l) = current::get() {
        // SAFETY: `Current::M` points at this thread's live MLocal.
        let l = unsafe { &*l };
        if !aggressive && std::ptr::eq(Arc::as_ptr(&l.sched), sched) {
            l.push_fresh(Item::Migratory(g));
            return;
        }
    }
    sched.injector.push(Item::Migratory(g));
    std::sync::atomic::fence(Ordering::SeqCst);
    if aggressive {
        sched.wake_all_idle();
    } else {
        sched.wakep();
    }
}

/// Adds one to a counter that only the calling M writes (others only read
/// it): a plain load and a release store, no locked instruction on the
/// spawn and finish paths.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Release);
}

/// Subtracts one from a counter that only the calling M writes.
pub(crate) fn unbump(counter: &AtomicU64) {
    counter.store(counter.load(Ordering::Relaxed) - 1, Ordering::Release);
}
