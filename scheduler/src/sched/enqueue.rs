//! Making work runnable: the one path every spawn, wake-up, yield and
//! hand-off takes, and the waker half of the sleep/wake protocol.
//!
//! Work goes to one of three places:
//! - a **fresh task** (not started: any M may run it) to the spawning P's
//!   fresh queue, or the global queue when the spawner has no P
//!   ([`submit`], [`submit_global`]);
//! - a **started goroutine** to its home M ([`make_runnable`]): to
//!   `runnext` when readied by a goroutine of that same M (it inherits the
//!   time slice, so a ping-pong stays on one thread), else to the home
//!   queue;
//! - a **migratory goroutine** (`spawn_migratory`, not pinned) back among
//!   the fresh work, where any M may resume it.
//!
//! Lost wake-ups are excluded by a Dekker pair with the sleeper half in
//! `sleep.rs`. The waker publishes the work, then a SeqCst fence, then reads
//! whether an M sleeps ([`publish_then_wakep`] for work any M may take,
//! `M::notify_later` for work only one M may run). The sleeper
//! announces its sleep (SeqCst), then a fence, then re-checks every queue it
//! could serve. Whatever the interleaving, one of the two sees the other: the
//! waker sees the sleep and wakes the M, or the sleeper sees the work and
//! does not sleep. The loom models in `sleep.rs` check both halves.

use std::sync::atomic::{fence, Ordering};
use std::sync::Arc;

use crate::g::GRef;
use crate::sched::m::{Item, MLocal, M};
use crate::sched::park::Wakeup;
use crate::sched::Sched;

/// Queues a fresh task (or a readied migratory goroutine) on `l`'s P, or
/// globally if it has no P, and wakes an idle P to steal it if none is
/// spinning (Go's `runqput` + `wakep`).
#[inline]
pub(crate) fn submit(l: &MLocal, item: Item) {
    if l.m.has_p.load(Ordering::Relaxed) {
        l.fresh.push(item);
    } else {
        l.sched.injector.push(item);
    }
    publish_then_wakep(&l.sched);
}

/// Queues a fresh task on the next P in turn (`Placement::Spread`): this
/// M's counter walks the active Ps starting after its own, so successive
/// spawns from one M cover every P once before any P gets a second. Another
/// P's task goes to its inbox and wakes it (`hand_to`); this P's is
/// [`submit`]ted.
pub(crate) fn spread(l: &MLocal, item: Item) {
    // One P: nowhere to spread to, and no P list lock to take per spawn.
    if l.sched.gomaxprocs.load(Ordering::Relaxed) <= 1 {
        return submit(l, item);
    }
    let target = {
        let ms = l.sched.active_ms();
        let turn = l.spread_turn.get();
        l.spread_turn.set(turn.wrapping_add(1));
        let m = ms.get((l.m.p.load(Ordering::Relaxed) + 1 + turn) % ms.len().max(1));
        m.filter(|m| !Arc::ptr_eq(m, &l.m)).cloned()
    };
    match target {
        Some(m) => hand_to(&l.sched, &m, item),
        None => submit(l, item),
    }
}

/// Queues a fresh task on the global queue (spawns from threads without a
/// P) and wakes an idle P for it.
pub(crate) fn submit_global(sched: &Sched, item: Item) {
    sched.injector.push(item);
    publish_then_wakep(sched);
}

/// Makes a started goroutine runnable where it may run: its home M (or,
/// if migratory and not pinned, any M). `from` is the calling thread's M,
/// if it is one; `next`: when `from` is the goroutine's home, run it next
/// (a wake-up) rather than after the queued ones (a yield). Returns the
/// home M's wake-up if it sleeps, for the caller to make once it has
/// released its locks.
///
/// # Safety
/// `g` is alive and runnable, and queued by nobody else (the park
/// contract: exactly one party queues a goroutine per wake).
#[inline]
pub(crate) unsafe fn make_runnable(g: GRef, from: Option<&MLocal>, next: bool) -> Wakeup {
    // SAFETY: the caller's contract.
    let gr = unsafe { g.get() };
    if gr.migratory.get() && !gr.pinned.get() {
        submit_migratory(g, from);
        return Wakeup::NONE;
    }
    let home = gr.home.load(Ordering::Acquire);
    match from {
        Some(l) if std::ptr::eq(l.m_ptr(), home) => {
            // Its own M is awake (it runs this code): no wake-up.
            if next {
                l.put_runnext(g);
            } else {
                l.m.home.push(g);
            }
            Wakeup::NONE
        }
        _ => {
            // SAFETY: a G's home M outlives the G (Ms are freed only after
            // the runtime has finished every goroutine).
            let m: &M = unsafe { &*home };
            m.home.push(g);
            // A partner (a goroutine running on another M), not a poller,
            // a timer or sysmon: worth watching for (`partners_likely`).
            if from.is_some_and(|l| l.current.get().is_some())
                && !m.partner_readied.load(Ordering::Relaxed)
            {
                m.partner_readied.store(true, Ordering::Relaxed);
            }
            // SAFETY: `home` is `Arc::as_ptr` of the G's live M. (It
            // fences, then reads the sleep word: the waker half.)
            unsafe { M::notify_later(home) }
        }
    }
}

/// Queues a readied migratory goroutine where any M can take it: on the
/// calling M's P when it belongs to the same runtime, else globally.
fn submit_migratory(g: GRef, from: Option<&MLocal>) {
    // SAFETY: a migratory G's home is the M that last ran it; Ms outlive
    // every goroutine of their runtime, and so does `Sched`.
    let sched = unsafe { &*(*g.get().home.load(Ordering::Acquire)).sched };
    let aggressive = crate::sched::spawn::migrate_aggressively();
    match from {
        Some(l) if !aggressive && std::ptr::eq(Arc::as_ptr(&l.sched), sched) => {
            submit(l, Item::Migratory(g));
        }
        _ => {
            sched.injector.push(Item::Migratory(g));
            fence(Ordering::SeqCst);
            if aggressive {
                sched.wake_all_idle();
            } else {
                sched.wakep();
            }
        }
    }
}

/// Hands a fresh task to `target`'s inbox (`balance.rs`) and wakes its M.
/// If `target` lost its P meanwhile (it would never look at its inbox
/// again), the inbox is emptied into the global queue, so no task is
/// stranded.
pub(crate) fn hand_to(sched: &Sched, target: &M, item: Item) {
    target.inbox.push(item);
    fence(Ordering::SeqCst);
    if target.has_p.load(Ordering::SeqCst) {
        target.notify();
    } else {
        drain_inbox(sched, target);
    }
}

/// Moves every task of `m`'s inbox to the global queue and wakes a P for
/// them (a P that retires, or a task handed to one that just did).
pub(crate) fn drain_inbox(sched: &Sched, m: &M) {
    let mut moved = false;
    while let Some(item) = crate::sched::m::retry_steal(|| m.inbox.steal()) {
        sched.injector.push(item);
        moved = true;
    }
    if moved {
        publish_then_wakep(sched);
    }
}

/// The waker half for work any M may take: after the caller queued it, a
/// fence, then Go's `wakep` (one idle M, unless one spins already).
#[inline]
fn publish_then_wakep(sched: &Sched) {
    fence(Ordering::SeqCst);
    sched.wakep();
}
