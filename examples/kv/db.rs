//! The keyspace: keys hashed onto shards, each a `HashMap` behind its own
//! `goro::sync::Mutex`, so connections touching different keys never wait
//! on one another and there is no global lock on the hot path.
//!
//! A goro mutex parks the goroutine, never the OS thread, and every hold is
//! a few map operations with no I/O inside, so contention stays short.
//!
//! Expiry works in two ways, as in Redis:
//! - lazily: [`Shard::get`] and [`Shard::get_mut`] treat an entry whose
//!   deadline has passed as absent and remove it;
//! - actively: every shard keeps a min-heap of (deadline, key); the
//!   sweeper goroutine (`sweeper.rs`) calls [`Db::sweep`], which pops the
//!   due deadlines and removes the keys still carrying them. A heap entry
//!   whose key was since deleted, overwritten or given another deadline is
//!   stale and is skipped when it comes due; when stale entries outnumber
//!   the keys, the heap is rebuilt from the map, so it stays O(keys).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::hash::BuildHasher;
use std::time::Instant;

use goro::sync::{Mutex, MutexGuard};

/// A key's value: Redis's string and list types.
pub enum Value {
    Str(Vec<u8>),
    List(VecDeque<Vec<u8>>),
}

pub struct Entry {
    pub value: Value,
    /// When the key expires; `None`: never. Changed only through [`Shard`],
    /// which keeps a heap entry for every `Some`.
    expires: Option<Instant>,
}

impl Entry {
    pub fn expires(&self) -> Option<Instant> {
        self.expires
    }

    fn expired(&self, now: Instant) -> bool {
        self.expires.is_some_and(|t| t <= now)
    }
}

/// One shard. Invariant: every entry with `expires == Some(t)` has a
/// `(t, key)` in `deadlines` (which may also hold stale pairs).
#[derive(Default)]
pub struct Shard {
    entries: HashMap<Vec<u8>, Entry>,
    deadlines: BinaryHeap<Reverse<(Instant, Vec<u8>)>>,
}

impl Shard {
    /// The live entry for `key`, removing it if it has expired.
    pub fn get(&mut self, key: &[u8], now: Instant) -> Option<&Entry> {
        self.get_mut(key, now).map(|e| &*e)
    }

    /// Like [`get`](Shard::get), mutably. Changing the value keeps the
    /// key's deadline (INCR and LPUSH keep a TTL, as in Redis).
    pub fn get_mut(&mut self, key: &[u8], now: Instant) -> Option<&mut Entry> {
        if self.entries.get(key)?.expired(now) {
            self.entries.remove(key);
            return None;
        }
        self.entries.get_mut(key)
    }

    /// Sets `key` to `value` with deadline `expires`, replacing any entry.
    pub fn set(&mut self, key: &[u8], value: Value, expires: Option<Instant>) {
        if let Some(t) = expires {
            self.deadlines.push(Reverse((t, key.to_vec())));
        }
        match self.entries.get_mut(key) {
            Some(e) => *e = Entry { value, expires },
            None => {
                self.entries.insert(key.to_vec(), Entry { value, expires });
            }
        }
    }

    /// Gives the live `key` deadline `expires`; false when there is no such key.
    pub fn set_expiry(&mut self, key: &[u8], expires: Option<Instant>, now: Instant) -> bool {
        let Some(e) = self.get_mut(key, now) else {
            return false;
        };
        e.expires = expires;
        if let Some(t) = expires {
            self.deadlines.push(Reverse((t, key.to_vec())));
        }
        true
    }

    /// Removes `key`; whether a live one was there.
    pub fn remove(&mut self, key: &[u8], now: Instant) -> bool {
        self.entries.remove(key).is_some_and(|e| !e.expired(now))
    }

    /// Removes the keys whose deadline is at or before `now`; how many.
    fn sweep(&mut self, now: Instant) -> usize {
        let mut removed = 0;
        while let Some(Reverse((t, _))) = self.deadlines.peek() {
            if *t > now {
                break;
            }
            let Some(Reverse((t, key))) = self.deadlines.pop() else {
                unreachable!("peeked")
            };
            if self.entries.get(&key).is_some_and(|e| e.expires == Some(t)) {
                self.entries.remove(&key);
                removed += 1;
            }
        }
        if self.deadlines.len() > 2 * self.entries.len() + 64 {
            self.deadlines = self
                .entries
                .iter()
                .filter_map(|(k, e)| e.expires.map(|t| Reverse((t, k.clone()))))
                .collect();
        }
        removed
    }
}

/// The whole keyspace (Redis's db 0).
pub struct Db {
    shards: Box<[Mutex<Shard>]>,
    hasher: std::hash::RandomState,
}

impl Db {
    /// A keyspace of `shards` shards (at least one).
    pub fn new(shards: usize) -> Db {
        Db {
            shards: (0..shards.max(1)).map(|_| Mutex::default()).collect(),
            hasher: std::hash::RandomState::new(),
        }
    }

    /// Which shard holds `key`.
    pub fn shard_of(&self, key: &[u8]) -> usize {
        (self.hasher.hash_one(key) % self.shards.len() as u64) as usize
    }

    /// Locks the shard holding `key`.
    pub fn shard(&self, key: &[u8]) -> MutexGuard<'_, Shard> {
        self.shards[self.shard_of(key)].lock()
    }

    /// Locks shards `indices` (sorted, without repeats, so that two callers
    /// always lock in the same order and cannot deadlock), for commands
    /// that must change several keys at once (MSET).
    pub fn lock_sorted(&self, indices: &[usize]) -> Vec<MutexGuard<'_, Shard>> {
        debug_assert!(indices.windows(2).all(|w| w[0] < w[1]));
        indices.iter().map(|&i| self.shards[i].lock()).collect()
    }

    /// (keys, keys with a deadline), expired but unswept keys included
    /// (as Redis's DBSIZE counts them).
    pub fn counts(&self) -> (usize, usize) {
        self.shards.iter().fold((0, 0), |(keys, expiring), s| {
            let s = s.lock();
            let e = s.entries.values().filter(|e| e.expires.is_some()).count();
            (keys + s.entries.len(), expiring + e)
        })
    }

    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().entries.len()).sum()
    }

    /// FLUSHALL: removes every key.
    pub fn clear(&self) {
        for s in self.shards.iter() {
            *s.lock() = Shard::default();
        }
    }

    /// Removes every key whose deadline is at or before `now`, one shard
    /// lock at a time; how many.
    pub fn sweep(&self, now: Instant) -> usize {
        self.shards.iter().map(|s| s.lock().sweep(now)).sum()
    }
}
