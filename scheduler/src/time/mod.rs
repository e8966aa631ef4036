//! Timers (Go's time.go): per-P timer heaps, `sleep_until`, and the
//! outside-runtime timer thread. Uses the scheduler only through its seams.
//!
//! - `timers`: `TimerHeap`, `TimerTarget`, `add_timer`, routing a timer to
//!   a P, and the heap for timers armed outside any runtime.

mod timers;

pub use timers::{add_timer, sleep_until, TimerTarget};
pub(crate) use timers::{outside_timers_pending, rehome, TimerHeap};
