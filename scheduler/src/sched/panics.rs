//! What a goroutine's panic does to its run: the runtime's
//! [`UnhandledPanic`] policy, and the count a [`PanicWatch`] reads
//! (`#[goro::test]` fails a test whose goroutines panicked, joined or not,
//! as `go test` does). The report itself is printed by the panic hook
//! (`g/panic.rs`).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::g::panic::UnhandledPanic;
use crate::sched::Sched;

/// Applies the runtime's [`UnhandledPanic`] policy to a panic that just
/// ended goroutine `goroutine` on this M (its report is printed already),
/// and counts it for [`PanicWatch`]es.
pub(crate) fn on_goroutine_panic(goroutine: u64) {
    let Some(l) = crate::sched::current::m() else {
        return;
    };
    l.sched.panics.fetch_add(1, Ordering::AcqRel);
    if l.sched.unhandled_panic == UnhandledPanic::Exit && goroutine != l.sched.main_goid() {
        crate::sys::report::write_stderr(&format!(
            "goro: goroutine {goroutine} panicked and the runtime's UnhandledPanic is Exit: exit status 2\n"
        ));
        std::process::exit(2);
    }
}

/// Counts the goroutine panics of one runtime, joined or not, from its
/// start (`#[goro::test]`). Made inside the runtime.
pub struct PanicWatch {
    sched: Arc<Sched>,
    before: usize,
}

impl PanicWatch {
    /// Starts counting the goroutine panics of the calling goroutine's
    /// runtime; `None` outside a runtime.
    pub fn start() -> Option<PanicWatch> {
        let sched = crate::Handle::current()?.sched()?;
        let before = sched.panics.load(Ordering::Acquire);
        Some(PanicWatch { sched, before })
    }

    /// Goroutine panics seen since the watch started (the main goroutine's
    /// included).
    pub fn panics(&self) -> usize {
        self.sched.panics.load(Ordering::Acquire) - self.before
    }
}

impl std::fmt::Debug for PanicWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PanicWatch")
            .field("panics", &self.panics())
            .finish()
    }
}
