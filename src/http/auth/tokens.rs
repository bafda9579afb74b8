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
use serde_json::{Value, json};

use super::pages::{
    LoginError, WRONG_LOGIN, check_password, delete_user, issue_token, token_request,
};
use super::{Caller, Client, SignedIn, Via};
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::JsonObject;

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

async fn create_token(
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
        Json(json!({
            "id": info.id,
            "name": info.name,
            "token": token,
            "created_at": info.created_at,
            "expires_at": info.expires_at,
        })),
    )
        .into_response())
}

async fn list_tokens(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    accounts_on(&state)?;
    let user = &signed_in(&caller)?.user;
    let tokens = state.store.list_tokens(user.id).await?;
    Ok(Json(tokens).into_response())
}

async fn revoke_token(
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

async fn show_account(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    accounts_on(&state)?;
    let user = &signed_in(&caller)?.user;
    Ok(Json(json!({ "id": user.id.0, "username": user.username })))
}

async fn delete_account(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    accounts_on(&state)?;
    let user = signed_in(&caller)?.user.clone();
    delete_user(&state, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}
