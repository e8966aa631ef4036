//! Timers: per-P heaps, run by the Ms themselves (Go 1.14+'s design).
//!
//! Every P keeps a min-heap of timer entries ordered by deadline (ties in
//! arming order). A goroutine's `sleep` and the timers it arms go on its own
//! P's heap, under a lock that is uncontended unless another thread arms a
//! timer there or steals its due ones. The heap publishes its earliest
//! deadline in an atomic, so the scheduler's check per schedule is one load
//! while no timer is pending, and one clock read otherwise.
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
//! becomes stale, is skipped when it comes due, and is dropped early when
//! the heap doubles in size (`compact`), so timers reset in a loop do not
//! pile up. Whatever goro-level meaning a timer has (a channel send, a
//! goroutine to start) lives in its target, in `goro-runtime`.
//!
//! Timers armed outside any runtime (a plain thread using `goro::time`) go
//! to one process-wide heap served by a thread that sleeps until its next
//! deadline, created on first use.

use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use crate::g::wait_reason::WaitReason;
use crate::sched::current::{self, Current};
use crate::sched::handle::Handle;
use crate::sched::m::M;
use crate::sched::park::{current_waiter, park, Waiter};
use crate::sched::Sched;
use crate::sys::clock::nanos;
use crate::sys::futex;
use crate::sys::poison::Unpoisoned;

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

enum Action {
    Wake(Waiter),
    Target(Arc<dyn TimerTarget>, u64),
}

struct Entry {
    when: Instant,
    order: u64,
    action: Action,
}

impl Entry {
    fn is_stale(&self) -> bool {
        match &self.action {
            Action::Wake(_) => false,
            Action::Target(t, seq) => t.is_stale(*seq),
        }
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    /// Reversed: `BinaryHeap` is a max-heap and we want the earliest first.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.when, other.order).cmp(&(self.when, self.order))
    }
}

/// No timer pending.
const NONE: u64 = u64::MAX;
/// Below this size a heap is never compacted.
const COMPACT_MIN: usize = 64;

/// One P's timers (also the outside-runtime heap).
pub(crate) struct TimerHeap {
    state: Mutex<HeapState>,
    /// The earliest deadline, in nanoseconds since `epoch()`; `NONE` if empty.
    next: AtomicU64,
}

struct HeapState {
    entries: BinaryHeap<Entry>,
    order: u64,
    compact_at: usize,
}

impl TimerHeap {
    pub(crate) fn new() -> TimerHeap {
        TimerHeap {
            state: Mutex::new(HeapState {
                entries: BinaryHeap::new(),
                order: 0,
                compact_at: COMPACT_MIN,
            }),
            next: AtomicU64::new(NONE),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HeapState> {
        // Targets run outside the lock, so a panic cannot poison it.
        self.state.lock_unpoisoned()
    }

    /// Adds an entry; returns true if it is now the earliest.
    fn push(&self, when: Instant, action: Action) -> bool {
        let mut st = self.lock();
        st.order += 1;
        let order = st.order;
        st.entries.push(Entry {
            when,
            order,
            action,
        });
        if st.entries.len() >= st.compact_at {
            st.entries.retain(|e| !e.is_stale());
            st.compact_at = (2 * st.entries.len()).max(COMPACT_MIN);
        }
        let earliest = self.publish(&st);
        earliest == nanos(when)
    }

    /// Publishes the earliest deadline; returns it.
    fn publish(&self, st: &HeapState) -> u64 {
        let next = st.entries.peek().map_or(NONE, |e| nanos(e.when));
        self.next.store(next, Ordering::SeqCst);
        next
    }

    /// Whether an entry is due at `now`.
    pub(crate) fn is_due(&self, now: Instant) -> bool {
        self.next.load(Ordering::SeqCst) <= nanos(now)
    }

    /// Whether an entry is due now (no clock read while the heap is empty).
    pub(crate) fn due_now(&self) -> bool {
        self.is_pending() && self.is_due(Instant::now())
    }

    /// Whether any entry is pending (stale ones included).
    pub(crate) fn is_pending(&self) -> bool {
        self.next.load(Ordering::SeqCst) != NONE
    }

    /// Number of entries (stale ones included).
    pub(crate) fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// How long until the earliest entry is due (`None`: nothing pending).
    pub(crate) fn until_next(&self) -> Option<Duration> {
        let next = self.next.load(Ordering::SeqCst);
        (next != NONE).then(|| Duration::from_nanos(next.saturating_sub(nanos(Instant::now()))))
    }

    /// Fires every entry due at `now`, one at a time, outside the lock (a
    /// target may arm timers, on this heap too). Returns how many fired.
    pub(crate) fn run_due(&self, now: Instant) -> usize {
        let mut fired = 0;
        loop {
            let entry = {
                let mut st = self.lock();
                match st.entries.peek() {
                    Some(e) if e.when <= now => {
                        let e = st.entries.pop();
                        self.publish(&st);
                        e
                    }
                    _ => None,
                }
            };
            let Some(entry) = entry else { return fired };
            fired += 1;
            match entry.action {
                // SAFETY: `sleep_until` registered this waiter for exactly
                // one park, and its only entry is this one.
                Action::Wake(w) => unsafe { w.wake() },
                Action::Target(t, seq) => t.fire(seq, now),
            }
        }
    }

    /// Fires what is due now, if anything (the scheduler's per-round check:
    /// one atomic load while the heap is empty).
    pub(crate) fn run_if_due(&self) -> usize {
        if self.due_now() {
            self.run_due(Instant::now())
        } else {
            0
        }
    }

    /// Removes every entry (a P going away hands them on with `rehome`).
    fn take_all(&self) -> Vec<Entry> {
        let mut st = self.lock();
        let entries = std::mem::take(&mut st.entries).into_vec();
        self.publish(&st);
        entries
    }
}

impl M {
    /// Adds a timer entry on this P; wakes its M if the entry is now the
    /// earliest and the M may be sleeping (it re-computes its timeout).
    fn add_timer(&self, when: Instant, action: Action) {
        if self.timers().push(when, action) {
            self.notify();
        }
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
    workers[i].add_timer(when, action);
}

/// Moves the timers of a P that went away to the active Ps.
pub(crate) fn rehome(m: &M, sched: &Sched) {
    for e in m.timers().take_all() {
        add_to_some_p(sched, e.when, e.action);
    }
}

/// Parks the calling goroutine until `deadline` (blocks a plain thread).
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
    heap: TimerHeap,
    /// Bumped to wake the thread when an earlier deadline arrives.
    word: AtomicU32,
}

static OUTSIDE_HEAP: OnceLock<OutsideHeap> = OnceLock::new();

fn outside_heap() -> &'static OutsideHeap {
    static THREAD: OnceLock<()> = OnceLock::new();
    let heap = OUTSIDE_HEAP.get_or_init(|| OutsideHeap {
        heap: TimerHeap::new(),
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
    use std::sync::atomic::AtomicUsize;

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

    fn target(seq: u64) -> Arc<Count> {
        Arc::new(Count {
            fired: AtomicUsize::new(0),
            live_seq: AtomicU64::new(seq),
        })
    }

    #[test]
    fn fires_in_deadline_order_and_only_when_due() {
        let heap = TimerHeap::new();
        let t0 = Instant::now();
        let order = Arc::new(Mutex::new(Vec::new()));
        struct Log(Arc<Mutex<Vec<u64>>>);
        impl TimerTarget for Log {
            fn fire(self: Arc<Self>, seq: u64, _now: Instant) {
                self.0.lock().unwrap().push(seq);
            }
            fn is_stale(&self, _seq: u64) -> bool {
                false
            }
        }
        for (ms, seq) in [(30, 3), (10, 1), (20, 2), (10, 11)] {
            let log: Arc<dyn TimerTarget> = Arc::new(Log(order.clone()));
            heap.push(t0 + Duration::from_millis(ms), Action::Target(log, seq));
        }
        assert_eq!(heap.run_due(t0), 0);
        assert!(heap.until_next().unwrap() <= Duration::from_millis(10));
        assert_eq!(heap.run_due(t0 + Duration::from_millis(20)), 3);
        assert_eq!(*order.lock().unwrap(), vec![1, 11, 2]);
        assert_eq!(heap.run_due(t0 + Duration::from_millis(30)), 1);
        assert!(!heap.is_pending());
    }

    #[test]
    fn compaction_drops_stale_entries() {
        let heap = TimerHeap::new();
        let far = Instant::now() + Duration::from_secs(3600);
        let t = target(0);
        for seq in 0..10_000 {
            t.live_seq.store(seq, Ordering::SeqCst);
            heap.push(far, Action::Target(t.clone(), seq));
        }
        assert!(heap.lock().entries.len() < 2 * COMPACT_MIN);
        heap.run_due(far);
        assert_eq!(t.fired.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn outside_heap_fires_on_its_thread() {
        let t = target(7);
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
