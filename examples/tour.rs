//! A tour of goro: run with `cargo run --release --example tour`.
//!
//! Shows `go!` in both forms, joining results, a channel pipeline, `select!` with
//! timers, a panicking goroutine that does not take the program down, a hundred
//! thousand goroutines, `gosched`, `blocking`, goroutine-local storage,
//! `sync` (Mutex, WaitGroup), `context` and `errgroup`, `goro::net` (a TCP
//! echo server and its client in a few lines), a goroutine dump (Go's
//! SIGQUIT format, with the parked goroutine's own frames), and GOMAXPROCS
//! at run time.
//!
//! The timed sections print Go 1.27's figure for the same work beside
//! goro's, from the side-by-side runs recorded in `docs/benchmarks.md`
//! (2-vCPU machine, GOMAXPROCS=2).

use std::io::{BufRead, BufReader, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Go 1.27's time per goroutine spawned and joined (`spawn_join`) and per
/// goroutine sleeping 1-10 ms (`timers`), GOMAXPROCS=2, from
/// `docs/benchmarks.md`.
const GO_SPAWN_JOIN_NS: f64 = 445.8;
const GO_TIMERS_NS: f64 = 848.2;

goro::goroutine_local! {
    static REQUESTS: std::cell::Cell<u32> = std::cell::Cell::new(0);
}

fn worker(id: u64, rounds: u64) -> u64 {
    (0..rounds).map(|r| id * r).sum()
}

/// Waits for one order; the dump below shows it parked here.
#[inline(never)]
fn wait_for_order(orders: goro::Receiver<u32>) -> Option<u32> {
    let order = orders.recv().ok();
    std::hint::black_box(order)
}

fn main() {
    goro::run(|| {
        println!("goro tour: GOMAXPROCS={}", goro::gomaxprocs());

        // go f(a, b): arguments are evaluated now, the call runs concurrently.
        let handles: Vec<_> = (1..=4).map(|id| goro::go!(worker(id, 1000))).collect();
        let sums: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        println!("worker sums: {sums:?}");

        // Channels: a pipeline of generator -> squarer -> main, closed by
        // dropping the senders (Go's `close` + `range`).
        let (nums_tx, nums_rx) = goro::chan::<u64>(0);
        let (squares_tx, squares_rx) = goro::chan::<u64>(16);
        goro::go!(move || (1..=10).for_each(|n| nums_tx.send(n).unwrap()));
        goro::go!(move || {
            for n in &nums_rx {
                squares_tx.send(n * n).unwrap();
            }
        });
        let squares: Vec<u64> = squares_rx.iter().collect();
        println!("squares over channels: {squares:?}");

        // A panic stays inside its goroutine and comes back from join().
        // (goro prints a goroutine's panic as std prints a thread's; this
        // one is expected, so the tour shows it in one line.)
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(|info| {
            println!("(an expected panic, reported: {info})");
        }));
        let bad = goro::go!(move || -> u64 { panic!("this goroutine fails on purpose") });
        let joined = bad.join();
        std::panic::set_hook(report);
        match joined {
            Ok(_) => unreachable!(),
            Err(p) => println!("caught: {p}"),
        }

        // A hundred thousand goroutines.
        let start = Instant::now();
        let total = Arc::new(AtomicU64::new(0));
        let hs: Vec<_> = (0..100_000u64)
            .map(|i| {
                let total = total.clone();
                goro::go!(move || {
                    total.fetch_add(i, Ordering::Relaxed);
                })
            })
            .collect();
        hs.into_iter().for_each(|h| h.join().unwrap());
        println!(
            "100000 goroutines spawned and joined in {:?} (sum {}; Go 1.27: {:.0} ms)",
            start.elapsed(),
            total.load(Ordering::Relaxed),
            GO_SPAWN_JOIN_NS * 100_000.0 / 1e6,
        );

        // Goroutine-local storage follows the goroutine.
        let counts: Vec<u32> = (0..3)
            .map(|n| {
                goro::go!(move || {
                    for _ in 0..=n {
                        REQUESTS.with(|r| r.set(r.get() + 1));
                        goro::gosched();
                    }
                    REQUESTS.with(|r| r.get())
                })
            })
            .map(|h| h.join().unwrap())
            .collect();
        println!("goroutine-local counters: {counts:?}");

        // A blocking call runs on a helper thread; the P keeps working.
        let slow = goro::go!(|| goro::blocking(|| {
            std::thread::sleep(Duration::from_millis(50));
            "blocking call done"
        }));
        let quick = goro::go!(|| "quick goroutine ran meanwhile");
        println!("{}; {}", quick.join().unwrap(), slow.join().unwrap());

        // select!: a ticker, a worker's result and a deadline, whichever comes first.
        let (done_tx, done_rx) = goro::chan::<&str>(0);
        goro::go!(move || {
            goro::time::sleep(Duration::from_millis(35));
            let _ = done_tx.send("worker finished");
        });
        let ticker = goro::time::Ticker::new(Duration::from_millis(10));
        let deadline = goro::time::after(Duration::from_millis(500));
        let mut ticks = 0;
        loop {
            goro::select! {
                recv(ticker.chan()) -> _ => ticks += 1,
                recv(done_rx) -> msg => {
                    println!("select: {} after {ticks} ticks", msg.unwrap());
                    break;
                }
                recv(deadline) -> _ => {
                    println!("select: deadline passed");
                    break;
                }
            }
        }

        // A hundred thousand goroutines sleeping 1-10 ms on the per-P timer heaps.
        let start = Instant::now();
        let sleepers: Vec<_> = (0..100_000u64)
            .map(|i| goro::go!(move || goro::time::sleep(Duration::from_millis(1 + i % 10))))
            .collect();
        for s in sleepers {
            s.join().unwrap();
        }
        println!(
            "100000 goroutines slept 1-10 ms each; all awake after {:?} (Go 1.27: {:.0} ms)",
            start.elapsed(),
            GO_TIMERS_NS * 100_000.0 / 1e6,
        );

        // sync: a Mutex that parks goroutines (never threads), a WaitGroup.
        let counter = Arc::new(goro::sync::Mutex::new(0u64));
        let wg = goro::sync::WaitGroup::new();
        for _ in 0..1000 {
            let counter = counter.clone();
            wg.go(move || {
                for _ in 0..100 {
                    *counter.lock() += 1;
                }
            });
        }
        wg.wait();
        println!(
            "1000 goroutines x 100 increments under a Mutex: {}",
            *counter.lock()
        );

        // errgroup + context: the first error cancels the others' context.
        let (group, ctx) = goro::errgroup::with_context::<String>(&goro::context::background());
        for id in 0..8u64 {
            let ctx = ctx.clone();
            group.go(move || {
                if id == 5 {
                    return Err(format!("task {id} failed"));
                }
                goro::select! {
                    recv(ctx.done()) -> _ => Ok(()),
                    recv(goro::time::after(Duration::from_secs(10))) -> _ => Ok(()),
                }
            });
        }
        println!(
            "errgroup: {:?}; the others saw their context end: {:?}",
            group.wait(),
            ctx.err()
        );

        // goro::net: blocking-style sockets; a blocked goroutine parks on
        // the scheduler's poller, never its thread. An echo server with a
        // goroutine per connection, and a client.
        let listener = goro::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        goro::go!(move || {
            for conn in listener.incoming() {
                let conn = conn.unwrap();
                goro::go!(move || {
                    let mut w = &conn;
                    for line in BufReader::new(&conn).lines() {
                        let Ok(line) = line else { break };
                        writeln!(w, "echo: {line}").unwrap();
                    }
                });
            }
        });
        let client = goro::net::TcpStream::connect(addr).unwrap();
        writeln!(&client, "hello, goroutines").unwrap();
        let mut reply = String::new();
        BufReader::new(&client).read_line(&mut reply).unwrap();
        print!("goro::net round trip: {reply}");

        // A goroutine dump, as Go prints on SIGQUIT: this one's block shows
        // its wait reason, its own frames where it parked, and its spawn site.
        let (orders, inbox) = goro::chan::<u32>(0);
        let waiter = goro::go!(wait_for_order(inbox));
        goro::time::sleep(Duration::from_millis(10));
        let dump = goro::dump_goroutines();
        let block = dump
            .split("\n\n")
            .find(|b| b.contains("wait_for_order"))
            .unwrap_or("(the waiter was not parked yet)");
        println!("goroutine dump, the waiter's block:\n{block}");
        orders.send(7).unwrap();
        println!("the waiter got order {:?}", waiter.join().unwrap());

        let previous = goro::set_gomaxprocs(goro::gomaxprocs() + 1);
        println!(
            "GOMAXPROCS {previous} -> {}, goroutines alive: {}",
            goro::gomaxprocs(),
            goro::num_goroutine()
        );
    });
}
