//! The end of a run: the shutdown flag, the barrier every M passes before
//! any stack is unwound, and freeing every G once every M has stopped.

use std::sync::atomic::Ordering;

use crate::g::G;
use crate::sched::m::{bump, Item, MLocal};
use crate::sched::Sched;
use crate::sys::poison::Unpoisoned;

impl Sched {
    pub(crate) fn begin_shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        // Running goroutines yield at their next runtime call, so their Ms
        // reach a scheduling point and stop (`wait_for_ms_to_stop`).
        for w in self.all_ms().iter() {
            w.preempt.store(true, Ordering::Relaxed);
        }
        self.wake_all_idle();
        self.sysmon.poke();
    }

    /// Waits until every M has left its scheduler loop (each notices the
    /// shutdown at its next scheduling point), so that from here on no
    /// goroutine runs anywhere. A worker added after this looked finds the
    /// shutdown flag set before it could run anything.
    pub(crate) fn wait_for_ms_to_stop(&self) {
        let mut rounds = 0u32;
        while self
            .all_ms()
            .iter()
            .any(|w| w.scheduling.load(Ordering::Acquire))
        {
            // Usually a few microseconds (an M finishing a time slice);
            // a goroutine computing without runtime calls takes longer.
            if rounds < 100 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            rounds += 1;
        }
    }

    /// Waits until no `blocking` call is in flight (their closures may
    /// borrow goroutine stacks that shutdown is about to unwind).
    pub(crate) fn wait_for_blocking_calls(&self) {
        while self.blocking.in_flight.load(Ordering::SeqCst) != 0 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// Waits until no observer holds a parked goroutine still (`scan.rs`):
    /// holds live under the `all_gs` lock, and once the shutdown flag is
    /// set no new one is taken.
    pub(crate) fn wait_for_observers(&self) {
        drop(self.all_gs.lock_unpoisoned());
    }

    pub(crate) fn join_threads(&self) {
        loop {
            let handles = std::mem::take(&mut *self.threads.lock_unpoisoned());
            if handles.is_empty() {
                break;
            }
            for h in handles {
                let _ = h.join();
            }
        }
    }

    /// After every M stopped: unwind leftover migratory goroutines, drain
    /// the global queue and free every G, returning stacks to the pool.
    pub(crate) fn free_goroutines(&self, m0: &MLocal) {
        // From here on observers see no G (they read under this lock).
        self.all_gs.lock_unpoisoned().clear();
        let migratory = std::mem::take(&mut *self.migratory_live.lock_unpoisoned());
        for &g in &migratory {
            // No M runs any more: these Gs are alive and suspended, and M0
            // may unwind them (migratory goroutines may change thread).
            G::force_unwind(g, m0);
        }
        loop {
            match self.injector.steal() {
                crossbeam_deque::Steal::Success(Item::Fresh(t)) => t.abandon(),
                crossbeam_deque::Steal::Success(Item::Migratory(_))
                | crossbeam_deque::Steal::Retry => {}
                crossbeam_deque::Steal::Empty => break,
            }
        }
        let mut yard = std::mem::take(&mut *self.graveyard.lock_unpoisoned());
        yard.append(&mut self.spare_gs.lock_unpoisoned());
        yard.extend(migratory);
        for g in yard {
            // SAFETY: every M has stopped, so nothing refers to these Gs;
            // each was leaked from a Box exactly once.
            let g = unsafe { Box::from_raw(g.0.as_ptr()) };
            if let Some(s) = g.take_spare_stack() {
                self.stacks.release(s);
            }
        }
    }
}

/// The M's share of runtime shutdown: unwind every goroutine homed here
/// (on this thread, as their destructors expect), abandon queued tasks, and
/// hand all Gs to the runtime to free once every M has stopped.
pub(crate) fn shutdown_m(l: &MLocal) {
    // No goroutine may observe the shutdown: none runs again anywhere
    // before the first one is unwound (an unwound goroutine drops its
    // channel ends, which a goroutine still running elsewhere would see).
    l.sched.wait_for_ms_to_stop();
    l.sched.wait_for_blocking_calls();
    // Nothing may read a goroutine's stack while it is unwound below.
    l.sched.wait_for_observers();
    while let Some(item) = l.fresh.pop() {
        abandon_item(l, item);
    }
    while l.take_home().is_some() {}
    l.runnext.set(None);
    let live = std::mem::take(&mut *l.live.borrow_mut());
    let mut dead = Vec::with_capacity(live.len());
    for g in live {
        // Its state stays as it was (not DEAD): a timer entry of a sleep it
        // was unwound from may still fire during shutdown, and `ready`
        // must then find it parked, as before.
        G::force_unwind(g, l);
        bump(&l.m.exited);
        // SAFETY: the goroutine is unwound; it is ours now (see `finish`).
        dead.push(unsafe { Box::from_raw(g.0.as_ptr()) });
    }
    l.m.live.store(0, Ordering::Release);
    dead.append(&mut l.free.borrow_mut());
    l.m.gfree.store(0, Ordering::Relaxed);
    l.sched.bury(dead);
}

pub(crate) fn abandon_item(l: &MLocal, item: Item) {
    match item {
        Item::Fresh(task) => {
            task.abandon();
            bump(&l.m.exited);
            l.sched.release_reservation();
        }
        // Migratory goroutines are unwound from `migratory_live` by M0.
        Item::Migratory(_) => {}
    }
}
