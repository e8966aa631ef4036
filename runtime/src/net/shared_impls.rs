//! What every `goro::net` type has in common, written once: each type is a
//! struct with one field, `inner: Pollable<S>` around its std twin `S`, and
//! these macros give it the std methods and traits that only forward to
//! `S` or to the `Pollable`.

/// `local_addr`, `take_error`, `try_clone` (a dup'd fd with its own poller
/// registration), `AsRawFd`, `AsFd` and `Debug`.
macro_rules! socket_common {
    ($ty:ident, $addr:ty) => {
        impl $ty {
            /// The local address the socket is bound to.
            pub fn local_addr(&self) -> std::io::Result<$addr> {
                self.inner.get_ref().local_addr()
            }

            /// Takes the pending `SO_ERROR`, if any.
            pub fn take_error(&self) -> std::io::Result<Option<std::io::Error>> {
                self.inner.get_ref().take_error()
            }

            /// A second handle to the same socket (its own fd, poller
            /// registration and timeouts).
            pub fn try_clone(&self) -> std::io::Result<$ty> {
                Ok($ty {
                    inner: $crate::net::fd::Pollable::new(self.inner.get_ref().try_clone()?)?,
                })
            }
        }

        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.inner.get_ref().as_raw_fd()
            }
        }

        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.inner.get_ref().as_fd()
            }
        }

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("fd", &std::os::fd::AsRawFd::as_raw_fd(self))
                    .field("local", &self.local_addr().ok())
                    .finish()
            }
        }
    };
}

/// std's per-call read and write timeouts (Go's deadlines, renewed per
/// call): a call that waits longer fails with `WouldBlock`, as std's do
/// on Unix; `None` waits forever; a zero duration is an `InvalidInput`
/// error, as in std.
macro_rules! socket_timeouts {
    ($ty:ident) => {
        impl $ty {
            /// Each read-side call fails with `WouldBlock` after waiting `d`.
            pub fn set_read_timeout(&self, d: Option<std::time::Duration>) -> std::io::Result<()> {
                self.inner.set_read_timeout(d)
            }

            /// Each write-side call fails with `WouldBlock` after waiting `d`.
            pub fn set_write_timeout(&self, d: Option<std::time::Duration>) -> std::io::Result<()> {
                self.inner.set_write_timeout(d)
            }

            /// The read timeout set by `set_read_timeout` (`None`: none).
            pub fn read_timeout(&self) -> std::io::Result<Option<std::time::Duration>> {
                Ok(self.inner.read_timeout())
            }

            /// The write timeout set by `set_write_timeout` (`None`: none).
            pub fn write_timeout(&self) -> std::io::Result<Option<std::time::Duration>> {
                Ok(self.inner.write_timeout())
            }
        }
    };
}

/// `Read` and `Write` for the type and for a shared reference to it (one
/// goroutine may read while another writes), plus `shutdown`.
macro_rules! stream_io {
    ($ty:ident) => {
        impl $ty {
            /// Shuts down the read half, the write half, or both.
            pub fn shutdown(&self, how: std::net::Shutdown) -> std::io::Result<()> {
                self.inner.get_ref().shutdown(how)
            }
        }

        impl std::io::Read for &$ty {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.inner.read_stream(buf, |s, buf| {
                    $crate::net::fd::recv(std::os::fd::AsRawFd::as_raw_fd(s), buf)
                })
            }
        }

        impl std::io::Write for &$ty {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.inner
                    .write(|s| $crate::net::fd::send(std::os::fd::AsRawFd::as_raw_fd(s), buf))
            }

            fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
                self.inner.write(|mut s| s.write_vectored(bufs))
            }

            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }

        impl std::io::Read for $ty {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                (&*self).read(buf)
            }
        }

        impl std::io::Write for $ty {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                (&*self).write(buf)
            }

            fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
                (&*self).write_vectored(bufs)
            }

            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
    };
}

/// Conversions to and from the std twin `$std` and raw descriptors
/// (systemd socket activation, libraries that hand over fds): `from_std`
/// takes a socket in any blocking mode and makes it non-blocking;
/// `into_std` takes it off the poller and back to blocking mode.
macro_rules! socket_std_conv {
    ($ty:ident, $std:ty) => {
        impl $ty {
            /// Takes over a std socket (in any blocking mode; goro makes it
            /// non-blocking and registers it with the poller).
            pub fn from_std(socket: $std) -> std::io::Result<$ty> {
                socket.set_nonblocking(true)?;
                Ok($ty {
                    inner: $crate::net::fd::Pollable::new(socket)?,
                })
            }

            /// The std socket, off the poller and back in blocking mode.
            pub fn into_std(self) -> std::io::Result<$std> {
                let socket = self.inner.into_inner();
                socket.set_nonblocking(false)?;
                Ok(socket)
            }

            #[track_caller]
            fn from_owned_fd(fd: std::os::fd::OwnedFd) -> $ty {
                match $ty::from_std(<$std>::from(fd)) {
                    Ok(s) => s,
                    Err(e) => panic!(
                        "goro: {} from a raw fd: the fd cannot be made non-blocking and polled: {e}",
                        stringify!($ty)
                    ),
                }
            }
        }

        impl std::os::fd::IntoRawFd for $ty {
            /// The fd, off the poller and in blocking mode (as std's).
            ///
            /// # Panics
            /// If the fd cannot be put back in blocking mode.
            fn into_raw_fd(self) -> std::os::fd::RawFd {
                match self.into_std() {
                    Ok(s) => s.into_raw_fd(),
                    Err(e) => panic!(
                        "goro: {}::into_raw_fd cannot restore blocking mode: {e}",
                        stringify!($ty)
                    ),
                }
            }
        }

        impl std::os::fd::FromRawFd for $ty {
            /// Takes over `fd` as [`from_std`](Self::from_std) does.
            ///
            /// # Safety
            /// `fd` is an open socket of the right kind that nobody else owns.
            ///
            /// # Panics
            /// If the fd cannot be made non-blocking or polled.
            #[track_caller]
            unsafe fn from_raw_fd(fd: std::os::fd::RawFd) -> $ty {
                // SAFETY: the caller's guarantee.
                $ty::from_owned_fd(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
            }
        }

        impl From<std::os::fd::OwnedFd> for $ty {
            /// Takes over `fd` as [`from_std`]($ty::from_std) does.
            ///
            /// # Panics
            /// If the fd cannot be made non-blocking or polled.
            #[track_caller]
            fn from(fd: std::os::fd::OwnedFd) -> $ty {
                $ty::from_owned_fd(fd)
            }
        }
    };
}
