//! Scheduler events: `tracing` events and `GORO_TRACE` trace files.
//!
//! Every scheduler event of interest goes through one function here, which
//! does both jobs:
//! - it emits a `tracing` event (`trace` level for the hot paths: spawn,
//!   park, ready and steal; `debug` for the rare ones:
//!   P handoff and GOMAXPROCS changes). With no subscriber listening, a
//!   `tracing` macro costs one relaxed load of the global max level (a
//!   branch that is never taken). Goroutine runs are not `tracing` spans:
//!   even disabled, a span's guard cost ~10% on `peerbench yield`
//!   (docs/tracing.md); they are in the trace file only;
//! - when the runtime was started with `GORO_TRACE=path`, it appends a
//!   compact [`Record`] to the calling M's own buffer (`buffer.rs`; no
//!   lock, no cross-thread traffic), which `file.rs` turns into Chrome
//!   trace-event JSON. Without `GORO_TRACE` the M has no buffer and the
//!   check is one load of a field of the M's `MLocal`, already in cache.
//!
//! Events raised off the Ms (a goroutine readied by a timer thread, a
//! `blocking` helper or a plain thread; GOMAXPROCS changes) go to one
//! shared buffer under a mutex, shown as its own track.
//!
//! Run slices are recorded when a goroutine hands its M back, with the
//! start time taken before it was resumed: an M runs one goroutine at a
//! time, so the slices of one M never overlap.

mod buffer;
mod file;

use std::panic::Location;
use std::sync::atomic::Ordering;

pub(crate) use buffer::MTrace;
pub(crate) use file::TraceFile;

use crate::g::G;
use crate::sched::current;
use crate::sched::m::MLocal;
use crate::sched::park::WaitReason;
use crate::sched::Sched;

/// One scheduler event, as recorded for the trace file.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Event {
    /// Goroutine `goid` ran from the record's time for `dur_ns`, and then
    /// `end`ed its slice.
    Run { goid: u64, dur_ns: u64, end: RunEnd },
    /// Goroutine `parent` (0: the runtime) spawned `child` at `site`.
    Spawn {
        parent: u64,
        child: u64,
        site: &'static Location<'static>,
    },
    /// Goroutine `goid` parked for `reason`.
    Park { goid: u64, reason: WaitReason },
    /// Goroutine `goid` was readied by goroutine `by` (0: not a goroutine);
    /// `runnext`: it runs next on the waker's M, inheriting its slice.
    Wake { goid: u64, by: u64, runnext: bool },
    /// This M stole work from M `victim`; `goid` is the first stolen
    /// goroutine's id.
    Steal { victim: usize, goid: u64 },
    /// M `from` lost its P to a new M (`lock_os_thread`).
    Handoff { from: usize },
    /// The P count changed.
    Procs { old: usize, new: usize },
}

/// How a run slice ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RunEnd {
    Park,
    Yield,
    Exit,
}

impl RunEnd {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RunEnd::Park => "park",
            RunEnd::Yield => "yield",
            RunEnd::Exit => "exit",
        }
    }
}

/// A goroutine starts running on `l`: the slice's start time, if recording.
#[inline]
pub(crate) fn run_begin(l: &MLocal) -> u64 {
    l.trace.as_ref().map_or(0, MTrace::now)
}

/// The goroutine that started at `start` (from [`run_begin`]) gave `l`
/// back. Called on the M's own stack, between goroutines: the place where a
/// full buffer is written out.
#[inline]
pub(crate) fn run_end(l: &MLocal, goid: u64, start: u64, end: RunEnd) {
    if let Some(t) = &l.trace {
        t.end_run(goid, start, end);
    }
}

/// A goroutine was spawned from `l` (`parent` 0: not from a goroutine).
#[inline]
pub(crate) fn spawn(l: &MLocal, parent: u64, child: u64, site: &'static Location<'static>) {
    tracing::trace!(goid = child, parent, site = %site, "goro: spawn");
    if let Some(t) = &l.trace {
        t.push(Event::Spawn {
            parent,
            child,
            site,
        });
    }
}

/// A goroutine parks on `l` for `reason`.
#[inline]
pub(crate) fn park(l: &MLocal, goid: u64, reason: WaitReason) {
    tracing::trace!(goid, reason = reason.as_str(), "goro: park");
    if let Some(t) = &l.trace {
        t.push(Event::Park { goid, reason });
    }
}

/// Goroutine `g` is being readied, from any thread. Wakers need not run on
/// an M, so the check for a trace file is a global count of open ones
/// first (one relaxed load), not the M's buffer.
#[inline]
pub(crate) fn ready(g: &G) {
    tracing::trace!(
        goid = g.id(),
        by = crate::goroutine_id().unwrap_or(0),
        "goro: ready"
    );
    if file::recording() {
        record_ready(g);
    }
}

#[cold]
fn record_ready(g: &G) {
    let home = g.home.load(Ordering::Acquire);
    // SAFETY: a G's home worker, and its runtime's `Sched`, outlive the G
    // (the park contract keeps a readied G alive).
    let sched = unsafe { &*(*home).sched };
    let l = current::m();
    let by = l.map_or(0, MLocal::current_goid);
    let runnext = !g.migratory.get() && l.is_some_and(|l| std::ptr::eq(l.m_ptr(), home));
    let goid = g.id();
    record(sched, l, Event::Wake { goid, by, runnext });
}

/// `l` stole work from M `victim`, starting with goroutine `goid`.
#[inline]
pub(crate) fn steal(l: &MLocal, victim: usize, goid: u64) {
    tracing::trace!(m = l.m.id, victim, goid, "goro: steal");
    if let Some(t) = &l.trace {
        t.push(Event::Steal { victim, goid });
    }
}

/// M `from` handed its P to a new M.
pub(crate) fn handoff(sched: &Sched, from: usize) {
    tracing::debug!(m = from, "goro: P handed off to a new M");
    record(sched, None, Event::Handoff { from });
}

/// The P count changed from `old` to `new`.
pub(crate) fn procs(sched: &Sched, old: usize, new: usize) {
    tracing::debug!(old, new, "goro: GOMAXPROCS changed");
    record(sched, None, Event::Procs { old, new });
}

/// Records `ev` in `l`'s buffer when it belongs to `shared`, else in the
/// shared off-M buffer.
fn record(sched: &Sched, l: Option<&MLocal>, ev: Event) {
    let Some(file) = &sched.trace_file() else {
        return;
    };
    match l.and_then(|l| l.trace.as_ref()) {
        Some(t) if t.writes_to(file) => t.push(ev),
        _ => file.push_outside(ev),
    }
}
