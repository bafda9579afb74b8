//! Deleted tasks, kept for a while (`deleted_tasks`): what makes a
//! deletion undoable, and what CalDAV's sync will report as tombstones
//! (`docs/deletion.md`).
//!
//! Every way a task is deleted by someone (one task, a list's completed
//! tasks, all of them) runs its `DELETE … RETURNING` and hands the rows it
//! removed to [`keep_deleted!`], in the same transaction: exactly the rows
//! that went, as they were when they went, are kept, with who deleted them
//! and when. A restore is the reverse, one `INSERT … SELECT` from here
//! whose `WHERE` holds every rule (kept long enough ago, a list the actor
//! may change tasks in), so no front end can forget one. What is not
//! restorable is told by [`Store::why_not_restored`], which is only asked
//! once a restore has failed.
//!
//! Kept rows go after the retention period (`DELETED_RETENTION`):
//! [`Store::purge_deleted`] removes them, and until it has, a restore
//! already refuses them.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sqlx::FromRow;

use super::lists::Need;
use super::pool::run;
use super::tasks::{TaskRow, now};
use super::{Store, StoreError, StoreResult};
use crate::domain::{ListId, Owner, Task};

/// The columns of a task as stored (creators as account ids), in the
/// order both `tasks` and `deleted_tasks` name them.
pub(super) const STORED_COLUMNS: &str = "id, list_id, title, priority, completed, position, due, \
     due_time, version, created_at, updated_at, created_by, completed_by, caldav_uid, caldav_name, \
     ical";

/// A task row as stored, on its way from `tasks` to `deleted_tasks`.
#[derive(FromRow)]
pub(super) struct StoredTask {
    pub(super) id: i64,
    pub(super) list_id: i64,
    pub(super) title: String,
    pub(super) priority: i16,
    pub(super) completed: bool,
    pub(super) position: i64,
    pub(super) due: Option<NaiveDate>,
    pub(super) due_time: Option<NaiveTime>,
    pub(super) version: i64,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
    pub(super) created_by: Option<i64>,
    pub(super) completed_by: Option<i64>,
    /// What CalDAV knows it by, and the object a client sent (if one did).
    pub(super) caldav_uid: Option<String>,
    pub(super) caldav_name: Option<String>,
    pub(super) ical: Option<String>,
}

/// Kept rows per INSERT: 18 parameters each, within both databases'
/// limits.
pub(super) const KEPT_PER_INSERT: usize = 500;

/// The INSERT of `rows` deleted tasks. A row already kept under the same
/// id (a task deleted, then imported again with its id, then deleted) is
/// replaced: the newest deletion is the one that counts.
pub(super) fn keep_sql(rows: usize) -> String {
    let columns = 18;
    let values: Vec<String> = (0..rows)
        .map(|row| {
            let params: Vec<String> = (1..=columns)
                .map(|c| format!("${}", row * columns + c))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    let updates: Vec<String> = STORED_COLUMNS
        .split(", ")
        .skip(1)
        .chain(["deleted_at", "deleted_by"])
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO deleted_tasks ({STORED_COLUMNS}, deleted_at, deleted_by) VALUES {} \
         ON CONFLICT (id) DO UPDATE SET {}",
        values.join(", "),
        updates.join(", ")
    )
}

/// Keeps `$rows` (a `Vec<StoredTask>` just deleted) in `deleted_tasks` on
/// the transaction `$tx`, as deleted at `$at` by `$by` (an `Owner`).
/// Evaluates to a `Result<(), sqlx::Error>`.
macro_rules! keep_deleted {
    ($tx:expr, $rows:expr, $at:expr, $by:expr) => {
        async {
            let rows: &[$crate::db::deleted::StoredTask] = $rows;
            let at: chrono::DateTime<chrono::Utc> = $at;
            let by: $crate::domain::Owner = $by;
            for chunk in rows.chunks($crate::db::deleted::KEPT_PER_INSERT) {
                let sql = $crate::db::deleted::keep_sql(chunk.len());
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for row in chunk {
                    query = query
                        .bind(row.id)
                        .bind(row.list_id)
                        .bind(row.title.as_str())
                        .bind(row.priority)
                        .bind(row.completed)
                        .bind(row.position)
                        .bind(row.due)
                        .bind(row.due_time)
                        .bind(row.version)
                        .bind(row.created_at)
                        .bind(row.updated_at)
                        .bind(row.created_by)
                        .bind(row.completed_by)
                        .bind(row.caldav_uid.as_deref())
                        .bind(row.caldav_name.as_deref())
                        .bind(row.ical.as_deref())
                        .bind(at)
                        .bind(by.account());
                }
                query.execute(&mut *$tx).await?;
            }
            Ok::<(), sqlx::Error>(())
        }
    };
}
pub(super) use keep_deleted;

/// The restore of the tasks `$3…` kept since `$2`, into lists the actor
/// `$1` may change tasks in, as they were but one version on and changed
/// now (`$2` is the earliest deletion still kept, `$now` the restore's
/// time, bound after the ids). A task whose id is taken again is left.
fn restore_sql(ids: usize) -> String {
    let now = ids + 3;
    format!(
        "INSERT INTO tasks ({STORED_COLUMNS}) \
         SELECT d.id, d.list_id, d.title, d.priority, d.completed, d.position, d.due, \
                d.due_time, d.version + 1, d.created_at, ${now}, d.created_by, d.completed_by, \
                d.caldav_uid, {name}, d.ical \
           FROM deleted_tasks d \
          WHERE d.id IN ({ids}) AND d.deleted_at >= $2 AND d.list_id IN {writable} \
         ON CONFLICT (id) DO NOTHING \
         RETURNING {columns}",
        ids = super::parameters(3, ids),
        writable = super::tasks::writable_lists!("$1"),
        columns = super::tasks::task_columns!("tasks"),
        // Two deleted tasks of a list can hold one name (the first one's
        // name taken again, then that one deleted too) and be restored
        // together: the newer keeps it.
        name = super::tasks::arriving_name!(
            "d.list_id",
            "d",
            "EXISTS (SELECT 1 FROM deleted_tasks z WHERE z.list_id = d.list_id \
             AND z.caldav_name = d.caldav_name AND z.id > d.id)"
        ),
    )
}

/// What a purge removed for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Purged {
    /// Deleted tasks, and the tasks of deleted lists.
    pub tasks: u64,
    pub lists: u64,
}

/// At most this many tasks are restored in one statement.
const RESTORED_PER_STATEMENT: usize = 500;

impl Store {
    /// The earliest deletion still kept: anything deleted before it is
    /// gone (or about to be purged), whatever the table still holds.
    pub(super) fn kept_since(&self) -> DateTime<Utc> {
        now() - self.retention
    }

    /// Puts back the deleted tasks `ids` as they were (same id, list,
    /// place, creator and creation time, every field), all or none: each
    /// must have been deleted within the retention period from a list
    /// `actor` may still change tasks in, and not be back already. A
    /// restore is a change: each task's version goes up by one and its
    /// `updated_at` is now, so caches, other tabs and sync clients see it
    /// return. Returns the tasks in the order of `ids`.
    pub async fn restore_tasks(&self, actor: Owner, ids: &[i64]) -> StoreResult<Vec<Task>> {
        let mut seen = std::collections::HashSet::new();
        let ids: Vec<i64> = ids.iter().copied().filter(|id| seen.insert(*id)).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        for (list, count) in self.kept_lists(&ids).await? {
            self.check_room(list, count).await?;
        }
        let since = self.kept_since();
        let restored: Option<Vec<TaskRow>> = {
            let _write = self.write_guard().await;
            let ctx = StoreError::db;
            run!(self, |pool| async {
                let mut tx = pool
                    .begin()
                    .await
                    .map_err(ctx("failed to start a restore"))?;
                let now = now();
                let mut restored = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(RESTORED_PER_STATEMENT) {
                    let mut insert =
                        sqlx::query_as::<_, TaskRow>(sqlx::AssertSqlSafe(restore_sql(chunk.len())))
                            .bind(actor.value())
                            .bind(since);
                    for id in chunk {
                        insert = insert.bind(*id);
                    }
                    let rows = insert
                        .bind(now)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(ctx("failed to restore tasks"))?;
                    if rows.len() < chunk.len() {
                        // Not all of them may come back: none does.
                        return Ok(None);
                    }
                    let placeholders: Vec<String> =
                        (1..=chunk.len()).map(|i| format!("${i}")).collect();
                    let mut forget = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DELETE FROM deleted_tasks WHERE id IN ({})",
                        placeholders.join(", ")
                    )));
                    for id in chunk {
                        forget = forget.bind(*id);
                    }
                    forget
                        .execute(&mut *tx)
                        .await
                        .map_err(ctx("failed to forget restored tasks"))?;
                    restored.extend(rows);
                }
                tx.commit()
                    .await
                    .map_err(ctx("failed to commit a restore"))?;
                Ok::<_, StoreError>(Some(restored))
            })?
        };
        let Some(rows) = restored else {
            return Err(self.why_not_restored(actor, &ids).await);
        };
        let mut tasks: Vec<Task> = rows.into_iter().map(Task::from).collect();
        tasks.sort_by_key(|task| ids.iter().position(|id| *id == task.id));
        Ok(tasks)
    }

    /// The lists the kept tasks `ids` were deleted from, with how many of
    /// them each would take back.
    async fn kept_lists(&self, ids: &[i64]) -> StoreResult<Vec<(ListId, u64)>> {
        let mut counts = std::collections::BTreeMap::<ListId, u64>::new();
        for chunk in ids.chunks(RESTORED_PER_STATEMENT) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT list_id FROM deleted_tasks WHERE id IN ({})",
                placeholders.join(", ")
            );
            let lists: Vec<i64> = run!(self, "failed to read deleted tasks", |pool| {
                let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
                for id in chunk {
                    query = query.bind(*id);
                }
                query.fetch_all(pool)
            })?;
            for list in lists {
                *counts.entry(ListId(list)).or_default() += 1;
            }
        }
        Ok(counts.into_iter().collect())
    }

    /// Why restoring `ids` failed, for the first one that cannot come
    /// back: it is not deleted (409); it was never there, is past the
    /// retention period, or is in a list the actor is no member of (404,
    /// as a task that does not exist); the actor may only read its list
    /// (403); its list was deleted since (409: the list comes back first).
    async fn why_not_restored(&self, actor: Owner, ids: &[i64]) -> StoreError {
        let since = self.kept_since();
        for &id in ids {
            match self.get_task(actor, id).await {
                Ok(_) => return StoreError::NotDeleted(id),
                Err(StoreError::NotFound(_)) => {}
                Err(err) => return err,
            }
            let kept: Option<(i64, DateTime<Utc>)> =
                match run!(self, "failed to read a deleted task", |pool| {
                    sqlx::query_as("SELECT list_id, deleted_at FROM deleted_tasks WHERE id = $1")
                        .bind(id)
                        .fetch_optional(pool)
                }) {
                    Ok(kept) => kept,
                    Err(err) => return err,
                };
            let Some((list, deleted_at)) = kept else {
                return StoreError::NotFound(id);
            };
            if deleted_at < since {
                return StoreError::NotFound(id);
            }
            let list = ListId(list);
            let (role, list_deleted) = match self.role_even_if_deleted(actor, list).await {
                Ok(Some(found)) => found,
                Ok(None) => return StoreError::NotFound(id),
                Err(err) => return err,
            };
            if let Err(refused) = Need::ChangeTasks.check(list, role) {
                return refused;
            }
            if list_deleted.is_some() {
                return StoreError::ListDeleted(list.0);
            }
        }
        // Each could come back when asked again: another restore of the
        // same tasks got there first.
        match ids.first() {
            Some(&id) => StoreError::NotDeleted(id),
            None => StoreError::NotFound(0),
        }
    }

    /// Forgets tasks and lists deleted before the retention period (a
    /// list with its tasks, members and kept tasks); returns how many
    /// tasks and lists went. Safe to run on every instance at once.
    pub async fn purge_deleted(&self) -> StoreResult<Purged> {
        let before = self.kept_since();
        let _write = self.write_guard().await;
        let ctx = StoreError::db;
        let purged = run!(self, |pool| async {
            let mut tx = pool.begin().await.map_err(ctx("failed to start a purge"))?;
            let kept_tasks = sqlx::query("DELETE FROM deleted_tasks WHERE deleted_at < $1")
                .bind(before)
                .execute(&mut *tx)
                .await
                .map_err(ctx("failed to purge deleted tasks"))?
                .rows_affected();
            // Their members and kept tasks go with them (ON DELETE CASCADE).
            let list_tasks = sqlx::query(
                "DELETE FROM tasks WHERE list_id IN \
                 (SELECT id FROM lists WHERE deleted_at IS NOT NULL AND deleted_at < $1)",
            )
            .bind(before)
            .execute(&mut *tx)
            .await
            .map_err(ctx("failed to purge the tasks of deleted lists"))?
            .rows_affected();
            let lists =
                sqlx::query("DELETE FROM lists WHERE deleted_at IS NOT NULL AND deleted_at < $1")
                    .bind(before)
                    .execute(&mut *tx)
                    .await
                    .map_err(ctx("failed to purge deleted lists"))?
                    .rows_affected();
            tx.commit().await.map_err(ctx("failed to commit a purge"))?;
            Ok(Purged {
                tasks: kept_tasks + list_tasks,
                lists,
            })
        })?;
        // Sync's tombstones go after the same time (tokens that needed
        // them are then refused).
        self.purge_departures(before).await?;
        Ok(purged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_rows_are_numbered_per_row_and_replace_an_older_deletion() {
        let sql = keep_sql(2);
        assert!(
            sql.starts_with(
                "INSERT INTO deleted_tasks (id, list_id, title, priority, completed, position, \
                 due, due_time, version, created_at, updated_at, created_by, completed_by, \
                 caldav_uid, caldav_name, ical, deleted_at, deleted_by) VALUES ($1, $2,"
            ),
            "{sql}"
        );
        assert!(sql.contains("$18), ($19, $20,"), "{sql}");
        assert!(sql.ends_with("$36) ON CONFLICT (id) DO UPDATE SET list_id = excluded.list_id, title = excluded.title, priority = excluded.priority, completed = excluded.completed, position = excluded.position, due = excluded.due, due_time = excluded.due_time, version = excluded.version, created_at = excluded.created_at, updated_at = excluded.updated_at, created_by = excluded.created_by, completed_by = excluded.completed_by, caldav_uid = excluded.caldav_uid, caldav_name = excluded.caldav_name, ical = excluded.ical, deleted_at = excluded.deleted_at, deleted_by = excluded.deleted_by"), "{sql}");
    }

    #[test]
    fn restores_bind_the_actor_the_cutoff_the_ids_and_then_the_time() {
        let sql = restore_sql(2);
        assert!(
            sql.contains("WHERE d.id IN ($3, $4) AND d.deleted_at >= $2"),
            "{sql}"
        );
        assert!(sql.contains("d.version + 1, d.created_at, $5,"), "{sql}");
        assert!(sql.contains("owner = $1"), "{sql}");
    }
}
