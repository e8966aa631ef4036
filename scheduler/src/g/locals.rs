//! `goroutine_local!`: storage that follows the goroutine.
//!
//! The replacement for `thread_local!` inside goroutines: each goroutine
//! sees its own value, created lazily by the initializer on first access and
//! dropped when the goroutine ends (in the goroutine's own context). Values
//! live in boxes owned by the G, so a reference handed to `with` stays valid
//! across parks, and for `spawn_migratory` goroutines across moves too.
//! Called outside any goroutine (a plain thread), the key behaves like a
//! `thread_local!`.

use std::any::Any;
use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A key for goroutine-local storage; create with [`goroutine_local!`](crate::goroutine_local).
pub struct GoroutineLocal<T: 'static> {
    init: fn() -> T,
    key: AtomicUsize,
}

/// Values of one goroutine (or plain thread), indexed by key.
#[derive(Default)]
pub(crate) struct Locals {
    slots: Vec<Option<Box<dyn Any>>>,
}

impl Locals {
    /// Removes every value; the caller drops them outside the borrow, so a
    /// destructor may itself use goroutine-local storage.
    pub(crate) fn take_all(&mut self) -> Vec<Option<Box<dyn Any>>> {
        std::mem::take(&mut self.slots)
    }

    fn get(&self, key: usize) -> Option<*const dyn Any> {
        self.slots
            .get(key)
            .and_then(|s| s.as_deref())
            .map(|v| v as *const dyn Any)
    }

    fn insert(&mut self, key: usize, v: Box<dyn Any>) -> *const dyn Any {
        if self.slots.len() <= key {
            self.slots.resize_with(key + 1, || None);
        }
        // A recursive initialization may have stored a value first: keep it.
        &**self.slots[key].get_or_insert(v) as *const dyn Any
    }
}

static NEXT_KEY: AtomicUsize = AtomicUsize::new(1);

thread_local! {
    static THREAD_LOCALS: RefCell<Locals> = RefCell::new(Locals::default());
}

impl<T: 'static> GoroutineLocal<T> {
    #[doc(hidden)]
    pub const fn new(init: fn() -> T) -> GoroutineLocal<T> {
        GoroutineLocal {
            init,
            key: AtomicUsize::new(0),
        }
    }

    fn key(&self) -> usize {
        match self.key.load(Ordering::Acquire) {
            0 => {
                let k = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
                match self
                    .key
                    .compare_exchange(0, k, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => k,
                    Err(existing) => existing,
                }
            }
            k => k,
        }
    }

    /// Runs `f` with this goroutine's value, initializing it on first use.
    pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        let key = self.key();
        let v = match crate::g::current_g() {
            Some(g) => self.get_or_init(&g.locals, key),
            None => THREAD_LOCALS.with(|cell| self.get_or_init(cell, key)),
        };
        // SAFETY: the value is boxed and owned by this goroutine's (or
        // thread's) `Locals`, which removes values only when the goroutine
        // ends or the thread exits, after any `with` call on it returned.
        let v = unsafe { &*v };
        f(v.downcast_ref::<T>()
            .expect("goro: goroutine-local type mismatch"))
    }

    fn get_or_init(&self, cell: &RefCell<Locals>, key: usize) -> *const dyn Any {
        if let Some(v) = cell.borrow().get(key) {
            return v;
        }
        // The initializer runs with no borrow held: it may use other keys.
        let v: Box<dyn Any> = Box::new((self.init)());
        cell.borrow_mut().insert(key, v)
    }
}

/// Declares goroutine-local storage, the goroutine counterpart of `thread_local!`.
///
/// ```
/// goro_scheduler::goroutine_local! { static REQUESTS: std::cell::Cell<u32> = std::cell::Cell::new(0); }
/// REQUESTS.with(|r| r.set(r.get() + 1));
/// ```
#[macro_export]
macro_rules! goroutine_local {
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr; $($rest:tt)*) => {
        $(#[$attr])* $vis static $name: $crate::GoroutineLocal<$t> =
            $crate::GoroutineLocal::new(|| $init);
        $crate::goroutine_local!($($rest)*);
    };
    () => {};
}
