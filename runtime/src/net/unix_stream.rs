//! `UnixStream`: a Unix-domain stream socket whose reads and writes park
//! the goroutine.
//!
//! A local connect completes at once unless the listener's backlog is
//! full. So `connect` makes one non-blocking `connect(2)`, with no helper
//! thread. Only when that fails with `EAGAIN` (a full backlog: unlike a
//! TCP connect, a Unix one cannot be waited for while in progress) does
//! std's blocking `connect` run on a `blocking` helper, which waits for
//! room as std's does.

use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use super::fd::{start_connect, stream_socket, Pollable};
use super::sockaddr::unix_to_raw;

/// A Unix-domain stream (std's `UnixStream` API).
pub struct UnixStream {
    inner: Pollable<std::os::unix::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`.
    pub fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let raw = unix_to_raw(path)?;
        let socket = std::os::unix::net::UnixStream::from(stream_socket(libc::AF_UNIX)?);
        match start_connect(socket.as_raw_fd(), &raw) {
            Ok(()) => Ok(UnixStream {
                inner: Pollable::new(socket)?,
            }),
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                drop(socket);
                let path = path.to_path_buf();
                let std = goro_scheduler::blocking(move || {
                    std::os::unix::net::UnixStream::connect(path)
                })?;
                UnixStream::from_std(std)
            }
            Err(e) => Err(e),
        }
    }

    /// A connected pair of streams.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = std::os::unix::net::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }

    /// The address of the remote end (Go's `RemoteAddr`; unnamed for a
    /// `pair` or a client that did not bind).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }
}

socket_common!(UnixStream, SocketAddr);
socket_timeouts!(UnixStream);
stream_io!(UnixStream);
socket_std_conv!(UnixStream, std::os::unix::net::UnixStream);
