//! `goro::context` on the runtime: a cancel reaching 10,000 goroutines
//! parked in `select!` on `done()`, deadlines (accuracy, inheritance,
//! causes), values through layers, `CancelFunc` on drop, unregistering of
//! cancelled children (no leak in long-lived parents), `after_func` and its
//! `stop`, contexts on plain threads, and races between cancels and
//! registrations.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::wait_group;
use goro::context::{
    self, after_func, background, with_cancel, with_cancel_cause, with_deadline, with_timeout,
    with_timeout_cause, with_value, without_cancel, Context, Error,
};
use goro::{select, RecvError, RecvTimeoutError::Disconnected, TryRecvError};

/// Timing tests run one at a time (a shared 2-core machine).
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn rt(procs: usize) -> goro::Runtime {
    goro::Runtime::builder().procs(procs).build().unwrap()
}

const TEN_S: Duration = Duration::from_secs(10);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Whether `ctx.done()` is closed now.
fn is_done(ctx: &Context) -> bool {
    ctx.done().try_recv() == Err(TryRecvError::Disconnected)
}

/// Blocks in `select!` until `ctx` is done, failing after 10 s.
fn wait_done(ctx: &Context) {
    select! {
        recv(ctx.done()) -> v => assert_eq!(v, Err(RecvError)),
        recv(goro::time::after(TEN_S)) -> _ => panic!("context not done after 10 s"),
    }
}

#[test]
fn cancel_reaches_10000_children_parked_in_select() {
    let _s = serial();
    for procs in [1, 2] {
        rt(procs).run(|| {
            const N: usize = 10_000;
            let (parent, cancel) = with_cancel(&background());
            let parked = wait_group(N);
            let children: Vec<_> = (0..N).map(|_| with_cancel(&parent)).collect();
            assert_eq!(parent.child_count(), N);
            let waiters: Vec<_> = children
                .iter()
                .map(|(child, _)| {
                    let (child, parked) = (child.clone(), parked.clone());
                    goro::go!(move || {
                        parked.done();
                        wait_done(&child);
                        child.err()
                    })
                })
                .collect();
            parked.wait();
            // Let them all reach the park in select!.
            goro::time::sleep(ms(20));
            assert!(children.iter().all(|(c, _)| c.err().is_none()));
            cancel.cancel();
            for w in waiters {
                assert_eq!(w.join().unwrap(), Some(Error::Canceled));
            }
            assert_eq!(parent.err(), Some(Error::Canceled));
            assert!(children.iter().all(|(c, _)| is_done(c)));
            assert_eq!(parent.child_count(), 0);
        });
    }
}

#[test]
fn cancel_walks_down_a_deep_tree() {
    rt(2).run(|| {
        // A chain 100,000 deep: cancel and drop must not recurse per level.
        let (root, cancel) = with_cancel(&background());
        let mut ctx = root.clone();
        let mut cancels = Vec::new();
        for i in 0..100_000u32 {
            if i % 2 == 0 {
                let (c, f) = with_cancel(&ctx);
                ctx = c;
                cancels.push(f);
            } else {
                ctx = with_value(&ctx, i, i);
            }
        }
        assert_eq!(ctx.value::<u32>(1u32), Some(&1));
        assert!(ctx.err().is_none());
        cancel.cancel();
        assert_eq!(ctx.err(), Some(Error::Canceled));
        assert!(is_done(&ctx));
        drop(cancels);
        drop(ctx);
    });
}

#[test]
fn deadline_fires_on_time() {
    let _s = serial();
    rt(2).run(|| {
        for d in [ms(5), ms(30)] {
            let start = Instant::now();
            let (ctx, _cancel) = with_timeout(&background(), d);
            assert_eq!(ctx.deadline().map(|dl| dl >= start + d), Some(true));
            assert!(ctx.err().is_none());
            wait_done(&ctx);
            let took = start.elapsed();
            println!("with_timeout({d:?}) done after {took:?}");
            assert!(took >= d, "fired early: {took:?} < {d:?}");
            assert!(took < d + ms(250), "fired {took:?} after a {d:?} timeout");
            assert_eq!(ctx.err(), Some(Error::DeadlineExceeded));
            assert!(ctx.err().unwrap().is_timeout());
            let cause = ctx.cause().unwrap();
            assert_eq!(
                cause.downcast_ref::<Error>(),
                Some(&Error::DeadlineExceeded)
            );
        }
    });
}

#[derive(Debug, PartialEq)]
struct Overloaded;

impl std::fmt::Display for Overloaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("overloaded")
    }
}

impl std::error::Error for Overloaded {}

#[test]
fn deadline_causes_and_inheritance() {
    rt(1).run(|| {
        let (ctx, _c) = with_timeout_cause(&background(), ms(1), Overloaded);
        wait_done(&ctx);
        assert_eq!(ctx.err(), Some(Error::DeadlineExceeded));
        assert_eq!(ctx.cause().unwrap().downcast_ref(), Some(&Overloaded));

        // A later deadline than the parent's is the parent's.
        let (parent, _p) = with_timeout(&background(), Duration::from_secs(60));
        let (later, _l) = with_timeout(&parent, Duration::from_secs(3600));
        assert_eq!(later.deadline(), parent.deadline());
        let (earlier, _e) = with_timeout(&parent, Duration::from_secs(1));
        assert!(earlier.deadline() < parent.deadline());
        // A with_cancel child and a value child inherit it too.
        let (child, _c) = with_cancel(&earlier);
        assert_eq!(child.deadline(), earlier.deadline());
        assert_eq!(with_value(&child, "k", 1).deadline(), earlier.deadline());

        // A deadline already past: done at once, still DeadlineExceeded.
        let (past, _p) = with_deadline(&background(), Instant::now() - ms(1));
        assert!(is_done(&past));
        assert_eq!(past.err(), Some(Error::DeadlineExceeded));

        // Cancelling first wins over the deadline.
        let (ctx, cancel) = with_timeout(&background(), ms(1));
        cancel.cancel();
        goro::time::sleep(ms(5));
        assert_eq!(ctx.err(), Some(Error::Canceled));
        // A parent's deadline reaches the child as DeadlineExceeded.
        let (parent, _p) = with_timeout(&background(), ms(1));
        let (child, _c) = with_cancel(&parent);
        wait_done(&child);
        assert_eq!(child.err(), Some(Error::DeadlineExceeded));
    });
}

#[test]
fn cause_is_first_and_inherited() {
    rt(1).run(|| {
        let (parent, cancel) = with_cancel_cause(&background());
        let (child, _c) = with_cancel(&parent);
        let grandchild = with_value(&child, 7u8, "seven");
        assert!(parent.cause().is_none());
        cancel.cancel(Overloaded);
        cancel.cancel("ignored: only the first cancel counts");
        for ctx in [&parent, &child, &grandchild] {
            assert_eq!(ctx.err(), Some(Error::Canceled));
            assert_eq!(ctx.cause().unwrap().downcast_ref(), Some(&Overloaded));
        }
        // A string cause, and no cause at all.
        let (ctx, cancel) = with_cancel_cause(&background());
        cancel.cancel("shutting down");
        assert_eq!(ctx.cause().unwrap().to_string(), "shutting down");
        let (ctx, cancel) = with_cancel_cause(&background());
        drop(cancel);
        assert_eq!(
            ctx.cause().unwrap().downcast_ref::<Error>(),
            Some(&Error::Canceled)
        );
        // A child made after the cancel gets the cause as well.
        let (parent, cancel) = with_cancel_cause(&background());
        cancel.cancel(Overloaded);
        let (late, _l) = with_cancel(&parent);
        assert!(is_done(&late));
        assert_eq!(late.cause().unwrap().downcast_ref(), Some(&Overloaded));
    });
}

#[derive(PartialEq, Eq)]
struct UserKey;

#[derive(PartialEq, Eq)]
struct RequestId(u32);

#[test]
fn values_are_found_through_layers() {
    rt(1).run(|| {
        let root = with_value(&background(), UserKey, String::from("gopher"));
        let (cancelable, _c) = with_cancel(&root);
        let ctx = with_value(&cancelable, "trace", 42u64);
        let ctx = with_value(&ctx, RequestId(1), "first");
        let ctx = with_value(&ctx, RequestId(2), "second");
        let (ctx, _t) = with_timeout(&ctx, Duration::from_secs(60));
        let ctx = without_cancel(&ctx);

        assert_eq!(
            ctx.value::<String>(UserKey).map(String::as_str),
            Some("gopher")
        );
        assert_eq!(ctx.value::<u64>("trace"), Some(&42));
        assert_eq!(ctx.value::<&str>(RequestId(1)), Some(&"first"));
        assert_eq!(ctx.value::<&str>(RequestId(2)), Some(&"second"));
        // Unknown key, key of another type, value of another type.
        assert_eq!(ctx.value::<&str>(RequestId(3)), None);
        assert_eq!(ctx.value::<u64>(String::from("trace")), None);
        assert_eq!(ctx.value::<u32>("trace"), None);
        // The nearest binding shadows the outer one.
        let shadow = with_value(&ctx, "trace", 7u64);
        assert_eq!(shadow.value::<u64>("trace"), Some(&7));
        assert_eq!(ctx.value::<u64>("trace"), Some(&42));
        assert_eq!(background().value::<u64>("trace"), None);
    });
}

#[test]
fn without_cancel_keeps_values_but_is_never_done() {
    rt(1).run(|| {
        let (parent, cancel) = with_timeout(&background(), ms(1));
        let parent = with_value(&parent, "k", 1i32);
        let detached = without_cancel(&parent);
        cancel.cancel();
        assert!(is_done(&parent));
        assert!(!is_done(&detached));
        assert_eq!(detached.err(), None);
        assert_eq!(detached.deadline(), None);
        assert_eq!(detached.value::<i32>("k"), Some(&1));
        assert!(!is_done(&background()));
        assert_eq!(background().err(), None);
    });
}

#[test]
fn dropping_the_cancel_func_cancels() {
    rt(1).run(|| {
        let (ctx, cancel) = with_cancel(&background());
        let waiter = {
            let ctx = ctx.clone();
            goro::go!(move || wait_done(&ctx))
        };
        goro::gosched();
        assert!(ctx.err().is_none());
        drop(cancel);
        waiter.join().unwrap();
        assert_eq!(ctx.err(), Some(Error::Canceled));

        // Scope-bound: the context is cancelled when the scope ends.
        let outer = {
            let (ctx, _cancel) = with_timeout(&background(), Duration::from_secs(60));
            assert!(!is_done(&ctx));
            ctx
        };
        assert_eq!(outer.err(), Some(Error::Canceled));
    });
}

#[test]
fn cancelling_a_child_leaves_the_parent_alone_and_unregisters() {
    rt(2).run(|| {
        let (parent, _p) = with_cancel(&background());
        let (a, cancel_a) = with_cancel(&parent);
        let (b, cancel_b) = with_timeout(&parent, Duration::from_secs(60));
        let c = with_value(&b, "k", 0u8);
        let (d, cancel_d) = with_cancel(&c);
        assert_eq!(parent.child_count(), 2);
        assert_eq!(b.child_count(), 1);

        cancel_a.cancel();
        assert!(is_done(&a));
        assert!(!is_done(&parent) && !is_done(&b) && !is_done(&d));
        assert_eq!(parent.child_count(), 1);

        cancel_b.cancel();
        assert!(is_done(&b) && is_done(&c) && is_done(&d));
        assert!(!is_done(&parent));
        assert_eq!(parent.child_count(), 0);
        drop(cancel_d);

        // A long-lived parent: many short-lived children come and go.
        for round in 0..100 {
            let children: Vec<_> = (0..100).map(|_| with_cancel(&parent)).collect();
            assert_eq!(parent.child_count(), 100);
            // Drop in an order that exercises the swap-remove.
            for (i, (ctx, cancel)) in children.into_iter().enumerate() {
                if (i + round) % 3 == 0 {
                    cancel.cancel();
                }
                drop((ctx, cancel));
            }
            assert_eq!(parent.child_count(), 0);
        }
        assert!(parent.err().is_none());
    });
}

#[test]
fn after_func_runs_once_and_stop_prevents_it() {
    rt(2).run(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let ran = wait_group(1);
        let (ctx, cancel) = with_cancel(&background());
        let stop = {
            let (runs, ran) = (runs.clone(), ran.clone());
            after_func(&ctx, move || {
                assert!(goro::in_goroutine());
                runs.fetch_add(1, Ordering::SeqCst);
                ran.done();
            })
        };
        assert_eq!(ctx.child_count(), 1);
        goro::time::sleep(ms(2));
        assert_eq!(runs.load(Ordering::SeqCst), 0);
        cancel.cancel();
        cancel.cancel();
        ran.wait();
        goro::time::sleep(ms(2));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(!stop.stop(), "stop after f started");

        // Stopped before the cancel: never runs, and unregisters.
        let (ctx, cancel) = with_cancel(&background());
        let stop = {
            let runs = runs.clone();
            after_func(&ctx, move || {
                runs.fetch_add(1, Ordering::SeqCst);
            })
        };
        assert!(stop.stop());
        assert!(!stop.stop());
        assert_eq!(ctx.child_count(), 0);
        drop(cancel);
        goro::time::sleep(ms(5));
        assert_eq!(runs.load(Ordering::SeqCst), 1);

        // On a context already done: runs at once; on a deadline: runs then.
        let ran = wait_group(2);
        let (done_ctx, c) = with_cancel(&background());
        drop(c);
        let r = ran.clone();
        let _ = after_func(&done_ctx, move || r.done());
        let (timed, _t) = with_timeout(&background(), ms(2));
        let r = ran.clone();
        let _ = after_func(&timed, move || r.done());
        ran.wait();

        // On a context that is never done: never runs; stop still works.
        let stop = after_func(&background(), || unreachable!());
        assert!(stop.stop());
    });
}

#[test]
fn after_func_races_stop_against_cancel() {
    rt(2).run(|| {
        // Exactly one of them wins, every time.
        for _ in 0..2_000 {
            let (ctx, cancel) = with_cancel(&background());
            let runs = Arc::new(AtomicUsize::new(0));
            let ran = wait_group(1);
            let stop = {
                let (runs, ran) = (runs.clone(), ran.clone());
                after_func(&ctx, move || {
                    runs.fetch_add(1, Ordering::SeqCst);
                    ran.done();
                })
            };
            let canceller = goro::go!(move || cancel.cancel());
            let stopped = stop.stop();
            canceller.join().unwrap();
            if !stopped {
                ran.wait();
            }
            assert_eq!(runs.load(Ordering::SeqCst), usize::from(!stopped));
            assert_eq!(ctx.child_count(), 0);
        }
    });
}

#[test]
#[should_panic(expected = "outside a goro runtime")]
fn after_func_outside_a_runtime_panics() {
    let (ctx, _c) = with_cancel(&background());
    let _ = after_func(&ctx, || {});
}

#[test]
fn contexts_work_on_plain_threads() {
    let _s = serial();
    // No runtime at all: the deadline fires on goro's timer thread, and
    // `done().recv()` blocks the thread.
    let start = Instant::now();
    let (ctx, _c) = with_timeout(&background(), ms(10));
    assert_eq!(ctx.done().recv_timeout(TEN_S), Err(Disconnected));
    assert!(start.elapsed() >= ms(10));
    assert_eq!(ctx.err(), Some(Error::DeadlineExceeded));

    // A runtime's goroutines wait on a context a plain thread cancels, and
    // a goroutine cancels one a plain thread waits on.
    let (outer, cancel_outer) = with_cancel(&background());
    let (inner, cancel_inner) = with_cancel(&background());
    let thread = std::thread::spawn(move || {
        assert_eq!(inner.done().recv_timeout(TEN_S), Err(Disconnected));
        cancel_outer.cancel();
        inner.err()
    });
    rt(2).run(move || {
        let waiters: Vec<_> = (0..100)
            .map(|_| {
                let outer = outer.clone();
                goro::go!(move || wait_done(&outer))
            })
            .collect();
        let (child, _c) = with_timeout(&outer, Duration::from_secs(60));
        goro::time::sleep(ms(5));
        cancel_inner.cancel();
        for w in waiters {
            w.join().unwrap();
        }
        wait_done(&child);
    });
    assert_eq!(thread.join().unwrap(), Some(Error::Canceled));
}

#[test]
fn concurrent_registrations_and_cancels() {
    rt(2).run(|| {
        // Children are made, cancelled and dropped from many goroutines
        // while the parent is cancelled: none is lost, none leaks.
        for _ in 0..20 {
            let (parent, cancel) = with_cancel(&background());
            let made = wait_group(8);
            let workers: Vec<_> = (0..8)
                .map(|w| {
                    let (parent, made) = (parent.clone(), made.clone());
                    goro::go!(move || {
                        let mut kept = Vec::new();
                        for i in 0..500 {
                            let (child, c) = with_cancel(&parent);
                            if (i + w) % 2 == 0 {
                                drop(c);
                                assert!(is_done(&child));
                            } else {
                                kept.push((child, c));
                            }
                            if i == 250 {
                                made.done();
                            }
                        }
                        kept
                    })
                })
                .collect();
            made.wait();
            cancel.cancel();
            for w in workers {
                for (child, c) in w.join().unwrap() {
                    assert_eq!(child.err(), Some(Error::Canceled));
                    drop(c);
                }
            }
            assert_eq!(parent.child_count(), 0);
        }
    });
}

#[test]
fn error_text_matches_go() {
    assert_eq!(Error::Canceled.to_string(), "context canceled");
    assert_eq!(
        Error::DeadlineExceeded.to_string(),
        "context deadline exceeded"
    );
    let e: Box<dyn std::error::Error + Send + Sync> = Box::new(Error::Canceled);
    assert_eq!(e.to_string(), "context canceled");
    assert_eq!(context::todo().err(), None);
    assert!(format!("{:?}", context::background()).starts_with("Context"));
}

#[test]
fn handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Context>();
    send_sync::<context::CancelFunc>();
    send_sync::<context::CancelCauseFunc>();
    send_sync::<context::AfterFunc>();
    send_sync::<goro::errgroup::Group<String>>();
}

/// `let (ctx, _) = with_cancel(..)` is reported (once per call site, on
/// the first use of the born-cancelled context); a context cancelled by
/// `cancel()`, one whose `CancelFunc` lives to the end of the scope, and
/// one nobody uses are not. Runs in a child: it reads stderr.
#[test]
fn a_cancel_func_dropped_at_once_is_reported() {
    const NAME: &str = "a_cancel_func_dropped_at_once_is_reported";
    if std::env::var("GORO_TEST_CHILD").is_ok() {
        goro::run(|| {
            let bg = background();
            for _ in 0..3 {
                let (ctx, _) = with_cancel(&bg); // reported once
                let worker = goro::go!(move || ctx.err());
                assert_eq!(worker.join().unwrap(), Some(Error::Canceled));
            }
            let (ctx, _) = with_timeout(&bg, Duration::from_secs(1)); // reported
            drop(with_cancel(&ctx)); // a derived context is a use
            let (ctx, cancel) = with_cancel(&bg);
            cancel.cancel();
            assert!(ctx.err().is_some());
            let (ctx, _cancel) = with_cancel(&bg);
            assert!(ctx.err().is_none());
            let (_unused, _) = with_cancel(&bg);
        });
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
        .env("GORO_TEST_CHILD", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let reports: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("goro: the context made at"))
        .collect();
    assert_eq!(reports.len(), 2, "{stderr}");
    assert!(reports[0].contains("tests/context.rs:"), "{stderr}");
    assert!(reports[0].contains("let (ctx, _cancel)"), "{stderr}");
    assert_ne!(reports[0], reports[1], "{stderr}");
}
