//! Installing a signal handler where the program has not chosen one.

/// Whether `signal` has its default action (a program that ignores or
/// handles it keeps its choice).
pub(crate) fn is_default(signal: libc::c_int) -> bool {
    // SAFETY: an all-zero sigaction is a valid value to query into.
    let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: with a null new action, sigaction only writes `current`.
    let rc = unsafe { libc::sigaction(signal, std::ptr::null(), &mut current) };
    rc == 0 && current.sa_sigaction == libc::SIG_DFL
}

/// Installs `handler` for `signal` (restarting interrupted system calls,
/// on the alternate signal stack); returns whether it was installed.
///
/// # Safety
/// `handler` does only async-signal-safe work.
pub(crate) unsafe fn install(signal: libc::c_int, handler: extern "C" fn(libc::c_int)) -> bool {
    // SAFETY: an all-zero sigaction is a valid value (no flags, empty
    // mask) for the fields set below to complete.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler as libc::sighandler_t;
    action.sa_flags = libc::SA_RESTART | libc::SA_ONSTACK;
    // SAFETY: a valid action for a catchable signal, whose handler is
    // async-signal-safe (the caller's contract); `sa_mask` was zeroed, so
    // it blocks no extra signal.
    unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) == 0 }
}
