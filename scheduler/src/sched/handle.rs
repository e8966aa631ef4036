//! `Handle`: a weak reference to a running runtime, for code that must
//! reach it later from any thread (a timer re-armed from a plain thread, an
//! `after_func` callback that starts a goroutine when its timer fires on
//! sysmon or on the outside-runtime timer thread).
//!
//! It does not keep the runtime alive: once `run` has returned, the handle
//! reports the runtime as gone and spawns nothing.

use std::sync::{Arc, Weak};

use crate::sched::current::{self, Current};
use crate::sched::m::Item;
use crate::sched::Sched;

/// A handle to the runtime the calling code runs in.
#[derive(Clone)]
pub struct Handle {
    sched: Weak<Sched>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Handle { .. }")
    }
}

impl Handle {
    /// The runtime of the calling goroutine, M or helper thread; `None` on a
    /// plain thread.
    pub fn current() -> Option<Handle> {
        let sched = match current::get() {
            // SAFETY: `Current::M` points at this thread's live MLocal.
            Current::M(l) => Arc::downgrade(&unsafe { &*l }.sched),
            Current::Helper(s) => {
                // SAFETY: `s` comes from `Arc::as_ptr` of an Arc this helper
                // thread holds for as long as it is marked as a helper, so
                // the count is at least 1; we add our own reference.
                let strong = unsafe {
                    Arc::increment_strong_count(s);
                    Arc::from_raw(s)
                };
                Arc::downgrade(&strong)
            }
            Current::None => return None,
        };
        Some(Handle { sched })
    }

    pub(crate) fn sched(&self) -> Option<Arc<Sched>> {
        self.sched.upgrade()
    }

    pub(crate) fn is(&self, sched: &Sched) -> bool {
        std::ptr::eq(self.sched.as_ptr(), sched)
    }

    /// Starts a detached goroutine running `f` in this runtime, from any
    /// thread. Returns false (and drops `f`) if the runtime has ended or is
    /// shutting down.
    #[track_caller]
    pub fn spawn<F>(&self, f: F) -> bool
    where
        F: FnOnce() + Send + 'static,
    {
        let Some(sched) = self.sched() else {
            return false;
        };
        if sched.is_shutting_down() {
            return false;
        }
        let site = std::panic::Location::caller();
        // Dropping the JoinHandle detaches the goroutine.
        sched.spawn_global(site, crate::GoBuilder::new(), f).is_ok()
    }
}

impl Sched {
    /// Queues a new goroutine on the global queue (spawns from threads that
    /// have no P) and wakes an idle M for it.
    pub(crate) fn spawn_global<F, T>(
        &self,
        site: &'static std::panic::Location<'static>,
        options: crate::GoBuilder,
        f: F,
    ) -> Result<crate::JoinHandle<T>, crate::SpawnError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        crate::sched::spawn::reserve_stack(self)?;
        let id = self
            .next_goid
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (task, handle) = crate::sched::spawn::new_task(self, id, 0, site, options, f);
        self.extra_spawned
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        crate::sched::enqueue::submit_global(self, Item::Fresh(task));
        Ok(handle)
    }
}
