//! `goro::io`: the standard streams, whose reads and writes park the
//! goroutine instead of blocking its M (`stdio_fd.rs` says how, without
//! touching the streams' flags).
//!
//! ```no_run
//! # use goro_runtime as goro; // the doctest links goro's runtime crate
//! goro::run(|| {
//!     // Go's `bufio.NewScanner(os.Stdin)` loop.
//!     for line in goro::io::stdin().lines() {
//!         println!("{}", line.unwrap().to_uppercase());
//!     }
//! });
//! ```
//!
//! [`Stdin`] is buffered once for the whole process (one `BufReader`
//! behind a goro mutex, as std's stdin), so handles made anywhere read
//! one stream in order. That buffer is goro's own: reading standard input
//! through both `goro::io::stdin` and `std::io::stdin` loses data, since
//! each buffer takes input the other then never sees; pick one per
//! program. [`Stdout`] and [`Stderr`] are unbuffered, like Go's
//! `os.Stdout`: each `write` is one system call. Mixing them with std's
//! `println!` (buffered separately) can reorder output.

pub(crate) mod nowait;
mod stdio_fd;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::sync::PoisonError;

use crate::sync::{Mutex, MutexGuard};
use stdio_fd::StdioFd;

static STDIN_FD: StdioFd = StdioFd::new(libc::STDIN_FILENO);
static STDOUT_FD: StdioFd = StdioFd::new(libc::STDOUT_FILENO);
static STDERR_FD: StdioFd = StdioFd::new(libc::STDERR_FILENO);

/// fd 0 as a `Read` (what the shared buffer reads from).
struct RawStdin;

impl Read for RawStdin {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        STDIN_FD.read(buf)
    }
}

/// The process's standard input (see the module comment).
#[derive(Clone, Copy, Debug)]
pub struct Stdin {
    buffer: &'static Mutex<BufReader<RawStdin>>,
}

/// A handle to standard input (std's `io::stdin`).
pub fn stdin() -> Stdin {
    static BUFFER: std::sync::OnceLock<Mutex<BufReader<RawStdin>>> = std::sync::OnceLock::new();
    Stdin {
        buffer: BUFFER.get_or_init(|| Mutex::new(BufReader::with_capacity(8 << 10, RawStdin))),
    }
}

impl std::fmt::Debug for RawStdin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawStdin")
    }
}

impl Stdin {
    /// Locks the shared buffer for a run of reads (std's `Stdin::lock`).
    /// As std's, it is never poisoned: a goroutine that panicked while
    /// holding it leaves the stream usable.
    pub fn lock(&self) -> StdinLock<'static> {
        let guard = self
            .buffer
            .lock_result()
            .unwrap_or_else(PoisonError::into_inner);
        StdinLock { guard }
    }

    /// The lines of standard input without their line endings (Go's
    /// `bufio.Scanner` loop); holds the lock while iterating.
    pub fn lines(self) -> io::Lines<StdinLock<'static>> {
        self.lock().lines()
    }

    /// Appends one line, with its `\n`, to `buf`; `Ok(0)` at end of input.
    pub fn read_line(&self, buf: &mut String) -> io::Result<usize> {
        self.lock().read_line(buf)
    }
}

impl Read for Stdin {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.lock().read(buf)
    }
}

/// Standard input, locked (std's `StdinLock`): `BufRead`.
pub struct StdinLock<'a> {
    guard: MutexGuard<'a, BufReader<RawStdin>>,
}

impl Read for StdinLock<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.guard.read(buf)
    }
}

impl BufRead for StdinLock<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.guard.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.guard.consume(amt)
    }
}

macro_rules! out_stream {
    ($(#[$doc:meta])* $name:ident, $ctor:ident, $fd:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub struct $name {
            _private: (),
        }

        $(#[$doc])*
        pub fn $ctor() -> $name {
            $name { _private: () }
        }

        impl Write for $name {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                $fd.write(buf)
            }

            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
    };
}

out_stream!(
    /// The process's standard output, unbuffered (Go's `os.Stdout`).
    Stdout,
    stdout,
    STDOUT_FD
);
out_stream!(
    /// The process's standard error, unbuffered (Go's `os.Stderr`).
    Stderr,
    stderr,
    STDERR_FD
);
