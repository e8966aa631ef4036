//! Bubbles: the scheduler half of `goro::synctest` (Go 1.25's
//! testing/synctest).
//!
//! A bubble is a set of goroutines with its own fake clock. The root
//! goroutine is started by [`run`]; every goroutine spawned by a bubble
//! goroutine joins the bubble (the spawn copies the spawner's bubble into
//! the task, then into the G). The clock starts at the real instant the
//! bubble was made and moves only when every goroutine of the bubble is
//! *durably blocked*: then it jumps to the earliest timer of the bubble's
//! own heap, which fires. Nothing else moves it, so time inside a bubble is
//! a pure function of the program's blocking structure.
//!
//! # Counting
//!
//! The bubble counts its goroutines (`total`: spawned and not yet exited,
//! started or not) and those durably blocked (`blocked`), under its mutex.
//! A goroutine is durably blocked while it is parked (`PARKED`, or held by
//! a dump in `SCANNING`) for a durable [`WaitReason`]
//! ([`WaitReason::is_durable`]: bubble channels, selects over bubble
//! channels, joins of bubble goroutines, sleeps, sync primitives,
//! [`wait`]; not I/O, `blocking`, futures, or channels made outside the
//! bubble, which keep the clock still as in Go). Sync primitives are
//! durable whoever holds them: a lock does not record its holder (that
//! would be a store on every uncontended lock), so a lock held outside the
//! bubble is a documented limit (`docs/testing.md`). The two transitions:
//! - its M, right after the `RUNNING -> PARKED` switch succeeded
//!   (`schedule.rs`), calls [`BubbleCore::parked`]: under the mutex, if the
//!   G is still parked (no waker got there first), it is counted;
//! - a waker, right after its `ready` CAS (`park.rs`) and before it queues
//!   the G, calls [`BubbleCore::readied`]: under the mutex, a counted G is
//!   uncounted.
//!
//! Both take the mutex after their CAS on the G's state, so whichever comes
//! second sees the other's effect: a G is never counted while runnable
//! except between a waker's CAS and its `readied`, and no waker of a
//! counted G runs inside the bubble (a bubble goroutine that wakes another
//! is running, so the bubble is not idle meanwhile). Wakers from outside
//! are kept out where the user could make one: the channels (and timers)
//! of a bubble panic when used from outside it (`goro-runtime`'s
//! `chan/bubble.rs`); what is left is the runtime's own (a drop's close, a
//! context cancelled from outside, a signal's send). Uncounting before the
//! queueing means the G cannot run and park again before its old count is
//! gone.
//!
//! # Idle
//!
//! Whoever brings `blocked` up to `total` (the parking M, an exiting
//! goroutine) settles the bubble ([`BubbleCore::settle`]), in this order:
//! a goroutine in [`wait`] is woken (`wait` returns once all *others* are
//! durably blocked); else, with no goroutine left, `run`'s caller is woken;
//! else the clock jumps to the earliest live timer and every timer due then
//! fires (outside the mutex, with `firing` set so that nobody else settles
//! meanwhile; then it settles again); else it is a deadlock, which `run`'s
//! caller returns, and `goro::synctest::run` (`lib.rs`) panics with Go's
//! message and the blocked goroutines' stacks (`monitor/bubble_deadlock.rs`).
//!
//! # Goroutines started for the bubble
//!
//! A goroutine joins the bubble of the goroutine that spawns it. Two kinds
//! are started from elsewhere and join through [`Bubble::go`]:
//! `time::after_func`'s function, whose timer fires on whichever M settles
//! the bubble (as Go's `AfterFunc` in a bubble, it runs in the bubble, on
//! its clock, and `run` waits for it), and `context::after_func`'s,
//! which joins the bubble it was registered in (the cancel that starts it
//! may come from a bubble timer, or from outside). The spawn counts it in
//! `total` before anyone can see the bubble idle: a firing settler holds
//! `firing`, so it settles again only after the spawn.
//!
//! # Cost outside bubbles
//!
//! A G outside any bubble has a null `bubble` pointer: the park switch,
//! `ready` and goroutine exit each test it once (a predictable branch), a
//! spawn copies it, and timers, channels and `goro::time::now` test it
//! where they read the clock or park.

use std::any::Any;
use std::panic::{AssertUnwindSafe, Location};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::g::current_g;
use crate::g::wait_reason::WaitReason;
use crate::g::{G, PARKED, SCANNING};
use crate::sched::handle::Handle;
use crate::sched::park::{current_waiter, park, Waiter};
use crate::sched::spawn::GoBuilder;
use crate::sys::poison::Unpoisoned;
use crate::time::{TimerTarget, Timers};
use crate::JoinHandle;

/// A bubble: a shared handle (the goroutines of the bubble, their tasks
/// and the bubble's timers hold one each).
#[derive(Clone)]
pub struct Bubble(pub(crate) Arc<BubbleCore>);

impl std::fmt::Debug for Bubble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bubble({})", self.0.id)
    }
}

pub(crate) struct BubbleCore {
    /// Unique in the process, never 0 (a G's `bubble_id` 0 means none).
    id: u64,
    /// The real instant the bubble was made: its clock's zero.
    start: Instant,
    /// Fake time elapsed since `start`, in nanoseconds. Written only by a
    /// settler while `firing` (one at a time), read by anyone.
    elapsed: AtomicU64,
    /// The bubble's timers, on its fake clock.
    timers: Timers,
    state: Mutex<State>,
}

/// What a bubble's caller learns when it is woken.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    Running,
    /// Every goroutine exited.
    Done,
    /// Every goroutine is durably blocked and no timer is pending.
    Deadlock,
    /// The root goroutine panicked (its payload is in its join handle).
    RootPanicked,
}

struct State {
    /// Goroutines of the bubble spawned and not yet exited.
    total: usize,
    /// Of those, the ones counted durably blocked (invariant: every G with
    /// this bubble and `bubble_counted` set, and no other).
    blocked: usize,
    /// A settler is firing timers outside the mutex.
    firing: bool,
    /// Whether the root goroutine has returned.
    root_exited: bool,
    /// The goroutine in `wait`, if any.
    waiter: Option<Waiter>,
    /// `run`'s caller, parked until `outcome` is not `Running`.
    caller: Option<Waiter>,
    outcome: Outcome,
}

/// 2000-01-01T00:00:00Z, where a bubble's `system_now` starts (Go's).
const SYSTEM_EPOCH_SECS: u64 = 946_684_800;

impl BubbleCore {
    fn new() -> Arc<BubbleCore> {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Arc::new(BubbleCore {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            start: Instant::now(),
            elapsed: AtomicU64::new(0),
            timers: Timers::new(),
            state: Mutex::new(State {
                total: 0,
                blocked: 0,
                firing: false,
                root_exited: false,
                waiter: None,
                caller: None,
                outcome: Outcome::Running,
            }),
        })
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No user code runs under it (wakes and timers run outside).
        self.state.lock_unpoisoned()
    }

    /// The bubble's fake time.
    pub(crate) fn now(&self) -> Instant {
        self.start + Duration::from_nanos(self.elapsed.load(Ordering::Acquire))
    }

    /// A goroutine of the bubble was spawned (by a bubble goroutine, which
    /// is running: the bubble is not idle now).
    pub(crate) fn spawned(&self) {
        self.lock().total += 1;
    }

    /// A goroutine of the bubble returned.
    fn exited(&self) {
        let mut st = self.lock();
        st.total -= 1;
        self.settle(st);
    }

    /// `g` (of this bubble) switched out to park: its M counts it if the
    /// reason is durable and no waker has readied it yet.
    pub(crate) fn parked(&self, g: &G) {
        if !g.wait_reason().is_durable() {
            return;
        }
        let st = self.lock();
        let state = g.state.get();
        if (state == PARKED || state == SCANNING) && !g.bubble_counted.swap(true, Ordering::Relaxed)
        {
            let mut st = st;
            st.blocked += 1;
            self.settle(st);
        }
    }

    /// `g` (of this bubble) was readied: it is not blocked any more.
    pub(crate) fn readied(&self, g: &G) {
        let mut st = self.lock();
        if g.bubble_counted.swap(false, Ordering::Relaxed) {
            st.blocked -= 1;
        }
    }

    /// Acts on an idle bubble (module docs, "Idle"); releases the lock.
    fn settle<'a>(&'a self, mut st: MutexGuard<'a, State>) {
        loop {
            if st.firing || st.blocked < st.total || st.outcome != Outcome::Running {
                return;
            }
            if let Some(w) = st.waiter.take() {
                drop(st);
                // SAFETY: `wait` registered it for exactly one park, and
                // only this `take` hands it out.
                unsafe { w.wake() };
                return;
            }
            if st.total == 0 {
                return self.finish(st, Outcome::Done);
            }
            let Some(when) = self.timers.earliest_live() else {
                return self.finish(st, Outcome::Deadlock);
            };
            st.firing = true;
            drop(st);
            let now = self.now().max(when);
            let elapsed = now.saturating_duration_since(self.start).as_nanos();
            self.elapsed.store(
                u64::try_from(elapsed).unwrap_or(u64::MAX),
                Ordering::Release,
            );
            self.timers.run_due(now);
            st = self.lock();
            st.firing = false;
        }
    }

    /// Ends the bubble with `outcome` and wakes `run`'s caller.
    fn finish(&self, mut st: MutexGuard<'_, State>, outcome: Outcome) {
        st.outcome = outcome;
        let caller = st.caller.take();
        drop(st);
        if let Some(c) = caller {
            // SAFETY: `run` registered it for exactly one park, and only
            // this `take` hands it out.
            unsafe { c.wake() };
        }
    }

    /// Waits (parks `run`'s caller) until the bubble has an outcome.
    fn outcome(&self) -> Outcome {
        let mut st = self.lock();
        if st.outcome == Outcome::Running {
            st.caller = Some(current_waiter());
            drop(st);
            park(WaitReason::SynctestRun);
            st = self.lock();
        }
        st.outcome
    }
}

impl Bubble {
    /// The bubble of the running goroutine, if it is in one.
    pub fn current() -> Option<Bubble> {
        current_g().and_then(G::bubble)
    }

    /// The bubble's fake time.
    pub fn now(&self) -> Instant {
        self.0.now()
    }

    /// The bubble's fake wall-clock time: 2000-01-01T00:00:00Z plus the
    /// fake time elapsed (Go's).
    pub fn system_now(&self) -> std::time::SystemTime {
        let elapsed = Duration::from_nanos(self.0.elapsed.load(Ordering::Acquire));
        std::time::UNIX_EPOCH + Duration::from_secs(SYSTEM_EPOCH_SECS) + elapsed
    }

    /// Arms `target` to fire with `seq` when the bubble's clock reaches
    /// `when` (see `goro_scheduler::add_timer` for the contract).
    pub fn add_timer(&self, when: Instant, target: Arc<dyn TimerTarget>, seq: u64) {
        self.0.timers.add_target(when, target, seq);
    }

    /// The bubble's id (as in goroutine dumps' deadlock reports).
    pub fn id(&self) -> u64 {
        self.0.id
    }

    /// Starts `f` in `runtime` as a goroutine of this bubble, from any
    /// thread: what `time::after_func` does when a timer of the bubble
    /// fires (on whichever M settles the bubble), and `context::after_func`
    /// registered in the bubble (module docs, "Goroutines started for the
    /// bubble"). Once the bubble has ended, `f` starts outside any bubble.
    #[track_caller]
    pub fn go<F, T>(&self, runtime: &Handle, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let running = self.0.lock().outcome == Outcome::Running;
        let options = if running {
            GoBuilder::new().bubble(self.clone())
        } else {
            GoBuilder::new()
        };
        runtime.go_with(Location::caller(), options, f)
    }
}

/// The id of the running goroutine's bubble; 0 when it is in none (or not
/// in a goroutine). What channels record when they are made.
#[inline]
pub fn current_bubble_id() -> u64 {
    current_g().map_or(0, G::bubble_id)
}

/// The running goroutine's bubble clock, if it is in a bubble (what
/// `goro::time::now` reads first).
#[inline]
pub fn bubble_now() -> Option<Instant> {
    current_g().and_then(|g| g.with_bubble(BubbleCore::now))
}

/// Parks the calling bubble goroutine on its bubble's timers until
/// `deadline` (`time::sleep_until`'s bubble half). False when the caller
/// is in no bubble.
pub(crate) fn sleep_until(deadline: Instant) -> bool {
    let Some(g) = current_g() else { return false };
    let Some(parked) = g.with_bubble(|b| {
        if deadline <= b.now() {
            return false;
        }
        b.timers.add_wake(deadline, current_waiter());
        true
    }) else {
        return false;
    };
    if parked {
        park(WaitReason::Sleep);
    }
    true
}

/// A goroutine of `bubble` returned (called on its stack, last thing).
pub(crate) fn exited(bubble: &BubbleCore) {
    bubble.exited();
}

/// A bubble whose goroutines are all durably blocked with no timer
/// pending: what its report (`monitor/bubble_deadlock.rs`) needs.
pub(crate) struct Deadlock {
    /// The bubble's id (its goroutines' `bubble_id`).
    pub bubble: u64,
    /// Whether the root goroutine had returned (Go's second message).
    pub root_exited: bool,
}

/// Runs `f` as the root goroutine of a new bubble and returns its result
/// once every goroutine of the bubble has exited, or the deadlock that
/// stopped it (`goro::synctest::run`, in `lib.rs`).
///
/// # Panics
/// Outside a goroutine, or inside a bubble; with the root goroutine's own
/// panic if it panics.
#[track_caller]
pub(crate) fn run<F, T>(f: F) -> Result<T, Deadlock>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let Some(me) = current_g() else {
        panic!("goro: synctest::run called outside a goroutine; call it inside goro::run");
    };
    if me.bubble_id() != 0 {
        panic!("goro: synctest::run called from within a synctest bubble");
    }
    let core = BubbleCore::new();
    let bubble = Bubble(core.clone());
    let root_bubble = bubble.clone();
    let options = GoBuilder::new().bubble(bubble);
    let root = match options.spawn(move || {
        let result = match std::panic::catch_unwind(AssertUnwindSafe(f)) {
            // The runtime is abandoning the bubble: let the unwind go on.
            Err(payload) if crate::forced_unwind_in_progress() => {
                std::panic::resume_unwind(payload)
            }
            result => result,
        };
        let mut st = root_bubble.0.lock();
        st.root_exited = true;
        if result.is_err() {
            root_bubble.0.finish(st, Outcome::RootPanicked);
        }
        result
    }) {
        Ok(root) => root,
        Err(e) => panic!("{e}"),
    };
    match core.outcome() {
        Outcome::Done | Outcome::RootPanicked => match root.join() {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(payload)) => std::panic::resume_unwind(payload),
            Err(p) => std::panic::resume_unwind(Box::new(p.to_string()) as Box<dyn Any + Send>),
        },
        Outcome::Deadlock => Err(Deadlock {
            bubble: core.id,
            root_exited: core.lock().root_exited,
        }),
        Outcome::Running => unreachable!("goro: a bubble's caller woke while it ran"),
    }
}

/// Returns once every other goroutine of the caller's bubble is durably
/// blocked (`goro::synctest::wait`).
///
/// # Panics
/// Outside a bubble, or while another goroutine of the bubble is in `wait`.
#[track_caller]
pub(crate) fn wait() {
    let site = Location::caller();
    let Some(bubble) = Bubble::current() else {
        panic!("goro: synctest::wait called outside a synctest bubble (at {site})");
    };
    let mut st = bubble.0.lock();
    if st.waiter.is_some() {
        drop(st);
        panic!("goro: synctest::wait called concurrently by two goroutines of one bubble");
    }
    st.waiter = Some(current_waiter());
    drop(st);
    park(WaitReason::SynctestWait);
}
