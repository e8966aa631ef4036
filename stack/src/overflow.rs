//! Stack-overflow reporting for goroutines.
//!
//! Rust's std installs SIGSEGV/SIGBUS handlers that recognise only the guard
//! page of the *current OS thread*; a goroutine hitting its slot's guard would
//! die as a bare "Segmentation fault". [`install_overflow_handler`] puts our
//! handler in front of std's:
//!
//! 1. Installed once per process with `SA_SIGINFO | SA_ONSTACK`, so it runs on
//!    the thread's alternate signal stack (the overflowed stack has no room; see
//!    [`crate::ensure_signal_stack`]). Deliberately *without* `SA_NODEFER`: the
//!    signal stays blocked while the handler runs, so a fault inside the handler
//!    kills the process at once instead of recursing on the small alt stack.
//! 2. The fault address (`si_addr`) is looked up in the lock-free chunk
//!    registry (`registry.rs`). `si_code` is not filtered: guard markers raise
//!    `SEGV_MAPERR`, `PROT_NONE` guards `SEGV_ACCERR`. Rust's stack probes make
//!    any frame larger than a page touch its pages in order, so an overflowing
//!    Rust frame faults inside a one-page guard rather than jumping over it.
//! 3. A hit prints exactly one line with a single `write(2)` and then
//!    `abort()`s, like Go's `fatal error: stack overflow` and Rust's thread
//!    overflow. Only async-signal-safe operations are used: atomic loads, a
//!    fixed stack buffer with hand-formatted numbers, `write`, `abort`. No
//!    allocation, no locks, no `std::io`, no `format!`.
//! 4. Any other fault is passed to the previous handler (std's, which still
//!    prints "thread '...' has overflowed its stack" for thread stacks). If there
//!    was none, the default action is restored and the handler returns, so the
//!    faulting instruction re-executes and the process dies with SIGSEGV as it
//!    would have without us.
//!
//! Overflow is fatal: unwinding out of a signal handler is not possible, and
//! corosensei's trap API would skip destructors and leave locks held.

use std::ptr;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::Once;

use crate::registry::{self, GuardHit};

/// The previous disposition of one signal, kept in atomics because the handler
/// may read it while `install_overflow_handler` is still writing it.
struct Previous {
    handler: AtomicUsize,
    flags: AtomicI32,
}

impl Previous {
    const fn new() -> Previous {
        Previous {
            handler: AtomicUsize::new(libc::SIG_DFL),
            flags: AtomicI32::new(0),
        }
    }

    fn save(&self, action: &libc::sigaction) {
        self.flags.store(action.sa_flags, Ordering::Relaxed);
        self.handler.store(action.sa_sigaction, Ordering::Release);
    }
}

/// Signals we handle: index 0 is SIGSEGV, 1 is SIGBUS.
const SIGNALS: [libc::c_int; 2] = [libc::SIGSEGV, libc::SIGBUS];
static PREVIOUS: [Previous; 2] = [Previous::new(), Previous::new()];

/// Installs (once per process; later calls do nothing) the SIGSEGV and SIGBUS
/// handlers that report goroutine stack overflows and chain every other fault
/// to the handlers that were installed before (normally std's).
///
/// A thread that runs goroutines also needs an alternate signal stack, see
/// [`crate::ensure_signal_stack`].
pub fn install_overflow_handler() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        for (signal, previous) in SIGNALS.into_iter().zip(&PREVIOUS) {
            let mut current = no_action();
            // SAFETY: with a null new action, sigaction() only writes the current
            // action into `current`, a valid `sigaction` value.
            let rc = unsafe { libc::sigaction(signal, ptr::null(), &mut current) };
            assert_eq!(rc, 0, "sigaction({signal}) query failed");
            // Save before installing, so the handler never lacks a predecessor.
            previous.save(&current);

            let mut ours = no_action();
            ours.sa_sigaction = on_fault as *const () as usize;
            ours.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            let mut replaced = no_action();
            // SAFETY: `ours` is a complete action (empty mask) whose handler has
            // the SA_SIGINFO signature and is async-signal-safe; `replaced`
            // receives the action it displaces.
            let rc = unsafe { libc::sigaction(signal, &ours, &mut replaced) };
            assert_eq!(rc, 0, "sigaction({signal}) install failed");
            // Someone may have changed the action between our two calls; chain
            // to whatever we actually displaced.
            if replaced.sa_sigaction != current.sa_sigaction
                || replaced.sa_flags != current.sa_flags
            {
                previous.save(&replaced);
            }
        }
    });
}

/// `SIG_DFL` with an empty mask and no flags.
fn no_action() -> libc::sigaction {
    // SAFETY: `sigaction` is a plain C struct for which all-zero bytes are valid:
    // handler SIG_DFL (0), no flags, and an empty signal set (glibc's sigset_t is
    // a bit array, so zero is what sigemptyset() produces).
    unsafe { std::mem::zeroed() }
}

/// The signal handler. Async-signal-safe throughout.
extern "C" fn on_fault(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: for an SA_SIGINFO handler the kernel passes a valid siginfo_t, and
    // si_addr is defined for SIGSEGV and SIGBUS, the only signals routed here.
    let addr = unsafe { (*info).si_addr() } as usize;
    if let Some(hit) = registry::find_guard_hit(addr) {
        report(&hit);
        // SAFETY: abort() is async-signal-safe and has no preconditions.
        unsafe { libc::abort() };
    }
    chain(signal, info, context);
}

/// Passes a fault that is not a goroutine overflow to the previous handler.
fn chain(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let previous = &PREVIOUS[usize::from(signal == libc::SIGBUS)];
    let handler = previous.handler.load(Ordering::Acquire);
    let flags = previous.flags.load(Ordering::Relaxed);
    if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
        // A synchronous fault cannot be ignored; restore the default action and
        // return, so the instruction faults again and the kernel applies it.
        let default = no_action();
        // SAFETY: sigaction() is async-signal-safe; `default` is a valid action.
        unsafe { libc::sigaction(signal, &default, ptr::null_mut()) };
    } else if flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous action was installed with SA_SIGINFO, so its
        // handler has this signature; we call it exactly as the kernel would.
        let previous: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            unsafe { std::mem::transmute::<usize, _>(handler) };
        previous(signal, info, context);
    } else {
        // SAFETY: without SA_SIGINFO the handler has the one-argument signature.
        let previous: extern "C" fn(libc::c_int) =
            unsafe { std::mem::transmute::<usize, _>(handler) };
        previous(signal);
    }
}

/// Writes `goroutine 17 stack overflow (stack limit 256 KiB, spawned at
/// src/main.rs:12); raise GORO_STACK_SIZE` to stderr with one `write(2)`.
fn report(hit: &GuardHit) {
    let mut line = Line::new();
    line.push(b"goroutine ");
    match hit.owner {
        Some((goroutine, _)) => line.push_decimal(goroutine),
        None => line.push(b"?"),
    }
    line.push(b" stack overflow (stack limit ");
    line.push_decimal((hit.stack_size >> 10) as u64);
    line.push(b" KiB, spawned at ");
    match hit.owner {
        Some((_, at)) => {
            line.push_truncated(at.file().as_bytes(), Line::MAX_FILE);
            line.push(b":");
            line.push_decimal(u64::from(at.line()));
        }
        None => line.push(b"?"),
    }
    line.push(b"); raise GORO_STACK_SIZE\n");
    line.write_to_stderr();
}

/// A fixed-size line buffer; formatting never allocates.
struct Line {
    buf: [u8; Line::CAPACITY],
    len: usize,
}

impl Line {
    const CAPACITY: usize = 768;
    /// Longest file path printed; leaves room for the rest of the line.
    const MAX_FILE: usize = 512;

    fn new() -> Line {
        Line {
            buf: [0; Line::CAPACITY],
            len: 0,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(Line::CAPACITY - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
        self.len += n;
    }

    /// Pushes at most the last `max` bytes of `bytes` (the end of a path is the
    /// informative part).
    fn push_truncated(&mut self, bytes: &[u8], max: usize) {
        if bytes.len() > max {
            self.push(b"...");
            self.push(&bytes[bytes.len() - max..]);
        } else {
            self.push(bytes);
        }
    }

    fn push_decimal(&mut self, mut value: u64) {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        self.push(&digits[start..]);
    }

    fn write_to_stderr(&self) {
        let mut rest = &self.buf[..self.len];
        while !rest.is_empty() {
            // SAFETY: write(2) is async-signal-safe; the pointer and length
            // describe initialised bytes of `self.buf`.
            let n = unsafe { libc::write(libc::STDERR_FILENO, rest.as_ptr().cast(), rest.len()) };
            match usize::try_from(n) {
                Ok(written) if written > 0 => rest = &rest[written..],
                // EINTR: retry. Anything else: nothing more we can do.
                _ if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) => {}
                _ => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &Line) -> &str {
        std::str::from_utf8(&line.buf[..line.len]).unwrap()
    }

    #[test]
    fn formats_numbers_by_hand() {
        let mut line = Line::new();
        for v in [0, 7, 42, 1000, u64::MAX] {
            line.push_decimal(v);
            line.push(b" ");
        }
        assert_eq!(text(&line), "0 7 42 1000 18446744073709551615 ");
    }

    #[test]
    fn long_paths_are_truncated_and_the_line_never_overflows() {
        let mut line = Line::new();
        let path = "d/".repeat(600) + "main.rs";
        line.push_truncated(path.as_bytes(), Line::MAX_FILE);
        assert_eq!(line.len, 3 + Line::MAX_FILE);
        assert!(text(&line).starts_with("...") && text(&line).ends_with("/main.rs"));
        for _ in 0..100 {
            line.push(b"0123456789");
        }
        assert_eq!(line.len, Line::CAPACITY);
    }

    #[test]
    fn install_is_idempotent_and_keeps_the_predecessor() {
        install_overflow_handler();
        install_overflow_handler();
        let mut current = no_action();
        // SAFETY: querying the current action only writes into `current`.
        let rc = unsafe { libc::sigaction(libc::SIGSEGV, ptr::null(), &mut current) };
        assert_eq!(rc, 0);
        assert_eq!(current.sa_sigaction, on_fault as *const () as usize);
        assert_eq!(
            current.sa_flags & (libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER),
            libc::SA_SIGINFO | libc::SA_ONSTACK
        );
        // The test harness is a Rust program: std's handler was installed first.
        let previous = PREVIOUS[0].handler.load(Ordering::Acquire);
        assert_ne!(previous, on_fault as *const () as usize);
        assert_ne!(previous, libc::SIG_DFL);
    }
}
