//! Stress for buffered channels' lock-free fast path (`chan/buffered.rs`):
//! producers and consumers over tiny buffers (1 and 2 slots), each step a
//! randomly chosen operation among `send`, `try_send`, `select!` (blocking
//! over two channels, or with `default`), `recv`, `try_recv`,
//! `recv_timeout` and receiving `select!`, with the channels closed
//! mid-stream or only when the producers are done. Checked: every value
//! whose send succeeded is received exactly once (count and sum), values
//! from one producer arrive in order on each channel when there is a single
//! consumer, and every value is dropped exactly once. A lost wake-up shows
//! as a hang (the test harness's timeout), a duplicate or a loss as a
//! mismatch.

mod common;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{DropCounter, Rng};
use goro::{chan, select, Receiver, RecvTimeoutError, Sender, TryRecvError, TrySendError};

const PRODUCERS: u64 = 6;
/// Values each producer delivers (unless the channels close first).
const PER_PRODUCER: u64 = if cfg!(debug_assertions) {
    2_000
} else {
    40_000
};

/// A value: producer in the high bits, sequence number in the low ones.
struct Item {
    id: u64,
    _drop: DropCounter,
}

fn producer_of(id: u64) -> usize {
    (id >> 32) as usize
}

/// What the producers delivered, what the consumers received.
#[derive(Default)]
struct Tally {
    count: AtomicU64,
    sum: AtomicU64,
}

impl Tally {
    fn add(&self, id: u64) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(id, Ordering::Relaxed);
    }

    fn get(&self) -> (u64, u64) {
        (
            self.count.load(Ordering::Relaxed),
            self.sum.load(Ordering::Relaxed),
        )
    }
}

struct Shared {
    created: AtomicUsize,
    drops: Arc<AtomicUsize>,
    delivered: Tally,
    received: Tally,
}

impl Shared {
    fn item(&self, producer: u64, seq: u64) -> Item {
        self.created.fetch_add(1, Ordering::Relaxed);
        Item {
            id: producer << 32 | seq,
            _drop: DropCounter(self.drops.clone()),
        }
    }
}

/// Delivers `PER_PRODUCER` values over `a` and `b` (mostly `a`), one
/// random kind of send at a time; stops at the first closed-channel error.
fn produce(p: u64, a: Sender<Item>, b: Sender<Item>, sh: Arc<Shared>) {
    let mut rng = Rng::new(p);
    let mut seq = 0;
    let mut delivered = 0;
    let mut blocking_next = false;
    while delivered < PER_PRODUCER {
        let item = sh.item(p, seq);
        seq += 1;
        let id = item.id;
        let mode = if blocking_next { 0 } else { rng.range(0, 4) };
        blocking_next = false;
        let ok = match mode {
            1 => match a.try_send(item) {
                Ok(()) => true,
                // No spinning on `Full` (a goroutine that only yields keeps
                // its M busy): send it the blocking way instead.
                Err(TrySendError::Full(back)) => a.send(back).is_ok(),
                Err(TrySendError::Disconnected(_)) => false,
            },
            2 => {
                // Two cases, two values: the losing one is dropped unsent.
                let other = sh.item(p, seq);
                seq += 1;
                let other_id = other.id;
                let sent = select! {
                    send(a, item) -> r => r.is_ok().then_some(id),
                    send(b, other) -> r => r.is_ok().then_some(other_id),
                };
                match sent {
                    Some(id) => {
                        sh.delivered.add(id);
                        delivered += 1;
                        continue;
                    }
                    None => false,
                }
            }
            3 => {
                let sent = select! {
                    send(a, item) -> r => Some(r.is_ok()),
                    default => None,
                };
                match sent {
                    Some(ok) => ok,
                    None => {
                        // Dropped unsent; the next value goes the blocking way.
                        blocking_next = true;
                        continue;
                    }
                }
            }
            _ => a.send(item).is_ok(),
        };
        if !ok {
            return;
        }
        sh.delivered.add(id);
        delivered += 1;
    }
}

/// Receives from `a` and `b` until both are closed and drained, one random
/// kind of receive at a time; checks per-producer order if `ordered`.
fn consume(c: u64, a: Receiver<Item>, b: Receiver<Item>, sh: Arc<Shared>, ordered: bool) {
    let mut rng = Rng::new(1000 + c);
    let mut last = [[None::<u64>; PRODUCERS as usize]; 2];
    let (mut a_open, mut b_open) = (true, true);
    let mut take = |chan: usize, item: Item| {
        if ordered {
            let (p, seq) = (producer_of(item.id), item.id & 0xffff_ffff);
            assert!(
                last[chan][p].is_none_or(|l| l < seq),
                "producer {p}'s values out of order on channel {chan}"
            );
            last[chan][p] = Some(seq);
        }
        sh.received.add(item.id);
    };
    while a_open || b_open {
        if !a_open {
            match b.recv() {
                Ok(item) => take(1, item),
                Err(_) => b_open = false,
            }
            continue;
        }
        match rng.range(0, 4) {
            0 => match a.recv() {
                Ok(item) => take(0, item),
                Err(_) => a_open = false,
            },
            1 => match a.try_recv() {
                Ok(item) => take(0, item),
                // No spinning on `Empty`: receive the blocking way instead.
                Err(TryRecvError::Empty) => match a.recv() {
                    Ok(item) => take(0, item),
                    Err(_) => a_open = false,
                },
                Err(TryRecvError::Disconnected) => a_open = false,
            },
            2 if b_open => select! {
                recv(a) -> r => match r {
                    Ok(item) => take(0, item),
                    Err(_) => a_open = false,
                },
                recv(b) -> r => match r {
                    Ok(item) => take(1, item),
                    Err(_) => b_open = false,
                },
            },
            3 => match a.recv_timeout(Duration::from_micros(200)) {
                Ok(item) => take(0, item),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => a_open = false,
            },
            _ => match a.recv() {
                Ok(item) => take(0, item),
                Err(_) => a_open = false,
            },
        }
    }
}

/// One run: `consumers` consumers, buffers of `cap`, closing after about
/// half the values (`close_early`) or when the producers are done.
fn run(procs: usize, cap: usize, consumers: u64, close_early: bool) {
    let drops = Arc::new(AtomicUsize::new(0));
    let sh = Arc::new(Shared {
        created: AtomicUsize::new(0),
        drops: drops.clone(),
        delivered: Tally::default(),
        received: Tally::default(),
    });
    let s = sh.clone();
    let t0 = std::time::Instant::now();
    goro::Runtime::builder()
        .procs(procs)
        .build()
        .unwrap()
        .run(move || {
            let (ta, ra) = chan::<Item>(cap);
            let (tb, rb) = chan::<Item>(cap);
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let (ta, tb, s) = (ta.clone(), tb.clone(), s.clone());
                    goro::go!(move || produce(p, ta, tb, s))
                })
                .collect();
            let consumers: Vec<_> = (0..consumers)
                .map(|c| {
                    let (ra, rb, s) = (ra.clone(), rb.clone(), s.clone());
                    goro::go!(move || consume(c, ra, rb, s, consumers == 1))
                })
                .collect();
            drop((ra, rb));
            if close_early {
                while s.delivered.get().0 < PRODUCERS * PER_PRODUCER / 2 {
                    goro::time::sleep(Duration::from_micros(100));
                }
                assert!(ta.close() && tb.close());
            }
            drop((ta, tb));
            producers.into_iter().for_each(|h| h.join().unwrap());
            consumers.into_iter().for_each(|h| h.join().unwrap());
        });
    let what = format!("procs={procs} cap={cap} consumers={consumers} close_early={close_early}");
    eprintln!("{what}: {:?}", t0.elapsed());
    let (delivered, received) = (sh.delivered.get(), sh.received.get());
    assert_eq!(
        delivered, received,
        "{what}: (count, sum) delivered vs received"
    );
    if !close_early {
        assert_eq!(delivered.0, PRODUCERS * PER_PRODUCER, "{what}");
    }
    assert_eq!(
        drops.load(Ordering::SeqCst),
        sh.created.load(Ordering::Relaxed),
        "{what}: values created vs dropped"
    );
}

#[test]
fn tiny_buffers_mixed_operations_many_consumers() {
    for procs in [1, 2] {
        for cap in [1, 2] {
            for close_early in [false, true] {
                run(procs, cap, 6, close_early);
            }
        }
    }
}

#[test]
fn tiny_buffers_mixed_operations_one_consumer_keeps_order() {
    for procs in [1, 2] {
        for cap in [1, 2] {
            for close_early in [false, true] {
                run(procs, cap, 1, close_early);
            }
        }
    }
}

/// One producer, one consumer, nothing else: with no other traffic to
/// heal it, a single lost wake-up (a party parked while the ring has room
/// or a value) hangs the run. Blocking operations and blocking selects.
#[test]
fn spsc_tiny_buffers_never_lose_a_wakeup() {
    const N: u64 = if cfg!(debug_assertions) {
        20_000
    } else {
        200_000
    };
    for procs in [1, 2] {
        for cap in [1, 2] {
            for via_select in [false, true] {
                let sum = goro::Runtime::builder()
                    .procs(procs)
                    .build()
                    .unwrap()
                    .run(move || {
                        let (tx, rx) = chan::<u64>(cap);
                        let (_never_tx, never) = chan::<u64>(1);
                        let producer = goro::go!(move || {
                            for i in 0..N {
                                if via_select {
                                    select! {
                                        send(tx, i) -> r => r.unwrap(),
                                        recv(never) -> _ => unreachable!(),
                                    }
                                } else {
                                    tx.send(i).unwrap();
                                }
                            }
                        });
                        let mut sum = 0;
                        for expected in 0..N {
                            let v = if via_select {
                                select! { recv(rx) -> r => r.unwrap() }
                            } else {
                                rx.recv().unwrap()
                            };
                            assert_eq!(v, expected);
                            sum += v;
                        }
                        producer.join().unwrap();
                        sum
                    });
                assert_eq!(sum, N * (N - 1) / 2, "procs={procs} cap={cap}");
            }
        }
    }
}
