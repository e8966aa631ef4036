//! G: a goroutine's control block.
//!
//! A G is created when a task first runs (from the running P's free list,
//! with the stack it kept from its previous life, so a warm spawn makes no
//! syscall and no allocation besides the task cell) and wraps a corosensei
//! coroutine on a guarded stack from `goro-stack`.
//!
//! # States
//!
//! ```text
//!            resume              park (yield)             ready
//! RUNNABLE ---------> RUNNING ---------------> PARKED -----------> RUNNABLE
//!                        |                      |   ^
//!                        | ready before  an     |   | it lets go
//!                        | the switch  observer |   |
//!                        v             holds it v   |       ready
//!                    NOTIFIED                  SCANNING ---------> SCAN_READIED
//!                        | M sees it after                               | it lets go,
//!                        v the switch                                    v queues it
//!               RUNNABLE (runnext)                                    RUNNABLE
//! ```
//!
//! `ready` may race with the goroutine's own way into `park`: the waker can
//! find it still `RUNNING` (it registered itself as a waiter and has not
//! switched out yet). The waker then only marks it `NOTIFIED`; the M, after
//! the switch, fails its `RUNNING -> PARKED` CAS, sees the mark and queues the
//! G at once. So no wake-up is lost, and no lock is held across the switch
//! (Go needs `gopark`'s unlock callback for the same job).
//!
//! The racing transitions are in `state.rs`, with loom models of them.
//!
//! `SCANNING` is Go's scan bit: an observer walking a parked goroutine's
//! stack (the goroutine dump) holds it there so that no M resumes it
//! meanwhile. A `ready` that finds it `SCANNING` neither waits for the
//! observer nor queues it: it marks it `SCAN_READIED`, and the observer,
//! when done, queues it itself (`scan.rs`). So a dump never loses a wake-up
//! and never makes a waker spin.
//!
//! Only the G's home M ever resumes it (it never changes OS thread after its
//! first instruction), so every non-atomic field is touched by one thread at
//! a time: the home M, or the goroutine itself while it runs there. `state`
//! and `home` are read by wakers on other threads and are atomic.
//!
//! Observers (goroutine dumps, `scheddetail`, deadlock detection, see
//! `snapshot.rs`) read Gs from other threads through the runtime's registry
//! of every G it allocated (`Sched::all_gs`, Go's `allgs`). A G is never
//! freed while its runtime runs (finished Gs are cached or pooled for
//! reuse), and every field an observer reads is atomic, so an observer may
//! see a G a moment stale, or half-way through being recycled (it then
//! re-checks the id), but never freed memory or a data race. A G that is
//! not running a goroutine is `DEAD`. An observer holding a goroutine in
//! `SCANNING` may also read what the goroutine wrote before it parked (its
//! `park_frame`, `stack_range` and the stack above the park frame): the
//! `RUNNING -> PARKED` CAS of its M and the observer's `PARKED -> SCANNING`
//! CAS order those writes before the reads, and nothing writes them again
//! until the observer lets go.

use std::cell::{Cell, RefCell, UnsafeCell};
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicU8, Ordering};

use corosensei::{Coroutine, CoroutineResult, Yielder};
use goro_stack::{GuardedStack, StackRange};

use crate::g::locals::Locals;
use crate::g::park_frame::ParkFrame;
use crate::g::task::Task;
use crate::g::wait_reason::WaitReason;
use crate::sched::m::{MLocal, M};

use crate::g::state::{GState, DEAD, RUNNABLE};

/// Why a goroutine handed control back to its M.
pub(crate) enum Yield {
    /// It registered a waiter and waits for `ready`.
    Park,
    /// `gosched` or preemption: requeue at the tail.
    Gosched,
}

/// What the M passes into a goroutine when it resumes it: the M's own
/// `MLocal`, so code after a park never needs TLS to find its M.
pub(crate) type Resume = *const MLocal;

type Coro = Coroutine<Resume, Yield, (), GuardedStack>;

pub(crate) struct G {
    id: AtomicU64,
    /// The goroutine that spawned it (0: the runtime or a plain thread).
    parent: AtomicU64,
    pub state: GState,
    /// A `WaitReason` as `u8` (see `wait_reason`), set while it parks.
    wait_reason: AtomicU8,
    /// When it last parked, in the sysmon clock's nanoseconds (`sysmon.rs`).
    pub wait_since: AtomicU64,
    /// The worker whose M runs this goroutine (fixed once it starts, except
    /// for migratory goroutines, which get a new home at each resume).
    pub home: AtomicPtr<M>,
    /// Always a `&'static Location` (atomic for observers).
    spawn_site: AtomicPtr<Location<'static>>,
    pub migratory: Cell<bool>,
    /// Set while it parks during a panic: a migratory goroutine is pinned
    /// until it finishes unwinding (std's panic count is per thread).
    pub pinned: Cell<bool>,
    /// Nesting depth of `lock_os_thread`.
    pub locked: AtomicU32,
    /// Set by the runtime before it force-unwinds an abandoned goroutine.
    pub force_unwinding: Cell<bool>,
    /// Index of this G in its worker's live list.
    pub live_index: Cell<usize>,
    pub locals: RefCell<Locals>,
    /// Where its stack is, for trimming while it is parked.
    pub stack_range: Cell<Option<StackRange>>,
    /// `park`'s frame, recorded before the switch.
    pub park_frame: ParkFrame,
    /// Whether its stack was trimmed since it last ran.
    pub trimmed: Cell<bool>,
    task: UnsafeCell<Option<Task>>,
    coroutine: UnsafeCell<Option<Coro>>,
    /// The stack while no coroutine owns it (a G on a free list keeps one).
    spare_stack: UnsafeCell<Option<GuardedStack>>,
    yielder: Cell<*const Yielder<Resume, Yield>>,
}

/// A pointer to a G, as held by run queues and waiters.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct GRef(pub NonNull<G>);

// SAFETY: a GRef is a plain address; what may be done through it from
// another thread is limited to the atomic fields (`state`, `home`), and the
// scheduler guarantees the G outlives every GRef held by a queue or a waiter
// (a G is recycled only after it finished, and a finished G is in no queue
// and registered with no waker).
unsafe impl Send for GRef {}
// SAFETY: sharing `&GRef` shares only the address (see `Send` above); the
// same limits apply to what is done through it.
unsafe impl Sync for GRef {}

impl GRef {
    /// # Safety
    /// The G must be alive (see the type's SAFETY comment).
    pub(crate) unsafe fn get<'a>(self) -> &'a G {
        // SAFETY: guaranteed by the caller.
        unsafe { self.0.as_ref() }
    }
}

impl G {
    pub(crate) fn new() -> Box<G> {
        Box::new(G {
            id: AtomicU64::new(0),
            parent: AtomicU64::new(0),
            state: GState::new(DEAD),
            wait_reason: AtomicU8::new(WaitReason::None as u8),
            wait_since: AtomicU64::new(0),
            home: AtomicPtr::new(std::ptr::null_mut()),
            spawn_site: AtomicPtr::new(site_ptr(Location::caller())),
            migratory: Cell::new(false),
            pinned: Cell::new(false),
            locked: AtomicU32::new(0),
            force_unwinding: Cell::new(false),
            live_index: Cell::new(usize::MAX),
            locals: RefCell::new(Locals::default()),
            stack_range: Cell::new(None),
            park_frame: ParkFrame::new(),
            trimmed: Cell::new(false),
            task: UnsafeCell::new(None),
            coroutine: UnsafeCell::new(None),
            spare_stack: UnsafeCell::new(None),
            yielder: Cell::new(std::ptr::null()),
        })
    }

    /// The goroutine's id (as in dumps and panic reports).
    pub(crate) fn id(&self) -> u64 {
        self.id.load(Ordering::Relaxed)
    }

    pub(crate) fn parent(&self) -> u64 {
        self.parent.load(Ordering::Relaxed)
    }

    pub(crate) fn spawn_site(&self) -> &'static Location<'static> {
        // SAFETY: only `site_ptr` of a `&'static Location` is ever stored.
        unsafe { &*self.spawn_site.load(Ordering::Relaxed) }
    }

    /// Why it is parked (`WaitReason::None` while it runs).
    pub(crate) fn wait_reason(&self) -> WaitReason {
        WaitReason::from_u8(self.wait_reason.load(Ordering::Relaxed))
    }

    pub(crate) fn set_wait_reason(&self, reason: WaitReason) {
        self.wait_reason.store(reason as u8, Ordering::Relaxed);
    }

    /// Trims the spare stack of an idle G to a warm prefix (once per use).
    pub(crate) fn trim_spare_stack(&self, warm: usize) {
        if self.trimmed.replace(true) {
            return;
        }
        // SAFETY: as in `take_spare_stack`.
        if let Some(s) = unsafe { (*self.spare_stack.get()).as_ref() } {
            s.trim_to(warm);
        }
    }

    /// Takes the spare stack (to give it back to the pool).
    pub(crate) fn take_spare_stack(&self) -> Option<GuardedStack> {
        // SAFETY: as in `spare_stack_size`.
        unsafe { (*self.spare_stack.get()).take() }
    }

    /// Binds a task to this (idle) G, building its coroutine on `stack`.
    pub(crate) fn prepare(this: GRef, task: Task, stack: GuardedStack, home: *const M) {
        // SAFETY: `this` is an idle G owned by the calling M.
        let g = unsafe { this.get() };
        let info = task.info();
        g.id.store(info.id, Ordering::Relaxed);
        g.parent.store(info.parent, Ordering::Relaxed);
        g.spawn_site
            .store(site_ptr(info.spawn_site), Ordering::Relaxed);
        g.migratory.set(info.migratory);
        g.pinned.set(false);
        g.locked.store(0, Ordering::Relaxed);
        g.force_unwinding.set(false);
        g.set_wait_reason(WaitReason::None);
        g.home.store(home as *mut M, Ordering::Relaxed);
        // An observer that sees the new state sees the new identity.
        g.state.set(RUNNABLE);
        stack.set_owner(info.id, info.spawn_site);
        g.stack_range.set(Some(stack.range()));
        g.park_frame.clear();
        g.trimmed.set(false);
        // SAFETY: the G is idle; nothing else references these cells.
        unsafe {
            *g.task.get() = Some(task);
            *g.coroutine.get() = Some(Coroutine::with_stack(stack, move |y, _m: Resume| {
                // SAFETY: the G outlives its coroutine (the coroutine is
                // dropped or finished before the G is recycled or freed).
                let g = this.get();
                g.yielder.set(y);
                // SAFETY: set just above by `prepare`, read once here.
                if let Some(task) = (*g.task.get()).take() {
                    task.run();
                }
                // Goroutine-local values die with the goroutine, in its context.
                let values = g.locals.borrow_mut().take_all();
                drop(values);
            }));
        }
    }

    /// Switches to the goroutine until it parks, yields or returns.
    /// Returns `Some(yield)` or `None` when the goroutine finished (its stack
    /// is then kept as the spare stack).
    pub(crate) fn resume(&self, m: &MLocal) -> Option<Yield> {
        // SAFETY: only the home M resumes a G and it is not running now.
        let coro = unsafe { &mut *self.coroutine.get() };
        let c = coro
            .as_mut()
            .expect("goro: resumed a G without a coroutine");
        match c.resume(m as *const MLocal) {
            CoroutineResult::Yield(y) => Some(y),
            CoroutineResult::Return(()) => {
                let stack = coro.take().map(Coroutine::into_stack);
                // SAFETY: only the home M touches the spare stack, and it is
                // not running the G now; the coroutine is gone, the stack
                // is ours.
                unsafe { *self.spare_stack.get() = stack };
                None
            }
        }
    }

    /// Hands control from the running goroutine back to its M.
    /// Returns the M that resumed it (which may differ for a migratory G).
    pub(crate) fn suspend(&self, why: Yield) -> Resume {
        let y = self.yielder.get();
        // SAFETY: `yielder` was set by the coroutine body of this G, which
        // is the code running now; the Yielder lives on this G's stack.
        unsafe { (*y).suspend(why) }
    }

    /// Unwinds an abandoned goroutine on this thread (its home M) and drops
    /// its task, keeping the stack. Destructors on its stack run now.
    /// `this` must be the G behind `self`; it is made the M's current
    /// goroutine meanwhile, so code on its stack sees itself as running.
    pub(crate) fn force_unwind(this: GRef, m: &MLocal) {
        // SAFETY: called by the home M on a G that is not running.
        let g = unsafe { this.get() };
        g.force_unwinding.set(true);
        // SAFETY: the home M, on a G that is not running: nobody else
        // touches its coroutine.
        let coro = unsafe { &mut *g.coroutine.get() };
        if let Some(c) = coro.as_mut() {
            let previous = m.current.replace(Some(this));
            c.force_unwind();
            m.current.set(previous);
        }
        if let Some(c) = coro.take() {
            // SAFETY: the home M, on a G that is not running: nobody else
            // touches its spare stack.
            unsafe { *g.spare_stack.get() = Some(c.into_stack()) };
        }
        // SAFETY: the home M, on a G that is not running: nobody else
        // touches its task. A task that never started is abandoned here.
        if let Some(task) = unsafe { (*g.task.get()).take() } {
            task.abandon();
        }
        let values = g.locals.borrow_mut().take_all();
        drop(values);
    }
}

fn site_ptr(site: &'static Location<'static>) -> *mut Location<'static> {
    site as *const Location<'static> as *mut Location<'static>
}

/// The goroutine running on this thread, if any.
#[inline]
pub(crate) fn current_g<'a>() -> Option<&'a G> {
    crate::sched::current::m().and_then(MLocal::running)
}
