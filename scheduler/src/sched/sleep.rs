//! The sleeper half of the sleep/wake protocol: an M's sleep word, and how
//! an M out of work goes to sleep without missing work queued meanwhile.
//!
//! ```text
//!            announce (CAS)              wake_up (swap)
//!   AWAKE ------------------> SLEEPING ----------------> NOTIFIED
//!     ^                          |                           |
//!     +------- set_awake --------+---------------------------+
//! ```
//!
//! An M out of work announces its sleep (`AWAKE -> SLEEPING`, then a SeqCst
//! fence), re-checks every queue it could serve, and only then blocks on
//! the word's futex (or in the network poller, `in_poller`) until a waker
//! swaps in `NOTIFIED` or its next timer is due. A waker (`enqueue.rs`)
//! publishes its work, then a SeqCst fence, then reads the word: if it is
//! not `AWAKE` it wakes the M. Of the two fenced sequences, one runs second
//! and sees the other's write: the waker sees `SLEEPING` and wakes the M,
//! or the sleeper's re-check sees the work and does not block. A waker that
//! comes before the announcement leaves the word `AWAKE` alone, and the
//! announcement's CAS fails on a `NOTIFIED` word, so a wake-up is never lost
//! and never makes a later sleep end early for nothing more than one
//! spurious round.
//!
//! The state is generic over its atomics (`atomics.rs`: std's, or loom's
//! in the models below), so the models explore the very code the
//! scheduler runs.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::sched::atomics::{Atomic, Atomics, Std};

pub(crate) const AWAKE: u32 = 0;
pub(crate) const SLEEPING: u32 = 1;
pub(crate) const NOTIFIED: u32 = 2;

/// An M's sleep state.
pub(crate) struct Sleeper<A: Atomics = Std> {
    /// `AWAKE`, `SLEEPING` or `NOTIFIED` (module diagram). Its M writes
    /// `SLEEPING` (CAS from `AWAKE`) and `AWAKE`; wakers swap in
    /// `NOTIFIED`. Every access is SeqCst: it is one side of the fenced pair.
    word: A::U32,
    /// Set by its M while it blocks in `epoll_wait` as the poller's blocker
    /// (`netpoll`), before it reads the word; a waker reads it after its
    /// swap, so one of the two sees the other. SeqCst.
    in_poller: A::Bool,
    /// Set by `wakep` before it wakes the M: the M is counted in
    /// `nspinning` already and wakes up as a spinning M. Cleared by the M.
    woken_spinning: A::Bool,
}

impl<A: Atomics> Sleeper<A> {
    pub(crate) fn new() -> Self {
        Sleeper {
            word: A::U32::new(AWAKE),
            in_poller: A::Bool::new(false),
            woken_spinning: A::Bool::new(false),
        }
    }

    // The waker half (callers: `enqueue.rs`, `wakep`, timers).

    /// The waker half, after the caller published work only this M may
    /// run: the fence, then whether the M must be woken.
    #[inline]
    pub(crate) fn must_wake_after_publish(&self) -> bool {
        A::fence();
        !self.is_awake()
    }

    /// Whether the M is awake (not announced asleep, not notified).
    #[inline]
    pub(crate) fn is_awake(&self) -> bool {
        self.word.load(Ordering::SeqCst) == AWAKE
    }

    /// Wakes the M if it sleeps, or keeps its next announcement from
    /// succeeding.
    pub(crate) fn wake_up(&self) {
        if self.word.swap(NOTIFIED, Ordering::SeqCst) == SLEEPING {
            if self.in_poller.load(Ordering::SeqCst) {
                A::interrupt_poller();
            } else {
                A::wake(&self.word);
            }
        }
    }

    /// `wakep`'s wake-up: the M comes back as a spinning M.
    pub(crate) fn wake_spinning(&self) {
        self.woken_spinning.store(true, Ordering::SeqCst);
        self.wake_up();
    }

    // The sleeper half (its own M only).

    /// Announces the sleep, then the fence; false if a wake-up came first
    /// (the M then does not sleep). The caller re-checks its queues next.
    pub(crate) fn announce(&self) -> bool {
        let announced = self
            .word
            .compare_exchange(AWAKE, SLEEPING, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        A::fence();
        announced
    }

    /// Whether the M sleeps (announced and not woken yet).
    pub(crate) fn is_sleeping(&self) -> bool {
        self.word.load(Ordering::SeqCst) == SLEEPING
    }

    /// Blocks until woken, or until `timeout()` (re-read after each return
    /// of the futex: an earlier timer may have been armed meanwhile, whose
    /// arming woke us) comes to zero.
    pub(crate) fn block(&self, timeout: impl Fn() -> Option<Duration>) {
        while self.is_sleeping() {
            let t = timeout();
            if t == Some(Duration::ZERO) {
                break;
            }
            A::wait(&self.word, SLEEPING, t);
        }
    }

    /// The M is awake again (woken, timed out, or its announcement failed).
    pub(crate) fn set_awake(&self) {
        self.word.store(AWAKE, Ordering::SeqCst);
    }

    /// Whether `wakep` woke it to spin (and clears that).
    pub(crate) fn take_woken_spinning(&self) -> bool {
        self.woken_spinning.swap(false, Ordering::SeqCst)
    }

    /// The M blocks in (or leaves) the network poller instead of the futex.
    pub(crate) fn set_in_poller(&self, on: bool) {
        self.in_poller.store(on, Ordering::SeqCst);
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

    /// An M's queue (one flag: work is there) and its sleep state.
    struct Target {
        work: AtomicBool,
        sleeper: Sleeper<Loom>,
    }

    /// The M's way to sleep, as `MLocal::sleep` does it: announce, re-check,
    /// block. Returns once it has seen the work.
    fn sleep_until_work(t: &Target) {
        loop {
            if t.work.load(Ordering::Relaxed) {
                return;
            }
            if t.sleeper.announce() && !t.work.load(Ordering::Relaxed) {
                t.sleeper.block(|| None);
            }
            t.sleeper.set_awake();
        }
    }

    /// An M going to sleep on its own thread, and a target for wakers.
    fn sleeping_m() -> (Arc<Target>, thread::JoinHandle<()>) {
        let t = Arc::new(Target {
            work: AtomicBool::new(false),
            sleeper: Sleeper::new(),
        });
        let m = {
            let t = t.clone();
            thread::spawn(move || sleep_until_work(&t))
        };
        (t, m)
    }

    /// The waker half: publish the work, then fence and read the word.
    fn submit(t: &Target) {
        t.work.store(true, Ordering::Relaxed);
        if t.sleeper.must_wake_after_publish() {
            t.sleeper.wake_up();
        }
    }

    /// A submit racing an M going to sleep never loses the wake-up: the
    /// submitter's fence and read (`must_wake_after_publish`) against the
    /// sleeper's announcement, fence and re-check. Work is published with a
    /// relaxed store on purpose: the fences alone must order it. (Removing
    /// either fence makes loom find the interleaving where both read stale
    /// values and the sleeper blocks forever: "deadlock" in this model.)
    #[test]
    fn a_submit_racing_an_m_going_to_sleep_wakes_it() {
        loom::model(|| {
            let (t, m) = sleeping_m();
            submit(&t);
            m.join().unwrap();
        });
    }

    /// Two wake-ups race the sleep, one of them `wakep`'s
    /// (`wake_spinning`): the M still wakes for the work. (Whether the M
    /// or a later sleep takes the spinning mark is not asserted: loom 0.7
    /// lets a `swap` read a value older than a store that happens before
    /// it, so the model would fail on a plain store-then-swap pair.)
    #[test]
    fn a_spinning_wake_up_racing_a_submit_is_not_lost() {
        loom::model(|| {
            let (t, m) = sleeping_m();
            let w = {
                let t = t.clone();
                thread::spawn(move || t.sleeper.wake_spinning())
            };
            submit(&t);
            w.join().unwrap();
            m.join().unwrap();
        });
    }
}
