//! `select!`: uniform choice among ready cases, send and receive cases on
//! the same channels, non-blocking selects with `default`, close waking
//! parked selects, select on plain threads, and select-based
//! multi-producer multi-consumer stress with exactly-once delivery.
//! Ideas from Go's test/chan suite (select*.go, nonblock.go,
//! doubleselect.go, select5.go's send/receive mixes); the code is ours.

mod common;

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::DropCounter;
use goro::{chan, select, RecvError, SendError};

fn rt(procs: usize) -> goro::Runtime {
    goro::Runtime::builder().procs(procs).build().unwrap()
}

/// Selects per fairness experiment.
const FLIPS: usize = 100_000;
/// A fair coin flipped `FLIPS` times shows heads within `FLIPS / 2 ± 1,000`
/// except with probability 2.5e-10 (1,000 is 6.3 standard deviations,
/// sd = sqrt(FLIPS) / 2 = 158). A 1% bias (51/49) is 1,000 off on average,
/// a 2% bias is 12 sd off: caught.
const COIN_BOUND: usize = 1_000;

/// Checks that `picks` (each 0 or 1) look like fair coin flips: as many of
/// each, and as many switches between consecutive picks as a fair coin
/// makes (the switch indicators of fair flips are themselves fair flips),
/// so a round-robin or sticky choice fails too. False-failure probability
/// of the two checks together: below 6e-10.
fn assert_fair_coin(picks: &[u8], what: &str) {
    let n = picks.len();
    let ones = picks.iter().filter(|&&p| p == 1).count();
    let switches = picks.windows(2).filter(|w| w[0] != w[1]).count();
    eprintln!("{what}: {ones} of {n} took case 1, {switches} switches");
    assert!(
        ones.abs_diff(n / 2) <= COIN_BOUND,
        "{what}: case 1 taken {ones} of {n} times"
    );
    assert!(
        switches.abs_diff((n - 1) / 2) <= COIN_BOUND,
        "{what}: {switches} switches in {n} picks (a fair coin makes ~{})",
        n / 2
    );
}

#[test]
fn two_ready_receives_are_chosen_evenly() {
    rt(1).run(|| {
        let (ta, ra) = chan::<u8>(1);
        let (tb, rb) = chan::<u8>(1);
        ta.send(0).unwrap();
        tb.send(1).unwrap();
        let picks: Vec<u8> = (0..FLIPS)
            .map(|_| {
                // Both channels hold a value before every select; the arm
                // puts it back.
                select! {
                    recv(ra) -> v => { let v = v.unwrap(); ta.send(v).unwrap(); v },
                    recv(rb) -> v => { let v = v.unwrap(); tb.send(v).unwrap(); v },
                }
            })
            .collect();
        assert_fair_coin(&picks, "recv a / recv b");
    });
}

#[test]
fn ready_send_and_receive_are_chosen_evenly() {
    rt(1).run(|| {
        // A send on a buffered channel with room and a receive on one that
        // holds a value.
        let (ta, ra) = chan::<u8>(1);
        let (tb, rb) = chan::<u8>(1);
        tb.send(9).unwrap();
        let picks: Vec<u8> = (0..FLIPS)
            .map(|_| {
                select! {
                    send(ta, 7) -> r => { r.unwrap(); assert_eq!(ra.recv(), Ok(7)); 0 },
                    recv(rb) -> v => { assert_eq!(v, Ok(9)); tb.send(9).unwrap(); 1 },
                }
            })
            .collect();
        assert_fair_coin(&picks, "send a / recv b");
    });
}

#[test]
fn the_same_channel_in_two_cases_is_chosen_evenly() {
    rt(1).run(|| {
        let (tx, rx) = chan::<u8>(1);
        tx.send(0).unwrap();
        let picks: Vec<u8> = (0..FLIPS)
            .map(|_| {
                select! {
                    recv(rx) -> v => { tx.send(v.unwrap()).unwrap(); 0 },
                    recv(rx) -> v => { tx.send(v.unwrap()).unwrap(); 1 },
                }
            })
            .collect();
        assert_fair_coin(&picks, "recv c / recv c");
        // One buffered channel, both a send (room) and a receive (a value)
        // ready in the same select.
        let (tx, rx) = chan::<u8>(2);
        tx.send(5).unwrap();
        let picks: Vec<u8> = (0..FLIPS)
            .map(|_| {
                select! {
                    send(tx, 5) -> r => { r.unwrap(); rx.recv().unwrap(); 0 },
                    recv(rx) -> v => { tx.send(v.unwrap()).unwrap(); 1 },
                }
            })
            .collect();
        assert_eq!(rx.len(), 1);
        assert_fair_coin(&picks, "send c / recv c");
    });
}

/// Four always-ready cases (two receives, two sends), `FLIPS` selects,
/// Pearson's chi-square over the four counts (3 degrees of freedom). A
/// uniform choice exceeds 50 with probability 8e-11; a 4% bias on two of
/// the cases (26,000 / 24,000) already gives 80.
#[test]
fn four_ready_cases_are_chosen_uniformly() {
    for procs in [1, 2] {
        let counts = rt(procs).run(|| {
            let (t0, r0) = chan::<u32>(1);
            let (t1, r1) = chan::<u32>(1);
            let (t2, r2) = chan::<u32>(1);
            let (t3, r3) = chan::<u32>(1);
            t0.send(0).unwrap();
            t1.send(1).unwrap();
            let mut counts = [0usize; 4];
            for _ in 0..FLIPS {
                let case = select! {
                    recv(r0) -> v => { t0.send(v.unwrap()).unwrap(); 0 },
                    recv(r1) -> v => { t1.send(v.unwrap()).unwrap(); 1 },
                    send(t2, 2) -> r => { r.unwrap(); assert_eq!(r2.recv(), Ok(2)); 2 },
                    send(t3, 3) -> r => { r.unwrap(); assert_eq!(r3.recv(), Ok(3)); 3 },
                };
                counts[case] += 1;
            }
            counts
        });
        let expected = FLIPS as f64 / 4.0;
        let chi2: f64 = counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum();
        eprintln!("procs={procs}: counts {counts:?}, chi-square {chi2:.2} (3 df)");
        assert!(
            chi2 < 50.0,
            "procs={procs}: counts {counts:?}, chi-square {chi2:.1}"
        );
    }
}

/// One goroutine selects {send a, recv b}, the other {recv a, send b}, on
/// unbuffered channels: every round pairs the k-th select of one with the
/// k-th of the other, in one direction or the other, and whichever of
/// them came second chooses the direction at random.
#[test]
fn crossed_send_and_receive_selects_pair_up() {
    const ROUNDS: u64 = 20_000;
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Op {
        Sent(u64),
        Got(u64),
    }
    for procs in [1, 2] {
        let (xs, ys) = rt(procs).run(|| {
            let (ta, ra) = chan::<u64>(0);
            let (tb, rb) = chan::<u64>(0);
            let x = goro::go!(move || {
                (0..ROUNDS)
                    .map(|k| {
                        select! {
                            send(ta, k) -> r => { r.unwrap(); Op::Sent(k) },
                            recv(rb) -> v => Op::Got(v.unwrap()),
                        }
                    })
                    .collect::<Vec<_>>()
            });
            let y = goro::go!(move || {
                (0..ROUNDS)
                    .map(|k| {
                        select! {
                            recv(ra) -> v => Op::Got(v.unwrap()),
                            send(tb, k) -> r => { r.unwrap(); Op::Sent(k) },
                        }
                    })
                    .collect::<Vec<_>>()
            });
            (x.join().unwrap(), y.join().unwrap())
        });
        let mut x_sent = 0;
        for (k, (&x, &y)) in xs.iter().zip(&ys).enumerate() {
            let k = k as u64;
            match (x, y) {
                (Op::Sent(a), Op::Got(b)) if a == k && b == k => x_sent += 1,
                (Op::Got(a), Op::Sent(b)) if a == k && b == k => {}
                _ => panic!("procs={procs} round {k}: x did {x:?}, y did {y:?}"),
            }
        }
        eprintln!("procs={procs}: x sent in {x_sent} of {ROUNDS} rounds");
        let quarter = ROUNDS as usize / 4;
        assert!(
            (quarter..3 * quarter).contains(&x_sent),
            "procs={procs}: direction not random: x sent {x_sent} of {ROUNDS}"
        );
    }
}

/// A select that offers both a send and a receive on one channel never
/// pairs with itself.
#[test]
fn a_select_never_meets_itself() {
    rt(1).run(|| {
        let (tx, rx) = chan::<u32>(0);
        let r = select! {
            send(tx, 1) -> _r => "sent",
            recv(rx) -> _v => "received",
            default => "default",
        };
        assert_eq!(r, "default");
        let t0 = Instant::now();
        let r = select! {
            send(tx, 1) -> _r => "sent",
            recv(rx) -> _v => "received",
            default(Duration::from_millis(20)) => "timeout",
        };
        assert_eq!(r, "timeout");
        assert!(t0.elapsed() >= Duration::from_millis(20));

        // Buffered with one slot: empty, only the send is ready; full, only
        // the receive. The select alternates and the values stay in order.
        let (tx, rx) = chan::<u32>(1);
        let mut next_recv = 0;
        for i in 0..2_000u32 {
            let full = tx.len() == 1;
            select! {
                send(tx, i / 2) -> r => { r.unwrap(); assert!(!full, "sent into a full channel") },
                recv(rx) -> v => {
                    assert!(full, "received from an empty channel");
                    assert_eq!(v, Ok(next_recv));
                    next_recv += 1;
                },
            }
        }
        assert_eq!(next_recv, 1_000);
    });
}

/// Four goroutines select {send c, recv c, recv done} on one unbuffered
/// channel: every pairing is between two different goroutines, and every
/// completed send is one completed receive.
#[test]
fn symmetric_selects_on_one_channel_pair_with_each_other() {
    for procs in [1, 2] {
        rt(procs).run(move || {
            let (tx, rx) = chan::<usize>(0);
            let (done_tx, done_rx) = chan::<()>(0);
            let received = Arc::new(AtomicUsize::new(0));
            let hs: Vec<_> = (0..4usize)
                .map(|id| {
                    let (tx, rx, done_rx) = (tx.clone(), rx.clone(), done_rx.clone());
                    let received = received.clone();
                    goro::go!(move || {
                        let (mut sent, mut got) = (0usize, 0usize);
                        loop {
                            select! {
                                send(tx, id) -> r => { r.unwrap(); sent += 1 },
                                recv(rx) -> v => {
                                    let from = v.unwrap();
                                    assert_ne!(from, id, "goroutine {id} received its own send");
                                    got += 1;
                                    received.fetch_add(1, Ordering::Relaxed);
                                },
                                recv(done_rx) -> _ => return (sent, got),
                            }
                        }
                    })
                })
                .collect();
            while received.load(Ordering::Relaxed) < 20_000 {
                goro::time::sleep(Duration::from_millis(1));
            }
            done_tx.close();
            let (sent, got) = hs
                .into_iter()
                .map(|h| h.join().unwrap())
                .fold((0, 0), |(s, g), (s2, g2)| (s + s2, g + g2));
            eprintln!("procs={procs}: {sent} sends, {got} receives");
            assert_eq!(sent, got, "procs={procs}");
            assert!(got >= 20_000);
        });
    }
}

/// A select parked on three receives is woken by the one channel that gets
/// a sender, takes that value, and leaves nothing queued on the other two:
/// afterwards an unbuffered `try_send` there finds no receiver (a leftover
/// record would swallow the value).
#[test]
fn parked_select_takes_the_first_ready_case_and_withdraws_the_others() {
    for procs in [1, 2] {
        rt(procs).run(move || {
            let chans: Vec<_> = (0..3).map(|_| chan::<u64>(0)).collect();
            let mut rng = common::Rng::new(procs as u64);
            for round in 0..2_000u64 {
                let (r0, r1, r2) = (chans[0].1.clone(), chans[1].1.clone(), chans[2].1.clone());
                let (ready_tx, ready_rx) = chan::<()>(0);
                let h = goro::go!(move || {
                    ready_tx.send(()).unwrap();
                    select! {
                        recv(r0) -> v => (0, v.unwrap()),
                        recv(r1) -> v => (1, v.unwrap()),
                        recv(r2) -> v => (2, v.unwrap()),
                    }
                });
                ready_rx.recv().unwrap();
                if round % 2 == 0 {
                    // Usually parked by now; either way it must take this.
                    goro::gosched();
                }
                let which = rng.range(0, 2) as usize;
                chans[which].0.send(round).unwrap();
                assert_eq!(h.join().unwrap(), (which, round), "procs={procs}");
                for (i, (tx, _)) in chans.iter().enumerate() {
                    assert!(
                        matches!(tx.try_send(u64::MAX), Err(goro::TrySendError::Full(_))),
                        "procs={procs} round {round}: a receive record is left on channel {i}"
                    );
                }
            }
        });
    }
}

#[test]
fn default_runs_only_when_no_case_is_ready() {
    rt(1).run(|| {
        let (tx0, rx0) = chan::<i32>(0);
        let (tx1, rx1) = chan::<i32>(1);
        assert_eq!(select! { default => 7 }, 7);
        // Nothing ready.
        let none = select! { recv(rx0) -> _v => "recv", default => "default" };
        assert_eq!(none, "default");
        let none = select! { recv(rx1) -> _v => "recv", default => "default" };
        assert_eq!(none, "default");
        let none = select! { send(tx0, 1) -> _r => "send", default => "default" };
        assert_eq!(none, "default");
        tx1.send(5).unwrap();
        let none = select! {
            send(tx1, 6) -> _r => "send",
            recv(rx0) -> _v => "recv",
            default => "default",
        };
        assert_eq!(none, "default");
        assert_eq!(rx1.len(), 1, "the full channel was not touched");

        // Ready: a buffered value, buffer room.
        select! { recv(rx1) -> v => assert_eq!(v, Ok(5)), default => panic!("value not taken") }
        select! { send(tx1, 8) -> r => assert_eq!(r, Ok(())), default => panic!("room not used") }
        assert_eq!(rx1.recv(), Ok(8));

        // Ready: a partner parked on the unbuffered channel. With one P the
        // partner runs between our park and wake-up, and it parks in its
        // send right after waking us.
        let (ready_tx, ready_rx) = chan::<()>(0);
        let tx0b = tx0.clone();
        let sender = goro::go!(move || {
            ready_tx.send(()).unwrap();
            tx0b.send(9).unwrap();
        });
        ready_rx.recv().unwrap();
        select! { recv(rx0) -> v => assert_eq!(v, Ok(9)), default => panic!("parked sender not met") }
        sender.join().unwrap();
        let (ready_tx, ready_rx) = chan::<()>(0);
        let rx0b = rx0.clone();
        let receiver = goro::go!(move || {
            ready_tx.send(()).unwrap();
            rx0b.recv()
        });
        ready_rx.recv().unwrap();
        select! { send(tx0, 10) -> r => assert_eq!(r, Ok(())), default => panic!("parked receiver not met") }
        assert_eq!(receiver.join().unwrap(), Ok(10));

        // Closed: both kinds of case are ready at once.
        tx1.send(11).unwrap();
        tx1.close();
        select! { recv(rx1) -> v => assert_eq!(v, Ok(11)), default => panic!("buffered value after close") }
        select! { recv(rx1) -> v => assert_eq!(v, Err(RecvError)), default => panic!("closed recv not ready") }
        select! {
            send(tx1, 12) -> r => assert_eq!(r, Err(SendError(12))),
            default => panic!("closed send not ready"),
        }
    });
}

#[test]
fn unchosen_send_values_are_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    rt(1).run(move || {
        let (tx, rx) = chan::<DropCounter>(1);
        tx.send(DropCounter(d.clone())).unwrap();
        for _ in 0..100 {
            // The channel is full: the value goes nowhere and is dropped.
            let took = select! { send(tx, DropCounter(d.clone())) -> _r => true, default => false };
            assert!(!took);
        }
        assert_eq!(d.load(Ordering::SeqCst), 100);
        let (tx2, rx2) = chan::<DropCounter>(1);
        for _ in 0..100 {
            // Exactly one of the two sends happens; the other value drops.
            select! {
                send(tx, DropCounter(d.clone())) -> r => { r.unwrap(); panic!("full channel took a value") },
                send(tx2, DropCounter(d.clone())) -> r => r.unwrap(),
            }
            drop(rx2.recv().unwrap());
        }
        assert_eq!(d.load(Ordering::SeqCst), 300);
        drop(rx.recv().unwrap());
        assert_eq!(d.load(Ordering::SeqCst), 301);
    });
    assert_eq!(drops.load(Ordering::SeqCst), 301);
}

/// Go's nonblock.go idea: one side polls with `default`, the other blocks;
/// every value gets through in order, for several buffer sizes.
#[test]
fn polling_side_meets_blocking_side() {
    for procs in [1, 2] {
        rt(procs).run(move || {
            for cap in [0, 1, 8] {
                // Polling sender, blocking receiver.
                let (tx, rx) = chan::<u32>(cap);
                let r = goro::go!(move || (0..500).map(|_| rx.recv().unwrap()).collect::<Vec<_>>());
                let mut misses = 0u64;
                for i in 0..500u32 {
                    while !select! { send(tx, i) -> r => { r.unwrap(); true }, default => false } {
                        misses += 1;
                        goro::gosched();
                    }
                }
                assert_eq!(r.join().unwrap(), (0..500).collect::<Vec<_>>(), "cap={cap}");
                // Blocking sender, polling receiver.
                let (tx, rx) = chan::<u32>(cap);
                let s = goro::go!(move || (0..500).for_each(|i| tx.send(i).unwrap()));
                for i in 0..500u32 {
                    loop {
                        let got = select! { recv(rx) -> v => Some(v.unwrap()), default => None };
                        match got {
                            Some(v) => {
                                assert_eq!(v, i, "cap={cap}");
                                break;
                            }
                            None => {
                                misses += 1;
                                goro::gosched();
                            }
                        }
                    }
                }
                s.join().unwrap();
                eprintln!("procs={procs} cap={cap}: {misses} polls hit default");
            }
        });
    }
}

#[test]
fn default_with_timeout_waits_for_a_case_or_the_timeout() {
    rt(2).run(|| {
        let (tx, rx) = chan::<u32>(0);
        let t0 = Instant::now();
        let r =
            select! { recv(rx) -> _v => "recv", default(Duration::from_millis(30)) => "timeout" };
        assert_eq!(r, "timeout");
        let waited = t0.elapsed();
        eprintln!("default(30ms) ran after {waited:?}");
        assert!(waited >= Duration::from_millis(30), "{waited:?}");

        let s = goro::go!(move || {
            goro::time::sleep(Duration::from_millis(5));
            tx.send(3).unwrap();
        });
        let t0 = Instant::now();
        let r =
            select! { recv(rx) -> v => v, default(Duration::from_secs(20)) => panic!("timed out") };
        assert_eq!(r, Ok(3));
        assert!(t0.elapsed() < Duration::from_secs(20));
        s.join().unwrap();
    });
}

const PARKED: usize = 100;

/// Gives parked-to-be goroutines time to reach their select (the outcome
/// checked does not depend on it; it only makes the parked path the one
/// exercised).
fn let_them_park() {
    goro::time::sleep(Duration::from_millis(20));
}

#[test]
fn close_wakes_parked_receive_cases() {
    rt(2).run(|| {
        let (ta, ra) = chan::<u32>(0);
        let (_tb, rb) = chan::<u32>(0);
        let hs: Vec<_> = (0..PARKED)
            .map(|_| {
                let (ra, rb) = (ra.clone(), rb.clone());
                goro::go!(move || select! {
                    recv(ra) -> m => ("a", m),
                    recv(rb) -> m => ("b", m),
                })
            })
            .collect();
        let_them_park();
        assert!(ta.close());
        for h in hs {
            assert_eq!(h.join().unwrap(), ("a", Err(RecvError)));
        }
        // Closing by dropping the last sender wakes them too.
        let (tc, rc) = chan::<u32>(0);
        let hs: Vec<_> = (0..PARKED)
            .map(|_| {
                let (rc, rb) = (rc.clone(), rb.clone());
                goro::go!(move || select! {
                    recv(rb) -> m => ("b", m),
                    recv(rc) -> m => ("c", m),
                })
            })
            .collect();
        let_them_park();
        drop(tc);
        for h in hs {
            assert_eq!(h.join().unwrap(), ("c", Err(RecvError)));
        }
    });
}

#[test]
fn close_wakes_parked_send_cases_and_returns_their_values() {
    rt(2).run(|| {
        let (ta, ra) = chan::<usize>(0);
        let (_tb, rb) = chan::<usize>(0);
        let hs: Vec<_> = (0..PARKED)
            .map(|i| {
                let (ta, rb) = (ta.clone(), rb.clone());
                goro::go!(move || select! {
                    send(ta, i) -> r => r,
                    recv(rb) -> m => panic!("recv case won: {m:?}"),
                })
            })
            .collect();
        let_them_park();
        assert!(ra.close(), "closing through the receiver");
        let mut back: Vec<usize> = hs
            .into_iter()
            .map(|h| h.join().unwrap().unwrap_err().0)
            .collect();
        back.sort();
        assert_eq!(back, (0..PARKED).collect::<Vec<_>>());
    });
}

#[test]
fn close_of_the_other_channel_drops_a_parked_send_value() {
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    rt(2).run(move || {
        let (ta, ra) = chan::<DropCounter>(0);
        let (tb, rb) = chan::<u32>(0);
        let hs: Vec<_> = (0..PARKED)
            .map(|_| {
                let (ta, rb, d) = (ta.clone(), rb.clone(), d.clone());
                goro::go!(move || select! {
                    send(ta, DropCounter(d)) -> _r => panic!("send case won"),
                    recv(rb) -> m => m,
                })
            })
            .collect();
        let_them_park();
        tb.close();
        for h in hs {
            assert_eq!(h.join().unwrap(), Err(RecvError));
        }
        assert_eq!(d.load(Ordering::SeqCst), PARKED);
        assert_eq!(ra.try_recv().err(), Some(goro::TryRecvError::Empty));
    });
    assert_eq!(drops.load(Ordering::SeqCst), PARKED);
}

#[test]
fn close_wakes_a_select_that_sends_and_receives_on_the_closed_channel() {
    rt(2).run(|| {
        // One channel per goroutine: two such selects on one channel would
        // pair with each other.
        let (txs, hs): (Vec<_>, Vec<_>) = (0..PARKED as u32)
            .map(|i| {
                let (tx, rx) = chan::<u32>(0);
                let tx2 = tx.clone();
                let h = goro::go!(move || select! {
                    send(tx2, i) -> r => match r {
                        Ok(()) => panic!("sent on a closed channel"),
                        Err(SendError(v)) => ("send", v),
                    },
                    recv(rx) -> m => match m {
                        Ok(v) => panic!("received {v} from a closed channel"),
                        Err(RecvError) => ("recv", 0),
                    },
                });
                (tx, h)
            })
            .unzip();
        let_them_park();
        // From a plain thread, for good measure.
        std::thread::spawn(move || txs.iter().for_each(|tx| assert!(tx.close())))
            .join()
            .unwrap();
        for (i, h) in hs.into_iter().enumerate() {
            // Either case is ready once closed; a send hands its value back.
            let (case, v) = h.join().unwrap();
            assert!(
                case == "recv" || v == i as u32,
                "select {i}: {case} gave back {v}"
            );
        }
    });
}

#[test]
fn select_on_plain_threads() {
    // No runtime at all on this thread; goroutines on the other side.
    let rt = rt(2);
    let (ta, ra) = chan::<u32>(0);
    let (tb, rb) = chan::<u32>(0);
    let feeder = std::thread::spawn(move || {
        rt.run(move || {
            let a = goro::go!(move || (0..1000).for_each(|i| ta.send(i).unwrap()));
            let b = goro::go!(move || (0..1000).for_each(|i| tb.send(i).unwrap()));
            a.join().unwrap();
            b.join().unwrap();
        })
    });
    // Each side's values arrive in order; a closed side's case stays ready
    // (with Err), so once one side is done the other is drained directly.
    let (mut next_a, mut next_b) = (0, 0);
    loop {
        select! {
            recv(ra) -> v => match v {
                Ok(v) => { assert_eq!(v, next_a); next_a += 1 },
                Err(RecvError) => { next_b += rb.iter().count() as u32; break },
            },
            recv(rb) -> v => match v {
                Ok(v) => { assert_eq!(v, next_b); next_b += 1 },
                Err(RecvError) => { next_a += ra.iter().count() as u32; break },
            },
        }
    }
    assert_eq!((next_a, next_b), (1000, 1000));
    feeder.join().unwrap();
    let (_tc, rc) = chan::<u32>(0);
    let t0 = Instant::now();
    let r = select! {
        recv(rc) -> _v => "recv",
        recv(goro::time::after(Duration::from_millis(20))) -> t => { t.unwrap(); "after" },
    };
    assert_eq!(r, "after");
    assert!(t0.elapsed() >= Duration::from_millis(20));
}

/// `select! {}` never returns (Go's `select {}`); the goroutine is simply
/// abandoned when the main goroutine returns.
#[test]
fn empty_select_blocks_forever() {
    let h = rt(2).run(|| {
        let started = common::wait_group(1);
        let s = started.clone();
        let h = goro::go!(move || {
            s.done();
            select! {}
        });
        started.wait();
        goro::time::sleep(Duration::from_millis(50));
        h
    });
    let err = h.join().expect_err("select! {} returned");
    assert!(err.message().unwrap_or("").contains("abandoned"), "{err}");
}

/// Producers select a send over two channels (the unchosen value drops),
/// consumers select a receive over both: every value is delivered exactly
/// once and every value ever made is dropped exactly once.
fn select_mpmc(procs: usize, cap: usize, total: usize) {
    struct Item {
        id: usize,
        _drop: DropCounter,
    }
    let seen: Arc<Vec<AtomicU8>> = Arc::new((0..total).map(|_| AtomicU8::new(0)).collect());
    let drops = Arc::new(AtomicUsize::new(0));
    let (seen2, drops2) = (seen.clone(), drops.clone());
    let t0 = Instant::now();
    let delivered = rt(procs).run(move || {
        let (ta, ra) = chan::<Item>(cap);
        let (tb, rb) = chan::<Item>(cap);
        let per = total / 8;
        let producers: Vec<_> = (0..8)
            .map(|p| {
                let (ta, tb, d) = (ta.clone(), tb.clone(), drops2.clone());
                goro::go!(move || {
                    for id in p * per..(p + 1) * per {
                        let a = Item {
                            id,
                            _drop: DropCounter(d.clone()),
                        };
                        let b = Item {
                            id,
                            _drop: DropCounter(d.clone()),
                        };
                        select! {
                            send(ta, a) -> r => assert!(r.is_ok()),
                            send(tb, b) -> r => assert!(r.is_ok()),
                        }
                    }
                })
            })
            .collect();
        drop((ta, tb));
        let consumers: Vec<_> = (0..8)
            .map(|_| {
                let (ra, rb, seen) = (ra.clone(), rb.clone(), seen2.clone());
                goro::go!(move || {
                    let mut n = 0usize;
                    let mut take = |item: Item| {
                        let before = seen[item.id].fetch_add(1, Ordering::Relaxed);
                        assert_eq!(before, 0, "value {} delivered twice", item.id);
                        n += 1;
                    };
                    loop {
                        select! {
                            recv(ra) -> m => match m {
                                Ok(item) => take(item),
                                Err(RecvError) => { rb.iter().for_each(&mut take); break }
                            },
                            recv(rb) -> m => match m {
                                Ok(item) => take(item),
                                Err(RecvError) => { ra.iter().for_each(&mut take); break }
                            },
                        }
                    }
                    n
                })
            })
            .collect();
        producers.into_iter().for_each(|h| h.join().unwrap());
        consumers
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum::<usize>()
    });
    eprintln!(
        "select mpmc procs={procs} cap={cap}: {total} values in {:?}",
        t0.elapsed()
    );
    assert_eq!(delivered, total, "procs={procs} cap={cap}");
    let missing = seen
        .iter()
        .filter(|s| s.load(Ordering::Relaxed) != 1)
        .count();
    assert_eq!(
        missing, 0,
        "procs={procs} cap={cap}: values not delivered exactly once"
    );
    assert_eq!(
        drops.load(Ordering::SeqCst),
        2 * total,
        "procs={procs} cap={cap}: every made value (sent or not) drops once"
    );
}

#[test]
fn select_mpmc_delivers_exactly_once() {
    for procs in [1, 2] {
        for cap in [0, 16] {
            select_mpmc(procs, cap, 200_000);
        }
    }
}
