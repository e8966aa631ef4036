//! Goroutine dumps under load: one goroutine dumps in a loop while many
//! others park and wake through channels, timers and `select` on two Ps.
//! Every dump walks the parked goroutines' stacks, holding each still
//! meanwhile; a wake-up that arrives during a hold must still arrive
//! (`SCAN_READIED`), so every message must be delivered, in order, and
//! every goroutine must finish. A lost wake-up shows as a goroutine that
//! never reports, and the test then fails with a dump of it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the goroutines exchange messages while dumps run.
const RUN: Duration = Duration::from_millis(1500);
/// Ping-pong pairs.
const PAIRS: usize = 24;
/// Goroutines that sleep and select on timers in a loop.
const SLEEPERS: usize = 8;

/// Sends 0, 1, 2, ... and expects each back, until `stop`; then tells the
/// partner to stop. Returns how many round trips it made.
#[inline(never)]
fn pinger(to: goro::Sender<u64>, from: goro::Receiver<u64>, stop: &AtomicBool) -> u64 {
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        to.send(n).unwrap();
        assert_eq!(from.recv(), Ok(n), "a reply went missing");
        n += 1;
    }
    to.send(u64::MAX).unwrap();
    n
}

/// Echoes until told to stop; returns how many it echoed.
#[inline(never)]
fn ponger(from: goro::Receiver<u64>, to: goro::Sender<u64>) -> u64 {
    let mut n = 0;
    loop {
        let v = from.recv().unwrap();
        if v == u64::MAX {
            return n;
        }
        assert_eq!(v, n, "a message went missing");
        to.send(v).unwrap();
        n += 1;
    }
}

/// Wakes from sleeps and timer selects until `stop`.
#[inline(never)]
fn sleeper(stop: &AtomicBool) -> u64 {
    let mut n = 0;
    let (_keep, never) = goro::chan::<u8>(0);
    while !stop.load(Ordering::Relaxed) {
        if n % 2 == 0 {
            goro::time::sleep(Duration::from_micros(300));
        } else {
            goro::select! {
                recv(never) -> _ => unreachable!(),
                recv(goro::time::after(Duration::from_micros(300))) -> _ => {},
            }
        }
        n += 1;
    }
    n
}

/// What a goroutine reports when it finishes.
enum Report {
    Pinged(u64),
    Ponged(u64),
    Slept(u64),
}

#[test]
fn dumps_lose_no_wake_up() {
    let rt = goro::Runtime::builder().procs(2).build().unwrap();
    rt.run(|| {
        let stop = Arc::new(AtomicBool::new(false));
        let (report, reports) = goro::chan::<Report>(2 * PAIRS + SLEEPERS);
        for _ in 0..PAIRS {
            let (to_b, from_a) = goro::chan::<u64>(0);
            let (to_a, from_b) = goro::chan::<u64>(0);
            let (stop, report, report_b) = (stop.clone(), report.clone(), report.clone());
            goro::go!(move || report
                .send(Report::Pinged(pinger(to_b, from_b, &stop)))
                .unwrap());
            goro::go!(move || report_b.send(Report::Ponged(ponger(from_a, to_a))).unwrap());
        }
        for _ in 0..SLEEPERS {
            let (stop, report) = (stop.clone(), report.clone());
            goro::go!(move || report.send(Report::Slept(sleeper(&stop))).unwrap());
        }
        drop(report);

        let dumper = {
            let stop = stop.clone();
            goro::go!(move || {
                let (mut dumps, mut walked) = (0u64, 0u64);
                while !stop.load(Ordering::Relaxed) {
                    let dump = goro::dump_goroutines();
                    assert!(dump.starts_with("goroutine "), "{dump}");
                    dumps += 1;
                    walked += dump.matches("dump_stress::ponger(...)\n\t").count() as u64;
                    // A dump has no preemption point: let the goroutines
                    // homed on this M run between dumps.
                    goro::gosched();
                }
                (dumps, walked)
            })
        };

        let start = Instant::now();
        while start.elapsed() < RUN {
            goro::time::sleep(Duration::from_millis(20));
        }
        stop.store(true, Ordering::Relaxed);
        let (dumps, walked) = dumper.join().unwrap();

        let (mut pings, mut pongs, mut sleeps, mut finished) = (0, 0, 0, 0);
        while finished < 2 * PAIRS + SLEEPERS {
            match reports.recv_timeout(Duration::from_secs(10)) {
                Ok(r) => {
                    match r {
                        Report::Pinged(n) => pings += n,
                        Report::Ponged(n) => pongs += n,
                        Report::Slept(n) => sleeps += n,
                    }
                    finished += 1;
                }
                Err(e) => panic!(
                    "{e:?}: {finished} goroutines reported; the others:\n{}",
                    goro::dump_goroutines()
                ),
            }
        }
        assert_eq!(pings, pongs, "every ping was echoed");
        assert!(pings > 1000, "{pings} round trips");
        assert!(sleeps > 100, "{sleeps} timer wake-ups");
        assert!(dumps > 5, "{dumps} dumps");
        // Parked pongers were walked: their frames are in the dumps.
        assert!(walked > 0, "{walked} walked pongers in {dumps} dumps");
        println!("{dumps} dumps, {walked} ponger stacks walked, {pings} round trips");
    });
}
