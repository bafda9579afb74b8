//! Storage: one `Store` over SQLite or PostgreSQL, chosen by URL.
//!
//! Both backends run the same SQL text (SQLx binds `$1` on SQLite too), so the
//! two can only drift apart in their migrations, which are kept side by side
//! in `migrations/sqlite` and `migrations/postgres`. An enum rather than a
//! trait object keeps the queries monomorphic and the call sites simple.

mod connect;
mod tasks;

use std::fmt;

pub use connect::{Backend, DatabaseTarget};
pub use tasks::{ImportedTask, TaskCounts};

use sqlx::{PgPool, SqlitePool};

/// The connection pool for whichever database is configured.
#[derive(Clone)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Store({})", self.backend())
    }
}

/// Runs `$body` with `$pool` bound to the concrete pool of either backend.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::db::Store::Sqlite($pool) => $body,
            $crate::db::Store::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("task {0} not found")]
    NotFound(i64),
    /// The caller's `If-Match` version is not the stored one.
    #[error("task {id} has changed: the current version is {current}")]
    VersionMismatch { id: i64, current: i64 },
    #[error("{0}")]
    Conflict(String),
    /// The pool had no free connection within the acquire timeout.
    #[error("the database is busy")]
    Busy,
    #[error("{context}")]
    Database {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
}

impl StoreError {
    pub(crate) fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| match source {
            sqlx::Error::PoolTimedOut => Self::Busy,
            source => Self::Database { context, source },
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

impl Store {
    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the embedded migrations. On PostgreSQL SQLx holds an advisory
    /// lock while it migrates, so many instances starting at once apply each
    /// migration exactly once; on SQLite the write lock does the same.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        use anyhow::Context;
        match self {
            Self::Sqlite(pool) => sqlx::migrate!("migrations/sqlite")
                .run(pool)
                .await
                .context("failed to apply SQLite migrations"),
            Self::Postgres(pool) => sqlx::migrate!("migrations/postgres")
                .run(pool)
                .await
                .context("failed to apply PostgreSQL migrations"),
        }
    }

    /// The newest applied migration, e.g. `20261125000001`.
    pub async fn schema_version(&self) -> StoreResult<Option<i64>> {
        with_pool!(self, pool => {
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(pool)
                .await
                .map_err(StoreError::db("failed to read the schema version"))
        })
    }

    /// Checks the database answers; used by readiness.
    pub async fn ping(&self) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query("SELECT 1")
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(StoreError::db("the database did not answer"))
        })
    }

    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }
}

/// Warns when the configured pools cannot all fit in PostgreSQL's
/// `max_connections`: each process opens up to `pool_size` connections, and
/// during an ECS deployment up to `fleet_size` processes run at once.
pub async fn check_connection_budget(store: &Store, config: &crate::config::DatabaseConfig) {
    let Store::Postgres(pool) = store else { return };
    let max: Result<String, _> = sqlx::query_scalar("SHOW max_connections")
        .fetch_one(pool)
        .await;
    let Ok(Ok(max)) = max.map(|m| m.parse::<u32>()) else {
        return;
    };
    // A few connections stay reserved for superusers and maintenance.
    let usable = max.saturating_sub(3);
    let processes = config.fleet_size.unwrap_or(1);
    let needed = processes.saturating_mul(config.pool_size);
    if needed > usable {
        tracing::warn!(
            max_connections = max,
            pool_size = config.pool_size,
            processes,
            needed,
            "the connection pools can outgrow PostgreSQL's max_connections; lower DB_POOL_SIZE or the task count"
        );
    } else {
        tracing::info!(
            max_connections = max,
            pool_size = config.pool_size,
            processes,
            "connection budget fits"
        );
    }
}
