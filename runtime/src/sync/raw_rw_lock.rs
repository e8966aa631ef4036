//! The locking algorithm behind [`RwLock`](super::RwLock): Go's
//! sync.RWMutex policy (a waiting writer blocks new readers; a writer's
//! unlock lets the readers that queued meanwhile in first, then the next
//! writer waits for them), with direct hand-over from a [`WaitList`] of
//! readers and one of writers.
//!
//! One atomic word holds the reader count and the flags `WRITER` (held for
//! writing), `WRITERS_WAITING` and `READERS_WAITING`. The fast paths are one
//! CAS each (`read` adds a reader while no writer holds or waits; `write`
//! takes a free lock) plus a `fetch_sub` / CAS to unlock. Everything else
//! happens under the queues' short [`Lock`], where the flags change, and
//! [`dispatch`](RawRwLock::dispatch) decides who gets the lock next: the
//! waiters it picks are granted the lock before they are woken (reader
//! count or `WRITER` already set for them), so a woken waiter never has to
//! compete.
//!
//! Readers cannot starve a writer (new readers queue behind it) and writers
//! cannot starve readers (a writer's unlock grants every queued reader).
//! Like Go's, a reader must not read-lock again while it holds the lock: a
//! writer queued in between deadlocks them both.

use std::sync::atomic::{AtomicU32, Ordering};

use goro_scheduler::{Lock, LockGuard};

use super::wait_list::{park_on, wake_all, Queue, Unwound, Wait, WaitList, Woken};
use crate::sched::WaitReason;

const WRITER: u32 = 1 << 31;
const WRITERS_WAITING: u32 = 1 << 30;
const READERS_WAITING: u32 = 1 << 29;
const READERS: u32 = READERS_WAITING - 1;

#[derive(Default)]
struct Queues {
    readers: WaitList,
    writers: WaitList,
}

pub(crate) struct RawRwLock {
    state: AtomicU32,
    queues: Lock<Queues>,
}

/// Which side of the lock a waiter is on.
#[derive(Clone, Copy)]
enum Side {
    Read,
    Write,
}

impl RawRwLock {
    pub(crate) const fn new() -> RawRwLock {
        RawRwLock {
            state: AtomicU32::new(0),
            queues: Lock::new(Queues {
                readers: WaitList::new(),
                writers: WaitList::new(),
            }),
        }
    }

    #[inline]
    pub(crate) fn read(&self) {
        if !self.try_read() {
            self.lock_slow(Side::Read);
        }
    }

    /// Adds a reader if no writer holds the lock or waits for it.
    #[inline]
    pub(crate) fn try_read(&self) -> bool {
        self.state
            .fetch_update(Ordering::Acquire, Ordering::Relaxed, |s| {
                (s & (WRITER | WRITERS_WAITING) == 0).then(|| add_readers(s, 1))
            })
            .is_ok()
    }

    #[inline]
    pub(crate) fn write(&self) {
        if !self.try_write() {
            self.lock_slow(Side::Write);
        }
    }

    /// Takes the lock for writing if nobody holds it.
    #[inline]
    pub(crate) fn try_write(&self) -> bool {
        self.state
            .fetch_update(Ordering::Acquire, Ordering::Relaxed, |s| {
                (s & (WRITER | READERS) == 0).then_some(s | WRITER)
            })
            .is_ok()
    }

    /// Removes a reader.
    ///
    /// # Safety
    /// The caller holds a read lock it took with `read`/`try_read`.
    #[inline]
    pub(crate) unsafe fn read_unlock(&self) {
        let prev = self.state.fetch_sub(1, Ordering::Release);
        debug_assert!(prev & READERS != 0, "read_unlock without a reader");
        if prev & READERS == 1 && prev & (WRITERS_WAITING | READERS_WAITING) != 0 {
            self.unlock_slow(0, false);
        }
    }

    /// Releases the write lock.
    ///
    /// # Safety
    /// The caller holds the write lock it took with `write`/`try_write`.
    #[inline]
    pub(crate) unsafe fn write_unlock(&self) {
        if self
            .state
            .compare_exchange(WRITER, 0, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            // Readers that queued during the write go first.
            self.unlock_slow(WRITER, true);
        }
    }

    #[cold]
    fn lock_slow(&self, side: Side) {
        crate::preempt_point(); // see RawMutex::lock_slow
        let queues = self.queues.lock();
        let (wanted, blocked_by, flag, reason) = match side {
            Side::Read => (
                1,
                WRITER | WRITERS_WAITING,
                READERS_WAITING,
                WaitReason::SyncRwLockRead,
            ),
            Side::Write => (
                WRITER,
                WRITER | READERS,
                WRITERS_WAITING,
                WaitReason::SyncRwLockWrite,
            ),
        };
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            let (new, free) = if s & blocked_by == 0 {
                (take(s, wanted), true)
            } else {
                (s | flag, false)
            };
            match self
                .state
                .compare_exchange_weak(s, new, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) if free => return,
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        let wait = Wait {
            data: (),
            queue: Queue::Back,
            reason,
        };
        let list: fn(&mut Queues) -> &mut WaitList = match side {
            Side::Read => |q| &mut q.readers,
            Side::Write => |q| &mut q.writers,
        };
        let granted = park_on(
            &self.queues,
            queues,
            list,
            wait,
            || {},
            |how| self.unwound(side, how),
        );
        debug_assert!(granted, "RwLock waiters are only woken with the lock");
    }

    #[cold]
    fn unlock_slow(&self, clear: u32, prefer_readers: bool) {
        let mut queues = self.queues.lock();
        let woken = self.dispatch(&mut queues, clear, prefer_readers);
        drop(queues);
        wake_all(woken);
    }

    /// With the queues locked: clears `clear` (a writer's `WRITER`), grants
    /// the lock to whoever may have it now and recomputes the waiting flags.
    /// Returns the granted waiters, to wake once the lock is released.
    ///
    /// With the lock free of writers: queued readers go first if
    /// `prefer_readers` (a writer just left) or if no writer waits; else the
    /// first writer, once the readers are gone.
    fn dispatch(
        &self,
        queues: &mut LockGuard<'_, Queues>,
        clear: u32,
        prefer_readers: bool,
    ) -> Vec<Woken> {
        let (waiting_readers, waiting_writers) = (queues.readers.len(), queues.writers.len());
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            let base = s & !clear;
            let (mut readers, mut writer) = (0, false);
            if base & WRITER == 0 {
                if waiting_readers > 0 && (prefer_readers || waiting_writers == 0) {
                    readers = waiting_readers;
                } else if base & READERS == 0 && waiting_writers > 0 {
                    writer = true;
                }
            }
            let mut new = add_readers(base & (WRITER | READERS), readers as u32);
            if writer {
                new |= WRITER;
            }
            if waiting_writers > usize::from(writer) {
                new |= WRITERS_WAITING;
            }
            if waiting_readers > readers {
                new |= READERS_WAITING;
            }
            match self
                .state
                .compare_exchange_weak(s, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) if writer => return queues.writers.pop_front(true).into_iter().collect(),
                Ok(_) => {
                    return if readers > 0 {
                        queues.readers.take_all(true)
                    } else {
                        Vec::new()
                    }
                }
                Err(now) => s = now,
            }
        }
    }

    /// A parked reader or writer is being unwound: give back its place or
    /// the lock it was granted.
    #[cold]
    fn unwound(&self, side: Side, how: Unwound) {
        match (how, side) {
            (Unwound::Withdrawn, _) => self.unlock_slow(0, false),
            (Unwound::Woken { .. }, Side::Read) => {
                // SAFETY: woken readers were granted a read lock.
                unsafe { self.read_unlock() }
            }
            (Unwound::Woken { .. }, Side::Write) => {
                // SAFETY: woken writers were granted the write lock.
                unsafe { self.write_unlock() }
            }
        }
    }
}

/// `s` with what a free lock gives to `wanted` (one reader, or `WRITER`).
fn take(s: u32, wanted: u32) -> u32 {
    if wanted == WRITER {
        s | WRITER
    } else {
        add_readers(s, 1)
    }
}

/// `s` with `n` more readers.
#[track_caller]
fn add_readers(s: u32, n: u32) -> u32 {
    if (s & READERS) + n > READERS {
        panic!("goro::sync::RwLock: too many readers");
    }
    s + n
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    /// A writer queued behind a reader blocks new readers (writer
    /// preference), and gets the lock when the reader leaves.
    #[test]
    fn a_waiting_writer_blocks_new_readers() {
        let l = Arc::new(RawRwLock::new());
        l.read();
        let writer = {
            let l = l.clone();
            std::thread::spawn(move || {
                l.write();
                // SAFETY: we hold the write lock.
                unsafe { l.write_unlock() };
            })
        };
        while l.state.load(Ordering::Relaxed) & WRITERS_WAITING == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(!l.try_read(), "a reader got in past a waiting writer");
        // SAFETY: we hold a read lock.
        unsafe { l.read_unlock() };
        writer.join().unwrap();
        assert!(l.try_read());
        // SAFETY: the `try_read` just above took a read lock.
        unsafe { l.read_unlock() };
        assert_eq!(l.state.load(Ordering::Relaxed), 0, "flags left set");
    }

    #[test]
    #[should_panic(expected = "too many readers")]
    fn reader_overflow_panics() {
        add_readers(READERS, 1);
    }
}
