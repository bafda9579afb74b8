//! Ready-made bodies of `GET /api/todos`, reused while the data is unchanged.
//!
//! Listing is the most frequent request and the most expensive one: a
//! hundred rows decoded and serialized each time. `Store::data_version`
//! tells cheaply whether anything changed since a body was built (on
//! PostgreSQL including writes by other instances), and an unchanged list
//! is served from memory.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderValue;

use crate::db::DataVersion;
use crate::domain::{Owner, TaskFilter};

/// Different filters and base URLs each keep their own entry; this bounds
/// the memory a client cycling through query strings can pin.
const MAX_ENTRIES: usize = 256;

/// Locks that let one request per list rebuild it while the others for
/// the same list wait and reuse its body (striped: different lists rarely
/// share one, and nothing needs cleaning up).
const REBUILD_LOCKS: usize = 16;

#[derive(Clone, Default)]
pub struct ListCache {
    inner: Arc<Mutex<Entries>>,
    rebuilding: Arc<[tokio::sync::Mutex<()>; REBUILD_LOCKS]>,
    hasher: std::collections::hash_map::RandomState,
}

/// One list: whose, under which base URL, with which filters.
pub type ListKey = (Owner, String, TaskFilter);

#[derive(Default)]
struct Entries {
    version: Option<DataVersion>,
    bodies: HashMap<ListKey, CachedList>,
}

#[derive(Clone)]
pub struct CachedList {
    pub body: Bytes,
    pub link: Option<HeaderValue>,
}

impl std::fmt::Debug for ListCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ListCache")
    }
}

impl ListCache {
    pub fn get(&self, version: &DataVersion, key: &ListKey) -> Option<CachedList> {
        let entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if entries.version.as_ref() != Some(version) {
            return None;
        }
        entries.bodies.get(key).cloned()
    }

    /// Held while rebuilding the list for `base` and `filter`. After a
    /// write, many requests miss at once; the first rebuilds, the rest wait
    /// here, then find its body. The flag says whether this one waited: only
    /// then is it worth taking the data version again and looking.
    pub async fn rebuild_turn(&self, key: &ListKey) -> (tokio::sync::MutexGuard<'_, ()>, bool) {
        let stripe = (self.hasher.hash_one(key) % REBUILD_LOCKS as u64) as usize;
        let lock = &self.rebuilding[stripe];
        match lock.try_lock() {
            Ok(turn) => (turn, false),
            Err(_) => (lock.lock().await, true),
        }
    }

    /// Stores a body read at `version`. Entries of older versions go.
    pub fn put(&self, version: DataVersion, key: ListKey, list: CachedList) {
        let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if entries.version.as_ref() != Some(&version) || entries.bodies.len() >= MAX_ENTRIES {
            entries.bodies.clear();
            entries.version = Some(version);
        }
        entries.bodies.insert(key, list);
    }
}
