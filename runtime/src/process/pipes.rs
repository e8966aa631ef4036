//! A child's standard streams on goro's side: the parent's ends of std's
//! pipes, made non-blocking and put on the network poller, so a read or
//! write that would block parks the goroutine. Only the parent's end is
//! changed: the child's end of a pipe is a separate open file, and stays
//! blocking.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use crate::fs::set_nonblocking;
use crate::net::fd::Pollable;

/// The parent's end of a child's pipe, registered with the poller.
fn polled(fd: OwnedFd) -> io::Result<Pollable<std::fs::File>> {
    set_nonblocking(fd.as_raw_fd(), true)?;
    Pollable::new(std::fs::File::from(fd))
}

macro_rules! child_pipe {
    ($(#[$doc:meta])* $name:ident, $std:ty) => {
        $(#[$doc])*
        pub struct $name {
            inner: Pollable<std::fs::File>,
        }

        impl $name {
            pub(super) fn new(std: $std) -> io::Result<$name> {
                Ok($name { inner: polled(OwnedFd::from(std))? })
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.inner.get_ref().as_raw_fd()
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.inner.get_ref().as_fd()
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("fd", &self.as_raw_fd())
                    .finish()
            }
        }
    };
}

macro_rules! child_reader {
    ($name:ident) => {
        impl Read for $name {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.inner.read(|f| (&*f).read(&mut *buf))
            }
        }
    };
}

child_pipe!(
    /// The child's standard input: writes park while the pipe is full.
    /// Dropping it closes the pipe (the child reads end-of-file).
    ChildStdin,
    std::process::ChildStdin
);
child_pipe!(
    /// The child's standard output: reads park until it writes or exits.
    ChildStdout,
    std::process::ChildStdout
);
child_pipe!(
    /// The child's standard error: reads park until it writes or exits.
    ChildStderr,
    std::process::ChildStderr
);
child_reader!(ChildStdout);
child_reader!(ChildStderr);

impl Write for ChildStdin {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(|f| (&*f).write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
