//! `goro::signal`: Unix signals delivered on channels (Go's `os/signal`).
//!
//! ```no_run
//! # use goro_runtime as goro; // the doctest links goro's runtime crate
//! use goro::signal::{self, Signal};
//!
//! goro::run(|| {
//!     let (ctx, _stop) = signal::notify_context(&goro::context::background(),
//!                                               &[Signal::Interrupt, Signal::Terminate]);
//!     // ... serve until Ctrl-C or SIGTERM ...
//!     let _ = ctx.done().recv();
//!     println!("shutting down: {:?}", ctx.err());
//! });
//! ```
//!
//! Design. A registry (one lock) lists the watchers: a channel and the
//! signals it watches ([`notify`]), or a context to cancel
//! ([`notify_context`]). A signal's first watcher installs a C handler
//! that only flags the signal and writes a byte to a pipe; the
//! `goro-signal` thread reads the pipe and delivers to every watcher of
//! each flagged signal (`handler.rs`). Delivery never blocks: it is
//! `try_send`, so a full channel drops the signal (Go's rule; give the
//! channel a buffer). When a signal's last watcher goes ([`stop`]), the
//! action it had before comes back: the default action for most signals,
//! goro's goroutine dump for SIGQUIT, std's "ignore" for SIGPIPE.

mod handler;

use std::sync::{Arc, Mutex, MutexGuard};

use goro_scheduler::Unpoisoned;

use crate::chan::Sender;
use crate::context::{self, CancelFunc, Context};
use handler::{Saved, NSIG};

/// The signals a goro program can watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// SIGINT (Ctrl-C; Go's `os.Interrupt`).
    Interrupt,
    /// SIGTERM (Go's `syscall.SIGTERM`).
    Terminate,
    /// SIGHUP.
    Hangup,
    /// SIGQUIT (by default goro prints every goroutine and exits).
    /// goro installs that dump at the first `goro::run` only if SIGQUIT
    /// still has its default action then: a `notify` for `Quit` made
    /// before any runtime ran saves the default action, so its `stop`
    /// brings back the default (quit with a core dump), not the dump.
    Quit,
    /// SIGUSR1.
    User1,
    /// SIGUSR2.
    User2,
    /// SIGCHLD.
    Child,
    /// SIGPIPE (ignored by Rust programs unless watched).
    Pipe,
    /// SIGWINCH.
    WindowChange,
}

impl Signal {
    const ALL: [Signal; 9] = [
        Signal::Interrupt,
        Signal::Terminate,
        Signal::Hangup,
        Signal::Quit,
        Signal::User1,
        Signal::User2,
        Signal::Child,
        Signal::Pipe,
        Signal::WindowChange,
    ];

    /// The signal's number (`libc::SIGINT` for `Interrupt`, ...).
    pub fn as_raw(self) -> libc::c_int {
        match self {
            Signal::Interrupt => libc::SIGINT,
            Signal::Terminate => libc::SIGTERM,
            Signal::Hangup => libc::SIGHUP,
            Signal::Quit => libc::SIGQUIT,
            Signal::User1 => libc::SIGUSR1,
            Signal::User2 => libc::SIGUSR2,
            Signal::Child => libc::SIGCHLD,
            Signal::Pipe => libc::SIGPIPE,
            Signal::WindowChange => libc::SIGWINCH,
        }
    }

    fn from_raw(sig: libc::c_int) -> Option<Signal> {
        Signal::ALL.into_iter().find(|s| s.as_raw() == sig)
    }
}

/// Where a watched signal goes.
enum Target {
    Chan(Sender<Signal>),
    /// `notify_context`'s inner context; `id` tells registrations apart.
    Cancel {
        cancel: Arc<CancelFunc>,
        id: u64,
    },
}

struct Watcher {
    /// Bit `n` set: watches signal number `n`.
    mask: u64,
    target: Target,
}

struct Registry {
    watchers: Vec<Watcher>,
    saved: Saved,
    next_id: u64,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    watchers: Vec::new(),
    saved: Saved::new(),
    next_id: 0,
});

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock_unpoisoned()
}

/// The bit mask of `signals` (all of them for an empty slice, as Go's
/// `Notify` with no signals).
fn mask_of(signals: &[Signal]) -> u64 {
    let signals = if signals.is_empty() {
        &Signal::ALL[..]
    } else {
        signals
    };
    signals.iter().fold(0, |m, s| m | 1 << s.as_raw())
}

/// The signal numbers whose bits `mask` sets (one bit per number below 64,
/// as `mask_of` makes them; Linux numbers signals up to `NSIG - 1` = 64).
fn signals_in(mask: u64) -> impl Iterator<Item = libc::c_int> {
    (1..(NSIG as libc::c_int).min(64)).filter(move |&sig| mask & 1 << sig != 0)
}

impl Registry {
    /// Catches the signals of `mask` and adds them to the watcher of the
    /// same channel, or adds `target` as a new watcher.
    #[track_caller]
    fn watch(&mut self, mask: u64, target: Target) {
        for sig in signals_in(mask) {
            if let Err(e) = self.saved.catch(sig) {
                panic!("goro: signal::notify cannot install a handler for signal {sig}: {e}");
            }
        }
        let existing = self
            .watchers
            .iter_mut()
            .find(|w| match (&w.target, &target) {
                (Target::Chan(a), Target::Chan(b)) => a.same_channel(b),
                _ => false,
            });
        match existing {
            Some(w) => w.mask |= mask,
            None => self.watchers.push(Watcher { mask, target }),
        }
    }

    /// Drops the watchers `gone` picks and restores the action of every
    /// signal nobody watches any more.
    fn unwatch(&mut self, gone: impl Fn(&Target) -> bool) -> Vec<Watcher> {
        let (removed, kept) = std::mem::take(&mut self.watchers)
            .into_iter()
            .partition(|w| gone(&w.target));
        self.watchers = kept;
        let removed: Vec<Watcher> = removed;
        let still = self.watchers.iter().fold(0, |m, w| m | w.mask);
        let dropped = removed.iter().fold(0, |m, w| m | w.mask) & !still;
        for sig in signals_in(dropped) {
            self.saved.release(sig);
        }
        removed
    }
}

/// Relays `signals` to `tx` (Go's `signal.Notify`): each arrival is
/// `try_send` on the channel, so delivery never blocks and a full channel
/// drops the signal; give the channel a buffer. An empty slice means every
/// [`Signal`]. Calling it again for the same channel adds signals; several
/// channels may watch one signal (each gets it).
///
/// # Panics
/// If the handler cannot be installed (the system refuses `sigaction`).
#[track_caller]
pub fn notify(tx: &Sender<Signal>, signals: &[Signal]) {
    registry().watch(mask_of(signals), Target::Chan(tx.clone()));
}

/// Stops relaying signals to `tx` (Go's `signal.Stop`); a signal nobody
/// watches any more gets back the action it had before it was watched.
/// When `stop` returns, no more signals will be sent on `tx`.
pub fn stop(tx: &Sender<Signal>) {
    let removed = registry().unwatch(|t| matches!(t, Target::Chan(c) if c.same_channel(tx)));
    drop(removed);
}

/// A child of `parent` that is cancelled when one of `signals` arrives
/// (Go's `signal.NotifyContext`): then `ctx.err()` is
/// `Some(Error::Canceled)`. Calling (or dropping) the returned
/// [`CancelFunc`] cancels the context and stops watching before it
/// returns, giving the signals back their earlier actions (so a second
/// Ctrl-C after it ends the program); until then, further signals are
/// caught and ignored. If `parent` is cancelled instead, the watch stops
/// shortly after, on a goroutine. An empty slice means every [`Signal`].
///
/// # Panics
/// Outside a goro runtime (the cleanup on `parent`'s cancellation runs
/// as a goroutine), or if the handler cannot be installed.
#[track_caller]
pub fn notify_context(parent: &Context, signals: &[Signal]) -> (Context, CancelFunc) {
    // Checked first: the cleanup below needs a runtime, and a watcher
    // registered before that panic would never be removed.
    if goro_scheduler::Handle::try_current().is_none() {
        panic!(
            "goro: signal::notify_context called outside a goro runtime; call it inside goro::run"
        );
    }
    // `outer` is what the caller's CancelFunc cancels; the signal cancels
    // `inner`, its child, so only the caller's cancel stops the watch.
    let (outer, stop_func) = context::with_cancel(parent);
    let (inner, cancel_inner) = context::with_cancel(&outer);
    let id = {
        let mut reg = registry();
        reg.next_id += 1;
        let id = reg.next_id;
        let target = Target::Cancel {
            cancel: Arc::new(cancel_inner),
            id,
        };
        reg.watch(mask_of(signals), target);
        id
    };
    let unwatch = move || {
        let removed = registry().unwatch(|t| matches!(t, Target::Cancel { id: i, .. } if *i == id));
        drop(removed);
    };
    // The caller's cancel unregisters synchronously; a cancelled parent
    // (which never runs that hook) unregisters on a goroutine.
    let _stays_registered = context::after_func(&outer, unwatch);
    (inner, stop_func.with_hook(unwatch))
}

/// Called by the `goro-signal` thread for each arrival of `sig`.
fn deliver(sig: libc::c_int) {
    let Some(signal) = Signal::from_raw(sig) else {
        return;
    };
    // Sends happen under the lock (they never block), so that once `stop`
    // has taken its watcher out no send can still be on its way. Cancels
    // run after it: a cancel may run hooks that take the lock.
    let cancels: Vec<Arc<CancelFunc>> = {
        let reg = registry();
        let mut cancels = Vec::new();
        for w in reg.watchers.iter().filter(|w| w.mask & 1 << sig != 0) {
            match &w.target {
                Target::Chan(tx) => {
                    // The runtime's own send: unchecked, so that a
                    // channel of a synctest bubble cannot make this thread
                    // (in no bubble) panic.
                    let _dropped_if_full = tx.send_now(signal);
                }
                Target::Cancel { cancel, .. } => cancels.push(cancel.clone()),
            }
        }
        cancels
    };
    for cancel in cancels {
        cancel.cancel();
    }
}
