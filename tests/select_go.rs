//! What a Go programmer hits on day one with channels and `select!`
//! (issue 18): Go's `TestPseudoRandomSend`, a linearizable `default`,
//! expired timers ready inside a select, polling with `try_*` at
//! GOMAXPROCS=1, crossbeam's spellings and per-arm guards, `never()`, and
//! unwind safety of the handles.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use goro::time::after;
use goro::{chan, select, RecvError};

fn rt(procs: usize) -> goro::Runtime {
    goro::Runtime::builder().procs(procs).build().unwrap()
}

/// Runs `f` on its own thread and fails (instead of hanging the suite) if
/// it has not finished after `secs` seconds: a hang guard, not a timing.
fn within<R: Send + 'static>(secs: u64, what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(r) => r,
        Err(_) => panic!("{what}: still running after {secs} s (hung)"),
    }
}

/// Go's TestPseudoRandomSend (runtime/chan_test.go), with Go's acceptance
/// rule: a select of `send(c, 1)` and `send(c, 0)` on one channel, against
/// a slow receiver, sends each value more than n/10 times. Before the fix,
/// a select parked on both cases of one unbuffered channel was always
/// completed through its first case: 0 zeros out of 100.
#[test]
fn pseudo_random_send() {
    const N: usize = 100;
    for procs in [1, 2] {
        for cap in [0, N] {
            let (n0, n1) = rt(procs).run(move || {
                let (tx, rx) = chan::<usize>(cap);
                let got = goro::go!(move || {
                    (0..N)
                        .map(|_| {
                            goro::gosched();
                            rx.recv().unwrap()
                        })
                        .collect::<Vec<_>>()
                });
                for _ in 0..N {
                    select! {
                        send(tx, 1) -> r => r.unwrap(),
                        send(tx, 0) -> r => r.unwrap(),
                    }
                }
                let l = got.join().unwrap();
                let n1: usize = l.iter().sum();
                (N - n1, n1)
            });
            assert!(
                n0 > N / 10 && n1 > N / 10,
                "procs={procs}: want pseudorandom, got {n0} zeros and {n1} ones (chan cap {cap})"
            );
        }
    }
}

/// Selects per configuration of the linearizability stress.
const LIN_ROUNDS: usize = 2_000_000;

/// Two cap-1 channels and one token between them.
struct Pair {
    s: [chan::Sender<u8>; 2],
    r: [chan::Receiver<u8>; 2],
}

impl Pair {
    fn new() -> Pair {
        let (s1, r1) = chan::<u8>(1);
        let (s2, r2) = chan::<u8>(1);
        s1.send(0).unwrap();
        Pair {
            s: [s1, s2],
            r: [r1, r2],
        }
    }

    fn clone(&self) -> Pair {
        Pair {
            s: self.s.clone(),
            r: self.r.clone(),
        }
    }

    /// The shuttle: moves the token from one channel to the other and
    /// back until `stop`, always pushing into the empty channel before it
    /// pops the full one, so at every instant a channel holds a value.
    /// (The observer may hold the token for a moment between its receive
    /// and its refill: then the pop waits for the refill.)
    fn shuttle(&self, stop: &AtomicBool) {
        let mut at = 0;
        while !stop.load(Ordering::Relaxed) {
            let to = 1 - at;
            while self.s[to].try_send(0).is_err() {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
            }
            while self.r[at].try_recv().is_err() {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
            }
            at = to;
        }
    }

    /// The observer: `select!` with `default` over both channels; it puts
    /// a token it takes straight back. `default` would mean it saw both
    /// channels empty at once, which never happens. Returns how often.
    fn observe(&self, rounds: usize) -> usize {
        let mut defaults = 0;
        for _ in 0..rounds {
            select! {
                recv(self.r[0]) -> v => self.s[0].try_send(v.unwrap()).expect("refill 1"),
                recv(self.r[1]) -> v => self.s[1].try_send(v.unwrap()).expect("refill 2"),
                default => defaults += 1,
            }
        }
        defaults
    }
}

/// Bug 5: `select!` with `default` must be linearizable on buffered
/// channels: two cap-1 channels, one of which always holds a value (see
/// `Pair::shuttle`), and the select must never take `default`. Before the
/// fix the poll looked at the cases one after the other while the token
/// moved between them, and took `default` a few times per million selects.
#[test]
fn default_is_linearizable_on_buffered_channels() {
    let d = within(300, "plain threads", || {
        let pair = Pair::new();
        let stop = Arc::new(AtomicBool::new(false));
        let shuttler = {
            let (pair, stop) = (pair.clone(), stop.clone());
            thread::spawn(move || pair.shuttle(&stop))
        };
        let d = pair.observe(LIN_ROUNDS);
        stop.store(true, Ordering::Relaxed);
        shuttler.join().unwrap();
        d
    });
    assert_eq!(
        d, 0,
        "plain threads: default taken while a value was buffered"
    );
    for procs in [1, 2] {
        let d = within(300, "goroutines", move || {
            rt(procs).run(move || {
                let pair = Pair::new();
                let stop = Arc::new(AtomicBool::new(false));
                let shuttler = {
                    let (pair, stop) = (pair.clone(), stop.clone());
                    goro::go!(move || pair.shuttle(&stop))
                };
                let d = pair.observe(LIN_ROUNDS / 2);
                stop.store(true, Ordering::Relaxed);
                shuttler.join().unwrap();
                d
            })
        });
        assert_eq!(
            d, 0,
            "procs={procs}: default taken while a value was buffered"
        );
    }
}

/// Bug 8: an expired timer is ready when a select looks at it (Go 1.23
/// fires it there), and of two expired timers each wins about half.
#[test]
fn expired_timers_are_ready_in_select() {
    for procs in [1, 2] {
        rt(procs).run(move || {
            for i in 0..10 {
                select! {
                    recv(after(Duration::ZERO)) -> v => assert!(v.is_ok()),
                    default => panic!("procs={procs} try {i}: an expired timer was not ready"),
                }
            }
            let mut first = 0;
            for _ in 0..1_000 {
                let (a, b) = (after(Duration::ZERO), after(Duration::ZERO));
                select! {
                    recv(a) -> _ => first += 1,
                    recv(b) -> _ => {}
                }
            }
            // Fair coin, 1,000 flips: 350..650 is 9.5 standard deviations.
            assert!(
                (350..=650).contains(&first),
                "procs={procs}: the first expired timer won {first} of 1,000"
            );
            // A plain try_recv fires it too.
            assert!(after(Duration::ZERO).try_recv().is_ok());
        });
    }
    // On a plain thread, outside any runtime, too.
    select! {
        recv(after(Duration::ZERO)) -> v => assert!(v.is_ok()),
        default => panic!("plain thread: an expired timer was not ready"),
    }
}

/// Bug 9: `try_send`/`try_recv` (and the other `try_*` calls) are
/// preemption points: a goroutine polling them at GOMAXPROCS=1 lets the
/// goroutine it waits for run.
#[test]
fn polling_try_calls_let_the_other_goroutine_run() {
    within(60, "try_send/try_recv", || {
        rt(1).run(|| {
            let (s1, r1) = chan::<()>(0);
            let (s2, r2) = chan::<()>(0);
            goro::go!(move || {
                while s1.try_send(()).is_err() {}
                while r2.try_recv().is_err() {}
            });
            r1.recv().unwrap();
            s2.send(()).unwrap();
        })
    });
    within(60, "select with default", || {
        rt(1).run(|| {
            let (s1, r1) = chan::<()>(0);
            let done = goro::go!(move || loop {
                select! {
                    recv(r1) -> _ => break,
                    default => {}
                }
            });
            goro::gosched(); // let the poller start spinning
            s1.send(()).unwrap();
            done.join().unwrap();
        })
    });
}

/// Bug 9, sync's half: `Mutex::try_lock`, `RwLock::try_read`/`try_write`
/// and `Semaphore::try_acquire` are preemption points too.
#[test]
fn polling_sync_try_calls_let_the_holder_run() {
    within(60, "try_lock", || {
        rt(1).run(|| {
            let m = Arc::new(goro::sync::Mutex::new(0));
            let g = m.lock();
            let m2 = m.clone();
            let (tx, rx) = chan::<()>(0);
            let poller = goro::go!(move || {
                tx.send(()).unwrap();
                loop {
                    if let Ok(mut v) = m2.try_lock() {
                        *v += 1;
                        break;
                    }
                }
            });
            rx.recv().unwrap();
            // The poller spins on try_lock until we unlock: we must get
            // to run again to do that.
            goro::gosched();
            drop(g);
            poller.join().unwrap();
        })
    });
    within(60, "try_write / try_read / try_acquire", || {
        rt(1).run(|| {
            let l = Arc::new(goro::sync::RwLock::new(0));
            let sem = Arc::new(goro::sync::Semaphore::new(1));
            let g = l.write();
            sem.acquire(1);
            let (l2, sem2) = (l.clone(), sem.clone());
            let (tx, rx) = chan::<()>(0);
            let poller = goro::go!(move || {
                tx.send(()).unwrap();
                while l2.try_read().is_err() {}
                while l2.try_write().is_err() {}
                while !sem2.try_acquire(1) {}
            });
            rx.recv().unwrap();
            goro::gosched();
            drop(g);
            goro::gosched();
            sem.release(1);
            poller.join().unwrap();
        })
    });
}

/// Bug 10: every spelling crossbeam's `select!` accepts.
#[test]
fn crossbeam_spellings_compile_and_work() {
    let (s, r) = chan::<i32>(1);
    select! {
        send(s, 1,) -> res => res.unwrap(),
        default() => panic!("room for one"),
    }
    select! {
        recv(r,) -> v => assert_eq!(v, Ok(1)),
        default() => panic!("a value waits"),
    }
    let hit = select! {
        recv(r) -> _ => false,
        default(Duration::from_millis(1),) => true,
    };
    assert!(hit);
    let hit = select! {
        recv(r) -> _ => false,
        default(Duration::from_millis(1)) => true
    };
    assert!(hit);
    select! {
        send(s, 2) -> res => { res.unwrap() }
        recv(r) -> _ => unreachable!("empty"),
    }
    assert_eq!(r.try_recv(), Ok(2));
    select! {
        default => {}
    }
    select! {
        default() => {},
    }
}

/// Bug 11: the handles are unwind-safe, as crossbeam's.
#[test]
fn handles_are_unwind_safe() {
    fn unwind_safe<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe>(_: &T) {}
    let (s, r) = chan::<String>(1);
    unwind_safe(&s);
    unwind_safe(&r);
    s.send("kept".into()).unwrap();
    let r2 = r.clone();
    assert!(std::panic::catch_unwind(move || drop(r)).is_ok());
    let res = std::panic::catch_unwind(|| {
        let _ = r2.recv();
        panic!("boom");
    });
    assert!(res.is_err());
    s.send("still works".into()).unwrap();
    assert_eq!(r2.recv().unwrap(), "still works");
}

/// Guards: a false guard removes the case and leaves the send's value
/// unevaluated and unmoved; a true guard is an ordinary case.
#[test]
fn guards_switch_cases_off() {
    let (s, r) = chan::<String>(1);
    let evaluated = AtomicUsize::new(0);
    let value = || {
        evaluated.fetch_add(1, Ordering::Relaxed);
        String::from("v")
    };
    for on in [false, true] {
        select! {
            send(s, value(), ) -> res, if on => res.unwrap(),
            default => assert!(!on, "a ready guarded-on send was skipped"),
        }
    }
    assert_eq!(
        evaluated.load(Ordering::Relaxed),
        1,
        "guarded-off value evaluated"
    );
    // Nor is it moved or dropped: the value stays with its owner.
    let drops = Arc::new(AtomicUsize::new(0));
    let (ds, _dr) = chan::<common::DropCounter>(1);
    let owned = common::DropCounter(drops.clone());
    let mut slot = Some(owned);
    select! {
        send(ds, slot.take().unwrap()) -> _, if false => unreachable!(),
        default => {}
    }
    assert!(slot.is_some(), "a guarded-off value was taken");
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    // A value is ready, but its case is off.
    for on in [false, true] {
        let got = select! {
            recv(r) -> v, if on => Some(v.unwrap()),
            default => None,
        };
        assert_eq!(got.is_some(), on);
    }
    // Off cases never win, even when they are the only ready ones.
    s.send("x".into()).unwrap();
    let (s2, r2) = chan::<u8>(1);
    s2.send(7).unwrap();
    for _ in 0..100 {
        select! {
            recv(r) -> _, if false => unreachable!("an off case won"),
            recv(r2) -> v => s2.send(v.unwrap()).unwrap(),
        }
    }
    // A blocking select with every case off blocks (Go: nil channels):
    // here until its timeout.
    let timed_out = select! {
        recv(r) -> _, if false => false,
        send(s2, 1) -> _, if false => false,
        default(Duration::from_millis(20)) => true,
    };
    assert!(timed_out);
}

/// A select whose every case is off and that has no default parks forever
/// (the runtime's deadlock detector then sees it).
#[test]
fn all_cases_off_blocks_forever() {
    rt(1).run(|| {
        let (s, r) = chan::<u8>(1);
        s.send(1).unwrap(); // ready, but guarded off
        let started = Arc::new(AtomicBool::new(false));
        let returned = Arc::new(AtomicBool::new(false));
        let (flag, done) = (started.clone(), returned.clone());
        goro::go!(move || {
            flag.store(true, Ordering::SeqCst);
            select! {
                recv(r) -> _, if false => {},
            }
            done.store(true, Ordering::SeqCst);
        });
        while !started.load(Ordering::SeqCst) {
            goro::gosched();
        }
        goro::time::sleep(Duration::from_millis(20));
        // Still blocked: the main goroutine returns and the runtime ends.
        assert!(
            !returned.load(Ordering::SeqCst),
            "a select with every case off returned"
        );
    });
}

/// `never()`: Go's nil channel; never ready in a select, times out in
/// recv_timeout, and a plain recv parks.
#[test]
fn never_is_never_ready() {
    let n = goro::chan::never::<u32>();
    assert_eq!(n.try_recv(), Err(goro::TryRecvError::Empty));
    assert_eq!(
        n.recv_timeout(Duration::from_millis(5)),
        Err(goro::RecvTimeoutError::Timeout)
    );
    assert!(n.is_empty() && n.is_full() && !n.is_closed());
    let (s, r) = chan::<u32>(1);
    s.send(3).unwrap();
    for _ in 0..100 {
        select! {
            recv(n) -> _ => unreachable!("never() was ready"),
            recv(r) -> v => s.send(v.unwrap()).unwrap(),
        }
    }
    let got = select! {
        recv(n) -> _ => unreachable!(),
        default(Duration::from_millis(5)) => "timeout",
    };
    assert_eq!(got, "timeout");
    // A parked recv on never() stays parked while others run.
    rt(2).run(|| {
        let stuck = Arc::new(AtomicBool::new(true));
        let flag = stuck.clone();
        goro::go!(move || {
            let _ = goro::chan::never::<u8>().recv();
            flag.store(false, Ordering::SeqCst);
        });
        goro::time::sleep(Duration::from_millis(20));
        assert!(stuck.load(Ordering::SeqCst), "recv on never() returned");
    });
}

/// crossbeam's names: send_timeout, try_iter, is_full/is_empty.
#[test]
fn crossbeam_names() {
    use goro::SendTimeoutError;
    let (s, r) = chan::<u8>(2);
    assert!(s.is_empty() && r.is_empty() && !s.is_full() && !r.is_full());
    s.send_timeout(1, Duration::from_millis(5)).unwrap();
    s.send(2).unwrap();
    assert!(s.is_full() && r.is_full() && !r.is_empty());
    match s.send_timeout(3, Duration::from_millis(5)) {
        Err(SendTimeoutError::Timeout(3)) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(r.try_iter().collect::<Vec<_>>(), [1, 2]);
    assert_eq!(r.try_iter().count(), 0);
    let (u, ur) = chan::<u8>(0);
    assert!(u.is_full() && u.is_empty() && ur.is_full());
    // An unbuffered send_timeout meets a receiver that comes later.
    let h = thread::spawn(move || ur.recv());
    u.send_timeout(9, Duration::from_secs(30)).unwrap();
    assert_eq!(h.join().unwrap(), Ok(9));
    // The receiver is gone: the channel is closed.
    let e = u.send_timeout(4, Duration::from_secs(30)).unwrap_err();
    assert!(e.is_disconnected());
    assert_eq!(e.into_inner(), 4);
    drop(r);
    assert_eq!(
        s.send_timeout(5, Duration::from_millis(5)),
        Err(SendTimeoutError::Disconnected(5))
    );
    let _ = RecvError;
}
