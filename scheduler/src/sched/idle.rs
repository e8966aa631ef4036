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

use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::time::{Duration, Instant};

use std::sync::Arc;

use crate::sched::atomics::{Atomic, Atomics, Counter, ListLock, Std};
use crate::sched::m::{bump, MLocal, M};
use crate::sched::park::{Wake, Wakeup};
use crate::sched::sleep::Sleeper;
use crate::sched::Sched;

/// Steal attempts a spinning M makes before it goes to sleep.
pub(crate) const SPIN_ROUNDS: usize = 512;

/// A spinning M yields its CPU every this many rounds.
pub(crate) const YIELD_EVERY: usize = 32;

/// The spin phase of an M whose last `SPIN_MEMORY` spins stole nothing:
/// short of the first yield.
const SHORT_SPIN_ROUNDS: usize = YIELD_EVERY - 1;

/// Spin phases after the last one that stole work during which an M
/// still makes full ones.
const SPIN_MEMORY: u32 = 8;

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

/// Idle periods after a partner on another thread last readied one of an
/// M's goroutines during which its M still watches its home queue.
const PARTNER_MEMORY: u32 = 8;

impl M {
    /// Wakes this M if it sleeps (or stops it from going to sleep); the
    /// caller has published the work and fenced (`enqueue.rs`).
    pub(crate) fn notify(&self) {
        if !self.sleeper.is_awake() {
            self.sleeper.wake_up();
        }
    }

    /// The waker half for a started goroutine queued on the M at `this`
    /// (reached through a G's `home` pointer): the fence, the read of its
    /// sleep word, and the wake-up as a [`Wakeup`] the caller may make
    /// later (after releasing a lock).
    ///
    /// # Safety
    /// `this` comes from `Arc::as_ptr` of a live `Arc<M>` (a G's home
    /// while the G is alive and queued on it).
    pub(crate) unsafe fn notify_later(this: *const M) -> Wakeup {
        // SAFETY: guaranteed by the caller.
        let m = unsafe { &*this };
        if !m.sleeper.must_wake_after_publish() {
            return Wakeup::NONE;
        }
        // SAFETY: `this` is the pointer of a live Arc (caller); taking our
        // own strong reference keeps the M alive until the wake-up, even if
        // the runtime ends meanwhile.
        let arc = unsafe {
            Arc::increment_strong_count(this);
            Arc::from_raw(this)
        };
        Wakeup::of(arc)
    }

    pub(crate) fn wake_up(&self) {
        self.sleeper.wake_up();
    }
}

/// What a postponed wake-up (`Wakeup::of`) calls.
impl std::task::Wake for M {
    fn wake(self: Arc<Self>) {
        Wake::wake(&*self);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        Wake::wake(&**self);
    }
}

impl Wake for M {
    fn wake(&self) {
        self.wake_up();
    }
}

/// An M as the idle list sees it.
pub(crate) trait IdleM<A: Atomics>: Clone {
    /// Whether it is in the idle list: written under the list's lock,
    /// read outside it by the M itself (a fast path out of `remove`).
    fn listed(&self) -> &A::Bool;
    /// Whether it still holds a P (one that lost it is not woken for work).
    fn has_p(&self) -> bool;
    /// Its sleep state.
    fn sleeper(&self) -> &Sleeper<A>;
    /// Whether two handles are the same M.
    fn same(&self, other: &Self) -> bool;
}

impl IdleM<Std> for Arc<M> {
    fn listed(&self) -> &AtomicBool {
        &self.idle
    }
    fn has_p(&self) -> bool {
        self.has_p.load(Ordering::SeqCst)
    }
    fn sleeper(&self) -> &Sleeper {
        &self.sleeper
    }
    fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(self, other)
    }
}

/// The idle and spinning Ms of a run (Go's `sched.pidle`, `npidle`,
/// `nmspinning` and `needspinning`). Every count is SeqCst: `nidle` and
/// `nspinning` are read by wakers after their fence (the waker half in
/// `enqueue.rs`) and written by Ms before theirs (the sleeper half in
/// `sleep.rs`).
pub(crate) struct Idle<T, A: Atomics = Std> {
    /// Spinning Ms, plus Ms woken by `wakep` to spin that have not started
    /// yet. Incremented by an M starting to spin and by `wakep` (CAS from
    /// 0); decremented by an M that stops.
    nspinning: A::Usize,
    /// Work was queued while no P was idle (shown by `schedtrace`); set by
    /// wakers, cleared by an M starting to spin. Relaxed: a hint.
    needspinning: A::Bool,
    /// The length of `list`, readable without its lock.
    nidle: A::Usize,
    /// Ms that announced they are going to sleep, newest last.
    list: A::Lock<Vec<T>>,
}

impl<T: IdleM<A>, A: Atomics> Idle<T, A> {
    pub(crate) fn new() -> Self {
        Idle {
            nspinning: A::Usize::new(0),
            needspinning: A::Bool::new(false),
            nidle: A::Usize::new(0),
            list: A::Lock::new(Vec::new()),
        }
    }

    /// Wakes one idle M to steal new work, unless an M is spinning already
    /// (Go's `wakep`). The caller published the work and fenced.
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
        match self.pop() {
            Some(m) => m.sleeper().wake_spinning(),
            None => {
                self.nspinning.fetch_sub(1, Ordering::SeqCst);
                self.note_need_spinning();
            }
        }
    }

    /// Spinning Ms now (`schedtrace`'s `spinningthreads`).
    pub(crate) fn spinning_ms(&self) -> usize {
        self.nspinning.load(Ordering::Relaxed)
    }

    /// Idle Ms now.
    pub(crate) fn idle_ms(&self) -> usize {
        self.nidle.load(Ordering::SeqCst)
    }

    /// Whether work was queued while no P was idle (Go's `needspinning`).
    pub(crate) fn needs_spinning(&self) -> bool {
        self.needspinning.load(Ordering::Relaxed)
    }

    /// New work found no idle P to wake for it; cleared when an M starts
    /// spinning.
    fn note_need_spinning(&self) {
        if !self.needspinning.load(Ordering::Relaxed) {
            self.needspinning.store(true, Ordering::Relaxed);
        }
    }

    /// Counts a new spinning M if fewer than half of the `busy` Ps' worth
    /// spin already; returns whether it did.
    pub(crate) fn try_count_spinner(&self, gomaxprocs: usize) -> bool {
        let busy = gomaxprocs.saturating_sub(self.nidle.load(Ordering::SeqCst));
        if 2 * self.nspinning.load(Ordering::SeqCst) >= busy.max(1) {
            return false;
        }
        self.nspinning.fetch_add(1, Ordering::SeqCst);
        if self.needspinning.load(Ordering::Relaxed) {
            self.needspinning.store(false, Ordering::Relaxed);
        }
        true
    }

    /// A spinning M stops (or one `wakep` counted comes back already
    /// spinning); returns whether it was the last.
    pub(crate) fn uncount_spinner(&self) -> bool {
        self.nspinning.fetch_sub(1, Ordering::SeqCst) == 1
    }

    fn pop(&self) -> Option<T> {
        self.list.with(|list| {
            while let Some(m) = list.pop() {
                m.listed().store(false, Ordering::SeqCst);
                self.nidle.fetch_sub(1, Ordering::SeqCst);
                if m.has_p() {
                    return Some(m);
                }
            }
            None
        })
    }

    /// Registers `m` as idle (it is about to announce its sleep).
    pub(crate) fn push(&self, m: &T) {
        self.list.with(|list| {
            if !m.listed().swap(true, Ordering::SeqCst) {
                list.push(m.clone());
                self.nidle.fetch_add(1, Ordering::SeqCst);
            }
        });
    }

    /// Takes `m` off the list (it woke up), unless `wakep` did.
    pub(crate) fn remove(&self, m: &T) {
        if !m.listed().load(Ordering::SeqCst) {
            return;
        }
        self.list.with(|list| {
            if m.listed().swap(false, Ordering::SeqCst) {
                list.retain(|x| !x.same(m));
                self.nidle.fetch_sub(1, Ordering::SeqCst);
            }
        });
    }
}

impl Sched {
    /// Wakes one idle M for new work (see [`Idle::wakep`]).
    #[inline]
    pub(crate) fn wakep(&self) {
        self.idle.wakep();
    }

    /// Spinning Ms now.
    pub(crate) fn spinning_ms(&self) -> usize {
        self.idle.spinning_ms()
    }

    /// Idle Ms now.
    pub(crate) fn idle_ms(&self) -> usize {
        self.idle.idle_ms()
    }

    /// Whether work was queued while no P was idle.
    pub(crate) fn needs_spinning(&self) -> bool {
        self.idle.needs_spinning()
    }

    /// Wakes every idle M (shutdown, stress modes, P-set changes).
    pub(crate) fn wake_all_idle(&self) {
        for w in self.all_ms().iter() {
            w.wake_up();
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
        if !s
            .idle
            .try_count_spinner(s.gomaxprocs.load(Ordering::Relaxed))
        {
            return false;
        }
        self.set_spinning(true);
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
        self.sched.idle.uncount_spinner()
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
            || s.active_ms()
                .iter()
                .any(|w| !w.stealer.is_empty() || (!w.inbox.is_empty() && self.may_take_inbox(w)))
    }

    /// Whether this M may take tasks from `w`'s inbox: its own, or another
    /// M's while that M runs a goroutine (see `steal_from_others`).
    pub(crate) fn may_take_inbox(&self, w: &M) -> bool {
        std::ptr::eq(w, &*self.m) || w.running.load(Ordering::Relaxed) != 0
    }

    /// Whether another M with a P is awake (running a goroutine or looking
    /// for one): only then can a goroutine on another M spawn work to
    /// steal or ready one homed here.
    pub(crate) fn others_awake(&self) -> bool {
        let s = &self.sched;
        s.gomaxprocs
            .load(Ordering::Relaxed)
            .saturating_sub(s.idle.idle_ms())
            > 1
    }

    /// How many rounds the spin phase about to start makes: all of
    /// `SPIN_ROUNDS` while another M is awake and one of the last
    /// `SPIN_MEMORY` spin phases stole work; else a short look without
    /// yielding (Go's spin is about that long). A long spin pays off for
    /// spawn bursts (a thief that sleeps would need a futex wake-up per
    /// burst), and costs when nothing is ever spawned: the CPU it holds
    /// looks busy to the kernel, which then queues other threads' wake-ups
    /// (a client of ours, say) behind it, for milliseconds.
    pub(crate) fn spin_rounds(&self) -> usize {
        if !self.others_awake() {
            // Nobody spawns work to steal (a spawn from outside the
            // runtime wakes an M): one look, then sleep.
            1
        } else if self.spin_credit.get() > 0 || self.has_pending_work() {
            // (Queued work a short spin would be too patient to steal, see
            // `Impatience`, must not leave this M looping without sleeping.)
            bump(&self.m.full_spins);
            SPIN_ROUNDS
        } else {
            SHORT_SPIN_ROUNDS
        }
    }

    /// Records whether the spin phase just ended stole work.
    pub(crate) fn spin_paid_off(&self, stole: bool) {
        let credit = if stole {
            SPIN_MEMORY
        } else {
            self.spin_credit.get().saturating_sub(1)
        };
        self.spin_credit.set(credit);
    }

    /// Whether a goroutine homed here is likely to be readied by another
    /// thread within `HOME_WATCH`: goroutines parked here wait for
    /// partners (not only for I/O or their timers), and goroutines on other
    /// Ms readied goroutines of this M during one of the last
    /// `PARTNER_MEMORY` idle periods. Whether another M is awake does not
    /// matter (the partner may be on an M this one has just woken).
    /// Network readiness found by another M's poller does not count: it
    /// comes when the peer process gets a CPU, and a watch that holds this
    /// one keeps the peer waiting (the kernel sees the CPU busy and queues
    /// the peer's wake-up behind it: redis-benchmark's p99 at 50 clients
    /// was 2-4 ms with the watch, 0.4-1.0 ms without, see `docs/kv.md`).
    fn partners_likely(&self) -> bool {
        let credit = if self.m.partner_readied.swap(false, Ordering::Relaxed) {
            PARTNER_MEMORY
        } else {
            self.partner_credit.get().saturating_sub(1)
        };
        self.partner_credit.set(credit);
        credit > 0 && self.m.live.load(Ordering::Relaxed) > self.quiet_parked.get() as u64
    }

    /// Watches the home queue for a short while before sleeping, if
    /// goroutines homed here wait for partners that may be running
    /// (`partners_likely`). A started goroutine cannot move to
    /// the M that readies it (Go would run it there), so goroutines that
    /// talk across Ms hand off through home queues; watching turns the
    /// futex wake-up that would follow into a cache-line transfer. It costs
    /// at most `HOME_WATCH` of CPU per idle period, and nothing while no
    /// partner is likely; it yields the CPU between checks,
    /// so on an oversubscribed machine it does not keep the waker from
    /// running. Returns whether work showed up.
    pub(crate) fn await_home_work(&self) -> bool {
        if !self.partners_likely() {
            return false;
        }
        bump(&self.m.home_watches);
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
    /// `netpoll`). Returns at once if work shows up meanwhile: the sleeper
    /// half of the protocol in `sleep.rs`, with the idle list (`wakep`'s
    /// half of it) registered first.
    pub(crate) fn sleep(&self) {
        let w = &self.m;
        let s = &self.sched;
        s.idle.push(w);
        fence(Ordering::SeqCst);
        let me: Arc<dyn Wake + Send + Sync> = w.clone();
        if w.sleeper.announce()
            && !self.has_pending_work()
            && !crate::netpoll::sleep_in_poller(&me, &w.sleeper, || w.timers.until_next())
        {
            // Until woken, or until this P's next timer is due (read after
            // announcing the sleep: whoever arms an earlier timer afterwards
            // sees SLEEPING and wakes us).
            w.sleeper.block(|| w.timers.until_next());
        }
        w.sleeper.set_awake();
        crate::netpoll::leave_standby(&*me);
        s.idle.remove(w);
        if w.sleeper.take_woken_spinning() {
            // `wakep` counted us in `nspinning` already.
            if self.set_spinning(true) {
                s.idle.uncount_spinner();
            }
        }
        s.sysmon_note_busy();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use loom::sync::atomic::AtomicBool;
    use loom::sync::Arc;
    use loom::thread;

    use super::*;
    use crate::sched::atomics::model::Loom;

    /// An M as the model's idle list sees it.
    struct ModelM {
        listed: AtomicBool,
        sleeper: Sleeper<Loom>,
    }

    impl IdleM<Loom> for Arc<ModelM> {
        fn listed(&self) -> &AtomicBool {
            &self.listed
        }
        fn has_p(&self) -> bool {
            true
        }
        fn sleeper(&self) -> &Sleeper<Loom> {
            &self.sleeper
        }
        fn same(&self, other: &Self) -> bool {
            Arc::ptr_eq(self, other)
        }
    }

    /// New work any M may take races the only M going to sleep: the
    /// submitter publishes (relaxed on purpose: the fences must order it),
    /// fences and calls `wakep`; the M registers as idle, announces its
    /// sleep, re-checks and blocks, as `MLocal::sleep` does. Whatever the
    /// interleaving, either `wakep` finds the M in the idle list and wakes
    /// it, or the M's re-check sees the work. (Removing the submitter's
    /// fence, or the re-check, makes loom find an interleaving where the M
    /// blocks forever: "deadlock".)
    #[test]
    fn a_submit_racing_the_last_m_going_idle_is_not_lost() {
        loom::model(|| {
            let idle: Arc<Idle<Arc<ModelM>, Loom>> = Arc::new(Idle::new());
            let work = Arc::new(AtomicBool::new(false));
            let m = Arc::new(ModelM {
                listed: AtomicBool::new(false),
                sleeper: Sleeper::new(),
            });
            let thread = {
                let (idle, work, m) = (idle.clone(), work.clone(), m.clone());
                thread::spawn(move || {
                    while !work.load(Ordering::Relaxed) {
                        idle.push(&m);
                        Loom::fence();
                        if m.sleeper.announce() && !work.load(Ordering::Relaxed) {
                            m.sleeper.block(|| None);
                        }
                        m.sleeper.set_awake();
                        idle.remove(&m);
                        if m.sleeper.take_woken_spinning() {
                            // Woken to spin: it would find the work and
                            // stop spinning.
                            idle.uncount_spinner();
                        }
                    }
                })
            };
            work.store(true, Ordering::Relaxed);
            Loom::fence();
            idle.wakep();
            thread.join().unwrap();
        });
    }
}
