//! `Signal`: where a blocked `block_on` is found by its wakers, and the
//! `Waker` that points at it.
//!
//! One 64-bit state word holds the whole protocol and the reference count,
//! so that each step of a round trip is one atomic read-modify-write (a
//! benchmark of ping-pongs through `tokio::sync::Notify` is dominated by
//! them): the poller publishes its park with one CAS, a wake claims it with
//! one, and a clone or a drop of the waker is one `fetch_add`/`fetch_sub`.
//! Bits, low to high: `PARKED`, `NOTIFIED`, the count of owning wakes still
//! readying the poller (16 bits), the references (46 bits: the poller's own
//! and each waker clone's).
//!
//! - After a `Pending` poll the poller stores its `Waiter` in the cell and
//!   sets `PARKED` with a CAS that requires `NOTIFIED` clear; if a wake set
//!   `NOTIFIED` during the poll, it clears that bit instead (Acquire, so
//!   the next poll sees what the waker published) and polls again.
//! - A wake that finds `PARKED` owns the parked poller: in the same CAS it
//!   clears `PARKED` and counts itself as readying, then takes the `Waiter`
//!   and readies it, so it is woken exactly once. Every other wake only
//!   sets `NOTIFIED` (always an RMW, never a plain load: a wake must be
//!   ordered after what its waker published), so a wake racing a poll
//!   makes the loop poll again, and duplicate and late wakes (after
//!   `block_on` returned, after the runtime ended) do nothing more. A
//!   duplicate wake may cost one extra poll, never a missed one.
//! - The poller needs no step after its park returns: the owning wake left
//!   `PARKED` clear, and its CAS happened before the goroutine was queued.
//! - A goroutine unwound while parked (runtime shutdown) withdraws with a
//!   CAS clearing `PARKED`; if an owning wake got there first, it waits
//!   until no owning wake is readying it any more, as the park contract
//!   requires of a withdrawal. (The readying count lets an owner finish
//!   after the goroutine ran on and parked again; it is why the count
//!   exists: after its `wake_later` an owner may no longer touch the G.)
//! - Memory: references and readying owners both keep the `Signal` alive;
//!   whoever takes the last of either frees it. An owning `wake` by value
//!   turns its reference into its readying count in the claiming CAS.

use std::cell::UnsafeCell;
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicU64, Ordering};
use std::task::{RawWaker, RawWakerVTable};

use goro_scheduler::{current_waiter, park, preempt_point, WaitReason, Waiter};

/// The poller is parked (or about to): its `Waiter` is in the cell.
const PARKED: u64 = 1;
/// A wake came while nobody was parked: poll again before parking.
const NOTIFIED: u64 = 1 << 1;
/// One owning wake still readying the poller (a 16-bit count).
const READYING: u64 = 1 << 2;
const READYING_MASK: u64 = 0xffff * READYING;
/// One reference (the rest of the word, 46 bits).
const REF: u64 = 1 << 18;
const REF_MASK: u64 = !(REF - 1);
/// Either keeps the `Signal` alive.
const LIVE_MASK: u64 = REF_MASK | READYING_MASK;

/// Where a blocked `block_on` is found by its wakers (see the module doc).
pub(super) struct Signal {
    /// The word described in the module doc. Invariants: `PARKED` is set
    /// only by the poller, with `NOTIFIED` clear, while `waiter` holds its
    /// `Waiter`; it is cleared by the one wake that then owns the cell, or
    /// by the poller withdrawing.
    state: AtomicU64,
    /// The parked poller's waiter: the poller's while `PARKED` is clear,
    /// the owning wake's once its CAS cleared `PARKED`.
    waiter: UnsafeCell<Option<Waiter>>,
}

// SAFETY: `waiter` is reached by one party at a time, handed over through
// `state` (see the field invariants); `state` is atomic.
unsafe impl Sync for Signal {}

/// An owned reference to a `Signal` (the poller's; waker clones are the
/// other references, as raw pointers in `RawWaker`s).
pub(super) struct SignalRef(NonNull<Signal>);

impl SignalRef {
    /// A new signal, referenced only by the returned handle.
    #[cold]
    pub(super) fn new() -> SignalRef {
        let s = Box::new(Signal {
            state: AtomicU64::new(REF),
            waiter: UnsafeCell::new(None),
        });
        SignalRef(NonNull::from(Box::leak(s)))
    }

    fn signal(&self) -> &Signal {
        // SAFETY: this handle's reference keeps the signal alive.
        unsafe { self.0.as_ref() }
    }

    /// A `RawWaker` for this signal that owns no reference: valid while
    /// this handle lives, and never to be woken by value or dropped.
    #[inline]
    pub(super) fn borrowed_raw_waker(&self) -> RawWaker {
        RawWaker::new(self.0.as_ptr().cast(), &VTABLE)
    }

    /// This handle back, reset for another `block_on`, if it is the only
    /// reference and no wake is readying through it; else it is released.
    #[inline]
    pub(super) fn into_unshared(self) -> Option<SignalRef> {
        let state = &self.signal().state;
        // Acquire: pairs with the Release of every reference released.
        if state.load(Ordering::Acquire) & LIVE_MASK != REF {
            return None; // `self` drops: releases its reference
        }
        // Nobody else can reach it: clear a leftover `NOTIFIED`.
        state.store(REF, Ordering::Relaxed);
        Some(self)
    }

    /// Waits for a wake after a `Pending` poll (see the module doc).
    pub(super) fn wait(&self) {
        let s = self.signal();
        // SAFETY: `PARKED` is clear (it is cleared before the poller runs
        // again after a park), so the cell is ours.
        unsafe { *s.waiter.get() = Some(current_waiter()) };
        let mut cur = s.state.load(Ordering::Relaxed);
        loop {
            if cur & NOTIFIED != 0 {
                // Woken during the poll: poll again, but let others run if
                // this goroutine has had its time (a future that always
                // wakes itself must not starve its M).
                // SAFETY: `PARKED` is still clear: the cell is ours.
                unsafe { *s.waiter.get() = None };
                // Acquire: pairs with every waker's CAS.
                s.state.fetch_and(!NOTIFIED, Ordering::Acquire);
                preempt_point();
                return;
            }
            // Release: publishes the cell to the wake that will own it.
            match s.state.compare_exchange_weak(
                cur,
                cur | PARKED,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => cur = now,
            }
        }
        let withdraw = Withdraw(s);
        park(WaitReason::Future);
        std::mem::forget(withdraw);
    }
}

impl Drop for SignalRef {
    fn drop(&mut self) {
        // SAFETY: this handle owns one reference, given up here.
        unsafe { release(self.0, REF) };
    }
}

/// Gives up `amount` (a reference, or a readying count) of `signal`, and
/// frees it if that was the last of either.
///
/// # Safety
/// The caller owns `amount` of the count, and does not touch the signal
/// afterwards.
unsafe fn release(signal: NonNull<Signal>, amount: u64) {
    // SAFETY: `amount` keeps it alive until this decrement.
    let prev = unsafe { signal.as_ref() }
        .state
        .fetch_sub(amount, Ordering::Release);
    if (prev - amount) & LIVE_MASK == 0 {
        // Pairs with the Release of every earlier decrement.
        fence(Ordering::Acquire);
        // SAFETY: nothing refers to it any more; it came from a Box.
        drop(unsafe { Box::from_raw(signal.as_ptr()) });
    }
}

/// Wakes the poller of `signal` (see the module doc); `by_value`: the
/// caller's reference is given up too.
///
/// # Safety
/// The caller owns a reference to `signal` (given up if `by_value`).
unsafe fn wake(signal: NonNull<Signal>, by_value: bool) {
    // SAFETY: the caller's reference keeps it alive.
    let s = unsafe { signal.as_ref() };
    let unref = if by_value { REF } else { 0 };
    let mut cur = s.state.load(Ordering::Relaxed);
    loop {
        let owner = cur & PARKED != 0;
        if owner && cur & READYING_MASK == READYING_MASK {
            // 65,535 owners of earlier parks still between their wake-up
            // and their count's release: let them finish.
            std::thread::yield_now();
            cur = s.state.load(Ordering::Relaxed);
            continue;
        }
        let new = if owner {
            cur - PARKED + READYING - unref
        } else {
            (cur | NOTIFIED) - unref
        };
        // AcqRel: Release publishes what the waker wrote before waking (for
        // the next poll); Acquire, for an owner, pairs with the poller's
        // Release CAS that filled the cell, and for the last reference
        // with every earlier release.
        match s
            .state
            .compare_exchange_weak(cur, new, Ordering::AcqRel, Ordering::Relaxed)
        {
            Ok(_) if owner => break,
            Ok(_) => {
                if new & LIVE_MASK == 0 {
                    // SAFETY: that was the last reference (ours, by value).
                    drop(unsafe { Box::from_raw(signal.as_ptr()) });
                }
                return;
            }
            Err(now) => cur = now,
        }
    }
    // SAFETY: our CAS cleared `PARKED` (after the poller's Release CAS
    // wrote the cell): this wake owns the cell, and no other can until the
    // poller parks again, which it can only do after we readied it.
    let waiter = unsafe { (*s.waiter.get()).take() };
    let wakeup = waiter.map(|w| {
        // SAFETY: registered by `wait` for one park and taken by the one
        // owning wake, so woken once; a withdrawal waits for our readying
        // count, so it is not woken after its goroutine left.
        unsafe { w.wake_later() }
    });
    // SAFETY: our CAS added this readying count (and, by value, gave up our
    // reference for it); we are done with the signal and the waiter.
    unsafe { release(signal, READYING) };
    drop(wakeup);
}

/// Withdraws the waiter if its goroutine is unwound while parked.
struct Withdraw<'a>(&'a Signal);

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        let s = self.0;
        let mut cur = s.state.load(Ordering::Relaxed);
        while cur & PARKED != 0 {
            match s.state.compare_exchange_weak(
                cur,
                cur - PARKED,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    // SAFETY: we cleared `PARKED` before any wake owned it.
                    drop(unsafe { (*s.waiter.get()).take() });
                    return;
                }
                Err(now) => cur = now,
            }
        }
        // An owning wake is readying us: wait until it is done with us.
        while s.state.load(Ordering::Acquire) & READYING_MASK != 0 {
            std::thread::yield_now();
        }
    }
}

// The vtable's data pointer is a live `Signal`; the borrowed waker of
// `block_on` owns no reference, every clone owns one.
static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake_by_val, wake_by_ref, drop_waker);

unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: `data` is a live Signal (the waker being cloned keeps it
    // alive); the new waker owns the reference added here.
    let prev = unsafe { &*data.cast::<Signal>() }
        .state
        .fetch_add(REF, Ordering::Relaxed);
    if prev & (1 << 63) != 0 {
        // 2^45 wakers: as `Arc` does before its count overflows.
        std::process::abort();
    }
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake_by_val(data: *const ()) {
    // SAFETY: `wake` is only called on owned wakers (clones): the borrowed
    // one is never consumed (ManuallyDrop), so this reference is ours.
    unsafe { wake(signal_of(data), true) };
}

unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: the waker it is called on holds a reference (or borrows the
    // poller's).
    unsafe { wake(signal_of(data), false) };
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: as in `wake_by_val`: only owned wakers are dropped.
    unsafe { release(signal_of(data), REF) };
}

/// The signal behind a waker's data pointer.
///
/// # Safety
/// `data` is the data pointer of one of this module's wakers.
unsafe fn signal_of(data: *const ()) -> NonNull<Signal> {
    // SAFETY: it was made from a `NonNull<Signal>` (`borrowed_raw_waker`,
    // or `clone` of such a waker).
    unsafe { NonNull::new_unchecked(data.cast_mut().cast()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::ManuallyDrop;
    use std::task::Waker;

    fn state(s: &SignalRef) -> u64 {
        s.signal().state.load(Ordering::Acquire)
    }

    /// Clones made, woken (by value and by reference) and dropped on other
    /// threads give every reference back: the poller's is the only one
    /// left, and the wakes, with nobody parked, only left `NOTIFIED`.
    #[test]
    fn clones_woken_and_dropped_across_threads_give_back_their_references() {
        let s = SignalRef::new();
        // SAFETY: `s` outlives the borrowed waker, which is never consumed.
        let borrowed = ManuallyDrop::new(unsafe { Waker::from_raw(s.borrowed_raw_waker()) });
        let clones: Vec<Waker> = (0..400).map(|_| (*borrowed).clone()).collect();
        assert_eq!(state(&s) & LIVE_MASK, 401 * REF);
        std::thread::scope(|sc| {
            for (t, chunk) in clones.chunks(100).enumerate() {
                let chunk = chunk.to_vec();
                sc.spawn(move || {
                    for (i, w) in chunk.into_iter().enumerate() {
                        let extra = w.clone();
                        extra.wake_by_ref();
                        match (t + i) % 3 {
                            0 => w.wake(),
                            1 => drop(w),
                            _ => {
                                w.wake_by_ref();
                                drop(w);
                            }
                        }
                        extra.wake();
                    }
                });
            }
        });
        drop(clones);
        assert_eq!(state(&s), REF | NOTIFIED);
        let s = s
            .into_unshared()
            .expect("only the poller's reference is left");
        assert_eq!(state(&s), REF, "reset for the next block_on");
    }

    /// A clone that outlives the call keeps the signal from being reused.
    #[test]
    fn a_clone_alive_at_the_end_keeps_the_signal_from_reuse() {
        let s = SignalRef::new();
        // SAFETY: as above.
        let borrowed = ManuallyDrop::new(unsafe { Waker::from_raw(s.borrowed_raw_waker()) });
        let kept = (*borrowed).clone();
        assert!(s.into_unshared().is_none());
        // The clone is now the only reference: waking it frees the signal.
        kept.wake();
    }
}
