//! The report of a deadlocked synctest bubble (`sched/bubble.rs`): Go's
//! message, then the bubble's goroutines in goroutine-dump format, so a
//! test that can never progress fails with the stacks that explain why.
//!
//! ```text
//! deadlock: all goroutines in bubble are blocked
//!
//! goroutine 3 "fetcher" [chan receive (durable)]:
//! ...
//! ```

use crate::monitor::dump::dump_where;
use crate::sched::bubble::Deadlock;
use crate::sched::Sched;

/// The panic message for `deadlock`, in the runtime `sched`.
pub(crate) fn report(sched: &Sched, deadlock: &Deadlock) -> String {
    let head = if deadlock.root_exited {
        "deadlock: main bubble goroutine has exited but blocked goroutines remain"
    } else {
        "deadlock: all goroutines in bubble are blocked"
    };
    let dump = dump_where(sched, None, |g| g.bubble == deadlock.bubble);
    format!("{head}\n\n{dump}")
}
