//! Which runtime context is the calling code in?
//!
//! A thread is either a worker M (its scheduler loop set `Current::M`),
//! a helper thread of a runtime (`blocking` pool, sysmon: `Current::Helper`),
//! or a plain thread (`Current::None`).
//!
//! Soundness rule (docs/soundness.md): the runtime never keeps a TLS address
//! alive across a goroutine switch. Every read goes through the
//! `#[inline(never)]` accessors below, so the thread pointer is recomputed
//! on each call and LLVM cannot hoist it over a switch in a caller's frame.
//! After a park, goroutine code learns its M from the resume value instead.

use std::cell::Cell;

use crate::sched::m::MLocal;
use crate::sched::Sched;

#[derive(Clone, Copy)]
pub(crate) enum Current {
    None,
    M(*const MLocal),
    Helper(*const Sched),
}

thread_local! {
    static CURRENT: Cell<Current> = const { Cell::new(Current::None) };
}

/// The calling thread's context.
#[inline(never)]
pub(crate) fn get() -> Current {
    CURRENT.with(|c| c.get())
}

/// Replaces the calling thread's context, returning the previous one.
#[inline(never)]
pub(crate) fn set(new: Current) -> Current {
    CURRENT.with(|c| c.replace(new))
}

/// The worker the calling code runs on, if any.
#[inline]
pub(crate) fn m<'a>() -> Option<&'a MLocal> {
    match get() {
        // SAFETY: a worker sets `Current::M` to its `MLocal`, which lives
        // on the worker thread's own stack for the whole scheduler loop, and
        // clears it before that frame ends; we are on that thread.
        Current::M(l) => Some(unsafe { &*l }),
        _ => None,
    }
}

/// Runs `f` with the runtime the calling thread belongs to (an M's, or a
/// helper thread's); `None` on a plain thread.
pub(crate) fn with_sched<R>(f: impl FnOnce(&Sched) -> R) -> Option<R> {
    match get() {
        Current::M(_) => m().map(|l| f(&l.sched)),
        // SAFETY: a helper thread holds an Arc of its Sched for as long as
        // it is marked as a helper (`Current::Helper`).
        Current::Helper(s) => Some(f(unsafe { &*s })),
        Current::None => None,
    }
}
