//! Storage: one `Store` over SQLite or PostgreSQL, chosen by URL.
//!
//! Both backends run the same SQL text (SQLx binds `$1` on SQLite too), so the
//! two can only drift apart in their migrations, which are kept side by side
//! in `migrations/sqlite` and `migrations/postgres`. A `Pool` enum rather than a
//! trait object keeps the queries monomorphic and the call sites simple.
//!
//! Two things here exist for throughput and keep their promises: creates are
//! committed in batches by one writer task (`group_commit`), and
//! `Store::data_version` tells readers cheaply whether anything changed, so
//! list responses can be reused until a write commits anywhere.

/// Accounts, sessions, API tokens and the login throttle.
pub mod accounts;
mod connect;
/// PostgreSQL credentials read from Secrets Manager, refreshed on rotation.
pub mod credentials;
mod group_commit;
mod statistics;
mod tasks;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

pub use connect::{Backend, DatabaseTarget, open_store};
pub use tasks::{ImportedTask, TaskCounts};

use sqlx::{PgPool, SqlitePool};

/// The connection pool for whichever database is configured.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// Set when PostgreSQL credentials come from Secrets Manager.
    credentials: Option<Arc<credentials::SecretCredentials>>,
    local: Arc<LocalState>,
}

/// What this process knows about its own writes.
#[derive(Default)]
struct LocalState {
    /// Bumped after every write through this store.
    generation: AtomicU64,
    /// SQLite has one writer at a time. Queueing writers here, in order,
    /// beats letting them collide in SQLite, whose busy handler retries
    /// with sleeps of up to 100 ms (which showed as a 400 ms p99 on creates).
    sqlite_writer: tokio::sync::Mutex<()>,
    /// The SQLite database file and its write-ahead log.
    sqlite_files: Option<[PathBuf; 2]>,
    /// Creates, committed in batches; started on first use.
    create_queue: std::sync::OnceLock<group_commit::CreateQueue>,
    /// When to analyse the table again after it grew.
    statistics: statistics::Statistics,
}

impl LocalState {
    /// Takes the write turn (SQLite) and marks the data as changed once the
    /// write is over.
    async fn write_guard(&self, pool: &Pool) -> WriteGuard<'_> {
        let sqlite_writer = match pool {
            Pool::Sqlite(_) => Some(self.sqlite_writer.lock().await),
            Pool::Postgres(_) => None,
        };
        WriteGuard {
            _sqlite_writer: sqlite_writer,
            local: self,
        }
    }
}

/// Identifies the state of the data a read saw; equal versions mean no
/// write happened in between, so a response built from one can be reused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DataVersion {
    /// SQLite: this process's own writes, plus the modification time and
    /// length of the database file and its WAL, so a write by another
    /// process (say `todo-app import`) is noticed too.
    Local {
        generation: u64,
        files: [(Option<SystemTime>, u64); 2],
    },
    /// PostgreSQL: the sum of the `task_revisions` counters, which a trigger
    /// raises in every transaction that changes `tasks`, from any instance.
    Shared { revision: i64 },
}

/// Held during a write; on drop (after the commit) bumps the generation.
pub(crate) struct WriteGuard<'a> {
    _sqlite_writer: Option<tokio::sync::MutexGuard<'a, ()>>,
    local: &'a LocalState,
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        self.local.generation.fetch_add(1, Ordering::Release);
    }
}

#[derive(Clone)]
pub(crate) enum Pool {
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
        match &$store.pool {
            $crate::db::Pool::Sqlite($pool) => $body,
            $crate::db::Pool::Postgres($pool) => $body,
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
    /// An import without `replace` into a list that has tasks.
    #[error("the list already holds {existing} tasks")]
    ListNotEmpty { existing: i64 },
    /// An import that keeps ids names an id another list's task holds.
    #[error("task id {0} belongs to another list")]
    IdTaken(i64),
    /// A username already taken (regardless of case).
    #[error("the username is taken")]
    UsernameTaken,
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

    /// The underlying database error, if any.
    pub fn sqlx_error(&self) -> Option<&sqlx::Error> {
        match self {
            Self::Database { source, .. } => Some(source),
            _ => None,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Errors that mean "the database is not reachable right now" rather than a bug.
pub fn is_connection_error(err: &sqlx::Error) -> bool {
    matches!(
        err,
        sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolClosed
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::WorkerCrashed
    ) || matches!(err, sqlx::Error::Database(db)
            // PostgreSQL: admin shutdown, crash shutdown, cannot connect now,
            // and a refused password (a credential rotation in progress).
            if matches!(db.code().as_deref(), Some("57P01" | "57P02" | "57P03" | "28P01" | "28000")))
}

impl Store {
    pub(crate) fn new(pool: Pool) -> Self {
        let sqlite_files = match &pool {
            Pool::Sqlite(pool) => {
                let file = pool.connect_options().get_filename().to_owned();
                let mut wal = file.clone().into_os_string();
                wal.push("-wal");
                Some([file, wal.into()])
            }
            Pool::Postgres(_) => None,
        };
        Self {
            pool,
            credentials: None,
            local: Arc::new(LocalState {
                sqlite_files,
                ..LocalState::default()
            }),
        }
    }

    /// The create queue, started on first use (it needs the runtime).
    fn create_queue(&self) -> &group_commit::CreateQueue {
        self.local
            .create_queue
            .get_or_init(|| group_commit::CreateQueue::start(self.pool.clone(), &self.local))
    }

    /// Takes the write turn (SQLite) and marks the data as changed once the
    /// write is over.
    pub(crate) async fn write_guard(&self) -> WriteGuard<'_> {
        self.local.write_guard(&self.pool).await
    }

    /// Brings the planner statistics up to date after a bulk change, so no
    /// prepared statement keeps a plan made for the table as it was.
    pub(crate) async fn refresh_statistics(&self) {
        self.local.statistics.refresh(&self.pool).await;
    }

    /// The current data version, for caching reads. Take it *before*
    /// reading: a write that lands during the read then changes the version
    /// and the cached result is never served. Costs a `stat` of two files on
    /// SQLite and one small query on PostgreSQL.
    pub async fn data_version(&self) -> StoreResult<DataVersion> {
        match &self.pool {
            Pool::Sqlite(_) => {
                let stat = |path: &std::path::Path| {
                    std::fs::metadata(path).map_or((None, 0), |m| (m.modified().ok(), m.len()))
                };
                let files = self.local.sqlite_files.as_ref();
                Ok(DataVersion::Local {
                    generation: self.local.generation.load(Ordering::Acquire),
                    files: files.map_or([(None, 0); 2], |f| [stat(&f[0]), stat(&f[1])]),
                })
            }
            Pool::Postgres(pool) => {
                let revision: i64 = self
                    .observe(
                        sqlx::query_scalar(
                            "SELECT COALESCE(SUM(revision), 0)::BIGINT FROM task_revisions",
                        )
                        .fetch_one(pool)
                        .await
                        .map_err(StoreError::db("failed to read the data version")),
                    )
                    .await?;
                Ok(DataVersion::Shared { revision })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Reads PostgreSQL credentials from Secrets Manager from now on.
    pub(crate) fn with_credentials(mut self, source: credentials::SecretCredentials) -> Self {
        self.credentials = Some(Arc::new(source));
        self
    }

    /// Passes a query result through; when PostgreSQL refused our password
    /// (rotated in Secrets Manager), first reloads the credentials so the
    /// next connection uses the new ones. The request that ran into the
    /// rotation still fails, with a 503 that asks to retry.
    pub(crate) async fn observe<T>(&self, result: StoreResult<T>) -> StoreResult<T> {
        if let (Err(err), Some(credentials), Pool::Postgres(pool)) =
            (&result, &self.credentials, &self.pool)
            && err.sqlx_error().is_some_and(credentials::is_auth_failure)
        {
            credentials.refresh(pool).await;
        }
        result
    }

    /// Waits until the database answers (it may still be starting, as RDS
    /// after a failover or a fresh deployment), for at most `patience`.
    pub async fn wait_until_reachable(&self, patience: std::time::Duration) -> StoreResult<()> {
        let deadline = tokio::time::Instant::now() + patience;
        let mut delay = std::time::Duration::from_millis(100);
        loop {
            match self.ping().await {
                Ok(()) => return Ok(()),
                Err(err)
                    if tokio::time::Instant::now() + delay < deadline
                        && (matches!(err, StoreError::Busy)
                            || err.sqlx_error().is_some_and(is_connection_error)) =>
                {
                    tracing::warn!(error = %err, retry_in_ms = delay.as_millis() as u64, "database not reachable yet");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(std::time::Duration::from_secs(5));
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// Applies the embedded migrations. On PostgreSQL SQLx holds an advisory
    /// lock while it migrates, so many instances starting at once apply each
    /// migration exactly once; on SQLite the write lock does the same.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        use anyhow::Context;
        match &self.pool {
            Pool::Sqlite(pool) => {
                // SQLx takes no lock on SQLite, so two processes starting on
                // one file would both try to apply the same migration. An OS
                // file lock next to the database serializes them.
                let _lock = lock_sqlite_for_migration(pool).await?;
                sqlx::migrate!("migrations/sqlite")
                    .run(pool)
                    .await
                    .context("failed to apply SQLite migrations")
            }
            Pool::Postgres(pool) => sqlx::migrate!("migrations/postgres")
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
        self.observe(with_pool!(self, pool => {
            sqlx::query("SELECT 1")
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(StoreError::db("the database did not answer"))
        }))
        .await
    }

    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }
}

/// An exclusive lock on `<database file>.migrate-lock`, held while
/// migrating. Dropping it removes the file, then lets go of the lock.
struct MigrationLock {
    path: PathBuf,
    _file: std::fs::File,
}

impl Drop for MigrationLock {
    fn drop(&mut self) {
        // Still locked here, so nobody else holds the lock on this file:
        // whoever waits for it finds it gone once they get it, and retries
        // on a fresh one (see `lock_sqlite_for_migration`).
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Takes the migration lock of a SQLite file (none for an in-memory one).
async fn lock_sqlite_for_migration(pool: &SqlitePool) -> anyhow::Result<Option<MigrationLock>> {
    use anyhow::Context;
    let options = pool.connect_options();
    let db_file = options.get_filename();
    if db_file.as_os_str().is_empty() || db_file.as_os_str() == ":memory:" {
        return Ok(None);
    }
    let mut lock_path = db_file.as_os_str().to_owned();
    lock_path.push(".migrate-lock");
    let lock_path = PathBuf::from(lock_path);
    tokio::task::spawn_blocking(move || {
        loop {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .with_context(|| format!("failed to open {}", lock_path.display()))?;
            file.lock()
                .with_context(|| format!("failed to lock {}", lock_path.display()))?;
            // The previous holder removes the file as it lets go. A lock on
            // a removed file guards nothing: unless the path still names the
            // file we locked, start again.
            let locked = file.metadata()?;
            if let Ok(current) = std::fs::metadata(&lock_path)
                && same_file(&current, &locked)
            {
                return Ok(Some(MigrationLock {
                    path: lock_path,
                    _file: file,
                }));
            }
        }
    })
    .await?
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// Elsewhere a file that is open cannot be removed, so the path always
/// names the locked file.
#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    true
}

/// Warns when the pools of `fleet_size` processes (one when unset), each as
/// large as this store's, cannot all fit in PostgreSQL's `max_connections`:
/// during an ECS deployment up to `fleet_size` processes run at once.
pub async fn check_connection_budget(store: &Store, fleet_size: Option<u32>) {
    let Pool::Postgres(pool) = &store.pool else {
        return;
    };
    let max: Result<String, _> = sqlx::query_scalar("SHOW max_connections")
        .fetch_one(pool)
        .await;
    let Ok(Ok(max)) = max.map(|m| m.parse::<u32>()) else {
        return;
    };
    // A few connections stay reserved for superusers and maintenance.
    let usable = max.saturating_sub(3);
    let pool_size = pool.options().get_max_connections();
    let processes = fleet_size.unwrap_or(1);
    let needed = processes.saturating_mul(pool_size);
    if needed > usable {
        tracing::warn!(
            max_connections = max,
            pool_size,
            processes,
            needed,
            "the connection pools can outgrow PostgreSQL's max_connections; lower DB_POOL_SIZE or the task count"
        );
    } else {
        tracing::info!(
            max_connections = max,
            pool_size,
            processes,
            "connection budget fits"
        );
    }
}
