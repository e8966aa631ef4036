//! The system calls that `goro::fs` and `goro::io` share to stay off a
//! sleeping kernel path: `preadv2`/`pwritev2` at the current file
//! position (with `RWF_NOWAIT`, the kernel answers `EAGAIN` instead of
//! waiting), and a poll(2) that never sleeps.

use std::io;
use std::os::fd::RawFd;

use goro_scheduler::Interest;

use crate::net::fd::cvt;

/// `preadv2` (`Interest::Read`, into `buf`) or `pwritev2`
/// (`Interest::Write`, from `buf`) of `len` bytes at the current position
/// of `fd`, with `flags`.
///
/// # Safety
/// `buf` must be valid for `len` bytes for the whole call: for writes
/// when `dir` is `Read`, for reads when it is `Write`.
pub(crate) unsafe fn rw(
    fd: RawFd,
    dir: Interest,
    buf: *mut u8,
    len: usize,
    flags: libc::c_int,
) -> io::Result<usize> {
    let iov = libc::iovec {
        iov_base: buf.cast(),
        iov_len: len,
    };
    // SAFETY: the caller's guarantee on `buf`; offset -1 means the
    // current position, which the call advances.
    let n = unsafe {
        match dir {
            Interest::Read => libc::preadv2(fd, &iov, 1, -1, flags),
            Interest::Write => libc::pwritev2(fd, &iov, 1, -1, flags),
        }
    };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// [`rw`] into a slice.
pub(crate) fn read(fd: RawFd, buf: &mut [u8], flags: libc::c_int) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of its length during the call.
    unsafe { rw(fd, Interest::Read, buf.as_mut_ptr(), buf.len(), flags) }
}

/// [`rw`] from a slice (`pwritev2` only reads it).
pub(crate) fn write(fd: RawFd, buf: &[u8], flags: libc::c_int) -> io::Result<usize> {
    // SAFETY: `buf` is valid for reads of its length during the call, and
    // a write never writes through the pointer.
    unsafe {
        rw(
            fd,
            Interest::Write,
            buf.as_ptr().cast_mut(),
            buf.len(),
            flags,
        )
    }
}

/// The events poll(2) reports on `fd` for `events` right now.
pub(crate) fn poll_now(fd: RawFd, events: libc::c_short) -> io::Result<libc::c_short> {
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd; a zero timeout never sleeps.
    cvt(unsafe { libc::poll(&mut pfd, 1, 0) })?;
    Ok(pfd.revents)
}
