//! `goro::compat::tokio`: futures that use Tokio's I/O and timers, run by
//! goroutines.
//!
//! Tokio's resources (sockets, `sleep`, `timeout`) find their driver in a
//! thread-local context that `Handle::enter` sets. This bridge enters the
//! chosen Tokio runtime's context around each poll only, never across a
//! park: a goroutine's thread runs other goroutines while it waits, and
//! each poll is a fresh `enter` whose guard is dropped before the poll
//! returns, so guards never interleave (Tokio panics when `EnterGuard`s
//! are dropped out of order, the trap of bridges that enter once per
//! goroutine). The wait itself is `goro::block_on`'s: the goroutine parks,
//! the thread does not, and the Tokio runtime's own threads drive its I/O
//! and timers and call the wakers.
//!
//! The runtime is the one given to [`use_handle`], else a multi-threaded
//! Tokio runtime with one worker thread (`goro-tokio`), started on first
//! use and kept for the life of the process. Its single worker only drives
//! Tokio's drivers and the tasks users `tokio::spawn` from inside bridged
//! futures; the futures given to `block_on` run on the goroutines.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Builder, Handle, Runtime};

/// The Tokio runtime the bridge enters: set once, by `use_handle` or on
/// first use.
static HANDLE: OnceLock<Handle> = OnceLock::new();

/// Runs `fut` to completion like [`goro::block_on`](crate::block_on), with
/// the Tokio runtime's context entered around each poll, so futures using
/// Tokio's I/O, timers and `tokio::spawn` work. Futures that need the
/// context when they are created (`tokio::time::sleep`, `TcpStream::connect`)
/// are created inside `fut`:
///
/// ```
/// # use goro_runtime as goro;
/// goro::run(|| {
///     let d = std::time::Duration::from_millis(1);
///     goro::compat::tokio::block_on(async { tokio::time::sleep(d).await });
/// });
/// ```
///
/// In a goroutine the goroutine parks while `fut` is pending; outside the
/// runtime the calling thread blocks (do not call it on a Tokio worker
/// thread: that thread would stop running Tokio tasks meanwhile).
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let handle = handle();
    crate::block_on::block_on_with(fut, |fut, cx| {
        let _entered = handle.enter();
        fut.poll(cx)
    })
}

/// Makes the bridge use `handle`'s Tokio runtime instead of starting its
/// own. Call it before the first [`block_on`]; `handle` must stay usable
/// (its runtime not shut down) while goroutines use the bridge.
///
/// # Panics
/// If a runtime was chosen already (an earlier `use_handle`, or a
/// `block_on` that started the default one).
#[track_caller]
pub fn use_handle(handle: Handle) {
    if HANDLE.set(handle).is_err() {
        panic!(
            "goro::compat::tokio::use_handle: the Tokio runtime was chosen already \
             (by an earlier use_handle or block_on); call use_handle before the first block_on"
        );
    }
}

fn handle() -> &'static Handle {
    HANDLE.get_or_init(|| default_runtime().handle().clone())
}

/// The runtime started on first use when `use_handle` gave none.
fn default_runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let built = Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("goro-tokio")
            .enable_all()
            .build();
        match built {
            Ok(rt) => rt,
            Err(e) => panic!("goro::compat::tokio: cannot start a Tokio runtime: {e}"),
        }
    })
}
