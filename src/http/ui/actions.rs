//! The forms that change tasks: add, edit, toggle, delete (with
//! confirmation or undo), toggle all, clear completed, restore and move.
//! Each answers a browser with a redirect and the script with what changed.
use super::*;

use crate::domain::{MoveTarget, reorder};

/// The fields of every form (read through `PageForm`, which checks its CSRF
/// token), as strings: each action parses what it needs, so a bad value gets
/// our own message next to the form, not a bare 400.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Fields {
    title: Option<String>,
    priority: Option<String>,
    due: Option<String>,
    /// A time input beside the date (`HH:MM`); empty means none.
    due_time: Option<String>,
    completed: Option<String>,
    #[serde(rename = "return")]
    return_to: Option<String>,
    /// `yes`: the user has confirmed a deletion (or can undo it).
    confirm: Option<String>,
    /// Moves: `up` or `down`, or `before` another task (empty: to the end).
    direction: Option<String>,
    before: Option<String>,
    /// Undo: the ids of the deleted tasks, as the JSON array the deletion
    /// answered with.
    tasks: Option<String>,
    /// Tasks the reader added on this page, kept in view (the script's).
    pinned: Option<String>,
}

impl Fields {
    fn view(&self) -> View {
        View::from_return(self.return_to.as_deref())
    }

    fn pinned(&self) -> Vec<i64> {
        live::parse_pinned(self.pinned.as_deref())
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
            due_time: self.due_time.unwrap_or_default(),
            errors,
        }
    }

    fn priority(&self) -> Result<Option<Priority>, FieldError> {
        match self.priority.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(raw) => Priority::parse(raw).map(Some),
        }
    }

    /// The due date and time as a change: `None` leaves either alone,
    /// `Some(None)` clears it (an empty date clears the time too). A time
    /// with an empty date is refused.
    fn due(&self) -> Result<DueChange, FieldError> {
        let date = self.due.as_deref().map(Due::parse).transpose()?;
        let time = self.due_time.as_deref().map(DueTime::parse).transpose()?;
        if matches!(date, Some(None)) && matches!(time, Some(Some(_))) {
            return Err(DueTime::needs_a_date());
        }
        Ok((date, time))
    }

    fn completed(&self) -> Result<Option<bool>, FieldError> {
        self.completed
            .as_deref()
            .map(|raw| parse_bool("completed", raw))
            .transpose()
    }
}

/// A form's due date and time, each `None` when not sent.
type DueChange = (Option<Option<chrono::NaiveDate>>, Option<Option<DueTime>>);

pub(super) fn back_to(view: &View) -> Response {
    Redirect::to(&view.url()).into_response()
}

/// Task ids in paths; anything else is no task at all.
pub(super) fn task_id(raw: &str) -> UiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| UiError(ApiError::NotFound("there is no such task".to_owned())))
}

/// Runs every parser so the user sees all problems at once.
pub(super) fn collect<A, B, C>(
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
pub(super) fn joined(errors: Vec<FieldError>) -> UiError {
    let field = errors.first().map_or("body", |e| e.field);
    let message = errors
        .iter()
        .map(|e| page::sentence(&e.message))
        .collect::<Vec<_>>()
        .join(" ");
    UiError(ApiError::Validation(FieldError::new(field, message)))
}

pub(super) async fn create(
    State(state): State<AppState>,
    reader: Reader,
    PageForm(form): PageForm<Fields>,
) -> Response {
    let result = async {
        let view = form.view();
        let list = reader.open(&state, &view).await?;
        may_change_tasks(&list)?;
        let parsed = collect(
            Title::parse(form.title.as_deref().unwrap_or_default()),
            form.priority(),
            form.due(),
        );
        match parsed {
            Ok((title, priority, (due, due_time))) => {
                let mut new = NewTask::new(title);
                new.priority = priority.unwrap_or_default();
                new.due = due.flatten();
                new.due_time = due_time.flatten();
                if new.due_time.is_some() && new.due.is_none() {
                    let errors = vec![DueTime::needs_a_date()];
                    return refuse_new(&state, &reader, &view, &list, form, errors).await;
                }
                let task = state.store.create_task(list.id, reader.owner, new).await?;
                if !reader.script {
                    // Back where the task can be seen: in a list of
                    // thousands it is far beyond the rows shown.
                    return Ok(Redirect::to(&view.added_url(task.id)).into_response());
                }
                let extras = Extras {
                    created: Some(task.id),
                    message: Some(format!("Added “{}”.", task.title)),
                    pinned: form.pinned(),
                    ..Extras::default()
                };
                live::answer(
                    &state,
                    &reader,
                    &list,
                    &view,
                    Changed::Ids(vec![task.id]),
                    extras,
                )
                .await
            }
            Err(errors) => refuse_new(&state, &reader, &view, &list, form, errors).await,
        }
    };
    reader.finish(result.await)
}

/// A new task's form refused: the errors for the script, the page with
/// the form as sent for a browser.
async fn refuse_new(
    state: &AppState,
    reader: &Reader,
    view: &View,
    list: &List,
    form: Fields,
    errors: Vec<FieldError>,
) -> UiResult {
    if reader.script {
        return Err(joined(errors));
    }
    render(
        state,
        reader,
        view,
        list,
        form.rejected(errors),
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// Saves an edit. As in TodoMVC, an empty title deletes the task.
pub(super) async fn edit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    reader: Reader,
    PageForm(form): PageForm<Fields>,
) -> Response {
    let result = async {
        let id = task_id(&id)?;
        let view = form.view();
        let list = reader.open(&state, &view).await?;
        let title = form.title.as_deref().unwrap_or_default();
        if title.trim().is_empty() {
            return remove(&state, &reader, &list, id, &form).await;
        }
        match collect(Title::parse(title), form.priority(), form.due()) {
            Ok((title, priority, (due, due_time))) => {
                let changes = TaskChanges {
                    title: Some(title),
                    priority,
                    due,
                    due_time,
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
                    pinned: form.pinned(),
                    ..Extras::default()
                };
                live::answer(
                    &state,
                    &reader,
                    &list,
                    &view,
                    Changed::Ids(vec![id]),
                    extras,
                )
                .await
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
                    &list,
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
pub(super) async fn toggle(
    State(state): State<AppState>,
    Path(id): Path<String>,
    reader: Reader,
    PageForm(form): PageForm<Fields>,
) -> Response {
    let result = async {
        let id = task_id(&id)?;
        let view = form.view();
        let list = reader.open(&state, &view).await?;
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
            pinned: form.pinned(),
            ..Extras::default()
        };
        live::answer(
            &state,
            &reader,
            &list,
            &view,
            Changed::Ids(vec![id]),
            extras,
        )
        .await
    };
    reader.finish(result.await)
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    reader: Reader,
    PageForm(form): PageForm<Fields>,
) -> Response {
    let result = async {
        let id = task_id(&id)?;
        let list = reader.open(&state, &form.view()).await?;
        remove(&state, &reader, &list, id, &form).await
    };
    reader.finish(result.await)
}

/// Deletes one task: at once for the script, which offers Undo with the
/// task as it was; after a confirmation page for a plain form.
///
/// Deleting what is already gone (a double click, another tab) is no error
/// worth a page of its own: the list the user returns to shows it is gone.
pub(super) async fn remove(
    state: &AppState,
    reader: &Reader,
    list: &List,
    id: i64,
    form: &Fields,
) -> UiResult {
    let view = form.view();
    // The version read here is the one deleted, so Undo restores exactly
    // what went; a change in between makes us read it again.
    let mut attempts = 0;
    let task = loop {
        let task = match state.store.get_task(reader.owner, id).await {
            Ok(task) => task,
            Err(StoreError::NotFound(_)) => return gone(state, reader, list, &view, form).await,
            Err(err) => return Err(err.into()),
        };
        // A reader who may not delete it is told so now, not after confirming.
        state
            .store
            .require(reader.owner, task.list, Need::ChangeTasks)
            .await?;
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
            Err(StoreError::NotFound(_)) => return gone(state, reader, list, &view, form).await,
            Err(StoreError::VersionMismatch { .. }) if attempts < 3 => attempts += 1,
            Err(err) => return Err(err.into()),
        }
    };
    if !reader.script {
        return Ok(back_to(&view));
    }
    let extras = Extras {
        message: Some(format!("Deleted “{}”.", task.title)),
        undo: live::Undo::new(format!("Deleted “{}”.", task.title), vec![task.id]),
        pinned: form.pinned(),
        ..Extras::default()
    };
    live::answer(state, reader, list, &view, Changed::None, extras).await
}

/// The answer when the task to delete was gone already.
pub(super) async fn gone(
    state: &AppState,
    reader: &Reader,
    list: &List,
    view: &View,
    form: &Fields,
) -> UiResult {
    if reader.script {
        live::answer(
            state,
            reader,
            list,
            view,
            Changed::None,
            Extras {
                pinned: form.pinned(),
                ..Extras::default()
            },
        )
        .await
    } else {
        Ok(back_to(view))
    }
}

/// Marks every task done, or every task active again. Without a value:
/// done, unless everything already is (what the checkbox would do).
pub(super) async fn toggle_all(
    State(state): State<AppState>,
    reader: Reader,
    PageForm(form): PageForm<Fields>,
) -> Response {
    let result = async {
        let view = form.view();
        let list = reader.open(&state, &view).await?;
        may_change_tasks(&list)?;
        let completed = match form.completed()? {
            Some(completed) => completed,
            None => state.store.count_tasks(list.id, None).await?.active > 0,
        };
        state
            .store
            .set_all_completed(list.id, reader.owner, completed)
            .await?;
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
            pinned: form.pinned(),
            ..Extras::default()
        };
        live::answer(&state, &reader, &list, &view, Changed::All, extras).await
    };
    reader.finish(result.await)
}

pub(super) async fn clear_completed(
    State(state): State<AppState>,
    reader: Reader,
    PageForm(form): PageForm<Fields>,
) -> Response {
    let result = async {
        let view = form.view();
        let list = reader.open(&state, &view).await?;
        may_change_tasks(&list)?;
        let done = TaskFilter {
            completed: Some(true),
            ..TaskFilter::default()
        };
        // What the confirmation lists; Undo brings back what was deleted.
        let (tasks, _) = state.store.list_tasks(list.id, &done).await?;
        if tasks.is_empty() {
            return if reader.script {
                live::answer(
                    &state,
                    &reader,
                    &list,
                    &view,
                    Changed::None,
                    Extras {
                        pinned: form.pinned(),
                        ..Extras::default()
                    },
                )
                .await
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
        let cleared = state.store.clear_completed(list.id, reader.owner).await?;
        if !reader.script {
            return Ok(back_to(&view));
        }
        let message = match cleared.len() {
            1 => "Cleared 1 completed task.".to_owned(),
            n => format!("Cleared {n} completed tasks."),
        };
        let extras = Extras {
            message: Some(message.clone()),
            undo: live::Undo::new(message, cleared),
            pinned: form.pinned(),
            ..Extras::default()
        };
        live::answer(&state, &reader, &list, &view, Changed::None, extras).await
    };
    reader.finish(result.await)
}

/// Undo: puts the deleted tasks back as they were (the same tasks: ids,
/// place, history), all of them or none (`Store::restore_tasks`).
pub(super) async fn restore(
    State(state): State<AppState>,
    reader: Reader,
    PageForm(form): PageForm<Fields>,
) -> Response {
    let result = async {
        let view = form.view();
        let list = reader.open(&state, &view).await?;
        may_change_tasks(&list)?;
        let ids = live::parse_undo(form.tasks.as_deref().unwrap_or_default())?;
        let restored = state.store.restore_tasks(reader.owner, &ids).await?;
        if !reader.script {
            return Ok(back_to(&view));
        }
        let message = match restored.len() {
            1 => "Restored 1 task.".to_owned(),
            n => format!("Restored {n} tasks."),
        };
        let extras = Extras {
            message: Some(message),
            pinned: form.pinned(),
            ..Extras::default()
        };
        let ids = restored.iter().map(|task| task.id).collect();
        live::answer(&state, &reader, &list, &view, Changed::Ids(ids), extras).await
    };
    reader.finish(result.await)
}

/// Moves a task up or down in the user's own order, or before another one
/// (drag and drop). The list's `order` values are handed out again in the
/// new sequence, so only the tasks between the old and the new place change.
pub(super) async fn move_task(
    State(state): State<AppState>,
    Path(id): Path<String>,
    reader: Reader,
    PageForm(form): PageForm<Fields>,
) -> Response {
    let result = async {
        let id = task_id(&id)?;
        let view = form.view();
        let list = reader.open(&state, &view).await?;
        may_change_tasks(&list)?;
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
        let _turn = state.moves.take(list.id).await;
        // Within its part of the view: open tasks among the open ones,
        // completed ones among the completed (see `snapshot`).
        let moved = state.store.get_task(reader.owner, id).await?;
        let filter = TaskFilter {
            completed: Some(moved.completed),
            ..view.task_filter()
        };
        let (tasks, _) = state.store.list_tasks(list.id, &filter).await?;
        let target = match (form.direction.as_deref(), form.before.as_deref()) {
            (Some("up"), _) => MoveTarget::Up,
            (Some("down"), _) => MoveTarget::Down,
            (_, Some("")) => MoveTarget::End,
            (_, Some(raw)) => MoveTarget::Before(task_id(raw)?),
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
            &list,
            &view,
            Changed::Ids(changed),
            Extras {
                pinned: form.pinned(),
                ..Extras::default()
            },
        )
        .await
    };
    reader.finish(result.await)
}
