//! Panics inside goroutines.
//!
//! A panic is caught at the goroutine's boundary (it never unwinds into the
//! scheduler), reported on stderr the way Rust reports a thread panic, with a
//! first line naming the goroutine and its spawn site, and handed to whoever
//! joins the goroutine as a [`Panic`].
//!
//! The report comes from a panic hook installed once per process that wraps
//! the hook in place at the time: inside a goroutine it prints
//! `goroutine 17 (spawned at src/main.rs:12) panicked:` and then defers to the
//! previous hook (std's default prints the message, location and backtrace
//! note), so user hooks keep working.
//!
//! What happens next is the runtime's [`UnhandledPanic`] policy: by default
//! the program goes on (std's rule for a thread), or, with
//! [`UnhandledPanic::Exit`], it exits with status 2 right after the report
//! (Go's rule for a panic nobody recovers). Recovering, in goro, is
//! `catch_unwind` inside the goroutine.

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once, Weak};

use crate::runtime::Sched;

/// What a panic that ends a goroutine does to the program
/// ([`Builder::unhandled_panic`](crate::Builder::unhandled_panic)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnhandledPanic {
    /// Printed on stderr; the program goes on, and a `join` of the
    /// goroutine returns the panic (std's rule for threads; the default).
    #[default]
    Ignore,
    /// Printed on stderr, then the process exits with status 2 at once,
    /// whether or not anyone would join the goroutine (Go's rule for an
    /// unrecovered panic). The main goroutine's panic still goes to `run`'s
    /// caller.
    Exit,
}

/// Applies the runtime's [`UnhandledPanic`] policy to a panic that just
/// ended goroutine `goroutine` (its report is printed already).
pub(crate) fn on_goroutine_panic(goroutine: u64) {
    let Some(l) = crate::sched::current::m() else {
        return;
    };
    count_watched_panic(&l.sched);
    if l.sched.unhandled_panic == UnhandledPanic::Exit && goroutine != l.sched.main_goid() {
        crate::write_stderr(&format!(
            "goro: goroutine {goroutine} panicked and the runtime's UnhandledPanic is Exit: exit status 2\n"
        ));
        std::process::exit(2);
    }
}

/// Counts the goroutine panics of one runtime, joined or not, while it
/// lives (`#[goro::test]` fails a test whose goroutines panicked, as
/// `go test` does). Made inside the runtime; counts until dropped.
pub struct PanicWatch {
    count: Arc<AtomicUsize>,
}

/// Every live watch: its runtime (a `Weak` keeps the address from being
/// reused by another runtime while the watch lives) and its counter.
/// Few at a time (one per running test), so a list.
static WATCHES: Mutex<Vec<(Weak<Sched>, Arc<AtomicUsize>)>> = Mutex::new(Vec::new());
/// `WATCHES.len()`, read without the lock by every goroutine panic.
static WATCH_COUNT: AtomicUsize = AtomicUsize::new(0);

impl PanicWatch {
    /// Starts counting the goroutine panics of the calling goroutine's
    /// runtime; `None` outside a runtime.
    pub fn start() -> Option<PanicWatch> {
        let sched = crate::Handle::try_current()?.sched()?;
        let count = Arc::new(AtomicUsize::new(0));
        let mut watches = WATCHES.lock().unwrap_or_else(|e| e.into_inner());
        watches.push((Arc::downgrade(&sched), count.clone()));
        WATCH_COUNT.store(watches.len(), Ordering::Release);
        Some(PanicWatch { count })
    }

    /// Goroutine panics seen so far (the main goroutine's included).
    pub fn panics(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }
}

impl Drop for PanicWatch {
    fn drop(&mut self) {
        let mut watches = WATCHES.lock().unwrap_or_else(|e| e.into_inner());
        watches.retain(|(_, c)| !Arc::ptr_eq(c, &self.count));
        WATCH_COUNT.store(watches.len(), Ordering::Release);
    }
}

fn count_watched_panic(sched: &Arc<Sched>) {
    if WATCH_COUNT.load(Ordering::Acquire) == 0 {
        return;
    }
    let watches = WATCHES.lock().unwrap_or_else(|e| e.into_inner());
    for (rt, count) in watches.iter() {
        if std::ptr::eq(rt.as_ptr(), Arc::as_ptr(sched)) {
            count.fetch_add(1, Ordering::AcqRel);
        }
    }
}

/// The payload of a panic that ended a goroutine, returned by
/// [`JoinHandle::join`](crate::JoinHandle::join).
pub struct Panic {
    payload: Box<dyn Any + Send + 'static>,
    goroutine: u64,
}

impl Panic {
    pub(crate) fn new(payload: Box<dyn Any + Send + 'static>, goroutine: u64) -> Panic {
        Panic { payload, goroutine }
    }

    /// A goroutine that never finished because `goro::run` returned first
    /// (Go abandons such goroutines; goro unwinds them and reports this).
    pub(crate) fn abandoned(goroutine: u64) -> Panic {
        Panic::new(
            Box::new("goroutine abandoned: goro::run returned before it finished"),
            goroutine,
        )
    }

    /// The id of the goroutine that panicked.
    pub fn goroutine(&self) -> u64 {
        self.goroutine
    }

    /// The panic message, when the payload is a string (as for `panic!("...")`).
    pub fn message(&self) -> Option<&str> {
        payload_str(&*self.payload)
    }

    /// The raw payload, as `std::thread::JoinHandle::join` would return it.
    pub fn into_payload(self) -> Box<dyn Any + Send + 'static> {
        self.payload
    }

    /// Continues the panic in the caller (`std::panic::resume_unwind`).
    pub fn resume(self) -> ! {
        std::panic::resume_unwind(self.payload)
    }
}

fn payload_str(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

impl fmt::Debug for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Panic")
            .field("goroutine", &self.goroutine)
            .field("message", &self.message().unwrap_or("<non-string payload>"))
            .finish()
    }
}

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message() {
            Some(m) => write!(f, "goroutine {} panicked: {m}", self.goroutine),
            None => write!(f, "goroutine {} panicked", self.goroutine),
        }
    }
}

impl std::error::Error for Panic {}

/// Installs the goroutine-aware panic hook (once per process).
pub(crate) fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(g) = crate::g::current_g() {
                // SAFETY: `current_g` returns the goroutine running on this
                // thread right now; it stays alive while its code runs.
                let g = unsafe { g.as_ref() };
                if !g.force_unwinding.get() {
                    let site = g.spawn_site();
                    eprintln!(
                        "goroutine {} (spawned at {}:{}) panicked:",
                        g.id(),
                        site.file(),
                        site.line()
                    );
                }
            }
            previous(info)
        }));
    });
}
