//! peerbench: goro's side of the peer benchmarks (see docs/benchmarks.md).
//!
//! `GOMAXPROCS=P cargo run --release --bin peerbench -- WORKLOAD N` prints
//! one line per run, the contract shared with the Go twin (benches/go) and
//! the Tokio twin (benches/tokio-peer):
//! `impl=goro workload=W n=N procs=P ns_per_op=X total_ms=Y [rss_kb_per_task=Z] check=ok`.
//! `benches/compare.sh` runs all three side by side.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use goro::sched::{current_waiter, park, WaitReason, Waiter};

struct Outcome {
    elapsed: Duration,
    ops: f64,
    ok: bool,
}

/// A minimal WaitGroup (count down, one waiter), built on goro's park/ready
/// contract so this file needs nothing beyond the runtime core.
struct Countdown {
    left: AtomicUsize,
    waiter: Mutex<Option<Waiter>>,
}

impl Countdown {
    fn new(n: usize) -> Arc<Countdown> {
        Arc::new(Countdown {
            left: AtomicUsize::new(n),
            waiter: Mutex::new(None),
        })
    }

    fn done(&self) {
        if self.left.fetch_sub(1, Ordering::AcqRel) == 1 {
            if let Some(w) = self.waiter.lock().unwrap().take() {
                // SAFETY: registered once by `wait`, taken under the lock.
                unsafe { w.wake() };
            }
        }
    }

    fn wait(&self) {
        {
            let mut slot = self.waiter.lock().unwrap();
            if self.left.load(Ordering::Acquire) == 0 {
                return;
            }
            *slot = Some(current_waiter());
        }
        park(WaitReason::SyncWaitGroupWait);
    }
}

fn spawn_join(n: usize) -> Outcome {
    let start = Instant::now();
    let wg = Countdown::new(n);
    for _ in 0..n {
        let wg = wg.clone();
        drop(goro::go!(move || wg.done()));
    }
    wg.wait();
    Outcome {
        elapsed: start.elapsed(),
        ops: n as f64,
        ok: goro::num_goroutine() <= 1 + n,
    }
}

fn skynet_node(num: u64, size: u64) -> u64 {
    if size == 1 {
        return num;
    }
    let div = size / 10;
    let children: Vec<_> = (0..10)
        .map(|i| goro::go!(skynet_node(num + i * div, div)))
        .collect();
    children.into_iter().map(|h| h.join().unwrap()).sum()
}

fn skynet(n: usize) -> Outcome {
    let start = Instant::now();
    let sum = skynet_node(0, n as u64);
    let n = n as u64;
    Outcome {
        elapsed: start.elapsed(),
        ops: n as f64,
        ok: sum == n * (n - 1) / 2,
    }
}

fn yield_bench(n: usize) -> Outcome {
    let start = Instant::now();
    let a = goro::go!(move || (0..n.div_ceil(2)).for_each(|_| goro::gosched()));
    let b = goro::go!(move || (0..n / 2).for_each(|_| goro::gosched()));
    let ok = a.join().is_ok() && b.join().is_ok();
    Outcome {
        elapsed: start.elapsed(),
        ops: n as f64,
        ok,
    }
}

fn fib(n: u64, depth: u32) -> u64 {
    if n < 2 {
        return n;
    }
    if depth < 13 {
        let h = goro::go!(fib(n - 1, depth + 1));
        let b = fib(n - 2, depth + 1);
        h.join().unwrap() + b
    } else {
        fib(n - 1, depth + 1) + fib(n - 2, depth + 1)
    }
}

fn fib_spawn(n: usize) -> Outcome {
    let start = Instant::now();
    let r = fib(n as u64, 0);
    let expected = {
        let (mut a, mut b) = (0u64, 1u64);
        for _ in 0..n {
            (a, b) = (b, a + b);
        }
        a
    };
    Outcome {
        elapsed: start.elapsed(),
        ops: 1.0,
        ok: r == expected,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = || -> ! {
        eprintln!("usage: GOMAXPROCS=P peerbench WORKLOAD N\nworkloads: spawn_join skynet yield fib_spawn");
        std::process::exit(2)
    };
    if args.len() != 3 {
        usage();
    }
    let workload = args[1].clone();
    let n: usize = args[2].parse().unwrap_or_else(|_| usage());
    let bench: fn(usize) -> Outcome = match workload.as_str() {
        "spawn_join" => spawn_join,
        "skynet" => skynet,
        "yield" => yield_bench,
        "fib_spawn" => fib_spawn,
        _ => usage(),
    };
    let (out, procs) = goro::run(move || (bench(n), goro::gomaxprocs()));
    let ns = out.elapsed.as_nanos() as f64;
    println!(
        "impl=goro workload={workload} n={n} procs={procs} ns_per_op={:.2} total_ms={:.3} check={}",
        ns / out.ops,
        ns / 1e6,
        if out.ok { "ok" } else { "FAIL" }
    );
    if !out.ok {
        std::process::exit(1);
    }
}
