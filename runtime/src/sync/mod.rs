//! `goro::sync`: Go's sync package for goroutines.
//!
//! Every primitive here parks the calling goroutine (never its OS thread)
//! through the scheduler's park/ready contract, and blocks the thread when
//! called from a plain OS thread, so goroutines and threads can share them.
//! Their state sits under the runtime's short futex [`Lock`]
//! (`goro_scheduler::Lock`), which no user code ever runs under; the queue of
//! parked callers is a [`WaitList`](wait_list::WaitList).

mod wait_group;
mod wait_list;

pub use wait_group::WaitGroup;
