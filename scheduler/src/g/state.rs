//! A goroutine's state word and the transitions that race.
//!
//! Three parties may touch a G's state at once (the diagram and the rules
//! are in `goroutine.rs`):
//! - its **M**, which sets `RUNNING` before resuming the goroutine and,
//!   once the goroutine has switched out to park, moves it to `PARKED`
//!   ([`GState::after_switch`]);
//! - a **waker** (`park::ready`), which may come before that switch and
//!   then only marks the goroutine `NOTIFIED` ([`GState::ready`]);
//! - an **observer** (a goroutine dump, `scan.rs`), which holds a parked
//!   goroutine in `SCANNING` while it reads its stack, and to which a wake
//!   meanwhile is left as `SCAN_READIED` ([`GState::begin_scan`],
//!   [`GState::end_scan`]).
//!
//! Whatever the interleaving, the goroutine is queued exactly once per
//! wake: by the waker if it found the goroutine `PARKED`, otherwise by
//! whoever held it (its M, or the observer) when it lets go. Each
//! transition is one compare-and-swap, so no lock is held across the
//! switch. The tests at the bottom check this, and the memory ordering
//! that lets the observer read what the goroutine wrote before it parked,
//! exhaustively with `loom`: the state machine is generic over its atomic
//! word so that the very code the scheduler runs is the code the model
//! explores.

use std::sync::atomic::{AtomicU8, Ordering};

pub(crate) const RUNNABLE: u8 = 0;
pub(crate) const RUNNING: u8 = 1;
pub(crate) const PARKED: u8 = 2;
pub(crate) const NOTIFIED: u8 = 3;
/// Not a goroutine now: new, finished, or cached for reuse.
pub(crate) const DEAD: u8 = 4;
/// Parked, and held there by an observer reading its stack.
pub(crate) const SCANNING: u8 = 5;
/// Readied while `SCANNING`: the observer queues it when it lets go.
pub(crate) const SCAN_READIED: u8 = 6;

/// The atomic byte a [`GState`] lives in (std's, or loom's in the models).
pub(crate) trait StateWord {
    fn new(state: u8) -> Self;
    fn load(&self, order: Ordering) -> u8;
    fn store(&self, state: u8, order: Ordering);
    fn compare_exchange(
        &self,
        current: u8,
        new: u8,
        success: Ordering,
        failure: Ordering,
    ) -> Result<u8, u8>;
}

/// Implements [`StateWord`] for an atomic `u8` type with std's methods
/// (std's here, loom's in the models).
macro_rules! impl_state_word {
    ($atomic:ty) => {
        impl $crate::g::state::StateWord for $atomic {
            fn new(state: u8) -> Self {
                <$atomic>::new(state)
            }
            fn load(&self, order: std::sync::atomic::Ordering) -> u8 {
                <$atomic>::load(self, order)
            }
            fn store(&self, state: u8, order: std::sync::atomic::Ordering) {
                <$atomic>::store(self, state, order)
            }
            fn compare_exchange(
                &self,
                current: u8,
                new: u8,
                success: std::sync::atomic::Ordering,
                failure: std::sync::atomic::Ordering,
            ) -> Result<u8, u8> {
                <$atomic>::compare_exchange(self, current, new, success, failure)
            }
        }
    };
}

impl_state_word!(AtomicU8);

/// What a waker must do after [`GState::ready`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Readied {
    /// It was parked and is now `RUNNABLE`: the waker queues it.
    Queue,
    /// Its M or an observer holds it and queues it when it lets go.
    LeftToHolder,
}

/// How a holder (the M after the switch, or an observer) let go.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LetGo {
    /// Now `PARKED`, waiting for a waker.
    Parked,
    /// A wake came while it was held: now `RUNNABLE`, the holder queues it.
    Runnable,
}

/// A G's state word.
pub(crate) struct GState<W: StateWord = AtomicU8>(W);

impl<W: StateWord> GState<W> {
    pub(crate) fn new(state: u8) -> Self {
        GState(W::new(state))
    }

    /// The state now. Acquire: an observer that sees a state also sees
    /// what was written before it was set.
    pub(crate) fn get(&self) -> u8 {
        self.0.load(Ordering::Acquire)
    }

    /// Sets the state; only the G's owner of the moment does (its M, or
    /// whoever just queued it). Release: see [`get`](Self::get).
    pub(crate) fn set(&self, state: u8) {
        self.0.store(state, Ordering::Release)
    }

    /// A waker's transition (`park::ready`); `Err` with the state if the
    /// goroutine was in none that a wake may find (woken twice).
    pub(crate) fn ready(&self) -> Result<Readied, u8> {
        loop {
            let from = self.0.load(Ordering::Acquire);
            let (to, outcome) = match from {
                RUNNING => (NOTIFIED, Readied::LeftToHolder),
                PARKED => (RUNNABLE, Readied::Queue),
                SCANNING => (SCAN_READIED, Readied::LeftToHolder),
                s => return Err(s),
            };
            if self
                .0
                .compare_exchange(from, to, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return Ok(outcome);
            }
        }
    }

    /// The M's transition once the goroutine has switched out to park;
    /// `Err` with the state if it was neither `RUNNING` nor `NOTIFIED`.
    pub(crate) fn after_switch(&self) -> Result<LetGo, u8> {
        self.let_go(RUNNING, NOTIFIED)
    }

    /// An observer's hold on a parked goroutine: `PARKED -> SCANNING`, or
    /// `false` if it is not parked.
    pub(crate) fn begin_scan(&self) -> bool {
        self.0
            .compare_exchange(PARKED, SCANNING, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }

    /// The observer lets go of the goroutine it held with
    /// [`begin_scan`](Self::begin_scan).
    pub(crate) fn end_scan(&self) -> Result<LetGo, u8> {
        self.let_go(SCANNING, SCAN_READIED)
    }

    /// `held -> PARKED`, or, if a wake marked it `readied` meanwhile,
    /// `RUNNABLE` for the holder to queue.
    fn let_go(&self, held: u8, readied: u8) -> Result<LetGo, u8> {
        match self
            .0
            .compare_exchange(held, PARKED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Ok(LetGo::Parked),
            Err(s) if s == readied => {
                self.set(RUNNABLE);
                Ok(LetGo::Runnable)
            }
            Err(s) => Err(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wake_after_the_park_queues_it_and_one_before_leaves_it_to_the_m() {
        let g: GState = GState::new(RUNNING);
        assert_eq!(g.after_switch(), Ok(LetGo::Parked));
        assert_eq!(g.ready(), Ok(Readied::Queue));
        assert_eq!(g.get(), RUNNABLE);

        let g: GState = GState::new(RUNNING);
        assert_eq!(g.ready(), Ok(Readied::LeftToHolder));
        assert_eq!(g.get(), NOTIFIED);
        assert_eq!(g.after_switch(), Ok(LetGo::Runnable));
        assert_eq!(g.get(), RUNNABLE);
        // A second wake of the same park is a bug the caller reports.
        assert_eq!(g.ready(), Err(RUNNABLE));
    }

    #[test]
    fn a_wake_during_a_scan_is_left_to_the_observer() {
        let g: GState = GState::new(RUNNING);
        assert!(!g.begin_scan(), "only a parked goroutine is held");
        g.after_switch().unwrap();
        assert!(g.begin_scan());
        assert!(!g.begin_scan(), "held once");
        assert_eq!(g.ready(), Ok(Readied::LeftToHolder));
        assert_eq!(g.get(), SCAN_READIED);
        assert_eq!(g.end_scan(), Ok(LetGo::Runnable));
        assert_eq!(g.get(), RUNNABLE);

        let g: GState = GState::new(PARKED);
        assert!(g.begin_scan());
        assert_eq!(g.end_scan(), Ok(LetGo::Parked));
        assert_eq!(g.end_scan(), Err(PARKED));
    }

    /// Exhaustive interleavings (loom) of the races the module comment
    /// describes, on the scheduler's own transition code.
    mod models {
        use loom::cell::UnsafeCell;
        use loom::sync::atomic::{AtomicU8, AtomicUsize};
        use loom::sync::Arc;
        use loom::thread;

        use super::super::*;

        impl_state_word!(AtomicU8);

        /// A goroutine on its way to park, with what it wrote before
        /// parking (its park frame, for an observer to read).
        struct Parking {
            state: GState<AtomicU8>,
            frame: UnsafeCell<u64>,
            queued: AtomicUsize,
        }

        // SAFETY: `frame` is written by the M's thread before the
        // `RUNNING -> PARKED` transition and read by the observer only
        // after its `PARKED -> SCANNING` one, which is the claim under test:
        // loom reports the access as a data race if the orderings allow it.
        unsafe impl Sync for Parking {}

        impl Parking {
            fn new() -> Arc<Parking> {
                Arc::new(Parking {
                    state: GState::new(RUNNING),
                    frame: UnsafeCell::new(0),
                    queued: AtomicUsize::new(0),
                })
            }

            fn queue(&self) {
                self.queued.fetch_add(1, Ordering::Relaxed);
            }

            /// The goroutine records its frame and switches out; its M
            /// then lets go.
            fn park(&self) {
                // SAFETY: nobody reads the frame before the goroutine is
                // parked (what the model checks).
                self.frame.with_mut(|f| unsafe { *f = 7 });
                if self.state.after_switch().unwrap() == LetGo::Runnable {
                    self.queue();
                }
            }

            fn wake(&self) {
                if self.state.ready().unwrap() == Readied::Queue {
                    self.queue();
                }
            }

            fn scan(&self) {
                if self.state.begin_scan() {
                    // SAFETY: held in `SCANNING`, so the goroutine is parked
                    // and its frame written (what the model checks).
                    let frame = self.frame.with(|f| unsafe { *f });
                    assert_eq!(frame, 7, "the observer sees the parked frame");
                    if self.state.end_scan().unwrap() == LetGo::Runnable {
                        self.queue();
                    }
                }
            }

            fn queued_once(&self) {
                assert_eq!(self.queued.load(Ordering::Relaxed), 1);
                assert_eq!(self.state.get(), RUNNABLE);
            }
        }

        #[test]
        fn a_wake_racing_the_park_queues_the_goroutine_once() {
            loom::model(|| {
                let g = Parking::new();
                let waker = {
                    let g = g.clone();
                    thread::spawn(move || g.wake())
                };
                g.park();
                waker.join().unwrap();
                g.queued_once();
            });
        }

        #[test]
        fn a_wake_racing_the_park_and_a_dump_queues_the_goroutine_once() {
            loom::model(|| {
                let g = Parking::new();
                let waker = {
                    let g = g.clone();
                    thread::spawn(move || g.wake())
                };
                let observer = {
                    let g = g.clone();
                    thread::spawn(move || g.scan())
                };
                g.park();
                waker.join().unwrap();
                observer.join().unwrap();
                g.queued_once();
            });
        }
    }
}
