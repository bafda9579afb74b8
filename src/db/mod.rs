//! Storage: one `Store` over SQLite or PostgreSQL, chosen by URL.
//!
//! Both backends run the same SQL text (SQLx binds `$1` on SQLite too), so the
//! two can only drift apart in their migrations, which are kept side by side
//! in `migrations/sqlite` and `migrations/postgres`.
//!
//! # Where things live
//!
//! - `tasks`, `lists`, `accounts`: the queries, each written once for both backends
//!   inside `run!`, with no branch on the backend. `deleted`: deleted tasks,
//!   kept whole for undo until purged. `caldav`: tasks as calendar
//!   objects, and what changed in a list since a sync token.
//! - `pool`: the `Pool` enum and the only `match` on the backend. `run!`
//!   binds the concrete pool (the body is compiled once per backend: no
//!   trait object, no boxed future per query), gives a failure its context
//!   and passes it through `Store::settle`, which reloads rotated
//!   credentials. Transaction steps that differ are `BackendConnection`
//!   methods.
//! - `sqlite`, `postgres`: everything one backend does its own way:
//!   connection settings, the write turn (SQLite's one writer), the data
//!   version, migrations, the id sequence after an import, the SQLSTATEs
//!   that mean "not now", the connection budget.
//! - `error`: `StoreError`, classified once where it is made (busy,
//!   unreachable, or a real failure); the words a client reads are the HTTP
//!   layer's (`http::error`).
//! - `group_commit`: the batching writer for creates. It wraps the plain
//!   INSERT that `Store::create_task` runs without it
//!   (`Store::with_group_commit(false)`), so a test can compare the two.
//! - `statistics`: when PostgreSQL's planner statistics are refreshed, and
//!   why; `credentials`: the Secrets Manager source; `connect`: from
//!   configuration to a `Store`.
//!
//! Three things here exist for throughput and keep their promises: creates are
//! committed in batches by one writer task (`group_commit`),
//! `Store::data_version` tells readers cheaply whether anything changed, so
//! list responses can be reused until a write commits anywhere, and on
//! SQLite a single task is read on the request's own thread
//! (`sqlite::DirectReads`, off with `Store::with_direct_reads(false)`).

/// Accounts, sessions, API tokens and the login throttle.
pub mod accounts;
/// Tasks as CalDAV calendar objects, and what changed since a sync token.
mod caldav;
/// Turning configuration into a store.
mod connect;
/// PostgreSQL credentials read from Secrets Manager, refreshed on rotation.
pub mod credentials;
/// Deleted tasks and lists kept for undo and, later, sync.
mod deleted;
/// `StoreError`, classified where it is made.
mod error;
/// Creates committed in batches by one writer task.
mod group_commit;
/// Imports, staged in batches and published at once.
mod import;
/// Lists, their members, and who may do what.
mod lists;
/// The one place that branches on the backend; `run!`, the one way to query.
mod pool;
/// PostgreSQL's own ways.
mod postgres;
/// SQLite's own ways.
mod sqlite;
/// Planner statistics kept current after bulk changes (PostgreSQL).
mod statistics;
/// Task queries.
mod tasks;

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

pub use caldav::{CalendarObject, Collection, PutCondition, SyncChanges};
pub use connect::{Backend, DatabaseTarget, open_store};
pub use deleted::Purged;
pub use error::{StoreError, StoreResult, is_connection_error};
pub use lists::Need;
pub use tasks::TaskCounts;
#[doc(hidden)] // for the tests of PostgreSQL's plans
pub use tasks::{GET_TASK_SQL, list_sql};

pub(crate) use pool::WriteGuard;
use pool::{Pool, run};

/// The connection pool for whichever database is configured.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// Concurrent creates share one commit (see `group_commit`); the writer
    /// task starts on first use. `None` when switched off
    /// ([`Store::with_group_commit`]): each create is its own INSERT.
    create_queue: Option<Arc<OnceLock<group_commit::CreateQueue>>>,
    /// The most tasks one list may hold (`MAX_TASKS_PER_ACCOUNT`); `None`
    /// for no limit ([`Store::with_task_limit`]).
    task_limit: Option<u64>,
    /// Each owner's default list, looked up once.
    default_lists: Arc<lists::DefaultLists>,
    /// The most lists one owner may have (`MAX_LISTS_PER_ACCOUNT`) and
    /// members one list (`MAX_MEMBERS_PER_LIST`); `None` for no limit.
    list_limit: Option<u64>,
    member_limit: Option<u64>,
    /// How long deleted tasks and lists are kept for undo
    /// (`DELETED_RETENTION`).
    retention: chrono::Duration,
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

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Store({})", self.backend())
    }
}

impl Store {
    fn new(pool: Pool) -> Self {
        Self {
            pool,
            create_queue: Some(Arc::default()),
            task_limit: None,
            list_limit: None,
            member_limit: None,
            default_lists: Arc::default(),
            retention: chrono::Duration::days(Self::DEFAULT_RETENTION_DAYS),
        }
    }

    /// What `DELETED_RETENTION` defaults to.
    pub const DEFAULT_RETENTION_DAYS: i64 = 30;

    /// Keeps deleted tasks and lists restorable for `retention`, then
    /// purges them.
    pub fn with_retention(mut self, retention: std::time::Duration) -> Self {
        self.retention = chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
        self
    }

    /// Creates and imports refuse to take a list past `limit` tasks.
    pub fn with_task_limit(mut self, limit: Option<u64>) -> Self {
        self.task_limit = limit;
        self
    }

    /// Refuses lists past `lists` per owner, and members past `members`
    /// per list.
    pub fn with_list_limits(mut self, lists: Option<u64>, members: Option<u64>) -> Self {
        self.list_limit = lists;
        self.member_limit = members;
        self
    }

    /// With `false`, creates skip the batching writer and each runs as
    /// its own INSERT: the plain path, to compare the two in tests.
    pub fn with_group_commit(mut self, enabled: bool) -> Self {
        self.create_queue = enabled.then(Arc::default);
        self
    }

    /// The create queue, started on first use (it needs the runtime);
    /// `None` when group commit is off.
    fn create_queue(&self) -> Option<&group_commit::CreateQueue> {
        let queue = self.create_queue.as_ref()?;
        Some(queue.get_or_init(|| group_commit::CreateQueue::start(self.pool.clone())))
    }

    /// Settles the outcome of a database operation: the one place a failure
    /// passes before it reaches the caller, so that a password PostgreSQL
    /// refused (rotated in Secrets Manager) is reloaded for the next
    /// connection. Every query reaches it through [`run!`].
    async fn settle<T>(&self, result: StoreResult<T>) -> StoreResult<T> {
        if let Err(err) = &result {
            self.pool.note_failure(err).await;
        }
        result
    }

    /// Takes the write turn (SQLite) and marks the data as changed once the
    /// write is over. From here on the caller is changing data: see
    /// [`note_write`].
    pub(crate) async fn write_guard(&self) -> WriteGuard<'_> {
        let guard = self.pool.write_turn().await;
        note_write();
        guard
    }

    /// The current data version, for caching reads. Take it *before*
    /// reading: a write that lands during the read then changes the version
    /// and the cached result is never served. Costs a `stat` of two files on
    /// SQLite and one small query on PostgreSQL.
    pub async fn data_version(&self) -> StoreResult<DataVersion> {
        let version = self.pool.data_version().await;
        self.settle(version.map_err(StoreError::db("failed to read the data version")))
            .await
    }

    pub fn backend(&self) -> Backend {
        self.pool.backend()
    }

    /// With `false`, SQLite reads always go through the pool's connection
    /// threads: the plain path, to compare with in tests
    /// (`SQLITE_DIRECT_READS`; see `sqlite::DirectReads`).
    pub fn with_direct_reads(mut self, enabled: bool) -> Self {
        self.pool = self.pool.with_direct_reads(enabled);
        self
    }

    /// Reads PostgreSQL credentials from Secrets Manager from now on.
    pub(crate) fn with_credentials(mut self, source: credentials::SecretCredentials) -> Self {
        self.pool = self.pool.with_credentials(source);
        self
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
                    if tokio::time::Instant::now() + delay < deadline && err.is_transient() =>
                {
                    tracing::warn!(error = %err, retry_in_ms = delay.as_millis() as u64, "database not reachable yet");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(std::time::Duration::from_secs(5));
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// Applies the embedded migrations, once however many processes start
    /// at the same time (PostgreSQL: an advisory lock; SQLite: a file lock).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.pool.migrate().await
    }

    /// The newest applied migration, e.g. `20261125000001`.
    pub async fn schema_version(&self) -> StoreResult<Option<i64>> {
        run!(self, "failed to read the schema version", |pool| {
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(pool)
        })
    }

    /// Checks the database answers; used by readiness.
    pub async fn ping(&self) -> StoreResult<()> {
        run!(self, "the database did not answer", |pool| async {
            sqlx::query("SELECT 1").execute(pool).await.map(|_| ())
        })
    }

    pub async fn close(&self) {
        self.pool.close().await
    }
}

tokio::task_local! {
    /// Raised once the task (an HTTP request) has started to change data.
    static WRITE_STARTED: Arc<std::sync::atomic::AtomicBool>;
}

/// Runs `work` noting in `started` whether it began a write, so that a
/// deadline can tell "refuse, nothing happened" from "let it finish": a
/// request answered 503 must not have changed anything.
pub async fn tracking_writes<F: Future>(
    started: Arc<std::sync::atomic::AtomicBool>,
    work: F,
) -> F::Output {
    WRITE_STARTED.scope(started, work).await
}

/// `count` numbered parameters from `$first` on, for an `IN (…)` list:
/// `"$3, $4, $5"`.
pub(crate) fn parameters(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Marks the current task as changing data (see [`tracking_writes`]); a
/// no-op outside one. Writes handed to another task (the create queue,
/// spawned work) are noted before they are handed over.
pub fn note_write() {
    let _ = WRITE_STARTED.try_with(|started| started.store(true, Ordering::Release));
}

/// Warns when the pools of `fleet_size` processes (one when unset), each as
/// large as this store's, cannot all fit in PostgreSQL's `max_connections`.
pub async fn check_connection_budget(store: &Store, fleet_size: Option<u32>) {
    store.pool.check_connection_budget(fleet_size).await;
}
