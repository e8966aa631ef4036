//! Reading ahead in the home queue, so that resuming a goroutine does not
//! stall on memory.
//!
//! With thousands of goroutines parked, the first thing a resume touches,
//! the top of the goroutine's stack (where the switch saved its registers),
//! is a cold line on a page no TLB entry covers, and the lines of its G
//! record usually are too. With many goroutines woken in turn, that one
//! stall is a large part of each goroutine's run. Go pays it too; it does
//! not look ahead.
//!
//! But an M knows which goroutines it resumes next: its home queue is FIFO.
//! So [`HomeLookahead`] takes them out ahead of time, [`BATCH`] at a time,
//! and prefetches in two steps, one batch before each is needed:
//! - `staged`, the batch after next: their G records, which hold the stack
//!   pointer `park` recorded (reading it now would stall on that miss);
//! - `ready`, the batch handed out next: the stack lines around that
//!   pointer, now that the records are cached. Prefetches walk the page
//!   tables, so the TLB entries are filled as well.
//!
//! Why batches: a prefetch that misses the TLB holds up the instructions
//! after it until its page walk is done, and a goroutine's run between two
//! system calls is too short to hide that. Issued a batch at a time, the
//! misses of eight goroutines overlap (the measurements against one
//! goroutine at a time: docs/benchmarks.md, "Why these constants").
//!
//! A goroutine held here is still runnable and still this M's: [`take`]
//! hands them out before the queue (order is kept), and every check of
//! "does this M have home work" (before it sleeps, before a retired M exits,
//! at shutdown) asks [`is_empty`] too. Only this M touches it. Observers
//! that count queued goroutines (schedtrace's `runqsize`) do not see the up
//! to `2 * BATCH` held here, as they do not see `runnext`; nothing else
//! could take them (only fresh goroutines are stolen).
//!
//! It pays only when there are more goroutines than the caches and the TLB
//! keep warm: with fewer than [`READ_AHEAD_MIN_LIVE`] homed on the M it is
//! skipped, so that a few goroutines handed back and forth (ping-pong,
//! `gosched` loops) do not pay its extra look at the queue
//! (docs/benchmarks.md, "Why these constants").
//!
//! [`take`]: HomeLookahead::take
//! [`is_empty`]: HomeLookahead::is_empty

use std::cell::Cell;

use crossbeam_deque::Injector;

use crate::g::GRef;
use crate::sched::m::retry_steal;
use crate::sys::prefetch::{prefetch_lines, LINE};

/// Goroutines homed on an M from which it reads ahead.
const READ_AHEAD_MIN_LIVE: u64 = 256;

/// Goroutines prefetched together (see the module comment).
const BATCH: usize = 8;

/// Stack lines prefetched around a parked goroutine's recorded stack
/// pointer: the switch frame below it, and the frames it returns into.
const STACK_LINES_BELOW: usize = 2;
const STACK_LINES_ABOVE: usize = 16;

/// Up to two batches of an M's home queue, taken out early, in order.
#[derive(Default)]
pub(crate) struct HomeLookahead {
    /// Next to run, their stacks prefetched: `ready[next..len]`.
    ready: Batch,
    /// The batch after it, their records prefetched: `staged[0..len]`.
    staged: Batch,
}

#[derive(Default)]
struct Batch {
    gs: [Cell<Option<GRef>>; BATCH],
    next: Cell<usize>,
    len: Cell<usize>,
}

impl Batch {
    fn pop(&self) -> Option<GRef> {
        let i = self.next.get();
        if i == self.len.get() {
            return None;
        }
        self.next.set(i + 1);
        self.gs[i].take()
    }

    fn is_empty(&self) -> bool {
        self.next.get() == self.len.get()
    }

    /// Fills this (empty) batch with up to `BATCH` goroutines from
    /// `source`, applying `prefetch` to each.
    fn fill(&self, mut source: impl FnMut() -> Option<GRef>, prefetch: fn(GRef)) {
        let mut len = 0;
        while len < BATCH {
            let Some(g) = source() else { break };
            prefetch(g);
            self.gs[len].set(Some(g));
            len += 1;
        }
        self.next.set(0);
        self.len.set(len);
    }
}

/// The next goroutine of `queue`, if any. `is_empty` first: a steal from
/// an empty injector costs a fence.
fn steal_next(queue: &Injector<GRef>) -> Option<GRef> {
    if queue.is_empty() {
        None
    } else {
        retry_steal(|| queue.steal())
    }
}

impl HomeLookahead {
    /// The oldest goroutine readied for this M, from here or from `queue`;
    /// reads ahead a batch at a time if `live` goroutines (homed on the M)
    /// are enough for that to pay.
    #[inline]
    pub(crate) fn take(&self, queue: &Injector<GRef>, live: u64) -> Option<GRef> {
        if let Some(g) = self.ready.pop() {
            return Some(g);
        }
        if live >= READ_AHEAD_MIN_LIVE || !self.staged.is_empty() {
            self.read_ahead(queue, live >= READ_AHEAD_MIN_LIVE);
            if let Some(g) = self.ready.pop() {
                return Some(g);
            }
        }
        retry_steal(|| queue.steal())
    }

    /// Refills `ready` from `staged` (or the queue), prefetching stacks,
    /// and, if `more`, `staged` from the queue, prefetching records.
    #[inline(never)]
    fn read_ahead(&self, queue: &Injector<GRef>, more: bool) {
        if self.staged.is_empty() {
            if !more {
                return;
            }
            self.staged.fill(|| steal_next(queue), prefetch_record);
        }
        self.ready.fill(|| self.staged.pop(), prefetch_stack);
        if more && !self.ready.is_empty() {
            self.staged.fill(|| steal_next(queue), prefetch_record);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ready.is_empty() && self.staged.is_empty()
    }
}

/// Prefetches `g`'s record (a resume reads several of its lines).
fn prefetch_record(g: GRef) {
    prefetch_lines(g.0.as_ptr() as usize, std::mem::size_of::<crate::g::G>());
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
    prefetch_lines(first, (STACK_LINES_BELOW + STACK_LINES_ABOVE) * LINE);
}

#[cfg(test)]
mod tests {
    use std::ptr::NonNull;

    use super::*;
    use crate::g::G;

    #[test]
    fn hands_goroutines_out_in_queue_order_and_counts_the_ones_it_holds() {
        let gs: Vec<Box<G>> = (0..3 * BATCH + 3).map(|_| G::new()).collect();
        let refs: Vec<GRef> = gs.iter().map(|g| GRef(NonNull::from(&**g))).collect();
        let queue = Injector::new();
        for &g in &refs {
            queue.push(g);
        }
        let ahead = HomeLookahead::default();
        // Reading ahead (many goroutines live): after one batch is handed
        // out, the next is still held here, not in the queue.
        let mut out: Vec<GRef> = (0..BATCH)
            .map(|_| ahead.take(&queue, READ_AHEAD_MIN_LIVE).unwrap())
            .collect();
        assert!(!ahead.is_empty());
        assert_eq!(queue.len(), refs.len() - 2 * BATCH);
        // Not reading ahead (few live): the held ones first, then the queue.
        while let Some(g) = ahead.take(&queue, 0) {
            out.push(g);
        }
        assert!(ahead.is_empty());
        assert_eq!(out, refs);
    }
}
