//! Goroutine dumps in Go's format (`goro::dump_goroutines`, SIGQUIT, the
//! deadlock report):
//!
//! ```text
//! goroutine 7 [chan receive, 2 minutes]:
//! goro_runtime::chan::Receiver<T>::recv(...)
//!     /src/app/runtime/src/chan/mod.rs:123
//! app::worker(...)
//!     /src/app/src/main.rs:40
//! created by goro::go in goroutine 1
//!     src/main.rs:12
//! ```
//!
//! (location lines start with a tab, as in Go).
//!
//! The header is Go's: the wait reason of a parked goroutine (`runnable`,
//! `running` otherwise), `, N minutes` once it has waited a minute or more,
//! `, locked to thread` after `lock_os_thread`. Then its stack: the
//! goroutine asking for the dump comes first, with its own frames below the
//! dump call; a parked goroutine shows the frames of its own stack where it
//! parked, walked from the registers `park` recorded (`stackwalk/`: it is
//! held still meanwhile, and the scheduler's park frames are left out); a
//! goroutine running on another M shows Go's `goroutine running on other
//! thread; stack unavailable`, and a runnable one `goroutine runnable;
//! stack unavailable` (neither holds still: Go would signal the thread).
//! Both stacks are printed by `frames.rs`. Last, where it was spawned, by
//! whom.
//!
//! Goroutines spawned but not started yet are tasks in run queues, with no
//! G (Go creates the G at `go`): the dump ends with a line counting them
//! instead of listing them.

use std::fmt::Write as _;
use std::time::Duration;

use crate::monitor::dump::frames::{
    self, below_park, callers_of_dump, write_go_frames, Symbolizer,
};
use crate::monitor::dump::stackwalk::Walker;
use crate::monitor::snapshot::{goroutines, unstarted, GInfo, GStatus};
use crate::sched::Sched;

/// The dump of every started goroutine of `shared`; `current` is the
/// calling goroutine's id, whose stack is captured here.
pub(crate) fn dump(sched: &Sched, current: Option<u64>) -> String {
    let mut gs = goroutines(sched);
    if let Some(i) = current.and_then(|id| gs.iter().position(|g| g.id == id)) {
        let me = gs.remove(i);
        gs.insert(0, me);
    }
    let now = sched.sysmon().clock_nanos();
    let main = sched.main_goid();
    let mut walker = None;
    let mut symbols = Symbolizer::default();
    let mut out = String::new();
    for g in &gs {
        write_header(&mut out, g, now);
        if Some(g.id) == current {
            write_go_frames(
                &mut out,
                callers_of_dump(&symbols.frames(&frames::current_thread())),
                g.site,
            );
        } else {
            match g.status {
                GStatus::Running => {
                    out.push_str("goroutine running on other thread; stack unavailable\n")
                }
                GStatus::Runnable => out.push_str("goroutine runnable; stack unavailable\n"),
                GStatus::Waiting(_) => {
                    let walker = walker.get_or_insert_with(Walker::new);
                    match walker.walk(sched, g) {
                        Some(addrs) => {
                            write_go_frames(&mut out, below_park(&symbols.frames(&addrs)), g.site)
                        }
                        None => out.push_str("goroutine parked; stack unavailable\n"),
                    }
                }
            }
        }
        write_created_by(&mut out, g, main);
        out.push('\n');
    }
    let queued = unstarted(sched);
    if queued > 0 {
        let _ = writeln!(
            out,
            "goro: {queued} more goroutine(s) spawned and queued, not started yet \
             (a goroutine is listed once it starts)"
        );
    }
    out
}

/// `goroutine 7 [chan receive, 2 minutes]:`
fn write_header(out: &mut String, g: &GInfo, now: u64) {
    let _ = write!(out, "goroutine {} [", g.id);
    match g.status {
        GStatus::Runnable => out.push_str("runnable"),
        GStatus::Running => out.push_str("running"),
        GStatus::Waiting(reason) => {
            out.push_str(reason.as_str());
            let waited = Duration::from_nanos(now.saturating_sub(g.wait_since));
            let minutes = waited.as_secs() / 60;
            if g.wait_since != 0 && minutes >= 1 {
                let _ = write!(out, ", {minutes} minutes");
            }
        }
    }
    if g.locked {
        out.push_str(", locked to thread");
    }
    out.push_str("]:\n");
}

/// `created by goro::go in goroutine 1` and the spawn site.
fn write_created_by(out: &mut String, g: &GInfo, main: u64) {
    let spawner = if g.id == main {
        "goro::run"
    } else {
        "goro::go"
    };
    let _ = write!(out, "created by {spawner}");
    if g.parent != 0 {
        let _ = write!(out, " in goroutine {}", g.parent);
    }
    let _ = writeln!(out, "\n\t{}:{}", g.site.file(), g.site.line());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g::wait_reason::WaitReason;

    fn g(status: GStatus, wait_since: u64, locked: bool) -> GInfo {
        GInfo {
            locked,
            wait_since,
            ..GInfo::fake(7, status)
        }
    }

    #[test]
    fn headers_are_gos() {
        let minute = 60_000_000_000u64;
        let mut out = String::new();
        let parked = GStatus::Waiting(WaitReason::ChanReceive);
        write_header(&mut out, &g(parked, 1, false), 2 * minute + 5);
        write_header(&mut out, &g(parked, 1, false), minute - 5);
        write_header(&mut out, &g(GStatus::Running, 0, true), minute);
        write_header(&mut out, &g(GStatus::Runnable, 0, false), minute);
        assert_eq!(
            out,
            "goroutine 7 [chan receive, 2 minutes]:\n\
             goroutine 7 [chan receive]:\n\
             goroutine 7 [running, locked to thread]:\n\
             goroutine 7 [runnable]:\n"
        );
    }

    #[test]
    fn created_by_names_the_parent_and_the_site() {
        let mut out = String::new();
        let info = g(GStatus::Runnable, 0, false);
        write_created_by(&mut out, &info, 1);
        let expect = format!(
            "created by goro::go in goroutine 1\n\t{}:{}\n",
            info.site.file(),
            info.site.line()
        );
        assert_eq!(out, expect);
    }
}
