//! Accounts, sessions, API tokens and the login throttle. Secrets the
//! clients hold (session and API tokens) arrive here already hashed.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::pool::{BackendConnection, run};
use super::tasks::now;
use super::{Store, StoreError, StoreResult};
use crate::domain::{ListName, Owner, UserId, Username};

/// An account as the rest of the app sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: String,
}

/// An account with its password hash, for checking a login.
#[derive(Debug, Clone, FromRow)]
pub struct Credentials {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
}

/// What a session cookie stands for, when valid.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user: User,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An API token as listed to its owner; never the token itself.
#[derive(Debug, Clone, FromRow, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInfo {
    #[schema(minimum = 1)]
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// About when it was last used (updated at most once a minute).
    #[schema(required = true)]
    pub last_used_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// What a presented API token stands for.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub user: User,
    pub token_id: i64,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A throttle entry: consecutive failures and until when the key is refused.
#[derive(Debug, Clone, FromRow)]
pub struct ThrottleRecord {
    pub failures: i32,
    pub last_failure: DateTime<Utc>,
    pub blocked_until: DateTime<Utc>,
    /// Moves on with every change (compare-and-swap).
    pub version: i64,
}

#[derive(FromRow)]
struct SessionRow {
    user_id: i64,
    username: String,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct TokenRow {
    id: i64,
    user_id: i64,
    username: String,
    last_used_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
}

/// The outcome of creating an account.
#[derive(Debug)]
pub struct NewAccount {
    pub user: User,
    /// Tasks from before accounts that the first account took over.
    pub claimed_tasks: u64,
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

impl Store {
    /// Creates an account. The first account ever created also takes the
    /// tasks of the shared list (those from before accounts were used).
    pub async fn create_user(
        &self,
        username: &Username,
        password_hash: &str,
    ) -> StoreResult<NewAccount> {
        let _write = self.write_guard().await;
        let ctx = StoreError::db;
        run!(self, |pool| async {
            let mut tx = pool
                .begin()
                .await
                .map_err(ctx("failed to start creating an account"))?;
            // Two first sign-ups at once must not both claim the tasks.
            tx.lock_accounts()
                .await
                .map_err(ctx("failed to lock the accounts"))?;
            let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(&mut *tx)
                .await
                .map_err(ctx("failed to count accounts"))?;
            let now = now();
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO users (username, username_key, password_hash, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4) RETURNING id",
            )
            .bind(username.as_str())
            .bind(username.key())
            .bind(password_hash)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|err| {
                if is_unique_violation(&err) {
                    StoreError::UsernameTaken
                } else {
                    ctx("failed to create an account")(err)
                }
            })?;
            let list: i64 = sqlx::query_scalar(
                "INSERT INTO lists (owner, name, position, is_default, created_at, updated_at) \
                 VALUES ($1, $2, 1, TRUE, $3, $3) RETURNING id",
            )
            .bind(id)
            .bind(ListName::DEFAULT)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(ctx("failed to create the account's list"))?;
            let claimed_tasks = if existing == 0 {
                sqlx::query(
                    "UPDATE tasks SET list_id = $1, created_by = $2 WHERE list_id = \
                     (SELECT id FROM lists WHERE owner = 0 AND is_default)",
                )
                .bind(list)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(ctx(
                    "failed to give the existing tasks to the first account",
                ))?
                .rows_affected()
            } else {
                0
            };
            tx.commit()
                .await
                .map_err(ctx("failed to commit the new account"))?;
            Ok(NewAccount {
                user: User {
                    id: UserId(id),
                    username: username.as_str().to_owned(),
                },
                claimed_tasks,
            })
        })
    }

    /// The account named `username` (in any case), with its password hash.
    pub async fn user_credentials(&self, username: &Username) -> StoreResult<Option<Credentials>> {
        run!(self, "failed to look up an account", |pool| async {
            sqlx::query_as("SELECT id, username, password_hash FROM users WHERE username_key = $1")
                .bind(username.key())
                .fetch_optional(pool)
                .await
        })
    }

    /// The password hash of an account, to check it before a change.
    pub async fn password_hash(&self, user: UserId) -> StoreResult<Option<String>> {
        run!(self, "failed to read a password hash", |pool| async {
            sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
                .bind(user.0)
                .fetch_optional(pool)
                .await
        })
    }

    /// Sets a new password hash, ends every other session of the account
    /// and revokes its API tokens: whoever held the old password may have
    /// made them.
    pub async fn set_password(
        &self,
        user: UserId,
        password_hash: &str,
        keep_session: &[u8],
    ) -> StoreResult<()> {
        let _write = self.write_guard().await;
        let ctx = StoreError::db;
        run!(self, |pool| async {
            let mut tx = pool
                .begin()
                .await
                .map_err(ctx("failed to start a password change"))?;
            sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
                .bind(user.0)
                .bind(password_hash)
                .bind(now())
                .execute(&mut *tx)
                .await
                .map_err(ctx("failed to change a password"))?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
                .bind(user.0)
                .bind(keep_session)
                .execute(&mut *tx)
                .await
                .map_err(ctx("failed to end the other sessions"))?;
            sqlx::query("DELETE FROM api_tokens WHERE user_id = $1")
                .bind(user.0)
                .execute(&mut *tx)
                .await
                .map_err(ctx("failed to revoke the API tokens"))?;
            tx.commit()
                .await
                .map_err(ctx("failed to commit a password change"))
        })
    }

    /// Deletes an account with all its tasks, sessions and tokens.
    pub async fn delete_user(&self, user: UserId) -> StoreResult<u64> {
        let _write = self.write_guard().await;
        let ctx = StoreError::db;
        let tasks = run!(self, |pool| async {
            let mut tx = pool
                .begin()
                .await
                .map_err(ctx("failed to start deleting an account"))?;
            let tasks = sqlx::query(
                "DELETE FROM tasks WHERE list_id IN (SELECT id FROM lists WHERE owner = $1)",
            )
            .bind(Owner::user(user).value())
            .execute(&mut *tx)
            .await
            .map_err(ctx("failed to delete an account's tasks"))?
            .rows_affected();
            sqlx::query("DELETE FROM lists WHERE owner = $1")
                .bind(Owner::user(user).value())
                .execute(&mut *tx)
                .await
                .map_err(ctx("failed to delete an account's lists"))?;
            // Sessions, tokens and memberships go with the row (ON DELETE
            // CASCADE); tasks it made in others' lists keep no creator.
            sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(user.0)
                .execute(&mut *tx)
                .await
                .map_err(ctx("failed to delete an account"))?;
            tx.commit()
                .await
                .map_err(ctx("failed to commit deleting an account"))?;
            Ok(tasks)
        })?;
        self.default_lists.forget(Owner::user(user));
        Ok(tasks)
    }

    /// How many accounts exist.
    pub async fn count_users(&self) -> StoreResult<i64> {
        run!(self, "failed to count accounts", |pool| async {
            sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(pool)
                .await
        })
    }

    // ---- Sessions -----------------------------------------------------

    pub async fn create_session(
        &self,
        user: UserId,
        token_hash: &[u8],
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let _write = self.write_guard().await;
        let now = now();
        run!(self, "failed to create a session", |pool| async {
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at) \
                 VALUES ($1, $2, $3, $3, $4)",
            )
            .bind(token_hash)
            .bind(user.0)
            .bind(now)
            .bind(expires_at)
            .execute(pool)
            .await
            .map(|_| ())
        })
    }

    /// The session of a cookie, expired or not (the caller decides).
    pub async fn session(&self, token_hash: &[u8]) -> StoreResult<Option<SessionRecord>> {
        let row: Option<SessionRow> = run!(self, "failed to read a session", |pool| async {
            sqlx::query_as(
                "SELECT s.user_id, u.username, s.created_at, s.last_seen_at, s.expires_at \
                         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row.map(|r| SessionRecord {
            user: User {
                id: UserId(r.user_id),
                username: r.username,
            },
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
        }))
    }

    /// Records that a session was used (for its idle expiry).
    pub async fn touch_session(&self, token_hash: &[u8], at: DateTime<Utc>) -> StoreResult<()> {
        let _write = self.write_guard().await;
        run!(self, "failed to refresh a session", |pool| async {
            sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
                .bind(token_hash)
                .bind(at)
                .execute(pool)
                .await
                .map(|_| ())
        })
    }

    pub async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        let _write = self.write_guard().await;
        run!(self, "failed to delete a session", |pool| async {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(pool)
                .await
                .map(|_| ())
        })
    }

    /// Ends every session of an account and revokes its API tokens ("log
    /// out everywhere"). Returns how many sessions and tokens ended.
    pub async fn end_all_credentials(&self, user: UserId) -> StoreResult<(u64, u64)> {
        let _write = self.write_guard().await;
        let ctx = StoreError::db;
        run!(self, |pool| async {
            let mut tx = pool
                .begin()
                .await
                .map_err(ctx("failed to start logging out everywhere"))?;
            let sessions = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user.0)
                .execute(&mut *tx)
                .await
                .map_err(ctx("failed to delete sessions"))?
                .rows_affected();
            let tokens = sqlx::query("DELETE FROM api_tokens WHERE user_id = $1")
                .bind(user.0)
                .execute(&mut *tx)
                .await
                .map_err(ctx("failed to revoke API tokens"))?
                .rows_affected();
            tx.commit()
                .await
                .map_err(ctx("failed to commit logging out everywhere"))?;
            Ok((sessions, tokens))
        })
    }

    /// Removes sessions past their absolute lifetime or idle limit.
    pub async fn delete_stale_sessions(&self, idle_since: DateTime<Utc>) -> StoreResult<u64> {
        let _write = self.write_guard().await;
        run!(self, "failed to delete stale sessions", |pool| async {
            sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR last_seen_at < $2")
                .bind(now())
                .bind(idle_since)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })
    }

    // ---- API tokens ---------------------------------------------------

    pub async fn create_token(
        &self,
        user: UserId,
        name: &str,
        token_hash: &[u8],
        expires_at: Option<DateTime<Utc>>,
    ) -> StoreResult<TokenInfo> {
        let _write = self.write_guard().await;
        run!(self, "failed to create an API token", |pool| async {
            sqlx::query_as(
                "INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5) \
                     RETURNING id, name, created_at, last_used_at, expires_at",
            )
            .bind(user.0)
            .bind(name)
            .bind(token_hash)
            .bind(now())
            .bind(expires_at)
            .fetch_one(pool)
            .await
        })
    }

    pub async fn list_tokens(&self, user: UserId) -> StoreResult<Vec<TokenInfo>> {
        run!(self, "failed to list API tokens", |pool| async {
            sqlx::query_as(
                "SELECT id, name, created_at, last_used_at, expires_at FROM api_tokens \
                     WHERE user_id = $1 ORDER BY id",
            )
            .bind(user.0)
            .fetch_all(pool)
            .await
        })
    }

    /// Revokes one of `user`'s tokens; false when they have no such token.
    pub async fn delete_token(&self, user: UserId, id: i64) -> StoreResult<bool> {
        let _write = self.write_guard().await;
        run!(self, "failed to revoke an API token", |pool| async {
            sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(user.0)
                .execute(pool)
                .await
                .map(|r| r.rows_affected() > 0)
        })
    }

    /// The token with this hash, expired or not (the caller decides).
    pub async fn token(&self, token_hash: &[u8]) -> StoreResult<Option<TokenRecord>> {
        let row: Option<TokenRow> = run!(self, "failed to read an API token", |pool| async {
            sqlx::query_as(
                "SELECT t.id, t.user_id, u.username, t.last_used_at, t.expires_at \
                 FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row.map(|r| TokenRecord {
            user: User {
                id: UserId(r.user_id),
                username: r.username,
            },
            token_id: r.id,
            last_used_at: r.last_used_at,
            expires_at: r.expires_at,
        }))
    }

    pub async fn touch_token(&self, id: i64, at: DateTime<Utc>) -> StoreResult<()> {
        let _write = self.write_guard().await;
        run!(self, "failed to record an API token's use", |pool| async {
            sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                .bind(id)
                .bind(at)
                .execute(pool)
                .await
                .map(|_| ())
        })
    }

    // ---- Throttle -----------------------------------------------------

    pub async fn throttle(&self, key: &str) -> StoreResult<Option<ThrottleRecord>> {
        run!(self, "failed to read the login throttle", |pool| async {
            sqlx::query_as(
                "SELECT failures, last_failure, blocked_until, version FROM auth_throttle WHERE key = $1",
            )
            .bind(key)
            .fetch_optional(pool)
            .await
        })
    }

    /// Writes `next` for `key` only if the entry is still the one read
    /// (`seen`, or no entry at all): false when another request changed it
    /// first, and the caller must read again. `next.version` is ignored; the
    /// stored one moves on by one.
    pub async fn swap_throttle(
        &self,
        key: &str,
        seen: Option<&ThrottleRecord>,
        next: &ThrottleRecord,
    ) -> StoreResult<bool> {
        let _write = self.write_guard().await;
        run!(self, "failed to update the login throttle", |pool| async {
            let query = match seen {
                None => sqlx::query(
                    "INSERT INTO auth_throttle (key, failures, last_failure, blocked_until, version) \
                     VALUES ($1, $2, $3, $4, 1) ON CONFLICT (key) DO NOTHING",
                ),
                Some(_) => sqlx::query(
                    "UPDATE auth_throttle SET failures = $2, last_failure = $3, blocked_until = $4, \
                     version = version + 1 WHERE key = $1 AND version = $5",
                ),
            };
            query
                .bind(key)
                .bind(next.failures)
                .bind(next.last_failure)
                .bind(next.blocked_until)
                .bind(seen.map_or(0, |s| s.version))
                .execute(pool)
                .await
                .map(|r| r.rows_affected() == 1)
        })
    }

    pub async fn clear_throttle(&self, key: &str) -> StoreResult<()> {
        let _write = self.write_guard().await;
        run!(self, "failed to clear the login throttle", |pool| async {
            sqlx::query("DELETE FROM auth_throttle WHERE key = $1")
                .bind(key)
                .execute(pool)
                .await
                .map(|_| ())
        })
    }

    /// Deletes entries nobody is blocked by that were last counted before
    /// `quiet_since`: they would start over anyway.
    pub async fn sweep_throttle(&self, quiet_since: DateTime<Utc>) -> StoreResult<u64> {
        let _write = self.write_guard().await;
        run!(self, "failed to sweep the login throttle", |pool| async {
            sqlx::query("DELETE FROM auth_throttle WHERE last_failure < $1 AND blocked_until < $2")
                .bind(quiet_since)
                .bind(now())
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })
    }

    pub async fn count_throttle_entries(&self) -> StoreResult<i64> {
        run!(self, "failed to count throttle entries", |pool| async {
            sqlx::query_scalar("SELECT COUNT(*) FROM auth_throttle")
                .fetch_one(pool)
                .await
        })
    }

    // ---- Server keys --------------------------------------------------

    /// The shared key called `name`: the stored one, or `fresh` stored now
    /// if this is the first instance to ask.
    pub async fn server_key(&self, name: &str, fresh: &[u8]) -> StoreResult<Vec<u8>> {
        let _write = self.write_guard().await;
        run!(self, "failed to read a server key", |pool| async {
            sqlx::query("INSERT INTO server_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .bind(fresh)
                .execute(pool)
                .await?;
            sqlx::query_scalar("SELECT value FROM server_keys WHERE name = $1")
                .bind(name)
                .fetch_one(pool)
                .await
        })
    }
}
