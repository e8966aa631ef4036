//! The park frame: where a parked goroutine's stack walk starts.
//!
//! `park` records three registers of its own frame just before it switches
//! out: the instruction pointer, the stack pointer and the frame pointer
//! (`ParkFrame::record`, three register reads by inline assembly and three
//! plain stores: nothing else on the hot path, no backtrace capture). The
//! goroutine dump (`monitor/dump/stackwalk/`) unwinds from there with the
//! DWARF CFI of the code at that instruction: everything a caller left on
//! the stack lies above that stack pointer, while the frames of the switch
//! itself (below it) are neither walked nor kept (trimming may give their
//! pages back, `sched/trim.rs`).
//!
//! The instruction pointer comes from the same `asm!` block as the stack
//! pointer, so the two belong to one instruction of one function (`park`,
//! or whatever `park` was inlined into): the CFI row at that address
//! describes exactly that stack pointer. The frame pointer is only needed
//! when that function keeps its CFA in `rbp`, and is its value there too.
//!
//! On targets without a walker the stack pointer is still recorded (for
//! trimming), from the address of a local in `park`'s frame.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The registers of a parked goroutine's `park` frame, as recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ParkRegisters {
    /// An instruction of the function holding the frame (0: unknown).
    pub pc: usize,
    /// The stack pointer in that frame (0: never parked).
    pub sp: usize,
    /// Read by the x86_64 unwinder only.
    #[cfg_attr(
        not(all(target_arch = "x86_64", target_os = "linux")),
        allow(dead_code)
    )]
    pub fp: usize,
}

/// Where a goroutine parked last; written by the goroutine in `park`, read
/// by its home M (trimming) and, while they hold it still, by observers
/// (`scan.rs`). Atomic so that observers read it without a data race;
/// relaxed stores are plain stores.
pub(crate) struct ParkFrame {
    pc: AtomicUsize,
    sp: AtomicUsize,
    fp: AtomicUsize,
}

impl ParkFrame {
    pub(crate) const fn new() -> ParkFrame {
        ParkFrame {
            pc: AtomicUsize::new(0),
            sp: AtomicUsize::new(0),
            fp: AtomicUsize::new(0),
        }
    }

    /// Records the calling function's frame. Inlined, so that the frame
    /// recorded is the caller's (`park`'s).
    #[inline(always)]
    pub(crate) fn record(&self) {
        let r = here();
        self.pc.store(r.pc, Ordering::Relaxed);
        self.sp.store(r.sp, Ordering::Relaxed);
        self.fp.store(r.fp, Ordering::Relaxed);
    }

    /// Forgets the frame (a new goroutine has not parked yet).
    pub(crate) fn clear(&self) {
        self.pc.store(0, Ordering::Relaxed);
        self.sp.store(0, Ordering::Relaxed);
        self.fp.store(0, Ordering::Relaxed);
    }

    /// The recorded stack pointer (0: not parked since it started).
    pub(crate) fn sp(&self) -> usize {
        self.sp.load(Ordering::Relaxed)
    }

    pub(crate) fn registers(&self) -> ParkRegisters {
        ParkRegisters {
            pc: self.pc.load(Ordering::Relaxed),
            sp: self.sp.load(Ordering::Relaxed),
            fp: self.fp.load(Ordering::Relaxed),
        }
    }
}

/// The registers of the function this is inlined into.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn here() -> ParkRegisters {
    let (pc, sp, fp): (usize, usize, usize);
    // SAFETY: copies rip (the address of the next instruction), rsp and rbp
    // into three output registers; reads no memory, touches neither the
    // stack nor the flags.
    unsafe {
        std::arch::asm!(
            "lea {pc}, [rip]",
            "mov {sp}, rsp",
            "mov {fp}, rbp",
            pc = out(reg) pc,
            sp = out(reg) sp,
            fp = out(reg) fp,
            options(nomem, nostack, preserves_flags),
        );
    }
    ParkRegisters { pc, sp, fp }
}

/// The stack pointer only, from a local of the function this is inlined
/// into (no walker on this target).
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn here() -> ParkRegisters {
    let marker = 0u8;
    ParkRegisters {
        pc: 0,
        sp: std::hint::black_box(&marker) as *const u8 as usize,
        fp: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_this_frame() {
        let f = ParkFrame::new();
        assert_eq!(f.sp(), 0);
        let local = 0u64;
        f.record();
        let r = f.registers();
        let local = std::hint::black_box(&local) as *const u64 as usize;
        // The stack pointer is at or below this frame's locals, and close.
        assert!(r.sp <= local && local - r.sp < 64 << 10, "{r:?} {local:#x}");
        // The instruction is in this function.
        #[cfg(target_arch = "x86_64")]
        {
            let mut names = Vec::new();
            backtrace::resolve(r.pc as *mut std::ffi::c_void, |s| {
                names.push(s.name().map(|n| format!("{n:#}")));
            });
            assert!(
                names
                    .iter()
                    .flatten()
                    .any(|n| n.ends_with("records_this_frame")),
                "{names:?}"
            );
        }
        f.clear();
        assert_eq!(
            f.registers(),
            ParkRegisters {
                pc: 0,
                sp: 0,
                fp: 0
            }
        );
    }
}
