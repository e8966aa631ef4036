//! What `#[goro::test]` expands to: the test body as the main goroutine of
//! a fresh runtime, failing the test when any goroutine of that runtime
//! panicked, joined or not (`go test` fails on an unrecovered panic in any
//! goroutine; std's rule would let an assertion in a goroutine nobody
//! joins pass silently).
//!
//! The panics are counted by a scheduler `PanicWatch` over the runtime,
//! started when the body starts and read when it returns, inside the
//! runtime: goroutines still running then never run again (`run`'s rule),
//! so none can panic later.
//!
//! The runtime is built `under_test_harness`, so that a deadlocked test
//! gets Go's report and exit status 2 (as `go test` does) instead of
//! hanging: deadlock detection then sets aside libtest's main thread and
//! the other tests' sysmons (`goro-scheduler`'s `monitor/deadlock.rs`).

use goro_scheduler::{PanicWatch, Runtime};

/// Runs `body` as the main goroutine of a new runtime (GOMAXPROCS `procs`,
/// else the default) and returns its value.
///
/// # Panics
/// If `body` panics, if any goroutine of the runtime panicked before `body`
/// returned, or if the runtime cannot be built.
#[track_caller]
pub fn run_test<F, R>(procs: Option<usize>, body: F) -> R
where
    F: FnOnce() -> R + 'static,
    R: 'static,
{
    let mut builder = Runtime::builder().under_test_harness();
    if let Some(n) = procs {
        builder = builder.procs(n);
    }
    let rt = match builder.build() {
        Ok(rt) => rt,
        Err(e) => panic!("goro::test: cannot start the runtime: {e}"),
    };
    let (value, panics) = rt.run(move || {
        let watch = PanicWatch::start();
        let value = body();
        (value, watch.map_or(0, |w| w.panics()))
    });
    if panics > 0 {
        panic!(
            "goro::test: {panics} goroutine(s) of this test panicked (their reports are above); \
             a goroutine that is expected to panic must catch it (std::panic::catch_unwind)"
        );
    }
    value
}
