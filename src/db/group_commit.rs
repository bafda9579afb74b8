//! Group commit for creates on SQLite.
//!
//! With `synchronous = FULL` every SQLite commit waits for an fsync, so one
//! insert per transaction caps creates at the disk's fsync rate. Instead,
//! creates are queued to one writer task that runs whatever is waiting (up to
//! `MAX_BATCH`) in a single transaction: one fsync for the lot. Nobody is
//! answered before the commit that holds their task, so durability is the
//! same as before; only the number of fsyncs changes.
//!
//! A failed insert does not spoil the batch: SQLite undoes just the failing
//! statement, so the others still commit and only that caller gets the error.

use std::sync::{Arc, Weak};

use sqlx::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use super::tasks::{INSERT_TASK, TaskRow, now};
use super::{LocalState, StoreError, StoreResult};
use crate::domain::NewTask;

/// Enough to absorb a burst from many connections, small enough that the
/// write lock is not held long (a batch of 64 takes a few milliseconds).
const MAX_BATCH: usize = 64;

struct Job {
    task: NewTask,
    reply: oneshot::Sender<StoreResult<TaskRow>>,
}

/// The sending side; the writer task ends when the last one is dropped.
pub(super) struct CreateQueue {
    jobs: mpsc::UnboundedSender<Job>,
}

impl CreateQueue {
    /// Starts the writer task. It holds the state weakly so that dropping
    /// the store (and with it this queue) stops it.
    pub(super) fn start(pool: SqlitePool, local: &Arc<LocalState>) -> Self {
        let (jobs, receiver) = mpsc::unbounded_channel();
        tokio::spawn(write_batches(pool, Arc::downgrade(local), receiver));
        Self { jobs }
    }

    pub(super) async fn create(&self, task: NewTask) -> StoreResult<TaskRow> {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::Database {
            context: "the task writer has stopped",
            source: sqlx::Error::PoolClosed,
        };
        self.jobs.send(Job { task, reply }).map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn write_batches(
    pool: SqlitePool,
    local: Weak<LocalState>,
    mut receiver: mpsc::UnboundedReceiver<Job>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let Some(local) = local.upgrade() else { break };
        {
            // Other writes of this process queue on the same turn.
            let _turn = local.sqlite_writer.lock().await;
            write_batch(&pool, &mut batch).await;
        }
        local.note_write();
    }
}

/// Inserts every job's task in one transaction and answers each.
async fn write_batch(pool: &SqlitePool, batch: &mut Vec<Job>) {
    let fail_all = |batch: &mut Vec<Job>, context: &'static str, err: sqlx::Error| {
        for job in batch.drain(..) {
            let _ = job
                .reply
                .send(Err(StoreError::db(context)(copy_error(&err))));
        }
    };
    let mut tx = match pool.begin().await {
        Ok(tx) => tx,
        Err(err) => return fail_all(batch, "failed to start a transaction", err),
    };
    let mut results = Vec::with_capacity(batch.len());
    for job in batch.iter() {
        let task = &job.task;
        let row = sqlx::query_as::<_, TaskRow>(INSERT_TASK)
            .bind(task.title.as_str())
            .bind(task.priority.value())
            .bind(task.completed)
            .bind(task.order)
            .bind(task.due)
            .bind(now())
            .fetch_one(&mut *tx)
            .await;
        results.push(row);
    }
    if let Err(err) = tx.commit().await {
        return fail_all(batch, "failed to commit new tasks", err);
    }
    for (job, row) in batch.drain(..).zip(results) {
        let _ = job
            .reply
            .send(row.map_err(StoreError::db("failed to insert task")));
    }
}

/// `sqlx::Error` is not `Clone`; every caller of a failed batch gets an
/// error of the same kind and message.
fn copy_error(err: &sqlx::Error) -> sqlx::Error {
    match err {
        sqlx::Error::PoolTimedOut => sqlx::Error::PoolTimedOut,
        sqlx::Error::PoolClosed => sqlx::Error::PoolClosed,
        sqlx::Error::Io(io) => sqlx::Error::Io(std::io::Error::new(io.kind(), io.to_string())),
        other => sqlx::Error::Protocol(other.to_string()),
    }
}
