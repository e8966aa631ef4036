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
//!    1/32 of the guard system calls (docs/benchmarks.md, "Why these constants");
//! 3. map a new chunk. Chunk sizes start at 1 GiB of address space and double
//!    per chunk up to 64 GiB, so a million goroutines need a handful of chunks
//!    (VMAs) whatever the stack size; every chunk has at least one slot. If the
//!    kernel refuses the reservation (overcommit mode 2 ignores
//!    `MAP_NORESERVE`), the request is halved until it fits.
//!
//! The free list and the chunks have separate locks. Steps 2 and 3 (system
//! calls) run under the chunks' lock only, so that while one thread carves,
//! others still pop and push free slots; a thread that finds the free list
//! empty while another carves waits for that carve and takes one of its
//! slots. With one lock for both, two Ms starting goroutines at once (park_mem
//! at 2 Ps) waited on each other's `process_madvise` calls: 11,000 futex calls
//! for 100,000 goroutines, and no gain from the second P.
//!
//! Carving also starts *before* the list runs dry, so that such waits are
//! rare: the free list keeps released slots and carved, never-used ones
//! apart, and a take that leaves fewer than [`REFILL_BELOW`] carved slots
//! carves the next batch then, unless another thread carves already (it
//! does not wait for the lock). Reusing released slots never carves, and a
//! class holds at most a batch and [`REFILL_BELOW`] carved slots more than
//! it ever had live. With the waits left to the rare take that finds both
//! lists empty, park_mem at 2 Ps makes a tenth of the futex calls it made
//! and is level with Go (docs/benchmarks.md, `park_mem`).
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
/// A take that leaves fewer carved slots than this carves the next batch.
pub(crate) const REFILL_BELOW: usize = guard::MAX_BATCH / 2;

/// All stacks of one usable size.
#[derive(Debug)]
pub(crate) struct SizeClass {
    pub(crate) shared: Arc<PoolShared>,
    pub(crate) stack_size: usize,
    pub(crate) guard: usize,
    /// Slots ready to hand out.
    free: Mutex<FreeSlots>,
    /// Held while carving (see the module docs).
    chunks: Mutex<Vec<Chunk>>,
}

impl SizeClass {
    pub(crate) fn new(shared: Arc<PoolShared>, stack_size: usize, guard: usize) -> SizeClass {
        SizeClass {
            shared,
            stack_size,
            guard,
            free: Mutex::default(),
            chunks: Mutex::default(),
        }
    }

    /// A slot of this class, reused if possible. Counts it as live.
    pub(crate) fn take(&self) -> Result<Slot, StackError> {
        let popped = lock(&self.free).pop(); // the guard drops here
        let slot = match popped {
            Some((slot, carved_left)) => {
                if carved_left.is_some_and(|n| n < REFILL_BELOW) {
                    self.refill_ahead();
                }
                slot
            }
            None => self.take_carved()?,
        };
        self.shared.live.fetch_add(1, Ordering::Relaxed);
        Ok(slot)
    }

    /// Returns a slot taken from this class. No system call.
    pub(crate) fn give_back(&self, slot: Slot) {
        lock(&self.free).released.push(slot);
        self.shared.live.fetch_sub(1, Ordering::Relaxed);
    }

    /// A slot carved for the caller, the rest of the batch going to the
    /// free list; or one that another thread carved while we waited.
    fn take_carved(&self) -> Result<Slot, StackError> {
        let mut chunks = lock(&self.chunks);
        let popped = lock(&self.free).pop();
        if let Some((slot, _)) = popped {
            return Ok(slot);
        }
        let mut carved = Vec::with_capacity(guard::MAX_BATCH);
        self.carve(&mut chunks, &mut carved)?;
        drop(chunks);
        // Carved highest first: the lowest is ours, the next lowest on top.
        let slot = carved.pop().expect("carving adds at least one slot");
        lock(&self.free).carved.append(&mut carved);
        Ok(slot)
    }

    /// Carves a batch onto the free list while carved slots are left,
    /// unless another thread carves already (see the module docs). An
    /// error is left for the take that finds the list empty to report.
    fn refill_ahead(&self) {
        let Ok(mut chunks) = self.chunks.try_lock() else {
            return;
        };
        if lock(&self.free).carved.len() >= REFILL_BELOW {
            return;
        }
        let mut carved = Vec::with_capacity(guard::MAX_BATCH);
        if self.carve(&mut chunks, &mut carved).is_ok() {
            drop(chunks);
            // Below the slots left: handed out in address order.
            let mut free = lock(&self.free);
            carved.append(&mut free.carved);
            free.carved = carved;
        }
    }

    /// Carves at least one slot into `out`.
    fn carve(&self, chunks: &mut Vec<Chunk>, out: &mut Vec<Slot>) -> Result<(), StackError> {
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
        match self.carve_guarded(chunks, mode, out) {
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

    fn carve_guarded(
        &self,
        chunks: &mut Vec<Chunk>,
        mode: GuardMode,
        out: &mut Vec<Slot>,
    ) -> io::Result<usize> {
        if chunks.last().is_none_or(Chunk::is_full) {
            let chunk = self.map_chunk(chunks.len())?;
            chunks.push(chunk);
        }
        let chunk = chunks
            .last_mut()
            .expect("a chunk with room was just ensured");
        chunk.carve(mode, guard::MAX_BATCH, out)
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

/// A size class's free slots: released ones (pages committed, handed out
/// first) and carved ones no stack has used yet.
#[derive(Debug, Default)]
struct FreeSlots {
    released: Vec<Slot>,
    carved: Vec<Slot>,
}

impl FreeSlots {
    /// The next slot, and how many carved ones are left if it was carved.
    fn pop(&mut self) -> Option<(Slot, Option<usize>)> {
        if let Some(slot) = self.released.pop() {
            return Some((slot, None));
        }
        let slot = self.carved.pop()?;
        Some((slot, Some(self.carved.len())))
    }
}

/// Locks `m`. Every critical section here leaves its data consistent, so a
/// panic elsewhere while it was held cannot have broken it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Takes one unit of the VMA budget; `false` if it is exhausted.
fn take_budget(carved: &AtomicUsize, budget: usize) -> bool {
    carved
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
            (n < budget).then_some(n + 1)
        })
        .is_ok()
}
