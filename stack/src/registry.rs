//! The process-wide table of arena chunks that the overflow handler consults.
//!
//! A SIGSEGV handler may not lock, allocate or call into most of std, so the
//! fault-address-to-slot lookup reads a fixed static array of [`MAX_CHUNKS`]
//! entries made only of atomics. Each entry describes one arena chunk (the
//! address range of its slots, the slot stride, the guard size, the usable stack
//! size and where its owner records live) and is guarded by a sequence counter
//! (a seqlock): writers make the counter odd, update the fields, and make it even
//! again; the handler reads the counter, the fields, then the counter again, and
//! ignores the entry if it was odd or changed. The handler never waits, so it
//! cannot deadlock against a writer it interrupted on the same thread.
//!
//! Owner records ([`SlotOwner`]: goroutine id + spawn location) live in the first
//! pages of each chunk's own mapping, one 16-byte record per slot, so they are
//! lazily committed like the stacks and freed with the chunk.
//!
//! Entries are claimed with a CAS on a `claimed` flag and released when the
//! chunk is unmapped. A chunk is unregistered *before* it is unmapped, so a
//! fault in memory that is later mapped by someone else is never mistaken for a
//! goroutine overflow.

use std::panic::Location;
use std::ptr;
use std::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

/// Capacity of the table. Chunks grow to 64 GiB each (see `class.rs`), so this
/// covers far more address space than the 47-bit user half.
pub(crate) const MAX_CHUNKS: usize = 4096;

/// Who runs on a slot, for the overflow message. Zero-initialised memory is a
/// valid "no owner" record, which is what a fresh anonymous mapping provides.
#[repr(C)]
pub(crate) struct SlotOwner {
    goroutine: AtomicU64,
    spawned_at: AtomicPtr<Location<'static>>,
}

impl SlotOwner {
    pub(crate) fn set(&self, goroutine: u64, spawned_at: &'static Location<'static>) {
        self.goroutine.store(goroutine, Ordering::Relaxed);
        self.spawned_at
            .store(ptr::from_ref(spawned_at).cast_mut(), Ordering::Release);
    }

    pub(crate) fn clear(&self) {
        self.spawned_at.store(ptr::null_mut(), Ordering::Release);
        self.goroutine.store(0, Ordering::Relaxed);
    }

    /// The recorded owner, if any. Async-signal-safe: two atomic loads.
    fn get(&self) -> Option<(u64, &'static Location<'static>)> {
        let at = self.spawned_at.load(Ordering::Acquire);
        // SAFETY: a non-null value was stored from a `&'static Location` in `set`.
        let at = unsafe { at.as_ref() }?;
        Some((self.goroutine.load(Ordering::Relaxed), at))
    }
}

/// Geometry of one registered chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkInfo {
    /// Address of slot 0 (its guard).
    pub(crate) slots_start: usize,
    /// One past the last slot.
    pub(crate) slots_end: usize,
    /// Distance between consecutive slots (guard + stack).
    pub(crate) stride: usize,
    /// Guard bytes at the bottom of each slot.
    pub(crate) guard: usize,
    /// Usable stack bytes above the guard.
    pub(crate) stack_size: usize,
    /// Address of the `SlotOwner` array, one record per slot.
    pub(crate) owners: usize,
}

/// What the overflow handler learns about a fault inside a guard.
pub(crate) struct GuardHit {
    pub(crate) stack_size: usize,
    pub(crate) owner: Option<(u64, &'static Location<'static>)>,
}

struct Entry {
    claimed: AtomicBool,
    seq: AtomicUsize,
    slots_start: AtomicUsize,
    slots_end: AtomicUsize,
    stride: AtomicUsize,
    guard: AtomicUsize,
    stack_size: AtomicUsize,
    owners: AtomicUsize,
}

impl Entry {
    const fn new() -> Entry {
        Entry {
            claimed: AtomicBool::new(false),
            seq: AtomicUsize::new(0),
            slots_start: AtomicUsize::new(0),
            slots_end: AtomicUsize::new(0),
            stride: AtomicUsize::new(0),
            guard: AtomicUsize::new(0),
            stack_size: AtomicUsize::new(0),
            owners: AtomicUsize::new(0),
        }
    }

    /// Seqlock write of all fields; only the claimer of the entry writes.
    fn write(&self, info: &ChunkInfo) {
        self.seq.fetch_add(1, Ordering::Relaxed);
        fence(Ordering::Release);
        self.slots_start.store(info.slots_start, Ordering::Relaxed);
        self.slots_end.store(info.slots_end, Ordering::Relaxed);
        self.stride.store(info.stride, Ordering::Relaxed);
        self.guard.store(info.guard, Ordering::Relaxed);
        self.stack_size.store(info.stack_size, Ordering::Relaxed);
        self.owners.store(info.owners, Ordering::Relaxed);
        self.seq.fetch_add(1, Ordering::Release);
    }

    /// Seqlock read; `None` if a write is in progress or happened meanwhile.
    fn read(&self) -> Option<ChunkInfo> {
        let before = self.seq.load(Ordering::Acquire);
        if before % 2 == 1 {
            return None;
        }
        let info = ChunkInfo {
            slots_start: self.slots_start.load(Ordering::Relaxed),
            slots_end: self.slots_end.load(Ordering::Relaxed),
            stride: self.stride.load(Ordering::Relaxed),
            guard: self.guard.load(Ordering::Relaxed),
            stack_size: self.stack_size.load(Ordering::Relaxed),
            owners: self.owners.load(Ordering::Relaxed),
        };
        fence(Ordering::Acquire);
        (self.seq.load(Ordering::Relaxed) == before).then_some(info)
    }
}

static ENTRIES: [Entry; MAX_CHUNKS] = [const { Entry::new() }; MAX_CHUNKS];
/// One past the highest entry ever claimed: bounds the handler's scan.
static HIGH_WATER: AtomicUsize = AtomicUsize::new(0);

/// A published chunk; dropping it unpublishes the chunk.
#[derive(Debug)]
pub(crate) struct Registration {
    index: usize,
}

/// Publishes a chunk to the overflow handler; `None` if the table is full.
pub(crate) fn register(info: ChunkInfo) -> Option<Registration> {
    let index = ENTRIES.iter().position(|e| {
        e.claimed
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    })?;
    ENTRIES[index].write(&info);
    HIGH_WATER.fetch_max(index + 1, Ordering::Release);
    Some(Registration { index })
}

impl Drop for Registration {
    fn drop(&mut self) {
        let entry = &ENTRIES[self.index];
        entry.write(&ChunkInfo {
            slots_start: 0,
            slots_end: 0,
            stride: 0,
            guard: 0,
            stack_size: 0,
            owners: 0,
        });
        entry.claimed.store(false, Ordering::Release);
    }
}

/// If `addr` lies in the guard of a slot of a registered chunk, describes that
/// slot. Async-signal-safe: only atomic loads, no locks, no allocation.
pub(crate) fn find_guard_hit(addr: usize) -> Option<GuardHit> {
    let high = HIGH_WATER.load(Ordering::Acquire).min(MAX_CHUNKS);
    ENTRIES[..high].iter().find_map(|entry| {
        let info = entry.read()?;
        if info.stride == 0 || addr < info.slots_start || addr >= info.slots_end {
            return None;
        }
        let offset = addr - info.slots_start;
        if offset % info.stride >= info.guard {
            return None;
        }
        let slot = offset / info.stride;
        let record = info.owners + slot * size_of::<SlotOwner>();
        // SAFETY: `owners` points at one zero-initialised (hence valid) record per
        // slot in the chunk's mapping, which stays mapped while the chunk is
        // registered; `slot` is below the slot count because `addr < slots_end`.
        let owner = unsafe { &*(record as *const SlotOwner) };
        Some(GuardHit {
            stack_size: info.stack_size,
            owner: owner.get(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_hits_only_guards_of_registered_chunks() {
        let owners: Box<[SlotOwner]> = (0..4)
            .map(|_| SlotOwner {
                goroutine: AtomicU64::new(0),
                spawned_at: AtomicPtr::new(ptr::null_mut()),
            })
            .collect();
        let here = Location::caller();
        owners[2].set(7, here);
        // Fake geometry far above any real mapping; nothing is dereferenced but
        // the owner records.
        let start = 0x7000_0000_0000;
        let info = ChunkInfo {
            slots_start: start,
            slots_end: start + 4 * 0x5000,
            stride: 0x5000,
            guard: 0x1000,
            stack_size: 0x4000,
            owners: owners.as_ptr() as usize,
        };
        let registration = register(info).unwrap();
        let hit = find_guard_hit(start + 2 * 0x5000 + 0xff8).unwrap();
        assert_eq!(hit.stack_size, 0x4000);
        assert_eq!(
            hit.owner.map(|(g, at)| (g, at.line())),
            Some((7, here.line()))
        );
        assert!(find_guard_hit(start + 0x10).unwrap().owner.is_none());
        assert!(find_guard_hit(start + 0x1000).is_none(), "stack, not guard");
        assert!(
            find_guard_hit(start + 4 * 0x5000).is_none(),
            "past the chunk"
        );
        assert!(find_guard_hit(start - 1).is_none(), "below the chunk");
        owners[2].clear();
        assert!(find_guard_hit(start + 2 * 0x5000).unwrap().owner.is_none());
        drop(registration);
        assert!(find_guard_hit(start + 2 * 0x5000).is_none(), "unregistered");
    }
}
