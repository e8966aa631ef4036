//! `goro::synctest`: bubbles with a fake clock (Go 1.25's testing/synctest).
//! Each test runs its bubble in a runtime of its own; the harness runs the
//! tests in parallel, so several bubbles run at once. Checks are on the
//! fake clock (exact) and on orders; real time only as hang guards.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use goro::synctest;
use goro::time::{now, sleep};

const HOUR: Duration = Duration::from_secs(3600);

/// A runtime with `procs` Ps running `f` (the bubbles must work at any P count).
fn at_procs<R: 'static>(procs: usize, f: impl FnOnce() -> R + 'static) -> R {
    goro::Runtime::builder()
        .procs(procs)
        .build()
        .unwrap()
        .run(f)
}

#[test]
fn an_hour_of_sleep_takes_no_real_time() {
    for procs in [1, 2, 4] {
        let real = Instant::now();
        let (elapsed, wall) = at_procs(procs, || {
            synctest::run(|| {
                let (start, wall) = (now(), goro::time::system_now());
                sleep(HOUR);
                (
                    now() - start,
                    goro::time::system_now().duration_since(wall).unwrap(),
                )
            })
        });
        eprintln!(
            "a bubbled 1 h sleep at {procs} Ps took {:?} of real time",
            real.elapsed()
        );
        assert_eq!(elapsed, HOUR);
        assert_eq!(wall, HOUR);
        // A hang guard, not a timing: the sleep itself is never waited for.
        assert!(real.elapsed() < Duration::from_secs(60));
    }
}

#[test]
fn system_now_starts_at_the_year_2000() {
    let t = synctest::run(goro::time::system_now);
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap();
    assert_eq!(secs, Duration::from_secs(946_684_800));
}

/// A small deterministic generator (xorshift), for reproducible deadlines.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn ten_thousand_timeouts_fire_in_timer_order() {
    let fired = at_procs(2, || {
        synctest::run(|| {
            let start = now();
            let log = Arc::new(Mutex::new(Vec::new()));
            let mut seed = 0x9e37_79b9_7f4a_7c15u64;
            for i in 0..10_000u64 {
                let d = Duration::from_millis(xorshift(&mut seed) % 600_000);
                let log = log.clone();
                goro::go!(move || {
                    // Timers of every kind: sleeps, `after`, and timeouts.
                    match i % 3 {
                        0 => sleep(d),
                        1 => drop(goro::time::after(d).recv()),
                        _ => {
                            let (_tx, rx) = goro::chan::<()>(0);
                            assert!(rx.recv_timeout(d).is_err());
                        }
                    }
                    log.lock().unwrap().push((now() - start, d, i));
                });
            }
            synctest::wait();
            // Everyone is asleep: no time has passed yet.
            assert_eq!(now(), start);
            sleep(Duration::from_secs(3600));
            let fired = std::mem::take(&mut *log.lock().unwrap());
            fired
        })
    });
    assert_eq!(fired.len(), 10_000);
    for &(at, d, i) in &fired {
        assert_eq!(
            at, d,
            "goroutine {i} woke at {at:?}, its deadline was {d:?}"
        );
    }
    assert!(
        fired.windows(2).all(|w| w[0].0 <= w[1].0),
        "fired out of timer order"
    );
}

/// The seeds' "Timeout with select" (patterns 3), as `docs/testing.md`
/// tests it: the 1 s timeout wins over the 2 s worker, at exactly 1 s, and
/// the worker still finishes at exactly 2 s.
#[goro::test]
fn the_seeds_timeout_with_select_times_out_at_1s() {
    synctest::run(|| {
        let start = now();
        let (tx, c) = goro::chan::<&str>(0);
        let worker = goro::go!(move || {
            sleep(Duration::from_secs(2));
            let _ = tx.send("done");
            now() - start
        });
        let got = goro::select! {
            recv(c) -> res => res.unwrap(),
            recv(goro::time::after(Duration::from_secs(1))) -> _ => "timeout",
        };
        assert_eq!((got, now() - start), ("timeout", Duration::from_secs(1)));
        drop(c);
        assert_eq!(worker.join().unwrap(), Duration::from_secs(2));
    });
}

/// The seeds' rate limiter (guide 7.3): `rate` initial tokens, one more per
/// tick from a `Ticker` goroutine; stopped through `done`.
struct RateLimiter {
    tokens: goro::Receiver<()>,
}

impl RateLimiter {
    fn new(rate: usize, interval: Duration, done: goro::Receiver<()>) -> RateLimiter {
        let (refill, tokens) = goro::chan::<()>(rate);
        for _ in 0..rate {
            refill.send(()).unwrap();
        }
        goro::go!(move || {
            let ticker = goro::time::Ticker::new(interval);
            loop {
                goro::select! {
                    recv(ticker.chan()) -> _ => {
                        goro::select! {
                            send(refill, ()) -> _ => {},
                            default => {},
                        }
                    },
                    recv(done) -> _ => return,
                }
            }
        });
        RateLimiter { tokens }
    }

    fn wait(&self) {
        self.tokens.recv().unwrap();
    }
}

#[test]
fn the_rate_limiter_lets_requests_through_tick_by_tick() {
    let at = synctest::run(|| {
        let (stop, done) = goro::chan::<()>(0);
        let rl = RateLimiter::new(2, Duration::from_secs(1), done);
        let start = now();
        let mut at = Vec::new();
        for _ in 1..=6 {
            rl.wait();
            at.push(now() - start);
        }
        stop.close();
        at
    });
    // Go's output for 4 requests is ticks 0, 0, 1, 2: here exactly.
    let secs = |s| Duration::from_secs(s);
    assert_eq!(at, [secs(0), secs(0), secs(1), secs(2), secs(3), secs(4)]);
}

#[test]
fn a_30s_context_times_out_at_exactly_30s() {
    let (waited, err) = synctest::run(|| {
        let start = now();
        let (ctx, _cancel) =
            goro::context::with_timeout(&goro::context::background(), Duration::from_secs(30));
        assert_eq!(ctx.deadline(), Some(start + Duration::from_secs(30)));
        let before = ctx.done().recv_timeout(Duration::from_secs(29));
        assert!(before.is_err(), "cancelled before 30 s");
        assert_eq!(ctx.err(), None);
        let _ = ctx.done().recv();
        (now() - start, ctx.err())
    });
    assert_eq!(waited, Duration::from_secs(30));
    assert_eq!(err, Some(goro::context::Error::DeadlineExceeded));
}

#[test]
fn an_errgroup_request_times_out_on_the_bubble_clock() {
    let (waited, result) = synctest::run(|| {
        let start = now();
        let (ctx, _cancel) =
            goro::context::with_timeout(&goro::context::background(), Duration::from_secs(30));
        let (g, ctx) = goro::errgroup::with_context::<String>(&ctx);
        g.go(move || {
            goro::select! {
                recv(ctx.done()) -> _ => Err(ctx.err().unwrap().to_string()),
                recv(goro::time::after(Duration::from_secs(60))) -> _ => Ok(()),
            }
        });
        let result = g.wait();
        (now() - start, result)
    });
    assert_eq!(waited, Duration::from_secs(30));
    assert!(result.is_err());
}

#[test]
fn timer_reset_and_stop_follow_the_bubble_clock() {
    synctest::run(|| {
        let start = now();
        let t = goro::time::Timer::new(Duration::from_secs(10));
        sleep(Duration::from_secs(5));
        assert!(t.reset(Duration::from_secs(10)));
        let fired = t.chan().recv().unwrap();
        assert_eq!(fired - start, Duration::from_secs(15));
        assert_eq!(now() - start, Duration::from_secs(15));
        let t2 = goro::time::Timer::new(Duration::from_secs(1));
        assert!(t2.stop());
        // A stopped timer does not move the clock: the sleep decides.
        sleep(Duration::from_secs(2));
        assert_eq!(now() - start, Duration::from_secs(17));
    });
}

#[test]
fn wait_returns_only_after_every_goroutine_parked() {
    at_procs(2, || {
        synctest::run(|| {
            let (tx, rx) = goro::chan::<u32>(0);
            let progress = Arc::new(Mutex::new(Vec::new()));
            for i in 0..50u32 {
                let (rx, progress) = (rx.clone(), progress.clone());
                goro::go!(move || {
                    // Real work first (no park), then a durable block.
                    let mut x = i;
                    for _ in 0..20_000 {
                        x = x.wrapping_mul(31).wrapping_add(7);
                        goro::preempt_point();
                    }
                    progress.lock().unwrap().push(std::hint::black_box(x) | 1);
                    let _ = rx.recv();
                });
            }
            synctest::wait();
            assert_eq!(progress.lock().unwrap().len(), 50);
            let dump = goro::dump_goroutines();
            assert_eq!(
                dump.matches("[chan receive (durable)]").count(),
                50,
                "{dump}"
            );
            drop(tx);
        })
    });
}

#[test]
fn all_blocked_with_no_timer_panics_listing_them() {
    let caught = std::panic::catch_unwind(|| {
        synctest::run(|| {
            let (tx, rx) = goro::chan::<u8>(0);
            let h = goro::GoBuilder::new()
                .name("stuck")
                .spawn(move || rx.recv())
                .unwrap();
            let _ = h.join();
            drop(tx);
        })
    });
    let msg = *caught.unwrap_err().downcast::<String>().unwrap();
    assert!(
        msg.starts_with("deadlock: all goroutines in bubble are blocked\n\n"),
        "{msg}"
    );
    assert!(msg.contains(" [join (durable)]:\n"), "{msg}");
    assert!(
        msg.contains(" \"stuck\" [chan receive (durable)]:\n"),
        "{msg}"
    );
}

#[test]
fn blocked_goroutines_left_by_the_root_are_a_deadlock() {
    let caught = std::panic::catch_unwind(|| {
        synctest::run(|| {
            let (tx, rx) = goro::chan::<u8>(0);
            std::mem::forget(tx);
            goro::go!(move || rx.recv());
        })
    });
    let msg = *caught.unwrap_err().downcast::<String>().unwrap();
    assert!(
        msg.starts_with(
            "deadlock: main bubble goroutine has exited but blocked goroutines remain\n\n"
        ),
        "{msg}"
    );
}

#[test]
fn a_channel_made_outside_keeps_the_clock_still() {
    goro::run(|| {
        let (tx, rx) = goro::chan::<u8>(0);
        let (seen_tx, seen_rx) = goro::chan::<Duration>(1);
        let bubble = goro::go!(move || {
            synctest::run(move || {
                let start = now();
                let sleeper = goro::go!(move || {
                    sleep(Duration::from_secs(1));
                    now() - start
                });
                // Not durable: the sleeper's timer must not fire meanwhile.
                let v = rx.recv().unwrap();
                seen_tx.send(now() - start).unwrap();
                (v, sleeper.join().unwrap())
            })
        });
        // Real time passes; the bubble's clock must not.
        std::thread::sleep(Duration::from_millis(50));
        goro::time::sleep(Duration::from_millis(50));
        tx.send(7).unwrap();
        assert_eq!(seen_rx.recv().unwrap(), Duration::ZERO);
        assert_eq!(bubble.join().unwrap(), (7, Duration::from_secs(1)));
    });
}

#[test]
fn the_root_panic_reaches_the_caller() {
    let caught = std::panic::catch_unwind(|| {
        synctest::run(|| {
            sleep(Duration::from_secs(5));
            panic!("boom after {:?}", goro::time::now().elapsed());
        })
    });
    let msg = *caught.unwrap_err().downcast::<String>().unwrap();
    assert!(msg.starts_with("boom"), "{msg}");
}

#[test]
fn outside_a_bubble_wait_panics() {
    goro::run(|| {
        let caught = std::panic::catch_unwind(synctest::wait);
        let msg = *caught.unwrap_err().downcast::<String>().unwrap();
        assert!(msg.contains("outside a synctest bubble"), "{msg}");
    });
}

#[test]
fn two_bubbles_at_once_do_not_interfere() {
    at_procs(2, || {
        let a = goro::go!(|| {
            synctest::run(|| {
                let start = now();
                for _ in 0..100 {
                    sleep(Duration::from_secs(1));
                }
                now() - start
            })
        });
        let b = goro::go!(|| {
            synctest::run(|| {
                let start = now();
                for _ in 0..100 {
                    sleep(Duration::from_millis(7));
                }
                now() - start
            })
        });
        assert_eq!(a.join().unwrap(), Duration::from_secs(100));
        assert_eq!(b.join().unwrap(), Duration::from_millis(700));
    });
}

#[test]
fn after_func_runs_in_the_bubble_on_its_clock() {
    let finished = Arc::new(Mutex::new(None));
    let done = finished.clone();
    let first = synctest::run(move || {
        let start = now();
        let (tx, rx) = goro::chan::<Duration>(0);
        let _timer = goro::time::after_func(Duration::from_secs(5), move || {
            tx.send(now() - start).unwrap();
            // Still in the bubble: its clock, and `run` waits for this.
            sleep(Duration::from_secs(3));
            *done.lock().unwrap() = Some(now() - start);
        });
        rx.recv().unwrap()
    });
    assert_eq!(first, Duration::from_secs(5));
    assert_eq!(*finished.lock().unwrap(), Some(Duration::from_secs(8)));
}

#[test]
fn context_after_func_runs_in_the_bubble() {
    let finished = Arc::new(Mutex::new(None));
    let done = finished.clone();
    let woke = synctest::run(move || {
        let start = now();
        let (ctx, _cancel) =
            goro::context::with_timeout(&goro::context::background(), Duration::from_secs(30));
        let (tx, rx) = goro::chan::<Duration>(0);
        let _stop = goro::context::after_func(&ctx, move || {
            tx.send(now() - start).unwrap();
            sleep(Duration::from_secs(1));
            *done.lock().unwrap() = Some(now() - start);
        });
        rx.recv().unwrap()
    });
    assert_eq!(woke, Duration::from_secs(30));
    assert_eq!(*finished.lock().unwrap(), Some(Duration::from_secs(31)));
}

/// Why goro counts lock waits as durable (docs/testing.md): a goroutine
/// holding a lock across a sleep must not hang the bubble. Were the
/// waiters not durable, the bubble would never be idle and the sleep's
/// timer would never fire.
#[test]
fn a_lock_held_across_a_sleep_does_not_hang_the_bubble() {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let got = at_procs(2, || {
            synctest::run(|| {
                let start = now();
                let m = Arc::new(goro::sync::Mutex::new(0u32));
                let rw = Arc::new(goro::sync::RwLock::new(0u32));
                let (locked_tx, locked_rx) = goro::chan::<()>(0);
                let (m2, rw2) = (m.clone(), rw.clone());
                goro::go!(move || {
                    let mut g = m2.lock();
                    let mut w = rw2.write();
                    locked_tx.send(()).unwrap();
                    sleep(Duration::from_secs(10));
                    *g += 1;
                    *w += 1;
                });
                locked_rx.recv().unwrap();
                let reader = goro::go!(move || (*rw.read(), now() - start));
                let locked = (*m.lock(), now() - start);
                (locked, reader.join().unwrap())
            })
        });
        done_tx.send(got).unwrap();
    });
    // A hang guard, not a timing.
    let got = done_rx.recv_timeout(Duration::from_secs(120));
    let ten = Duration::from_secs(10);
    assert_eq!(got, Ok(((1, ten), (1, ten))), "the bubble hung");
}
