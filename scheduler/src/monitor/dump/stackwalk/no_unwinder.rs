//! The unwinder on targets without one: parked stacks stay unavailable.

use super::reader::StackReader;
use crate::g::park_frame::ParkRegisters;
use crate::monitor::dump::frames::CodeAddress;

pub(crate) struct Unwinder;

impl Unwinder {
    pub(crate) fn new() -> Unwinder {
        Unwinder
    }

    /// Always `None`: no unwinder for this target.
    pub(crate) fn unwind(
        &mut self,
        _regs: ParkRegisters,
        _stack: &StackReader,
    ) -> Option<Vec<CodeAddress>> {
        None
    }
}
