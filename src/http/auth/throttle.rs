//! Rate limits on password guesses and sign-ups, shared by every instance
//! through the database.
//!
//! Each key (a client address or a username, per action) counts consecutive
//! failures. The first few are free; after that the key is refused for a
//! time that doubles with each further failure, up to `MAX_BLOCK`. A key
//! that stays quiet for `FORGET_AFTER` starts over. A refused attempt costs
//! no password hash.

use chrono::{DateTime, Duration, Utc};

use crate::db::accounts::ThrottleRecord;
use crate::db::{Store, StoreResult};

const FREE_FAILURES: i32 = 5;
const MAX_BLOCK: Duration = Duration::minutes(15);
const FORGET_AFTER: Duration = Duration::hours(1);

/// How long a key is still refused, if it is.
pub async fn blocked_for(
    store: &Store,
    keys: &[String],
) -> StoreResult<Option<std::time::Duration>> {
    let now = Utc::now();
    let mut longest = None;
    for key in keys {
        if let Some(record) = store.throttle(key).await?
            && record.blocked_until > now
        {
            let left = (record.blocked_until - now).to_std().unwrap_or_default();
            longest = longest.max(Some(left));
        }
    }
    Ok(longest)
}

/// Counts a failure (or a sign-up) against each key.
pub async fn record_failure(store: &Store, keys: &[String]) -> StoreResult<()> {
    let now = Utc::now();
    for key in keys {
        let previous = store.throttle(key).await?;
        let record = next_record(previous.as_ref(), now);
        store.set_throttle(key, &record).await?;
    }
    Ok(())
}

pub async fn forget(store: &Store, key: &str) -> StoreResult<()> {
    store.clear_throttle(key).await
}

fn next_record(previous: Option<&ThrottleRecord>, now: DateTime<Utc>) -> ThrottleRecord {
    let failures = match previous {
        Some(p) if now - p.last_failure < FORGET_AFTER => p.failures.saturating_add(1),
        _ => 1,
    };
    let block = if failures > FREE_FAILURES {
        let doublings = (failures - FREE_FAILURES).min(20) as u32;
        Duration::seconds(1i64 << doublings).min(MAX_BLOCK)
    } else {
        Duration::zero()
    };
    ThrottleRecord {
        failures,
        last_failure: now,
        blocked_until: now + block,
    }
}

/// The keys of a login (or token request) for `username` from `client`.
pub fn login_keys(client: &str, username_key: &str) -> Vec<String> {
    vec![
        format!("login:ip:{client}"),
        format!("login:user:{username_key}"),
    ]
}

pub fn signup_keys(client: &str) -> Vec<String> {
    vec![format!("signup:ip:{client}")]
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
}
