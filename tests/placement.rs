//! Where goroutines start (`Placement`): the groups' `go` and
//! `Placement::Spread` spread their goroutines over the Ps, so workers that
//! park first and compute later still run in parallel. Checked by the
//! threads the workers ran on (a goroutine never changes thread), not by
//! timing.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

use goro::{GoBuilder, Placement};

type Seen = Arc<Mutex<HashSet<ThreadId>>>;

/// A worker that parks on `gate` first (as one waiting for its first job
/// does), then notes the thread it runs on.
fn worker(gate: &goro::Receiver<()>, seen: &Seen) -> impl FnOnce() + Send + 'static {
    let (gate, seen) = (gate.clone(), seen.clone());
    move || {
        let _ = gate.recv();
        seen.lock().unwrap().insert(std::thread::current().id());
    }
}

fn two_ps() -> goro::Runtime {
    goro::Runtime::builder().procs(2).build().unwrap()
}

#[test]
fn wait_group_go_spreads_workers_that_park_first() {
    let threads = two_ps().run(|| {
        let seen = Seen::default();
        let (open, gate) = goro::chan::<()>(0);
        let wg = goro::sync::WaitGroup::new();
        for _ in 0..2 {
            wg.go(worker(&gate, &seen));
        }
        drop(open);
        wg.wait();
        let n = seen.lock().unwrap().len();
        n
    });
    assert_eq!(threads, 2);
}

#[test]
fn errgroup_go_spreads_its_goroutines() {
    let threads = two_ps().run(|| {
        let seen = Seen::default();
        let (open, gate) = goro::chan::<()>(0);
        let g = goro::errgroup::Group::<()>::new();
        for _ in 0..8 {
            let w = worker(&gate, &seen);
            g.go(move || {
                w();
                Ok(())
            });
        }
        drop(open);
        g.wait().unwrap();
        let n = seen.lock().unwrap().len();
        n
    });
    assert_eq!(threads, 2);
}

#[test]
fn go_builder_spread_places_goroutines_on_the_ps_in_turn() {
    let threads = two_ps().run(|| {
        let seen = Seen::default();
        let (open, gate) = goro::chan::<()>(0);
        let handles: Vec<_> = (0..2)
            .map(|_| {
                GoBuilder::new()
                    .placement(Placement::Spread)
                    .spawn(worker(&gate, &seen))
                    .unwrap()
            })
            .collect();
        drop(open);
        for h in handles {
            h.join().unwrap();
        }
        let n = seen.lock().unwrap().len();
        n
    });
    assert_eq!(threads, 2);
}

#[test]
fn runtime_info_shows_how_long_goroutines_waited_while_a_p_was_idle() {
    let waited = two_ps().run(|| {
        assert!(goro::runtime_info().idle_wait.is_zero());
        // Four goroutines pinned to this M compute in turn (yielding at
        // preemption requests) while the other P has nothing to do.
        let workers: Vec<_> = (0..4)
            .map(|_| {
                goro::spawn_local(|| {
                    let start = std::time::Instant::now();
                    while start.elapsed() < std::time::Duration::from_millis(60) {
                        goro::preempt_point();
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        let info = goro::runtime_info();
        assert!(info.to_string().contains("while a P was idle"), "{info}");
        info.idle_wait
    });
    assert!(!waited.is_zero());
}

#[test]
fn a_group_spawned_with_go_that_parks_first_is_split_with_a_sleeping_p() {
    let threads = two_ps().run(|| {
        // Let the other M fall asleep first.
        goro::time::sleep(std::time::Duration::from_millis(20));
        let seen = Seen::default();
        let (open, gate) = goro::chan::<()>(0);
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let w = worker(&gate, &seen);
                goro::go!(w)
            })
            .collect();
        goro::time::sleep(std::time::Duration::from_millis(20));
        drop(open);
        for h in handles {
            h.join().unwrap();
        }
        let n = seen.lock().unwrap().len();
        n
    });
    assert_eq!(threads, 2);
}
