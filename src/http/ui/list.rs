//! The list pages: all, active and completed, with filters, search,
//! sort and the no-JavaScript edit form.
use super::*;

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

pub(super) async fn show(
    state: AppState,
    reader: Reader,
    filter: Filter,
    params: ParamsResult,
) -> UiResult {
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

pub(super) async fn render(
    state: &AppState,
    reader: &Reader,
    view: &View,
    new_todo: FormState,
    edit: Option<EditForm>,
    status: StatusCode,
) -> UiResult {
    let snapshot = live::snapshot(state, reader.list, view).await?;
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
pub(super) fn confirm_page(page: ConfirmPage) -> UiResult {
    let body = page.render().map_err(render_error)?;
    Ok(html_response(StatusCode::OK, body))
}
