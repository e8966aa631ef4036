//! `RwLock<T>`: Go's sync.RWMutex with std's data-owning, guard-based API.
//!
//! The algorithm (writer preference, hand-over to queued readers and
//! writers) is [`RawRwLock`]; this file adds the data, the guards and
//! poisoning as std does it: a writer that panics poisons the lock, a reader
//! does not. `read()`/`write()` panic on a poisoned lock (see `poison.rs`),
//! `read_result()`/`write_result()` and the `try_` variants report it.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::{LockResult, TryLockError, TryLockResult};

use super::poison;
use super::raw_rw_lock::RawRwLock;

/// A reader-writer lock protecting a `T`: many readers or one writer.
///
/// ```
/// # use goro_runtime as goro;
/// goro::run(|| {
///     let lock = goro::sync::RwLock::new(5);
///     {
///         let (a, b) = (lock.read(), lock.read());
///         assert_eq!(*a + *b, 10);
///     }
///     *lock.write() += 1;
///     assert_eq!(*lock.read(), 6);
/// });
/// ```
pub struct RwLock<T: ?Sized> {
    raw: RawRwLock,
    poison: poison::Flag,
    data: UnsafeCell<T>,
}

// SAFETY: the lock owns the `T` and moves with it (as std's RwLock).
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: readers on several threads share `&T` (needs `T: Sync`), a writer
// gets `&mut T` on any thread (needs `T: Send`), as std's RwLock.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

/// Shared access to an [`RwLock`]'s data; releases it when dropped.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized + 'a> {
    lock: &'a RwLock<T>,
    _not_send: PhantomData<*const ()>,
}

/// Exclusive access to an [`RwLock`]'s data; releases it when dropped.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized + 'a> {
    lock: &'a RwLock<T>,
    poison: poison::Guard,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: a shared guard gives `&T` only (as std's guards).
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}
// SAFETY: a shared write guard gives `&T` only (`&mut T` needs the guard
// itself), so sharing it needs `T: Sync` (as std's guards).
unsafe impl<T: ?Sized + Sync> Sync for RwLockWriteGuard<'_, T> {}

impl<T> RwLock<T> {
    /// A new unlocked lock (usable in a `static`).
    pub const fn new(value: T) -> RwLock<T> {
        RwLock {
            raw: RawRwLock::new(),
            poison: poison::Flag::new(),
            data: UnsafeCell::new(value),
        }
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Locks for reading, parking while a writer holds the lock or waits
    /// for it.
    ///
    /// # Panics
    /// If the lock is poisoned; see [`read_result`](Self::read_result).
    #[track_caller]
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        poison::or_panic("RwLock", self.read_result())
    }

    /// Locks for reading, reporting poisoning as std's `RwLock::read`.
    pub fn read_result(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        self.raw.read();
        self.read_guard()
    }

    /// Locks for reading if that needs no wait.
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        crate::preempt_point(); // see Mutex::try_lock
        if !self.raw.try_read() {
            return Err(TryLockError::WouldBlock);
        }
        self.read_guard().map_err(TryLockError::Poisoned)
    }

    /// Locks for writing, parking until no reader or writer holds it.
    ///
    /// # Panics
    /// If the lock is poisoned; see [`write_result`](Self::write_result).
    #[track_caller]
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        poison::or_panic("RwLock", self.write_result())
    }

    /// Locks for writing, reporting poisoning as std's `RwLock::write`.
    pub fn write_result(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        let poison = poison::Guard::before_locking();
        self.raw.write();
        self.write_guard(poison)
    }

    /// Locks for writing if nobody holds the lock now.
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        crate::preempt_point(); // see Mutex::try_lock
        let poison = poison::Guard::before_locking();
        if !self.raw.try_write() {
            return Err(TryLockError::WouldBlock);
        }
        self.write_guard(poison).map_err(TryLockError::Poisoned)
    }

    /// The guard for a read lock just taken (it owns that lock now).
    fn read_guard(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        let guard = RwLockReadGuard {
            lock: self,
            _not_send: PhantomData,
        };
        poison::map_result(self.poison.is_poisoned(), guard)
    }

    /// The guard for the write lock just taken (it owns that lock now).
    fn write_guard(&self, poison: poison::Guard) -> LockResult<RwLockWriteGuard<'_, T>> {
        let guard = RwLockWriteGuard {
            lock: self,
            poison,
            _not_send: PhantomData,
        };
        poison::map_result(self.poison.is_poisoned(), guard)
    }
}

poison::std_lock_surface!(RwLock, try_read, poison);

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds a read lock: no writer has `&mut T`.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: the guard holds a read lock, released once, here.
        unsafe { self.lock.raw.read_unlock() }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the write lock.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the write lock, and `&mut self` makes this
        // the only reference through it.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        if self.poison.poisons() {
            self.lock.poison.set_poisoned();
        }
        // SAFETY: the guard holds the write lock, released once, here.
        unsafe { self.lock.raw.write_unlock() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
