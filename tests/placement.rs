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
