//! Turns per list: work that must not overlap for one owner's list (a move
//! reads the order and writes it back in several updates) takes turns with
//! other work on the same list, and never waits for another account's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

use crate::domain::ListId;

/// One lock per owner, made when first needed and forgotten when nobody
/// holds or waits for it, so the map stays as small as the lists in use.
#[derive(Clone, Debug, Default)]
pub struct Turns {
    locks: Arc<Mutex<HashMap<ListId, Arc<tokio::sync::Mutex<()>>>>>,
}

/// A turn on one owner's list, until dropped.
pub struct Turn {
    _guard: OwnedMutexGuard<()>,
}

impl Turns {
    /// Waits for `list` to be free, then holds it.
    pub async fn take(&self, list: ListId) -> Turn {
        let lock = {
            let mut locks = self.map();
            // Forget the locks that nobody holds or waits for: the map
            // keeps the only reference to those.
            locks.retain(|_, lock| Arc::strong_count(lock) > 1);
            locks.entry(list).or_default().clone()
        };
        Turn {
            _guard: lock.lock_owned().await,
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<ListId, Arc<tokio::sync::Mutex<()>>>> {
        // Every statement leaves the map whole, so a poisoned lock is safe.
        self.locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lists_take_turns_alone() {
        let turns = Turns::default();
        let ada = ListId(1);
        let bob = ListId(2);
        let first = turns.take(ada).await;
        // Bob does not wait for Ada.
        let _bob = tokio::time::timeout(std::time::Duration::from_secs(1), turns.take(bob))
            .await
            .expect("another list is free");
        // Ada's second turn waits for her first.
        let waiting = tokio::spawn({
            let turns = turns.clone();
            async move { turns.take(ada).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!waiting.is_finished());
        drop(first);
        waiting.await.unwrap();
    }
}
