//! The Tokio twin of goro's `peerbench`: the same workloads as the Go twin
//! (benches/go), written as idiomatic Tokio (tokio::spawn, tokio::sync).
//!
//! Usage: `GOMAXPROCS=P tokio-peer WORKLOAD N`
//!
//! GOMAXPROCS picks the number of worker threads of a multi-thread runtime
//! (unset or invalid: the number of CPUs). P = 1 is a multi-thread runtime with
//! one worker, not a current_thread runtime, so every P runs the same
//! scheduler. The whole workload runs inside a spawned task (so on a worker,
//! like Go's main goroutine runs under the scheduler); the main thread only
//! waits for it. Prints exactly one line:
//!
//! `impl=tokio workload=W n=N procs=P ns_per_op=X total_ms=Y [rss_kb_per_task=Z] [rtt_p50_us=A rtt_p99_us=B] check=ok`
//!
//! and exits 1 (with check=FAIL) when the result is wrong.
//!
//! One workload is no Tokio twin: `chan_spsc_crossbeam` is chan_spsc over a
//! crossbeam-channel between two OS threads, run without the Tokio runtime,
//! and reported as `impl=crossbeam workload=chan_spsc` so it lands in
//! chan_spsc's rows (the channels issue wants goro's chan_spsc within 1.2x of
//! it). It uses two threads whatever GOMAXPROCS says; procs= only echoes it.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, Mutex, Notify};
use tokio::task::JoinSet;

/// What one workload reports back.
struct Report {
    elapsed: Duration, // the timed part only
    ops: f64,          // ns_per_op = elapsed / ops
    ok: bool,
    rss_kb_per_task: Option<f64>,
    /// echo only: the median and 99th percentile round trip.
    rtt: Option<(Duration, Duration)>,
    detail: String, // printed to stderr when the check fails
}

impl Report {
    fn new(elapsed: Duration, ops: u64, ok: bool, detail: String) -> Self {
        Report {
            elapsed,
            ops: ops as f64,
            ok,
            rss_kb_per_task: None,
            rtt: None,
            detail,
        }
    }
}

/// A WaitGroup made of a counter and a Notify (one waiter). The task that
/// brings the counter to zero calls `notify_one`, which stores a permit when
/// the waiter is not there yet, so no wakeup is lost.
struct WaitGroup {
    left: AtomicUsize,
    zero: Notify,
}

impl WaitGroup {
    fn new(n: usize) -> Arc<Self> {
        Arc::new(WaitGroup {
            left: AtomicUsize::new(n),
            zero: Notify::new(),
        })
    }
    fn done(&self) {
        if self.left.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.zero.notify_one();
        }
    }
    async fn wait(&self) {
        while self.left.load(Ordering::Acquire) != 0 {
            self.zero.notified().await;
        }
    }
}

fn sum_range(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

// ---------------------------------------------------------------- spawn_join

async fn spawn_join(n: u64) -> Report {
    let ran = Arc::new(AtomicU64::new(0)); // the check only
    let start = Instant::now();
    let wg = WaitGroup::new(n as usize);
    for _ in 0..n {
        let wg = wg.clone();
        let ran = ran.clone();
        tokio::spawn(async move {
            ran.fetch_add(1, Ordering::Relaxed);
            wg.done();
        });
    }
    wg.wait().await;
    let elapsed = start.elapsed();
    let got = ran.load(Ordering::Relaxed);
    Report::new(elapsed, n, got == n, format!("ran {got} of {n} tasks"))
}

// -------------------------------------------------------------------- skynet

/// The skynet node: spawns `div` children that send their sums over a
/// per-node channel. tokio's mpsc has no capacity 0: capacity 1 is the nearest
/// to Go's unbuffered channel.
fn skynet(tx: mpsc::Sender<u64>, num: u64, size: u64, div: u64) {
    tokio::spawn(async move {
        if size == 1 {
            let _ = tx.send(num).await;
            return;
        }
        let (rtx, mut rrx) = mpsc::channel(1);
        for i in 0..div {
            skynet(rtx.clone(), num + i * (size / div), size / div, div);
        }
        drop(rtx);
        let mut sum = 0;
        for _ in 0..div {
            sum += rrx.recv().await.expect("a child hung up");
        }
        let _ = tx.send(sum).await;
    });
}

fn power_of_10(mut n: u64) -> bool {
    while n > 1 && n.is_multiple_of(10) {
        n /= 10;
    }
    n == 1
}

async fn skynet_bench(n: u64) -> Report {
    if !power_of_10(n) {
        return Report::new(
            Duration::ZERO,
            n,
            false,
            format!("skynet needs N a power of 10, got {n}"),
        );
    }
    let start = Instant::now();
    let (tx, mut rx) = mpsc::channel(1);
    skynet(tx, 0, n, 10);
    let got = rx.recv().await.unwrap_or(0);
    let elapsed = start.elapsed();
    let want = sum_range(n);
    Report::new(elapsed, n, got == want, format!("sum {got}, want {want}"))
}

// --------------------------------------------------------------------- yield

async fn yield_bench(n: u64) -> Report {
    let start = Instant::now();
    let wg = WaitGroup::new(2);
    let count = Arc::new(AtomicU64::new(0));
    for g in 0..2 {
        let calls = if g == 0 { n - n / 2 } else { n / 2 };
        let wg = wg.clone();
        let count = count.clone();
        tokio::spawn(async move {
            for _ in 0..calls {
                tokio::task::yield_now().await;
            }
            count.fetch_add(calls, Ordering::Relaxed);
            wg.done();
        });
    }
    wg.wait().await;
    let elapsed = start.elapsed();
    let got = count.load(Ordering::Relaxed);
    Report::new(elapsed, n, got == n, format!("{got} yields, want {n}"))
}

// ----------------------------------------------------------------- fib_spawn

const SPAWN_DEPTH: u32 = 13;

fn fib_serial(n: u64) -> u64 {
    if n < 2 {
        n
    } else {
        fib_serial(n - 1) + fib_serial(n - 2)
    }
}

/// fib(n), with fib(n-1) in a spawned task (joined through its JoinHandle)
/// while depth < 13, serial below. Boxed because it recurses.
fn fib_par(n: u64, depth: u32) -> Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(async move {
        if n < 2 {
            return n;
        }
        if depth >= SPAWN_DEPTH {
            return fib_serial(n);
        }
        let a = tokio::spawn(fib_par(n - 1, depth + 1));
        let b = fib_par(n - 2, depth + 1).await;
        a.await.expect("fib task panicked") + b
    })
}

async fn fib_spawn(n: u64) -> Report {
    let start = Instant::now();
    let got = fib_par(n, 0).await;
    let elapsed = start.elapsed();
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        (a, b) = (b, a + b);
    }
    Report::new(elapsed, 1, got == a, format!("fib({n}) = {got}, want {a}"))
}

// ------------------------------------------------------------------ pingpong

/// tokio has no rendezvous channel: two mpsc channels of capacity 1.
async fn pingpong(n: u64) -> Report {
    let (ping_tx, mut ping_rx) = mpsc::channel::<u64>(1);
    let (pong_tx, mut pong_rx) = mpsc::channel::<u64>(1);
    let start = Instant::now();
    tokio::spawn(async move {
        for _ in 0..n {
            let v = ping_rx.recv().await.expect("pinger hung up");
            pong_tx.send(v + 1).await.expect("pinger hung up");
        }
    });
    let pinger = tokio::spawn(async move {
        let mut last = 0;
        for i in 0..n {
            ping_tx.send(i).await.expect("ponger hung up");
            last = pong_rx.recv().await.expect("ponger hung up");
        }
        last
    });
    let last = pinger.await.expect("pinger panicked");
    let elapsed = start.elapsed();
    Report::new(
        elapsed,
        n,
        last == n,
        format!("last reply {last}, want {n}"),
    )
}

// ------------------------------------------------------ chan_spsc, chan_mpmc

const CHAN_CAP: usize = 1024;

async fn chan_spsc(n: u64) -> Report {
    let (tx, mut rx) = mpsc::channel::<u64>(CHAN_CAP);
    let start = Instant::now();
    tokio::spawn(async move {
        for i in 0..n {
            tx.send(i).await.expect("consumer hung up");
        }
    });
    let consumer = tokio::spawn(async move {
        let mut sum = 0u64;
        while let Some(v) = rx.recv().await {
            sum += v;
        }
        sum
    });
    let sum = consumer.await.expect("consumer panicked");
    let elapsed = start.elapsed();
    let want = sum_range(n);
    Report::new(elapsed, n, sum == want, format!("sum {sum}, want {want}"))
}

/// chan_spsc between two OS threads: a producer thread sends 0..N-1 over a
/// crossbeam-channel of capacity 1024, a consumer thread sums them; this
/// (main) thread waits for both. Runs outside the Tokio runtime.
fn chan_spsc_crossbeam(n: u64) -> Report {
    let (tx, rx) = crossbeam_channel::bounded::<u64>(CHAN_CAP);
    let start = Instant::now();
    let producer = std::thread::spawn(move || {
        for i in 0..n {
            tx.send(i).expect("consumer hung up");
        }
    });
    let consumer = std::thread::spawn(move || rx.iter().sum::<u64>());
    let sum = consumer.join().expect("consumer panicked");
    let elapsed = start.elapsed();
    producer.join().expect("producer panicked");
    let want = sum_range(n);
    Report::new(elapsed, n, sum == want, format!("sum {sum}, want {want}"))
}

const MPMC_PRODUCERS: u64 = 4;
const MPMC_CONSUMERS: u64 = 4;

/// tokio has no MPMC channel: the consumers share the one mpsc Receiver
/// through an Arc<tokio::sync::Mutex<_>>, holding the lock across `recv`.
/// The channel closes when the four producers drop their Senders.
async fn chan_mpmc(n: u64) -> Report {
    let (tx, rx) = mpsc::channel::<u64>(CHAN_CAP);
    let rx = Arc::new(Mutex::new(rx));
    let (res_tx, mut res_rx) = mpsc::channel::<(u64, u64)>(MPMC_CONSUMERS as usize);
    let start = Instant::now();
    for p in 0..MPMC_PRODUCERS {
        let (lo, hi) = (p * n / MPMC_PRODUCERS, (p + 1) * n / MPMC_PRODUCERS);
        let tx = tx.clone();
        tokio::spawn(async move {
            for i in lo..hi {
                tx.send(i).await.expect("consumers hung up");
            }
        });
    }
    drop(tx);
    for _ in 0..MPMC_CONSUMERS {
        let rx = rx.clone();
        let res_tx = res_tx.clone();
        tokio::spawn(async move {
            let (mut sum, mut count) = (0u64, 0u64);
            loop {
                let v = rx.lock().await.recv().await;
                match v {
                    Some(v) => {
                        sum += v;
                        count += 1;
                    }
                    None => break,
                }
            }
            let _ = res_tx.send((sum, count)).await;
        });
    }
    drop(res_tx);
    let (mut sum, mut count) = (0u64, 0u64);
    for _ in 0..MPMC_CONSUMERS {
        let (s, c) = res_rx.recv().await.expect("a consumer died");
        sum += s;
        count += c;
    }
    let elapsed = start.elapsed();
    let want = sum_range(n);
    Report::new(
        elapsed,
        n,
        sum == want && count == n,
        format!("sum {sum} (want {want}), count {count} (want {n})"),
    )
}

// ---------------------------------------------------------------------- ring

const RING_SIZE: u64 = 503;
/// Sent once round the ring after the run so every task reports and exits.
const STOP: u64 = u64::MAX;

/// 503 tasks in a ring of mpsc channels of capacity 1 (nearest to
/// unbuffered); each receives t and sends t-1 to its right; the one that
/// receives 0 reports. Check: the hops add up to N, the winner is N mod 503.
async fn ring(n: u64) -> Report {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..RING_SIZE).map(|_| mpsc::channel::<u64>(1)).unzip();
    let (win_tx, mut win_rx) = mpsc::channel::<u64>(1);
    let (hops_tx, mut hops_rx) = mpsc::channel::<u64>(RING_SIZE as usize);
    let expected_winner = n % RING_SIZE;
    let start = Instant::now();
    for (id, mut rx) in rxs.into_iter().enumerate() {
        let id = id as u64;
        let out = txs[((id + 1) % RING_SIZE) as usize].clone();
        let win_tx = win_tx.clone();
        let hops_tx = hops_tx.clone();
        tokio::spawn(async move {
            let mut hops = 0u64;
            while let Some(t) = rx.recv().await {
                if t == STOP {
                    if id != expected_winner {
                        let _ = out.send(STOP).await;
                    }
                    break;
                } else if t == 0 {
                    let _ = win_tx.send(id).await;
                } else {
                    hops += 1;
                    out.send(t - 1).await.expect("ring broken");
                }
            }
            let _ = hops_tx.send(hops).await;
        });
    }
    txs[0].send(n).await.expect("ring broken");
    let winner = win_rx.recv().await.expect("no winner");
    let elapsed = start.elapsed();

    // Not timed: send STOP round and add up the hops.
    txs[((winner + 1) % RING_SIZE) as usize]
        .send(STOP)
        .await
        .expect("ring broken");
    let mut total = 0;
    for _ in 0..RING_SIZE {
        total += hops_rx.recv().await.expect("a ring task died");
    }
    Report::new(
        elapsed,
        n,
        total == n && winner == expected_winner,
        format!("{total} hops (want {n}), winner {winner} (want {expected_winner})"),
    )
}

// ------------------------------------------------------------------- select2

/// Two producers on their own mpsc channel of capacity 1; one consumer using
/// tokio::select! (random branch order, like Go's select) until it has N.
async fn select2(n: u64) -> Report {
    let (a_tx, mut a) = mpsc::channel::<u64>(1);
    let (b_tx, mut b) = mpsc::channel::<u64>(1);
    let half = n / 2;
    let start = Instant::now();
    tokio::spawn(async move {
        for i in 0..half {
            a_tx.send(i).await.expect("consumer hung up");
        }
    });
    tokio::spawn(async move {
        for i in half..n {
            b_tx.send(i).await.expect("consumer hung up");
        }
    });
    let consumer = tokio::spawn(async move {
        let mut sum = 0u64;
        let mut got = 0;
        while got < n {
            tokio::select! {
                Some(v) = a.recv() => sum += v,
                Some(v) = b.recv() => sum += v,
                else => break,
            }
            got += 1;
        }
        sum
    });
    let sum = consumer.await.expect("consumer panicked");
    let elapsed = start.elapsed();
    let want = sum_range(n);
    Report::new(elapsed, n, sum == want, format!("sum {sum}, want {want}"))
}

// -------------------------------------------------------------------- timers

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

async fn timers(n: u64) -> Report {
    let mut rng = SplitMix64(42);
    let sleeps: Vec<Duration> = (0..n)
        .map(|_| Duration::from_millis(1 + rng.next() % 10))
        .collect();
    let longest = sleeps.iter().copied().max().unwrap_or_default();
    let woke = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let wg = WaitGroup::new(n as usize);
    for d in sleeps {
        let wg = wg.clone();
        let woke = woke.clone();
        tokio::spawn(async move {
            tokio::time::sleep(d).await;
            woke.fetch_add(1, Ordering::Relaxed);
            wg.done();
        });
    }
    wg.wait().await;
    let elapsed = start.elapsed();
    let got = woke.load(Ordering::Relaxed);
    Report::new(
        elapsed,
        n,
        got == n && elapsed >= longest,
        format!("{got} of {n} woke after {elapsed:?} (longest sleep {longest:?})"),
    )
}

// --------------------------------------------------------------------- mutex

const MUTEX_TASKS: u64 = 1000;

/// 1000 tasks, N/1000 increments each (the first N mod 1000 do one more)
/// under a tokio::sync::Mutex, the async mutex that parks the task like Go's
/// sync.Mutex parks the goroutine.
async fn mutex(n: u64) -> Report {
    let counter = Arc::new(Mutex::new(0u64));
    let start = Instant::now();
    let wg = WaitGroup::new(MUTEX_TASKS as usize);
    for t in 0..MUTEX_TASKS {
        let k = n / MUTEX_TASKS + u64::from(t < n % MUTEX_TASKS);
        let wg = wg.clone();
        let counter = counter.clone();
        tokio::spawn(async move {
            for _ in 0..k {
                *counter.lock().await += 1;
            }
            wg.done();
        });
    }
    wg.wait().await;
    let elapsed = start.elapsed();
    let got = *counter.lock().await;
    Report::new(elapsed, n, got == n, format!("count {got}, want {n}"))
}

// --------------------------------------------------------- mutex_uncontended

/// N lock/unlock pairs of one tokio::sync::Mutex in one task, incrementing
/// the counter under it (the uncontended path only).
async fn mutex_uncontended(n: u64) -> Report {
    let counter = Mutex::new(0u64);
    let start = Instant::now();
    for _ in 0..n {
        *counter.lock().await += 1;
    }
    let elapsed = start.elapsed();
    let got = *counter.lock().await;
    Report::new(elapsed, n, got == n, format!("count {got}, want {n}"))
}

// ------------------------------------------------------------------------ wg

/// N tasks spawned into a JoinSet (Tokio's counterpart of a WaitGroup that
/// spawns, like Go's wg.Go), each adding 1 to a counter; then join them all.
async fn wg(n: u64) -> Report {
    let ran = Arc::new(AtomicU64::new(0)); // the check only
    let start = Instant::now();
    let mut set = JoinSet::new();
    for _ in 0..n {
        let ran = ran.clone();
        set.spawn(async move {
            ran.fetch_add(1, Ordering::Relaxed);
        });
    }
    let mut joined = 0u64;
    while let Some(r) = set.join_next().await {
        joined += u64::from(r.is_ok());
    }
    let elapsed = start.elapsed();
    let got = ran.load(Ordering::Relaxed);
    Report::new(
        elapsed,
        n,
        got == n && joined == n,
        format!("ran {got}, joined {joined} of {n} tasks"),
    )
}

// ------------------------------------------------------------------ park_mem

fn vm_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line["VmRSS:".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// N tasks each parked receiving on its own oneshot channel (tokio's
/// idiomatic one-value channel). RSS is read before spawning and once all N
/// are parked (each signals a WaitGroup just before awaiting; then a 50 ms
/// settle). Timed: spawn+park plus wake+exit; not the settle or RSS reads.
async fn park_mem(n: u64) -> Report {
    // The waker's handles (8 bytes a task, as the Go twin's []chan) are
    // reserved before the baseline.
    let mut wakers: Vec<oneshot::Sender<()>> = Vec::with_capacity(n as usize);
    let baseline = match vm_rss_kb() {
        Some(kb) => kb,
        None => {
            return Report::new(
                Duration::ZERO,
                n,
                false,
                "cannot read VmRSS from /proc/self/status".into(),
            )
        }
    };
    let woke = Arc::new(AtomicU64::new(0));
    let parked = WaitGroup::new(n as usize);
    let exited = WaitGroup::new(n as usize);
    let start = Instant::now();
    for _ in 0..n {
        let (tx, rx) = oneshot::channel::<()>();
        wakers.push(tx);
        let parked = parked.clone();
        let exited = exited.clone();
        let woke = woke.clone();
        tokio::spawn(async move {
            parked.done();
            if rx.await.is_ok() {
                woke.fetch_add(1, Ordering::Relaxed);
            }
            exited.done();
        });
    }
    parked.wait().await;
    let spawn_park = start.elapsed();

    tokio::time::sleep(Duration::from_millis(50)).await;
    let after = vm_rss_kb().unwrap_or(baseline);

    let wake_start = Instant::now();
    for tx in wakers {
        let _ = tx.send(());
    }
    exited.wait().await;
    let elapsed = spawn_park + wake_start.elapsed();

    let got = woke.load(Ordering::Relaxed);
    let mut r = Report::new(elapsed, n, got == n, format!("{got} of {n} woke"));
    r.rss_kb_per_task = Some((after as f64 - baseline as f64) / n as f64);
    r
}

// ---------------------------------------------------------------------- echo

/// How many loopback connections the echo workload keeps busy.
const ECHO_CONNS: u64 = 1000;

/// An echo server (one task per connection) and a load client of
/// `ECHO_CONNS` connections in the same process, each making
/// `n / ECHO_CONNS` round trips of a 64-byte message. Per round trip; each
/// round trip is also timed, for the median and 99th percentile.
async fn echo(n: u64) -> Report {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut c, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    match c.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => {
                            if c.write_all(&buf[..k]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    let per = n / ECHO_CONNS;
    let mut conns = Vec::new();
    for _ in 0..ECHO_CONNS {
        conns.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    let start = Instant::now();
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|mut c| {
            tokio::spawn(async move {
                let msg = [b'x'; 64];
                let mut back = [0u8; 64];
                let mut rtts = Vec::with_capacity(per as usize);
                for _ in 0..per {
                    let sent = Instant::now();
                    let ok =
                        c.write_all(&msg).await.is_ok() && c.read_exact(&mut back).await.is_ok();
                    if !ok || back != msg {
                        return None;
                    }
                    rtts.push(sent.elapsed());
                }
                Some(rtts)
            })
        })
        .collect();
    let mut rtts = Vec::new();
    let mut bad = 0;
    for t in tasks {
        match t.await.expect("an echo client panicked") {
            Some(mine) => rtts.extend(mine),
            None => bad += 1,
        }
    }
    let elapsed = start.elapsed();
    let mut r = Report::new(
        elapsed,
        per * ECHO_CONNS,
        bad == 0,
        format!("{bad} connections saw a wrong echo"),
    );
    if bad == 0 {
        rtts.sort_unstable();
        r.rtt = Some((percentile(&rtts, 50), percentile(&rtts, 99)));
    }
    r
}

/// The `p`th percentile of `sorted` (nearest rank).
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank - 1]
}

// ---------------------------------------------------------------------- main

const WORKLOADS: &[&str] = &[
    "spawn_join",
    "skynet",
    "yield",
    "fib_spawn",
    "pingpong",
    "chan_spsc",
    "chan_mpmc",
    "ring",
    "select2",
    "timers",
    "mutex",
    "mutex_uncontended",
    "wg",
    "park_mem",
    "echo",
    "chan_spsc_crossbeam",
    "block_on_ready",
    "notify_pingpong",
    "chan_async",
];

async fn run(workload: String, n: u64) -> Report {
    match workload.as_str() {
        "spawn_join" => spawn_join(n).await,
        "skynet" => skynet_bench(n).await,
        "yield" => yield_bench(n).await,
        "fib_spawn" => fib_spawn(n).await,
        "pingpong" => pingpong(n).await,
        "chan_spsc" => chan_spsc(n).await,
        "chan_mpmc" => chan_mpmc(n).await,
        "ring" => ring(n).await,
        "select2" => select2(n).await,
        "timers" => timers(n).await,
        "mutex" => mutex(n).await,
        "mutex_uncontended" => mutex_uncontended(n).await,
        "wg" => wg(n).await,
        "park_mem" => park_mem(n).await,
        "echo" => echo(n).await,
        "block_on_ready" => block_on_ready(n).await,
        "notify_pingpong" => notify_pingpong(n).await,
        // goro's chan_async (a Tokio task send_async -> a goroutine recv over
        // a goro channel) against what a Tokio user writes: chan_spsc's
        // tokio::sync::mpsc of capacity 1024 between two Tokio tasks.
        "chan_async" => chan_spsc(n).await,
        _ => unreachable!(), // chan_spsc_crossbeam runs without the runtime
    }
}

// ------------------------------------------------------- async bridge twins

/// goro's block_on_ready: a ready future awaited inline in a task (what
/// the bridge's fixed cost is measured against: a function call).
async fn block_on_ready(n: u64) -> Report {
    let start = Instant::now();
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(std::hint::black_box(async move { i }).await);
    }
    let want = n * (n - 1) / 2;
    Report::new(
        start.elapsed(),
        n,
        sum == want,
        format!("sum {sum}, want {want}"),
    )
}

/// goro's notify_pingpong: n tasks in pairs, 100 round trips each over two
/// Notifys. One op is one round trip.
async fn notify_pingpong(n: u64) -> Report {
    use std::sync::Arc;
    use tokio::sync::Notify;
    const TRIPS: u64 = 100;
    let pairs = (n / 2).max(1);
    let start = Instant::now();
    let mut handles = Vec::with_capacity(pairs as usize * 2);
    for _ in 0..pairs {
        let (ping, pong) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let (ping2, pong2) = (ping.clone(), pong.clone());
        handles.push(tokio::spawn(async move {
            for _ in 0..TRIPS {
                ping.notify_one();
                pong.notified().await;
            }
        }));
        handles.push(tokio::spawn(async move {
            for _ in 0..TRIPS {
                ping2.notified().await;
                pong2.notify_one();
            }
        }));
    }
    let mut ok = true;
    for h in handles {
        ok &= h.await.is_ok();
    }
    Report::new(
        start.elapsed(),
        pairs * TRIPS,
        ok,
        "a task panicked".to_string(),
    )
}

fn usage() -> ! {
    eprintln!(
        "usage: GOMAXPROCS=P tokio-peer WORKLOAD N\nworkloads: {}",
        WORKLOADS.join(" ")
    );
    std::process::exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 || !WORKLOADS.contains(&args[1].as_str()) {
        usage();
    }
    let workload = args[1].clone();
    let n: u64 = match args[2].parse() {
        Ok(n) if n > 0 => n,
        _ => usage(),
    };
    let procs = std::env::var("GOMAXPROCS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&p| p > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |p| p.get()));

    let (imp, name, report) = if workload == "chan_spsc_crossbeam" {
        ("crossbeam", "chan_spsc", chan_spsc_crossbeam(n))
    } else {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(procs)
            .enable_all()
            .build()
            .expect("cannot build the tokio runtime");
        let report = rt
            .block_on(rt.spawn(run(workload.clone(), n)))
            .expect("the workload panicked");
        ("tokio", workload.as_str(), report)
    };

    let ns = report.elapsed.as_nanos() as f64;
    let mut line = format!(
        "impl={imp} workload={name} n={n} procs={procs} ns_per_op={:.2} total_ms={:.3}",
        ns / report.ops,
        ns / 1e6
    );
    if let Some(kb) = report.rss_kb_per_task {
        line += &format!(" rss_kb_per_task={kb:.2}");
    }
    if let Some((p50, p99)) = report.rtt {
        line += &format!(
            " rtt_p50_us={:.1} rtt_p99_us={:.1}",
            p50.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6
        );
    }
    if report.ok {
        println!("{line} check=ok");
        // Skip the runtime's drop (parked leftovers, if any, are not timed anyway).
        std::process::exit(0);
    }
    println!("{line} check=FAIL");
    eprintln!("check failed: {}", report.detail);
    std::process::exit(1);
}
