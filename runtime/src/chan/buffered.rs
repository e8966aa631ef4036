//! Buffered channels: lock-free fast paths around the channel lock.
//!
//! The values of a buffered channel live in a lock-free ring (`ring.rs`),
//! not under the channel lock. The lock still guards the queues of parked
//! records, `closed` and the handle counts. A send is a push on the ring, a
//! receive a pop; the lock is only taken to park, or to wake a parked
//! party, which the `waiting` flags (one per side) make rare.
//!
//! Waking is "wake and let it retry", as crossbeam-channel's: a parked
//! sender keeps its value, a parked receiver receives nothing through its
//! record. Whoever makes progress possible (a pop frees a slot, a push
//! fills one, `close`) claims the first claimable record of the other side,
//! exactly as an unbuffered transfer would, and wakes its owner, which
//! retries its operation from the top. So a value is only ever in the ring
//! or with its sender, never stranded in a claimed record, and the exactly
//! once, per-sender FIFO and close rules are the ring's own. A woken party
//! may find its slot or value taken by a party that did not park; then that
//! party made the progress, and the woken one queues again. A `select`
//! woken for a buffered case retries *that* case first, so a wake-up is
//! never spent on another case while the one it announced stays ready.
//!
//! The lost wake-up is what needs care. A party about to park
//!   1. queues its record and stores its side's flag `true` (SeqCst),
//!      under the lock, then
//!   2. re-checks the ring (SeqCst loads of head and tail) and, if it can
//!      proceed after all, withdraws and retries
//!      (`Inner::enqueue`, `Buffer::publish_and_recheck`).
//!
//! A party whose push (pop) succeeded
//!   1. moved the ring's tail (head) with a SeqCst CAS, then
//!   2. loads the other side's flag (SeqCst) and, only if it is set, takes
//!      the lock and wakes one record of that side (`Inner::notify`).
//!
//! All four accesses are SeqCst, so they are totally ordered: if the
//! parker's re-check missed the CAS, the CAS came after the re-check, hence
//! after the flag store, and the flag load (after the CAS) sees it. Either
//! the parker sees room (a value) or the mover sees the flag and wakes a
//! parked party. A flag is only cleared under the lock when its queue is
//! empty, so a set flag is never lost while a record is queued; a stale
//! `true` costs a lock round trip and nothing else. `select` follows the
//! same two steps for all its buffered cases before it parks.
//!
//! A blocking send does not push past parked senders: while the senders'
//! flag is up it queues behind them, unless it was just woken (then it is
//! its turn). The slow path's re-check may still overtake, as crossbeam's.

use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_utils::CachePadded;

use super::ring::Ring;
use super::wait::{pop_claimed, Wait, Wakeups};
use super::{Inner, RecvError, SendError, Side, State, TryRecvError, TrySendError};

/// A buffered channel's lock-free part.
pub(super) struct Buffer<T> {
    pub(super) ring: Ring<T>,
    /// Whether each side's queue may hold parked records (indexed by
    /// `Side`): raised (SeqCst) by a party about to park, lowered under the
    /// lock when the queue empties; read by the fast paths to decide
    /// whether to take the lock. Apart from head and tail, which every
    /// operation writes.
    waiting: CachePadded<[AtomicBool; 2]>,
}

impl<T> Buffer<T> {
    #[track_caller]
    pub(super) fn new(cap: usize) -> Buffer<T> {
        Buffer {
            ring: Ring::new(cap),
            waiting: CachePadded::new([AtomicBool::new(false), AtomicBool::new(false)]),
        }
    }

    /// The parker's half of the handshake, under the lock right after it
    /// queued its record: raises `side`'s flag, then re-checks the ring;
    /// true if the operation would not block after all.
    pub(super) fn publish_and_recheck(&self, side: Side) -> bool {
        self.waiting[side as usize].store(true, Ordering::SeqCst);
        self.ring.is_closed()
            || match side {
                Side::Send => !self.ring.is_full(),
                Side::Recv => !self.ring.is_empty(),
            }
    }

    pub(super) fn is_waiting(&self, side: Side, order: Ordering) -> bool {
        self.waiting[side as usize].load(order)
    }
}

impl<T> Inner<T> {
    /// A blocking send on a buffered channel.
    pub(super) fn send_buffered(&self, b: &Buffer<T>, mut v: T) -> Result<(), SendError<T>> {
        let mut woken = false;
        loop {
            if woken || !b.is_waiting(Side::Send, Ordering::Relaxed) {
                match self.try_push(b, v) {
                    Ok(()) => return Ok(()),
                    Err(TrySendError::Disconnected(back)) => return Err(SendError(back)),
                    Err(TrySendError::Full(back)) => v = back,
                }
            }
            self.wait_for(Side::Send);
            woken = true;
        }
    }

    /// A blocking receive on a buffered channel.
    pub(super) fn recv_buffered(&self, b: &Buffer<T>) -> Result<T, RecvError> {
        loop {
            match self.try_pop(b) {
                Ok(v) => return Ok(v),
                Err(TryRecvError::Disconnected) => return Err(RecvError),
                Err(TryRecvError::Empty) => self.wait_for(Side::Recv),
            }
        }
    }

    /// Pushes without the lock; wakes a parked receiver if one is flagged.
    pub(super) fn try_push(&self, b: &Buffer<T>, v: T) -> Result<(), TrySendError<T>> {
        b.ring.push(v)?;
        self.notify(b, Side::Recv);
        Ok(())
    }

    /// Pops without the lock; wakes a parked sender if one is flagged.
    pub(super) fn try_pop(&self, b: &Buffer<T>) -> Result<T, TryRecvError> {
        let v = b.ring.pop()?;
        self.notify(b, Side::Send);
        Ok(v)
    }

    /// Parks until `side`'s operation is worth retrying (woken by a
    /// notifier or `close`), or returns at once if it is already.
    fn wait_for(&self, side: Side) {
        let wait = Wait::new(None);
        self.block_on(self.lock(), &wait, side);
    }

    /// After a push (pop): wakes one parked party of `side` if its flag is
    /// up (the mover's half of the handshake, module docs).
    fn notify(&self, b: &Buffer<T>, side: Side) {
        if b.is_waiting(side, Ordering::SeqCst) {
            let mut wakes = Wakeups::default();
            let mut st = self.lock();
            self.wake_one(&mut st, side, &mut wakes);
        }
    }

    /// Claims the first claimable record of `side` and wakes its owner to
    /// retry (it carries no value). Under the lock.
    pub(super) fn wake_one(&self, st: &mut State<T>, side: Side, wakes: &mut Wakeups) {
        // SAFETY: `st` is this channel's state and the caller holds its lock.
        if let Some(w) = unsafe { pop_claimed(st.queue(side)) } {
            // SAFETY: dequeued and claimed under the lock the caller holds.
            unsafe { w.notify(wakes) };
        }
        self.refresh_waiting(st, side);
    }

    /// Lowers `side`'s flag if its queue is empty. Under the lock.
    pub(super) fn refresh_waiting(&self, st: &mut State<T>, side: Side) {
        if let Some(b) = &self.buffer {
            if st.queue(side).is_empty() {
                b.waiting[side as usize].store(false, Ordering::Relaxed);
            }
        }
    }
}
