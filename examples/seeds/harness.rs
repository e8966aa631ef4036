//! Harness shared by the seed twins (`examples/seeds.rs` and
//! `tests/seeds.rs` both include these files with `#[path]`).
//!
//! Each twin is the goro version of one Go program from the seed documents:
//! a `fn(&Out)` that is the program's `main`. Go's `fmt.Println` becomes
//! [`outln!`] on an [`Out`], a clonable line sink that goroutines share, so
//! the example can print the lines as they happen and the tests can check
//! them. [`Twin::program`] runs a twin the way Go runs a program: when its
//! main returns, output stops (Go exits the process; goro abandons the
//! goroutines that are still running).
//!
//! Every Go duration goes through [`secs`] or [`millis`], which divide it by
//! [`SCALE`]: the programs' behaviour depends only on how their durations
//! compare, so the twins run five times faster than the Go programs, which
//! keeps the example and tests short (about 8 s for all the programs) while
//! leaving the timing margins (100 ms or more) wide enough
//! for a loaded 2-core machine.
//!
//! Go's `wg.Add(1); go func() { defer wg.Done(); ... }()` is goro's
//! `wg.go(...)` (Go 1.25's `wg.Go`): the same `Add` before the spawn, and
//! the `Done` when the goroutine returns or panics. Where Go adds for
//! several goroutines at once, or hands the group to a named worker
//! function, the twin does the same and the worker calls `done` at its end.
//!
//! The complete Go program of each twin sits in a ```` ```go ```` block in
//! the doc comment above it; `examples/seeds/run_go.py` extracts and runs
//! them all, printing in the example's format, to compare with real Go.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How much faster than the Go program a twin runs.
pub const SCALE: u32 = 5;

/// Go's `n * time.Second`, scaled by [`SCALE`].
pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n) / SCALE
}

/// Go's `n * time.Millisecond`, scaled by [`SCALE`].
pub fn millis(n: u64) -> Duration {
    Duration::from_millis(n) / SCALE
}

/// Go's `n * time.Microsecond`, scaled by [`SCALE`].
pub fn micros(n: u64) -> Duration {
    Duration::from_micros(n) / SCALE
}

/// Go's `%v` of a slice of numbers: `[1 2 3]`.
pub fn go_slice<T: std::fmt::Display>(items: &[T]) -> String {
    let items: Vec<String> = items.iter().map(T::to_string).collect();
    format!("[{}]", items.join(" "))
}

/// Go's `%v` of an `error` that may be nil: `<nil>` or its message.
pub fn go_err<E: std::fmt::Display>(err: Option<E>) -> String {
    err.map_or_else(|| "<nil>".to_string(), |e| e.to_string())
}

/// Go's `counter++` on an `int` that goroutines share unsynchronized (the
/// data race the seeds warn about): a load, then a store of one more, so
/// an increment landing between another's load and store is lost. Safe
/// Rust rejects the plain shared `int`, so the twins' counter is an atomic
/// used exactly that way: Go's lost updates without undefined behaviour.
pub fn racy_increment(counter: &AtomicI64) {
    let value = counter.load(Ordering::Relaxed);
    counter.store(value + 1, Ordering::Relaxed);
}

/// Go's `rand.Intn(n)`: a random number in `0..n`, from std's randomly
/// keyed hasher (good enough to vary simulated work, no extra crate).
pub fn rand_intn(n: u64) -> u64 {
    RandomState::new().build_hasher().finish() % n
}

/// Where a twin prints: the lines so far, shared by all its goroutines.
#[derive(Clone)]
pub struct Out(Arc<Mutex<Lines>>);

struct Lines {
    lines: Vec<String>,
    echo: bool,
    exited: bool,
}

impl Out {
    fn new(echo: bool) -> Out {
        Out(Arc::new(Mutex::new(Lines {
            lines: Vec::new(),
            echo,
            exited: false,
        })))
    }

    /// Go's `fmt.Println` of an already formatted line (see [`outln!`]);
    /// dropped once the program has exited, as Go drops it.
    pub fn println(&self, line: String) {
        let mut out = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if out.exited {
            return;
        }
        if out.echo {
            println!("{line}");
        }
        out.lines.push(line);
    }

    /// Ends the program's output and returns it.
    fn exit(&self) -> Vec<String> {
        let mut out = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        out.exited = true;
        std::mem::take(&mut out.lines)
    }
}

/// `outln!(out, "fmt", args...)`: Go's `fmt.Printf("fmt\n", args...)` on `out`.
macro_rules! outln {
    ($out:expr, $($fmt:tt)+) => {
        $out.println(format!($($fmt)+))
    };
}

/// `twins![f, g]`: the [`Twin`]s whose mains are `f` and `g`, named after them.
macro_rules! twins {
    ($($main:ident),* $(,)?) => {
        &[$($crate::harness::Twin { name: stringify!($main), main: $main }),*]
    };
}

/// One Go program and its twin.
pub struct Twin {
    /// The twin function's name, which also heads its output.
    pub name: &'static str,
    /// The program's `main`.
    pub main: fn(&Out),
}

impl Twin {
    /// The twin as a main goroutine for `goro::run` or `Runtime::run`: it
    /// runs the program and returns what it printed; `echo` also prints
    /// each line to stdout as it comes.
    pub fn program(&self, echo: bool) -> impl FnOnce() -> Vec<String> + 'static {
        let main = self.main;
        move || {
            let out = Out::new(echo);
            main(&out);
            out.exit()
        }
    }
}
