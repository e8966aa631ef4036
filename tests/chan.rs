//! Channels on the runtime: ports of Go's classic channel programs and
//! stress tests (sums, counts, exactly-once destruction, thread interop).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::DropCounter;
use goro::{chan, Receiver, RecvError, Sender, TryRecvError, TrySendError};

fn rt(procs: usize) -> goro::Runtime {
    goro::Runtime::builder().procs(procs).build().unwrap()
}

fn generate(tx: Sender<u64>) {
    for i in 2.. {
        if tx.send(i).is_err() {
            return;
        }
    }
}

fn filter(rx: Receiver<u64>, tx: Sender<u64>, prime: u64) {
    for v in &rx {
        if v % prime != 0 && tx.send(v).is_err() {
            return;
        }
    }
}

/// Go's daisy-chain prime sieve (test/chan/sieve1.go): one goroutine per prime.
#[test]
fn prime_sieve_first_1000_primes() {
    for procs in [1, 2] {
        let primes = rt(procs).run(|| {
            let (tx, mut rx) = chan(0);
            goro::go!(generate(tx));
            let mut primes = Vec::new();
            for _ in 0..1000 {
                let prime = rx.recv().unwrap();
                primes.push(prime);
                let (tx2, rx2) = chan(0);
                goro::go!(filter(rx, tx2, prime));
                rx = rx2;
            }
            primes
        });
        assert_eq!(primes.len(), 1000);
        assert_eq!(&primes[..10], &[2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
        assert_eq!(primes[999], 7919);
    }
}

#[test]
fn unbuffered_send_waits_for_a_receiver() {
    rt(2).run(|| {
        let (tx, rx) = chan::<u32>(0);
        assert!(matches!(tx.try_send(1), Err(TrySendError::Full(1))));
        let taken = Arc::new(AtomicUsize::new(0));
        let t = taken.clone();
        let h = goro::go!(move || {
            tx.send(7).unwrap();
            // The send completed, so the receiver already has the value.
            assert_eq!(t.load(Ordering::SeqCst), 1);
        });
        goro::gosched();
        let v = rx.recv().unwrap();
        taken.store(1, Ordering::SeqCst);
        assert_eq!(v, 7);
        h.join().unwrap();
    });
}

#[test]
fn buffered_fifo_len_cap_close_and_drain() {
    rt(1).run(|| {
        let (tx, rx) = chan(3);
        for i in 0..3 {
            tx.send(i).unwrap();
        }
        assert_eq!((tx.len(), tx.cap(), rx.len()), (3, 3, 3));
        assert!(matches!(tx.try_send(9), Err(TrySendError::Full(9))));
        assert!(tx.close());
        assert!(!tx.close(), "a second close reports false");
        assert!(rx.is_closed());
        assert_eq!(tx.send(5), Err(goro::SendError(5)));
        assert_eq!(rx.iter().collect::<Vec<_>>(), vec![0, 1, 2]);
        assert_eq!(rx.recv(), Err(RecvError));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    });
}

#[test]
fn per_sender_order_is_preserved() {
    rt(2).run(|| {
        let (tx, rx) = chan(16);
        let senders: Vec<_> = (0..4u64)
            .map(|s| {
                let tx = tx.clone();
                goro::go!(move || (0..10_000u64).for_each(|i| tx.send((s, i)).unwrap()))
            })
            .collect();
        drop(tx);
        let mut next = [0u64; 4];
        for (s, i) in &rx {
            assert_eq!(next[s as usize], i, "sender {s} out of order");
            next[s as usize] += 1;
        }
        senders.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(next, [10_000; 4]);
    });
}

#[test]
fn close_wakes_every_parked_sender_and_receiver() {
    rt(2).run(|| {
        let (tx, rx) = chan::<u32>(0);
        let receivers: Vec<_> = (0..50)
            .map(|_| {
                let rx = rx.clone();
                goro::go!(move || rx.recv())
            })
            .collect();
        let (tx2, rx2) = chan::<u32>(0);
        let senders: Vec<_> = (0..50)
            .map(|i| {
                let tx2 = tx2.clone();
                goro::go!(move || tx2.send(i))
            })
            .collect();
        while goro::num_goroutine() > 1 + 100 {
            goro::gosched();
        }
        for _ in 0..10 {
            goro::gosched();
        }
        tx.close();
        rx2.close();
        for h in receivers {
            assert_eq!(h.join().unwrap(), Err(RecvError));
        }
        let mut returned: Vec<u32> = senders
            .into_iter()
            .map(|h| h.join().unwrap().unwrap_err().0)
            .collect();
        returned.sort();
        assert_eq!(returned, (0..50).collect::<Vec<_>>());
    });
}

/// 8 producers send `0..total` between them, 8 consumers sum what they
/// receive; returns the wall time it took.
fn mpmc(procs: usize, cap: usize, total: u64) -> std::time::Duration {
    let t0 = std::time::Instant::now();
    let (sum, count) = rt(procs).run(move || {
        let (tx, rx) = chan::<u64>(cap);
        let per = total / 8;
        let producers: Vec<_> = (0..8u64)
            .map(|p| {
                let tx = tx.clone();
                goro::go!(move || (p * per..(p + 1) * per).for_each(|v| tx.send(v).unwrap()))
            })
            .collect();
        drop(tx);
        let consumers: Vec<_> = (0..8)
            .map(|_| {
                let rx = rx.clone();
                goro::go!(move || rx.iter().fold((0u64, 0u64), |(s, c), v| (s + v, c + 1)))
            })
            .collect();
        producers.into_iter().for_each(|h| h.join().unwrap());
        consumers
            .into_iter()
            .map(|h| h.join().unwrap())
            .fold((0, 0), |(s, c), (s2, c2)| (s + s2, c + c2))
    });
    let took = t0.elapsed();
    assert_eq!(count, total, "procs={procs} cap={cap}");
    assert_eq!(sum, total * (total - 1) / 2, "procs={procs} cap={cap}");
    took
}

fn mpmc_report(procs: usize, cap: usize, total: u64) {
    let c0 = common::cpu_time();
    let took = mpmc(procs, cap, total);
    let cpu = common::cpu_time() - c0;
    eprintln!(
        "mpmc procs={procs} cap={cap}: {total} values in {took:?} \
         ({:.0} ns/value, {cpu:?} CPU)",
        took.as_nanos() as f64 / total as f64
    );
}

/// Values for the 8 x 8 stress runs: 10,000,000 (Go's chan stress shape).
const MPMC_TOTAL: u64 = if cfg!(debug_assertions) {
    200_000
} else {
    10_000_000
};

/// 8 producers, 8 consumers over an unbuffered and a buffered channel,
/// under 1 and 2 Ps; sum and count checked. About 6 s in all on a quiet
/// 2-core machine (10M at 2 Ps: 3.5 s unbuffered, 0.9 s with 64 slots);
/// much longer when other processes compete for the cores, since at 2 Ps
/// nearly every hand-off is a cross-thread wake.
#[test]
fn mpmc_stress_unbuffered_and_buffered() {
    for cap in [0, 64] {
        for procs in [1, 2] {
            mpmc_report(procs, cap, MPMC_TOTAL);
        }
    }
}

#[test]
fn every_value_is_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    rt(2).run(move || {
        let (tx, rx) = chan(8);
        let senders: Vec<_> = (0..4)
            .map(|_| {
                let (tx, d) = (tx.clone(), d.clone());
                goro::go!(move || {
                    for _ in 0..250 {
                        if let Err(e) = tx.send(DropCounter(d.clone())) {
                            drop(e.0);
                        }
                    }
                })
            })
            .collect();
        // Take some, then close with values still buffered and senders parked.
        for _ in 0..300 {
            drop(rx.recv().unwrap());
        }
        rx.close();
        senders.into_iter().for_each(|h| h.join().unwrap());
        drop((tx, rx));
    });
    assert_eq!(drops.load(Ordering::SeqCst), 1000);
}

#[test]
fn goroutines_and_plain_threads_talk() {
    rt(2).run(|| {
        let (to_thread, from_goroutines) = chan::<u64>(0);
        let (to_goroutines, from_thread) = chan::<u64>(0);
        let t = std::thread::spawn(move || {
            for v in &from_goroutines {
                to_goroutines.send(v * 2).unwrap();
            }
        });
        let h = goro::go!(move || {
            (1..=1000u64)
                .map(|i| {
                    to_thread.send(i).unwrap();
                    from_thread.recv().unwrap()
                })
                .sum::<u64>()
        });
        assert_eq!(h.join().unwrap(), 1000 * 1001);
        t.join().unwrap();
    });
}

/// Handles are counted without the channel lock (`Arc`-style): sender
/// clones made and dropped on both Ms at once still close the channel
/// exactly when the last one goes, after every value sent through any of
/// them, and dropping every receiver closes it for the senders.
#[test]
fn the_last_handle_of_a_side_closes_the_channel_under_concurrent_clones() {
    for procs in [1, 2] {
        goro::Runtime::builder()
            .procs(procs)
            .build()
            .unwrap()
            .run(|| {
                let (tx, rx) = goro::chan::<u64>(16);
                let spawners: Vec<_> = (0..8u64)
                    .map(|s| {
                        let tx = tx.clone();
                        goro::go!(move || {
                            for i in 0..500u64 {
                                let tx = tx.clone();
                                drop(goro::go!(move || tx.send(s * 1000 + i).unwrap()));
                            }
                        })
                    })
                    .collect();
                drop(tx);
                let mut got: Vec<u64> = rx.iter().collect();
                for h in spawners {
                    h.join().unwrap();
                }
                got.sort_unstable();
                let want: Vec<u64> = (0..8u64)
                    .flat_map(|s| (0..500).map(move |i| s * 1000 + i))
                    .collect();
                assert_eq!(got, want);

                let (tx, rx) = goro::chan::<u8>(0);
                let extra = rx.clone();
                drop(rx);
                assert!(!tx.is_closed());
                drop(extra);
                assert!(tx.is_closed());
                assert!(tx.send(1).is_err());
            });
    }
}
