//! `goro::Handle`: starting goroutines from plain threads and Tokio tasks,
//! before a run starts, and after it ended.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use goro::{Handle, Runtime};

/// A `Handle::current()` taken in a goroutine starts goroutines from a
/// plain thread and from Tokio tasks (which await their `JoinHandle`s);
/// each closure runs as a goroutine of this runtime.
#[goro::test(procs = 2)]
fn handle_go_from_a_plain_thread_and_tokio_tasks() {
    let h = Handle::current();
    let from_thread = {
        let h = h.clone();
        std::thread::spawn(move || {
            let jh = h.go(|| (goro::in_goroutine(), 40));
            jh.join().unwrap()
        })
    };
    assert_eq!(from_thread.join().unwrap(), (true, 40));

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..50u64)
        .map(|i| {
            let h = h.clone();
            rt.spawn(async move {
                let jh = h.go(move || {
                    goro::gosched();
                    (goro::in_goroutine(), i * 2)
                });
                jh.await.unwrap()
            })
        })
        .collect();
    let mut sum = 0;
    for t in tasks {
        let (in_goroutine, v) = goro::block_on(t).unwrap();
        assert!(in_goroutine);
        sum += v;
    }
    assert_eq!(sum, 2 * (0..50).sum::<u64>());
    rt.shutdown_background();
}

/// `Runtime::handle()` before `run`: the goroutines given to it wait and
/// start when the run starts, numbered after the main goroutine; a thread
/// joins one of them before the run began.
#[test]
fn a_runtime_handle_feeds_the_first_run() {
    let rt = Runtime::builder().procs(2).build().unwrap();
    let h = rt.handle();
    let early: Vec<_> = (0..10u64).map(|i| h.go(move || i * 3)).collect();
    let ids: Vec<u64> = early.iter().map(|jh| jh.id()).collect();
    assert_eq!(ids, (2..12).collect::<Vec<_>>());
    let waiter = {
        let jh = h.go(goro::in_goroutine);
        std::thread::spawn(move || jh.join().unwrap())
    };
    let main_id = rt.run(move || {
        let sum: u64 = early.into_iter().map(|jh| jh.join().unwrap()).sum();
        assert_eq!(sum, 3 * 45);
        // During the run the handle starts goroutines at once.
        assert_eq!(h.go(|| 5).join().unwrap(), 5);
        assert!(goro::go!(goro::goroutine_id).join().unwrap() > Some(12));
        goro::goroutine_id()
    });
    assert_eq!(main_id, Some(1));
    assert!(waiter.join().unwrap(), "ran as a goroutine");
}

/// After a run ended, a handle (taken inside, or from the Runtime) gives
/// goroutines a `JoinHandle` that is `Err` at once and drops their
/// closures unrun; a second run of the same Runtime takes them again.
/// Goroutines still waiting when a never-run Runtime is dropped are `Err`.
#[test]
fn after_the_run_ended_go_yields_an_err_join_handle() {
    let rt = Runtime::builder().procs(1).build().unwrap();
    let inside = rt.run(Handle::current);
    let outside = rt.handle();
    let dropped = Arc::new(AtomicUsize::new(0));
    for h in [&inside, &outside] {
        let token = Dropped(dropped.clone());
        let err = h
            .go(move || {
                drop(token);
                1
            })
            .join()
            .unwrap_err();
        assert!(err.message().unwrap().contains("abandoned"), "{err}");
    }
    assert_eq!(dropped.load(Ordering::SeqCst), 2, "closures dropped unrun");

    // A Tokio task awaiting such a handle gets the Err too.
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let h = outside.clone();
    assert!(tokio_rt.block_on(async move { h.go(|| 1).await }).is_err());

    // The Runtime's own handle works again in its next run.
    assert_eq!(rt.run(move || outside.go(|| 7).join().unwrap()), 7);
    assert!(inside.go(|| 1).join().is_err(), "a run's handle stays gone");

    let never_run = Runtime::builder().procs(1).build().unwrap();
    let pending = never_run.handle().go(|| 1);
    drop(never_run);
    assert!(pending.join().is_err());
}

#[test]
fn handle_is_clone_send_sync() {
    fn check<H: Clone + Send + Sync + 'static>() {}
    check::<Handle>();
}

struct Dropped(Arc<AtomicUsize>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
