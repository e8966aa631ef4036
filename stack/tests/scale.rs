//! 100,000 guarded stacks at once: mappings and memory stay flat.
//!
//! The only test in this binary, so the process-wide VMA and RSS figures are not
//! disturbed by other tests running in parallel.

#![deny(clippy::undocumented_unsafe_blocks)]

use std::fs::File;
use std::os::fd::AsRawFd;

use corosensei::stack::Stack;
use goro_stack::{vma_count, GuardMode, PoolConfig, StackPool};

const STACKS: usize = 100_000;

/// `(VmRSS, VmPTE)` of this process in KiB.
fn rss_and_page_tables_kib() -> (usize, usize) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| -> usize {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    (field("VmRSS:"), field("VmPTE:"))
}

/// Whether the kernel may write one byte at `addr` (EFAULT on a guard page).
fn kernel_can_write(addr: usize) -> bool {
    let zero = File::open("/dev/zero").unwrap();
    // SAFETY: read() validates the destination itself and reports EFAULT for a
    // guard page; elsewhere it writes one zero byte into a stack we own.
    unsafe { libc::read(zero.as_raw_fd(), addr as *mut libc::c_void, 1) == 1 }
}

#[test]
fn hundred_thousand_guarded_stacks_with_few_vmas_and_little_memory() {
    let pool = StackPool::new(PoolConfig::default()).unwrap();
    if pool.guard_mode() != GuardMode::GuardRegions {
        eprintln!("skipped: this kernel lacks MADV_GUARD_INSTALL (Linux >= 6.13)");
        return;
    }
    let vmas_before = vma_count().unwrap();
    let mut stacks = Vec::with_capacity(STACKS);
    let (rss_before, pte_before) = rss_and_page_tables_kib();
    for _ in 0..STACKS {
        let stack = pool.alloc(256 << 10).unwrap();
        // Touch the top page, as a goroutine's first frames do.
        // SAFETY: the address is inside the usable part of a stack we own.
        unsafe { std::ptr::write_volatile((stack.base().get() - 64) as *mut u64, 1) };
        stacks.push(stack);
    }
    let (rss_after, pte_after) = rss_and_page_tables_kib();
    let vmas = vma_count().unwrap();
    assert_eq!(pool.live_stacks(), STACKS);

    let rss_per_stack = (rss_after - rss_before) as f64 / STACKS as f64;
    let pte_per_stack = (pte_after - pte_before) as f64 / STACKS as f64;
    eprintln!(
        "{STACKS} stacks of 256 KiB: {vmas} VMAs (before {vmas_before}), RSS {rss_per_stack:.2} KiB \
         + page tables {pte_per_stack:.2} KiB per stack"
    );
    assert!(vmas < 1000, "{vmas} VMAs");
    assert!(rss_per_stack <= 6.0, "RSS {rss_per_stack:.2} KiB per stack");

    // Every stack is guarded; spot-check a spread of them.
    for stack in stacks.iter().step_by(997) {
        assert!(!kernel_can_write(stack.limit().get()), "guard missing");
    }

    for stack in stacks.drain(..) {
        pool.release(stack);
    }
    assert_eq!(pool.live_stacks(), 0);
    drop(pool);
    assert!(
        vma_count().unwrap() <= vmas_before + 1,
        "chunks unmapped with the pool"
    );
}
