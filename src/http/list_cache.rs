//! Ready-made bodies of `GET /api/todos`, reused while the data is unchanged.
//!
//! Listing is the most frequent request and the most expensive one: a
//! hundred rows decoded and serialized each time. `Store::data_version`
//! tells cheaply whether anything changed since a body was built (on
//! PostgreSQL including writes by other instances), and an unchanged list
//! is served from memory.
//!
//! The handler only calls [`ListCache::get_or_build`] with the plain query
//! as `build`; with the cache switched off (`LIST_CACHE=false`, or
//! [`ListCache::disabled`] in tests) that is all that runs.
//!
//! A body also keeps its brotli and gzip forms ([`CachedList::compressed`]),
//! each made when a client first asks for it, so a cached list is not
//! compressed again for every request.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderValue;

use crate::db::DataVersion;
use crate::domain::{ListId, TaskFilter};
use crate::http::compression::Coding;

/// Different filters and base URLs each keep their own entry; this bounds
/// the memory a client cycling through query strings can pin.
const MAX_ENTRIES: usize = 256;

/// Locks that let one request per list rebuild it while the others for
/// the same list wait and reuse its body (striped: different lists rarely
/// share one, and nothing needs cleaning up).
const REBUILD_LOCKS: usize = 16;

#[derive(Clone)]
pub struct ListCache {
    /// `None`: switched off; every list is built.
    shared: Option<Arc<Shared>>,
}

struct Shared {
    entries: Mutex<Entries>,
    rebuilding: [tokio::sync::Mutex<()>; REBUILD_LOCKS],
    hasher: std::collections::hash_map::RandomState,
}

/// One list: which, under which base URL, with which filters. Who may read
/// it is checked before the cache is asked.
pub type ListKey = (ListId, String, TaskFilter);

#[derive(Default)]
struct Entries {
    version: Option<DataVersion>,
    bodies: HashMap<ListKey, CachedList>,
}

/// A list as it is sent: the JSON body and the `Link` to the next page.
#[derive(Clone)]
pub struct CachedList {
    pub body: Bytes,
    pub link: Option<HeaderValue>,
    /// `body` compressed, shared by the clones the cache hands out.
    compressed: Arc<Compressed>,
}

#[derive(Default)]
struct Compressed {
    brotli: tokio::sync::OnceCell<Bytes>,
    gzip: tokio::sync::OnceCell<Bytes>,
}

impl CachedList {
    pub fn new(body: Bytes, link: Option<HeaderValue>) -> Self {
        Self {
            body,
            link,
            compressed: Arc::default(),
        }
    }

    /// The body in `coding`: compressed on the first call, then kept for
    /// as long as the list is. Requests that ask meanwhile wait for that
    /// one compression instead of each doing their own.
    pub async fn compressed(&self, coding: Coding) -> std::io::Result<Bytes> {
        let cell = match coding {
            Coding::Brotli => &self.compressed.brotli,
            Coding::Gzip => &self.compressed.gzip,
        };
        cell.get_or_try_init(|| coding.encode(&self.body))
            .await
            .cloned()
    }
}

impl std::fmt::Debug for ListCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.shared.is_some() {
            "ListCache"
        } else {
            "ListCache(disabled)"
        })
    }
}

impl Default for ListCache {
    fn default() -> Self {
        Self::new(true)
    }
}

impl ListCache {
    /// A cache, or (`enabled` false) a stand-in that always builds.
    pub fn new(enabled: bool) -> Self {
        Self {
            shared: enabled.then(|| {
                Arc::new(Shared {
                    entries: Mutex::default(),
                    rebuilding: Default::default(),
                    hasher: Default::default(),
                })
            }),
        }
    }

    pub fn disabled() -> Self {
        Self::new(false)
    }

    /// The list for `key`, from memory if nothing changed since it was
    /// built, else from `build`. `version` reads the store's data version;
    /// it is read before building, so a write during the build makes the
    /// stored body stale rather than wrong.
    ///
    /// After a write, many requests miss at once: one builds, the others
    /// for the same list wait for it, then read the version again and find
    /// its body.
    pub async fn get_or_build<V, VF, VE, B, BF, E>(
        &self,
        version: V,
        key: ListKey,
        build: B,
    ) -> Result<CachedList, E>
    where
        V: Fn() -> VF,
        VF: Future<Output = Result<DataVersion, VE>>,
        B: FnOnce() -> BF,
        BF: Future<Output = Result<CachedList, E>>,
        E: From<VE>,
    {
        let Some(shared) = &self.shared else {
            return build().await;
        };
        let mut seen = version().await?;
        if let Some(list) = shared.get(&seen, &key) {
            return Ok(list);
        }
        let lock = &shared.rebuilding[shared.stripe(&key)];
        let _turn = match lock.try_lock() {
            Ok(turn) => turn,
            Err(_) => {
                // Someone is building this list (or one sharing its
                // stripe): wait, then see whether their body will do.
                let turn = lock.lock().await;
                seen = version().await?;
                if let Some(list) = shared.get(&seen, &key) {
                    return Ok(list);
                }
                turn
            }
        };
        let list = build().await?;
        shared.put(seen, key, list.clone());
        Ok(list)
    }
}

impl Shared {
    fn stripe(&self, key: &ListKey) -> usize {
        (self.hasher.hash_one(key) % REBUILD_LOCKS as u64) as usize
    }

    fn get(&self, version: &DataVersion, key: &ListKey) -> Option<CachedList> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.version.as_ref() != Some(version) {
            return None;
        }
        entries.bodies.get(key).cloned()
    }

    /// Stores a body read at `version`. Entries of older versions go.
    fn put(&self, version: DataVersion, key: ListKey, list: CachedList) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.version.as_ref() != Some(&version) || entries.bodies.len() >= MAX_ENTRIES {
            entries.bodies.clear();
            entries.version = Some(version);
        }
        entries.bodies.insert(key, list);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_list_is_compressed_once_per_coding() {
        let list = CachedList::new(Bytes::from(b"[{\"title\":\"milk\"}]".repeat(100)), None);
        // What the cache hands out are clones; they share what was made.
        let copy = list.clone();
        let brotli = list.compressed(Coding::Brotli).await.unwrap();
        let again = copy.compressed(Coding::Brotli).await.unwrap();
        assert_eq!(brotli.as_ptr(), again.as_ptr(), "compressed a second time");
        let gzip = copy.compressed(Coding::Gzip).await.unwrap();
        assert_ne!(gzip, brotli);
        assert_eq!(
            list.compressed(Coding::Gzip).await.unwrap().as_ptr(),
            gzip.as_ptr()
        );
    }
}
