//! The monotonic clock as one number: nanoseconds since a process-wide
//! epoch, for timer heaps and park times (an atomic `u64` holds it).

use std::sync::OnceLock;
use std::time::Instant;

/// Nanoseconds since the process-wide epoch (0 for earlier instants;
/// saturates below `u64::MAX`, which timer heaps use for "none").
pub(crate) fn nanos(t: Instant) -> u64 {
    let d = t.saturating_duration_since(epoch());
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX - 1)
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}
