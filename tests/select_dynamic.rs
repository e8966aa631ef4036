//! `goro::Select`: a select over a set of channels sized at run time
//! (crossbeam's `Select`, Go's `reflect.Select`): uniform choice among
//! ready operations, a thousand channels, sends that wait for readiness,
//! `never()`, closed channels, misuse panics, and exactly-once delivery
//! under a mixed stress.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goro::chan::{never, Receiver, Sender};
use goro::{chan, RecvError, Select, SelectTimeoutError, SendError, TrySelectError};

fn rt(procs: usize) -> goro::Runtime {
    goro::Runtime::builder().procs(procs).build().unwrap()
}

/// Four ready receives: each is chosen about a quarter of the time.
/// 40,000 selects: each count is 10,000 ± 1,500 (17 standard deviations;
/// a false failure is out of reach), and `never()` is never chosen.
#[test]
fn ready_operations_are_chosen_uniformly() {
    for procs in [1, 2] {
        let counts = rt(procs).run(|| {
            let chans: Vec<(Sender<usize>, Receiver<usize>)> = (0..4).map(|_| chan(1)).collect();
            for (i, (s, _)) in chans.iter().enumerate() {
                s.send(i).unwrap();
            }
            let off = never::<usize>();
            let mut sel = Select::new();
            let never_id = sel.recv(&off);
            let ids: Vec<usize> = chans.iter().map(|(_, r)| sel.recv(r)).collect();
            let mut counts = [0usize; 4];
            for _ in 0..40_000 {
                let op = sel.select();
                assert_ne!(op.index(), never_id, "never() was chosen");
                let i = ids.iter().position(|&id| id == op.index()).unwrap();
                let v = op.recv(&chans[i].1).unwrap();
                assert_eq!(v, i);
                counts[i] += 1;
                chans[i].0.send(v).unwrap();
            }
            counts
        });
        eprintln!("procs={procs}: {counts:?}");
        for c in counts {
            assert!((8_500..=11_500).contains(&c), "procs={procs}: {counts:?}");
        }
    }
}

/// A select over 1,000 channels completes the one that is ready, and
/// blocks until another goroutine sends on one of them.
#[test]
fn a_thousand_channels() {
    for procs in [1, 2] {
        rt(procs).run(move || {
            let chans: Arc<Vec<(Sender<usize>, Receiver<usize>)>> =
                Arc::new((0..1_000).map(|i| chan(i % 2)).collect());
            let mut sel = Select::new();
            let ids: Vec<usize> = chans.iter().map(|(_, r)| sel.recv(r)).collect();
            assert_eq!(ids, (0..1_000).collect::<Vec<_>>());
            // One buffered channel holds a value.
            chans[555].0.send(555).unwrap();
            let op = sel.select();
            assert_eq!(op.index(), 555);
            assert_eq!(op.recv(&chans[555].1), Ok(555));
            assert_eq!(sel.try_select().err(), Some(TrySelectError));
            // Nothing ready: park until a goroutine sends, on a buffered
            // and then on an unbuffered channel.
            for target in [777usize, 222] {
                let c = chans.clone();
                goro::go!(move || {
                    goro::time::sleep(Duration::from_millis(5));
                    c[target].0.send(target).unwrap();
                });
                let op = sel.select();
                assert_eq!(op.index(), target, "procs={procs}");
                assert_eq!(op.recv(&chans[target].1), Ok(target));
            }
        });
    }
}

/// Sends are selected when ready: room in a buffer, or a receiver parked
/// on an unbuffered channel; a select with only unready sends waits for a
/// receiver to come.
#[test]
fn sends_wait_for_readiness() {
    rt(2).run(|| {
        let (full_s, full_r) = chan::<u8>(1);
        full_s.send(0).unwrap();
        let (room_s, room_r) = chan::<u8>(1);
        let (zero_s, zero_r) = chan::<u8>(0);
        let mut sel = Select::new();
        let full = sel.send(&full_s);
        let room = sel.send(&room_s);
        let zero = sel.send(&zero_s);
        for _ in 0..20 {
            let op = sel.select();
            assert_eq!(op.index(), room, "only the buffer with room is ready");
            op.send(&room_s, 1).unwrap();
            assert_eq!(room_r.recv(), Ok(1));
        }
        drop(sel);
        // Now only the unbuffered send can become ready: a receiver comes.
        let mut sel = Select::new();
        assert_eq!(sel.send(&full_s), 0);
        assert_eq!(sel.send(&zero_s), 1);
        assert_eq!(sel.try_select().err(), Some(TrySelectError));
        assert_eq!(
            sel.select_timeout(Duration::from_millis(5)).err(),
            Some(SelectTimeoutError)
        );
        let receiver = goro::go!(move || zero_r.recv());
        let op = sel.select();
        assert_eq!(op.index(), 1);
        op.send(&zero_s, 42).unwrap();
        assert_eq!(receiver.join().unwrap(), Ok(42));
        let _ = (full, zero, full_r);
    });
}

/// Closed channels make their operations ready: a receive gets
/// `RecvError`, a send its value back.
#[test]
fn closed_channels_are_ready() {
    let (s, r) = chan::<String>(0);
    s.close();
    let off = never::<String>();
    let mut sel = Select::new();
    sel.recv(&off);
    let ri = sel.recv(&r);
    let op = sel.select();
    assert_eq!(op.index(), ri);
    assert_eq!(op.recv(&r), Err(RecvError));
    let mut sel = Select::new();
    sel.send(&s);
    let op = sel.select();
    assert_eq!(
        op.send(&s, "back".to_string()),
        Err(SendError("back".to_string()))
    );
}

/// `never()` alone: never ready.
#[test]
fn never_alone_is_never_ready() {
    let off = never::<u8>();
    let mut sel = Select::new();
    sel.recv(&off);
    assert_eq!(sel.try_select().err(), Some(TrySelectError));
    assert_eq!(
        sel.select_timeout(Duration::from_millis(5)).err(),
        Some(SelectTimeoutError)
    );
}

#[test]
#[should_panic(expected = "not a recv on this channel")]
fn completing_with_another_channel_panics() {
    let (s, r) = chan::<u8>(1);
    let (_s2, r2) = chan::<u8>(1);
    s.send(1).unwrap();
    let mut sel = Select::new();
    sel.recv(&r);
    let op = sel.select();
    let _ = op.recv(&r2);
}

#[test]
#[should_panic(expected = "dropped without being completed")]
fn dropping_a_selected_operation_panics() {
    let (s, r) = chan::<u8>(1);
    s.send(1).unwrap();
    let mut sel = Select::new();
    sel.recv(&r);
    drop(sel.select());
}

/// Producers select over several unbuffered and buffered channels with
/// `Select` sends, consumers with `Select` receives: every value arrives
/// exactly once.
#[test]
fn mixed_stress_delivers_each_value_once() {
    const PER: usize = 5_000;
    const PRODUCERS: usize = 3;
    const CONSUMERS: usize = 3;
    for procs in [1, 2] {
        rt(procs).run(move || {
            let chans: Arc<Vec<(Sender<usize>, Receiver<usize>)>> =
                Arc::new((0..4).map(|i| chan(i % 2)).collect());
            let sum = Arc::new(AtomicUsize::new(0));
            let count = Arc::new(AtomicUsize::new(0));
            let consumers: Vec<_> = (0..CONSUMERS)
                .map(|_| {
                    let (chans, sum, count) = (chans.clone(), sum.clone(), count.clone());
                    goro::go!(move || {
                        let mut sel = Select::new();
                        for (_, r) in chans.iter() {
                            sel.recv(r);
                        }
                        loop {
                            let op = sel.select();
                            let i = op.index();
                            match op.recv(&chans[i].1) {
                                Ok(usize::MAX) | Err(_) => return,
                                Ok(v) => {
                                    sum.fetch_add(v, Ordering::Relaxed);
                                    count.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                    })
                })
                .collect();
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let chans = chans.clone();
                    goro::go!(move || {
                        let mut sel = Select::new();
                        for (s, _) in chans.iter() {
                            sel.send(s);
                        }
                        for k in 0..PER {
                            let op = sel.select();
                            let i = op.index();
                            op.send(&chans[i].0, p * PER + k + 1).unwrap();
                        }
                    })
                })
                .collect();
            for p in producers {
                p.join().unwrap();
            }
            for _ in 0..CONSUMERS {
                chans[0].0.send(usize::MAX).unwrap();
            }
            for c in consumers {
                c.join().unwrap();
            }
            let n = PRODUCERS * PER;
            assert_eq!(count.load(Ordering::Relaxed), n, "procs={procs}");
            assert_eq!(
                sum.load(Ordering::Relaxed),
                n * (n + 1) / 2,
                "procs={procs}"
            );
        });
    }
}
