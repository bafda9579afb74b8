//! What PostgreSQL does its own way: connection settings, a data version
//! shared by every instance, the identity sequence after an import, the
//! SQLSTATEs that mean "not now", credentials that rotate, planner
//! statistics and the connection budget of a fleet.

use std::sync::Arc;

use anyhow::Context;
use sqlx::pool::PoolOptions;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, PgConnection, PgPool};

use super::DataVersion;
use super::credentials::SecretCredentials;
use super::statistics::Statistics;

/// SQLSTATEs of a server that is shutting down or not accepting
/// connections yet: admin shutdown, crash shutdown, cannot connect now.
const NOT_SERVING: [&str; 3] = ["57P01", "57P02", "57P03"];

/// SQLSTATEs of a refused login: "password authentication failed" and
/// "role not allowed" (during a rotation, the old password).
const LOGIN_REFUSED: [&str; 2] = ["28P01", "28000"];

/// The pool, with the credentials source and the statistics bookkeeping.
#[derive(Clone)]
pub(crate) struct Db {
    pool: PgPool,
    /// Set when the credentials come from Secrets Manager.
    credentials: Option<Arc<SecretCredentials>>,
    statistics: Arc<Statistics>,
}

/// Opens the pool lazily, with the settings every connection gets.
pub(super) fn connect(options: &PgConnectOptions, pool: PoolOptions<sqlx::Postgres>) -> Db {
    let options = options
        .clone()
        .application_name("todo-app")
        .log_statements(tracing::log::LevelFilter::Trace);
    Db {
        pool: pool.connect_lazy_with(options),
        credentials: None,
        statistics: Arc::default(),
    }
}

/// True for a database error that means the server is there but will not
/// serve us now (shutting down, starting, or refusing our password).
pub(super) fn is_unavailable(err: &sqlx::Error) -> bool {
    has_code(err, &NOT_SERVING) || is_login_refused(err)
}

fn is_login_refused(err: &sqlx::Error) -> bool {
    has_code(err, &LOGIN_REFUSED)
}

fn has_code(err: &sqlx::Error, codes: &[&str]) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().is_some_and(|code| codes.contains(&&*code)))
}

/// Explicit ids do not advance the identity sequence; moves it past them
/// so the next created task gets a fresh id.
pub(super) async fn follow_explicit_task_ids(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT setval('tasks_id_seq', \
         GREATEST(COALESCE((SELECT MAX(id) FROM tasks), 0), \
                  (SELECT last_value FROM tasks_id_seq)), true)",
    )
    .execute(conn)
    .await
    .map(|_| ())
}

/// Two first sign-ups at once must not both claim the shared tasks.
pub(super) async fn lock_accounts(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
        .execute(conn)
        .await
        .map(|_| ())
}

impl Db {
    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(super) fn with_credentials(mut self, source: SecretCredentials) -> Self {
        self.credentials = Some(Arc::new(source));
        self
    }

    /// The sum of the `task_revisions` counters, which a trigger raises in
    /// every transaction that changes `tasks`, from any instance. One small
    /// query.
    pub(super) async fn data_version(&self) -> Result<DataVersion, sqlx::Error> {
        let revision: i64 =
            sqlx::query_scalar("SELECT COALESCE(SUM(revision), 0)::BIGINT FROM task_revisions")
                .fetch_one(&self.pool)
                .await?;
        Ok(DataVersion::Shared { revision })
    }

    /// SQLx holds an advisory lock while it migrates, so many instances
    /// starting at once apply each migration exactly once.
    pub(super) async fn migrate(&self) -> anyhow::Result<()> {
        sqlx::migrate!("migrations/postgres")
            .run(&self.pool)
            .await
            .context("failed to apply PostgreSQL migrations")
    }

    /// When PostgreSQL refused our password (rotated in Secrets Manager),
    /// reloads the credentials so the next connection uses the new ones.
    /// The operation that ran into the rotation still fails (a 503 that
    /// asks to retry).
    pub(super) async fn note_failure(&self, err: &sqlx::Error) {
        if let Some(credentials) = &self.credentials
            && is_login_refused(err)
        {
            credentials.refresh(&self.pool).await;
        }
    }

    pub(super) async fn note_created(&self, rows: u64) {
        if self.statistics.grew(rows) {
            self.refresh_statistics().await;
        }
    }

    pub(super) async fn refresh_statistics(&self) {
        self.statistics.refresh(&self.pool).await;
    }

    /// Warns when the pools of `fleet_size` processes (one when unset), each
    /// as large as this one, cannot all fit in `max_connections`: during an
    /// ECS deployment up to `fleet_size` processes run at once.
    pub(super) async fn check_connection_budget(&self, fleet_size: Option<u32>) {
        let max: Result<String, _> = sqlx::query_scalar("SHOW max_connections")
            .fetch_one(&self.pool)
            .await;
        let max = match max {
            Ok(max) => max,
            Err(err) => return self.note_failure(&err).await,
        };
        let Ok(max) = max.parse::<u32>() else {
            return;
        };
        // A few connections stay reserved for superusers and maintenance.
        let usable = max.saturating_sub(3);
        let pool_size = self.pool.options().get_max_connections();
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
}

/// Change numbers are transaction ids: what our snapshot does not see is
/// at or past its xmax, or one of the transactions it saw running.
pub(super) const SYNC_WATERMARK_SQL: &str = "SELECT pg_snapshot_xmax(s)::text::bigint, \
            (SELECT string_agg(x::text, ',') FROM pg_snapshot_xip(s) AS x) \
       FROM (SELECT pg_current_snapshot() AS s) AS now";
