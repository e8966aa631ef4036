//! goro's public API: what users write against.
//!
//! This crate is the user-facing layer over `goro-scheduler`: the `go!`
//! macro and the runtime calls, channels and `select!` (`chan`), and
//! `time`, `sync`, and `context` and `errgroup` on top of channels and
//! timers, and `net` on the scheduler's network poller.

mod block_on;
pub mod chan;
pub mod compat;
pub mod context;
pub mod errgroup;
pub mod fs;
mod go_macro;
pub mod io;
pub mod net;
pub mod process;
mod scope;
mod select_macro;
pub mod signal;
pub mod sync;
mod test_runner;
pub mod time;

pub use block_on::block_on;
pub use chan::{
    chan, Receiver, RecvError, RecvTimeoutError, SelectTimeoutError, SendError, Sender,
    TryRecvError, TrySendError,
};
pub use chan::{Select, SelectedOperation, SendTimeoutError, TrySelectError};
pub use scope::{scope, Scope, ScopedJoinHandle};

pub use goro_scheduler::{
    blocking, dump_goroutines, forced_unwind_in_progress, go as spawn, gomaxprocs, goroutine_id,
    goroutine_local, gosched, in_goroutine, lock_os_thread, num_goroutine, preempt_point,
    runtime_info, set_default_gomaxprocs, set_gomaxprocs, spawn_local, spawn_migratory, try_go,
    unlock_os_thread, Builder, CgroupLimit, GoBuilder, GoroutineLocal, JoinHandle, Panic,
    Placement, ProcsSource, Runtime, RuntimeInfo, SpawnError, UnhandledPanic, MAX_PROCS,
};

/// Starts a goroutine placed with [`Placement::Spread`], panicking as
/// `go!` does when it cannot (the groups' `go`).
#[track_caller]
pub(crate) fn spawn_spread<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match GoBuilder::new().placement(Placement::Spread).spawn(f) {
        Ok(h) => h,
        Err(e) => panic!("{e}"),
    }
}

/// Starts a runtime with the default configuration (`GOMAXPROCS`, else
/// the CPUs available lowered to the cgroup CPU limit; `GORO_STACK_SIZE`
/// or the default stack size), runs `main` as the main goroutine and
/// returns its result.
///
/// # Panics
/// If the runtime cannot be built (e.g. no address space for stacks), when
/// called from inside a goroutine, or when `main` panics (after shutdown).
#[track_caller]
pub fn run<F, R>(main: F) -> R
where
    F: FnOnce() -> R + 'static,
    R: 'static,
{
    match Runtime::builder().build() {
        Ok(rt) => rt.run(main),
        Err(e) => panic!("goro: cannot start the runtime: {e}"),
    }
}

/// The park/ready contract for building blocking primitives on goro
/// (what channels, sync, time and net use): register a [`sched::Waiter`],
/// [`sched::park`], and have a waker call `Waiter::wake` exactly once.
pub mod sched {
    pub use goro_scheduler::{current_waiter, park, WaitReason, Waiter, Wakeup};
}

#[doc(hidden)]
pub mod __private {
    pub use crate::test_runner::run_test;
    pub use goro_scheduler::go;
}
