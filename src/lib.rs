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
//! `docs/soundness.md`. The crate layout: `goro-stack` (guarded stacks),
//! `goro-scheduler` (G, M, P, queues, stealing, sysmon) and `goro-runtime`
//! (the public API), re-exported here.

pub use goro_runtime::*;
