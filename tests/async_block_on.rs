//! `goro::block_on` and `impl Future for JoinHandle`: a pending future
//! parks the goroutine, not its thread; `!Send` futures across parks;
//! wakes from foreign threads, duplicated, and after the goroutine and
//! the runtime ended; the `[future]` wait reason in dumps.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Pending until `flag` is set; counts its polls and keeps its last waker
/// where a foreign thread can reach it.
#[derive(Clone, Default)]
struct Gate {
    flag: Arc<AtomicBool>,
    polls: Arc<AtomicUsize>,
    waker: Arc<Mutex<Option<Waker>>>,
}

impl Gate {
    fn wait(&self) -> impl Future<Output = ()> + '_ {
        poll_fn(move |cx: &mut Context<'_>| {
            self.polls.fetch_add(1, Ordering::SeqCst);
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            if self.flag.load(Ordering::SeqCst) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }

    /// Opens the gate once it has been polled (from a plain thread).
    fn open_after_first_poll(&self) {
        while self.polls.load(Ordering::SeqCst) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(5));
        self.open();
    }

    fn open(&self) {
        self.flag.store(true, Ordering::SeqCst);
        if let Some(w) = self.waker.lock().unwrap().take() {
            w.wake();
        }
    }
}

#[goro::test]
fn ready_future_returns_its_value() {
    assert_eq!(goro::block_on(async { 40 + 2 }), 42);
}

/// At GOMAXPROCS 1, a goroutine awaiting another goroutine can only finish
/// if block_on parks the goroutine: blocking the one M would deadlock.
#[goro::test(procs = 1)]
fn pending_future_parks_the_goroutine_not_the_thread() {
    let me = std::thread::current().id();
    let total = goro::block_on(async {
        let mut total = 0;
        for i in 0..100u64 {
            let h = goro::go!(move || {
                goro::gosched();
                i
            });
            total += h.await.unwrap();
        }
        total
    });
    assert_eq!(total, 4950);
    assert_eq!(std::thread::current().id(), me);
}

#[goro::test(procs = 2)]
fn not_send_future_is_awaited_across_parks() {
    let me = std::thread::current().id();
    let cell = Rc::new(RefCell::new(Vec::new()));
    let fut = {
        let cell = Rc::clone(&cell);
        async move {
            for i in 0..20 {
                let h = goro::go!(move || {
                    goro::time::sleep(Duration::from_millis(1));
                    i
                });
                let v = h.await.unwrap();
                // Rc and RefCell held across every await (park).
                cell.borrow_mut().push(v);
                assert_eq!(std::thread::current().id(), me);
            }
            Rc::strong_count(&cell)
        }
    };
    assert_eq!(goro::block_on(fut), 2);
    assert_eq!(*cell.borrow(), (0..20).collect::<Vec<_>>());
}

/// A wake from a plain thread readies the parked goroutine; it is polled
/// exactly twice (park never returns spuriously, no busy polling).
#[goro::test(procs = 1)]
fn foreign_thread_wake_readies_the_goroutine() {
    block_on_a_gate_opened_by_a_thread();
}

/// `block_on` of a gate a plain thread opens after its first poll: it is
/// polled exactly twice (no spurious return, no busy polling).
fn block_on_a_gate_opened_by_a_thread() {
    let gate = Gate::default();
    let opener = gate.clone();
    let t = std::thread::spawn(move || opener.open_after_first_poll());
    goro::block_on(gate.wait());
    assert_eq!(gate.polls.load(Ordering::SeqCst), 2);
    t.join().unwrap();
}

/// Wakers kept after block_on returned (and after the runtime ended) are
/// woken many times from foreign threads: nothing happens to anybody, and
/// a later block_on on the same thread is not woken by them.
#[test]
fn late_and_duplicate_wakes_are_harmless() {
    let kept: Arc<Mutex<Vec<Waker>>> = Arc::default();
    let k = kept.clone();
    goro::Runtime::builder()
        .procs(1)
        .build()
        .unwrap()
        .run(move || {
            for _ in 0..50 {
                let gate = Gate::default();
                let opener = gate.clone();
                let t = std::thread::spawn(move || {
                    opener.open();
                    opener.open();
                });
                // Keep the waker of the last poll (not the gate's: an open
                // racing the first poll takes that one).
                let mut last = None;
                let mut wait = std::pin::pin!(gate.wait());
                goro::block_on(poll_fn(|cx: &mut Context<'_>| {
                    last = Some(cx.waker().clone());
                    wait.as_mut().poll(cx)
                }));
                t.join().unwrap();
                k.lock().unwrap().push(last.unwrap());
            }
            // Wake them while other block_ons on this M are pending.
            let wakers = k.lock().unwrap().clone();
            let t = std::thread::spawn(move || {
                for _ in 0..100 {
                    for w in &wakers {
                        w.wake_by_ref();
                    }
                }
            });
            let later = Gate::default();
            let opener = later.clone();
            let h = goro::go!(move || {
                goro::time::sleep(Duration::from_millis(30));
                opener.open();
            });
            goro::block_on(later.wait());
            assert_eq!(
                later.polls.load(Ordering::SeqCst),
                2,
                "woken by a stale waker"
            );
            h.join().unwrap();
            t.join().unwrap();
        });
    // The runtime is gone: wake every kept waker again, from two threads.
    let wakers = kept.lock().unwrap().clone();
    let a = std::thread::spawn(move || wakers.iter().for_each(Waker::wake_by_ref));
    kept.lock().unwrap().drain(..).for_each(Waker::wake);
    a.join().unwrap();
}

#[goro::test(procs = 2)]
fn dumps_show_the_future_wait_reason() {
    let gate = Gate::default();
    let g2 = gate.clone();
    let h = goro::go!(move || goro::block_on(g2.wait()));
    let mut seen = false;
    for _ in 0..2000 {
        if goro::dump_goroutines().contains(&format!("goroutine {} [future", h.id())) {
            seen = true;
            break;
        }
        goro::time::sleep(Duration::from_millis(1));
    }
    gate.open();
    h.join().unwrap();
    assert!(
        seen,
        "no [future] goroutine in:\n{}",
        goro::dump_goroutines()
    );
}

#[test]
fn outside_the_runtime_block_on_blocks_the_thread() {
    block_on_a_gate_opened_by_a_thread();
}

/// A goroutine's panic comes out of `.await` as `Err(Panic)`.
#[test]
fn awaited_goroutine_panic_is_an_err() {
    let r = goro::run(|| {
        let h = goro::go!(|| -> u32 { panic!("boom in goroutine") });
        goro::block_on(h)
    });
    let p = r.unwrap_err();
    assert_eq!(p.message(), Some("boom in goroutine"));
}

/// A JoinHandle polled (its waker registered) and then joined, or polled
/// with a new waker each time, or dropped while registered.
#[goro::test(procs = 2)]
fn join_handle_polls_then_join_and_drop() {
    let noop = Waker::noop();
    for _ in 0..200 {
        let (tx, rx) = goro::chan::<()>(0);
        let mut h = goro::go!(move || {
            rx.recv().unwrap();
            7
        });
        let mut cx = Context::from_waker(noop);
        assert!(Pin::new(&mut h).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut h).poll(&mut cx).is_pending());
        tx.send(()).unwrap();
        assert_eq!(h.join().unwrap(), 7);

        let (tx, rx) = goro::chan::<()>(0);
        let mut h = goro::go!(move || rx.recv().unwrap());
        assert!(Pin::new(&mut h).poll(&mut cx).is_pending());
        drop(h);
        tx.send(()).unwrap();
    }
}

/// What async code needs of a JoinHandle: Send + Unpin when T: Send, and
/// a Future of the goroutine's result.
#[test]
fn join_handle_is_a_send_unpin_future() {
    fn check<F: Future<Output = Result<u8, goro::Panic>> + Send + Unpin>() {}
    check::<goro::JoinHandle<u8>>();
}

/// Many goroutines each awaiting the next one's JoinHandle, a chain.
#[goro::test(procs = 2)]
fn chain_of_awaits_across_goroutines() {
    fn link(depth: u32) -> goro::JoinHandle<u32> {
        goro::go!(move || {
            if depth == 0 {
                0
            } else {
                goro::block_on(link(depth - 1)).unwrap() + 1
            }
        })
    }
    assert_eq!(link(1000).join().unwrap(), 1000);
}

/// Pending until `target` events were counted; its waker is kept where
/// foreign threads wake it (by value and by reference) over and over.
fn count_to<'a>(
    events: &'a AtomicUsize,
    target: usize,
    waker: &'a Mutex<Option<Waker>>,
) -> impl Future<Output = ()> + 'a {
    let mut first = true;
    poll_fn(move |cx: &mut Context<'_>| {
        if first {
            *waker.lock().unwrap() = Some(cx.waker().clone());
            first = false;
        }
        if events.load(Ordering::SeqCst) >= target {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
}

/// Wakes racing polls and parks, duplicated, by value and by reference,
/// from threads outside the runtime: no wake-up is lost (every
/// `block_on` returns once its events are in) and none is doubled (the
/// scheduler would abort on a goroutine readied twice).
#[goro::test(procs = 2)]
fn racing_duplicate_wakes_lose_no_wake_up() {
    const GOROUTINES: usize = 8;
    const EVENTS: usize = 2000;
    let slots: Arc<Vec<(AtomicUsize, Mutex<Option<Waker>>)>> =
        Arc::new((0..GOROUTINES).map(|_| Default::default()).collect());
    let handles: Vec<_> = (0..GOROUTINES)
        .map(|i| {
            let slots = slots.clone();
            goro::go!(move || {
                let (events, waker) = &slots[i];
                goro::block_on(count_to(events, EVENTS, waker));
            })
        })
        .collect();
    let wakers: Vec<_> = (0..2)
        .map(|t| {
            let slots = slots.clone();
            std::thread::spawn(move || {
                for n in 0..EVENTS {
                    for (events, waker) in slots.iter() {
                        if t == 0 {
                            events.fetch_add(1, Ordering::SeqCst);
                        }
                        let w = waker.lock().unwrap().clone();
                        match (w, n % 2) {
                            (Some(w), 0) => w.wake(),
                            (Some(w), _) => w.wake_by_ref(),
                            (None, _) => {}
                        }
                    }
                }
                // Events may have come before the first poll stored the
                // waker: wake once more after the last.
                for (_, waker) in slots.iter() {
                    if let Some(w) = waker.lock().unwrap().clone() {
                        w.wake();
                    }
                }
            })
        })
        .collect();
    for w in wakers {
        w.join().unwrap();
    }
    for h in handles {
        h.join().unwrap();
    }
}

/// The runtime ends while goroutines are parked in `block_on` and a
/// foreign thread keeps waking them: each unwound goroutine withdraws, or
/// waits for the wake that owns it to finish readying it; nothing is
/// touched after the runtime freed it.
#[test]
fn runtime_ends_while_foreign_wakes_race_the_withdrawals() {
    for _ in 0..20 {
        let wakers: Arc<Mutex<Vec<Waker>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let w = wakers.clone();
        let s = stop.clone();
        let waker_thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                let ws = w.lock().unwrap().clone();
                ws.iter().for_each(Waker::wake_by_ref);
                std::thread::yield_now();
            }
            let ws = std::mem::take(&mut *w.lock().unwrap());
            ws.into_iter().for_each(Waker::wake);
        });
        let w = wakers.clone();
        goro::Runtime::builder()
            .procs(2)
            .build()
            .unwrap()
            .run(move || {
                let registered = Arc::new(AtomicUsize::new(0));
                for _ in 0..50 {
                    let w = w.clone();
                    let registered = registered.clone();
                    drop(goro::go!(move || {
                        // Never ready: only the runtime's end lets it go.
                        goro::block_on(poll_fn(|cx: &mut Context<'_>| {
                            if registered.fetch_add(1, Ordering::SeqCst) < 50 {
                                w.lock().unwrap().push(cx.waker().clone());
                            }
                            Poll::<()>::Pending
                        }))
                    }));
                }
                while registered.load(Ordering::SeqCst) < 200 {
                    goro::time::sleep(Duration::from_millis(1));
                }
            });
        stop.store(true, Ordering::SeqCst);
        waker_thread.join().unwrap();
    }
}
