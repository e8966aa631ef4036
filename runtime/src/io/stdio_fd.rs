//! [`StdioFd`]: reads and writes on fd 0, 1 or 2 that park the goroutine
//! instead of blocking its M, without changing the descriptor's flags.
//!
//! The standard streams are shared with other processes (the shell, a
//! pipeline's neighbours), so setting `O_NONBLOCK` on them, as sockets get,
//! would change their files for everybody. Instead each call asks for
//! non-blocking behaviour itself: `preadv2`/`pwritev2` with `RWF_NOWAIT`,
//! which pipes, FIFOs, sockets and page-cache hits of regular files honour,
//! and on `EAGAIN` the goroutine parks on the network poller until the fd
//! is ready. Terminals refuse `RWF_NOWAIT` (`EOPNOTSUPP`): for them a call
//! first polls the fd without sleeping and only then reads or writes, which
//! returns at once unless another process took the input in between; such
//! a write is cut to a size the ready fd takes without sleeping (`PIPE_BUF`
//! for a pipe, which a writable pipe takes whole; [`TTY_WRITE`] bytes for
//! a terminal), so a large buffer is written over several polls instead of
//! in one call that blocks the M until the reader drains it. A
//! regular file that refuses to serve a call from the page cache is read
//! or written on a `blocking` helper. The poller watches a duplicate of the
//! fd (one open file, so the same readiness) registered on first use.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::OnceLock;

use goro_scheduler::{Interest, PollDesc};

use super::nowait::{poll_now, rw};
use crate::net::fd::cvt;

/// What a stream's calls do, learnt from the first refusal.
const TRY_NOWAIT: u8 = 0;
/// A terminal: poll first, then the plain call.
const POLL_FIRST: u8 = 1;
/// Not pollable (a regular file): refused calls go to a helper.
const HELPER: u8 = 2;

/// The most a poll-first write to a terminal hands the kernel at once.
/// A terminal polls writable when fewer than this many bytes are queued
/// (`WAKEUP_CHARS` in Linux's tty layer) and it has some room: a piece
/// this small is taken at once in practice (a pipe's `PIPE_BUF`, by
/// contrast, is guaranteed).
const TTY_WRITE: usize = 256;

/// One standard stream; lives for the whole process.
pub(super) struct StdioFd {
    fd: RawFd,
    mode: AtomicU8,
    /// In `POLL_FIRST` mode, the most one write hands the kernel.
    write_cap: AtomicUsize,
    /// The poller's watch on a duplicate of `fd`: `Err` if epoll refuses it.
    desc: OnceLock<Result<(PollDesc, OwnedFd), ()>>,
}

impl StdioFd {
    pub(super) const fn new(fd: RawFd) -> StdioFd {
        StdioFd {
            fd,
            mode: AtomicU8::new(TRY_NOWAIT),
            write_cap: AtomicUsize::new(libc::PIPE_BUF),
            desc: OnceLock::new(),
        }
    }

    pub(super) fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.call(Interest::Read, buf.as_mut_ptr(), buf.len())
    }

    pub(super) fn write(&self, buf: &[u8]) -> io::Result<usize> {
        self.call(Interest::Write, buf.as_ptr().cast_mut(), buf.len())
    }

    /// Reads into (`Interest::Read`) or writes from `len` bytes at `buf`.
    fn call(&self, dir: Interest, buf: *mut u8, len: usize) -> io::Result<usize> {
        goro_scheduler::preempt_point();
        loop {
            let result = match self.mode.load(Ordering::Relaxed) {
                // SAFETY: `read` and `write` pass a buffer valid for `len`
                // bytes (a `&mut [u8]` when reading), borrowed until this
                // call returns.
                TRY_NOWAIT => unsafe { rw(self.fd, dir, buf, len, libc::RWF_NOWAIT) },
                POLL_FIRST if !self.ready(dir)? => Err(io::Error::from_raw_os_error(libc::EAGAIN)),
                POLL_FIRST => {
                    let len = match dir {
                        Interest::Read => len,
                        Interest::Write => len.min(self.write_cap.load(Ordering::Relaxed)),
                    };
                    // SAFETY: `len` is at most the `len` bytes of the
                    // caller's buffer, valid (a `&mut [u8]` when reading) and
                    // borrowed until this call returns.
                    unsafe { rw(self.fd, dir, buf, len, 0) }
                }
                _ => {
                    let addr = buf as usize;
                    // The helper gets the buffer's address: the goroutine
                    // stays parked, its buffer in place, until it returns.
                    let fd = self.fd;
                    // SAFETY: the caller's buffer is valid for `len` bytes
                    // (a `&mut [u8]` when reading) and borrowed until this
                    // call returns, after `blocking` has waited for the helper.
                    return crate::blocking(move || unsafe {
                        rw(fd, dir, addr as *mut u8, len, 0)
                    });
                }
            };
            match result.as_ref().map_err(io::Error::raw_os_error) {
                Err(Some(libc::EAGAIN)) => self.wait(dir)?,
                Err(Some(libc::EINTR)) => {}
                Err(Some(libc::EOPNOTSUPP)) => {
                    // SAFETY: isatty only inspects the fd.
                    if unsafe { libc::isatty(self.fd) } == 1 {
                        self.write_cap.store(TTY_WRITE, Ordering::Relaxed);
                    }
                    let next = if self.watch().is_some() {
                        POLL_FIRST
                    } else {
                        HELPER
                    };
                    self.mode.store(next, Ordering::Relaxed);
                }
                _ => return result,
            }
        }
    }

    /// Parks until the fd may be ready (or hands the call to a helper if
    /// the poller cannot watch it).
    fn wait(&self, dir: Interest) -> io::Result<()> {
        match self.watch() {
            Some(desc) => desc.wait(dir, None),
            None => {
                self.mode.store(HELPER, Ordering::Relaxed);
                Ok(())
            }
        }
    }

    fn watch(&self) -> Option<&PollDesc> {
        let watched = self.desc.get_or_init(|| {
            // SAFETY: F_DUPFD_CLOEXEC makes a new fd we own.
            let dup =
                cvt(unsafe { libc::fcntl(self.fd, libc::F_DUPFD_CLOEXEC, 3) }).map_err(drop)?;
            // SAFETY: `dup` was just made and is owned by nobody else.
            let dup = unsafe { OwnedFd::from_raw_fd(dup) };
            let desc = PollDesc::register(dup.as_raw_fd()).map_err(drop)?;
            Ok((desc, dup))
        });
        watched.as_ref().ok().map(|(desc, _)| desc)
    }

    /// Whether poll(2) says the fd is ready for `dir` now.
    fn ready(&self, dir: Interest) -> io::Result<bool> {
        let events = match dir {
            Interest::Read => libc::POLLIN,
            Interest::Write => libc::POLLOUT,
        };
        Ok(poll_now(self.fd, events)? != 0)
    }
}
