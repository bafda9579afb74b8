//! Task queries. Every statement here is plain SQL that both SQLite and
//! PostgreSQL accept, bound with `$n` placeholders.

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use sqlx::FromRow;

use super::{Backend, Store, StoreError, StoreResult, with_pool};
use crate::domain::{NewTask, Priority, SortOrder, Task, TaskChanges, TaskFilter, Title};

#[derive(FromRow)]
pub(super) struct TaskRow {
    pub(super) id: i64,
    title: String,
    priority: i16,
    completed: bool,
    position: i64,
    due: Option<NaiveDate>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<TaskRow> for Task {
    fn from(row: TaskRow) -> Self {
        Task {
            id: row.id,
            title: row.title,
            // The CHECK constraint keeps priority in range.
            priority: Priority::try_from(row.priority).unwrap_or_default(),
            completed: row.completed,
            order: row.position,
            due: row.due,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A task read from an export file, validated, keeping its id and history.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedTask {
    pub id: i64,
    pub title: Title,
    pub priority: Priority,
    pub completed: bool,
    pub order: i64,
    pub due: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The list query for one sort order. Filters are written so that a NULL
/// parameter switches them off, which keeps the SQL static.
macro_rules! list_sql {
    ($order_by:literal) => {
        concat!(
            "SELECT id, title, priority, completed, position, due, version, created_at, updated_at \
             FROM tasks \
             WHERE ($1 IS NULL OR completed = $1) \
               AND ($2 IS NULL OR lower(title) LIKE $2 ESCAPE '\\') \
             ORDER BY ",
            $order_by,
            " LIMIT $3 OFFSET $4"
        )
    };
}

fn list_sql(sort: SortOrder) -> &'static str {
    match sort {
        SortOrder::Order => list_sql!("position, id"),
        SortOrder::Priority => list_sql!("priority DESC, position, id"),
        SortOrder::Due => list_sql!("due IS NULL, due, position, id"),
        SortOrder::Created => list_sql!("created_at DESC, id DESC"),
    }
}

/// `%needle%` for LIKE, with the wildcards of the needle escaped.
fn like_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The current time at the precision both databases keep (PostgreSQL
/// stores microseconds), so a task reads back the same from either.
pub(super) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Inserts `rows` tasks, each by default after the last one, and returns
/// them. Binds per row: title, priority, completed, order (or NULL), due, now.
pub(super) fn insert_sql(rows: usize) -> String {
    use std::fmt::Write;
    let mut sql = String::from(
        "INSERT INTO tasks (title, priority, completed, position, due, version, created_at, updated_at) VALUES ",
    );
    for row in 0..rows {
        let p = row * 6;
        // Row k of a batch goes k places after the last task.
        let _ = write!(
            sql,
            "{comma}(${title}, ${priority}, ${completed}, \
             COALESCE(${order}, (SELECT COALESCE(MAX(position), 0) FROM tasks) + {k}), ${due}, 1, ${now}, ${now})",
            comma = if row == 0 { "" } else { ", " },
            title = p + 1,
            priority = p + 2,
            completed = p + 3,
            order = p + 4,
            due = p + 5,
            now = p + 6,
            k = row + 1,
        );
    }
    sql.push_str(
        " RETURNING id, title, priority, completed, position, due, version, created_at, updated_at",
    );
    sql
}

/// Counts shown in the UI footer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TaskCounts {
    pub total: i64,
    pub active: i64,
}

impl TaskCounts {
    pub fn completed(&self) -> i64 {
        self.total - self.active
    }
}

impl Store {
    /// Lists tasks; the second value says whether more follow the page.
    pub async fn list_tasks(&self, filter: &TaskFilter) -> StoreResult<(Vec<Task>, bool)> {
        let limit = i64::from(filter.limit.min(TaskFilter::MAX_LIMIT));
        let offset = i64::try_from(filter.offset).unwrap_or(i64::MAX);
        let pattern = filter.query.as_deref().map(like_pattern);
        let rows: Vec<TaskRow> = self
            .observe(
                with_pool!(self, pool => {
                    sqlx::query_as(list_sql(filter.sort))
                        .bind(filter.completed)
                        .bind(pattern.as_deref())
                        // One extra row tells whether there is a next page.
                        .bind(limit + 1)
                        .bind(offset)
                        .fetch_all(pool)
                        .await
                })
                .map_err(StoreError::db("failed to list tasks")),
            )
            .await?;
        let has_more = rows.len() as i64 > limit;
        let tasks = rows
            .into_iter()
            .take(limit as usize)
            .map(Task::from)
            .collect();
        Ok((tasks, has_more))
    }

    pub async fn count_tasks(&self) -> StoreResult<TaskCounts> {
        let (total, active): (i64, i64) = self.observe(with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN completed THEN 0 ELSE 1 END), 0) FROM tasks",
            )
            .fetch_one(pool)
            .await
        })
        .map_err(StoreError::db("failed to count tasks")))
        .await?;
        Ok(TaskCounts { total, active })
    }

    pub async fn get_task(&self, id: i64) -> StoreResult<Task> {
        let row: Option<TaskRow> = self.observe(with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, title, priority, completed, position, due, version, created_at, updated_at \
                 FROM tasks WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await
        })
        .map_err(StoreError::db("failed to read task")))
        .await?;
        row.map(Task::from).ok_or(StoreError::NotFound(id))
    }

    /// Adds a task at the end of the list (unless it names its `order`).
    /// Concurrent creates are committed together (see `group_commit`).
    pub async fn create_task(&self, new: NewTask) -> StoreResult<Task> {
        let row = self.create_queue().create(new).await;
        Ok(self.observe(row).await?.into())
    }

    /// Applies `changes`. With `expected_version`, only if the task is still
    /// at that version (optimistic locking), checked in the same statement.
    pub async fn update_task(
        &self,
        id: i64,
        changes: &TaskChanges,
        expected_version: Option<i64>,
    ) -> StoreResult<Task> {
        let _write = self.write_guard().await;
        if changes.is_empty() {
            let task = self.get_task(id).await?;
            return check_version(task, expected_version);
        }
        let row: Option<TaskRow> = self.observe(with_pool!(self, pool => {
            sqlx::query_as(
                "UPDATE tasks SET \
                    title = COALESCE($2, title), \
                    priority = COALESCE($3, priority), \
                    completed = COALESCE($4, completed), \
                    position = COALESCE($5, position), \
                    due = CASE WHEN $6 THEN $7 ELSE due END, \
                    version = version + 1, \
                    updated_at = $8 \
                 WHERE id = $1 AND ($9 IS NULL OR version = $9) \
                 RETURNING id, title, priority, completed, position, due, version, created_at, updated_at",
            )
            .bind(id)
            .bind(changes.title.as_ref().map(Title::as_str))
            .bind(changes.priority.map(Priority::value))
            .bind(changes.completed)
            .bind(changes.order)
            .bind(changes.due.is_some())
            .bind(changes.due.flatten())
            .bind(now())
            .bind(expected_version)
            .fetch_optional(pool)
            .await
        })
        .map_err(StoreError::db("failed to update task")))
        .await?;
        match row {
            Some(row) => Ok(row.into()),
            // Either gone or changed by someone else: tell which.
            None => Err(self.missing_or_stale(id).await),
        }
    }

    pub async fn delete_task(&self, id: i64, expected_version: Option<i64>) -> StoreResult<()> {
        let _write = self.write_guard().await;
        let deleted = self
            .observe(
                with_pool!(self, pool => {
                    sqlx::query("DELETE FROM tasks WHERE id = $1 AND ($2 IS NULL OR version = $2)")
                        .bind(id)
                        .bind(expected_version)
                        .execute(pool)
                        .await
                        .map(|r| r.rows_affected())
                })
                .map_err(StoreError::db("failed to delete task")),
            )
            .await?;
        if deleted == 0 {
            return Err(self.missing_or_stale(id).await);
        }
        Ok(())
    }

    async fn missing_or_stale(&self, id: i64) -> StoreError {
        match self.get_task(id).await {
            Ok(task) => StoreError::VersionMismatch {
                id,
                current: task.version,
            },
            Err(err) => err,
        }
    }

    /// Marks every task completed (or active); returns how many changed.
    pub async fn set_all_completed(&self, completed: bool) -> StoreResult<u64> {
        let _write = self.write_guard().await;
        self.observe(
            with_pool!(self, pool => {
                sqlx::query(
                    "UPDATE tasks SET completed = $1, version = version + 1, updated_at = $2 \
                     WHERE completed <> $1",
                )
                .bind(completed)
                .bind(now())
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
            })
            .map_err(StoreError::db("failed to update all tasks")),
        )
        .await
    }

    pub async fn clear_completed(&self) -> StoreResult<u64> {
        let _write = self.write_guard().await;
        self.observe(
            with_pool!(self, pool => {
                sqlx::query("DELETE FROM tasks WHERE completed")
                    .execute(pool)
                    .await
                    .map(|r| r.rows_affected())
            })
            .map_err(StoreError::db("failed to delete completed tasks")),
        )
        .await
    }

    pub async fn delete_all_tasks(&self) -> StoreResult<u64> {
        let _write = self.write_guard().await;
        self.observe(
            with_pool!(self, pool => {
                sqlx::query("DELETE FROM tasks")
                    .execute(pool)
                    .await
                    .map(|r| r.rows_affected())
            })
            .map_err(StoreError::db("failed to delete all tasks")),
        )
        .await
    }

    /// Every task, in id order, for export.
    pub async fn all_tasks(&self) -> StoreResult<Vec<Task>> {
        let rows: Vec<TaskRow> = self.observe(with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, title, priority, completed, position, due, version, created_at, updated_at \
                 FROM tasks ORDER BY id",
            )
            .fetch_all(pool)
            .await
        })
        .map_err(StoreError::db("failed to read tasks for export")))
        .await?;
        Ok(rows.into_iter().map(Task::from).collect())
    }

    /// Stores `tasks` with their ids in one transaction: all or nothing.
    /// Refuses when tasks exist, unless `replace` deletes them first.
    pub async fn import_tasks(&self, tasks: &[ImportedTask], replace: bool) -> StoreResult<u64> {
        let _write = self.write_guard().await;
        let ctx = StoreError::db;
        let imported = self.observe(with_pool!(self, pool => async {
            let mut tx = pool.begin().await.map_err(ctx("failed to start the import"))?;
            if replace {
                sqlx::query("DELETE FROM tasks")
                    .execute(&mut *tx)
                    .await
                    .map_err(ctx("failed to clear tasks before import"))?;
            } else {
                let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tasks")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(ctx("failed to count tasks before import"))?;
                if existing > 0 {
                    return Err(StoreError::Conflict(format!(
                        "the database already holds {existing} tasks; import with replace to overwrite them"
                    )));
                }
            }
            for task in tasks {
                sqlx::query(
                    "INSERT INTO tasks (id, title, priority, completed, position, due, version, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8)",
                )
                .bind(task.id)
                .bind(task.title.as_str())
                .bind(task.priority.value())
                .bind(task.completed)
                .bind(task.order)
                .bind(task.due)
                .bind(task.created_at.trunc_subsecs(6))
                .bind(task.updated_at.trunc_subsecs(6))
                .execute(&mut *tx)
                .await
                .map_err(ctx("failed to insert an imported task"))?;
            }
            if self.backend() == Backend::Postgres {
                // Explicit ids do not advance the identity sequence; move it
                // past them so the next created task gets a fresh id.
                sqlx::query(
                    "SELECT setval(pg_get_serial_sequence('tasks', 'id'), \
                     COALESCE((SELECT MAX(id) FROM tasks), 0) + 1, false)",
                )
                .execute(&mut *tx)
                .await
                .map_err(ctx("failed to advance the id sequence"))?;
            }
            tx.commit().await.map_err(ctx("failed to commit the import"))?;
            Ok::<_, StoreError>(tasks.len() as u64)
        }
        .await))
        .await?;
        self.refresh_statistics().await;
        Ok(imported)
    }
}

fn check_version(task: Task, expected: Option<i64>) -> StoreResult<Task> {
    match expected {
        Some(v) if v != task.version => Err(StoreError::VersionMismatch {
            id: task.id,
            current: task.version,
        }),
        _ => Ok(task),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_inserts_number_their_parameters_per_row() {
        let sql = insert_sql(2);
        assert!(sql.contains("($1, $2, $3, COALESCE($4, (SELECT COALESCE(MAX(position), 0) FROM tasks) + 1), $5, 1, $6, $6)"), "{sql}");
        assert!(sql.contains(", ($7, $8, $9, COALESCE($10, (SELECT COALESCE(MAX(position), 0) FROM tasks) + 2), $11, 1, $12, $12) RETURNING"), "{sql}");
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("Milk"), "%milk%");
        assert_eq!(like_pattern("100%_\\"), "%100\\%\\_\\\\%");
    }
}
