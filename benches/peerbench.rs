//! peerbench: goro's side of the peer benchmarks (see docs/benchmarks.md).
//!
//! `GOMAXPROCS=P cargo run --release --bin peerbench -- WORKLOAD N` prints
//! one line per run, the contract shared with the Go twin (benches/go) and
//! the Tokio twin (benches/tokio-peer):
//! `impl=goro workload=W n=N procs=P ns_per_op=X total_ms=Y [EXTRA] check=ok`
//! where EXTRA is echo's round-trip percentiles (`rtt_p50_us=A
//! rtt_p99_us=B`), park_mem's memory per parked goroutine
//! (`rss_kb_per_task=Z`) and the program shapes' figures (`work_ms=W
//! ideal_ratio=R cpu_ns_per_op=C`, benches/shapes/), as the twins print
//! them.
//! `benches/compare.sh` runs all three side by side (block_on_ready,
//! notify_pingpong and chan_async, the async bridge's, have no Go twin;
//! the last two need `--features tokio`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use goro::sync::{Mutex, WaitGroup};

#[allow(dead_code)]
#[path = "../examples/echo.rs"]
mod echo;
#[path = "shapes/mod.rs"]
mod shapes;

struct Outcome {
    elapsed: Duration,
    ops: f64,
    ok: bool,
}

/// A WaitGroup already counting `n`.
fn wait_group(n: usize) -> WaitGroup {
    let wg = WaitGroup::new();
    wg.add(n as i64);
    wg
}

fn spawn_join(n: usize) -> Outcome {
    let start = Instant::now();
    let wg = wait_group(n);
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

fn skynet_node(out: goro::Sender<u64>, num: u64, size: u64) {
    if size == 1 {
        let _ = out.send(num);
        return;
    }
    let div = size / 10;
    let (tx, rx) = goro::chan(0);
    for i in 0..10 {
        let tx = tx.clone();
        drop(goro::go!(skynet_node(tx, num + i * div, div)));
    }
    drop(tx);
    let _ = out.send(rx.iter().take(10).sum());
}

fn skynet(n: usize) -> Outcome {
    let start = Instant::now();
    let (tx, rx) = goro::chan(0);
    drop(goro::go!(skynet_node(tx, 0, n as u64)));
    let sum = rx.recv().unwrap();
    let n = n as u64;
    Outcome {
        elapsed: start.elapsed(),
        ops: n as f64,
        ok: sum == n * (n - 1) / 2,
    }
}

fn pingpong(n: usize) -> Outcome {
    let start = Instant::now();
    let (ping_tx, ping_rx) = goro::chan::<u64>(0);
    let (pong_tx, pong_rx) = goro::chan::<u64>(0);
    let echo = goro::go!(move || {
        for v in &ping_rx {
            pong_tx.send(v + 1).unwrap();
        }
    });
    let mut ok = true;
    for i in 0..n as u64 {
        ping_tx.send(i).unwrap();
        ok &= pong_rx.recv() == Ok(i + 1);
    }
    drop(ping_tx);
    ok &= echo.join().is_ok();
    Outcome {
        elapsed: start.elapsed(),
        ops: n as f64,
        ok,
    }
}

fn channel_sum(n: usize, producers: u64, consumers: usize) -> Outcome {
    let start = Instant::now();
    let n = n as u64;
    let (tx, rx) = goro::chan::<u64>(1024);
    for p in 0..producers {
        let tx = tx.clone();
        let (from, to) = (p * n / producers, (p + 1) * n / producers);
        drop(goro::go!(
            move || (from..to).for_each(|v| tx.send(v).unwrap())
        ));
    }
    drop(tx);
    let sums: Vec<_> = (0..consumers)
        .map(|_| {
            let rx = rx.clone();
            goro::go!(move || rx.iter().fold((0u64, 0u64), |(s, c), v| (s + v, c + 1)))
        })
        .collect();
    let (sum, count) = sums
        .into_iter()
        .map(|h| h.join().unwrap())
        .fold((0, 0), |(s, c), (s2, c2)| (s + s2, c + c2));
    Outcome {
        elapsed: start.elapsed(),
        ops: n as f64,
        ok: count == n && sum == n * (n - 1) / 2,
    }
}

fn chan_spsc(n: usize) -> Outcome {
    channel_sum(n, 1, 1)
}

fn chan_mpmc(n: usize) -> Outcome {
    channel_sum(n, 4, 4)
}

fn ring(n: usize) -> Outcome {
    const RING: usize = 503;
    let start = Instant::now();
    let (first_tx, mut prev_rx) = goro::chan::<u64>(0);
    let hops = Arc::new(AtomicUsize::new(0));
    let (done_tx, done_rx) = goro::chan::<usize>(1);
    for id in 1..=RING {
        let (tx, rx) = if id == RING {
            (first_tx.clone(), None)
        } else {
            let (tx, rx) = goro::chan::<u64>(0);
            (tx, Some(rx))
        };
        let (input, hops, done) = (prev_rx, hops.clone(), done_tx.clone());
        drop(goro::go!(move || {
            for token in &input {
                hops.fetch_add(1, Ordering::Relaxed);
                if token == 0 {
                    let _ = done.send(id);
                    return;
                }
                if tx.send(token - 1).is_err() {
                    return;
                }
            }
        }));
        match rx {
            Some(rx) => prev_rx = rx,
            None => break,
        }
    }
    first_tx.send(n as u64 - 1).unwrap();
    let winner = done_rx.recv().unwrap();
    Outcome {
        elapsed: start.elapsed(),
        ops: n as f64,
        ok: hops.load(Ordering::Relaxed) == n && winner == (n - 1) % RING + 1,
    }
}

/// Two producers, each sending its half of 0..N-1 on its own unbuffered
/// channel; one consumer selects over both until it has N values. As in the
/// Go twin the channels are never closed: this goroutine keeps a Sender of
/// each until the consumer is done, so neither case turns ready with
/// `Err(RecvError)` when its producer exits.
fn select2(n: usize) -> Outcome {
    let start = Instant::now();
    let n = n as u64;
    let half = n / 2;
    let (a_tx, a) = goro::chan::<u64>(0);
    let (b_tx, b) = goro::chan::<u64>(0);
    let producer = |tx: goro::Sender<u64>, from, to| {
        drop(goro::go!(
            move || (from..to).for_each(|v| tx.send(v).unwrap())
        ))
    };
    producer(a_tx.clone(), 0, half);
    producer(b_tx.clone(), half, n);
    let consumer = goro::go!(move || {
        let mut sum = 0u64;
        for _ in 0..n {
            goro::select! {
                recv(a) -> v => sum += v.unwrap(),
                recv(b) -> v => sum += v.unwrap(),
            }
        }
        sum
    });
    let sum = consumer.join().unwrap();
    drop((a_tx, b_tx));
    Outcome {
        elapsed: start.elapsed(),
        ops: n as f64,
        ok: sum == n * (n - 1) / 2,
    }
}

/// The SplitMix64 sequence the twins share to pick every goroutine's sleep.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
}

/// N goroutines, goroutine i sleeping 1 + (i-th SplitMix64(42) output mod
/// 10) ms; wait for all. total_ms is the number that matters; the check is
/// that all N woke and no earlier than the longest sleep.
fn timers(n: usize) -> Outcome {
    let mut rng = SplitMix64(42);
    let sleeps: Vec<Duration> = (0..n)
        .map(|_| Duration::from_millis(1 + rng.next() % 10))
        .collect();
    let longest = sleeps.iter().copied().max().unwrap_or_default();
    let woke = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let wg = wait_group(n);
    for d in sleeps {
        let (wg, woke) = (wg.clone(), woke.clone());
        drop(goro::go!(move || {
            goro::time::sleep(d);
            woke.fetch_add(1, Ordering::Relaxed);
            wg.done();
        }));
    }
    wg.wait();
    let elapsed = start.elapsed();
    Outcome {
        elapsed,
        ops: n as f64,
        ok: woke.load(Ordering::Relaxed) == n && elapsed >= longest,
    }
}

/// N contexts under one `with_cancel` root: ceil(N/100) children of the
/// root, the rest grandchildren spread over them (N = 10,000: 100 children
/// with 99 grandchildren each), one goroutine per context parked in
/// `select!` on its `done()` and on its own inbox channel (nobody sends on
/// it; a worker's usual shape). The timed part is from the root's cancel to
/// every waiter having woken and seen `Canceled` (building the tree and
/// starting the waiters is not timed); ns_per_op is that over N. The
/// counters the Go twin's closures share by reference are shared here
/// through one `Arc` (one reference count per goroutine, not three).
fn ctx_cancel(n: usize) -> Outcome {
    use goro::context::{background, with_cancel, Error};
    let (root, cancel) = with_cancel(&background());
    let k = n.div_ceil(100);
    let mut ctxs: Vec<goro::context::Context> = Vec::with_capacity(n);
    let mut cancels = Vec::with_capacity(n);
    for i in 0..n {
        let parent = if i < k {
            root.clone()
        } else {
            ctxs[i % k].clone()
        };
        let (ctx, f) = with_cancel(&parent);
        ctxs.push(ctx);
        cancels.push(f);
    }
    let shared = Arc::new((wait_group(n), wait_group(n), AtomicUsize::new(0)));
    let (ready, woken, canceled) = (&shared.0, &shared.1, &shared.2);
    let mut inboxes = Vec::with_capacity(n);
    for ctx in &ctxs {
        let (inbox_tx, inbox) = goro::chan::<()>(0);
        inboxes.push(inbox_tx);
        let ctx = ctx.clone();
        let shared = shared.clone();
        drop(goro::go!(move || {
            let (ready, woken, canceled) = (&shared.0, &shared.1, &shared.2);
            ready.done();
            goro::select! {
                recv(ctx.done()) -> _ => {},
                recv(inbox) -> _ => {},
            }
            if ctx.err() == Some(Error::Canceled) {
                canceled.fetch_add(1, Ordering::Relaxed);
            }
            woken.done();
        }));
    }
    ready.wait();
    let start = Instant::now();
    cancel.cancel();
    woken.wait();
    let elapsed = start.elapsed();
    drop((cancels, inboxes));
    Outcome {
        elapsed,
        ops: n as f64,
        ok: canceled.load(Ordering::Relaxed) == n && root.child_count() == 0,
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

const MUTEX_GOROUTINES: usize = 1000;

/// 1000 goroutines, N/1000 increments each (the first N mod 1000 do one
/// more) of one counter under a goro Mutex; a WaitGroup waits for all.
fn mutex(n: usize) -> Outcome {
    let counter = Arc::new(Mutex::new(0usize));
    let start = Instant::now();
    let wg = wait_group(MUTEX_GOROUTINES);
    for g in 0..MUTEX_GOROUTINES {
        let k = n / MUTEX_GOROUTINES + usize::from(g < n % MUTEX_GOROUTINES);
        let (wg, counter) = (wg.clone(), counter.clone());
        drop(goro::go!(move || {
            for _ in 0..k {
                *counter.lock() += 1;
            }
            wg.done();
        }));
    }
    wg.wait();
    counted(start, &counter, n)
}

/// N lock/unlock pairs of one Mutex on one goroutine, incrementing the
/// counter under it (the fast paths only).
fn mutex_uncontended(n: usize) -> Outcome {
    let counter = Mutex::new(0usize);
    let start = Instant::now();
    for _ in 0..n {
        *counter.lock() += 1;
    }
    counted(start, &counter, n)
}

/// The outcome of N increments of `counter` since `start`.
fn counted(start: Instant, counter: &Mutex<usize>, n: usize) -> Outcome {
    let elapsed = start.elapsed();
    let got = *counter.lock();
    Outcome {
        elapsed,
        ops: n as f64,
        ok: got == n,
    }
}

/// N goroutines started with `wg.go` (Go 1.25's wg.Go: an add(1) each, a
/// done when it returns), each adding 1 to a counter; one wait for all.
fn wg(n: usize) -> Outcome {
    let ran = Arc::new(AtomicUsize::new(0)); // the check only
    let start = Instant::now();
    let wg = WaitGroup::new();
    for _ in 0..n {
        let ran = ran.clone();
        drop(wg.go(move || {
            ran.fetch_add(1, Ordering::Relaxed);
        }));
    }
    wg.wait();
    let elapsed = start.elapsed();
    Outcome {
        elapsed,
        ops: n as f64,
        ok: ran.load(Ordering::Relaxed) == n,
    }
}

/// Fields a workload adds to its result line (before `check=`), set once by
/// it: echo's round-trip percentiles, park_mem's memory per goroutine, the
/// program shapes' figures.
static EXTRA_FIELDS: OnceLock<String> = OnceLock::new();

/// VmRSS from /proc/self/status, in kB.
fn vm_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line["VmRSS:".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// N goroutines each parked receiving on its own rendezvous channel (the
/// twins' park_mem). RSS is read before spawning and once all N are parked
/// (each signals a WaitGroup just before it blocks; then a 50 ms settle),
/// for `rss_kb_per_task`. Timed: spawn+park plus wake+exit; not the settle
/// or the RSS reads.
fn park_mem(n: usize) -> Outcome {
    // The waker's handles (as the twins' slices) are reserved before the
    // baseline, so they do not count as a per-goroutine cost.
    let mut wakers: Vec<goro::Sender<()>> = Vec::with_capacity(n);
    let Some(baseline) = vm_rss_kb() else {
        eprintln!("park_mem: cannot read VmRSS from /proc/self/status");
        return Outcome {
            elapsed: Duration::ZERO,
            ops: n as f64,
            ok: false,
        };
    };
    let woke = Arc::new(AtomicUsize::new(0));
    let (parked, exited) = (wait_group(n), wait_group(n));
    let start = Instant::now();
    for _ in 0..n {
        let (tx, rx) = goro::chan::<()>(0);
        wakers.push(tx);
        let (parked, exited, woke) = (parked.clone(), exited.clone(), woke.clone());
        drop(goro::go!(move || {
            parked.done();
            if rx.recv().is_ok() {
                woke.fetch_add(1, Ordering::Relaxed);
            }
            exited.done();
        }));
    }
    parked.wait();
    let spawn_park = start.elapsed();
    goro::time::sleep(Duration::from_millis(50));
    let after = vm_rss_kb().unwrap_or(baseline);
    let wake_start = Instant::now();
    for tx in &wakers {
        let _ = tx.send(());
    }
    exited.wait();
    let elapsed = spawn_park + wake_start.elapsed();
    let _ = EXTRA_FIELDS.set(format!(
        " rss_kb_per_task={:.2}",
        after.saturating_sub(baseline) as f64 / n as f64
    ));
    Outcome {
        elapsed,
        ops: n as f64,
        ok: woke.load(Ordering::Relaxed) == n,
    }
}

/// How many loopback connections the echo workload keeps busy.
const ECHO_CONNS: usize = 1000;

/// The echo example's server and a load client of `ECHO_CONNS`
/// connections in the same process, each making `n / ECHO_CONNS` round
/// trips of a 64-byte message (the Go twin's `echo`). Per round trip; each
/// round trip is also timed, for the percentiles in `EXTRA_FIELDS`.
fn echo_bench(n: usize) -> Outcome {
    use std::io::{Read, Write};
    let listener = goro::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(goro::go!(move || echo::serve(listener)));
    let per = n / ECHO_CONNS;
    let conns: Vec<_> = (0..ECHO_CONNS)
        .map(|_| goro::net::TcpStream::connect(addr).unwrap())
        .collect();
    let start = Instant::now();
    let clients: Vec<_> = conns
        .into_iter()
        .map(|mut c| {
            goro::go!(move || {
                let msg = [b'x'; 64];
                let mut back = [0u8; 64];
                let mut rtts = Vec::with_capacity(per);
                for _ in 0..per {
                    let sent = Instant::now();
                    let ok = c.write_all(&msg).is_ok() && c.read_exact(&mut back).is_ok();
                    if !ok || back != msg {
                        return None;
                    }
                    rtts.push(sent.elapsed());
                }
                Some(rtts)
            })
        })
        .collect();
    let rtts: Option<Vec<Vec<Duration>>> = clients.into_iter().map(|c| c.join().ok()?).collect();
    let elapsed = start.elapsed();
    let Some(rtts) = rtts else {
        return Outcome {
            elapsed,
            ops: n as f64,
            ok: false,
        };
    };
    let mut rtts: Vec<Duration> = rtts.concat();
    rtts.sort_unstable();
    let (p50, p99) = (percentile(&rtts, 50), percentile(&rtts, 99));
    let _ = EXTRA_FIELDS.set(format!(
        " rtt_p50_us={:.1} rtt_p99_us={:.1}",
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6
    ));
    Outcome {
        elapsed,
        ops: rtts.len() as f64,
        ok: true,
    }
}

/// Goroutines in the `fs_read` and `exec` workloads.
const OS_WORKERS: usize = 64;

/// `OS_WORKERS` goroutines reading a cached 4 KiB file with
/// `goro::fs::read`, `n` reads in all (the Go twin's `os.ReadFile`).
/// Per read.
fn fs_read(n: usize) -> Outcome {
    let path = std::env::temp_dir().join(format!("goro-peerbench-{}", std::process::id()));
    let content: Vec<u8> = (0..4096u32).map(|i| i as u8).collect();
    std::fs::write(&path, &content).unwrap();
    // Warm the page cache and the dentry cache.
    assert_eq!(goro::fs::read(&path).unwrap(), content);
    let path = Arc::new(path);
    let per = n / OS_WORKERS;
    let start = Instant::now();
    let readers: Vec<_> = (0..OS_WORKERS)
        .map(|_| {
            let path = path.clone();
            goro::go!(
                move || (0..per).all(|_| goro::fs::read(&*path).is_ok_and(|b| b.len() == 4096))
            )
        })
        .collect();
    let ok = readers.into_iter().all(|r| r.join().unwrap_or(false));
    let elapsed = start.elapsed();
    let _ = std::fs::remove_file(&*path);
    Outcome {
        elapsed,
        ops: (per * OS_WORKERS) as f64,
        ok,
    }
}

/// `OS_WORKERS` goroutines each running `true` with
/// `goro::process::Command::status`, `n` runs in all (the Go twin's
/// `exec.Command("true").Run()`). Per run.
fn exec(n: usize) -> Outcome {
    let per = n / OS_WORKERS;
    let start = Instant::now();
    let runners: Vec<_> = (0..OS_WORKERS)
        .map(|_| {
            goro::go!(move || (0..per).all(|_| {
                goro::process::Command::new("true")
                    .status()
                    .is_ok_and(|s| s.success())
            }))
        })
        .collect();
    let ok = runners.into_iter().all(|r| r.join().unwrap_or(false));
    Outcome {
        elapsed: start.elapsed(),
        ops: (per * OS_WORKERS) as f64,
        ok,
    }
}

/// The `p`th percentile of `sorted` (nearest rank).
/// `goro::block_on` of a future that is ready at once, n times: the bridge's
/// fixed cost (the Tokio twin awaits the same future inline in a task,
/// which is a function call).
fn block_on_ready(n: usize) -> Outcome {
    let start = Instant::now();
    let mut sum = 0u64;
    for i in 0..n as u64 {
        sum = sum.wrapping_add(goro::block_on(std::hint::black_box(async move { i })));
    }
    let n = n as u64;
    Outcome {
        elapsed: start.elapsed(),
        ops: n as f64,
        ok: sum == n * (n - 1) / 2,
    }
}

/// n goroutines in pairs, each pair making 100 round trips over two
/// `tokio::sync::Notify`s through `goro::block_on` (the Tokio twin: n
/// tasks awaiting the same). One op is one round trip.
#[cfg(feature = "tokio")]
fn notify_pingpong(n: usize) -> Outcome {
    use tokio::sync::Notify;
    const TRIPS: usize = 100;
    let pairs = (n / 2).max(1);
    let start = Instant::now();
    let mut handles = Vec::with_capacity(pairs * 2);
    for _ in 0..pairs {
        let (ping, pong) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let (ping2, pong2) = (ping.clone(), pong.clone());
        handles.push(goro::go!(move || {
            for _ in 0..TRIPS {
                ping.notify_one();
                goro::block_on(pong.notified());
            }
        }));
        handles.push(goro::go!(move || {
            for _ in 0..TRIPS {
                goro::block_on(ping2.notified());
                pong2.notify_one();
            }
        }));
    }
    let ok = handles.into_iter().all(|h| h.join().is_ok());
    Outcome {
        elapsed: start.elapsed(),
        ops: (pairs * TRIPS) as f64,
        ok,
    }
}

/// A Tokio task `send_async`s 0..n into a goro channel of capacity 1024
/// that a goroutine `recv`s and sums (the Tokio twin: `chan_spsc`'s
/// tokio::sync::mpsc between two Tokio tasks). The Tokio runtime has one
/// worker thread beside goro's GOMAXPROCS Ms. One op is one value.
#[cfg(feature = "tokio")]
fn chan_async(n: usize) -> Outcome {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .expect("cannot build the tokio runtime");
    let (tx, rx) = goro::chan::<u64>(1024);
    let start = Instant::now();
    let n = n as u64;
    let producer = rt.spawn(async move {
        for i in 0..n {
            tx.send_async(i).await.expect("the goroutine hung up");
        }
    });
    let consumer = goro::go!(move || rx.iter().sum::<u64>());
    let sum = consumer.join().unwrap_or(0);
    let elapsed = start.elapsed();
    let ok = goro::block_on(producer).is_ok() && sum == n * (n - 1) / 2;
    rt.shutdown_background();
    Outcome {
        elapsed,
        ops: n as f64,
        ok,
    }
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank - 1]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = || -> ! {
        eprintln!("usage: GOMAXPROCS=P peerbench WORKLOAD N
workloads: spawn_join skynet yield fib_spawn pingpong chan_spsc chan_mpmc ring select2 timers mutex mutex_uncontended wg park_mem ctx_cancel echo fs_read exec
gate_workers gate_workers_wg pool_cpu pool_cpu_wg pipeline_cpu fanout_cpu light_reqresp (the program shapes)
block_on_ready notify_pingpong chan_async (the last two with --features tokio)");
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
        "pingpong" => pingpong,
        "chan_spsc" => chan_spsc,
        "chan_mpmc" => chan_mpmc,
        "ring" => ring,
        "select2" => select2,
        "timers" => timers,
        "ctx_cancel" => ctx_cancel,
        "fib_spawn" => fib_spawn,
        "mutex" => mutex,
        "mutex_uncontended" => mutex_uncontended,
        "wg" => wg,
        "park_mem" => park_mem,
        "echo" => echo_bench,
        "fs_read" => fs_read,
        "exec" => exec,
        "gate_workers" => |n| shapes::gate_workers(n, shapes::Start::Go),
        "gate_workers_wg" => |n| shapes::gate_workers(n, shapes::Start::WaitGroup),
        "pool_cpu" => |n| shapes::pool_cpu(n, shapes::Start::Go),
        "pool_cpu_wg" => |n| shapes::pool_cpu(n, shapes::Start::WaitGroup),
        "pipeline_cpu" => shapes::pipeline_cpu,
        "fanout_cpu" => shapes::fanout_cpu,
        "light_reqresp" => shapes::light_reqresp,
        "block_on_ready" => block_on_ready,
        #[cfg(feature = "tokio")]
        "notify_pingpong" => notify_pingpong,
        #[cfg(feature = "tokio")]
        "chan_async" => chan_async,
        _ => usage(),
    };
    let (out, procs) = goro::run(move || (bench(n), goro::gomaxprocs()));
    let ns = out.elapsed.as_nanos() as f64;
    let extra = EXTRA_FIELDS.get().map_or("", String::as_str);
    println!(
        "impl=goro workload={workload} n={n} procs={procs} ns_per_op={:.2} total_ms={:.3}{extra} check={}",
        ns / out.ops,
        ns / 1e6,
        if out.ok { "ok" } else { "FAIL" }
    );
    if !out.ok {
        std::process::exit(1);
    }
}
