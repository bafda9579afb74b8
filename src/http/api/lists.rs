//! The handlers of `/api/lists` (the caller's lists and those shared with
//! it), one list (and undoing its deletion), and its members. Who may do what is the store's rule
//! (`db::lists`); these turn it into HTTP.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::scope::{ListIdParam, ListScope};
use crate::domain::{
    FieldError, List, ListName, MAX_SAFE_INTEGER, Member, Owner, Role, Username, check_range,
};
use crate::http::AppState;
use crate::http::auth::{ApiOwner, Caller};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{BaseUrl, Body, JsonBody};
use crate::http::openapi::responses::*;
use crate::json::{kind, whole_number};

/// A list as the caller sees it.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = List)]
pub struct ListView<'a> {
    #[schema(minimum = 1)]
    pub id: i64,
    #[schema(min_length = 1, max_length = 100, examples("Groceries"))]
    pub name: &'a str,
    /// The caller's role: `owner` (renames, deletes and shares it),
    /// `editor` (changes its tasks) or `viewer` (reads them).
    #[schema(value_type = RoleName)]
    pub role: Role,
    /// The owner's username; null for the shared list when the server
    /// runs without accounts.
    #[schema(required = true)]
    pub owner: Option<&'a str>,
    /// The owner's first list, where `/api/todos` works. It cannot be
    /// deleted.
    pub default: bool,
    /// Shared: the caller is a member, or the owner shared it with someone.
    pub shared: bool,
    /// How many people besides the owner it is shared with.
    #[schema(minimum = 0)]
    pub members: i64,
    /// Its place among the owner's lists (lower first).
    pub position: i64,
    #[schema(minimum = 0)]
    pub total: i64,
    #[schema(minimum = 0)]
    pub active: i64,
    #[schema(minimum = 0)]
    pub completed: i64,
    /// The absolute URL of the list; its tasks are at `url` + `/todos`.
    #[schema(format = "uri", examples("https://todo.example.com/api/lists/3"))]
    pub url: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The roles, as the document shows them.
#[derive(ToSchema)]
#[schema(as = RoleName)]
#[allow(dead_code)]
#[serde(rename_all = "lowercase")]
enum RoleName {
    Owner,
    Editor,
    Viewer,
}

impl<'a> ListView<'a> {
    fn new(list: &'a List, base: &BaseUrl) -> Self {
        Self {
            id: list.id.0,
            name: list.name.as_str(),
            role: list.role,
            owner: list.owner.as_deref(),
            default: list.is_default,
            shared: list.role != Role::Owner || list.members > 0,
            members: list.members,
            position: list.position,
            total: list.total,
            active: list.active,
            completed: list.total - list.active,
            url: base.list_url(list.id),
            created_at: list.created_at,
            updated_at: list.updated_at,
        }
    }
}

/// Someone a list is shared with.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Member)]
pub struct MemberView<'a> {
    #[schema(examples("sam"))]
    pub username: &'a str,
    /// `editor` or `viewer`.
    #[schema(value_type = RoleName)]
    pub role: Role,
    pub added_at: DateTime<Utc>,
}

impl<'a> From<&'a Member> for MemberView<'a> {
    fn from(member: &'a Member) -> Self {
        Self {
            username: &member.username,
            role: member.role,
            added_at: member.added_at,
        }
    }
}

/// A list to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewList, examples(json!({"name": "Groceries"})))]
pub struct NewListBody {
    /// 1 to 100 characters; surrounding whitespace is removed.
    #[serde(deserialize_with = "name")]
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    name: ListName,
}

impl Body for NewListBody {
    const FIELDS: &'static [&'static str] = &["name"];
}

/// What to change about a list; what is left out stays.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ListChanges, examples(json!({"name": "Weekend shopping"}), json!({"position": 2})))]
pub struct ListChangesBody {
    #[serde(default, deserialize_with = "some_name")]
    #[schema(value_type = String, min_length = 1, max_length = 100)]
    name: Option<ListName>,
    /// Its place among the owner's lists (lower first).
    #[serde(default, deserialize_with = "position")]
    #[schema(value_type = i64, minimum = 0)]
    position: Option<i64>,
}

impl Body for ListChangesBody {
    const FIELDS: &'static [&'static str] = &["name", "position"];
}

/// Someone to share a list with.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewMember, examples(json!({"username": "sam", "role": "editor"})))]
pub struct NewMemberBody {
    /// The account's username.
    #[serde(deserialize_with = "username")]
    #[schema(value_type = String, min_length = 3, max_length = 40)]
    username: Username,
    /// `editor` (changes tasks) or `viewer` (reads them).
    #[serde(deserialize_with = "role")]
    #[schema(value_type = RoleName)]
    role: Role,
}

impl Body for NewMemberBody {
    const FIELDS: &'static [&'static str] = &["username", "role"];
}

/// A member's new role.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MemberChanges, examples(json!({"role": "viewer"})))]
pub struct MemberChangesBody {
    #[serde(deserialize_with = "role")]
    #[schema(value_type = RoleName)]
    role: Role,
}

impl Body for MemberChangesBody {
    const FIELDS: &'static [&'static str] = &["role"];
}

fn string_field<'de, D: Deserializer<'de>, T>(
    deserializer: D,
    field: &'static str,
    rule: impl FnOnce(&str) -> Result<T, FieldError>,
) -> Result<T, D::Error> {
    use serde::de::Error as _;
    let value = serde_json::Value::deserialize(deserializer)?;
    match &value {
        serde_json::Value::String(s) => rule(s),
        other => Err(FieldError::new(
            field,
            format!("{field} must be a string, not {}", kind(other)),
        )),
    }
    .map_err(|e| D::Error::custom(e.message))
}

fn name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<ListName, D::Error> {
    string_field(deserializer, "name", ListName::parse)
}

fn some_name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<ListName>, D::Error> {
    name(deserializer).map(Some)
}

fn username<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Username, D::Error> {
    string_field(deserializer, "username", Username::parse)
}

fn role<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Role, D::Error> {
    string_field(deserializer, "role", Role::member)
}

fn position<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    use serde::de::Error as _;
    let value = serde_json::Value::deserialize(deserializer)?;
    match whole_number(&value) {
        Some(n) => check_range("position", n, MAX_SAFE_INTEGER),
        None => Err(FieldError::new(
            "position",
            format!("position must be an integer, not {}", kind(&value)),
        )),
    }
    .map(Some)
    .map_err(|e| D::Error::custom(e.message))
}

fn list_response(status: StatusCode, list: &List, base: &BaseUrl) -> Response {
    (status, Json(ListView::new(list, base))).into_response()
}

#[utoipa::path(
    get,
    path = "/api/lists",
    operation_id = "listLists",
    tag = "Lists",
    summary = "Every list the caller can see",
    description = "The caller's own lists in their order (the default list among them), then \
                   the lists others shared with the caller, in the order they were shared.",
    responses(
        (status = 200, description = "The lists.", body = Vec<ListView>),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn index(
    State(state): State<AppState>,
    ApiOwner(actor): ApiOwner,
    base: BaseUrl,
) -> ApiResult<Response> {
    state.store.default_list(actor).await?;
    let lists = state.store.lists(actor).await?;
    let views: Vec<ListView> = lists.iter().map(|l| ListView::new(l, &base)).collect();
    Ok(Json(views).into_response())
}

#[utoipa::path(
    post,
    path = "/api/lists",
    operation_id = "createList",
    tag = "Lists",
    summary = "Create a list",
    description = "Creates a list of the caller's, after its others; returns it with 201 and \
                   its URL in `Location`. An account owns at most `MAX_LISTS_PER_ACCOUNT` \
                   lists (500 by default, the default list included): one more gets 409. \
                   Deleted lists still kept for undo count too, but a new list makes room by \
                   purging the oldest of them.",
    request_body(content = NewListBody),
    responses(
        (status = 201, description = "The new list.", body = ListView),
        (status = 400, response = BadRequest),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    ApiOwner(actor): ApiOwner,
    base: BaseUrl,
    JsonBody(body): JsonBody<NewListBody>,
) -> ApiResult<Response> {
    let list = state.store.create_list(actor, &body.name).await?;
    let mut response = list_response(StatusCode::CREATED, &list, &base);
    if let Ok(location) = HeaderValue::from_str(&base.list_url(list.id)) {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}

#[utoipa::path(
    get,
    path = "/api/lists/{list_id}",
    operation_id = "getList",
    tag = "Lists",
    summary = "One list",
    description = "The list as `GET /api/lists` shows it, if the caller owns it or is a member \
                   (404 otherwise, as for a list that does not exist).",
    params(ListIdParam),
    responses(
        (status = 200, description = "The list.", body = ListView),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    scope: ListScope,
    base: BaseUrl,
) -> ApiResult<Response> {
    let list = state.store.list(scope.actor, scope.list).await?;
    Ok(list_response(StatusCode::OK, &list, &base))
}

#[utoipa::path(
    patch,
    path = "/api/lists/{list_id}",
    operation_id = "updateList",
    tag = "Lists",
    summary = "Rename or move a list",
    description = "Only the owner may; members get 403.",
    params(ListIdParam),
    request_body(content = ListChangesBody),
    responses(
        (status = 200, description = "The changed list.", body = ListView),
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
pub async fn update(
    State(state): State<AppState>,
    scope: ListScope,
    base: BaseUrl,
    JsonBody(body): JsonBody<ListChangesBody>,
) -> ApiResult<Response> {
    let list = state
        .store
        .update_list(scope.actor, scope.list, body.name.as_ref(), body.position)
        .await?;
    Ok(list_response(StatusCode::OK, &list, &base))
}

#[utoipa::path(
    delete,
    path = "/api/lists/{list_id}",
    operation_id = "deleteList",
    tag = "Lists",
    summary = "Delete a list and its tasks",
    description = "Only the owner may (members get 403; a member leaves with \
                   `DELETE /api/lists/{list_id}/members/{username}`). The default list cannot \
                   be deleted (409). The list is gone for everyone at once, but kept with its \
                   tasks and members for `DELETED_RETENTION`: \
                   `POST /api/lists/{list_id}/restore` undoes the deletion.",
    params(ListIdParam),
    responses(
        (status = 204, description = "The list and its tasks are gone."),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn delete(State(state): State<AppState>, scope: ListScope) -> ApiResult<StatusCode> {
    state.store.delete_list(scope.actor, scope.list).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/lists/{list_id}/restore",
    operation_id = "restoreList",
    tag = "Lists",
    summary = "Bring a deleted list back",
    description = "Undoes `DELETE /api/lists/{list_id}` within `DELETED_RETENTION` (30 days by \
                   default): the list comes back as it was, with its tasks and members. Only the \
                   owner may; while a list is deleted nobody else can see it (404). A list that \
                   is not deleted gets 409 (a member's attempt on it 403). Nothing needs to be \
                   sent.",
    params(ListIdParam),
    responses(
        (status = 200, description = "The list, back.", body = ListView),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn restore(
    State(state): State<AppState>,
    ApiOwner(actor): ApiOwner,
    base: BaseUrl,
    Path(list_id): Path<String>,
) -> ApiResult<Response> {
    // Not a `ListScope`: that sees only lists that are not deleted.
    let id = super::scope::parse_list_id(&list_id)?;
    let list = state.store.restore_list(actor, id).await?;
    Ok(list_response(StatusCode::OK, &list, &base))
}

/// Sharing needs accounts: without them everyone already shares one space.
fn account(caller: &Caller) -> ApiResult<Owner> {
    match caller {
        Caller::Open => Err(ApiError::NotFound(
            "sharing needs accounts; this server runs with AUTH_MODE=none, where every list is everyone's".to_owned(),
        )),
        other => Ok(Owner::user(other.signed_in()?.user.id)),
    }
}

#[utoipa::path(
    get,
    path = "/api/lists/{list_id}/members",
    operation_id = "listMembers",
    tag = "Lists",
    summary = "Who a list is shared with",
    description = "Any member may ask. The owner is not listed (see the list's `owner`).",
    params(ListIdParam),
    responses(
        (status = 200, description = "The members.", body = Vec<MemberView>),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn members(
    State(state): State<AppState>,
    caller: Caller,
    scope: ListScope,
) -> ApiResult<Response> {
    account(&caller)?;
    let members = state.store.members(scope.actor, scope.list).await?;
    let views: Vec<MemberView> = members.iter().map(MemberView::from).collect();
    Ok(Json(views).into_response())
}

#[utoipa::path(
    post,
    path = "/api/lists/{list_id}/members",
    operation_id = "addMember",
    tag = "Lists",
    summary = "Share a list",
    description = "The owner shares the list with another account, as `editor` or `viewer`. The \
                   list appears for them at once. An unknown username gets 422 (as sign-up \
                   tells whether a name is taken, this tells nothing more); someone already a \
                   member, or a list shared with `MAX_MEMBERS_PER_LIST` people (100 by \
                   default), 409.",
    params(ListIdParam),
    request_body(content = NewMemberBody),
    responses(
        (status = 201, description = "The new member.", body = MemberView),
        (status = 400, response = BadRequest),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn add_member(
    State(state): State<AppState>,
    caller: Caller,
    scope: ListScope,
    JsonBody(body): JsonBody<NewMemberBody>,
) -> ApiResult<Response> {
    account(&caller)?;
    let member = state
        .store
        .add_member(scope.actor, scope.list, &body.username, body.role)
        .await?;
    Ok((StatusCode::CREATED, Json(MemberView::from(&member))).into_response())
}

/// The list and the member in the path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MemberPath {
    /// The list's id.
    #[param(minimum = 1)]
    #[allow(dead_code)] // read by `ListScope`
    list_id: String,
    /// The member's username.
    username: String,
}

impl MemberPath {
    fn username(&self) -> ApiResult<Username> {
        Username::parse(&self.username).map_err(|_| {
            ApiError::NotFound(format!(
                "{:?} is not a member of this list",
                self.username.chars().take(40).collect::<String>()
            ))
        })
    }
}

#[utoipa::path(
    patch,
    path = "/api/lists/{list_id}/members/{username}",
    operation_id = "updateMember",
    tag = "Lists",
    summary = "Change a member's role",
    description = "Only the owner may.",
    params(MemberPath),
    request_body(content = MemberChangesBody),
    responses(
        (status = 200, description = "The member.", body = MemberView),
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
pub async fn update_member(
    State(state): State<AppState>,
    caller: Caller,
    scope: ListScope,
    Path(path): Path<MemberPath>,
    JsonBody(body): JsonBody<MemberChangesBody>,
) -> ApiResult<Response> {
    account(&caller)?;
    let member = state
        .store
        .set_member_role(scope.actor, scope.list, &path.username()?, body.role)
        .await?;
    Ok(Json(MemberView::from(&member)).into_response())
}

#[utoipa::path(
    delete,
    path = "/api/lists/{list_id}/members/{username}",
    operation_id = "removeMember",
    tag = "Lists",
    summary = "Stop sharing a list with someone, or leave it",
    description = "The owner removes any member; a member may remove themselves (leave). The \
                   list is gone for them at once, on every instance.",
    params(MemberPath),
    responses(
        (status = 204, description = "No longer a member."),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    scope: ListScope,
    Path(path): Path<MemberPath>,
) -> ApiResult<StatusCode> {
    account(&caller)?;
    state
        .store
        .remove_member(scope.actor, scope.list, &path.username()?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
