//! Task queries. Every statement here is plain SQL that both SQLite and
//! PostgreSQL accept, bound with `$n` placeholders.

use chrono::{DateTime, NaiveDate, NaiveTime, SubsecRound, Utc};
use sqlx::FromRow;

use super::deleted::{STORED_COLUMNS, StoredTask, keep_deleted};
use super::lists::Need;
use super::pool::run;
use super::{Store, StoreError, StoreResult};
use crate::domain::{
    Agenda, DueTime, ListId, MAX_SAFE_INTEGER, NewTask, Owner, Priority, SortOrder, Task,
    TaskChanges, TaskFilter, Title,
};

#[derive(FromRow)]
pub(super) struct TaskRow {
    pub(super) id: i64,
    title: String,
    priority: i16,
    completed: bool,
    position: i64,
    due: Option<NaiveDate>,
    due_time: Option<NaiveTime>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    list_id: i64,
    created_by: Option<String>,
    completed_by: Option<String>,
}

/// The columns `task_columns!` selects, in its order (a test holds the
/// two together): direct reads find each value's position here, at
/// compile time, rather than by name on every row.
const TASK_COLUMNS: [&str; 13] = [
    "id",
    "title",
    "priority",
    "completed",
    "position",
    "due",
    "due_time",
    "version",
    "created_at",
    "updated_at",
    "list_id",
    "created_by",
    "completed_by",
];

/// The position of `name` in [`TASK_COLUMNS`]; a name not there does not
/// compile.
const fn column(name: &str) -> usize {
    let mut i = 0;
    while i < TASK_COLUMNS.len() {
        let (a, b) = (TASK_COLUMNS[i].as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("not a column of task_columns!")
}

impl TaskRow {
    /// The row of a direct SQLite read (`Pool::read_here`) of
    /// `task_columns!`: the same values SQLx decodes by name.
    fn from_direct_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(const { column("id") })?,
            title: row.get(const { column("title") })?,
            priority: row.get(const { column("priority") })?,
            completed: row.get(const { column("completed") })?,
            position: row.get(const { column("position") })?,
            due: row.get(const { column("due") })?,
            due_time: row.get(const { column("due_time") })?,
            version: row.get(const { column("version") })?,
            created_at: row.get(const { column("created_at") })?,
            updated_at: row.get(const { column("updated_at") })?,
            list_id: row.get(const { column("list_id") })?,
            created_by: row.get(const { column("created_by") })?,
            completed_by: row.get(const { column("completed_by") })?,
        })
    }
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
            due_time: row.due_time.map(DueTime::stored),
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
            list: ListId(row.list_id),
            created_by: row.created_by,
            completed_by: row.completed_by,
        }
    }
}

/// The columns of a `TaskRow`, of the tasks table named `$t` (`"t"` in a
/// SELECT, `"tasks"` in a RETURNING). Who created and completed a task are
/// stored as account ids and read as usernames.
macro_rules! task_columns {
    ($t:literal) => {
        concat!(
            $t,
            ".id, ",
            $t,
            ".title, ",
            $t,
            ".priority, ",
            $t,
            ".completed, ",
            $t,
            ".position, ",
            $t,
            ".due, ",
            $t,
            ".due_time, ",
            $t,
            ".version, ",
            $t,
            ".created_at, ",
            $t,
            ".updated_at, ",
            $t,
            ".list_id, ",
            "(SELECT u.username FROM users u WHERE u.id = ",
            $t,
            ".created_by) AS created_by, ",
            "(SELECT u.username FROM users u WHERE u.id = ",
            $t,
            ".completed_by) AS completed_by"
        )
    };
}

pub(super) use task_columns;

/// `MAX_SAFE_INTEGER` as a literal, for SQL built with `concat!`.
macro_rules! stringify_max {
    () => {
        "9007199254740991"
    };
}

/// The lists the actor bound as `$p` may read: its own and those shared
/// with it. A deleted list (`deleted_at` set, kept for undo) is no one's
/// to read.
macro_rules! readable_lists {
    ($p:literal) => {
        concat!(
            "(SELECT id FROM lists WHERE owner = ",
            $p,
            " AND deleted_at IS NULL \
             UNION ALL SELECT m.list_id FROM list_members m JOIN lists l ON l.id = m.list_id \
             WHERE m.user_id = ",
            $p,
            " AND l.deleted_at IS NULL)"
        )
    };
}

/// The lists the actor bound as `$p` may change tasks in: its own and
/// those it edits, and never a deleted one.
macro_rules! writable_lists {
    ($p:literal) => {
        concat!(
            "(SELECT id FROM lists WHERE owner = ",
            $p,
            " AND deleted_at IS NULL \
             UNION ALL SELECT m.list_id FROM list_members m JOIN lists l ON l.id = m.list_id \
             WHERE m.user_id = ",
            $p,
            " AND m.role = 'editor' AND l.deleted_at IS NULL)"
        )
    };
}

pub(super) use writable_lists;

/// The resource name (CalDAV) of the task `$task` as it arrives in list
/// `$target`, moved or restored: its own, unless a task there has it, or
/// `$also` (SQL) holds; then its own made unique by the task's id. A
/// client sees the task leave one collection and arrive in the other
/// anyway, so the name it arrives with is news to it either way.
macro_rules! arriving_name {
    ($target:literal, $task:literal, $also:literal) => {
        concat!(
            "CASE WHEN EXISTS (SELECT 1 FROM tasks y WHERE y.list_id = ",
            $target,
            " AND y.caldav_name = ",
            $task,
            ".caldav_name) OR ",
            $also,
            " THEN CAST(",
            $task,
            ".id AS TEXT) || '-' || ",
            $task,
            ".caldav_name ELSE ",
            $task,
            ".caldav_name END"
        )
    };
}

pub(super) use arriving_name;

/// The tasks of a list that pass its filters. Filters are written so that
/// a NULL parameter switches them off, which keeps the SQL static.
macro_rules! list_where {
    () => {
        concat!(
            "SELECT ",
            task_columns!("t"),
            " FROM tasks t \
             WHERE list_id = $5 \
               AND ($1 IS NULL OR completed = $1) \
               AND ($2 IS NULL OR lower(title) LIKE $2 ESCAPE '\\')"
        )
    };
}

/// The order of `?sort=due`: by date (undated last), and on one day the
/// tasks without a time first (NULLs sort first on SQLite and last on
/// PostgreSQL: the flag makes both agree), then by time.
macro_rules! due_order {
    () => {
        "due IS NULL, due, due_time IS NOT NULL, due_time, position, id"
    };
}

/// The list query for one sort order.
macro_rules! list_sql {
    ($order_by:expr) => {
        concat!(
            list_where!(),
            " ORDER BY ",
            $order_by,
            " LIMIT $3 OFFSET $4"
        )
    };
}

/// The statement of `Store::list_tasks` for `sort` (public for the tests
/// of PostgreSQL's plans).
pub fn list_sql(sort: SortOrder) -> &'static str {
    match sort {
        SortOrder::Order => list_sql!("position, id"),
        SortOrder::Priority => list_sql!("priority DESC, position, id"),
        SortOrder::Due => list_sql!(due_order!()),
        SortOrder::Created => list_sql!("created_at DESC, id DESC"),
    }
}

/// The statement of `Store::tasks_among`: `list_sql` for `ids` tasks named
/// by id, bound from `$6` on.
fn among_sql(sort: SortOrder, ids: usize) -> String {
    let order_by = match sort {
        SortOrder::Order => "position, id",
        SortOrder::Priority => "priority DESC, position, id",
        SortOrder::Due => due_order!(),
        SortOrder::Created => "created_at DESC, id DESC",
    };
    format!(
        "{} AND t.id IN ({}) ORDER BY {order_by} LIMIT $3 OFFSET $4",
        list_where!(),
        super::parameters(6, ids)
    )
}

/// The statement of `Store::get_task`: binds the task id and the actor.
pub const GET_TASK_SQL: &str = concat!(
    "SELECT ",
    task_columns!("t"),
    " FROM tasks t WHERE t.id = $1 AND t.list_id IN ",
    readable_lists!("$2")
);

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

/// Inserts `rows` tasks, each by default after the last one of its list,
/// and returns them. Binds per row: list, creator (or NULL), title,
/// priority, completed, order (or NULL), due, due time, now. Automatic
/// positions stop at `MAX_SAFE_INTEGER` (ties are broken by id), so every
/// position stays one a client can hold.
pub(super) fn insert_sql(rows: usize) -> String {
    use std::fmt::Write;
    let mut sql = String::from(
        "INSERT INTO tasks (list_id, created_by, completed_by, title, priority, completed, position, due, due_time, version, created_at, updated_at) VALUES ",
    );
    for row in 0..rows {
        let p = row * 9;
        let last = format!(
            "(SELECT COALESCE(MAX(position), 0) FROM tasks WHERE list_id = ${list})",
            list = p + 1
        );
        // Row k of a batch goes (at least) k places after the last task.
        let k = row + 1;
        let _ = write!(
            sql,
            "{comma}(${list}, ${by}, CASE WHEN ${completed} THEN ${by} END, ${title}, ${priority}, ${completed}, \
             COALESCE(${order}, CASE WHEN {last} > {max} - {k} THEN {max} ELSE {last} + {k} END), \
             ${due}, ${due_time}, 1, ${now}, ${now})",
            comma = if row == 0 { "" } else { ", " },
            list = p + 1,
            by = p + 2,
            title = p + 3,
            priority = p + 4,
            completed = p + 5,
            order = p + 6,
            due = p + 7,
            due_time = p + 8,
            now = p + 9,
            max = MAX_SAFE_INTEGER,
        );
    }
    sql.push_str(concat!(" RETURNING ", task_columns!("tasks")));
    sql
}

/// The INSERT of `$rows`, `$count` triples of a list, who creates (an
/// `Owner`) and a `&NewTask`, all created now: what both the create queue
/// and a lone create run.
macro_rules! insert_tasks {
    ($count:expr, $rows:expr) => {{
        let now = $crate::db::tasks::now();
        let sql = $crate::db::tasks::insert_sql($count);
        let mut query = sqlx::query_as::<_, $crate::db::tasks::TaskRow>(sqlx::AssertSqlSafe(sql));
        for (list, by, task) in $rows {
            let (list, by, task): (
                $crate::domain::ListId,
                $crate::domain::Owner,
                &$crate::domain::NewTask,
            ) = (list, by, task);
            query = query
                .bind(list.0)
                .bind(by.account())
                .bind(task.title.as_str())
                .bind(task.priority.value())
                .bind(task.completed)
                .bind(task.order)
                .bind(task.due)
                .bind(task.due_time.map($crate::domain::DueTime::time))
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
    /// Lists the tasks of `list` (the caller has checked the actor may
    /// read it); the second value says whether more follow the page.
    pub async fn list_tasks(
        &self,
        list: ListId,
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
                .bind(list.0)
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

    /// The tasks of `list` among `ids` that pass `filter`, in its order
    /// (the caller has checked the actor may read the list; ids of other
    /// lists are left out). At most `TaskFilter::MAX_LIMIT` ids.
    pub async fn tasks_among(
        &self,
        list: ListId,
        filter: &TaskFilter,
        ids: &[i64],
    ) -> StoreResult<Vec<Task>> {
        let ids = &ids[..ids.len().min(TaskFilter::MAX_LIMIT as usize)];
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let pattern = filter.query.as_deref().map(like_pattern);
        let sql = among_sql(filter.sort, ids.len());
        let rows: Vec<TaskRow> = run!(self, "failed to read tasks by id", |pool| {
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(filter.completed)
                .bind(pattern.as_deref())
                .bind(i64::from(TaskFilter::MAX_LIMIT))
                .bind(0_i64)
                .bind(list.0);
            for id in ids {
                query = query.bind(*id);
            }
            query.fetch_all(pool)
        })?;
        Ok(rows.into_iter().map(Task::from).collect())
    }

    /// The tasks of `agenda` for a reader whose day is `today`, in every
    /// list `actor` can read, soonest due first, at most `limit`.
    pub async fn agenda(
        &self,
        actor: Owner,
        agenda: Agenda,
        today: NaiveDate,
        limit: u32,
    ) -> StoreResult<Vec<Task>> {
        let (first, last) = agenda.days(today);
        let rows: Vec<TaskRow> = run!(self, "failed to read the agenda", |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                task_columns!("t"),
                " FROM tasks t WHERE t.list_id IN ",
                readable_lists!("$1"),
                " AND t.due <= $3 AND ($2 IS NULL OR t.due >= $2) \
                  AND ($2 IS NOT NULL OR NOT t.completed OR t.due = $3) \
                 ORDER BY t.completed, t.due, t.due_time IS NOT NULL, t.due_time, \
                          t.priority DESC, t.position, t.id LIMIT $4"
            ))
            .bind(actor.value())
            .bind(first)
            .bind(last)
            .bind(i64::from(limit.min(TaskFilter::MAX_LIMIT)))
            .fetch_all(pool)
        })?;
        Ok(rows.into_iter().map(Task::from).collect())
    }

    /// Counts the tasks of `list`; with `query`, only those whose title
    /// holds it.
    pub async fn count_tasks(&self, list: ListId, query: Option<&str>) -> StoreResult<TaskCounts> {
        let pattern = query.map(like_pattern);
        let (total, active): (i64, i64) = run!(self, "failed to count tasks", |pool| {
            sqlx::query_as(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN completed THEN 0 ELSE 1 END), 0) FROM tasks \
                 WHERE list_id = $1 AND ($2 IS NULL OR lower(title) LIKE $2 ESCAPE '\\')",
            )
            .bind(list.0)
            .bind(pattern.as_deref())
            .fetch_one(pool)
        })?;
        Ok(TaskCounts { total, active })
    }

    /// A task in a list `actor` can read. Any other task is `NotFound`, as
    /// if it did not exist.
    pub async fn get_task(&self, actor: Owner, id: i64) -> StoreResult<Task> {
        // SQLite answers a point read on this thread; otherwise (and if that
        // fails) the same query runs on the pool.
        let direct =
            self.pool
                .read_here(GET_TASK_SQL, (id, actor.value()), TaskRow::from_direct_row);
        let row: Option<TaskRow> = match direct {
            Some(row) => row,
            None => run!(self, "failed to read task", |pool| {
                sqlx::query_as(GET_TASK_SQL)
                    .bind(id)
                    .bind(actor.value())
                    .fetch_optional(pool)
            })?,
        };
        row.map(Task::from).ok_or(StoreError::NotFound(id))
    }

    /// Adds a task at the end of `list` (unless it names its `order`),
    /// created by `by`. The caller has checked `by` may change the list.
    pub async fn create_task(&self, list: ListId, by: Owner, new: NewTask) -> StoreResult<Task> {
        self.check_room(list, 1).await?;
        let Some(queue) = self.create_queue() else {
            return self.insert_task(list, by, &new).await.map(Task::from);
        };
        // Concurrent creates are committed together (see `group_commit`).
        // Once queued, the task may be committed with the next batch.
        super::note_write();
        let row = queue.create(list, by, new).await;
        Ok(self.settle(row).await?.into())
    }

    /// Refuses to add `adding` tasks (a create, a move, a restore) to a
    /// list that would then hold more than `task_limit`. Counting stops at
    /// the limit, so a list far below it costs a short index scan. Creates
    /// that race past the check together can take the list a few over (at
    /// most one per concurrent request): a limit against runaway growth,
    /// not a quota to the task.
    pub(super) async fn check_room(&self, list: ListId, adding: u64) -> StoreResult<()> {
        let Some(limit) = self.task_limit else {
            return Ok(());
        };
        let held: i64 = run!(self, "failed to count tasks", |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM (SELECT 1 FROM tasks WHERE list_id = $1 LIMIT $2) AS held",
            )
            .bind(list.0)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_one(pool)
        })?;
        if held as u64 + adding > limit {
            return Err(StoreError::TaskLimit {
                limit,
                importing: None,
            });
        }
        Ok(())
    }

    /// A create on its own: one INSERT, one commit. What the create queue
    /// does for many tasks at once.
    async fn insert_task(&self, list: ListId, by: Owner, new: &NewTask) -> StoreResult<TaskRow> {
        let row = {
            let _write = self.write_guard().await;
            run!(self, "failed to insert task", |pool| {
                insert_tasks!(1, std::iter::once((list, by, new))).fetch_one(pool)
            })?
        };
        self.pool.note_created(1).await;
        Ok(row)
    }

    /// Applies `changes` to a task in a list `actor` may change (and, for
    /// a move, into another such list). With `expected_version`, only if
    /// the task is still at that version (optimistic locking), checked in
    /// the same statement.
    pub async fn update_task(
        &self,
        actor: Owner,
        id: i64,
        changes: &TaskChanges,
        expected_version: Option<i64>,
    ) -> StoreResult<Task> {
        if let Some(target) = changes.list {
            self.check_room(target, 1).await?;
        }
        let _write = self.write_guard().await;
        if changes.is_empty() {
            let task = self.get_task(actor, id).await?;
            return check_version(task, expected_version);
        }
        let row: Option<TaskRow> = run!(self, "failed to update task", |pool| {
            sqlx::query_as(concat!(
                "UPDATE tasks SET \
                    title = COALESCE($2, title), \
                    priority = COALESCE($3, priority), \
                    completed_by = CASE WHEN $4 IS NULL THEN completed_by \
                                        WHEN $4 THEN CASE WHEN completed THEN completed_by ELSE $11 END \
                                        ELSE NULL END, \
                    completed = COALESCE($4, completed), \
                    position = CASE WHEN $5 IS NOT NULL THEN $5 \
                                    WHEN $12 IS NOT NULL AND $12 <> list_id THEN \
                                        (SELECT CASE WHEN MAX(x.position) >= ", stringify_max!(), " THEN ", stringify_max!(), " \
                                                     ELSE COALESCE(MAX(x.position), 0) + 1 END \
                                           FROM tasks x WHERE x.list_id = $12) \
                                    ELSE position END, \
                    caldav_name = CASE WHEN $12 IS NOT NULL AND $12 <> list_id THEN ",
                        arriving_name!("$12", "tasks", "FALSE"), " ELSE caldav_name END, \
                    list_id = COALESCE($12, list_id), \
                    due = CASE WHEN $6 THEN $7 ELSE due END, \
                    due_time = CASE WHEN $6 AND $7 IS NULL THEN NULL \
                                    WHEN $13 THEN $14 ELSE due_time END, \
                    version = version + 1, \
                    updated_at = $8 \
                 WHERE id = $1 AND ($9 IS NULL OR version = $9) \
                   AND list_id IN ", writable_lists!("$10"), " \
                   AND ($12 IS NULL OR $12 IN ", writable_lists!("$10"), ") \
                   AND ($14 IS NULL OR (CASE WHEN $6 THEN $7 ELSE due END) IS NOT NULL) \
                 RETURNING ",
                task_columns!("tasks")
            ))
            .bind(id)
            .bind(changes.title.as_ref().map(Title::as_str))
            .bind(changes.priority.map(Priority::value))
            .bind(changes.completed)
            .bind(changes.order)
            .bind(changes.due.is_some())
            .bind(changes.due.flatten())
            .bind(now())
            .bind(expected_version)
            .bind(actor.value())
            .bind(actor.account())
            .bind(changes.list.map(|list| list.0))
            .bind(changes.due_time.is_some())
            .bind(changes.due_time.flatten().map(DueTime::time))
            .fetch_optional(pool)
        })?;
        match row {
            Some(row) => Ok(row.into()),
            // Gone, not the actor's to change, changed by someone else, or
            // a time for a task with no date: tell which.
            None => Err(self.why_unchanged(actor, id, changes).await),
        }
    }

    /// Deletes a task in a list `actor` may change, keeping it for undo
    /// (see `deleted`).
    pub async fn delete_task(
        &self,
        actor: Owner,
        id: i64,
        expected_version: Option<i64>,
    ) -> StoreResult<()> {
        let sql = format!(
            "DELETE FROM tasks WHERE id = $1 AND ($2 IS NULL OR version = $2) AND list_id IN {} \
             RETURNING {STORED_COLUMNS}",
            writable_lists!("$3")
        );
        let deleted = {
            let _write = self.write_guard().await;
            self.delete_keeping(
                actor,
                &sql,
                &[Some(id), expected_version, Some(actor.value())],
            )
            .await?
        };
        if deleted.is_empty() {
            return Err(self.why_unchanged(actor, id, &TaskChanges::default()).await);
        }
        Ok(())
    }

    /// Why `changes` to task `id` by `actor` touched no row: the task is
    /// not there for the actor (404), the actor may only read its list
    /// (403), may not add to the target list (422), the change gives a
    /// time to a task with no date (422), or the version moved on (412).
    async fn why_unchanged(&self, actor: Owner, id: i64, changes: &TaskChanges) -> StoreError {
        let target = changes.list;
        let task = match self.get_task(actor, id).await {
            Ok(task) => task,
            Err(err) => return err,
        };
        match self.require(actor, task.list, Need::ChangeTasks).await {
            Ok(_) => {}
            Err(err) => return err,
        }
        if let Some(target) = target
            && self
                .require(actor, target, Need::ChangeTasks)
                .await
                .is_err()
        {
            return StoreError::TargetList(target.0);
        }
        if changes.sets_a_time() && changes.due.is_none() && task.due.is_none() {
            return StoreError::TimeWithoutDate(id);
        }
        StoreError::VersionMismatch {
            id,
            current: task.version,
        }
    }

    /// Marks every task of `list` completed (or active), by `by`; returns
    /// how many changed.
    pub async fn set_all_completed(
        &self,
        list: ListId,
        by: Owner,
        completed: bool,
    ) -> StoreResult<u64> {
        let _write = self.write_guard().await;
        run!(self, "failed to update all tasks", |pool| async {
            sqlx::query(
                "UPDATE tasks SET completed = $1, version = version + 1, updated_at = $2, \
                 completed_by = CASE WHEN $1 THEN $4 END \
                 WHERE list_id = $3 AND completed <> $1",
            )
            .bind(completed)
            .bind(now())
            .bind(list.0)
            .bind(by.account())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })
    }

    /// Deletes the completed tasks of `list`, by `by`, keeping them for
    /// undo; returns their ids.
    pub async fn clear_completed(&self, list: ListId, by: Owner) -> StoreResult<Vec<i64>> {
        let _write = self.write_guard().await;
        let sql = format!(
            "DELETE FROM tasks WHERE list_id = $1 AND completed RETURNING {STORED_COLUMNS}"
        );
        self.delete_keeping(by, &sql, &[Some(list.0)]).await
    }

    /// Deletes every task of `list`, by `by`, keeping them for undo;
    /// returns their ids.
    pub async fn delete_all_tasks(&self, list: ListId, by: Owner) -> StoreResult<Vec<i64>> {
        let _write = self.write_guard().await;
        let sql = format!("DELETE FROM tasks WHERE list_id = $1 RETURNING {STORED_COLUMNS}");
        self.delete_keeping(by, &sql, &[Some(list.0)]).await
    }

    /// Runs `sql`, a `DELETE FROM tasks … RETURNING STORED_COLUMNS` with
    /// `binds`, and keeps the rows it deleted as deleted now by `by`, in
    /// one transaction: exactly what went is kept (see `deleted`). Returns
    /// their ids. The caller holds the write turn.
    async fn delete_keeping(
        &self,
        by: Owner,
        sql: &str,
        binds: &[Option<i64>],
    ) -> StoreResult<Vec<i64>> {
        let ctx = StoreError::db;
        run!(self, |pool| async {
            let mut tx = pool
                .begin()
                .await
                .map_err(ctx("failed to start deleting tasks"))?;
            let mut query = sqlx::query_as::<_, StoredTask>(sqlx::AssertSqlSafe(sql));
            for value in binds {
                query = query.bind(*value);
            }
            let rows = query
                .fetch_all(&mut *tx)
                .await
                .map_err(ctx("failed to delete tasks"))?;
            keep_deleted!(tx, &rows, now(), by)
                .await
                .map_err(ctx("failed to keep deleted tasks"))?;
            tx.commit()
                .await
                .map_err(ctx("failed to commit deleting tasks"))?;
            Ok(rows.iter().map(|row| row.id).collect())
        })
    }

    /// Every task of `list`, in id order, for export.
    pub async fn all_tasks(&self, list: ListId) -> StoreResult<Vec<Task>> {
        let rows: Vec<TaskRow> = run!(self, "failed to read tasks for export", |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                task_columns!("t"),
                " FROM tasks t WHERE t.list_id = $1 ORDER BY t.id"
            ))
            .bind(list.0)
            .fetch_all(pool)
        })?;
        Ok(rows.into_iter().map(Task::from).collect())
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
    fn direct_reads_know_the_order_of_task_columns() {
        let selected: Vec<&str> = task_columns!("t")
            .split(", ")
            .map(|column| match column.rsplit_once(" AS ") {
                Some((_, alias)) => alias,
                None => column.strip_prefix("t.").unwrap(),
            })
            .collect();
        assert_eq!(selected, TASK_COLUMNS);
    }

    #[test]
    fn the_sql_literal_of_the_largest_position_is_right() {
        assert_eq!(stringify_max!(), MAX_SAFE_INTEGER.to_string());
    }

    #[test]
    fn batch_inserts_number_their_parameters_per_row() {
        let sql = insert_sql(2);
        let last = |list| {
            format!("(SELECT COALESCE(MAX(position), 0) FROM tasks WHERE list_id = ${list})")
        };
        assert!(
            sql.starts_with("INSERT INTO tasks (list_id, created_by, completed_by, title,"),
            "{sql}"
        );
        assert!(sql.contains(&format!("($1, $2, CASE WHEN $5 THEN $2 END, $3, $4, $5, COALESCE($6, CASE WHEN {0} > 9007199254740991 - 1 THEN 9007199254740991 ELSE {0} + 1 END), $7, $8, 1, $9, $9)", last(1))), "{sql}");
        assert!(sql.contains(&format!(", ($10, $11, CASE WHEN $14 THEN $11 END, $12, $13, $14, COALESCE($15, CASE WHEN {0} > 9007199254740991 - 2 THEN 9007199254740991 ELSE {0} + 2 END), $16, $17, 1, $18, $18) RETURNING", last(10))), "{sql}");
    }

    /// SQLite's direct read answers by itself (a failure would fall back
    /// to the pool and hide here) with what the pool reads, and the switch
    /// turns it off.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_reads_a_task_on_the_calling_thread() {
        let dir = std::env::temp_dir().join(format!("todo-direct-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = crate::config::DatabaseConfig {
            database_url: Some(format!("sqlite://{}/tasks.db", dir.display())),
            ..Default::default()
        };
        let store = crate::db::DatabaseTarget::from_config(&config)
            .unwrap()
            .connect(2, std::time::Duration::from_secs(3));
        store.migrate().await.unwrap();
        let list = store.default_list(Owner::SHARED).await.unwrap();
        let mut new = NewTask::new(Title::parse("read me").unwrap());
        new.due = NaiveDate::from_ymd_opt(2030, 1, 2);
        let created = store
            .clone()
            .with_group_commit(false)
            .create_task(list, Owner::SHARED, new)
            .await
            .unwrap();

        let read = |store: &Store| {
            store
                .pool
                .read_here(
                    GET_TASK_SQL,
                    (created.id, Owner::SHARED.value()),
                    TaskRow::from_direct_row,
                )
                .map(|row| row.map(Task::from))
        };
        let direct = read(&store).expect("the direct read answered");
        assert_eq!(direct.as_ref(), Some(&created));
        assert_eq!(
            store.get_task(Owner::SHARED, created.id).await.unwrap(),
            created
        );
        let missing =
            store
                .pool
                .read_here(GET_TASK_SQL, (created.id + 1, 0), TaskRow::from_direct_row);
        assert!(
            matches!(missing, Some(None)),
            "no such task: answered, with no row"
        );
        assert!(read(&store.clone().with_direct_reads(false)).is_none());
        store.close().await;
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("Milk"), "%milk%");
        assert_eq!(like_pattern("100%_\\"), "%100\\%\\_\\\\%");
    }
}
