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
                goro::block_on(gate.wait());
                t.join().unwrap();
                k.lock()
                    .unwrap()
                    .push(gate.waker.lock().unwrap().clone().unwrap());
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
