//! Observability on real programs: `GODEBUG=schedtrace` (and
//! `scheddetail`), goroutine dumps (`goro::dump_goroutines`, SIGQUIT) and
//! the `goroleaks` report. What needs its own environment or ends the
//! process runs in a child process (this test binary re-executed).
//! Deadlock detection is in `tests/deadlock.rs` (it needs a process
//! without test-harness threads).

use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

mod common;

use common::child::{is_child, run_child};

/// Spins for `d` without any runtime call (the P stays busy).
fn spin(d: Duration) {
    let t = Instant::now();
    while t.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// Spins for `d`, letting the scheduler preempt it.
fn busy(d: Duration) {
    let t = Instant::now();
    while t.elapsed() < d {
        goro::preempt_point();
    }
}

/// One `SCHED` line of Go's non-detailed format, parsed strictly.
#[derive(Debug)]
struct Sched {
    ms: u64,
    gomaxprocs: usize,
    idleprocs: usize,
    threads: usize,
    spinningthreads: usize,
    needspinning: u8,
    idlethreads: usize,
    runqueue: usize,
    runq: Vec<usize>,
    schedticks: Vec<u64>,
}

/// Parses `key=value` and checks the key.
fn field<T: std::str::FromStr>(word: Option<&str>, key: &str) -> T {
    let word = word.unwrap_or_else(|| panic!("missing {key}"));
    let v = word
        .strip_prefix(key)
        .and_then(|w| w.strip_prefix('='))
        .unwrap_or_else(|| panic!("expected {key}=, got {word:?}"));
    v.parse()
        .unwrap_or_else(|_| panic!("bad value in {word:?}"))
}

/// Parses a line exactly as Go prints it (same fields, order, spacing).
fn parse_sched(line: &str) -> Sched {
    let rest = line.strip_prefix("SCHED ").expect(line);
    let (ms, rest) = rest.split_once("ms: ").expect(line);
    let (head, lists) = rest.split_once(" [ ").expect(line);
    let mut w = head.split(' ');
    let s = Sched {
        ms: ms.parse().expect(line),
        gomaxprocs: field(w.next(), "gomaxprocs"),
        idleprocs: field(w.next(), "idleprocs"),
        threads: field(w.next(), "threads"),
        spinningthreads: field(w.next(), "spinningthreads"),
        needspinning: field(w.next(), "needspinning"),
        idlethreads: field(w.next(), "idlethreads"),
        runqueue: field(w.next(), "runqueue"),
        runq: Vec::new(),
        schedticks: Vec::new(),
    };
    assert!(w.next().is_none(), "{line}");
    let (runq, ticks) = lists.split_once("] schedticks=[ ").expect(line);
    let ticks = ticks.strip_suffix(']').expect(line);
    // Go prints each number followed by one space: "[ 1 2 ]".
    let numbers = |s: &str| -> Vec<u64> {
        assert!(s.is_empty() || s.ends_with(' '), "{line}");
        s.split_terminator(' ')
            .map(|n| n.parse().expect(line))
            .collect()
    };
    Sched {
        runq: numbers(runq).into_iter().map(|n| n as usize).collect(),
        schedticks: numbers(ticks),
        ..s
    }
}

fn sched_lines(stderr: &str) -> Vec<Sched> {
    stderr
        .lines()
        .filter(|l| l.starts_with("SCHED "))
        .map(parse_sched)
        .collect()
}

#[test]
fn schedtrace_shows_the_exact_state_of_a_stalled_p() {
    const NAME: &str = "schedtrace_shows_the_exact_state_of_a_stalled_p";
    if is_child(NAME) {
        goro::run(|| {
            // Five tasks on P0's queue, and three `after_func` timers that
            // sysmon fires (P0's M is busy), which start their goroutines
            // from sysmon, on the global queue. P0 stays busy without a
            // runtime call, so none of them can start while the trace looks.
            for _ in 0..5 {
                goro::go!(|| ());
            }
            for _ in 0..3 {
                goro::time::after_func(Duration::from_millis(1), || ());
            }
            spin(Duration::from_millis(400));
        });
        return;
    }
    let out = run_child(NAME, &[("GOMAXPROCS", "1"), ("GODEBUG", "schedtrace=50")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines = sched_lines(&stderr);
    assert!(lines.len() >= 4, "{stderr}");
    assert_eq!(lines[0].ms, 0, "{stderr}");
    assert!(lines.windows(2).all(|w| w[0].ms < w[1].ms), "{stderr}");
    // While the main goroutine spins: the queues hold exactly what was
    // spawned, and the one P's tick does not move.
    let stalled: Vec<&Sched> = lines.iter().filter(|s| s.runqueue == 3).collect();
    assert!(stalled.len() >= 3, "{stderr}");
    for s in &stalled {
        assert_eq!(s.gomaxprocs, 1, "{s:?}");
        assert_eq!(s.idleprocs, 0, "{s:?}");
        // M0 and sysmon; no `blocking` helper was ever needed.
        assert_eq!(s.threads, 2, "{s:?}");
        assert_eq!(s.spinningthreads, 0, "{s:?}");
        // Work was queued while no P was idle to take it.
        assert_eq!(s.needspinning, 1, "{s:?}");
        assert_eq!(s.idlethreads, 0, "{s:?}");
        assert_eq!(s.runq, [5], "{s:?}");
        assert_eq!(s.schedticks, stalled[0].schedticks, "{s:?}");
    }
}

#[test]
fn schedtrace_follows_a_busy_program() {
    const NAME: &str = "schedtrace_follows_a_busy_program";
    if is_child(NAME) {
        goro::run(|| {
            // One worker is certain to run on P1: M0 spins in `main`
            // (no runtime call) until it has started, so M1 started it,
            // and a started goroutine stays on its M. Then M0 runs `main`
            // and whichever of the others it starts. (Without this, a
            // loaded machine could leave M1 asleep until M0 had started
            // all four, and P1's tick would not move.)
            static STARTED: std::sync::atomic::AtomicBool =
                std::sync::atomic::AtomicBool::new(false);
            let wg = goro::sync::WaitGroup::new();
            wg.go(|| {
                STARTED.store(true, std::sync::atomic::Ordering::SeqCst);
                busy(Duration::from_millis(300));
            });
            while !STARTED.load(std::sync::atomic::Ordering::SeqCst) {
                std::hint::spin_loop();
            }
            for _ in 0..3 {
                wg.go(|| busy(Duration::from_millis(300)));
            }
            busy(Duration::from_millis(300));
            wg.wait();
            goro::set_gomaxprocs(3);
            for _ in 0..4 {
                wg.go(|| busy(Duration::from_millis(200)));
            }
            wg.wait();
            goro::time::sleep(Duration::from_millis(250));
        });
        return;
    }
    let out = run_child(NAME, &[("GOMAXPROCS", "2"), ("GODEBUG", "schedtrace=40")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines = sched_lines(&stderr);
    assert!(lines.len() >= 10, "{stderr}");
    for s in &lines {
        assert!(s.gomaxprocs == 2 || s.gomaxprocs == 3, "{s:?}");
        assert_eq!(s.runq.len(), s.gomaxprocs, "{s:?}");
        assert_eq!(s.schedticks.len(), s.gomaxprocs, "{s:?}");
        assert!(s.idleprocs <= s.gomaxprocs, "{s:?}");
        assert!(s.spinningthreads <= s.gomaxprocs, "{s:?}");
        assert!(s.needspinning <= 1, "{s:?}");
        // Every P's M, plus sysmon.
        assert!(s.threads > s.gomaxprocs, "{s:?}");
        assert!(s.idlethreads <= s.threads, "{s:?}");
    }
    // P counts change once, from 2 to 3, and ticks never go back.
    let first3 = lines.iter().position(|s| s.gomaxprocs == 3).expect(&stderr);
    assert!(
        lines[..first3].iter().all(|s| s.gomaxprocs == 2),
        "{stderr}"
    );
    assert!(
        lines[first3..].iter().all(|s| s.gomaxprocs == 3),
        "{stderr}"
    );
    for w in lines.windows(2) {
        for (a, b) in w[0].schedticks.iter().zip(&w[1].schedticks) {
            assert!(a <= b, "ticks went back: {:?} then {:?}", w[0], w[1]);
        }
    }
    // Busy phases keep every P running and its tick moving (preemption);
    // at the end, everything is idle.
    assert!(lines.iter().any(|s| s.idleprocs == 0), "{stderr}");
    let (first, last) = (&lines[0], &lines[lines.len() - 1]);
    // (A few ticks: on a loaded machine a 300 ms busy loop may get a
    // fraction of that in CPU, and preemption counts slices of wall time.)
    assert!(last.schedticks[0] > first.schedticks[0] + 2, "{stderr}");
    assert!(last.schedticks[1] > first.schedticks[1] + 2, "{stderr}");
    // Nothing runs: every P is idle or its M is spinning (on a loaded
    // machine a spin phase's yields can stretch it over several traces).
    assert_eq!(last.idleprocs + last.spinningthreads, 3, "{stderr}");
    assert_eq!(
        last.runqueue + last.runq.iter().sum::<usize>(),
        0,
        "{stderr}"
    );
}

#[test]
fn scheddetail_lists_every_p_m_and_goroutine() {
    const NAME: &str = "scheddetail_lists_every_p_m_and_goroutine";
    if is_child(NAME) {
        goro::run(|| {
            // Both start on M2 (M0 spins in `main` until they have), and
            // the traces of the next 300 ms show them parked.
            static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let started = || STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let (tx, rx) = goro::chan::<u8>(0);
            // Never closed, even while `main`'s locals drop at its end
            // (the last trace may come then): the receiver stays parked.
            std::mem::forget(tx);
            let r = goro::go!(move || {
                started();
                rx.recv()
            });
            let s = goro::go!(move || {
                started();
                goro::time::sleep(Duration::from_secs(3))
            });
            println!("receiver={} sleeper={}", r.id(), s.id());
            while STARTED.load(std::sync::atomic::Ordering::SeqCst) < 2 {
                std::hint::spin_loop();
            }
            spin(Duration::from_millis(300));
        });
        return;
    }
    let out = run_child(
        NAME,
        &[
            ("GOMAXPROCS", "2"),
            ("GODEBUG", "schedtrace=100,scheddetail=1"),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stderr}");
    let ids: Vec<u64> = stdout
        .lines()
        .find_map(|l| Some(l.split_once("receiver=")?.1))
        .map(|l| {
            l.split(" sleeper=")
                .map(|n| n.trim().parse().unwrap())
                .collect()
        })
        .expect(&stdout);
    // The last full trace printed while the main goroutine spins.
    let traces: Vec<&str> = stderr.split("SCHED ").skip(1).collect();
    let trace = traces
        .iter()
        .rev()
        .find(|t| t.contains(&format!("G{}: ", ids[1])))
        .expect(&stderr);
    let lines: Vec<&str> = trace.lines().collect();
    assert!(
        lines[0].ends_with(" gcwaiting=false nmidlelocked=0 stopwait=0 sysmonwait=false"),
        "{trace}"
    );
    assert!(lines[0].contains(": gomaxprocs=2 idleprocs="), "{trace}");
    for p in ["  P0: status=", "  P1: status="] {
        let line = lines.iter().find(|l| l.starts_with(p)).expect(trace);
        for key in [
            "schedtick=",
            "syscalltick=",
            "m=",
            "runqsize=",
            "gfreecnt=",
            "timerslen=",
        ] {
            assert!(line.contains(key), "{line}");
        }
    }
    // M0 runs main, M1 is sysmon, M2 serves P1; newest first.
    let ms: Vec<&str> = lines
        .iter()
        .filter(|l| l.starts_with("  M"))
        .copied()
        .collect();
    assert_eq!(ms.len(), 3, "{trace}");
    assert!(ms[0].starts_with("  M2: "), "{trace}");
    assert!(ms[1].starts_with("  M1: p=nil curg=nil "), "{trace}");
    assert!(ms[2].starts_with("  M0: p=0 curg=1 mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=false blocked=false lockedg=nil"), "{trace}");
    assert!(
        lines.contains(&"  G1: status=2() m=0 lockedm=nil"),
        "{trace}"
    );
    let receiver = format!("  G{}: status=4(chan receive) m=nil lockedm=nil", ids[0]);
    let sleeper = format!("  G{}: status=4(sleep) m=nil lockedm=nil", ids[1]);
    assert!(lines.contains(&receiver.as_str()), "{trace}");
    assert!(lines.contains(&sleeper.as_str()), "{trace}");
}

/// The line of a goroutine's `created by` site, as the dump prints it.
fn created_by(parent: u64, line: u32) -> String {
    format!("created by goro::go in goroutine {parent}\n\ttests/observe.rs:{line}\n")
}

/// The dump's block for goroutine `id` (header to blank line).
fn block_of(dump: &str, id: u64) -> &str {
    let start = dump
        .find(&format!("goroutine {id} ["))
        .unwrap_or_else(|| panic!("no goroutine {id} in\n{dump}"));
    let end = dump[start..]
        .find("\n\n")
        .map_or(dump.len(), |e| start + e + 1);
    &dump[start..end]
}

// The functions the dump test's goroutines park in. Each `*_AT` is the
// line of the call it parks in, which the dump must show. `black_box`
// after the call keeps it from being a tail call (which would leave no
// frame of the function on the stack).
const RECV_AT: u32 = line!() + 3;
#[inline(never)]
fn parked_in_recv(rx: goro::Receiver<u8>) -> Result<u8, goro::RecvError> {
    std::hint::black_box(rx.recv())
}

const SEND_AT: u32 = line!() + 3;
#[inline(never)]
fn parked_in_send(tx: goro::Sender<u8>) -> Result<(), goro::SendError<u8>> {
    std::hint::black_box(tx.send(1))
}

const SLEEP_AT: u32 = line!() + 3;
#[inline(never)]
fn parked_in_sleep() {
    goro::time::sleep(Duration::from_secs(60));
    std::hint::black_box(());
}

const SELECT_AT: u32 = line!() + 3;
#[inline(never)]
fn parked_in_select(rx: goro::Receiver<u8>) {
    goro::select! {
        recv(rx) -> _ => {},
        recv(goro::time::after(Duration::from_secs(60))) -> _ => {},
    }
    std::hint::black_box(());
}

const WAIT_AT: u32 = line!() + 3;
#[inline(never)]
fn parked_in_wait(wg: goro::sync::WaitGroup) {
    wg.wait();
    std::hint::black_box(());
}

const LOCK_AT: u32 = line!() + 3;
#[inline(never)]
fn parked_in_lock(m: std::sync::Arc<goro::sync::Mutex<()>>) {
    drop(std::hint::black_box(m.lock()))
}

/// Checks that `block` shows a frame of `function` of this file at `line`
/// (`observe::f(...)`, then a tab and the path ending in `tests/observe.rs:N`),
/// and walked frames only.
fn assert_parked_in(block: &str, function: &str, line: u32) {
    let frame = format!("observe::{function}(...)\n\t");
    let at = block
        .find(&frame)
        .unwrap_or_else(|| panic!("no frame of {function} in\n{block}"));
    let location = block[at + frame.len()..].lines().next().unwrap();
    assert!(
        location.ends_with(&format!("tests/observe.rs:{line}")),
        "{function} at {location}, not line {line}, in\n{block}"
    );
    assert!(!block.contains("stack unavailable"), "{block}");
}

#[test]
fn dump_shows_wait_reasons_and_spawn_sites() {
    goro::run(|| {
        let (tx, rx) = goro::chan::<u8>(0);
        let (tx2, rx2) = goro::chan::<u8>(0);
        let wg = goro::sync::WaitGroup::new();
        wg.add(1);
        let recv_line = line!() + 1;
        let receiver = goro::go!(move || parked_in_recv(rx));
        let send_line = line!() + 1;
        let sender = goro::go!(move || parked_in_send(tx2));
        let sleep_line = line!() + 1;
        let sleeper = goro::go!(parked_in_sleep);
        let (tx3, rx3) = goro::chan::<u8>(0);
        let select_line = line!() + 1;
        let selector = goro::go!(move || parked_in_select(rx3));
        let waiter_wg = wg.clone();
        let wait_line = line!() + 1;
        let waiter = goro::go!(move || parked_in_wait(waiter_wg));
        let mutex = std::sync::Arc::new(goro::sync::Mutex::new(()));
        let held = mutex.lock();
        let contender = mutex.clone();
        let mutex_line = line!() + 1;
        let mutex_waiter = goro::go!(move || parked_in_lock(contender));
        let (unlock, locked_rx) = goro::chan::<u8>(0);
        let locked = goro::go!(move || {
            goro::lock_os_thread();
            parked_in_recv(locked_rx)
        });
        goro::time::sleep(Duration::from_millis(50));
        let dump = goro::dump_goroutines();

        // The caller first, running, with its own frames.
        assert!(dump.starts_with("goroutine 1 [running]:\n"), "{dump}");
        let me = block_of(&dump, 1);
        assert!(
            me.contains("observe::dump_shows_wait_reasons_and_spawn_sites"),
            "{me}"
        );
        assert!(
            me.contains("created by goro::run\n\ttests/observe.rs:"),
            "{me}"
        );
        // Each parked goroutine: its wait reason, the frames of its own
        // stack down from the call it parked in (the scheduler's park
        // frames hidden), and its spawn site.
        let expect = [
            (
                &receiver.id(),
                "chan receive",
                "parked_in_recv",
                RECV_AT,
                recv_line,
            ),
            (
                &sender.id(),
                "chan send",
                "parked_in_send",
                SEND_AT,
                send_line,
            ),
            (
                &sleeper.id(),
                "sleep",
                "parked_in_sleep",
                SLEEP_AT,
                sleep_line,
            ),
            (
                &selector.id(),
                "select",
                "parked_in_select",
                SELECT_AT,
                select_line,
            ),
            (
                &waiter.id(),
                "sync.WaitGroup.Wait",
                "parked_in_wait",
                WAIT_AT,
                wait_line,
            ),
            (
                &mutex_waiter.id(),
                "sync.Mutex.Lock",
                "parked_in_lock",
                LOCK_AT,
                mutex_line,
            ),
        ];
        for (&id, reason, function, at, line) in expect {
            let block = block_of(&dump, id);
            let header = format!("goroutine {id} [{reason}]:\n");
            assert!(block.starts_with(&header), "{block}");
            assert!(
                !block[header.len()..].starts_with("goro_scheduler::"),
                "{block}"
            );
            assert_parked_in(block, function, at);
            assert!(block.ends_with(&created_by(1, line)), "{block}");
        }
        let block = block_of(&dump, receiver.id());
        assert!(block.contains("goro_runtime::chan::"), "{block}");
        let block = block_of(&dump, locked.id());
        assert!(
            block.starts_with(&format!(
                "goroutine {} [chan receive, locked to thread]:",
                locked.id()
            )),
            "{block}"
        );
        assert_parked_in(block, "parked_in_recv", RECV_AT);
        // Ids in order after the caller.
        let ids: Vec<u64> = dump
            .lines()
            .filter_map(|l| {
                l.strip_prefix("goroutine ")?
                    .split(' ')
                    .next()?
                    .parse()
                    .ok()
            })
            .collect();
        assert!(ids[1..].windows(2).all(|w| w[0] < w[1]), "{ids:?}");

        tx.send(1).unwrap();
        rx2.recv().unwrap();
        tx3.send(1).unwrap();
        wg.done();
        unlock.send(1).unwrap();
        drop(held);
        mutex_waiter.join().unwrap();
        assert_eq!(receiver.join().unwrap(), Ok(1));
        assert!(sender.join().unwrap().is_ok());
        selector.join().unwrap();
        waiter.join().unwrap();
        assert_eq!(locked.join().unwrap(), Ok(1));
    });
    assert_eq!(goro::dump_goroutines(), "", "outside a runtime");
}

#[test]
fn sigquit_dumps_every_goroutine_and_exits_2() {
    const NAME: &str = "sigquit_dumps_every_goroutine_and_exits_2";
    if is_child(NAME) {
        // A shell without job control starts background jobs with SIGQUIT
        // ignored, and goro keeps an ignored SIGQUIT ignored: start from
        // the default action, as a foreground process does.
        // SAFETY: sets a signal's action to its default; no handler runs.
        unsafe { libc::signal(libc::SIGQUIT, libc::SIG_DFL) };
        goro::run(|| {
            let (_tx, rx) = goro::chan::<u8>(0);
            goro::go!(move || parked_in_recv(rx));
            goro::go!(parked_in_sleep);
            std::thread::spawn(|| {
                std::thread::sleep(Duration::from_millis(100));
                // SAFETY: sends SIGQUIT to this process.
                unsafe { libc::kill(libc::getpid(), libc::SIGQUIT) };
            });
            goro::time::sleep(Duration::from_secs(10));
        });
        unreachable!("SIGQUIT must end the process");
    }
    let out = run_child(NAME, &[("GOMAXPROCS", "2")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{:?} {stderr}",
        out.status.signal()
    );
    let dump = &stderr[stderr.find("SIGQUIT: quit\n\n").expect(&stderr)..];
    assert_eq!(dump.matches(" [sleep]:\n").count(), 2, "{dump}");
    // Every goroutine is parked, and shows the frames where it parked.
    let main = block_of(dump, 1);
    assert!(main.starts_with("goroutine 1 [sleep]:\n"), "{dump}");
    assert!(
        main.contains("observe::sigquit_dumps_every_goroutine_and_exits_2"),
        "{main}"
    );
    let receiver = &dump[dump.find(" [chan receive]:\n").expect(dump)..];
    let receiver = &receiver[..receiver.find("\n\n").expect(dump)];
    assert_parked_in(receiver, "parked_in_recv", RECV_AT);
    assert!(
        receiver.contains("created by goro::go in goroutine 1\n\ttests/observe.rs:"),
        "{receiver}"
    );
    assert!(!dump.contains("stack unavailable"), "{dump}");
}

#[test]
fn goroleaks_reports_parked_goroutines_at_exit() {
    const NAME: &str = "goroleaks_reports_parked_goroutines_at_exit";
    if is_child(NAME) {
        goro::run(|| {
            // The other ends stay alive but out of reach (dropping them
            // would wake the goroutines with an error: not a leak).
            let (tx, rx) = goro::chan::<u8>(0);
            std::mem::forget(rx);
            for _ in 0..3 {
                let tx = tx.clone();
                println!("send site {}", line!() + 1);
                goro::go!(move || tx.send(1));
            }
            let (tx2, rx2) = goro::chan::<u8>(0);
            std::mem::forget(tx2);
            println!("select site {}", line!() + 1);
            goro::go!(move || {
                goro::select! { recv(rx2) -> _ => {} }
            });
            goro::time::sleep(Duration::from_millis(30));
        });
        return;
    }
    let site = |stdout: &str, what: &str| -> String {
        stdout
            .lines()
            .find_map(|l| Some(l.split_once(what)?.1))
            .expect(stdout)
            .to_string()
    };
    let out = run_child(NAME, &[("GODEBUG", "goroleaks=1")]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    let expect = format!(
        "goroutineleak profile: total 4\n\
         3 @ [chan send] created by goro::go at tests/observe.rs:{}\n\
         1 @ [select] created by goro::go at tests/observe.rs:{}\n",
        site(&stdout, "send site "),
        site(&stdout, "select site ")
    );
    assert!(stderr.contains(&expect), "{stderr}");
    let quiet = run_child(NAME, &[]);
    assert!(quiet.status.success());
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("goroutineleak"));
}

#[test]
fn bad_godebug_values_are_reported_once() {
    const NAME: &str = "bad_godebug_values_are_reported_once";
    if is_child(NAME) {
        goro::run(|| ());
        goro::run(|| ());
        return;
    }
    let out = run_child(
        NAME,
        &[("GODEBUG", "schedtrace=abc,scheddetail=on,http2debug=1")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr.matches("ignoring GODEBUG schedtrace=abc: ").count(),
        1,
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("ignoring GODEBUG scheddetail=on: ").count(),
        1,
        "{stderr}"
    );
    assert!(!stderr.contains("http2debug"), "{stderr}");
    assert!(!stderr.contains("SCHED"), "{stderr}");
}

/// Goroutines spawned but not started have no G yet: the dump counts them
/// in its last line instead of leaving them out silently.
#[test]
fn dump_counts_goroutines_not_started_yet() {
    let dump = goro::Runtime::builder().procs(1).build().unwrap().run(|| {
        // One P and no yield between the spawns and the dump: none of the
        // five has started.
        let handles: Vec<_> = (0..5).map(|i| goro::go!(move || i)).collect();
        let dump = goro::dump_goroutines();
        for h in handles {
            h.join().unwrap();
        }
        dump
    });
    assert!(
        dump.contains("goro: 5 more goroutine(s) spawned and queued, not started yet"),
        "{dump}"
    );
}
