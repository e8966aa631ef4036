//! Load-aware placement of new goroutines.
//!
//! A started goroutine never leaves its M (docs/soundness.md), so the P a
//! goroutine *starts* on is where it lives, and long-lived goroutines must
//! be spread when they start. Work stealing spreads bursts of fresh tasks,
//! but not a steady trickle: a server's accept loop spawns one handler per
//! connection and parks in `accept`; its M starts the handler at once (no
//! thief wakes that fast, and impatient thieves leave lone tasks alone, see
//! `GROUP_SIZE`). Every connection's goroutine would then live on the
//! acceptor's M, saturating it while the other Ps idle, and Go or Tokio,
//! which move goroutines freely, would win by a factor of GOMAXPROCS.
//!
//! So before an M starts a fresh task, if the P hosts at least [`FLOOR`]
//! started goroutines, it compares that count, every [`SAMPLE_EVERY`]th
//! start, with the count of one other active P picked at random (the
//! "power of two choices": a random sample finds a lighter P with good
//! probability at the cost of one read). If the other P hosts fewer by more
//! than an eighth of this P's count plus the other's own count up to
//! `FLOOR`, the tasks it would start until the next sample go to that P's
//! *inbox* instead, and its M is woken. (A fixed `FLOOR` there let a
//! 64-connection server keep every connection on the acceptor's P: 32
//! against 0 was within the margin; docs/design.md, "Placing long-lived
//! goroutines", has the measurements.) An inbox holds fresh tasks like a
//! fresh queue: its owner moves them into its fresh queue when it looks
//! for work, and thieves may take them, so a task handed to a P that turns
//! busy still runs wherever a P is idle.
//!
//! The decision is taken at start, not at spawn: the count of started
//! goroutines is exact then, while a burst of spawns would all be queued
//! before any of them counts. Below `FLOOR` nothing is sampled, so
//! short-lived fork-join work (spawn, finish, spawn) keeps its locality and
//! pays one relaxed load per start. Sampling reads the other P's counter
//! (a cache miss while that P starts goroutines too), hence only every
//! `SAMPLE_EVERY`th start.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::g::task::Task;
use crate::sched::m::{Item, MLocal, GROUP_SIZE, M};

/// Started goroutines a P hosts before it looks for a lighter one.
const FLOOR: u64 = 32;

/// Starts between two samples of another P's load.
const SAMPLE_EVERY: u32 = 32;

impl MLocal {
    /// Hands a fresh task this M is about to start to a lighter P (module
    /// docs); returns it when it should start here.
    pub(crate) fn keep_or_hand_off(&self, task: Task) -> Option<Task> {
        self.split_burst();
        let mine = self.m.live.load(Ordering::Relaxed);
        if mine < FLOOR {
            return Some(task);
        }
        let countdown = self.balance_countdown.get();
        if countdown > 0 {
            self.balance_countdown.set(countdown - 1);
        } else {
            self.balance_countdown.set(SAMPLE_EVERY - 1);
            self.balance_target.replace(self.sample_lighter(mine));
        }
        match &*self.balance_target.borrow() {
            Some(target) => {
                crate::sched::enqueue::hand_to(&self.sched, target, Item::Fresh(task));
                None
            }
            None => Some(task),
        }
    }

    /// A group of fresh tasks (`GROUP_SIZE` or more, with the one about to
    /// start) while another P hosts no goroutine and its M sleeps, is on
    /// its way after a wake-up, or spins: the older half goes to that P's
    /// inbox, as its thief would have stolen it. Workers that park at once (on a gate, a job channel, a
    /// WaitGroup) run for a microsecond each, far less than a thread takes
    /// to wake, so without this this M starts every one before the thief
    /// arrives, and all their later work runs on one thread.
    fn split_burst(&self) {
        let queued = self.fresh.len();
        if queued + 1 < GROUP_SIZE
            || self.sched.gomaxprocs.load(Ordering::Relaxed) < 2
            || (self.sched.idle_ms() == 0 && self.sched.spinning_ms() == 0)
        {
            return;
        }
        let target = self
            .sched
            .active_ms()
            .iter()
            .find(|m| {
                !Arc::ptr_eq(m, &self.m)
                    && m.has_p.load(Ordering::Relaxed)
                    && m.live.load(Ordering::Relaxed) == 0
                    && (!m.sleeper.is_awake() || m.is_spinning())
            })
            .cloned();
        let Some(target) = target else { return };
        for _ in 0..queued.div_ceil(2) {
            let Some(item) = self.take_oldest_fresh() else {
                break;
            };
            crate::sched::enqueue::hand_to(&self.sched, &target, item);
        }
    }

    /// One random other active P, if it is lighter by the module's margin.
    fn sample_lighter(&self, mine: u64) -> Option<Arc<M>> {
        let workers = self.sched.active_ms();
        let n = workers.len();
        if n < 2 {
            return None;
        }
        let pick = (self.random() % (n as u64 - 1)) as usize;
        let me = workers.iter().position(|w| Arc::ptr_eq(w, &self.m))?;
        let other = &workers[if pick >= me { pick + 1 } else { pick }];
        let theirs = other.live.load(Ordering::Relaxed);
        (mine > theirs + theirs.min(FLOOR) + mine / 8).then(|| other.clone())
    }
}
