//! `TcpListener`: a listening TCP socket whose `accept` parks the goroutine.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};

use super::addr::{resolve, ToSocketAddrs};
use super::fd::{cvt, each_addr, Pollable};
use super::sockaddr::RawAddr;
use super::TcpStream;

/// A TCP socket server (std's `TcpListener` API).
pub struct TcpListener {
    inner: Pollable<std::net::TcpListener>,
}

impl TcpListener {
    /// Binds to the first address of `addr` that works, listening with the
    /// system's largest backlog (`somaxconn`, as Go does).
    pub fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        let std = each_addr(&resolve(&addr)?, |a| std::net::TcpListener::bind(a))?;
        // SAFETY: a plain system call on a listening socket we own; a second
        // listen(2) only changes the backlog (-1: the system maximum).
        cvt(unsafe { libc::listen(std.as_raw_fd(), -1) })?;
        TcpListener::from_std(std)
    }

    /// Waits for a connection (parking the goroutine).
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (fd, addr) = self
            .inner
            .read_untimed(|l| accept_nonblocking(l.as_raw_fd()))?;
        // SAFETY: `accept4` just returned this fd, and nothing else owns it.
        let s = unsafe { std::net::TcpStream::from_raw_fd(fd) };
        Ok((TcpStream::from_accepted(s)?, addr))
    }

    /// Stops accepting (a goro extension, Go's `Listener.Close` for a
    /// listener shared by reference): pending and later `accept`s on this
    /// socket, in any goroutine and through any clone, fail with
    /// `InvalidInput`. Cancels an accept loop, e.g. from a goroutine
    /// waiting on a context's `done()`.
    pub fn shutdown(&self) -> io::Result<()> {
        self.inner.stop_listening()
    }

    /// An endless iterator of `accept` results.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// Sets the IP time-to-live of the packets the listener sends (`IP_TTL`).
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live of the packets the listener sends (`IP_TTL`).
    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.get_ref().ttl()
    }
}

/// `accept4(2)` of a connection that is non-blocking and close-on-exec
/// from the start (std's `accept` would need an `ioctl` more per
/// connection to make it non-blocking).
fn accept_nonblocking(listener: RawFd) -> io::Result<(RawFd, SocketAddr)> {
    let (fd, raw) = RawAddr::receive(|addr, len| {
        // SAFETY: `addr` and `len` are live and describe a buffer of `len`
        // bytes, which the kernel fills; the flags are valid.
        cvt(unsafe {
            libc::accept4(
                listener,
                addr,
                len,
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            )
        })
    })?;
    match raw.to_socket_addr() {
        Ok(addr) => Ok((fd, addr)),
        Err(e) => {
            // SAFETY: we own `fd` and give it back on this error path.
            unsafe { libc::close(fd) };
            Err(e)
        }
    }
}

/// The iterator of [`TcpListener::incoming`].
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Iterator for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn next(&mut self) -> Option<io::Result<TcpStream>> {
        Some(self.listener.accept().map(|(s, _)| s))
    }
}

socket_common!(TcpListener, SocketAddr);
socket_std_conv!(TcpListener, std::net::TcpListener);
