//! A small map of recent lookups, each trusted for a short time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Enough for every active session of a busy instance; past it the map is
/// emptied rather than evicted entry by entry (lookups just hit the
/// database again).
const MAX_ENTRIES: usize = 50_000;

/// Values by key, with when each was fetched.
type Entries<V> = HashMap<Vec<u8>, (Instant, V)>;

#[derive(Clone)]
pub struct FreshCache<V> {
    entries: Arc<Mutex<Entries<V>>>,
    fresh_for: Duration,
}

impl<V> std::fmt::Debug for FreshCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FreshCache")
    }
}

impl<V: Clone> FreshCache<V> {
    pub fn new(fresh_for: Duration) -> Self {
        Self {
            entries: Arc::new(Mutex::new(HashMap::new())),
            fresh_for,
        }
    }

    /// The value for `key`: remembered if looked up within `fresh_for`,
    /// else fetched (and remembered).
    pub async fn get_or_fetch<E, F>(&self, key: &[u8], fetch: impl FnOnce() -> F) -> Result<V, E>
    where
        F: Future<Output = Result<V, E>>,
    {
        if let Some((at, value)) = self.lock().get(key)
            && at.elapsed() < self.fresh_for
        {
            return Ok(value.clone());
        }
        let value = fetch().await?;
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key.to_vec(), (Instant::now(), value.clone()));
        Ok(value)
    }

    pub fn forget(&self, key: &[u8]) {
        self.lock().remove(key);
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<V>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}
