//! `goro::synctest`: deterministic tests of concurrent code with timeouts
//! (Go 1.25's `testing/synctest`).
//!
//! [`run`] starts a *bubble*: its closure runs as the bubble's root
//! goroutine, and every goroutine started from inside joins the bubble.
//! Inside, `goro::time` runs on a fake clock: [`now`](crate::time::now)
//! starts at the instant the bubble was made, and
//! [`system_now`](crate::time::system_now) at 2000-01-01T00:00:00Z (Go's).
//! The clock moves only when every goroutine of the bubble is *durably
//! blocked*, and then jumps straight to the next timer of the bubble: a
//! one-hour `sleep` returns at once with `now()` exactly one hour later.
//! Everything built on `goro::time` follows: `after`, `tick`, `Timer`
//! (`reset`, `stop`), `Ticker`, `recv_timeout`, `select!`'s
//! `default(timeout)`, context deadlines and so `errgroup` contexts.
//!
//! Durably blocked means that only the bubble can wake the goroutine: a
//! send, receive or `select!` on channels made inside the bubble (the dump
//! says `chan receive (durable)`), a join of a bubble goroutine, a sleep or
//! timer wait, a `goro::sync` primitive, or [`wait`]. A goroutine blocked
//! on I/O, in `blocking`, or on a channel made outside the bubble is not:
//! something outside may wake it, so the clock stays still meanwhile (as in
//! Go). `std::time::Instant::now()` is never faked.
//!
//! [`run`] returns the root's result once every goroutine of the bubble has
//! exited. If every goroutine is durably blocked and no timer is pending,
//! nothing can ever happen: `run` panics with Go's message (`deadlock: all
//! goroutines in bubble are blocked`, or `deadlock: main bubble goroutine
//! has exited but blocked goroutines remain`) followed by the bubble's
//! goroutines in goroutine-dump format. A panic of the root goroutine is
//! resumed in `run`'s caller.
//!
//! How it works is in the scheduler's `sched/bubble.rs`: the scheduler
//! already sees every park (with its reason) and every wake, so a bubble
//! is two counters under a mutex, touched only by bubble goroutines.
//!
//! As in Go, a bubble's channels and timers are its own: a send, receive,
//! select or close on a channel made in a bubble (stop or reset of its
//! timers), from anywhere but a goroutine of that bubble, panics at the
//! caller's line with Go's message (`send on synctest channel from outside
//! bubble`, ...). Queries (`len`, `is_closed`) and drops are allowed.
//!
//! Differences from Go: a `goro::sync::Mutex` or `RwLock` wait counts as
//! durable (Go's does not, since a mutex may be held outside the bubble),
//! so that a bubble goroutine holding a lock across a sleep does not hang
//! the bubble. goro cannot tell who holds a lock without slowing every
//! uncontended lock, so a wait on a lock held outside the bubble counts as
//! durable too: do not share a `goro::sync` primitive with code outside
//! (`docs/testing.md`). Go's misuse check is fatal; goro's is a panic.
//!
//! `time::after_func` called in a bubble runs its function in a goroutine
//! of the bubble, on the bubble's clock, and `run` waits for it (Go's
//! `AfterFunc`); so does `context::after_func` registered in a bubble.

/// Runs `f` as the root goroutine of a new bubble and returns its result
/// once every goroutine of the bubble has exited. Called outside a
/// runtime, it starts one (`goro::run`) for the bubble.
///
/// ```
/// use std::time::Duration;
/// goro_runtime::synctest::run(|| {
///     let start = goro_runtime::time::now();
///     goro_runtime::time::sleep(Duration::from_secs(3600));
///     assert_eq!(goro_runtime::time::now() - start, Duration::from_secs(3600));
/// });
/// ```
///
/// # Panics
/// Inside a bubble; when the bubble deadlocks (module docs); with the
/// root goroutine's panic.
#[track_caller]
pub fn run<F, T>(f: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    if crate::in_goroutine() {
        goro_scheduler::synctest::run(f)
    } else {
        crate::run(move || goro_scheduler::synctest::run(f))
    }
}

/// Returns once every other goroutine of the caller's bubble is durably
/// blocked (Go's `synctest.Wait`): what they were going to do without the
/// clock moving is done. The clock does not move during `wait`.
///
/// # Panics
/// Outside a bubble, or while another goroutine of the bubble is in `wait`.
#[track_caller]
pub fn wait() {
    goro_scheduler::synctest::wait()
}
