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
use std::sync::Once;

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
