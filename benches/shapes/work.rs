//! CPU work for the program-shape workloads, and the clocks that measure it.
//!
//! A burst is real computation (a SplitMix64 walk whose result goes through
//! `black_box`, so the optimizer cannot drop it) sized in time: `Work::calibrate`
//! measures, on the calling thread's CPU clock and before anything is timed,
//! how many steps take a microsecond, and a burst of `d` runs that many steps
//! times `d`. Every burst also measures its own CPU time on the thread CPU
//! clock (`CLOCK_THREAD_CPUTIME_ID`) and adds it to `WORK_CPU_NS`: that sum,
//! not the requested sizes, is the "CPU work measured in-process" the
//! shapes' ideal is made of. Its wall time goes to `WORK_WALL_NS`: over a
//! run, that sum divided by the run's wall time is how many bursts were in
//! flight on average, which machine load does not hide the way it hides
//! parallelism in wall time (a burst starved by other processes is still in
//! flight on its thread, and one queued behind another on the same thread
//! is not). The clock is exact here because a started goroutine
//! never changes OS thread and a burst makes no runtime call, so nothing else
//! runs on its thread in between (goro preempts only at runtime calls). The
//! Go twin (benches/go/cpuwork.go) measures in chunks instead, because a Go
//! goroutine can be preempted and moved in the middle of a burst.
//!
//! `process_cpu` is the whole process's user+sys time (getrusage), for CPU
//! per operation.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Thread CPU nanoseconds spent in bursts so far, by every goroutine.
static WORK_CPU_NS: AtomicU64 = AtomicU64::new(0);
/// Wall-clock nanoseconds bursts have been in flight so far, summed.
static WORK_WALL_NS: AtomicU64 = AtomicU64::new(0);

/// The bursts' totals so far: their thread CPU time and their wall time.
#[derive(Clone, Copy)]
pub struct Tally {
    pub cpu: Duration,
    pub wall: Duration,
}

impl std::ops::Sub for Tally {
    type Output = Tally;
    fn sub(self, earlier: Tally) -> Tally {
        Tally {
            cpu: self.cpu - earlier.cpu,
            wall: self.wall - earlier.wall,
        }
    }
}

/// Every burst's thread CPU time and wall time so far, summed.
pub fn tally() -> Tally {
    Tally {
        cpu: Duration::from_nanos(WORK_CPU_NS.load(Ordering::Relaxed)),
        wall: Duration::from_nanos(WORK_WALL_NS.load(Ordering::Relaxed)),
    }
}

/// The calling thread's CPU time (user+sys).
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The whole process's CPU time (user+sys, every thread), from getrusage.
pub fn process_cpu() -> Duration {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: getrusage fills the whole rusage it is given when it returns
    // 0, which is checked before `assume_init`.
    let ru = unsafe {
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, ru.as_mut_ptr()), 0);
        ru.assume_init()
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// `steps` SplitMix64 steps from `seed`, folded into one value (the twins'
/// shared kernel, benches/go/cpuwork.go's `spin`).
fn spin(steps: u64, seed: u64) -> u64 {
    let mut x = seed;
    let mut acc = 0u64;
    for _ in 0..black_box(steps) {
        x = x.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        acc ^= z ^ (z >> 31);
    }
    acc
}

/// The calibrated kernel: how many steps of `spin` take one microsecond of
/// CPU on this machine.
#[derive(Clone, Copy)]
pub struct Work {
    steps_per_us: f64,
}

/// CPU time one calibration sample must reach, so clock granularity and
/// start-up noise do not matter.
const SAMPLE: Duration = Duration::from_millis(20);

impl Work {
    /// Measures the kernel's speed on the calling thread: doubles the step
    /// count until one run takes `SAMPLE`, then keeps the fastest of three
    /// runs of that size (the least disturbed). Untimed: call it before the
    /// workload starts its clock.
    pub fn calibrate() -> Work {
        let mut steps = 1u64 << 16;
        let time = |steps| {
            let start = thread_cpu();
            black_box(spin(steps, black_box(1)));
            thread_cpu() - start
        };
        while time(steps) < SAMPLE {
            steps *= 2;
        }
        let best = (0..3).map(|_| time(steps)).min().unwrap();
        Work {
            steps_per_us: steps as f64 / (best.as_nanos() as f64 / 1e3),
        }
    }

    /// Computes for about `d` of CPU time and adds the thread CPU time and
    /// the wall time it took to the tally.
    pub fn burst(self, d: Duration) {
        let steps = (d.as_nanos() as f64 / 1e3 * self.steps_per_us) as u64;
        let (start, wall) = (thread_cpu(), Instant::now());
        black_box(spin(steps, black_box(start.as_nanos() as u64)));
        let (took, wall) = (thread_cpu() - start, wall.elapsed());
        WORK_CPU_NS.fetch_add(took.as_nanos() as u64, Ordering::Relaxed);
        WORK_WALL_NS.fetch_add(wall.as_nanos() as u64, Ordering::Relaxed);
    }
}
