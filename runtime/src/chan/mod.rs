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
//!
//! Two kinds of channel never close by their senders going away: a timer's
//! (`time.rs`: its sender count starts one higher than the handles made, so
//! a stopped, dropped timer leaves its receivers blocked, as Go's) and
//! [`never`](fn@never)'s (no sender at all: Go's nil channel). A timer's channel also
//! knows its timer (`Inner::timer`), so a receive or a `select` fires the
//! timer first if it is due (Go 1.23): an expired timer is ready at once.
//!
//! [`Select`] (`dynamic.rs`) is `select!` over a set of operations sized at
//! run time, on the same cases and the same `select` function.
//!
//! A channel made in a synctest bubble belongs to it: operations from
//! outside the bubble panic, as in Go (`bubble.rs`).
//!
//! Every call, `try_send`/`try_recv` included, is a preemption point
//! (`crate::preempt_point`: a thread-local load and a branch), so a
//! goroutine polling a channel lets the goroutine it waits for run.

mod async_ops;
mod bubble;
mod buffered;
mod dynamic;
mod errors;
mod ring;
mod ring_sync;
mod select;
mod wait;

use std::collections::VecDeque;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

pub use async_ops::{RecvFut, SendFut};
pub use dynamic::{Select, SelectedOperation};
pub use errors::{
    RecvError, RecvTimeoutError, SelectTimeoutError, SendError, SendTimeoutError, TryRecvError,
    TrySelectError, TrySendError,
};
#[doc(hidden)]
pub use select::{
    select, select_deadline, select_timeout, Guarded, RecvCase, SelectCase, SendCase,
};

use bubble::Op;
use buffered::Buffer;
use goro_scheduler::{current_bubble_id, Lock, LockGuard};
use wait::{pop_claimed, SyncPoint, Wait, WaitPtr, WaitQueue, Wakeups};

use crate::sched::{park, WaitReason};

/// Creates a channel of capacity `cap` (0: unbuffered rendezvous), Go's
/// `make(chan T, cap)`. The buffer is allocated up front, as Go's.
///
/// # Panics
/// If `cap` is too large to allocate (Go's "makechan: size out of range").
#[track_caller]
pub fn chan<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let inner = Inner::new(cap, 1, None, current_bubble_id());
    (
        Sender {
            inner: inner.clone(),
        },
        Receiver { inner },
    )
}

/// A receiver that is never ready (crossbeam's `never`): Go's nil channel.
/// A `recv` on it parks forever (a deadlock, as in Go, if nothing else can
/// run), `recv_timeout` times out, and in a `select!` or [`Select`] its
/// case is never chosen; use it to switch a case off.
pub fn never<T>() -> Receiver<T> {
    never_in(current_bubble_id())
}

/// A [`never`] receiver made outside any bubble, usable from all: for a
/// process-wide static (the `done` channel of contexts never cancelled).
pub(crate) fn never_outside_bubbles<T>() -> Receiver<T> {
    never_in(0)
}

fn never_in<T>(bubble: u64) -> Receiver<T> {
    // One sender counted and none made: it never closes, nothing arrives.
    Receiver {
        inner: Inner::new(0, 1, None, bubble),
    }
}

/// A timer's channel (`time.rs`): one slot, and a sender count one higher
/// than the one handle made, so dropping the timer never closes it.
/// `timer` is fired when due by receives and selects on the channel.
pub(crate) fn timer_chan<T>(timer: Option<Weak<dyn DueTimer>>) -> (Sender<T>, Receiver<T>) {
    let inner = Inner::new(1, 2, timer, current_bubble_id());
    (
        Sender {
            inner: inner.clone(),
        },
        Receiver { inner },
    )
}

/// A timer behind a channel: lets the channel's receivers fire it when it
/// is due, before they look at the channel (Go 1.23's synchronous timers).
pub(crate) trait DueTimer: Send + Sync {
    /// Delivers the timer's value now if its deadline has passed. Takes the
    /// timer's lock, then may take its channel's lock (to wake a receiver):
    /// never call it with a channel lock held.
    fn fire_if_due(self: Arc<Self>);
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
    /// The timer sending on this channel (timer channels only; `Weak`: the
    /// timer holds the channel through its `Sender`).
    timer: Option<Weak<dyn DueTimer>>,
    /// The synctest bubble it was made in (0: none): only goroutines of
    /// that bubble may use it (`bubble.rs`), and its operations block them
    /// durably (`goro::synctest`).
    bubble: u64,
}

struct State<T> {
    closed: bool,
    recvq: WaitQueue<T>,
    sendq: WaitQueue<T>,
    /// Unbuffered only: values a sender handed to a `recv_async` future
    /// that was dropped before it returned them (`async_ops.rs`). Receivers
    /// take these first. Invariant: while one is here, no claimable
    /// receiver is queued (a value given back goes to a queued receiver if
    /// there is one, and a receiver looks here before it queues).
    returned: VecDeque<T>,
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
    /// A channel of capacity `cap` whose sender count starts at `senders`,
    /// belonging to synctest bubble `bubble` (0: none).
    #[track_caller]
    fn new(
        cap: usize,
        senders: usize,
        timer: Option<Weak<dyn DueTimer>>,
        bubble: u64,
    ) -> Arc<Inner<T>> {
        Arc::new(Inner {
            state: Lock::new(State {
                closed: false,
                recvq: WaitQueue::default(),
                sendq: WaitQueue::default(),
                returned: VecDeque::new(),
            }),
            // An `if`, not `then(|| ..)`: a capacity panic names `chan`'s
            // caller (a closure would not inherit `#[track_caller]`).
            buffer: if cap > 0 {
                Some(Box::new(Buffer::new(cap)))
            } else {
                None
            },
            cap,
            senders: AtomicUsize::new(senders),
            receivers: AtomicUsize::new(1),
            timer,
            bubble,
        })
    }

    /// Panics unless the caller may do `op` on this channel (`bubble.rs`):
    /// one predictable branch for a channel made outside bubbles.
    #[inline(always)]
    #[track_caller]
    fn check_bubble(&self, op: Op) {
        bubble::check(self.bubble, op);
    }

    fn lock(&self) -> LockGuard<'_, State<T>> {
        self.state.lock()
    }

    /// Fires this channel's timer if it is due (timer channels only: one
    /// predictable branch for the others). No channel lock may be held.
    #[inline]
    fn fire_due_timer(&self) {
        if let Some(timer) = &self.timer {
            fire_due(timer);
        }
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
        for side in [Side::Recv, Side::Send] {
            // SAFETY: this channel's queue, under the lock we hold.
            while let Some(w) = unsafe { pop_claimed(st.queue(side)) } {
                // SAFETY: dequeued and claimed under the lock we hold. A
                // sender's value stays in its slot (`closed`).
                unsafe { w.complete(None, true, &mut wakes) };
            }
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
        let durable = self.bubble != 0 && self.bubble == current_bubble_id();
        park(match (side, durable) {
            (Side::Send, false) => WaitReason::ChanSend,
            (Side::Recv, false) => WaitReason::ChanReceive,
            (Side::Send, true) => WaitReason::ChanSendDurable,
            (Side::Recv, true) => WaitReason::ChanReceiveDurable,
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

    /// Puts back a value that a dropped `recv_async` future was handed on an
    /// unbuffered channel: to a queued receiver if there is one, else in
    /// `returned`, where the next receiver finds it. Under the lock.
    fn give_back(&self, st: &mut State<T>, v: T, wakes: &mut Wakeups) {
        // SAFETY: the caller holds the lock of `st`.
        if let Some(r) = unsafe { pop_claimed(&mut st.recvq) } {
            // SAFETY: dequeued and claimed under the lock the caller holds.
            unsafe { r.complete(Some(v), false, wakes) };
            return;
        }
        st.returned.push_back(v);
    }

    /// Receives without blocking, under the lock.
    fn recv_now(&self, st: &mut State<T>, wakes: &mut Wakeups) -> Result<T, TryRecvError> {
        if let Some(b) = &self.buffer {
            let v = b.ring.pop()?;
            self.wake_one(st, Side::Send, wakes);
            return Ok(v);
        }
        if let Some(v) = st.returned.pop_front() {
            return Ok(v);
        }
        // SAFETY: the caller holds the lock of `st`.
        while let Some(s) = unsafe { pop_claimed(&mut st.sendq) } {
            // SAFETY: dequeued and claimed under the lock the caller holds.
            // A record without a value is a `Select` waiting for a
            // receiver to appear (`dynamic.rs`): it is woken, and the
            // search goes on.
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

#[cold]
#[inline(never)]
fn fire_due(timer: &Weak<dyn DueTimer>) {
    if let Some(timer) = timer.upgrade() {
        timer.fire_if_due();
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

// Unwind safety, as crossbeam-channel's handles: the lock's `UnsafeCell`
// makes the auto traits say no, but a panic can never leave a channel
// half-updated. No user code runs while the channel lock is held or while
// a ring slot is claimed (values are only moved, never dropped or cloned,
// in those sections; a value dropped with its channel is dropped outside
// both), so every operation a panic could interrupt has either happened
// entirely or not at all, and the handles observe no broken invariant.
impl<T> UnwindSafe for Sender<T> {}
impl<T> RefUnwindSafe for Sender<T> {}
impl<T> UnwindSafe for Receiver<T> {}
impl<T> RefUnwindSafe for Receiver<T> {}

impl<T> Sender<T> {
    /// Whether `self` and `other` send on the same channel (how
    /// `signal::stop` finds a channel's registrations).
    pub(crate) fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Sends `v`, parking while the buffer is full (or, unbuffered, until a
    /// receiver takes it). `Err(SendError(v))` once the channel is closed.
    ///
    /// # Panics
    /// On a channel of a synctest bubble, outside that bubble (Go's "send
    /// on synctest channel from outside bubble"); so do the other sends.
    #[track_caller]
    pub fn send(&self, v: T) -> Result<(), SendError<T>> {
        self.inner.check_bubble(Op::Send);
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
    #[track_caller]
    pub fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        self.inner.check_bubble(Op::Send);
        crate::preempt_point();
        self.send_now(v)
    }

    /// `try_send` without the preemption point and without the bubble
    /// check: for the runtime's own sends under a lock of its own (a firing
    /// timer, whose bubble's settler need not be a goroutine of it).
    pub(crate) fn send_now(&self, v: T) -> Result<(), TrySendError<T>> {
        let inner = &*self.inner;
        if let Some(b) = &inner.buffer {
            return inner.try_push(b, v);
        }
        let mut wakes = Wakeups::default();
        let mut st = inner.lock();
        inner.send_now(&mut st, v, &mut wakes)
    }

    /// Sends `v`, waiting at most `timeout` for the channel to take it
    /// (crossbeam's `send_timeout`); the value comes back on failure.
    #[track_caller]
    pub fn send_timeout(&self, v: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        match crate::time::now().checked_add(timeout) {
            Some(deadline) => self.send_deadline(v, deadline),
            None => self
                .send(v)
                .map_err(|SendError(v)| SendTimeoutError::Disconnected(v)),
        }
    }

    /// Sends `v`, waiting until `deadline` at most.
    #[track_caller]
    pub fn send_deadline(&self, v: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        self.inner.check_bubble(Op::Send);
        let mut case = SendCase::new(self, v);
        match select_deadline(&mut [&mut case], deadline) {
            Ok(_) => case
                .into_result()
                .map_err(|SendError(v)| SendTimeoutError::Disconnected(v)),
            Err(SelectTimeoutError) => Err(SendTimeoutError::Timeout(case.into_unsent())),
        }
    }
}

impl<T> Receiver<T> {
    /// Receives a value, parking until one is available. `Err(RecvError)`
    /// once the channel is closed and drained.
    ///
    /// # Panics
    /// On a channel of a synctest bubble, outside that bubble (Go's
    /// "receive on synctest channel from outside bubble"); so do the other
    /// receives.
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        self.inner.check_bubble(Op::Receive);
        crate::preempt_point();
        let inner = &*self.inner;
        inner.fire_due_timer();
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
    #[track_caller]
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.inner.check_bubble(Op::Receive);
        crate::preempt_point();
        self.inner.fire_due_timer();
        self.recv_now()
    }

    /// `try_recv` without the preemption point, without firing the
    /// channel's timer and without the bubble check: for a timer draining
    /// its own channel under its lock.
    pub(crate) fn recv_now(&self) -> Result<T, TryRecvError> {
        let inner = &*self.inner;
        if let Some(b) = &inner.buffer {
            return inner.try_pop(b);
        }
        let mut wakes = Wakeups::default();
        let mut st = inner.lock();
        inner.recv_now(&mut st, &mut wakes)
    }

    /// Receives a value, waiting at most `timeout` for one.
    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        match crate::time::now().checked_add(timeout) {
            Some(deadline) => self.recv_deadline(deadline),
            None => self.recv().map_err(|_| RecvTimeoutError::Disconnected),
        }
    }

    /// Receives a value, waiting until `deadline` at most.
    #[track_caller]
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.inner.check_bubble(Op::Receive);
        let mut case = RecvCase::new(self);
        match select_deadline(&mut [&mut case], deadline) {
            Ok(_) => case
                .into_result()
                .map_err(|_| RecvTimeoutError::Disconnected),
            Err(SelectTimeoutError) => Err(RecvTimeoutError::Timeout),
        }
    }

    /// `close` without the bubble check: for the runtime's own closes (a
    /// context's `done` channel, cancelled from wherever).
    pub(crate) fn close_now(&self) -> bool {
        self.inner.close()
    }

    /// An iterator that receives until the channel is closed and drained
    /// (`for v := range ch`).
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// An iterator over the values available now: it ends at the first
    /// `try_recv` that finds nothing (crossbeam's `try_iter`).
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }
}

/// The queries and handle bookkeeping both halves share.
macro_rules! channel_half {
    ($half:ident, $count:ident) => {
        impl<T> $half<T> {
            /// Closes the channel (Go's `close`). Returns false if it was
            /// already closed.
            ///
            /// # Panics
            /// On a channel of a synctest bubble, outside that bubble (Go's
            /// "close of synctest channel from outside bubble").
            #[track_caller]
            pub fn close(&self) -> bool {
                self.inner.check_bubble(Op::Close);
                self.inner.close()
            }

            /// Values buffered now.
            pub fn len(&self) -> usize {
                self.inner.buffer.as_ref().map_or(0, |b| b.ring.len())
            }

            /// Whether nothing is buffered now (always true for an
            /// unbuffered channel, as crossbeam's).
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// Whether the buffer is full now (always true for an
            /// unbuffered channel, as crossbeam's).
            pub fn is_full(&self) -> bool {
                self.inner.buffer.as_ref().is_none_or(|b| b.ring.is_full())
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

/// Receives what is available now (`Receiver::try_iter`).
pub struct TryIter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;
    #[track_caller]
    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

/// Receives until the channel is closed and drained.
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    #[track_caller]
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
    #[track_caller]
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
