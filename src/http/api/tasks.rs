//! The handlers of `/api/todos` (the default list), `/api/lists/{list_id}/todos`
//! (any list) and `/api/todos/{id}` (one task, in whichever list).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE, IF_NONE_MATCH, LINK, LOCATION, VARY};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::body::{CompleteAll, NewTaskBody, TaskChangesBody};
use super::pagination::next_page_link;
use super::query::{self, DeleteParams, Deletion, ListParams};
use super::scope::{ListIdParam, ListScope};
use super::view::{TaskView, insert_etag, task_response};
use crate::db::{Need, StoreError};
use crate::domain::{ListId, NewTask, TaskChanges, TaskFilter};
use crate::http::AppState;
use crate::http::auth::ApiOwner;
use crate::http::compression::{self, Coding};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{BaseUrl, JsonBody, Precondition, parse_etag};
use crate::http::list_cache::CachedList;
use crate::http::openapi::responses::*;

#[utoipa::path(
    get,
    path = "/api/todos",
    operation_id = "listTasks",
    tag = "Tasks",
    summary = "List tasks",
    description = "Returns the tasks as a bare JSON array, filtered, searched, sorted and paged \
                   as the query asks. An empty list is `[]`.",
    params(ListParams),
    responses(
        (status = 200, response = inline(TaskPage)),
        (status = 400, response = BadRequest),
        (status = 422, response = ValidationFailed),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    scope: ListScope,
    base: BaseUrl,
    headers: HeaderMap,
    params: Result<Query<ListParams>, QueryRejection>,
) -> ApiResult<Response> {
    let filter = TaskFilter::try_from(query::accept(params)?)?;
    let key = (scope.list, base.0.clone(), filter.clone());
    let list = state
        .list_cache
        .get_or_build(
            || state.store.data_version(),
            key,
            || build_list(&state, scope.list, &base, &filter),
        )
        .await?;
    // Compressed here rather than by the compression layer, so that the
    // cache keeps the compressed body too; the layer passes it through.
    // Like the layer, small bodies go as they are, and do not vary.
    let compressible = list.body.len() >= compression::MIN_SIZE;
    let coding = Coding::preferred(&headers).filter(|_| compressible);
    let mut response = match coding {
        None => list.body.clone().into_response(),
        Some(coding) => {
            let body = list.compressed(coding).await.map_err(|e| {
                ApiError::Internal(anyhow::Error::new(e).context("failed to compress the list"))
            })?;
            ([(CONTENT_ENCODING, coding.header_value())], body).into_response()
        }
    };
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if compressible {
        headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    }
    if let Some(link) = list.link {
        headers.insert(LINK, link);
    }
    Ok(response)
}

/// The list as the database has it now, ready to send.
async fn build_list(
    state: &AppState,
    list: ListId,
    base: &BaseUrl,
    filter: &TaskFilter,
) -> ApiResult<CachedList> {
    let (tasks, has_more) = state.store.list_tasks(list, filter).await?;
    let views: Vec<TaskView> = tasks.iter().map(|t| TaskView::new(t, base)).collect();
    let body = serde_json::to_vec(&views).map_err(|e| {
        ApiError::Internal(anyhow::Error::new(e).context("failed to serialize tasks"))
    })?;
    let link = has_more
        .then(|| HeaderValue::from_str(&next_page_link(base, filter, tasks.len())).ok())
        .flatten();
    Ok(CachedList::new(body.into(), link))
}

#[utoipa::path(
    post,
    path = "/api/todos",
    operation_id = "createTask",
    tag = "Tasks",
    summary = "Create a task",
    description = "Creates a task and returns it with 201, its URL in `Location` and its ETag.",
    request_body(content = NewTaskBody, description = "The task to create."),
    responses(
        (status = 201, response = inline(TaskCreated)),
        (status = 400, response = BadRequest),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    scope: ListScope,
    base: BaseUrl,
    JsonBody(body): JsonBody<NewTaskBody>,
) -> ApiResult<Response> {
    let changes = TaskChanges::try_from(body)?;
    let list = match changes.list {
        Some(named) if named != scope.list => {
            state
                .store
                .require(scope.actor, named, Need::ChangeTasks)
                .await
                .map_err(|err| match err {
                    StoreError::ListNotFound(_) | StoreError::NotAllowed { .. } => {
                        StoreError::TargetList(named.0)
                    }
                    other => other,
                })?;
            named
        }
        _ => {
            scope.may_change_tasks()?;
            scope.list
        }
    };
    let new = NewTask::try_from(changes)?;
    let task = state.store.create_task(list, scope.actor, new).await?;
    let mut response = task_response(StatusCode::CREATED, &task, &base);
    if let Ok(location) = HeaderValue::from_str(&base.task_url(task.id)) {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}

/// The task id in the path. Anything that is not a positive whole number,
/// even bytes that are not UTF-8, is a 404 (no such task) rather than
/// axum's plain-text 400.
#[derive(IntoParams)]
#[into_params(names("id"), parameter_in = Path)]
pub struct TaskId(
    /// The task's id. Anything that is not a positive whole number gets 404.
    #[param(minimum = 1)]
    i64,
);

/// The `If-Match` header that `Precondition` reads, as the document
/// describes it.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // only its description is used
pub struct IfMatch {
    /// Makes the change conditional: one ETag of the task (`"3"` or
    /// `W/"3"`), or `*` for any version. A stale ETag gets 412 and changes
    /// nothing; a value that is not an ETag of this API gets 400.
    #[param(
        rename = "If-Match",
        nullable = false,
        pattern = r#"^[ \t]*(\*|(W/)?"[+-]?[0-9]{1,18}")[ \t]*$"#,
        example = "\"3\""
    )]
    if_match: Option<String>,
}

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

#[utoipa::path(
    get,
    path = "/api/todos/{id}",
    operation_id = "getTask",
    tag = "Tasks",
    summary = "Get one task",
    description = "Returns the task with its ETag. With `If-None-Match` naming the current ETag \
                   (or `*`), answers 304 with no body instead.",
    params(
        TaskId,
        ("If-None-Match" = Option<String>, Header, nullable = false,
            description = "One or more ETags, separated by commas, or `*`. When one names the \
                           task's current version, the answer is 304."),
    ),
    responses(
        (status = 200, response = inline(OneTask)),
        (status = 304, response = inline(NotModified)),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn get(
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

#[utoipa::path(
    patch,
    path = "/api/todos/{id}",
    operation_id = "updateTask",
    tag = "Tasks",
    summary = "Change a task",
    description = "Changes the fields given and returns the whole task with its new ETag. With \
                   `If-Match`, only if the task is still at that version. Any task in a list \
                   the caller owns or edits; `list_id` moves it to another such list. A \
                   viewer of the task's list gets 403.",
    params(TaskId, IfMatch),
    request_body(content = TaskChangesBody, description = "The fields to change."),
    responses(
        (status = 200, response = inline(ChangedTask)),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    ApiOwner(owner): ApiOwner,
    base: BaseUrl,
    TaskId(id): TaskId,
    Precondition(expected): Precondition,
    JsonBody(body): JsonBody<TaskChangesBody>,
) -> ApiResult<Response> {
    let changes = TaskChanges::try_from(body)?;
    let task = state
        .store
        .update_task(owner, id, &changes, expected)
        .await?;
    Ok(task_response(StatusCode::OK, &task, &base))
}

#[utoipa::path(
    delete,
    path = "/api/todos/{id}",
    operation_id = "deleteTask",
    tag = "Tasks",
    summary = "Delete a task",
    description = "Deletes the task. With `If-Match`, only if the task is still at that version. \
                   A viewer of the task's list gets 403. `POST /api/todos/{id}/restore` brings \
                   it back, for `DELETED_RETENTION`.",
    params(TaskId, IfMatch),
    responses(
        (status = 204, description = "The task is gone."),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    ApiOwner(owner): ApiOwner,
    TaskId(id): TaskId,
    Precondition(expected): Precondition,
) -> ApiResult<StatusCode> {
    state.store.delete_task(owner, id, expected).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/todos/{id}/restore",
    operation_id = "restoreTask",
    tag = "Tasks",
    summary = "Bring a deleted task back",
    description = "Puts back a task deleted within `DELETED_RETENTION` (30 days by default), \
                   whoever deleted it, with every field as it was: the same id, list, place, \
                   creator and creation time. Its version goes up by one and `updated_at` is \
                   now. Anyone who may change tasks in its list may (a viewer gets 403, someone \
                   who is no member 404, as for a task that does not exist); a task that is not \
                   deleted gets 409, and so does a full list. Nothing needs to be sent.",
    params(TaskId),
    responses(
        (status = 200, response = inline(OneTask)),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn restore(
    State(state): State<AppState>,
    ApiOwner(owner): ApiOwner,
    base: BaseUrl,
    TaskId(id): TaskId,
) -> ApiResult<Response> {
    let restored = state.store.restore_tasks(owner, &[id]).await?;
    let task = restored
        .first()
        .ok_or_else(|| ApiError::NotFound(format!("task {id} not found")))?;
    Ok(task_response(StatusCode::OK, task, &base))
}

/// `DELETE /api/todos` deletes all; `?completed=true` clears completed only.
#[utoipa::path(
    delete,
    path = "/api/todos",
    operation_id = "deleteTasks",
    tag = "Tasks",
    summary = "Delete all tasks, or the completed ones",
    description = "Deletes every task; with `completed=true`, only the completed ones (\"clear \
                   completed\"). Each can be brought back with `POST /api/todos/{id}/restore` \
                   for `DELETED_RETENTION`.",
    params(DeleteParams),
    responses(
        (status = 204, description = "The tasks are gone."),
        (status = 400, response = BadRequest),
        (status = 422, response = ValidationFailed),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn delete_many(
    State(state): State<AppState>,
    scope: ListScope,
    params: Result<Query<DeleteParams>, QueryRejection>,
) -> ApiResult<StatusCode> {
    let deletion = Deletion::try_from(query::accept(params)?)?;
    scope.may_change_tasks()?;
    match deletion {
        Deletion::All => {
            state
                .store
                .delete_all_tasks(scope.list, scope.actor)
                .await?
        }
        Deletion::Completed => state.store.clear_completed(scope.list, scope.actor).await?,
    };
    Ok(StatusCode::NO_CONTENT)
}

/// `PATCH /api/todos` with `{"completed": bool}` marks every task.
#[utoipa::path(
    patch,
    path = "/api/todos",
    operation_id = "completeAllTasks",
    tag = "Tasks",
    summary = "Complete or reopen every task",
    description = "Sets `completed` on every task at once, as the \"mark all as complete\" \
                   toggle of a todo list does. Only `{\"completed\": true}` or \
                   `{\"completed\": false}` is accepted.",
    request_body(content = CompleteAll, description = "The state to give every task."),
    responses(
        (status = 200, description = "How many tasks changed.", body = Updated),
        (status = 400, response = BadRequest),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn update_all(
    State(state): State<AppState>,
    scope: ListScope,
    JsonBody(CompleteAll { completed }): JsonBody<CompleteAll>,
) -> ApiResult<Json<Updated>> {
    scope.may_change_tasks()?;
    let updated = state
        .store
        .set_all_completed(scope.list, scope.actor, completed)
        .await?;
    Ok(Json(Updated { updated }))
}

/// What `PATCH /api/todos` answers.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Updated {
    /// How many tasks changed; tasks that already had the state are not
    /// counted.
    #[schema(minimum = 0)]
    updated: u64,
}

// The same collection routes on a list named in the path. Each is the
// handler above; these exist to describe the routes in the document.

#[utoipa::path(
    get,
    path = "/api/lists/{list_id}/todos",
    operation_id = "listTasksInList",
    tag = "Lists",
    summary = "List the tasks of a list",
    description = "As `GET /api/todos`, for a list the caller owns or is a member of.",
    params(ListIdParam, ListParams),
    responses(
        (status = 200, response = inline(TaskPage)),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn list_in(
    state: State<AppState>,
    scope: ListScope,
    base: BaseUrl,
    headers: HeaderMap,
    params: Result<Query<ListParams>, QueryRejection>,
) -> ApiResult<Response> {
    list(state, scope, base, headers, params).await
}

#[utoipa::path(
    post,
    path = "/api/lists/{list_id}/todos",
    operation_id = "createTaskInList",
    tag = "Lists",
    summary = "Create a task in a list",
    description = "As `POST /api/todos`, in a list the caller owns or edits; a viewer gets 403.",
    params(ListIdParam),
    request_body(content = NewTaskBody, description = "The task to create."),
    responses(
        (status = 201, response = inline(TaskCreated)),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn create_in(
    state: State<AppState>,
    scope: ListScope,
    base: BaseUrl,
    body: JsonBody<NewTaskBody>,
) -> ApiResult<Response> {
    create(state, scope, base, body).await
}

#[utoipa::path(
    delete,
    path = "/api/lists/{list_id}/todos",
    operation_id = "deleteTasksInList",
    tag = "Lists",
    summary = "Delete the tasks of a list, or its completed ones",
    description = "As `DELETE /api/todos`, in a list the caller owns or edits; a viewer gets 403.",
    params(ListIdParam, DeleteParams),
    responses(
        (status = 204, description = "The tasks are gone."),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 422, response = ValidationFailed),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn delete_many_in(
    state: State<AppState>,
    scope: ListScope,
    params: Result<Query<DeleteParams>, QueryRejection>,
) -> ApiResult<StatusCode> {
    delete_many(state, scope, params).await
}

#[utoipa::path(
    patch,
    path = "/api/lists/{list_id}/todos",
    operation_id = "completeAllTasksInList",
    tag = "Lists",
    summary = "Complete or reopen every task of a list",
    description = "As `PATCH /api/todos`, in a list the caller owns or edits; a viewer gets 403.",
    params(ListIdParam),
    request_body(content = CompleteAll, description = "The state to give every task."),
    responses(
        (status = 200, description = "How many tasks changed.", body = Updated),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn update_all_in(
    state: State<AppState>,
    scope: ListScope,
    body: JsonBody<CompleteAll>,
) -> ApiResult<Json<Updated>> {
    update_all(state, scope, body).await
}
