//! Goroutine dumps in Go's format (`goro::dump_goroutines`, SIGQUIT, the
//! deadlock report):
//!
//! ```text
//! goroutine 7 [chan receive, 2 minutes]:
//! goroutine parked; stack unavailable
//! created by goro::go in goroutine 1
//!     src/main.rs:12
//! ```
//!
//! (the site line starts with a tab, as in Go).
//!
//! The header is Go's: the wait reason of a parked goroutine (`runnable`,
//! `running` otherwise), `, N minutes` once it has waited a minute or more,
//! `, locked to thread` after `lock_os_thread`. The goroutine asking for
//! the dump comes first with its own backtrace (`std::backtrace`); a
//! goroutine running on another M shows Go's `goroutine running on other
//! thread; stack unavailable`. goro does not walk a parked goroutine's
//! stack (that needs unwinding from the registers corosensei saved at the
//! switch), so a parked goroutine shows its wait reason, how long it has
//! waited and where it was spawned, by whom.

use std::fmt::Write as _;
use std::time::Duration;

use crate::runtime::Shared;
use crate::snapshot::{goroutines, GInfo, GStatus};

/// The dump of every started goroutine of `shared`; `current` is the
/// calling goroutine's id, whose stack is captured here.
pub(crate) fn dump(shared: &Shared, current: Option<u64>) -> String {
    let mut gs = goroutines(shared);
    if let Some(i) = current.and_then(|id| gs.iter().position(|g| g.id == id)) {
        let me = gs.remove(i);
        gs.insert(0, me);
    }
    let now = shared.sysmon.clock_nanos();
    let main = shared.main_goid();
    let mut out = String::new();
    for g in &gs {
        write_header(&mut out, g, now);
        if Some(g.id) == current {
            out.push_str(&go_frames(
                &std::backtrace::Backtrace::force_capture().to_string(),
            ));
        } else {
            out.push_str(match g.status {
                GStatus::Running => "goroutine running on other thread; stack unavailable\n",
                GStatus::Runnable => "goroutine runnable; stack unavailable\n",
                GStatus::Waiting(_) => "goroutine parked; stack unavailable\n",
            });
        }
        write_created_by(&mut out, g, main);
        out.push('\n');
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

/// Turns std's backtrace text into Go's frame format (`function(...)` and
/// a tab-indented `file:line`), from the caller of the dump down to the
/// goroutine's entry.
fn go_frames(backtrace: &str) -> String {
    let mut out = String::new();
    let mut started = false;
    // Whether the frame being read is shown (its `at` line too).
    let mut shown = false;
    for line in backtrace.lines().map(str::trim) {
        if let Some(at) = line.strip_prefix("at ") {
            if shown {
                let (file_line, _column) = at.rsplit_once(':').unwrap_or((at, ""));
                let _ = writeln!(out, "\t{file_line}");
            }
            continue;
        }
        let Some((_, name)) = line.split_once(": ") else {
            continue;
        };
        if name.contains("goro_scheduler::task::") || name.starts_with("corosensei::") {
            break;
        }
        shown = started;
        if shown {
            let _ = writeln!(out, "{name}(...)");
        } else if name.contains("dump_goroutines") {
            started = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::park::WaitReason;

    fn g(status: GStatus, wait_since: u64, locked: bool) -> GInfo {
        GInfo {
            id: 7,
            parent: 1,
            site: std::panic::Location::caller(),
            status,
            m: 0,
            locked,
            wait_since,
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

    #[test]
    fn backtraces_become_go_frames() {
        let bt = "   0: std::backtrace::Backtrace::force_capture\n\
                  \x20            at /rustc/library/std/src/backtrace.rs:310:9\n\
                  \x20  1: goro_scheduler::dump_goroutines\n\
                  \x20            at ./scheduler/src/lib.rs:80:5\n\
                  \x20  2: observe::worker\n\
                  \x20            at ./tests/observe.rs:12:9\n\
                  \x20  3: goro_scheduler::task::TaskCell::run\n\
                  \x20            at ./scheduler/src/task.rs:1:1\n";
        assert_eq!(
            go_frames(bt),
            "observe::worker(...)\n\t./tests/observe.rs:12\n"
        );
    }
}
