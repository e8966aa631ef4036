//! Wait records: how a blocked channel operation (or a blocked `select`)
//! waits in a channel's queue, and how the party that completes it claims
//! it (Go's `sudog` and `selectDone`).
//!
//! A blocked operation puts one [`Wait`] record per channel case on its own
//! stack (a plain send or receive has one, a `select` one per case) and one
//! [`SyncPoint`] shared by them, which holds its waiter. A completer, holding
//! the channel lock, dequeues a record and *claims* its sync point with one
//! CAS; only the first claimer of a sync point proceeds (it moves the value
//! through the record, marks the outcome and wakes the owner, still under
//! the lock); a record whose sync point was already claimed through another
//! channel is stale and simply dropped from the queue. On a buffered channel
//! the claimer moves nothing: it only wakes the owner to retry
//! (`WaitPtr::notify`, see `buffered.rs`).
//!
//! A channel's queues are intrusive doubly linked lists through the records
//! ([`WaitQueue`], Go's `waitq` of sudogs), so an owner withdraws a record
//! in constant time: a `select` that lost a case on a channel where
//! thousands of others wait (every worker selecting on one `ctx.done()`)
//! does not scan them.
//!
//! Lifetime rules, which every `unsafe` below relies on:
//! - A record is only dereferenced under its channel's lock, while it is
//!   queued or right after being dequeued under that same lock hold.
//! - Its owner leaves only after the claimer woke it (so the claimer is
//!   done with the record and its sync point), and removes, under each
//!   channel's lock, every record that may still be queued. When it is
//!   unwound instead (runtime shutdown), it takes every lock, which also
//!   waits out a claimer that is still waking it.

use std::cell::{Cell, UnsafeCell};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::Waker;

use super::{RecvError, SendError};
use crate::sched::{current_waiter, Waiter, Wakeup};

const UNCLAIMED: usize = usize::MAX;

/// The part of a blocked operation its records share: who to wake, and
/// which case won.
pub struct SyncPoint {
    selected: AtomicUsize,
    waiter: UnsafeCell<Option<Waiter>>,
}

impl SyncPoint {
    pub(crate) fn new() -> SyncPoint {
        SyncPoint {
            selected: AtomicUsize::new(UNCLAIMED),
            waiter: UnsafeCell::new(Some(current_waiter())),
        }
    }

    /// A sync point for an async operation (`async_ops.rs`), armed with its
    /// task's `Waker` each time it queues its record.
    pub(crate) fn unarmed() -> SyncPoint {
        SyncPoint {
            selected: AtomicUsize::new(UNCLAIMED),
            waiter: UnsafeCell::new(None),
        }
    }

    /// Makes the sync point claimable again, for the task of `waker`. Only
    /// while none of its records is queued (`&mut`: nobody else can reach
    /// it), e.g. an async operation that queues again after a "retry now".
    pub(crate) fn arm(&mut self, waker: &Waker) {
        *self.selected.get_mut() = UNCLAIMED;
        *self.waiter.get_mut() = Some(Waiter::from_waker(waker.clone()));
    }

    /// Points an unclaimed sync point at the task of `waker` (a future
    /// polled again, perhaps by another task or executor thread).
    ///
    /// # Safety
    /// The caller holds the lock of the one channel where this sync point's
    /// only record is queued, and the sync point is unclaimed: a claimer,
    /// the only other user of the waiter, claims and wakes under that lock.
    pub(crate) unsafe fn update_waker(&self, waker: &Waker) {
        // SAFETY: exclusive by the caller's contract.
        let waiter = unsafe { &mut *self.waiter.get() };
        if !waiter.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *waiter = Some(Waiter::from_waker(waker.clone()));
        }
    }

    /// Claims this operation for case `case`; true for exactly one caller.
    fn claim(&self, case: usize) -> bool {
        self.selected
            .compare_exchange(UNCLAIMED, case, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// The case that won, once claimed.
    pub(crate) fn selected(&self) -> Option<usize> {
        match self.selected.load(Ordering::Acquire) {
            UNCLAIMED => None,
            case => Some(case),
        }
    }
}

/// One channel case of a blocked operation, queued on the channel.
pub(crate) struct Wait<T> {
    /// The value being sent (sender's record), or received (receiver's).
    slot: UnsafeCell<Option<T>>,
    sync: Cell<*const SyncPoint>,
    case: Cell<usize>,
    /// Completed by `close` rather than by a transfer.
    closed: AtomicBool,
    /// Links in its channel queue, and whether it is in it (under the lock).
    prev: Cell<Option<NonNull<Wait<T>>>>,
    next: Cell<Option<NonNull<Wait<T>>>>,
    queued: Cell<bool>,
}

/// A queued record's address.
pub(crate) struct WaitPtr<T>(NonNull<Wait<T>>);

// SAFETY: a WaitPtr is only dereferenced under its channel's lock while its
// record is alive (see the module rules); the record carries a `T` across
// threads, hence `T: Send`.
unsafe impl<T: Send> Send for WaitPtr<T> {}

impl<T> Wait<T> {
    pub(crate) fn new(value: Option<T>) -> Wait<T> {
        Wait {
            slot: UnsafeCell::new(value),
            sync: Cell::new(std::ptr::null()),
            case: Cell::new(0),
            closed: AtomicBool::new(false),
            prev: Cell::new(None),
            next: Cell::new(None),
            queued: Cell::new(false),
        }
    }

    /// Ties the record to its sync point as case `case`; returns its address
    /// for a queue. The record must not move while queued.
    pub(crate) fn attach(&self, sync: &SyncPoint, case: usize) -> WaitPtr<T> {
        self.sync.set(sync);
        self.case.set(case);
        WaitPtr(NonNull::from(self))
    }

    /// The slot, while no completer can reach the record (before it is
    /// queued, or after it won and was woken, or after it was withdrawn).
    pub(crate) fn slot_mut(&mut self) -> &mut Option<T> {
        self.slot.get_mut()
    }

    /// Takes the slot's value after the owner was woken.
    fn take(&self) -> Option<T> {
        // SAFETY: called by the owner after its wake-up: the claimer wrote
        // the slot before waking it (the wake orders the write before this
        // read) and does not touch the record again.
        unsafe { (*self.slot.get()).take() }
    }

    /// A woken sender's outcome: its value comes back if `close` woke it.
    pub(crate) fn sent(&self) -> Result<(), SendError<T>> {
        match self.take() {
            Some(v) if self.closed.load(Ordering::Relaxed) => Err(SendError(v)),
            _ => Ok(()),
        }
    }

    /// A woken receiver's outcome: the value, or `RecvError` from `close`.
    pub(crate) fn received(&self) -> Result<T, RecvError> {
        self.take().ok_or(RecvError)
    }
}

impl<T> WaitPtr<T> {
    /// Completes a claimed record: stores `give` (for a receiver) or takes
    /// the value (from a sender, unless `closed`), records `closed` and
    /// readies the owner; a futex wake-up that needs goes to `wakes`, to be
    /// made after the lock is released. Called under the channel lock.
    ///
    /// # Safety
    /// The record was dequeued and claimed (`pop_claimed`) under the lock
    /// the caller still holds.
    pub(crate) unsafe fn complete(
        self,
        give: Option<T>,
        closed: bool,
        wakes: &mut Wakeups,
    ) -> Option<T> {
        // SAFETY: guaranteed by the caller: the record is alive and ours.
        let w = unsafe { self.0.as_ref() };
        // SAFETY: the owner reads the slot only after its wake-up.
        let slot = unsafe { &mut *w.slot.get() };
        let taken = match give {
            Some(v) => {
                *slot = Some(v);
                None
            }
            None if closed => None,
            None => slot.take(),
        };
        w.closed.store(closed, Ordering::Relaxed);
        // SAFETY: forwarded from the caller.
        unsafe { self.notify(wakes) };
        taken
    }

    /// Readies the owner of a claimed record without touching its slot (a
    /// buffered channel's "retry now"); the futex wake-up goes to `wakes`.
    ///
    /// # Safety
    /// As for [`complete`](Self::complete).
    #[inline]
    pub(crate) unsafe fn notify(self, wakes: &mut Wakeups) {
        // SAFETY: guaranteed by the caller: the record is alive and ours.
        let w = unsafe { self.0.as_ref() };
        // SAFETY: the sync point lives as long as its records.
        let sync = unsafe { &*w.sync.get() };
        // SAFETY: only the claimer (us) touches the waiter, once.
        if let Some(waiter) = unsafe { (*sync.waiter.get()).take() } {
            // SAFETY: registered for this park by the owner; woken once.
            wakes.add(unsafe { waiter.wake_later() });
        }
    }
}

/// The futex wake-ups a critical section owes, made when this is dropped.
/// Declare it before the lock guard, so that it drops after the guard
/// (see `goro_scheduler::Waiter::wake_later` for why).
#[doc(hidden)]
#[derive(Default)]
pub struct Wakeups(Vec<Wakeup>);

impl Wakeups {
    #[inline]
    fn add(&mut self, w: Wakeup) {
        if w.is_pending() {
            self.0.push(w);
        }
    }
}

/// A channel's queue of waiting records, linked through the records.
pub(crate) struct WaitQueue<T> {
    head: Option<NonNull<Wait<T>>>,
    tail: Option<NonNull<Wait<T>>>,
}

// SAFETY: the queue only holds addresses of records, reached under its
// channel's lock (see the module rules); records carry `T`s across threads.
unsafe impl<T: Send> Send for WaitQueue<T> {}

impl<T> Default for WaitQueue<T> {
    fn default() -> WaitQueue<T> {
        WaitQueue {
            head: None,
            tail: None,
        }
    }
}

impl<T> WaitQueue<T> {
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// Appends a record (from `Wait::attach`, not queued anywhere).
    pub(crate) fn push_back(&mut self, p: WaitPtr<T>) {
        // SAFETY: the caller holds the channel lock and the record is alive
        // and pinned while queued (module rules).
        let w = unsafe { p.0.as_ref() };
        debug_assert!(!w.queued.get(), "goro: a wait record queued twice");
        w.prev.set(self.tail);
        w.next.set(None);
        w.queued.set(true);
        match self.tail {
            // SAFETY: the tail is a queued record: alive and pinned while
            // queued, and the caller holds the channel lock.
            Some(t) => unsafe { t.as_ref() }.next.set(Some(p.0)),
            None => self.head = Some(p.0),
        }
        self.tail = Some(p.0);
    }

    /// Whether some queued record can still be claimed (its operation is
    /// not won yet): a peek, claiming nothing. Under the channel lock.
    pub(crate) fn has_claimable(&self) -> bool {
        let mut at = self.head;
        while let Some(p) = at {
            // SAFETY: queued records are alive while the lock is held.
            let w = unsafe { p.as_ref() };
            // SAFETY: a queued record was attached to its sync point,
            // which outlives its records (module rules).
            if unsafe { &*w.sync.get() }.selected().is_none() {
                return true;
            }
            at = w.next.get();
        }
        false
    }

    fn pop_front(&mut self) -> Option<WaitPtr<T>> {
        let head = self.head?;
        // SAFETY: queued records are alive while the lock is held.
        self.unlink(unsafe { head.as_ref() });
        Some(WaitPtr(head))
    }

    /// Removes `w` if it is queued here (the owner withdrawing it).
    pub(crate) fn remove(&mut self, w: &Wait<T>) {
        if w.queued.get() {
            self.unlink(w);
        }
    }

    fn unlink(&mut self, w: &Wait<T>) {
        let (prev, next) = (w.prev.take(), w.next.take());
        match prev {
            // SAFETY: a queued record's neighbours are queued records,
            // alive while the lock is held.
            Some(p) => unsafe { p.as_ref() }.next.set(next),
            None => self.head = next,
        }
        match next {
            // SAFETY: a queued record's neighbours are queued records,
            // alive while the lock is held.
            Some(n) => unsafe { n.as_ref() }.prev.set(prev),
            None => self.tail = prev,
        }
        w.queued.set(false);
    }
}

/// Dequeues the first record whose operation can still be claimed, and
/// claims it; drops stale ones (a `select` that another case already won).
///
/// # Safety
/// `q` is a channel queue and the caller holds that channel's lock.
pub(crate) unsafe fn pop_claimed<T>(q: &mut WaitQueue<T>) -> Option<WaitPtr<T>> {
    while let Some(p) = q.pop_front() {
        // SAFETY: queued records are alive while the lock is held.
        let w = unsafe { p.0.as_ref() };
        // SAFETY: a queued record was attached to its sync point, which
        // outlives its records (module rules).
        let sync = unsafe { &*w.sync.get() };
        if sync.claim(w.case.get()) {
            return Some(p);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pops every claimable record's case number, in queue order.
    fn drain(q: &mut WaitQueue<u8>) -> Vec<usize> {
        // SAFETY: single-threaded test; the records outlive the queue use.
        std::iter::from_fn(|| unsafe { pop_claimed(q) })
            .map(|p| unsafe { p.0.as_ref() }.case.get())
            .collect()
    }

    #[test]
    fn withdrawn_records_leave_from_anywhere_in_the_queue() {
        let records: Vec<Wait<u8>> = (0..5).map(|_| Wait::new(None)).collect();
        let syncs: Vec<SyncPoint> = (0..5).map(|_| SyncPoint::new()).collect();
        let mut q = WaitQueue::default();
        for (i, (w, s)) in records.iter().zip(&syncs).enumerate() {
            q.push_back(w.attach(s, i));
        }
        q.remove(&records[2]); // middle
        q.remove(&records[0]); // head
        q.remove(&records[4]); // tail
        q.remove(&records[4]); // not queued any more: no effect
        assert_eq!(drain(&mut q), [1, 3]);
        assert!(q.is_empty());
        // Re-queued after leaving, as a retrying select does.
        q.push_back(records[3].attach(&syncs[3], 7));
        assert!(!q.is_empty());
        q.remove(&records[3]);
        assert!(q.is_empty());
    }

    #[test]
    fn stale_records_are_dropped_when_popped() {
        let (a, b) = (Wait::<u8>::new(None), Wait::<u8>::new(None));
        let (shared, other) = (SyncPoint::new(), SyncPoint::new());
        let mut q = WaitQueue::default();
        q.push_back(a.attach(&shared, 0));
        q.push_back(b.attach(&other, 1));
        assert!(shared.claim(5)); // won through another channel
        assert_eq!(drain(&mut q), [1]);
    }
}
