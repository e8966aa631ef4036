//! Channels: Go's `chan T` (multi-producer, multi-consumer).
//!
//! One mutex guards each channel's state, as in Go's `hchan`: a FIFO buffer
//! of `cap` values (none for an unbuffered channel, where a send completes
//! only when a receiver has taken the value), the queue of parked receivers
//! and the queue of parked senders. A blocked operation puts a `Wait` record
//! on its own stack, queues a pointer to it, drops the lock and parks
//! (goroutine) or blocks (plain thread) through the scheduler's park/ready
//! contract. The party that completes it hands the value through the record,
//! marks it done and wakes the waiter, all under the channel lock; so once a
//! parked operation holds the lock again (its `Registration` guard does on
//! the way out, including when it is unwound), no waker can still be using
//! its record. Values move exactly once: sent, returned in an error, or
//! dropped with the channel.
//!
//! Closing (explicitly, or when the last `Sender` drops) wakes every parked
//! receiver (they get `RecvError` once the buffer is drained) and every
//! parked sender (they get their value back in `SendError`). When the last
//! `Receiver` drops, the channel closes too, so senders never block on a
//! channel nobody can read.

mod errors;

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub use errors::{RecvError, SendError, TryRecvError, TrySendError};

use crate::sched::{current_waiter, park, WaitReason, Waiter};

/// Creates a channel of capacity `cap` (0: unbuffered rendezvous), Go's
/// `make(chan T, cap)`.
pub fn chan<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: Mutex::new(State {
            buf: VecDeque::with_capacity(cap.min(1024)),
            closed: false,
            recvq: VecDeque::new(),
            sendq: VecDeque::new(),
            senders: 1,
            receivers: 1,
        }),
        cap,
    });
    (
        Sender {
            inner: inner.clone(),
        },
        Receiver { inner },
    )
}

struct Inner<T> {
    state: Mutex<State<T>>,
    cap: usize,
}

struct State<T> {
    buf: VecDeque<T>,
    closed: bool,
    recvq: VecDeque<WaitPtr<T>>,
    sendq: VecDeque<WaitPtr<T>>,
    senders: usize,
    receivers: usize,
}

/// A parked operation's record, on the parker's stack.
struct Wait<T> {
    /// The value being sent (sender), or received (receiver).
    slot: UnsafeCell<Option<T>>,
    waiter: UnsafeCell<Option<Waiter>>,
    closed: AtomicBool,
    done: AtomicBool,
}

struct WaitPtr<T>(NonNull<Wait<T>>);

// SAFETY: a WaitPtr is only dereferenced under the channel lock while its
// record is queued, and the record outlives its queue entry (the
// registration guard removes it, under the lock, before the record dies).
// The record carries a `T` across threads, hence `T: Send`.
unsafe impl<T: Send> Send for WaitPtr<T> {}

// SAFETY: all shared state is behind the mutex; see WaitPtr for the records.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Inner<T> {}

impl<T> Wait<T> {
    fn new(value: Option<T>) -> Wait<T> {
        Wait {
            slot: UnsafeCell::new(value),
            waiter: UnsafeCell::new(Some(current_waiter())),
            closed: AtomicBool::new(false),
            done: AtomicBool::new(false),
        }
    }

    fn ptr(&self) -> WaitPtr<T> {
        WaitPtr(NonNull::from(self))
    }

    /// Parks until completed. Parks at least once even if the completer
    /// was faster: its wake is owed to exactly one park (see the park
    /// contract), and skipping it would leave a stale wake-up behind.
    fn park(&self, reason: WaitReason) {
        loop {
            park(reason);
            if self.done.load(Ordering::Acquire) {
                return;
            }
        }
    }

    /// Takes the slot's value after `done` (the waker no longer touches it).
    fn take(&self) -> Option<T> {
        // SAFETY: `done` was observed with Acquire; the completer wrote the
        // slot before publishing `done` and never touches the record again.
        unsafe { (*self.slot.get()).take() }
    }
}

impl<T> WaitPtr<T> {
    /// Completes a dequeued record: optionally stores a value (for a
    /// receiver) or takes one (from a sender), marks it done and wakes its
    /// owner. Must be called with the channel lock held.
    ///
    /// # Safety
    /// The record was just removed from its queue under the lock, which is
    /// still held, so it is alive and no one else completes it.
    unsafe fn complete(self, give: Option<T>, closed: bool) -> Option<T> {
        // SAFETY: guaranteed by the caller.
        let w = unsafe { self.0.as_ref() };
        // SAFETY: the owner only reads the slot after `done`.
        let slot = unsafe { &mut *w.slot.get() };
        let taken = match give {
            Some(v) => {
                *slot = Some(v);
                None
            }
            None if closed => None,
            None => slot.take(),
        };
        // SAFETY: the waiter is only taken here, once, under the lock.
        let waiter = unsafe { (*w.waiter.get()).take() };
        w.closed.store(closed, Ordering::Relaxed);
        w.done.store(true, Ordering::Release);
        if let Some(waiter) = waiter {
            // SAFETY: registered by the owner for this park, woken once.
            unsafe { waiter.wake() };
        }
        taken
    }
}

/// Withdraws a queued record if its owner leaves without being completed
/// (it is unwound at runtime shutdown); waits for a concurrent completer by
/// taking the lock.
struct Registration<'a, T> {
    inner: &'a Inner<T>,
    wait: &'a Wait<T>,
    sender: bool,
}

impl<T> Drop for Registration<'_, T> {
    fn drop(&mut self) {
        if self.wait.done.load(Ordering::Acquire) {
            return;
        }
        let mut st = self.inner.lock();
        if self.wait.done.load(Ordering::Acquire) {
            return;
        }
        let me = NonNull::from(self.wait);
        let q = if self.sender {
            &mut st.sendq
        } else {
            &mut st.recvq
        };
        q.retain(|p| p.0 != me);
    }
}

impl<T> Inner<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // No user code runs under the lock, so poisoning cannot come from a
        // user panic; recover rather than cascade.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn close(&self) -> bool {
        let mut st = self.lock();
        if st.closed {
            return false;
        }
        st.closed = true;
        while let Some(r) = st.recvq.pop_front() {
            // SAFETY: dequeued under the lock we hold.
            unsafe { r.complete(None, true) };
        }
        while let Some(s) = st.sendq.pop_front() {
            // SAFETY: as above; the value stays in the sender's slot.
            unsafe { s.complete(None, true) };
        }
        true
    }

    /// Queues `wait` on the senders' or receivers' queue, releases the lock
    /// and parks until a completer (or `close`) is done with it. If the park
    /// is unwound, the registration guard withdraws the record.
    fn block_on(&self, mut st: MutexGuard<'_, State<T>>, wait: &Wait<T>, sender: bool) {
        let (queue, reason) = if sender {
            (&mut st.sendq, WaitReason::ChanSend)
        } else {
            (&mut st.recvq, WaitReason::ChanReceive)
        };
        queue.push_back(wait.ptr());
        let registration = Registration {
            inner: self,
            wait,
            sender,
        };
        drop(st);
        wait.park(reason);
        drop(registration);
    }

    /// Adds (`+1`) or drops (`-1`) one handle of a side; closes the channel
    /// when the last handle of either side goes.
    fn count_handle(&self, side: fn(&mut State<T>) -> &mut usize, delta: isize) {
        let last = {
            let mut st = self.lock();
            let n = side(&mut st);
            *n = n
                .checked_add_signed(delta)
                .expect("goro: channel handle count overflow");
            *n == 0
        };
        if last {
            self.close();
        }
    }

    /// Sends without blocking; gives the value back if it would block.
    fn send_now(&self, st: &mut State<T>, v: T) -> Result<(), TrySendError<T>> {
        if st.closed {
            return Err(TrySendError::Disconnected(v));
        }
        if let Some(r) = st.recvq.pop_front() {
            // SAFETY: dequeued under the lock the caller holds.
            unsafe { r.complete(Some(v), false) };
            return Ok(());
        }
        if st.buf.len() < self.cap {
            st.buf.push_back(v);
            return Ok(());
        }
        Err(TrySendError::Full(v))
    }

    /// Receives without blocking.
    fn recv_now(&self, st: &mut State<T>) -> Result<T, TryRecvError> {
        if let Some(v) = st.buf.pop_front() {
            if let Some(s) = st.sendq.pop_front() {
                // SAFETY: dequeued under the lock the caller holds.
                if let Some(sv) = unsafe { s.complete(None, false) } {
                    st.buf.push_back(sv);
                }
            }
            return Ok(v);
        }
        if let Some(s) = st.sendq.pop_front() {
            // SAFETY: as above.
            if let Some(v) = unsafe { s.complete(None, false) } {
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
    /// Sends `v`, parking while the buffer is full (or, unbuffered, until a
    /// receiver takes it). `Err(SendError(v))` once the channel is closed.
    pub fn send(&self, v: T) -> Result<(), SendError<T>> {
        crate::preempt_point();
        let inner = &*self.inner;
        let mut st = inner.lock();
        let v = match inner.send_now(&mut st, v) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Disconnected(v)) => return Err(SendError(v)),
            Err(TrySendError::Full(v)) => v,
        };
        let wait = Wait::new(Some(v));
        inner.block_on(st, &wait, true);
        if wait.closed.load(Ordering::Relaxed) {
            if let Some(v) = wait.take() {
                return Err(SendError(v));
            }
        }
        Ok(())
    }

    /// Sends `v` if that needs no waiting.
    pub fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        let inner = &*self.inner;
        let mut st = inner.lock();
        inner.send_now(&mut st, v)
    }
}

impl<T> Receiver<T> {
    /// Receives a value, parking until one is available. `Err(RecvError)`
    /// once the channel is closed and drained.
    pub fn recv(&self) -> Result<T, RecvError> {
        crate::preempt_point();
        let inner = &*self.inner;
        let mut st = inner.lock();
        match inner.recv_now(&mut st) {
            Ok(v) => return Ok(v),
            Err(TryRecvError::Disconnected) => return Err(RecvError),
            Err(TryRecvError::Empty) => {}
        }
        let wait = Wait::new(None);
        inner.block_on(st, &wait, false);
        wait.take().ok_or(RecvError)
    }

    /// Receives a value if one is available now.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let inner = &*self.inner;
        let mut st = inner.lock();
        inner.recv_now(&mut st)
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
                self.inner.lock().buf.len()
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
                self.inner.count_handle(|st| &mut st.$count, 1);
                $half {
                    inner: self.inner.clone(),
                }
            }
        }

        impl<T> Drop for $half<T> {
            fn drop(&mut self) {
                self.inner.count_handle(|st| &mut st.$count, -1);
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
