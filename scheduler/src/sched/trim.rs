//! Giving back stack memory that goroutines no longer use (the analogue of
//! Go shrinking stacks at GC time).
//!
//! A goroutine that once recursed deep keeps those pages committed. About
//! once a second (sysmon's request), an M about to sleep gives back:
//! - for idle Gs in its free list, everything below a warm prefix of the
//!   stack (`trim_to`), once per use of the stack;
//! - for goroutines parked on it, every whole page below the stack pointer
//!   recorded in `park` minus a generous allowance for the frames the switch
//!   itself pushes, once per park, at most `BATCH` goroutines per pass.
//!
//! Trimming a parked goroutine's stack is safe on its home M: only this M
//! ever resumes it, and this M is busy trimming, so it stays parked; memory
//! below its stack pointer holds no live data (nothing runs on the stack,
//! and `blocking` closures only borrow from frames above `park`).
//! Migratory goroutines are skipped (another M could resume them).

use std::sync::atomic::Ordering;

use crate::g::PARKED;
use crate::sched::m::MLocal;

/// Bytes kept at the top of a cached stack: enough for a typical shallow
/// goroutine, so a warm reuse takes no page fault.
const WARM: usize = 16 << 10;
/// Allowance below the recorded `park` address for the frames of the
/// switch itself (measured: under 1 KiB in debug builds).
const SWITCH_ALLOWANCE: usize = 16 << 10;
/// Parked goroutines examined per pass (bounds the time an M spends here).
const BATCH: usize = 1024;

pub(crate) fn trim_idle_stacks(l: &MLocal) {
    if !l.m.trim_request.swap(false, Ordering::Relaxed) {
        return;
    }
    for g in l.free.borrow().iter() {
        g.trim_spare_stack(WARM);
    }
    let live = l.live.borrow();
    let n = live.len();
    if n == 0 {
        return;
    }
    let start = l.trim_cursor.get() % n;
    for k in 0..BATCH.min(n) {
        // SAFETY: Gs in the live list are alive.
        let g = unsafe { live[(start + k) % n].get() };
        let sp = g.park_frame.sp();
        if g.state.get() != PARKED || g.trimmed.get() || sp == 0 {
            continue;
        }
        if let Some(range) = g.stack_range.get() {
            // SAFETY: the G is parked and homed on this M, which is the only
            // thread that may resume it, so it stays parked while we trim;
            // `sp - SWITCH_ALLOWANCE` is below every frame it has (see the
            // module comment); its stack is alive as long as the G is.
            unsafe { range.trim_below(sp.saturating_sub(SWITCH_ALLOWANCE)) };
            g.trimmed.set(true);
        }
    }
    l.trim_cursor.set(start + BATCH.min(n));
}
