//! Waiting on the operating system does not hold the goroutine's M: while
//! one goroutine opens a FIFO whose writer comes late, reads a slow pipe,
//! waits for a sleeping child or reads standard input fed late, 64
//! goroutines that tick every 2 ms go on ticking, at GOMAXPROCS 1 and 2.
//!
//! The check is behavioural: a goroutine that held its M for the wait
//! would stop every ticker homed on that M's P (goro never moves a started
//! goroutine), so the fewest ticks any ticker made during the wait would
//! be 0; each wait lasts about 300 ms, room for ~150 ticks. The late
//! partner starts its 300 ms only once the tickers run and the op has
//! begun (a [`Gate`]), so a slow start on a loaded machine cannot eat the
//! wait.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

const TICKERS: usize = 64;
const LATE: Duration = Duration::from_millis(300);
/// Far below the ~150 ticks a free ticker makes during the wait, far
/// above the 0 of a held one.
const MIN_TICKS: u64 = 10;

/// Opened once the tickers run and the op has begun: what a late partner
/// waits for before its delay.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    fn open(&self) {
        *self.0 .0.lock().unwrap() = true;
        self.0 .1.notify_all();
    }

    /// Blocks the (plain) thread until the gate opens, then sleeps `LATE`.
    fn wait_then_late(&self) {
        let mut open = self.0 .0.lock().unwrap();
        while !*open {
            open = self.0 .1.wait(open).unwrap();
        }
        drop(open);
        std::thread::sleep(LATE);
    }
}

/// Runs `op` in a goroutine while `TICKERS` goroutines tick every 2 ms on
/// `procs` Ps, opening `gate` as `op` begins; returns the fewest ticks a
/// ticker made while `op` ran and the longest gap between two ticks of
/// one ticker seen meanwhile.
fn ticks_during(procs: usize, gate: Gate, op: impl FnOnce() + Send + 'static) -> (u64, Duration) {
    let rt = goro::Runtime::builder().procs(procs).build().unwrap();
    rt.run(move || {
        let during = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let tickers: Vec<_> = (0..TICKERS)
            .map(|_| {
                let (during, stop) = (during.clone(), stop.clone());
                goro::go!(move || {
                    let (mut ticks, mut gap) = (0u64, Duration::ZERO);
                    let mut last = Instant::now();
                    while !stop.load(Ordering::SeqCst) {
                        goro::time::sleep(Duration::from_millis(2));
                        let now = Instant::now();
                        if during.load(Ordering::SeqCst) {
                            ticks += 1;
                            gap = gap.max(now - last);
                        }
                        last = now;
                    }
                    (ticks, gap)
                })
            })
            .collect();
        // Let every ticker start (and get homed) before the wait begins.
        goro::time::sleep(Duration::from_millis(20));
        let flag = during.clone();
        goro::go!(move || {
            flag.store(true, Ordering::SeqCst);
            gate.open();
            op();
            flag.store(false, Ordering::SeqCst);
        })
        .join()
        .unwrap();
        stop.store(true, Ordering::SeqCst);
        let results: Vec<(u64, Duration)> =
            tickers.into_iter().map(|t| t.join().unwrap()).collect();
        let fewest = results.iter().map(|r| r.0).min().unwrap();
        let gap = results.iter().map(|r| r.1).max().unwrap();
        (fewest, gap)
    })
}

/// Runs `case` at GOMAXPROCS 1 and 2 and checks the tickers kept going.
fn check_not_held(name: &str, case: impl Fn(Gate) -> Box<dyn FnOnce() + Send>) {
    for procs in [1, 2] {
        let gate = Gate::default();
        let (fewest, gap) = ticks_during(procs, gate.clone(), case(gate));
        println!("{name}, GOMAXPROCS={procs}: fewest ticks {fewest}, longest gap {gap:?}");
        assert!(
            fewest >= MIN_TICKS,
            "{name} at GOMAXPROCS={procs} held tickers: fewest ticks {fewest}, longest gap {gap:?}"
        );
    }
}

/// A fresh FIFO (removed when dropped).
struct Fifo(PathBuf);

impl Fifo {
    fn new(name: &str) -> Fifo {
        let path = std::env::temp_dir().join(format!("goro-ticks-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        Fifo(path)
    }
}

impl Drop for Fifo {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn opening_a_fifo_whose_writer_comes_late() {
    check_not_held("FIFO open, writer late", |gate| {
        let fifo = Fifo::new("open-late");
        let path = fifo.0.clone();
        let writer = std::thread::spawn(move || {
            gate.wait_then_late();
            std::fs::write(&path, b"late data").unwrap();
        });
        Box::new(move || {
            let got = goro::fs::read(&fifo.0).unwrap();
            assert_eq!(got, b"late data");
            writer.join().unwrap();
        })
    });
}

#[test]
fn opening_a_fifo_for_writing_whose_reader_comes_late() {
    check_not_held("FIFO open for writing, reader late", |gate| {
        let fifo = Fifo::new("write-late");
        let path = fifo.0.clone();
        let reader = std::thread::spawn(move || {
            gate.wait_then_late();
            std::fs::read(&path).unwrap()
        });
        Box::new(move || {
            let mut f = goro::fs::OpenOptions::new()
                .write(true)
                .open(&fifo.0)
                .unwrap();
            f.write_all(b"to a late reader").unwrap();
            drop(f);
            assert_eq!(reader.join().unwrap(), b"to a late reader");
        })
    });
}

#[test]
fn reading_a_slow_pipe() {
    check_not_held("slow FIFO read", |gate| {
        let fifo = Fifo::new("slow");
        let path = fifo.0.clone();
        let writer = std::thread::spawn(move || {
            let mut w = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            w.write_all(b"first ").unwrap();
            gate.wait_then_late();
            w.write_all(b"second").unwrap();
        });
        Box::new(move || {
            let mut f = goro::fs::File::open(&fifo.0).unwrap();
            let mut got = String::new();
            f.read_to_string(&mut got).unwrap();
            assert_eq!(got, "first second");
            writer.join().unwrap();
        })
    });
}

#[test]
fn waiting_for_a_child_that_sleeps() {
    check_not_held("child wait", |_| {
        Box::new(|| {
            let st = goro::process::Command::new("sleep")
                .arg("0.3")
                .status()
                .unwrap();
            assert!(st.success());
        })
    });
}

#[test]
fn reading_a_childs_slow_output() {
    check_not_held("child stdout read", |_| {
        Box::new(|| {
            let out = goro::process::Command::new("sh")
                .args(["-c", "sleep 0.3; echo done"])
                .output()
                .unwrap();
            assert_eq!(out.stdout, b"done\n");
        })
    });
}

const CHILD: &str = "GORO_TEST_CHILD";

/// Standard input is a pipe whose writer (the parent) writes 300 ms late:
/// this case runs in a child process whose stdin is that pipe.
#[test]
fn reading_stdin_fed_late() {
    if std::env::var(CHILD).as_deref() == Ok("stdin") {
        check_not_held("stdin read", |_| {
            Box::new(|| {
                // The parent's delay starts at this line.
                writeln!(goro::io::stdout(), "waiting").unwrap();
                let line = goro::io::stdin().lines().next().unwrap().unwrap();
                assert!(line.starts_with("late line"), "{line:?}");
                writeln!(goro::io::stdout(), "goro stdout got {line}").unwrap();
            })
        });
        return;
    }
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "reading_stdin_fed_late",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "stdin")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut out = String::new();
    // Two runs (GOMAXPROCS 1 and 2), each reading one line fed late.
    for i in 0..2 {
        while !out.ends_with("waiting\n") {
            let n = stdout.read_line(&mut out).unwrap();
            assert!(n > 0, "the child ended before waiting: {out}");
        }
        std::thread::sleep(LATE);
        writeln!(stdin, "late line {i}").unwrap();
        out.push_str("(fed)\n");
    }
    stdout.read_to_string(&mut out).unwrap();
    let st = child.wait().unwrap();
    println!("{out}");
    assert!(st.success(), "{out}");
    assert_eq!(out.matches("stdin read, GOMAXPROCS=").count(), 2, "{out}");
    assert!(out.contains("goro stdout got late line 0\n"), "{out}");
    assert!(out.contains("goro stdout got late line 1\n"), "{out}");
}

/// Standard output is a terminal that nobody reads for 300 ms while a
/// goroutine writes 1 MiB to it: the write parks between terminal-sized
/// pieces instead of blocking its M until the reader drains the terminal.
/// The case runs in a child whose stdout is a pty the parent reads late.
#[test]
fn writing_much_to_a_terminal_read_late() {
    if std::env::var(CHILD).as_deref() == Ok("tty") {
        check_not_held("terminal write", |_| {
            Box::new(|| {
                let mut out = goro::io::stdout();
                // The parent stops reading at this line.
                writeln!(out, "waiting").unwrap();
                out.write_all(&vec![b'x'; 1 << 20]).unwrap();
                writeln!(out).unwrap();
            })
        });
        return;
    }
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes the two new fds; the other arguments may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    use std::os::fd::FromRawFd;
    // SAFETY: openpty just made both fds, and nobody else owns them.
    let (master, slave) = unsafe {
        (
            std::fs::File::from_raw_fd(master),
            std::os::fd::OwnedFd::from_raw_fd(slave),
        )
    };
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "writing_much_to_a_terminal_read_late",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD, "tty")
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::from(slave));
    let mut child = cmd.spawn().unwrap();
    drop(cmd); // closes our copy of the terminal's slave side
    let mut master = master;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    let mut waits_seen = 0;
    loop {
        match master.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            // EIO: the child closed the last slave fd.
            Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
            Err(e) => panic!("reading the terminal: {e}"),
        }
        let waits = String::from_utf8_lossy(&out).matches("waiting").count();
        if waits > waits_seen {
            waits_seen = waits;
            std::thread::sleep(LATE);
        }
    }
    let st = child.wait().unwrap();
    let out = String::from_utf8_lossy(&out);
    let report: Vec<&str> = out.lines().filter(|l| !l.starts_with('x')).collect();
    println!("{report:?}");
    assert!(st.success(), "{report:?}");
    assert_eq!(waits_seen, 2, "{report:?}");
    assert_eq!(
        out.matches("terminal write, GOMAXPROCS=").count(),
        2,
        "{report:?}"
    );
}
