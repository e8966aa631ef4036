//! sysmon: the runtime's monitor thread (Go's `sysmon`), running without a P.
//!
//! Each round it looks at every worker: a goroutine that has run for more
//! than 10 ms without returning to the scheduler (its P's `schedtick` did not
//! move) is flagged for preemption and yields at its next runtime call
//! (`go!`, `gosched`, `blocking`, channel/sync/time/net operations,
//! `preempt_point`); one still running after 1 s is reported through
//! `tracing` as an M stuck in a non-runtime call.
//!
//! It polls the network when no M has for 10 ms (every M busy, see
//! `netpoll.rs`).
//!
//! It fires timers overdue by more than a millisecond on Ps whose M is busy
//! in a long goroutine (an idle M fires its own, see `timer.rs`).
//!
//! About once a second it asks every M to trim stacks when it next goes
//! idle (see `trim.rs`), and re-reads the affinity mask and cgroup CPU
//! limit, resizing the P set when the default P count changed (unless it
//! was set explicitly or `GODEBUG=updatemaxprocs=0`; see `procs/`).
//!
//! Its sleep starts at 1 ms and doubles after each round in which it fired
//! no timer, up to 10 ms. Go's starts at 20 µs, for what goro does not do:
//! taking the P of a thread blocked in a system call (goro's `blocking`
//! hands the call to a helper thread instead). Everything sysmon does here
//! has millisecond granularity (10 ms preemption, 1 ms timer slack, 10 ms
//! netpoll staleness), and on a machine with as many busy Ms as CPUs each
//! of its wake-ups takes a slice of a busy M's CPU: at 20 µs it was a 10 µs
//! slice every 80 µs, a tenth of a core, for the first millisecond after
//! every wake-up of the runtime. When every P is idle it sleeps on a futex
//! until a worker wakes up, so an idle runtime uses no CPU (and follows a
//! CPU change when it next wakes), except for what deadlock detection
//! (`deadlock.rs`) and `GODEBUG=schedtrace` (`schedtrace.rs`), both run
//! from here, ask for.
//!
//! It keeps a coarse clock for the goroutines' park times (`park` stores it
//! instead of reading the time: one load instead of a clock read per park):
//! refreshed every round, and 0 ("read the real clock") while sysmon dozes.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::monitor::deadlock::DeadlockWatch;
use crate::monitor::schedtrace::SchedTrace;
use crate::runtime::Sched;
use crate::sched::current::{self, Current};
use crate::sys::futex;
use crate::time::nanos;

const PREEMPT_AFTER: Duration = Duration::from_millis(10);
const STUCK_AFTER: Duration = Duration::from_secs(1);
/// Sleep after a round that acted (see the module comment for why not
/// Go's 20 µs).
const MIN_DELAY: Duration = Duration::from_millis(1);
const MAX_DELAY: Duration = Duration::from_millis(10);
const TRIM_EVERY: Duration = Duration::from_secs(1);
const PROCS_EVERY: Duration = Duration::from_secs(1);
const TIMER_SLACK: Duration = Duration::from_millis(1);

const RUNNING: u32 = 0;
const SLEEPING: u32 = 1;

/// Sysmon's sleep word and clock, shared with the workers.
pub(crate) struct SysmonState {
    word: AtomicU32,
    /// The coarse clock (`timer::nanos` of the last round; 0 while dozing).
    clock: AtomicU64,
    /// Sysmon's M id, as `scheddetail` shows it.
    m_id: AtomicUsize,
}

impl SysmonState {
    pub(crate) fn new() -> SysmonState {
        SysmonState {
            word: AtomicU32::new(RUNNING),
            clock: AtomicU64::new(0),
            m_id: AtomicUsize::new(0),
        }
    }

    /// The current time in `timer::nanos`, within a sysmon round (10 ms).
    pub(crate) fn clock_nanos(&self) -> u64 {
        match self.clock.load(Ordering::Relaxed) {
            0 => nanos(Instant::now()),
            t => t,
        }
    }

    pub(crate) fn m_id(&self) -> usize {
        self.m_id.load(Ordering::Relaxed)
    }

    pub(crate) fn set_m_id(&self, id: usize) {
        self.m_id.store(id, Ordering::Relaxed);
    }

    /// Sleeps for `timeout` unless a worker pokes sysmon first; returns
    /// whether one did.
    pub(crate) fn wait_unless_poked(&self, timeout: Duration) -> bool {
        self.word.store(SLEEPING, Ordering::SeqCst);
        let poked = self.sleep_until_poked(Some(timeout));
        self.word.store(RUNNING, Ordering::SeqCst);
        poked
    }

    /// With the word set to SLEEPING: waits until a poke resets it or
    /// `timeout` passes (`None`: no timeout). Returns whether it was poked.
    fn sleep_until_poked(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if self.word.load(Ordering::SeqCst) != SLEEPING {
                return true;
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left.is_some_and(|l| l.is_zero()) {
                return false;
            }
            futex::wait(&self.word, SLEEPING, left);
        }
    }

    /// Wakes sysmon if it sleeps because everything was idle.
    pub(crate) fn poke(&self) {
        if self.word.load(Ordering::SeqCst) == SLEEPING
            && self.word.swap(RUNNING, Ordering::SeqCst) == SLEEPING
        {
            futex::wake(&self.word, 1);
        }
    }
}

impl Sched {
    pub(crate) fn sysmon_note_busy(&self) {
        self.sysmon.poke();
    }
}

/// What sysmon remembers of one worker between rounds.
struct Seen {
    tick: u64,
    goroutine: u64,
    since: Instant,
    reported: bool,
}

pub(crate) fn sysmon_main(sched: Arc<Sched>) {
    // A helper of this runtime: timer targets it fires may spawn or arm timers.
    let prev = current::set(Current::Helper(Arc::as_ptr(&sched)));
    let mut seen: Vec<Seen> = Vec::new();
    let mut delay = MIN_DELAY;
    let mut last_trim = Instant::now();
    let mut trace = SchedTrace::from_godebug();
    let mut deadlock = DeadlockWatch::new(&sched);
    let mut last_procs = Instant::now();
    while !sched.is_shutting_down() {
        let now = Instant::now();
        sched.sysmon.clock.store(nanos(now), Ordering::Relaxed);
        if let Some(t) = trace.as_mut() {
            t.tick(&sched, now);
        }
        if now.duration_since(last_procs) >= PROCS_EVERY {
            last_procs = now;
            sched.update_default_procs();
        }
        if last_trim.elapsed() >= TRIM_EVERY {
            last_trim = Instant::now();
            for w in sched.all_workers().iter() {
                w.trim_request.store(true, Ordering::Relaxed);
            }
        }
        let acted = check_workers(&sched, &mut seen) | crate::netpoll::poll_if_stale(now);
        if acted {
            delay = MIN_DELAY;
        } else {
            delay = (delay * 2).min(MAX_DELAY);
        }
        if !acted && sched.all_idle() {
            let mut timeout = deadlock.idle(&sched, now);
            if let Some(t) = &trace {
                let next = t.until_next(Instant::now());
                timeout = Some(timeout.map_or(next, |d| d.min(next)));
            }
            doze(&sched, timeout);
            delay = MIN_DELAY;
        } else {
            deadlock.reset();
            futex::wait(&sched.sysmon.word, RUNNING, Some(delay));
        }
    }
    current::set(prev);
}

/// Sleeps while every P stays idle, until a worker pokes sysmon or
/// `timeout` passes (`None`: no timeout).
fn doze(sched: &Sched, timeout: Option<Duration>) {
    let state = &sched.sysmon;
    state.clock.store(0, Ordering::Relaxed);
    state.word.store(SLEEPING, Ordering::SeqCst);
    if sched.all_idle() && !sched.is_shutting_down() {
        state.sleep_until_poked(timeout);
    }
    state.word.store(RUNNING, Ordering::SeqCst);
}

/// One round over the workers; returns whether it fired overdue timers
/// (Go's sysmon likewise stays quick only while `retake` finds work).
fn check_workers(sched: &Sched, seen: &mut Vec<Seen>) -> bool {
    let now = Instant::now();
    let mut acted = false;
    for w in sched.all_workers().iter() {
        let i = w.id;
        if seen.len() <= i {
            seen.resize_with(i + 1, || Seen {
                tick: 0,
                goroutine: 0,
                since: now,
                reported: false,
            });
        }
        if let Some(overdue) = now.checked_sub(TIMER_SLACK) {
            if w.timers.is_pending() && w.timers.is_due(overdue) {
                w.timers.run_due(now);
                acted = true;
            }
        }
        let s = &mut seen[i];
        let tick = w.schedtick.load(Ordering::Relaxed);
        let running = w.running.load(Ordering::Relaxed);
        if running == 0 || tick != s.tick || running != s.goroutine {
            *s = Seen {
                tick,
                goroutine: running,
                since: now,
                reported: false,
            };
            continue;
        }
        let ran = now.duration_since(s.since);
        if ran >= PREEMPT_AFTER {
            w.preempt.store(true, Ordering::Relaxed);
        }
        if ran >= STUCK_AFTER && !s.reported {
            s.reported = true;
            tracing::warn!(
                m = i,
                goroutine = running,
                ran_ms = ran.as_millis() as u64,
                "goro: M {i} has been running goroutine {running} for {} ms without a runtime call \
                 (a busy loop or a blocking call outside goro::blocking?)",
                ran.as_millis()
            );
        }
    }
    acted
}
