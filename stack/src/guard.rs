//! Guard pages: which mechanism this kernel offers, how to install one, and how
//! many the process can afford.
//!
//! Every goroutine stack has a guard page below it so that an overflow faults
//! instead of silently writing into the neighbouring slot. There are two ways to
//! make one:
//!
//! * **Lightweight guard regions** (`madvise(MADV_GUARD_INSTALL)`, Linux >= 6.13)
//!   mark page-table entries, not VMAs, so a million guarded stacks cost no
//!   mappings at all and the markers survive `MADV_DONTNEED`. Support is probed
//!   once per process on a scratch page: `EINVAL` (or any other error) means the
//!   kernel is older and we fall back.
//! * **`mprotect(PROT_NONE)`** splits the arena mapping: every guard adds two VMAs
//!   (the guard and the read-write remainder after it). `vm.max_map_count`
//!   (65530 by default) is a *process-wide* limit, and hitting it makes unrelated
//!   `mmap` calls fail: thread creation, large `malloc`s, file mappings. So the
//!   fallback runs under an explicit **VMA budget**, computed when a pool is
//!   created:
//!
//!   ```text
//!   reserve = max(max_map_count / 4, 8192)
//!   budget  = (max_map_count - current_vmas - reserve) / 2      (saturating)
//!   ```
//!
//!   `current_vmas` is the line count of `/proc/self/maps`; the reserve is left
//!   for malloc arenas, thread stacks, file maps, JITs and the arena chunks
//!   themselves. With the defaults (65530, ~40 VMAs in use) the budget is ~24,500
//!   guarded stacks, after which allocation fails with a typed error while the
//!   rest of the process keeps working. The budget is per pool (one per runtime).
//!
//! A stack is never handed out without a guard.

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use crate::sys;

/// How a pool protects the page below each stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardMode {
    /// `MADV_GUARD_INSTALL` markers (Linux >= 6.13): no VMA per stack, no limit
    /// beyond address space and memory.
    GuardRegions,
    /// `mprotect(PROT_NONE)` guards (older kernels): two VMAs per guarded stack,
    /// at most `budget` guarded stacks per pool.
    Mprotect {
        /// How many guarded stacks the pool may create.
        budget: usize,
    },
}

/// Kernel default of `vm.max_map_count` (`DEFAULT_MAX_MAP_COUNT`).
pub(crate) const DEFAULT_MAX_MAP_COUNT: usize = 65530;
/// VMAs an `mprotect` guard adds: the guard itself plus the split-off remainder.
const VMAS_PER_GUARD: usize = 2;
/// Smallest number of VMAs left for everything that is not a goroutine stack.
const MIN_RESERVE: usize = 8192;

/// Whether this kernel supports `MADV_GUARD_INSTALL`, probed once per process.
pub(crate) fn guard_regions_supported() -> io::Result<bool> {
    const UNKNOWN: u8 = 0;
    const YES: u8 = 1;
    const NO: u8 = 2;
    static PROBED: AtomicU8 = AtomicU8::new(UNKNOWN);
    match PROBED.load(Ordering::Relaxed) {
        YES => return Ok(true),
        NO => return Ok(false),
        _ => {}
    }
    // Racing first calls both probe; they reach the same answer.
    let page = sys::page_size();
    let scratch = sys::map_anonymous(page, libc::PROT_READ | libc::PROT_WRITE, 0)?;
    // SAFETY: `scratch` is a private page mapped just above and referenced by
    // nothing; installing a guard marker on it destroys no data.
    let supported = unsafe { sys::madvise(scratch, page, sys::MADV_GUARD_INSTALL) }.is_ok();
    // SAFETY: the scratch page was mapped above and is not used after this.
    unsafe { sys::unmap(scratch, page) };
    PROBED.store(if supported { YES } else { NO }, Ordering::Relaxed);
    Ok(supported)
}

/// Makes `[addr, addr + len)` a guard in the given mode.
///
/// # Safety
/// The range must be a page-aligned part of an arena chunk that holds no live
/// data (it becomes inaccessible).
pub(crate) unsafe fn install(mode: GuardMode, addr: usize, len: usize) -> io::Result<()> {
    match mode {
        // SAFETY: forwarded to the caller's contract.
        GuardMode::GuardRegions => unsafe { sys::madvise(addr, len, sys::MADV_GUARD_INSTALL) },
        // SAFETY: forwarded to the caller's contract.
        GuardMode::Mprotect { .. } => unsafe { sys::mprotect(addr, len, libc::PROT_NONE) },
    }
}

/// Largest batch [`install_many`] hands to one system call.
pub(crate) const MAX_BATCH: usize = 32;

/// Installs guards of `len` bytes at each of `addrs` (at most [`MAX_BATCH`])
/// in as few system calls as the kernel allows, and returns how many were
/// installed, in order: all of them, or at least the first, or an error.
///
/// Guard regions go in one `process_madvise` (Linux >= 6.14 for
/// `PIDFD_SELF`); a kernel without it gets the first guard alone, as an
/// `mprotect` pool always does (its budget counts guards one by one), and
/// is not asked again.
///
/// # Safety
/// As [`install`], for every range.
pub(crate) unsafe fn install_many(
    mode: GuardMode,
    addrs: &[usize],
    len: usize,
) -> io::Result<usize> {
    static UNBATCHED: AtomicBool = AtomicBool::new(false);
    let &[first, ..] = addrs else {
        return Ok(0);
    };
    if mode == GuardMode::GuardRegions && addrs.len() > 1 && !UNBATCHED.load(Ordering::Relaxed) {
        let mut ranges = [libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        }; MAX_BATCH];
        for (range, &addr) in ranges.iter_mut().zip(addrs) {
            *range = libc::iovec {
                iov_base: addr as *mut libc::c_void,
                iov_len: len,
            };
        }
        let n = addrs.len().min(MAX_BATCH);
        // SAFETY: forwarded to the caller's contract.
        match unsafe { sys::madvise_many(&ranges[..n], sys::MADV_GUARD_INSTALL) } {
            Ok(bytes) if bytes >= len => return Ok(bytes / len),
            // No `process_madvise`, no `PIDFD_SELF`, no guard advice
            // through it, or a seccomp filter forbids it: one range at a
            // time from now on.
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ENOSYS | libc::EBADF | libc::EINVAL | libc::EPERM)
                ) =>
            {
                UNBATCHED.store(true, Ordering::Relaxed);
            }
            // Nothing installed (e.g. out of memory for page tables): the
            // single call below reports it.
            _ => {}
        }
    }
    // SAFETY: forwarded to the caller's contract.
    unsafe { install(mode, first, len) }.map(|()| 1)
}

/// The number of guarded stacks a process with `current_vmas` mappings may still
/// create under `vm.max_map_count = max_map_count` (formula in the module docs).
pub(crate) fn vma_budget(max_map_count: usize, current_vmas: usize) -> usize {
    let reserve = (max_map_count / 4).max(MIN_RESERVE);
    max_map_count
        .saturating_sub(current_vmas)
        .saturating_sub(reserve)
        / VMAS_PER_GUARD
}

/// `vm.max_map_count`, or the kernel default if `/proc/sys` is unreadable.
pub(crate) fn max_map_count() -> usize {
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(DEFAULT_MAX_MAP_COUNT)
}

/// The number of memory mappings (VMAs) of this process: the line count of
/// `/proc/self/maps`.
///
/// Reads through a fixed stack buffer, so it keeps working when the process is
/// at its mapping limit and `malloc` could not grow a `String`.
pub fn vma_count() -> io::Result<usize> {
    let mut maps = std::fs::File::open("/proc/self/maps")?;
    let mut buf = [0u8; 16 << 10];
    let mut lines = 0;
    loop {
        match maps.read(&mut buf) {
            Ok(0) => return Ok(lines),
            Ok(n) => lines += buf[..n].iter().filter(|&&b| b == b'\n').count(),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_formula() {
        // Kernel default: reserve 16382 (a quarter), two VMAs per guard.
        assert_eq!(vma_budget(65530, 40), (65530 - 40 - 16382) / 2);
        // Small limits keep at least 8192 VMAs in reserve.
        assert_eq!(vma_budget(20000, 100), (20000 - 100 - 8192) / 2);
        // Nothing left: no guarded stacks rather than an underflow.
        assert_eq!(vma_budget(10000, 5000), 0);
        assert_eq!(vma_budget(65530, 70000), 0);
        // Modern distribution default (Fedora, Ubuntu 24.04, Arch).
        assert_eq!(
            vma_budget(1 << 20, 1000),
            ((1 << 20) - 1000 - (1 << 18)) / 2
        );
    }

    #[test]
    fn probe_is_stable() {
        assert_eq!(
            guard_regions_supported().unwrap(),
            guard_regions_supported().unwrap()
        );
    }
}
