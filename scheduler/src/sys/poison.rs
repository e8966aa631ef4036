//! Poison recovery for std's locks, in one place.
//!
//! The runtime's critical sections under std's `Mutex`/`RwLock` only
//! push, pop or read plain data and make no call that can panic halfway,
//! so the data is consistent even if a panic (a goroutine's, unwinding
//! through code that held the lock) poisoned it: the poison flag carries
//! no information here, and every lock is taken past it.

use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// A `Mutex` locked past poisoning (module docs). Public for
/// goro-runtime's own std locks, whose critical sections keep the same rule.
pub trait Unpoisoned<T: ?Sized> {
    /// Locks the mutex, poisoned or not.
    fn lock_unpoisoned(&self) -> MutexGuard<'_, T>;
}

impl<T: ?Sized> Unpoisoned<T> for Mutex<T> {
    fn lock_unpoisoned(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Read and write access to an `RwLock`, poisoned or not (module docs).
pub(crate) trait RwUnpoisoned<T: ?Sized> {
    fn read_unpoisoned(&self) -> RwLockReadGuard<'_, T>;
    fn write_unpoisoned(&self) -> RwLockWriteGuard<'_, T>;
}

impl<T: ?Sized> RwUnpoisoned<T> for RwLock<T> {
    fn read_unpoisoned(&self) -> RwLockReadGuard<'_, T> {
        self.read().unwrap_or_else(PoisonError::into_inner)
    }
    fn write_unpoisoned(&self) -> RwLockWriteGuard<'_, T> {
        self.write().unwrap_or_else(PoisonError::into_inner)
    }
}
