//! The server-rendered web UI at `/`, shaped like TodoMVC so the page is
//! familiar and its tooling works against it.
//!
//! Every action is a plain HTML form that POSTs and is answered with a 303
//! back to the view the user was on, so the whole app works without
//! JavaScript. `assets/app.js` then takes the same forms over: it calls the
//! JSON API and swaps in the re-rendered list, so the server stays the one
//! place that knows how a task looks, in what order, under which filter.
//! (Rendering in the browser too would mean two copies of every template.)

/// Embedded CSS and JavaScript under content-hashed URLs.
mod assets;
/// View models and the compiled templates.
mod page;
/// Filters, sort and search as URLs; the parsing of `return` fields.
mod view;

use askama::Template;
use axum::Router;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::AppState;
use super::api::parse_bool;
use super::auth::{Caller, PageOwner};
use super::error::ApiError;
use crate::db::StoreError;
use crate::domain::{Due, FieldError, NewTask, Owner, Priority, TaskChanges, Title};
pub(crate) use assets::{ASSETS, Assets};
pub(crate) use page::sentence;
use page::{EditForm, FormState, MessagePage, Page};
use view::{Filter, View, ViewParams};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(show_all))
        .route("/active", get(show_active))
        .route("/completed", get(show_completed))
        .route("/todos", post(create))
        .route("/todos/toggle-all", post(toggle_all))
        .route("/todos/clear-completed", post(clear_completed))
        .route("/todos/{id}/toggle", post(toggle))
        .route("/todos/{id}/edit", post(edit))
        .route("/todos/{id}/delete", post(delete))
        .route("/assets/{file}", get(assets::serve))
}

/// The policy for every HTML response: scripts and styles only from our own
/// files (no inline script, so injected markup cannot run), forms and fetches
/// only to us, and never inside someone else's frame.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

pub(crate) fn html_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
        // The list changes with every action: always revalidate.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ] {
        headers.insert(name, value);
    }
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

// ---- Pages ----------------------------------------------------------------

type ParamsResult = Result<Query<ViewParams>, QueryRejection>;

async fn show_all(
    State(state): State<AppState>,
    PageOwner(owner): PageOwner,
    caller: Caller,
    params: ParamsResult,
) -> UiResult {
    show(state, owner, &caller, Filter::All, params).await
}

async fn show_active(
    State(state): State<AppState>,
    PageOwner(owner): PageOwner,
    caller: Caller,
    params: ParamsResult,
) -> UiResult {
    show(state, owner, &caller, Filter::Active, params).await
}

async fn show_completed(
    State(state): State<AppState>,
    PageOwner(owner): PageOwner,
    caller: Caller,
    params: ParamsResult,
) -> UiResult {
    show(state, owner, &caller, Filter::Completed, params).await
}

async fn show(
    state: AppState,
    owner: Owner,
    caller: &Caller,
    filter: Filter,
    params: ParamsResult,
) -> UiResult {
    // A malformed query string still shows the list, unfiltered.
    let params = params.map(|Query(p)| p).unwrap_or_default();
    let view = View::new(filter, &params);
    // `?edit=ID` is the edit page for browsers without JavaScript.
    let edit = match params.edit.as_deref().and_then(|raw| raw.parse().ok()) {
        Some(id) => match state.store.get_task(owner, id).await {
            Ok(task) => Some(EditForm {
                id,
                form: FormState {
                    title: task.title,
                    priority: task.priority.value(),
                    due: task.due.map(|d| d.to_string()).unwrap_or_default(),
                    errors: Vec::new(),
                },
            }),
            Err(StoreError::NotFound(_)) => None,
            Err(err) => return Err(err.into()),
        },
        None => None,
    };
    let page = PageContext { owner, caller };
    render(
        &state,
        &page,
        &view,
        FormState::default(),
        edit,
        StatusCode::OK,
    )
    .await
}

/// Whose list a page shows, and what its forms must carry.
struct PageContext<'a> {
    owner: Owner,
    caller: &'a Caller,
}

async fn render(
    state: &AppState,
    context: &PageContext<'_>,
    view: &View,
    new_todo: FormState,
    edit: Option<EditForm>,
    status: StatusCode,
) -> UiResult {
    let filter = view.task_filter();
    let owner = context.owner;
    let ((tasks, truncated), counts) = tokio::try_join!(
        state.store.list_tasks(owner, &filter),
        state.store.count_tasks(owner, filter.query.as_deref())
    )?;
    let today = chrono::Local::now().date_naive();
    // 0: no valid priority was sent; the picker shows the default.
    let new_todo = FormState {
        priority: new_todo.priority.max(Priority::default().value()),
        ..new_todo
    };
    let mut page = Page::new(
        &ASSETS, view, &tasks, counts, truncated, new_todo, edit, today,
    );
    page.csrf_token = context.caller.csrf_token();
    page.username = context.caller.username().map(str::to_owned);
    let body = page.render().map_err(|e| {
        ApiError::Internal(anyhow::Error::new(e).context("failed to render the page"))
    })?;
    Ok(html_response(status, body))
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
}

impl Fields {
    fn view(&self) -> View {
        View::from_return(self.return_to.as_deref())
    }

    /// The form as sent, to show it again with `errors`.
    fn rejected(self, errors: Vec<FieldError>) -> FormState {
        FormState {
            priority: self
                .priority
                .as_deref()
                .and_then(|p| Priority::parse(p).ok())
                .map_or(0, Priority::value),
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

type FieldsResult = Result<Form<Fields>, FormRejection>;

fn fields(form: FieldsResult) -> UiResult<Fields> {
    form.map(|Form(f)| f).map_err(|e| {
        UiError(ApiError::BadRequest(format!(
            "could not read the form: {e}"
        )))
    })
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

async fn create(
    State(state): State<AppState>,
    PageOwner(owner): PageOwner,
    caller: Caller,
    form: FieldsResult,
) -> UiResult {
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
            state.store.create_task(owner, new).await?;
            Ok(back_to(&view))
        }
        Err(errors) => {
            let new_todo = form.rejected(errors);
            let page = PageContext {
                owner,
                caller: &caller,
            };
            render(
                &state,
                &page,
                &view,
                new_todo,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// Saves an edit. As in TodoMVC, an empty title deletes the task.
async fn edit(
    State(state): State<AppState>,
    PageOwner(owner): PageOwner,
    caller: Caller,
    Path(id): Path<String>,
    form: FieldsResult,
) -> UiResult {
    let id = task_id(&id)?;
    let form = fields(form)?;
    let view = form.view();
    let title = form.title.as_deref().unwrap_or_default();
    if title.trim().is_empty() {
        return delete_quietly(&state, owner, id, &view).await;
    }
    match collect(Title::parse(title), form.priority(), form.due()) {
        Ok((title, priority, due)) => {
            let changes = TaskChanges {
                title: Some(title),
                priority,
                due,
                ..TaskChanges::default()
            };
            state.store.update_task(owner, id, &changes, None).await?;
            Ok(back_to(&view))
        }
        Err(errors) => {
            let edit = EditForm {
                id,
                form: form.rejected(errors),
            };
            let page = PageContext {
                owner,
                caller: &caller,
            };
            render(
                &state,
                &page,
                &view,
                FormState::default(),
                Some(edit),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// Sets `completed` as sent; without a value, flips it.
async fn toggle(
    State(state): State<AppState>,
    PageOwner(owner): PageOwner,
    Path(id): Path<String>,
    form: FieldsResult,
) -> UiResult {
    let id = task_id(&id)?;
    let form = fields(form)?;
    let completed = match form.completed()? {
        Some(completed) => completed,
        None => !state.store.get_task(owner, id).await?.completed,
    };
    let changes = TaskChanges {
        completed: Some(completed),
        ..TaskChanges::default()
    };
    state.store.update_task(owner, id, &changes, None).await?;
    Ok(back_to(&form.view()))
}

async fn delete(
    State(state): State<AppState>,
    PageOwner(owner): PageOwner,
    Path(id): Path<String>,
    form: FieldsResult,
) -> UiResult {
    let id = task_id(&id)?;
    let form = fields(form)?;
    delete_quietly(&state, owner, id, &form.view()).await
}

/// Deleting what is already gone (a double click, another tab) is no error
/// worth a page of its own: the list the user returns to shows it is gone.
async fn delete_quietly(state: &AppState, owner: Owner, id: i64, view: &View) -> UiResult {
    match state.store.delete_task(owner, id, None).await {
        Ok(()) | Err(StoreError::NotFound(_)) => Ok(back_to(view)),
        Err(err) => Err(err.into()),
    }
}

/// Marks every task done, or every task active again. Without a value:
/// done, unless everything already is (what the checkbox would do).
async fn toggle_all(
    State(state): State<AppState>,
    PageOwner(owner): PageOwner,
    form: FieldsResult,
) -> UiResult {
    let form = fields(form)?;
    let completed = match form.completed()? {
        Some(completed) => completed,
        None => state.store.count_tasks(owner, None).await?.active > 0,
    };
    state.store.set_all_completed(owner, completed).await?;
    Ok(back_to(&form.view()))
}

async fn clear_completed(
    State(state): State<AppState>,
    PageOwner(owner): PageOwner,
    form: FieldsResult,
) -> UiResult {
    let form = fields(form)?;
    state.store.clear_completed(owner).await?;
    Ok(back_to(&form.view()))
}
