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
//!   may run before the parker has switched out (see `g/goroutine.rs`: the `NOTIFIED`
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
use crate::g::wait_reason::WaitReason;
use crate::g::{GRef, Yield, G};
use crate::sched::current;
use crate::sched::enqueue::make_runnable;
use crate::sched::m::MLocal;
use crate::sys::futex;

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
            WaiterKind::Goroutine(g) => {
                // SAFETY: a registered waiter's G is alive (park contract).
                let id = unsafe { g.get() }.id();
                write!(f, "Waiter(goroutine {id})")
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
            crate::sys::prefetch::prefetch(&gr.state as *const _ as usize);
            crate::sys::prefetch::prefetch(&gr.home as *const _ as usize);
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
        if let Some(g) = l.running() {
            crate::trace::park(l.trace.as_ref(), g.id(), reason);
            g.set_wait_reason(reason);
            g.wait_since
                .store(l.sched.sysmon.clock_nanos(), Ordering::Relaxed);
            g.park_frame.record();
            if std::thread::panicking() {
                g.pinned.set(true);
            }
            // A migratory goroutine may resume on another M: it is not
            // among this M's live goroutines, so it is not counted.
            let quiet = reason.is_quiet() && !g.migratory.get();
            if quiet {
                l.quiet_parked.set(l.quiet_parked.get() + 1);
            }
            g.suspend(Yield::Park);
            if quiet {
                // Resumed on the same M (it is not migratory).
                l.quiet_parked.set(l.quiet_parked.get() - 1);
            }
            g.set_wait_reason(WaitReason::None);
            return;
        }
    }
    thread_parker().park();
}

/// Something a postponed wake-up wakes (an M's sleep word, a thread's permit).
pub(crate) trait Wake {
    fn wake(&self);
}

/// A wake-up whose system call has not been made yet; dropping it makes it
/// (see [`Waiter::wake_later`]). Most are empty: the M was awake.
#[must_use = "dropping the Wakeup makes the wake-up"]
pub struct Wakeup(Option<Waker>);

impl Wakeup {
    pub(crate) const NONE: Wakeup = Wakeup(None);

    /// Whether dropping it will make a system call.
    pub fn is_pending(&self) -> bool {
        self.0.is_some()
    }

    /// The postponed wake-up of `w` (an M's sleep word, a thread's permit),
    /// as a `Waker` made from the `Arc` (no allocation).
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

/// Readies a parked (or about to park) goroutine. See `g/goroutine.rs` for the states.
///
/// # Safety
/// `g` is alive and registered for exactly this wake (the park contract).
pub(crate) unsafe fn ready(g: GRef) -> Wakeup {
    // SAFETY: guaranteed by the caller.
    let gr = unsafe { g.get() };
    if crate::trace::ready(gr.id(), || crate::g::current_g().map_or(0, G::id)) {
        record_ready(gr);
    }
    let readied = gr.state.ready();
    if readied.is_ok() {
        // Before it is queued: it must not run and park again while
        // still counted for this park (`bubble.rs`).
        gr.with_bubble(|b| b.readied(gr));
    }
    match readied {
        // SAFETY: the state machine gave this waker the job of queuing it.
        Ok(Readied::Queue) => unsafe { make_runnable(g, current::m(), true) },
        Ok(Readied::LeftToHolder) => Wakeup::NONE,
        Err(s) => crate::sys::report::fatal(format_args!(
            "goroutine {} readied in state {s} (a waiter was woken twice)",
            gr.id()
        )),
    }
}

/// Records a wake-up of `g` in the trace file of its runtime (cold: only
/// while a `GORO_TRACE` file is written).
#[cold]
fn record_ready(g: &G) {
    let home = g.home.load(Ordering::Acquire);
    // SAFETY: a G's home M, and its runtime's `Sched`, outlive the G (the
    // park contract keeps a readied G alive).
    let sched = unsafe { &*(*home).sched };
    let l = current::m();
    let by = l.map_or(0, MLocal::current_goid);
    let runnext = !g.migratory.get() && l.is_some_and(|l| std::ptr::eq(l.m_ptr(), home));
    let goid = g.id();
    crate::trace::record(
        sched.trace_file(),
        l.and_then(|l| l.trace.as_ref()),
        crate::trace::Event::Wake { goid, by, runnext },
    );
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

impl Wake for ThreadParker {
    fn wake(&self) {
        futex::wake(&self.permit, 1);
    }
}

/// What a postponed wake-up (`Wakeup::of`) calls.
impl std::task::Wake for ThreadParker {
    fn wake(self: Arc<Self>) {
        Wake::wake(&*self);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        Wake::wake(&**self);
    }
}

#[inline(never)]
fn thread_parker() -> Arc<ThreadParker> {
    thread_local! {
        static PARKER: Arc<ThreadParker> = Arc::new(ThreadParker { permit: AtomicU32::new(EMPTY) });
    }
    PARKER.with(Arc::clone)
}
