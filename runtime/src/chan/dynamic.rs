//! `Select`: a select over a set of operations sized at run time
//! (crossbeam-channel's `Select`, Go's `reflect.Select`), built on the
//! machinery of `select.rs` rather than beside it.
//!
//! The contract is crossbeam's: `select()` picks one operation (uniformly
//! at random among the ready ones, as `select!`) and returns a
//! [`SelectedOperation`], which the caller must complete with `op.recv` or
//! `op.send` on the channel it names. The difference between the two
//! kinds decides the design:
//!
//! - A receive is completed by the select itself: a receive case is the
//!   very `RecvCase` of `select!`, so the value is moved exactly once,
//!   inside the select, and waits in the case until `op.recv` takes it.
//!   Nothing is reserved and nothing can be lost to a race.
//! - A send cannot be completed by the select, since its value only comes
//!   with `op.send`. Its case ([`SendReady`]) waits for *readiness*: room
//!   in the buffer, a receiver parked on an unbuffered channel, or the
//!   channel closed. To wait, it queues an ordinary record with no value
//!   among the channel's senders. A buffered channel already wakes its
//!   senders that way ("wake and retry", `buffered.rs`). On an unbuffered
//!   channel a receiver that claims a record without a value wakes it and
//!   looks for the next sender (`Inner::recv_now`), so no value is ever
//!   taken from, or stranded in, such a record. `op.send` then sends as
//!   `Sender::send` does: at once if the channel is still ready, and if
//!   another sender took the room (or the waiting receiver) in between, it
//!   waits for the next chance, as the blocking send it is. Values are
//!   never lost or duplicated and no wake-up is lost; what is not promised
//!   is that `op.send` never waits.
//!
//! A [`SelectedOperation`] dropped without being completed panics (as
//! crossbeam's): for a receive, the received value would be lost.

use std::time::{Duration, Instant};

use super::errors::TrySelectError;
use super::select::{case_common, select, select_deadline, RecvCase, SelectCase};
use super::wait::{SyncPoint, Wait, Wakeups};
use super::{Inner, Op, Receiver, RecvError, SelectTimeoutError, SendError, Sender, Side};

/// A select over operations added at run time (crossbeam's `Select`).
///
/// ```ignore
/// let mut sel = goro::Select::new();
/// let ids: Vec<usize> = receivers.iter().map(|rx| sel.recv(rx)).collect();
/// let op = sel.select();
/// let i = ids.iter().position(|&id| id == op.index()).unwrap();
/// let v = op.recv(&receivers[i]);
/// ```
#[derive(Default)]
pub struct Select<'a> {
    entries: Vec<Entry<'a>>,
}

/// One operation of a `Select`.
struct Entry<'a> {
    case: Box<dyn SelectCase + 'a>,
    /// The channel (its `Inner`'s address) and side the operation is on:
    /// `SelectedOperation` checks the handle it is completed with.
    chan: usize,
    side: Side,
}

impl<'a> Select<'a> {
    /// An empty select.
    pub fn new() -> Select<'a> {
        Select::default()
    }

    /// Adds a receive on `rx`; returns its index.
    ///
    /// # Panics
    /// On a channel of a synctest bubble, outside that bubble (Go's
    /// "select on synctest channel from outside bubble"); so does `send`.
    #[track_caller]
    pub fn recv<T>(&mut self, rx: &'a Receiver<T>) -> usize {
        self.add(Box::new(RecvCase::new(rx)), &rx.inner, Side::Recv)
    }

    /// Adds a send on `tx` (its value is given to `op.send`); returns its
    /// index.
    #[track_caller]
    pub fn send<T>(&mut self, tx: &'a Sender<T>) -> usize {
        tx.inner.check_bubble(Op::Select);
        let case = SendReady {
            inner: &tx.inner,
            wait: Wait::new(None),
        };
        self.add(Box::new(case), &tx.inner, Side::Send)
    }

    fn add<T>(&mut self, case: Box<dyn SelectCase + 'a>, inner: &Inner<T>, side: Side) -> usize {
        self.entries.push(Entry {
            case,
            chan: chan_addr(inner),
            side,
        });
        self.entries.len() - 1
    }

    /// Waits until one operation is ready and selects it (uniformly at
    /// random among the ready ones). With no operation, blocks forever
    /// (Go's `select {}`).
    pub fn select(&mut self) -> SelectedOperation<'_> {
        match self.run(|cases| select(cases, false)) {
            Some(op) => op,
            None => unreachable!("goro: a blocking select returned no case"),
        }
    }

    /// Selects an operation that is ready now (linearizable, as
    /// `select!`'s `default`).
    pub fn try_select(&mut self) -> Result<SelectedOperation<'_>, TrySelectError> {
        self.run(|cases| select(cases, true)).ok_or(TrySelectError)
    }

    /// Waits at most `timeout` for an operation to become ready.
    pub fn select_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<SelectedOperation<'_>, SelectTimeoutError> {
        match crate::time::now().checked_add(timeout) {
            Some(deadline) => self.select_deadline(deadline),
            None => Ok(self.select()),
        }
    }

    /// Waits until `deadline` at most for an operation to become ready.
    pub fn select_deadline(
        &mut self,
        deadline: Instant,
    ) -> Result<SelectedOperation<'_>, SelectTimeoutError> {
        self.run(|cases| select_deadline(cases, deadline).ok())
            .ok_or(SelectTimeoutError)
    }

    fn run(
        &mut self,
        how: impl FnOnce(&mut [&mut dyn SelectCase]) -> Option<usize>,
    ) -> Option<SelectedOperation<'_>> {
        let mut cases: Vec<&mut dyn SelectCase> = self
            .entries
            .iter_mut()
            .map(|e| {
                e.case.reset();
                &mut *e.case as &mut dyn SelectCase
            })
            .collect();
        let index = how(&mut cases)?;
        let e = &mut self.entries[index];
        Some(SelectedOperation {
            case: &mut *e.case,
            chan: e.chan,
            side: e.side,
            index,
        })
    }
}

impl std::fmt::Debug for Select<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Select {{ operations: {} }}", self.entries.len())
    }
}

fn chan_addr<T>(inner: &Inner<T>) -> usize {
    inner as *const Inner<T> as usize
}

/// The operation a [`Select`] chose; complete it with [`recv`](Self::recv)
/// or [`send`](Self::send) on the channel it was added with.
///
/// # Panics
/// When dropped without being completed (a received value would be lost).
#[must_use = "a selected operation must be completed with `recv` or `send`"]
pub struct SelectedOperation<'s> {
    case: &'s mut (dyn SelectCase + 's),
    chan: usize,
    side: Side,
    index: usize,
}

impl SelectedOperation<'_> {
    /// The index `Select::recv`/`Select::send` returned for this operation.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Completes a selected receive on `rx`.
    ///
    /// # Panics
    /// If this operation is not a receive on `rx`'s channel.
    #[track_caller]
    pub fn recv<T>(self, rx: &Receiver<T>) -> Result<T, RecvError> {
        self.check(Side::Recv, chan_addr(&rx.inner), "recv");
        let mut this = std::mem::ManuallyDrop::new(self);
        let case: *mut (dyn SelectCase + '_) = &mut *this.case;
        // SAFETY: the check above found this entry made by `Select::recv`
        // (a `RecvCase<'_, U>`) on the very channel `rx` names: one live
        // `Inner` allocation, which has one type, and `Receiver<T>` is
        // invariant in `T`, so `U` is `T` exactly. The case is borrowed
        // mutably from the `Select` for `'s` and not queued anywhere.
        let case = unsafe { &mut *(case as *mut RecvCase<'_, T>) };
        case.take_result()
            .expect("goro: a selected receive completed twice")
    }

    /// Completes a selected send on `tx`, sending `v`: at once if the
    /// channel is still ready, else (another sender was first) waiting as
    /// `Sender::send` does; the value comes back if the channel is closed.
    ///
    /// # Panics
    /// If this operation is not a send on `tx`'s channel.
    #[track_caller]
    pub fn send<T>(self, tx: &Sender<T>, v: T) -> Result<(), SendError<T>> {
        self.check(Side::Send, chan_addr(&tx.inner), "send");
        std::mem::forget(self);
        tx.send(v)
    }

    #[track_caller]
    fn check(&self, side: Side, chan: usize, call: &str) {
        if self.side != side || self.chan != chan {
            let kind = match self.side {
                Side::Recv => "a receive",
                Side::Send => "a send",
            };
            panic!(
                "goro::SelectedOperation::{call}: operation {} is {kind}, not a {call} on this \
                 channel; complete it with the call and channel it was added with",
                self.index
            );
        }
    }
}

impl Drop for SelectedOperation<'_> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!(
                "goro: SelectedOperation {} dropped without being completed \
                 (call op.recv or op.send)",
                self.index
            );
        }
    }
}

impl std::fmt::Debug for SelectedOperation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SelectedOperation {{ index: {} }}", self.index)
    }
}

/// A send case of a `Select`: ready when a send would not block (room in
/// the buffer, a parked receiver, or closed); it waits with a value-less
/// record among the senders (module docs).
struct SendReady<'a, T> {
    inner: &'a Inner<T>,
    wait: Wait<T>,
}

impl<T> SendReady<'_, T> {
    /// Whether a send would complete now. Under the lock when unbuffered.
    fn ready(&self, closed: bool, receivers_waiting: bool) -> bool {
        match &self.inner.buffer {
            Some(b) => b.ring.is_closed() || !b.ring.is_full(),
            None => closed || receivers_waiting,
        }
    }
}

impl<T> SelectCase for SendReady<'_, T> {
    case_common!(Side::Send);

    unsafe fn try_complete(&mut self, _wakes: &mut Wakeups) -> bool {
        // SAFETY: the caller holds the lock; the reference dies here.
        let st = unsafe { self.inner.state.locked_data() };
        self.ready(st.closed, st.recvq.has_claimable())
    }

    fn finish(&mut self) -> bool {
        // Woken by a receiver or `close` (unbuffered: ready, or `op.send`
        // waits for the next one), or by a pop (buffered: retry the check).
        self.inner.buffer.is_none() || self.ready(false, false)
    }
}
