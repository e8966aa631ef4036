//! Cache prefetch hints.

/// A cache line's size on the machines goro targets.
pub(crate) const LINE: usize = 64;

/// Prefetches every line of the `len` bytes at `addr`.
#[inline(always)]
pub(crate) fn prefetch_lines(addr: usize, len: usize) {
    let mut line = addr & !(LINE - 1);
    while line < addr + len {
        prefetch(line);
        line += LINE;
    }
}

/// A hint to bring the line at `addr` into the cache. Never faults, even
/// on an unmapped or guard page, so any address will do.
#[inline(always)]
pub(crate) fn prefetch(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` reads nothing architecturally and cannot fault.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(addr as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}
