//! Timers (Go's time.go): per-P timer heaps, `sleep_until`, and the
//! outside-runtime timer thread. Uses the scheduler only through its seams.
//!
//! - `heap`: `TimerHeap<A>`, a timer heap generic over its entries' action
//!   (no scheduler types; unit-tested alone).
//! - `timers`: `TimerTarget`, the scheduler's action type and `Timers`
//!   (its heap), `add_timer`, routing a timer to a P, and the heap for
//!   timers armed outside any runtime.

mod heap;
mod timers;

pub use timers::{add_timer, sleep_until, TimerTarget};
pub(crate) use timers::{outside_timers_pending, rehome, Timers};
