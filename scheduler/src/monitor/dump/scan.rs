//! Holding a parked goroutine still while an observer reads its stack
//! (Go's `_Gscan` bit, for goroutine dumps).
//!
//! The observer moves the G `PARKED -> SCANNING` with a CAS; from then on
//! no M resumes it, because only `ready` makes a parked G runnable and a
//! `ready` that finds `SCANNING` only marks it `SCAN_READIED` (`park.rs`).
//! Letting go moves it back `SCANNING -> PARKED`, or, if it was readied
//! meanwhile, to `RUNNABLE` and queues it (`enqueue_readied`) as the waker
//! would have. The waker never waits for the observer, and the wake-up is
//! neither lost nor doubled.
//!
//! A hold lives only under the runtime's `all_gs` lock (it borrows the
//! registry `Sched::with_all_gs` lends), which keeps every G allocated
//! and means two observers never contend for one G. Runtime shutdown
//! unwinds parked goroutines on their stacks, which no observer may be
//! reading: an M takes that lock once after it saw the shutdown flag and
//! before it unwinds anything (`Sched::wait_for_observers`), and a hold is
//! only taken while the flag is clear, read under the same lock.

use std::marker::PhantomData;

use crate::g::state::LetGo;
use crate::g::{GRef, G};
use crate::sched::Sched;

/// A parked goroutine held still; dropping it lets go.
pub(crate) struct ScanHold<'a> {
    g: GRef,
    /// The locked registry of every G (`Sched::with_all_gs`).
    _registry: PhantomData<&'a [GRef]>,
}

impl<'a> ScanHold<'a> {
    /// Holds goroutine `id`, on G `g`, if it is parked now and the runtime
    /// is not shutting down. `all_gs` is the locked registry of `shared`.
    ///
    /// # Safety
    /// `g` was read from this registry (e.g. by `snapshot::goroutines`).
    pub(crate) unsafe fn try_new(
        sched: &Sched,
        all_gs: &'a [GRef],
        g: GRef,
        id: u64,
    ) -> Option<ScanHold<'a>> {
        // An emptied registry: the runtime ended and may have freed `g`.
        if sched.is_shutting_down() || all_gs.is_empty() {
            return None;
        }
        // SAFETY: `g` was registered (caller) and the registry was not
        // cleared, so no G was freed; its lock, held for `'a`, keeps it so.
        let gr = unsafe { g.get() };
        if !gr.state.begin_scan() {
            return None;
        }
        let hold = ScanHold {
            g,
            _registry: PhantomData,
        };
        // Ids are never reused: same id and parked means the same goroutine.
        (gr.id() == id).then_some(hold)
    }

    /// The held goroutine; it stays parked while `self` lives.
    pub(crate) fn g(&self) -> &G {
        // SAFETY: the G stays allocated while the hold lives (`try_new`).
        unsafe { self.g.get() }
    }
}

impl Drop for ScanHold<'_> {
    fn drop(&mut self) {
        let gr = self.g();
        match gr.state.end_scan() {
            Ok(LetGo::Parked) => {}
            // Readied meanwhile: queue it as `ready` would have.
            // SAFETY: the state machine left queuing it to this observer.
            Ok(LetGo::Runnable) => drop(unsafe {
                crate::sched::enqueue::make_runnable(self.g, crate::sched::current::m(), true)
            }),
            Err(s) => crate::sys::report::fatal(format_args!(
                "goroutine {} left its scan in state {s}",
                gr.id()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::g::state::{RUNNABLE, SCANNING, SCAN_READIED};
    use crate::g::wait_reason::WaitReason;
    use crate::monitor::snapshot::{goroutines, GInfo, GStatus};
    use crate::sched::park::{current_waiter, park, Waiter};

    /// The goroutine `id` once it is parked (yielding to let it get there).
    fn parked(sched: &Sched, id: u64) -> GInfo {
        for _ in 0..10_000 {
            let g = goroutines(sched).into_iter().find(|g| g.id == id);
            if let Some(g) = g.filter(|g| matches!(g.status, GStatus::Waiting(_))) {
                return g;
            }
            crate::gosched();
        }
        panic!("goroutine {id} did not park");
    }

    #[test]
    fn a_wake_during_a_hold_is_delivered_when_it_lets_go() {
        let rt = crate::Runtime::builder().procs(1).build().unwrap();
        rt.run(|| {
            let sched = crate::sched::current::m().unwrap().sched.clone();
            let slot: Arc<Mutex<Option<Waiter>>> = Arc::default();
            let registered = slot.clone();
            let h = crate::go(move || {
                *registered.lock().unwrap() = Some(current_waiter());
                park(WaitReason::ChanReceive);
                7
            });
            let info = parked(&sched, h.id());
            let me = crate::goroutine_id().unwrap();
            let running = goroutines(&sched).into_iter().find(|g| g.id == me);
            let running = running.unwrap().g;
            sched.with_all_gs(|all| {
                let try_hold = |g, id| {
                    // SAFETY: the Gs passed below (`info.g`, `running`) were
                    // read from this registry.
                    unsafe { ScanHold::try_new(&sched, all, g, id) }
                };
                // Neither a running goroutine nor a wrong id is held.
                assert!(try_hold(running, me).is_none());
                assert!(try_hold(info.g, info.id + 1).is_none());
                let hold = try_hold(info.g, info.id).unwrap();
                let state = || hold.g().state.get();
                assert_eq!(state(), SCANNING);
                assert!(try_hold(info.g, info.id).is_none(), "held once");
                let waiter = slot.lock().unwrap().take().unwrap();
                // SAFETY: the goroutine registered this waiter and parked;
                // it is woken once.
                let wakeup = unsafe { waiter.wake_later() };
                assert!(!wakeup.is_pending());
                // Readied, but not queued while held.
                assert_eq!(state(), SCAN_READIED);
                assert_eq!(crate::sched::current::m().unwrap().runnext.get(), None);
                drop(hold);
                // Letting go queued it (next on this M, as `ready` would).
                // SAFETY: `info.g` is registered, and the registry locked.
                let gr = unsafe { info.g.get() };
                assert_eq!(gr.state.get(), RUNNABLE);
                assert_eq!(
                    crate::sched::current::m().unwrap().runnext.get(),
                    Some(info.g)
                );
            });
            assert_eq!(h.join().unwrap(), 7);
        });
    }

    #[test]
    fn a_hold_without_a_wake_leaves_it_parked() {
        let rt = crate::Runtime::builder().procs(1).build().unwrap();
        rt.run(|| {
            let sched = crate::sched::current::m().unwrap().sched.clone();
            let (tx, rx) = std::sync::mpsc::channel::<Waiter>();
            let h = crate::go(move || {
                tx.send(current_waiter()).unwrap();
                park(WaitReason::Sleep);
            });
            let info = parked(&sched, h.id());
            sched.with_all_gs(|all| {
                // SAFETY: `info.g` was read from this registry.
                let hold = unsafe { ScanHold::try_new(&sched, all, info.g, info.id) };
                drop(hold.unwrap());
            });
            assert!(matches!(
                parked(&sched, h.id()).status,
                GStatus::Waiting(WaitReason::Sleep)
            ));
            // SAFETY: registered by the goroutine, woken once.
            unsafe { rx.recv().unwrap().wake() };
            h.join().unwrap();
        });
    }
}
