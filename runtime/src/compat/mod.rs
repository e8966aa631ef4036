//! Bridges to async runtimes that need more than a `Waker`.
//!
//! `goro::block_on` runs any future whose wake-ups come through its
//! `Waker` alone. Futures that also need their executor's thread-local
//! context while they are polled (Tokio's sockets and timers find their
//! driver there) go through the bridge for that runtime here, each behind
//! its own cargo feature.

#[cfg(feature = "tokio")]
pub mod tokio;
