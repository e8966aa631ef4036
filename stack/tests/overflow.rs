//! Stack-overflow reporting, checked in forked children (the overflow aborts
//! the process that has it).
//!
//! Forking a multi-threaded test process is only safe if the child does not
//! need a lock another thread held at the time; the tests of this binary are
//! serialised, and the child uses only glibc's malloc (fork-safe) and state it
//! creates itself.

#![deny(clippy::undocumented_unsafe_blocks)]

use std::hint::black_box;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::panic::Location;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use corosensei::Coroutine;
use goro_stack::{ensure_signal_stack, install_overflow_handler, PoolConfig, StackPool};

static SERIAL: Mutex<()> = Mutex::new(());

/// How a child ended.
#[derive(Debug, PartialEq, Eq)]
enum Exit {
    Signal(libc::c_int),
    Code(libc::c_int),
}

/// Runs `body` in a forked child with stderr captured; returns how the child
/// ended and what it wrote to stderr. Kills the child after 30 s.
fn run_in_child(body: impl FnOnce()) -> (Exit, String) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut fds = [0; 2];
    // SAFETY: pipe() writes two new descriptors into `fds`.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors were just created and are owned by nobody else.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: the child only runs `body` and then _exit()s; see the module docs
    // for why that is sound in this test binary.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        drop(read_end);
        // SAFETY: redirects this (child) process's stderr into the pipe.
        unsafe { libc::dup2(write_end.as_raw_fd(), libc::STDERR_FILENO) };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
        // SAFETY: _exit() ends the child without running the parent's test
        // harness state (atexit handlers, buffered stdout) a second time.
        unsafe { libc::_exit(if outcome.is_ok() { 0 } else { 101 }) };
    }
    drop(write_end);

    let deadline = Instant::now() + Duration::from_secs(30);
    let mut output = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let mut poll = libc::pollfd {
            fd: read_end.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut poll, 1, 100) };
        if ready > 0 {
            // SAFETY: reads into our buffer from our descriptor.
            let n = unsafe { libc::read(read_end.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                break; // EOF: the child is gone
            }
            output.extend_from_slice(&buf[..n as usize]);
        } else if Instant::now() > deadline {
            // SAFETY: kills our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            break;
        }
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    let exit = if libc::WIFSIGNALED(status) {
        Exit::Signal(libc::WTERMSIG(status))
    } else {
        Exit::Code(libc::WEXITSTATUS(status))
    };
    (exit, String::from_utf8_lossy(&output).into_owned())
}

/// Recurses without bound, 256+ bytes per frame.
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    let mut frame = [0u8; 256];
    frame[depth as usize % 256] = depth as u8;
    black_box(&mut frame);
    if black_box(depth) == u64::MAX {
        return 0;
    }
    recurse(depth + 1) + u64::from(frame[3])
}

/// Recurses without bound with 200 KiB frames: relies on stack probes to hit a
/// one-page guard instead of jumping over it.
#[inline(never)]
fn recurse_big(depth: u64) -> u64 {
    let mut frame = [0u8; 200 << 10];
    frame[0] = depth as u8;
    black_box(&mut frame);
    if black_box(depth) == u64::MAX {
        return 0;
    }
    recurse_big(depth + 1) + u64::from(frame[100])
}

/// Overflows a goroutine with id 42 on a pooled stack in a child process:
/// the pool's `nth` stack (0: the first), so that stacks carved in one batch
/// with the first are checked too.
fn overflow_goroutine(config: PoolConfig, size: usize, body: fn(u64) -> u64) -> (Exit, String) {
    overflow_nth_goroutine(config, size, 0, body)
}

fn overflow_nth_goroutine(
    config: PoolConfig,
    size: usize,
    nth: usize,
    body: fn(u64) -> u64,
) -> (Exit, String) {
    run_in_child(move || {
        install_overflow_handler();
        let _signal_stack = ensure_signal_stack();
        let pool = StackPool::new(config).unwrap();
        let earlier: Vec<_> = (0..nth).map(|_| pool.alloc(size).unwrap()).collect();
        let stack = pool.alloc(size).unwrap();
        stack.set_owner(42, Location::caller());
        let mut goroutine = Coroutine::<(), (), u64, _>::with_stack(stack, move |_, ()| body(0));
        goroutine.resume(());
        drop(earlier);
    })
}

fn assert_goroutine_report(exit: Exit, stderr: &str, limit_kib: usize) {
    eprintln!("child: {exit:?}, stderr: {stderr:?}");
    assert_eq!(exit, Exit::Signal(libc::SIGABRT), "stderr: {stderr}");
    let expected = format!("goroutine 42 stack overflow (stack limit {limit_kib} KiB, spawned at ");
    let line = stderr
        .lines()
        .find(|l| l.contains("stack overflow"))
        .unwrap_or_else(|| panic!("no overflow line in {stderr:?}"));
    assert!(line.starts_with(&expected), "{line:?}");
    assert!(line.contains("overflow.rs:"), "{line:?}");
    assert!(line.ends_with("); raise GORO_STACK_SIZE"), "{line:?}");
    assert_eq!(
        stderr.matches("goroutine 42").count(),
        1,
        "exactly one line: {stderr:?}"
    );
}

#[test]
fn goroutine_overflow_is_reported_and_aborts() {
    let (exit, stderr) = overflow_goroutine(PoolConfig::default(), 64 << 10, recurse);
    assert_goroutine_report(exit, &stderr, 64);
}

#[test]
fn stacks_carved_in_one_batch_are_each_guarded() {
    // The first carve installs up to 32 guards at once (process_madvise);
    // the 2nd and the 32nd stack come from that batch, the 33rd from the next.
    for nth in [1, 31, 32] {
        let (exit, stderr) = overflow_nth_goroutine(PoolConfig::default(), 64 << 10, nth, recurse);
        assert_goroutine_report(exit, &stderr, 64);
    }
}

#[test]
fn big_frames_hit_the_one_page_guard() {
    let (exit, stderr) = overflow_goroutine(PoolConfig::default(), 256 << 10, recurse_big);
    assert_goroutine_report(exit, &stderr, 256);
}

#[test]
fn mprotect_guards_are_reported_too() {
    // PROT_NONE guards fault with SEGV_ACCERR rather than SEGV_MAPERR.
    let config = PoolConfig {
        force_mprotect_guards: true,
        vma_budget_override: None,
    };
    let (exit, stderr) = overflow_goroutine(config, 64 << 10, recurse);
    assert_goroutine_report(exit, &stderr, 64);
}

/// Unregisters the calling thread's alternate signal stack, as on a thread
/// created outside std or when std did not install its handler.
fn drop_signal_stack() {
    let disable = libc::stack_t {
        ss_sp: std::ptr::null_mut(),
        ss_flags: libc::SS_DISABLE,
        ss_size: 0,
    };
    // SAFETY: the thread is not running on its alternate stack; std's mapping
    // stays allocated, it is only no longer used.
    let rc = unsafe { libc::sigaltstack(&disable, std::ptr::null_mut()) };
    assert_eq!(rc, 0);
}

/// In a child: a thread without a signal stack runs goroutine 42 into its guard.
fn overflow_on_bare_thread(ensure: bool) -> (Exit, String) {
    run_in_child(move || {
        install_overflow_handler();
        let pool = StackPool::new(PoolConfig::default()).unwrap();
        let stack = pool.alloc(64 << 10).unwrap();
        stack.set_owner(42, Location::caller());
        std::thread::spawn(move || {
            drop_signal_stack();
            let _signal_stack = ensure.then(ensure_signal_stack);
            let mut goroutine = Coroutine::<(), (), u64, _>::with_stack(stack, |_, ()| recurse(0));
            goroutine.resume(());
        })
        .join()
        .unwrap();
    })
}

#[test]
fn ensure_signal_stack_makes_bare_threads_report() {
    let (exit, stderr) = overflow_on_bare_thread(true);
    assert_goroutine_report(exit, &stderr, 64);
    // Control: without an alternate stack the handler cannot run at all.
    let (exit, stderr) = overflow_on_bare_thread(false);
    assert_eq!(exit, Exit::Signal(libc::SIGSEGV), "stderr: {stderr}");
    assert!(!stderr.contains("goroutine"), "{stderr:?}");
}

#[test]
fn thread_overflow_still_gets_std_message() {
    let (exit, stderr) = run_in_child(|| {
        install_overflow_handler();
        let thread = std::thread::Builder::new()
            .name("plain-thread".into())
            .stack_size(128 << 10)
            .spawn(|| recurse(0))
            .unwrap();
        let _ = thread.join();
    });
    eprintln!("child: {exit:?}, stderr: {stderr:?}");
    assert_eq!(exit, Exit::Signal(libc::SIGABRT), "stderr: {stderr}");
    assert!(
        stderr.contains("thread 'plain-thread'") && stderr.contains("has overflowed its stack"),
        "{stderr:?}"
    );
    assert!(!stderr.contains("goroutine"), "{stderr:?}");
}

#[test]
fn other_faults_keep_their_default_outcome() {
    let (exit, stderr) = run_in_child(|| {
        install_overflow_handler();
        // A stray write far from any stack: not ours, not std's guard.
        // SAFETY: deliberately invalid; the child is expected to die here.
        unsafe { std::ptr::write_volatile(16 as *mut u8, 1) };
    });
    assert_eq!(exit, Exit::Signal(libc::SIGSEGV), "stderr: {stderr}");
    assert!(!stderr.contains("overflow"), "{stderr:?}");
}
