//! The one place that branches on the backend, and the one way to run a
//! query.
//!
//! Query code (`tasks`, `accounts`) is written once, against whichever pool
//! [`run!`] binds; everything that differs between SQLite and PostgreSQL is
//! a method here that forwards to `sqlite` or `postgres`. An enum rather
//! than a trait object keeps every query monomorphic: `run!` expands its
//! body once per backend, so a query costs what it did when written out
//! for one database, with no boxed future.

use sqlx::{PgConnection, SqliteConnection};

use super::{DataVersion, StoreError, postgres, sqlite};
use crate::db::Backend;

/// The connection pool of the configured database, with what this process
/// keeps about it.
#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(sqlite::Db),
    Postgres(postgres::Db),
}

/// Runs one database operation on `$store` and settles its outcome.
///
/// `|pool| body` is a future-valued expression written once and compiled
/// for each backend, with `pool` bound to `&SqlitePool` or `&PgPool`. With a
/// context (`run!(store, "failed to list tasks", |pool| …)`) the body yields
/// a `sqlx::Error`, which becomes a [`StoreError`] carrying that context;
/// without one (a transaction with a context per step) it already yields
/// `StoreResult`. Either way the error passes [`Store::settle`], which
/// reloads rotated credentials.
///
/// [`Store::settle`]: super::Store::settle
macro_rules! run {
    ($store:expr, $context:expr, |$pool:ident| $body:expr) => {
        $crate::db::pool::run!($store, |$pool| async {
            $body.await.map_err($crate::db::StoreError::db($context))
        })
    };
    ($store:expr, |$pool:ident| $body:expr) => {{
        let store: &$crate::db::Store = $store;
        let result = $crate::db::pool::dispatch!(&store.pool, |$pool| $body);
        store.settle(result).await
    }};
}
pub(crate) use run;

/// Awaits `|pool| body` on the concrete pool of `$pool` (a `&Pool`): the
/// dispatch of [`run!`] without settling, for the create writer, whose
/// callers settle their own results.
macro_rules! dispatch {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            $crate::db::pool::Pool::Sqlite(db) => {
                let $p = db.pool();
                $body.await
            }
            $crate::db::pool::Pool::Postgres(db) => {
                let $p = db.pool();
                $body.await
            }
        }
    };
}
pub(crate) use dispatch;

/// The steps of a transaction that differ per backend, called on the
/// transaction (`tx.lock_accounts()`), so a transaction written once in
/// `run!` needs no branch.
pub(super) trait BackendConnection {
    /// Makes the next generated task id follow ids inserted explicitly.
    async fn follow_explicit_task_ids(&mut self) -> Result<(), sqlx::Error>;
    /// Keeps a concurrent first sign-up out until this transaction ends.
    async fn lock_accounts(&mut self) -> Result<(), sqlx::Error>;
}

impl BackendConnection for SqliteConnection {
    /// SQLite's next rowid is always past the largest one.
    async fn follow_explicit_task_ids(&mut self) -> Result<(), sqlx::Error> {
        Ok(())
    }

    /// Writers already take turns (see [`sqlite::Db::write_turn`]), and
    /// a SQLite transaction that writes excludes every other writer.
    async fn lock_accounts(&mut self) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

impl BackendConnection for PgConnection {
    async fn follow_explicit_task_ids(&mut self) -> Result<(), sqlx::Error> {
        postgres::follow_explicit_task_ids(self).await
    }

    async fn lock_accounts(&mut self) -> Result<(), sqlx::Error> {
        postgres::lock_accounts(self).await
    }
}

/// Held during a write: SQLite's write turn, which on drop (after the
/// commit) also counts the write; nothing on PostgreSQL.
pub(crate) struct WriteGuard<'a> {
    _sqlite: Option<sqlite::WriteTurn<'a>>,
}

impl Pool {
    pub(super) fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// Waits for this process's turn to write (SQLite has one writer at a
    /// time; PostgreSQL locks rows itself).
    pub(super) async fn write_turn(&self) -> WriteGuard<'_> {
        WriteGuard {
            _sqlite: match self {
                Self::Sqlite(db) => Some(db.write_turn().await),
                Self::Postgres(_) => None,
            },
        }
    }

    /// The SQL of the change number every change still to commit will
    /// be at or above (CalDAV's sync tokens).
    pub(super) fn sync_watermark_sql(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => sqlite::SYNC_WATERMARK_SQL,
            Self::Postgres(_) => postgres::SYNC_WATERMARK_SQL,
        }
    }

    pub(super) async fn data_version(&self) -> Result<DataVersion, sqlx::Error> {
        match self {
            Self::Sqlite(db) => Ok(db.data_version()),
            Self::Postgres(db) => db.data_version().await,
        }
    }

    pub(super) async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Self::Sqlite(db) => db.migrate().await,
            Self::Postgres(db) => db.migrate().await,
        }
    }

    /// After a failed operation: PostgreSQL reloads rotated credentials.
    pub(super) async fn note_failure(&self, err: &StoreError) {
        if let (Self::Postgres(db), Some(err)) = (self, err.sqlx_error()) {
            db.note_failure(err).await;
        }
    }

    /// After `rows` tasks were created: PostgreSQL may need new planner
    /// statistics (see `statistics`).
    pub(super) async fn note_created(&self, rows: u64) {
        if let Self::Postgres(db) = self {
            db.note_created(rows).await;
        }
    }

    /// After a bulk change (an import).
    pub(super) async fn refresh_statistics(&self) {
        if let Self::Postgres(db) = self {
            db.refresh_statistics().await;
        }
    }

    /// SQLite: point reads on the calling thread, or (`false`) always on
    /// the pool. PostgreSQL's driver is async: nothing to hand over.
    pub(super) fn with_direct_reads(self, enabled: bool) -> Self {
        match self {
            Self::Sqlite(db) => Self::Sqlite(db.with_direct_reads(enabled)),
            postgres @ Self::Postgres(_) => postgres,
        }
    }

    /// Runs `sql` for at most one row on the calling thread, where the
    /// backend can (see `sqlite::DirectReads`); `None` means "run it on the
    /// pool": always on PostgreSQL, and on SQLite when switched off.
    pub(super) fn read_here<T>(
        &self,
        sql: &'static str,
        params: impl rusqlite::Params,
        row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Option<Option<T>> {
        match self {
            Self::Sqlite(db) => db.read_here(sql, params, row),
            Self::Postgres(_) => None,
        }
    }

    pub(super) fn with_credentials(self, source: super::credentials::SecretCredentials) -> Self {
        match self {
            Self::Postgres(db) => Self::Postgres(db.with_credentials(source)),
            sqlite @ Self::Sqlite(_) => sqlite,
        }
    }

    pub(super) async fn check_connection_budget(&self, fleet_size: Option<u32>) {
        if let Self::Postgres(db) = self {
            db.check_connection_budget(fleet_size).await;
        }
    }

    pub(super) async fn close(&self) {
        match self {
            Self::Sqlite(db) => db.pool().close().await,
            Self::Postgres(db) => db.pool().close().await,
        }
    }
}
