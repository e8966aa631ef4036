//! The only way the stack walk reads memory: whole aligned words inside
//! one range, the part of a parked goroutine's stack above its park frame.
//! An address outside it (a corrupt or misread frame, a walk that reached
//! the M's stack through corosensei's trampoline) is refused, which ends
//! the walk; nothing the unwinder computes can make it fault.

// Targets without an unwinder build readers that nothing reads through.
#![cfg_attr(
    not(all(target_arch = "x86_64", target_os = "linux")),
    allow(dead_code)
)]

/// Reads 8-byte words in `[low, high)`.
pub(crate) struct StackReader {
    low: u64,
    high: u64,
}

impl StackReader {
    /// # Safety
    /// `[low, high)` stays mapped and readable while the reader lives, and
    /// no thread writes the words the walk reads meanwhile (see the
    /// `stackwalk` module doc).
    pub(crate) unsafe fn new(low: usize, high: usize) -> StackReader {
        StackReader {
            low: low as u64,
            high: high as u64,
        }
    }

    /// The word at `addr`, or `Err` if it is not wholly inside the range
    /// or not aligned.
    pub(crate) fn read(&self, addr: u64) -> Result<u64, ()> {
        let end = addr.checked_add(8).ok_or(())?;
        if !addr.is_multiple_of(8) || addr < self.low || end > self.high {
            return Err(());
        }
        // SAFETY: the word lies inside the range `new` vouches for, and is
        // aligned.
        Ok(unsafe { std::ptr::read_volatile(addr as usize as *const u64) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_aligned_words_inside_the_range() {
        let words = [11u64, 22, 33, 44];
        let base = words.as_ptr() as u64;
        // The middle two words only.
        // SAFETY: `words` outlives the reader and is not written.
        let r = unsafe { StackReader::new(base as usize + 8, base as usize + 24) };
        assert_eq!(r.read(base + 8), Ok(22));
        assert_eq!(r.read(base + 16), Ok(33));
        assert_eq!(r.read(base), Err(()), "below the range");
        assert_eq!(r.read(base + 24), Err(()), "at the end");
        assert_eq!(r.read(base + 20), Err(()), "unaligned, crossing the end");
        assert_eq!(r.read(base + 12), Err(()), "unaligned");
        assert_eq!(r.read(u64::MAX - 7), Err(()), "wrapping");
        assert_eq!(r.read(0), Err(()));
        // An empty range reads nothing.
        // SAFETY: reads nothing.
        let empty = unsafe { StackReader::new(base as usize, base as usize) };
        assert_eq!(empty.read(base), Err(()));
    }
}
