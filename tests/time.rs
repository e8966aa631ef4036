//! `goro::time`: sleep precision for 100,000 goroutines, sleep and timers
//! on plain threads, `after` as a select timeout, ticker counts, reset and
//! stop, Go 1.23's timer guarantees under stop/reset racing the firing
//! (no stale value after `stop`/`reset` returns; their result says whether
//! a value is still to come), `after_func`, `recv_timeout`'s three
//! outcomes, and an idle runtime with pending timers using no CPU.
//!
//! The tests measure time and CPU, so they run one at a time (a lock).
//! Timing bounds are generous (a shared 2-core machine); the measured
//! figures are printed (`--nocapture`).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::{cpu_time, Rng};
use goro::time::{after, after_func, sleep, tick, Ticker, Timer};
use goro::{chan, select, RecvTimeoutError, TryRecvError};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn rt(procs: usize) -> goro::Runtime {
    goro::Runtime::builder().procs(procs).build().unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Long enough that a timer set for it never fires during a test.
const NEVER: Duration = Duration::from_secs(3600);

/// Time each thread of this process has spent waiting for a CPU while
/// runnable (the kernel's run-queue delay, `/proc/self/task/*/schedstat`),
/// by thread id; empty where the kernel does not report it.
fn run_queue_delays() -> Vec<(String, Duration)> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    tasks
        .filter_map(|task| {
            let path = task.ok()?.path();
            let stat = std::fs::read_to_string(path.join("schedstat")).ok()?;
            let waited: u64 = stat.split_whitespace().nth(1)?.parse().ok()?;
            let tid = path.file_name()?.to_string_lossy().into_owned();
            Some((tid, Duration::from_nanos(waited)))
        })
        .collect()
}

/// 100,000 goroutines each sleep a random 1-10 ms; none wakes early, and
/// none wakes more than 50 ms late plus the longest time one of the
/// runtime's threads spent runnable but off-CPU (a shared machine's other
/// load; a goroutine cannot run while its M waits for a CPU, and on a
/// quiet machine that time is near zero). The figures are printed.
#[test]
fn hundred_thousand_sleepers_all_wake_on_time() {
    const N: u64 = 100_000;
    let _s = serial();
    let t0 = Instant::now();
    let (mut overshoots_us, starved) = rt(2).run(|| {
        let before = run_queue_delays();
        let hs: Vec<_> = (0..N)
            .map(|i| {
                goro::go!(move || {
                    let d = Duration::from_micros(Rng::new(i).range(1_000, 10_000));
                    let start = Instant::now();
                    sleep(d);
                    let slept = start.elapsed();
                    assert!(slept >= d, "woke early: {slept:?} < {d:?}");
                    (slept - d).as_micros() as u64
                })
            })
            .collect();
        let overshoots: Vec<u64> = hs.into_iter().map(|h| h.join().unwrap()).collect();
        let starved = run_queue_delays()
            .into_iter()
            .filter_map(|(tid, after)| {
                let (_, before) = before.iter().find(|(t, _)| *t == tid)?;
                Some(after.saturating_sub(*before))
            })
            .max()
            .unwrap_or_default();
        (overshoots, starved)
    });
    let total = t0.elapsed();
    overshoots_us.sort_unstable();
    let pct = |p: f64| overshoots_us[((overshoots_us.len() - 1) as f64 * p) as usize];
    let max = *overshoots_us.last().unwrap();
    eprintln!(
        "{N} sleepers (1-10 ms) in {total:?}: overshoot p50 {} us, p99 {} us, max {max} us; \
         longest run-queue wait of a runtime thread {starved:?}",
        pct(0.5),
        pct(0.99)
    );
    assert_eq!(overshoots_us.len(), N as usize);
    let bound = ms(50) + starved;
    assert!(
        Duration::from_micros(max) < bound,
        "a sleeper woke {max} us late (bound {bound:?})"
    );
}

#[test]
fn sleep_and_timers_on_plain_threads() {
    let _s = serial();
    // The test thread: no runtime anywhere.
    let t0 = Instant::now();
    sleep(ms(30));
    assert!(t0.elapsed() >= ms(30));
    sleep(Duration::ZERO);

    let t0 = Instant::now();
    let fired = after(ms(20)).recv().unwrap();
    assert!(fired >= t0 + ms(20), "after fired early");
    assert!(t0.elapsed() >= ms(20));

    let timer = Timer::new(ms(10));
    assert!(timer.chan().recv().unwrap() >= t0);
    assert!(!timer.stop(), "fired and received: nothing to stop");

    let ticker = Ticker::new(ms(5));
    let ticks: Vec<Instant> = (0..5).map(|_| ticker.chan().recv().unwrap()).collect();
    assert!(ticks.windows(2).all(|w| w[0] < w[1]));
    ticker.stop();
    assert!(ticker.chan().recv_timeout(ms(30)).is_err());

    let (_keep, rx) = chan::<u32>(0);
    let t0 = Instant::now();
    assert_eq!(rx.recv_timeout(ms(20)), Err(RecvTimeoutError::Timeout));
    assert!(t0.elapsed() >= ms(20));

    // A plain thread beside a running runtime, talking to a goroutine.
    rt(2).run(|| {
        let (tx, rx) = chan::<Instant>(0);
        let t = std::thread::spawn(move || {
            let t0 = Instant::now();
            sleep(ms(20));
            tx.send(t0).unwrap();
        });
        let t0 = rx.recv().unwrap();
        assert!(t0.elapsed() >= ms(20));
        t.join().unwrap();
    });
}

#[test]
fn after_times_out_a_select() {
    let _s = serial();
    rt(2).run(|| {
        let (tx, rx) = chan::<u32>(0);
        let t0 = Instant::now();
        let r = select! {
            recv(rx) -> _v => None,
            recv(after(ms(30))) -> t => Some(t.unwrap()),
        };
        let fired = r.expect("the value case won on a silent channel");
        assert!(fired >= t0 + ms(30) && t0.elapsed() >= ms(30));

        // A value that comes before the timeout wins, every time.
        let producer = goro::go!(move || {
            for i in 0..20 {
                sleep(ms(1));
                tx.send(i).unwrap();
            }
        });
        for i in 0..20 {
            select! {
                recv(rx) -> v => assert_eq!(v, Ok(i)),
                recv(after(Duration::from_secs(10))) -> _t => panic!("timed out waiting for {i}"),
            }
        }
        producer.join().unwrap();
    });
}

/// Counts the ticks received from `rx` over `window`.
fn count_ticks(rx: &goro::Receiver<Instant>, window: Duration) -> Vec<Instant> {
    let deadline = after(window);
    let mut ticks = Vec::new();
    loop {
        select! {
            recv(rx) -> t => ticks.push(t.unwrap()),
            recv(deadline) -> _t => return ticks,
        }
    }
}

#[test]
fn tickers_tick_at_their_period() {
    let _s = serial();
    rt(2).run(|| {
        let ticker = Ticker::new(ms(10));
        let ticks = count_ticks(ticker.chan(), ms(300));
        eprintln!("Ticker(10 ms) over 300 ms: {} ticks", ticks.len());
        assert!(ticks.windows(2).all(|w| w[0] < w[1]));
        // On the period grid: at most one tick per period; a loaded machine
        // may delay (and then drop) some.
        assert!((5..=31).contains(&ticks.len()), "{} ticks", ticks.len());

        let rx = tick(ms(10));
        let ticks = count_ticks(&rx, ms(200));
        eprintln!("tick(10 ms) over 200 ms: {} ticks", ticks.len());
        assert!((4..=21).contains(&ticks.len()), "{} ticks", ticks.len());

        // A receiver that falls behind finds one (old) tick, not a backlog.
        let ticker = Ticker::new(ms(5));
        let t0 = Instant::now();
        sleep(ms(200));
        assert_eq!(ticker.chan().len(), 1, "the ticker channel holds one tick");
        let first = ticker.chan().recv().unwrap();
        assert!(first < t0 + ms(150), "kept tick is not the first one");
        let next = ticker.chan().recv().unwrap();
        assert!(next > first);
    });
}

#[test]
fn ticker_reset_and_stop() {
    let _s = serial();
    rt(2).run(|| {
        // Reset a slow ticker to a fast one.
        let ticker = Ticker::new(NEVER);
        let t0 = Instant::now();
        ticker.reset(ms(10));
        for _ in 0..3 {
            let t = ticker.chan().recv_timeout(Duration::from_secs(10)).unwrap();
            assert!(t >= t0 + ms(10));
        }

        // A tick pending at reset is discarded; the new period applies.
        let ticker = Ticker::new(ms(5));
        sleep(ms(30));
        ticker.reset(NEVER);
        assert_eq!(
            ticker.chan().recv_timeout(ms(100)),
            Err(RecvTimeoutError::Timeout)
        );

        // Stop discards a pending tick; reset after stop restarts it.
        let ticker = Ticker::new(ms(5));
        sleep(ms(30));
        ticker.stop();
        assert_eq!(
            ticker.chan().recv_timeout(ms(100)),
            Err(RecvTimeoutError::Timeout)
        );
        let t0 = Instant::now();
        ticker.reset(ms(10));
        let t = ticker.chan().recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(t >= t0 + ms(10));

        // Dropping a ticker stops it.
        let ticker = Ticker::new(ms(5));
        let rx = ticker.chan().clone();
        sleep(ms(30));
        drop(ticker);
        let r = rx.recv_timeout(ms(100));
        assert!(r.is_err(), "tick after the ticker was dropped: {r:?}");
    });
}

#[test]
fn timer_stop_and_reset_without_races() {
    let _s = serial();
    rt(2).run(|| {
        let t0 = Instant::now();
        let timer = Timer::new(ms(20));
        assert!(timer.chan().recv().unwrap() >= t0 + ms(20));
        assert!(!timer.stop(), "fired and received");
        assert!(!timer.reset(ms(10)), "fired and received");
        assert!(timer.chan().recv().is_ok(), "reset re-arms a fired timer");

        let timer = Timer::new(NEVER);
        assert!(timer.stop(), "armed");
        assert!(!timer.stop(), "already stopped");
        assert_eq!(timer.chan().try_recv(), Err(TryRecvError::Empty));

        // Fired but not received: stop discards the value and says so.
        let timer = Timer::new(ms(1));
        sleep(ms(30));
        assert!(timer.stop(), "a fired, unreceived value is prevented");
        assert_eq!(
            timer.chan().recv_timeout(ms(50)),
            Err(RecvTimeoutError::Timeout)
        );

        // Fired but not received: reset discards it; the value that comes is
        // from the new deadline.
        let timer = Timer::new(ms(1));
        sleep(ms(30));
        let t_reset = Instant::now();
        assert!(timer.reset(ms(20)));
        let v = timer.chan().recv().unwrap();
        assert!(v >= t_reset + ms(20), "stale value after reset");
        assert_eq!(
            timer.chan().recv_timeout(ms(50)),
            Err(RecvTimeoutError::Timeout)
        );

        // Zero duration fires at once.
        let timer = Timer::new(Duration::ZERO);
        assert!(timer.chan().recv_timeout(Duration::from_secs(10)).is_ok());

        // Dropping a timer stops it.
        let timer = Timer::new(ms(10));
        let rx = timer.chan().clone();
        drop(timer);
        let r = rx.recv_timeout(ms(100));
        assert!(r.is_err(), "value from a dropped timer: {r:?}");
    });
}

/// Many timers stopped at a random moment around their deadline (0-1 ms
/// timers, 0-1.5 ms delays), half of them with a goroutine receiving from
/// them. Go 1.23: `stop` returns true exactly when the value was not (and
/// will never be) received, and the channel is empty once it returns. So:
/// with a receiver, exactly one of "stopped" and "received" holds; with
/// none, `stop` always returns true (a fired value is still unreceived);
/// and nothing is found in the channel right after `stop` or later.
#[test]
fn timer_stop_racing_the_firing() {
    const TIMERS: u64 = 10_000;
    struct Outcome {
        with_receiver: bool,
        stopped: bool,
        received: bool,
        value_after_stop: bool,
    }
    let _s = serial();
    let outcomes = rt(2).run(|| {
        let (done_tx, done_rx) = chan::<()>(0);
        // Each timer starts together with its stopper's clock, in its own
        // goroutine, so spawning lag does not skew the race.
        let runs: Vec<_> = (0..TIMERS)
            .map(|i| {
                let done_rx = done_rx.clone();
                goro::go!(move || {
                    let mut rng = Rng::new(i);
                    let timer = Arc::new(Timer::new(Duration::from_micros(rng.range(0, 1_000))));
                    let delay = Duration::from_micros(rng.range(0, 1_500));
                    let receiver = (i % 2 == 0).then(|| {
                        let t = timer.clone();
                        goro::go!(move || select! {
                            recv(t.chan()) -> v => Some(v.unwrap()),
                            recv(done_rx) -> _d => None,
                        })
                    });
                    sleep(delay);
                    let stopped = timer.stop();
                    let value_after_stop = timer.chan().try_recv().is_ok();
                    (timer, receiver, stopped, value_after_stop)
                })
            })
            .collect();
        let runs: Vec<_> = runs.into_iter().map(|h| h.join().unwrap()).collect();
        // Time for a stale value to show up, if one were ever sent.
        sleep(ms(30));
        done_tx.close();
        runs.into_iter()
            .map(|(timer, receiver, stopped, value_after_stop)| Outcome {
                with_receiver: receiver.is_some(),
                stopped,
                received: receiver.is_some_and(|r| r.join().unwrap().is_some()),
                value_after_stop: value_after_stop || timer.chan().try_recv().is_ok(),
            })
            .collect::<Vec<_>>()
    });
    let raced: Vec<_> = outcomes.iter().filter(|o| o.with_receiver).collect();
    let stopped = raced.iter().filter(|o| o.stopped).count();
    eprintln!(
        "{TIMERS} timers, {} with a receiver: stop() returned true {stopped} times, \
         false {} times",
        raced.len(),
        raced.len() - stopped
    );
    for (i, o) in outcomes.iter().enumerate() {
        let (stopped, received) = (o.stopped, o.received);
        assert!(
            !o.value_after_stop,
            "timer {i}: a value was in the channel after stop()"
        );
        if o.with_receiver {
            assert!(
                stopped != received,
                "timer {i}: stop() = {stopped} but received = {received}"
            );
        } else {
            assert!(
                stopped,
                "timer {i}: nobody received, yet stop() returned false"
            );
        }
    }
    assert!(
        stopped > 0 && stopped < raced.len(),
        "the race was not exercised both ways"
    );
}

/// Many timers reset (to 3 ms) at a random moment around their first
/// deadline, half of them with a goroutine receiving everything they send.
/// Go 1.23: `reset` returns true exactly when the first value was
/// prevented, so 1 + (reset returned false) values arrive in all, and
/// without a receiver `reset` always returns true; a value stamped before
/// the re-armed deadline is a first (pre-reset) one.
#[test]
fn timer_reset_racing_the_firing() {
    const TIMERS: u64 = 10_000;
    const RESET_TO: Duration = Duration::from_millis(3);
    let _s = serial();
    let outcomes = rt(2).run(|| {
        let (done_tx, done_rx) = chan::<()>(0);
        let runs: Vec<_> = (0..TIMERS)
            .map(|i| {
                let done_rx = done_rx.clone();
                goro::go!(move || {
                    let mut rng = Rng::new(1_000_000 + i);
                    let timer = Arc::new(Timer::new(Duration::from_micros(rng.range(0, 1_000))));
                    let delay = Duration::from_micros(rng.range(0, 1_500));
                    let receiver = (i % 2 == 0).then(|| {
                        let t = timer.clone();
                        goro::go!(move || {
                            let mut got = Vec::new();
                            loop {
                                select! {
                                    recv(t.chan()) -> v => got.push(v.unwrap()),
                                    recv(done_rx) -> _d => return got,
                                }
                            }
                        })
                    });
                    sleep(delay);
                    let start = Instant::now();
                    let prevented = timer.reset(RESET_TO);
                    (timer, receiver, (start, prevented, Instant::now()))
                })
            })
            .collect();
        let runs: Vec<_> = runs.into_iter().map(|h| h.join().unwrap()).collect();
        // The re-armed timers fire within a few ms; wait generously.
        sleep(ms(50));
        done_tx.close();
        let runs: Vec<_> = runs
            .into_iter()
            .map(|(timer, receiver, reset)| {
                let with_receiver = receiver.is_some();
                let mut got = receiver.map(|r| r.join().unwrap()).unwrap_or_default();
                // The receiver may have picked `done` over a ready value;
                // and a very late re-armed firing is still waited for.
                got.extend(timer.chan().try_recv().ok());
                if got.len() < 1 + usize::from(!reset.1) {
                    got.extend(timer.chan().recv_timeout(Duration::from_secs(5)).ok());
                }
                (timer, with_receiver, reset, got)
            })
            .collect();
        // Anything more would be a stale or doubled value: give it time.
        sleep(ms(30));
        runs.into_iter()
            .map(|(timer, with_receiver, reset, mut got)| {
                got.extend(timer.chan().try_recv().ok());
                (with_receiver, reset, got)
            })
            .collect::<Vec<_>>()
    });
    let raced: Vec<_> = outcomes.iter().filter(|o| o.0).collect();
    let prevented = raced.iter().filter(|o| o.1 .1).count();
    let mut unclassified = 0;
    for (i, (with_receiver, (start, prevented, end), got)) in outcomes.iter().enumerate() {
        assert!(
            *with_receiver || *prevented,
            "timer {i}: nobody received, yet reset() returned false"
        );
        let expected = 1 + usize::from(!prevented);
        assert_eq!(
            got.len(),
            expected,
            "timer {i}: reset() = {prevented}, received {} values",
            got.len()
        );
        // Values from the re-armed deadline are stamped at or after
        // start + RESET_TO; pre-reset ones before `end`. When reset took
        // less than RESET_TO the two are told apart.
        if *end < *start + RESET_TO {
            let first = got.iter().filter(|&&v| v < *start + RESET_TO).count();
            assert_eq!(
                first,
                usize::from(!prevented),
                "timer {i}: reset() = {prevented} but {first} pre-reset values received"
            );
        } else {
            unclassified += 1;
        }
    }
    eprintln!(
        "{TIMERS} timers, {} with a receiver: reset() returned true {prevented} times, \
         false {} times; {unclassified} resets took longer than {RESET_TO:?}",
        raced.len(),
        raced.len() - prevented
    );
    assert!(
        prevented > 0 && prevented < raced.len(),
        "the race was not exercised both ways"
    );
}

#[test]
fn after_func_runs_f_once_in_its_own_goroutine() {
    let _s = serial();
    rt(2).run(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = chan::<u32>(0);
        let r = runs.clone();
        let timer = after_func(ms(10), move || {
            r.fetch_add(1, Ordering::SeqCst);
            // Goroutine-only things: spawn, join, park in an unbuffered send.
            let v = goro::go!(|| 5).join().unwrap();
            tx.send(v).unwrap();
        });
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(5));
        sleep(ms(50));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(!timer.stop(), "already ran");
        assert_eq!(timer.chan().try_recv(), Err(TryRecvError::Empty));

        // Reset schedules it again.
        assert!(!timer.reset(ms(5)), "already ran");
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(5));
        assert_eq!(runs.load(Ordering::SeqCst), 2);

        // Stopped before firing: never runs.
        let r = runs.clone();
        let timer = after_func(ms(30), move || {
            r.fetch_add(100, Ordering::SeqCst);
        });
        assert!(timer.stop(), "stopped before it fired");
        assert!(!timer.stop());
        // Reset of an armed after_func timer prevents the first run.
        let (tx2, rx2) = chan::<()>(8);
        let r = runs.clone();
        let timer2 = after_func(ms(20), move || {
            r.fetch_add(1_000, Ordering::SeqCst);
            tx2.send(()).unwrap();
        });
        assert!(timer2.reset(ms(40)), "armed");
        assert_eq!(rx2.recv_timeout(Duration::from_secs(10)), Ok(()));
        // Room for a wrong extra run (or the stopped f) to show up.
        sleep(ms(50));
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1_002,
            "stopped f ran, or reset f ran twice"
        );

        // Dropping the timer does not cancel f.
        let (tx, rx) = chan::<()>(1);
        drop(after_func(ms(10), move || tx.send(()).unwrap()));
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(()));
    });
}

#[test]
fn after_func_outside_a_runtime_panics() {
    let _s = serial();
    let err = std::thread::spawn(|| after_func(ms(1), || {}))
        .join()
        .expect_err("after_func outside a runtime returned");
    let msg = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("");
    assert!(msg.contains("outside"), "unclear panic message: {msg:?}");
}

#[test]
fn recv_timeout_value_timeout_disconnected() {
    let _s = serial();
    let check = || {
        // Timeout: nothing comes.
        let (tx, rx) = chan::<u32>(0);
        let t0 = Instant::now();
        assert_eq!(rx.recv_timeout(ms(30)), Err(RecvTimeoutError::Timeout));
        assert!(t0.elapsed() >= ms(30));
        assert_eq!(
            rx.recv_timeout(Duration::ZERO),
            Err(RecvTimeoutError::Timeout)
        );
        // A value that comes in time.
        let s = std::thread::spawn(move || {
            sleep(ms(5));
            tx.send(7).unwrap();
            tx
        });
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(7));
        // Disconnected while waiting: the last sender is dropped.
        let tx = s.join().unwrap();
        let s = std::thread::spawn(move || {
            sleep(ms(10));
            drop(tx);
        });
        let t0 = Instant::now();
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(10)),
            Err(RecvTimeoutError::Disconnected)
        );
        assert!(t0.elapsed() < Duration::from_secs(10));
        s.join().unwrap();
        // Buffered values first, then Disconnected at once.
        let (tx, rx) = chan::<u32>(2);
        tx.send(1).unwrap();
        tx.close();
        assert_eq!(rx.recv_timeout(Duration::ZERO), Ok(1));
        let t0 = Instant::now();
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(10)),
            Err(RecvTimeoutError::Disconnected)
        );
        assert!(t0.elapsed() < Duration::from_secs(5));
        // A huge timeout is fine.
        let (tx, rx) = chan::<u32>(1);
        tx.send(2).unwrap();
        assert_eq!(rx.recv_timeout(Duration::MAX), Ok(2));
    };
    rt(2).run(move || goro::go!(check).join().unwrap());
    check();
}

/// Main sleeps 300 ms while one goroutine waits on a 10 s timer and another
/// sleeps 10 s: the runtime's Ms sleep until the next deadline instead of
/// polling.
#[test]
fn idle_runtime_with_pending_timers_uses_no_cpu() {
    let _s = serial();
    let t0 = Instant::now();
    let used = rt(2).run(|| {
        let started = common::wait_group(2);
        let s = started.clone();
        goro::go!(move || {
            let timer = Timer::new(Duration::from_secs(10));
            s.done();
            timer.chan().recv().unwrap();
        });
        let s = started.clone();
        goro::go!(move || {
            s.done();
            sleep(Duration::from_secs(10));
        });
        started.wait();
        sleep(ms(20));
        let c0 = cpu_time();
        sleep(ms(300));
        cpu_time() - c0
    });
    eprintln!("idle 300 ms with two 10 s timers pending: {used:?} CPU");
    assert!(used < ms(30), "idle runtime used {used:?} of CPU in 300 ms");
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "run waited for abandoned timers"
    );
}

/// Issue 18, bug 7: an `after` channel stays open once it has fired (Go's
/// and crossbeam's): after its one value, `try_recv` says `Empty` and a
/// receive waits. Before the fix the timer dropped the only sender after
/// firing: `Disconnected`, and `recv` failed at once.
#[test]
fn after_channel_stays_open_after_firing() {
    let _serial = serial();
    for on_goroutine in [false, true] {
        let check = || {
            let a = after(ms(1));
            assert!(a.recv().is_ok());
            assert_eq!(a.try_recv(), Err(TryRecvError::Empty));
            assert_eq!(a.recv_timeout(ms(20)), Err(RecvTimeoutError::Timeout));
            assert!(!a.is_closed());
            let t = Timer::new(ms(1));
            assert!(t.chan().recv().is_ok());
            assert_eq!(
                t.chan().recv_timeout(ms(20)),
                Err(RecvTimeoutError::Timeout)
            );
        };
        if on_goroutine {
            rt(1).run(check);
        } else {
            check();
        }
    }
}

/// Issue 18, bug 2: after `stop` returned true nothing happens at the
/// deadline, and dropping the timer does not close its channel: a
/// goroutine receiving on a clone stays blocked (Go's answer). Before the
/// fix the stale heap entry held the last reference to the timer, whose
/// sender closed the channel when dropped at the old deadline: the waiter
/// woke with `RecvError`, and at once when the timer was dropped after
/// firing.
#[test]
fn stopped_or_fired_then_dropped_timer_leaves_waiters_blocked() {
    let _serial = serial();
    rt(2).run(|| {
        let woke = Arc::new(AtomicUsize::new(0));
        let wait_on = |c: goro::Receiver<Instant>| {
            let woke = woke.clone();
            goro::go!(move || {
                let _ = c.recv();
                woke.fetch_add(1, Ordering::SeqCst);
            });
        };
        // Stopped, then dropped, before its deadline.
        let t = Timer::new(ms(30));
        wait_on(t.chan().clone());
        sleep(ms(5));
        assert!(t.stop(), "stopped before its deadline");
        drop(t);
        // Fired, its value received, then dropped.
        let t = Timer::new(ms(1));
        assert!(t.chan().recv().is_ok());
        wait_on(t.chan().clone());
        sleep(ms(5));
        drop(t);
        // Well past the first timer's old deadline.
        sleep(ms(100));
        assert_eq!(
            woke.load(Ordering::SeqCst),
            0,
            "a waiter on a stopped or dropped timer's channel woke"
        );
        // The waiters stay parked; the runtime unwinds them at shutdown.
    });
}
