//! Arena chunks: large lazily committed reservations carved into stack slots.
//!
//! Layout of one chunk (addresses grow to the right, stacks grow to the left):
//!
//! ```text
//! | owner records | guard | stack 0 | guard | stack 1 | ... | guard | stack n-1 |
//!   (16 B/slot)   ^ slot 0          ^ slot 1 = slot 0 + stride (guard + stack)
//! ```
//!
//! A chunk is a single `mmap(PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
//! MAP_NORESERVE | MAP_STACK)`: one VMA however many slots it holds, no commit
//! charge (outside overcommit mode 2), and no memory until a page is touched.
//! Right after mapping we `madvise(MADV_NOHUGEPAGE)` the whole chunk: with
//! transparent huge pages active, the first touch of a 4 MiB stack would
//! otherwise instantiate a 2 MiB huge page (measured: 2048 KiB RSS per
//! goroutine). `MAP_STACK` implies the same on recent kernels; we do not rely on
//! it.
//!
//! Slots are carved out in address order, each one exactly once: carving installs
//! the slot's guard (see `guard.rs`), for up to 32 slots in one system call
//! where the kernel allows. Slots are never unmapped individually;
//! a freed slot keeps its guard and its committed pages and goes back to its
//! size class's free list. The chunk is unpublished from the overflow registry
//! and unmapped as a whole when its size class is dropped, which happens only
//! after every stack carved from it has been returned.

use std::io;
use std::ptr::NonNull;

use crate::guard::{self, GuardMode};
use crate::registry::{self, ChunkInfo, Registration, SlotOwner};
use crate::sys;

/// One mapped, registered chunk of equally sized slots.
#[derive(Debug)]
pub(crate) struct Chunk {
    map_start: usize,
    map_len: usize,
    info: ChunkInfo,
    slots: usize,
    carved: usize,
    // Unpublishes the chunk in `Drop`, before the unmap.
    registration: Option<Registration>,
}

/// A carved slot: the address of its guard (the stack's `limit()`) and its owner
/// record in the chunk header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    pub(crate) limit: usize,
    pub(crate) owner: NonNull<SlotOwner>,
}

// SAFETY: `owner` points at a record made only of atomics, inside a chunk mapping
// that outlives every `Slot` (the size class owning the chunk is kept alive by
// each stack, and free slots are stored inside the class). Sharing or moving
// the address between threads is therefore harmless.
unsafe impl Send for Slot {}
// SAFETY: `&Slot` only exposes the addresses and the atomic operations of the
// `owner` record, which lives in a chunk mapping that outlives every `Slot`.
unsafe impl Sync for Slot {}

impl Chunk {
    /// Maps a chunk of `slots` slots of `guard + stack_size` bytes each and
    /// publishes it to the overflow registry.
    pub(crate) fn map(slots: usize, guard: usize, stack_size: usize) -> io::Result<Chunk> {
        let stride = guard + stack_size;
        let too_big = || {
            io::Error::new(
                io::ErrorKind::OutOfMemory,
                "goro-stack: arena chunk too large",
            )
        };
        let header = slots
            .checked_mul(size_of::<SlotOwner>())
            .and_then(sys::round_up_to_page)
            .ok_or_else(too_big)?;
        let map_len = slots
            .checked_mul(stride)
            .and_then(|s| s.checked_add(header))
            .ok_or_else(too_big)?;
        let map_start = sys::map_anonymous(
            map_len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_NORESERVE | libc::MAP_STACK,
        )?;
        // SAFETY: the mapping was just created and holds no data yet. EINVAL means a
        // kernel without THP support, where there is no huge-page hazard to avoid.
        if let Err(e) = unsafe { sys::madvise(map_start, map_len, libc::MADV_NOHUGEPAGE) } {
            debug_assert_eq!(e.raw_os_error(), Some(libc::EINVAL), "MADV_NOHUGEPAGE: {e}");
        }
        let mut chunk = Chunk {
            map_start,
            map_len,
            info: ChunkInfo {
                slots_start: map_start + header,
                slots_end: map_start + map_len,
                stride,
                guard,
                stack_size,
                owners: map_start,
            },
            slots,
            carved: 0,
            registration: None,
        };
        // On failure `chunk` drops here and unmaps the memory.
        chunk.registration = Some(registry::register(chunk.info).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::OutOfMemory,
                "goro-stack: too many arena chunks for the overflow registry",
            )
        })?);
        Ok(chunk)
    }

    /// Whether every slot has been carved already.
    pub(crate) fn is_full(&self) -> bool {
        self.carved == self.slots
    }

    /// Carves up to `max` never-used slots (at least one, fewer if the chunk
    /// has fewer left or the kernel takes one guard at a time), installing
    /// their guards in `mode`, and pushes them onto `out` highest address
    /// first, so that popping hands them out in address order; returns how
    /// many. On error nothing is carved and the chunk is unchanged.
    pub(crate) fn carve(
        &mut self,
        mode: GuardMode,
        max: usize,
        out: &mut Vec<Slot>,
    ) -> io::Result<usize> {
        debug_assert!(!self.is_full());
        let first = self.carved;
        let mut guards = [0usize; guard::MAX_BATCH];
        let want = max.clamp(1, guard::MAX_BATCH).min(self.slots - first);
        for (i, g) in guards[..want].iter_mut().enumerate() {
            *g = self.info.slots_start + (first + i) * self.info.stride;
        }
        // SAFETY: each `limit..limit + guard` is the bottom of a slot of this
        // chunk that has never been handed out, so it holds no live data.
        let carved = unsafe { guard::install_many(mode, &guards[..want], self.info.guard)? };
        for (i, &limit) in guards[..carved].iter().enumerate().rev() {
            let owner = self.info.owners + (first + i) * size_of::<SlotOwner>();
            out.push(Slot {
                limit,
                // SAFETY: `owners` is the (non-null) start of this mapping.
                owner: unsafe { NonNull::new_unchecked(owner as *mut SlotOwner) },
            });
        }
        self.carved += carved;
        Ok(carved)
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        // Unpublish first: once unmapped, the range may be reused by anyone.
        drop(self.registration.take());
        // SAFETY: the chunk is dropped only by its size class once no stack carved
        // from it is alive (each `GuardedStack` holds the class alive), so nothing
        // references this memory any more.
        unsafe { sys::unmap(self.map_start, self.map_len) };
    }
}
