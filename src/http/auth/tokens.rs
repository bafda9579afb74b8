//! The API side of accounts: personal API tokens and the account itself.
//!
//! `POST /api/tokens` takes a username and password (rate-limited like a
//! login), or works for a browser session with its CSRF header; the token
//! is in the answer once and only its hash is kept.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Caller, Client, SignedIn, Via};
use crate::accounts::{AccountError, TokenRequest};
use crate::db::accounts::TokenInfo;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Body, JsonBody};
use crate::http::openapi::responses::*;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tokens", get(list_tokens).post(create_token))
        .route("/api/tokens/{id}", delete(revoke_token))
        .route("/api/account", get(show_account).delete(delete_account))
}

fn accounts_on(state: &AppState) -> ApiResult<()> {
    if state.accounts.enabled() {
        Ok(())
    } else {
        Err(ApiError::NotFound(
            "accounts are off on this server (AUTH_MODE=none)".to_owned(),
        ))
    }
}

/// What a new API token is called and how long it lives. Without a browser
/// session, `username` and `password` say whose it is.
#[derive(Deserialize, ToSchema)]
pub struct NewTokenBody {
    /// What the token is for, 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100, example = "backup script")]
    #[serde(default)]
    name: String,
    username: Option<String>,
    #[schema(format = Password)]
    password: Option<String>,
    /// Days until the token stops working; absent or null for never.
    #[schema(minimum = 1, maximum = 3650)]
    expires_in_days: Option<u32>,
}

impl Body for NewTokenBody {
    const FIELDS: &'static [&'static str] = &["name", "username", "password", "expires_in_days"];
}

/// The password of the account, to confirm a deletion.
#[derive(Deserialize, ToSchema)]
pub struct PasswordConfirmation {
    #[schema(format = Password)]
    #[serde(default)]
    password: String,
}

impl Body for PasswordConfirmation {
    const FIELDS: &'static [&'static str] = &["password"];
}

#[utoipa::path(
    post,
    path = "/api/tokens",
    operation_id = "createToken",
    tag = "Accounts",
    summary = "Create an API token",
    description = "With `username` and `password` in the body (rate-limited like a login), or \
                   from a signed-in browser page with its session cookie and the `X-CSRF-Token` \
                   header. The token is in the answer once.",
    request_body(content = NewTokenBody),
    responses(
        (status = 201, description = "The new token.", body = NewToken),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 429, response = TooManyRequests),
    ),
    security(())
)]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    JsonBody(request): JsonBody<NewTokenBody>,
) -> ApiResult<Response> {
    accounts_on(&state)?;
    // A browser session may create tokens for itself; anyone else proves
    // who they are with the password.
    let user = match &caller {
        Caller::SignedIn(SignedIn {
            user,
            via: Via::Session { .. },
        }) => user.clone(),
        _ => {
            let (Some(username), Some(password)) = (&request.username, &request.password) else {
                return Err(ApiError::Unauthorized(
                    "send \"username\" and \"password\" to create a token".to_owned(),
                ));
            };
            state.accounts.log_in(client.ip, username, password).await?
        }
    };
    let token = TokenRequest::parse(&request.name, request.expires_in_days)?;
    let token = state.accounts.issue_token(&user, token).await?;
    Ok((
        StatusCode::CREATED,
        Json(NewToken {
            id: token.info.id,
            name: token.info.name,
            token: token.secret,
            created_at: token.info.created_at,
            expires_at: token.info.expires_at,
        }),
    )
        .into_response())
}

/// A new API token. `token` is shown only here: the server keeps only its
/// hash.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    #[schema(minimum = 1)]
    id: i64,
    name: String,
    #[schema(pattern = r"^todo_pat_[0-9a-f]{64}$")]
    token: String,
    created_at: DateTime<Utc>,
    #[schema(required = true)]
    expires_at: Option<DateTime<Utc>>,
}

/// Who the caller is.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Account {
    #[schema(minimum = 1)]
    id: i64,
    #[schema(pattern = r"^[A-Za-z0-9._-]{3,40}$")]
    username: String,
}

#[utoipa::path(
    get,
    path = "/api/tokens",
    operation_id = "listTokens",
    tag = "Accounts",
    summary = "List your API tokens",
    description = "Your tokens with their names and dates, never the tokens themselves.",
    responses(
        (status = 200, description = "Your tokens, oldest first.", body = Vec<TokenInfo>),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn list_tokens(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    accounts_on(&state)?;
    let user = &caller.signed_in()?.user;
    let tokens = state.accounts.tokens(user).await?;
    Ok(Json(tokens).into_response())
}

#[utoipa::path(
    delete,
    path = "/api/tokens/{id}",
    operation_id = "revokeToken",
    tag = "Accounts",
    summary = "Revoke an API token",
    description = "The token stops working on every instance within two seconds.",
    params(("id" = String, Path, description = "The id of one of your API tokens.")),
    responses(
        (status = 204, description = "Revoked."),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    )
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    accounts_on(&state)?;
    let user = &caller.signed_in()?.user;
    let id = id.parse::<i64>().map_err(|_| AccountError::NoSuchToken)?;
    state.accounts.revoke_token(user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/api/account",
    operation_id = "showAccount",
    tag = "Accounts",
    summary = "Who you are",
    description = "The account the API token (or browser session) belongs to.",
    responses(
        (status = 200, description = "Your account.", body = Account),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn show_account(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Account>> {
    accounts_on(&state)?;
    let user = &caller.signed_in()?.user;
    Ok(Json(Account {
        id: user.id.0,
        username: user.username.to_string(),
    }))
}

#[utoipa::path(
    delete,
    path = "/api/account",
    operation_id = "deleteAccount",
    tag = "Accounts",
    summary = "Delete your account",
    description = "Deletes the account with all its tasks, sessions and tokens, for good. \
                   The account's password is asked for on every path, so a leaked token or \
                   session alone cannot delete it; wrong passwords count against the login limit.",
    request_body(content = PasswordConfirmation),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 415, response = UnsupportedMediaType),
        (status = 429, response = TooManyRequests),
    )
)]
pub async fn delete_account(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    body: ApiResult<JsonBody<PasswordConfirmation>>,
) -> ApiResult<StatusCode> {
    accounts_on(&state)?;
    // Who is asking comes first: without credentials, a 401 whatever the body.
    let user = caller.signed_in()?.user.clone();
    let JsonBody(confirmation) = body?;
    state
        .accounts
        .delete_account(client.ip, &user, &confirmation.password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    use super::*;
    use crate::accounts::secrets::{SECRET_BYTES, TOKEN_PREFIX};
    use crate::domain::Username;

    fn schema_text<T: PartialSchema>() -> String {
        serde_json::to_string(&T::schema()).unwrap()
    }

    /// The limits written in the schema attributes are the core's.
    #[test]
    fn schema_limits_are_the_cores() {
        let token = schema_text::<NewToken>();
        let pattern = format!("^{TOKEN_PREFIX}[0-9a-f]{{{}}}$", 2 * SECRET_BYTES);
        assert!(
            token.contains(&serde_json::to_string(&pattern).unwrap()),
            "{token}"
        );
        let account = schema_text::<Account>();
        let pattern = format!(
            "^[A-Za-z0-9._-]{{{},{}}}$",
            Username::MIN_CHARS,
            Username::MAX_CHARS
        );
        assert!(
            account.contains(&serde_json::to_string(&pattern).unwrap()),
            "{account}"
        );
        let request = schema_text::<NewTokenBody>();
        assert!(
            request.contains(&format!("\"maxLength\":{}", TokenRequest::NAME_MAX_CHARS)),
            "{request}"
        );
        assert!(
            request.contains(&format!("\"maximum\":{}", TokenRequest::MAX_DAYS)),
            "{request}"
        );
    }
}
