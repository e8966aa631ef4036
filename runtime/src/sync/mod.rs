//! `goro::sync`: Go's sync package for goroutines.
//!
//! Every primitive here parks the calling goroutine (never its OS thread)
//! through the scheduler's park/ready contract, and blocks the thread when
//! called from a plain OS thread, so goroutines and threads can share them.
//! Their queues of parked callers are `WaitList`s (`wait_list.rs`)
//! under the runtime's short futex [`Lock`](goro_scheduler::Lock), which no
//! user code ever runs under.
//!
//! - [`Mutex`] and [`RwLock`]: Go's sync.Mutex (normal and starvation
//!   modes) and RWMutex (a waiting writer blocks new readers), with std's
//!   guards and poisoning.
//! - [`Cond`]: Go's sync.Cond over a [`Mutex`] guard.
//! - [`Once`]: Go's sync.Once.
//! - [`Semaphore`]: golang.org/x/sync/semaphore's weighted FIFO semaphore.
//! - [`WaitGroup`]: Go's sync.WaitGroup.
//!
//! Use these, not `std::sync::Mutex`, for a lock whose guard may live
//! across a goro park (a channel operation, `sleep`, `join`, a socket
//! call): a goroutine that parks holding a std guard leaves its M free to
//! run another goroutine, and if that one takes the same std lock it
//! blocks the thread, on which the holder alone could unlock it. The
//! thread hangs for good. A std lock held only around plain computation is
//! fine.

mod cond;
mod mutex;
mod once;
mod poison;
mod raw_mutex;
mod raw_rw_lock;
mod rw_lock;
mod semaphore;
mod wait_group;
mod wait_list;

pub use cond::Cond;
pub use mutex::{Mutex, MutexGuard};
pub use once::Once;
pub use rw_lock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::Semaphore;
pub use wait_group::WaitGroup;
