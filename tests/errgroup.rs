//! `goro::errgroup` on the runtime: the first error wins and cancels the
//! context, `wait` cancels it too, `set_limit` bounds concurrency (and
//! refuses to change under running goroutines), `try_go`, and panics
//! re-raised by `wait` after every goroutine finished.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::wait_group;
use goro::context::{background, with_cancel, Error};
use goro::errgroup::{with_context, Group};
use goro::select;

fn rt(procs: usize) -> goro::Runtime {
    goro::Runtime::builder().procs(procs).build().unwrap()
}

#[test]
fn all_succeed() {
    rt(2).run(|| {
        let g = Group::<String>::new();
        let sum = Arc::new(AtomicUsize::new(0));
        for i in 1..=100 {
            let sum = sum.clone();
            g.go(move || {
                sum.fetch_add(i, Ordering::SeqCst);
                Ok(())
            });
        }
        assert_eq!(g.wait(), Ok(()));
        assert_eq!(sum.load(Ordering::SeqCst), 5050);
    });
}

#[test]
fn first_error_wins_and_cancels_the_context() {
    rt(2).run(|| {
        let (g, ctx) = with_context::<u32>(&background());
        let failed = wait_group(1);
        // Nine goroutines wait for the context; one fails; then later
        // failures are ignored.
        for _ in 0..9 {
            let ctx = ctx.clone();
            g.go(move || {
                select! {
                    recv(ctx.done()) -> _ => Err(100),
                    recv(goro::time::after(Duration::from_secs(10))) -> _ => Ok(()),
                }
            });
        }
        let f = failed.clone();
        g.go(move || {
            f.done();
            Err(1)
        });
        failed.wait();
        assert_eq!(g.wait(), Err(1));
        assert_eq!(ctx.err(), Some(Error::Canceled));
    });
}

#[test]
fn wait_cancels_the_context_without_errors() {
    rt(1).run(|| {
        let (parent, _p) = with_cancel(&background());
        let (g, ctx) = with_context::<()>(&parent);
        let (tx, rx) = goro::chan::<()>(0);
        g.go(move || {
            let _ = rx.recv();
            Ok(())
        });
        goro::gosched();
        assert_eq!(ctx.err(), None, "no failure, wait not returned");
        drop(tx);
        assert_eq!(g.wait(), Ok(()));
        assert_eq!(ctx.err(), Some(Error::Canceled));
        assert!(parent.err().is_none(), "the parent is not the group's");
        assert_eq!(parent.child_count(), 0);
    });
}

#[test]
fn set_limit_bounds_concurrency() {
    for procs in [1, 2] {
        rt(procs).run(move || {
            const LIMIT: usize = 3;
            let g = Group::<()>::new();
            g.set_limit(LIMIT as isize);
            let (running, max) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
            for _ in 0..60 {
                let (r, m) = (running.clone(), max.clone());
                g.go(move || {
                    let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                    m.fetch_max(now, Ordering::SeqCst);
                    goro::time::sleep(Duration::from_micros(200));
                    r.fetch_sub(1, Ordering::SeqCst);
                    Ok(())
                });
                assert!(running.load(Ordering::SeqCst) <= LIMIT);
            }
            g.wait().unwrap();
            let max = max.load(Ordering::SeqCst);
            println!("procs={procs}: at most {max} running");
            assert!(max <= LIMIT, "{max} ran at once with a limit of {LIMIT}");
            assert!(max >= 2, "the limit was never used ({max})");
        });
    }
}

#[test]
fn try_go_declines_at_the_limit() {
    rt(2).run(|| {
        let g = Group::<()>::new();
        g.set_limit(2);
        let (release_tx, release_rx) = goro::chan::<()>(0);
        for _ in 0..2 {
            let rx = release_rx.clone();
            assert!(g.try_go(move || {
                let _ = rx.recv();
                Ok(())
            }));
        }
        assert!(!g.try_go(|| unreachable!("ran past the limit")));
        release_tx.send(()).unwrap();
        // One slot frees up once that goroutine has finished.
        let mut started = false;
        for _ in 0..10_000 {
            if g.try_go(|| Ok(())) {
                started = true;
                break;
            }
            goro::gosched();
        }
        assert!(started, "no slot came free");
        drop(release_tx);
        g.wait().unwrap();

        // No limit: try_go always starts; a limit of 0: never.
        let g = Group::<()>::new();
        g.set_limit(-1);
        assert!((0..100).all(|_| g.try_go(|| Ok(()))));
        g.wait().unwrap();
        let g = Group::<()>::new();
        g.set_limit(0);
        assert!(!g.try_go(|| Ok(())));
        g.wait().unwrap();
    });
}

#[test]
#[should_panic(
    expected = "errgroup: modify limit while 1 goroutines in the group are still active"
)]
fn set_limit_while_running_panics() {
    rt(1).run(|| {
        let g = Group::<()>::new();
        let (tx, rx) = goro::chan::<()>(0);
        g.go(move || {
            let _ = rx.recv();
            Ok(())
        });
        let _keep_it_running = tx;
        g.set_limit(4);
    });
}

#[test]
#[should_panic(expected = "limit of 0 would wait forever")]
fn go_with_a_zero_limit_panics() {
    rt(1).run(|| {
        let g = Group::<()>::new();
        g.set_limit(0);
        g.go(|| Ok(()));
    });
}

#[test]
fn wait_reraises_a_panic_after_all_finished() {
    rt(2).run(|| {
        let (g, ctx) = with_context::<&'static str>(&background());
        let finished = Arc::new(AtomicUsize::new(0));
        for i in 0..10 {
            let (ctx, finished) = (ctx.clone(), finished.clone());
            g.go(move || {
                if i == 5 {
                    panic!("task five blew up");
                }
                // The others run until the panic cancels the context.
                let _ = ctx.done().recv();
                finished.fetch_add(1, Ordering::SeqCst);
                Err("cancelled")
            });
        }
        let waited = goro::go!(move || g.wait());
        let payload = waited.join().unwrap_err().into_payload();
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"task five blew up"),
            "wait re-raises the goroutine's own payload"
        );
        assert_eq!(finished.load(Ordering::SeqCst), 9, "wait waited for all");
        assert_eq!(ctx.err(), Some(Error::Canceled));
    });
}
