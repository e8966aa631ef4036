//! The socket plumbing every `goro::net` type shares.
//!
//! [`Pollable`] owns a non-blocking std socket and its [`PollDesc`]: an
//! operation runs the socket's own (std) call, and when that fails with
//! `EAGAIN` it waits on the desc (the goroutine parks; a plain thread
//! blocks in poll(2)) and tries again. Read and write timeouts (std's
//! `set_read_timeout`/`set_write_timeout`, Go's deadlines renewed per call)
//! become the wait's deadline; a call that times out fails with `EAGAIN`
//! (`ErrorKind::WouldBlock`), as std's do on Unix.
//!
//! A stream read that comes back short (fewer bytes than asked, but some)
//! emptied the receive queue, so the next read does not try the call only
//! to get `EAGAIN`: it waits for a read event that came after the short
//! read's call (Tokio clears its readiness on a short read the same way).
//! That spares a request/response server one system call per request.
//!
//! Stream reads and writes themselves are [`recv`] and [`send`]: raw
//! system calls, without libc's thread-cancellation bookkeeping. Sockets
//! that connect are made and connected here too ([`stream_socket`],
//! [`start_connect`]), as non-blocking from the start; the other calls
//! go through std.
//!
//! Field order matters: the desc is dropped (the fd leaves the epoll set)
//! before the socket closes the fd.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use goro_scheduler::{Interest, PollDesc};

use super::sockaddr::RawAddr;

pub(crate) struct Pollable<S: AsRawFd> {
    desc: PollDesc,
    io: S,
    read_timeout: Timeout,
    write_timeout: Timeout,
    /// 0, or 1 + the desc's read-event count seen just before a stream read
    /// that came back short (see the module comment).
    drained_at: AtomicU64,
}

impl<S: AsRawFd> Pollable<S> {
    /// Takes a socket that is already non-blocking and registers it.
    pub(crate) fn new(io: S) -> io::Result<Pollable<S>> {
        Pollable::try_new(io).map_err(|(_, e)| e)
    }

    /// Like [`new`](Self::new), but gives `io` back if it cannot be
    /// registered (epoll refuses regular files and some devices: `EPERM`).
    pub(crate) fn try_new(io: S) -> Result<Pollable<S>, (S, io::Error)> {
        match PollDesc::register(io.as_raw_fd()) {
            Ok(desc) => Ok(Pollable {
                desc,
                io,
                read_timeout: Timeout::default(),
                write_timeout: Timeout::default(),
                drained_at: AtomicU64::new(0),
            }),
            Err(e) => Err((io, e)),
        }
    }

    /// Takes the socket off the poller and gives it back (still
    /// non-blocking).
    pub(crate) fn into_inner(self) -> S {
        let Pollable { desc, io, .. } = self;
        // The fd leaves the epoll set before anyone else may close it.
        drop(desc);
        io
    }

    /// The std socket (non-blocking: its calls may fail with `EAGAIN`).
    pub(crate) fn get_ref(&self) -> &S {
        &self.io
    }

    /// Runs a read-side call until it does not block, within the read timeout.
    pub(crate) fn read<T>(&self, f: impl FnMut(&S) -> io::Result<T>) -> io::Result<T> {
        self.retry(Interest::Read, deadline(self.read_timeout.get()), f)
    }

    /// Reads a stream into `buf` with `read` (the std socket's `read`),
    /// within the read timeout; after a short read, the next one first
    /// waits for data (see the module comment).
    pub(crate) fn read_stream(
        &self,
        buf: &mut [u8],
        mut read: impl FnMut(&S, &mut [u8]) -> io::Result<usize>,
    ) -> io::Result<usize> {
        let deadline = deadline(self.read_timeout.get());
        let mark = self.drained_at.swap(0, Ordering::Relaxed);
        if mark != 0 {
            self.desc.wait_read_after(mark - 1, deadline)?;
        }
        let mut seen = 0;
        let n = self.retry(Interest::Read, deadline, |s| {
            seen = self.desc.read_events();
            read(s, buf)
        })?;
        if n > 0 && n < buf.len() {
            self.drained_at.store(seen + 1, Ordering::Relaxed);
        }
        Ok(n)
    }

    /// Runs a write-side call until it does not block, within the write timeout.
    pub(crate) fn write<T>(&self, f: impl FnMut(&S) -> io::Result<T>) -> io::Result<T> {
        self.retry(Interest::Write, deadline(self.write_timeout.get()), f)
    }

    /// Runs a read-side call with no timeout (accept).
    pub(crate) fn read_untimed<T>(&self, f: impl FnMut(&S) -> io::Result<T>) -> io::Result<T> {
        self.retry(Interest::Read, None, f)
    }

    /// Waits until the fd may be readable, with no timeout (a FIFO waiting
    /// for its first writer, a child's pidfd).
    pub(crate) fn wait_readable(&self) -> io::Result<()> {
        self.desc.wait(Interest::Read, None)
    }

    /// Waits until the socket may be writable (a connect in progress).
    pub(crate) fn wait_writable(&self, deadline: Option<Instant>) -> io::Result<()> {
        self.desc.wait(Interest::Write, deadline)
    }

    /// Shuts a listening socket down: every parked or later accept wakes
    /// and fails (`EINVAL`).
    pub(crate) fn stop_listening(&self) -> io::Result<()> {
        // SAFETY: a plain system call on a socket we own; on a listening
        // socket shutdown(2) wakes every blocked or polling accept.
        cvt(unsafe { libc::shutdown(self.io.as_raw_fd(), libc::SHUT_RDWR) }).map(drop)
    }

    fn retry<T>(
        &self,
        interest: Interest,
        deadline: Option<Instant>,
        mut f: impl FnMut(&S) -> io::Result<T>,
    ) -> io::Result<T> {
        // Every socket call counts as a runtime call for preemption, even
        // one that never blocks (a goroutine reading a fast peer).
        goro_scheduler::preempt_point();
        loop {
            match f(&self.io) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.desc.wait(interest, deadline)?
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => return other,
            }
        }
    }

    pub(crate) fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        self.read_timeout.set(d)
    }

    pub(crate) fn set_write_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        self.write_timeout.set(d)
    }

    pub(crate) fn read_timeout(&self) -> Option<Duration> {
        self.read_timeout.get()
    }

    pub(crate) fn write_timeout(&self) -> Option<Duration> {
        self.write_timeout.get()
    }
}

/// When a call with `timeout` that starts now must give up.
fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.map(|t| Instant::now() + t)
}

/// A per-call timeout in nanoseconds (0: none).
#[derive(Default)]
struct Timeout(AtomicU64);

impl Timeout {
    fn set(&self, d: Option<Duration>) -> io::Result<()> {
        let nanos = match d {
            None => 0,
            Some(d) if d.is_zero() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "cannot set a 0 duration timeout",
                ))
            }
            Some(d) => u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1),
        };
        self.0.store(nanos, Ordering::Relaxed);
        Ok(())
    }

    fn get(&self) -> Option<Duration> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            n => Some(Duration::from_nanos(n)),
        }
    }
}

/// Tries `f` on each address in turn; returns the first success or the
/// last error (std's rule for multi-address calls).
pub(crate) fn each_addr<T>(
    addrs: &[SocketAddr],
    mut f: impl FnMut(&SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for a in addrs {
        match f(a) {
            Ok(t) => return Ok(t),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::from(io::ErrorKind::InvalidInput)))
}

/// `recv(2)` of a connected stream socket into `buf`, as std's `read`.
///
/// Made with `syscall(2)` rather than libc's `recv`, which is a thread
/// cancellation point: that costs two atomic operations on the thread
/// descriptor around every call, for cancellation that Rust code never
/// uses (`pthread_cancel` across Rust frames is undefined behaviour).
pub(crate) fn recv(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of its length.
    unsafe { stream_call(libc::SYS_recvfrom, fd, buf.as_mut_ptr(), buf.len(), 0) }
}

/// `send(2)` of `buf` on a connected stream socket, as std's `write`
/// (`MSG_NOSIGNAL`: a closed peer is an `EPIPE` error, not a signal); a
/// system call for the reason given at [`recv`].
pub(crate) fn send(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for reads of its length, and `sendto` only
    // reads it.
    unsafe {
        stream_call(
            libc::SYS_sendto,
            fd,
            buf.as_ptr().cast_mut(),
            buf.len(),
            libc::MSG_NOSIGNAL,
        )
    }
}

/// `recvfrom` or `sendto` (`nr`) of `len` bytes at `buf` on a connected
/// stream socket, naming no peer address; the byte count or `errno`.
///
/// # Safety
/// `buf` is valid for `len` bytes: for writes if `nr` is `SYS_recvfrom`,
/// for reads if it is `SYS_sendto`.
unsafe fn stream_call(
    nr: libc::c_long,
    fd: RawFd,
    buf: *mut u8,
    len: usize,
    flags: libc::c_int,
) -> io::Result<usize> {
    // SAFETY: `buf` as the caller guarantees; the null address and zero
    // length ask for, or give, no peer address. Every argument is passed
    // as a full register (`c_long`).
    let n = unsafe {
        libc::syscall(
            nr,
            fd as libc::c_long,
            buf as libc::c_long,
            len as libc::c_long,
            flags as libc::c_long,
            0 as libc::c_long,
            0 as libc::c_long,
        )
    };
    // -1: `syscall(2)` left the error in `errno`.
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// A new non-blocking, close-on-exec stream socket of `domain`.
pub(crate) fn stream_socket(domain: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: a plain system call with valid flags.
    let fd = cvt(unsafe {
        libc::socket(
            domain,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    })?;
    // SAFETY: `fd` was just created and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Starts `connect(2)` of the non-blocking socket `fd` to `addr`: `Ok` if
/// it connected at once, else the call's error (`EINPROGRESS` for a TCP
/// connect under way).
pub(crate) fn start_connect(fd: RawFd, addr: &RawAddr) -> io::Result<()> {
    let len = addr.len();
    assert!(len as usize <= std::mem::size_of::<libc::sockaddr_storage>());
    // SAFETY: `addr.as_ptr()` is a `sockaddr_storage`, readable for `len` bytes
    // (checked above); the kernel validates the address family and contents.
    cvt(unsafe { libc::connect(fd, addr.as_ptr(), len) }).map(drop)
}

/// A Unix error code as an `io::Result` of a libc call's return value.
pub(crate) fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}
