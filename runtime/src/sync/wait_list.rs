//! The FIFO of goroutines (or threads) parked on one sync primitive.
//!
//! A primitive keeps a `WaitList` inside the state its [`Lock`] guards and
//! blocks with [`park_on`]: it registers the caller under the lock (at the
//! back, or at the front for a waiter that lost a race and queues again),
//! releases the lock, parks, and withdraws the registration if the caller is
//! unwound while parked (an abandoned goroutine at runtime shutdown), so a
//! waker never finds a goroutine that is gone.
//!
//! Wakers take waiters out under the lock, each with a verdict (Go's
//! `sudog.ticket`): *granted* hands the waiter what it waited for (a
//! mutex's ownership, a semaphore's tokens), *retry* only wakes it to try
//! again. The verdict is written into a slot on the parker's stack before
//! the lock is released and read by the parker when its `park` returns; the
//! wake itself ([`Woken::wake`]) is made after the lock is released.
//!
//! A parker unwound after it was taken out but before it ran again still
//! holds its verdict; [`park_on`] hands it to the primitive's `on_unwind`
//! hook ([`Unwound`]), which gives back what was granted so the primitive
//! stays usable.

use std::collections::VecDeque;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};

use goro_scheduler::{Lock, LockGuard};

use crate::sched::{current_waiter, park, WaitReason, Waiter};

/// Parked callers in arrival order, each with the primitive's data `D`
/// (a wait start, a weight, ...).
pub(crate) struct WaitList<D = ()> {
    waiters: VecDeque<Entry<D>>,
}

struct Entry<D> {
    waiter: Waiter,
    data: D,
    /// The parker's verdict slot (see the module comment).
    granted: NonNull<AtomicBool>,
}

// SAFETY: `granted` points at a slot on the stack of a parker that stays
// in `park_on` until it was taken out of the list (the slot is written only
// then, under the list's lock) or has withdrawn itself under that lock, so
// the entry may be handled from any thread holding the lock. `Waiter` is
// `Send`, and `D: Send` covers the data.
unsafe impl<D: Send> Send for Entry<D> {}

impl<D> Default for WaitList<D> {
    fn default() -> Self {
        WaitList::new()
    }
}

/// Where [`park_on`] queues the caller.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Queue {
    /// Behind everyone (a new arrival).
    Back,
    /// Ahead of everyone (a woken waiter that lost the race again: Go's
    /// LIFO requeue, so it keeps its place).
    Front,
}

/// What [`park_on`] registers for the caller.
pub(crate) struct Wait<D> {
    pub data: D,
    pub queue: Queue,
    pub reason: WaitReason,
}

/// How a parker left when it was unwound while parked.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Unwound {
    /// Still queued: it withdrew itself; the list may now be empty.
    Withdrawn,
    /// Already taken out, with this verdict (`true`: granted).
    Woken { granted: bool },
}

/// A waiter taken out of a [`WaitList`], to wake once the lock is released.
#[must_use = "a waiter taken out must be woken"]
pub(crate) struct Woken<D = ()> {
    waiter: Waiter,
    pub data: D,
}

impl<D> WaitList<D> {
    pub(crate) const fn new() -> Self {
        WaitList {
            waiters: VecDeque::new(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.waiters.len()
    }

    /// The data of the first waiter.
    pub(crate) fn front(&self) -> Option<&D> {
        self.waiters.front().map(|e| &e.data)
    }

    /// Takes the first waiter out with its verdict.
    pub(crate) fn pop_front(&mut self, granted: bool) -> Option<Woken<D>> {
        self.waiters.pop_front().map(|e| e.take(granted))
    }

    /// Takes every waiter out with the same verdict.
    pub(crate) fn take_all(&mut self, granted: bool) -> Vec<Woken<D>> {
        self.waiters.drain(..).map(|e| e.take(granted)).collect()
    }

    fn withdraw(&mut self, me: &Waiter) -> bool {
        match self.waiters.iter().position(|e| e.waiter.same_as(me)) {
            Some(i) => {
                self.waiters.remove(i);
                true
            }
            None => false,
        }
    }
}

impl<D> Entry<D> {
    /// Writes the verdict (the caller holds the list's lock).
    fn take(self, granted: bool) -> Woken<D> {
        // SAFETY: the parker is still in `park_on` (it cannot leave before it
        // is woken or has withdrawn under the lock we hold), so its slot is
        // alive; see `Entry`'s `Send` impl.
        unsafe { self.granted.as_ref() }.store(granted, Ordering::Relaxed);
        Woken {
            waiter: self.waiter,
            data: self.data,
        }
    }
}

impl<D> Woken<D> {
    /// Wakes the waiter; its `park_on` returns the verdict.
    pub(crate) fn wake(self) {
        // SAFETY: each entry was registered once by `park_on` and taken out
        // of its list once, under the primitive's lock, so it is woken once.
        unsafe { self.waiter.wake() };
    }
}

/// Wakes waiters taken from a [`WaitList`].
pub(crate) fn wake_all<D>(waiters: Vec<Woken<D>>) {
    waiters.into_iter().for_each(Woken::wake);
}

/// Queues the caller as `wait` says on the list `list` selects from the
/// guarded state, releases `guard`, runs `before_park` (e.g. Cond releasing
/// its mutex, once the caller is registered) and parks until a waker takes
/// it out and wakes it. Returns the waker's verdict (`true`: granted).
///
/// If the caller is unwound while parked, `on_unwind` is called (without
/// the lock) with how it left, after the registration was withdrawn.
pub(crate) fn park_on<S, D>(
    lock: &Lock<S>,
    mut guard: LockGuard<'_, S>,
    list: fn(&mut S) -> &mut WaitList<D>,
    wait: Wait<D>,
    before_park: impl FnOnce(),
    on_unwind: impl FnOnce(Unwound),
) -> bool {
    let granted = AtomicBool::new(false);
    let entry = Entry {
        waiter: current_waiter(),
        data: wait.data,
        granted: NonNull::from(&granted),
    };
    let waiters = &mut list(&mut guard).waiters;
    match wait.queue {
        Queue::Back => waiters.push_back(entry),
        Queue::Front => waiters.push_front(entry),
    }
    drop(guard);
    let withdraw = Withdraw {
        lock,
        list,
        granted: &granted,
        on_unwind: Some(on_unwind),
    };
    before_park();
    park(wait.reason);
    std::mem::forget(withdraw);
    // The waker wrote the verdict before the wake that ended `park`.
    granted.load(Ordering::Relaxed)
}

/// Takes the caller's registration back if it is unwound while parked, and
/// reports how it left.
struct Withdraw<'a, S, D, F: FnOnce(Unwound)> {
    lock: &'a Lock<S>,
    list: fn(&mut S) -> &mut WaitList<D>,
    granted: &'a AtomicBool,
    on_unwind: Option<F>,
}

impl<S, D, F: FnOnce(Unwound)> Drop for Withdraw<'_, S, D, F> {
    fn drop(&mut self) {
        let me = current_waiter();
        let withdrawn = (self.list)(&mut self.lock.lock()).withdraw(&me);
        let how = if withdrawn {
            Unwound::Withdrawn
        } else {
            Unwound::Woken {
                granted: self.granted.load(Ordering::Relaxed),
            }
        };
        if let Some(f) = self.on_unwind.take() {
            f(how);
        }
    }
}
