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
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_deque::{Injector, Steal, Stealer};

use crate::g::cell_alloc::BlockCache;
use crate::g::task::Task;
use crate::g::{GRef, G};
use crate::sched::lookahead::HomeLookahead;
use crate::sched::sleep::Sleeper;
use crate::sched::Sched;
use crate::time::Timers;
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
pub(crate) const GROUP_SIZE: usize = 4;

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
///
/// Fields are private to the scheduler core; monitors read them through
/// the accessors below. Each says who writes it, who reads it, and with
/// which ordering. "Its M" is the thread running this M's scheduler loop.
pub(crate) struct M {
    /// The M's id (as dumps and `scheddetail` show it). Immutable.
    pub(super) id: usize,
    /// Started goroutines homed here, readied by other threads. Pushed by
    /// any thread (`enqueue.rs`), popped by its M only.
    pub(super) home: Injector<GRef>,
    /// The stealing end of its P's fresh queue (the owner end is in
    /// `MLocal`). Thieves steal from it; observers read its length.
    pub(super) stealer: Stealer<Item>,
    /// Fresh tasks handed here by a busier P (`balance.rs`); stealable like
    /// the fresh queue. Pushed by any M, taken by its M or thieves.
    pub(super) inbox: Injector<Item>,
    /// Its sleep word and the flags beside it (`sleep.rs`).
    pub(super) sleeper: Sleeper,
    /// False once this M lost its P (retiring). Cleared (SeqCst) by P-set
    /// changes (`procs.rs`), read by its M and by wakers.
    pub(super) has_p: AtomicBool,
    /// The running goroutine overstayed its slice: set (Relaxed) by sysmon
    /// and at shutdown, cleared by its M at each run; read by the running
    /// goroutine at its runtime calls.
    pub(super) preempt: AtomicBool,
    /// Bumped (with [`bump`], Release) by its M at each schedule that starts
    /// a new time slice; read by sysmon and observers.
    pub(super) schedtick: AtomicU64,
    /// Id of the goroutine running now, 0 when none. Written (Relaxed) by
    /// its M around each run; read by sysmon, observers, deadlock checks.
    pub(super) running: AtomicU64,
    /// Spawned/exited goroutine counts (for `num_goroutine`); written by
    /// its M only, with [`bump`] (Release); read by anyone.
    pub(super) spawned: AtomicU64,
    /// See `spawned`.
    pub(super) exited: AtomicU64,
    /// Started goroutines homed here (the live list's length), written by
    /// its M with [`bump`]/[`unbump`]; read by balance samplers.
    pub(super) live: AtomicU64,
    /// Idle Gs cached by its P (the length of `MLocal::free`), written
    /// (Relaxed) by its M for `scheddetail`.
    pub(super) gfree: AtomicUsize,
    /// Set (Relaxed, only when clear) by another M that readies one of this
    /// M's goroutines from a running goroutine (`enqueue::make_runnable`;
    /// not the poller, timers, sysmon or threads outside the runtime);
    /// taken by its M when it idles (`MLocal::partners_likely`). A hint:
    /// it decides only whether the M watches its home queue.
    pub(super) partner_readied: AtomicBool,
    /// Idle periods in which its M spun in full (`MLocal::spin_rounds`) and
    /// watched its home queue (`MLocal::await_home_work`): the CPU that
    /// idle Ms spend to save wake-ups. Written (Relaxed) by its M only;
    /// read by observers.
    pub(super) full_spins: AtomicU64,
    pub(super) home_watches: AtomicU64,
    /// Whether this M is a spinning M (counted in `Idle::nspinning`);
    /// written (Relaxed) by its M only, read by observers.
    pub(super) spinning: AtomicBool,
    /// `blocking` calls made by goroutines on this P (Go's `syscalltick`):
    /// incremented by its goroutines, read by observers.
    pub(super) syscalltick: AtomicU64,
    /// True until its M's scheduler loop has returned (Release): from then
    /// on it runs no goroutine again. Shutdown waits (Acquire) for every M
    /// to clear it before it unwinds any stack (`shutdown.rs`).
    pub(super) scheduling: AtomicBool,
    /// False once its M's thread has finished its shutdown share (or
    /// retired): it no longer counts as a thread. Written by its M.
    pub(super) thread_alive: AtomicBool,
    /// In the idle list: written (SeqCst) under the idle list's lock,
    /// read by its M outside it (`Idle::remove`'s fast path).
    pub(super) idle: AtomicBool,
    /// Trim stacks when next idle: set (Relaxed) by sysmon about once a
    /// second, taken by its M.
    pub(super) trim_request: AtomicBool,
    /// The P this M holds (meaningful while `has_p`). Written before the M
    /// starts (Relaxed; the thread spawn publishes it).
    pub(super) p: AtomicUsize,
    /// Its P's timers (`time/`): armed by any thread, run by its M, by
    /// spinning Ms and by sysmon.
    pub(super) timers: Timers,
    /// How long goroutines queued for it waited while some P was idle, in
    /// nanoseconds, as sysmon samples it each round: the price of a
    /// placement that left parallelism unused (`monitor/sysmon.rs`).
    /// Written (Relaxed) by sysmon only; read by observers.
    pub(super) idle_wait_ns: AtomicU64,
    /// Its goroutine is in a runtime call that holds the thread for long
    /// on purpose (a goroutine dump): set and cleared by its M around the
    /// call, read by the held-thread report, which leaves it alone.
    pub(super) in_long_call: AtomicBool,
    /// Its OS thread's pthread id: written (Relaxed) by the thread itself
    /// before it runs any goroutine (`MLocal::new`), read by sysmon.
    pub(super) os_thread: AtomicU64,
    /// The runtime this M belongs to (it outlives every use of its Ms).
    /// Immutable.
    pub(super) sched: *const Sched,
}

// SAFETY: all fields are Send and Sync except the `sched` pointer, which
// is only dereferenced while the runtime is running (Sched outlives that).
unsafe impl Send for M {}
// SAFETY: all fields are Sync except the `sched` pointer, which is only
// read (never written through) while the runtime is running.
unsafe impl Sync for M {}

impl M {
    pub(crate) fn new(id: usize, stealer: Stealer<Item>, sched: *const Sched) -> M {
        M {
            id,
            sched,
            home: Injector::new(),
            stealer,
            inbox: Injector::new(),
            sleeper: Sleeper::new(),
            has_p: AtomicBool::new(true),
            preempt: AtomicBool::new(false),
            schedtick: AtomicU64::new(0),
            running: AtomicU64::new(0),
            spawned: AtomicU64::new(0),
            exited: AtomicU64::new(0),
            live: AtomicU64::new(0),
            gfree: AtomicUsize::new(0),
            spinning: AtomicBool::new(false),
            partner_readied: AtomicBool::new(false),
            full_spins: AtomicU64::new(0),
            home_watches: AtomicU64::new(0),
            syscalltick: AtomicU64::new(0),
            scheduling: AtomicBool::new(true),
            thread_alive: AtomicBool::new(true),
            idle: AtomicBool::new(false),
            trim_request: AtomicBool::new(false),
            p: AtomicUsize::new(0),
            os_thread: AtomicU64::new(0),
            in_long_call: AtomicBool::new(false),
            idle_wait_ns: AtomicU64::new(0),
            timers: Timers::new(),
        }
    }
}

/// What monitors, drivers and the lifecycle read of an M, and the requests
/// they may make of it; they cannot write its state otherwise. Loads are
/// SeqCst: observers are rare and deadlock detection compares them.
impl M {
    /// The M's id.
    pub(crate) fn id(&self) -> usize {
        self.id
    }

    /// The P it holds, if it holds one.
    pub(crate) fn p(&self) -> Option<usize> {
        self.has_p().then(|| self.p.load(Ordering::SeqCst))
    }

    /// Whether it still holds a P.
    pub(crate) fn has_p(&self) -> bool {
        self.has_p.load(Ordering::SeqCst)
    }

    /// The id of the goroutine it runs now, 0 when none.
    pub(crate) fn running_goid(&self) -> u64 {
        self.running.load(Ordering::SeqCst)
    }

    /// Its schedule count, bumped at each new time slice.
    pub(crate) fn schedtick(&self) -> u64 {
        self.schedtick.load(Ordering::SeqCst)
    }

    /// `blocking` calls made on its P.
    pub(crate) fn syscalltick(&self) -> u64 {
        self.syscalltick.load(Ordering::SeqCst)
    }

    /// Goroutines spawned from it, and finished on it.
    pub(crate) fn spawned_exited(&self) -> (u64, u64) {
        (
            self.spawned.load(Ordering::SeqCst),
            self.exited.load(Ordering::SeqCst),
        )
    }

    /// Idle Gs its P caches.
    pub(crate) fn gfree(&self) -> usize {
        self.gfree.load(Ordering::SeqCst)
    }

    /// Whether it is in the idle list.
    pub(crate) fn is_idle(&self) -> bool {
        self.idle.load(Ordering::SeqCst)
    }

    /// Whether it is a spinning M.
    pub(crate) fn is_spinning(&self) -> bool {
        self.spinning.load(Ordering::SeqCst)
    }

    /// Whether it sleeps (announced asleep, not woken).
    pub(crate) fn is_sleeping(&self) -> bool {
        self.sleeper.is_sleeping()
    }

    /// Whether its thread still counts (it has not finished its shutdown
    /// share or retired).
    pub(crate) fn is_thread_alive(&self) -> bool {
        self.thread_alive.load(Ordering::SeqCst)
    }

    /// Its thread has finished (the lifecycle's M0, at the end of a run).
    pub(crate) fn thread_exited(&self) {
        self.thread_alive.store(false, Ordering::Relaxed);
    }

    /// Go's run queue length: unstarted tasks of its P plus started
    /// goroutines readied for it (not counting `runnext`, nor the few its M
    /// took out to prefetch, `lookahead.rs`).
    pub(crate) fn runq_len(&self) -> usize {
        self.stealer.len() + self.home.len()
    }

    /// Goroutines queued for it that have not started: its P's fresh queue
    /// and inbox.
    pub(crate) fn unstarted(&self) -> usize {
        self.stealer.len() + self.inbox.len()
    }

    /// Whether any of its queues holds work.
    pub(crate) fn has_queued_work(&self) -> bool {
        !self.home.is_empty() || !self.stealer.is_empty() || !self.inbox.is_empty()
    }

    /// Whether tasks handed to it wait while it runs a goroutine (then any
    /// M may take them, but an idle one must be woken to: sysmon does).
    pub(crate) fn handed_work_waits(&self) -> bool {
        self.running.load(Ordering::Relaxed) != 0 && !self.inbox.is_empty()
    }

    /// Its P's timers (the time driver arms them; sysmon runs overdue
    /// ones).
    pub(crate) fn timers(&self) -> &Timers {
        &self.timers
    }

    /// sysmon: the running goroutine overstayed its slice.
    pub(crate) fn request_preempt(&self) {
        self.preempt.store(true, Ordering::Relaxed);
    }

    /// sysmon: trim stacks when next idle.
    pub(crate) fn request_trim(&self) {
        self.trim_request.store(true, Ordering::Relaxed);
    }

    /// Goroutines that can run only on its thread and wait for it: started
    /// goroutines readied for it (its home queue). Its `runnext` is not
    /// counted (its M's own).
    pub(crate) fn waiting_for_thread(&self) -> usize {
        self.home.len()
    }

    /// How long goroutines queued for it waited while a P was idle.
    pub(crate) fn idle_wait(&self) -> Duration {
        Duration::from_nanos(self.idle_wait_ns.load(Ordering::Relaxed))
    }

    /// Idle periods in which its M spun in full, and watched its home queue.
    pub(crate) fn idle_effort(&self) -> (u64, u64) {
        (
            self.full_spins.load(Ordering::Relaxed),
            self.home_watches.load(Ordering::Relaxed),
        )
    }

    /// sysmon: goroutines queued for it waited `d` while a P was idle.
    pub(crate) fn note_idle_wait(&self, d: Duration) {
        let ns = d.as_nanos().min(u64::MAX as u128) as u64;
        self.idle_wait_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// Whether its goroutine is in a long runtime call (a dump).
    pub(crate) fn in_long_runtime_call(&self) -> bool {
        self.in_long_call.load(Ordering::Relaxed)
    }

    /// Marks the calling goroutine's long runtime call until the guard
    /// drops (the held-thread report then leaves this M alone).
    pub(crate) fn long_runtime_call(&self) -> LongCall<'_> {
        self.in_long_call.store(true, Ordering::Relaxed);
        LongCall(self)
    }

    /// Its OS thread's pthread id (`monitor/thread_stack.rs`).
    pub(crate) fn os_thread(&self) -> u64 {
        self.os_thread.load(Ordering::Relaxed)
    }

    /// A goroutine on it makes a `blocking` call.
    pub(crate) fn note_syscall(&self) {
        self.syscalltick.fetch_add(1, Ordering::Relaxed);
    }
}

/// A long runtime call in progress on an M (`M::long_runtime_call`).
pub(crate) struct LongCall<'a>(&'a M);

impl Drop for LongCall<'_> {
    fn drop(&mut self) {
        self.0.in_long_call.store(false, Ordering::Relaxed);
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
    /// Goroutines of `live` parked where no goroutine on another M can
    /// ready them (`WaitReason::is_quiet`: I/O, sleeps). Counted by
    /// `park` around the switch, on this M.
    pub quiet_parked: Cell<usize>,
    /// Idle periods left during which this M watches its home queue
    /// (`MLocal::partners_likely`).
    pub partner_credit: Cell<u32>,
    /// Spin phases left that may be full length (`MLocal::spin_rounds`).
    pub spin_credit: Cell<u32>,
    pub tick: Cell<u64>,
    /// Where the next trimming pass resumes in `live`.
    pub trim_cursor: Cell<usize>,
    /// The last goroutine yielded: take fresh work before the home queue.
    pub prefer_fresh: Cell<bool>,
    /// Spawns by the running goroutine since it was resumed, and whether
    /// they made it yield to drain the fresh queue (`spawn::SPAWN_BACKLOG`).
    pub spawn_streak: Cell<u32>,
    pub drain_fresh: Cell<bool>,
    /// `Placement::Spread` spawns made from this M (`enqueue::spread`).
    pub spread_turn: Cell<usize>,
    /// `runnext` hand-offs in a row (see `local_work`).
    pub runnext_streak: Cell<u32>,
    pub rng: Cell<u64>,
    /// Goroutine ids handed out in batches (Go's `goidcache`).
    pub goid_next: Cell<u64>,
    pub goid_end: Cell<u64>,
    /// Free task-cell memory (`g/cell_alloc.rs`).
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
        // On the M's own thread (mstart, or M0 in `run`).
        m.os_thread
            .store(crate::sys::thread::pthread_id(), Ordering::Relaxed);
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
            quiet_parked: Cell::new(0),
            partner_credit: Cell::new(0),
            spin_credit: Cell::new(0),
            tick: Cell::new(0),
            trim_cursor: Cell::new(0),
            prefer_fresh: Cell::new(false),
            spawn_streak: Cell::new(0),
            drain_fresh: Cell::new(false),
            runnext_streak: Cell::new(0),
            spread_turn: Cell::new(0),
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
        crate::sched::enqueue::drain_inbox(&self.sched, &self.m);
    }

    pub(crate) fn m_ptr(&self) -> *const M {
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

    /// The goroutine running on this M now, if any.
    #[inline]
    pub(crate) fn running(&self) -> Option<&G> {
        // SAFETY: `current` names a G only while that goroutine runs on
        // this M (`schedule::run` sets and clears it around the switch),
        // and a G stays alive until its goroutine has finished, which it
        // cannot do while its own code (the caller's) is running.
        self.current.get().map(|g| unsafe { g.get() })
    }

    /// The id of the goroutine running on this M (0 between goroutines).
    pub(crate) fn current_goid(&self) -> u64 {
        self.running().map_or(0, G::id)
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

    /// Steals half of another P's fresh queue into ours; returns the first
    /// stolen item. Unless `patient`, a P whose queue holds fewer than
    /// `GROUP_SIZE` tasks is skipped: those are most likely the goroutines
    /// its running spawner is about to wait for (Go keeps the last in
    /// `runnext`, which thieves leave alone for a few microseconds), and
    /// stealing one would split a group that talks across two Ms for its
    /// whole life (docs/design.md).
    pub(crate) fn steal_from_others(&self, patient: bool) -> Option<Item> {
        let workers = self.sched.active_ms();
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
            // Tasks handed to a P (`Placement::Spread`, `balance.rs`) are
            // its own while its M is free to start them (asleep, woken, or
            // between goroutines): taking them would undo the placement.
            // Once it runs a goroutine (perhaps a long one), they are fair
            // game, so none waits behind it.
            let handed = || {
                self.may_take_inbox(w)
                    .then(|| retry_steal(|| w.inbox.steal_batch_and_pop(&self.fresh)))
                    .flatten()
            };
            let item = if patient || w.stealer.len() >= GROUP_SIZE {
                fresh().or_else(handed)
            } else {
                handed()
            };
            if let Some(item) = item {
                crate::trace::steal(self.trace.as_ref(), self.m.id, w.id, item.goid());
                return Some(item);
            }
        }
        None
    }

    /// Runs the due timers of other Ps (their Ms may be busy in a long
    /// goroutine); a spinning M does this as Go's `stealWork` does.
    pub(crate) fn run_others_timers(&self) {
        let workers = self.sched.active_ms();
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
