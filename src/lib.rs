//! # goro: Go's concurrency model, done right in Rust
//!
//! Stackful goroutines multiplexed onto a few OS threads by a G-M-P
//! work-stealing scheduler, with Go's API shape:
//!
//! ```
//! let sum = goro::run(|| {
//!     let handles: Vec<_> = (1..=10u64).map(|i| goro::go!(move || i * i)).collect();
//!     handles.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
//! });
//! assert_eq!(sum, 385);
//! ```
//!
//! A started goroutine never changes OS thread, which keeps `thread_local!`,
//! `!Send` locals and std's locks sound inside goroutines; see
//! `docs/soundness.md`.
//!
//! Sound is not the same as safe from hangs, though. A `std::sync::Mutex` guard
//! held across a goro park (a channel operation, `sleep`, `join`, a goro lock,
//! a socket call) can hang the thread forever: another goroutine on the same
//! thread that takes the std lock blocks the thread, and the holder can only
//! resume there. Use [`sync::Mutex`], which parks goroutines, never threads.
//! Coming from Go, read `docs/porting.md`. The crate layout: `goro-stack`
//! (guarded stacks), `goro-scheduler` (G, M, P, queues, stealing, sysmon) and
//! `goro-runtime` (the public API), re-exported here.

pub use goro_runtime::*;

/// `#[goro::main]` and `#[goro::test]` (default feature `macros`).
#[cfg(feature = "macros")]
pub use goro_macros::{main, test};
