//! `UnixStream`: a Unix-domain stream socket whose reads and writes park
//! the goroutine. Connecting runs std's `connect` on a `blocking` helper
//! (a local connect only waits when the listener's backlog is full).

use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use super::fd::{nonblocking, Pollable};

/// A Unix-domain stream (std's `UnixStream` API).
pub struct UnixStream {
    inner: Pollable<std::os::unix::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`.
    pub fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let path = path.as_ref().to_path_buf();
        let std = goro_scheduler::blocking(move || std::os::unix::net::UnixStream::connect(path))?;
        UnixStream::from_std(std)
    }

    /// A connected pair of streams.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = std::os::unix::net::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }

    /// Wraps a std stream (made non-blocking here).
    pub(crate) fn from_std(s: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            inner: nonblocking(s, |s| s.set_nonblocking(true))?,
        })
    }

    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }
}

socket_common!(UnixStream, SocketAddr);
socket_timeouts!(UnixStream);
stream_io!(UnixStream);
