//! `select`: wait on several channel operations, complete exactly one
//! (Go's `selectgo`; the `select!` macro builds on this).
//!
//! 0. Fire every due timer among the cases' channels (Go 1.23: an expired
//!    timer is ready), before any channel lock is taken: a firing timer
//!    takes its own lock and then its channel's.
//! 1. Lock every channel involved, in address order (a channel named by
//!    several cases is locked once), so the select sees one consistent
//!    moment and two selects can never deadlock on each other.
//! 2. Poll the cases in a random order (a fresh uniform permutation per
//!    select: when several are ready each is equally likely to win, as in
//!    Go) and complete the first one that is ready. A closed channel makes
//!    its case ready: a receive gets `Err(RecvError)`, a send gets its value
//!    back in `Err(SendError(v))`.
//! 3. Nothing ready: with a `default`, unlock and return (after the double
//!    collect below). Otherwise queue one record per case, in the round's
//!    random order (so a select parked on several cases of one channel is
//!    completed through a random one of them, as Go's), all sharing one
//!    claim (`wait.rs`); on a buffered
//!    channel this raises its waiting flag and re-checks its ring
//!    (`buffered.rs`): if one became ready meanwhile, withdraw the records
//!    queued so far, unlock and start over at 1. Else unlock and park once. The
//!    first completer on any of the channels claims the select, completes
//!    its case (unbuffered) or just wakes it (buffered) and completers that
//!    come later find the claim taken and drop those records.
//! 4. After waking, withdraw the records of the losing cases (each under
//!    its own channel's lock). A buffered winner then retries its own
//!    operation first; if another party got there first, start over at 1.
//!
//! A deadline is one more case: a receive on a timer channel.
//!
//! ## `default` is linearizable: the double collect
//!
//! The locks make an unbuffered case's readiness (a parked counterpart,
//! `closed`) stable while the select looks, but a buffered channel's ring
//! moves without its lock, so a poll that visits the cases one after the
//! other could see each one unready at a different moment while there was
//! never a moment at which all were (a value moving from one ring to the
//! other between two looks). So a select with `default` reads its buffered
//! cases' ring positions (the sum over the cases of `head + tail`,
//! `SelectCase::progress`) before its poll and again after a poll that
//! found nothing ready.
//! - Equal: `head` and `tail` only ever grow (a lap counter above the slot
//!   index; the closed mark is a bit of `tail`), so a sum of them that did
//!   not change means none changed, and since every first read precedes
//!   every second read, each ring held still over one common interval that
//!   contains every look of the poll. All loads and the rings' CASes are
//!   SeqCst, so that interval is one in the single order of all ring
//!   updates: at any instant in it, no case was ready (the buffered ones by
//!   their constant positions, the others under their locks). `default` is
//!   linearized there.
//! - Unequal: some operation made progress meanwhile; poll again. Every
//!   retry follows another party's completed operation, so the select is
//!   lock-free, and ordinary one-case operations keep their lock-free path.

use std::cell::Cell;
use std::time::{Duration, Instant};

use super::wait::{SyncPoint, Wait, Wakeups};
use super::{
    Inner, Op, Receiver, RecvError, SelectTimeoutError, SendError, Sender, Side, TryRecvError,
    TrySendError,
};
use crate::sched::{park, WaitReason};

/// One case of a `select` (built by the `select!` macro).
#[doc(hidden)]
pub trait SelectCase {
    /// The address of the channel's lock: selects lock in this order.
    fn lock_addr(&self) -> usize;
    fn lock(&self);
    /// # Safety
    /// The calling thread holds the lock through `lock`.
    unsafe fn unlock(&self);
    /// Completes the case now if it can (wake-ups it owes go to `wakes`).
    ///
    /// # Safety
    /// The lock is held, and the case is not queued.
    unsafe fn try_complete(&mut self, wakes: &mut Wakeups) -> bool;
    /// Queues this case's record as case `case` of `sync`. On a buffered
    /// channel, returns whether the case can proceed after all (the
    /// re-check after raising the waiting flag, `buffered.rs`).
    ///
    /// # Safety
    /// The lock is held; the case stays in place until it has won or has
    /// been withdrawn, and `sync` outlives that.
    unsafe fn enqueue(&mut self, sync: &SyncPoint, case: usize) -> bool;
    /// Takes the case's record off its queue, with the lock held.
    ///
    /// # Safety
    /// The lock is held.
    unsafe fn unqueue(&mut self);
    /// Takes the case's record off its queue if it is still there.
    fn withdraw(&mut self);
    /// After this case was claimed while the select was parked: collects
    /// the outcome, or on a buffered channel retries the operation; false
    /// if that found it no longer possible (another party was first).
    fn finish(&mut self) -> bool;
    /// Step 0, once per select: fires the channel's timer if it is a due
    /// timer channel (no lock is held), and returns `lock_addr` (which the
    /// lock ordering then reads from an array, not through this trait).
    fn prepare(&self) -> usize {
        self.lock_addr()
    }
    /// `head + tail` of a buffered channel's ring (SeqCst), 0 otherwise:
    /// the double collect's snapshot (module docs).
    fn progress(&self) -> usize {
        0
    }
    /// Makes the case ready for another select (`Select`, which reuses its
    /// cases): forgets a previous outcome. Not while queued.
    fn reset(&mut self) {}
    /// The synctest bubble its channel was made in (0: none); `None` for a
    /// case without a channel (guarded off), which never wakes anyone.
    fn bubble(&self) -> Option<u64> {
        None
    }
}

/// A `recv(rx)` case.
#[doc(hidden)]
pub struct RecvCase<'a, T> {
    inner: &'a Inner<T>,
    wait: Wait<T>,
    result: Option<Result<T, RecvError>>,
}

impl<'a, T> RecvCase<'a, T> {
    /// # Panics
    /// On a channel of a synctest bubble, outside that bubble (Go's
    /// "select on synctest channel from outside bubble"); so does
    /// `SendCase::new`.
    #[track_caller]
    pub fn new(rx: &'a Receiver<T>) -> RecvCase<'a, T> {
        rx.inner.check_bubble(Op::Select);
        RecvCase {
            inner: &rx.inner,
            wait: Wait::new(None),
            result: None,
        }
    }

    /// The received value, after this case won.
    pub fn into_result(self) -> Result<T, RecvError> {
        self.result
            .expect("goro: select case read before it completed")
    }

    /// Takes the received value, after this case won (`Select`).
    pub(super) fn take_result(&mut self) -> Option<Result<T, RecvError>> {
        self.result.take()
    }

    /// Records a receive attempt's outcome; false if it would block.
    fn settle(&mut self, attempt: Result<T, TryRecvError>) -> bool {
        self.result = match attempt {
            Ok(v) => Some(Ok(v)),
            Err(TryRecvError::Disconnected) => Some(Err(RecvError)),
            Err(TryRecvError::Empty) => return false,
        };
        true
    }
}

/// A `send(tx, value)` case.
#[doc(hidden)]
pub struct SendCase<'a, T> {
    inner: &'a Inner<T>,
    wait: Wait<T>,
    result: Option<Result<(), SendError<T>>>,
}

impl<'a, T> SendCase<'a, T> {
    #[track_caller]
    pub fn new(tx: &'a Sender<T>, value: T) -> SendCase<'a, T> {
        tx.inner.check_bubble(Op::Select);
        SendCase {
            inner: &tx.inner,
            wait: Wait::new(Some(value)),
            result: None,
        }
    }

    /// Whether the value was sent, after this case won.
    pub fn into_result(self) -> Result<(), SendError<T>> {
        self.result
            .expect("goro: select case read before it completed")
    }

    /// The value, after a select this case did not win.
    pub(super) fn into_unsent(mut self) -> T {
        self.wait
            .slot_mut()
            .take()
            .expect("goro: a select case lost its value")
    }

    /// Tries to send the case's value with `send`; records the outcome, or
    /// keeps the value and returns false if it would block.
    fn attempt(&mut self, send: impl FnOnce(T) -> Result<(), TrySendError<T>>) -> bool {
        let Some(v) = self.wait.slot_mut().take() else {
            return false;
        };
        self.result = match send(v) {
            Ok(()) => Some(Ok(())),
            Err(TrySendError::Disconnected(v)) => Some(Err(SendError(v))),
            Err(TrySendError::Full(v)) => {
                *self.wait.slot_mut() = Some(v);
                return false;
            }
        };
        true
    }
}

/// The lock and queue plumbing every case kind shares (also `dynamic.rs`'s
/// send-readiness case).
macro_rules! case_common {
    ($side:expr) => {
        fn lock_addr(&self) -> usize {
            self.inner as *const Inner<T> as usize
        }

        fn lock(&self) {
            self.inner.state.raw_lock();
        }

        unsafe fn unlock(&self) {
            // SAFETY: forwarded from the caller.
            unsafe { self.inner.state.raw_unlock() }
        }

        unsafe fn enqueue(&mut self, sync: &SyncPoint, case: usize) -> bool {
            // SAFETY: the caller holds the lock; the reference dies here.
            let st = unsafe { self.inner.state.locked_data() };
            self.inner.enqueue(st, self.wait.attach(sync, case), $side)
        }

        unsafe fn unqueue(&mut self) {
            // SAFETY: the caller holds the lock; the reference dies here.
            let st = unsafe { self.inner.state.locked_data() };
            self.inner.unqueue(st, &self.wait, $side);
        }

        fn withdraw(&mut self) {
            self.inner.withdraw(&self.wait, $side);
        }

        fn progress(&self) -> usize {
            self.inner.buffer.as_ref().map_or(0, |b| b.ring.progress())
        }

        fn bubble(&self) -> Option<u64> {
            Some(self.inner.bubble)
        }
    };
}

pub(super) use case_common;

impl<T> SelectCase for RecvCase<'_, T> {
    case_common!(Side::Recv);

    fn prepare(&self) -> usize {
        self.inner.fire_due_timer();
        self.lock_addr()
    }

    fn reset(&mut self) {
        self.result = None;
        *self.wait.slot_mut() = None;
    }

    unsafe fn try_complete(&mut self, wakes: &mut Wakeups) -> bool {
        // SAFETY: the caller holds the lock; the reference dies here.
        let st = unsafe { self.inner.state.locked_data() };
        let attempt = self.inner.recv_now(st, wakes);
        self.settle(attempt)
    }

    fn finish(&mut self) -> bool {
        match &self.inner.buffer {
            Some(b) => {
                let attempt = self.inner.try_pop(b);
                self.settle(attempt)
            }
            None => {
                self.result = Some(self.wait.received());
                true
            }
        }
    }
}

impl<T> SelectCase for SendCase<'_, T> {
    case_common!(Side::Send);

    unsafe fn try_complete(&mut self, wakes: &mut Wakeups) -> bool {
        // SAFETY: the caller holds the lock; the reference dies here.
        let st = unsafe { self.inner.state.locked_data() };
        let inner = self.inner;
        self.attempt(|v| inner.send_now(st, v, wakes))
    }

    fn finish(&mut self) -> bool {
        let inner = self.inner;
        match &inner.buffer {
            Some(b) => self.attempt(|v| inner.try_push(b, v)),
            None => {
                self.result = Some(self.wait.sent());
                true
            }
        }
    }
}

/// A case behind a `select!` guard (`recv(rx) -> v, if cond => ..`): when
/// the guard was false it holds no case and is never ready, as Go's case
/// on a nil channel.
#[doc(hidden)]
pub struct Guarded<C>(Option<C>);

impl<'a, T> Guarded<RecvCase<'a, T>> {
    #[track_caller]
    pub fn recv(rx: &'a Receiver<T>, on: bool) -> Self {
        // An `if`, not `then(|| ..)`: the closure would lose the caller.
        Guarded(if on { Some(RecvCase::new(rx)) } else { None })
    }

    pub fn into_result(self) -> Result<T, RecvError> {
        self.0
            .expect("goro: a guarded-off select case cannot complete")
            .into_result()
    }
}

impl<'a, T> Guarded<SendCase<'a, T>> {
    /// `value` is `None` when the guard is false (then it was not
    /// evaluated).
    #[track_caller]
    pub fn send(tx: &'a Sender<T>, value: Option<T>) -> Self {
        Guarded(match value {
            Some(v) => Some(SendCase::new(tx, v)),
            None => None,
        })
    }

    pub fn into_result(self) -> Result<(), SendError<T>> {
        self.0
            .expect("goro: a guarded-off select case cannot complete")
            .into_result()
    }
}

impl<C: SelectCase> SelectCase for Guarded<C> {
    fn lock_addr(&self) -> usize {
        // Off: sorts first and shares no lock with a real case.
        self.0.as_ref().map_or(0, |c| c.lock_addr())
    }
    fn lock(&self) {
        if let Some(c) = &self.0 {
            c.lock();
        }
    }
    unsafe fn unlock(&self) {
        if let Some(c) = &self.0 {
            // SAFETY: forwarded from the caller.
            unsafe { c.unlock() };
        }
    }
    unsafe fn try_complete(&mut self, wakes: &mut Wakeups) -> bool {
        // SAFETY: forwarded from the caller.
        self.0
            .as_mut()
            .is_some_and(|c| unsafe { c.try_complete(wakes) })
    }
    unsafe fn enqueue(&mut self, sync: &SyncPoint, case: usize) -> bool {
        // SAFETY: forwarded from the caller.
        self.0
            .as_mut()
            .is_some_and(|c| unsafe { c.enqueue(sync, case) })
    }
    unsafe fn unqueue(&mut self) {
        if let Some(c) = &mut self.0 {
            // SAFETY: forwarded from the caller.
            unsafe { c.unqueue() };
        }
    }
    fn withdraw(&mut self) {
        if let Some(c) = &mut self.0 {
            c.withdraw();
        }
    }
    fn finish(&mut self) -> bool {
        self.0.as_mut().is_some_and(|c| c.finish())
    }
    fn prepare(&self) -> usize {
        self.0.as_ref().map_or(0, |c| c.prepare())
    }
    fn progress(&self) -> usize {
        self.0.as_ref().map_or(0, |c| c.progress())
    }
    fn bubble(&self) -> Option<u64> {
        self.0.as_ref().and_then(|c| c.bubble())
    }
}

/// Runs a select over `cases`; returns the index of the case that
/// completed, or `None` when `nonblocking` and none was ready.
#[doc(hidden)]
pub fn select(cases: &mut [&mut dyn SelectCase], nonblocking: bool) -> Option<usize> {
    crate::preempt_point();
    let n = cases.len();
    if n == 0 {
        if nonblocking {
            return None;
        }
        // Go's `select {}`: nothing can ever wake us.
        loop {
            park(WaitReason::SelectNoCases);
        }
    }
    with_scratch(n, |order, locks, addrs| {
        for (addr, case) in addrs.iter_mut().zip(cases.iter()) {
            *addr = case.prepare();
        }
        let locks = lock_order(addrs, locks);
        let unlock_all = |cases: &mut [&mut dyn SelectCase]| {
            for &i in locks.iter().rev() {
                // SAFETY: locked by this thread, in this round.
                unsafe { cases[i].unlock() };
            }
        };
        // One round per park: a buffered case that woke us may have been
        // taken by another party before we retried it.
        loop {
            // Dropped after the locks are released (see `Wakeups`).
            let mut wakes = Wakeups::default();
            shuffle(order);
            for &i in locks.iter() {
                cases[i].lock();
            }
            let seen = if nonblocking { progress(cases) } else { 0 };
            for &i in order.iter() {
                // SAFETY: every case's lock is held; nothing is queued yet.
                if unsafe { cases[i].try_complete(&mut wakes) } {
                    unlock_all(cases);
                    return Some(i);
                }
            }
            if nonblocking {
                // The double collect (module docs).
                let still = progress(cases) == seen;
                unlock_all(cases);
                if still {
                    return None;
                }
                continue;
            }
            let sync = SyncPoint::new();
            let mut queued = 0;
            let mut ready = false;
            while queued < n && !ready {
                let i = order[queued];
                // SAFETY: locks held; `cases` and `sync` stay put until the
                // guard below has withdrawn every losing record.
                ready = unsafe { cases[i].enqueue(&sync, i) };
                queued += 1;
            }
            if ready {
                // A buffered case became ready since the poll: start over.
                for &i in order[..queued].iter() {
                    // SAFETY: locks held; nobody could claim `sync` yet.
                    unsafe { cases[i].unqueue() };
                }
                unlock_all(cases);
                continue;
            }
            unlock_all(cases);
            let reason = select_reason(cases);
            let guard = WithdrawLosers {
                cases: &mut *cases,
                sync: &sync,
            };
            park(reason);
            drop(guard);
            let won = sync
                .selected()
                .expect("goro: select woke without a winning case");
            if cases[won].finish() {
                return Some(won);
            }
        }
    })
}

/// Withdraws the records of every case but the winner (every case when the
/// select is unwound: taking each lock also waits out a claimer that is
/// still waking us).
struct WithdrawLosers<'a, 'c> {
    cases: &'a mut [&'c mut dyn SelectCase],
    sync: &'a SyncPoint,
}

impl Drop for WithdrawLosers<'_, '_> {
    fn drop(&mut self) {
        let won = if std::thread::panicking() {
            None
        } else {
            self.sync.selected()
        };
        for (i, case) in self.cases.iter_mut().enumerate() {
            if Some(i) != won {
                case.withdraw();
            }
        }
    }
}

/// Runs a blocking select that gives up at `deadline`.
#[doc(hidden)]
pub fn select_deadline(
    cases: &mut [&mut dyn SelectCase],
    deadline: Instant,
) -> Result<usize, SelectTimeoutError> {
    if let Some(i) = select(cases, true) {
        return Ok(i);
    }
    if crate::time::now() >= deadline {
        return Err(SelectTimeoutError);
    }
    let timer = crate::time::after_deadline(deadline);
    let mut timeout = RecvCase::new(&timer);
    let mut all: Vec<&mut dyn SelectCase> = Vec::with_capacity(cases.len() + 1);
    all.extend(cases.iter_mut().map(|c| &mut **c as &mut dyn SelectCase));
    all.push(&mut timeout);
    let n = all.len();
    match select(&mut all, false) {
        Some(i) if i + 1 < n => Ok(i),
        _ => Err(SelectTimeoutError),
    }
}

/// `select` (durable) when every channel of `cases` was made in the
/// caller's synctest bubble: then only the bubble can complete it.
fn select_reason(cases: &[&mut dyn SelectCase]) -> WaitReason {
    let mut bubbles = cases.iter().filter_map(|c| c.bubble());
    // Outside bubbles this stops at the first case (its bubble is 0).
    if bubbles.all(|b| b != 0 && b == goro_scheduler::current_bubble_id()) {
        WaitReason::SelectDurable
    } else {
        WaitReason::Select
    }
}

/// `select!`'s `default(timeout)`: `None` when the timeout passed.
#[doc(hidden)]
pub fn select_timeout(cases: &mut [&mut dyn SelectCase], timeout: Duration) -> Option<usize> {
    match crate::time::now().checked_add(timeout) {
        Some(deadline) => select_deadline(cases, deadline).ok(),
        None => select(cases, false),
    }
}

/// Three buffers of length `n` (the poll order, the lock order and the lock
/// addresses), on the stack for small selects.
fn with_scratch<R>(n: usize, f: impl FnOnce(&mut [usize], &mut [usize], &mut [usize]) -> R) -> R {
    const INLINE: usize = 16;
    if n <= INLINE {
        let mut a = [0usize; INLINE];
        let mut b = [0usize; INLINE];
        let mut c = [0usize; INLINE];
        f(&mut a[..n], &mut b[..n], &mut c[..n])
    } else {
        f(&mut vec![0; n], &mut vec![0; n], &mut vec![0; n])
    }
}

/// Fills `order` with a uniformly random permutation of `0..len`.
fn shuffle(order: &mut [usize]) {
    for (i, slot) in order.iter_mut().enumerate() {
        *slot = i;
    }
    for i in (1..order.len()).rev() {
        let j = below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
}

/// The lock order: case indices sorted by lock address (`addrs`), keeping
/// one case per lock (a channel named by several cases is locked once).
fn lock_order<'l>(addrs: &[usize], locks: &'l mut [usize]) -> &'l [usize] {
    for (i, slot) in locks.iter_mut().enumerate() {
        *slot = i;
    }
    locks.sort_unstable_by_key(|&i| addrs[i]);
    let mut kept = 0;
    for k in 0..locks.len() {
        let i = locks[k];
        if kept == 0 || addrs[locks[kept - 1]] != addrs[i] {
            locks[kept] = i;
            kept += 1;
        }
    }
    &locks[..kept]
}

/// The sum of every case's `progress` (wrapping): each term only grows, so
/// an unchanged sum means every term is unchanged (the double collect).
fn progress(cases: &[&mut dyn SelectCase]) -> usize {
    cases
        .iter()
        .fold(0usize, |sum, c| sum.wrapping_add(c.progress()))
}

/// A random number in `0..n` (per-thread xorshift64*, Lemire's reduction).
#[inline(never)]
fn below(n: u64) -> u64 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new(seed());
    }
    let x = STATE.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    });
    ((x as u128 * n as u128) >> 64) as u64
}

fn seed() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::thread::current().id()) | 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffle_is_a_permutation_and_roughly_uniform() {
        let mut first = [0u32; 4];
        for _ in 0..40_000 {
            let mut order = [0usize; 4];
            shuffle(&mut order);
            let mut sorted = order;
            sorted.sort();
            assert_eq!(sorted, [0, 1, 2, 3]);
            first[order[0]] += 1;
        }
        for c in first {
            assert!((9_000..11_000).contains(&c), "{first:?}");
        }
    }
}
