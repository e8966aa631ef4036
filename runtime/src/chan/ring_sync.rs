//! The shared-memory primitives a [`Ring`](super::ring::Ring) is built
//! from, as a trait: std's atomics and cells in channels ([`StdSync`]), and
//! loom's in the model checks at the bottom of `ring.rs`, which so explore
//! every interleaving of the very code channels run.
//!
//! Only what the ring uses is here: a position word (head, tail and the
//! slots' stamps), a slot holding one value, a full fence, and the short
//! wait for another thread between its CAS and its stamp store.

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::atomic::{self, AtomicUsize, Ordering};

/// The primitives of one [`Ring`](super::ring::Ring) flavour.
pub(crate) trait RingSync {
    type Position: Position;
    type Slot<T>: SlotCell<T>;
    type Backoff: Backoff;
    /// A `SeqCst` fence.
    fn fence();
}

/// An atomic `usize`: a ring's head, tail or slot stamp.
pub(crate) trait Position {
    fn new(pos: usize) -> Self;
    fn load(&self, order: Ordering) -> usize;
    fn store(&self, pos: usize, order: Ordering);
    fn compare_exchange_weak(
        &self,
        current: usize,
        new: usize,
        success: Ordering,
        failure: Ordering,
    ) -> Result<usize, usize>;
    fn fetch_or(&self, bits: usize, order: Ordering) -> usize;
}

/// A slot's value, empty or full; the ring's stamps say which, and who may
/// touch it.
pub(crate) trait SlotCell<T> {
    fn empty() -> Self;
    /// # Safety
    /// The slot is empty, and no other thread touches it until the caller
    /// publishes it.
    unsafe fn write(&self, v: T);
    /// # Safety
    /// The slot is full, and no other thread touches it until the caller
    /// frees it; it is empty afterwards.
    unsafe fn take(&self) -> T;
    /// # Safety
    /// The slot is full; it is empty afterwards.
    unsafe fn drop_value(&mut self);
}

/// Waiting a moment for another thread's operation in flight.
pub(crate) trait Backoff {
    fn new() -> Self;
    /// After a lost CAS race.
    fn spin(&self);
    /// While another operation finishes (may yield the thread).
    fn snooze(&self);
}

/// std's primitives, for channels.
pub(crate) struct StdSync;

impl RingSync for StdSync {
    type Position = AtomicUsize;
    type Slot<T> = UnsafeCell<MaybeUninit<T>>;
    type Backoff = crossbeam_utils::Backoff;
    fn fence() {
        atomic::fence(Ordering::SeqCst)
    }
}

/// Implements [`Position`] for an atomic `usize` type with std's methods
/// (std's here, loom's in the models).
macro_rules! impl_position {
    ($atomic:ty) => {
        impl $crate::chan::ring_sync::Position for $atomic {
            fn new(pos: usize) -> Self {
                <$atomic>::new(pos)
            }
            fn load(&self, order: std::sync::atomic::Ordering) -> usize {
                <$atomic>::load(self, order)
            }
            fn store(&self, pos: usize, order: std::sync::atomic::Ordering) {
                <$atomic>::store(self, pos, order)
            }
            fn compare_exchange_weak(
                &self,
                current: usize,
                new: usize,
                success: std::sync::atomic::Ordering,
                failure: std::sync::atomic::Ordering,
            ) -> Result<usize, usize> {
                <$atomic>::compare_exchange_weak(self, current, new, success, failure)
            }
            fn fetch_or(&self, bits: usize, order: std::sync::atomic::Ordering) -> usize {
                <$atomic>::fetch_or(self, bits, order)
            }
        }
    };
}
#[cfg(test)]
pub(crate) use impl_position;

impl_position!(AtomicUsize);

impl<T> SlotCell<T> for UnsafeCell<MaybeUninit<T>> {
    fn empty() -> Self {
        UnsafeCell::new(MaybeUninit::uninit())
    }
    unsafe fn write(&self, v: T) {
        // SAFETY: the caller has the slot to itself (trait contract).
        unsafe { (*self.get()).write(v) };
    }
    unsafe fn take(&self) -> T {
        // SAFETY: the caller has the full slot to itself (trait contract).
        unsafe { (*self.get()).assume_init_read() }
    }
    unsafe fn drop_value(&mut self) {
        // SAFETY: the slot is full (trait contract).
        unsafe { self.get_mut().assume_init_drop() }
    }
}

impl Backoff for crossbeam_utils::Backoff {
    fn new() -> Self {
        crossbeam_utils::Backoff::new()
    }
    fn spin(&self) {
        crossbeam_utils::Backoff::spin(self)
    }
    fn snooze(&self) {
        crossbeam_utils::Backoff::snooze(self)
    }
}
