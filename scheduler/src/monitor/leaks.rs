//! `GODEBUG=goroleaks=1`: when the main goroutine returns, `run` lists on
//! stderr the goroutines still parked, grouped by wait reason and spawn
//! site, most numerous first, under Go's profile header:
//!
//! ```text
//! goroutineleak profile: total 3
//! 2 @ [chan send] created by goro::go at src/main.rs:14
//! 1 @ [select] created by goro::go at src/main.rs:20
//! ```
//!
//! At that point nothing can wake them any more: `run` abandons (unwinds)
//! them, as Go's exit drops them. Goroutines still running or runnable are
//! not listed (they were doing work), nor are tasks that never started.
//! Go's own detector is narrower (a goroutine counts as leaked only once
//! the object it waits on is unreachable); at exit the two agree.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::monitor::snapshot::{goroutines, GInfo, GStatus};
use crate::sched::Sched;

/// Prints the report if `GODEBUG=goroleaks=1` and any goroutine is parked.
pub(crate) fn report_at_exit(sched: &Sched) {
    if !crate::config::env().godebug.goroleaks {
        return;
    }
    let text = format(&goroutines(sched));
    if !text.is_empty() {
        crate::sys::report::write_stderr(&text);
    }
}

/// The report for these goroutines (empty when none is parked).
fn format(gs: &[GInfo]) -> String {
    let mut groups: BTreeMap<(&str, &str, u32), usize> = BTreeMap::new();
    for g in gs {
        if let GStatus::Waiting(reason) = g.status {
            *groups
                .entry((reason.as_str(), g.site.file(), g.site.line()))
                .or_default() += 1;
        }
    }
    if groups.is_empty() {
        return String::new();
    }
    let mut sorted: Vec<_> = groups.into_iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let total: usize = sorted.iter().map(|(_, n)| n).sum();
    let mut out = format!("goroutineleak profile: total {total}\n");
    for ((reason, file, line), n) in sorted {
        let _ = writeln!(out, "{n} @ [{reason}] created by goro::go at {file}:{line}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g::wait_reason::WaitReason;
    use std::panic::Location;

    fn g(id: u64, status: GStatus, site: &'static Location<'static>) -> GInfo {
        GInfo {
            site,
            ..GInfo::fake(id, status)
        }
    }

    #[test]
    fn groups_by_reason_and_site_most_first() {
        let (a, b) = (Location::caller(), Location::caller());
        let send = GStatus::Waiting(WaitReason::ChanSend);
        let gs = [
            g(2, GStatus::Waiting(WaitReason::Select), a),
            g(3, send, b),
            g(4, send, b),
            g(5, GStatus::Running, b),
            g(6, GStatus::Runnable, a),
        ];
        let text = format(&gs);
        let expect = format!(
            "goroutineleak profile: total 3\n\
             2 @ [chan send] created by goro::go at {f}:{lb}\n\
             1 @ [select] created by goro::go at {f}:{la}\n",
            f = a.file(),
            la = a.line(),
            lb = b.line()
        );
        assert_eq!(text, expect);
        assert_eq!(format(&gs[3..]), "");
    }
}
