//! Who a session cookie or an API token stands for.
//!
//! Lookups are kept for `CHECK_AGAIN_AFTER`, so a busy client costs one
//! query a second, and a logout or revocation on another instance holds
//! here within about a second.

use std::time::Duration;

use chrono::Utc;

use super::cache::FreshCache;
use super::secrets;
use crate::db::accounts::{SessionRecord, TokenRecord, User};
use crate::db::{Store, StoreError};

const CHECK_AGAIN_AFTER: Duration = Duration::from_secs(1);

/// `last_seen_at` / `last_used_at` are written at most this often. Tokens
/// always wait this long: they never end for being idle, so `last_used_at`
/// only tells people when a token was last used. A session waits a quarter
/// of the idle timeout when that is shorter, so one in use never looks idle.
const TOUCH_AT_MOST_EVERY: Duration = Duration::from_secs(60);

/// A caller whose credentials checked out.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub via: Via,
}

#[derive(Debug, Clone)]
pub enum Via {
    /// The session cookie's secret (its hash is the session's key).
    Session {
        secret: String,
    },
    Token {
        id: i64,
    },
}

#[derive(Clone, Debug)]
pub(super) struct Credentials {
    sessions: FreshCache<Option<SessionRecord>>,
    tokens: FreshCache<Option<TokenRecord>>,
    idle_timeout: chrono::Duration,
    session_touch_every: chrono::Duration,
    token_touch_every: chrono::Duration,
}

impl Credentials {
    pub fn new(idle_timeout: Duration) -> Self {
        let to_chrono = |d| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        Self {
            sessions: FreshCache::new(CHECK_AGAIN_AFTER),
            tokens: FreshCache::new(CHECK_AGAIN_AFTER),
            idle_timeout: to_chrono(idle_timeout),
            session_touch_every: to_chrono(TOUCH_AT_MOST_EVERY.min(idle_timeout / 4)),
            token_touch_every: to_chrono(TOUCH_AT_MOST_EVERY),
        }
    }

    pub fn forget_session(&self, hash: &[u8]) {
        self.sessions.forget(hash);
    }

    pub fn forget_all_tokens(&self) {
        self.tokens.clear();
    }

    /// After a change that ends some sessions or tokens (other processes
    /// notice within `CHECK_AGAIN_AFTER`).
    pub fn forget_all(&self) {
        self.sessions.clear();
        self.tokens.clear();
    }

    pub async fn session(
        &self,
        store: &Store,
        secret: &str,
    ) -> Result<Option<SignedIn>, StoreError> {
        if !secrets::looks_like_secret(secret) {
            return Ok(None);
        }
        let hash = secrets::storage_hash(secret);
        let record = self
            .sessions
            .get_or_fetch(&hash, || store.session(&hash))
            .await?;
        let Some(record) = record else {
            return Ok(None);
        };
        let now = Utc::now();
        if record.expires_at <= now || now - record.last_seen_at > self.idle_timeout {
            self.sessions.forget(&hash);
            store.delete_session(&hash).await?;
            return Ok(None);
        }
        if now - record.last_seen_at > self.session_touch_every {
            self.sessions.forget(&hash);
            store.touch_session(&hash, now).await?;
        }
        Ok(Some(SignedIn {
            user: record.user,
            via: Via::Session {
                secret: secret.to_owned(),
            },
        }))
    }

    pub async fn token(&self, store: &Store, token: &str) -> Result<Option<SignedIn>, StoreError> {
        let Some(secret) = token
            .strip_prefix(secrets::TOKEN_PREFIX)
            .filter(|s| secrets::looks_like_secret(s))
        else {
            return Ok(None);
        };
        let hash = secrets::storage_hash(&format!("{}{secret}", secrets::TOKEN_PREFIX));
        let record = self
            .tokens
            .get_or_fetch(&hash, || store.token(&hash))
            .await?;
        let Some(record) = record else {
            return Ok(None);
        };
        let now = Utc::now();
        if record.expires_at.is_some_and(|at| at <= now) {
            return Ok(None);
        }
        if record
            .last_used_at
            .is_none_or(|at| now - at > self.token_touch_every)
        {
            self.tokens.forget(&hash);
            store.touch_token(record.token_id, now).await?;
        }
        Ok(Some(SignedIn {
            user: record.user,
            via: Via::Token {
                id: record.token_id,
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sessions_are_touched_more_often_for_a_short_idle_timeout() {
        let seconds = chrono::Duration::seconds;
        let short = Credentials::new(Duration::from_secs(20));
        assert_eq!(short.session_touch_every, seconds(5));
        assert_eq!(short.token_touch_every, seconds(60));
        let long = Credentials::new(Duration::from_secs(7 * 86_400));
        assert_eq!(long.session_touch_every, seconds(60));
        assert_eq!(long.token_touch_every, seconds(60));
    }
}
