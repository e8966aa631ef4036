//! Operating-system and CPU primitives the rest of the scheduler stands on.
//! Nothing here imports from the crate.
//!
//! - `futex`: wait and wake on a 32-bit word.
//! - `lock`: the futex mutex for channel and timer state.
//! - `thread`: the calling thread's kernel id.
//! - `poison`: taking std's locks past poisoning, in one place.
//! - `prefetch`: cache prefetch hints.

pub(crate) mod futex;
pub(crate) mod lock;
pub(crate) mod poison;
pub(crate) mod prefetch;
pub(crate) mod thread;
