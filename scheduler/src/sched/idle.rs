//! Idle Ms: spinning, sleeping and waking (Go's wakep discipline).
//!
//! An M out of work first *spins* (looks for work to steal) if fewer than
//! half the busy Ps' worth of Ms already spin; then it registers in the idle
//! list, marks its futex word `SLEEPING`, re-checks every queue it could
//! serve, and sleeps. New fresh work calls `wakep`, which wakes one idle M as
//! a spinning M only when no M is spinning already: the spinner that finds
//! work wakes the next one (`resetspinning`), so parallelism ramps up
//! without a thundering herd and an idle runtime makes no system calls.
//!
//! Lost wake-ups are excluded by a Dekker pattern: a waker publishes work,
//! then a SeqCst fence, then reads the sleep word; a sleeper writes the word,
//! then a SeqCst fence, then re-checks the queues. One of them sees the other.

use std::sync::atomic::{fence, Ordering};
use std::time::{Duration, Instant};

use std::sync::Arc;

use crate::runtime::Sched;
use crate::sched::m::{MLocal, M};
use crate::sched::park::Wakeup;
use crate::sys::futex;

pub(crate) const AWAKE: u32 = 0;
pub(crate) const SLEEPING: u32 = 1;
pub(crate) const NOTIFIED: u32 = 2;

/// Steal attempts a spinning M makes before it goes to sleep.
pub(crate) const SPIN_ROUNDS: usize = 512;

/// A spinning M yields its CPU every this many rounds.
pub(crate) const YIELD_EVERY: usize = 32;

/// Spin rounds (three quarters of the spin phase, tens of microseconds)
/// during which a spinning M leaves a P's only queued task alone (see
/// `steal_from_others`): longer than Go's 3 µs, because in goro a wrong
/// steal splits a communicating pair for good.
pub(crate) const IMPATIENT_ROUNDS: usize = 384;

/// The wall-clock bound on the same phase: on a loaded machine each of
/// the spin phase's yields may give the CPU away for milliseconds, and a
/// queued task must not wait that long next to a spinning M (hundreds of
/// milliseconds were seen with four test processes on two cores).
const IMPATIENT_TIME: Duration = Duration::from_micros(200);

/// Whether a spinning M is still in its impatient phase: for
/// `IMPATIENT_ROUNDS` rounds or `IMPATIENT_TIME`, whichever ends first. The
/// clock is read once per `YIELD_EVERY` rounds (after a yield, where the
/// time goes), not every round.
pub(crate) struct Impatience {
    since: Option<Instant>,
    over: bool,
}

impl Impatience {
    pub(crate) fn new() -> Impatience {
        Impatience {
            since: None,
            over: false,
        }
    }

    /// Whether round `round` of the spin phase may steal a P's only tasks.
    pub(crate) fn is_over(&mut self, round: usize) -> bool {
        if !self.over && round.is_multiple_of(YIELD_EVERY) {
            let now = Instant::now();
            let since = *self.since.get_or_insert(now);
            self.over = now.duration_since(since) >= IMPATIENT_TIME;
        }
        self.over || round >= IMPATIENT_ROUNDS
    }
}

/// How long an idle M with parked goroutines watches its home queue before
/// sleeping (see `await_home_work`).
const HOME_WATCH: Duration = Duration::from_micros(50);

impl M {
    /// Wakes this M if it sleeps (or stops it from going to sleep).
    pub(crate) fn notify(&self) {
        if self.sleep.load(Ordering::SeqCst) != AWAKE {
            self.wake_up();
        }
    }

    /// `notify` for a worker reached through a G's `home` pointer, as a
    /// [`Wakeup`] the caller may make later (after releasing a lock).
    ///
    /// # Safety
    /// `this` comes from `Arc::as_ptr` of a live `Arc<M>` (a G's home
    /// while the G is alive and queued on it).
    pub(crate) unsafe fn notify_later(this: *const M) -> Wakeup {
        // SAFETY: guaranteed by the caller.
        let w = unsafe { &*this };
        if w.sleep.load(Ordering::SeqCst) == AWAKE {
            return Wakeup::NONE;
        }
        // SAFETY: `this` is the pointer of a live Arc (caller); taking our
        // own strong reference keeps the worker alive until the wake-up,
        // even if the runtime ends meanwhile.
        let arc = unsafe {
            Arc::increment_strong_count(this);
            Arc::from_raw(this)
        };
        Wakeup::of(arc)
    }

    pub(crate) fn wake_up(&self) {
        if self.sleep.swap(NOTIFIED, Ordering::SeqCst) == SLEEPING {
            // Read after the swap; the poller's blocker sets the flag before
            // it reads the sleep word, so one of us sees the other.
            if self.in_poller.load(Ordering::SeqCst) {
                crate::netpoll::interrupt();
            } else {
                futex::wake(&self.sleep, 1);
            }
        }
    }
}

impl std::task::Wake for M {
    fn wake(self: Arc<Self>) {
        self.wake_up();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wake_up();
    }
}

impl Sched {
    /// Wakes one idle M to steal new work, unless an M is spinning already.
    pub(crate) fn wakep(&self) {
        if self.nspinning.load(Ordering::SeqCst) != 0 {
            return;
        }
        if self.nidle.load(Ordering::SeqCst) == 0 {
            self.note_need_spinning();
            return;
        }
        if self
            .nspinning
            .compare_exchange(0, 1, Ordering::SeqCst, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        match self.pop_idle() {
            Some(w) => {
                w.woken_spinning.store(true, Ordering::SeqCst);
                w.wake_up();
            }
            None => {
                self.nspinning.fetch_sub(1, Ordering::SeqCst);
                self.note_need_spinning();
            }
        }
    }

    /// New work found no idle P to wake for it (Go's `needspinning`,
    /// shown by `schedtrace`); cleared when an M starts spinning.
    fn note_need_spinning(&self) {
        if !self.needspinning.load(Ordering::Relaxed) {
            self.needspinning.store(true, Ordering::Relaxed);
        }
    }

    /// Wakes every idle M (shutdown, stress modes, P-set changes).
    pub(crate) fn wake_all_idle(&self) {
        for w in self.all_workers().iter() {
            w.wake_up();
        }
    }

    fn pop_idle(&self) -> Option<std::sync::Arc<M>> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(w) = idle.pop() {
            w.idle.store(false, Ordering::SeqCst);
            self.nidle.fetch_sub(1, Ordering::SeqCst);
            if w.has_p.load(Ordering::SeqCst) {
                return Some(w);
            }
        }
        None
    }

    fn push_idle(&self, w: &std::sync::Arc<M>) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if !w.idle.swap(true, Ordering::SeqCst) {
            idle.push(w.clone());
            self.nidle.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn remove_idle(&self, w: &std::sync::Arc<M>) {
        if !w.idle.load(Ordering::SeqCst) {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if w.idle.swap(false, Ordering::SeqCst) {
            idle.retain(|x| !std::sync::Arc::ptr_eq(x, w));
            self.nidle.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl MLocal {
    /// Becomes a spinning M if the spinning limit allows it.
    pub(crate) fn try_start_spinning(&self) -> bool {
        if self.is_spinning() {
            return true;
        }
        let s = &self.sched;
        let busy = s
            .gomaxprocs
            .load(Ordering::Relaxed)
            .saturating_sub(s.nidle.load(Ordering::SeqCst));
        if 2 * s.nspinning.load(Ordering::SeqCst) >= busy.max(1) {
            return false;
        }
        s.nspinning.fetch_add(1, Ordering::SeqCst);
        self.set_spinning(true);
        if s.needspinning.load(Ordering::Relaxed) {
            s.needspinning.store(false, Ordering::Relaxed);
        }
        true
    }

    fn is_spinning(&self) -> bool {
        self.m.spinning.load(Ordering::Relaxed)
    }

    /// Sets this M's spinning flag (written only by this M); returns the
    /// previous value.
    fn set_spinning(&self, on: bool) -> bool {
        let was = self.is_spinning();
        if was != on {
            self.m.spinning.store(on, Ordering::Relaxed);
        }
        was
    }

    /// Stops spinning; returns true if this was the last spinning M.
    pub(crate) fn stop_spinning(&self) -> bool {
        if !self.set_spinning(false) {
            return false;
        }
        self.sched.nspinning.fetch_sub(1, Ordering::SeqCst) == 1
    }

    /// Found work while spinning: hand the spinning role on (Go's
    /// `resetspinning`), so the next piece of work gets a thief too.
    pub(crate) fn found_work(&self) {
        if self.stop_spinning() {
            self.sched.wakep();
        }
    }

    /// Whether any queue this M could serve has work (checked after
    /// announcing sleep, see the module comment).
    pub(crate) fn has_pending_work(&self) -> bool {
        let s = &self.sched;
        if s.is_shutting_down()
            || self.has_home_work()
            || self.runnext.get().is_some()
            || self.m.timers.due_now()
        {
            return true;
        }
        if !self.m.has_p.load(Ordering::SeqCst) {
            return self.m.live.load(Ordering::SeqCst) == 0;
        }
        !self.fresh.is_empty()
            || !s.injector.is_empty()
            || s.active_workers()
                .iter()
                .any(|w| !w.stealer.is_empty() || !w.inbox.is_empty())
    }

    /// Watches the home queue for a short while before sleeping, if
    /// goroutines homed here are parked. A started goroutine cannot move to
    /// the M that readies it (Go would run it there), so goroutines that
    /// talk across Ms hand off through home queues; watching turns the
    /// futex wake-up that would follow into a cache-line transfer. It costs
    /// at most `HOME_WATCH` of CPU per idle period, and nothing once every
    /// goroutine homed here has finished; it yields the CPU between checks,
    /// so on an oversubscribed machine it does not keep the waker from
    /// running. Returns whether work showed up.
    pub(crate) fn await_home_work(&self) -> bool {
        if self.m.live.load(Ordering::Relaxed) == 0 {
            return false;
        }
        let start = Instant::now();
        loop {
            for _ in 0..16 {
                if !self.m.home.is_empty() {
                    return true;
                }
                std::hint::spin_loop();
            }
            if self.sched.is_shutting_down() || start.elapsed() >= HOME_WATCH {
                return false;
            }
            // Passive spinning (Go's `osyield`): when the CPUs are
            // oversubscribed, the thread about to ready our goroutine may be
            // waiting for this very CPU.
            std::thread::yield_now();
        }
    }

    /// Sleeps until notified or until this P's next timer is due (in the
    /// network poller if goroutines wait on I/O and no other M does, see
    /// `netpoll.rs`). Returns at once if work shows up meanwhile.
    pub(crate) fn sleep(&self) {
        let w = &self.m;
        let s = &self.sched;
        s.push_idle(w);
        fence(Ordering::SeqCst);
        if w.sleep
            .compare_exchange(AWAKE, SLEEPING, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            fence(Ordering::SeqCst);
            if !self.has_pending_work() && !crate::netpoll::sleep_in_poller(w) {
                // Until woken, or until this P's next timer is due (read
                // after announcing the sleep: whoever arms an earlier timer
                // afterwards sees SLEEPING and wakes us).
                while w.sleep.load(Ordering::SeqCst) == SLEEPING {
                    let timeout = w.timers.until_next();
                    if timeout == Some(std::time::Duration::ZERO) {
                        break;
                    }
                    futex::wait(&w.sleep, SLEEPING, timeout);
                }
            }
        }
        w.sleep.store(AWAKE, Ordering::SeqCst);
        crate::netpoll::leave_standby(w);
        s.remove_idle(w);
        if w.woken_spinning.swap(false, Ordering::SeqCst) {
            // `wakep` counted us in `nspinning` already.
            if self.set_spinning(true) {
                s.nspinning.fetch_sub(1, Ordering::SeqCst);
            }
        }
        s.sysmon_note_busy();
    }
}
