//! Task queries. Every statement here is plain SQL that both SQLite and
//! PostgreSQL accept, bound with `$n` placeholders.

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use sqlx::FromRow;

use super::pool::{BackendConnection, run};
use super::{Store, StoreError, StoreResult};
use crate::domain::{
    ImportedTask, MAX_SAFE_INTEGER, NewTask, Owner, Priority, SortOrder, Task, TaskChanges,
    TaskFilter, Title,
};

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
            title: Title::stored(row.title),
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

/// The list query for one sort order. Filters are written so that a NULL
/// parameter switches them off, which keeps the SQL static.
macro_rules! list_sql {
    ($order_by:literal) => {
        concat!(
            "SELECT id, title, priority, completed, position, due, version, created_at, updated_at \
             FROM tasks \
             WHERE owner = $5 \
               AND ($1 IS NULL OR completed = $1) \
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

/// Inserts `rows` tasks, each by default after the last one of its owner,
/// and returns them. Binds per row: owner, title, priority, completed, order
/// (or NULL), due, now. Automatic positions stop at `MAX_SAFE_INTEGER` (ties
/// are broken by id), so every position stays one a client can hold.
pub(super) fn insert_sql(rows: usize) -> String {
    use std::fmt::Write;
    let mut sql = String::from(
        "INSERT INTO tasks (owner, title, priority, completed, position, due, version, created_at, updated_at) VALUES ",
    );
    for row in 0..rows {
        let p = row * 7;
        let last = format!(
            "(SELECT COALESCE(MAX(position), 0) FROM tasks WHERE owner = ${owner})",
            owner = p + 1
        );
        // Row k of a batch goes (at least) k places after the last task.
        let k = row + 1;
        let _ = write!(
            sql,
            "{comma}(${owner}, ${title}, ${priority}, ${completed}, \
             COALESCE(${order}, CASE WHEN {last} > {max} - {k} THEN {max} ELSE {last} + {k} END), \
             ${due}, 1, ${now}, ${now})",
            comma = if row == 0 { "" } else { ", " },
            owner = p + 1,
            title = p + 2,
            priority = p + 3,
            completed = p + 4,
            order = p + 5,
            due = p + 6,
            now = p + 7,
            max = MAX_SAFE_INTEGER,
        );
    }
    sql.push_str(
        " RETURNING id, title, priority, completed, position, due, version, created_at, updated_at",
    );
    sql
}

/// The INSERT of `$rows`, `$count` pairs of an owner and a `&NewTask`,
/// all created now: what both the create queue and a lone create run.
macro_rules! insert_tasks {
    ($count:expr, $rows:expr) => {{
        let now = $crate::db::tasks::now();
        let sql = $crate::db::tasks::insert_sql($count);
        let mut query = sqlx::query_as::<_, $crate::db::tasks::TaskRow>(sqlx::AssertSqlSafe(sql));
        for (owner, task) in $rows {
            let (owner, task): ($crate::domain::Owner, &$crate::domain::NewTask) = (owner, task);
            query = query
                .bind(owner.value())
                .bind(task.title.as_str())
                .bind(task.priority.value())
                .bind(task.completed)
                .bind(task.order)
                .bind(task.due)
                .bind(now);
        }
        query
    }};
}
pub(super) use insert_tasks;

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
    /// Lists `owner`'s tasks; the second value says whether more follow the page.
    pub async fn list_tasks(
        &self,
        owner: Owner,
        filter: &TaskFilter,
    ) -> StoreResult<(Vec<Task>, bool)> {
        let limit = i64::from(filter.limit.min(TaskFilter::MAX_LIMIT));
        let offset = i64::try_from(filter.offset).unwrap_or(i64::MAX);
        let pattern = filter.query.as_deref().map(like_pattern);
        let rows: Vec<TaskRow> = run!(self, "failed to list tasks", |pool| {
            sqlx::query_as(list_sql(filter.sort))
                .bind(filter.completed)
                .bind(pattern.as_deref())
                // One extra row tells whether there is a next page.
                .bind(limit + 1)
                .bind(offset)
                .bind(owner.value())
                .fetch_all(pool)
        })?;
        let has_more = rows.len() as i64 > limit;
        let tasks = rows
            .into_iter()
            .take(limit as usize)
            .map(Task::from)
            .collect();
        Ok((tasks, has_more))
    }

    /// Counts `owner`'s tasks; with `query`, only those whose title holds it.
    pub async fn count_tasks(&self, owner: Owner, query: Option<&str>) -> StoreResult<TaskCounts> {
        let pattern = query.map(like_pattern);
        let (total, active): (i64, i64) = run!(self, "failed to count tasks", |pool| {
            sqlx::query_as(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN completed THEN 0 ELSE 1 END), 0) FROM tasks \
                 WHERE owner = $1 AND ($2 IS NULL OR lower(title) LIKE $2 ESCAPE '\\')",
            )
            .bind(owner.value())
            .bind(pattern.as_deref())
            .fetch_one(pool)
        })?;
        Ok(TaskCounts { total, active })
    }

    /// One of `owner`'s tasks. Another owner's task is `NotFound`, as if it
    /// did not exist.
    pub async fn get_task(&self, owner: Owner, id: i64) -> StoreResult<Task> {
        let row: Option<TaskRow> = run!(self, "failed to read task", |pool| {
            sqlx::query_as(
                "SELECT id, title, priority, completed, position, due, version, created_at, updated_at \
                 FROM tasks WHERE id = $1 AND owner = $2",
            )
            .bind(id)
            .bind(owner.value())
            .fetch_optional(pool)
        })?;
        row.map(Task::from).ok_or(StoreError::NotFound(id))
    }

    /// Adds a task at the end of `owner`'s list (unless it names its
    /// `order`).
    pub async fn create_task(&self, owner: Owner, new: NewTask) -> StoreResult<Task> {
        self.check_room(owner).await?;
        let Some(queue) = self.create_queue() else {
            return self.insert_task(owner, &new).await.map(Task::from);
        };
        // Concurrent creates are committed together (see `group_commit`).
        // Once queued, the task may be committed with the next batch.
        super::note_write();
        let row = queue.create(owner, new).await;
        Ok(self.settle(row).await?.into())
    }

    /// Refuses a create into a list that holds `task_limit` tasks already.
    /// Counting stops at the limit, so a list far below it costs a short
    /// index scan. Creates that race past the check together can take the
    /// list a few over (at most one per concurrent request): a limit
    /// against runaway growth, not a quota to the task.
    async fn check_room(&self, owner: Owner) -> StoreResult<()> {
        let Some(limit) = self.task_limit else {
            return Ok(());
        };
        let held: i64 = run!(self, "failed to count tasks", |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM (SELECT 1 FROM tasks WHERE owner = $1 LIMIT $2) AS held",
            )
            .bind(owner.value())
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_one(pool)
        })?;
        if held as u64 >= limit {
            return Err(StoreError::TaskLimit {
                limit,
                importing: None,
            });
        }
        Ok(())
    }

    /// A create on its own: one INSERT, one commit. What the create queue
    /// does for many tasks at once.
    async fn insert_task(&self, owner: Owner, new: &NewTask) -> StoreResult<TaskRow> {
        let row = {
            let _write = self.write_guard().await;
            run!(self, "failed to insert task", |pool| {
                insert_tasks!(1, std::iter::once((owner, new))).fetch_one(pool)
            })?
        };
        self.pool.note_created(1).await;
        Ok(row)
    }

    /// Applies `changes`. With `expected_version`, only if the task is still
    /// at that version (optimistic locking), checked in the same statement.
    pub async fn update_task(
        &self,
        owner: Owner,
        id: i64,
        changes: &TaskChanges,
        expected_version: Option<i64>,
    ) -> StoreResult<Task> {
        let _write = self.write_guard().await;
        if changes.is_empty() {
            let task = self.get_task(owner, id).await?;
            return check_version(task, expected_version);
        }
        let row: Option<TaskRow> = run!(self, "failed to update task", |pool| {
            sqlx::query_as(
                "UPDATE tasks SET \
                    title = COALESCE($2, title), \
                    priority = COALESCE($3, priority), \
                    completed = COALESCE($4, completed), \
                    position = COALESCE($5, position), \
                    due = CASE WHEN $6 THEN $7 ELSE due END, \
                    version = version + 1, \
                    updated_at = $8 \
                 WHERE id = $1 AND owner = $10 AND ($9 IS NULL OR version = $9) \
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
            .bind(owner.value())
            .fetch_optional(pool)
        })?;
        match row {
            Some(row) => Ok(row.into()),
            // Either gone or changed by someone else: tell which.
            None => Err(self.missing_or_stale(owner, id).await),
        }
    }

    pub async fn delete_task(
        &self,
        owner: Owner,
        id: i64,
        expected_version: Option<i64>,
    ) -> StoreResult<()> {
        let _write = self.write_guard().await;
        let deleted = run!(self, "failed to delete task", |pool| async {
            sqlx::query(
                "DELETE FROM tasks WHERE id = $1 AND owner = $3 AND ($2 IS NULL OR version = $2)",
            )
            .bind(id)
            .bind(expected_version)
            .bind(owner.value())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        if deleted == 0 {
            return Err(self.missing_or_stale(owner, id).await);
        }
        Ok(())
    }

    async fn missing_or_stale(&self, owner: Owner, id: i64) -> StoreError {
        match self.get_task(owner, id).await {
            Ok(task) => StoreError::VersionMismatch {
                id,
                current: task.version,
            },
            Err(err) => err,
        }
    }

    /// Marks every task of `owner` completed (or active); returns how many changed.
    pub async fn set_all_completed(&self, owner: Owner, completed: bool) -> StoreResult<u64> {
        let _write = self.write_guard().await;
        run!(self, "failed to update all tasks", |pool| async {
            sqlx::query(
                "UPDATE tasks SET completed = $1, version = version + 1, updated_at = $2 \
                 WHERE owner = $3 AND completed <> $1",
            )
            .bind(completed)
            .bind(now())
            .bind(owner.value())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })
    }

    pub async fn clear_completed(&self, owner: Owner) -> StoreResult<u64> {
        let _write = self.write_guard().await;
        run!(self, "failed to delete completed tasks", |pool| async {
            sqlx::query("DELETE FROM tasks WHERE owner = $1 AND completed")
                .bind(owner.value())
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })
    }

    pub async fn delete_all_tasks(&self, owner: Owner) -> StoreResult<u64> {
        let _write = self.write_guard().await;
        run!(self, "failed to delete all tasks", |pool| async {
            sqlx::query("DELETE FROM tasks WHERE owner = $1")
                .bind(owner.value())
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })
    }

    /// Every task of `owner`, in id order, for export.
    pub async fn all_tasks(&self, owner: Owner) -> StoreResult<Vec<Task>> {
        let rows: Vec<TaskRow> = run!(self, "failed to read tasks for export", |pool| {
            sqlx::query_as(
                "SELECT id, title, priority, completed, position, due, version, created_at, updated_at \
                 FROM tasks WHERE owner = $1 ORDER BY id",
            )
            .bind(owner.value())
            .fetch_all(pool)
        })?;
        Ok(rows.into_iter().map(Task::from).collect())
    }

    /// Stores `tasks` in `owner`'s list in one transaction: all or nothing.
    /// Refuses when the list has tasks, unless `replace` deletes them first.
    ///
    /// The shared list keeps the ids of the file (moving a database keeps
    /// every URL); an account's tasks get new ids, since ids are unique
    /// across all accounts. Kept ids start at a version no earlier
    /// incarnation of that id had (see the `import_epoch` table), so a stale
    /// `If-Match` or `If-None-Match` never matches the imported task.
    pub async fn import_tasks(
        &self,
        owner: Owner,
        tasks: &[ImportedTask],
        replace: bool,
    ) -> StoreResult<u64> {
        // The list ends up holding exactly the imported tasks (an import
        // without `replace` needs an empty list), so this is the whole check.
        if let Some(limit) = self.task_limit
            && tasks.len() as u64 > limit
        {
            return Err(StoreError::TaskLimit {
                limit,
                importing: Some(tasks.len() as u64),
            });
        }
        let _write = self.write_guard().await;
        let ctx = StoreError::db;
        let keep_ids = owner == Owner::SHARED;
        let imported = run!(self, |pool| async {
            let mut tx = pool
                .begin()
                .await
                .map_err(ctx("failed to start the import"))?;
            if replace {
                sqlx::query("DELETE FROM tasks WHERE owner = $1")
                    .bind(owner.value())
                    .execute(&mut *tx)
                    .await
                    .map_err(ctx("failed to clear tasks before import"))?;
            } else {
                let existing: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM tasks WHERE owner = $1")
                        .bind(owner.value())
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(ctx("failed to count tasks before import"))?;
                if existing > 0 {
                    return Err(StoreError::ListNotEmpty { existing });
                }
            }
            let version: i64 = if keep_ids {
                let epoch: i64 =
                    sqlx::query_scalar("UPDATE import_epoch SET epoch = epoch + 1 RETURNING epoch")
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(ctx("failed to number the import"))?;
                (epoch << 32) + 1
            } else {
                1
            };
            if keep_ids {
                // An id held by an account's task cannot be taken over.
                let ids: Vec<i64> = tasks.iter().map(|t| t.id).collect();
                for chunk in ids.chunks(500) {
                    let placeholders: Vec<String> =
                        (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
                    let sql = format!(
                        "SELECT MIN(id) FROM tasks WHERE owner <> $1 AND id IN ({})",
                        placeholders.join(", ")
                    );
                    let mut query = sqlx::query_scalar::<_, Option<i64>>(sqlx::AssertSqlSafe(sql))
                        .bind(owner.value());
                    for id in chunk {
                        query = query.bind(*id);
                    }
                    let taken = query
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(ctx("failed to check imported ids"))?;
                    if let Some(id) = taken {
                        return Err(StoreError::IdTaken(id));
                    }
                }
            }
            // Many rows per INSERT: one statement per task made a 200,000-task
            // import hold SQLite's one writer for seconds, and every other
            // account's writes with it.
            let full_chunk = import_sql(IMPORT_ROWS_PER_INSERT, keep_ids);
            for chunk in tasks.chunks(IMPORT_ROWS_PER_INSERT) {
                let partial;
                let sql = if chunk.len() == IMPORT_ROWS_PER_INSERT {
                    &full_chunk
                } else {
                    partial = import_sql(chunk.len(), keep_ids);
                    &partial
                };
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                for task in chunk {
                    query = query
                        .bind(owner.value())
                        .bind(task.title.as_str())
                        .bind(task.priority.value())
                        .bind(task.completed)
                        .bind(task.order)
                        .bind(task.due)
                        .bind(version)
                        .bind(task.created_at.trunc_subsecs(6))
                        .bind(task.updated_at.trunc_subsecs(6));
                    if keep_ids {
                        query = query.bind(task.id);
                    }
                }
                query
                    .execute(&mut *tx)
                    .await
                    .map_err(ctx("failed to insert imported tasks"))?;
            }
            if keep_ids {
                tx.follow_explicit_task_ids()
                    .await
                    .map_err(ctx("failed to advance the id sequence"))?;
            }
            tx.commit()
                .await
                .map_err(ctx("failed to commit the import"))?;
            Ok::<_, StoreError>(tasks.len() as u64)
        })?;
        // A bulk change: no prepared statement may keep a plan made for
        // the table as it was (see `statistics`).
        self.pool.refresh_statistics().await;
        Ok(imported)
    }
}

/// Imported tasks per INSERT: 9 or 10 parameters each, well inside the
/// limits of both databases (SQLite 32,766, PostgreSQL 65,535).
const IMPORT_ROWS_PER_INSERT: usize = 500;

/// The INSERT of `rows` imported tasks; with `keep_ids`, each with its id.
fn import_sql(rows: usize, keep_ids: bool) -> String {
    let columns = if keep_ids { 10 } else { 9 };
    let mut sql = String::from(
        "INSERT INTO tasks (owner, title, priority, completed, position, due, version, created_at, updated_at",
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
        let last = |owner| {
            format!("(SELECT COALESCE(MAX(position), 0) FROM tasks WHERE owner = ${owner})")
        };
        assert!(sql.starts_with("INSERT INTO tasks (owner, title,"), "{sql}");
        assert!(sql.contains(&format!("($1, $2, $3, $4, COALESCE($5, CASE WHEN {0} > 9007199254740991 - 1 THEN 9007199254740991 ELSE {0} + 1 END), $6, 1, $7, $7)", last(1))), "{sql}");
        assert!(sql.contains(&format!(", ($8, $9, $10, $11, COALESCE($12, CASE WHEN {0} > 9007199254740991 - 2 THEN 9007199254740991 ELSE {0} + 2 END), $13, 1, $14, $14) RETURNING", last(8))), "{sql}");
    }

    #[test]
    fn imports_insert_many_rows_per_statement() {
        assert_eq!(
            import_sql(2, false),
            "INSERT INTO tasks (owner, title, priority, completed, position, due, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9), ($10, $11, $12, $13, $14, $15, $16, $17, $18)"
        );
        assert!(
            import_sql(1, true).ends_with(", id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        );
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("Milk"), "%milk%");
        assert_eq!(like_pattern("100%_\\"), "%100\\%\\_\\\\%");
    }
}
