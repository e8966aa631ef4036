//! The x86_64 unwinder: `framehop` over the loaded modules' `.eh_frame`
//! (`modules.rs`), from the registers `park` recorded, reading the stack
//! only through a `StackReader` (see the `stackwalk` module doc).

use std::sync::Arc;

use framehop::x86_64::{CacheX86_64, UnwindRegsX86_64};
use framehop::{FrameAddress, Unwinder as _};

use super::modules::{self, ProcessUnwinder};
use super::reader::StackReader;
use crate::g::park_frame::ParkRegisters;
use crate::monitor::dump::frames::{CodeAddress, WALK_LIMIT};

/// Unwinds parked stacks; one per dump (it keeps the module table and a
/// cache of unwind rules between goroutines).
pub(crate) struct Unwinder {
    unwinder: Arc<ProcessUnwinder>,
    cache: CacheX86_64,
}

impl Unwinder {
    pub(crate) fn new() -> Unwinder {
        Unwinder {
            unwinder: modules::unwinder(),
            cache: CacheX86_64::new(),
        }
    }

    /// The code addresses of the stack whose innermost frame has `regs`,
    /// innermost first, at most `WALK_LIMIT`, as far as `stack` reaches.
    pub(crate) fn unwind(
        &mut self,
        regs: ParkRegisters,
        stack: &StackReader,
    ) -> Option<Vec<CodeAddress>> {
        let (pc, sp, fp) = (regs.pc as u64, regs.sp as u64, regs.fp as u64);
        let mut read = |addr| stack.read(addr);
        let mut frames = self.unwinder.iter_frames(
            pc,
            UnwindRegsX86_64::new(pc, sp, fp),
            &mut self.cache,
            &mut read,
        );
        let mut addrs = Vec::new();
        while addrs.len() < WALK_LIMIT {
            match frames.next() {
                Ok(Some(FrameAddress::InstructionPointer(a))) => addrs.push(CodeAddress::Exact(a)),
                Ok(Some(FrameAddress::ReturnAddress(a))) => {
                    addrs.push(CodeAddress::Return(a.get()))
                }
                Ok(None) | Err(_) => break,
            }
        }
        Some(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g::park_frame::ParkFrame;
    use crate::monitor::dump::frames::Symbolizer;

    /// Records its frame, then walks its own stack from there (the walk
    /// reads only what lies above the recorded frame, which this thread
    /// does not change while it walks).
    #[inline(never)]
    fn walk_from_here(depth: u32) -> Vec<CodeAddress> {
        if depth > 0 {
            return std::hint::black_box(walk_from_here(depth - 1));
        }
        let frame = ParkFrame::new();
        frame.record();
        let regs = frame.registers();
        // SAFETY: this thread's stack is mapped from its stack pointer up
        // to its top, and the walked frames are not written meanwhile.
        let stack = unsafe { StackReader::new(regs.sp, thread_stack_top()) };
        Unwinder::new().unwind(regs, &stack).unwrap()
    }

    /// The top of the calling thread's stack.
    fn thread_stack_top() -> usize {
        // SAFETY: `attr` is initialized by `pthread_getattr_np` before it
        // is read, and destroyed once.
        unsafe {
            let mut attr: libc::pthread_attr_t = std::mem::zeroed();
            assert_eq!(libc::pthread_getattr_np(libc::pthread_self(), &mut attr), 0);
            let (mut low, mut size) = (std::ptr::null_mut(), 0);
            assert_eq!(libc::pthread_attr_getstack(&attr, &mut low, &mut size), 0);
            libc::pthread_attr_destroy(&mut attr);
            low as usize + size
        }
    }

    #[test]
    fn unwinds_release_frames_with_cfi() {
        let frames = Symbolizer::default().frames(&walk_from_here(3));
        let names: Vec<&str> = frames.iter().map(|f| f.function.as_str()).collect();
        let recursions = names
            .iter()
            .filter(|n| n.ends_with("walk_from_here"))
            .count();
        assert!(recursions >= 4, "{names:#?}");
        assert!(
            names
                .iter()
                .any(|n| n.ends_with("unwinds_release_frames_with_cfi")),
            "{names:#?}"
        );
    }

    #[test]
    fn a_stack_outside_the_range_ends_the_walk() {
        let frame = ParkFrame::new();
        frame.record();
        // SAFETY: the empty range reads nothing.
        let nothing = unsafe { StackReader::new(0, 0) };
        let addrs = Unwinder::new().unwind(frame.registers(), &nothing).unwrap();
        // The first frame needs no read; the second would.
        assert_eq!(addrs.len(), 1, "{addrs:?}");
        assert!(matches!(addrs[0], CodeAddress::Exact(_)));
    }
}
