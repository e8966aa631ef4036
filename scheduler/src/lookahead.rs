//! Reading ahead in the home queue, so that resuming a goroutine does not
//! stall on memory.
//!
//! With thousands of goroutines parked, the first thing a resume touches,
//! the top of the goroutine's stack (where the switch saved its registers),
//! is a cold line on a page no TLB entry covers, and the G record before it
//! usually is too. On the ctx_cancel benchmark (10,000 goroutines woken in
//! turn) that one stall was a quarter of each goroutine's run. Go pays it
//! too; it does not look ahead.
//!
//! But an M knows which goroutines it resumes next: its home queue is FIFO.
//! So [`HomeLookahead`] takes them out two ahead of time and prefetches in
//! two steps, each one turn (one goroutine's run) before it is needed:
//! - `far`, the second in line: the line of its G record holding the stack
//!   pointer `park` recorded (reading it now would stall on that miss);
//! - `near`, next in line: the stack lines around that pointer, now that the
//!   record is cached. Prefetches walk the page tables, so the TLB entry is
//!   filled as well.
//!
//! A goroutine held here is still runnable and still this M's: [`take`]
//! hands them out before the queue (order is kept), and every check of
//! "does this M have home work" (before it sleeps, before a retired M exits,
//! at shutdown) asks [`is_empty`] too. Only this M touches it. Observers
//! that count queued goroutines (schedtrace's `runqsize`) do not see the two
//! held here, as they do not see `runnext`.
//!
//! It pays only when there are more goroutines than the caches and the TLB
//! keep warm: with fewer than [`READ_AHEAD_MIN_LIVE`] homed on the M it is
//! skipped, so that a few goroutines handed back and forth (ping-pong,
//! `gosched` loops) do not pay its extra look at the queue (measured: 1 ns
//! of 36 per `yield` round).
//!
//! [`take`]: HomeLookahead::take
//! [`is_empty`]: HomeLookahead::is_empty

use std::cell::Cell;

use crossbeam_deque::Injector;

use crate::g::GRef;
use crate::worker::retry_steal;

/// Goroutines homed on an M from which it reads ahead.
const READ_AHEAD_MIN_LIVE: u64 = 256;

/// Stack lines prefetched around a parked goroutine's recorded stack
/// pointer: the switch frame below it, and the frames it returns into.
const STACK_LINES_BELOW: usize = 2;
const STACK_LINES_ABOVE: usize = 6;
const LINE: usize = 64;

/// The next two goroutines of an M's home queue, taken out early.
#[derive(Default)]
pub(crate) struct HomeLookahead {
    near: Cell<Option<GRef>>,
    far: Cell<Option<GRef>>,
}

impl HomeLookahead {
    /// The oldest goroutine readied for this M, from here or from `queue`;
    /// then reads ahead again if `live` goroutines (homed on the M) are
    /// enough for that to pay.
    #[inline]
    pub(crate) fn take(&self, queue: &Injector<GRef>, live: u64) -> Option<GRef> {
        // `far` moves up; `far` is only set while `near` is, so an empty
        // `near` means both are.
        let g = match self.near.replace(self.far.take()) {
            Some(g) => g,
            None => retry_steal(|| queue.steal())?,
        };
        if live >= READ_AHEAD_MIN_LIVE {
            self.read_ahead(queue);
        }
        Some(g)
    }

    /// Fills `near` and `far` from `queue` where empty, prefetching.
    #[inline(never)]
    fn read_ahead(&self, queue: &Injector<GRef>) {
        // `is_empty` first: a steal from an empty injector costs a fence.
        let pop = || {
            if queue.is_empty() {
                None
            } else {
                retry_steal(|| queue.steal())
            }
        };
        let Some(near) = self.near.get().or_else(pop) else {
            return;
        };
        prefetch_stack(near);
        self.near.set(Some(near));
        if let Some(far) = pop() {
            prefetch_record(far);
            self.far.set(Some(far));
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.near.get().is_none()
    }
}

/// Prefetches the line of `g`'s record that holds its park frame.
fn prefetch_record(g: GRef) {
    // SAFETY: a queued goroutine is alive; its G is not freed before it
    // runs and finishes.
    let g = unsafe { g.get() };
    prefetch(&g.park_frame as *const _ as usize);
}

/// Prefetches the stack lines a resume of `g` touches first.
fn prefetch_stack(g: GRef) {
    // SAFETY: as in `prefetch_record`. Only this M writes the park frame of
    // a goroutine homed here (it parked on this M).
    let sp = unsafe { g.get() }.park_frame.sp();
    if sp == 0 {
        return; // never parked: its first resume starts a fresh stack
    }
    let first = sp.saturating_sub(STACK_LINES_BELOW * LINE);
    for line in 0..STACK_LINES_BELOW + STACK_LINES_ABOVE {
        prefetch(first + line * LINE);
    }
}

/// A hint to bring the line at `addr` into the cache. Never faults, even
/// on an unmapped or guard page, so any address will do.
#[inline(always)]
fn prefetch(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` reads nothing architecturally and cannot fault.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(addr as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}
