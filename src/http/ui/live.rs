//! What the script gets back instead of a page.
//!
//! After a change, the script needs to know what the view looks like now
//! without being sent the view again: an answer lists the view's tasks as
//! `[id, version]` pairs in order, carries the rendered rows of the tasks the
//! change touched, and the summary (toggle-all, notes, footer, first-run
//! hint). The script keeps every row whose version it already has, puts the
//! new ones in, drops the ones that left, and fetches (`/todos/rows`) any it
//! lacks. The same answer, without rows, is `/todos/state`: another tab
//! polls it with `If-None-Match` and gets a 304 until something changes.

use std::collections::BTreeMap;

use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::page::{Access, Item, RowPart, Summary, SummaryPart};
use super::view::View;
use super::{Reader, UiError, UiResult, render_error};
use crate::domain::{FieldError, List, NewTask, Task, TaskFilter};
use crate::http::AppState;
use crate::http::error::ApiError;

/// What the view shows, read once per answer.
pub struct Snapshot {
    pub tasks: Vec<Task>,
    pub summary: Summary,
}

/// Reads the view's tasks and the counts the page shows for it, from
/// `list` (which the reader has opened: see `Reader::open`).
pub async fn snapshot(state: &AppState, list: &List, view: &View) -> UiResult<Snapshot> {
    let editable = list.role.may_change_tasks();
    let list = list.id;
    let filter = view.task_filter();
    let ((tasks, truncated), all) = tokio::try_join!(
        state.store.list_tasks(list, &filter),
        state.store.count_tasks(list, None)
    )?;
    // The counter counts what the search matches, under every filter.
    let matching = match &view.query {
        None => all,
        Some(query) => state.store.count_tasks(list, Some(query)).await?,
    };
    let summary = Summary::new(view, all, matching, tasks.len(), truncated, editable);
    Ok(Snapshot { tasks, summary })
}

/// Which rows an answer carries.
pub enum Changed {
    None,
    Ids(Vec<i64>),
    All,
}

#[derive(Default)]
pub struct Extras {
    /// For the live region: what happened, in words.
    pub message: Option<String>,
    pub undo: Option<Undo>,
    /// The task just created, so the script can swap it for its placeholder.
    pub created: Option<i64>,
}

/// Enough to create deleted tasks again as they were.
#[derive(Serialize)]
pub struct Undo {
    pub message: String,
    pub tasks: Vec<Value>,
}

impl Undo {
    pub fn new(message: String, tasks: &[Task]) -> Self {
        let tasks = tasks
            .iter()
            .map(|t| {
                serde_json::json!({
                    "title": t.title,
                    "priority": t.priority,
                    "completed": t.completed,
                    "order": t.order,
                    "due": t.due,
                })
            })
            .collect();
        Self { message, tasks }
    }
}

/// The most tasks one Undo brings back: one page of the list.
const MAX_RESTORED: usize = TaskFilter::MAX_LIMIT as usize;

/// Reads the `tasks` field of an Undo: the array an `Undo` held.
pub fn parse_undo(raw: &str) -> Result<Vec<NewTask>, UiError> {
    let invalid = |message: &str| UiError(ApiError::Validation(FieldError::new("tasks", message)));
    let value: Value =
        serde_json::from_str(raw).map_err(|_| invalid("the tasks to restore are not readable"))?;
    let items = value
        .as_array()
        .ok_or_else(|| invalid("the tasks to restore must be a list"))?;
    if items.len() > MAX_RESTORED {
        return Err(invalid("too many tasks to restore at once"));
    }
    items
        .iter()
        .map(|item| {
            let object = item
                .as_object()
                .ok_or_else(|| invalid("each task to restore must be an object"))?;
            NewTask::try_from(object).map_err(|e| UiError(e.into()))
        })
        .collect()
}

#[derive(Serialize)]
struct Answer<'a> {
    /// The view's tasks in order, as `[id, version]`.
    view: Vec<[i64; 2]>,
    /// Rendered rows by id.
    rows: BTreeMap<i64, String>,
    summary: String,
    /// Identifies `view` and `summary`: the `ETag` of `/todos/state`.
    state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    undo: Option<&'a Undo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<i64>,
}

fn render_rows<'a>(
    tasks: impl Iterator<Item = &'a Task>,
    reader: &Reader,
    view: &View,
    access: Access,
) -> UiResult<BTreeMap<i64, String>> {
    let return_to = view.url();
    tasks
        .map(|task| {
            let part = RowPart {
                csrf_token: reader.csrf_token.as_deref(),
                view,
                return_to: &return_to,
                item: Item::new(task, &reader.clock, view, access),
            };
            Ok((task.id, part.render().map_err(render_error)?))
        })
        .collect()
}

fn state_parts(snapshot: &Snapshot, reader: &Reader) -> UiResult<(Vec<[i64; 2]>, String, String)> {
    let view: Vec<[i64; 2]> = snapshot.tasks.iter().map(|t| [t.id, t.version]).collect();
    let summary = SummaryPart {
        csrf_token: reader.csrf_token.as_deref(),
        summary: &snapshot.summary,
    }
    .render()
    .map_err(render_error)?;
    let mut bytes = summary.clone().into_bytes();
    for [id, version] in &view {
        bytes.extend_from_slice(&id.to_le_bytes());
        bytes.extend_from_slice(&version.to_le_bytes());
    }
    let tag = format!("\"{:016x}\"", super::assets::fnv1a(&bytes));
    Ok((view, summary, tag))
}

/// The answer to a change the script made.
pub async fn answer(
    state: &AppState,
    reader: &Reader,
    list: &List,
    view: &View,
    changed: Changed,
    extras: Extras,
) -> UiResult {
    let snapshot = snapshot(state, list, view).await?;
    let access = Access::of(list);
    let rows = match &changed {
        Changed::None => BTreeMap::new(),
        Changed::All => render_rows(snapshot.tasks.iter(), reader, view, access)?,
        Changed::Ids(ids) => render_rows(
            snapshot.tasks.iter().filter(|t| ids.contains(&t.id)),
            reader,
            view,
            access,
        )?,
    };
    let (view_ids, summary, tag) = state_parts(&snapshot, reader)?;
    let body = Answer {
        view: view_ids,
        rows,
        summary,
        state: tag,
        message: extras.message,
        undo: extras.undo.as_ref(),
        created: extras.created,
    };
    Ok(no_store(Json(body).into_response()))
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[derive(Debug, Default, Deserialize)]
pub struct StateParams {
    /// The view's URL, as in a form's `return` field.
    view: Option<String>,
    /// Comma-separated task ids (`/todos/rows`).
    ids: Option<String>,
}

type StateQuery = Result<Query<StateParams>, axum::extract::rejection::QueryRejection>;

fn params(query: StateQuery) -> StateParams {
    query.map(|Query(p)| p).unwrap_or_default()
}

/// `GET /todos/state?view=URL`: the view's tasks and summary, for another
/// tab to notice changes. Cheap when nothing changed: a 304.
pub async fn state(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    query: StateQuery,
) -> Response {
    let result = async {
        let view = View::from_return(params(query).view.as_deref());
        let list = reader.open(&state, &view).await?;
        let snapshot = snapshot(&state, &list, &view).await?;
        let (view_ids, summary, tag) = state_parts(&snapshot, &reader)?;
        let etag = HeaderValue::from_str(&tag).map_err(|e| {
            ApiError::Internal(anyhow::Error::new(e).context("failed to build the ETag"))
        })?;
        let unchanged = headers
            .get(header::IF_NONE_MATCH)
            .is_some_and(|v| v.as_bytes() == tag.as_bytes());
        let mut response = if unchanged {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let body = Answer {
                view: view_ids,
                rows: BTreeMap::new(),
                summary,
                state: tag,
                message: None,
                undo: None,
                created: None,
            };
            Json(body).into_response()
        };
        response.headers_mut().insert(header::ETAG, etag);
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        Ok(response)
    };
    reader.finish(result.await)
}

/// The most rows one `/todos/rows` request renders.
const MAX_ROWS: usize = TaskFilter::MAX_LIMIT as usize;

/// `GET /todos/rows?view=URL&ids=1,2`: the rows the script lacks, rendered
/// for the view (rows carry the view in their forms).
pub async fn rows(State(state): State<AppState>, reader: Reader, query: StateQuery) -> Response {
    let result = async {
        let params = params(query);
        let view = View::from_return(params.view.as_deref());
        let wanted: std::collections::HashSet<i64> = params
            .ids
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter_map(|id| id.trim().parse().ok())
            .take(MAX_ROWS)
            .collect();
        let list = reader.open(&state, &view).await?;
        let (tasks, _) = state.store.list_tasks(list.id, &view.task_filter()).await?;
        let rows = render_rows(
            tasks.iter().filter(|t| wanted.contains(&t.id)),
            &reader,
            &view,
            Access::of(&list),
        )?;
        Ok(no_store(
            Json(serde_json::json!({ "rows": rows })).into_response(),
        ))
    };
    reader.finish(result.await)
}
