//! Which list a collection route works on, and what the caller may do
//! there.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use utoipa::IntoParams;

use crate::domain::{ListId, Owner, Role};
use crate::http::AppState;
use crate::http::auth::ApiOwner;
use crate::http::error::{ApiError, ApiResult};

/// `/api/todos` is the caller's default list; `/api/lists/{list_id}/…` the
/// list named, if the caller can see it (404 if not, as for a list that
/// does not exist). The role is read on every request, so a member who is
/// removed loses access at once, on every instance.
#[derive(Debug, Clone, Copy)]
pub struct ListScope {
    pub actor: Owner,
    pub list: ListId,
    pub role: Role,
}

impl ListScope {
    /// Refuses (403) a caller who may only read the list.
    pub fn may_change_tasks(&self) -> ApiResult<()> {
        crate::db::Need::ChangeTasks.check(self.list, self.role)?;
        Ok(())
    }
}

impl FromRequestParts<AppState> for ListScope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let ApiOwner(actor) = ApiOwner::from_request_parts(parts, state).await?;
        let named = match RawPathParams::from_request_parts(parts, state).await {
            Ok(params) => params
                .iter()
                .find(|(name, _)| *name == "list_id")
                .map(|(_, raw)| parse_list_id(raw)),
            Err(_) => None,
        };
        match named {
            None => Ok(Self {
                actor,
                list: state.store.default_list(actor).await?,
                role: Role::Owner,
            }),
            Some(list) => {
                let list = list?;
                let role = state.store.role(actor, list).await?;
                Ok(Self { actor, list, role })
            }
        }
    }
}

/// The `{list_id}` path segment: anything but a positive whole number is a
/// list that does not exist.
pub fn parse_list_id(raw: &str) -> ApiResult<ListId> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(ListId)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no list has the id {:?}",
                raw.chars().take(40).collect::<String>()
            ))
        })
}

/// The list id in the path, as the document describes it.
#[derive(IntoParams)]
#[into_params(names("list_id"), parameter_in = Path)]
#[allow(dead_code)] // only its description is used
pub struct ListIdParam(
    /// The list's id. A list the caller cannot see gets 404, as one that
    /// does not exist.
    #[param(minimum = 1)]
    i64,
);
