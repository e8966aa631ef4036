//! `goro::time`: sleeping, timers and tickers, with Go 1.23's semantics.
//!
//! `sleep` parks the goroutine on its P's timer heap (no allocation, no
//! channel). Everything else is a `TimerCore`: the scheduler's heap entry
//! target (`goro_scheduler::TimerTarget`) that, when due, either sends the
//! time on a one-slot channel (`Timer`, `Ticker`, `after`, `tick`) or starts
//! a goroutine (`after_func`).
//!
//! Stopping and re-arming never search the heap: they bump the timer's
//! sequence number under its lock, so the old heap entry is stale and does
//! nothing when it comes due (the heap drops stale entries early, see the
//! scheduler's `time/timers.rs`). Because a due timer sends while holding the
//! same lock, and `stop`/`reset` drain the channel under it, no value from
//! before a `stop` or `reset` can be received after it returns (Go 1.23's
//! guarantee); `stop` and `reset` return true if the timer was armed or a
//! fired value was still waiting, i.e. whether the call prevented a
//! delivery. A ticker's channel holds one tick: a slow receiver misses
//! ticks instead of accumulating them, and the next tick is scheduled on
//! the period grid, as Go's.
//!
//! Timers made in a runtime fire on its Ps (and start `after_func`
//! goroutines there, even when reset from another thread); timers made on a
//! plain thread outside any runtime fire on goro's timer thread.
//! An `after` or `tick` channel that nobody holds any more stops mattering:
//! its entry is dropped and a ticker stops re-arming.
//!
//! A timer's channel never closes by itself (`chan::timer_chan`: its sender
//! count starts one above the timer's one `Sender`). After its value is
//! received, an `after` channel stays open and empty, as Go's (and
//! crossbeam's): a second receive waits forever, `try_recv` says `Empty`.
//! A stopped or dropped timer likewise just never sends: a goroutine still
//! receiving on a clone of its channel stays blocked (Go's answer; the
//! deadlock detector and leak report see it), and nothing at all happens
//! at the old deadline: the stale heap entry only drops its reference.
//!
//! Inside a synctest bubble (`goro::synctest`) every clock here is the
//! bubble's fake one: [`now`], [`system_now`], deadlines, and the timers,
//! which a `TimerCore` made in a bubble arms on the bubble's heap (it
//! remembers its bubble, so a ticker re-armed by the bubble's clock stays
//! there, and an `after_func` starts its goroutine in the bubble). Outside
//! bubbles the check is one null test of the running G.
//!
//! Go 1.23's timers are synchronous: an expired timer delivers when
//! someone looks. The channel knows its timer (`chan::DueTimer`), so a
//! `recv`, `try_recv` or `select` on it first fires the timer if its
//! deadline has passed (`TimerCore::fire_if_due`): `select!` with
//! `recv(after(Duration::ZERO))` and `default` takes the receive. Lock
//! order: a timer's lock, then its channel's; the channel side fires
//! before it takes any channel lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant, SystemTime};

use goro_scheduler::{
    add_timer, bubble_now, current_bubble_id, sleep_until, Bubble, Handle, TimerTarget, Unpoisoned,
};

use crate::chan::{timer_chan, DueTimer, Receiver, Sender};

/// The current time (Go's `time.Now`) as an `Instant`: the real monotonic
/// clock, except inside a synctest bubble, where it is the bubble's fake
/// clock and moves only when every goroutine of the bubble is blocked.
/// `std::time::Instant::now()` is never faked.
#[inline]
pub fn now() -> Instant {
    bubble_now().unwrap_or_else(Instant::now)
}

/// The wall-clock time (`SystemTime::now()`); inside a synctest bubble,
/// 2000-01-01T00:00:00Z plus the bubble's fake time elapsed (Go's).
pub fn system_now() -> SystemTime {
    match Bubble::current() {
        Some(b) => b.system_now(),
        None => SystemTime::now(),
    }
}

/// Arms `target` (with `seq`) at `when` on the calling goroutine's clock:
/// its bubble's timers, else the runtime's (`add_timer`).
pub(crate) fn arm_timer(when: Instant, target: Arc<dyn TimerTarget>, seq: u64) {
    match Bubble::current() {
        Some(b) => b.add_timer(when, target, seq),
        None => add_timer(when, target, seq, None),
    }
}

/// Sleeps for `d`: parks the goroutine (blocks a plain thread). Returns at
/// once for a zero duration.
pub fn sleep(d: Duration) {
    sleep_until(deadline_after(d));
}

/// A channel that receives the time once, after `d` (Go's `time.After`).
pub fn after(d: Duration) -> Receiver<Instant> {
    after_deadline(deadline_after(d))
}

/// A channel that receives the time once, at `deadline`.
pub(crate) fn after_deadline(deadline: Instant) -> Receiver<Instant> {
    let (core, rx) = TimerCore::with_channel(None);
    core.arm(&mut core.lock(), deadline);
    rx
}

/// A channel that receives the time every `d` (Go's `time.Tick`); the ticks
/// stop once the receiver is dropped.
///
/// # Panics
/// If `d` is zero.
#[track_caller]
pub fn tick(d: Duration) -> Receiver<Instant> {
    let (core, rx) = TimerCore::with_channel(Some(positive(d, "tick")));
    core.arm(&mut core.lock(), deadline_after(d));
    rx
}

/// A single-shot timer (Go's `time.Timer`). Dropping it stops it, unless it
/// came from [`after_func`].
///
/// Its channel never closes: after [`stop`](Self::stop), or once the timer
/// is dropped, a goroutine receiving on a clone of [`chan`](Self::chan)
/// stays blocked (as in Go), and nothing happens at the old deadline.
pub struct Timer {
    core: Arc<TimerCore>,
    rx: Receiver<Instant>,
    stop_on_drop: bool,
}

impl Timer {
    /// A timer that sends the time on [`chan`](Self::chan) after `d`.
    pub fn new(d: Duration) -> Timer {
        let (core, rx) = TimerCore::with_channel(None);
        core.arm(&mut core.lock(), deadline_after(d));
        Timer {
            core,
            rx,
            stop_on_drop: true,
        }
    }

    /// The channel the time is sent on (never receives for an
    /// [`after_func`] timer).
    pub fn chan(&self) -> &Receiver<Instant> {
        &self.rx
    }

    /// Stops the timer. Returns true if this prevented a delivery (the
    /// timer was armed, or its value had not been received yet; that value
    /// is discarded). Afterwards nothing is received from `chan`.
    ///
    /// # Panics
    /// On a timer made in a synctest bubble, outside that bubble (Go's
    /// "stop of synctest timer from outside bubble"); `reset` likewise.
    #[track_caller]
    pub fn stop(&self) -> bool {
        self.core.check_bubble("stop");
        self.stop_now()
    }

    /// `stop` without the bubble check (dropping a timer never panics).
    fn stop_now(&self) -> bool {
        let mut st = self.core.lock();
        self.core.disarm(&mut st) | self.drain()
    }

    /// Re-arms the timer to fire after `d`, discarding a pending value and
    /// a pending firing. Returns what [`stop`](Self::stop) would have.
    #[track_caller]
    pub fn reset(&self, d: Duration) -> bool {
        self.core.check_bubble("reset");
        let mut st = self.core.lock();
        let prevented = self.core.disarm(&mut st) | self.drain();
        self.core.arm(&mut st, deadline_after(d));
        prevented
    }

    /// Discards a delivered value not yet received (under the core lock:
    /// `recv_now` neither fires the timer nor yields).
    fn drain(&self) -> bool {
        self.rx.recv_now().is_ok()
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if self.stop_on_drop {
            self.stop_now();
        }
    }
}

impl std::fmt::Debug for Timer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Timer { .. }")
    }
}

/// Runs `f` in its own goroutine after `d` (Go's `time.AfterFunc`).
/// `reset` schedules it again; `stop` cancels a run that has not started.
/// Dropping the returned timer does not cancel it. Called in a synctest
/// bubble, `f`'s goroutine runs in that bubble, on its clock.
///
/// # Panics
/// Outside a goro runtime (there is nowhere to start the goroutine).
#[track_caller]
pub fn after_func<F>(d: Duration, f: F) -> Timer
where
    F: Fn() + Send + Sync + 'static,
{
    let Some(runtime) = Handle::try_current() else {
        panic!("goro: time::after_func called outside a goro runtime; call it inside goro::run");
    };
    // No timer behind the channel: nothing is ever sent on it.
    let (tx, rx) = timer_chan(None);
    let core = Arc::new(TimerCore::new(
        Action::Spawn(Arc::new(f)),
        tx,
        Some(runtime),
        None,
    ));
    core.arm(&mut core.lock(), deadline_after(d));
    Timer {
        core,
        rx,
        stop_on_drop: false,
    }
}

/// Sends the time on its channel every period (Go's `time.Ticker`).
/// Dropping it stops it.
pub struct Ticker {
    core: Arc<TimerCore>,
    rx: Receiver<Instant>,
}

impl Ticker {
    /// A ticker with period `d`; the first tick comes after `d`.
    ///
    /// # Panics
    /// If `d` is zero.
    #[track_caller]
    pub fn new(d: Duration) -> Ticker {
        let (core, rx) = TimerCore::with_channel(Some(positive(d, "Ticker::new")));
        core.arm(&mut core.lock(), deadline_after(d));
        Ticker { core, rx }
    }

    /// The channel the ticks are sent on.
    pub fn chan(&self) -> &Receiver<Instant> {
        &self.rx
    }

    /// Stops the ticker; no tick is received afterwards.
    ///
    /// # Panics
    /// On a ticker made in a synctest bubble, outside that bubble (Go's
    /// "stop of synctest timer from outside bubble"); `reset` likewise.
    #[track_caller]
    pub fn stop(&self) {
        self.core.check_bubble("stop");
        self.stop_now();
    }

    /// `stop` without the bubble check (dropping a ticker never panics).
    fn stop_now(&self) {
        let mut st = self.core.lock();
        self.core.disarm(&mut st);
        let _ = self.rx.recv_now();
    }

    /// Stops the ticker and restarts it with period `d`; the next tick
    /// comes after `d`.
    ///
    /// # Panics
    /// If `d` is zero.
    #[track_caller]
    pub fn reset(&self, d: Duration) {
        self.core.check_bubble("reset");
        let d = positive(d, "Ticker::reset");
        let mut st = self.core.lock();
        self.core.disarm(&mut st);
        let _ = self.rx.recv_now();
        st.period = Some(d);
        self.core.arm(&mut st, deadline_after(d));
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop_now();
    }
}

impl std::fmt::Debug for Ticker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ticker { .. }")
    }
}

/// What a due timer does.
enum Action {
    /// Send the time on the channel (dropped if a value is still waiting).
    Send,
    /// Start a goroutine running the function.
    Spawn(Arc<dyn Fn() + Send + Sync>),
}

/// A timer's shared state: the scheduler's heap entries point here.
struct TimerCore {
    state: Mutex<TimerState>,
    /// `TimerState::seq`, readable without the lock (heap compaction asks
    /// `is_stale` while holding the heap lock; taking ours there would
    /// invert the lock order of `arm`).
    seq: AtomicU64,
    action: Action,
    tx: Sender<Instant>,
    /// The runtime it was made in, where it fires.
    runtime: Option<Handle>,
    /// The synctest bubble it was made in, whose clock it runs on.
    bubble: Option<Bubble>,
}

struct TimerState {
    seq: u64,
    armed: bool,
    when: Instant,
    period: Option<Duration>,
}

impl TimerCore {
    fn new(
        action: Action,
        tx: Sender<Instant>,
        runtime: Option<Handle>,
        period: Option<Duration>,
    ) -> TimerCore {
        TimerCore {
            state: Mutex::new(TimerState {
                seq: 0,
                armed: false,
                when: now(),
                period,
            }),
            seq: AtomicU64::new(0),
            action,
            tx,
            runtime,
            bubble: Bubble::current(),
        }
    }

    /// A sending timer (ticker with a period) and its channel, which
    /// knows the timer so that its receivers fire it when due.
    fn with_channel(period: Option<Duration>) -> (Arc<TimerCore>, Receiver<Instant>) {
        let mut rx = None;
        let core = Arc::new_cyclic(|me: &Weak<TimerCore>| {
            let me: Weak<dyn DueTimer> = me.clone();
            let (tx, r) = timer_chan(Some(me));
            rx = Some(r);
            TimerCore::new(Action::Send, tx, Handle::try_current(), period)
        });
        match rx {
            Some(rx) => (core, rx),
            None => unreachable!("new_cyclic runs its closure"),
        }
    }

    /// Go's rule for a timer made in a synctest bubble: only goroutines of
    /// that bubble may `what` it (stop or reset). One `None` test for a
    /// timer made outside bubbles.
    #[track_caller]
    fn check_bubble(&self, what: &str) {
        if let Some(b) = &self.bubble {
            if b.id() != current_bubble_id() {
                panic!(
                    "{what} of synctest timer from outside bubble (the timer was made in a \
                     goro::synctest bubble; only that bubble's goroutines may {what} it)"
                );
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, TimerState> {
        // No user code runs under this lock (`after_func`'s f runs in its
        // own goroutine), so it is never poisoned by a user panic.
        self.state.lock_unpoisoned()
    }

    /// Arms (or re-arms, after `disarm`) for `when`.
    fn arm(self: &Arc<Self>, st: &mut TimerState, when: Instant) {
        st.armed = true;
        st.when = when;
        let target: Arc<dyn TimerTarget> = self.clone();
        match &self.bubble {
            Some(b) => b.add_timer(when, target, st.seq),
            None => add_timer(when, target, st.seq, self.runtime.as_ref()),
        }
    }

    /// Makes every pending heap entry stale; returns whether it was armed.
    fn disarm(&self, st: &mut TimerState) -> bool {
        st.seq += 1;
        self.seq.store(st.seq, Ordering::Release);
        std::mem::replace(&mut st.armed, false)
    }
}

impl TimerCore {
    /// Does what the timer does when due, under its lock (`st`), and
    /// re-arms a ticker on its period grid.
    fn deliver(self: &Arc<Self>, st: &mut TimerState, now: Instant) {
        match &self.action {
            Action::Send => {
                let _ = self.tx.send_now(now);
            }
            Action::Spawn(f) => {
                let f = f.clone();
                if let Some(rt) = &self.runtime {
                    // Detached; nothing runs if the runtime has ended. A
                    // bubble's timer starts it in the bubble (Go's).
                    drop(match &self.bubble {
                        Some(b) => b.go(rt, move || f()),
                        None => rt.go(move || f()),
                    });
                }
            }
        }
        match st.period {
            Some(period) => {
                // The next tick on the period grid after `now`.
                let behind = now.saturating_duration_since(st.when).as_nanos();
                let periods = 1 + behind / period.as_nanos().max(1);
                let next = st.when
                    + period
                        .checked_mul(u32::try_from(periods).unwrap_or(u32::MAX))
                        .unwrap_or(period);
                self.arm(st, next);
            }
            None => st.armed = false,
        }
    }
}

impl TimerTarget for TimerCore {
    fn fire(self: Arc<Self>, seq: u64, now: Instant) {
        let mut st = self.lock();
        if !st.armed || self.is_stale(seq) {
            return;
        }
        self.deliver(&mut st, now);
    }

    fn is_stale(&self, seq: u64) -> bool {
        seq != self.seq.load(Ordering::Acquire)
            || (matches!(self.action, Action::Send) && self.tx.is_closed())
    }
}

impl DueTimer for TimerCore {
    /// Go 1.23's synchronous delivery: an expired timer delivers when its
    /// channel is looked at, before its heap entry comes due (that entry
    /// is made stale here, so it does nothing later).
    fn fire_if_due(self: Arc<Self>) {
        let mut st = self.lock();
        if !st.armed {
            return;
        }
        let now = self.bubble.as_ref().map_or_else(Instant::now, Bubble::now);
        if st.when > now {
            return;
        }
        self.disarm(&mut st);
        self.deliver(&mut st, now);
    }
}

/// `now() + d`, or a deadline a century away when that overflows.
pub(crate) fn deadline_after(d: Duration) -> Instant {
    let now = now();
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

#[track_caller]
fn positive(d: Duration, what: &str) -> Duration {
    if d.is_zero() {
        panic!("goro: time::{what}: the interval must be positive");
    }
    d
}
