//! The scheduler loop every M runs (Go's `schedule` / `findRunnable`).
//!
//! Order of the search, per round:
//! 1. `runnext` (a G readied by the previous one; it inherits the slice),
//!    except that after 16 such hand-offs in a row a task from the local
//!    fresh queue runs first: a ping-pong pair must not leave new
//!    goroutines to thieves, since once stolen they never come back.
//! 2. Every 61st tick, one task from the global queue first, so two
//!    goroutines respawning each other cannot starve it (Go's rule).
//! 3. The home queue (started goroutines readied from elsewhere) and the
//!    local fresh queue (newest first: fork-join work runs depth-first, hot
//!    in cache and with few live stacks, while thieves take the oldest; every
//!    61st tick the owner takes its oldest task too, so none starves),
//!    alternating which goes first each tick, so neither
//!    starves the other; right after a `gosched` fresh work goes first, so
//!    a yielding goroutine lets everything queued run before it again.
//! 4. A batch from the global queue.
//! 5. Stealing half of another P's fresh queue, and running other Ps' due
//!    timers (spinning Ms only; a long spin only while another M is awake
//!    and recent spins found work, see `MLocal::spin_rounds`).
//! 6. While goroutines homed here wait for partners on other threads that
//!    readied them lately, watch the home queue for a few microseconds (a
//!    partner is likely to ready one soon; see `MLocal::partners_likely`).
//! 7. Sleep (see `idle.rs`) until woken or until this P's next timer.
//!
//! Between 4 and 5, while goroutines wait on I/O, the network poller is
//! polled without blocking (`netpoll/poller.rs`); what it readies goes to the
//! goroutines' home queues, so the round starts over.
//!
//! Each round starts by firing this P's due timers (`time/timers.rs`).
//!
//! A worker without a P (retiring) only does 1 and 3 (home queue) and exits
//! once no goroutine is homed on it.

use std::ptr::NonNull;
use std::sync::atomic::Ordering;

use crate::g::state::LetGo;
use crate::g::task::Task;
use crate::g::{GRef, Yield, DEAD, G, RUNNABLE, RUNNING};
use crate::sched::enqueue::make_runnable;
use crate::sched::m::{bump, unbump, Item, MLocal};
use crate::sys::poison::Unpoisoned;
use crate::trace::{self, RunEnd};

enum Work {
    G(GRef, bool),
    Item(Item),
}

const GLOBAL_QUEUE_EVERY: u64 = 61;

/// Consecutive `runnext` hand-offs after which a queued fresh task runs.
const RUNNEXT_STREAK: u32 = 16;

/// Runs goroutines until the runtime shuts down or this worker retires.
pub(crate) fn schedule_loop(l: &MLocal) {
    run_until_stopped(l);
    l.m.scheduling.store(false, Ordering::Release);
}

fn run_until_stopped(l: &MLocal) {
    while let Some(work) = find_runnable(l) {
        match work {
            Work::G(g, inherit) => run(l, g, inherit),
            Work::Item(Item::Fresh(task)) => {
                let Some(task) = l.keep_or_hand_off(task) else {
                    continue;
                };
                let g = start(l, task);
                run(l, g, false);
            }
            Work::Item(Item::Migratory(g)) => {
                // SAFETY: a queued G is alive; we are now its M.
                unsafe { g.get() }
                    .home
                    .store(l.m_ptr() as *mut _, Ordering::Release);
                run(l, g, false);
            }
        }
    }
}

fn find_runnable(l: &MLocal) -> Option<Work> {
    loop {
        if l.sched.is_shutting_down() {
            l.stop_spinning();
            return None;
        }
        l.m.timers.run_if_due();
        if let Some(w) = local_work(l) {
            l.found_work();
            return Some(w);
        }
        if crate::netpoll::poll_ready() > 0 {
            continue;
        }
        let has_p = l.m.has_p.load(Ordering::Acquire);
        if !has_p {
            l.give_up_fresh_work();
            if l.m.live.load(Ordering::Acquire) == 0
                && l.runnext.get().is_none()
                && !l.has_home_work()
            {
                return None;
            }
        } else if l.try_start_spinning() {
            let mut impatient = crate::sched::idle::Impatience::new();
            let rounds = l.spin_rounds();
            for round in 0..rounds {
                // Other Ps' timers once per yield period, not every round
                // (it walks the P list under its lock, as stealing does).
                if round % crate::sched::idle::YIELD_EVERY == 0 {
                    l.run_others_timers();
                }
                if l.runnext.get().is_some() || l.m.timers.due_now() {
                    break;
                }
                let patient = impatient.is_over(round);
                if let Some(item) = l
                    .take_inbox()
                    .or_else(|| l.steal_from_others(patient))
                    .or_else(|| l.take_global())
                {
                    l.spin_paid_off(true);
                    l.found_work();
                    return Some(Work::Item(item));
                }
                if let Some(g) = l.take_home() {
                    l.found_work();
                    return Some(Work::G(g, false));
                }
                if round % crate::sched::idle::YIELD_EVERY == crate::sched::idle::YIELD_EVERY - 1 {
                    // Give the CPU to a runnable thread, if any (see
                    // `await_home_work`).
                    std::thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
            }
            l.spin_paid_off(false);
            if l.stop_spinning() && l.has_pending_work() {
                continue;
            }
        }
        if l.await_home_work() {
            continue;
        }
        crate::sched::trim::trim_idle_stacks(l);
        l.sleep();
    }
}

fn local_work(l: &MLocal) -> Option<Work> {
    if let Some(g) = l.runnext.take() {
        let streak = l.runnext_streak.get();
        if streak < RUNNEXT_STREAK || l.fresh.is_empty() {
            l.runnext_streak.set(streak + 1);
            return Some(Work::G(g, true));
        }
        // A pair handing off through runnext would starve this P's fresh
        // queue until a thief takes it, splitting goroutines that likely
        // talk to the pair across Ms for good: start one here first.
        l.runnext.set(Some(g));
        l.runnext_streak.set(0);
        if let Some(item) = l.fresh.pop() {
            return Some(Work::Item(item));
        }
    }
    l.runnext_streak.set(0);
    let tick = l.tick.get();
    let has_p = l.m.has_p.load(Ordering::Relaxed);
    if has_p && tick.is_multiple_of(GLOBAL_QUEUE_EVERY) {
        if let crossbeam_deque::Steal::Success(item) = l.sched.injector.steal() {
            return Some(Work::Item(item));
        }
    }
    let fresh = || {
        if !has_p {
            return None;
        }
        let oldest_first = tick % GLOBAL_QUEUE_EVERY == GLOBAL_QUEUE_EVERY / 2;
        let own = if oldest_first {
            l.take_oldest_fresh().or_else(|| l.fresh.pop())
        } else {
            l.fresh.pop()
        };
        own.or_else(|| l.take_inbox()).or_else(|| l.take_global())
    };
    if tick.is_multiple_of(2) && !l.prefer_fresh.replace(false) && !draining(l) {
        l.take_home()
            .map(|g| Work::G(g, false))
            .or_else(|| fresh().map(Work::Item))
    } else {
        fresh()
            .map(Work::Item)
            .or_else(|| l.take_home().map(|g| Work::G(g, false)))
    }
}

/// Whether a spawner's back-pressure yield (`spawn::SPAWN_BACKLOG`) still
/// has fresh work run first: until half the backlog is done.
fn draining(l: &MLocal) -> bool {
    if !l.drain_fresh.get() {
        return false;
    }
    let more = l.fresh.len() > crate::sched::spawn::SPAWN_BACKLOG / 2;
    l.drain_fresh.set(more);
    more
}

/// Creates the G for a fresh task on this M: an idle G and its stack from
/// this P's free list when one fits, else a new one.
pub(crate) fn start(l: &MLocal, task: Task) -> GRef {
    let size = l.sched.stacks.rounded_size(task.info().stack_size());
    let g = l
        .pop_free()
        .or_else(|| l.sched.take_spare_g())
        .unwrap_or_else(|| l.sched.new_g());
    let stack = match g.take_spare_stack() {
        Some(s) if s.usable_size() == size => s,
        other => {
            if let Some(s) = other {
                l.sched.stacks.release(s);
            }
            match l.sched.stacks.alloc(size) {
                Ok(s) => s,
                Err(e) => crate::sys::report::fatal(format_args!(
                    "cannot allocate a stack for goroutine {}: {e}",
                    task.info().id
                )),
            }
        }
    };
    let gref = GRef(NonNull::from(Box::leak(g)));
    G::prepare(gref, task, stack, l.m_ptr());
    track_live(l, gref);
    gref
}

fn track_live(l: &MLocal, g: GRef) {
    // SAFETY: `g` was just prepared by this M.
    let gr = unsafe { g.get() };
    if gr.migratory.get() {
        l.sched.migratory_live.lock_unpoisoned().push(g);
        return;
    }
    let mut live = l.live.borrow_mut();
    gr.live_index.set(live.len());
    live.push(g);
    bump(&l.m.live);
}

fn untrack_live(l: &MLocal, g: GRef) {
    // SAFETY: `g` finished on this M and is alive until recycled below.
    let gr = unsafe { g.get() };
    if gr.migratory.get() {
        let mut m = l.sched.migratory_live.lock_unpoisoned();
        if let Some(i) = m.iter().position(|x| *x == g) {
            m.swap_remove(i);
        }
        return;
    }
    let mut live = l.live.borrow_mut();
    let i = gr.live_index.get();
    live.swap_remove(i);
    if let Some(moved) = live.get(i) {
        // SAFETY: every G in the live list is alive.
        unsafe { moved.get() }.live_index.set(i);
    }
    unbump(&l.m.live);
}

fn run(l: &MLocal, g: GRef, inherit: bool) {
    if !inherit {
        l.tick.set(l.tick.get() + 1);
        bump(&l.m.schedtick);
    }
    l.m.preempt.store(false, Ordering::Relaxed);
    l.spawn_streak.set(0);
    // SAFETY: a runnable G is alive and homed on this M.
    let gr = unsafe { g.get() };
    l.current.set(Some(g));
    gr.trimmed.set(false);
    l.m.running.store(gr.id(), Ordering::Relaxed);
    gr.state.set(RUNNING);
    let goid = gr.id();
    let start = trace::run_begin(l.trace.as_ref());
    let outcome = gr.resume(l);
    l.current.set(None);
    l.m.running.store(0, Ordering::Relaxed);
    let end = match outcome {
        Some(Yield::Park) => RunEnd::Park,
        Some(Yield::Gosched) => RunEnd::Yield,
        None => RunEnd::Exit,
    };
    trace::run_end(l.trace.as_ref(), goid, start, end);
    match outcome {
        Some(Yield::Park) => match gr.state.after_switch() {
            Ok(LetGo::Parked) => {
                gr.with_bubble(|b| b.parked(gr));
            }
            // Woken before it got off the CPU: runnable right away.
            // SAFETY: the state machine left queuing it to this M.
            Ok(LetGo::Runnable) => drop(unsafe { make_runnable(g, Some(l), true) }),
            Err(s) => {
                crate::sys::report::fatal(format_args!("goroutine {} parked in state {s}", gr.id()))
            }
        },
        Some(Yield::Gosched) => {
            gr.state.set(RUNNABLE);
            // SAFETY: it yielded on this M, which alone may queue it now.
            drop(unsafe { make_runnable(g, Some(l), false) });
            // A yielding goroutine gives way to queued fresh work too.
            l.prefer_fresh.set(true);
        }
        None => finish(l, g),
    }
}

fn finish(l: &MLocal, g: GRef) {
    untrack_live(l, g);
    // SAFETY: the G finished on this M and is alive (not yet recycled).
    unsafe { g.get() }.state.set(DEAD);
    bump(&l.m.exited);
    // SAFETY: the G finished; no queue or waiter refers to it any more, so
    // this M owns it again (it was leaked from a Box in `start`).
    let g = unsafe { Box::from_raw(g.0.as_ptr()) };
    recycle(l, g);
    // After the stack went back (see `recycle`), so a spawn that takes this
    // reservation finds the stack in the pool instead of carving a new one.
    l.sched.release_reservation();
}

/// Keeps an idle G (with its stack) for reuse, or gives it back. Under a
/// stack budget (mprotect guards) stacks always go back to the shared pool,
/// so the stacks in use never exceed the goroutines holding a reservation.
pub(crate) fn recycle(l: &MLocal, g: Box<G>) {
    if l.sched.stack_budget.is_some() {
        if let Some(s) = g.take_spare_stack() {
            l.sched.stacks.release(s);
        }
    }
    if let Some(g) = l.push_free(g) {
        l.sched.put_spare_g(g);
    }
}
