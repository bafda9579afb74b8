//! What the script gets back instead of a page.
//!
//! After a change, the script needs to know what the view looks like now
//! without being sent the view again: an answer lists the view's tasks as
//! `[id, version, place]` triples in order (`place` names the `<ul>` the
//! row sits in: `data-rows` in `groups.html`), carries the rendered rows of
//! the tasks the change touched, the frame of groups the rows go into
//! (headings, "Show 12 completed", "Show more") and the summary (toggle-all,
//! notes, the bar over the list). The script keeps every row whose version
//! it already has, puts the new ones in, drops the ones that left, and
//! fetches (`/todos/rows`) any it lacks. The same answer, without rows, is
//! `/todos/state`: another tab polls it with `If-None-Match` and gets a 304
//! until something changes.

use std::collections::BTreeMap;

use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::page::{FramePart, GroupView, RowPart, Rows, SummaryPart};
use super::snapshot::{Snapshot, snapshot};
use super::view::View;
use super::{Reader, UiError, UiResult, render_error};
use crate::domain::{FieldError, List, Task, TaskFilter};
use crate::http::AppState;
use crate::http::error::ApiError;

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
    /// The task just created, so the script can turn its placeholder into it.
    pub created: Option<i64>,
    /// Tasks the reader added on this page, kept in view (see `snapshot`).
    pub pinned: Vec<i64>,
}

/// Reads the ids the script lists in a `pinned` field or parameter:
/// comma-separated, at most a page of them; anything else is ignored.
pub fn parse_pinned(raw: Option<&str>) -> Vec<i64> {
    raw.unwrap_or_default()
        .split(',')
        .filter_map(|id| id.trim().parse().ok())
        .filter(|id: &i64| *id > 0)
        .take(View::PAGE as usize)
        .collect()
}

/// What Undo needs to bring deleted tasks back: their ids (the store
/// keeps the tasks themselves, see `db::deleted`).
#[derive(Serialize)]
pub struct Undo {
    pub message: String,
    pub tasks: Vec<i64>,
}

impl Undo {
    /// Undo of deleting `ids`; none when there are too many to send back
    /// in one form.
    pub fn new(message: String, ids: Vec<i64>) -> Option<Self> {
        (ids.len() <= MAX_RESTORED).then_some(Self {
            message,
            tasks: ids,
        })
    }
}

/// The most tasks one Undo brings back: their ids fit in a form well
/// within `BODY_LIMIT`'s default.
const MAX_RESTORED: usize = 5_000;

/// Reads the `tasks` field of an Undo: the ids an `Undo` held.
pub fn parse_undo(raw: &str) -> Result<Vec<i64>, UiError> {
    let invalid = |message: &str| UiError(ApiError::Validation(FieldError::new("tasks", message)));
    let ids: Vec<i64> = serde_json::from_str(raw)
        .map_err(|_| invalid("the tasks to restore are not readable: send their ids"))?;
    if ids.len() > MAX_RESTORED {
        return Err(invalid("too many tasks to restore at once"));
    }
    if ids.iter().any(|id| *id <= 0) {
        return Err(invalid(
            "the tasks to restore are not readable: send their ids",
        ));
    }
    Ok(ids)
}

#[derive(Serialize)]
struct Answer<'a> {
    /// The view's tasks in order, as `[id, version, place]`.
    view: Vec<(i64, i64, String)>,
    /// Rendered rows by id.
    rows: BTreeMap<i64, String>,
    /// The groups the rows go into, without rows.
    frame: String,
    summary: String,
    /// Identifies `view`, `frame` and `summary`: the `ETag` of `/todos/state`.
    state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    undo: Option<&'a Undo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<i64>,
}

/// How the rows of `snapshot` are made for `reader`.
fn rows_of<'a>(
    snapshot: &'a Snapshot,
    reader: &'a Reader,
    list: &'a List,
    view: &'a View,
) -> Rows<'a> {
    Rows {
        view,
        list,
        lists: snapshot.lists.as_deref().unwrap_or_default(),
        clock: &reader.clock,
        added: None,
    }
}

fn render_rows<'a>(
    tasks: impl Iterator<Item = &'a Task>,
    reader: &Reader,
    rows: Rows<'a>,
) -> UiResult<BTreeMap<i64, String>> {
    let return_to = rows.view.url();
    tasks
        .map(|task| {
            let part = RowPart {
                csrf_token: reader.csrf_token.as_deref(),
                view: rows.view,
                return_to: &return_to,
                item: rows.item(task),
            };
            Ok((task.id, part.render().map_err(render_error)?))
        })
        .collect()
}

/// Every task of the snapshot with the place its row goes.
fn placed(snapshot: &Snapshot) -> impl Iterator<Item = (&Task, String)> {
    snapshot.groups.iter().flat_map(|g| {
        g.tasks.iter().map(move |t| (t, g.key.clone())).chain(
            g.pinned
                .iter()
                .map(move |t| (t, format!("{}-pinned", g.key))),
        )
    })
}

struct StateParts {
    view: Vec<(i64, i64, String)>,
    frame: String,
    summary: String,
    tag: String,
}

fn state_parts(snapshot: &Snapshot, reader: &Reader, rows: Rows) -> UiResult<StateParts> {
    let view: Vec<(i64, i64, String)> = placed(snapshot)
        .map(|(t, place)| (t.id, t.version, place))
        .collect();
    let summary = SummaryPart {
        csrf_token: reader.csrf_token.as_deref(),
        summary: &snapshot.summary,
    }
    .render()
    .map_err(render_error)?;
    let return_to = rows.view.url();
    let frame = FramePart {
        csrf_token: reader.csrf_token.as_deref(),
        view: rows.view,
        return_to: &return_to,
        groups: snapshot
            .groups
            .iter()
            .map(|g| GroupView::new(g, rows, &mut None, false))
            .collect(),
        with_rows: false,
    }
    .render()
    .map_err(render_error)?;
    let mut bytes = summary.clone().into_bytes();
    bytes.extend_from_slice(frame.as_bytes());
    for (id, version, place) in &view {
        bytes.extend_from_slice(&id.to_le_bytes());
        bytes.extend_from_slice(&version.to_le_bytes());
        bytes.extend_from_slice(place.as_bytes());
    }
    let tag = format!("\"{:016x}\"", super::assets::fnv1a(&bytes));
    Ok(StateParts {
        view,
        frame,
        summary,
        tag,
    })
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
    let mut pinned = extras.pinned;
    pinned.extend(extras.created);
    let snapshot = snapshot(state, reader, list, view, &pinned).await?;
    let rows = Rows {
        // The task just created is marked as added.
        added: extras.created,
        ..rows_of(&snapshot, reader, list, view)
    };
    let tasks = placed(&snapshot).map(|(t, _)| t);
    let rendered = match &changed {
        Changed::None => BTreeMap::new(),
        Changed::All => render_rows(tasks, reader, rows)?,
        Changed::Ids(ids) => render_rows(tasks.filter(|t| ids.contains(&t.id)), reader, rows)?,
    };
    let parts = state_parts(&snapshot, reader, rows)?;
    let body = Answer {
        view: parts.view,
        rows: rendered,
        frame: parts.frame,
        summary: parts.summary,
        state: parts.tag,
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
    /// Tasks the reader added on this page (see `Extras::pinned`).
    pinned: Option<String>,
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
        let params = params(query);
        let view = View::from_return(params.view.as_deref());
        let pinned = parse_pinned(params.pinned.as_deref());
        let list = reader.open(&state, &view).await?;
        let snapshot = snapshot(&state, &reader, &list, &view, &pinned).await?;
        let parts = state_parts(
            &snapshot,
            &reader,
            rows_of(&snapshot, &reader, &list, &view),
        )?;
        let etag = HeaderValue::from_str(&parts.tag).map_err(|e| {
            ApiError::Internal(anyhow::Error::new(e).context("failed to build the ETag"))
        })?;
        let unchanged = headers
            .get(header::IF_NONE_MATCH)
            .is_some_and(|v| v.as_bytes() == parts.tag.as_bytes());
        let mut response = if unchanged {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let body = Answer {
                view: parts.view,
                rows: BTreeMap::new(),
                frame: parts.frame,
                summary: parts.summary,
                state: parts.tag,
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
/// for the view (rows carry the view in their links).
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
        let pinned = parse_pinned(params.pinned.as_deref());
        let list = reader.open(&state, &view).await?;
        let snapshot = snapshot(&state, &reader, &list, &view, &pinned).await?;
        let rows = render_rows(
            placed(&snapshot)
                .map(|(t, _)| t)
                .filter(|t| wanted.contains(&t.id)),
            &reader,
            rows_of(&snapshot, &reader, &list, &view),
        )?;
        Ok(no_store(
            Json(serde_json::json!({ "rows": rows })).into_response(),
        ))
    };
    reader.finish(result.await)
}
