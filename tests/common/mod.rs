//! Helpers shared by the integration tests: process statistics, a drop
//! counter and a countdown latch built on goro's park/ready contract.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use goro::sched::{current_waiter, park, WaitReason, Waiter};

/// A field of /proc/self/status in kB (VmRSS, VmPTE, Threads, ...).
pub fn status_field(name: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /proc/self/status"))
}

/// Number of memory mappings (VMAs) of this process.
pub fn vma_count() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .count()
}

/// CPU time (user + system) this process has used.
pub fn cpu_time() -> std::time::Duration {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: getrusage writes a full rusage into the buffer.
    let ru = unsafe {
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, ru.as_mut_ptr()), 0);
        ru.assume_init()
    };
    let tv = |t: libc::timeval| std::time::Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Adds one to its counter when dropped (to prove exactly-once destruction).
pub struct DropCounter(pub Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A one-shot latch: `wait` parks until `count_down` was called `n` times.
pub struct Latch {
    left: AtomicUsize,
    waiters: Mutex<Vec<Waiter>>,
}

impl Latch {
    pub fn new(n: usize) -> Arc<Latch> {
        Arc::new(Latch {
            left: AtomicUsize::new(n),
            waiters: Mutex::new(Vec::new()),
        })
    }

    pub fn count_down(&self) {
        if self.left.fetch_sub(1, Ordering::AcqRel) == 1 {
            let ws = std::mem::take(&mut *self.waiters.lock().unwrap());
            for w in ws {
                // SAFETY: each waiter registered once, taken under the lock.
                unsafe { w.wake() };
            }
        }
    }

    pub fn wait(&self) {
        {
            let mut ws = self.waiters.lock().unwrap();
            if self.left.load(Ordering::Acquire) == 0 {
                return;
            }
            ws.push(current_waiter());
        }
        park(WaitReason::SyncWaitGroupWait);
    }
}
