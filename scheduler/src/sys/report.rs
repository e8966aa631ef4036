//! Reporting to stderr: straight to fd 2, and Go's `fatal error`.

/// Writes `text` to fd 2 in as few `write`s as it takes. Straight to the
/// fd: std's stderr may be captured (test harnesses pass their capture on
/// to spawned threads) and lost when the process then ends.
pub(crate) fn write_stderr(text: &str) {
    let mut rest = text.as_bytes();
    while !rest.is_empty() {
        // SAFETY: writes at most `rest.len()` initialized bytes of a live buffer.
        let n = unsafe { libc::write(2, rest.as_ptr().cast(), rest.len()) };
        if n <= 0 {
            return;
        }
        rest = &rest[n as usize..];
    }
}

/// Reports an unrecoverable runtime error the way Go does and aborts.
#[cold]
pub(crate) fn fatal(args: std::fmt::Arguments<'_>) -> ! {
    write_stderr(&format!("fatal error: goro: {args}\n"));
    std::process::abort()
}
