//! The goroutine: its control block (Go's `g` in runtime2.go), its state
//! word, its unit of work and what it carries. Below the scheduler: it
//! names the scheduler only through the park seam (`sched::park`) and the
//! opaque M/P pointer types it stores.
//!
//! - `goroutine`: `G`, `GRef`, the coroutine, `resume`/`suspend`, forced
//!   unwinding, and the state diagram.
//! - `state`: the state word's racing transitions (checked with loom).
//! - `task`: the one allocation a spawn makes (`Task`) and `JoinHandle`.
//! - `cell_alloc`: per-M recycled memory for task cells.
//! - `park_frame`: the registers `park` records for stack walks.
//! - `locals`: `goroutine_local!`.
//! - `panic`: panic reports and the unhandled-panic policy.
//! - `wait_reason`: why a goroutine is parked (`WaitReason`).

pub(crate) mod cell_alloc;
mod goroutine;
pub(crate) mod locals;
pub(crate) mod panic;
pub(crate) mod park_frame;
pub(crate) mod state;
pub(crate) mod task;
pub(crate) mod wait_reason;

pub(crate) use goroutine::{current_g, GRef, Yield, G};
pub(crate) use state::{DEAD, NOTIFIED, PARKED, RUNNABLE, RUNNING, SCANNING, SCAN_READIED};
