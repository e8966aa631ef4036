//! Spawning and joining goroutines: the `go!` forms, results, panics,
//! misuse outside a runtime, and a million goroutines.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn add(a: u64, b: u64) -> u64 {
    a + b
}

struct Counter(u64);

impl Counter {
    fn plus(&self, n: u64) -> u64 {
        self.0 + n
    }
}

#[test]
fn go_call_form_evaluates_arguments_in_the_caller() {
    goro::run(|| {
        let evaluated = Arc::new(AtomicUsize::new(0));
        let e = evaluated.clone();
        let arg = move || {
            e.fetch_add(1, Ordering::SeqCst);
            20
        };
        let h = goro::go!(add(arg(), 22));
        // The argument was evaluated before the goroutine ran.
        assert_eq!(evaluated.load(Ordering::SeqCst), 1);
        assert_eq!(h.join().unwrap(), 42);
        let c = Counter(40);
        assert_eq!(goro::go!(c.plus(2)).join().unwrap(), 42);
        let v = [1, 2, 3];
        assert_eq!(goro::go!(move || v.iter().sum::<i32>()).join().unwrap(), 6);
        let f = || "closure value";
        assert_eq!(goro::go!(f).join().unwrap(), "closure value");
    });
}

#[test]
fn run_returns_main_result_and_main_needs_no_send() {
    let rc = std::rc::Rc::new(5);
    let r = goro::run(move || std::rc::Rc::new(*rc + 1));
    assert_eq!(*r, 6);
}

#[test]
fn a_panicking_goroutine_is_isolated_and_reported_to_join() {
    goro::run(|| {
        let h = goro::go!(move || -> u32 { panic!("boom {}", 7) });
        let ok = goro::go!(move || 1u32);
        let err = h.join().unwrap_err();
        assert_eq!(err.message(), Some("boom 7"));
        assert!(err.to_string().contains("boom 7"));
        assert_eq!(ok.join().unwrap(), 1);
    });
}

#[test]
fn main_panic_resumes_in_caller() {
    let r = std::panic::catch_unwind(|| goro::run(|| panic!("main failed")));
    let payload = r.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"main failed"));
}

#[test]
fn go_outside_a_runtime_panics_with_guidance() {
    let r = std::panic::catch_unwind(|| goro::go!(|| ()));
    let payload = r.unwrap_err();
    let msg = payload.downcast_ref::<String>().unwrap();
    assert!(msg.contains("outside a goro runtime"), "{msg}");
    assert!(msg.contains("goro::run"), "{msg}");
    assert!(matches!(
        goro::try_go(|| ()),
        Err(goro::SpawnError::NoRuntime)
    ));
}

#[test]
fn run_inside_a_goroutine_is_refused() {
    goro::run(|| {
        let h = goro::go!(|| goro::run(|| ()));
        let err = h.join().unwrap_err();
        assert!(err.message().unwrap().contains("inside a goroutine"));
    });
}

#[test]
fn join_from_a_plain_thread_blocks_the_thread() {
    goro::run(|| {
        let h = goro::go!(|| {
            goro::gosched();
            99
        });
        let t = std::thread::spawn(move || h.join().unwrap());
        assert_eq!(t.join().unwrap(), 99);
    });
}

#[test]
fn is_finished_and_detach() {
    goro::run(|| {
        let h = goro::go!(|| 3);
        while !h.is_finished() {
            goro::gosched();
        }
        assert_eq!(h.join().unwrap(), 3);
        let done = Arc::new(AtomicUsize::new(0));
        let d = done.clone();
        drop(goro::go!(move || d.fetch_add(1, Ordering::SeqCst)));
        while done.load(Ordering::SeqCst) == 0 {
            goro::gosched();
        }
    });
}

#[test]
fn one_million_goroutines_spawned_and_joined() {
    let total = goro::run(|| {
        let count = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::with_capacity(1000);
        for batch in 0..1000 {
            for i in 0..1000 {
                let c = count.clone();
                handles.push(goro::go!(move || {
                    c.fetch_add(1, Ordering::Relaxed);
                    batch * 1000 + i
                }));
            }
            for (i, h) in handles.drain(..).enumerate() {
                assert_eq!(h.join().unwrap(), batch * 1000 + i);
            }
        }
        count.load(Ordering::Relaxed)
    });
    assert_eq!(total, 1_000_000);
}

#[test]
fn num_goroutine_counts_live_goroutines() {
    goro::run(|| {
        assert_eq!(goro::num_goroutine(), 1);
        let hs: Vec<_> = (0..10)
            .map(|_| {
                goro::go!(|| {
                    goro::gosched();
                })
            })
            .collect();
        assert!(goro::num_goroutine() >= 1);
        hs.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(goro::num_goroutine(), 1);
    });
    assert_eq!(goro::num_goroutine(), 0);
}

#[test]
fn spawn_local_runs_non_send_closures_on_this_thread() {
    goro::run(|| {
        let here = std::thread::current().id();
        let rc = std::rc::Rc::new(41);
        let h = goro::spawn_local(move || {
            goro::gosched();
            assert_eq!(std::thread::current().id(), here);
            *rc + 1
        });
        assert_eq!(h.join().unwrap(), 42);
    });
}

#[test]
fn per_goroutine_stack_size_allows_deep_frames() {
    goro::run(|| {
        // 200 KiB of frames in a goroutine with a 1 MiB stack.
        let h = goro::GoBuilder::new()
            .stack_size(1 << 20)
            .spawn(|| {
                let mut buf = [0u8; 200 * 1024];
                std::hint::black_box(&mut buf);
                buf[0] = 1;
                buf.iter().map(|&b| b as u64).sum::<u64>()
            })
            .unwrap();
        assert_eq!(h.join().unwrap(), 1);
    });
}

#[test]
fn runtime_builder_validates_and_runs_repeatedly() {
    assert!(goro::Runtime::builder().procs(0).build().is_err());
    assert!(goro::Runtime::builder().procs(100_000).build().is_err());
    assert!(goro::Runtime::builder().stack_size(10).build().is_err());
    let rt = goro::Runtime::builder().procs(2).build().unwrap();
    for i in 0..5 {
        assert_eq!(
            rt.run(move || goro::go!(move || i * 2).join().unwrap()),
            i * 2
        );
    }
    assert_eq!(rt.run(goro::gomaxprocs), 2);
}

/// Spawn back-pressure (scheduler/src/sched/spawn.rs, `SPAWN_BACKLOG`): a loop
/// spawning goroutines on one P yields once it has queued a few hundred, so
/// queued-but-unstarted goroutines stay bounded instead of all 20,000 being
/// queued (a task cell each) before the first runs.
#[test]
fn a_spawn_loop_does_not_queue_unboundedly() {
    let max_backlog = goro::Runtime::builder().procs(1).build().unwrap().run(|| {
        let ran = Arc::new(AtomicUsize::new(0));
        let mut max_backlog = 0;
        for spawned in 1..=20_000 {
            let counter = ran.clone();
            drop(goro::go!(move || {
                counter.fetch_add(1, Ordering::Relaxed);
            }));
            max_backlog = max_backlog.max(spawned - ran.load(Ordering::Relaxed));
        }
        max_backlog
    });
    assert!(
        max_backlog <= 1024,
        "{max_backlog} goroutines queued at once"
    );
}
