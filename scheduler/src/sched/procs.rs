//! The M set and the P set: creating and starting Ms (`mstart`, an M's
//! thread), changing the P count (`set_gomaxprocs`, automatic updates) and
//! handing a P to a fresh M (`lock_os_thread`). Every P-set change holds
//! the resize lock, which also records who set the count.

use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};

use crate::config::procs::{self, ProcsSource};
use crate::config::{self, MAX_PROCS};
use crate::sched::current::{self, Current};
use crate::sched::m::{Item, MLocal, M};
use crate::sched::schedule;
use crate::sched::Sched;
use crate::sys::poison::{RwUnpoisoned, Unpoisoned};

impl Sched {
    /// Creates a worker for P `p` (registered, not started).
    pub(crate) fn new_m(self: &Arc<Sched>, p: usize) -> (Arc<M>, crossbeam_deque::Worker<Item>) {
        let fresh = crossbeam_deque::Worker::new_lifo();
        let mut all = self.all.write_unpoisoned();
        let w = Arc::new(M::new(self.next_m_id(), fresh.stealer(), Arc::as_ptr(self)));
        w.p.store(p, Ordering::Relaxed);
        all.push(w.clone());
        drop(all);
        let mut active = self.active.write_unpoisoned();
        if active.len() <= p {
            active.push(w.clone());
        } else {
            active[p] = w.clone();
        }
        (w, fresh)
    }

    /// Creates and starts an M for P `p`.
    pub(crate) fn start_m(self: &Arc<Sched>, p: usize) {
        let (w, fresh) = self.new_m(p);
        let sched = self.clone();
        let handle = std::thread::Builder::new()
            .name(format!("goro-m{}", w.id))
            .spawn(move || mstart(sched, w, fresh))
            .unwrap_or_else(|e| {
                crate::sys::report::fatal(format_args!("cannot start an M thread: {e}"))
            });
        self.threads.lock_unpoisoned().push(handle);
    }

    fn lock_resize(&self) -> MutexGuard<'_, ProcsSource> {
        self.resize.lock_unpoisoned()
    }

    /// Who set the P count.
    pub(crate) fn procs_source(&self) -> ProcsSource {
        *self.lock_resize()
    }

    /// Sets the P count explicitly (`set_gomaxprocs`), which stops
    /// automatic updates; returns the previous count.
    pub(crate) fn set_procs(self: &Arc<Sched>, n: usize) -> usize {
        let mut source = self.lock_resize();
        *source = ProcsSource::Explicit;
        self.resize(&source, n)
    }

    /// Applies the default rule's `n`: with `restore`
    /// (`set_default_gomaxprocs`) the count becomes automatic again;
    /// without (sysmon's update) nothing happens if it was set explicitly
    /// in the meantime, so no automatic change follows `set_gomaxprocs`.
    pub(crate) fn set_default_procs(self: &Arc<Sched>, n: usize, restore: bool) {
        let mut source = self.lock_resize();
        if restore {
            *source = ProcsSource::Automatic;
        } else if *source != ProcsSource::Automatic {
            return;
        }
        self.resize(&source, n);
    }

    /// sysmon, about once a second: re-reads the affinity mask and the
    /// cgroup limit and follows them, unless updates are off.
    pub(crate) fn update_default_procs(self: &Arc<Sched>) {
        if !config::automatic_updates(self.procs_source()) || self.is_shutting_down() {
            return;
        }
        let n = procs::detect().procs;
        if n != self.gomaxprocs.load(Ordering::SeqCst) {
            self.set_default_procs(n, false);
        }
    }

    /// Changes the P count (the caller holds the resize lock); returns the
    /// previous count.
    fn resize(self: &Arc<Sched>, _serial: &MutexGuard<'_, ProcsSource>, n: usize) -> usize {
        let n = n.clamp(1, MAX_PROCS);
        let old = self.gomaxprocs.load(Ordering::SeqCst);
        if n > old {
            self.gomaxprocs.store(n, Ordering::SeqCst);
            for p in old..n {
                self.start_m(p);
            }
        } else if n < old {
            let removed: Vec<Arc<M>> = {
                let mut active = self.active.write_unpoisoned();
                active.split_off(n)
            };
            self.gomaxprocs.store(n, Ordering::SeqCst);
            for w in removed {
                w.has_p.store(false, Ordering::SeqCst);
                w.wake_up();
            }
        }
        crate::trace::procs(self.trace_file(), old, n);
        old
    }

    /// Takes P `p` away from `w` (which keeps running its own goroutines)
    /// and gives it to a new M.
    pub(crate) fn hand_off_p(self: &Arc<Sched>, w: &Arc<M>) {
        let _serial = self.lock_resize();
        if !w.has_p.swap(false, Ordering::SeqCst) {
            return;
        }
        let p = w.p.load(Ordering::Relaxed);
        let still_active = self.active_ms().get(p).is_some_and(|x| Arc::ptr_eq(x, w));
        if still_active && !self.is_shutting_down() {
            crate::trace::handoff(self.trace_file(), w.id);
            self.start_m(p);
        }
    }
}

fn mstart(sched: Arc<Sched>, m: Arc<M>, fresh: crossbeam_deque::Worker<Item>) {
    let _signal_stack = goro_stack::ensure_signal_stack();
    let local = MLocal::new(m, sched.clone(), fresh);
    let prev = current::set(Current::M(&local));
    schedule::schedule_loop(&local);
    if sched.is_shutting_down() {
        crate::sched::shutdown::shutdown_m(&local);
    } else {
        // Retired: every goroutine homed here has finished.
        local.give_up_fresh_work();
        for g in local.free.borrow_mut().drain(..) {
            sched.put_spare_g(g);
        }
        local.m.gfree.store(0, Ordering::Relaxed);
    }
    local.m.thread_alive.store(false, Ordering::Relaxed);
    current::set(prev);
}
