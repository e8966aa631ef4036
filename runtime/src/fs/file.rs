//! [`File`]: std's `File` whose calls never hold the M longer than a
//! page-cache hit.
//!
//! A file is one of two kinds, chosen at open from `fstat`:
//! - *disk* (regular files, directories, block devices, and character
//!   devices the poller cannot watch such as `/dev/null`): a read or write
//!   first tries `preadv2`/`pwritev2` with `RWF_NOWAIT` at the current
//!   position, which the kernel serves only from the page cache and
//!   otherwise refuses with `EAGAIN`; a refused call (or every call, once
//!   the file system has said it does not support `RWF_NOWAIT`) runs on a
//!   `blocking` helper. Calls that always may wait for the disk (`sync_all`,
//!   `set_len`) go to a helper directly; `seek` and `metadata` do not wait.
//! - *polled* (FIFOs, terminals, and other character devices epoll can
//!   watch): the fd is non-blocking and registered on the network poller,
//!   and a call that would block parks the goroutine, as a socket's does.
//!   A FIFO opened for reading before any writer came reads end-of-file
//!   from the kernel; such a read waits for a writer instead (while the
//!   fd reports no hang-up, no writer has come since the open), which is
//!   what std's blocking open and read would have done.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use std::os::unix::fs::FileTypeExt;

use super::open::OpenOptions;
use super::Metadata;
use crate::io::nowait;
use crate::net::fd::{cvt, Pollable};

/// An open file (std's `File`, with std's methods and traits).
pub struct File {
    inner: Inner,
}

/// Field order in `Polled`: the desc leaves the epoll set (`Pollable`
/// drops its desc first) before the file closes the fd.
enum Inner {
    Disk {
        file: std::fs::File,
        /// The file system refused `RWF_NOWAIT` once: go straight to a helper.
        no_nowait: AtomicBool,
    },
    Polled {
        file: Pollable<std::fs::File>,
        /// A FIFO opened for reading only (see the module comment).
        fifo_reader: bool,
    },
}

impl File {
    /// Opens `path` for reading (std's `File::open`).
    pub fn open<P: AsRef<Path>>(path: P) -> io::Result<File> {
        OpenOptions::new().read(true).open(path)
    }

    /// Opens `path` for writing, creating or truncating it (std's
    /// `File::create`).
    pub fn create<P: AsRef<Path>>(path: P) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
    }

    /// Creates `path` for reading and writing, failing if it exists.
    pub fn create_new<P: AsRef<Path>>(path: P) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
    }

    /// std's `File::options`.
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps an fd `open_fd` returned as the kind its file type calls for.
    /// A disk file loses the `O_NONBLOCK` of the fast path unless
    /// `keep_nonblocking` (an fd that never leaves goro, as `fs::read`'s)
    /// or the caller asked for it in `custom_flags`.
    pub(super) fn from_opened(
        fd: OwnedFd,
        opts: &OpenOptions,
        keep_nonblocking: bool,
    ) -> io::Result<(File, Metadata)> {
        let keep_nonblocking = keep_nonblocking || opts.asks_nonblocking();
        let file = std::fs::File::from(fd);
        let meta = file.metadata()?;
        let kind = meta.file_type();
        if kind.is_fifo() || kind.is_char_device() || kind.is_socket() {
            set_nonblocking(file.as_raw_fd(), true)?;
            match Pollable::try_new(file) {
                Ok(polled) => {
                    let inner = Inner::Polled {
                        file: polled,
                        fifo_reader: kind.is_fifo() && opts.read_only(),
                    };
                    return Ok((File { inner }, meta));
                }
                // Not pollable (`/dev/null`, `/dev/zero`): a disk file.
                Err((file, e)) if e.raw_os_error() == Some(libc::EPERM) => {
                    set_nonblocking(file.as_raw_fd(), keep_nonblocking)?;
                    return Ok((File::disk(file), meta));
                }
                Err((_, e)) => return Err(e),
            }
        }
        if !keep_nonblocking {
            set_nonblocking(file.as_raw_fd(), false)?;
        }
        Ok((File::disk(file), meta))
    }

    fn disk(file: std::fs::File) -> File {
        File {
            inner: Inner::Disk {
                file,
                no_nowait: AtomicBool::new(false),
            },
        }
    }

    fn std(&self) -> &std::fs::File {
        match &self.inner {
            Inner::Disk { file, .. } => file,
            Inner::Polled { file, .. } => file.get_ref(),
        }
    }

    /// The file's metadata (`fstat`: the inode is in memory while open).
    pub fn metadata(&self) -> io::Result<Metadata> {
        self.std().metadata()
    }

    /// Flushes data and metadata to the device (on a helper).
    pub fn sync_all(&self) -> io::Result<()> {
        let f = self.std();
        crate::blocking(|| f.sync_all())
    }

    /// Flushes data to the device (on a helper).
    pub fn sync_data(&self) -> io::Result<()> {
        let f = self.std();
        crate::blocking(|| f.sync_data())
    }

    /// Truncates or extends the file to `size` bytes (on a helper).
    pub fn set_len(&self, size: u64) -> io::Result<()> {
        let f = self.std();
        crate::blocking(|| f.set_len(size))
    }

    /// Changes the permissions (on a helper).
    pub fn set_permissions(&self, perm: std::fs::Permissions) -> io::Result<()> {
        let f = self.std();
        crate::blocking(|| f.set_permissions(perm))
    }

    /// A second handle to the same open file (std's `try_clone`).
    pub fn try_clone(&self) -> io::Result<File> {
        match &self.inner {
            Inner::Disk { file, .. } => Ok(File::disk(file.try_clone()?)),
            Inner::Polled { file, fifo_reader } => Ok(File {
                inner: Inner::Polled {
                    file: Pollable::new(file.get_ref().try_clone()?)?,
                    fifo_reader: *fifo_reader,
                },
            }),
        }
    }

    /// The std file, in blocking mode (a polled file is taken off the
    /// poller).
    ///
    /// Clearing `O_NONBLOCK` changes the open file, which every duplicate
    /// shares: a goro handle made by [`try_clone`](Self::try_clone) of a
    /// FIFO or terminal then blocks its M in reads and writes instead of
    /// parking. Detach only a file nobody else uses through goro.
    pub fn into_std(self) -> io::Result<std::fs::File> {
        let file = match self.inner {
            Inner::Disk { file, .. } => file,
            Inner::Polled { file, .. } => file.into_inner(),
        };
        set_nonblocking(file.as_raw_fd(), false)?;
        Ok(file)
    }

    fn read_into(&self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.inner {
            Inner::Disk { file, no_nowait } => disk_read(file, no_nowait, buf),
            Inner::Polled { file, fifo_reader } => loop {
                let n = file.read(|f| (&*f).read(&mut *buf))?;
                if n > 0 || buf.is_empty() || !*fifo_reader || hung_up(file.get_ref())? {
                    return Ok(n);
                }
                // No writer since the open: wait for one (its data or close).
                file.wait_readable()?;
            },
        }
    }

    fn write_from(&self, buf: &[u8]) -> io::Result<usize> {
        match &self.inner {
            Inner::Disk { file, no_nowait } => disk_write(file, no_nowait, buf),
            Inner::Polled { file, .. } => file.write(|f| (&*f).write(buf)),
        }
    }

    fn seek_to(&self, pos: SeekFrom) -> io::Result<u64> {
        let mut file = self.std();
        file.seek(pos)
    }
}

/// A read of a disk file: `RWF_NOWAIT` first, a helper if refused.
fn disk_read(file: &std::fs::File, no_nowait: &AtomicBool, buf: &mut [u8]) -> io::Result<usize> {
    goro_scheduler::preempt_point();
    if !no_nowait.load(Ordering::Relaxed) {
        let r = nowait::read(file.as_raw_fd(), buf, libc::RWF_NOWAIT);
        if let Some(r) = nowait_result(r, no_nowait) {
            return r;
        }
    }
    crate::blocking(|| (&*file).read(buf))
}

/// A write of a disk file: `RWF_NOWAIT` first, a helper if refused.
fn disk_write(file: &std::fs::File, no_nowait: &AtomicBool, buf: &[u8]) -> io::Result<usize> {
    goro_scheduler::preempt_point();
    if !no_nowait.load(Ordering::Relaxed) {
        let r = nowait::write(file.as_raw_fd(), buf, libc::RWF_NOWAIT);
        if let Some(r) = nowait_result(r, no_nowait) {
            return r;
        }
    }
    crate::blocking(|| (&*file).write(buf))
}

/// The result of an `RWF_NOWAIT` call, or `None` if it must be redone on
/// a helper (`EAGAIN`: it would wait; `EOPNOTSUPP`: the file system does
/// not do `RWF_NOWAIT`, remembered in `no_nowait`; `EINTR`).
fn nowait_result(r: io::Result<usize>, no_nowait: &AtomicBool) -> Option<io::Result<usize>> {
    match r.as_ref().map_err(io::Error::raw_os_error) {
        Err(Some(libc::EAGAIN | libc::EINTR)) => None,
        Err(Some(libc::EOPNOTSUPP)) => {
            no_nowait.store(true, Ordering::Relaxed);
            None
        }
        _ => Some(r),
    }
}

/// Whether a FIFO's reader sees a hang-up: a writer came and went.
fn hung_up(file: &std::fs::File) -> io::Result<bool> {
    Ok(nowait::poll_now(file.as_raw_fd(), libc::POLLIN)? & libc::POLLHUP != 0)
}

/// Sets or clears `O_NONBLOCK` on `fd`.
pub(crate) fn set_nonblocking(fd: RawFd, on: bool) -> io::Result<()> {
    // SAFETY: fcntl(F_GETFL/F_SETFL) on an fd the caller owns.
    let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    let want = if on {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    if want != flags {
        // SAFETY: fcntl(F_SETFL) on an fd the caller owns only sets its
        // status flags.
        cvt(unsafe { libc::fcntl(fd, libc::F_SETFL, want) })?;
    }
    Ok(())
}

macro_rules! file_io {
    ($ty:ty) => {
        impl Read for $ty {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.read_into(buf)
            }
        }

        impl Write for $ty {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.write_from(buf)
            }

            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }

        impl Seek for $ty {
            fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
                self.seek_to(pos)
            }
        }
    };
}

file_io!(File);
file_io!(&File);

impl AsRawFd for File {
    fn as_raw_fd(&self) -> RawFd {
        self.std().as_raw_fd()
    }
}

impl AsFd for File {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.std().as_fd()
    }
}

impl IntoRawFd for File {
    fn into_raw_fd(self) -> RawFd {
        match self.into_std() {
            Ok(f) => f.into_raw_fd(),
            Err(e) => panic!("goro: File::into_raw_fd cannot detach the file: {e}"),
        }
    }
}

impl FromRawFd for File {
    /// # Safety
    /// `fd` is an open file descriptor that nobody else owns.
    unsafe fn from_raw_fd(fd: RawFd) -> File {
        // SAFETY: the caller's guarantee.
        File::from(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

impl From<OwnedFd> for File {
    /// Takes an fd as a disk file (its calls go to a helper when they
    /// would wait): a pipe or terminal fd belongs in `goro::io` or
    /// `goro::process` types instead.
    fn from(fd: OwnedFd) -> File {
        File::disk(std::fs::File::from(fd))
    }
}

impl From<std::fs::File> for File {
    fn from(file: std::fs::File) -> File {
        File::disk(file)
    }
}

impl std::fmt::Debug for File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("File")
            .field("fd", &self.as_raw_fd())
            .field("polled", &matches!(self.inner, Inner::Polled { .. }))
            .finish()
    }
}
