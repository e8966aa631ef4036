//! Thin wrappers over Linux `futex(2)`: the one primitive every sleeping M,
//! sysmon and plain-thread parker in goro blocks on.
//!
//! A futex word is an `AtomicU32`; `wait` sleeps only while the word still
//! holds the expected value (so a wake between the check and the sleep is
//! never lost) and may return spuriously; callers loop on their own state.

use std::sync::atomic::AtomicU32;
use std::time::Duration;

/// Sleeps while `*word == expected`, for at most `timeout` (forever if `None`).
pub(crate) fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
    let ts = timeout.map(|d| libc::timespec {
        tv_sec: d.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: d.subsec_nanos() as libc::c_long,
    });
    let ts_ptr = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word` is a valid, aligned u32 for the duration of the call and
    // `ts_ptr` is null or points to a timespec that outlives the call.
    // FUTEX_WAIT only reads the word; EINTR/EAGAIN/ETIMEDOUT are all fine
    // because callers re-check their state in a loop.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            ts_ptr,
        );
    }
}

/// Wakes up to `n` threads sleeping on `word`.
pub(crate) fn wake(word: &AtomicU32, n: i32) {
    // SAFETY: FUTEX_WAKE only uses the address as a key; `word` is valid.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            n,
        );
    }
}
