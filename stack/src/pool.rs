//! The stack pool: one per runtime, handing out guarded stacks by size class.
//!
//! `alloc(usable)` rounds the request up to whole pages and picks (or creates)
//! the size class of exactly that size; each class owns its own arena chunks and
//! free list (see `class.rs`). Released stacks keep their committed pages so that
//! a warm reuse costs no system call; the scheduler layers per-worker caches on
//! top and decides when to trim (see [`GuardedStack::trim_to`]).
//!
//! Lifetime: the pool's state is reference-counted. Every [`GuardedStack`] keeps
//! its size class (and so its chunks) alive, so dropping the pool while stacks are
//! still in use never unmaps memory under them; the chunks are unmapped when the
//! pool *and* the last stack of the class are gone. A leaked stack leaks its
//! class's chunks instead of risking a use-after-unmap.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use crate::class::SizeClass;
use crate::guard::{self, GuardMode};
use crate::size::MAX_STACK_SIZE;
use crate::stack::GuardedStack;
use crate::sys;

/// Pool options. The defaults are right for production; the fields exist so that
/// tests can exercise the fallback paths on a new kernel.
#[derive(Debug, Clone, Default)]
pub struct PoolConfig {
    /// Use `mprotect` guards even if the kernel supports lightweight guard
    /// regions, i.e. behave like a kernel older than 6.13.
    pub force_mprotect_guards: bool,
    /// In `mprotect` mode, use this many guarded stacks as the VMA budget instead
    /// of computing it from `vm.max_map_count`. Ignored with guard regions.
    pub vma_budget_override: Option<usize>,
}

/// Why [`StackPool::alloc`] failed.
#[derive(Debug)]
pub enum StackError {
    /// `mprotect` mode only: the pool's VMA budget is used up. Creating more
    /// guards would approach `vm.max_map_count`, after which thread creation and
    /// `malloc` fail process-wide.
    StackLimit {
        /// Stacks currently handed out by the pool.
        live: usize,
        /// Guarded stacks the pool may create.
        budget: usize,
        /// The system's `vm.max_map_count`.
        max_map_count: usize,
    },
    /// The kernel refused a mapping or a guard (e.g. out of memory), or the
    /// requested size was above [`MAX_STACK_SIZE`] (`InvalidInput`).
    Os(io::Error),
}

impl fmt::Display for StackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            StackError::StackLimit {
                live,
                budget,
                max_map_count,
            } => {
                // Suggest at least the value modern distributions ship.
                let suggested = (max_map_count.saturating_mul(4)).max(1 << 20);
                write!(
                    f,
                    "goroutine stack limit reached: {live} stacks live, budget {budget} guarded stacks. \
                     This kernel lacks lightweight guard regions (MADV_GUARD_INSTALL), so every guard \
                     page costs 2 memory mappings and the process is bounded by vm.max_map_count \
                     (currently {max_map_count}). Linux >= 6.13 lifts this limit; otherwise raise it, \
                     e.g. `sysctl -w vm.max_map_count={suggested}`"
                )
            }
            StackError::Os(ref e) => write!(f, "cannot allocate a goroutine stack: {e}"),
        }
    }
}

impl std::error::Error for StackError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StackError::StackLimit { .. } => None,
            StackError::Os(e) => Some(e),
        }
    }
}

impl From<io::Error> for StackError {
    fn from(e: io::Error) -> StackError {
        StackError::Os(e)
    }
}

/// State shared by the pool and all its size classes.
#[derive(Debug)]
pub(crate) struct PoolShared {
    pub(crate) mode: GuardMode,
    pub(crate) max_map_count: usize,
    /// Stacks handed out and not yet returned.
    pub(crate) live: AtomicUsize,
    /// Slots carved (guard installed) across all classes; in `mprotect` mode
    /// this is what the VMA budget limits.
    pub(crate) carved: AtomicUsize,
}

/// A pool of guarded goroutine stacks. One per runtime; `Send + Sync`.
#[derive(Debug)]
pub struct StackPool {
    shared: Arc<PoolShared>,
    /// Append-only; few entries (one per distinct stack size in use).
    classes: RwLock<Vec<Arc<SizeClass>>>,
}

impl StackPool {
    /// Creates a pool, probing the guard mechanism (once per process) and, in
    /// `mprotect` mode, computing the VMA budget from `vm.max_map_count` and the
    /// current `/proc/self/maps` (formula in `guard.rs`). Maps nothing yet.
    pub fn new(config: PoolConfig) -> io::Result<StackPool> {
        let max_map_count = guard::max_map_count();
        let mode = if !config.force_mprotect_guards && guard::guard_regions_supported()? {
            GuardMode::GuardRegions
        } else {
            let budget = match config.vma_budget_override {
                Some(budget) => budget,
                None => guard::vma_budget(max_map_count, guard::vma_count()?),
            };
            GuardMode::Mprotect { budget }
        };
        Ok(StackPool {
            shared: Arc::new(PoolShared {
                mode,
                max_map_count,
                live: AtomicUsize::new(0),
                carved: AtomicUsize::new(0),
            }),
            classes: RwLock::default(),
        })
    }

    /// A guarded stack with at least `usable` bytes below its top (rounded up to
    /// whole pages; at least one page). Reuses a released stack of the same size
    /// if there is one, which costs no system call.
    ///
    /// Fails with [`StackError::StackLimit`] in `mprotect` mode once the VMA
    /// budget is used up, and with [`StackError::Os`] if the kernel refuses memory
    /// or `usable` exceeds [`MAX_STACK_SIZE`].
    pub fn alloc(&self, usable: usize) -> Result<GuardedStack, StackError> {
        if usable > MAX_STACK_SIZE {
            return Err(StackError::Os(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("stack size {usable} exceeds the maximum of {MAX_STACK_SIZE} bytes"),
            )));
        }
        let size = self.rounded_size(usable);
        let class = self.class(size, sys::page_size());
        let slot = class.take()?;
        Ok(GuardedStack::new(class, slot))
    }

    /// Returns a stack for reuse. Its pages stay committed, so the next
    /// [`alloc`](Self::alloc) of that size is cheap. Equivalent to dropping it.
    pub fn release(&self, stack: GuardedStack) {
        debug_assert!(
            stack.belongs_to(&self.shared),
            "stack released to a pool that did not allocate it"
        );
        drop(stack);
    }

    /// The guard mechanism in use.
    pub fn guard_mode(&self) -> GuardMode {
        self.shared.mode
    }

    /// Stacks currently handed out.
    pub fn live_stacks(&self) -> usize {
        self.shared.live.load(Ordering::Relaxed)
    }

    /// The usable size `alloc(usable)` would hand out (whole pages).
    pub fn rounded_size(&self, usable: usize) -> usize {
        let page = sys::page_size();
        sys::round_up_to_page(usable.max(page)).unwrap_or(usize::MAX)
    }

    /// The `StackLimit` error for a caller that enforces this pool's budget
    /// ahead of allocation (the scheduler reserves stacks at spawn time).
    pub fn limit_error(&self, live: usize) -> StackError {
        let budget = match self.shared.mode {
            GuardMode::Mprotect { budget } => budget,
            GuardMode::GuardRegions => usize::MAX,
        };
        StackError::StackLimit {
            live,
            budget,
            max_map_count: self.shared.max_map_count,
        }
    }

    /// The size class for `size` (page-rounded), created on first use.
    fn class(&self, size: usize, guard: usize) -> Arc<SizeClass> {
        let find =
            |classes: &[Arc<SizeClass>]| classes.iter().find(|c| c.stack_size == size).cloned();
        if let Some(class) = find(&self.classes.read().unwrap_or_else(PoisonError::into_inner)) {
            return class;
        }
        let mut classes = self.classes.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(class) = find(&classes) {
            return class;
        }
        let class = Arc::new(SizeClass::new(Arc::clone(&self.shared), size, guard));
        classes.push(Arc::clone(&class));
        class
    }

    #[cfg(test)]
    pub(crate) fn carved(&self) -> usize {
        self.shared.carved.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> StackPool {
        StackPool::new(PoolConfig::default()).unwrap()
    }

    #[test]
    fn reuse_returns_the_same_slot_without_carving() {
        let pool = pool();
        let a = pool.alloc(64 << 10).unwrap();
        let (limit, base) = (a.range().limit(), a.range().base());
        assert_eq!(pool.live_stacks(), 1);
        let carved = pool.carved();
        assert!((1..=guard::MAX_BATCH).contains(&carved), "{carved}");
        pool.release(a);
        assert_eq!(pool.live_stacks(), 0);
        for _ in 0..100 {
            let b = pool.alloc(64 << 10).unwrap();
            assert_eq!((b.range().limit(), b.range().base()), (limit, base));
            assert_eq!(pool.live_stacks(), 1);
            drop(b); // dropping releases as well
        }
        // No new slot was carved, i.e. no guard-installing system call was made.
        assert_eq!(pool.carved(), carved);
    }

    #[test]
    fn growth_carves_the_next_batch_before_the_list_runs_dry() {
        use crate::class::REFILL_BELOW;
        let pool = pool();
        let mut stacks = vec![pool.alloc(16 << 10).unwrap()];
        if pool.carved() < guard::MAX_BATCH {
            return; // one guard per system call: no batch to carve ahead
        }
        while pool.carved() == guard::MAX_BATCH {
            stacks.push(pool.alloc(16 << 10).unwrap());
        }
        // The take that left fewer than REFILL_BELOW carved slots carved
        // the next batch (the first carve kept MAX_BATCH - 1 of its slots).
        assert_eq!(stacks.len(), guard::MAX_BATCH - REFILL_BELOW + 1);
        assert_eq!(pool.carved(), 2 * guard::MAX_BATCH);
        // Slots are still handed out in address order across batches.
        while stacks.len() < guard::MAX_BATCH + 8 {
            stacks.push(pool.alloc(16 << 10).unwrap());
        }
        for pair in stacks.windows(2) {
            assert_eq!(pair[1].range().limit(), pair[0].range().base());
        }
        // Reusing released slots never carves.
        let carved = pool.carved();
        drop(stacks);
        for _ in 0..100 {
            drop(pool.alloc(16 << 10).unwrap());
        }
        assert_eq!(pool.carved(), carved);
    }

    #[test]
    fn sizes_are_rounded_to_pages_and_classed() {
        let pool = pool();
        let page = sys::page_size();
        let tiny = pool.alloc(1).unwrap();
        assert_eq!(tiny.usable_size(), page);
        let odd = pool.alloc(20_000).unwrap();
        assert_eq!(odd.usable_size(), sys::round_up_to_page(20_000).unwrap());
        assert_eq!(pool.rounded_size(1), page);
        assert_eq!(pool.rounded_size(20_000), odd.usable_size());
        assert_eq!(pool.rounded_size(1 << 20), 1 << 20);
        let big = pool.alloc(1 << 20).unwrap();
        assert_eq!(big.usable_size(), 1 << 20);
        // Three classes, each carving in its own chunk.
        assert_eq!(pool.classes.read().unwrap().len(), 3);
        assert!((3..=3 * guard::MAX_BATCH).contains(&pool.carved()));
        assert!(!big.contains(odd.range().base() - 1) && !odd.contains(big.range().base() - 1));
        assert!(matches!(
            pool.alloc(MAX_STACK_SIZE + 1),
            Err(StackError::Os(e)) if e.kind() == io::ErrorKind::InvalidInput
        ));
    }

    #[test]
    fn slots_of_a_class_are_adjacent_and_disjoint() {
        let pool = pool();
        let stacks: Vec<_> = (0..10).map(|_| pool.alloc(32 << 10).unwrap()).collect();
        let page = sys::page_size();
        for pair in stacks.windows(2) {
            assert_eq!(
                pair[1].range().limit(),
                pair[0].range().base(),
                "slot after slot"
            );
            assert_eq!(
                pair[0].range().base() - pair[0].range().limit(),
                (32 << 10) + page
            );
        }
        assert_eq!(pool.live_stacks(), 10);
        drop(stacks);
        assert_eq!(pool.live_stacks(), 0);
    }

    #[test]
    fn stacks_outlive_their_pool() {
        let pool = pool();
        let stack = pool.alloc(16 << 10).unwrap();
        drop(pool);
        // The chunk is still mapped: writing to the top of the stack is fine.
        // SAFETY: the address is inside the usable part of a stack we own.
        unsafe { std::ptr::write_volatile((stack.range().base() - 8) as *mut u64, 1) };
        drop(stack);
    }

    #[test]
    fn mprotect_mode_uses_the_budget() {
        let pool = StackPool::new(PoolConfig {
            force_mprotect_guards: true,
            vma_budget_override: Some(3),
        })
        .unwrap();
        assert_eq!(pool.guard_mode(), GuardMode::Mprotect { budget: 3 });
        let stacks: Vec<_> = (0..3).map(|_| pool.alloc(16 << 10).unwrap()).collect();
        let err = pool.alloc(16 << 10).unwrap_err();
        assert!(
            matches!(
                err,
                StackError::StackLimit {
                    live: 3,
                    budget: 3,
                    ..
                }
            ),
            "{err:?}"
        );
        // The same error for callers that enforce the budget themselves.
        assert_eq!(pool.limit_error(3).to_string(), err.to_string());
        // Other sizes share the budget.
        assert!(matches!(
            pool.alloc(64 << 10),
            Err(StackError::StackLimit { .. })
        ));
        // Released guarded slots are reused without touching the budget.
        drop(stacks);
        let again: Vec<_> = (0..3).map(|_| pool.alloc(16 << 10).unwrap()).collect();
        assert_eq!(again.len(), 3);
    }

    #[test]
    fn error_messages() {
        let limit = StackError::StackLimit {
            live: 24554,
            budget: 24554,
            max_map_count: 65530,
        };
        let text = limit.to_string();
        for needle in [
            "24554",
            "vm.max_map_count",
            "65530",
            "6.13",
            "sysctl -w vm.max_map_count=1048576",
        ] {
            assert!(text.contains(needle), "{text:?} lacks {needle:?}");
        }
        let os = StackError::from(io::Error::from_raw_os_error(libc::ENOMEM));
        assert!(os
            .to_string()
            .starts_with("cannot allocate a goroutine stack: "));
        assert!(std::error::Error::source(&os).is_some());
    }

    /// Threads allocating at once, while others carve (the free list and
    /// the chunks have separate locks, `class.rs`), never get the same slot
    /// twice, and every slot carved is either live or free at the end.
    #[test]
    fn concurrent_allocation_hands_out_each_slot_once() {
        const THREADS: usize = 4;
        const EACH: usize = 300;
        let pool = pool();
        let stacks: Vec<Vec<GuardedStack>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    s.spawn(|| {
                        let mut kept = Vec::new();
                        for i in 0..EACH {
                            let stack = pool.alloc(64 << 10).unwrap();
                            if i % 3 == 0 {
                                pool.release(stack); // reused by someone
                            } else {
                                kept.push(stack);
                            }
                        }
                        kept
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut limits: Vec<usize> = stacks.iter().flatten().map(|s| s.range().limit()).collect();
        let live = limits.len();
        limits.sort_unstable();
        limits.dedup();
        assert_eq!(limits.len(), live, "a slot was handed out twice");
        assert_eq!(pool.live_stacks(), live);
        assert!(pool.carved() >= live);
    }

    #[test]
    fn pool_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<StackPool>();
        check::<GuardedStack>();
    }
}
