//! `recv_async`/`send_async`: one goro channel between Tokio tasks and
//! goroutines, both ways; cancellation (a dropped future loses no value and
//! leaves no waiter); close and disconnection.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use goro::chan::{chan, RecvError, SendError, TryRecvError, TrySendError};

/// A waker that counts its wake-ups.
#[derive(Default)]
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn waker() -> (Arc<Count>, Waker) {
    let c = Arc::new(Count::default());
    (c.clone(), Waker::from(c))
}

fn woken(c: &Count) -> usize {
    c.0.load(Ordering::SeqCst)
}

fn poll<F: Future>(f: Pin<&mut F>, w: &Waker) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(w))
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// `n` Tokio tasks that `recv_async` from `rx` until it closes; each
/// returns what it received.
fn tokio_collectors(
    rt: &tokio::runtime::Runtime,
    rx: &goro::Receiver<u64>,
    n: usize,
) -> Vec<tokio::task::JoinHandle<Vec<u64>>> {
    (0..n)
        .map(|_| {
            let rx = rx.clone();
            rt.spawn(async move {
                let mut got = Vec::new();
                while let Ok(v) = rx.recv_async().await {
                    got.push(v);
                }
                got
            })
        })
        .collect()
}

/// Tokio producers `send_async` into a goro channel that goroutines
/// `recv`; the goroutines `send` results into a second goro channel that
/// Tokio consumers `recv_async`; a Tokio task awaits a goroutine meanwhile.
/// Every value makes the round trip once, unbuffered and buffered.
#[goro::test(procs = 2)]
fn tokio_tasks_and_goroutines_talk_over_goro_channels_both_ways() {
    const PRODUCERS: u64 = 4;
    const PER: u64 = 2_000;
    for cap in [0, 1, 64] {
        let rt = tokio_rt();
        let (to_goro, from_tokio) = chan::<u64>(cap);
        let (to_tokio, from_goro) = chan::<u64>(cap);
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let (rx, tx) = (from_tokio.clone(), to_tokio.clone());
                goro::go!(move || {
                    for v in &rx {
                        tx.send(v * 2).unwrap();
                    }
                })
            })
            .collect();
        drop((from_tokio, to_tokio));
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let tx = to_goro.clone();
                rt.spawn(async move {
                    for i in 0..PER {
                        tx.send_async(p * PER + i).await.unwrap();
                    }
                })
            })
            .collect();
        drop(to_goro);
        let consumers = tokio_collectors(&rt, &from_goro, 2);
        drop(from_goro);
        for p in producers {
            goro::block_on(p).unwrap();
        }
        let mut all = HashSet::new();
        for c in consumers {
            for v in goro::block_on(c).unwrap() {
                assert!(all.insert(v), "cap {cap}: {v} arrived twice");
            }
        }
        let expected: HashSet<u64> = (0..PRODUCERS * PER).map(|v| v * 2).collect();
        assert_eq!(all, expected, "cap {cap}");
        for w in workers {
            w.join().unwrap();
        }
        rt.shutdown_background();
    }
}

/// A goroutine `send`s into an unbuffered channel while a plain thread
/// keeps starting `recv_async` futures and dropping them after one or a few
/// polls: every value is received exactly once (a value handed to a
/// dropped future goes back to the channel), and afterwards nothing is left
/// queued. Also with a buffered channel, where a dropped future passes its
/// wake-up on to the other receiver.
#[goro::test(procs = 2)]
fn dropped_recv_async_futures_racing_sends_lose_nothing() {
    const N: u64 = 20_000;
    for cap in [0, 1, 4] {
        let (tx, rx) = chan::<u64>(cap);
        let sender = goro::go!(move || {
            for v in 0..N {
                tx.send(v).unwrap();
            }
        });
        // Two plain threads receive, cancelling most of their futures.
        let receivers: Vec<_> = (0..2u64)
            .map(|r| {
                let rx = rx.clone();
                std::thread::spawn(move || {
                    let (_, w) = waker();
                    let mut got = Vec::new();
                    for round in 0u64.. {
                        let mut f = Box::pin(rx.recv_async());
                        // Poll 1..=3 times, yielding in between, then drop.
                        for _ in 0..=(round + r) % 3 {
                            match poll(f.as_mut(), &w) {
                                Poll::Ready(Ok(v)) => {
                                    got.push(v);
                                    break;
                                }
                                Poll::Ready(Err(RecvError)) => return got,
                                Poll::Pending => std::thread::yield_now(),
                            }
                        }
                    }
                    unreachable!()
                })
            })
            .collect();
        drop(rx);
        sender.join().unwrap();
        let mut seen = HashSet::new();
        for r in receivers {
            for v in r.join().unwrap() {
                assert!(seen.insert(v), "cap {cap}: {v} received twice");
            }
        }
        assert_eq!(seen.len() as u64, N, "cap {cap}: values lost");
    }
}

/// A `recv_async` future that a sender completed, dropped before it was
/// polled again, gives the value back: to a goroutine queued behind it, or
/// to the next receiver.
#[goro::test(procs = 1)]
fn a_value_handed_to_a_dropped_recv_async_goes_back_to_the_channel() {
    let (tx, rx) = chan::<u32>(0);
    let (c, w) = waker();
    let mut f = Box::pin(rx.recv_async());
    assert!(poll(f.as_mut(), &w).is_pending());
    tx.try_send(7).unwrap(); // the queued future takes it
    assert_eq!(woken(&c), 1);
    drop(f);
    assert_eq!(rx.try_recv(), Ok(7));

    // Now with a goroutine queued behind the future.
    let mut f = Box::pin(rx.recv_async());
    assert!(poll(f.as_mut(), &w).is_pending());
    let rx2 = rx.clone();
    let behind = goro::go!(move || rx2.recv().unwrap());
    while !goro::dump_goroutines().contains("[chan receive]") {
        goro::gosched();
    }
    tx.try_send(8).unwrap();
    drop(f);
    assert_eq!(behind.join().unwrap(), 8);
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Empty)));
}

/// A dropped pending future leaves no waiter: a `try_send` on the
/// unbuffered channel finds no receiver. A re-polled future wakes the
/// latest waker only.
#[test]
fn a_dropped_pending_future_leaves_no_waiter_and_the_latest_waker_is_woken() {
    let (tx, rx) = chan::<u32>(0);
    let (c1, w1) = waker();
    let mut f = Box::pin(rx.recv_async());
    assert!(poll(f.as_mut(), &w1).is_pending());
    drop(f);
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));

    let (c2, w2) = waker();
    let mut f = Box::pin(rx.recv_async());
    assert!(poll(f.as_mut(), &w1).is_pending());
    assert!(poll(f.as_mut(), &w2).is_pending());
    tx.try_send(2).unwrap();
    assert_eq!((woken(&c1), woken(&c2)), (0, 1));
    assert_eq!(poll(f.as_mut(), &w2), Poll::Ready(Ok(2)));

    // A pending send_async, dropped: its value is not delivered.
    let mut s = Box::pin(tx.send_async(3));
    assert!(poll(s.as_mut(), &w1).is_pending());
    drop(s);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

/// Buffered: two pending `recv_async` futures; a send wakes the first; the
/// first is dropped without being polled; the wake-up passes to the second,
/// which gets the value.
#[test]
fn a_dropped_woken_future_passes_its_wake_up_on() {
    let (tx, rx) = chan::<u32>(1);
    let (ca, wa) = waker();
    let (cb, wb) = waker();
    let mut a = Box::pin(rx.recv_async());
    let mut b = Box::pin(rx.recv_async());
    assert!(poll(a.as_mut(), &wa).is_pending());
    assert!(poll(b.as_mut(), &wb).is_pending());
    tx.try_send(5).unwrap();
    assert_eq!((woken(&ca), woken(&cb)), (1, 0));
    drop(a);
    assert_eq!(woken(&cb), 1);
    assert_eq!(poll(b.as_mut(), &wb), Poll::Ready(Ok(5)));

    // The same for senders waiting for room.
    let (ca, wa) = waker();
    let (cb, wb) = waker();
    tx.try_send(0).unwrap();
    let mut s1 = Box::pin(tx.send_async(6));
    let mut s2 = Box::pin(tx.send_async(7));
    assert!(poll(s1.as_mut(), &wa).is_pending());
    assert!(poll(s2.as_mut(), &wb).is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!((woken(&ca), woken(&cb)), (1, 0));
    drop(s1);
    assert_eq!(woken(&cb), 1);
    assert_eq!(poll(s2.as_mut(), &wb), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(7));
}

/// Close and disconnection: a pending `recv_async` gets `RecvError` after
/// the buffered values; a pending or new `send_async` gets its value back.
#[test]
fn close_and_disconnection_reach_pending_futures() {
    for cap in [0, 2] {
        let (tx, rx) = chan::<String>(cap);
        let (c, w) = waker();
        let mut r = Box::pin(rx.recv_async());
        assert!(poll(r.as_mut(), &w).is_pending());
        let tx2 = tx.clone();
        drop(tx);
        assert_eq!(woken(&c), 0, "cap {cap}: a sender is left");
        drop(tx2);
        assert_eq!(woken(&c), 1, "cap {cap}: the last sender closed it");
        assert_eq!(poll(r.as_mut(), &w), Poll::Ready(Err(RecvError)));

        let (tx, rx) = chan::<String>(cap);
        for i in 0..cap {
            tx.try_send(i.to_string()).unwrap();
        }
        let mut s = Box::pin(tx.send_async("kept".to_string()));
        assert!(poll(s.as_mut(), &w).is_pending(), "cap {cap}");
        drop(rx);
        match poll(s.as_mut(), &w) {
            Poll::Ready(Err(SendError(v))) => assert_eq!(v, "kept"),
            other => panic!("cap {cap}: {other:?}"),
        }
        let f = tx.send_async("late".to_string());
        assert_eq!(
            goro::block_on(f),
            Err(SendError("late".to_string())),
            "cap {cap}"
        );
    }
}

/// `select!` in goroutines and `recv_async` in Tokio tasks compete for one
/// channel: each value goes to exactly one of them (the goroutines stop
/// after a quarter each), and closing ends the rest.
#[goro::test(procs = 2)]
fn select_and_recv_async_share_a_channel() {
    const N: u64 = 5_000;
    for cap in [0, 8] {
        let rt = tokio_rt();
        let (tx, rx) = chan::<u64>(cap);
        let (_never_tx, never) = chan::<u64>(0);
        let goroutines: Vec<_> = (0..2)
            .map(|_| {
                let (rx, never) = (rx.clone(), never.clone());
                goro::go!(move || {
                    let mut got = Vec::new();
                    // Leaves at least half of the values to the Tokio tasks.
                    while (got.len() as u64) < N / 4 {
                        goro::select! {
                            recv(rx) -> v => match v {
                                Ok(v) => got.push(v),
                                Err(_) => return got,
                            },
                            recv(never) -> _ => unreachable!(),
                        }
                    }
                    got
                })
            })
            .collect();
        let tasks = tokio_collectors(&rt, &rx, 2);
        drop(rx);
        for v in 0..N {
            tx.send(v).unwrap();
        }
        drop(tx);
        let mut seen = HashSet::new();
        let mut by_tokio = 0;
        for t in tasks {
            let got = goro::block_on(t).unwrap();
            by_tokio += got.len();
            seen.extend(got);
        }
        for g in goroutines {
            seen.extend(g.join().unwrap());
        }
        assert_eq!(seen.len() as u64, N, "cap {cap}");
        assert!(by_tokio as u64 >= N / 2, "cap {cap}: {by_tokio} by Tokio");
        rt.shutdown_background();
    }
}

#[test]
fn the_futures_are_send_and_sync() {
    fn check<F: Future + Send + Sync>(_: &F) {}
    let (tx, rx) = chan::<u32>(0);
    check(&rx.recv_async());
    check(&tx.send_async(1));
}
