//! `goro::signal` with real signals: each case runs in a child process
//! (this test binary re-executed) that reports on stdout after `@@`; the
//! parent sends it signals with kill(2) after each report.

use std::io::{BufRead, BufReader, Lines};
use std::os::unix::process::ExitStatusExt;
use std::process::{ChildStdout, Command, ExitStatus, Stdio};
use std::time::Duration;

use goro::context::{self, Error};
use goro::signal::{self, Signal};

const CHILD: &str = "GORO_TEST_CHILD";

/// Seconds after which a child kills itself (SIGALRM's default action):
/// a missed signal then fails the case instead of hanging the suite, as
/// the child's end closes every pipe and socket the parent reads.
const WATCHDOG_SECS: u32 = 90;

fn child_case() -> Option<String> {
    let case = std::env::var(CHILD).ok()?;
    // SAFETY: alarm(2) has no memory effects; nothing here catches SIGALRM.
    unsafe { libc::alarm(WATCHDOG_SECS) };
    Some(case)
}

/// A report line the parent waits for.
fn report(line: impl std::fmt::Display) {
    println!("@@{line}");
}

/// The parent's view of a child running one case.
struct Child {
    child: std::process::Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Child {
    fn start(test: &str, case: &str) -> Child {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", test, "--nocapture", "--test-threads=1"])
            .env(CHILD, case)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Child { child, lines }
    }

    /// The child's next report (its other output skipped).
    fn next(&mut self) -> String {
        for line in self.lines.by_ref() {
            // The harness's "test NAME ... " may precede it on the line.
            if let Some((_, r)) = line.unwrap().split_once("@@") {
                return r.to_string();
            }
        }
        panic!("the child ended without reporting: {:?}", self.child.wait());
    }

    fn expect(&mut self, want: &str) {
        assert_eq!(self.next(), want);
    }

    fn kill(&self, sig: libc::c_int) {
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, sig) }, 0);
    }

    fn wait(mut self) -> ExitStatus {
        self.child.wait().unwrap()
    }
}

#[test]
fn notify_delivers_each_watched_signal() {
    if child_case().as_deref() == Some("deliver") {
        goro::run(|| {
            let (tx, rx) = goro::chan(4);
            let watched = [
                Signal::Interrupt,
                Signal::Terminate,
                Signal::Hangup,
                Signal::User1,
            ];
            signal::notify(&tx, &watched);
            report("ready");
            for _ in watched {
                report(format!("{:?}", rx.recv().unwrap()));
            }
        });
        return;
    }
    let mut c = Child::start("notify_delivers_each_watched_signal", "deliver");
    c.expect("ready");
    for (sig, name) in [
        (libc::SIGINT, "Interrupt"),
        (libc::SIGTERM, "Terminate"),
        (libc::SIGHUP, "Hangup"),
        (libc::SIGUSR1, "User1"),
    ] {
        c.kill(sig);
        c.expect(name);
    }
    assert!(c.wait().success());
}

#[test]
fn every_channel_watching_a_signal_gets_it_and_a_full_one_drops_it() {
    if child_case().as_deref() == Some("full") {
        goro::run(|| {
            // `small` is registered first, so it is offered each signal
            // before `probe`, whose receipt the child reports.
            let (small, small_rx) = goro::chan(1);
            let (probe, probe_rx) = goro::chan(8);
            signal::notify(&small, &[Signal::User1]);
            signal::notify(&probe, &[Signal::User1]);
            report("ready");
            for i in 0..3 {
                assert_eq!(probe_rx.recv().unwrap(), Signal::User1);
                report(format!("delivered {i}"));
            }
            report(format!("small holds {}", small_rx.len()));
        });
        return;
    }
    let mut c = Child::start(
        "every_channel_watching_a_signal_gets_it_and_a_full_one_drops_it",
        "full",
    );
    c.expect("ready");
    for i in 0..3 {
        c.kill(libc::SIGUSR1);
        c.expect(&format!("delivered {i}"));
    }
    c.expect("small holds 1");
    assert!(c.wait().success());
}

#[test]
fn stop_gives_the_signal_its_default_action_back_once_nobody_watches() {
    if child_case().as_deref() == Some("stop") {
        goro::run(|| {
            let (a, a_rx) = goro::chan(1);
            let (b, b_rx) = goro::chan(1);
            signal::notify(&a, &[Signal::User1]);
            signal::notify(&b, &[Signal::User1, Signal::User2]);
            signal::stop(&a);
            report("ready");
            // Still watched by `b`: caught, and only `b` gets it.
            assert_eq!(b_rx.recv().unwrap(), Signal::User1);
            assert!(a_rx.try_recv().is_err());
            signal::stop(&b);
            report("stopped");
            goro::time::sleep(Duration::from_secs(30));
            report("survived");
        });
        return;
    }
    let mut c = Child::start(
        "stop_gives_the_signal_its_default_action_back_once_nobody_watches",
        "stop",
    );
    c.expect("ready");
    c.kill(libc::SIGUSR1);
    c.expect("stopped");
    c.kill(libc::SIGUSR1);
    assert_eq!(c.wait().signal(), Some(libc::SIGUSR1));
}

#[test]
fn watching_sigquit_replaces_the_dump_and_stop_brings_it_back() {
    if child_case().as_deref() == Some("quit") {
        // A shell without job control starts background jobs with SIGQUIT
        // ignored, and goro keeps an ignored SIGQUIT ignored: start from
        // the default action, as a terminal's foreground job does.
        // SAFETY: sets a signal's action to its default; no handler runs.
        unsafe { libc::signal(libc::SIGQUIT, libc::SIG_DFL) };
        goro::run(|| {
            let (tx, rx) = goro::chan(1);
            signal::notify(&tx, &[Signal::Quit]);
            report("ready");
            assert_eq!(rx.recv().unwrap(), Signal::Quit);
            signal::stop(&tx);
            report("caught");
            goro::time::sleep(Duration::from_secs(30));
        });
        return;
    }
    let mut c = Child::start(
        "watching_sigquit_replaces_the_dump_and_stop_brings_it_back",
        "quit",
    );
    c.expect("ready");
    c.kill(libc::SIGQUIT);
    c.expect("caught");
    c.kill(libc::SIGQUIT);
    // goro's SIGQUIT behaviour again: the goroutine dump and status 2.
    let out = c.child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("SIGQUIT: quit"), "{stderr}");
}

#[test]
fn notify_context_cancels_on_the_signal_and_its_cancel_func_stops_watching() {
    if child_case().as_deref() == Some("context") {
        goro::run(|| {
            let (ctx, stop) = signal::notify_context(&context::background(), &[Signal::Terminate]);
            report("ready");
            assert!(ctx.done().recv().is_err());
            report(format!("{:?}", ctx.err()));
            stop.cancel();
            // The watch has ended when cancel returns.
            report(format!("default action back: {}", sigterm_is_default()));
            report("stopped");
            goro::time::sleep(Duration::from_secs(30));
            report("survived");
        });
        return;
    }
    let mut c = Child::start(
        "notify_context_cancels_on_the_signal_and_its_cancel_func_stops_watching",
        "context",
    );
    c.expect("ready");
    c.kill(libc::SIGTERM);
    c.expect(&format!("{:?}", Some(Error::Canceled)));
    c.expect("default action back: true");
    c.expect("stopped");
    c.kill(libc::SIGTERM);
    assert_eq!(c.wait().signal(), Some(libc::SIGTERM));
}

/// Whether SIGTERM has its default action.
fn sigterm_is_default() -> bool {
    // SAFETY: all-zero is a valid sigaction to query into.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: with a null new action, sigaction only writes `action`.
    unsafe { libc::sigaction(libc::SIGTERM, std::ptr::null(), &mut action) };
    action.sa_sigaction == libc::SIG_DFL
}

/// A `notify_context` whose cancel func is dropped as `goro::run`'s body
/// ends: no goroutine is left to clean up, yet SIGTERM kills again.
#[test]
fn notify_context_dropped_at_the_end_of_run_stops_watching() {
    if child_case().as_deref() == Some("end") {
        goro::run(|| {
            let (_ctx, stop) = signal::notify_context(&context::background(), &[Signal::Terminate]);
            // Dropping (not calling) the cancel func ends the watch at once
            // too, before any other goroutine could run.
            drop(stop);
            report(format!(
                "dropped: default action back: {}",
                sigterm_is_default()
            ));
            let (_ctx, _stop) =
                signal::notify_context(&context::background(), &[Signal::Terminate]);
        });
        report(format!("default action back: {}", sigterm_is_default()));
        std::thread::sleep(Duration::from_secs(30));
        report("survived");
        return;
    }
    let mut c = Child::start(
        "notify_context_dropped_at_the_end_of_run_stops_watching",
        "end",
    );
    c.expect("dropped: default action back: true");
    c.expect("default action back: true");
    c.kill(libc::SIGTERM);
    assert_eq!(c.wait().signal(), Some(libc::SIGTERM));
}

#[test]
fn notify_context_of_a_cancelled_parent_is_done_at_once() {
    goro::run(|| {
        let (parent, cancel) = context::with_cancel(&context::background());
        cancel.cancel();
        let (ctx, _stop) = signal::notify_context(&parent, &[Signal::WindowChange]);
        assert_eq!(ctx.err(), Some(Error::Canceled));
    });
}

#[allow(dead_code)]
#[path = "../examples/graceful/mod.rs"]
mod graceful;

/// The graceful-shutdown idiom of the example servers: SIGTERM cancels
/// the context, the server stops accepting, and an idle keep-alive
/// connection is closed after the request it was served.
#[test]
fn a_server_shuts_down_gracefully_on_sigterm() {
    use goro::net::{TcpListener, TcpStream};
    use std::io::{Read, Write};

    fn echo_lines(conn: TcpStream) -> std::io::Result<()> {
        let mut buf = [0u8; 64];
        let mut conn = conn;
        loop {
            let n = conn.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            conn.write_all(&buf[..n])?;
        }
    }

    if child_case().as_deref() == Some("graceful") {
        let shut = goro::run(|| {
            let (ctx, stop) = signal::notify_context(
                &context::background(),
                &[Signal::Interrupt, Signal::Terminate],
            );
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            report(listener.local_addr().unwrap());
            let server = graceful::Server::start(listener, echo_lines);
            let _ = ctx.done().recv();
            stop.cancel();
            server.shutdown(Duration::from_secs(10))
        });
        report(format!("shutdown {shut:?}"));
        return;
    }
    let mut c = Child::start("a_server_shuts_down_gracefully_on_sigterm", "graceful");
    let addr: std::net::SocketAddr = c.next().parse().unwrap();
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    // A hang guard: the child's watchdog closes the socket before this.
    conn.set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    conn.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    conn.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
    c.kill(libc::SIGTERM);
    c.expect("shutdown Ok(())");
    // The server closed the idle connection.
    let mut rest = Vec::new();
    conn.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
    assert!(c.wait().success());
    assert!(std::net::TcpStream::connect(addr).is_err());
}
