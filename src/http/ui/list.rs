//! The list pages: all, active and completed, with filters, search,
//! sort and the no-JavaScript edit form; and the planning views, Today and
//! Upcoming, across every list.
use super::*;

use crate::domain::Agenda;

pub(super) type ParamsResult = Result<Query<ViewParams>, QueryRejection>;

pub(super) async fn show_all(
    State(state): State<AppState>,
    reader: Reader,
    params: ParamsResult,
) -> UiResult {
    show(state, reader, Filter::All, params).await
}

pub(super) async fn show_active(
    State(state): State<AppState>,
    reader: Reader,
    params: ParamsResult,
) -> UiResult {
    show(state, reader, Filter::Active, params).await
}

pub(super) async fn show_completed(
    State(state): State<AppState>,
    reader: Reader,
    params: ParamsResult,
) -> UiResult {
    show(state, reader, Filter::Completed, params).await
}

pub(super) async fn show_today(
    State(state): State<AppState>,
    reader: Reader,
    params: ParamsResult,
) -> UiResult {
    let params = params.map(|Query(p)| p).unwrap_or_default();
    show_view(state, reader, View::of_agenda(Agenda::Today), params).await
}

pub(super) async fn show_upcoming(
    State(state): State<AppState>,
    reader: Reader,
    params: ParamsResult,
) -> UiResult {
    let params = params.map(|Query(p)| p).unwrap_or_default();
    show_view(state, reader, View::of_agenda(Agenda::Upcoming), params).await
}

pub(super) async fn show(
    state: AppState,
    reader: Reader,
    filter: Filter,
    params: ParamsResult,
) -> UiResult {
    // A malformed query string still shows the list, unfiltered.
    let params = params.map(|Query(p)| p).unwrap_or_default();
    let view = View::new(filter, &params);
    show_view(state, reader, view, params).await
}

async fn show_view(state: AppState, reader: Reader, view: View, params: ViewParams) -> UiResult {
    // A list id that is no id at all is a list that does not exist.
    if params.list.is_some() && view.list.is_none() {
        return Err(UiError(ApiError::NotFound(
            "there is no such list".to_owned(),
        )));
    }
    let list = reader.open(&state, &view).await?;
    // `?edit=ID` is the edit page for browsers without JavaScript.
    let edit = match params.edit.as_deref().and_then(|raw| raw.parse().ok()) {
        Some(id) => match state.store.get_task(reader.owner, id).await {
            Ok(task) => Some(EditForm {
                id,
                form: FormState {
                    title: task.title.into(),
                    priority: Some(task.priority),
                    due: task.due.map(|d| d.to_string()).unwrap_or_default(),
                    due_time: task.due_time.map(|t| t.to_string()).unwrap_or_default(),
                    errors: Vec::new(),
                },
            }),
            Err(StoreError::NotFound(_)) => None,
            Err(err) => return Err(err.into()),
        },
        None => None,
    };
    let added = params.added.as_deref().and_then(|raw| raw.parse().ok());
    render_page(
        &state,
        &reader,
        &view,
        &list,
        FormState::default(),
        edit,
        added,
        StatusCode::OK,
    )
    .await
}

pub(super) async fn render(
    state: &AppState,
    reader: &Reader,
    view: &View,
    list: &List,
    new_todo: FormState,
    edit: Option<EditForm>,
    status: StatusCode,
) -> UiResult {
    render_page(state, reader, view, list, new_todo, edit, None, status).await
}

/// The page; `added`: a task just added, kept in view and marked.
#[allow(clippy::too_many_arguments)]
async fn render_page(
    state: &AppState,
    reader: &Reader,
    view: &View,
    list: &List,
    new_todo: FormState,
    edit: Option<EditForm>,
    added: Option<i64>,
    status: StatusCode,
) -> UiResult {
    let pinned: Vec<i64> = added.into_iter().collect();
    let snapshot = snapshot::snapshot(state, reader, list, view, &pinned).await?;
    // The planning views read the lists already; the others read them here.
    let lists = match &snapshot.lists {
        Some(_) => None,
        None => Some(state.store.lists(reader.owner).await?),
    };
    let lists = lists
        .as_deref()
        .or(snapshot.lists.as_deref())
        .unwrap_or_default();
    let mut page = Page::new(
        &ASSETS,
        view,
        list,
        lists,
        &snapshot.groups,
        snapshot.summary,
        new_todo,
        edit,
        &reader.clock,
        added,
    );
    page.csrf_token = reader.csrf_token.as_deref();
    page.username = reader.username.as_deref();
    page.accounts = state.accounts.enabled();
    let body = page.render().map_err(render_error)?;
    Ok(html_response(status, body))
}

/// "Delete this?": the no-JavaScript stand-in for Undo.
pub(super) fn confirm_page(page: ConfirmPage) -> UiResult {
    let body = page.render().map_err(render_error)?;
    Ok(html_response(StatusCode::OK, body))
}
