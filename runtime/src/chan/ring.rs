//! The buffer of a buffered channel: a bounded lock-free MPMC ring
//! (Dmitry Vyukov's bounded queue, as crossbeam-channel's `array` flavour).
//!
//! `head` and `tail` are *positions*: a slot index in the low bits and a lap
//! count above them (`one_lap` is the first power of two above the index
//! bits; `mark_bit`, just below it, is the "closed" flag, kept in `tail` so
//! that closing and pushing are ordered by one word). Each slot has a
//! `stamp`: `tail` position `p` may write slot `p`'s index when the slot's
//! stamp is `p` (it was emptied in the previous lap), and `head` position `p`
//! may read it when its stamp is `p + 1` (it was filled in this lap).
//!
//! - `push` claims position `tail` with a CAS on `tail`, writes the value,
//!   then publishes it by storing stamp `tail + 1` (Release).
//! - `pop` claims position `head` with a CAS on `head`, reads the value,
//!   then frees the slot for the next lap by storing stamp `head + one_lap`.
//! - A slot whose stamp says "not yet" while `tail`/`head` say the slot was
//!   claimed belongs to an operation between its CAS and its stamp store: the
//!   other side spins (then yields the thread) for those few instructions.
//!   Goroutines are never switched out inside `push`/`pop` (goro preempts
//!   only at runtime calls), so such a wait is only ever on another thread.
//!
//! Memory ordering: a value is written before the Release stamp store and
//! read after an Acquire load of that stamp, so the slot's contents are
//! handed over with the stamp. The CASes on `head`/`tail` are SeqCst, and
//! `push` decides "full" (`pop` decides "empty") only after a SeqCst fence
//! followed by a load of the other end. These are the two halves of the
//! Dekker handshake the channel builds on (`buffered.rs`): a party that
//! stored a SeqCst "I am waiting" flag and then finds the ring full (empty),
//! and a party that moved the other end and then loads that flag (SeqCst),
//! cannot both miss each other's write.
//!
//! The ring is generic over its atomics and cells (`ring_sync.rs`): the
//! tests at the bottom run it on loom's, exploring every interleaving and
//! memory order of pushes, pops and a close.

use std::sync::atomic::Ordering;

use crossbeam_utils::CachePadded;

use super::ring_sync::{Backoff, Position, RingSync, SlotCell, StdSync};
use super::{TryRecvError, TrySendError};

struct Slot<T, S: RingSync> {
    stamp: S::Position,
    value: S::Slot<T>,
}

/// A bounded MPMC queue with a "closed" mark.
pub(crate) struct Ring<T, S: RingSync = StdSync> {
    /// Next position to pop.
    head: CachePadded<S::Position>,
    /// Next position to push, plus `mark_bit` once closed.
    tail: CachePadded<S::Position>,
    slots: Box<[Slot<T, S>]>,
    mark_bit: usize,
    one_lap: usize,
}

// SAFETY: values move between threads through the slots (hence `T: Send`);
// a slot's value is only touched by the one operation that claimed its
// position with a CAS, and the stamp hands it over (module docs).
unsafe impl<T: Send, S: RingSync> Send for Ring<T, S> {}
// SAFETY: shared use only moves `T`s in and out (hence `T: Send`, not
// `Sync`: no `&T` is handed out); a slot's value is touched only by the one
// operation that claimed its position with a CAS, and every other shared
// access goes through the atomics.
unsafe impl<T: Send, S: RingSync> Sync for Ring<T, S> {}

impl<T, S: RingSync> Ring<T, S> {
    /// An empty ring of `cap` slots.
    ///
    /// # Panics
    /// If `cap` is zero, or too large to index or allocate.
    #[track_caller]
    pub(crate) fn new(cap: usize) -> Ring<T, S> {
        assert!(cap > 0, "goro: a ring needs at least one slot");
        let mark_bit = cap
            .checked_add(1)
            .and_then(usize::checked_next_power_of_two)
            .filter(|m| m.checked_mul(2).is_some())
            .filter(|_| {
                cap.checked_mul(std::mem::size_of::<Slot<T, S>>())
                    .is_some_and(|bytes| bytes <= isize::MAX as usize)
            });
        // A `match`, not `unwrap_or_else`: the panic names the caller of
        // `chan` (a closure would not inherit `#[track_caller]`).
        let mark_bit = match mark_bit {
            Some(m) => m,
            None => panic!("goro: channel capacity {cap} out of range"),
        };
        let slots = (0..cap)
            .map(|i| Slot {
                stamp: S::Position::new(i),
                value: S::Slot::empty(),
            })
            .collect();
        Ring {
            head: CachePadded::new(S::Position::new(0)),
            tail: CachePadded::new(S::Position::new(0)),
            slots,
            mark_bit,
            one_lap: mark_bit * 2,
        }
    }

    fn cap(&self) -> usize {
        self.slots.len()
    }

    /// The position after `pos` (next index, or index 0 of the next lap).
    fn next(&self, pos: usize) -> usize {
        let index = pos & (self.mark_bit - 1);
        if index + 1 < self.cap() {
            pos + 1
        } else {
            (pos & !(self.one_lap - 1)).wrapping_add(self.one_lap)
        }
    }

    fn slot(&self, pos: usize) -> &Slot<T, S> {
        &self.slots[pos & (self.mark_bit - 1)]
    }

    /// Appends `v`; gives it back if the ring is full or closed.
    pub(crate) fn push(&self, v: T) -> Result<(), TrySendError<T>> {
        let backoff = S::Backoff::new();
        let mut tail = self.tail.load(Ordering::Relaxed);
        loop {
            if tail & self.mark_bit != 0 {
                return Err(TrySendError::Disconnected(v));
            }
            let slot = self.slot(tail);
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == tail {
                let claimed = self.tail.compare_exchange_weak(
                    tail,
                    self.next(tail),
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                );
                match claimed {
                    Ok(_) => {
                        // SAFETY: the CAS gave us position `tail`, whose slot
                        // is empty (stamp == tail); nobody reads it before
                        // the stamp store below.
                        unsafe { slot.value.write(v) };
                        slot.stamp.store(tail + 1, Ordering::Release);
                        return Ok(());
                    }
                    Err(t) => {
                        tail = t;
                        backoff.spin();
                    }
                }
            } else if stamp.wrapping_add(self.one_lap) == tail + 1 {
                // The slot still holds last lap's value: full, unless a pop
                // has claimed it and not yet freed it.
                S::fence();
                let head = self.head.load(Ordering::Relaxed);
                if head.wrapping_add(self.one_lap) == tail {
                    return Err(TrySendError::Full(v));
                }
                backoff.spin();
                tail = self.tail.load(Ordering::Relaxed);
            } else {
                // Another push claimed this position; catch up.
                backoff.snooze();
                tail = self.tail.load(Ordering::Relaxed);
            }
        }
    }

    /// Takes the oldest value; `Disconnected` once closed and drained.
    pub(crate) fn pop(&self) -> Result<T, TryRecvError> {
        let backoff = S::Backoff::new();
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            let slot = self.slot(head);
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == head + 1 {
                let claimed = self.head.compare_exchange_weak(
                    head,
                    self.next(head),
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                );
                match claimed {
                    Ok(_) => {
                        // SAFETY: the CAS gave us position `head`, whose slot
                        // was filled in this lap (stamp == head + 1, Acquire
                        // after the pusher's Release); nobody writes it
                        // before the stamp store below frees it.
                        let v = unsafe { slot.value.take() };
                        slot.stamp
                            .store(head.wrapping_add(self.one_lap), Ordering::Release);
                        return Ok(v);
                    }
                    Err(h) => {
                        head = h;
                        backoff.spin();
                    }
                }
            } else if stamp == head {
                // Not filled in this lap: empty, unless a push has claimed
                // it and not yet published it.
                S::fence();
                let tail = self.tail.load(Ordering::Relaxed);
                if tail & !self.mark_bit == head {
                    return Err(if tail & self.mark_bit != 0 {
                        TryRecvError::Disconnected
                    } else {
                        TryRecvError::Empty
                    });
                }
                backoff.spin();
                head = self.head.load(Ordering::Relaxed);
            } else {
                // Another pop claimed this position; catch up.
                backoff.snooze();
                head = self.head.load(Ordering::Relaxed);
            }
        }
    }

    /// Marks the ring closed: pushes fail from now on, pops drain what is
    /// left. Returns false if it was closed already.
    pub(crate) fn close(&self) -> bool {
        self.tail.fetch_or(self.mark_bit, Ordering::SeqCst) & self.mark_bit == 0
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.tail.load(Ordering::SeqCst) & self.mark_bit != 0
    }

    /// Whether a push would find room now (SeqCst loads: see module docs).
    pub(crate) fn is_full(&self) -> bool {
        let tail = self.tail.load(Ordering::SeqCst);
        let head = self.head.load(Ordering::SeqCst);
        head.wrapping_add(self.one_lap) == tail & !self.mark_bit
    }

    /// Whether a pop would find nothing now (SeqCst loads: see module docs).
    pub(crate) fn is_empty(&self) -> bool {
        let head = self.head.load(Ordering::SeqCst);
        let tail = self.tail.load(Ordering::SeqCst);
        tail & !self.mark_bit == head
    }

    /// `head + tail` (SeqCst loads, wrapping): both only ever grow (the
    /// lap counter; the closed mark is a bit of `tail`), so an unchanged
    /// sum means no push, pop or close happened in between (`select.rs`'s
    /// double collect).
    pub(crate) fn progress(&self) -> usize {
        let head = self.head.load(Ordering::SeqCst);
        head.wrapping_add(self.tail.load(Ordering::SeqCst))
    }

    /// The number of values in the ring (a consistent snapshot).
    pub(crate) fn len(&self) -> usize {
        loop {
            let tail = self.tail.load(Ordering::SeqCst);
            let head = self.head.load(Ordering::SeqCst);
            if self.tail.load(Ordering::SeqCst) == tail {
                return self.distance(head, tail & !self.mark_bit);
            }
        }
    }

    /// Values between positions `head` and `tail` (`tail` unmarked).
    fn distance(&self, head: usize, tail: usize) -> usize {
        let (h, t) = (head & (self.mark_bit - 1), tail & (self.mark_bit - 1));
        if h < t {
            t - h
        } else if h > t {
            self.cap() - h + t
        } else if tail == head {
            0
        } else {
            self.cap()
        }
    }
}

impl<T, S: RingSync> Drop for Ring<T, S> {
    fn drop(&mut self) {
        if !std::mem::needs_drop::<T>() {
            return;
        }
        let head = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Relaxed) & !self.mark_bit;
        let first = head & (self.mark_bit - 1);
        for i in 0..self.distance(head, tail) {
            let index = (first + i) % self.cap();
            // SAFETY: no operation is in flight (`&mut self`), so exactly the
            // slots from `head` to `tail` hold values, each dropped once.
            unsafe { self.slots[index].value.drop_value() };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    #[test]
    fn fifo_full_empty_and_wraparound() {
        let r = Ring::<_>::new(3);
        for lap in 0..5u32 {
            assert!(r.is_empty() && !r.is_full());
            for i in 0..3 {
                r.push(lap * 10 + i).unwrap();
            }
            assert!(r.is_full());
            assert_eq!(r.len(), 3);
            assert!(matches!(r.push(99), Err(TrySendError::Full(99))));
            assert_eq!(r.pop().unwrap(), lap * 10);
            assert_eq!(r.len(), 2);
            r.push(lap * 10 + 3).unwrap();
            for i in 1..4 {
                assert_eq!(r.pop().unwrap(), lap * 10 + i);
            }
            assert!(matches!(r.pop(), Err(TryRecvError::Empty)));
        }
    }

    #[test]
    fn close_rejects_pushes_and_drains() {
        let r = Ring::<_>::new(2);
        r.push(1).unwrap();
        assert!(r.close());
        assert!(!r.close());
        assert!(r.is_closed());
        assert!(matches!(r.push(2), Err(TrySendError::Disconnected(2))));
        assert_eq!(r.len(), 1);
        assert_eq!(r.pop().unwrap(), 1);
        assert!(matches!(r.pop(), Err(TryRecvError::Disconnected)));
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn absurd_capacity_panics() {
        let _ = Ring::<u64>::new(usize::MAX);
    }

    struct Counted(u64, Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.1.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn dropping_the_ring_drops_what_is_left_once() {
        let drops = Arc::new(AtomicUsize::new(0));
        let r = Ring::<_>::new(4);
        for i in 0..6 {
            // Wrap around so the leftovers straddle the end of the slots.
            r.push(Counted(i, drops.clone())).unwrap();
            if i < 3 {
                drop(r.pop().unwrap());
            }
        }
        assert_eq!(drops.load(Ordering::Relaxed), 3);
        drop(r);
        assert_eq!(drops.load(Ordering::Relaxed), 6);
    }

    /// Several threads push and pop through a tiny ring, spinning on
    /// full/empty: every value arrives once, in order per producer, and
    /// every value is dropped exactly once.
    #[test]
    fn mpmc_stress_exactly_once() {
        const PRODUCERS: u64 = 4;
        const CONSUMERS: usize = 4;
        const PER: u64 = 50_000;
        for cap in [1, 2, 7] {
            let drops = Arc::new(AtomicUsize::new(0));
            let ring = Arc::new(Ring::<_>::new(cap));
            let received = Arc::new(AtomicUsize::new(0));
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let (ring, drops) = (ring.clone(), drops.clone());
                    std::thread::spawn(move || {
                        for i in 0..PER {
                            let mut v = Counted(p << 32 | i, drops.clone());
                            while let Err(TrySendError::Full(back)) = ring.push(v) {
                                v = back;
                                std::thread::yield_now();
                            }
                        }
                    })
                })
                .collect();
            let consumers: Vec<_> = (0..CONSUMERS)
                .map(|_| {
                    let (ring, received) = (ring.clone(), received.clone());
                    std::thread::spawn(move || {
                        let mut last = [None::<u64>; PRODUCERS as usize];
                        let mut sum = 0u64;
                        while received.load(Ordering::Relaxed) < (PRODUCERS * PER) as usize {
                            match ring.pop() {
                                Ok(v) => {
                                    received.fetch_add(1, Ordering::Relaxed);
                                    let (p, i) = ((v.0 >> 32) as usize, v.0 & 0xffff_ffff);
                                    assert!(last[p].is_none_or(|l| l < i), "order");
                                    last[p] = Some(i);
                                    sum += i;
                                }
                                Err(_) => std::thread::yield_now(),
                            }
                        }
                        sum
                    })
                })
                .collect();
            for p in producers {
                p.join().unwrap();
            }
            let sum: u64 = consumers.into_iter().map(|c| c.join().unwrap()).sum();
            assert_eq!(sum, PRODUCERS * PER * (PER - 1) / 2);
            assert_eq!(drops.load(Ordering::Relaxed), (PRODUCERS * PER) as usize);
            assert!(ring.is_empty());
        }
    }

    /// Exhaustive interleavings (loom) of the ring's own code: values move
    /// exactly once and in order, the stamps hand each value over (loom
    /// reports a data race otherwise), and a close is ordered with pushes.
    mod models {
        use std::mem::MaybeUninit;

        use loom::cell::UnsafeCell;
        use loom::sync::atomic::AtomicUsize;
        use loom::sync::Arc;
        use loom::thread;

        use super::super::*;
        use crate::chan::ring_sync::{impl_position, SlotCell};

        struct Loom;

        impl RingSync for Loom {
            type Position = AtomicUsize;
            type Slot<T> = UnsafeCell<MaybeUninit<T>>;
            type Backoff = YieldToModel;
            fn fence() {
                loom::sync::atomic::fence(Ordering::SeqCst)
            }
        }

        impl_position!(AtomicUsize);

        impl<T> SlotCell<T> for UnsafeCell<MaybeUninit<T>> {
            fn empty() -> Self {
                UnsafeCell::new(MaybeUninit::uninit())
            }
            unsafe fn write(&self, v: T) {
                // SAFETY: the caller has the empty slot to itself; loom
                // checks that claim.
                self.with_mut(|p| unsafe { (*p).write(v) });
            }
            unsafe fn take(&self) -> T {
                // SAFETY: the caller has the full slot to itself; loom
                // checks that claim.
                self.with_mut(|p| unsafe { (*p).assume_init_read() })
            }
            unsafe fn drop_value(&mut self) {
                // SAFETY: the slot is full (caller).
                self.with_mut(|p| unsafe { (*p).assume_init_drop() });
            }
        }

        /// Spinning in a model must let the other threads run.
        struct YieldToModel;

        impl Backoff for YieldToModel {
            fn new() -> Self {
                YieldToModel
            }
            fn spin(&self) {
                thread::yield_now();
            }
            fn snooze(&self) {
                thread::yield_now();
            }
        }

        /// Runs `f` under loom, bounding preemptions (loom's advice for
        /// code with spin loops: most bugs show within two or three).
        fn model(f: impl Fn() + Sync + Send + 'static) {
            let mut builder = loom::model::Builder::new();
            builder.preemption_bound = Some(PREEMPTIONS);
            builder.check(f);
        }

        const PREEMPTIONS: usize = 3;

        fn push_until_room(ring: &Ring<u32, Loom>, mut v: u32) {
            while let Err(TrySendError::Full(back)) = ring.push(v) {
                v = back;
                thread::yield_now();
            }
        }

        fn pop_until_some(ring: &Ring<u32, Loom>) -> u32 {
            loop {
                match ring.pop() {
                    Ok(v) => return v,
                    Err(_) => thread::yield_now(),
                }
            }
        }

        #[test]
        fn two_pushers_and_a_popper_move_each_value_once() {
            model(|| {
                let ring = Arc::new(Ring::<u32, Loom>::new(2));
                let pushers: Vec<_> = [1, 2]
                    .into_iter()
                    .map(|v| {
                        let ring = ring.clone();
                        thread::spawn(move || ring.push(v).is_ok())
                    })
                    .collect();
                // One pop while the pushes are in flight, the rest after.
                let mut got: Vec<u32> = ring.pop().into_iter().collect();
                for p in pushers {
                    assert!(p.join().unwrap(), "two slots: no push is refused");
                }
                while let Ok(v) = ring.pop() {
                    got.push(v);
                }
                got.sort_unstable();
                assert_eq!(got, [1, 2]);
            });
        }

        #[test]
        fn values_pass_in_order_through_a_wrapping_ring() {
            model(|| {
                let ring = Arc::new(Ring::<u32, Loom>::new(2));
                let pusher = {
                    let ring = ring.clone();
                    thread::spawn(move || (1..=3).for_each(|v| push_until_room(&ring, v)))
                };
                let got: Vec<u32> = (0..3).map(|_| pop_until_some(&ring)).collect();
                pusher.join().unwrap();
                assert_eq!(got, [1, 2, 3]);
            });
        }

        #[test]
        fn a_close_racing_a_push_keeps_or_refuses_the_value() {
            model(|| {
                let ring = Arc::new(Ring::<u32, Loom>::new(1));
                let pusher = {
                    let ring = ring.clone();
                    thread::spawn(move || ring.push(7).is_ok())
                };
                assert!(ring.close());
                let pushed = pusher.join().unwrap();
                if pushed {
                    assert_eq!(ring.pop().ok(), Some(7));
                }
                assert!(matches!(ring.pop(), Err(TryRecvError::Disconnected)));
                assert!(matches!(ring.push(8), Err(TrySendError::Disconnected(8))));
            });
        }
    }
}
