//! The JSON API under `/api`, following the Todo-Backend conventions: the
//! collection is a bare JSON array and every task carries its absolute `url`.

use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, ETAG, IF_NONE_MATCH, LINK, LOCATION};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AppState;
use super::auth::ApiOwner;
use super::error::{ApiError, ApiResult};
use super::extract::{BaseUrl, JsonObject, JsonValue, Precondition, etag, parse_etag};
use super::list_cache::CachedList;
use crate::db::ImportedTask;
use crate::domain::{
    Due, FieldError, MAX_IMPORTED, MAX_SAFE_INTEGER, NewTask, Priority, SortOrder, Task,
    TaskChanges, TaskFilter, Title, check_range, whole_number,
};

pub fn router(import_body_limit: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/api/todos",
            get(list_tasks)
                .post(create_task)
                .patch(update_all)
                .delete(delete_tasks),
        )
        .route(
            "/api/todos/{id}",
            get(get_task).patch(update_task).delete(delete_task),
        )
        .route("/api/export", get(export_tasks))
        .route(
            "/api/import",
            post(import_tasks).layer(DefaultBodyLimit::max(import_body_limit)),
        )
        .route("/api/openapi.json", get(super::openapi::document))
}

/// A task as the API shows it.
#[derive(Serialize)]
pub struct TaskView<'a> {
    pub id: i64,
    pub title: &'a str,
    pub priority: Priority,
    pub priority_name: &'static str,
    pub completed: bool,
    pub order: i64,
    pub due: Option<NaiveDate>,
    pub url: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl<'a> TaskView<'a> {
    pub fn new(task: &'a Task, base: &BaseUrl) -> Self {
        Self {
            id: task.id,
            title: &task.title,
            priority: task.priority,
            priority_name: task.priority.name(),
            completed: task.completed,
            order: task.order,
            due: task.due,
            url: base.task_url(task.id),
            version: task.version,
            created_at: task.created_at,
            updated_at: task.updated_at,
        }
    }
}

/// One task with its `ETag`.
fn task_response(status: StatusCode, task: &Task, base: &BaseUrl) -> Response {
    let mut response = (status, Json(TaskView::new(task, base))).into_response();
    insert_etag(response.headers_mut(), task.version);
    response
}

fn insert_etag(headers: &mut HeaderMap, version: i64) {
    if let Ok(value) = HeaderValue::from_str(&etag(version)) {
        headers.insert(ETAG, value);
    }
}

/// Query string of `GET /api/todos`. Strings first, so bad values get our own messages.
#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    completed: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

impl ListParams {
    fn parse(&self) -> Result<TaskFilter, FieldError> {
        let mut filter = TaskFilter::default();
        filter.completed = match self.completed.as_deref() {
            None | Some("") => None,
            Some(raw) => Some(parse_bool("completed", raw)?),
        };
        filter.query = self
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_owned);
        // Titles never hold control characters, and PostgreSQL refuses NUL
        // in text: such a search is a mistake, not a query.
        if filter
            .query
            .as_deref()
            .is_some_and(|q| q.chars().any(char::is_control))
        {
            return Err(FieldError::new(
                "q",
                "q must not contain control characters",
            ));
        }
        if let Some(sort) = &self.sort {
            filter.sort = SortOrder::parse(sort)?;
        }
        if let Some(raw) = self.limit.as_deref() {
            filter.limit = raw
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=TaskFilter::MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    FieldError::new(
                        "limit",
                        format!(
                            "limit {raw:?} must be a whole number from 1 to {}",
                            TaskFilter::MAX_LIMIT
                        ),
                    )
                })?;
        }
        if let Some(raw) = self.offset.as_deref() {
            // Capped where the databases' own (signed 64-bit) OFFSET ends.
            filter.offset = raw
                .parse::<u64>()
                .ok()
                .filter(|n| i64::try_from(*n).is_ok())
                .ok_or_else(|| {
                    FieldError::new(
                        "offset",
                        format!(
                            "offset {raw:?} must be a whole number from 0 to {}",
                            i64::MAX
                        ),
                    )
                })?;
        }
        Ok(filter)
    }
}

pub fn parse_bool(field: &'static str, raw: &str) -> Result<bool, FieldError> {
    match raw {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(FieldError::new(
            field,
            format!("{field} must be true or false, not {raw:?}"),
        )),
    }
}

/// The query string of the next page, keeping the caller's filters.
fn next_page_link(base: &BaseUrl, filter: &TaskFilter, returned: usize) -> String {
    let mut query = form_urlencoded_pairs(filter);
    query.push(("limit", filter.limit.to_string()));
    query.push(("offset", (filter.offset + returned as u64).to_string()));
    let encoded: Vec<String> = query
        .into_iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(&v)))
        .collect();
    format!("<{}/api/todos?{}>; rel=\"next\"", base.0, encoded.join("&"))
}

fn form_urlencoded_pairs(filter: &TaskFilter) -> Vec<(&'static str, String)> {
    let mut pairs = Vec::new();
    if let Some(completed) = filter.completed {
        pairs.push(("completed", completed.to_string()));
    }
    if let Some(q) = &filter.query {
        pairs.push(("q", q.clone()));
    }
    if filter.sort != SortOrder::Order {
        pairs.push(("sort", filter.sort.name().to_owned()));
    }
    pairs
}

fn percent_encode(raw: &str) -> String {
    percent_encoding::utf8_percent_encode(raw, percent_encoding::NON_ALPHANUMERIC).to_string()
}

async fn list_tasks(
    State(state): State<AppState>,
    ApiOwner(owner): ApiOwner,
    base: BaseUrl,
    query: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(params) =
        query.map_err(|e| ApiError::BadRequest(format!("bad query string: {e}")))?;
    let filter = params.parse()?;
    // Taken before reading, so a write during the read invalidates it.
    let version = state.store.data_version().await?;
    let cache = &state.list_cache;
    let key = (owner, base.0.clone(), filter.clone());
    let (version, list, _turn) = match cache.get(&version, &key) {
        Some(list) => (version, Some(list), None),
        // After a write many lists miss at once: one rebuilds, the rest
        // wait for their turn and then find its body.
        None => match cache.rebuild_turn(&key).await {
            (turn, true) => {
                let version = state.store.data_version().await?;
                let list = cache.get(&version, &key);
                (version, list, Some(turn))
            }
            (turn, false) => (version, None, Some(turn)),
        },
    };
    let list = match list {
        Some(list) => list,
        None => {
            let (tasks, has_more) = state.store.list_tasks(owner, &filter).await?;
            let views: Vec<TaskView> = tasks.iter().map(|t| TaskView::new(t, &base)).collect();
            let body = serde_json::to_vec(&views).map_err(|e| {
                ApiError::Internal(anyhow::Error::new(e).context("failed to serialize tasks"))
            })?;
            let link = has_more
                .then(|| HeaderValue::from_str(&next_page_link(&base, &filter, tasks.len())).ok())
                .flatten();
            let list = CachedList {
                body: body.into(),
                link,
            };
            cache.put(version, key, list.clone());
            list
        }
    };
    let mut response = (
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        list.body,
    )
        .into_response();
    if let Some(link) = list.link {
        response.headers_mut().insert(LINK, link);
    }
    Ok(response)
}

async fn create_task(
    State(state): State<AppState>,
    ApiOwner(owner): ApiOwner,
    base: BaseUrl,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let new = NewTask::from_json(&body)?;
    let task = state.store.create_task(owner, new).await?;
    let mut response = task_response(StatusCode::CREATED, &task, &base);
    if let Ok(location) = HeaderValue::from_str(&base.task_url(task.id)) {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}

/// The task id in the path. Anything that is not a positive whole number,
/// even bytes that are not UTF-8, is a 404 (no such task) rather than
/// axum's plain-text 400.
pub struct TaskId(i64);

impl<S: Send + Sync> FromRequestParts<S> for TaskId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(raw)) => parse_id(&raw).map(Self),
            Err(_) => Err(ApiError::NotFound(
                "no task has the id in this path".to_owned(),
            )),
        }
    }
}

fn parse_id(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::NotFound(format!("no task has the id {:?}", truncate(raw, 40))))
}

fn truncate(raw: &str, max: usize) -> String {
    raw.chars().take(max).collect()
}

async fn get_task(
    State(state): State<AppState>,
    ApiOwner(owner): ApiOwner,
    base: BaseUrl,
    TaskId(id): TaskId,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let task = state.store.get_task(owner, id).await?;
    let not_modified = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            // `*` matches any current version (RFC 9110, 13.1.2).
            v.trim() == "*"
                || v.split(',')
                    .any(|tag| parse_etag(tag) == Some(task.version))
        });
    if not_modified {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        insert_etag(response.headers_mut(), task.version);
        return Ok(response);
    }
    Ok(task_response(StatusCode::OK, &task, &base))
}

async fn update_task(
    State(state): State<AppState>,
    ApiOwner(owner): ApiOwner,
    base: BaseUrl,
    TaskId(id): TaskId,
    precondition: Precondition,
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    let changes = TaskChanges::from_json(&body)?;
    let task = state
        .store
        .update_task(owner, id, &changes, precondition.expected_version())
        .await?;
    Ok(task_response(StatusCode::OK, &task, &base))
}

async fn delete_task(
    State(state): State<AppState>,
    ApiOwner(owner): ApiOwner,
    TaskId(id): TaskId,
    precondition: Precondition,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_task(owner, id, precondition.expected_version())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize)]
pub struct DeleteParams {
    completed: Option<String>,
}

/// `DELETE /api/todos` deletes all; `?completed=true` clears completed only.
async fn delete_tasks(
    State(state): State<AppState>,
    ApiOwner(owner): ApiOwner,
    query: Result<Query<DeleteParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<StatusCode> {
    let Query(params) =
        query.map_err(|e| ApiError::BadRequest(format!("bad query string: {e}")))?;
    match params.completed.as_deref() {
        None | Some("") => state.store.delete_all_tasks(owner).await?,
        Some(raw) if parse_bool("completed", raw)? => state.store.clear_completed(owner).await?,
        Some(_) => {
            return Err(FieldError::new(
                "completed",
                "only completed=true is supported when deleting many tasks",
            )
            .into());
        }
    };
    Ok(StatusCode::NO_CONTENT)
}

/// `PATCH /api/todos` with `{"completed": bool}` marks every task.
async fn update_all(
    State(state): State<AppState>,
    ApiOwner(owner): ApiOwner,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<serde_json::Value>> {
    let changes = TaskChanges::from_json(&body)?;
    let completed = match changes {
        TaskChanges {
            completed: Some(completed),
            title: None,
            priority: None,
            order: None,
            due: None,
        } => completed,
        _ => {
            return Err(FieldError::new(
                "body",
                "the whole list can only be patched with {\"completed\": true|false}",
            )
            .into());
        }
    };
    let updated = state.store.set_all_completed(owner, completed).await?;
    Ok(Json(json!({ "updated": updated })))
}

/// The export file format. `version` lets a later release read old files.
#[derive(Serialize, Deserialize)]
pub struct ExportDocument<T> {
    pub format: String,
    pub version: u32,
    pub exported_at: DateTime<Utc>,
    pub tasks: Vec<T>,
}

pub const EXPORT_FORMAT: &str = "todo-app-export";

#[derive(Serialize, Deserialize)]
pub struct ExportedTask {
    #[serde(deserialize_with = "whole")]
    pub id: i64,
    pub title: String,
    #[serde(deserialize_with = "whole")]
    pub priority: i16,
    pub completed: bool,
    #[serde(deserialize_with = "whole")]
    pub order: i64,
    pub due: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
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
            title: t.title,
            priority: t.priority.value(),
            completed: t.completed,
            order: t.order,
            due: t.due,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

pub fn export_document(tasks: Vec<Task>) -> ExportDocument<ExportedTask> {
    ExportDocument {
        format: EXPORT_FORMAT.to_owned(),
        version: 1,
        exported_at: Utc::now(),
        tasks: tasks.into_iter().map(ExportedTask::from).collect(),
    }
}

/// Validates a whole export document before anything is written.
pub fn parse_export_document(value: serde_json::Value) -> Result<Vec<ImportedTask>, FieldError> {
    let doc: ExportDocument<ExportedTask> = serde_json::from_value(value)
        .map_err(|e| FieldError::new("body", format!("not a todo-app export document: {e}")))?;
    if doc.format != EXPORT_FORMAT || doc.version != 1 {
        return Err(FieldError::new(
            "format",
            format!(
                "unsupported export format {:?} version {}; expected {EXPORT_FORMAT:?} version 1",
                doc.format, doc.version
            ),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    doc.tasks
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let at = |e: FieldError| FieldError::new(e.field, format!("tasks[{i}]: {}", e.message));
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
            let due = t
                .due
                .map(|d| Due::check("due", d))
                .transpose()
                .map_err(at)?;
            Due::check("created_at", t.created_at.date_naive()).map_err(at)?;
            Due::check("updated_at", t.updated_at.date_naive()).map_err(at)?;
            Ok(ImportedTask {
                id: t.id,
                title: Title::parse(&t.title).map_err(at)?,
                priority: Priority::try_from(t.priority).map_err(at)?,
                completed: t.completed,
                order: t.order,
                due,
                created_at: t.created_at,
                updated_at: t.updated_at,
            })
        })
        .collect()
}

async fn export_tasks(
    State(state): State<AppState>,
    ApiOwner(owner): ApiOwner,
) -> ApiResult<Response> {
    let tasks = state.store.all_tasks(owner).await?;
    let mut response = Json(export_document(tasks)).into_response();
    response.headers_mut().insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"todo-export.json\""),
    );
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
pub struct ImportParams {
    replace: Option<String>,
}

async fn import_tasks(
    State(state): State<AppState>,
    ApiOwner(owner): ApiOwner,
    query: Result<Query<ImportParams>, axum::extract::rejection::QueryRejection>,
    JsonValue(body): JsonValue,
) -> ApiResult<Json<serde_json::Value>> {
    let Query(params) =
        query.map_err(|e| ApiError::BadRequest(format!("bad query string: {e}")))?;
    let replace = match params.replace.as_deref() {
        None | Some("") => false,
        Some(raw) => parse_bool("replace", raw)?,
    };
    let tasks = parse_export_document(body)?;
    let imported = state.store.import_tasks(owner, &tasks, replace).await?;
    Ok(Json(json!({ "imported": imported })))
}
