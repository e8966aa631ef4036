//! Snapshots of the scheduler for observers: `schedtrace`, goroutine dumps,
//! deadlock detection and the leak report all read the runtime through
//! here, from threads that are not the Ms (sysmon, the SIGQUIT thread) or
//! from a goroutine.
//!
//! Counters are read with relaxed loads and may be slightly stale; each is
//! written by its owner only (a P's `schedtick`, an M's `spinning`). The
//! goroutines are read from the runtime's registry of every G it allocated
//! (`Sched::with_all_gs`, Go's `allgs`): no G is freed while the runtime
//! runs and the fields read are atomic (see `g/goroutine.rs`), so reading costs the
//! goroutines' hot paths nothing. Goroutines that have not started yet
//! (tasks queued in a fresh queue) have no G and are not listed;
//! `num_goroutine` counts them.

use std::panic::Location;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::g::wait_reason::WaitReason;
use crate::g::{GRef, DEAD, NOTIFIED, PARKED, RUNNABLE, RUNNING, SCANNING, SCAN_READIED};
use crate::sched::m::M;
use crate::sched::Sched;

/// What a goroutine is doing, as Go's status names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GStatus {
    Runnable,
    Running,
    /// Parked; `Blocking` means a `blocking` call is in flight (Go's syscall).
    Waiting(WaitReason),
}

impl GStatus {
    /// Go's numeric G status (`_Grunnable` 1, `_Grunning` 2, `_Gsyscall` 3,
    /// `_Gwaiting` 4).
    pub(crate) fn code(self) -> u8 {
        match self {
            GStatus::Runnable => 1,
            GStatus::Running => 2,
            GStatus::Waiting(WaitReason::Blocking) => 3,
            GStatus::Waiting(_) => 4,
        }
    }
}

/// One started goroutine.
#[derive(Clone, Debug)]
pub(crate) struct GInfo {
    /// Its G in the runtime's registry (for `stackwalk`).
    pub g: GRef,
    pub id: u64,
    pub parent: u64,
    pub site: &'static Location<'static>,
    /// Its `GoBuilder::name`.
    pub name: Option<Arc<str>>,
    /// Its synctest bubble's id (0: none).
    pub bubble: u64,
    pub status: GStatus,
    /// The M it runs on, or (when `locked`) the M it is locked to.
    pub m: usize,
    pub locked: bool,
    /// When it parked, in the sysmon clock's nanoseconds (0: unknown).
    pub wait_since: u64,
}

#[cfg(test)]
impl GInfo {
    /// A goroutine for formatting tests, spawned by goroutine 1 at the
    /// caller (its G is never dereferenced).
    #[track_caller]
    pub(crate) fn fake(id: u64, status: GStatus) -> GInfo {
        GInfo {
            g: GRef(std::ptr::NonNull::dangling()),
            id,
            parent: 1,
            site: Location::caller(),
            name: None,
            bubble: 0,
            status,
            m: 0,
            locked: false,
            wait_since: 0,
        }
    }
}

/// One P, as `scheddetail` shows it.
pub(crate) struct PInfo {
    pub idle: bool,
    pub schedtick: u64,
    pub syscalltick: u64,
    pub m: usize,
    pub runqsize: usize,
    pub gfree: usize,
    pub timers: usize,
    /// How long goroutines queued for its M waited while a P was idle.
    pub idle_wait: std::time::Duration,
    /// Idle periods its M spun in full, and watched its home queue.
    pub spins: u64,
    pub watches: u64,
}

/// One M (a worker thread, or sysmon), as `scheddetail` shows it.
pub(crate) struct MInfo {
    pub id: usize,
    pub p: Option<usize>,
    pub curg: Option<u64>,
    pub spinning: bool,
    pub blocked: bool,
    pub lockedg: Option<u64>,
}

/// The scheduler at one moment (fields in `schedtrace` order).
pub(crate) struct Snapshot {
    pub gomaxprocs: usize,
    pub idleprocs: usize,
    pub threads: usize,
    pub spinningthreads: usize,
    pub needspinning: bool,
    pub idlethreads: usize,
    pub runqueue: usize,
    pub ps: Vec<PInfo>,
    /// Newest first, as Go's `allm` list.
    pub ms: Vec<MInfo>,
    pub gs: Vec<GInfo>,
}

impl Snapshot {
    /// Reads the scheduler; with `detail`, also every M and goroutine.
    pub(crate) fn take(sched: &Sched, detail: bool) -> Snapshot {
        let active = sched.active_ms();
        let ps: Vec<PInfo> = active.iter().map(|w| p_info(w, detail)).collect();
        drop(active);
        let all = sched.all_ms();
        let alive: Vec<&M> = all
            .iter()
            .map(|w| &**w)
            .filter(|w| w.is_thread_alive())
            .collect();
        let (helpers, idle_helpers) = sched.blocking().thread_counts();
        let gs = if detail {
            goroutines(sched)
        } else {
            Vec::new()
        };
        let ms = if detail {
            m_infos(sched, &alive, &gs)
        } else {
            Vec::new()
        };
        Snapshot {
            // The P list itself, not `Sched::gomaxprocs`: a resize between
            // two separate reads would tear the line (gomaxprocs=3 above a
            // two-entry list).
            gomaxprocs: ps.len(),
            idleprocs: ps.iter().filter(|p| p.idle).count(),
            // The Ms, sysmon and the `blocking` helpers (Go's `mcount`).
            threads: alive.len() + 1 + helpers,
            spinningthreads: sched.spinning_ms(),
            needspinning: sched.needs_spinning(),
            idlethreads: alive.iter().filter(|w| w.is_idle()).count() + idle_helpers,
            runqueue: sched.global_queue_len(),
            ps,
            ms,
            gs,
        }
    }
}

fn p_info(w: &M, detail: bool) -> PInfo {
    let (spins, watches) = w.idle_effort();
    PInfo {
        idle: w.is_idle(),
        schedtick: w.schedtick(),
        syscalltick: w.syscalltick(),
        m: w.id(),
        runqsize: w.runq_len(),
        gfree: w.gfree(),
        timers: if detail { w.timers().len() } else { 0 },
        idle_wait: w.idle_wait(),
        spins,
        watches,
    }
}

fn m_infos(sched: &Sched, alive: &[&M], gs: &[GInfo]) -> Vec<MInfo> {
    let mut ms: Vec<MInfo> = alive
        .iter()
        .map(|w| {
            let running = w.running_goid();
            MInfo {
                id: w.id(),
                p: w.p().filter(|_| !w.is_idle()),
                curg: (running != 0).then_some(running),
                spinning: w.is_spinning(),
                blocked: w.is_sleeping(),
                lockedg: gs.iter().find(|g| g.locked && g.m == w.id()).map(|g| g.id),
            }
        })
        .collect();
    ms.push(MInfo {
        id: sched.sysmon().m_id(),
        p: None,
        curg: None,
        spinning: false,
        blocked: false,
        lockedg: None,
    });
    ms.sort_by_key(|m| std::cmp::Reverse(m.id));
    ms
}

/// Every started goroutine of the runtime, by id.
pub(crate) fn goroutines(sched: &Sched) -> Vec<GInfo> {
    let mut gs: Vec<GInfo> = sched.with_all_gs(|all| {
        all.iter()
            // SAFETY: registered Gs stay allocated while `with_all_gs` runs.
            .filter_map(|&g| unsafe { g_info(g) })
            .collect()
    });
    gs.sort_by_key(|g| g.id);
    gs
}

/// Goroutines spawned but not started: the tasks in the fresh queues, the
/// inboxes and the global queue (they have no G yet, so no stack or state
/// to show).
pub(crate) fn unstarted(sched: &Sched) -> usize {
    sched.global_queue_len() + sched.all_ms().iter().map(|w| w.unstarted()).sum::<usize>()
}

/// Reads one goroutine; `None` if the G holds none now (or was recycled
/// while being read).
///
/// # Safety
/// The G is allocated (registered in `Sched::all_gs`, see `g/goroutine.rs`).
unsafe fn g_info(g: GRef) -> Option<GInfo> {
    // SAFETY: guaranteed by the caller.
    let gr = unsafe { g.get() };
    let state = gr.state.get();
    let id = gr.id();
    let status = match state {
        DEAD => return None,
        RUNNING | NOTIFIED => GStatus::Running,
        // Held by a goroutine dump (`scan.rs`): still parked.
        PARKED | SCANNING => GStatus::Waiting(gr.wait_reason()),
        RUNNABLE | SCAN_READIED => GStatus::Runnable,
        s => unreachable!("goro: goroutine in unknown state {s}"),
    };
    // SAFETY: a started G's home is a worker of its runtime, and
    // `Sched::all` keeps every worker alive as long as the runtime.
    let home = unsafe { &*gr.home.load(Ordering::Acquire) };
    let info = GInfo {
        g,
        id,
        parent: gr.parent(),
        site: gr.spawn_site(),
        name: gr.name(),
        bubble: gr.bubble_id(),
        status,
        m: home.id(),
        locked: gr.locked.load(Ordering::Relaxed) != 0,
        wait_since: gr.wait_since.load(Ordering::Relaxed),
    };
    // Ids are never reused: the same id and a live state mean it is still
    // the same goroutine.
    let same = gr.id() == id && gr.state.get() != DEAD;
    same.then_some(info)
}
