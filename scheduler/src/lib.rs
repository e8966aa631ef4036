//! goro's scheduler: goroutines (G) run by OS threads (M) holding
//! processors (P), after Go's runtime/proc.go, with one deliberate change:
//! **a started goroutine never changes OS thread** (docs/soundness.md).
//!
//! Map of the crate, one folder per concept, bottom layer first; each
//! imports only the layers below it, except through the seams declared in
//! `docs/scheduler_layers.txt` (picture and reasons: docs/design.md, "Map";
//! `scheduler/tests/layers/` checks it):
//! - `sys`: the futex, the futex mutex `Lock`, std's locks past poisoning,
//!   thread ids, prefetching.
//! - `config`: `GOMAXPROCS`, `GORO_STACK_SIZE`, `GODEBUG`, the
//!   container-aware default P count.
//! - `g`: the goroutine: its control block and coroutine, its state word
//!   (checked with loom), its task and `JoinHandle`, goroutine-locals,
//!   panic reports.
//! - `trace`: `tracing` events and `GORO_TRACE` trace files.
//! - `sched`: the core (Go's proc.go): `Sched`, Ms and their Ps, spawning,
//!   the scheduling round, spinning and sleeping, park/ready, P-set changes.
//! - `time`, `netpoll`, `blocking`: the drivers: per-P timers, the epoll
//!   network poller, the helper pool for calls that block a thread.
//! - `monitor`: sysmon and the read-only observers (schedtrace, deadlock
//!   and leak reports, SIGQUIT, goroutine dumps).
//! - `runtime`: `Builder` and `Runtime::run`, a run's lifecycle.

mod blocking;
mod config;
mod g;
mod monitor;
mod netpoll;
mod runtime;
mod sched;
mod sys;
mod time;
mod trace;

use sched::current;

pub use blocking::blocking;
pub use config::procs::{CgroupLimit, ProcsSource, RuntimeInfo};
pub use config::{default_procs, default_stack_size, MAX_PROCS};
pub use g::locals::GoroutineLocal;
pub use g::panic::{Panic, UnhandledPanic};
pub use g::task::{forced_unwind_in_progress, JoinHandle};
pub use g::wait_reason::WaitReason;
pub use netpoll::{Interest, PollDesc};
pub use runtime::{Builder, Runtime};
pub use sched::handle::Handle;
pub use sched::panics::PanicWatch;
pub use sched::park::{current_waiter, park, Waiter, Wakeup};
pub use sched::spawn::{
    go, gomaxprocs, gosched, lock_os_thread, num_goroutine, preempt_point, runtime_info,
    set_default_gomaxprocs, set_gomaxprocs, spawn_local, spawn_migratory, try_go, unlock_os_thread,
    GoBuilder, Placement, SpawnError,
};
pub use sys::lock::{Lock, LockGuard};
#[doc(hidden)]
pub use sys::poison::Unpoisoned;
pub use time::{add_timer, sleep_until, TimerTarget};

/// Whether the caller runs inside a goroutine.
pub fn in_goroutine() -> bool {
    current::m().is_some_and(|l| l.current.get().is_some())
}

/// The id of the running goroutine (as in dumps and panic reports), if any.
pub fn goroutine_id() -> Option<u64> {
    g::current_g().map(|g| g.id())
}

/// Every started goroutine of the calling code's runtime, as Go prints
/// them (`goroutine 7 [chan receive, 2 minutes]:`, see `docs/observability.md`):
/// the caller's goroutine first, with its backtrace, then the others by id,
/// with their wait reason, how long they have waited, the frames of their
/// own stacks where they parked, and their spawn site.
/// Empty outside a runtime. Like every runtime call it is a preemption
/// point, so a goroutine dumping in a loop does not starve its M.
pub fn dump_goroutines() -> String {
    preempt_point();
    // Symbolizing holds the thread for a while, on purpose: not a held
    // thread for the report (`monitor/held.rs`).
    let _long = current::m().map(|l| l.m.long_runtime_call());
    // On a helper thread `goroutine_id` is `None`: no goroutine first.
    current::with_sched(|s| monitor::dump::dump(s, goroutine_id())).unwrap_or_default()
}
