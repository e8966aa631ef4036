//! A timer heap: a min-heap of entries by deadline, generic over what an
//! entry does when it comes due (the action `A`), so that it names nothing
//! of the scheduler and its unit tests need no runtime.
//!
//! Entries are ordered by deadline, ties in arming order (a per-heap
//! counter: `BinaryHeap` alone is not stable). The heap publishes its
//! earliest deadline in an atomic, so "is anything due?" costs one load
//! while the heap is empty and one clock read otherwise, without the lock.
//!
//! An action may go stale (a stopped or re-armed timer): the heap keeps
//! stale entries until they come due (their action decides to do nothing)
//! or until the heap doubles in size since its last compaction, when it
//! drops them all (`push`), so timers reset in a loop do not pile up.
//!
//! Due actions fire one at a time outside the lock, so an action may arm
//! timers on this same heap (a ticker re-arming itself).

use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::sys::clock::nanos;
use crate::sys::poison::Unpoisoned;

/// What a timer entry does when it comes due.
pub(crate) trait TimerAction {
    /// Whether the entry can no longer do anything; compaction drops it.
    fn is_stale(&self) -> bool;

    /// The entry is due at `now`. Runs outside the heap's lock, on
    /// whichever thread ran the heap; stale entries fire too.
    fn fire(self, now: Instant);
}

/// One armed entry.
struct Entry<A> {
    when: Instant,
    /// The heap's arming counter when it was pushed: equal deadlines fire
    /// in arming order.
    order: u64,
    action: A,
}

impl<A> PartialEq for Entry<A> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl<A> Eq for Entry<A> {}
impl<A> PartialOrd for Entry<A> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<A> Ord for Entry<A> {
    /// Reversed: `BinaryHeap` is a max-heap and we want the earliest first.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.when, other.order).cmp(&(self.when, self.order))
    }
}

/// `TimerHeap::next` when no entry is pending (`nanos` stays below it).
const NONE: u64 = u64::MAX;
/// Below this size a heap is never compacted.
const COMPACT_MIN: usize = 64;

/// A min-heap of timer entries with its earliest deadline published.
pub(crate) struct TimerHeap<A> {
    /// The entries; every access holds this lock, never while an action fires.
    state: Mutex<HeapState<A>>,
    /// The earliest deadline in `sys::clock::nanos`, `NONE` if
    /// empty. Written (SeqCst) only under the lock, after each change to the
    /// entries (`publish`), so it is exact whenever the lock is free; read
    /// (SeqCst) without the lock by the per-schedule checks (`is_pending`,
    /// `is_due`, `until_next`). SeqCst, as the M's sleep word it pairs
    /// with: an M that announced its sleep and then reads `next` and an
    /// armer that pushed and then reads the sleep word cannot both miss.
    next: AtomicU64,
}

/// What the lock guards.
struct HeapState<A> {
    entries: BinaryHeap<Entry<A>>,
    /// Entries pushed so far (the next entry's `order`).
    order: u64,
    /// The size at which `push` next drops stale entries.
    compact_at: usize,
}

impl<A: TimerAction> TimerHeap<A> {
    pub(crate) fn new() -> Self {
        TimerHeap {
            state: Mutex::new(HeapState {
                entries: BinaryHeap::new(),
                order: 0,
                compact_at: COMPACT_MIN,
            }),
            next: AtomicU64::new(NONE),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HeapState<A>> {
        // Actions fire outside the lock, so a panic cannot poison it.
        self.state.lock_unpoisoned()
    }

    /// Adds an entry; returns true if it is now the earliest (a thread
    /// sleeping until the old earliest deadline must re-compute its sleep).
    pub(crate) fn push(&self, when: Instant, action: A) -> bool {
        let mut st = self.lock();
        st.order += 1;
        let order = st.order;
        st.entries.push(Entry {
            when,
            order,
            action,
        });
        if st.entries.len() >= st.compact_at {
            st.entries.retain(|e| !e.action.is_stale());
            st.compact_at = (2 * st.entries.len()).max(COMPACT_MIN);
        }
        let earliest = self.publish(&st);
        earliest == nanos(when)
    }

    /// Publishes the earliest deadline; returns it. Called under the lock.
    fn publish(&self, st: &HeapState<A>) -> u64 {
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

    /// How long until the earliest entry is due (`None`: nothing pending;
    /// zero: overdue).
    pub(crate) fn until_next(&self) -> Option<Duration> {
        let next = self.next.load(Ordering::SeqCst);
        (next != NONE).then(|| Duration::from_nanos(next.saturating_sub(nanos(Instant::now()))))
    }

    /// Fires every entry due at `now`, earliest first, one at a time,
    /// outside the lock (an action may arm timers, on this heap too).
    /// Returns how many fired.
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
            entry.action.fire(now);
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

    /// The deadline of the earliest entry that is not stale, dropping the
    /// stale ones before it (a synctest bubble's clock must not jump to a
    /// stopped timer's deadline).
    pub(crate) fn earliest_live(&self) -> Option<Instant> {
        let mut st = self.lock();
        while st.entries.peek().is_some_and(|e| e.action.is_stale()) {
            st.entries.pop();
        }
        self.publish(&st);
        st.entries.peek().map(|e| e.when)
    }

    /// Removes every entry, stale ones included, in no particular order
    /// (a P going away hands them on).
    pub(crate) fn take_all(&self) -> impl Iterator<Item = (Instant, A)> {
        let mut st = self.lock();
        let entries = std::mem::take(&mut st.entries).into_vec();
        self.publish(&st);
        entries.into_iter().map(|e| (e.when, e.action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    /// A test action: logs its id when it fires, stale once `live` moved
    /// past its `seq` (a re-armed timer).
    struct Log {
        id: u64,
        seq: u64,
        live: Rc<Cell<u64>>,
        fired: Rc<RefCell<Vec<u64>>>,
    }

    impl TimerAction for Log {
        fn is_stale(&self) -> bool {
            self.seq != self.live.get()
        }
        fn fire(self, _now: Instant) {
            if !self.is_stale() {
                self.fired.borrow_mut().push(self.id);
            }
        }
    }

    /// Makes `Log` actions sharing one log and one live sequence number.
    #[derive(Default)]
    struct Logs {
        live: Rc<Cell<u64>>,
        fired: Rc<RefCell<Vec<u64>>>,
    }

    impl Logs {
        fn action(&self, id: u64) -> Log {
            Log {
                id,
                seq: self.live.get(),
                live: self.live.clone(),
                fired: self.fired.clone(),
            }
        }
        fn take(&self) -> Vec<u64> {
            std::mem::take(&mut *self.fired.borrow_mut())
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn fires_in_deadline_order_and_only_when_due() {
        let heap = TimerHeap::new();
        let logs = Logs::default();
        let t0 = Instant::now();
        for (at, id) in [(30, 3), (10, 1), (20, 2)] {
            heap.push(t0 + ms(at), logs.action(id));
        }
        assert_eq!(heap.run_due(t0), 0);
        assert_eq!(heap.run_due(t0 + ms(20)), 2);
        assert_eq!(logs.take(), vec![1, 2]);
        assert!(heap.is_pending());
        assert!(!heap.is_due(t0 + ms(29)));
        assert!(heap.is_due(t0 + ms(30)));
        assert_eq!(heap.run_due(t0 + ms(30)), 1);
        assert_eq!(logs.take(), vec![3]);
        assert!(!heap.is_pending());
        assert_eq!(heap.len(), 0);
    }

    #[test]
    fn equal_deadlines_fire_in_arming_order() {
        let heap = TimerHeap::new();
        let logs = Logs::default();
        let t0 = Instant::now();
        // Interleaved with an earlier and a later deadline, so the heap
        // reorders its array on every push and pop.
        for id in 0..100 {
            heap.push(t0 + ms(10), logs.action(id));
            heap.push(t0 + ms(5 + 10 * (id % 2)), logs.action(1000 + id));
        }
        assert_eq!(heap.run_due(t0 + ms(10)), 150);
        let fired = logs.take();
        let at_10: Vec<u64> = fired.iter().copied().filter(|&id| id < 1000).collect();
        assert_eq!(at_10, (0..100).collect::<Vec<_>>());
        let at_5 = &fired[..50];
        assert!(at_5.iter().all(|&id| id >= 1000), "earlier deadlines first");
    }

    #[test]
    fn push_says_whether_the_entry_is_now_the_earliest() {
        let heap = TimerHeap::new();
        let logs = Logs::default();
        let t0 = Instant::now();
        assert!(heap.push(t0 + ms(20), logs.action(1)));
        assert!(!heap.push(t0 + ms(30), logs.action(2)));
        assert!(heap.push(t0 + ms(10), logs.action(3)));
    }

    #[test]
    fn until_next_is_the_wait_for_the_earliest_entry() {
        let heap = TimerHeap::new();
        let logs = Logs::default();
        assert_eq!(heap.until_next(), None);
        assert!(!heap.due_now());
        let far = Instant::now() + Duration::from_secs(3600);
        heap.push(far, logs.action(1));
        let wait = heap.until_next().unwrap();
        assert!(wait <= Duration::from_secs(3600) && wait > Duration::from_secs(3000));
        assert!(!heap.due_now());
        assert_eq!(heap.run_if_due(), 0);
        heap.push(Instant::now() - ms(1), logs.action(2));
        assert_eq!(heap.until_next(), Some(Duration::ZERO), "overdue");
        assert!(heap.due_now());
        assert_eq!(heap.run_if_due(), 1);
        assert_eq!(logs.take(), vec![2]);
        assert!(heap.until_next().unwrap() > Duration::from_secs(3000));
    }

    #[test]
    fn compaction_drops_stale_entries_and_keeps_live_ones() {
        let heap = TimerHeap::new();
        let logs = Logs::default();
        let far = Instant::now() + Duration::from_secs(3600);
        // A live timer that is never re-armed, armed first.
        let steady = Logs::default();
        heap.push(far, steady.action(7));
        // A timer re-armed 10,000 times: each arming makes the last stale.
        for seq in 0..10_000 {
            logs.live.set(seq);
            heap.push(far, logs.action(seq));
        }
        assert!(heap.len() < 2 * COMPACT_MIN, "{} entries kept", heap.len());
        let kept = heap.len();
        assert_eq!(heap.run_due(far), kept);
        assert_eq!(logs.take(), vec![9_999]);
        assert_eq!(steady.take(), vec![7]);
    }

    #[test]
    fn stale_entries_below_the_compaction_size_fire_and_do_nothing() {
        let heap = TimerHeap::new();
        let logs = Logs::default();
        let t0 = Instant::now();
        heap.push(t0 + ms(1), logs.action(1));
        logs.live.set(1);
        heap.push(t0 + ms(2), logs.action(2));
        assert_eq!(heap.len(), 2, "kept until due");
        assert_eq!(heap.run_due(t0 + ms(2)), 2);
        assert_eq!(logs.take(), vec![2]);
    }

    #[test]
    fn take_all_empties_the_heap() {
        let heap = TimerHeap::new();
        let logs = Logs::default();
        let t0 = Instant::now();
        heap.push(t0 + ms(1), logs.action(1));
        logs.live.set(1);
        for id in 2..5 {
            heap.push(t0 + ms(id), logs.action(id));
        }
        let mut taken: Vec<(Instant, u64)> =
            heap.take_all().map(|(when, a)| (when, a.id)).collect();
        taken.sort();
        let expected: Vec<(Instant, u64)> = (1..5).map(|id| (t0 + ms(id), id)).collect();
        assert_eq!(taken, expected, "stale entries included");
        assert!(!heap.is_pending());
        assert_eq!(heap.until_next(), None);
        assert_eq!(heap.run_due(t0 + ms(10)), 0);
        assert!(heap.push(t0 + ms(1), logs.action(9)), "usable again");
    }

    /// Actions fire outside the lock: one may re-arm on its own heap.
    #[test]
    fn an_action_may_arm_on_its_own_heap() {
        struct Tick {
            heap: Rc<TimerHeap<Tick>>,
            left: u32,
            fired: Rc<Cell<u32>>,
        }
        impl TimerAction for Tick {
            fn is_stale(&self) -> bool {
                false
            }
            fn fire(self, now: Instant) {
                self.fired.set(self.fired.get() + 1);
                if self.left > 0 {
                    let heap = self.heap.clone();
                    let next = Tick {
                        left: self.left - 1,
                        ..self
                    };
                    heap.push(now + ms(1), next);
                }
            }
        }
        let heap = Rc::new(TimerHeap::new());
        let fired = Rc::new(Cell::new(0));
        let t0 = Instant::now();
        let tick = Tick {
            heap: heap.clone(),
            left: 2,
            fired: fired.clone(),
        };
        heap.push(t0, tick);
        assert_eq!(heap.run_due(t0), 1, "the re-armed entry is not due yet");
        assert_eq!(heap.run_due(t0 + ms(1)), 1);
        assert_eq!(heap.run_due(t0 + ms(5)), 1);
        assert_eq!(fired.get(), 3);
        assert!(!heap.is_pending());
    }
}
