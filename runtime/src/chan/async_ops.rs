//! `recv_async` and `send_async` (flume's names): channel operations as
//! futures, so that one channel connects async tasks (Tokio's, or any
//! executor's) and goroutines, both ways.
//!
//! An async operation waits exactly as a blocked goroutine does, through a
//! [`Wait`] record queued on the channel and a [`SyncPoint`] claimed by the
//! party that completes it (`wait.rs`); the difference is where they live
//! and who is woken. Both live in the future ([`AsyncOp`]), which is
//! `!Unpin`: once polled it stays where it is, so a queued record's address
//! stays valid. The sync point's waiter is the polling task's `Waker`
//! (`Waiter::from_waker`): a completer wakes it after releasing the channel
//! lock, and the task learns the outcome when it polls again, under the
//! lock. A poll that finds the record still unclaimed refreshes the waker
//! (the task may have moved) and stays pending.
//!
//! Cancellation: dropping the future withdraws its record under the channel
//! lock, so it leaves no waiter behind, and loses no value:
//! - a record still unclaimed is simply unqueued;
//! - on a buffered channel a claim is only "retry now" (`buffered.rs`): the
//!   dropped future passes it on to the next waiter of its side, since the
//!   value or room it announced may have been meant for nobody else;
//! - on an unbuffered channel a sender moves its value into a receiver's
//!   record and returns; a `recv_async` future dropped before it returned
//!   that value gives it back to the channel (`Inner::give_back`): to a
//!   queued receiver, else first in line for the next one;
//! - a `send_async` future keeps its value until a receiver takes it (out
//!   of its record, or out of the ring): dropped before, the value is
//!   dropped with it and never delivered; dropped after, it was delivered.
//!
//! Invariants, at the definitions below: `queued` is true exactly while the
//! record may be in the channel's queue (set when queued, cleared under the
//! lock once the owner saw the claim or withdrew it); the record and sync
//! point are only touched under the channel lock while `queued`.

use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};

use super::wait::{SyncPoint, Wait, Wakeups};
use super::{
    Inner, Op, Receiver, RecvError, SendError, Sender, Side, State, TryRecvError, TrySendError,
};

impl<T> Receiver<T> {
    /// Receives a value as a future (flume's `recv_async`): an async task
    /// awaits it instead of blocking its thread. `Err(RecvError)` once the
    /// channel is closed and drained. Cancellation-safe: dropping the
    /// future loses no value and leaves nothing queued on the channel.
    ///
    /// # Panics
    /// On a channel of a synctest bubble, outside that bubble (Go's
    /// "receive on synctest channel from outside bubble"), when called.
    #[track_caller]
    pub fn recv_async(&self) -> RecvFut<'_, T> {
        self.inner.check_bubble(Op::Receive);
        RecvFut {
            rx: self,
            op: AsyncOp::new(None),
        }
    }
}

impl<T> Sender<T> {
    /// Sends `v` as a future (flume's `send_async`): ready once the channel
    /// took the value; `Err(SendError(v))` gives it back if the channel is
    /// closed. Dropping the future before it is ready drops `v` undelivered.
    ///
    /// # Panics
    /// On a channel of a synctest bubble, outside that bubble (Go's "send
    /// on synctest channel from outside bubble"), when called.
    #[track_caller]
    pub fn send_async(&self, v: T) -> SendFut<'_, T> {
        self.inner.check_bubble(Op::Send);
        SendFut {
            tx: self,
            op: AsyncOp::new(Some(v)),
        }
    }
}

/// The future of [`Receiver::recv_async`].
#[must_use = "futures do nothing unless polled"]
pub struct RecvFut<'a, T> {
    rx: &'a Receiver<T>,
    op: AsyncOp<T>,
}

/// The future of [`Sender::send_async`].
#[must_use = "futures do nothing unless polled"]
pub struct SendFut<'a, T> {
    tx: &'a Sender<T>,
    op: AsyncOp<T>,
}

// SAFETY: the futures move between threads with their record and sync
// point. Other threads reach those only under the channel lock while the
// record is queued, and the owner touches them only under that lock while
// `queued` (or alone, when it is not); their waiter is a `Waker` (Send +
// Sync). Values cross threads through the record, hence `T: Send`, as for
// the channel handles.
unsafe impl<T: Send> Send for RecvFut<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for SendFut<'_, T> {}
// SAFETY: a shared reference to either future gives access to nothing.
unsafe impl<T: Send> Sync for RecvFut<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for SendFut<'_, T> {}

/// One async operation's waiting state, pinned inside its future.
struct AsyncOp<T> {
    /// The record (a sender's holds the value until it is taken).
    wait: Wait<T>,
    sync: SyncPoint,
    /// Whether the record may be queued: set when it is queued, cleared
    /// under the channel lock once the owner saw it claimed or withdrew it.
    queued: bool,
    /// A buffered send woken to retry: its turn, even past parked senders.
    woken: bool,
    /// Queued records point into this struct: it must not move.
    _pinned: PhantomPinned,
}

impl<T> AsyncOp<T> {
    fn new(value: Option<T>) -> AsyncOp<T> {
        AsyncOp {
            wait: Wait::new(value),
            sync: SyncPoint::unarmed(),
            queued: false,
            woken: false,
            _pinned: PhantomPinned,
        }
    }

    /// Queues the record on `side` for the task of `waker`, under the lock
    /// `st` of `inner`. False if (buffered) the operation can proceed after
    /// all: the record is withdrawn again, and the caller retries.
    fn enqueue(&mut self, inner: &Inner<T>, st: &mut State<T>, side: Side, waker: &Waker) -> bool {
        self.sync.arm(waker);
        if inner.enqueue(st, self.wait.attach(&self.sync, 0), side) {
            inner.unqueue(st, &self.wait, side);
            return false;
        }
        self.queued = true;
        true
    }

    /// For a queued record, under the channel lock: whether it was claimed
    /// (then it is out of the queue, and completed); if not, the waker is
    /// refreshed and the operation keeps waiting.
    fn claimed(&mut self, waker: &Waker) -> bool {
        if self.sync.selected().is_some() {
            self.queued = false;
            return true;
        }
        // SAFETY: the caller holds the lock of the only channel where the
        // record is queued, and the sync point is unclaimed.
        unsafe { self.sync.update_waker(waker) };
        false
    }

    /// The future is dropped: withdraws the record, or passes on what a
    /// claim brought that the owner never used (module docs).
    fn cancel(&mut self, inner: &Inner<T>, side: Side) {
        if !self.queued {
            return;
        }
        // Declared before the guard: the wake-ups are made after unlocking.
        let mut wakes = Wakeups::default();
        let mut st = inner.lock();
        self.queued = false;
        if self.sync.selected().is_none() {
            inner.unqueue(&mut st, &self.wait, side);
        } else if inner.buffer.is_some() {
            inner.wake_one(&mut st, side, &mut wakes);
        } else if side == Side::Recv {
            if let Some(v) = self.wait.slot_mut().take() {
                inner.give_back(&mut st, v, &mut wakes);
            }
        }
        // An unbuffered send's claim took its value (or `close` left it in
        // the slot, dropped with the future).
    }
}

impl<T> Future for RecvFut<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: nothing is moved out of the future; `op` stays in place
        // (`&mut` to a `!Unpin` type asserts no uniqueness to the queue's
        // pointers into it).
        let this = unsafe { self.get_unchecked_mut() };
        let inner = &*this.rx.inner;
        let op = &mut this.op;
        inner.fire_due_timer();
        if let (Some(b), false) = (&inner.buffer, op.queued) {
            match inner.try_pop(b) {
                Ok(v) => return Poll::Ready(Ok(v)),
                Err(TryRecvError::Disconnected) => return Poll::Ready(Err(RecvError)),
                Err(TryRecvError::Empty) => {}
            }
        }
        loop {
            let mut wakes = Wakeups::default();
            let mut st = inner.lock();
            if op.queued {
                if !op.claimed(cx.waker()) {
                    return Poll::Pending;
                }
                if inner.buffer.is_none() {
                    // A sender moved its value in, or `close` completed it.
                    return Poll::Ready(op.wait.received());
                }
            }
            match inner.recv_now(&mut st, &mut wakes) {
                Ok(v) => return Poll::Ready(Ok(v)),
                Err(TryRecvError::Disconnected) => return Poll::Ready(Err(RecvError)),
                Err(TryRecvError::Empty) => {}
            }
            if op.enqueue(inner, &mut st, Side::Recv, cx.waker()) {
                return Poll::Pending;
            }
        }
    }
}

impl<T> Drop for RecvFut<'_, T> {
    fn drop(&mut self) {
        self.op.cancel(&self.rx.inner, Side::Recv);
    }
}

impl<T> Future for SendFut<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: as in `RecvFut::poll`.
        let this = unsafe { self.get_unchecked_mut() };
        let inner = &*this.tx.inner;
        let op = &mut this.op;
        if let (Some(b), false) = (&inner.buffer, op.queued) {
            if op.woken || !b.is_waiting(Side::Send, Ordering::Relaxed) {
                if let Some(v) = op.wait.slot_mut().take() {
                    match inner.try_push(b, v) {
                        Ok(()) => return Poll::Ready(Ok(())),
                        Err(TrySendError::Disconnected(v)) => {
                            return Poll::Ready(Err(SendError(v)))
                        }
                        Err(TrySendError::Full(v)) => *op.wait.slot_mut() = Some(v),
                    }
                }
            }
        }
        loop {
            let mut wakes = Wakeups::default();
            let mut st = inner.lock();
            if op.queued {
                if !op.claimed(cx.waker()) {
                    return Poll::Pending;
                }
                if inner.buffer.is_none() {
                    // A receiver took the value, or `close` left it to us.
                    return Poll::Ready(op.wait.sent());
                }
                op.woken = true;
            }
            let Some(v) = op.wait.slot_mut().take() else {
                panic!("goro: a send_async future was polled after it completed");
            };
            let v = match &inner.buffer {
                // Queue behind parked senders, unless it is our turn.
                Some(b) if !op.woken && b.is_waiting(Side::Send, Ordering::Relaxed) => v,
                _ => match inner.send_now(&mut st, v, &mut wakes) {
                    Ok(()) => return Poll::Ready(Ok(())),
                    Err(TrySendError::Disconnected(v)) => return Poll::Ready(Err(SendError(v))),
                    Err(TrySendError::Full(v)) => v,
                },
            };
            *op.wait.slot_mut() = Some(v);
            if op.enqueue(inner, &mut st, Side::Send, cx.waker()) {
                return Poll::Pending;
            }
            op.woken = true;
        }
    }
}

impl<T> Drop for SendFut<'_, T> {
    fn drop(&mut self) {
        self.op.cancel(&self.tx.inner, Side::Send);
    }
}
