//! The walker on targets without one: parked stacks stay unavailable.

use crate::frames::CodeAddress;
use crate::runtime::Shared;
use crate::snapshot::GInfo;

pub(crate) struct Walker;

impl Walker {
    pub(crate) fn new() -> Walker {
        Walker
    }

    /// Always `None`: no unwinder for this target.
    pub(crate) fn walk(&mut self, _shared: &Shared, _g: &GInfo) -> Option<Vec<CodeAddress>> {
        None
    }
}
