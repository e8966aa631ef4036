//! Goroutine dumps: every goroutine with its wait reason and the frames of
//! its own stack, as Go prints them.
//!
//! - `goroutines`: the dump's text (`dump_goroutines`, SIGQUIT, deadlock
//!   and leak reports).
//! - `scan`: holding a parked goroutine still while its stack is read.
//! - `stackwalk`: walking a parked goroutine's stack.
//! - `frames`: symbolizing and printing frames.

pub(crate) mod frames;
mod goroutines;
pub(crate) mod scan;
pub(crate) mod stackwalk;

pub(crate) use goroutines::{dump, dump_where};
