//! The server-rendered web UI at `/`, shaped like TodoMVC so the page is
//! familiar and its tooling works against it.
//!
//! Every action is a plain HTML form that POSTs and is answered with a 303
//! back to the view the user was on, so the whole app works without
//! JavaScript. `assets/app.js` then takes the same forms over: it changes
//! the page at once, posts the form with `fetch`, and the same handler
//! answers with just what changed (`live`): the affected rows, rendered by
//! the same templates, and the parts that follow from all tasks. The server
//! stays the one place that knows how a task looks, in what order, under
//! which filter. (Rendering in the browser too would mean two copies of
//! every template.)

/// Embedded CSS, JavaScript, icon and manifest under content-hashed URLs.
mod assets;
/// The reader's "today" and date order.
mod clock;
/// What the script gets back: changed rows, the summary, Undo.
mod live;
/// View models and the compiled templates.
mod page;
/// Filters, sort and search as URLs; the parsing of `return` fields.
mod view;

use askama::Template;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::AppState;
use super::api::parse_bool;
use super::auth::{Caller, PageCsrfToken, PageForm};
use super::error::ApiError;
use crate::db::StoreError;
use crate::domain::{
    Due, FieldError, NewTask, Owner, Priority, SortOrder, Task, TaskChanges, TaskFilter, Title,
};
pub(crate) use assets::{ASSETS, Assets};
use clock::Clock;
use live::{Changed, Extras};
pub(crate) use page::sentence;
use page::{ConfirmPage, EditForm, FormState, MessagePage, Page};
use view::{Filter, View, ViewParams};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(show_all))
        .route("/active", get(show_active))
        .route("/completed", get(show_completed))
        .route("/todos", post(create))
        .route("/todos/toggle-all", post(toggle_all))
        .route("/todos/clear-completed", post(clear_completed))
        .route("/todos/restore", post(restore))
        .route("/todos/state", get(live::state))
        .route("/todos/rows", get(live::rows))
        .route("/todos/{id}/toggle", post(toggle))
        .route("/todos/{id}/edit", post(edit))
        .route("/todos/{id}/delete", post(delete))
        .route("/todos/{id}/move", post(move_task))
        .route("/assets/{file}", get(assets::serve))
        .route("/manifest.webmanifest", get(assets::manifest))
        .route("/favicon.ico", get(assets::favicon))
}

/// Pages also carry the security headers of `http::headers`, set around
/// the whole router.
pub(crate) fn html_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, Html(body)).into_response();
    // The list changes with every action: always revalidate.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Errors of UI routes: the API's error, shown as a page instead of JSON.
pub struct UiError(ApiError);

impl<E: Into<ApiError>> From<E> for UiError {
    fn from(err: E) -> Self {
        Self(err.into())
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        self.0.log();
        let status = self.0.status();
        let heading = status.canonical_reason().unwrap_or("Error");
        let message = match &self.0 {
            ApiError::Validation(e) => e.message.clone(),
            other => other.public_message(),
        };
        message_page(status, heading, &page::sentence(&message))
    }
}

type UiResult<T = Response> = Result<T, UiError>;

/// Who is asking: a browser following a form (HTML pages and redirects), or
/// the script, which asks for JSON and gets only what changed; and whose
/// list it is. Visitors who are not signed in are sent to the login page
/// (the script gets the API's 401).
#[derive(Debug, Clone)]
pub struct Reader {
    pub clock: Clock,
    pub script: bool,
    pub owner: Owner,
    /// What the page's forms carry to prove they are ours (accounts mode).
    pub csrf_token: Option<String>,
    pub username: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Reader {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let script = parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("application/json"));
        let Ok(caller) = Caller::from_request_parts(parts, state).await;
        let csrf_token = parts
            .extensions
            .get::<PageCsrfToken>()
            .and_then(|t| t.0.clone());
        let Some(owner) = caller.owner() else {
            return Err(match caller {
                _ if script => caller.refusal().into_response(),
                Caller::Unverified(_) => UiError(caller.refusal()).into_response(),
                _ => Redirect::to("/login").into_response(),
            });
        };
        Ok(Self {
            clock: Clock::from_headers(&parts.headers),
            script,
            owner,
            csrf_token,
            username: caller.username().map(str::to_owned),
        })
    }
}

impl Reader {
    /// The script reads errors as the API's JSON; a browser gets a page.
    fn finish(&self, result: UiResult) -> Response {
        match result {
            Ok(response) => response,
            Err(UiError(err)) if self.script => err.into_response(),
            Err(err) => err.into_response(),
        }
    }
}

pub(crate) fn message_page(status: StatusCode, heading: &str, message: &str) -> Response {
    let page = MessagePage {
        assets: &ASSETS,
        heading,
        message,
    };
    match page.render() {
        Ok(body) => html_response(status, body),
        Err(err) => {
            tracing::error!(error = %err, "failed to render the message page");
            (status, heading.to_owned()).into_response()
        }
    }
}

pub fn not_found_page() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is nothing at this address.",
    )
}

fn render_error(err: askama::Error) -> ApiError {
    ApiError::Internal(anyhow::Error::new(err).context("failed to render the page"))
}

// ---- Pages ----------------------------------------------------------------

type ParamsResult = Result<Query<ViewParams>, QueryRejection>;

async fn show_all(State(state): State<AppState>, reader: Reader, params: ParamsResult) -> UiResult {
    show(state, reader, Filter::All, params).await
}

async fn show_active(
    State(state): State<AppState>,
    reader: Reader,
    params: ParamsResult,
) -> UiResult {
    show(state, reader, Filter::Active, params).await
}

async fn show_completed(
    State(state): State<AppState>,
    reader: Reader,
    params: ParamsResult,
) -> UiResult {
    show(state, reader, Filter::Completed, params).await
}

async fn show(state: AppState, reader: Reader, filter: Filter, params: ParamsResult) -> UiResult {
    // A malformed query string still shows the list, unfiltered.
    let params = params.map(|Query(p)| p).unwrap_or_default();
    let view = View::new(filter, &params);
    // `?edit=ID` is the edit page for browsers without JavaScript.
    let edit = match params.edit.as_deref().and_then(|raw| raw.parse().ok()) {
        Some(id) => match state.store.get_task(reader.owner, id).await {
            Ok(task) => Some(EditForm {
                id,
                form: FormState {
                    title: task.title.into(),
                    priority: Some(task.priority),
                    due: task.due.map(|d| d.to_string()).unwrap_or_default(),
                    errors: Vec::new(),
                },
            }),
            Err(StoreError::NotFound(_)) => None,
            Err(err) => return Err(err.into()),
        },
        None => None,
    };
    render(
        &state,
        &reader,
        &view,
        FormState::default(),
        edit,
        StatusCode::OK,
    )
    .await
}

async fn render(
    state: &AppState,
    reader: &Reader,
    view: &View,
    new_todo: FormState,
    edit: Option<EditForm>,
    status: StatusCode,
) -> UiResult {
    let snapshot = live::snapshot(state, reader.owner, view).await?;
    let mut page = Page::new(
        &ASSETS,
        view,
        &snapshot.tasks,
        snapshot.summary,
        new_todo,
        edit,
        &reader.clock,
    );
    page.csrf_token = reader.csrf_token.as_deref();
    page.username = reader.username.as_deref();
    let body = page.render().map_err(render_error)?;
    Ok(html_response(status, body))
}

/// "Delete this?": the no-JavaScript stand-in for Undo.
fn confirm_page(page: ConfirmPage) -> UiResult {
    let body = page.render().map_err(render_error)?;
    Ok(html_response(StatusCode::OK, body))
}

// ---- Actions --------------------------------------------------------------

/// The fields of every form, as strings: each action parses what it needs,
/// so a bad value gets our own message next to the form, not a bare 400.
#[derive(Debug, Default, Deserialize)]
struct Fields {
    title: Option<String>,
    priority: Option<String>,
    due: Option<String>,
    completed: Option<String>,
    #[serde(rename = "return")]
    return_to: Option<String>,
    /// `yes`: the user has confirmed a deletion (or can undo it).
    confirm: Option<String>,
    /// Moves: `up` or `down`, or `before` another task (empty: to the end).
    direction: Option<String>,
    before: Option<String>,
    /// Undo: the deleted tasks, as the JSON the deletion answered with.
    tasks: Option<String>,
}

impl Fields {
    fn view(&self) -> View {
        View::from_return(self.return_to.as_deref())
    }

    fn confirmed(&self) -> bool {
        self.confirm.as_deref() == Some("yes")
    }

    /// The form as sent, to show it again with `errors`.
    fn rejected(self, errors: Vec<FieldError>) -> FormState {
        FormState {
            priority: self
                .priority
                .as_deref()
                .and_then(|p| Priority::parse(p).ok()),
            title: self.title.unwrap_or_default(),
            due: self.due.unwrap_or_default(),
            errors,
        }
    }

    fn priority(&self) -> Result<Option<Priority>, FieldError> {
        match self.priority.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(raw) => Priority::parse(raw).map(Some),
        }
    }

    /// `None`: leave the due date alone; `Some(None)`: clear it.
    fn due(&self) -> Result<Option<Option<chrono::NaiveDate>>, FieldError> {
        self.due.as_deref().map(Due::parse).transpose()
    }

    fn completed(&self) -> Result<Option<bool>, FieldError> {
        self.completed
            .as_deref()
            .map(|raw| parse_bool("completed", raw))
            .transpose()
    }
}

/// Every action's form: read once, its CSRF token checked (`PageForm`).
type FieldsResult = PageForm<Fields>;

fn fields(PageForm(form): FieldsResult) -> UiResult<Fields> {
    Ok(form)
}

fn back_to(view: &View) -> Response {
    Redirect::to(&view.url()).into_response()
}

/// Task ids in paths; anything else is no task at all.
fn task_id(raw: &str) -> UiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| UiError(ApiError::NotFound("there is no such task".to_owned())))
}

/// Runs every parser so the user sees all problems at once.
fn collect<A, B, C>(
    a: Result<A, FieldError>,
    b: Result<B, FieldError>,
    c: Result<C, FieldError>,
) -> Result<(A, B, C), Vec<FieldError>> {
    match (a, b, c) {
        (Ok(a), Ok(b), Ok(c)) => Ok((a, b, c)),
        (a, b, c) => Err([a.err(), b.err(), c.err()].into_iter().flatten().collect()),
    }
}

/// All of a form's problems as one error for the script, named after the
/// first field so the script can mark it.
fn joined(errors: Vec<FieldError>) -> UiError {
    let field = errors.first().map_or("body", |e| e.field);
    let message = errors
        .iter()
        .map(|e| page::sentence(&e.message))
        .collect::<Vec<_>>()
        .join(" ");
    UiError(ApiError::Validation(FieldError::new(field, message)))
}

async fn create(State(state): State<AppState>, reader: Reader, form: FieldsResult) -> Response {
    let result = async {
        let form = fields(form)?;
        let view = form.view();
        let parsed = collect(
            Title::parse(form.title.as_deref().unwrap_or_default()),
            form.priority(),
            form.due(),
        );
        match parsed {
            Ok((title, priority, due)) => {
                let mut new = NewTask::new(title);
                new.priority = priority.unwrap_or_default();
                new.due = due.flatten();
                let task = state.store.create_task(reader.owner, new).await?;
                if !reader.script {
                    return Ok(back_to(&view));
                }
                let extras = Extras {
                    created: Some(task.id),
                    message: Some(format!("Added “{}”.", task.title)),
                    ..Extras::default()
                };
                live::answer(&state, &reader, &view, Changed::Ids(vec![task.id]), extras).await
            }
            Err(errors) if reader.script => Err(joined(errors)),
            Err(errors) => {
                let new_todo = form.rejected(errors);
                render(
                    &state,
                    &reader,
                    &view,
                    new_todo,
                    None,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
        }
    };
    reader.finish(result.await)
}

/// Saves an edit. As in TodoMVC, an empty title deletes the task.
async fn edit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    reader: Reader,
    form: FieldsResult,
) -> Response {
    let result = async {
        let id = task_id(&id)?;
        let form = fields(form)?;
        let view = form.view();
        let title = form.title.as_deref().unwrap_or_default();
        if title.trim().is_empty() {
            return remove(&state, &reader, id, &form).await;
        }
        match collect(Title::parse(title), form.priority(), form.due()) {
            Ok((title, priority, due)) => {
                let changes = TaskChanges {
                    title: Some(title),
                    priority,
                    due,
                    ..TaskChanges::default()
                };
                let task = state
                    .store
                    .update_task(reader.owner, id, &changes, None)
                    .await?;
                if !reader.script {
                    return Ok(back_to(&view));
                }
                let extras = Extras {
                    message: Some(format!("Saved “{}”.", task.title)),
                    ..Extras::default()
                };
                live::answer(&state, &reader, &view, Changed::Ids(vec![id]), extras).await
            }
            Err(errors) if reader.script => Err(joined(errors)),
            Err(errors) => {
                let edit = EditForm {
                    id,
                    form: form.rejected(errors),
                };
                render(
                    &state,
                    &reader,
                    &view,
                    FormState::default(),
                    Some(edit),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
        }
    };
    reader.finish(result.await)
}

/// Sets `completed` as sent; without a value, flips it.
async fn toggle(
    State(state): State<AppState>,
    Path(id): Path<String>,
    reader: Reader,
    form: FieldsResult,
) -> Response {
    let result = async {
        let id = task_id(&id)?;
        let form = fields(form)?;
        let completed = match form.completed()? {
            Some(completed) => completed,
            None => !state.store.get_task(reader.owner, id).await?.completed,
        };
        let changes = TaskChanges {
            completed: Some(completed),
            ..TaskChanges::default()
        };
        let task = state
            .store
            .update_task(reader.owner, id, &changes, None)
            .await?;
        let view = form.view();
        if !reader.script {
            return Ok(back_to(&view));
        }
        let message = if completed {
            format!("“{}” done.", task.title)
        } else {
            format!("“{}” not done.", task.title)
        };
        let extras = Extras {
            message: Some(message),
            ..Extras::default()
        };
        live::answer(&state, &reader, &view, Changed::Ids(vec![id]), extras).await
    };
    reader.finish(result.await)
}

async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    reader: Reader,
    form: FieldsResult,
) -> Response {
    let result = async {
        let id = task_id(&id)?;
        let form = fields(form)?;
        remove(&state, &reader, id, &form).await
    };
    reader.finish(result.await)
}

/// Deletes one task: at once for the script, which offers Undo with the
/// task as it was; after a confirmation page for a plain form.
///
/// Deleting what is already gone (a double click, another tab) is no error
/// worth a page of its own: the list the user returns to shows it is gone.
async fn remove(state: &AppState, reader: &Reader, id: i64, form: &Fields) -> UiResult {
    let view = form.view();
    // The version read here is the one deleted, so Undo restores exactly
    // what went; a change in between makes us read it again.
    let mut attempts = 0;
    let task = loop {
        let task = match state.store.get_task(reader.owner, id).await {
            Ok(task) => task,
            Err(StoreError::NotFound(_)) => return gone(state, reader, &view).await,
            Err(err) => return Err(err.into()),
        };
        if !reader.script && !form.confirmed() {
            return confirm_page(ConfirmPage {
                assets: &ASSETS,
                csrf_token: reader.csrf_token.as_deref(),
                heading: format!("Delete “{}”?", task.title),
                titles: Vec::new(),
                action: format!("/todos/{id}/delete"),
                return_to: view.url(),
                button: "Delete",
                keep: "Keep it",
            });
        }
        match state
            .store
            .delete_task(reader.owner, id, Some(task.version))
            .await
        {
            Ok(()) => break task,
            Err(StoreError::NotFound(_)) => return gone(state, reader, &view).await,
            Err(StoreError::VersionMismatch { .. }) if attempts < 3 => attempts += 1,
            Err(err) => return Err(err.into()),
        }
    };
    if !reader.script {
        return Ok(back_to(&view));
    }
    let extras = Extras {
        message: Some(format!("Deleted “{}”.", task.title)),
        undo: Some(live::Undo::new(
            format!("Deleted “{}”.", task.title),
            &[task],
        )),
        ..Extras::default()
    };
    live::answer(state, reader, &view, Changed::None, extras).await
}

/// The answer when the task to delete was gone already.
async fn gone(state: &AppState, reader: &Reader, view: &View) -> UiResult {
    if reader.script {
        live::answer(state, reader, view, Changed::None, Extras::default()).await
    } else {
        Ok(back_to(view))
    }
}

/// Marks every task done, or every task active again. Without a value:
/// done, unless everything already is (what the checkbox would do).
async fn toggle_all(State(state): State<AppState>, reader: Reader, form: FieldsResult) -> Response {
    let result = async {
        let form = fields(form)?;
        let completed = match form.completed()? {
            Some(completed) => completed,
            None => state.store.count_tasks(reader.owner, None).await?.active > 0,
        };
        state
            .store
            .set_all_completed(reader.owner, completed)
            .await?;
        let view = form.view();
        if !reader.script {
            return Ok(back_to(&view));
        }
        let message = if completed {
            "All tasks done."
        } else {
            "All tasks not done."
        };
        let extras = Extras {
            message: Some(message.to_owned()),
            ..Extras::default()
        };
        live::answer(&state, &reader, &view, Changed::All, extras).await
    };
    reader.finish(result.await)
}

async fn clear_completed(
    State(state): State<AppState>,
    reader: Reader,
    form: FieldsResult,
) -> Response {
    let result = async {
        let form = fields(form)?;
        let view = form.view();
        let done = TaskFilter {
            completed: Some(true),
            ..TaskFilter::default()
        };
        // What Undo brings back. (A task completed elsewhere between this
        // read and the delete is cleared without an Undo of its own.)
        let (tasks, _) = state.store.list_tasks(reader.owner, &done).await?;
        if tasks.is_empty() {
            return if reader.script {
                live::answer(&state, &reader, &view, Changed::None, Extras::default()).await
            } else {
                Ok(back_to(&view))
            };
        }
        if !reader.script && !form.confirmed() {
            let heading = match tasks.len() {
                1 => "Delete 1 completed task?".to_owned(),
                n => format!("Delete {n} completed tasks?"),
            };
            return confirm_page(ConfirmPage {
                assets: &ASSETS,
                csrf_token: reader.csrf_token.as_deref(),
                heading,
                titles: tasks.iter().map(|t| t.title.as_str()).collect(),
                action: "/todos/clear-completed".to_owned(),
                return_to: view.url(),
                button: "Delete",
                keep: if tasks.len() == 1 {
                    "Keep it"
                } else {
                    "Keep them"
                },
            });
        }
        state.store.clear_completed(reader.owner).await?;
        if !reader.script {
            return Ok(back_to(&view));
        }
        let message = match tasks.len() {
            1 => "Cleared 1 completed task.".to_owned(),
            n => format!("Cleared {n} completed tasks."),
        };
        let extras = Extras {
            message: Some(message.clone()),
            undo: Some(live::Undo::new(message, &tasks)),
            ..Extras::default()
        };
        live::answer(&state, &reader, &view, Changed::None, extras).await
    };
    reader.finish(result.await)
}

/// Undo: creates the deleted tasks again with their title, priority, due
/// date, place in the list and state.
async fn restore(State(state): State<AppState>, reader: Reader, form: FieldsResult) -> Response {
    let result = async {
        let form = fields(form)?;
        let view = form.view();
        let tasks = live::parse_undo(form.tasks.as_deref().unwrap_or_default())?;
        // The creates run in tasks of their own: this request is writing.
        crate::db::note_write();
        let mut created = tokio::task::JoinSet::new();
        for new in tasks {
            let store = state.store.clone();
            let owner = reader.owner;
            // Concurrent creates share commits (see `group_commit`).
            created.spawn(async move { store.create_task(owner, new).await });
        }
        let mut ids = Vec::new();
        while let Some(joined) = created.join_next().await {
            let task = joined.map_err(|e| {
                ApiError::Internal(anyhow::Error::new(e).context("restore failed"))
            })??;
            ids.push(task.id);
        }
        if !reader.script {
            return Ok(back_to(&view));
        }
        let message = match ids.len() {
            1 => "Restored 1 task.".to_owned(),
            n => format!("Restored {n} tasks."),
        };
        let extras = Extras {
            message: Some(message),
            ..Extras::default()
        };
        live::answer(&state, &reader, &view, Changed::Ids(ids), extras).await
    };
    reader.finish(result.await)
}

/// Moves a task up or down in the user's own order, or before another one
/// (drag and drop). The list's `order` values are handed out again in the
/// new sequence, so only the tasks between the old and the new place change.
async fn move_task(
    State(state): State<AppState>,
    Path(id): Path<String>,
    reader: Reader,
    form: FieldsResult,
) -> Response {
    let result = async {
        let id = task_id(&id)?;
        let form = fields(form)?;
        let view = form.view();
        if view.sort != SortOrder::Order {
            return Err(UiError(ApiError::Validation(FieldError::new(
                "sort",
                "tasks can only be moved in your own order; choose “Your order” to sort by it",
            ))));
        }
        // A move reads the order and writes it back in several updates; two
        // moves in quick succession (arrow keys held down) must not both
        // start from the same reading, or one of them is lost. Within this
        // process the moves on one list take turns; other lists go on.
        let _turn = state.moves.take(reader.owner).await;
        let (tasks, _) = state
            .store
            .list_tasks(reader.owner, &view.task_filter())
            .await?;
        let target = match (form.direction.as_deref(), form.before.as_deref()) {
            (Some("up"), _) => Target::Up,
            (Some("down"), _) => Target::Down,
            (_, Some("")) => Target::End,
            (_, Some(raw)) => Target::Before(task_id(raw)?),
            _ => {
                return Err(UiError(ApiError::Validation(FieldError::new(
                    "direction",
                    "say where to move the task: up, down or before another task",
                ))));
            }
        };
        let Some(moves) = reorder(&tasks, id, target) else {
            return Err(UiError(ApiError::NotFound(
                "that task is no longer in this list".to_owned(),
            )));
        };
        let mut changed = Vec::new();
        for (task_id, order) in moves {
            let changes = TaskChanges {
                order: Some(order),
                ..TaskChanges::default()
            };
            state
                .store
                .update_task(reader.owner, task_id, &changes, None)
                .await?;
            changed.push(task_id);
        }
        if !reader.script {
            // Back to the task's edit form, where the move buttons are.
            return Ok(Redirect::to(&view.edit_url(id)).into_response());
        }
        live::answer(
            &state,
            &reader,
            &view,
            Changed::Ids(changed),
            Extras::default(),
        )
        .await
    };
    reader.finish(result.await)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Up,
    Down,
    Before(i64),
    End,
}

/// The new `order` of each task that has to change for `id` to move to
/// `target`; `None` if `id` is not in `tasks` (which are in list order).
fn reorder(tasks: &[Task], id: i64, target: Target) -> Option<Vec<(i64, i64)>> {
    let from = tasks.iter().position(|t| t.id == id)?;
    let mut ids: Vec<i64> = tasks.iter().map(|t| t.id).collect();
    ids.remove(from);
    let to = match target {
        Target::Up => from.saturating_sub(1),
        Target::Down => (from + 1).min(ids.len()),
        Target::End => ids.len(),
        Target::Before(other) => ids.iter().position(|i| *i == other).unwrap_or(ids.len()),
    };
    ids.insert(to, id);
    // The same values in the new sequence, made strictly increasing where
    // equal values (from imports) would leave the order to the ids.
    let mut orders: Vec<i64> = tasks.iter().map(|t| t.order).collect();
    for k in 1..orders.len() {
        if orders[k] <= orders[k - 1] {
            orders[k] = orders[k - 1] + 1;
        }
    }
    let current = |id: i64| tasks.iter().find(|t| t.id == id).map(|t| t.order);
    Some(
        ids.into_iter()
            .zip(orders)
            .filter(|(id, order)| current(*id) != Some(*order))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tasks(orders: &[(i64, i64)]) -> Vec<Task> {
        let now = chrono::Utc::now();
        orders
            .iter()
            .map(|&(id, order)| Task {
                id,
                title: Title::parse(&format!("task {id}")).unwrap(),
                priority: Priority::default(),
                completed: false,
                order,
                due: None,
                version: 1,
                created_at: now,
                updated_at: now,
            })
            .collect()
    }

    #[test]
    fn moves_change_only_the_tasks_in_between() {
        let list = tasks(&[(1, 10), (2, 20), (3, 30), (4, 40)]);
        assert_eq!(reorder(&list, 3, Target::Up), Some(vec![(3, 20), (2, 30)]));
        assert_eq!(reorder(&list, 1, Target::Up), Some(vec![]));
        assert_eq!(reorder(&list, 4, Target::Down), Some(vec![]));
        assert_eq!(
            reorder(&list, 1, Target::Before(4)),
            Some(vec![(2, 10), (3, 20), (1, 30)])
        );
        assert_eq!(
            reorder(&list, 1, Target::End),
            Some(vec![(2, 10), (3, 20), (4, 30), (1, 40)])
        );
        assert_eq!(
            reorder(&list, 4, Target::Before(1)),
            Some(vec![(4, 10), (1, 20), (2, 30), (3, 40)])
        );
        assert_eq!(reorder(&list, 9, Target::Up), None);
    }

    #[test]
    fn equal_orders_are_spread_out() {
        let list = tasks(&[(1, 5), (2, 5), (3, 5)]);
        assert_eq!(reorder(&list, 3, Target::Up), Some(vec![(3, 6), (2, 7)]));
    }
}
