//! Allocation, reuse and running coroutines on pooled stacks.

#![deny(clippy::undocumented_unsafe_blocks)]

use std::collections::BTreeSet;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};

use corosensei::stack::Stack;
use corosensei::Coroutine;
use goro_stack::{GuardedStack, PoolConfig, StackPool};

fn pool() -> StackPool {
    StackPool::new(PoolConfig::default()).unwrap()
}

fn bounds(stack: &GuardedStack) -> (usize, usize) {
    (stack.limit().get(), stack.base().get())
}

/// Whether the kernel may write one byte at `addr`: `read(2)` from /dev/zero
/// fails with EFAULT on a guard page instead of raising SIGSEGV.
fn kernel_can_write(addr: usize) -> bool {
    let zero = File::open("/dev/zero").unwrap();
    // SAFETY: read() validates the destination itself; a guard or unmapped
    // page yields EFAULT rather than a fault in this process. Where it succeeds
    // it writes one zero byte into a stack we own and do not otherwise use.
    unsafe { libc::read(zero.as_raw_fd(), addr as *mut libc::c_void, 1) == 1 }
}

#[test]
fn release_and_reuse_return_the_same_slot() {
    let pool = pool();
    let a = pool.alloc(64 << 10).unwrap();
    let b = pool.alloc(64 << 10).unwrap();
    let (a_bounds, b_bounds) = (bounds(&a), bounds(&b));
    assert_ne!(a_bounds, b_bounds);
    assert_eq!(pool.live_stacks(), 2);

    pool.release(a);
    pool.release(b);
    assert_eq!(pool.live_stacks(), 0);
    // Last released, first reused (warmest pages first).
    let b2 = pool.alloc(64 << 10).unwrap();
    let a2 = pool.alloc(64 << 10).unwrap();
    assert_eq!((bounds(&a2), bounds(&b2)), (a_bounds, b_bounds));
    assert_eq!(pool.live_stacks(), 2);

    // Dropping without release() returns the slot as well.
    drop(a2);
    assert_eq!(pool.live_stacks(), 1);
    let a3 = pool.alloc(60 << 10).unwrap();
    assert_ne!(bounds(&a3), a_bounds, "60 KiB is a size class of its own");
    let a4 = pool.alloc((64 << 10) - 100).unwrap();
    assert_eq!(bounds(&a4), a_bounds, "rounded up to the 64 KiB class");
    drop((a3, a4, b2));
    assert_eq!(pool.live_stacks(), 0);
}

#[test]
fn geometry_and_guard() {
    let pool = pool();
    let stack = pool.alloc(100 << 10).unwrap();
    let page = 4096;
    let (limit, base) = bounds(&stack);
    assert_eq!(stack.usable_size(), 100 << 10);
    assert_eq!(base - limit, stack.usable_size() + page);
    assert_eq!(base % page, 0);
    assert_eq!(stack.range().limit(), limit);
    assert_eq!(stack.range().base(), base);
    assert!(stack.contains(base - 1) && stack.contains(limit + page));
    assert!(!stack.contains(base) && !stack.contains(limit + page - 1) && !stack.contains(limit));
    // The guard page rejects writes, the usable part accepts them.
    assert!(!kernel_can_write(limit));
    assert!(!kernel_can_write(limit + page - 1));
    assert!(kernel_can_write(limit + page));
    assert!(kernel_can_write(base - 1));
    // Only the two pages written to above are committed.
    assert_eq!(stack.resident_bytes(), 2 * page);
}

#[test]
fn fresh_stack_commits_about_one_page() {
    let pool = pool();
    let stack = pool.alloc(256 << 10).unwrap();
    assert_eq!(stack.resident_bytes(), 0);
    let mut co = Coroutine::with_stack(stack, |yielder, ()| {
        yielder.suspend(());
    });
    co.resume(());
    assert!(co.started() && !co.done());
    co.resume(());
    let stack = co.into_stack();
    let resident = stack.resident_bytes();
    assert!(resident > 0 && resident <= 8 << 10, "resident {resident}");
}

#[test]
fn coroutines_run_on_reused_stacks_across_threads() {
    let pool = Arc::new(pool());
    let used = Arc::new(Mutex::new(BTreeSet::new()));
    let handles: Vec<_> = (0..2)
        .map(|t| {
            let (pool, used) = (pool.clone(), used.clone());
            std::thread::spawn(move || {
                for i in 0..500u64 {
                    let stack = pool.alloc(32 << 10).unwrap();
                    stack.set_owner(t * 1000 + i, std::panic::Location::caller());
                    let (limit, base) = bounds(&stack);
                    used.lock().unwrap().insert(limit);
                    let mut co = Coroutine::with_stack(stack, move |yielder, x: u64| {
                        let local = x;
                        let addr = &local as *const u64 as usize;
                        assert!(addr > limit && addr < base, "running on the pooled stack");
                        let y = yielder.suspend(local + 1);
                        local + y
                    });
                    assert_eq!(co.resume(i).as_yield(), Some(i + 1));
                    assert_eq!(co.resume(5).as_return(), Some(i + 5));
                    pool.release(co.into_stack());
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(pool.live_stacks(), 0);
    // 1000 goroutines, at most two at a time: at most two slots were ever used.
    assert!(used.lock().unwrap().len() <= 2);
}
