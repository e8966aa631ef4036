//! The G registry: every G of the run (Go's `allgs`, read by observers),
//! the pool of idle Gs beyond what the Ps cache, and the graveyard of Gs
//! whose Ms stopped. No G is freed while the run lasts: observers may be
//! reading any of them (`monitor/snapshot.rs`).

use crate::g::{GRef, G};
use crate::sched::Sched;
use crate::sys::poison::Unpoisoned;

impl Sched {
    /// A new G, registered for observers.
    pub(crate) fn new_g(&self) -> Box<G> {
        let g = G::new();
        let gref = GRef(std::ptr::NonNull::from(&*g));
        self.all_gs.lock_unpoisoned().push(gref);
        g
    }

    /// Runs `f` over every G of this run; they stay allocated meanwhile.
    pub(crate) fn with_all_gs<R>(&self, f: impl FnOnce(&[GRef]) -> R) -> R {
        f(&self.all_gs.lock_unpoisoned())
    }

    /// An idle G from the runtime-wide pool (it has no stack).
    pub(crate) fn take_spare_g(&self) -> Option<Box<G>> {
        let g = self.spare_gs.lock_unpoisoned().pop()?;
        // SAFETY: `put_spare_g` leaked this box into the pool, its only
        // owner, and it was just taken out.
        Some(unsafe { Box::from_raw(g.0.as_ptr()) })
    }

    /// Pools an idle G a P could not cache, giving its stack back (Gs are
    /// not freed while the runtime runs: observers may be reading them).
    pub(crate) fn put_spare_g(&self, g: Box<G>) {
        if let Some(s) = g.take_spare_stack() {
            self.stacks.release(s);
        }
        let g = GRef(std::ptr::NonNull::from(Box::leak(g)));
        self.spare_gs.lock_unpoisoned().push(g);
    }

    // Gs are boxed: queues and waiters hold their addresses (GRef).
    #[allow(clippy::vec_box)]
    pub(crate) fn bury(&self, gs: Vec<Box<G>>) {
        let mut yard = self.graveyard.lock_unpoisoned();
        yard.extend(
            gs.into_iter()
                .map(|g| GRef(std::ptr::NonNull::from(Box::leak(g)))),
        );
    }
}
