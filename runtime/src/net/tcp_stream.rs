//! `TcpStream`: a TCP connection whose blocking calls park the goroutine.
//!
//! Connecting is a non-blocking `connect(2)` followed by a wait for
//! writability and a look at `SO_ERROR`, so it parks too; only name
//! resolution runs on a `blocking` helper. Reads and writes go through
//! [`Pollable`]; `&TcpStream` implements `Read` and `Write` as well, so one
//! goroutine can read while another writes (each direction has its own
//! waiter slot in the poller).

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::addr::{resolve, ToSocketAddrs};
use super::fd::{each_addr, start_connect, stream_socket, Pollable};
use super::sockaddr::to_raw;

/// A TCP stream between a local and a remote socket (std's `TcpStream`
/// API; blocking calls park the calling goroutine).
pub struct TcpStream {
    inner: Pollable<std::net::TcpStream>,
}

impl TcpStream {
    /// Connects to the first address of `addr` that accepts.
    pub fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        each_addr(&resolve(&addr)?, |a| connect_addr(a, None))
    }

    /// Connects to `addr`, giving up after `timeout` (`TimedOut`).
    pub fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        if timeout.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot set a 0 duration timeout",
            ));
        }
        connect_addr(addr, Some(Instant::now() + timeout)).map_err(|e| {
            if e.kind() == io::ErrorKind::WouldBlock {
                io::Error::new(io::ErrorKind::TimedOut, "connection timed out")
            } else {
                e
            }
        })
    }

    /// Wraps an accepted stream that is non-blocking already (`accept4`).
    pub(crate) fn from_accepted(s: std::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            inner: Pollable::new(s)?,
        })
    }

    /// The address of the remote end (Go's `RemoteAddr`).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Turns Nagle's algorithm off (`true`) or on: `TCP_NODELAY`, Go's
    /// `SetNoDelay`. Unlike Go, which sets it on every new connection,
    /// this keeps the system default until asked.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set (see [`TcpStream::set_nodelay`]).
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.get_ref().nodelay()
    }

    /// Sets the IP time-to-live of outgoing packets (`IP_TTL`).
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live of outgoing packets (`IP_TTL`).
    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.get_ref().ttl()
    }

    /// Reads without consuming, waiting for data like `read`.
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(|s| s.peek(buf))
    }
}

/// A non-blocking connect to one address, parked until it completes.
fn connect_addr(addr: &SocketAddr, deadline: Option<Instant>) -> io::Result<TcpStream> {
    let domain = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    let std = std::net::TcpStream::from(stream_socket(domain)?);
    let fd = std.as_raw_fd();
    let stream = TcpStream {
        inner: Pollable::new(std)?,
    };
    let Err(e) = start_connect(fd, &to_raw(addr)) else {
        return Ok(stream);
    };
    if !matches!(e.raw_os_error(), Some(libc::EINPROGRESS | libc::EINTR)) {
        return Err(e);
    }
    loop {
        stream.inner.wait_writable(deadline)?;
        if let Some(e) = stream.take_error()? {
            return Err(e);
        }
        match stream.peer_addr() {
            Ok(_) => return Ok(stream),
            // A stale readiness bit: not connected yet, wait again.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => {}
            Err(e) => return Err(e),
        }
    }
}

socket_common!(TcpStream, SocketAddr);
socket_timeouts!(TcpStream);
stream_io!(TcpStream);
socket_std_conv!(TcpStream, std::net::TcpStream);
