//! Turning configuration into a connection pool.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::pool::PoolOptions;
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::sqlite::SqliteConnectOptions;

use super::credentials::{DbCredentials, SecretCredentials};
use super::{Pool, Store, postgres, sqlite};
use crate::config::{DatabaseConfig, SslMode, redact_url};

/// Where the default SQLite database lives when nothing is configured.
pub const DEFAULT_SQLITE_FILE: &str = "todo.db";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        })
    }
}

/// The database chosen by configuration, with its secrets inside the
/// connect options (whose `Debug` SQLx already redacts).
#[derive(Clone)]
pub enum DatabaseTarget {
    Sqlite(SqliteConnectOptions),
    Postgres(PgConnectOptions),
}

impl DatabaseTarget {
    /// `DATABASE_URL` wins; else a complete `DB_*` set means PostgreSQL;
    /// else SQLite in `./todo.db`.
    pub fn from_config(config: &DatabaseConfig) -> anyhow::Result<Self> {
        if let Some(url) = config.database_url.as_deref().filter(|u| !u.is_empty()) {
            return Self::from_url(url, config.db_sslmode);
        }
        if let Some(host) = &config.db_host {
            // With DB_SECRET_ARN and no DB_USER the user comes from the
            // secret, which `open_store` reads before connecting.
            let (user, name) = match (&config.db_user, &config.db_secret_arn, &config.db_name) {
                (Some(user), _, Some(name)) => (Some(user), name),
                (None, Some(_), Some(name)) => (None, name),
                _ => bail!(
                    "DB_HOST is set, so DB_USER (or DB_SECRET_ARN) and DB_NAME must be set too"
                ),
            };
            let mut options = PgConnectOptions::new_without_pgpass()
                .host(host)
                .port(config.db_port)
                .database(name)
                .ssl_mode(ssl_mode(config.db_sslmode));
            if let Some(user) = user {
                options = options.username(user);
            }
            if let Some(password) = &config.db_password {
                options = options.password(password);
            }
            return Ok(Self::Postgres(options));
        }
        Self::from_url(&format!("sqlite://{DEFAULT_SQLITE_FILE}"), SslMode::Prefer)
    }

    pub fn from_url(url: &str, sslmode: SslMode) -> anyhow::Result<Self> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Self::Sqlite(
                SqliteConnectOptions::from_str(url)
                    .with_context(|| format!("invalid SQLite URL {url:?}"))?,
            )),
            "postgres" | "postgresql" => {
                let mut options = PgConnectOptions::from_str(url)
                    .with_context(|| format!("invalid PostgreSQL URL {:?}", redact_url(url)))?;
                // An explicit sslmode in the URL wins over DB_SSLMODE.
                if !url.contains("sslmode=") {
                    options = options.ssl_mode(ssl_mode(sslmode));
                }
                Ok(Self::Postgres(options))
            }
            _ => bail!(
                "DATABASE_URL {:?} must start with sqlite://, postgres:// or postgresql://",
                redact_url(url)
            ),
        }
    }

    /// Replaces the PostgreSQL user and password (from a secret).
    pub fn with_credentials(self, credentials: &DbCredentials) -> anyhow::Result<Self> {
        match self {
            Self::Postgres(options) => Ok(Self::Postgres(
                options
                    .username(&credentials.username)
                    .password(&credentials.password),
            )),
            Self::Sqlite(_) => {
                bail!("DB_SECRET_ARN needs PostgreSQL (DB_HOST or a postgres:// DATABASE_URL)")
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// The SQLite database file, when the target is SQLite.
    pub fn sqlite_file(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(options) => Some(options.get_filename()),
            Self::Postgres(_) => None,
        }
    }

    /// Where the data lives, for messages to people: the SQLite file (as an
    /// absolute path) or the PostgreSQL server and database, without user
    /// or password.
    pub fn location(&self) -> String {
        match self {
            Self::Sqlite(options) => {
                let file = options.get_filename();
                std::path::absolute(file)
                    .unwrap_or_else(|_| file.to_owned())
                    .display()
                    .to_string()
            }
            Self::Postgres(options) => format!(
                "postgres://{}:{}/{}",
                options.get_host(),
                options.get_port(),
                options.get_database().unwrap_or_default()
            ),
        }
    }

    /// A description safe to log: no password.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(options) => {
                format!("sqlite://{}", options.get_filename().display())
            }
            Self::Postgres(options) => format!(
                "postgres://{}@{}:{}/{}",
                options.get_username(),
                options.get_host(),
                options.get_port(),
                options.get_database().unwrap_or_default()
            ),
        }
    }

    /// Opens the pool. Connections are made lazily, so a database that is
    /// down at start makes the app not-ready rather than crash-looping.
    pub fn connect(&self, pool_size: u32, acquire_timeout: Duration) -> Store {
        fn pool<DB: sqlx::Database>(size: u32, acquire_timeout: Duration) -> PoolOptions<DB> {
            PoolOptions::new()
                .max_connections(size.max(1))
                .acquire_timeout(acquire_timeout)
                // No ping before every query: it cost a quarter of the CPU of
                // a list on PostgreSQL. After a database restart each broken
                // pooled connection fails one request with a 503 (retry) and
                // is then replaced.
                .test_before_acquire(false)
                .idle_timeout(Some(Duration::from_secs(300)))
        }
        Store::new(match self {
            Self::Sqlite(options) => {
                Pool::Sqlite(sqlite::connect(options, pool(pool_size, acquire_timeout)))
            }
            Self::Postgres(options) => {
                Pool::Postgres(postgres::connect(options, pool(pool_size, acquire_timeout)))
            }
        })
    }
}

/// Opens the store that configuration names, with credentials from Secrets
/// Manager when `DB_SECRET_ARN` is set. Connects lazily: nothing is
/// reached yet (see `Store::wait_until_reachable` and `Store::migrate`).
pub async fn open_store(config: &DatabaseConfig) -> anyhow::Result<Store> {
    let mut target = DatabaseTarget::from_config(config)?;
    let mut secret = None;
    if let Some(secret_id) = &config.db_secret_arn {
        let (source, credentials) = SecretCredentials::load(secret_id).await?;
        target = target.with_credentials(&credentials)?;
        tracing::info!(secret = %secret_id, "database credentials come from Secrets Manager");
        secret = Some(source);
    }
    tracing::info!(database = %target.describe(), "using database");
    let store = target
        .connect(config.pool_size, config.acquire_timeout)
        .with_direct_reads(config.sqlite_direct_reads);
    Ok(match secret {
        Some(source) => store.with_credentials(source),
        None => store,
    })
}

fn ssl_mode(mode: SslMode) -> PgSslMode {
    match mode {
        SslMode::Disable => PgSslMode::Disable,
        SslMode::Allow => PgSslMode::Allow,
        SslMode::Prefer => PgSslMode::Prefer,
        SslMode::Require => PgSslMode::Require,
        SslMode::VerifyCa => PgSslMode::VerifyCa,
        SslMode::VerifyFull => PgSslMode::VerifyFull,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_sqlite_todo_db() {
        let target = DatabaseTarget::from_config(&DatabaseConfig::default()).unwrap();
        assert_eq!(target.backend(), Backend::Sqlite);
        assert_eq!(target.describe(), "sqlite://todo.db");
    }

    #[test]
    fn db_parts_build_postgres_with_any_password() {
        let c = DatabaseConfig {
            db_host: Some("db.internal".into()),
            db_user: Some("app".into()),
            db_name: Some("todo".into()),
            db_port: 6543,
            db_password: Some("p@ss:w/rd?#%&=".into()),
            ..DatabaseConfig::default()
        };
        let DatabaseTarget::Postgres(options) = DatabaseTarget::from_config(&c).unwrap() else {
            panic!("expected PostgreSQL");
        };
        assert_eq!(options.get_host(), "db.internal");
        assert_eq!(options.get_port(), 6543);
        assert_eq!(options.get_username(), "app");
        assert_eq!(options.get_database(), Some("todo"));
        let described = DatabaseTarget::Postgres(options).describe();
        assert!(!described.contains("p@ss"), "{described}");
    }

    #[test]
    fn incomplete_db_parts_are_an_error() {
        let c = DatabaseConfig {
            db_host: Some("db".into()),
            ..DatabaseConfig::default()
        };
        let err = DatabaseTarget::from_config(&c).err().unwrap().to_string();
        assert!(err.contains("DB_USER"), "{err}");
    }

    #[test]
    fn db_parts_with_a_secret_need_no_user() {
        let mut c = DatabaseConfig {
            db_host: Some("db".into()),
            db_name: Some("todo".into()),
            db_secret_arn: Some("todo/db".into()),
            ..DatabaseConfig::default()
        };
        let target = DatabaseTarget::from_config(&c).unwrap();
        assert_eq!(target.backend(), Backend::Postgres);
        assert_eq!(target.location(), "postgres://db:5432/todo");
        c.db_name = None;
        let err = DatabaseTarget::from_config(&c).err().unwrap().to_string();
        assert!(err.contains("DB_NAME"), "{err}");
    }

    #[test]
    fn url_scheme_picks_backend() {
        assert_eq!(
            DatabaseTarget::from_url("postgresql://u:p@h/d", SslMode::Prefer)
                .unwrap()
                .backend(),
            Backend::Postgres
        );
        let err = DatabaseTarget::from_url("mysql://u:hunter2@h/d", SslMode::Prefer)
            .err()
            .unwrap()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }
}
