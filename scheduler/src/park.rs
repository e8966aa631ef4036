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

use crate::context::{self, Current};
use crate::futex;
use crate::g::{GRef, Yield, NOTIFIED, PARKED, RUNNABLE, RUNNING};
use crate::worker::Worker;

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
}

impl WaitReason {
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
        }
    }
}

/// Something that can be woken: a parked goroutine or a blocked thread.
pub struct Waiter(WaiterKind);

enum WaiterKind {
    Goroutine(GRef),
    Thread(Arc<ThreadParker>),
}

impl std::fmt::Debug for Waiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            // SAFETY: a registered waiter's G is alive (park contract).
            WaiterKind::Goroutine(g) => {
                write!(f, "Waiter(goroutine {})", unsafe { g.get() }.id.get())
            }
            WaiterKind::Thread(_) => f.write_str("Waiter(thread)"),
        }
    }
}

/// The waiter for the calling goroutine, or for the calling thread when it
/// is not running a goroutine.
pub fn current_waiter() -> Waiter {
    if let Some(l) = context::local() {
        if let Some(g) = l.current.get() {
            return Waiter(WaiterKind::Goroutine(g));
        }
    }
    Waiter(WaiterKind::Thread(thread_parker()))
}

impl Waiter {
    /// Wakes the waiter (readies the goroutine, or unblocks the thread).
    ///
    /// # Safety
    /// This waiter must come from [`current_waiter`], must be woken at most
    /// once, and its goroutine must not have been woken for this park by
    /// another copy (see the module rules). Waking a goroutine twice, or one
    /// that is not about to park, corrupts the scheduler's queues.
    pub unsafe fn wake(self) {
        match self.0 {
            // SAFETY: forwarded from the caller's contract.
            WaiterKind::Goroutine(g) => unsafe { ready(g) },
            WaiterKind::Thread(t) => ThreadParker::unpark(t),
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
    if let Some(l) = context::local() {
        if let Some(g) = l.current.get() {
            // SAFETY: the running goroutine is alive.
            let g = unsafe { g.get() };
            g.wait_reason.set(reason);
            let marker = 0u8;
            g.park_sp
                .set(std::hint::black_box(&marker) as *const u8 as usize);
            if std::thread::panicking() {
                g.pinned.set(true);
            }
            g.suspend(Yield::Park);
            g.wait_reason.set(WaitReason::None);
            return;
        }
    }
    thread_parker().park();
}

/// Readies a parked (or about to park) goroutine. See `g.rs` for the states.
///
/// # Safety
/// `g` is alive and registered for exactly this wake (the park contract).
pub(crate) unsafe fn ready(g: GRef) {
    // SAFETY: guaranteed by the caller.
    let gr = unsafe { g.get() };
    loop {
        match gr.state.load(Ordering::Acquire) {
            RUNNING => {
                if gr
                    .state
                    .compare_exchange(RUNNING, NOTIFIED, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    return;
                }
            }
            PARKED => {
                if gr
                    .state
                    .compare_exchange(PARKED, RUNNABLE, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    enqueue_readied(g);
                    return;
                }
            }
            s => crate::fatal(format_args!(
                "goroutine {} readied in state {s} (a waiter was woken twice)",
                gr.id.get()
            )),
        }
    }
}

/// Puts a readied goroutine where its M will find it.
pub(crate) fn enqueue_readied(g: GRef) {
    // SAFETY: the G is runnable and alive (it is parked, not finished).
    let gr = unsafe { g.get() };
    if gr.migratory.get() && !gr.pinned.get() {
        crate::worker::push_migratory(g);
        return;
    }
    let home = gr.home.load(Ordering::Acquire);
    match context::current() {
        // Readied by a goroutine on its own home M: run it next, inheriting
        // the time slice (Go's runnext), so ping-pong stays on one thread.
        // SAFETY: `Current::Worker` points at the live Local of this thread.
        Current::Worker(l) if std::ptr::eq(unsafe { &*l }.worker_ptr(), home) => {
            // SAFETY: as above.
            unsafe { &*l }.put_runnext(g);
        }
        _ => {
            // SAFETY: a G's home worker outlives the G (workers are freed
            // only after the runtime has finished every goroutine).
            let w: &Worker = unsafe { &*home };
            w.home.push(g);
            std::sync::atomic::fence(Ordering::SeqCst);
            // SAFETY: `home` is `Arc::as_ptr` of the G's live worker.
            unsafe { Worker::notify_home(home) };
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

    /// Sets the permit; the futex wake-up waits until the waker releases
    /// its `Lock`s, if it holds any (see `lock.rs`).
    fn unpark(this: Arc<ThreadParker>) {
        this.permit.store(SET, Ordering::Release);
        if crate::lock::held() {
            crate::lock::defer_wake(this);
        } else {
            futex::wake(&this.permit, 1);
        }
    }
}

impl crate::lock::Wake for ThreadParker {
    fn wake(&self) {
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
