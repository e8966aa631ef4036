//! Deadlock detection: `fatal error: all goroutines are asleep - deadlock!`.
//!
//! Go declares a deadlock when no M runs and no timer is pending. goro
//! must be more careful: plain threads may hold channels, `Handle`s or
//! wait groups and wake a goroutine later, and goro cannot know which do.
//! The rule (checked by sysmon once every P has gone idle) is that all of
//! these hold, twice, some milliseconds apart, with nothing in the runtime
//! having run in between:
//! 1. the runtime is not shutting down, every M is idle and asleep, and no
//!    queue (global, fresh, home) holds work;
//! 2. no timer is pending, on any P or on the outside-runtime timer heap
//!    (stopped timers that have not come due yet count as pending, as in
//!    Go), and no `blocking` call is in flight;
//! 3. every started goroutine is parked, none of them in a `blocking` call
//!    or on I/O (a future poller's wake-ups come from outside);
//! 4. every thread of the process, other than sysmon and this runtime's idle
//!    `blocking` helpers, is blocked in a futex wait without timeout, with
//!    the same context-switch counts both times (`os_threads.rs`): at that
//!    moment no thread could run, so none can ever wake a goroutine (short
//!    of a signal or another process).
//!
//! Then sysmon prints the message, a blank line and the goroutine dump, and
//! exits the process with status 2, as Go does. Rule 4 is what keeps a
//! program that waits on a plain thread (sleeping, reading, or waiting with
//! a timeout) from being reported; it also means a deadlock goes unreported
//! while such a thread exists (a test harness thread waiting with a
//! timeout, for instance) — silence over a false report.
//!
//! Cost: the checks run only while the runtime is idle. Rules 1–3 read
//! counters and queue heads; rule 4 reads two `/proc` files per thread, and
//! only after rules 1–3 held for `GRACE`; when a thread keeps it from
//! holding, the next try waits twice as long, up to `MAX_BACKOFF`.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::g::wait_reason::WaitReason;
use crate::monitor::os_threads;
use crate::monitor::snapshot::{goroutines, GStatus};
use crate::sched::Sched;

/// How long rules 1–3 must hold before the threads are looked at.
const GRACE: Duration = Duration::from_millis(10);
/// Time between the two samples of rule 4.
const CONFIRM: Duration = Duration::from_millis(2);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Sysmon's deadlock watch over one idle period.
pub(crate) struct DeadlockWatch {
    /// When to look at the threads next (`None`: rules 1–3 not seen yet).
    next_try: Option<Instant>,
    backoff: Duration,
}

impl DeadlockWatch {
    pub(crate) fn new() -> DeadlockWatch {
        DeadlockWatch {
            next_try: None,
            backoff: GRACE,
        }
    }

    /// Something ran: start over.
    pub(crate) fn reset(&mut self) {
        *self = DeadlockWatch::new();
    }

    /// Called by sysmon while every P is idle. Reports a deadlock and exits
    /// if there is one; otherwise returns how long sysmon may sleep before
    /// calling again (`None`: until something wakes it).
    pub(crate) fn idle(&mut self, sched: &Sched, now: Instant) -> Option<Duration> {
        if runtime_generation(sched).is_none() {
            self.reset();
            return None;
        }
        let due = *self.next_try.get_or_insert(now + GRACE);
        if now < due {
            return Some(due - now);
        }
        if confirmed(sched) {
            report_and_exit(sched);
        }
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        self.next_try = Some(now + self.backoff);
        Some(self.backoff)
    }
}

/// Rules 1–4 hold twice, `CONFIRM` apart, with nothing run in between.
fn confirmed(sched: &Sched) -> bool {
    let mut skip = sched.blocking().helper_tids();
    skip.push(crate::sys::thread::gettid());
    let Some(generation) = runtime_generation(sched) else {
        return false;
    };
    let Some(threads) = os_threads::sample(&skip) else {
        return false;
    };
    if sched.sysmon().wait_unless_poked(CONFIRM) {
        return false;
    }
    runtime_generation(sched) == Some(generation)
        && os_threads::sample(&skip).as_ref() == Some(&threads)
}

/// If rules 1–3 hold, a number that changes whenever a goroutine runs,
/// starts or ends, or makes a `blocking` call.
fn runtime_generation(sched: &Sched) -> Option<u64> {
    if sched.is_shutting_down()
        || !sched.all_idle()
        || sched.global_queue_len() != 0
        || sched.blocking().in_flight.load(Ordering::SeqCst) != 0
        || crate::time::outside_timers_pending()
    {
        return None;
    }
    let mut generation = sched.extra_spawned();
    for w in sched.all_ms().iter() {
        let quiet = !w.is_thread_alive()
            || (w.is_sleeping()
                && w.running_goid() == 0
                && !w.has_queued_work()
                && !w.timers().is_pending());
        if !quiet {
            return None;
        }
        let (spawned, exited) = w.spawned_exited();
        generation = generation
            .wrapping_add(w.schedtick())
            .wrapping_add(spawned)
            .wrapping_add(exited)
            .wrapping_add(w.syscalltick());
    }
    let gs = goroutines(sched);
    let all_asleep = !gs.is_empty()
        && gs.iter().all(|g| match g.status {
            GStatus::Waiting(r) => !matches!(r, WaitReason::Blocking | WaitReason::IoWait),
            _ => false,
        });
    all_asleep.then_some(generation)
}

fn report_and_exit(sched: &Sched) -> ! {
    let dump = crate::monitor::dump::dump(sched, None);
    crate::sys::report::write_stderr(&format!(
        "fatal error: all goroutines are asleep - deadlock!\n\n{dump}"
    ));
    std::process::exit(2)
}
