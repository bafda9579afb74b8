//! Group commit for creates.
//!
//! Creating a task is the one write that arrives in floods (an import by
//! script, many users at once), and each one alone costs a transaction: on
//! SQLite an fsync (`synchronous = FULL`), on PostgreSQL a round trip, a
//! trigger and a WAL flush. So creates go to one writer task per process,
//! which stores whatever is waiting (up to `MAX_BATCH`) with a single
//! multi-row INSERT: one statement, so one transaction. Nobody is answered
//! before the commit that holds their task: durability is unchanged, only
//! the number of commits goes down. A lone create is one plain INSERT.
//!
//! If the batch's INSERT fails (one row refused, say), nothing of it is
//! stored, and each task is inserted on its own, so only the caller whose
//! task is at fault gets the error.
//!
//! The INSERT is the one a create runs without this writer
//! (`tasks::insert_tasks!`); `Store::with_group_commit(false)` takes the
//! writer out, and `tests/api/concurrent_writes.rs` checks that creates come
//! out the same either way.

use tokio::sync::{mpsc, oneshot};

use super::pool::dispatch;
use super::tasks::TaskRow;
use super::{Pool, StoreError, StoreResult, is_connection_error};
use crate::domain::{ListId, NewTask, Owner};

/// Enough to absorb a burst from many connections, small enough that a
/// batch (and SQLite's write lock) is over in a few milliseconds.
const MAX_BATCH: usize = 64;

struct Job {
    list: ListId,
    by: Owner,
    task: NewTask,
    reply: oneshot::Sender<StoreResult<TaskRow>>,
}

/// The sending side; the writer task ends when the last one is dropped.
pub(super) struct CreateQueue {
    jobs: mpsc::UnboundedSender<Job>,
}

impl CreateQueue {
    /// Starts the writer task. It holds the pool but not the queue, so
    /// dropping the store (and with it this queue) stops it.
    pub(super) fn start(pool: Pool) -> Self {
        let (jobs, receiver) = mpsc::unbounded_channel();
        tokio::spawn(write_batches(pool, receiver));
        Self { jobs }
    }

    pub(super) async fn create(
        &self,
        list: ListId,
        by: Owner,
        task: NewTask,
    ) -> StoreResult<TaskRow> {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::db("the task writer has stopped")(sqlx::Error::PoolClosed);
        self.jobs
            .send(Job {
                list,
                by,
                task,
                reply,
            })
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn write_batches(pool: Pool, mut receiver: mpsc::UnboundedReceiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // A caller that gave up while queued (its request timed out and was
        // answered 503) must not find its task created after all.
        batch.retain(|job| !job.reply.is_closed());
        if batch.is_empty() {
            continue;
        }
        let results = {
            // Takes the same SQLite turn as the other writes of this process.
            let _write = pool.write_turn().await;
            insert(&pool, &batch).await
        };
        let stored = results.iter().filter(|r| r.is_ok()).count() as u64;
        for (job, result) in batch.drain(..).zip(results) {
            let _ = job
                .reply
                .send(result.map_err(StoreError::db("failed to insert task")));
        }
        // Creates are how the table grows; see `statistics` for why its
        // plans need new statistics as it does.
        pool.note_created(stored).await;
    }
}

/// The INSERT of the tasks of `$jobs`, a `&[Job]`.
macro_rules! insert_tasks {
    ($jobs:expr) => {{
        let jobs: &[Job] = $jobs;
        super::tasks::insert_tasks!(
            jobs.len(),
            jobs.iter().map(|job| (job.list, job.by, &job.task))
        )
    }};
}

/// Stores every job's task; one result per job, in order.
async fn insert(pool: &Pool, jobs: &[Job]) -> Vec<Result<TaskRow, sqlx::Error>> {
    if jobs.len() > 1 {
        // One statement is one transaction: all rows are stored or none.
        match dispatch!(pool, |db| insert_tasks!(jobs).fetch_all(db)) {
            Ok(mut rows) => {
                // The rows are inserted in VALUES order, so ids rise with
                // it; RETURNING itself promises no order.
                rows.sort_unstable_by_key(|row| row.id);
                return rows.into_iter().map(Ok).collect();
            }
            // The database is away: one at a time would not fare better.
            Err(err) if is_connection_error(&err) => {
                let mut results: Vec<_> =
                    jobs.iter().skip(1).map(|_| Err(copy_error(&err))).collect();
                results.insert(0, Err(err));
                return results;
            }
            // Nothing stored; find the culprit below.
            Err(_) => {}
        }
    }
    let mut results: Vec<Result<TaskRow, sqlx::Error>> = Vec::with_capacity(jobs.len());
    for job in jobs {
        let row = match results.last() {
            Some(Err(err)) if is_connection_error(err) => Err(copy_error(err)),
            _ => dispatch!(pool, |db| {
                insert_tasks!(std::slice::from_ref(job)).fetch_one(db)
            }),
        };
        results.push(row);
    }
    results
}
/// `sqlx::Error` is not `Clone`; every other caller of a failed batch gets
/// an error of the same class and message (the first gets the original).
/// A database error that means "not reachable now" (PostgreSQL shutting
/// down) stays one: as a protocol error it would read as a bug, a 500.
fn copy_error(err: &sqlx::Error) -> sqlx::Error {
    match err {
        sqlx::Error::PoolTimedOut => sqlx::Error::PoolTimedOut,
        sqlx::Error::PoolClosed => sqlx::Error::PoolClosed,
        sqlx::Error::Io(io) => sqlx::Error::Io(std::io::Error::new(io.kind(), io.to_string())),
        other if is_connection_error(other) => sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            other.to_string(),
        )),
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    /// A database error with a SQLSTATE, as PostgreSQL sends them.
    #[derive(Debug)]
    struct Sent(&'static str);

    impl std::fmt::Display for Sent {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(sqlx::error::DatabaseError::message(self))
        }
    }

    impl std::error::Error for Sent {}

    impl sqlx::error::DatabaseError for Sent {
        fn message(&self) -> &str {
            "terminating connection due to administrator command"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    #[test]
    fn the_copies_of_a_failed_batch_keep_its_class() {
        let shutting_down = sqlx::Error::Database(Box::new(Sent("57P01")));
        assert!(is_connection_error(&shutting_down));
        let copy = copy_error(&shutting_down);
        assert!(is_connection_error(&copy), "{copy:?}");
        assert!(copy.to_string().contains("administrator command"), "{copy}");
        // A refusal that is the data's fault stays one.
        let refused = sqlx::Error::Database(Box::new(Sent("23514")));
        assert!(!is_connection_error(&copy_error(&refused)));
    }
}
