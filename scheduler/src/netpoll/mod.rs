//! The network poller (Go's netpoll.go and netpoll_epoll.go): one epoll
//! instance per process, polled without blocking by Ms out of work and
//! blocked in by at most one idle M. Uses the scheduler only through its
//! seams (`park`, `Waiter`, an M's sleep word).
//!
//! - `poller`: `PollDesc`, `Interest`, the epoll instance and its eventfd,
//!   the blocker role and the standby list.

mod poller;

pub(crate) use poller::{interrupt, leave_standby, poll_if_stale, poll_ready, sleep_in_poller};
pub use poller::{Interest, PollDesc};
