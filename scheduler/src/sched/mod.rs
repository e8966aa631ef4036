//! The scheduler core (Go's proc.go): Ms running Gs from per-P queues,
//! spinning, sleeping and stealing. Cycles between these files are allowed;
//! everything outside reaches them through the seams re-exported at the
//! crate root (`park`, `Waiter`, `Wakeup`, `Handle`, spawning).
//!
//! - `spawn`: `go`, `try_go`, `spawn_local`, `spawn_migratory`, `gosched`,
//!   `lock_os_thread`, GOMAXPROCS queries.
//! - `m`: an M and its P: fresh queue (stealable), home queue, runnext,
//!   G and stack caches.
//! - `lookahead`: reading the home queue ahead, to prefetch.
//! - `schedule`: the scheduler loop (`findRunnable`), start and finish of
//!   Gs, shutdown.
//! - `enqueue`: the one path that makes work runnable, and the waker half
//!   of the sleep/wake protocol.
//! - `idle`: spinning and idle Ms, `wakep`; `sleep`: an M's sleep word,
//!   the sleeper half of the protocol (with loom models of both halves).
//! - `park`: the park/ready contract everything blocking builds on.
//! - `panics`: what a goroutine's panic does to its run (policy, count).
//! - `balance`: handing fresh tasks to a lighter P.
//! - `trim`: giving back stack pages of idle and parked goroutines.
//! - `handle`: a weak handle to a runtime, to spawn or arm timers later.
//! - `current`: which runtime context the calling thread is in.
//! - `schedt`: `Sched`, the state every thread of one run shares;
//!   `procs`: the M set and P-set changes; `registry`: every G of the
//!   run; `shutdown`: the end of a run; `sysmon_state`: what Ms share
//!   with sysmon (its sleep word and coarse clock).

mod atomics;
pub(crate) mod balance;
pub(crate) mod current;
pub(crate) mod enqueue;
pub(crate) mod handle;
pub(crate) mod idle;
pub(crate) mod lookahead;
pub(crate) mod m;
pub(crate) mod panics;
pub(crate) mod park;
pub(crate) mod procs;
mod registry;
mod schedt;
pub(crate) mod schedule;
pub(crate) mod shutdown;
pub(crate) mod sleep;
pub(crate) mod spawn;
mod sysmon_state;
pub(crate) mod trim;

pub(crate) use schedt::{Sched, SchedConfig};
pub(crate) use sysmon_state::SysmonState;
