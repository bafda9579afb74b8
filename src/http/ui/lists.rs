//! The forms that change lists: create, rename, delete (after a
//! confirmation page) and undo that, share with a member, change a
//! member's role, remove a member, leave. Each is a plain form answered with a redirect; the
//! script leaves them to the browser. Who may do what is the store's rule
//! (`db::lists`): a refusal comes back as a page that says why.
use super::*;

use crate::domain::{ListId, ListName, Role, Username};
use page::ListSettingsPage;
use view::parse_list;

#[derive(Debug, Default, Deserialize)]
pub(super) struct ListFields {
    name: Option<String>,
    username: Option<String>,
    role: Option<String>,
    /// `yes`: the user has confirmed deleting the list.
    confirm: Option<String>,
}

impl ListFields {
    fn name(&self) -> UiResult<ListName> {
        Ok(ListName::parse(self.name.as_deref().unwrap_or_default())?)
    }

    fn username(&self) -> UiResult<Username> {
        Ok(Username::parse(
            self.username.as_deref().unwrap_or_default().trim(),
        )?)
    }

    fn role(&self) -> UiResult<Role> {
        Ok(Role::member(self.role.as_deref().unwrap_or_default())?)
    }
}

/// `{id}` in a list's paths: anything but a positive whole number is a
/// list that does not exist.
fn list_id(raw: &str) -> UiResult<ListId> {
    parse_list(raw).ok_or_else(|| UiError(ApiError::NotFound("there is no such list".to_owned())))
}

fn settings_url(id: ListId) -> String {
    format!("/lists/{}", id.0)
}

fn see_other(url: &str) -> UiResult {
    Ok(Redirect::to(url).into_response())
}

/// `POST /lists`: a new list, shown at once.
pub(super) async fn create_list(
    State(state): State<AppState>,
    reader: Reader,
    PageForm(form): PageForm<ListFields>,
) -> Response {
    let result = async {
        let list = state.store.create_list(reader.owner, &form.name()?).await?;
        see_other(&View::of_list(Some(list.id)).url())
    };
    reader.finish(result.await)
}

/// `GET /lists/{id}`: the list's own page. The owner renames, shares and
/// deletes it here; a member sees who else is in it and can leave.
pub(super) async fn settings(
    State(state): State<AppState>,
    Path(id): Path<String>,
    reader: Reader,
) -> Response {
    let result = async {
        let id = list_id(&id)?;
        let (list, members) = tokio::try_join!(
            state.store.list(reader.owner, id),
            state.store.members(reader.owner, id)
        )?;
        let page = ListSettingsPage {
            assets: &ASSETS,
            csrf_token: reader.csrf_token.as_deref(),
            username: reader.username.as_deref(),
            list: &list,
            members,
        };
        let body = page.render().map_err(render_error)?;
        Ok(html_response(StatusCode::OK, body))
    };
    reader.finish(result.await)
}

pub(super) async fn rename_list(
    State(state): State<AppState>,
    Path(id): Path<String>,
    reader: Reader,
    PageForm(form): PageForm<ListFields>,
) -> Response {
    let result = async {
        let id = list_id(&id)?;
        let name = form.name()?;
        state
            .store
            .update_list(reader.owner, id, Some(&name), None)
            .await?;
        see_other(&settings_url(id))
    };
    reader.finish(result.await)
}

/// Deletes a list and its tasks, after a confirmation page.
pub(super) async fn delete_list(
    State(state): State<AppState>,
    Path(id): Path<String>,
    reader: Reader,
    PageForm(form): PageForm<ListFields>,
) -> Response {
    let result = async {
        let id = list_id(&id)?;
        let list = state.store.list(reader.owner, id).await?;
        if form.confirm.as_deref() != Some("yes") && list.role.may_manage() && !list.is_default {
            let heading = match list.total {
                0 => format!("Delete the list “{}”?", list.name),
                1 => format!("Delete the list “{}” and its task?", list.name),
                n => format!("Delete the list “{}” and its {n} tasks?", list.name),
            };
            return confirm_page(ConfirmPage {
                assets: &ASSETS,
                csrf_token: reader.csrf_token.as_deref(),
                heading,
                titles: Vec::new(),
                action: format!("/lists/{}/delete", id.0),
                return_to: settings_url(id),
                button: "Delete list",
                keep: "Keep it",
            });
        }
        // The store refuses a member, and the default list.
        state.store.delete_list(reader.owner, id).await?;
        see_other("/")
    };
    reader.finish(result.await)
}

/// Undoes the deletion of one of the reader's lists (with its tasks and
/// members), and shows it.
pub(super) async fn restore_list(
    State(state): State<AppState>,
    Path(id): Path<String>,
    reader: Reader,
    PageForm(_): PageForm<ListFields>,
) -> Response {
    let result = async {
        let id = list_id(&id)?;
        let list = state.store.restore_list(reader.owner, id).await?;
        see_other(&View::of_list(Some(list.id)).url())
    };
    reader.finish(result.await)
}

/// Shares the list with an account, by username.
pub(super) async fn add_member(
    State(state): State<AppState>,
    Path(id): Path<String>,
    reader: Reader,
    PageForm(form): PageForm<ListFields>,
) -> Response {
    let result = async {
        let id = list_id(&id)?;
        let (username, role) = (form.username()?, form.role()?);
        state
            .store
            .add_member(reader.owner, id, &username, role)
            .await?;
        see_other(&settings_url(id))
    };
    reader.finish(result.await)
}

pub(super) async fn set_member_role(
    State(state): State<AppState>,
    Path(id): Path<String>,
    reader: Reader,
    PageForm(form): PageForm<ListFields>,
) -> Response {
    let result = async {
        let id = list_id(&id)?;
        let (username, role) = (form.username()?, form.role()?);
        state
            .store
            .set_member_role(reader.owner, id, &username, role)
            .await?;
        see_other(&settings_url(id))
    };
    reader.finish(result.await)
}

pub(super) async fn remove_member(
    State(state): State<AppState>,
    Path(id): Path<String>,
    reader: Reader,
    PageForm(form): PageForm<ListFields>,
) -> Response {
    let result = async {
        let id = list_id(&id)?;
        let username = form.username()?;
        state
            .store
            .remove_member(reader.owner, id, &username)
            .await?;
        see_other(&settings_url(id))
    };
    reader.finish(result.await)
}

/// A member takes themselves off a list shared with them.
pub(super) async fn leave_list(
    State(state): State<AppState>,
    Path(id): Path<String>,
    reader: Reader,
    PageForm(_): PageForm<ListFields>,
) -> Response {
    let result = async {
        let id = list_id(&id)?;
        let list = state.store.list(reader.owner, id).await?;
        let me = reader.username.as_deref().unwrap_or_default();
        if list.role == Role::Owner {
            return Err(UiError(ApiError::Conflict(
                "you own this list; delete it instead of leaving it".to_owned(),
            )));
        }
        state
            .store
            .remove_member(reader.owner, id, &Username::parse(me)?)
            .await?;
        see_other("/")
    };
    reader.finish(result.await)
}
