//! Guarded stacks: the handle a goroutine runs on.
//!
//! A [`GuardedStack`] is one slot of an arena chunk:
//!
//! ```text
//! limit()          limit() + guard                                  base()
//!   | guard (1 page) | usable stack (usable_size() bytes) .......... |
//!                      <- grows down from base(); only touched pages are committed
//! ```
//!
//! It implements corosensei's `Stack` trait. Dropping it (or
//! [`StackPool::release`](crate::StackPool::release)) returns the slot to its
//! size class with its pages still committed.
//!
//! Trimming gives committed pages back with `MADV_DONTNEED` without changing any
//! mapping (the guard markers survive it). The methods on `GuardedStack` take
//! `&self`, and safe code cannot hold `&GuardedStack` while a coroutine runs on
//! it (corosensei takes a stack by value, or by `&mut` inside a scope), so those
//! are safe. Trimming a *parked* goroutine's stack, the useful case, goes
//! through the raw [`StackRange`] handle and is `unsafe`: the caller vouches
//! for the saved stack pointer.

use std::fmt;
use std::panic::Location;
use std::sync::Arc;

use corosensei::stack::{Stack, StackPointer};

use crate::arena::Slot;
use crate::class::SizeClass;
use crate::pool::PoolShared;
use crate::sys;

/// Bytes below a saved stack pointer that trimming always keeps: the x86-64 red
/// zone (128 bytes) plus margin for the frame the context switch leaves there.
pub const TRIM_MARGIN: usize = 256;

/// A guarded stack slot from a [`StackPool`](crate::StackPool).
pub struct GuardedStack {
    class: Arc<SizeClass>,
    slot: Slot,
}

impl GuardedStack {
    pub(crate) fn new(class: Arc<SizeClass>, slot: Slot) -> GuardedStack {
        GuardedStack { class, slot }
    }

    pub(crate) fn belongs_to(&self, pool: &Arc<PoolShared>) -> bool {
        Arc::ptr_eq(&self.class.shared, pool)
    }

    /// Usable bytes between the guard and the top of the stack (the page-rounded
    /// size that was requested).
    pub fn usable_size(&self) -> usize {
        self.class.stack_size
    }

    /// Records who runs on this stack, for the stack-overflow message. Cheap (two
    /// atomic stores into the chunk's owner table); cleared when the stack is
    /// released.
    pub fn set_owner(&self, goroutine_id: u64, spawned_at: &'static Location<'static>) {
        self.owner().set(goroutine_id, spawned_at);
    }

    /// Gives back (`MADV_DONTNEED`) every whole page strictly below
    /// `sp - TRIM_MARGIN` down to the guard, which is never touched. Returns the
    /// number of bytes given back (resident or not); an `sp` outside the stack
    /// gives back nothing.
    pub fn trim_below(&self, sp: usize) -> usize {
        // SAFETY: `&self` proves no coroutine is running on or parked on this
        // stack (see the module docs), so no data in it is live.
        unsafe { self.range().trim_below(sp) }
    }

    /// Gives back everything except the top `warm` bytes (rounded out to whole
    /// pages); meant for stacks kept in a cache. Returns the bytes given back.
    pub fn trim_to(&self, warm: usize) -> usize {
        // SAFETY: `&self` proves no coroutine is running on or parked on this
        // stack (see the module docs), so no data in it is live.
        unsafe { self.range().trim_to(warm) }
    }

    /// Whether `addr` lies in the usable part of this stack (guard excluded).
    pub fn contains(&self, addr: usize) -> bool {
        self.range().contains(addr)
    }

    /// Bytes of the usable stack that are currently resident (`mincore`).
    pub fn resident_bytes(&self) -> usize {
        self.range().resident_bytes()
    }

    /// A copyable description of this stack's memory, for trimming it while a
    /// goroutine is parked on it (see [`StackRange::trim_below`]).
    pub fn range(&self) -> StackRange {
        let limit = self.slot.limit;
        let usable_start = limit + self.class.guard;
        StackRange {
            limit,
            usable_start,
            base: usable_start + self.class.stack_size,
        }
    }

    fn owner(&self) -> &crate::registry::SlotOwner {
        // SAFETY: the record lives in the header of the chunk this slot came from,
        // which stays mapped while `self.class` is alive.
        unsafe { self.slot.owner.as_ref() }
    }
}

// SAFETY: `base()` and `limit()` are page-aligned (hence STACK_ALIGNMENT-aligned)
// bounds of a slot whose lowest page is a guard (MADV_GUARD_INSTALL marker or
// PROT_NONE) installed when the slot was carved and never removed; `limit()`
// includes that guard. The usable part is at least one page (>= MIN_STACK_SIZE),
// read-write, and owned exclusively by this handle until it is dropped.
unsafe impl Stack for GuardedStack {
    fn base(&self) -> StackPointer {
        StackPointer::new(self.range().base).expect("stack addresses are non-null")
    }

    fn limit(&self) -> StackPointer {
        StackPointer::new(self.slot.limit).expect("stack addresses are non-null")
    }
}

impl Drop for GuardedStack {
    fn drop(&mut self) {
        self.owner().clear();
        self.class.give_back(self.slot);
    }
}

impl fmt::Debug for GuardedStack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let range = self.range();
        f.debug_struct("GuardedStack")
            .field("limit", &format_args!("{:#x}", range.limit))
            .field("base", &format_args!("{:#x}", range.base))
            .field("usable_size", &self.usable_size())
            .finish()
    }
}

/// The address range of a [`GuardedStack`]: plain numbers, `Copy`, valid to use
/// only while that stack is alive (not yet released).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackRange {
    limit: usize,
    usable_start: usize,
    base: usize,
}

impl StackRange {
    /// The lowest address of the slot, where the guard starts.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The top of the stack (exclusive); the stack grows down from here.
    pub fn base(&self) -> usize {
        self.base
    }

    /// Whether `addr` lies in the usable part of the stack (guard excluded).
    pub fn contains(&self, addr: usize) -> bool {
        (self.usable_start..self.base).contains(&addr)
    }

    /// Bytes of the usable stack that are currently resident (`mincore`).
    pub fn resident_bytes(&self) -> usize {
        sys::resident_bytes(self.usable_start, self.base - self.usable_start)
    }

    /// Gives back (`MADV_DONTNEED`) every whole page strictly below
    /// `sp - TRIM_MARGIN`, down to (not including) the guard. Returns the bytes
    /// given back; an `sp` outside the usable stack gives back nothing. Later
    /// accesses to those pages see zeroes.
    ///
    /// # Safety
    /// The stack must still be alive (its `GuardedStack` not dropped), and no
    /// data below `sp - TRIM_MARGIN` may be live: either nothing runs on the
    /// stack, or the goroutine on it is parked and `sp` is at or below the stack
    /// pointer its context switch saved (the lowest address of its frames), and
    /// it stays parked until this returns. A stack pointer read inside the
    /// goroutine *before* it suspends is above the frames the suspension pushes
    /// (measured with corosensei 0.3.4: ~600 bytes in a debug build, ~24 in
    /// release); subtract a safe allowance for them first.
    pub unsafe fn trim_below(&self, sp: usize) -> usize {
        if !(self.usable_start..=self.base).contains(&sp) {
            return 0;
        }
        let keep_from = sp.saturating_sub(TRIM_MARGIN) & !(sys::page_size() - 1);
        // SAFETY: forwarded to the caller's contract.
        unsafe { self.discard_below(keep_from) }
    }

    /// Gives back everything except the top `warm` bytes (rounded out to whole
    /// pages). Returns the bytes given back.
    ///
    /// # Safety
    /// The stack must still be alive, and no data below `base() - warm` may be
    /// live (typically: nothing runs on it).
    pub unsafe fn trim_to(&self, warm: usize) -> usize {
        let keep_from = self.base.saturating_sub(warm) & !(sys::page_size() - 1);
        // SAFETY: forwarded to the caller's contract.
        unsafe { self.discard_below(keep_from) }
    }

    /// `MADV_DONTNEED` on `[usable_start, keep_from)`, clamped to the stack.
    ///
    /// # Safety
    /// The stack is alive and nothing in that range is live.
    unsafe fn discard_below(&self, keep_from: usize) -> usize {
        let end = keep_from.min(self.base);
        if end <= self.usable_start {
            return 0;
        }
        let len = end - self.usable_start;
        // SAFETY: the range is page-aligned, inside this slot's usable part (the
        // guard below is excluded), and dead by the caller's contract. DONTNEED
        // keeps guard markers and changes no mapping.
        match unsafe { sys::madvise(self.usable_start, len, libc::MADV_DONTNEED) } {
            Ok(()) => len,
            // Only possible for mlock()ed memory, which cannot be given back.
            Err(_) => 0,
        }
    }
}
