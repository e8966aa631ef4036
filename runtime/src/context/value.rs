//! Request-scoped values (Go's `WithValue`).
//!
//! A key is any `K: Any + Eq + Send + Sync` and matches a lookup key of the
//! same type that compares equal, so two libraries that both use the string
//! `"user"` clash (as in Go), while a private key type (`struct UserKey;`,
//! Go's `type ctxKey struct{}` idiom) can only ever match itself. A value
//! node stores its key and value together in one box behind [`Entry`], which
//! lets a lookup compare keys without knowing the value's type.

use std::any::Any;

/// A key and its value, type-erased.
pub(super) trait Entry: Send + Sync {
    fn key(&self) -> &dyn Any;
    fn value(&self) -> &dyn Any;
}

struct Pair<K, V> {
    key: K,
    value: V,
}

impl<K, V> Entry for Pair<K, V>
where
    K: Any + Send + Sync,
    V: Any + Send + Sync,
{
    fn key(&self) -> &dyn Any {
        &self.key
    }

    fn value(&self) -> &dyn Any {
        &self.value
    }
}

pub(super) fn entry<K, V>(key: K, value: V) -> Box<dyn Entry>
where
    K: Any + Eq + Send + Sync,
    V: Any + Send + Sync,
{
    Box::new(Pair { key, value })
}

/// Whether `entry`'s key is `key` (same type, equal).
pub(super) fn matches<K: Any + Eq>(entry: &dyn Entry, key: &K) -> bool {
    entry.key().downcast_ref::<K>() == Some(key)
}
