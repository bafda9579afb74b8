//! The export file format (`todo-app-export`, version 2): what
//! `GET /api/export` and `todo-app export` write, and what
//! `POST /api/import` and `todo-app import` read back.
//!
//! Both the HTTP API and the CLI use this module, so the two can never
//! disagree on the format. Reading is two steps: serde checks the shape
//! ([`ExportDocument`] of [`ExportedTask`]), then `validate` turns each
//! task into a domain [`ImportedTask`] or names the first one that is not
//! valid (`tasks[3]: ...`), before anything is written.
//!
//! [`ExportDocument`]: crate::export::ExportDocument
//! [`ExportedTask`]: crate::export::ExportedTask
//! [`ImportedTask`]: crate::domain::ImportedTask

use chrono::{DateTime, NaiveDate, Utc};
use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToSchema};

use crate::domain::{
    Due, DueTime, FieldError, Import, ImportedList, ImportedTask, List, ListName, MAX_IMPORTED,
    MAX_SAFE_INTEGER, Priority, Task, Title, check_range, check_timestamp_year,
};
use crate::json::schema::{CalendarDay, PriorityNumber, TimeOfDay, TitleText};
use crate::json::whole_number;

/// The value of `format` in every export file.
pub const EXPORT_FORMAT: &str = "todo-app-export";

/// The value of `version` in the files this release writes. It reads
/// version 1 too (no lists: every task goes to the default list).
pub const FORMAT_VERSION: u32 = 2;

/// The export file format. `version` lets a later release read old files.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(
    description = "Every task, in id order, in a form that `POST /api/import` (or `todo-app \
                   import`) reads back. `format` and `version` let a later release recognise \
                   and read older files. Other fields are ignored."
)]
pub struct ExportDocument<T> {
    #[schema(value_type = ExportFormat, inline)]
    pub format: String,
    /// The version of the format: 2 (1 is read too).
    #[schema(minimum = 1, maximum = 2)]
    pub version: u32,
    pub exported_at: DateTime<Utc>,
    /// The tasks of the default list.
    pub tasks: Vec<T>,
    /// The other lists (version 2).
    #[serde(default = "Vec::new")]
    #[schema(default = json!([]))]
    pub lists: Vec<ExportedList>,
}

/// A list other than the default one, with its tasks.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ExportedList {
    #[schema(min_length = 1, max_length = 100, examples("Groceries"))]
    pub name: String,
    /// Its place among the owner's lists.
    #[serde(deserialize_with = "whole")]
    #[schema(minimum = -9007199254740991i64, maximum = 9007199254740991i64)]
    pub position: i64,
    pub tasks: Vec<ExportedTask>,
}

/// The schema of an export file, [`ExportDocument`] of [`ExportedTask`]s,
/// under the plain name `ExportDocument` (utoipa names a generic type's
/// schema after its parameters too).
pub struct ExportFile;

impl PartialSchema for ExportFile {
    fn schema() -> RefOr<Schema> {
        <ExportDocument<ExportedTask> as PartialSchema>::schema()
    }
}

impl ToSchema for ExportFile {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ExportDocument")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        // The generic document leaves its parameter's schema to the user.
        schemas.push((ExportedTask::name().into(), ExportedTask::schema()));
        schemas.push((ExportedList::name().into(), ExportedList::schema()));
        ExportedTask::schemas(schemas);
    }
}

/// One task as an export file holds it.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(
    description = "A task in an export document. Imported tasks keep their ids, order and \
                        timestamps; their version starts again at 1. Ids must be positive and \
                        appear only once; ids may be at most 2^52 and orders must lie within \
                        JavaScript's safe integers (plus or minus 2^53 - 1), and dates and \
                        timestamps must have four-digit years. Other fields are ignored."
)]
pub struct ExportedTask {
    #[serde(deserialize_with = "whole")]
    #[schema(minimum = 1, maximum = 4503599627370496i64)]
    pub id: i64,
    #[schema(value_type = TitleText)]
    pub title: String,
    #[serde(deserialize_with = "whole")]
    #[schema(value_type = PriorityNumber)]
    pub priority: i16,
    pub completed: bool,
    #[serde(deserialize_with = "whole")]
    #[schema(minimum = -9007199254740991i64, maximum = 9007199254740991i64)]
    pub order: i64,
    #[schema(value_type = Option<CalendarDay>)]
    pub due: Option<NaiveDate>,
    /// The time of day on `due` (`HH:MM`), when the task has one; left out
    /// otherwise, as files written before times were kept have it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<TimeOfDay>)]
    pub due_time: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The one value of `format` (`EXPORT_FORMAT`), as the schema names it.
/// The numbers in the attributes above are literals, as derive attributes
/// need; `tests/api/openapi.rs` holds them to the constants.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // only its schema (and a test) uses it
enum ExportFormat {
    #[serde(rename = "todo-app-export")]
    TodoAppExport,
}

/// Integers in import files may be written `3.0`, as anywhere in the API.
fn whole<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    whole_number(&value)
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| serde::de::Error::custom(format!("{value} is not a whole number in range")))
}

impl From<Task> for ExportedTask {
    fn from(t: Task) -> Self {
        Self {
            id: t.id,
            title: t.title.into(),
            priority: t.priority.value(),
            completed: t.completed,
            order: t.order,
            due: t.due,
            due_time: t.due_time.map(|time| time.to_string()),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// The export of the default list's `tasks` and the other `lists`,
/// stamped now.
pub fn export_document(
    tasks: Vec<Task>,
    lists: Vec<(List, Vec<Task>)>,
) -> ExportDocument<ExportedTask> {
    ExportDocument {
        format: EXPORT_FORMAT.to_owned(),
        version: FORMAT_VERSION,
        exported_at: Utc::now(),
        tasks: tasks.into_iter().map(ExportedTask::from).collect(),
        lists: lists
            .into_iter()
            .map(|(list, tasks)| ExportedList {
                name: list.name.as_str().to_owned(),
                position: list.position,
                tasks: tasks.into_iter().map(ExportedTask::from).collect(),
            })
            .collect(),
    }
}

/// What the store exports for `owner`: the default list's tasks and every
/// other list it owns (not those shared with it: they are their owners').
pub async fn export_of(
    store: &crate::db::Store,
    owner: crate::domain::Owner,
) -> crate::db::StoreResult<ExportDocument<ExportedTask>> {
    let default = store.default_list(owner).await?;
    let tasks = store.all_tasks(default).await?;
    let mut lists = Vec::new();
    for list in store.lists(owner).await? {
        if list.role == crate::domain::Role::Owner && !list.is_default {
            let tasks = store.all_tasks(list.id).await?;
            lists.push((list, tasks));
        }
    }
    Ok(export_document(tasks, lists))
}

/// Why the bytes of a file are not an import.
#[derive(Debug)]
pub enum ReadError {
    /// Not JSON at all (the API answers 400).
    NotJson(serde_json::Error),
    /// JSON, but not a valid export (the API answers 422).
    Invalid(FieldError),
}

/// Validates a whole export document before anything is written.
pub fn parse_export_document(value: serde_json::Value) -> Result<Import, FieldError> {
    let doc: ExportDocument<ExportedTask> = serde_json::from_value(value).map_err(not_an_export)?;
    validate(doc)
}

/// Like [`parse_export_document`], straight from the bytes of a file: no
/// `serde_json::Value` in between, which would take several times the size
/// of the file.
pub fn parse_export_bytes(bytes: &[u8]) -> Result<Import, ReadError> {
    let doc: ExportDocument<ExportedTask> = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            ReadError::NotJson(e)
        } else {
            ReadError::Invalid(not_an_export(e))
        }
    })?;
    validate(doc).map_err(ReadError::Invalid)
}

fn not_an_export(e: serde_json::Error) -> FieldError {
    FieldError::new("body", format!("not a todo-app export document: {e}"))
}

/// Checks the format and every list and task, naming the first bad one.
fn validate(doc: ExportDocument<ExportedTask>) -> Result<Import, FieldError> {
    if doc.format != EXPORT_FORMAT || !(1..=FORMAT_VERSION).contains(&doc.version) {
        return Err(FieldError::new(
            "format",
            format!(
                "unsupported export format {:?} version {}; expected {EXPORT_FORMAT:?} version 1 to {FORMAT_VERSION}",
                doc.format, doc.version
            ),
        ));
    }
    if doc.version == 1 && !doc.lists.is_empty() {
        return Err(FieldError::new("lists", "a version 1 export has no lists"));
    }
    // Ids are unique in the whole file: the shared list keeps them.
    let mut seen = std::collections::HashSet::new();
    let tasks = validate_tasks(doc.tasks, "tasks", &mut seen)?;
    let lists = doc
        .lists
        .into_iter()
        .enumerate()
        .map(|(i, list)| {
            let at = |e: FieldError| FieldError::new(e.field, format!("lists[{i}]: {}", e.message));
            Ok(ImportedList {
                name: ListName::parse(&list.name).map_err(at)?,
                position: check_range("position", list.position, MAX_SAFE_INTEGER).map_err(at)?,
                tasks: validate_tasks(list.tasks, &format!("lists[{i}].tasks"), &mut seen)?,
            })
        })
        .collect::<Result<_, FieldError>>()?;
    Ok(Import { tasks, lists })
}

fn validate_tasks(
    tasks: Vec<ExportedTask>,
    place: &str,
    seen: &mut std::collections::HashSet<i64>,
) -> Result<Vec<ImportedTask>, FieldError> {
    tasks
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let at =
                |e: FieldError| FieldError::new(e.field, format!("{place}[{i}]: {}", e.message));
            if t.id <= 0 || !seen.insert(t.id) {
                return Err(at(FieldError::new(
                    "id",
                    format!("id {} is not positive or appears twice", t.id),
                )));
            }
            // Out-of-range values would fail in the database (a 500) or
            // leave no room for the ids and positions of new tasks.
            if t.id > MAX_IMPORTED {
                return Err(at(FieldError::new(
                    "id",
                    format!(
                        "id {} is out of range; use a whole number from 1 to {MAX_IMPORTED}",
                        t.id
                    ),
                )));
            }
            check_range("order", t.order, MAX_SAFE_INTEGER).map_err(at)?;
            let due = t.due.map(Due::check).transpose().map_err(at)?;
            let due_time = t
                .due_time
                .as_deref()
                .map(DueTime::parse)
                .transpose()
                .map_err(at)?
                .flatten();
            if due_time.is_some() && due.is_none() {
                return Err(at(DueTime::needs_a_date()));
            }
            check_timestamp_year("created_at", t.created_at).map_err(at)?;
            check_timestamp_year("updated_at", t.updated_at).map_err(at)?;
            Ok(ImportedTask {
                id: t.id,
                title: Title::parse(&t.title).map_err(at)?,
                priority: Priority::try_from(t.priority).map_err(at)?,
                completed: t.completed,
                order: t.order,
                due,
                due_time,
                created_at: t.created_at,
                updated_at: t.updated_at,
            })
        })
        .collect()
}
