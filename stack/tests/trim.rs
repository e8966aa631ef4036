//! Trimming: giving back the pages a deep call left committed.

#![deny(clippy::undocumented_unsafe_blocks)]

use std::cell::Cell;
use std::hint::black_box;
use std::rc::Rc;

use corosensei::stack::Stack;
use corosensei::Coroutine;
use goro_stack::{GuardedStack, PoolConfig, StackPool, TRIM_MARGIN};

const PAGE: usize = 4096;

fn pool() -> StackPool {
    StackPool::new(PoolConfig::default()).unwrap()
}

/// Writes a marker into each of the top `bytes` of the stack.
fn touch_top(stack: &GuardedStack, bytes: usize) {
    let base = stack.base().get();
    for offset in (PAGE..=bytes).step_by(PAGE) {
        // SAFETY: inside the usable part of a stack we own that nothing runs on.
        unsafe { std::ptr::write_volatile((base - offset) as *mut u64, offset as u64) };
    }
}

fn read_marker(stack: &GuardedStack, offset: usize) -> u64 {
    // SAFETY: inside the usable part of a stack we own that nothing runs on.
    unsafe { std::ptr::read_volatile((stack.base().get() - offset) as *const u64) }
}

#[test]
fn trim_below_gives_back_everything_under_the_stack_pointer() {
    let pool = pool();
    let stack = pool.alloc(256 << 10).unwrap();
    touch_top(&stack, 64 << 10);
    assert_eq!(stack.resident_bytes(), 64 << 10);

    let sp = stack.base().get() - PAGE;
    let given_back = stack.trim_below(sp);
    // Whole pages strictly below sp - TRIM_MARGIN go: all but the top two pages.
    let kept = stack.base().get() - ((sp - TRIM_MARGIN) & !(PAGE - 1));
    assert_eq!(kept, 2 * PAGE);
    assert_eq!(given_back, stack.usable_size() - kept);
    assert_eq!(stack.resident_bytes(), kept);
    // What lies above the cut survives, what lay below reads as zero.
    assert_eq!(read_marker(&stack, PAGE), PAGE as u64);
    assert_eq!(read_marker(&stack, 2 * PAGE), 2 * PAGE as u64);
    assert_eq!(read_marker(&stack, 3 * PAGE), 0);

    // Out-of-range stack pointers trim nothing; the guard is never touched.
    assert_eq!(stack.trim_below(stack.base().get() + PAGE), 0);
    assert_eq!(stack.trim_below(stack.limit().get()), 0);
}

#[test]
fn trim_to_keeps_a_warm_prefix() {
    let pool = pool();
    let stack = pool.alloc(128 << 10).unwrap();
    touch_top(&stack, 64 << 10);
    assert_eq!(stack.trim_to(16 << 10), (128 - 16) << 10);
    assert_eq!(stack.resident_bytes(), 16 << 10);
    // A partial page of warmth keeps that whole page.
    assert_eq!(stack.trim_to(PAGE + 1), (128 << 10) - 2 * PAGE);
    assert_eq!(stack.resident_bytes(), 2 * PAGE);
    assert_eq!(stack.trim_to(0), 128 << 10);
    assert_eq!(stack.resident_bytes(), 0);
    // The stack still works after a full trim, and reuse finds it cold.
    pool.release(stack);
    let again = pool.alloc(128 << 10).unwrap();
    assert_eq!(again.resident_bytes(), 0);
}

/// Uses about `bytes` of stack, 1 KiB per frame.
#[inline(never)]
fn deep_call(bytes: usize) -> u64 {
    let mut frame = [1u8; 1024];
    black_box(&mut frame);
    if bytes <= 1024 {
        return u64::from(frame[7]);
    }
    deep_call(bytes - 1024) + u64::from(frame[9])
}

#[test]
fn parked_goroutine_survives_trimming() {
    let pool = pool();
    let stack = pool.alloc(256 << 10).unwrap();
    let range = stack.range();
    let parked_sp = Rc::new(Cell::new(0));
    let sp_out = parked_sp.clone();
    let mut goroutine = Coroutine::with_stack(stack, move |yielder, ()| {
        assert_eq!(deep_call(64 << 10), 64); // a deep excursion that has returned
        let values = black_box([0x5a5a_5a5a_u64; 16]);
        sp_out.set(&values as *const _ as usize);
        yielder.suspend(());
        assert_eq!(black_box(values), [0x5a5a_5a5a_u64; 16]);
        deep_call(32 << 10) // the trimmed pages come back as fresh zero pages
    });
    assert!(goroutine.resume(()).as_yield().is_some());
    let before = range.resident_bytes();
    assert!(before >= 64 << 10, "{before}");

    // The address of a local is above the frames suspend() pushed below it; the
    // scheduler would use the switch's saved stack pointer instead. 8 KiB is a
    // generous allowance for those frames in a debug build.
    let sp = parked_sp.get() - (8 << 10);
    // SAFETY: the stack is alive (owned by `goroutine`), the goroutine is parked
    // until we resume it below, and nothing of it lives below `sp`.
    let given_back = unsafe { range.trim_below(sp) };
    let after = range.resident_bytes();
    assert!(
        given_back > 0 && after <= 16 << 10,
        "resident {before} -> {after}"
    );

    assert_eq!(goroutine.resume(()).as_return(), Some(32));
    pool.release(goroutine.into_stack());
}
