//! Channels of a synctest bubble belong to it (Go 1.25's rule): a channel
//! made by a goroutine of a bubble records the bubble's id
//! (`Inner::bubble`), and a send, receive, `select!` case, [`Select`]
//! operation, async operation or `close` on it from anywhere else (another
//! bubble, a goroutine outside any bubble, a plain thread) panics with
//! Go's message, at the caller's line. A bubble is a closed world: its
//! clock advances when all its goroutines are blocked on its own channels,
//! which only holds if nothing outside can complete those operations.
//!
//! What stays allowed, as in Go: `len`, `cap`, `is_closed` and the other
//! queries, cloning a handle, and dropping one (a drop cannot panic; the
//! last drop closes the channel, as always). The runtime's own operations
//! (a bubble timer's send, a context's close of its `done` channel)
//! bypass the check.
//!
//! Cost: a channel made outside any bubble has id 0, so every checked
//! operation pays one predictable branch on a field of the channel it
//! reads anyway; the comparison with the running goroutine's bubble is out
//! of line, for bubble channels only.
//!
//! [`Select`]: super::Select

use goro_scheduler::current_bubble_id;

/// A checked channel operation, named as in Go's messages.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Op {
    Send,
    Receive,
    Close,
    Select,
}

impl Op {
    /// How Go's message starts.
    fn words(self) -> &'static str {
        match self {
            Op::Send => "send on",
            Op::Receive => "receive on",
            Op::Close => "close of",
            Op::Select => "select on",
        }
    }
}

/// Panics unless the caller may do `op` on a channel made in bubble
/// `bubble` (0: made outside any bubble, where anyone may).
#[inline(always)]
#[track_caller]
pub(crate) fn check(bubble: u64, op: Op) {
    if bubble != 0 {
        check_member(bubble, op);
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn check_member(bubble: u64, op: Op) {
    if current_bubble_id() != bubble {
        panic!(
            "{} synctest channel from outside bubble (the channel was made in a \
             goro::synctest bubble; only that bubble's goroutines may use it)",
            op.words()
        );
    }
}
