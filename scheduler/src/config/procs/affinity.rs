//! The CPUs this process may run on: the affinity mask of its main thread.
//!
//! Go counts the mask of the thread that asks (`sched_getaffinity(0)`).
//! goro asks for the main thread's mask (its thread id is the process id),
//! which is what `taskset -p PID` and `sched_setaffinity(pid)` change and
//! what new threads inherit from, whichever thread (sysmon, a goroutine)
//! asks. The mask buffer starts at 1024 CPUs and doubles while the kernel
//! says it is too small. When the mask cannot be read at all, the caller
//! falls back to the online CPU count ([`online_cpus`]).

/// Largest mask tried, in CPUs (the kernel's NR_CPUS is at most 8192).
const MAX_MASK_CPUS: usize = 1 << 16;

/// Number of CPUs in the main thread's affinity mask (the calling thread's
/// if the main thread has gone), or why it could not be read.
pub(crate) fn affinity_cpus() -> Result<usize, String> {
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() };
    mask_cpus(pid).or_else(|_| mask_cpus(0))
}

fn mask_cpus(pid: libc::pid_t) -> Result<usize, String> {
    let mut words = 1024 / 64;
    loop {
        let mut mask = vec![0u64; words];
        let bytes = mask.len() * 8;
        // SAFETY: the raw syscall writes at most `bytes` bytes into `mask`,
        // a live buffer of that size, and returns how many it wrote.
        let r =
            unsafe { libc::syscall(libc::SYS_sched_getaffinity, pid, bytes, mask.as_mut_ptr()) };
        if r >= 0 {
            let written = (r as usize).min(bytes).div_ceil(8);
            let n: u32 = mask[..written].iter().map(|w| w.count_ones()).sum();
            return match n {
                0 => Err("sched_getaffinity returned an empty mask".into()),
                n => Ok(n as usize),
            };
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EINVAL) && words * 64 < MAX_MASK_CPUS {
            words *= 2;
            continue;
        }
        return Err(format!("sched_getaffinity: {err}"));
    }
}

/// The number of online CPUs (the fallback when the mask is unreadable).
pub(crate) fn online_cpus() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).unwrap_or(1).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_is_within_online_cpus() {
        let n = affinity_cpus().expect("sched_getaffinity works on Linux");
        assert!(n >= 1 && n <= online_cpus(), "{n} of {}", online_cpus());
        // This test thread inherited the main thread's mask.
        assert_eq!(mask_cpus(0), Ok(n));
    }
}
