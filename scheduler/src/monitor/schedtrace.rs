//! `GODEBUG=schedtrace=MS` (and `scheddetail=1`): sysmon prints Go's
//! `SCHED` line to stderr every MS milliseconds, with Go's fields, order and
//! spacing, so scripts written for Go's output parse goro's unchanged:
//!
//! ```text
//! SCHED 250ms: gomaxprocs=2 idleprocs=0 threads=4 spinningthreads=0 needspinning=1 idlethreads=1 runqueue=2 [ 0 0 ] schedticks=[ 16 15 ]
//! ```
//!
//! The time is counted from the first line (which says `0ms`), per runtime.
//! What each field means in goro is in `docs/observability.md`. With
//! `scheddetail=1` the line drops the per-P lists and adds Go's detail
//! fields, and one line per P, per M (newest first) and per started
//! goroutine follows, as in Go's `schedtrace(true)` (a named goroutine's
//! line ends with `name="fetcher"`).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::monitor::snapshot::{GStatus, Snapshot};
use crate::sched::Sched;

/// Sysmon's schedtrace state.
pub(crate) struct SchedTrace {
    every: Duration,
    detail: bool,
    start: Option<Instant>,
    next: Instant,
}

impl SchedTrace {
    /// The trace `GODEBUG` asks for, if any.
    pub(crate) fn from_godebug() -> Option<SchedTrace> {
        let settings = &crate::config::env().godebug;
        settings.schedtrace.map(|every| SchedTrace {
            every,
            detail: settings.scheddetail,
            start: None,
            next: Instant::now(),
        })
    }

    /// Prints a trace if one is due at `now`.
    pub(crate) fn tick(&mut self, sched: &Sched, now: Instant) {
        if now < self.next {
            return;
        }
        let start = *self.start.get_or_insert(now);
        self.next = now + self.every;
        let snapshot = Snapshot::take(sched, self.detail);
        let ms = now.duration_since(start).as_millis();
        crate::sys::report::write_stderr(&format(&snapshot, ms, self.detail));
    }

    /// How long until the next trace is due.
    pub(crate) fn until_next(&self, now: Instant) -> Duration {
        self.next.saturating_duration_since(now)
    }
}

/// Formats one trace as Go does (every line ends with a newline).
pub(crate) fn format(s: &Snapshot, ms: u128, detail: bool) -> String {
    let mut out = format!(
        "SCHED {ms}ms: gomaxprocs={} idleprocs={} threads={} spinningthreads={} needspinning={} idlethreads={} runqueue={}",
        s.gomaxprocs,
        s.idleprocs,
        s.threads,
        s.spinningthreads,
        u8::from(s.needspinning),
        s.idlethreads,
        s.runqueue,
    );
    if !detail {
        out.push_str(" [ ");
        for p in &s.ps {
            let _ = write!(out, "{} ", p.runqsize);
        }
        out.push_str("] schedticks=[ ");
        for p in &s.ps {
            let _ = write!(out, "{} ", p.schedtick);
        }
        out.push_str("]\n");
        return out;
    }
    // goro has no GC, no stop-the-world and no idle locked Ms with a
    // pending hand-off; sysmon, which prints this, is awake.
    out.push_str(" gcwaiting=false nmidlelocked=0 stopwait=0 sysmonwait=false\n");
    for (i, p) in s.ps.iter().enumerate() {
        // Go's P status: 0 idle, 1 running. An idle P has no M.
        let (status, m) = if p.idle { (0, -1) } else { (1, p.m as i64) };
        let _ = writeln!(
            out,
            "  P{i}: status={status} schedtick={} syscalltick={} m={m} runqsize={} gfreecnt={} timerslen={} idlewait={}ms spins={} watches={}",
            p.schedtick, p.syscalltick, p.runqsize, p.gfree, p.timers, p.idle_wait.as_millis(), p.spins, p.watches
        );
    }
    let or_nil = |v: Option<String>| v.unwrap_or_else(|| "nil".into());
    for m in &s.ms {
        let _ = writeln!(
            out,
            "  M{}: p={} curg={} mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning={} blocked={} lockedg={}",
            m.id,
            or_nil(m.p.map(|p| p.to_string())),
            or_nil(m.curg.map(|g| g.to_string())),
            m.spinning,
            m.blocked,
            or_nil(m.lockedg.map(|g| g.to_string())),
        );
    }
    for g in &s.gs {
        let reason = match g.status {
            GStatus::Waiting(r) => r.as_str(),
            _ => "",
        };
        let m = (g.status == GStatus::Running).then(|| g.m.to_string());
        let lockedm = g.locked.then(|| g.m.to_string());
        let _ = write!(
            out,
            "  G{}: status={}({reason}) m={} lockedm={}",
            g.id,
            g.status.code(),
            or_nil(m),
            or_nil(lockedm),
        );
        match &g.name {
            Some(name) => {
                let _ = writeln!(out, " name={:?}", &**name);
            }
            None => out.push('\n'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g::wait_reason::WaitReason;
    use crate::monitor::snapshot::{GInfo, MInfo, PInfo};

    fn p(runqsize: usize, schedtick: u64, idle: bool, m: usize) -> PInfo {
        PInfo {
            idle,
            schedtick,
            syscalltick: 0,
            m,
            runqsize,
            gfree: 0,
            timers: 1,
            idle_wait: std::time::Duration::from_millis(3),
            spins: 4,
            watches: 5,
        }
    }

    fn snapshot() -> Snapshot {
        Snapshot {
            gomaxprocs: 2,
            idleprocs: 0,
            threads: 4,
            spinningthreads: 0,
            needspinning: true,
            idlethreads: 1,
            runqueue: 2,
            ps: vec![p(0, 16, false, 3), p(0, 15, true, 0)],
            ms: vec![
                MInfo {
                    id: 3,
                    p: Some(0),
                    curg: Some(25),
                    spinning: false,
                    blocked: false,
                    lockedg: None,
                },
                MInfo {
                    id: 1,
                    p: None,
                    curg: None,
                    spinning: false,
                    blocked: true,
                    lockedg: Some(7),
                },
            ],
            gs: vec![
                GInfo {
                    m: 1,
                    locked: true,
                    ..GInfo::fake(7, GStatus::Waiting(WaitReason::ChanReceive))
                },
                GInfo {
                    m: 3,
                    name: Some("fetcher".into()),
                    ..GInfo::fake(25, GStatus::Running)
                },
            ],
        }
    }

    #[test]
    fn the_line_is_gos() {
        // Captured from Go 1.27.3's own output.
        assert_eq!(
            format(&snapshot(), 250, false),
            "SCHED 250ms: gomaxprocs=2 idleprocs=0 threads=4 spinningthreads=0 needspinning=1 \
             idlethreads=1 runqueue=2 [ 0 0 ] schedticks=[ 16 15 ]\n"
        );
    }

    #[test]
    fn the_detail_is_gos() {
        let text = format(&snapshot(), 602, true);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "SCHED 602ms: gomaxprocs=2 idleprocs=0 threads=4 spinningthreads=0 needspinning=1 \
                 idlethreads=1 runqueue=2 gcwaiting=false nmidlelocked=0 stopwait=0 sysmonwait=false",
                "  P0: status=1 schedtick=16 syscalltick=0 m=3 runqsize=0 gfreecnt=0 timerslen=1 idlewait=3ms spins=4 watches=5",
                "  P1: status=0 schedtick=15 syscalltick=0 m=-1 runqsize=0 gfreecnt=0 timerslen=1 idlewait=3ms spins=4 watches=5",
                "  M3: p=0 curg=25 mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=false blocked=false lockedg=nil",
                "  M1: p=nil curg=nil mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=false blocked=true lockedg=7",
                "  G7: status=4(chan receive) m=nil lockedm=1",
                "  G25: status=2() m=3 lockedm=nil name=\"fetcher\"",
            ]
        );
    }
}
