//! Imports, staged so that no other writer waits long for them.
//!
//! SQLite has one writer. An import written as one transaction held it for
//! as long as its rows took to insert, seconds for a large file, and every
//! other account's writes waited that long (`docs/benchmarks.md`). So an
//! import goes in three steps:
//!
//! 1. **Stage.** Lists nobody can see are made for it: one for the tasks of
//!    the default list, one per imported list. Their `owner` is
//!    [`staging_owner`], a negative number no account has, and every query
//!    of every front end starts from the reader's own id (the lists it owns
//!    or is a member of), so they stay invisible.
//! 2. **Fill** them in batches of [`ROWS_PER_BATCH`] tasks, each its own
//!    short transaction; other writers take their turns in between.
//! 3. **Publish** in one transaction: check the target is still empty (or
//!    clear it, for `replace`), move the default list's tasks into it and
//!    hand the other lists to their owner.
//!
//! Until the publish commits nothing of the import is visible, and the
//! publish is all or nothing. An import that fails drops what it staged; one
//! whose process died half way leaves invisible lists behind, which the next
//! import (of anyone) drops once they are [`ABANDONED_AFTER`] old.

use chrono::{DateTime, Duration, SubsecRound, Utc};

use super::pool::{BackendConnection, run};
use super::tasks::now;
use super::{Store, StoreError, StoreResult};
use crate::domain::{Import, ImportedTask, ListId, Owner};

/// Imported tasks per INSERT: 11 or 12 parameters each, well inside the
/// limits of both databases (SQLite 32,766, PostgreSQL 65,535).
const ROWS_PER_INSERT: usize = 500;

/// Imported tasks per transaction: a few milliseconds of SQLite's writer.
const ROWS_PER_BATCH: usize = 4 * ROWS_PER_INSERT;

/// Staged lists older than this belong to an import that died.
const ABANDONED_AFTER: Duration = Duration::hours(1);

/// The owner of the lists an import by `by` is staged in: negative, so no
/// account (ids from 1) and not the shared list (0).
fn staging_owner(by: Owner) -> i64 {
    -1 - by.value()
}

/// The lists one import is staged in, and which tasks go into each.
struct Staged<'a> {
    /// Holds the tasks of the default list until they are moved into it.
    for_default: ListId,
    /// The imported lists, handed to their owner as they are.
    lists: Vec<ListId>,
    /// Every task to insert, with its staged list.
    rows: Vec<(ListId, &'a ImportedTask)>,
}

/// Inserts `$rows` (at most `ROWS_PER_INSERT` of `(ListId, &ImportedTask)`)
/// in one statement of the transaction `$tx`; with `$keep_ids`, each with
/// the id it had in the file. A macro, to be written once for both
/// backends' transactions.
macro_rules! insert_rows {
    ($tx:ident, $rows:expr, $by:expr, $version:expr, $keep_ids:expr) => {{
        let rows: &[(ListId, &ImportedTask)] = $rows;
        let sql = import_sql(rows.len(), $keep_ids);
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (list, task) in rows {
            query = query
                .bind(list.0)
                .bind($by.account())
                .bind(task.title.as_str())
                .bind(task.priority.value())
                .bind(task.completed)
                .bind(task.order)
                .bind(task.due)
                .bind(task.due_time.map(crate::domain::DueTime::time))
                .bind($version)
                .bind(task.created_at.trunc_subsecs(6))
                .bind(task.updated_at.trunc_subsecs(6));
            if $keep_ids {
                query = query.bind(task.id);
            }
        }
        query
            .execute(&mut *$tx)
            .await
            .map_err(StoreError::db("failed to insert imported tasks"))?;
    }};
}

/// In the transaction `$tx`: with `$replace`, deletes every task of `$by`
/// and every list but the default; otherwise refuses (`ListNotEmpty`)
/// unless they hold no task.
macro_rules! clear_or_refuse {
    ($tx:ident, $default:expr, $by:expr, $replace:expr) => {
        if $replace {
            sqlx::query(
                "DELETE FROM tasks WHERE list_id = $1 \
                 OR list_id IN (SELECT id FROM lists WHERE owner = $2)",
            )
            .bind($default.0)
            .bind($by.value())
            .execute(&mut *$tx)
            .await
            .map_err(StoreError::db("failed to clear tasks before import"))?;
            sqlx::query("DELETE FROM lists WHERE owner = $1 AND id <> $2 AND NOT is_default")
                .bind($by.value())
                .bind($default.0)
                .execute(&mut *$tx)
                .await
                .map_err(StoreError::db("failed to clear lists before import"))?;
        } else {
            let existing: i64 = sqlx::query_scalar(COUNT_EXISTING)
                .bind($default.0)
                .bind($by.value())
                .fetch_one(&mut *$tx)
                .await
                .map_err(StoreError::db("failed to count tasks before import"))?;
            if existing > 0 {
                return Err(StoreError::ListNotEmpty { existing });
            }
        }
    };
}

impl Store {
    /// Imports `tasks` into `list` (see [`Store::import`]).
    pub async fn import_tasks(
        &self,
        list: ListId,
        by: Owner,
        tasks: &[ImportedTask],
        replace: bool,
    ) -> StoreResult<u64> {
        let import = Import {
            tasks: tasks.to_vec(),
            lists: Vec::new(),
        };
        self.import(list, by, &import, replace).await
    }

    /// Stores an import for `by`, all or nothing: its tasks into `default`
    /// (the default list of `by`), its other lists as new lists of `by`.
    /// Refuses when any of `by`'s lists holds tasks, unless `replace` first
    /// deletes them and every list but the default. Other writers wait for
    /// it a batch at a time, never for the whole import (see the module
    /// docs).
    ///
    /// The shared list (`by` is `Owner::SHARED`) keeps the ids of the file
    /// (moving a database keeps every URL); an account's tasks get new ids,
    /// since ids are unique across all accounts. Kept ids start at a version
    /// no earlier incarnation of that id had (see the `import_epoch` table),
    /// so a stale `If-Match` or `If-None-Match` never matches the imported
    /// task.
    pub async fn import(
        &self,
        default: ListId,
        by: Owner,
        import: &Import,
        replace: bool,
    ) -> StoreResult<u64> {
        // The lists it makes: after a `replace`, the default list and the
        // file's; otherwise those beside the owner's lists as they are.
        if let Some(limit) = self.list_limit {
            let (all, deleted) = self.owned_lists(by).await?;
            let kept = if replace { 1 } else { all - deleted };
            let after = kept + import.lists.len() as u64;
            if after > limit {
                return Err(StoreError::ListLimit {
                    limit,
                    importing: Some(after),
                });
            }
        }
        // Each list ends up holding exactly its imported tasks (an import
        // without `replace` needs empty lists), so this is the whole check.
        if let Some(limit) = self.task_limit
            && import.largest_list() as u64 > limit
        {
            return Err(StoreError::TaskLimit {
                limit,
                importing: Some(import.largest_list() as u64),
            });
        }
        if by == Owner::SHARED {
            self.import_keeping_ids(default, import, replace).await?;
        } else {
            self.drop_abandoned_imports().await?;
            if !replace {
                // Checked again when publishing; this spares the work of an
                // import that cannot succeed.
                self.refuse_unless_empty(default, by).await?;
            }
            let staged = self.stage(by, import).await?;
            let published = async {
                self.fill(&staged, by).await?;
                self.publish(&staged, default, by, replace).await
            }
            .await;
            if let Err(error) = published {
                // Best effort: what is left is invisible, and dropped later.
                if let Err(cleanup) = self.drop_staged(&staged).await {
                    tracing::warn!(%cleanup, "could not drop a failed import's staged lists");
                }
                return Err(error);
            }
        }
        // A bulk change: no prepared statement may keep a plan made for
        // the table as it was (see `statistics`).
        self.pool.refresh_statistics().await;
        Ok(import.task_count() as u64)
    }

    /// The shared list's import: its tasks keep the file's ids, which
    /// `replace` usually finds taken by the tasks it replaces, so the old
    /// tasks go and the new ones come in one transaction. No account is
    /// held up by it: the shared list is that of `AUTH_MODE=none`, which
    /// has no accounts.
    async fn import_keeping_ids(
        &self,
        default: ListId,
        import: &Import,
        replace: bool,
    ) -> StoreResult<()> {
        let by = Owner::SHARED;
        let _write = self.write_guard().await;
        let ctx = StoreError::db;
        run!(self, |pool| async {
            let mut tx = pool
                .begin()
                .await
                .map_err(ctx("failed to start the import"))?;
            clear_or_refuse!(tx, default, by, replace);
            let epoch: i64 =
                sqlx::query_scalar("UPDATE import_epoch SET epoch = epoch + 1 RETURNING epoch")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(ctx("failed to number the import"))?;
            let version = (epoch << 32) + 1;
            let mut rows: Vec<(ListId, &ImportedTask)> =
                import.tasks.iter().map(|t| (default, t)).collect();
            let now = now();
            for list in &import.lists {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO lists (owner, name, position, is_default, created_at, updated_at) \
                     VALUES ($1, $2, $3, FALSE, $4, $4) RETURNING id",
                )
                .bind(by.value())
                .bind(list.name.as_str())
                .bind(list.position)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(ctx("failed to create an imported list"))?;
                rows.extend(list.tasks.iter().map(|t| (ListId(id), t)));
            }
            // An id held by a task of another owner cannot be taken over
            // (this owner's were deleted above, or there were none).
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                let placeholders: Vec<String> =
                    (1..=chunk.len()).map(|i| format!("${i}")).collect();
                let sql = format!(
                    "SELECT MIN(id) FROM tasks WHERE id IN ({})",
                    placeholders.join(", ")
                );
                let mut query = sqlx::query_scalar::<_, Option<i64>>(sqlx::AssertSqlSafe(sql));
                for (_, task) in chunk {
                    query = query.bind(task.id);
                }
                let taken = query
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(ctx("failed to check imported ids"))?;
                if let Some(id) = taken {
                    return Err(StoreError::IdTaken(id));
                }
            }
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                insert_rows!(tx, chunk, by, version, true);
            }
            tx.follow_explicit_task_ids()
                .await
                .map_err(ctx("failed to advance the id sequence"))?;
            tx.commit()
                .await
                .map_err(ctx("failed to commit the import"))
        })
    }

    /// `ListNotEmpty` when any list of `by` holds tasks.
    async fn refuse_unless_empty(&self, default: ListId, by: Owner) -> StoreResult<()> {
        let existing: i64 = run!(self, "failed to count tasks before import", |pool| {
            sqlx::query_scalar(COUNT_EXISTING)
                .bind(default.0)
                .bind(by.value())
                .fetch_one(pool)
        })?;
        match existing {
            0 => Ok(()),
            existing => Err(StoreError::ListNotEmpty { existing }),
        }
    }

    /// Makes the staged lists.
    async fn stage<'a>(&self, by: Owner, import: &'a Import) -> StoreResult<Staged<'a>> {
        let owner = staging_owner(by);
        let _write = self.write_guard().await;
        let ctx = StoreError::db;
        run!(self, |pool| async {
            let mut tx = pool
                .begin()
                .await
                .map_err(ctx("failed to start the import"))?;
            let now = now();
            let mut lists = Vec::with_capacity(import.lists.len() + 1);
            let names = std::iter::once(("import", 0))
                .chain(import.lists.iter().map(|l| (l.name.as_str(), l.position)));
            for (name, position) in names {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO lists (owner, name, position, is_default, created_at, updated_at) \
                     VALUES ($1, $2, $3, FALSE, $4, $4) RETURNING id",
                )
                .bind(owner)
                .bind(name)
                .bind(position)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(ctx("failed to stage an imported list"))?;
                lists.push(ListId(id));
            }
            tx.commit()
                .await
                .map_err(ctx("failed to commit the staged lists"))?;
            let for_default = lists.remove(0);
            let mut rows = Vec::with_capacity(import.task_count());
            rows.extend(import.tasks.iter().map(|t| (for_default, t)));
            for (list, imported) in lists.iter().zip(&import.lists) {
                rows.extend(imported.tasks.iter().map(|t| (*list, t)));
            }
            Ok::<_, StoreError>(Staged {
                for_default,
                lists,
                rows,
            })
        })
    }

    /// Inserts the staged rows, one short transaction per batch.
    async fn fill(&self, staged: &Staged<'_>, by: Owner) -> StoreResult<()> {
        for batch in staged.rows.chunks(ROWS_PER_BATCH) {
            let _write = self.write_guard().await;
            let ctx = StoreError::db;
            run!(self, |pool| async {
                let mut tx = pool
                    .begin()
                    .await
                    .map_err(ctx("failed to start an import batch"))?;
                for rows in batch.chunks(ROWS_PER_INSERT) {
                    insert_rows!(tx, rows, by, 1, false);
                }
                tx.commit()
                    .await
                    .map_err(ctx("failed to commit an import batch"))
            })?;
        }
        Ok(())
    }

    /// Makes the staged import the real one, in one transaction.
    async fn publish(
        &self,
        staged: &Staged<'_>,
        default: ListId,
        by: Owner,
        replace: bool,
    ) -> StoreResult<()> {
        let _write = self.write_guard().await;
        let ctx = StoreError::db;
        run!(self, |pool| async {
            let mut tx = pool
                .begin()
                .await
                .map_err(ctx("failed to start publishing the import"))?;
            clear_or_refuse!(tx, default, by, replace);
            sqlx::query("UPDATE tasks SET list_id = $1 WHERE list_id = $2")
                .bind(default.0)
                .bind(staged.for_default.0)
                .execute(&mut *tx)
                .await
                .map_err(ctx("failed to publish the imported tasks"))?;
            for list in &staged.lists {
                sqlx::query("UPDATE lists SET owner = $1 WHERE id = $2")
                    .bind(by.value())
                    .bind(list.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(ctx("failed to publish an imported list"))?;
            }
            sqlx::query("DELETE FROM lists WHERE id = $1")
                .bind(staged.for_default.0)
                .execute(&mut *tx)
                .await
                .map_err(ctx("failed to drop the staged list"))?;
            tx.commit()
                .await
                .map_err(ctx("failed to commit the import"))
        })
    }

    /// Drops the lists (and so the tasks) an import staged.
    async fn drop_staged(&self, staged: &Staged<'_>) -> StoreResult<()> {
        for list in staged.lists.iter().chain([&staged.for_default]) {
            self.drop_staged_list(*list).await?;
        }
        Ok(())
    }

    async fn drop_staged_list(&self, list: ListId) -> StoreResult<()> {
        let _write = self.write_guard().await;
        run!(self, "failed to drop a staged import list", |pool| async {
            // `owner < 0`: a list that was published meanwhile stays.
            sqlx::query("DELETE FROM lists WHERE id = $1 AND owner < 0")
                .bind(list.0)
                .execute(pool)
                .await
                .map(|_| ())
        })
    }

    /// Drops what imports that died half way staged.
    async fn drop_abandoned_imports(&self) -> StoreResult<()> {
        let cutoff: DateTime<Utc> = (Utc::now() - ABANDONED_AFTER).trunc_subsecs(6);
        let abandoned: Vec<i64> = run!(self, "failed to look for abandoned imports", |pool| {
            sqlx::query_scalar("SELECT id FROM lists WHERE owner < 0 AND created_at < $1")
                .bind(cutoff)
                .fetch_all(pool)
        })?;
        for list in abandoned {
            tracing::info!(
                list,
                "dropping the staged list of an import that did not finish"
            );
            self.drop_staged_list(ListId(list)).await?;
        }
        Ok(())
    }
}

/// Counts the tasks in `$1` (the default list) and in the lists `$2` owns;
/// a deleted list (kept for undo) is not in the way.
const COUNT_EXISTING: &str = "SELECT COUNT(*) FROM tasks WHERE list_id = $1 \
     OR list_id IN (SELECT id FROM lists WHERE owner = $2 AND deleted_at IS NULL)";

/// The INSERT of `rows` imported tasks; with `keep_ids`, each with its id.
fn import_sql(rows: usize, keep_ids: bool) -> String {
    let columns = if keep_ids { 12 } else { 11 };
    let mut sql = String::from(
        "INSERT INTO tasks (list_id, created_by, title, priority, completed, position, due, due_time, version, created_at, updated_at",
    );
    sql.push_str(if keep_ids {
        ", id) VALUES "
    } else {
        ") VALUES "
    });
    for row in 0..rows {
        let values: Vec<String> = (1..=columns)
            .map(|column| format!("${}", row * columns + column))
            .collect();
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        sql.push_str(&values.join(", "));
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_insert_many_rows_per_statement() {
        assert_eq!(
            import_sql(2, false),
            "INSERT INTO tasks (list_id, created_by, title, priority, completed, position, due, due_time, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11), ($12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
        );
        assert!(
            import_sql(1, true)
                .ends_with(", id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
        );
    }

    #[test]
    fn staged_lists_belong_to_no_account() {
        assert!(staging_owner(Owner::SHARED) < 0);
        assert_ne!(
            staging_owner(Owner::SHARED),
            staging_owner(Owner::user(crate::domain::UserId(1)))
        );
    }
}
