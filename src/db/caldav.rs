//! CalDAV's queries: tasks as calendar objects (their UID, resource name
//! and the VTODO a client sent), create-or-replace from a VTODO, and what
//! changed in a list since a sync token (docs/caldav.md).
//!
//! Change numbers and departures are kept by triggers (the migration
//! `*_caldav.sql`), so a change from any front end counts; this module only
//! reads them. The caller checks the actor's role on the list first, as the
//! list routes do (`Store::require`); writes check it again in their
//! statement.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::lists::Need;
use super::pool::run;
use super::tasks::{TaskRow, now, task_columns, writable_lists};
use super::{Store, StoreError, StoreResult};
use crate::caldav::{ParsedTodo, SyncPoint, TaskState, TodoFields, vtodo};
use crate::domain::{DueTime, List, ListId, ListName, MAX_SAFE_INTEGER, Owner, Task};

/// A task as a calendar object.
#[derive(Debug, Clone)]
pub struct CalendarObject {
    pub task: Task,
    pub uid: String,
    /// The name of its resource in its list's collection (`….ics`).
    pub name: String,
    /// The VTODO a client last sent, if one did.
    pub ical: Option<String>,
    pub change: i64,
}

impl CalendarObject {
    /// Its VTODO as it is now (see [`vtodo::render`]).
    pub fn vtodo(&self) -> String {
        let task = &self.task;
        vtodo::render(
            self.ical.as_deref(),
            &TaskState {
                uid: &self.uid,
                fields: TodoFields {
                    title: task.title.clone(),
                    priority: task.priority,
                    completed: task.completed,
                    due: task.due,
                    due_time: task.due_time,
                    order: Some(task.order),
                },
                created_at: task.created_at,
                updated_at: task.updated_at,
            },
        )
    }

    /// Its strong ETag: the task's version, which every change from any
    /// front end raises.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.task.version)
    }
}

#[derive(FromRow)]
struct ObjectRow {
    #[sqlx(flatten)]
    task: TaskRow,
    caldav_uid: Option<String>,
    caldav_name: Option<String>,
    ical: Option<String>,
    change_seq: i64,
}

impl From<ObjectRow> for CalendarObject {
    fn from(row: ObjectRow) -> Self {
        let task = Task::from(row.task);
        // The triggers name every task; a row from before them (none are
        // left after the migration) still gets a name clients can use.
        let uid = row
            .caldav_uid
            .unwrap_or_else(|| format!("task-{}", task.id));
        let name = row.caldav_name.unwrap_or_else(|| format!("{uid}.ics"));
        Self {
            task,
            uid,
            name,
            ical: row.ical,
            change: row.change_seq,
        }
    }
}

macro_rules! object_columns {
    () => {
        concat!(
            task_columns!("t"),
            ", t.caldav_uid, t.caldav_name, t.ical, t.change_seq"
        )
    };
}

/// What a PUT may require of the resource it replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutCondition {
    /// No condition: create or replace.
    Any,
    /// `If-None-Match: *`: only create.
    Absent,
    /// `If-Match`: only replace, and only this version.
    Version(i64),
}

/// The answer to "what changed since": tasks changed (or added), names of
/// tasks that left, and the token to ask from next.
#[derive(Debug, Clone)]
pub struct SyncChanges {
    pub changed: Vec<CalendarObject>,
    pub departed: Vec<String>,
    pub next: SyncPoint,
    /// More changes follow: ask again from `next`.
    pub truncated: bool,
}

/// Where a page of a list's calendar objects ends: the next page starts
/// after this task (the list's order is position, then id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectCursor {
    position: i64,
    id: i64,
}

/// At most this many names are looked up in one statement.
const NAMES_PER_STATEMENT: usize = 200;

impl Store {
    /// Up to `limit` tasks of `list` as calendar objects, in the list's
    /// order, after `after` (from the start without). A short page is the
    /// last. Answers over a whole list read it page by page, so a request's
    /// memory does not grow with the list.
    pub async fn calendar_objects_page(
        &self,
        list: ListId,
        after: Option<ObjectCursor>,
        limit: usize,
    ) -> StoreResult<(Vec<CalendarObject>, Option<ObjectCursor>)> {
        let (position, id) = after.map_or((i64::MIN, i64::MIN), |c| (c.position, c.id));
        let rows: Vec<ObjectRow> = run!(self, "failed to read calendar objects", |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                object_columns!(),
                " FROM tasks t WHERE t.list_id = $1 \
                   AND (t.position > $2 OR (t.position = $2 AND t.id > $3)) \
                 ORDER BY t.position, t.id LIMIT $4"
            ))
            .bind(list.0)
            .bind(position)
            .bind(id)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(pool)
        })?;
        let objects: Vec<CalendarObject> = rows.into_iter().map(CalendarObject::from).collect();
        let next = (objects.len() == limit).then(|| {
            let last = &objects[objects.len() - 1].task;
            ObjectCursor {
                position: last.order,
                id: last.id,
            }
        });
        Ok((objects, next))
    }

    /// The tasks of `list` at `names` (a multiget), in no set order; a
    /// name with no task is left out.
    pub async fn calendar_objects_named(
        &self,
        list: ListId,
        names: &[&str],
    ) -> StoreResult<Vec<CalendarObject>> {
        let mut objects = Vec::with_capacity(names.len());
        for chunk in names.chunks(NAMES_PER_STATEMENT) {
            let sql = format!(
                "SELECT {} FROM tasks t WHERE t.list_id = $1 AND t.caldav_name IN ({})",
                object_columns!(),
                super::parameters(2, chunk.len())
            );
            let rows: Vec<ObjectRow> = run!(self, "failed to read calendar objects", |pool| {
                let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(list.0);
                for name in chunk {
                    query = query.bind(*name);
                }
                query.fetch_all(pool)
            })?;
            objects.extend(rows.into_iter().map(CalendarObject::from));
        }
        Ok(objects)
    }

    /// The task of `list` whose resource is `name`, if there is one.
    pub async fn calendar_object(
        &self,
        list: ListId,
        name: &str,
    ) -> StoreResult<Option<CalendarObject>> {
        let row: Option<ObjectRow> = run!(self, "failed to read a calendar object", |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                object_columns!(),
                " FROM tasks t WHERE t.list_id = $1 AND t.caldav_name = $2 ORDER BY t.id LIMIT 1"
            ))
            .bind(list.0)
            .bind(name)
            .fetch_optional(pool)
        })?;
        Ok(row.map(CalendarObject::from))
    }

    /// Creates or replaces the task of `list` at `name` from a client's
    /// VTODO, by `actor`, if `condition` holds; returns it and whether it
    /// is new. The object is kept whole; the task's fields are what it
    /// says. Refused (and nothing written): a viewer (403), a UID another
    /// resource of the list has (`UidConflict`), a replace that changes
    /// the UID, a condition that does not hold (412).
    pub async fn put_calendar_object(
        &self,
        actor: Owner,
        list: ListId,
        name: &str,
        todo: &ParsedTodo,
        condition: PutCondition,
    ) -> StoreResult<(CalendarObject, bool)> {
        let first = self.put_once(actor, list, name, todo, condition).await;
        let raced = match &first {
            // Another PUT made a task at this name since this one looked
            // (the unique index refused ours): this one is then a replace
            // of it, or refused if it asked for a new resource.
            Err(StoreError::ResourceNameTaken) => true,
            // The task changed or went (deleted, moved) between the look
            // and the write: with no condition, this PUT wins anyway.
            Err(StoreError::VersionMismatch { .. }) => condition == PutCondition::Any,
            _ => false,
        };
        // A second race in a row is answered as it falls.
        if raced {
            self.put_once(actor, list, name, todo, condition).await
        } else {
            first
        }
    }

    async fn put_once(
        &self,
        actor: Owner,
        list: ListId,
        name: &str,
        todo: &ParsedTodo,
        condition: PutCondition,
    ) -> StoreResult<(CalendarObject, bool)> {
        self.require(actor, list, Need::ChangeTasks).await?;
        let existing = self.calendar_object(list, name).await?;
        match (&existing, condition) {
            (Some(_), PutCondition::Absent) => {
                return Err(StoreError::ResourceExists(name.to_owned()));
            }
            (None, PutCondition::Version(_)) => return Err(StoreError::NotFound(0)),
            (Some(object), PutCondition::Version(v)) if object.task.version != v => {
                return Err(StoreError::VersionMismatch {
                    id: object.task.id,
                    current: object.task.version,
                });
            }
            _ => {}
        }
        if let Some(object) = &existing
            && object.uid != todo.uid
        {
            return Err(StoreError::UidChanged(object.uid.clone()));
        }
        let taken: Option<String> = run!(self, "failed to check a UID", |pool| {
            sqlx::query_scalar(
                "SELECT caldav_name FROM tasks WHERE list_id = $1 AND caldav_uid = $2 \
                 AND caldav_name <> $3 LIMIT 1",
            )
            .bind(list.0)
            .bind(&todo.uid)
            .bind(name)
            .fetch_optional(pool)
        })?;
        if let Some(other) = taken {
            return Err(StoreError::UidConflict(other));
        }
        let fields = &todo.fields;
        let due_time = fields.due_time.map(DueTime::time);
        let order = fields.order.map(|o| o.clamp(0, MAX_SAFE_INTEGER));
        let row: Option<ObjectRow> = match &existing {
            Some(object) => {
                let _write = self.write_guard().await;
                run!(self, "failed to replace a calendar object", |pool| {
                    sqlx::query_as(concat!(
                        "UPDATE tasks SET title = $3, priority = $4, \
                            completed_by = CASE WHEN NOT $5 THEN NULL \
                                                WHEN completed THEN completed_by ELSE $6 END, \
                            completed = $5, due = $7, due_time = $8, \
                            position = COALESCE($9, position), ical = $10, \
                            version = version + 1, updated_at = $11 \
                         WHERE id = $1 AND ($2 IS NULL OR version = $2) AND list_id IN ",
                        writable_lists!("$12"),
                        " RETURNING ",
                        task_columns!("tasks"),
                        ", tasks.caldav_uid, tasks.caldav_name, tasks.ical, tasks.change_seq"
                    ))
                    .bind(object.task.id)
                    // Without If-Match, the last PUT wins, as a PUT
                    // that came a moment later would.
                    .bind(match condition {
                        PutCondition::Version(_) => Some(object.task.version),
                        _ => None,
                    })
                    .bind(fields.title.as_str())
                    .bind(fields.priority.value())
                    .bind(fields.completed)
                    .bind(actor.account())
                    .bind(fields.due)
                    .bind(due_time)
                    .bind(order)
                    .bind(&todo.text)
                    .bind(now())
                    .bind(actor.value())
                    .fetch_optional(pool)
                })?
            }
            None => {
                self.check_room(list, 1).await?;
                let _write = self.write_guard().await;
                let now = now();
                let created = run!(self, "failed to create a calendar object", |pool| {
                    sqlx::query_as(concat!(
                        "INSERT INTO tasks (list_id, created_by, completed_by, title, priority, \
                            completed, position, due, due_time, version, created_at, updated_at, \
                            caldav_uid, caldav_name, ical) \
                         SELECT $1, $2, CASE WHEN $5 THEN $2 END, $3, $4, $5, \
                            COALESCE($6, (SELECT CASE WHEN MAX(x.position) >= ",
                        "9007199254740991",
                        " THEN 9007199254740991 ELSE COALESCE(MAX(x.position), 0) + 1 END \
                                          FROM tasks x WHERE x.list_id = $1)), \
                            $7, $8, 1, $9, $9, $10, $11, $12 \
                          WHERE $1 IN ",
                        writable_lists!("$13"),
                        " RETURNING ",
                        task_columns!("tasks"),
                        ", tasks.caldav_uid, tasks.caldav_name, tasks.ical, tasks.change_seq"
                    ))
                    .bind(list.0)
                    .bind(actor.account())
                    .bind(fields.title.as_str())
                    .bind(fields.priority.value())
                    .bind(fields.completed)
                    .bind(order)
                    .bind(fields.due)
                    .bind(due_time)
                    .bind(now)
                    .bind(&todo.uid)
                    .bind(name)
                    .bind(&todo.text)
                    .bind(actor.value())
                    .fetch_optional(pool)
                })?;
                if created.is_some() {
                    self.pool.note_created(1).await;
                }
                created
            }
        };
        match row {
            Some(row) => Ok((row.into(), existing.is_none())),
            // Changed or taken away between the checks and the write.
            None => match existing {
                Some(object) => Err(StoreError::VersionMismatch {
                    id: object.task.id,
                    current: object.task.version + 1,
                }),
                None => Err(self
                    .require(actor, list, Need::ChangeTasks)
                    .await
                    .err()
                    .unwrap_or(StoreError::ListNotFound(list.0))),
            },
        }
    }

    /// Where the history of changes stands for a read made now: every
    /// change it cannot see (still running, here or on another instance)
    /// has a number at or past `from`, or is one of `running`.
    async fn sync_point(&self) -> StoreResult<SyncPoint> {
        let sql = self.pool.sync_watermark_sql();
        let (from, running): (i64, Option<String>) =
            run!(self, "failed to read the change number", |pool| {
                sqlx::query_as(sql).fetch_one(pool)
            })?;
        let running = running
            .unwrap_or_default()
            .split(',')
            .filter_map(|x| x.trim().parse().ok())
            .collect();
        Ok(SyncPoint { from, running })
    }

    /// A list's version for `getctag`, which moves when one of its tasks
    /// changes or leaves and only then, and its sync token as it is now.
    pub async fn collection_change(&self, list: ListId) -> StoreResult<(i64, SyncPoint)> {
        let now = self.sync_point().await?;
        let (latest, floor): (Option<i64>, i64) = run!(
            self,
            "failed to read a list's last change",
            |pool| {
                sqlx::query_as(
                    "SELECT (SELECT MAX(m) FROM ( \
                        SELECT MAX(change_seq) AS m FROM tasks WHERE list_id = $1 \
                        UNION ALL SELECT MAX(change_seq) FROM task_departures WHERE list_id = $1) x), \
                        sync_floor FROM lists WHERE id = $1",
                )
                .bind(list.0)
                .fetch_one(pool)
            }
        )?;
        let after_last = latest.map_or(0, |m| m + 1).max(floor);
        Ok((after_last, now.until(after_last)))
    }

    /// What changed in `list` since `since` (everything, with no
    /// departures, when `None`), at most about `limit` entries: one
    /// transaction's changes are never split, so a page may be longer.
    /// `SyncTokenTooOld` when departures it needs were purged.
    pub async fn sync_changes(
        &self,
        list: ListId,
        since: Option<&SyncPoint>,
        limit: usize,
    ) -> StoreResult<SyncChanges> {
        let now = self.sync_point().await?;
        let floor: i64 = run!(self, "failed to read a list's sync floor", |pool| {
            sqlx::query_scalar("SELECT sync_floor FROM lists WHERE id = $1")
                .bind(list.0)
                .fetch_one(pool)
        })?;
        if since.is_some_and(|s| s.oldest() < floor) {
            return Err(StoreError::SyncTokenTooOld);
        }
        let everything = SyncPoint {
            from: i64::MIN,
            running: Vec::new(),
        };
        let from = since.unwrap_or(&everything);
        // `change_seq >= $2`, or one of those still running then ($4…).
        let since_sql = |column: &str| {
            if from.running.is_empty() {
                format!("{column} >= $2")
            } else {
                format!(
                    "({column} >= $2 OR {column} IN ({}))",
                    super::parameters(4, from.running.len())
                )
            }
        };
        let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
        let changed_sql = format!(
            "SELECT {} FROM tasks t WHERE t.list_id = $1 AND {} ORDER BY t.change_seq, t.id LIMIT $3",
            object_columns!(),
            since_sql("t.change_seq")
        );
        let changed: Vec<ObjectRow> = run!(self, "failed to read changed tasks", |pool| {
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(changed_sql.clone()))
                .bind(list.0)
                .bind(from.from)
                .bind(fetch);
            for running in &from.running {
                query = query.bind(*running);
            }
            query.fetch_all(pool)
        })?;
        // A name that is live again (restored, moved back, made anew) is
        // reported as it is now, not as gone.
        let departed: Vec<(String, i64)> = match since {
            None => Vec::new(),
            Some(_) => {
                let departed_sql = format!(
                    "SELECT d.caldav_name, MAX(d.change_seq) FROM task_departures d \
                     WHERE d.list_id = $1 AND {} \
                       AND NOT EXISTS (SELECT 1 FROM tasks t \
                                        WHERE t.list_id = d.list_id AND t.caldav_name = d.caldav_name) \
                     GROUP BY d.caldav_name ORDER BY MAX(d.change_seq), d.caldav_name LIMIT $3",
                    since_sql("d.change_seq")
                );
                run!(self, "failed to read departed tasks", |pool| {
                    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(departed_sql.clone()))
                        .bind(list.0)
                        .bind(from.from)
                        .bind(fetch);
                    for running in &from.running {
                        query = query.bind(*running);
                    }
                    query.fetch_all(pool)
                })?
            }
        };
        let mut entries: Vec<(i64, Result<CalendarObject, String>)> = changed
            .into_iter()
            .map(|row| (row.change_seq, Ok(CalendarObject::from(row))))
            .chain(departed.into_iter().map(|(name, seq)| (seq, Err(name))))
            .collect();
        entries.sort_by_key(|(seq, _)| *seq);
        let mut truncated = false;
        let mut next = now.clone();
        if entries.len() > limit {
            // Cut before the first change number that does not fit whole;
            // if even the first does not, give that one whole.
            let cut_seq = entries[limit].0;
            let keep = entries.iter().take_while(|(seq, _)| *seq < cut_seq).count();
            if keep > 0 {
                entries.truncate(keep);
                next = now.until(cut_seq);
                truncated = true;
            } else {
                let mut whole = self.whole_change(list, cut_seq).await?;
                whole.next = now.until(cut_seq + 1);
                return Ok(whole);
            }
        }
        let mut changes = SyncChanges {
            changed: Vec::new(),
            departed: Vec::new(),
            next,
            truncated,
        };
        for (_, entry) in entries {
            match entry {
                Ok(object) => changes.changed.push(object),
                Err(name) => changes.departed.push(name),
            }
        }
        Ok(changes)
    }

    /// Every change of `list` numbered `change` (one PostgreSQL
    /// transaction can touch thousands of tasks), with the token after it.
    async fn whole_change(&self, list: ListId, change: i64) -> StoreResult<SyncChanges> {
        let changed: Vec<ObjectRow> = run!(self, "failed to read changed tasks", |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                object_columns!(),
                " FROM tasks t WHERE t.list_id = $1 AND t.change_seq = $2 ORDER BY t.id"
            ))
            .bind(list.0)
            .bind(change)
            .fetch_all(pool)
        })?;
        let departed: Vec<String> = run!(self, "failed to read departed tasks", |pool| {
            sqlx::query_scalar(
                "SELECT DISTINCT d.caldav_name FROM task_departures d \
                 WHERE d.list_id = $1 AND d.change_seq = $2 \
                   AND NOT EXISTS (SELECT 1 FROM tasks t \
                                    WHERE t.list_id = d.list_id AND t.caldav_name = d.caldav_name)",
            )
            .bind(list.0)
            .bind(change)
            .fetch_all(pool)
        })?;
        Ok(SyncChanges {
            changed: changed.into_iter().map(CalendarObject::from).collect(),
            departed,
            next: SyncPoint {
                from: change + 1,
                running: Vec::new(),
            },
            truncated: true,
        })
    }

    /// Forgets departures older than `before`, raising each list's
    /// `sync_floor` past them so tokens that needed them are refused.
    pub(super) async fn purge_departures(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let before = before.timestamp();
        let ctx = StoreError::db;
        run!(self, |pool| async {
            let mut tx = pool
                .begin()
                .await
                .map_err(ctx("failed to start purging departures"))?;
            sqlx::query(
                "UPDATE lists SET sync_floor = CASE WHEN purged.next > lists.sync_floor \
                    THEN purged.next ELSE lists.sync_floor END \
                 FROM (SELECT list_id, MAX(change_seq) + 1 AS next FROM task_departures \
                        WHERE departed_at < $1 GROUP BY list_id) AS purged \
                 WHERE lists.id = purged.list_id",
            )
            .bind(before)
            .execute(&mut *tx)
            .await
            .map_err(ctx("failed to raise sync floors"))?;
            let purged = sqlx::query("DELETE FROM task_departures WHERE departed_at < $1")
                .bind(before)
                .execute(&mut *tx)
                .await
                .map_err(ctx("failed to purge departures"))?
                .rows_affected();
            tx.commit()
                .await
                .map_err(ctx("failed to commit purging departures"))?;
            Ok(purged)
        })
    }
}

/// A list as a calendar collection: the list as the actor sees it, the
/// name of its collection, and the appearance a client gave it.
#[derive(Debug, Clone)]
pub struct Collection {
    pub list: List,
    /// The last segment of its URL: the name a client made it under
    /// (MKCALENDAR), or the list's id.
    pub segment: String,
    /// Apple's `calendar-color` and `calendar-order`, as a client set them.
    pub color: Option<String>,
    pub order: Option<i64>,
}

/// A list's id, collection name, colour and order.
type AppearanceRow = (i64, Option<String>, Option<String>, Option<i64>);

impl Store {
    /// Every list `actor` can see, as collections, in the lists' order.
    pub async fn calendar_collections(&self, actor: Owner) -> StoreResult<Vec<Collection>> {
        let lists = self.lists_uncounted(actor).await?;
        let ids: Vec<i64> = lists.iter().map(|l| l.id.0).collect();
        let mut appearance = std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT id, caldav_name, color, caldav_order FROM lists WHERE id IN ({})",
                placeholders.join(", ")
            );
            let rows: Vec<AppearanceRow> =
                run!(self, "failed to read calendar collections", |pool| {
                    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
                    for id in chunk {
                        query = query.bind(*id);
                    }
                    query.fetch_all(pool)
                })?;
            for (id, name, color, order) in rows {
                appearance.insert(id, (name, color, order));
            }
        }
        Ok(lists
            .into_iter()
            .map(|list| {
                let (name, color, order) = appearance.remove(&list.id.0).unwrap_or_default();
                Collection {
                    segment: name.unwrap_or_else(|| list.id.0.to_string()),
                    list,
                    color,
                    order,
                }
            })
            .collect())
    }

    /// The collection `actor` sees at `segment`; `ListNotFound` if none.
    /// A request's own list only, by its id or the name a client gave it,
    /// so a task's GET does not count every list's tasks.
    pub async fn calendar_collection(
        &self,
        actor: Owner,
        segment: &str,
    ) -> StoreResult<Collection> {
        let by_id = match segment.parse::<i64>() {
            Ok(id) => run!(self, "failed to find a calendar", |pool| {
                sqlx::query_scalar("SELECT id FROM lists WHERE id = $1 AND caldav_name IS NULL")
                    .bind(id)
                    .fetch_all(pool)
            })?,
            Err(_) => Vec::new(),
        };
        let mut candidates: Vec<i64> = by_id;
        let named: Vec<i64> = run!(self, "failed to find a calendar", |pool| {
            sqlx::query_scalar("SELECT id FROM lists WHERE caldav_name = $1 ORDER BY id")
                .bind(segment)
                .fetch_all(pool)
        })?;
        candidates.extend(named);
        for id in candidates {
            let list = match self.list_uncounted(actor, ListId(id)).await {
                Ok(list) => list,
                Err(StoreError::ListNotFound(_)) => continue,
                Err(err) => return Err(err),
            };
            let (name, color, order): (Option<String>, Option<String>, Option<i64>) =
                run!(self, "failed to read a calendar", |pool| {
                    sqlx::query_as(
                        "SELECT caldav_name, color, caldav_order FROM lists WHERE id = $1",
                    )
                    .bind(id)
                    .fetch_one(pool)
                })?;
            return Ok(Collection {
                segment: name.unwrap_or_else(|| id.to_string()),
                list,
                color,
                order,
            });
        }
        Err(StoreError::ListNotFound(0))
    }

    /// A new list of `actor`'s, made by a client under `segment`.
    pub async fn create_calendar(
        &self,
        actor: Owner,
        segment: &str,
        name: &ListName,
    ) -> StoreResult<Collection> {
        if self.calendar_collection(actor, segment).await.is_ok() {
            return Err(StoreError::ResourceExists(segment.to_owned()));
        }
        let list = self.create_list(actor, name).await?;
        {
            let _write = self.write_guard().await;
            run!(self, "failed to name a calendar", |pool| async {
                sqlx::query("UPDATE lists SET caldav_name = $2 WHERE id = $1")
                    .bind(list.id.0)
                    .bind(segment)
                    .execute(pool)
                    .await
                    .map(|_| ())
            })?;
        }
        self.calendar_collection(actor, segment).await
    }

    /// Sets a collection's colour and order (`Some(None)` clears one);
    /// only the list's owner may.
    pub async fn set_calendar_appearance(
        &self,
        actor: Owner,
        list: ListId,
        color: Option<Option<&str>>,
        order: Option<Option<i64>>,
    ) -> StoreResult<()> {
        self.require(actor, list, Need::Manage).await?;
        let _write = self.write_guard().await;
        run!(self, "failed to change a calendar", |pool| async {
            sqlx::query(
                "UPDATE lists SET color = CASE WHEN $2 THEN $3 ELSE color END, \
                    caldav_order = CASE WHEN $4 THEN $5 ELSE caldav_order END \
                 WHERE id = $1",
            )
            .bind(list.0)
            .bind(color.is_some())
            .bind(color.flatten())
            .bind(order.is_some())
            .bind(order.flatten())
            .execute(pool)
            .await
            .map(|_| ())
        })
    }
}
