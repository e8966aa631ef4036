//! Transparent huge pages must not inflate stacks: with THP active on a range,
//! the first touch of a large stack could commit a whole 2 MiB page.
//!
//! The arena is `MADV_NOHUGEPAGE`, so even 4 MiB stacks (whose top 2 MiB holds
//! no guard marker that would prevent a huge page) commit one small page per
//! touch. A control mapping with `MADV_HUGEPAGE` shows that this machine would
//! otherwise hand out huge pages, i.e. that the test can fail.

#![deny(clippy::undocumented_unsafe_blocks)]

use corosensei::stack::Stack;
use goro_stack::{PoolConfig, StackPool};

const HUGE: usize = 2 << 20;

/// The smaps block of the mapping containing `addr`: `(VmFlags, AnonHugePages kB)`.
fn smaps_of(addr: usize) -> (String, usize) {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let mut inside = false;
    let (mut flags, mut anon_huge) = (String::new(), None);
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if let Some((start, end)) = first.split_once('-') {
            if let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            ) {
                if inside {
                    break;
                }
                inside = (start..end).contains(&addr);
                continue;
            }
        }
        if !inside {
            continue;
        }
        if let Some(rest) = line.strip_prefix("VmFlags:") {
            flags = rest.trim().to_owned();
        } else if let Some(rest) = line.strip_prefix("AnonHugePages:") {
            anon_huge = rest.split_whitespace().next().and_then(|v| v.parse().ok());
        }
    }
    (flags, anon_huge.expect("mapping found in smaps"))
}

fn thp_enabled() -> bool {
    std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
        .map(|s| !s.contains("[never]"))
        .unwrap_or(false)
}

#[test]
fn four_mib_stacks_commit_small_pages() {
    let pool = StackPool::new(PoolConfig::default()).unwrap();
    let stacks: Vec<_> = (0..32).map(|_| pool.alloc(4 << 20).unwrap()).collect();
    for stack in &stacks {
        // SAFETY: the address is inside the usable part of a stack we own.
        unsafe { std::ptr::write_volatile((stack.base().get() - 64) as *mut u64, 1) };
    }
    for stack in &stacks {
        let resident = stack.resident_bytes();
        assert!(
            resident <= 8 << 10,
            "{resident} bytes resident after touching one page"
        );
    }
    let (flags, anon_huge_kib) = smaps_of(stacks[0].base().get() - 1);
    assert!(
        flags.split_whitespace().any(|f| f == "nh"),
        "arena lacks VM_NOHUGEPAGE: {flags}"
    );
    assert_eq!(anon_huge_kib, 0);
}

#[test]
fn control_hugepage_range_would_get_a_huge_page() {
    if !thp_enabled() {
        eprintln!("skipped: THP is disabled on this system, there is no hazard to show");
        return;
    }
    let len = 2 * HUGE;
    // SAFETY: a fresh private anonymous mapping; nothing else refers to it.
    let map = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    assert_ne!(map, libc::MAP_FAILED);
    let aligned = (map as usize + HUGE - 1) & !(HUGE - 1);
    // SAFETY: advice on our own mapping; then one write inside it.
    unsafe {
        assert_eq!(libc::madvise(map, len, libc::MADV_HUGEPAGE), 0);
        std::ptr::write_volatile((aligned + HUGE - 64) as *mut u64, 1);
    }
    let (_, anon_huge_kib) = smaps_of(aligned);
    // SAFETY: unmaps the mapping created above.
    unsafe { libc::munmap(map, len) };
    assert_eq!(anon_huge_kib, 2048, "one touch committed a whole huge page");
}
