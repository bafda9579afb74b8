//! The settings page: password, API tokens, sessions, deleting the account.
//! A session's page only (tokens are for the API).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::pages::{
    NoFields, PageResult, account_deleted, clear_session_cookie, internal, redirect_with_cookie,
    refusal, render,
};
use super::{Caller, Client, PageForm, SignedIn, Via};
use crate::accounts::{AccountError, TokenRequest};
use crate::db::accounts::User;
use crate::domain::FieldError;
use crate::http::AppState;
use crate::http::ui::{ASSETS, Assets};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings", get(settings_page))
        .route("/settings/password", post(change_password))
        .route("/settings/tokens", post(create_token))
        .route("/settings/tokens/{id}/delete", post(revoke_token))
        .route("/settings/logout-everywhere", post(logout_everywhere))
        .route("/settings/delete-account", post(delete_account))
}

#[derive(Template)]
#[template(path = "settings.html", config = "src/http/ui/askama.toml")]
struct SettingsPage<'a> {
    assets: &'static Assets,
    username: &'a str,
    csrf_token: String,
    tokens: Vec<TokenRow>,
    new_token: Option<String>,
    notice: Option<&'a str>,
    error: Option<String>,
}

struct TokenRow {
    id: i64,
    name: String,
    created: String,
    last_used: String,
    expires: String,
}

#[derive(Debug, Default, Deserialize)]
struct PasswordChange {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    password: String,
}

#[derive(Debug, Default, Deserialize)]
struct NewTokenForm {
    #[serde(default)]
    name: String,
    expires_in_days: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Confirmation {
    #[serde(default)]
    password: String,
}

/// The signed-in user of a settings request and their session's secret.
/// The error is the redirect to the login page.
#[allow(clippy::result_large_err)]
fn session_user(caller: &Caller) -> Result<(&User, &str), Response> {
    match caller {
        Caller::SignedIn(SignedIn {
            user,
            via: Via::Session { secret },
        }) => Ok((user, secret)),
        _ => Err(Redirect::to("/login").into_response()),
    }
}

fn when(at: Option<DateTime<Utc>>, none: &str) -> String {
    at.map_or_else(
        || none.to_owned(),
        |at| at.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

struct SettingsView<'a> {
    new_token: Option<String>,
    notice: Option<&'a str>,
    error: Option<String>,
    status: StatusCode,
}

fn plain(status: StatusCode) -> SettingsView<'static> {
    SettingsView {
        new_token: None,
        notice: None,
        error: None,
        status,
    }
}

fn notice(status: StatusCode, notice: &str) -> SettingsView<'_> {
    SettingsView {
        notice: Some(notice),
        ..plain(status)
    }
}

/// The page again with the core's refusal next to the forms, or the error
/// page for a failure.
#[allow(clippy::result_large_err)]
fn refused(
    err: AccountError,
    reword: impl FnOnce(&AccountError) -> Option<&'static str>,
) -> Result<SettingsView<'static>, Response> {
    let Some((status, error)) = refusal(&err) else {
        return Err(internal(err));
    };
    Ok(SettingsView {
        error: Some(reword(&err).map_or(error, str::to_owned)),
        ..plain(status)
    })
}

async fn settings(state: &AppState, caller: &Caller, view: SettingsView<'_>) -> PageResult {
    let (user, secret) = session_user(caller)?;
    let tokens = state.accounts.tokens(user).await.map_err(internal)?;
    let page = SettingsPage {
        assets: &ASSETS,
        username: &user.username,
        csrf_token: state.accounts.csrf_token(secret),
        tokens: tokens
            .into_iter()
            .map(|t| TokenRow {
                id: t.id,
                name: t.name,
                created: when(Some(t.created_at), ""),
                last_used: when(t.last_used_at, "never"),
                expires: when(t.expires_at, "never"),
            })
            .collect(),
        new_token: view.new_token,
        notice: view.notice,
        error: view.error,
    };
    Ok(render(view.status, page))
}

async fn settings_page(State(state): State<AppState>, caller: Caller) -> Response {
    settings(&state, &caller, plain(StatusCode::OK))
        .await
        .unwrap_or_else(|r| r)
}

async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    PageForm(form): PageForm<PasswordChange>,
) -> Response {
    let result = async {
        let (user, secret) = session_user(&caller)?;
        let changed = state
            .accounts
            .change_password(
                client.ip,
                user,
                Some(secret),
                &form.current_password,
                &form.password,
            )
            .await;
        let view = match changed {
            Ok(()) => notice(
                StatusCode::OK,
                "Password changed. Your other sessions are logged out and your API tokens revoked.",
            ),
            Err(err) => refused(err, |err| {
                matches!(err, AccountError::WrongCredentials)
                    .then_some("The current password is wrong.")
            })?,
        };
        settings(&state, &caller, view).await
    }
    .await;
    result.unwrap_or_else(|r| r)
}

/// The token form's lifetime: empty for never, else a whole number of days.
fn days(raw: Option<&str>) -> Result<Option<u32>, FieldError> {
    match raw.map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(None),
        Some(raw) => raw.parse::<u32>().map(Some).map_err(|_| {
            FieldError::new(
                "expires_in_days",
                format!(
                    "expires_in_days {raw:?} must be a whole number of days from 1 to {}",
                    TokenRequest::MAX_DAYS
                ),
            )
        }),
    }
}

async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    PageForm(form): PageForm<NewTokenForm>,
) -> Response {
    let result = async {
        let (user, _) = session_user(&caller)?;
        let made = async {
            let request = TokenRequest::parse(&form.name, days(form.expires_in_days.as_deref())?)?;
            state.accounts.issue_token(user, request).await
        };
        let view = match made.await {
            Ok(token) => SettingsView {
                new_token: Some(token.secret),
                ..notice(StatusCode::CREATED, "Token created.")
            },
            Err(err) => refused(err, |_| None)?,
        };
        settings(&state, &caller, view).await
    }
    .await;
    result.unwrap_or_else(|r| r)
}

async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    PageForm(NoFields {}): PageForm<NoFields>,
) -> Response {
    let result = async {
        let (user, _) = session_user(&caller)?;
        let revoked = match id.parse::<i64>() {
            Ok(id) => state.accounts.revoke_token(user, id).await,
            Err(_) => Err(AccountError::NoSuchToken),
        };
        let view = match revoked {
            Ok(()) => notice(StatusCode::OK, "Token revoked."),
            Err(err) => refused(err, |err| {
                matches!(err, AccountError::NoSuchToken).then_some("There is no such token.")
            })?,
        };
        settings(&state, &caller, view).await
    }
    .await;
    result.unwrap_or_else(|r| r)
}

async fn logout_everywhere(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    PageForm(NoFields {}): PageForm<NoFields>,
) -> Response {
    let Ok((user, _)) = session_user(&caller) else {
        return Redirect::to("/login").into_response();
    };
    match state.accounts.end_everything(user).await {
        Ok(()) => redirect_with_cookie("/login", clear_session_cookie(&client)),
        Err(err) => internal(err),
    }
}

async fn delete_account(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    PageForm(form): PageForm<Confirmation>,
) -> Response {
    let result = async {
        let (user, _) = session_user(&caller)?;
        let view = match state
            .accounts
            .delete_account(client.ip, user, &form.password)
            .await
        {
            Ok(tasks) => return Ok(account_deleted(&client, tasks)),
            Err(err) => refused(err, |err| {
                matches!(err, AccountError::WrongCredentials)
                    .then_some("The password is wrong; the account was not deleted.")
            })?,
        };
        settings(&state, &caller, view).await
    }
    .await;
    result.unwrap_or_else(|r| r)
}
