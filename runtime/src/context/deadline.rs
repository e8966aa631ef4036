//! Deadlines: a cancelable context whose canceler fires at an instant.
//!
//! No goroutine per context: the deadline is one entry on the runtime's
//! per-P timer heaps (`goro_scheduler::add_timer`), whose target cancels the
//! context with [`Error::DeadlineExceeded`] when it comes due. The entry is
//! routed like `goro::time`'s: on the calling goroutine's P, or the
//! outside-runtime timer thread for a context made on a plain thread, or
//! the bubble's timers for one made in a synctest bubble.
//!
//! The entry holds the canceler weakly, and reports itself stale once the
//! context is done or gone, so cancelling early leaves nothing alive behind
//! (the heap drops stale entries when it compacts).

use std::sync::{Arc, Weak};
use std::time::Instant;

use goro_scheduler::TimerTarget;

use super::cancel::Canceler;
use super::error::{Cause, Error};

/// Cancels `canceler` at `when` with `DeadlineExceeded` and `cause`; at once
/// if `when` has passed.
pub(super) fn arm(canceler: &Arc<Canceler>, when: Instant, cause: Option<Cause>) {
    if when <= crate::time::now() {
        canceler.cancel(Error::DeadlineExceeded, cause);
        return;
    }
    let timer = Arc::new(DeadlineTimer {
        canceler: Arc::downgrade(canceler),
        cause,
    });
    crate::time::arm_timer(when, timer, 0);
}

/// The timer heap's entry for one deadline.
struct DeadlineTimer {
    canceler: Weak<Canceler>,
    cause: Option<Cause>,
}

impl TimerTarget for DeadlineTimer {
    fn fire(self: Arc<Self>, _seq: u64, _now: Instant) {
        if let Some(c) = self.canceler.upgrade() {
            c.cancel(Error::DeadlineExceeded, self.cause.clone());
        }
    }

    fn is_stale(&self, _seq: u64) -> bool {
        self.canceler.upgrade().is_none_or(|c| c.err().is_some())
    }
}
