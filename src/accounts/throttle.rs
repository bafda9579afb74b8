//! Rate limits on password guesses and sign-ups, shared by every instance
//! through the database.
//!
//! Each key (a client address or a username, per action) counts attempts.
//! The first few are free; after that the key is refused for a time that
//! doubles with each further failure, up to `MAX_BLOCK`. A key that stays
//! quiet for `FORGET_AFTER` starts over. A refused attempt costs no password
//! hash.
//!
//! An attempt is counted *before* its password is checked, by a
//! compare-and-swap on the entry: of two concurrent attempts one writes
//! first and the other sees its count (and the block it started). So a burst
//! sent at once gets exactly the guesses the same attempts would get one
//! after another. An attempt that turns out right gives its count back.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

use crate::db::accounts::ThrottleRecord;
use crate::db::{Store, StoreResult};
use crate::domain::Username;

const FREE_FAILURES: i32 = 5;
const MAX_BLOCK: Duration = Duration::minutes(15);
const FORGET_AFTER: Duration = Duration::hours(1);
/// Entries past `FORGET_AFTER` are deleted at most this often per process.
const SWEEP_EVERY: Duration = Duration::minutes(5);
/// Compare-and-swap rounds before a contended key is refused for now.
const MAX_ROUNDS: usize = 64;

/// The throttle of one process (the counts live in the database).
#[derive(Clone, Debug, Default)]
pub struct Throttle {
    /// When this process last swept out forgotten entries (Unix seconds).
    last_sweep: Arc<AtomicI64>,
}

/// What an admitted attempt reserved, to give back if it succeeds.
#[must_use = "a successful attempt must give its count back"]
#[derive(Debug)]
pub struct Admission {
    reserved: Vec<(String, Option<ThrottleRecord>)>,
}

/// The throttle keys of an action.
#[derive(Debug, Clone)]
pub struct Keys(Vec<String>);

impl Keys {
    /// A login (or token request) for `username` from `client`. A name that
    /// is not a valid username cannot exist: it is counted against the
    /// address only, and never stored.
    pub fn login(client: &str, username: Option<&Username>) -> Self {
        let mut keys = vec![format!("login:ip:{client}")];
        if let Some(name) = username {
            keys.push(format!("login:user:{}", name.key()));
        }
        Self(keys)
    }

    pub fn signup(client: &str) -> Self {
        Self(vec![format!("signup:ip:{client}")])
    }
}

impl Throttle {
    /// Counts an attempt against every key, or says how long they are
    /// still refused. Nothing is written for a refused attempt.
    pub async fn admit(
        &self,
        store: &Store,
        keys: &Keys,
    ) -> StoreResult<Result<Admission, std::time::Duration>> {
        self.sweep_now_and_then(store).await?;
        let mut reserved = Vec::with_capacity(keys.0.len());
        for key in &keys.0 {
            match reserve(store, key).await? {
                Ok(previous) => reserved.push((key.clone(), previous)),
                Err(wait) => {
                    // Give back what the earlier keys took.
                    Admission { reserved }.give_back(store).await?;
                    return Ok(Err(wait));
                }
            }
        }
        Ok(Ok(Admission { reserved }))
    }

    async fn sweep_now_and_then(&self, store: &Store) -> StoreResult<()> {
        let now = Utc::now();
        let last = self.last_sweep.load(Ordering::Relaxed);
        if now.timestamp() - last < SWEEP_EVERY.num_seconds()
            || self
                .last_sweep
                .compare_exchange(last, now.timestamp(), Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
        {
            return Ok(());
        }
        let swept = store.sweep_throttle(now - FORGET_AFTER).await?;
        if swept > 0 {
            tracing::debug!(swept, "forgot quiet login throttle entries");
        }
        Ok(())
    }
}

/// Counts one attempt against `key` unless it is blocked. Returns the entry
/// as it was before, so a success can restore it.
async fn reserve(
    store: &Store,
    key: &str,
) -> StoreResult<Result<Option<ThrottleRecord>, std::time::Duration>> {
    for _ in 0..MAX_ROUNDS {
        let now = Utc::now();
        let previous = store.throttle(key).await?;
        if let Some(p) = &previous
            && p.blocked_until > now
        {
            return Ok(Err((p.blocked_until - now).to_std().unwrap_or_default()));
        }
        let next = next_record(previous.as_ref(), now);
        if store.swap_throttle(key, previous.as_ref(), &next).await? {
            return Ok(Ok(previous));
        }
    }
    // Others keep winning the race for this key: that is a burst, so wait.
    Ok(Err(std::time::Duration::from_secs(1)))
}

impl Admission {
    /// The attempt was right: the username starts over, and the address
    /// gets its count back (if nobody counted against it since, its entry
    /// is put back as it was; otherwise the later attempts' counts stand).
    pub async fn succeeded(self, store: &Store) -> StoreResult<()> {
        for (key, previous) in self.reserved {
            if key.starts_with("login:user:") {
                store.clear_throttle(&key).await?;
            } else {
                give_back_one(store, &key, previous.as_ref()).await?;
            }
        }
        Ok(())
    }

    /// The attempt was wrong: its wait starts now, after the password
    /// check, not when the attempt was counted (a slow check must not eat
    /// into the wait). Entries changed since by a later attempt already
    /// carry that attempt's later wait.
    pub async fn failed(self, store: &Store) -> StoreResult<()> {
        for (key, previous) in self.reserved {
            let Some(mine) = store.throttle(&key).await? else {
                continue;
            };
            if !wrote_by_this_attempt(&mine, previous.as_ref()) {
                continue;
            }
            let now = Utc::now();
            let restamped = ThrottleRecord {
                last_failure: now,
                blocked_until: now + block_after(mine.failures),
                ..mine.clone()
            };
            store.swap_throttle(&key, Some(&mine), &restamped).await?;
        }
        Ok(())
    }

    async fn give_back(self, store: &Store) -> StoreResult<()> {
        for (key, previous) in self.reserved {
            give_back_one(store, &key, previous.as_ref()).await?;
        }
        Ok(())
    }
}

async fn give_back_one(
    store: &Store,
    key: &str,
    previous: Option<&ThrottleRecord>,
) -> StoreResult<()> {
    let Some(mine) = store.throttle(key).await? else {
        return Ok(());
    };
    if !wrote_by_this_attempt(&mine, previous) {
        return Ok(());
    }
    match previous {
        Some(p) => {
            store.swap_throttle(key, Some(&mine), p).await?;
        }
        None => store.clear_throttle(key).await?,
    }
    Ok(())
}

/// Whether `current` is still the entry this attempt wrote: one version
/// past `previous`, the one it read. Once a later attempt has counted
/// against the key, the entry carries that attempt's count and wait, so it
/// is theirs: neither restamped nor given back.
fn wrote_by_this_attempt(current: &ThrottleRecord, previous: Option<&ThrottleRecord>) -> bool {
    current.version == next_version(previous)
}

/// The version the entry after `previous` carries.
fn next_version(previous: Option<&ThrottleRecord>) -> i64 {
    previous.map_or(1, |p| p.version + 1)
}

/// How long a key waits after its `failures`-th failure.
fn block_after(failures: i32) -> Duration {
    if failures > FREE_FAILURES {
        let doublings = (failures - FREE_FAILURES).min(20) as u32;
        Duration::seconds(1i64 << doublings).min(MAX_BLOCK)
    } else {
        Duration::zero()
    }
}

fn next_record(previous: Option<&ThrottleRecord>, now: DateTime<Utc>) -> ThrottleRecord {
    let failures = match previous {
        Some(p) if now - p.last_failure < FORGET_AFTER => p.failures.saturating_add(1),
        _ => 1,
    };
    ThrottleRecord {
        failures,
        last_failure: now,
        blocked_until: now + block_after(failures),
        version: next_version(previous),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_grows_after_the_free_failures_and_is_capped() {
        let now = Utc::now();
        let mut record = None;
        let mut blocks = Vec::new();
        for _ in 0..20 {
            let next = next_record(record.as_ref(), now);
            blocks.push((next.blocked_until - now).num_seconds());
            record = Some(next);
        }
        assert_eq!(&blocks[..5], &[0, 0, 0, 0, 0]);
        assert_eq!(&blocks[5..9], &[2, 4, 8, 16]);
        assert_eq!(*blocks.last().unwrap(), 900);
        // Quiet for an hour: the count starts over.
        let later = now + FORGET_AFTER + Duration::seconds(1);
        assert_eq!(next_record(record.as_ref(), later).failures, 1);
    }

    #[test]
    fn an_entry_is_this_attempts_until_another_attempt_writes() {
        let now = Utc::now();
        let first = next_record(None, now);
        assert!(wrote_by_this_attempt(&first, None));
        let second = next_record(Some(&first), now);
        assert!(wrote_by_this_attempt(&second, Some(&first)));
        let third = next_record(Some(&second), now);
        assert!(!wrote_by_this_attempt(&third, Some(&first)));
        assert!(!wrote_by_this_attempt(&third, None));
    }

    #[test]
    fn invalid_usernames_are_counted_against_the_address_only() {
        let keys = Keys::login("192.0.2.1", None);
        assert_eq!(keys.0, vec!["login:ip:192.0.2.1".to_owned()]);
        let name = Username::parse("Alice").unwrap();
        let keys = Keys::login("192.0.2.1", Some(&name));
        assert_eq!(keys.0[1], "login:user:alice");
    }
}
