//! `goro::fs`: round trips through files and directories, and errors of
//! the same kinds as std's.

use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use goro::fs;

/// A fresh directory for one test, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("goro-fs-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn whole_file_round_trips_and_metadata() {
    let dir = TempDir::new("whole");
    goro::run(move || {
        let path = dir.join("a.txt");
        fs::write(&path, b"hello, goro").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"hello, goro");
        assert_eq!(fs::read_to_string(&path).unwrap(), "hello, goro");
        let meta = fs::metadata(&path).unwrap();
        assert!(meta.is_file());
        assert_eq!(meta.len(), 11);
        assert!(fs::metadata(&dir.0).unwrap().is_dir());

        let copy = dir.join("b.txt");
        assert_eq!(fs::copy(&path, &copy).unwrap(), 11);
        let moved = dir.join("c.txt");
        fs::rename(&copy, &moved).unwrap();
        assert_eq!(fs::read(&moved).unwrap(), b"hello, goro");
        fs::remove_file(&moved).unwrap();
        assert_eq!(
            fs::metadata(&moved).unwrap_err().kind(),
            ErrorKind::NotFound
        );

        // A big file (several pages): read in full.
        let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(dir.join("big"), &big).unwrap();
        assert_eq!(fs::read(dir.join("big")).unwrap(), big);
    });
}

#[test]
fn file_read_write_seek_round_trip() {
    let dir = TempDir::new("file");
    goro::run(move || {
        let path = dir.join("f");
        let mut f = fs::File::create(&path).unwrap();
        f.write_all(b"0123456789").unwrap();
        f.sync_all().unwrap();
        assert_eq!(f.metadata().unwrap().len(), 10);
        drop(f);

        let mut f = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        f.seek(SeekFrom::Start(4)).unwrap();
        let mut four = [0u8; 4];
        f.read_exact(&mut four).unwrap();
        assert_eq!(&four, b"4567");
        f.seek(SeekFrom::End(-2)).unwrap();
        f.write_all(b"XY").unwrap();
        assert_eq!(f.stream_position().unwrap(), 10);
        f.set_len(12).unwrap();
        drop(f);
        assert_eq!(fs::read(&path).unwrap(), b"01234567XY\0\0");

        let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"!").unwrap();
        drop(f);
        let mut s = String::new();
        fs::File::open(&path)
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "01234567XY\0\0!");
        assert_eq!(
            fs::File::create_new(&path).unwrap_err().kind(),
            ErrorKind::AlreadyExists
        );
    });
}

#[test]
fn read_dir_and_create_dir_all_round_trip() {
    let dir = TempDir::new("dir");
    goro::run(move || {
        fs::create_dir_all(dir.join("x/y/z")).unwrap();
        for name in ["one", "two", "three"] {
            fs::write(dir.join("x").join(name), name).unwrap();
        }
        let mut names: Vec<String> = fs::read_dir(dir.join("x"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["one", "three", "two", "y"]);
        fs::remove_dir_all(dir.join("x")).unwrap();
        assert!(fs::read_dir(&dir.0).unwrap().next().is_none());
    });
}

/// Every error case gives the kind (and OS error) std gives.
#[test]
fn errors_are_std_kinds() {
    let dir = TempDir::new("errors");
    let missing = dir.join("missing");
    let locked = dir.join("locked");
    std::fs::write(&locked, b"secret").unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let sub = dir.join("sub");
    std::fs::create_dir(&sub).unwrap();
    // root reads a 0o000 file anyway: compare with std rather than assume.
    let std_locked = std::fs::read(&locked).map_err(|e| e.kind());
    goro::run(move || {
        let kind = |r: std::io::Result<Vec<u8>>| r.map_err(|e| e.kind());
        assert_eq!(kind(fs::read(&missing)), Err(ErrorKind::NotFound));
        assert_eq!(kind(fs::read(&locked)), std_locked);
        assert_eq!(kind(fs::read(&sub)), Err(ErrorKind::IsADirectory));
        assert_eq!(
            fs::File::open(&missing).unwrap_err().raw_os_error(),
            std::fs::File::open(&missing).unwrap_err().raw_os_error()
        );
        // Directory as a file for writing (through goro's own open path,
        // not `fs::write`, which is std's on a helper), and an invalid
        // option set.
        let write_open = |p: &std::path::Path| {
            fs::OpenOptions::new()
                .write(true)
                .open(p)
                .map(drop)
                .map_err(|e| e.kind())
        };
        assert_eq!(write_open(&sub), Err(ErrorKind::IsADirectory));
        assert_eq!(
            fs::OpenOptions::new()
                .create(true)
                .open(&missing)
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            fs::remove_dir(&missing).unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            fs::read_dir(&missing).unwrap_err().kind(),
            ErrorKind::NotFound
        );
        // A file the kernel refuses to write (even for root): std's error.
        // (root may open it; the write is refused.)
        let proc_version = "/proc/version";
        let goro_write = fs::OpenOptions::new()
            .write(true)
            .open(proc_version)
            .and_then(|mut f| f.write(b"x").map(drop))
            .map_err(|e| e.kind());
        let std_write = std::fs::OpenOptions::new()
            .write(true)
            .open(proc_version)
            .and_then(|mut f| f.write(b"x").map(drop))
            .map_err(|e| e.kind());
        assert!(goro_write.is_err());
        assert_eq!(goro_write, std_write);
        assert_eq!(write_open(&locked), std_locked.map(drop));
        let not_utf8 = sub.with_extension("bin");
        fs::write(&not_utf8, [0xff, 0xfe]).unwrap();
        assert_eq!(
            fs::read_to_string(&not_utf8).unwrap_err().kind(),
            ErrorKind::InvalidData
        );
    });
}

#[test]
fn dev_null_and_a_plain_thread_work() {
    goro::run(|| {
        let mut null = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
            .unwrap();
        null.write_all(b"gone").unwrap();
        let mut buf = [1u8; 4];
        assert_eq!(null.read(&mut buf).unwrap(), 0);
    });
    // Outside any runtime the same calls work (a helper-less fallback).
    let path = std::env::temp_dir().join(format!("goro-fs-{}-plain", std::process::id()));
    fs::write(&path, b"plain").unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"plain");
    fs::remove_file(&path).unwrap();
}

/// `O_NONBLOCK` the caller asked for in `custom_flags` stays on a disk
/// file; goro clears only the one its fast path added.
#[test]
fn custom_nonblocking_flag_is_kept_on_a_disk_file() {
    use std::os::fd::AsRawFd;
    let dir = TempDir::new("nonblock");
    let path = dir.join("f");
    std::fs::write(&path, b"x").unwrap();
    goro::run(move || {
        let flags = |f: &fs::File| {
            // SAFETY: F_GETFL on an open fd only reads its flags.
            unsafe { libc::fcntl(f.as_raw_fd(), libc::F_GETFL) }
        };
        let asked = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&path)
            .unwrap();
        assert_ne!(flags(&asked) & libc::O_NONBLOCK, 0);
        let plain = fs::File::open(&path).unwrap();
        assert_eq!(flags(&plain) & libc::O_NONBLOCK, 0);
    });
}

/// A goroutine left opening a FIFO for writing that no reader ever opens
/// does not hold up `goro::run`'s return (it waits on a timer, not on a
/// helper that shutdown would wait for).
#[test]
fn a_detached_fifo_writer_open_does_not_block_shutdown() {
    let dir = TempDir::new("fifo-shutdown");
    let path = dir.join("fifo");
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        goro::run(move || {
            let (opening, opened) = goro::chan::<()>(1);
            goro::go!(move || {
                opening.send(()).unwrap();
                let _ = fs::OpenOptions::new().write(true).open(&path);
            });
            opened.recv().unwrap();
            goro::time::sleep(std::time::Duration::from_millis(50));
        });
        done_tx.send(()).unwrap();
    });
    // A hang guard only: the run ends right after its 50 ms sleep.
    assert!(
        done_rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .is_ok(),
        "goro::run waited for the FIFO open"
    );
}
