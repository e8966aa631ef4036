//! The `mprotect` fallback (kernels < 6.13) stops at its VMA budget, before the
//! process-wide `vm.max_map_count` would break threads and `malloc`.
//!
//! The tests of this binary are serialised: each looks at process-wide VMAs.

use std::hint::black_box;
use std::sync::Mutex;

use goro_stack::{vma_count, GuardMode, PoolConfig, StackError, StackPool};

static SERIAL: Mutex<()> = Mutex::new(());

fn mprotect_pool(budget: Option<usize>) -> StackPool {
    StackPool::new(PoolConfig {
        force_mprotect_guards: true,
        vma_budget_override: budget,
    })
    .unwrap()
}

/// Allocates until the pool refuses; returns the stacks and the error.
fn alloc_until_refused(
    pool: &StackPool,
    size: usize,
) -> (Vec<goro_stack::GuardedStack>, StackError) {
    let mut stacks = Vec::new();
    loop {
        match pool.alloc(size) {
            Ok(stack) => stacks.push(stack),
            Err(e) => return (stacks, e),
        }
    }
}

fn process_still_works() {
    std::thread::spawn(|| black_box(1 + 1)).join().unwrap();
    let big = black_box(vec![7u8; 1 << 20]);
    assert_eq!(big[(1 << 20) - 1], 7);
    assert!(vma_count().is_ok());
}

fn max_map_count() -> usize {
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn overridden_budget_of_100() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let pool = mprotect_pool(Some(100));
    assert_eq!(pool.guard_mode(), GuardMode::Mprotect { budget: 100 });
    let vmas_before = vma_count().unwrap();

    let (stacks, err) = alloc_until_refused(&pool, 64 << 10);
    assert_eq!(stacks.len(), 100);
    match err {
        StackError::StackLimit {
            live,
            budget,
            max_map_count: reported,
        } => assert_eq!((live, budget, reported), (100, 100, max_map_count())),
        StackError::Os(e) => panic!("expected StackLimit, got {e}"),
    }
    let text = err.to_string();
    assert!(text.contains("vm.max_map_count"), "{text}");
    assert!(
        text.contains("6.13") && text.contains("sysctl -w vm.max_map_count="),
        "{text}"
    );
    // Each guard really costs its two VMAs.
    assert!(vma_count().unwrap() >= vmas_before + 2 * 100 - 2);
    process_still_works();

    // Freed slots keep their guards and are reused within the budget.
    drop(stacks);
    let (again, err) = alloc_until_refused(&pool, 64 << 10);
    assert_eq!(again.len(), 100);
    assert!(matches!(err, StackError::StackLimit { .. }));
}

#[test]
fn computed_budget_leaves_the_process_working() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let pool = mprotect_pool(None);
    let GuardMode::Mprotect { budget } = pool.guard_mode() else {
        unreachable!("mprotect guards were forced");
    };
    let limit = max_map_count();
    if budget > 200_000 {
        eprintln!("skipped: vm.max_map_count = {limit} gives a budget of {budget}, too slow to exhaust here");
        return;
    }
    let (stacks, err) = alloc_until_refused(&pool, 16 << 10);
    assert!(matches!(err, StackError::StackLimit { .. }), "{err}");
    assert_eq!(stacks.len(), budget);
    let vmas = vma_count().unwrap();
    eprintln!("budget {budget} guarded stacks, {vmas} of {limit} VMAs in use at the limit");
    assert!(
        vmas + 8192 <= limit,
        "the reserve is left free: {vmas} of {limit}"
    );
    process_still_works();
    // Many threads at once still fit in the reserve.
    let threads: Vec<_> = (0..64)
        .map(|i| std::thread::spawn(move || black_box(i)))
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}
