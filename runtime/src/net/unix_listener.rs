//! `UnixListener`: a listening Unix-domain socket whose `accept` parks the
//! goroutine.

use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use super::fd::Pollable;
use super::UnixStream;

/// A Unix-domain socket server (std's `UnixListener` API).
pub struct UnixListener {
    inner: Pollable<std::os::unix::net::UnixListener>,
}

impl UnixListener {
    /// Binds to `path` (which must not exist yet).
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        let std = std::os::unix::net::UnixListener::bind(path)?;
        UnixListener::from_std(std)
    }

    /// Waits for a connection (parking the goroutine).
    pub fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (s, addr) = self.inner.read_untimed(|l| l.accept())?;
        Ok((UnixStream::from_std(s)?, addr))
    }

    /// Stops accepting, as [`TcpListener::shutdown`](super::TcpListener::shutdown).
    pub fn shutdown(&self) -> io::Result<()> {
        self.inner.stop_listening()
    }
}

socket_common!(UnixListener, SocketAddr);
socket_std_conv!(UnixListener, std::os::unix::net::UnixListener);
