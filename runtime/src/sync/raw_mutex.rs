//! The locking algorithm behind [`Mutex`](super::Mutex): Go's sync.Mutex
//! (internal/sync/mutex.go), with the wait queue in a [`WaitList`].
//!
//! One atomic word holds `LOCKED`, `WOKEN` (a woken or spinning waiter is
//! competing, so unlock need not wake another), `STARVING` and `WAITERS`
//! (the queue is not empty). Locking is one CAS when free; when held, a
//! caller spins briefly (only with more than one P: the holder may be
//! running on another one), then queues under the queue's short [`Lock`]
//! and parks.
//!
//! **Normal mode.** Unlock clears `LOCKED` and wakes the first waiter,
//! which then competes with newcomers (who are running, so usually win: this
//! is what makes the mutex fast). A waiter that loses queues again at the
//! front, keeping its place and its wait start.
//!
//! **Starvation mode.** A waiter that has waited more than 1 ms and loses
//! again sets `STARVING`: from then on newcomers do not barge or spin but
//! queue at the back, and unlock hands ownership straight to the first
//! waiter (`LOCKED` stays set; the waiter's park returns "granted"). The
//! mutex returns to normal mode when the waiter it was handed to is the last
//! one or waited less than 1 ms. Unlock clears `LOCKED` with one atomic
//! subtraction in both modes (as Go's); while `STARVING` is set nobody else
//! can take the mutex, and the unlocker sets `LOCKED` again for the waiter
//! it hands it to.
//!
//! The word also holds [`Mutex`](super::Mutex)'s poison flag, `POISONED`,
//! which the algorithm carries along untouched. Kept there, it costs the
//! fast path nothing: the one CAS from 0 proves the mutex unpoisoned, where
//! a separate flag would be one more load after that locked instruction,
//! which the unlock's would wait on; and a guard that poisons sets it in the
//! unlock's own subtraction, so the decision is no branch before it. A
//! poisoned mutex takes the slow paths.
//!
//! `WAITERS` and `STARVING` change only under the queue lock, so a queuer
//! that saw `LOCKED` and set `WAITERS` cannot miss the unlock: the unlock
//! sees `WAITERS` left after its subtraction and takes the queue lock.
//!
//! A waiter unwound while parked (an abandoned goroutine) gives back what
//! it holds: its queue place (clearing the flags if it was the last), the
//! `WOKEN` turn (waking the next one), or ownership it was handed.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use goro_scheduler::{Lock, LockGuard};

use super::wait_list::{park_on, Queue, Unwound, Wait, WaitList, Woken};
use crate::sched::WaitReason;

const LOCKED: u32 = 1;
const WOKEN: u32 = 2;
const STARVING: u32 = 4;
const WAITERS: u32 = 8;
const POISONED: u32 = 16;

/// A waiter that waited longer than this and loses again switches the
/// mutex to starvation mode (Go's `starvationThresholdNs`).
const STARVATION: Duration = Duration::from_millis(1);
/// Spin rounds before queueing, and pause instructions per round (Go's
/// `active_spin` and `active_spin_cnt`).
const SPIN_ROUNDS: u32 = 4;
const SPIN_PAUSES: u32 = 30;

/// Parked lockers, each with the time it first queued.
type Waiters = WaitList<Instant>;

pub(crate) struct RawMutex {
    state: AtomicU32,
    queue: Lock<Waiters>,
}

impl RawMutex {
    pub(crate) const fn new() -> RawMutex {
        RawMutex {
            state: AtomicU32::new(0),
            queue: Lock::new(WaitList::new()),
        }
    }

    /// Locks, parking until it can; returns whether it is poisoned.
    #[inline]
    pub(crate) fn lock(&self) -> bool {
        match self
            .state
            .compare_exchange(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
        {
            Ok(_) => false,
            Err(_) => self.lock_slow(),
        }
    }

    /// Locks if that needs no wait (free, and not handed to a waiter);
    /// `Some(poisoned)` if it did.
    #[inline]
    pub(crate) fn try_lock(&self) -> Option<bool> {
        self.state
            .fetch_update(Ordering::Acquire, Ordering::Relaxed, |s| {
                (s & (LOCKED | STARVING) == 0).then_some(s | LOCKED)
            })
            .ok()
            .map(|s| s & POISONED != 0)
    }

    pub(crate) fn is_poisoned(&self) -> bool {
        self.state.load(Ordering::Relaxed) & POISONED != 0
    }

    /// Marks it poisoned (by its holder, as it unlocks).
    pub(crate) fn set_poisoned(&self) {
        self.state.fetch_or(POISONED, Ordering::Relaxed);
    }

    pub(crate) fn clear_poison(&self) {
        self.state.fetch_and(!POISONED, Ordering::Relaxed);
    }

    /// Unlocks.
    ///
    /// # Safety
    /// The caller holds the lock (its `lock`/`try_lock` succeeded and it has
    /// not unlocked since).
    #[inline]
    pub(crate) unsafe fn unlock(&self) {
        // SAFETY: the caller holds the lock; nothing is poisoned.
        unsafe { self.unlock_poisoning(false) }
    }

    /// Unlocks, and sets the poison flag in the same subtraction if
    /// `poison` (it subtracts `LOCKED - POISONED`, wrapping).
    ///
    /// # Safety
    /// As [`unlock`](Self::unlock); and if `poison`, the flag was clear
    /// when the caller locked (only a holder sets it, so it still is).
    #[inline]
    pub(crate) unsafe fn unlock_poisoning(&self, poison: bool) {
        let delta = LOCKED.wrapping_sub(POISONED * u32::from(poison));
        let s = self
            .state
            .fetch_sub(delta, Ordering::Release)
            .wrapping_sub(delta);
        if s != 0 {
            self.unlock_slow(s);
        }
    }

    #[cold]
    fn lock_slow(&self) -> bool {
        // Yield first if sysmon asked this goroutine to (as channel calls
        // do): a goroutine relocking a mutex in a loop would otherwise keep
        // a woken waiter homed on its own M from ever running, and so from
        // ever starting starvation mode. Only here, off the one-CAS path: a
        // mutex without waiters keeps no waiter from running.
        crate::preempt_point();
        let mut spins = 0;
        // We own the WOKEN flag: woken by an unlock, or set it spinning.
        let mut woken = false;
        let mut queued_at: Option<Instant> = None;
        loop {
            let s = self.state.load(Ordering::Relaxed);
            if s & (LOCKED | STARVING) == 0 {
                let new = if woken {
                    (s | LOCKED) & !WOKEN
                } else {
                    s | LOCKED
                };
                if self
                    .state
                    .compare_exchange_weak(s, new, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    return s & POISONED != 0;
                }
                continue;
            }
            if s & STARVING == 0 && spins < SPIN_ROUNDS && can_spin() {
                // Tell unlock not to wake another waiter while we compete.
                if !woken
                    && s & (WOKEN | WAITERS) == WAITERS
                    && self
                        .state
                        .compare_exchange_weak(s, s | WOKEN, Ordering::Relaxed, Ordering::Relaxed)
                        .is_ok()
                {
                    woken = true;
                }
                for _ in 0..SPIN_PAUSES {
                    std::hint::spin_loop();
                }
                spins += 1;
                continue;
            }
            let queue = self.queue.lock();
            let requeue = queued_at.is_some();
            let starving = queued_at.is_some_and(|t| t.elapsed() > STARVATION);
            if !self.mark_waiting(woken, starving) {
                continue; // it was unlocked meanwhile: try again
            }
            // mark_waiting gave our WOKEN turn back; parking earns a new one.
            let wait = Wait {
                data: *queued_at.get_or_insert_with(Instant::now),
                // A waiter that lost after a wake keeps its place.
                queue: if requeue { Queue::Front } else { Queue::Back },
                reason: WaitReason::SyncMutexLock,
            };
            if park_on(&self.queue, queue, |q| q, wait, || {}, |u| self.unwound(u)) {
                return self.is_poisoned(); // handed over in starvation mode
            }
            woken = true;
            spins = 0;
        }
    }

    /// With the queue locked: sets `WAITERS` (and `STARVING` if `starving`)
    /// if the mutex is still held, giving up our `WOKEN` turn. Returns false
    /// (changing nothing) if it is free or handed over, to retry instead.
    fn mark_waiting(&self, woken: bool, starving: bool) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & (LOCKED | STARVING) == 0 {
                return false;
            }
            let mut new = s | WAITERS;
            if woken {
                new &= !WOKEN;
            }
            if starving && s & LOCKED != 0 {
                new |= STARVING;
            }
            match self
                .state
                .compare_exchange_weak(s, new, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(now) => s = now,
            }
        }
    }

    /// After clearing `LOCKED`, which left the state `s`: wakes a waiter if
    /// one should compete now, or hands the mutex over in starvation mode.
    #[cold]
    fn unlock_slow(&self, s: u32) {
        // Without the queue lock when nobody needs waking: no waiters, one
        // already competing, or relocked already (Go returns here too).
        if s & STARVING == 0 && (s & (LOCKED | WOKEN) != 0 || s & WAITERS == 0) {
            return;
        }
        let mut queue = self.queue.lock();
        let s = self.state.load(Ordering::Relaxed);
        let next = if s & LOCKED != 0 {
            // Taken again before starvation mode began (or handed over by
            // another unlocker): its holder's unlock takes it from here.
            None
        } else if s & STARVING != 0 {
            self.hand_over(&mut queue)
        } else {
            self.release(&mut queue, 0)
        };
        drop(queue);
        if let Some(next) = next {
            next.wake();
        }
    }

    /// Starvation mode, with the queue locked and `LOCKED` clear (nobody can
    /// take the mutex while `STARVING` is set): gives ownership to the first
    /// waiter (setting `LOCKED` for it), leaving starvation mode if it is the
    /// last or waited less than [`STARVATION`]. With no waiter left (it was
    /// unwound), just leaves starvation mode.
    fn hand_over(&self, queue: &mut LockGuard<'_, Waiters>) -> Option<Woken<Instant>> {
        let next = queue.pop_front(true);
        let (set, clear) = match &next {
            None => (0, STARVING | WAITERS),
            Some(_) if queue.is_empty() => (LOCKED, STARVING | WAITERS),
            Some(w) if w.data.elapsed() < STARVATION => (LOCKED, STARVING),
            Some(_) => (LOCKED, 0),
        };
        let mut s = self.state.load(Ordering::Relaxed);
        while let Err(now) = self.state.compare_exchange_weak(
            s,
            (s | set) & !clear,
            Ordering::AcqRel,
            Ordering::Relaxed,
        ) {
            s = now;
        }
        next
    }

    /// Normal mode, with the queue locked: clears the `clear` bits (our
    /// `LOCKED` or `WOKEN`) and, if the mutex is then free and no waiter is
    /// already competing, takes the first waiter out to wake (setting
    /// `WOKEN`; clearing `WAITERS` if it was the last).
    fn release(&self, queue: &mut LockGuard<'_, Waiters>, clear: u32) -> Option<Woken<Instant>> {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            let mut new = s & !clear;
            let wake = new & (LOCKED | WOKEN | STARVING) == 0 && !queue.is_empty();
            if wake {
                new |= WOKEN;
                if queue.len() == 1 {
                    new &= !WAITERS;
                }
            }
            match self
                .state
                .compare_exchange_weak(s, new, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return if wake { queue.pop_front(false) } else { None },
                Err(now) => s = now,
            }
        }
    }

    /// A parked locker is being unwound: give back what it holds.
    #[cold]
    fn unwound(&self, how: Unwound) {
        match how {
            Unwound::Withdrawn => {
                let queue = self.queue.lock();
                if queue.is_empty() {
                    self.state
                        .fetch_and(!(WAITERS | STARVING), Ordering::Relaxed);
                }
            }
            // SAFETY: a granted locker owns the mutex (handed over).
            Unwound::Woken { granted: true } => unsafe { self.unlock() },
            Unwound::Woken { granted: false } => {
                let mut queue = self.queue.lock();
                let next = self.release(&mut queue, WOKEN);
                drop(queue);
                if let Some(next) = next {
                    next.wake();
                }
            }
        }
    }
}

/// Whether spinning may pay off: on a plain thread, or in a goroutine with
/// another P that may be running the holder (Go's `sync_runtime_canSpin`).
fn can_spin() -> bool {
    !goro_scheduler::in_goroutine() || goro_scheduler::gomaxprocs() > 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::UnsafeCell;
    use std::sync::Arc;

    struct Counter {
        raw: RawMutex,
        n: UnsafeCell<u64>,
    }
    // SAFETY: `n` is only touched with `raw` held.
    unsafe impl Sync for Counter {}

    /// Plain threads (the park contract blocks them on a futex), each
    /// holding the lock across a yield so that lockers queue, park, time
    /// out into starvation mode and get the lock handed over.
    #[test]
    fn threads_exclude_each_other_through_every_mode() {
        let c = Arc::new(Counter {
            raw: RawMutex::new(),
            n: UnsafeCell::new(0),
        });
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        c.raw.lock();
                        // SAFETY: we hold the lock.
                        let v = unsafe { *c.n.get() };
                        if i % 1000 == 0 {
                            std::thread::sleep(Duration::from_micros(1500));
                        }
                        // SAFETY: we still hold the lock.
                        unsafe { *c.n.get() = v + 1 };
                        // SAFETY: we hold the lock.
                        unsafe { c.raw.unlock() };
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        // SAFETY: every thread is done.
        assert_eq!(unsafe { *c.n.get() }, 80_000);
        assert_eq!(c.raw.state.load(Ordering::Relaxed), 0, "flags left set");
    }

    #[test]
    fn try_lock_fails_while_held() {
        let m = RawMutex::new();
        assert_eq!(m.try_lock(), Some(false));
        assert_eq!(m.try_lock(), None);
        // SAFETY: we hold it.
        unsafe { m.unlock() };
        assert_eq!(m.try_lock(), Some(false));
        // SAFETY: we hold it.
        unsafe { m.unlock() };
    }

    /// The poison bit rides through every path: the fast CAS fails on it,
    /// the slow path and try_lock keep and report it, unlock keeps it, and
    /// a contended poisoned mutex still excludes.
    #[test]
    fn poison_survives_locking_and_is_reported() {
        let c = Arc::new(Counter {
            raw: RawMutex::new(),
            n: UnsafeCell::new(0),
        });
        assert!(!c.raw.lock());
        c.raw.set_poisoned();
        // SAFETY: we hold it.
        unsafe { c.raw.unlock() };
        assert!(c.raw.is_poisoned());
        assert_eq!(c.raw.try_lock(), Some(true));
        // SAFETY: we hold it.
        unsafe { c.raw.unlock() };
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        assert!(c.raw.lock(), "poison lost");
                        // SAFETY: we hold the lock.
                        unsafe { *c.n.get() += 1 };
                        // SAFETY: we hold the lock.
                        unsafe { c.raw.unlock() };
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        // SAFETY: every thread is done.
        assert_eq!(unsafe { *c.n.get() }, 40_000);
        c.raw.clear_poison();
        assert!(!c.raw.lock());
        assert_eq!(
            c.raw.state.load(Ordering::Relaxed),
            LOCKED,
            "flags left set"
        );
        // SAFETY: we hold it.
        unsafe { c.raw.unlock() };
    }
}
