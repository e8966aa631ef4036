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
use std::sync::Arc;

pub(crate) use buffer::MTrace;
pub(crate) use file::TraceFile;

use crate::g::wait_reason::WaitReason;

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

/// A goroutine starts running on an M whose buffer is `t`: the slice's
/// start time, if recording.
#[inline]
pub(crate) fn run_begin(t: Option<&MTrace>) -> u64 {
    t.map_or(0, MTrace::now)
}

/// The goroutine that started at `start` (from [`run_begin`]) gave its M
/// back. Called on the M's own stack, between goroutines: the place where a
/// full buffer is written out.
#[inline]
pub(crate) fn run_end(t: Option<&MTrace>, goid: u64, start: u64, end: RunEnd) {
    if let Some(t) = t {
        t.end_run(goid, start, end);
    }
}

/// Goroutine `parent` (0: not a goroutine) spawned `child` at `site`, on an
/// M whose buffer is `t`.
#[inline]
pub(crate) fn spawn(t: Option<&MTrace>, parent: u64, child: u64, site: &'static Location<'static>) {
    tracing::trace!(goid = child, parent, site = %site, "goro: spawn");
    if let Some(t) = t {
        t.push(Event::Spawn {
            parent,
            child,
            site,
        });
    }
}

/// Goroutine `goid` parks for `reason`, on an M whose buffer is `t`.
#[inline]
pub(crate) fn park(t: Option<&MTrace>, goid: u64, reason: WaitReason) {
    tracing::trace!(goid, reason = reason.as_str(), "goro: park");
    if let Some(t) = t {
        t.push(Event::Park { goid, reason });
    }
}

/// Goroutine `goid` is being readied by goroutine `by()` (0: not a
/// goroutine), from any thread; returns whether a trace file is being
/// written, in which case the caller [`record`]s an [`Event::Wake`].
/// Wakers need not run on an M, so the check is a global count of open
/// files (one relaxed load), not an M's buffer; `by` is only called when
/// a `tracing` subscriber listens.
#[inline]
pub(crate) fn ready(goid: u64, by: impl FnOnce() -> u64) -> bool {
    tracing::trace!(goid, by = by(), "goro: ready");
    file::recording()
}

/// M `m` stole work from M `victim`, starting with goroutine `goid`.
#[inline]
pub(crate) fn steal(t: Option<&MTrace>, m: usize, victim: usize, goid: u64) {
    tracing::trace!(m, victim, goid, "goro: steal");
    if let Some(t) = t {
        t.push(Event::Steal { victim, goid });
    }
}

/// M `from` handed its P to a new M.
pub(crate) fn handoff(file: Option<&Arc<TraceFile>>, from: usize) {
    tracing::debug!(m = from, "goro: P handed off to a new M");
    record(file, None, Event::Handoff { from });
}

/// The P count changed from `old` to `new`.
pub(crate) fn procs(file: Option<&Arc<TraceFile>>, old: usize, new: usize) {
    tracing::debug!(old, new, "goro: GOMAXPROCS changed");
    record(file, None, Event::Procs { old, new });
}

/// Records `ev` for the run writing `file` (if any): in `local` (the
/// calling M's buffer) when that belongs to the same file, else in the
/// file's off-M buffer.
pub(crate) fn record(file: Option<&Arc<TraceFile>>, local: Option<&MTrace>, ev: Event) {
    let Some(file) = file else {
        return;
    };
    match local {
        Some(t) if t.writes_to(file) => t.push(ev),
        _ => file.push_outside(ev),
    }
}
