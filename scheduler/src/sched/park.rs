//! The park/ready contract that channels, sync, time and net build on.
//!
//! ```text
//! let w = current_waiter();     // 1. who am I (a goroutine, or a plain thread)
//! queue.lock().push(w);         // 2. register where a waker will find it
//! park(WaitReason::ChanReceive);// 3. sleep until woken
//! // ...elsewhere: let w = queue.lock().pop(); unsafe { w.wake() }
//! ```
//!
//! Rules:
//! - Each registered `Waiter` is woken **exactly once**, and only after it
//!   was registered; the waiter then returns from its next `park`. A waker
//!   may run before the parker has switched out (see `g.rs`: the `NOTIFIED`
//!   state), so registering under a lock and parking after dropping the lock
//!   is correct and no lock is ever held across a park.
//! - `park` never returns spuriously for a goroutine. For a plain thread it
//!   waits for its permit, which `wake` sets, so it does not either.
//! - Every registration that is woken must be followed by exactly one
//!   `park`, even if the parker can see it was already completed: the wake
//!   may be in flight, and a skipped park leaves it to end a later, unrelated
//!   park early.
//! - A registration must be withdrawn (under the same lock wakers use) if the
//!   parker leaves without being woken, including when it is unwound.
//!
//! Called from a goroutine, `park` switches to another goroutine on the same
//! M; called from a plain OS thread (e.g. `join()` in `main` outside the
//! runtime), it blocks that thread on a futex. Either way the caller's code
//! is the same.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::task::Waker;

use crate::g::state::Readied;
use crate::g::{GRef, Yield};
use crate::sched::current::{self, Current};
use crate::sched::m::M;
use crate::sys::futex;

/// Why a goroutine is parked (Go's `waitReason`, shown in goroutine dumps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitReason {
    None,
    ChanReceive,
    ChanSend,
    ChanReceiveNilChan,
    Select,
    SelectNoCases,
    Sleep,
    SyncMutexLock,
    SyncRwLockRead,
    SyncRwLockWrite,
    SyncWaitGroupWait,
    SyncCondWait,
    Semacquire,
    IoWait,
    JoinHandle,
    Blocking,
    /// In `block_on`: waiting for a future's `Waker`.
    Future,
}

impl WaitReason {
    const ALL: [WaitReason; 17] = [
        WaitReason::None,
        WaitReason::ChanReceive,
        WaitReason::ChanSend,
        WaitReason::ChanReceiveNilChan,
        WaitReason::Select,
        WaitReason::SelectNoCases,
        WaitReason::Sleep,
        WaitReason::SyncMutexLock,
        WaitReason::SyncRwLockRead,
        WaitReason::SyncRwLockWrite,
        WaitReason::SyncWaitGroupWait,
        WaitReason::SyncCondWait,
        WaitReason::Semacquire,
        WaitReason::IoWait,
        WaitReason::JoinHandle,
        WaitReason::Blocking,
        WaitReason::Future,
    ];

    /// The reason stored as `reason as u8` (unknown values read as `None`).
    pub(crate) fn from_u8(v: u8) -> WaitReason {
        Self::ALL
            .get(v as usize)
            .copied()
            .unwrap_or(WaitReason::None)
    }

    /// The text Go prints in a goroutine header, e.g. `chan receive`.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitReason::None => "",
            WaitReason::ChanReceive => "chan receive",
            WaitReason::ChanSend => "chan send",
            WaitReason::ChanReceiveNilChan => "chan receive (nil chan)",
            WaitReason::Select => "select",
            WaitReason::SelectNoCases => "select (no cases)",
            WaitReason::Sleep => "sleep",
            WaitReason::SyncMutexLock => "sync.Mutex.Lock",
            WaitReason::SyncRwLockRead => "sync.RWMutex.RLock",
            WaitReason::SyncRwLockWrite => "sync.RWMutex.Lock",
            WaitReason::SyncWaitGroupWait => "sync.WaitGroup.Wait",
            WaitReason::SyncCondWait => "sync.Cond.Wait",
            WaitReason::Semacquire => "semacquire",
            WaitReason::IoWait => "IO wait",
            WaitReason::JoinHandle => "join",
            WaitReason::Blocking => "syscall",
            WaitReason::Future => "future",
        }
    }
}

/// Something that can be woken: a parked goroutine, a blocked thread, or an
/// async task (its `Waker`).
pub struct Waiter(WaiterKind);

enum WaiterKind {
    Goroutine(GRef),
    Thread(Arc<ThreadParker>),
    /// An async task polling a channel future (`recv_async`): it does not
    /// `park`; waking it calls its `Waker` once the waker's lock is
    /// released (the `Wakeup` carries it), so a waker that takes locks of
    /// its own never runs inside a channel's critical section.
    Task(Waker),
}

impl std::fmt::Debug for Waiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            // SAFETY: a registered waiter's G is alive (park contract).
            WaiterKind::Goroutine(g) => {
                write!(f, "Waiter(goroutine {})", unsafe { g.get() }.id())
            }
            WaiterKind::Thread(_) => f.write_str("Waiter(thread)"),
            WaiterKind::Task(_) => f.write_str("Waiter(task)"),
        }
    }
}

/// The waiter for the calling goroutine, or for the calling thread when it
/// is not running a goroutine.
pub fn current_waiter() -> Waiter {
    if let Some(l) = current::m() {
        if let Some(g) = l.current.get() {
            return Waiter(WaiterKind::Goroutine(g));
        }
    }
    Waiter(WaiterKind::Thread(thread_parker()))
}

impl Waiter {
    /// The waiter of an async task: waking it wakes `waker`. Such a waiter
    /// is registered by a future, which does not `park`: it learns of the
    /// wake-up when it is polled again (the park rules above are about
    /// goroutines and threads; a `Waker` may be woken any number of times).
    pub fn from_waker(waker: Waker) -> Waiter {
        Waiter(WaiterKind::Task(waker))
    }

    /// Whether waking this waiter wakes the same task as `waker` would
    /// (`Waker::will_wake`); false for goroutines and threads.
    pub fn will_wake(&self, waker: &Waker) -> bool {
        matches!(&self.0, WaiterKind::Task(w) if w.will_wake(waker))
    }

    /// Wakes the waiter (readies the goroutine, or unblocks the thread).
    ///
    /// # Safety
    /// This waiter must come from [`current_waiter`], must be woken at most
    /// once, and its goroutine must not have been woken for this park by
    /// another copy (see the module rules). Waking a goroutine twice, or one
    /// that is not about to park, corrupts the scheduler's queues.
    pub unsafe fn wake(self) {
        // SAFETY: forwarded from the caller's contract.
        drop(unsafe { self.wake_later() });
    }

    /// Like [`wake`](Self::wake), but a system call it needs (the waiter's
    /// M or thread sleeps on its futex) is left in the returned [`Wakeup`],
    /// made when that is dropped. The goroutine is queued (or the thread's
    /// permit set) now. Channels hold the `Wakeup` until they released
    /// their lock: a futex wake takes microseconds on a VM, and inside the
    /// critical section it makes the other side's lock spin give up and
    /// sleep too, a slow mode that sustains itself.
    ///
    /// # Safety
    /// As for [`wake`](Self::wake).
    #[must_use = "dropping the Wakeup makes the wake-up"]
    pub unsafe fn wake_later(self) -> Wakeup {
        match self.0 {
            // SAFETY: forwarded from the caller's contract.
            WaiterKind::Goroutine(g) => unsafe { ready(g) },
            WaiterKind::Thread(t) => ThreadParker::unpark(t),
            WaiterKind::Task(w) => Wakeup(Some(w)),
        }
    }

    /// Starts loading what waking it reads (a goroutine's state and home),
    /// so that a batch of wake-ups overlaps its cache misses.
    pub(crate) fn prefetch(&self) {
        if let WaiterKind::Goroutine(g) = &self.0 {
            // SAFETY: a registered waiter's G is alive (park contract).
            let gr = unsafe { g.get() };
            crate::sched::lookahead::prefetch(&gr.state as *const _ as usize);
            crate::sched::lookahead::prefetch(&gr.home as *const _ as usize);
        }
    }

    /// Whether two waiters are the same goroutine or thread.
    pub fn same_as(&self, other: &Waiter) -> bool {
        match (&self.0, &other.0) {
            (WaiterKind::Goroutine(a), WaiterKind::Goroutine(b)) => a == b,
            (WaiterKind::Thread(a), WaiterKind::Thread(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// Parks the calling goroutine (or blocks the calling thread) until its
/// registered [`Waiter`] is woken.
pub fn park(reason: WaitReason) {
    if let Some(l) = current::m() {
        if let Some(g) = l.current.get() {
            // SAFETY: the running goroutine is alive.
            let g = unsafe { g.get() };
            crate::trace::park(l, g.id(), reason);
            g.set_wait_reason(reason);
            g.wait_since
                .store(l.sched.sysmon.clock_nanos(), Ordering::Relaxed);
            g.park_frame.record();
            if std::thread::panicking() {
                g.pinned.set(true);
            }
            g.suspend(Yield::Park);
            g.set_wait_reason(WaitReason::None);
            return;
        }
    }
    thread_parker().park();
}

/// A wake-up whose system call has not been made yet; dropping it makes it
/// (see [`Waiter::wake_later`]). Most are empty: the M was awake.
///
/// It holds a `Waker`: either an async task's own, or one made (without an
/// allocation, `Waker::from` an `Arc`) from what a postponed wake-up wakes,
/// an M's sleep word or a thread's permit (each implements `std::task::Wake`).
/// `Option<Waker>` is two words, as the `Option<Arc<dyn ..>>` it replaced.
#[must_use = "dropping the Wakeup makes the wake-up"]
pub struct Wakeup(Option<Waker>);

impl Wakeup {
    pub(crate) const NONE: Wakeup = Wakeup(None);

    /// Whether dropping it will make a system call.
    pub fn is_pending(&self) -> bool {
        self.0.is_some()
    }

    pub(crate) fn of<W: std::task::Wake + Send + Sync + 'static>(w: Arc<W>) -> Wakeup {
        Wakeup(Some(Waker::from(w)))
    }
}

impl Drop for Wakeup {
    fn drop(&mut self) {
        if let Some(w) = self.0.take() {
            w.wake();
        }
    }
}

impl std::fmt::Debug for Wakeup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Wakeup(pending)"
        } else {
            "Wakeup(none)"
        })
    }
}

/// Readies a parked (or about to park) goroutine. See `g.rs` for the states.
///
/// # Safety
/// `g` is alive and registered for exactly this wake (the park contract).
pub(crate) unsafe fn ready(g: GRef) -> Wakeup {
    // SAFETY: guaranteed by the caller.
    let gr = unsafe { g.get() };
    crate::trace::ready(gr);
    match gr.state.ready() {
        Ok(Readied::Queue) => enqueue_readied(g),
        Ok(Readied::LeftToHolder) => Wakeup::NONE,
        Err(s) => crate::fatal(format_args!(
            "goroutine {} readied in state {s} (a waiter was woken twice)",
            gr.id()
        )),
    }
}

/// Puts a readied goroutine where its M will find it; returns the M's
/// wake-up if it sleeps.
pub(crate) fn enqueue_readied(g: GRef) -> Wakeup {
    // SAFETY: the G is runnable and alive (it is parked, not finished).
    let gr = unsafe { g.get() };
    if gr.migratory.get() && !gr.pinned.get() {
        crate::sched::m::push_migratory(g);
        return Wakeup::NONE;
    }
    let home = gr.home.load(Ordering::Acquire);
    match current::get() {
        // Readied by a goroutine on its own home M: run it next, inheriting
        // the time slice (Go's runnext), so ping-pong stays on one thread.
        // SAFETY: `Current::M` points at the live MLocal of this thread.
        Current::M(l) if std::ptr::eq(unsafe { &*l }.worker_ptr(), home) => {
            // SAFETY: as above.
            unsafe { &*l }.put_runnext(g);
            Wakeup::NONE
        }
        _ => {
            // SAFETY: a G's home worker outlives the G (workers are freed
            // only after the runtime has finished every goroutine).
            let w: &M = unsafe { &*home };
            w.home.push(g);
            std::sync::atomic::fence(Ordering::SeqCst);
            // SAFETY: `home` is `Arc::as_ptr` of the G's live worker.
            unsafe { M::notify_later(home) }
        }
    }
}

/// Parks plain OS threads: a permit and a futex word.
pub(crate) struct ThreadParker {
    permit: AtomicU32,
}

const EMPTY: u32 = 0;
const SET: u32 = 1;

impl ThreadParker {
    fn park(&self) {
        while self
            .permit
            .compare_exchange(SET, EMPTY, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            futex::wait(&self.permit, EMPTY, None);
        }
    }

    /// Sets the permit; the futex wake-up is the returned `Wakeup`.
    fn unpark(this: Arc<ThreadParker>) -> Wakeup {
        this.permit.store(SET, Ordering::Release);
        Wakeup::of(this)
    }
}

impl std::task::Wake for ThreadParker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        futex::wake(&self.permit, 1);
    }
}

#[inline(never)]
fn thread_parker() -> Arc<ThreadParker> {
    thread_local! {
        static PARKER: Arc<ThreadParker> = Arc::new(ThreadParker { permit: AtomicU32::new(EMPTY) });
    }
    PARKER.with(Arc::clone)
}

#[cfg(test)]
mod tests {
    use super::WaitReason;

    #[test]
    fn wait_reasons_round_trip_through_u8() {
        for r in WaitReason::ALL {
            assert_eq!(WaitReason::from_u8(r as u8), r);
        }
        assert_eq!(WaitReason::from_u8(u8::MAX), WaitReason::None);
    }
}
