//! Thin, typed wrappers over the handful of memory-management system calls the
//! crate makes (`mmap`, `munmap`, `madvise`, `mprotect`, `mincore`).
//!
//! Every other module goes through these so that the errno handling lives in one
//! place and the `unsafe` surface that talks to the kernel stays small. Addresses
//! are plain `usize` values: the crate never dereferences arena memory through
//! these wrappers, it only changes how the kernel backs it.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `MADV_GUARD_INSTALL` (Linux >= 6.13): turn the page-table entries of a range
/// into guard markers that fault on any access, without creating a VMA. Not yet
/// exported by the `libc` crate.
pub(crate) const MADV_GUARD_INSTALL: libc::c_int = 102;

/// The system page size, read once with `sysconf(_SC_PAGESIZE)`.
pub(crate) fn page_size() -> usize {
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    match PAGE.load(Ordering::Relaxed) {
        0 => {
            // SAFETY: sysconf has no preconditions; _SC_PAGESIZE is always supported.
            let raw = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            let page = usize::try_from(raw)
                .ok()
                .filter(|p| p.is_power_of_two())
                .unwrap_or(4096);
            PAGE.store(page, Ordering::Relaxed);
            page
        }
        page => page,
    }
}

/// Rounds `n` up to a multiple of the page size; `None` on overflow.
pub(crate) fn round_up_to_page(n: usize) -> Option<usize> {
    let page = page_size();
    n.checked_add(page - 1).map(|v| v & !(page - 1))
}

/// Maps `len` bytes of private anonymous memory and returns its address.
pub(crate) fn map_anonymous(
    len: usize,
    prot: libc::c_int,
    flags: libc::c_int,
) -> io::Result<usize> {
    // SAFETY: a fresh anonymous mapping at a kernel-chosen address (no MAP_FIXED)
    // cannot alias any existing Rust object.
    let addr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            prot,
            flags | libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if addr == libc::MAP_FAILED {
        Err(io::Error::last_os_error())
    } else {
        Ok(addr as usize)
    }
}

/// Unmaps `[addr, addr + len)`.
///
/// # Safety
/// The range must be a mapping (or part of one) created by [`map_anonymous`] that
/// nothing references any more.
pub(crate) unsafe fn unmap(addr: usize, len: usize) {
    // SAFETY: the caller guarantees the range is ours and unreferenced.
    let rc = unsafe { libc::munmap(addr as *mut libc::c_void, len) };
    debug_assert_eq!(
        rc,
        0,
        "munmap({addr:#x}, {len}) failed: {}",
        io::Error::last_os_error()
    );
}

/// `madvise(addr, len, advice)`.
///
/// # Safety
/// `[addr, addr + len)` must lie in a mapping this crate owns, and the advice must
/// not destroy data that is still live (e.g. `MADV_DONTNEED` only on dead memory).
pub(crate) unsafe fn madvise(addr: usize, len: usize, advice: libc::c_int) -> io::Result<()> {
    // SAFETY: forwarded to the caller's contract.
    if unsafe { libc::madvise(addr as *mut libc::c_void, len, advice) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `PIDFD_SELF` (Linux >= 6.14): a pidfd argument meaning the calling
/// process's own memory, so no pidfd needs opening. Not yet exported by the
/// `libc` crate.
const PIDFD_SELF: libc::c_int = -10000;

/// `process_madvise(PIDFD_SELF, ranges, advice)`: one `madvise` per range in
/// one system call. Returns the bytes advised, which fall short of the
/// ranges' total if an error stopped it after some of them.
///
/// # Safety
/// As [`madvise`], for every range.
pub(crate) unsafe fn madvise_many(
    ranges: &[libc::iovec],
    advice: libc::c_int,
) -> io::Result<usize> {
    // SAFETY: `ranges` is a valid iovec array of `ranges.len()` entries; the
    // caller vouches for the memory they describe.
    let r = unsafe {
        libc::syscall(
            libc::SYS_process_madvise,
            PIDFD_SELF,
            ranges.as_ptr(),
            ranges.len(),
            advice,
            0,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// `mprotect(addr, len, prot)`.
///
/// # Safety
/// `[addr, addr + len)` must lie in a mapping this crate owns and must hold no data
/// that anyone still accesses with rights the new protection removes.
pub(crate) unsafe fn mprotect(addr: usize, len: usize, prot: libc::c_int) -> io::Result<()> {
    // SAFETY: forwarded to the caller's contract.
    if unsafe { libc::mprotect(addr as *mut libc::c_void, len, prot) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Number of resident bytes in the page-aligned range `[addr, addr + len)`,
/// measured with `mincore(2)` in batches so that no allocation is needed.
/// Returns 0 if the range is not mapped.
pub(crate) fn resident_bytes(addr: usize, len: usize) -> usize {
    const BATCH: usize = 512;
    let page = page_size();
    let mut vec = [0u8; BATCH];
    let mut resident = 0;
    let mut at = addr;
    let end = addr + len;
    while at < end {
        let pages = ((end - at) / page).min(BATCH);
        // SAFETY: mincore only reads page-table state and writes `pages` <= BATCH
        // bytes into `vec`; it never touches the memory being queried.
        let rc = unsafe { libc::mincore(at as *mut libc::c_void, pages * page, vec.as_mut_ptr()) };
        if rc != 0 {
            return resident;
        }
        resident += vec[..pages].iter().filter(|&&v| v & 1 != 0).count() * page;
        at += pages * page;
    }
    resident
}
