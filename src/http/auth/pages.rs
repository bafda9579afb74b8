//! The account pages: sign up, log in, log out and settings. Plain HTML
//! forms that work without JavaScript, in the look of the list page.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};

use super::{Caller, Client, SignedIn, Via, form_fields, secrets, throttle};
use crate::config::Signup;
use crate::db::StoreError;
use crate::db::accounts::User;
use crate::domain::{NewPassword, Username};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::ui::{ASSETS, Assets, html_response, message_page};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signup", get(signup_page).post(signup))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/settings", get(settings_page))
        .route("/settings/password", post(change_password))
        .route("/settings/tokens", post(create_token))
        .route("/settings/tokens/{id}/delete", post(revoke_token))
        .route("/settings/logout-everywhere", post(logout_everywhere))
        .route("/settings/delete-account", post(delete_account))
}

#[derive(Template)]
#[template(path = "account_form.html", config = "src/http/ui/askama.toml")]
struct AccountForm<'a> {
    assets: &'static Assets,
    heading: &'a str,
    action: &'a str,
    submit: &'a str,
    /// False when sign-up is closed: no form, only the explanation.
    open: bool,
    csrf_token: String,
    username: &'a str,
    new_password: bool,
    password_autocomplete: &'a str,
    error: Option<String>,
    notice: Option<&'a str>,
    switch_text: &'a str,
    switch_href: &'a str,
    switch_link: &'a str,
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

/// A page's outcome: either way a response, but errors are logged once.
#[allow(clippy::result_large_err)]
type PageResult = Result<Response, Response>;

fn internal(err: impl Into<ApiError>) -> Response {
    let err: ApiError = err.into();
    err.log();
    let status = err.status();
    let message = crate::http::ui::sentence(&err.public_message());
    message_page(
        status,
        status.canonical_reason().unwrap_or("Error"),
        &message,
    )
}

fn render(status: StatusCode, page: impl Template) -> Response {
    match page.render() {
        Ok(body) => html_response(status, body),
        Err(err) => internal(ApiError::Internal(
            anyhow::Error::new(err).context("failed to render an account page"),
        )),
    }
}

/// The form cookie login and sign-up forms are bound to: the caller's own,
/// or a new one (set on the response).
fn form_secret(caller: &Caller) -> (String, bool) {
    match caller {
        Caller::Anonymous {
            form_secret: Some(secret),
        } => (secret.clone(), false),
        _ => (secrets::random_secret(), true),
    }
}

fn with_form_cookie(mut response: Response, client: &Client, secret: &str, new: bool) -> Response {
    if new {
        response.headers_mut().append(
            header::SET_COOKIE,
            client.cookie(&client.form_cookie_name(), Some(secret), None),
        );
    }
    response
}

/// Reads the form fields the CSRF middleware already checked for UTF-8.
async fn read_form(body: axum::body::Bytes) -> std::collections::HashMap<String, String> {
    form_fields(&body).unwrap_or_default().into_iter().collect()
}

fn accounts_off(state: &AppState) -> Option<Response> {
    (!state.auth.accounts()).then(crate::http::ui::not_found_page)
}

// ---- Sign up ----------------------------------------------------------------

struct FormView<'a> {
    username: &'a str,
    error: Option<String>,
    status: StatusCode,
}

fn signup_form(state: &AppState, caller: &Caller, client: &Client, view: FormView<'_>) -> Response {
    let (secret, new) = form_secret(caller);
    let open = state.auth.config.signup == Signup::Open;
    let page = AccountForm {
        assets: &ASSETS,
        heading: "Create your account",
        action: "/signup",
        submit: "Create account",
        open,
        csrf_token: secrets::csrf_token(&secret),
        username: view.username,
        new_password: true,
        password_autocomplete: "new-password",
        error: view.error,
        notice: (!open)
            .then_some("Sign-up is closed on this server: ask its administrator for an account."),
        switch_text: "Already have an account?",
        switch_href: "/login",
        switch_link: "Log in",
    };
    with_form_cookie(render(view.status, page), client, &secret, new)
}

async fn signup_page(State(state): State<AppState>, caller: Caller, client: Client) -> Response {
    if let Some(off) = accounts_off(&state) {
        return off;
    }
    if matches!(caller, Caller::SignedIn(_)) {
        return Redirect::to("/").into_response();
    }
    let status = if state.auth.config.signup == Signup::Open {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    signup_form(
        &state,
        &caller,
        &client,
        FormView {
            username: "",
            error: None,
            status,
        },
    )
}

async fn signup(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    body: axum::body::Bytes,
) -> Response {
    if let Some(off) = accounts_off(&state) {
        return off;
    }
    let form = read_form(body).await;
    let raw_name = form.get("username").map(String::as_str).unwrap_or_default();
    let refuse = |status, error: String| {
        signup_form(
            &state,
            &caller,
            &client,
            FormView {
                username: raw_name,
                error: Some(error),
                status,
            },
        )
    };
    if state.auth.config.signup == Signup::Closed {
        return refuse(
            StatusCode::FORBIDDEN,
            "Sign-up is closed on this server.".to_owned(),
        );
    }
    let keys = throttle::signup_keys(&client.ip.to_string());
    match throttle::blocked_for(&state.store, &keys).await {
        Ok(Some(wait)) => return refuse(StatusCode::TOO_MANY_REQUESTS, too_many(wait)),
        Ok(None) => {}
        Err(err) => return internal(err),
    }
    let username = match Username::parse(raw_name) {
        Ok(name) => name,
        Err(e) => {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                crate::http::ui::sentence(&e.message),
            );
        }
    };
    let password = match NewPassword::parse(
        form.get("password").map(String::as_str).unwrap_or_default(),
        "password",
    ) {
        Ok(p) => p,
        Err(e) => {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                crate::http::ui::sentence(&e.message),
            );
        }
    };
    match create_account(&state, &client, &username, &password).await {
        Ok(user) => match start_session(&state, &client, &user).await {
            Ok(cookie) => redirect_with_cookie("/", cookie),
            Err(err) => internal(err),
        },
        Err(ApiError::Conflict(_)) => refuse(
            StatusCode::CONFLICT,
            "That username is taken; choose another.".to_owned(),
        ),
        Err(ApiError::TooManyRequests { message, .. }) => {
            refuse(StatusCode::TOO_MANY_REQUESTS, message)
        }
        Err(err) => internal(err),
    }
}

/// Creates an account from the sign-up page: counts the sign-up against
/// the client's address, then registers it.
pub async fn create_account(
    state: &AppState,
    client: &Client,
    username: &Username,
    password: &NewPassword,
) -> Result<User, ApiError> {
    throttle::record_failure(&state.store, &throttle::signup_keys(&client.ip.to_string())).await?;
    register(&state.store, &state.auth.hasher, username, password).await
}

/// Creates an account (the sign-up page's and the CLI's way in): hashes the
/// password off the runtime, and says in the log when the first account
/// took over the tasks from before accounts.
pub async fn register(
    store: &crate::db::Store,
    hasher: &super::password::PasswordHasher,
    username: &Username,
    password: &NewPassword,
) -> Result<User, ApiError> {
    let hash = hasher.hash(password.expose()).await.map_err(hash_error)?;
    let account = store.create_user(username, &hash).await?;
    tracing::info!(username = %username, "account created");
    if account.claimed_tasks > 0 {
        tracing::info!(
            username = %username,
            tasks = account.claimed_tasks,
            "the first account received the tasks stored before accounts were turned on"
        );
    }
    Ok(account.user)
}

pub fn hash_error(err: super::password::HashError) -> ApiError {
    match err {
        super::password::HashError::Busy => ApiError::Unavailable(
            "too many sign-ins are being checked right now; retry in a moment".to_owned(),
        ),
        super::password::HashError::Failed(msg) => ApiError::Internal(anyhow::anyhow!(msg)),
    }
}

pub fn too_many(wait: std::time::Duration) -> String {
    format!(
        "Too many attempts. Try again in {} seconds.",
        wait.as_secs().max(1)
    )
}

/// Starts a session for `user`: a new random secret every time (so a
/// session id planted before login is worthless). Returns its cookie.
pub async fn start_session(
    state: &AppState,
    client: &Client,
    user: &User,
) -> Result<HeaderValue, ApiError> {
    let secret = secrets::random_secret();
    let lifetime = state.auth.config.session_lifetime;
    // Logins are rare enough to sweep out sessions nobody will present again.
    let idle = chrono::Duration::from_std(state.auth.config.session_idle_timeout)
        .unwrap_or(chrono::Duration::MAX);
    state.store.delete_stale_sessions(Utc::now() - idle).await?;
    let expires_at =
        Utc::now() + chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::days(30));
    state
        .store
        .create_session(user.id, &secrets::storage_hash(&secret), expires_at)
        .await?;
    Ok(client.cookie(&client.session_cookie_name(), Some(&secret), Some(lifetime)))
}

fn redirect_with_cookie(to: &str, cookie: HeaderValue) -> Response {
    let mut response = Redirect::to(to).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

// ---- Log in and out ------------------------------------------------------

fn login_form(
    caller: &Caller,
    client: &Client,
    view: FormView<'_>,
    notice: Option<&str>,
) -> Response {
    let (secret, new) = form_secret(caller);
    let page = AccountForm {
        assets: &ASSETS,
        heading: "Log in",
        action: "/login",
        submit: "Log in",
        open: true,
        csrf_token: secrets::csrf_token(&secret),
        username: view.username,
        new_password: false,
        password_autocomplete: "current-password",
        error: view.error,
        notice,
        switch_text: "No account yet?",
        switch_href: "/signup",
        switch_link: "Create one",
    };
    with_form_cookie(render(view.status, page), client, &secret, new)
}

async fn login_page(State(state): State<AppState>, caller: Caller, client: Client) -> Response {
    if let Some(off) = accounts_off(&state) {
        return off;
    }
    if matches!(caller, Caller::SignedIn(_)) {
        return Redirect::to("/").into_response();
    }
    login_form(
        &caller,
        &client,
        FormView {
            username: "",
            error: None,
            status: StatusCode::OK,
        },
        None,
    )
}

/// Why a password check failed, in words that never say whether the
/// username exists.
pub enum LoginError {
    Wrong,
    Throttled(std::time::Duration),
    Other(ApiError),
}

/// Checks a username and password, with the shared rate limits.
pub async fn check_password(
    state: &AppState,
    client: &Client,
    raw_name: &str,
    password: &str,
) -> Result<User, LoginError> {
    // An invalid name cannot exist; it still counts against the address.
    let username = Username::parse(raw_name).ok();
    let key = username
        .as_ref()
        .map_or_else(|| raw_name.to_ascii_lowercase(), Username::key);
    let keys = throttle::login_keys(&client.ip.to_string(), &key);
    match throttle::blocked_for(&state.store, &keys).await {
        Ok(Some(wait)) => return Err(LoginError::Throttled(wait)),
        Ok(None) => {}
        Err(err) => return Err(LoginError::Other(err.into())),
    }
    let credentials = match &username {
        Some(name) => state
            .store
            .user_credentials(name)
            .await
            .map_err(|e| LoginError::Other(e.into()))?,
        None => None,
    };
    let valid = state
        .auth
        .hasher
        .verify(
            password,
            credentials.as_ref().map(|c| c.password_hash.as_str()),
        )
        .await
        .map_err(|e| LoginError::Other(hash_error(e)))?;
    match credentials {
        Some(c) if valid => {
            throttle::forget(&state.store, &keys[1])
                .await
                .map_err(|e| LoginError::Other(e.into()))?;
            Ok(User {
                id: crate::domain::UserId(c.id),
                username: c.username,
            })
        }
        _ => {
            throttle::record_failure(&state.store, &keys)
                .await
                .map_err(|e| LoginError::Other(e.into()))?;
            tracing::info!(client = %client.ip, "failed login");
            Err(LoginError::Wrong)
        }
    }
}

pub const WRONG_LOGIN: &str = "The username or password is wrong.";

async fn login(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    body: axum::body::Bytes,
) -> Response {
    if let Some(off) = accounts_off(&state) {
        return off;
    }
    let form = read_form(body).await;
    let raw_name = form
        .get("username")
        .map(String::as_str)
        .unwrap_or_default()
        .trim();
    let password = form.get("password").map(String::as_str).unwrap_or_default();
    let refuse = |status, error: String| {
        login_form(
            &caller,
            &client,
            FormView {
                username: raw_name,
                error: Some(error),
                status,
            },
            None,
        )
    };
    match check_password(&state, &client, raw_name, password).await {
        Ok(user) => match start_session(&state, &client, &user).await {
            Ok(cookie) => {
                tracing::info!(username = %user.username, "logged in");
                redirect_with_cookie("/", cookie)
            }
            Err(err) => internal(err),
        },
        Err(LoginError::Wrong) => refuse(StatusCode::UNAUTHORIZED, WRONG_LOGIN.to_owned()),
        Err(LoginError::Throttled(wait)) => refuse(StatusCode::TOO_MANY_REQUESTS, too_many(wait)),
        Err(LoginError::Other(err)) => internal(err),
    }
}

fn clear_session_cookie(client: &Client) -> HeaderValue {
    client.cookie(&client.session_cookie_name(), None, None)
}

async fn logout(State(state): State<AppState>, caller: Caller, client: Client) -> Response {
    if let Some(off) = accounts_off(&state) {
        return off;
    }
    if let Caller::SignedIn(SignedIn {
        via: Via::Session { secret },
        ..
    }) = &caller
    {
        let hash = secrets::storage_hash(secret);
        if let Err(err) = state.store.delete_session(&hash).await {
            return internal(err);
        }
        state.auth.sessions.forget(&hash);
    }
    redirect_with_cookie("/login", clear_session_cookie(&client))
}

// ---- Settings -------------------------------------------------------------

/// The signed-in user of a settings request (by session: tokens are for the
/// API). The error is the redirect to the login page.
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

async fn settings(state: &AppState, caller: &Caller, view: SettingsView<'_>) -> PageResult {
    let (user, secret) = session_user(caller)?;
    let tokens = state.store.list_tokens(user.id).await.map_err(internal)?;
    let page = SettingsPage {
        assets: &ASSETS,
        username: &user.username,
        csrf_token: secrets::csrf_token(secret),
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

fn plain(status: StatusCode) -> SettingsView<'static> {
    SettingsView {
        new_token: None,
        notice: None,
        error: None,
        status,
    }
}

async fn settings_page(State(state): State<AppState>, caller: Caller) -> Response {
    if let Some(off) = accounts_off(&state) {
        return off;
    }
    settings(&state, &caller, plain(StatusCode::OK))
        .await
        .unwrap_or_else(|r| r)
}

async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    body: axum::body::Bytes,
) -> Response {
    if let Some(off) = accounts_off(&state) {
        return off;
    }
    let result = async {
        let (user, secret) = session_user(&caller)?;
        let form = read_form(body).await;
        let current = form.get("current_password").map(String::as_str).unwrap_or_default();
        let error = |status, message: String| SettingsView { error: Some(message), ..plain(status) };
        let view = match check_password(&state, &client, &user.username, current).await {
            Err(LoginError::Wrong) => error(StatusCode::UNAUTHORIZED, "The current password is wrong.".to_owned()),
            Err(LoginError::Throttled(wait)) => error(StatusCode::TOO_MANY_REQUESTS, too_many(wait)),
            Err(LoginError::Other(err)) => return Err(internal(err)),
            Ok(_) => match NewPassword::parse(form.get("password").map(String::as_str).unwrap_or_default(), "password") {
                Err(e) => error(StatusCode::UNPROCESSABLE_ENTITY, crate::http::ui::sentence(&e.message)),
                Ok(new) => {
                    let hash = state.auth.hasher.hash(new.expose()).await.map_err(|e| internal(hash_error(e)))?;
                    state
                        .store
                        .set_password(user.id, &hash, &secrets::storage_hash(secret))
                        .await
                        .map_err(internal)?;
                    state.auth.forget_credentials();
                    tracing::info!(username = %user.username, "password changed; other sessions ended");
                    SettingsView {
                        notice: Some("Password changed. Your other sessions are logged out."),
                        ..plain(StatusCode::OK)
                    }
                }
            },
        };
        settings(&state, &caller, view).await
    }
    .await;
    result.unwrap_or_else(|r| r)
}

/// Makes an API token for `user`: the secret to show once, and what is kept.
pub async fn issue_token(
    store: &crate::db::Store,
    user: &User,
    name: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(String, crate::db::accounts::TokenInfo), StoreError> {
    let token = secrets::new_api_token();
    let info = store
        .create_token(user.id, name, &secrets::storage_hash(&token), expires_at)
        .await?;
    tracing::info!(username = %user.username, token_id = info.id, "API token created");
    Ok((token, info))
}

/// Parses the token form: a name and an optional lifetime in days.
/// The longest name an API token may have, in characters.
pub const TOKEN_NAME_MAX_CHARS: usize = 100;
/// The longest an API token may live, in days.
pub const TOKEN_MAX_DAYS: u32 = 3650;

pub fn token_request(
    name: &str,
    days: Option<&str>,
) -> Result<(String, Option<DateTime<Utc>>), String> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > TOKEN_NAME_MAX_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(format!(
            "a token needs a name of 1 to {TOKEN_NAME_MAX_CHARS} characters, without control characters"
        ));
    }
    let expires_at = match days.map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(raw) => match raw.parse::<u32>() {
            Ok(days @ 1..=TOKEN_MAX_DAYS) => {
                Some(Utc::now() + chrono::Duration::days(i64::from(days)))
            }
            _ => {
                return Err(format!(
                    "expires_in_days {raw:?} must be a whole number of days from 1 to {TOKEN_MAX_DAYS}"
                ));
            }
        },
    };
    Ok((name.to_owned(), expires_at))
}

async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Response {
    if let Some(off) = accounts_off(&state) {
        return off;
    }
    let result = async {
        let (user, _) = session_user(&caller)?;
        let form = read_form(body).await;
        let view = match token_request(
            form.get("name").map(String::as_str).unwrap_or_default(),
            form.get("expires_in_days").map(String::as_str),
        ) {
            Err(message) => SettingsView {
                error: Some(crate::http::ui::sentence(&message)),
                ..plain(StatusCode::UNPROCESSABLE_ENTITY)
            },
            Ok((name, expires_at)) => {
                let (token, _) = issue_token(&state.store, user, &name, expires_at)
                    .await
                    .map_err(internal)?;
                SettingsView {
                    new_token: Some(token),
                    notice: Some("Token created."),
                    ..plain(StatusCode::CREATED)
                }
            }
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
) -> Response {
    if let Some(off) = accounts_off(&state) {
        return off;
    }
    let result = async {
        let (user, _) = session_user(&caller)?;
        let revoked = match id.parse::<i64>() {
            Ok(id) => state
                .store
                .delete_token(user.id, id)
                .await
                .map_err(internal)?,
            Err(_) => false,
        };
        state.auth.tokens.clear();
        let view = if revoked {
            SettingsView {
                notice: Some("Token revoked."),
                ..plain(StatusCode::OK)
            }
        } else {
            SettingsView {
                error: Some("There is no such token.".to_owned()),
                ..plain(StatusCode::NOT_FOUND)
            }
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
) -> Response {
    if let Some(off) = accounts_off(&state) {
        return off;
    }
    let Ok((user, _)) = session_user(&caller) else {
        return Redirect::to("/login").into_response();
    };
    match state.store.delete_sessions(user.id).await {
        Ok(ended) => {
            state.auth.sessions.clear();
            tracing::info!(username = %user.username, sessions = ended, "logged out everywhere");
            redirect_with_cookie("/login", clear_session_cookie(&client))
        }
        Err(err) => internal(err),
    }
}

async fn delete_account(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    body: axum::body::Bytes,
) -> Response {
    if let Some(off) = accounts_off(&state) {
        return off;
    }
    let result = async {
        let (user, _) = session_user(&caller)?;
        let form = read_form(body).await;
        let password = form.get("password").map(String::as_str).unwrap_or_default();
        let error = |status, message: String| SettingsView {
            error: Some(message),
            ..plain(status)
        };
        let view = match check_password(&state, &client, &user.username, password).await {
            Err(LoginError::Wrong) => error(
                StatusCode::UNAUTHORIZED,
                "The password is wrong; the account was not deleted.".to_owned(),
            ),
            Err(LoginError::Throttled(wait)) => {
                error(StatusCode::TOO_MANY_REQUESTS, too_many(wait))
            }
            Err(LoginError::Other(err)) => return Err(internal(err)),
            Ok(_) => {
                let tasks = delete_user(&state, user).await.map_err(internal)?;
                let mut response = message_page(
                    StatusCode::OK,
                    "Account deleted",
                    &format!("Your account and its {tasks} tasks are deleted."),
                );
                response
                    .headers_mut()
                    .append(header::SET_COOKIE, clear_session_cookie(&client));
                return Ok(response);
            }
        };
        settings(&state, &caller, view).await
    }
    .await;
    result.unwrap_or_else(|r| r)
}

/// Deletes an account and everything it owns; its sessions and tokens stop
/// working on this instance at once, on the others within a second.
pub async fn delete_user(state: &AppState, user: &User) -> Result<u64, StoreError> {
    let tasks = state.store.delete_user(user.id).await?;
    state.auth.forget_credentials();
    tracing::info!(username = %user.username, tasks, "account deleted");
    Ok(tasks)
}
