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
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::pages::{
    LoginError, WRONG_LOGIN, check_password, delete_user, issue_token, token_request,
};
use super::{Caller, Client, SignedIn, Via};
use crate::db::accounts::TokenInfo;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::JsonObject;
use crate::http::openapi::responses::*;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tokens", get(list_tokens).post(create_token))
        .route("/api/tokens/{id}", delete(revoke_token))
        .route("/api/account", get(show_account).delete(delete_account))
}

fn accounts_on(state: &AppState) -> ApiResult<()> {
    if state.auth.accounts() {
        Ok(())
    } else {
        Err(ApiError::NotFound(
            "accounts are off on this server (AUTH_MODE=none)".to_owned(),
        ))
    }
}

fn signed_in(caller: &Caller) -> ApiResult<&SignedIn> {
    match caller {
        Caller::SignedIn(s) => Ok(s),
        other => Err(other.refusal()),
    }
}

fn text<'a>(
    body: &'a serde_json::Map<String, Value>,
    field: &'static str,
) -> ApiResult<Option<&'a str>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => {
            Err(crate::domain::FieldError::new(field, format!("{field} must be a string")).into())
        }
    }
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
    request_body(content = TokenRequest),
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
    JsonObject(body): JsonObject,
) -> ApiResult<Response> {
    accounts_on(&state)?;
    let name = text(&body, "name")?.unwrap_or_default();
    let days = match body.get("expires_in_days") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => {
            return Err(crate::domain::FieldError::new(
                "expires_in_days",
                "expires_in_days must be a whole number of days",
            )
            .into());
        }
    };
    // A browser session may create tokens for itself; anyone else proves
    // who they are with the password.
    let user = match &caller {
        Caller::SignedIn(SignedIn {
            user,
            via: Via::Session { .. },
        }) => user.clone(),
        _ => {
            let (Some(username), Some(password)) =
                (text(&body, "username")?, text(&body, "password")?)
            else {
                return Err(ApiError::Unauthorized(
                    "send \"username\" and \"password\" to create a token".to_owned(),
                ));
            };
            match check_password(&state, &client, username, password).await {
                Ok(user) => user,
                Err(LoginError::Wrong) => {
                    return Err(ApiError::Unauthorized(WRONG_LOGIN.to_owned()));
                }
                Err(LoginError::Throttled(wait)) => {
                    return Err(ApiError::TooManyRequests {
                        message: super::pages::too_many(wait),
                        retry_after: wait,
                    });
                }
                Err(LoginError::Other(err)) => return Err(err),
            }
        }
    };
    let (name, expires_at) = token_request(name, days.as_deref())
        .map_err(|message| crate::domain::FieldError::new("name", message))?;
    let (token, info) = issue_token(&state.store, &user, &name, expires_at).await?;
    Ok((
        StatusCode::CREATED,
        Json(NewToken {
            id: info.id,
            name: info.name,
            token,
            created_at: info.created_at,
            expires_at: info.expires_at,
        }),
    )
        .into_response())
}

/// What a new API token is called and how long it lives. Without a browser
/// session, `username` and `password` say whose it is.
///
/// Only its schema is used: `create_token` reads the body field by field.
/// The numbers are literals, as derive attributes need; a test below holds
/// them to `TOKEN_NAME_MAX_CHARS` and `TOKEN_MAX_DAYS`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TokenRequest {
    #[schema(min_length = 1, max_length = 100, examples("backup script"))]
    name: String,
    #[schema(nullable = false)]
    username: Option<String>,
    #[schema(nullable = false, format = Password)]
    password: Option<String>,
    /// Days until the token stops working; absent or null for never.
    #[schema(minimum = 1, maximum = 3650)]
    expires_in_days: Option<u32>,
}

/// A new API token. `token` is shown only here: the server keeps only its
/// hash.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    #[schema(minimum = 1)]
    id: i64,
    name: String,
    /// `todo_pat_` and 64 hexadecimal digits (`secrets::TOKEN_PREFIX` and
    /// `SECRET_BYTES`; a test holds the pattern to them).
    #[schema(pattern = "^todo_pat_[0-9a-f]{64}$")]
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
    /// `domain::Username`: 3 to 40 letters, digits, `.`, `_` or `-`.
    #[schema(pattern = "^[A-Za-z0-9._-]{3,40}$")]
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
    let user = &signed_in(&caller)?.user;
    let tokens = state.store.list_tokens(user.id).await?;
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
    let user = &signed_in(&caller)?.user;
    let id = id.parse::<i64>().ok();
    let revoked = match id {
        Some(id) => state.store.delete_token(user.id, id).await?,
        None => false,
    };
    if !revoked {
        return Err(ApiError::NotFound(
            "you have no API token with this id".to_owned(),
        ));
    }
    state.auth.tokens.clear();
    tracing::info!(username = %user.username, token_id = id, "API token revoked");
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
    let user = &signed_in(&caller)?.user;
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
    description = "Deletes the account with all its tasks, sessions and tokens, for good.",
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn delete_account(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<StatusCode> {
    accounts_on(&state)?;
    let user = signed_in(&caller)?.user.clone();
    delete_user(&state, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod schema_tests {
    use serde_json::{Value, json};
    use utoipa::PartialSchema;

    use super::super::pages::{TOKEN_MAX_DAYS, TOKEN_NAME_MAX_CHARS};
    use super::super::secrets::{SECRET_BYTES, TOKEN_PREFIX};
    use super::*;
    use crate::domain::Username;

    fn schema<T: PartialSchema>() -> Value {
        serde_json::to_value(T::schema()).unwrap()
    }

    #[test]
    fn the_schemas_hold_the_rules_numbers() {
        let request = &schema::<TokenRequest>()["properties"];
        assert_eq!(request["name"]["maxLength"], json!(TOKEN_NAME_MAX_CHARS));
        assert_eq!(request["expires_in_days"]["maximum"], json!(TOKEN_MAX_DAYS));
        let token = &schema::<NewToken>()["properties"]["token"]["pattern"];
        let expected = format!("^{TOKEN_PREFIX}[0-9a-f]{{{}}}$", 2 * SECRET_BYTES);
        assert_eq!(token, &json!(expected));
        let username = &schema::<Account>()["properties"]["username"]["pattern"];
        let expected = format!(
            "^[A-Za-z0-9._-]{{{},{}}}$",
            Username::MIN_CHARS,
            Username::MAX_CHARS
        );
        assert_eq!(username, &json!(expected));
    }
}
