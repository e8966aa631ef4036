//! `goro::scope`: goroutines that borrow from the caller's stack, with
//! `std::thread::scope`'s rules.
//!
//! `scope(|s| ..)` runs its closure, then waits (parking, not blocking the
//! thread) until every goroutine started with `s.go` has finished, before
//! it returns or re-raises; so a scoped goroutine may borrow anything that
//! outlives the `scope` call ('env). Its closure is started with `go` after
//! its lifetime is erased to 'static; that is sound because of the wait:
//! - every scoped goroutine holds a `Running` guard, counted in the scope's
//!   `WaitGroup`, which it drops last, after its closure, its result
//!   and every borrow are gone (also when it panics, or is dropped unrun);
//! - `scope` waits for the count to reach zero on every path out of it
//!   except a forced unwind at runtime shutdown, where the goroutines it
//!   waits for never run again: then, if any is still counted, the caller's
//!   stack cannot be unwound under them and the process aborts with a
//!   message (it cannot happen when they are unwound first).
//!
//! Results travel in a `Packet` shared with the `ScopedJoinHandle`; a
//! panic is the goroutine's own (`JoinHandle::join`'s `Err`). A panic that
//! nobody joined is re-raised by `scope` once all are done, as std does.

use std::cell::Cell;
use std::marker::PhantomData;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe, Location};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use goro_scheduler::{forced_unwind_in_progress, go, JoinHandle, Panic, Unpoisoned};

use crate::sync::WaitGroup;

/// Creates a scope for goroutines that borrow from the caller: every
/// goroutine started with [`Scope::go`] is finished when `scope` returns.
///
/// If `f` panics, or a scoped goroutine panicked and was not joined,
/// `scope` panics after all of them finished.
///
/// ```
/// # use goro_runtime as goro;
/// goro::run(|| {
///     let v = vec![1, 2, 3];
///     let mut total = 0;
///     goro::scope(|s| {
///         s.go(|| assert_eq!(v.len(), 3));
///         let h = s.go(|| v.iter().sum::<i32>());
///         total = h.join().unwrap();
///     });
///     assert_eq!(total, 6);
/// });
/// ```
#[track_caller]
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    let scope = Scope {
        data: Arc::new(ScopeData {
            running: WaitGroup::new(),
            unjoined_panics: AtomicUsize::new(0),
            site: Location::caller(),
        }),
        _scope: PhantomData,
        _env: PhantomData,
    };
    let result = catch_unwind(AssertUnwindSafe(|| f(&scope)));
    if forced_unwind_in_progress() {
        scope.data.abandoned();
    }
    // The wait itself may be where a shutdown unwinds this goroutine.
    let waited = catch_unwind(AssertUnwindSafe(|| scope.data.running.wait()));
    if let Err(payload) = waited {
        scope.data.abandoned();
        resume_unwind(payload);
    }
    match result {
        Err(payload) => resume_unwind(payload),
        Ok(_) if scope.data.unjoined_panics.load(Ordering::Acquire) > 0 => {
            panic!("goro::scope: a scoped goroutine panicked")
        }
        Ok(value) => value,
    }
}

/// Starts goroutines that may borrow from the caller of [`scope`].
pub struct Scope<'scope, 'env: 'scope> {
    data: Arc<ScopeData>,
    // Invariance over both lifetimes, as std's Scope.
    _scope: PhantomData<&'scope mut &'scope ()>,
    _env: PhantomData<&'env mut &'env ()>,
}

struct ScopeData {
    /// One per scoped goroutine not yet finished (`Running` guards).
    running: WaitGroup,
    /// Goroutines that panicked, less those whose panic a `join` returned.
    unjoined_panics: AtomicUsize,
    site: &'static Location<'static>,
}

impl ScopeData {
    /// The scope's goroutine is being unwound at shutdown: its scoped
    /// goroutines will never run again, so its stack can only be unwound
    /// if none of them is left (see the module doc).
    fn abandoned(&self) {
        let left = self.running.count();
        if left > 0 {
            let msg = format!(
                "fatal error: goro: runtime shutdown unwinds the goroutine in goro::scope at {}:{} \
                 while {left} of its scoped goroutines, which borrow its stack, are unfinished\n",
                self.site.file(),
                self.site.line()
            );
            // Straight to fd 2 (a test harness may capture std's stderr).
            // SAFETY: writes at most `msg.len()` initialized bytes.
            unsafe { libc::write(2, msg.as_ptr().cast(), msg.len()) };
            std::process::abort();
        }
    }
}

impl<'scope> Scope<'scope, '_> {
    /// Starts a goroutine running `f`, which may borrow anything that
    /// outlives the [`scope`] call. Panics if the goroutine cannot be
    /// started (as `go!`).
    #[track_caller]
    pub fn go<F, T>(&'scope self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let packet: Arc<Packet<T>> = Arc::new(Packet(Mutex::new(None)));
        self.data.running.add(1);
        let running = Running {
            scope: self.data.clone(),
            panicked: Cell::new(false),
        };
        let their_packet = packet.clone();
        let main = move || {
            // Declared first, so dropped last: after `f`, the result and
            // the packet (everything that may borrow 'scope) are gone.
            let running = running;
            let unwinding = Unwinding(&running.panicked);
            let value = f();
            std::mem::forget(unwinding);
            *their_packet.0.lock_unpoisoned() = Some(value);
            drop(their_packet);
            drop(running);
        };
        let main: Box<dyn FnOnce() + Send + 'scope> = Box::new(main);
        // SAFETY: only the lifetime changes. The closure and everything it
        // borrows are dropped before its `Running` guard, and `scope` does
        // not return (nor unwind, see `ScopeData::abandoned`) before every
        // guard is dropped, so no 'scope borrow outlives 'scope.
        let main: Box<dyn FnOnce() + Send + 'static> = unsafe { std::mem::transmute(main) };
        ScopedJoinHandle {
            handle: go(main),
            packet,
            scope: self.data.clone(),
            _scope: PhantomData,
        }
    }
}

/// Counts a scoped goroutine as running until dropped; records its panic.
struct Running {
    scope: Arc<ScopeData>,
    /// Set by `Unwinding` when the goroutine's closure panicked. (Not
    /// `std::thread::panicking()`: another goroutine of this thread may be
    /// parked halfway through its own unwind.)
    panicked: Cell<bool>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.panicked.get() {
            self.scope.unjoined_panics.fetch_add(1, Ordering::AcqRel);
        }
        self.scope.running.done();
    }
}

/// Dropped only when the closure unwinds (forgotten when it returns).
struct Unwinding<'a>(&'a Cell<bool>);

impl Drop for Unwinding<'_> {
    fn drop(&mut self) {
        // Runtime shutdown's unwind is not the goroutine's panic.
        if !forced_unwind_in_progress() {
            self.0.set(true);
        }
    }
}

/// Where a scoped goroutine leaves its value.
struct Packet<T>(Mutex<Option<T>>);

/// An owned permission to join a scoped goroutine.
pub struct ScopedJoinHandle<'scope, T> {
    handle: JoinHandle<()>,
    packet: Arc<Packet<T>>,
    scope: Arc<ScopeData>,
    _scope: PhantomData<&'scope ()>,
}

impl<T> ScopedJoinHandle<'_, T> {
    /// Waits for the goroutine and returns its value, or its [`Panic`]
    /// (which `scope` then does not re-raise).
    pub fn join(self) -> Result<T, Panic> {
        match self.handle.join() {
            Ok(()) => {
                let value = self.packet.0.lock_unpoisoned().take();
                match value {
                    Some(v) => Ok(v),
                    None => unreachable!("goro::scope: a finished goroutine left no value"),
                }
            }
            Err(panic) => {
                // Saturating: a goroutine abandoned at shutdown was not counted.
                let _ = self.scope.unjoined_panics.fetch_update(
                    Ordering::AcqRel,
                    Ordering::Acquire,
                    |n| n.checked_sub(1),
                );
                Err(panic)
            }
        }
    }

    /// Whether the goroutine has finished.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// The goroutine's id (as in dumps and panic reports).
    pub fn id(&self) -> u64 {
        self.handle.id()
    }
}

impl<T> std::fmt::Debug for ScopedJoinHandle<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopedJoinHandle")
            .field("goroutine", &self.id())
            .finish()
    }
}

impl std::fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope")
            .field("running", &self.data.running.count())
            .finish()
    }
}
