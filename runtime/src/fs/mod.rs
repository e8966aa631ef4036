//! `goro::fs`: std::fs's functions and [`File`] with std's names and
//! error types, whose calls never hold the goroutine's M longer than a
//! page-cache hit would.
//!
//! How each call stays off the M when it would wait:
//! - opening (`open.rs`): `openat2` with `RESOLVE_CACHED` and `O_NONBLOCK`
//!   opens at once what the kernel can open without sleeping; anything
//!   else (a path not in the dentry cache, creating or truncating, a FIFO
//!   without a partner, a device) is opened on a `blocking` helper;
//! - reading and writing (`file.rs`): `preadv2`/`pwritev2` with
//!   `RWF_NOWAIT` serve page-cache hits on the goroutine's M and refuse
//!   the rest, which a helper finishes; FIFOs and terminals sit on the
//!   network poller and park the goroutine, as sockets do;
//! - [`metadata`]: `openat2(O_PATH)` with `RESOLVE_CACHED` and `fstat`,
//!   or a helper when the path is not cached;
//! - everything that changes the file system or lists a directory
//!   (`write`, `create_dir_all`, `remove_file`, `rename`, `copy`,
//!   `read_dir`, ...) runs on a helper: those may wait for the disk.
//!
//! io_uring would serve the slow cases without a helper thread, but it is
//! often disabled (containers, `kernel.io_uring_disabled`), so the helper
//! pool is the path that always works; `docs/blocking.md` has the list.

mod file;
mod open;

use std::io::{self, Read};
use std::path::{Path, PathBuf};

pub use file::File;
pub use open::OpenOptions;
pub use std::fs::{DirEntry, FileType, Metadata, Permissions};

pub(crate) use file::set_nonblocking;

/// Reads the whole file (std's `fs::read`).
pub fn read<P: AsRef<Path>>(path: P) -> io::Result<Vec<u8>> {
    let (mut file, meta) = OpenOptions::new()
        .read(true)
        .open_file(path.as_ref(), true)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads the whole file as UTF-8 (std's `fs::read_to_string`).
pub fn read_to_string<P: AsRef<Path>>(path: P) -> io::Result<String> {
    String::from_utf8(read(path)?).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// Writes `contents` as the whole file, creating or truncating it (std's
/// `fs::write`; on a helper).
pub fn write<P: AsRef<Path>, C: AsRef<[u8]>>(path: P, contents: C) -> io::Result<()> {
    let (path, contents) = (path.as_ref(), contents.as_ref());
    crate::blocking(|| std::fs::write(path, contents))
}

/// The metadata of `path`, following symlinks (std's `fs::metadata`).
pub fn metadata<P: AsRef<Path>>(path: P) -> io::Result<Metadata> {
    stat(path.as_ref(), 0, |p| std::fs::metadata(p))
}

/// The metadata of `path` itself, not following a final symlink.
pub fn symlink_metadata<P: AsRef<Path>>(path: P) -> io::Result<Metadata> {
    stat(path.as_ref(), libc::O_NOFOLLOW, |p| {
        std::fs::symlink_metadata(p)
    })
}

/// `fstat` of an `O_PATH` fd opened from the dentry cache, else `slow` on
/// a helper.
fn stat(
    path: &Path,
    extra_flags: libc::c_int,
    slow: fn(&Path) -> io::Result<Metadata>,
) -> io::Result<Metadata> {
    let flags = libc::O_PATH | libc::O_CLOEXEC | extra_flags;
    if open::fast_path_available() {
        match open::open_cached(&open::c_path(path)?, flags, 0) {
            Ok(fd) => return std::fs::File::from(fd).metadata(),
            Err(e) if open::needs_slow_path(&e) => {}
            Err(e) => return Err(e),
        }
    }
    crate::blocking(|| slow(path))
}

/// The entries of a directory (std's `fs::read_dir`), listed on a helper
/// at once; the entries are std's (`DirEntry::metadata` is a `fstatat`).
pub fn read_dir<P: AsRef<Path>>(path: P) -> io::Result<ReadDir> {
    let path = path.as_ref();
    let entries = crate::blocking(|| std::fs::read_dir(path).map(Iterator::collect::<Vec<_>>))?;
    Ok(ReadDir {
        entries: entries.into_iter(),
    })
}

/// The iterator [`read_dir`] returns.
#[derive(Debug)]
pub struct ReadDir {
    entries: std::vec::IntoIter<io::Result<DirEntry>>,
}

impl Iterator for ReadDir {
    type Item = io::Result<DirEntry>;

    fn next(&mut self) -> Option<io::Result<DirEntry>> {
        self.entries.next()
    }
}

/// Defines std's path-taking functions that run whole on a helper.
macro_rules! on_helper {
    ($( $(#[$doc:meta])* fn $name:ident($($arg:ident),*) -> $ret:ty; )*) => {$(
        $(#[$doc])*
        pub fn $name($($arg: impl AsRef<Path>),*) -> io::Result<$ret> {
            $(let $arg = $arg.as_ref();)*
            crate::blocking(|| std::fs::$name($($arg),*))
        }
    )*};
}

on_helper! {
    /// Creates a directory (std's `fs::create_dir`).
    fn create_dir(path) -> ();
    /// Creates a directory and its missing parents (std's `fs::create_dir_all`).
    fn create_dir_all(path) -> ();
    /// Removes a file (std's `fs::remove_file`).
    fn remove_file(path) -> ();
    /// Removes an empty directory (std's `fs::remove_dir`).
    fn remove_dir(path) -> ();
    /// Removes a directory and everything in it (std's `fs::remove_dir_all`).
    fn remove_dir_all(path) -> ();
    /// Renames `from` to `to`, replacing `to` (std's `fs::rename`).
    fn rename(from, to) -> ();
    /// Copies a file's contents and permissions (std's `fs::copy`).
    fn copy(from, to) -> u64;
    /// Makes `link` a hard link to `original` (std's `fs::hard_link`).
    fn hard_link(original, link) -> ();
    /// The absolute path with symlinks resolved (std's `fs::canonicalize`).
    fn canonicalize(path) -> PathBuf;
    /// The target of a symlink (std's `fs::read_link`).
    fn read_link(path) -> PathBuf;
}

/// Sets the permissions of `path` (std's `fs::set_permissions`).
pub fn set_permissions<P: AsRef<Path>>(path: P, perm: Permissions) -> io::Result<()> {
    let path = path.as_ref();
    crate::blocking(|| std::fs::set_permissions(path, perm))
}
