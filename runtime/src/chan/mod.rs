//! Channels: Go's `chan T` (multi-producer, multi-consumer).
//!
//! One lock guards each channel's queues of parked receivers and senders,
//! `closed` and the handle counts, as in Go's `hchan`. A blocked operation
//! queues a record on its own stack (`wait.rs`), drops the lock and parks
//! (goroutine) or blocks (plain thread) through the scheduler's park/ready
//! contract. `select!` (`select.rs`) queues one record per case, sharing
//! one claim, so exactly one case wins. Values move exactly once: sent,
//! returned in an error, or dropped with the channel.
//!
//! An unbuffered channel is a hand-off: the party that completes a parked
//! operation claims its record, moves the value through it and wakes the
//! waiter, all under the channel lock. A buffered channel keeps its values
//! outside the lock, in a lock-free ring (`ring.rs`): sends and receives
//! are lock-free while neither side has to wait, and a parked party is
//! woken to retry rather than handed a value (`buffered.rs`).
//!
//! Closing (explicitly, or when the last `Sender` drops) wakes every parked
//! receiver (they get `RecvError` once the buffer is drained) and every
//! parked sender (they get their value back in `SendError`). When the last
//! `Receiver` drops, the channel closes too, so senders never block on a
//! channel nobody can read.

mod buffered;
mod errors;
mod ring;
mod ring_sync;
mod select;
mod wait;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use errors::{
    RecvError, RecvTimeoutError, SelectTimeoutError, SendError, TryRecvError, TrySendError,
};
#[doc(hidden)]
pub use select::{select, select_deadline, select_timeout, RecvCase, SelectCase, SendCase};

use buffered::Buffer;
use goro_scheduler::{Lock, LockGuard};
use wait::{pop_claimed, SyncPoint, Wait, WaitPtr, WaitQueue, Wakeups};

use crate::sched::{park, WaitReason};

/// Creates a channel of capacity `cap` (0: unbuffered rendezvous), Go's
/// `make(chan T, cap)`. The buffer is allocated up front, as Go's.
///
/// # Panics
/// If `cap` is too large to allocate (Go's "makechan: size out of range").
pub fn chan<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: Lock::new(State {
            closed: false,
            recvq: WaitQueue::default(),
            sendq: WaitQueue::default(),
        }),
        buffer: (cap > 0).then(|| Box::new(Buffer::new(cap))),
        cap,
        senders: AtomicUsize::new(1),
        receivers: AtomicUsize::new(1),
    });
    (
        Sender {
            inner: inner.clone(),
        },
        Receiver { inner },
    )
}

struct Inner<T> {
    state: Lock<State<T>>,
    /// The buffer and its waiting flags, outside the lock (`buffered.rs`);
    /// `None` when unbuffered. Boxed: unbuffered channels stay small.
    buffer: Option<Box<Buffer<T>>>,
    cap: usize,
    /// Live handles of each side, counted like `Arc`'s references (no
    /// lock: cloning a handle per goroutine is common); the last of either
    /// side to go closes the channel.
    senders: AtomicUsize,
    receivers: AtomicUsize,
}

struct State<T> {
    closed: bool,
    recvq: WaitQueue<T>,
    sendq: WaitQueue<T>,
}

/// Which end of a channel an operation or a queue belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    Send = 0,
    Recv = 1,
}

impl<T> State<T> {
    fn queue(&mut self, side: Side) -> &mut WaitQueue<T> {
        match side {
            Side::Send => &mut self.sendq,
            Side::Recv => &mut self.recvq,
        }
    }
}

/// Withdraws a queued record if its owner is unwound while parked (runtime
/// shutdown). On a normal return the claimer has dequeued it already.
struct Withdraw<'a, T> {
    inner: &'a Inner<T>,
    wait: &'a Wait<T>,
    side: Side,
}

impl<T> Drop for Withdraw<'_, T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // Taking the lock also waits for a claimer still waking us.
            self.inner.withdraw(self.wait, self.side);
        }
    }
}

impl<T> Inner<T> {
    fn lock(&self) -> LockGuard<'_, State<T>> {
        self.state.lock()
    }

    fn close(&self) -> bool {
        let mut wakes = Wakeups::default();
        let mut st = self.lock();
        if st.closed {
            return false;
        }
        st.closed = true;
        if let Some(b) = &self.buffer {
            b.ring.close();
        }
        // A buffered channel's waiters ignore their records and retry, so
        // they find the buffer to drain, or the ring closed.
        // SAFETY: our queues, under the lock we hold.
        while let Some(r) = unsafe { pop_claimed(&mut st.recvq) } {
            // SAFETY: dequeued and claimed under the lock we hold.
            unsafe { r.complete(None, true, &mut wakes) };
        }
        // SAFETY: as above.
        while let Some(s) = unsafe { pop_claimed(&mut st.sendq) } {
            // SAFETY: as above; the value stays in the sender's slot.
            unsafe { s.complete(None, true, &mut wakes) };
        }
        self.refresh_waiting(&mut st, Side::Recv);
        self.refresh_waiting(&mut st, Side::Send);
        true
    }

    /// Queues `wait` (already attached to its sync point) on `side`. On a
    /// buffered channel this is the parker's half of the handshake in
    /// `buffered.rs`: it returns whether the operation can proceed after
    /// all, and then the caller withdraws the record and retries.
    fn enqueue(&self, st: &mut State<T>, wait: WaitPtr<T>, side: Side) -> bool {
        st.queue(side).push_back(wait);
        self.buffer
            .as_ref()
            .is_some_and(|b| b.publish_and_recheck(side))
    }

    /// Removes `wait` from its queue if it is still there, under the lock.
    fn unqueue(&self, st: &mut State<T>, wait: &Wait<T>, side: Side) {
        st.queue(side).remove(wait);
        self.refresh_waiting(st, side);
    }

    /// Takes the lock and removes `wait` from its queue if it is still there.
    fn withdraw(&self, wait: &Wait<T>, side: Side) {
        self.unqueue(&mut self.lock(), wait, side);
    }

    /// Queues a one-case operation's record, releases the lock and parks
    /// until a completer (or `close`) is done with it. On a buffered channel
    /// it returns at once instead, record withdrawn, if the operation can
    /// proceed after all (the second half of the handshake in `buffered.rs`).
    fn block_on(&self, mut st: LockGuard<'_, State<T>>, wait: &Wait<T>, side: Side) {
        let sync = SyncPoint::new();
        if self.enqueue(&mut st, wait.attach(&sync, 0), side) {
            self.unqueue(&mut st, wait, side);
            return;
        }
        let withdraw = Withdraw {
            inner: self,
            wait,
            side,
        };
        drop(st);
        park(match side {
            Side::Send => WaitReason::ChanSend,
            Side::Recv => WaitReason::ChanReceive,
        });
        drop(withdraw);
    }

    /// Counts one more handle of a side (`count` is `senders` or
    /// `receivers`).
    fn add_handle(count: &AtomicUsize) {
        // Relaxed, as `Arc::clone`: the new handle comes from a live one.
        if count.fetch_add(1, Ordering::Relaxed) > isize::MAX as usize {
            // As `Arc`: a count this high means leaked handles; wrapping
            // around would close the channel under live handles.
            std::process::abort();
        }
    }

    /// Counts one handle of a side gone; closes the channel when it was
    /// the last of that side.
    fn drop_handle(&self, count: &AtomicUsize) {
        // AcqRel, as `Arc`'s drop: the last one sees every other handle's
        // use before it closes.
        if count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.close();
        }
    }

    /// Sends without blocking, under the lock; gives the value back if it
    /// would block.
    fn send_now(
        &self,
        st: &mut State<T>,
        v: T,
        wakes: &mut Wakeups,
    ) -> Result<(), TrySendError<T>> {
        if let Some(b) = &self.buffer {
            b.ring.push(v)?;
            self.wake_one(st, Side::Recv, wakes);
            return Ok(());
        }
        if st.closed {
            return Err(TrySendError::Disconnected(v));
        }
        // SAFETY: the caller holds the lock of `st`.
        if let Some(r) = unsafe { pop_claimed(&mut st.recvq) } {
            // SAFETY: dequeued and claimed under the lock the caller holds.
            unsafe { r.complete(Some(v), false, wakes) };
            return Ok(());
        }
        Err(TrySendError::Full(v))
    }

    /// Receives without blocking, under the lock.
    fn recv_now(&self, st: &mut State<T>, wakes: &mut Wakeups) -> Result<T, TryRecvError> {
        if let Some(b) = &self.buffer {
            let v = b.ring.pop()?;
            self.wake_one(st, Side::Send, wakes);
            return Ok(v);
        }
        // SAFETY: the caller holds the lock of `st`.
        if let Some(s) = unsafe { pop_claimed(&mut st.sendq) } {
            // SAFETY: dequeued and claimed under the lock the caller holds.
            if let Some(v) = unsafe { s.complete(None, false, wakes) } {
                return Ok(v);
            }
        }
        if st.closed {
            Err(TryRecvError::Disconnected)
        } else {
            Err(TryRecvError::Empty)
        }
    }
}

/// The sending half of a channel. `Clone + Send + Sync`; dropping the last
/// one closes the channel.
pub struct Sender<T> {
    inner: Arc<Inner<T>>,
}

/// The receiving half of a channel. `Clone + Send + Sync`; dropping the last
/// one closes the channel.
pub struct Receiver<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Sender<T> {
    /// Whether `self` and `other` send on the same channel (how
    /// `signal::stop` finds a channel's registrations).
    pub(crate) fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Sends `v`, parking while the buffer is full (or, unbuffered, until a
    /// receiver takes it). `Err(SendError(v))` once the channel is closed.
    pub fn send(&self, v: T) -> Result<(), SendError<T>> {
        crate::preempt_point();
        let inner = &*self.inner;
        if let Some(b) = &inner.buffer {
            return inner.send_buffered(b, v);
        }
        let mut wakes = Wakeups::default();
        let mut st = inner.lock();
        let v = match inner.send_now(&mut st, v, &mut wakes) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Disconnected(v)) => return Err(SendError(v)),
            Err(TrySendError::Full(v)) => v,
        };
        let wait = Wait::new(Some(v));
        inner.block_on(st, &wait, Side::Send);
        wait.sent()
    }

    /// Sends `v` if that needs no waiting.
    pub fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        let inner = &*self.inner;
        if let Some(b) = &inner.buffer {
            return inner.try_push(b, v);
        }
        let mut wakes = Wakeups::default();
        let mut st = inner.lock();
        inner.send_now(&mut st, v, &mut wakes)
    }
}

impl<T> Receiver<T> {
    /// Receives a value, parking until one is available. `Err(RecvError)`
    /// once the channel is closed and drained.
    pub fn recv(&self) -> Result<T, RecvError> {
        crate::preempt_point();
        let inner = &*self.inner;
        if let Some(b) = &inner.buffer {
            return inner.recv_buffered(b);
        }
        let mut wakes = Wakeups::default();
        let mut st = inner.lock();
        match inner.recv_now(&mut st, &mut wakes) {
            Ok(v) => return Ok(v),
            Err(TryRecvError::Disconnected) => return Err(RecvError),
            Err(TryRecvError::Empty) => {}
        }
        let wait = Wait::new(None);
        inner.block_on(st, &wait, Side::Recv);
        wait.received()
    }

    /// Receives a value if one is available now.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let inner = &*self.inner;
        if let Some(b) = &inner.buffer {
            return inner.try_pop(b);
        }
        let mut wakes = Wakeups::default();
        let mut st = inner.lock();
        inner.recv_now(&mut st, &mut wakes)
    }

    /// Receives a value, waiting at most `timeout` for one.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.recv_deadline(deadline),
            None => self.recv().map_err(|_| RecvTimeoutError::Disconnected),
        }
    }

    /// Receives a value, waiting until `deadline` at most.
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        let mut case = RecvCase::new(self);
        match select_deadline(&mut [&mut case], deadline) {
            Ok(_) => case
                .into_result()
                .map_err(|_| RecvTimeoutError::Disconnected),
            Err(SelectTimeoutError) => Err(RecvTimeoutError::Timeout),
        }
    }

    /// An iterator that receives until the channel is closed and drained
    /// (`for v := range ch`).
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }
}

/// The queries and handle bookkeeping both halves share.
macro_rules! channel_half {
    ($half:ident, $count:ident) => {
        impl<T> $half<T> {
            /// Closes the channel (Go's `close`). Returns false if it was
            /// already closed.
            pub fn close(&self) -> bool {
                self.inner.close()
            }

            /// Values buffered now.
            pub fn len(&self) -> usize {
                self.inner.buffer.as_ref().map_or(0, |b| b.ring.len())
            }

            /// Whether nothing is buffered now.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// The buffer capacity (0 for unbuffered).
            pub fn cap(&self) -> usize {
                self.inner.cap
            }

            /// Whether the channel has been closed.
            pub fn is_closed(&self) -> bool {
                self.inner.lock().closed
            }
        }

        impl<T> Clone for $half<T> {
            fn clone(&self) -> Self {
                Inner::<T>::add_handle(&self.inner.$count);
                $half {
                    inner: self.inner.clone(),
                }
            }
        }

        impl<T> Drop for $half<T> {
            fn drop(&mut self) {
                self.inner.drop_handle(&self.inner.$count);
            }
        }
    };
}

channel_half!(Sender, senders);
channel_half!(Receiver, receivers);

impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sender { .. }")
    }
}

impl<T> std::fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Receiver { .. }")
    }
}

/// Receives until the channel is closed and drained.
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

/// Owning iterator: receives until the channel is closed and drained.
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}
