//! goro's scheduler: goroutines (G) run by OS threads (M) holding
//! processors (P), after Go's runtime/proc.go, with one deliberate change:
//! **a started goroutine never changes OS thread** (docs/soundness.md).
//!
//! Map of the crate:
//! - `spawn`: `go`, `try_go`, `spawn_local`, `spawn_migratory`, `gosched`,
//!   `lock_os_thread`, GOMAXPROCS queries.
//! - `task`: the one allocation a spawn makes; `JoinHandle`.
//! - `task_blocks`: per-M recycled memory for task cells.
//! - `g`: the goroutine control block, its coroutine and its states;
//!   `gstate`: the state word's racing transitions (checked with loom).
//! - `park`: the park/ready contract everything blocking builds on;
//!   `park_frame`: the registers `park` records for stack walks.
//! - `worker`: an M and its P: fresh queue (stealable), home queue,
//!   runnext, G and stack caches.
//! - `schedule`: the scheduler loop (`findRunnable`), start and finish of Gs,
//!   shutdown.
//! - `idle`: spinning and sleeping Ms, `wakep`.
//! - `timer`: per-P timer heaps, `sleep_until`, the outside-runtime timer
//!   thread.
//! - `handle`: a weak handle to a runtime, to spawn or arm timers later.
//! - `lock`: the futex mutex for channel and timer state.
//! - `netpoll`: the epoll network poller, polled by idle Ms (`PollDesc`).
//! - `sysmon`: preemption requests, stuck-M reports, overdue timers, trim
//!   requests, `schedtrace`, deadlock detection, automatic GOMAXPROCS
//!   updates.
//! - `godebug`: the `GODEBUG` keys goro reads.
//! - `procs`: the container-aware default P count (affinity mask, cgroup
//!   CPU limit) and `runtime_info`.
//! - `snapshot`: what observers read of the scheduler; `schedtrace`,
//!   `dump` (goroutine dumps), `deadlock`, `proc_threads` (which threads of
//!   the process are blocked for good), `sigquit` and `leaks` build on it.
//! - `stackwalk`: walking a parked goroutine's stack for dumps, holding it
//!   still meanwhile (`scan`); `frames`: symbolizing and printing frames.
//! - `trace`: `tracing` events for spawn, park, ready, steal, P handoff
//!   and GOMAXPROCS changes, and `GORO_TRACE` Chrome/Perfetto trace files.
//! - `trim`: giving back stack pages of idle and parked goroutines.
//! - `blocking`: the helper pool for calls that block a thread.
//! - `runtime`: `Builder`, `Runtime::run`, the state shared by all Ms.
//! - `local_storage`: `goroutine_local!`.
//! - `config`, `godebug`, `context`, `futex`, `panic`: environment,
//!   `GODEBUG` settings, TLS access rules, the futex, panic reports.

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
pub use g::panic::{Panic, PanicWatch, UnhandledPanic};
pub use g::task::{forced_unwind_in_progress, JoinHandle};
pub use g::wait_reason::WaitReason;
pub use netpoll::{Interest, PollDesc};
pub use runtime::{Builder, Runtime};
pub use sched::handle::Handle;
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
    // On a helper thread `goroutine_id` is `None`: no goroutine first.
    current::with_sched(|s| monitor::dump::dump(s, goroutine_id())).unwrap_or_default()
}

/// Writes `text` to fd 2 in as few `write`s as it takes. Straight to the
/// fd: std's stderr may be captured (test harnesses pass their capture on
/// to spawned threads) and lost when the process then ends.
pub(crate) fn write_stderr(text: &str) {
    let mut rest = text.as_bytes();
    while !rest.is_empty() {
        // SAFETY: writes at most `rest.len()` initialized bytes of a live buffer.
        let n = unsafe { libc::write(2, rest.as_ptr().cast(), rest.len()) };
        if n <= 0 {
            return;
        }
        rest = &rest[n as usize..];
    }
}

/// Reports an unrecoverable runtime error the way Go does and aborts.
#[cold]
pub(crate) fn fatal(args: std::fmt::Arguments<'_>) -> ! {
    write_stderr(&format!("fatal error: goro: {args}\n"));
    std::process::abort()
}
