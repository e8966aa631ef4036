//! Monitors: sysmon and the read-only observers of the scheduler. They read
//! scheduler state through accessors and never write it; only the run's
//! lifecycle (`runtime.rs`) starts them.
//!
//! - `sysmon`: preemption requests, stuck-M reports, overdue timers, trim
//!   requests, `schedtrace`, deadlock detection, automatic GOMAXPROCS
//!   updates.
//! - `snapshot`: what observers read of the scheduler.
//! - `schedtrace`: `GODEBUG=schedtrace` lines.
//! - `deadlock`: "all goroutines are asleep", and `os_threads`, which
//!   threads of the process are blocked for good (from `/proc`).
//! - `leaks`: goroutines still blocked when `main` returns.
//! - `sigquit`: SIGQUIT dumps.
//! - `held`: the held-thread report (a goroutine keeping its thread while
//!   others wait for it), with `thread_stack`, the stack of another M's
//!   thread at that moment.
//! - `dump`: goroutine dumps and the stack walks under them.

pub(crate) mod deadlock;
pub(crate) mod dump;
pub(crate) mod held;
pub(crate) mod leaks;
pub(crate) mod os_threads;
pub(crate) mod schedtrace;
pub(crate) mod sigquit;
pub(crate) mod snapshot;
pub(crate) mod sysmon;
pub(crate) mod thread_stack;
