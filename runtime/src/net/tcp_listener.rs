//! `TcpListener`: a listening TCP socket whose `accept` parks the goroutine.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::AsRawFd;

use super::fd::{cvt, each_addr, nonblocking, resolve, Pollable};
use super::TcpStream;

/// A TCP socket server (std's `TcpListener` API).
pub struct TcpListener {
    inner: Pollable<std::net::TcpListener>,
}

impl TcpListener {
    /// Binds to the first address of `addr` that works, listening with the
    /// system's largest backlog (`somaxconn`, as Go does).
    pub fn bind<A: ToSocketAddrs + Send>(addr: A) -> io::Result<TcpListener> {
        let std = each_addr(&resolve(addr)?, |a| std::net::TcpListener::bind(a))?;
        // SAFETY: a plain system call on a listening socket we own; a second
        // listen(2) only changes the backlog (-1: the system maximum).
        cvt(unsafe { libc::listen(std.as_raw_fd(), -1) })?;
        Ok(TcpListener {
            inner: nonblocking(std, |s| s.set_nonblocking(true))?,
        })
    }

    /// Waits for a connection (parking the goroutine).
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (s, addr) = self.inner.read_untimed(|l| l.accept())?;
        Ok((TcpStream::from_std_accepted(s)?, addr))
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

    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.get_ref().set_ttl(ttl)
    }

    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.get_ref().ttl()
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
