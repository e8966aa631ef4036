//! Timers: per-P heaps, run by the Ms themselves (Go 1.14+'s design).
//! This file routes entries to heaps and says what an entry does; the
//! heap itself (ordering, the published deadline, compaction) is the
//! generic `TimerHeap` of `heap.rs`, instantiated here as `Timers`.
//!
//! Every P keeps a heap of timer entries. A goroutine's `sleep` and the
//! timers it arms go on its own P's heap, under a lock that is uncontended
//! unless another thread arms a timer there or steals its due ones. The
//! scheduler's check per schedule is one load while no timer is pending,
//! and one clock read otherwise.
//!
//! Who fires them:
//! - the P's own M, at each schedule (`find_runnable`) and when it wakes;
//! - an idle M sleeps on its futex exactly until its heap's next deadline:
//!   no polling thread, no busy wait. Arming an earlier timer on another
//!   P's heap wakes that P's M so it re-computes its sleep;
//! - a spinning M runs the due timers of other Ps (Go's `stealWork` does
//!   the same), and sysmon runs timers overdue by more than a millisecond
//!   on Ms busy in a long goroutine (Go's sysmon starts an M for them);
//! - a P that goes away (`set_gomaxprocs` shrinking, `lock_os_thread`)
//!   hands its entries to an active P, as Go's `moveTimers`.
//!
//! Entries are either a parked goroutine to wake (`sleep`) or a
//! [`TimerTarget`] with the sequence number it was armed with. Stopping or
//! re-arming a timer only bumps the target's sequence number; the old entry
//! becomes stale, is skipped when it comes due, and is dropped early by
//! the heap's compaction, so timers reset in a loop do not pile up. Whatever goro-level meaning a timer has (a channel send, a
//! goroutine to start) lives in its target, in `goro-runtime`.
//!
//! Timers armed outside any runtime (a plain thread using `goro::time`) go
//! to one process-wide heap served by a thread that sleeps until its next
//! deadline, created on first use.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::g::wait_reason::WaitReason;
use crate::sched::current::{self, Current};
use crate::sched::handle::Handle;
use crate::sched::m::M;
use crate::sched::park::{current_waiter, park, Waiter};
use crate::sched::Sched;
use crate::sys::clock::nanos;
use crate::sys::futex;
use crate::time::heap::{TimerAction, TimerHeap};

/// What a timer does when it comes due (implemented by `goro::time`).
pub trait TimerTarget: Send + Sync {
    /// The entry armed with `seq` is due. Runs on whichever thread fires it
    /// (an M between goroutines, sysmon, or the outside-runtime timer
    /// thread); it must not block.
    /// It gets its own `Arc` so that it can re-arm itself (a ticker).
    fn fire(self: Arc<Self>, seq: u64, now: Instant);

    /// Whether the entry armed with `seq` can no longer do anything (the
    /// timer was stopped or re-armed, or nobody can observe it).
    fn is_stale(&self, seq: u64) -> bool;
}

/// What the scheduler's timer entries do.
pub(crate) enum Action {
    /// Wake the goroutine parked in `sleep_until` (never stale).
    Wake(Waiter),
    /// Fire the target with the sequence number it was armed with.
    Target(Arc<dyn TimerTarget>, u64),
}

impl TimerAction for Action {
    fn is_stale(&self) -> bool {
        match self {
            Action::Wake(_) => false,
            Action::Target(t, seq) => t.is_stale(*seq),
        }
    }

    fn fire(self, now: Instant) {
        match self {
            // SAFETY: `sleep_until` registered this waiter for exactly one
            // park, and its only entry is this one, fired once.
            Action::Wake(w) => unsafe { w.wake() },
            Action::Target(t, seq) => t.fire(seq, now),
        }
    }
}

/// One P's timers (also the outside-runtime heap's, and a bubble's).
pub(crate) type Timers = TimerHeap<Action>;

impl Timers {
    /// Arms `target` with `seq` at `when` (a bubble's heap, whose owner
    /// fires it itself: nobody is woken).
    pub(crate) fn add_target(&self, when: Instant, target: Arc<dyn TimerTarget>, seq: u64) {
        self.push(when, Action::Target(target, seq));
    }

    /// Wakes `waiter` at `when` (a bubble's heap, see `add_target`).
    pub(crate) fn add_wake(&self, when: Instant, waiter: Waiter) {
        self.push(when, Action::Wake(waiter));
    }
}

/// Arms `target` to fire with `seq` at `when`, on the calling goroutine's P,
/// else on a P of `runtime` (the runtime the timer was made in), else on
/// the outside-runtime heap.
pub fn add_timer(when: Instant, target: Arc<dyn TimerTarget>, seq: u64, runtime: Option<&Handle>) {
    route(when, Action::Target(target, seq), runtime);
}

fn route(when: Instant, action: Action, runtime: Option<&Handle>) {
    match current::get() {
        Current::M(l) => {
            // SAFETY: `Current::M` points at this thread's live MLocal.
            let l = unsafe { &*l };
            if runtime.is_none_or(|h| h.is(&l.sched)) {
                if l.m.has_p() {
                    // Our own M is running (us): no wake-up needed.
                    l.m.timers().push(when, action);
                } else {
                    add_to_some_p(&l.sched, when, action);
                }
                return;
            }
        }
        Current::Helper(s) => {
            // SAFETY: a helper thread holds an Arc of its Sched.
            let sched = unsafe { &*s };
            if runtime.is_none_or(|h| h.is(sched)) {
                add_to_some_p(sched, when, action);
                return;
            }
        }
        Current::None => {}
    }
    if let Some(sched) = runtime.and_then(Handle::sched) {
        if !sched.is_shutting_down() {
            add_to_some_p(&sched, when, action);
            return;
        }
    }
    outside_heap().add(when, action);
}

/// Adds to an active P's heap (spread by deadline bits, so timers armed
/// from outside do not all land on one P). A runtime always has an active
/// P, so `sleep`'s entries (which point at a goroutine) never reach the
/// outside heap, which outlives runtimes.
fn add_to_some_p(sched: &Sched, when: Instant, action: Action) {
    let workers = sched.active_ms();
    if workers.is_empty() {
        drop(workers);
        outside_heap().add(when, action);
        return;
    }
    let i = (nanos(when) as usize >> 10) % workers.len();
    let m = &workers[i];
    // The entry is now the earliest: its M may sleep until a later
    // deadline, so wake it to re-compute its timeout.
    if m.timers().push(when, action) {
        m.notify();
    }
}

/// Moves the timers of a P that went away to the active Ps.
pub(crate) fn rehome(m: &M, sched: &Sched) {
    for (when, action) in m.timers().take_all() {
        add_to_some_p(sched, when, action);
    }
}

/// Parks the calling goroutine until `deadline` (blocks a plain thread);
/// in a synctest bubble, until the bubble's clock reaches it.
pub fn sleep_until(deadline: Instant) {
    let in_goroutine = current::m().is_some_and(|l| l.current.get().is_some());
    if !in_goroutine {
        let now = Instant::now();
        if deadline > now {
            std::thread::sleep(deadline - now);
        }
        return;
    }
    crate::preempt_point();
    if crate::sched::bubble::sleep_until(deadline) {
        return;
    }
    if deadline <= Instant::now() {
        return;
    }
    route(deadline, Action::Wake(current_waiter()), None);
    park(WaitReason::Sleep);
}

/// Whether a timer armed outside any runtime is pending (it may wake a
/// goroutine of any runtime).
pub(crate) fn outside_timers_pending() -> bool {
    OUTSIDE_HEAP.get().is_some_and(|h| h.heap.is_pending())
}

/// The heap for timers armed outside any runtime, and its thread.
struct OutsideHeap {
    /// Armed by any thread outside a runtime (or by a runtime shutting
    /// down); run only by the `goro-timers` thread.
    heap: Timers,
    /// Bumped (SeqCst) by an armer whose entry is now the earliest, then
    /// futex-woken; read (SeqCst) by the thread before it runs the heap,
    /// and waited on with that value, so a bump after the read ends the wait.
    word: AtomicU32,
}

static OUTSIDE_HEAP: OnceLock<OutsideHeap> = OnceLock::new();

fn outside_heap() -> &'static OutsideHeap {
    static THREAD: OnceLock<()> = OnceLock::new();
    let heap = OUTSIDE_HEAP.get_or_init(|| OutsideHeap {
        heap: Timers::new(),
        word: AtomicU32::new(0),
    });
    THREAD.get_or_init(|| {
        std::thread::Builder::new()
            .name("goro-timers".into())
            .spawn(move || heap.serve())
            .unwrap_or_else(|e| {
                crate::sys::report::fatal(format_args!("cannot start the timer thread: {e}"))
            });
    });
    heap
}

impl OutsideHeap {
    fn add(&self, when: Instant, action: Action) {
        if self.heap.push(when, action) {
            self.word.fetch_add(1, Ordering::SeqCst);
            futex::wake(&self.word, 1);
        }
    }

    fn serve(&self) {
        loop {
            let seen = self.word.load(Ordering::SeqCst);
            self.heap.run_due(Instant::now());
            let timeout = self.heap.until_next();
            if timeout != Some(Duration::ZERO) {
                futex::wait(&self.word, seen, timeout);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, AtomicUsize};

    struct Count {
        fired: AtomicUsize,
        live_seq: AtomicU64,
    }

    impl TimerTarget for Count {
        fn fire(self: Arc<Self>, seq: u64, _now: Instant) {
            if !self.is_stale(seq) {
                self.fired.fetch_add(1, Ordering::SeqCst);
            }
        }
        fn is_stale(&self, seq: u64) -> bool {
            seq != self.live_seq.load(Ordering::SeqCst)
        }
    }

    #[test]
    fn outside_heap_fires_on_its_thread() {
        let t = Arc::new(Count {
            fired: AtomicUsize::new(0),
            live_seq: AtomicU64::new(7),
        });
        let when = Instant::now() + Duration::from_millis(20);
        add_timer(when, t.clone(), 7, None);
        let give_up = Instant::now() + Duration::from_secs(5);
        while t.fired.load(Ordering::SeqCst) == 0 && Instant::now() < give_up {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(t.fired.load(Ordering::SeqCst), 1);
        assert!(Instant::now() >= when);
    }
}
