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

            pub fn read_timeout(&self) -> std::io::Result<Option<std::time::Duration>> {
                Ok(self.inner.read_timeout())
            }

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
