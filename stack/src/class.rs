//! Size classes: all stacks of one (page-rounded) size, their chunks and their
//! free list.
//!
//! Allocation order, cheapest first (compare Go's `stackpool`/`stackcache`):
//!
//! 1. pop a released slot from the class's free list: no system call, the pages
//!    the previous goroutine touched are still committed;
//! 2. carve the next never-used slots of the newest chunk: one system call
//!    installs the guards of up to 32 (`process_madvise`; an `mprotect` pool,
//!    or a kernel before 6.14, carves one per call); the ones not needed now
//!    wait on the free list. Starting a million goroutines this way costs
//!    1/32 of the guard system calls (park_mem: 3.27 -> 2.88 µs a goroutine);
//! 3. map a new chunk. Chunk sizes start at 1 GiB of address space and double
//!    per chunk up to 64 GiB, so a million goroutines need a handful of chunks
//!    (VMAs) whatever the stack size; every chunk has at least one slot. If the
//!    kernel refuses the reservation (overcommit mode 2 ignores
//!    `MAP_NORESERVE`), the request is halved until it fits.
//!
//! Steps 2 and 3 run under the class lock; they happen once per slot over the
//! life of the pool, while step 1 (and every release) is a short push or pop.
//!
//! In `mprotect` mode, step 2 first takes a unit of the pool's VMA budget and
//! fails with [`StackError::StackLimit`] when none is left. Budget units are
//! never returned: a freed slot keeps its guard (and its two VMAs) for reuse.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::arena::{Chunk, Slot};
use crate::guard::{self, GuardMode};
use crate::pool::{PoolShared, StackError};

/// Address space of a class's first chunk.
const FIRST_CHUNK_BYTES: usize = 1 << 30;
/// Chunk sizes double this many times (1 GiB -> 64 GiB), then stay put.
const CHUNK_DOUBLINGS: usize = 6;

/// All stacks of one usable size.
#[derive(Debug)]
pub(crate) struct SizeClass {
    pub(crate) shared: Arc<PoolShared>,
    pub(crate) stack_size: usize,
    pub(crate) guard: usize,
    slots: Mutex<ClassSlots>,
}

#[derive(Debug, Default)]
struct ClassSlots {
    free: Vec<Slot>,
    chunks: Vec<Chunk>,
}

impl SizeClass {
    pub(crate) fn new(shared: Arc<PoolShared>, stack_size: usize, guard: usize) -> SizeClass {
        SizeClass {
            shared,
            stack_size,
            guard,
            slots: Mutex::default(),
        }
    }

    /// A slot of this class, reused if possible. Counts it as live.
    pub(crate) fn take(&self) -> Result<Slot, StackError> {
        let mut slots = self.lock();
        if slots.free.is_empty() {
            self.carve(&mut slots)?;
        }
        let slot = slots.free.pop().expect("carving adds at least one slot");
        self.shared.live.fetch_add(1, Ordering::Relaxed);
        Ok(slot)
    }

    /// Returns a slot taken from this class. No system call.
    pub(crate) fn give_back(&self, slot: Slot) {
        self.lock().free.push(slot);
        self.shared.live.fetch_sub(1, Ordering::Relaxed);
    }

    fn lock(&self) -> MutexGuard<'_, ClassSlots> {
        // Every critical section leaves `ClassSlots` consistent, so a panic
        // elsewhere while the lock was held cannot have broken it.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Carves at least one slot onto the free list.
    fn carve(&self, slots: &mut ClassSlots) -> Result<(), StackError> {
        let mode = self.shared.mode;
        let budgeted = if let GuardMode::Mprotect { budget } = mode {
            if !take_budget(&self.shared.carved, budget) {
                return Err(StackError::StackLimit {
                    live: self.shared.live.load(Ordering::Relaxed),
                    budget,
                    max_map_count: self.shared.max_map_count,
                });
            }
            true
        } else {
            false
        };
        match self.carve_guarded(slots, mode) {
            Ok(n) => {
                if !budgeted {
                    self.shared.carved.fetch_add(n, Ordering::Relaxed);
                }
                Ok(())
            }
            Err(e) => {
                if budgeted {
                    self.shared.carved.fetch_sub(1, Ordering::Relaxed);
                }
                Err(e.into())
            }
        }
    }

    fn carve_guarded(&self, slots: &mut ClassSlots, mode: GuardMode) -> io::Result<usize> {
        if slots.chunks.last().is_none_or(Chunk::is_full) {
            let chunk = self.map_chunk(slots.chunks.len())?;
            slots.chunks.push(chunk);
        }
        let ClassSlots { free, chunks } = slots;
        let chunk = chunks
            .last_mut()
            .expect("a chunk with room was just ensured");
        chunk.carve(mode, guard::MAX_BATCH, free)
    }

    /// Maps the `index`-th chunk of this class (sizes in the module docs).
    fn map_chunk(&self, index: usize) -> io::Result<Chunk> {
        let stride = self.guard + self.stack_size;
        let bytes = FIRST_CHUNK_BYTES << index.min(CHUNK_DOUBLINGS);
        let mut slots = (bytes / stride).max(1);
        loop {
            match Chunk::map(slots, self.guard, self.stack_size) {
                Err(e) if e.raw_os_error() == Some(libc::ENOMEM) && slots > 1 => slots /= 2,
                result => return result,
            }
        }
    }
}

/// Takes one unit of the VMA budget; `false` if it is exhausted.
fn take_budget(carved: &AtomicUsize, budget: usize) -> bool {
    carved
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
            (n < budget).then_some(n + 1)
        })
        .is_ok()
}
