//! What the Ms share with sysmon (`monitor/sysmon.rs`): its sleep word,
//! which an M pokes when it wakes up so that sysmon watches a busy runtime,
//! and the coarse clock `park` reads instead of the time.
//!
//! The clock is sysmon's (`timer::nanos` of its last round, within 10 ms),
//! 0 ("read the real clock") while sysmon dozes.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::sched::Sched;
use crate::sys::clock::nanos;
use crate::sys::futex;

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

    /// Sysmon, at the start of each round: sets the coarse clock.
    pub(crate) fn set_clock(&self, now: Instant) {
        self.clock.store(nanos(now), Ordering::Relaxed);
    }

    /// Sysmon, between rounds of a busy runtime: sleeps `delay`.
    pub(crate) fn nap(&self, delay: Duration) {
        futex::wait(&self.word, RUNNING, Some(delay));
    }

    /// Sysmon, while every P is idle: stops the clock and sleeps until an
    /// M pokes it or `timeout` passes (`None`: no timeout), provided
    /// `still_idle` holds once the sleep is announced (so a poke between
    /// the caller's check and the announcement is not lost).
    pub(crate) fn doze(&self, timeout: Option<Duration>, still_idle: impl FnOnce() -> bool) {
        self.clock.store(0, Ordering::Relaxed);
        self.word.store(SLEEPING, Ordering::SeqCst);
        if still_idle() {
            self.sleep_until_poked(timeout);
        }
        self.word.store(RUNNING, Ordering::SeqCst);
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
