//! Recycled memory for task cells (Go keeps freed Gs on per-P lists the
//! same way).
//!
//! Every spawn allocates one task cell, and in the common fan-out shape the
//! spawning M allocates it while another M (which stole the task) frees it.
//! glibc serves that badly: the freeing thread's cache fills up, the chunks
//! go back to the allocating thread's arena under its lock, and the
//! allocating thread refills by walking a list of chunks that are all in the
//! other core's cache. A spawn-and-join loop over two Ms spent a third of
//! its time in malloc and free, and under load from other processes (a
//! preempted lock holder) twice as long.
//!
//! So cells up to [`BLOCK_SIZE`] bytes live in fixed-size blocks:
//! - each M keeps a small stack of free blocks (`BlockCache`, in its
//!   `MLocal`); a spawn pops one, a finished task pushes its own back;
//! - a cache that grows past `LOCAL_MAX` hands a batch of `BATCH` blocks to
//!   the runtime's shared stash, and an empty one takes a batch from there,
//!   so blocks flow from the Ms that free to the Ms that spawn in one locked
//!   step per `BATCH` tasks; the stash keeps at most `STASH_MAX` batches and
//!   gives the rest back to the allocator;
//! - outside a worker (plain threads, helpers) blocks come from and go to
//!   the global allocator directly. Every block is allocated with the same
//!   layout, so any block may end up in any cache or be freed anywhere.
//!
//! Larger cells (closures capturing more than about 40 bytes) use the
//! global allocator.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;

use crate::sched::current;
use crate::sys::lock::Lock;

/// Bytes in a block: a cell header plus a closure of a few words.
pub(crate) const BLOCK_SIZE: usize = 128;
const BLOCK_ALIGN: usize = 16;
const LOCAL_MAX: usize = 256;
const BATCH: usize = 64;
const STASH_MAX: usize = 64;

const fn block_layout() -> Layout {
    match Layout::from_size_align(BLOCK_SIZE, BLOCK_ALIGN) {
        Ok(l) => l,
        Err(_) => panic!("bad block layout"),
    }
}

fn fits(layout: Layout) -> bool {
    layout.size() <= BLOCK_SIZE && layout.align() <= BLOCK_ALIGN
}

/// Allocates memory for a task cell of `layout` (non-zero size).
pub(crate) fn alloc_cell(layout: Layout) -> NonNull<u8> {
    if fits(layout) {
        if let Some(l) = current::m() {
            if let Some(b) = l.blocks.take(l.sched.spare_blocks()) {
                return b.into_raw();
            }
        }
        return alloc_raw(block_layout());
    }
    alloc_raw(layout)
}

/// Frees memory from [`alloc_cell`] with the same `layout`.
///
/// # Safety
/// `ptr` came from `alloc_cell(layout)`, its contents are dropped, and it
/// is not used again.
pub(crate) unsafe fn free_cell(ptr: NonNull<u8>, layout: Layout) {
    if !fits(layout) {
        // SAFETY: allocated by `alloc_raw(layout)` (caller's contract).
        unsafe { dealloc(ptr.as_ptr(), layout) };
        return;
    }
    match current::m() {
        Some(l) => l.blocks.give(Block(ptr), l.sched.spare_blocks()),
        // SAFETY: every block is allocated with `block_layout()`.
        None => unsafe { dealloc(ptr.as_ptr(), block_layout()) },
    }
}

fn alloc_raw(layout: Layout) -> NonNull<u8> {
    // SAFETY: task cells are never zero-sized (they hold a header).
    NonNull::new(unsafe { alloc(layout) }).unwrap_or_else(|| handle_alloc_error(layout))
}

/// A free block: `BLOCK_SIZE` bytes of raw memory from `block_layout()`.
pub(crate) struct Block(NonNull<u8>);

// SAFETY: a free block is plain memory that nothing references.
unsafe impl Send for Block {}

impl Block {
    /// Hands the memory to a task cell (whose `free_cell` gives it back).
    fn into_raw(self) -> NonNull<u8> {
        std::mem::ManuallyDrop::new(self).0
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        // SAFETY: allocated with `block_layout()`, owned by this value.
        unsafe { dealloc(self.0.as_ptr(), block_layout()) };
    }
}

/// The runtime's shared stash of block batches.
pub(crate) type Stash = Lock<Vec<Vec<Block>>>;

/// One M's free blocks.
#[derive(Default)]
pub(crate) struct BlockCache {
    blocks: std::cell::RefCell<Vec<Block>>,
}

impl BlockCache {
    fn take(&self, stash: &Stash) -> Option<Block> {
        let mut blocks = self.blocks.borrow_mut();
        if blocks.is_empty() {
            let batch = stash.lock().pop()?;
            *blocks = batch;
        }
        blocks.pop()
    }

    fn give(&self, b: Block, stash: &Stash) {
        let mut blocks = self.blocks.borrow_mut();
        blocks.push(b);
        if blocks.len() >= LOCAL_MAX {
            let batch = blocks.split_off(LOCAL_MAX - BATCH);
            drop(blocks);
            let mut stash = stash.lock();
            if stash.len() < STASH_MAX {
                stash.push(batch);
            } else {
                drop(stash);
                drop(batch);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_flow_through_the_stash() {
        let stash = Stash::default();
        let (freer, spawner) = (BlockCache::default(), BlockCache::default());
        for _ in 0..LOCAL_MAX {
            freer.give(Block(alloc_raw(block_layout())), &stash);
        }
        assert_eq!(stash.lock().len(), 1);
        assert_eq!(freer.blocks.borrow().len(), LOCAL_MAX - BATCH);
        for _ in 0..BATCH {
            assert!(spawner.take(&stash).is_some());
        }
        assert!(spawner.take(&stash).is_none());
    }

    #[test]
    fn stash_is_bounded() {
        let stash = Stash::default();
        let freer = BlockCache::default();
        for _ in 0..LOCAL_MAX + BATCH * (STASH_MAX + 3) {
            freer.give(Block(alloc_raw(block_layout())), &stash);
        }
        assert_eq!(stash.lock().len(), STASH_MAX);
    }

    #[test]
    fn only_small_cells_use_blocks() {
        assert!(fits(Layout::new::<[u64; 16]>()));
        assert!(!fits(Layout::new::<[u64; 17]>()));
        assert!(!fits(Layout::from_size_align(64, 64).unwrap()));
    }
}
