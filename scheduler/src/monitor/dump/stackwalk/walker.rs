//! Walking one parked goroutine: hold it still (`scan.rs`), bound the
//! reads to its stack above the park frame (`StackReader`), unwind (the
//! target's `Unwinder`), let go. See the `stackwalk` module doc.

use super::reader::StackReader;
use super::Unwinder;
use crate::monitor::dump::frames::CodeAddress;
use crate::monitor::dump::scan::ScanHold;
use crate::monitor::snapshot::GInfo;
use crate::sched::Sched;

/// Walks parked goroutines' stacks; one per dump.
pub(crate) struct Walker {
    unwinder: Unwinder,
}

impl Walker {
    pub(crate) fn new() -> Walker {
        Walker {
            unwinder: Unwinder::new(),
        }
    }

    /// The code addresses on the stack of goroutine `g`, innermost first,
    /// from its park frame up; `None` if it is not parked now or this
    /// target has no unwinder.
    pub(crate) fn walk(&mut self, sched: &Sched, g: &GInfo) -> Option<Vec<CodeAddress>> {
        sched.with_all_gs(|all| {
            // SAFETY: `g.g` was read from this registry (`goroutines`).
            let hold = unsafe { ScanHold::try_new(sched, all, g.g, g.id) }?;
            let gr = hold.g();
            let regs = gr.park_frame.registers();
            let stack = gr.stack_range.get()?;
            if regs.pc == 0 || !stack.contains(regs.sp) {
                return None;
            }
            // SAFETY: `[sp, base)` is the held goroutine's stack above its
            // park frame: mapped while its G holds the stack (the hold
            // keeps it parked and allocated), and no thread writes the
            // words an unwinder reads there (module doc).
            let reader = unsafe { StackReader::new(regs.sp, stack.base()) };
            self.unwinder.unwind(regs, &reader)
        })
    }
}
