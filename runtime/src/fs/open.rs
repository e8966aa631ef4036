//! Opening a file without holding the M: [`OpenOptions`] (std's builder)
//! and the fast and slow paths of `open`.
//!
//! Fast path: `openat2` with `RESOLVE_CACHED`, which fails with `EAGAIN`
//! instead of reading a directory from disk (every path component must be
//! in the dentry cache; the kernel also refuses `O_CREAT`/`O_TRUNC` there,
//! since those write), and with `O_NONBLOCK`, so that opening a FIFO with
//! no partner, a device that waits for a carrier, or a file under a lease
//! being broken returns at once instead of sleeping. Whatever the fast
//! path refuses (and every open on a kernel older than 5.12) is done on a
//! `blocking` helper with the caller's own flags, where it may sleep.
//! A kernel without `openat2`, or a seccomp sandbox that answers it with
//! `EPERM`, is remembered ([`OPENAT2`]), and later opens go straight to
//! the helper (a genuine `EPERM` comes back from open(2) there).
//!
//! One wait never goes to a helper: a FIFO opened for writing before any
//! reader (`ENXIO` from the non-blocking open). A helper would sleep in
//! open(2) until a reader comes, maybe forever, and shutdown waits for
//! helpers; instead the goroutine retries the non-blocking open on a
//! timer with backoff, parked in between, as it would wait on the poller.

use std::ffi::CString;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::net::fd::new_fd;

/// std's `OpenOptions`, with the same methods and the same validation.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    read: bool,
    write: bool,
    append: bool,
    truncate: bool,
    create: bool,
    create_new: bool,
    mode: libc::mode_t,
    custom_flags: libc::c_int,
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl OpenOptions {
    /// Options with everything off (and mode `0o666`), as std's.
    pub fn new() -> OpenOptions {
        OpenOptions {
            read: false,
            write: false,
            append: false,
            truncate: false,
            create: false,
            create_new: false,
            mode: 0o666,
            custom_flags: 0,
        }
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut Self {
        self.read = read;
        self
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut Self {
        self.write = write;
        self
    }

    /// Open for appending (implies writing).
    pub fn append(&mut self, append: bool) -> &mut Self {
        self.append = append;
        self
    }

    /// Truncate the file to 0 bytes on open (needs write access).
    pub fn truncate(&mut self, truncate: bool) -> &mut Self {
        self.truncate = truncate;
        self
    }

    /// Create the file if it does not exist (needs write or append).
    pub fn create(&mut self, create: bool) -> &mut Self {
        self.create = create;
        self
    }

    /// Create the file, failing if it exists (needs write or append).
    pub fn create_new(&mut self, create_new: bool) -> &mut Self {
        self.create_new = create_new;
        self
    }

    /// The permission bits a created file gets (before the umask).
    pub fn mode(&mut self, mode: u32) -> &mut Self {
        self.mode = mode as libc::mode_t;
        self
    }

    /// Extra `open(2)` flags (the access mode bits are ignored, as in std).
    pub fn custom_flags(&mut self, flags: i32) -> &mut Self {
        self.custom_flags = flags;
        self
    }

    /// Opens `path` with these options.
    pub fn open<P: AsRef<Path>>(&self, path: P) -> io::Result<super::File> {
        Ok(self.open_file(path.as_ref(), false)?.0)
    }

    /// Opens `path`; see [`File::from_opened`](super::File) for
    /// `keep_nonblocking`.
    /// Also returns the file's metadata (the `fstat` that chose its kind).
    pub(super) fn open_file(
        &self,
        path: &Path,
        keep_nonblocking: bool,
    ) -> io::Result<(super::File, super::Metadata)> {
        let fd = open_fd(path, self.flags()?, self.mode)?;
        super::File::from_opened(fd, self, keep_nonblocking)
    }

    /// The `open(2)` flags, or std's error for a meaningless combination.
    fn flags(&self) -> io::Result<libc::c_int> {
        let invalid = || Err(io::Error::from_raw_os_error(libc::EINVAL));
        let access = match (self.read, self.write, self.append) {
            (true, false, false) => libc::O_RDONLY,
            (false, true, false) => libc::O_WRONLY,
            (true, true, false) => libc::O_RDWR,
            (false, _, true) => libc::O_WRONLY | libc::O_APPEND,
            (true, _, true) => libc::O_RDWR | libc::O_APPEND,
            (false, false, false) => return invalid(),
        };
        match (self.write, self.append) {
            (true, false) => {}
            (false, false) if self.truncate || self.create || self.create_new => return invalid(),
            (_, true) if self.truncate && !self.create_new => return invalid(),
            _ => {}
        }
        let creation = match (self.create, self.truncate, self.create_new) {
            (false, false, false) => 0,
            (true, false, false) => libc::O_CREAT,
            (false, true, false) => libc::O_TRUNC,
            (true, true, false) => libc::O_CREAT | libc::O_TRUNC,
            (_, _, true) => libc::O_CREAT | libc::O_EXCL,
        };
        Ok(libc::O_CLOEXEC | access | creation | (self.custom_flags & !libc::O_ACCMODE))
    }

    /// Whether the caller asked for `O_NONBLOCK` (kept on a disk file).
    pub(super) fn asks_nonblocking(&self) -> bool {
        self.custom_flags & libc::O_NONBLOCK != 0
    }

    /// Whether the file was opened for reading only (a FIFO's reader).
    pub(super) fn read_only(&self) -> bool {
        self.read && !self.write && !self.append
    }
}

/// Whether `openat2` may work here: cleared on the first answer that
/// says it never will (no such call, or a sandbox refusing it).
static OPENAT2: AtomicBool = AtomicBool::new(true);

/// How the fast path's error decides what happens next.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Not now (not cached, would write, would wait): the helper.
    Slow,
    /// `openat2` does not work here: the helper, now and for later opens.
    Unavailable,
    /// A FIFO opened for writing has no reader yet (or another `ENXIO`:
    /// a device without its driver, a socket file; the caller checks).
    NoReader,
}

/// What an error of the fast path means (`None`: it is the answer).
pub(super) fn refusal(e: &io::Error) -> Option<Refusal> {
    match e.raw_os_error()? {
        libc::EAGAIN | libc::EINVAL => Some(Refusal::Slow),
        libc::ENOSYS | libc::EPERM => Some(Refusal::Unavailable),
        libc::ENXIO => Some(Refusal::NoReader),
        _ => None,
    }
}

/// Opens `path` with `flags`: the fast path if the kernel can do it
/// without sleeping, else on a `blocking` helper (see the module comment).
/// The fd of the fast path is non-blocking; the slow path's has exactly
/// `flags`.
pub(super) fn open_fd(path: &Path, flags: libc::c_int, mode: libc::mode_t) -> io::Result<OwnedFd> {
    let c_path = c_path(path)?;
    if OPENAT2.load(Ordering::Relaxed) {
        let mut backoff = Duration::from_millis(1);
        loop {
            let e = match open_cached(&c_path, flags | libc::O_NONBLOCK, mode) {
                Ok(fd) => return Ok(fd),
                Err(e) => e,
            };
            match refusal(&e) {
                None => return Err(e),
                Some(Refusal::Slow) => break,
                Some(Refusal::Unavailable) => {
                    OPENAT2.store(false, Ordering::Relaxed);
                    break;
                }
                Some(Refusal::NoReader) if is_fifo(path) => {
                    crate::time::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_millis(100));
                }
                Some(Refusal::NoReader) => break,
            }
        }
    }
    crate::blocking(|| {
        // SAFETY: `c_path` is a valid NUL-terminated string; open(2) only
        // reads it, and returns a new fd or -1.
        unsafe { new_fd(libc::open(c_path.as_ptr(), flags, mode as libc::c_uint)) }
    })
}

/// Whether `path` names a FIFO (its inode was just looked up: cached).
fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

/// Whether a fast-path error sends the call to a helper (used by the
/// fast `metadata`): anything [`refusal`] does not call final.
pub(super) fn needs_slow_path(e: &io::Error) -> bool {
    match refusal(e) {
        Some(Refusal::Unavailable) => {
            OPENAT2.store(false, Ordering::Relaxed);
            true
        }
        other => other.is_some(),
    }
}

/// Whether the fast path is worth trying (`openat2` not known to fail).
pub(super) fn fast_path_available() -> bool {
    OPENAT2.load(Ordering::Relaxed)
}

/// `openat2(AT_FDCWD, path, flags, mode, RESOLVE_CACHED)`.
pub(super) fn open_cached(
    path: &CString,
    flags: libc::c_int,
    mode: libc::mode_t,
) -> io::Result<OwnedFd> {
    // SAFETY: all-zero is a valid `open_how` (no flags, no resolve rules).
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = flags as u64;
    // The kernel rejects a mode without O_CREAT.
    if flags & libc::O_CREAT != 0 {
        how.mode = mode as u64;
    }
    how.resolve = libc::RESOLVE_CACHED;
    // SAFETY: `path` is NUL-terminated and `how` a valid `open_how` whose
    // size we pass; the kernel only reads both, and returns a new fd or -1.
    unsafe {
        new_fd(libc::syscall(
            libc::SYS_openat2,
            libc::AT_FDCWD,
            path.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        ))
    }
}

/// `path` as a C string (std's error for an interior NUL).
pub(super) fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "file name contained an unexpected NUL byte",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sandbox's EPERM (and a missing call's ENOSYS) takes the slow path
    /// rather than failing the open.
    #[test]
    fn refusals_that_take_the_slow_path() {
        let err = io::Error::from_raw_os_error;
        assert_eq!(refusal(&err(libc::EPERM)), Some(Refusal::Unavailable));
        assert_eq!(refusal(&err(libc::ENOSYS)), Some(Refusal::Unavailable));
        assert_eq!(refusal(&err(libc::EAGAIN)), Some(Refusal::Slow));
        assert_eq!(refusal(&err(libc::ENXIO)), Some(Refusal::NoReader));
        assert_eq!(refusal(&err(libc::ENOENT)), None);
        assert_eq!(refusal(&err(libc::EACCES)), None);
    }
}
