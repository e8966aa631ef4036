//! Operating-system and CPU primitives the rest of the scheduler stands on.
//! Nothing here imports from the crate.
//!
//! - `clock`: the monotonic clock as nanoseconds since an epoch.
//! - `futex`: wait and wake on a 32-bit word.
//! - `lock`: the futex mutex for channel and timer state.
//! - `thread`: the calling thread's kernel id.
//! - `poison`: taking std's locks past poisoning, in one place.
//! - `prefetch`: cache prefetch hints.
//! - `report`: writing to stderr, and Go's `fatal error`.
//! - `signal`: installing a handler where the program chose none.

pub(crate) mod clock;
pub(crate) mod futex;
pub(crate) mod lock;
pub(crate) mod poison;
pub(crate) mod prefetch;
pub(crate) mod report;
pub(crate) mod signal;
pub(crate) mod thread;
