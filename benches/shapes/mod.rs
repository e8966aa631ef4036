//! Program shapes (issue 20): whole small programs as users write them,
//! measured by what they cost rather than by one primitive's speed.
//!
//! The CPU shapes park their workers first (started idle, then a settle so
//! every M has gone to sleep, as in a program waiting for input) and then
//! hand them CPU bursts (`work::Work`): `gate_workers` (N workers behind one
//! gate, 200 ms of work in all), `pool_cpu` (8 workers fed N 1 ms jobs over
//! one unbuffered channel; these two also as `gate_workers_wg` and
//! `pool_cpu_wg`, their workers started with `WaitGroup::go`, Go's `wg.Go`,
//! instead of `go!`), `pipeline_cpu` (4 long-lived stages over
//! unbuffered channels, 250 µs each per item, N items) and `fanout_cpu` (8
//! long-lived workers, N rounds of one 1 ms job each, fanned out on their own
//! unbuffered channels and in on one). Their figure is wall time over the
//! ideal: the CPU work measured in-process divided by the workers that can
//! compute at once, min(P, workers) (`ideal_ratio`; 1.00 is perfect use of
//! every P), and how busy those Ps were with bursts, the bursts' summed wall
//! time over wall time times min(P, workers) (`p_busy`; 1.00 is a burst
//! running on each of them all along, 1/P is one M doing all the work). On
//! a machine that other processes keep busy, wall time follows the CPU a
//! process gets more than how it spreads, and `p_busy` is the figure that
//! still shows placement. It is goro's only: a goro burst runs on its
//! thread from start to end (no migration, no preemption without a runtime
//! call), so its wall time is time an M spent on it; a Go goroutine can be
//! preempted in the middle of a burst and wait, so the Go twin has no exact
//! counterpart and prints none. `light_reqresp` is Go by Example's stateful goroutines: 100
//! readers and 10 writers ask one owner goroutine over unbuffered channels,
//! each request with a fresh unbuffered reply channel, sleeping 1 ms between
//! requests; its figure is the process's CPU time (user+sys) per request.
//! The CPU shapes print `work_ms=W ideal_ratio=R p_busy=B`, every shape
//! `cpu_ns_per_op=C` (the Go twin: benches/go/shapes.go).

mod work;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::sync::WaitGroup;

use super::{wait_group, Outcome, EXTRA_FIELDS};
use work::Work;

/// How long parked workers are left alone before the work starts.
const SETTLE: Duration = Duration::from_millis(10);
/// `gate_workers`' CPU work in all, split evenly over its N workers.
const GATE_TOTAL: Duration = Duration::from_millis(200);
/// One job of `pool_cpu` and of `fanout_cpu`.
const JOB: Duration = Duration::from_millis(1);
/// Workers of `pool_cpu` and of `fanout_cpu`.
const WORKERS: usize = 8;
/// Stages of `pipeline_cpu`, and each one's work per item.
const STAGES: usize = 4;
const STAGE_WORK: Duration = Duration::from_micros(250);

/// The clocks a shape reads when its timed part starts.
struct Meter {
    start: Instant,
    cpu: Duration,
    work: work::Tally,
}

impl Meter {
    fn start() -> Meter {
        Meter {
            start: Instant::now(),
            cpu: work::process_cpu(),
            work: work::tally(),
        }
    }

    /// The outcome of `ops` operations since `start`, with the shape's
    /// fields: given the number of workers that can compute at once,
    /// `work_ms`, `ideal_ratio` and `p_busy`; always `cpu_ns_per_op`.
    fn finish(self, ops: usize, workers: Option<usize>, ok: bool) -> Outcome {
        let elapsed = self.start.elapsed();
        let cpu = work::process_cpu() - self.cpu;
        let work = work::tally() - self.work;
        let mut fields = String::new();
        if let Some(workers) = workers {
            let width = workers.min(goro::gomaxprocs()) as f64;
            let ideal = work.cpu.as_secs_f64() / width;
            fields = format!(
                " work_ms={:.3} ideal_ratio={:.3} p_busy={:.3}",
                work.cpu.as_secs_f64() * 1e3,
                elapsed.as_secs_f64() / ideal,
                work.wall.as_secs_f64() / (elapsed.as_secs_f64() * width)
            );
        }
        fields += &format!(" cpu_ns_per_op={:.1}", cpu.as_nanos() as f64 / ops as f64);
        let _ = EXTRA_FIELDS.set(fields);
        Outcome {
            elapsed,
            ops: ops as f64,
            ok,
        }
    }
}

/// How a shape starts its workers.
#[derive(Clone, Copy)]
pub enum Start {
    /// `go!`, as Go's `go` (goro places them near the spawner).
    Go,
    /// `WaitGroup::go`, as Go's `wg.Go` (goro spreads them over the Ps).
    WaitGroup,
}

/// Starts `f` the `start` way, counted by `wg` (which `wg.wait()` then
/// waits for).
fn start_worker(start: Start, wg: &WaitGroup, f: impl FnOnce() + Send + 'static) {
    match start {
        Start::Go => {
            wg.add(1);
            let wg = wg.clone();
            drop(goro::go!(move || {
                f();
                wg.done();
            }));
        }
        Start::WaitGroup => drop(wg.go(f)),
    }
}

/// N workers, started the `start` way, park on one gate channel; closing
/// it releases them all, and each computes `GATE_TOTAL / N`. Timed from
/// the close to the last done.
pub fn gate_workers(n: usize, start: Start) -> Outcome {
    let work = Work::calibrate();
    let burst = GATE_TOTAL / n as u32;
    let (gate_tx, gate) = goro::chan::<()>(0);
    let (ready, done) = (wait_group(n), WaitGroup::new());
    let computed = Arc::new(AtomicUsize::new(0));
    for _ in 0..n {
        let (gate, ready, computed) = (gate.clone(), ready.clone(), computed.clone());
        start_worker(start, &done, move || {
            ready.done();
            if gate.recv().is_err() {
                work.burst(burst);
                computed.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    ready.wait();
    goro::time::sleep(SETTLE);
    let meter = Meter::start();
    gate_tx.close();
    done.wait();
    meter.finish(n, Some(n), computed.load(Ordering::Relaxed) == n)
}

/// `WORKERS` workers, started the `start` way, idle on one unbuffered job
/// channel, then fed N jobs of `JOB`. Timed from the first send to the last
/// worker's exit.
pub fn pool_cpu(n: usize, start: Start) -> Outcome {
    let work = Work::calibrate();
    let (jobs_tx, jobs) = goro::chan::<usize>(0);
    let (ready, done) = (wait_group(WORKERS), WaitGroup::new());
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..WORKERS {
        let (jobs, ready, ran) = (jobs.clone(), ready.clone(), ran.clone());
        start_worker(start, &done, move || {
            ready.done();
            for _job in &jobs {
                work.burst(JOB);
                ran.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    drop(jobs);
    ready.wait();
    goro::time::sleep(SETTLE);
    let meter = Meter::start();
    for job in 0..n {
        jobs_tx.send(job).unwrap();
    }
    drop(jobs_tx);
    done.wait();
    meter.finish(n, Some(WORKERS), ran.load(Ordering::Relaxed) == n)
}

/// `STAGES` long-lived stages, each adding 1 to every item after
/// `STAGE_WORK` of CPU, chained by unbuffered channels; a feeder goroutine
/// sends the N items 0..N, this one drains the last stage. Timed from the
/// feeder's spawn to the last item out.
pub fn pipeline_cpu(n: usize) -> Outcome {
    let work = Work::calibrate();
    let (feed, mut input) = goro::chan::<u64>(0);
    let ready = wait_group(STAGES);
    for _ in 0..STAGES {
        let (tx, next) = goro::chan::<u64>(0);
        let ready = ready.clone();
        drop(goro::go!(move || {
            ready.done();
            for item in &input {
                work.burst(STAGE_WORK);
                if tx.send(item + 1).is_err() {
                    return;
                }
            }
        }));
        input = next;
    }
    ready.wait();
    goro::time::sleep(SETTLE);
    let meter = Meter::start();
    drop(goro::go!(move || {
        for item in 0..n as u64 {
            feed.send(item).unwrap();
        }
    }));
    let (count, sum) = input.iter().fold((0u64, 0u64), |(c, s), v| (c + 1, s + v));
    let n64 = n as u64;
    let ok = count == n64 && sum == n64 * (n64 - 1) / 2 + n64 * STAGES as u64;
    meter.finish(n, Some(STAGES), ok)
}

/// `WORKERS` long-lived workers, each on its own unbuffered input channel,
/// all answering on one unbuffered result channel; N rounds of one `JOB`
/// per worker (fan-out), each round collecting every answer (fan-in).
/// Timed from the first round to the last answer.
pub fn fanout_cpu(n: usize) -> Outcome {
    let work = Work::calibrate();
    let (results_tx, results) = goro::chan::<u64>(0);
    let ready = wait_group(WORKERS);
    let inputs: Vec<goro::Sender<u64>> = (0..WORKERS)
        .map(|_| {
            let (tx, input) = goro::chan::<u64>(0);
            let (results_tx, ready) = (results_tx.clone(), ready.clone());
            drop(goro::go!(move || {
                ready.done();
                for job in &input {
                    work.burst(JOB);
                    if results_tx.send(job).is_err() {
                        return;
                    }
                }
            }));
            tx
        })
        .collect();
    drop(results_tx);
    ready.wait();
    goro::time::sleep(SETTLE);
    let meter = Meter::start();
    let mut sum = 0u64;
    for round in 0..n as u64 {
        for input in &inputs {
            input.send(round).unwrap();
        }
        sum += (0..WORKERS).map(|_| results.recv().unwrap()).sum::<u64>();
    }
    let n64 = n as u64;
    meter.finish(
        n * WORKERS,
        Some(WORKERS),
        sum == WORKERS as u64 * n64 * (n64 - 1) / 2,
    )
}

/// Readers and writers of `light_reqresp` (Go by Example's 100 and 10).
const READERS: usize = 100;
const WRITERS: usize = 10;
/// Keys of the owner's state.
const KEYS: usize = 5;

/// A read request: the owner answers `state[key]` on `resp`.
struct ReadOp {
    key: usize,
    resp: goro::Sender<u64>,
}

/// A write request: the owner adds 1 to `state[key]` and answers on `resp`.
struct WriteOp {
    key: usize,
    resp: goro::Sender<()>,
}

/// Go by Example's stateful goroutines: one owner goroutine keeps the
/// state and serves read and write requests (`select!` over two unbuffered
/// channels, each request bringing a fresh unbuffered reply channel);
/// `READERS` + `WRITERS` goroutines each make N / 110 requests, sleeping
/// 1 ms after each. Timed from the clients' spawn to the last reply;
/// `cpu_ns_per_op` is the figure.
pub fn light_reqresp(n: usize) -> Outcome {
    let per = n / (READERS + WRITERS);
    let (reads_tx, reads) = goro::chan::<ReadOp>(0);
    let (writes_tx, writes) = goro::chan::<WriteOp>(0);
    let owner = goro::go!(move || {
        let mut state = [0u64; KEYS];
        loop {
            goro::select! {
                recv(reads) -> op => match op {
                    Ok(op) => { let _ = op.resp.send(state[op.key]); }
                    Err(_) => break,
                },
                recv(writes) -> op => match op {
                    Ok(op) => { state[op.key] += 1; let _ = op.resp.send(()); }
                    Err(_) => break,
                },
            }
        }
        state.iter().sum::<u64>()
    });
    let answered = Arc::new(AtomicUsize::new(0));
    let meter = Meter::start();
    let done = wait_group(READERS + WRITERS);
    for client in 0..READERS + WRITERS {
        let (reads_tx, writes_tx) = (reads_tx.clone(), writes_tx.clone());
        let (done, answered) = (done.clone(), answered.clone());
        drop(goro::go!(move || {
            for op in 0..per {
                let key = (client + op) % KEYS;
                let ok = if client < READERS {
                    let (resp, reply) = goro::chan(0);
                    reads_tx.send(ReadOp { key, resp }).is_ok() && reply.recv().is_ok()
                } else {
                    let (resp, reply) = goro::chan(0);
                    writes_tx.send(WriteOp { key, resp }).is_ok() && reply.recv().is_ok()
                };
                answered.fetch_add(usize::from(ok), Ordering::Relaxed);
                goro::time::sleep(Duration::from_millis(1));
            }
            done.done();
        }));
    }
    done.wait();
    let ops = per * (READERS + WRITERS);
    let mut outcome = meter.finish(ops, None, answered.load(Ordering::Relaxed) == ops);
    drop((reads_tx, writes_tx));
    outcome.ok &= owner.join().unwrap() == (per * WRITERS) as u64;
    outcome
}
