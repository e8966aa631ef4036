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
//! `netpoll/poller.rs`).
//!
//! It fires timers overdue by more than a millisecond on Ps whose M is busy
//! in a long goroutine (an idle M fires its own, see `time/timers.rs`).
//!
//! About once a second it asks every M to trim stacks when it next goes
//! idle (see `sched/trim.rs`), and re-reads the affinity mask and cgroup
//! CPU limit, resizing the P set when the default P count changed (unless
//! it was set explicitly or `GODEBUG=updatemaxprocs=0`; see
//! `config/procs/`).
//!
//! Its sleep starts at 1 ms and doubles after each round in which it fired
//! no timer, up to 10 ms. Go's starts at 20 µs, for what goro does not do:
//! taking the P of a thread blocked in a system call (goro's `blocking`
//! hands the call to a helper thread instead). Everything sysmon does here
//! has millisecond granularity (10 ms preemption, 1 ms timer slack, 10 ms
//! netpoll staleness), and on a machine with as many busy Ms as CPUs each
//! of its wake-ups takes a slice of a busy M's CPU: at Go's rate that was a
//! tenth of a core after every wake-up of the runtime (docs/benchmarks.md,
//! "Why these constants"). When every P is idle it sleeps on a futex until
//! a worker wakes up, so an idle runtime uses no CPU (and follows a CPU
//! change when it next wakes), except for what deadlock detection
//! (`deadlock.rs`) and `GODEBUG=schedtrace` (`schedtrace.rs`), both run
//! from here, ask for.
//!
//! It keeps a coarse clock for the goroutines' park times (`park` stores it
//! instead of reading the time: one load instead of a clock read per park):
//! refreshed every round, and 0 ("read the real clock") while sysmon dozes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::monitor::deadlock::DeadlockWatch;
use crate::monitor::held::HeldWatch;
use crate::monitor::schedtrace::SchedTrace;
use crate::sched::current::{self, Current};
use crate::sched::Sched;

const PREEMPT_AFTER: Duration = Duration::from_millis(10);
const STUCK_AFTER: Duration = Duration::from_secs(1);
/// Sleep after a round that acted (see the module comment for why not
/// Go's 20 µs).
const MIN_DELAY: Duration = Duration::from_millis(1);
const MAX_DELAY: Duration = Duration::from_millis(10);
const TRIM_EVERY: Duration = Duration::from_secs(1);
const PROCS_EVERY: Duration = Duration::from_secs(1);
const TIMER_SLACK: Duration = Duration::from_millis(1);

/// What sysmon remembers of one worker between rounds.
struct Seen {
    tick: u64,
    goroutine: u64,
    since: Instant,
    reported: bool,
    /// The held-thread report has dealt with this slice (`held.rs`).
    held_checked: bool,
}

pub(crate) fn sysmon_main(sched: Arc<Sched>) {
    // A helper of this runtime: timer targets it fires may spawn or arm timers.
    let prev = current::set(Current::Helper(Arc::as_ptr(&sched)));
    let mut seen: Vec<Seen> = Vec::new();
    let mut delay = MIN_DELAY;
    let mut last_trim = Instant::now();
    let mut trace = SchedTrace::from_godebug();
    let mut deadlock = DeadlockWatch::new();
    let mut held = HeldWatch::from_godebug();
    let mut last_round = Instant::now();
    let mut last_procs = Instant::now();
    while !sched.is_shutting_down() {
        let now = Instant::now();
        sched.sysmon().set_clock(now);
        if let Some(t) = trace.as_mut() {
            t.tick(&sched, now);
        }
        if now.duration_since(last_procs) >= PROCS_EVERY {
            last_procs = now;
            sched.update_default_procs();
        }
        if last_trim.elapsed() >= TRIM_EVERY {
            last_trim = Instant::now();
            for w in sched.all_ms().iter() {
                w.request_trim();
            }
        }
        let acted = check_workers(&sched, &mut seen, &mut held, now - last_round)
            | crate::netpoll::poll_if_stale(now);
        last_round = now;
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
            sched.sysmon().nap(delay);
        }
    }
    held.finish();
    current::set(prev);
}

/// Sleeps while every P stays idle, until a worker pokes sysmon or
/// `timeout` passes (`None`: no timeout).
fn doze(sched: &Sched, timeout: Option<Duration>) {
    sched
        .sysmon()
        .doze(timeout, || sched.all_idle() && !sched.is_shutting_down());
}

/// One round over the workers; returns whether it fired overdue timers
/// (Go's sysmon likewise stays quick only while `retake` finds work).
fn check_workers(
    sched: &Sched,
    seen: &mut Vec<Seen>,
    held: &mut HeldWatch,
    since_last: Duration,
) -> bool {
    let now = Instant::now();
    let mut acted = false;
    // An M idle or spinning has nothing to run: its P is unused.
    let a_p_idles = sched.idle_ms() + sched.spinning_ms() > 0;
    for w in sched.all_ms().iter() {
        let i = w.id();
        if seen.len() <= i {
            seen.resize_with(i + 1, || Seen {
                tick: 0,
                goroutine: 0,
                since: now,
                reported: false,
                held_checked: false,
            });
        }
        if let Some(overdue) = now.checked_sub(TIMER_SLACK) {
            if w.timers().is_pending() && w.timers().is_due(overdue) {
                w.timers().run_due(now);
                acted = true;
            }
        }
        if a_p_idles && w.runq_len() > 0 {
            // Sampled: work queued now waited (about) since the last round.
            w.note_idle_wait(since_last);
        }
        if w.handed_work_waits() {
            // Stealable now (`steal_from_others`): an idle M takes it.
            sched.wakep();
        }
        let s = &mut seen[i];
        let tick = w.schedtick();
        let running = w.running_goid();
        if running == 0 || tick != s.tick || running != s.goroutine {
            *s = Seen {
                tick,
                goroutine: running,
                since: now,
                reported: false,
                held_checked: false,
            };
            continue;
        }
        let ran = now.duration_since(s.since);
        if ran >= PREEMPT_AFTER {
            w.request_preempt();
        }
        if !s.held_checked {
            s.held_checked = held.check(sched, w, running, ran);
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
