//! Planner statistics kept current after bulk changes (PostgreSQL).
//!
//! SQLx prepares every statement once per connection. PostgreSQL plans a
//! prepared statement for its actual parameters five times, then settles on
//! a *generic* plan built from the table's statistics and keeps it until
//! those statistics change. Statistics taken while `tasks` held a hundred
//! rows (autovacuum takes them soon after a deployment, an import or a
//! reset) make a sequential scan the cheapest plan for `WHERE id = $1` and
//! a sort of the whole table the cheapest list. After the table grows to
//! 100 000 rows every pooled connection keeps scanning it: a get went from
//! 0.1 to 4.6 ms and a list to 16 ms (`EXPLAIN EXECUTE` in psql), and the
//! benchmark's mix fell from thousands of requests per second to hundreds.
//! Autovacuum's own ANALYZE replaces those plans, but only once a minute at
//! best and after a tenth of the table has changed.
//!
//! So the store runs `ANALYZE tasks` itself after a bulk change: when an
//! import commits, and when this process's creates have added as many rows
//! as the table held at the last analysis (and at least [`MIN_GROWTH`]).
//! ANALYZE invalidates the cached plans on `tasks` in every session, of
//! every instance, and their next execution is planned anew with the real
//! size. It reads a sample of at most 30 000 rows and takes no lock that
//! holds up reads or writes; the table doubles between two analyses, so
//! they stay rare (about ten on the way from 100 to 130 000 rows). The
//! create writer runs it between two batches, after answering the first:
//! creates queued meanwhile wait for it, and a create answered after the
//! growth knows the statistics are current.
//!
//! Rejected: `plan_cache_mode = force_custom_plan` on every connection. It
//! also fixes the plans (each execution is planned for the table's current
//! size), but planning every statement cost a third of the throughput of
//! a get (pgbench, prepared `SELECT ... WHERE id = $1`, 4 clients: 28-33k
//! against 21-22k transactions/s), and the service's hottest statements are
//! tiny. SQLite needs neither: it has no statistics unless ANALYZE is run
//! (the app never does), and without them it always uses the indexes.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::PgPool;

/// Below this much growth a stale plan costs little (a seq scan of a few
/// dozen pages), and an analysis per handful of creates would not pay.
pub(super) const MIN_GROWTH: u64 = 1_000;

/// How much the table changed since this process last analysed it.
#[derive(Default)]
pub(super) struct Statistics {
    /// Rows this process has inserted since the last analysis began.
    inserted: AtomicU64,
    /// The table's rows as the last analysis found them.
    analysed_rows: AtomicU64,
}

impl Statistics {
    /// Counts rows added by creates; true once they add up to the table's
    /// size at the last analysis, when it is time to [`refresh`](Self::refresh).
    pub(super) fn grew(&self, rows: u64) -> bool {
        let inserted = self.inserted.fetch_add(rows, Ordering::Relaxed) + rows;
        inserted >= self.analysed_rows.load(Ordering::Relaxed).max(MIN_GROWTH)
    }

    /// Runs ANALYZE. Two at once are fine: PostgreSQL runs
    /// them one after the other (each takes a self-conflicting lock that
    /// blocks no reads or writes). A failure (say, a role that does not own
    /// the table) is logged, and autovacuum is left to do it.
    pub(super) async fn refresh(&self, pool: &PgPool) {
        let counted = self.inserted.swap(0, Ordering::Relaxed);
        let result = async {
            sqlx::query("ANALYZE tasks").execute(pool).await?;
            sqlx::query_scalar::<_, i64>(
                "SELECT GREATEST(reltuples, 0)::BIGINT FROM pg_class WHERE oid = 'tasks'::regclass",
            )
            .fetch_one(pool)
            .await
        }
        .await;
        match result {
            Ok(rows) => {
                self.analysed_rows
                    .store(u64::try_from(rows).unwrap_or(0), Ordering::Relaxed);
                tracing::info!(
                    rows,
                    inserted = counted,
                    "refreshed the planner statistics of tasks"
                );
            }
            Err(err) => {
                tracing::warn!(error = %err, "failed to refresh the planner statistics of tasks");
            }
        }
    }
}
