//! The sign-up, login and logout pages: plain HTML forms that work without
//! JavaScript, in the look of the list page. Every decision is the
//! accounts core's; this module turns forms into its calls and its answers
//! into pages. Without accounts (`AUTH_MODE=none`) none of these routes is
//! mounted (see `http::router`).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Caller, Client, PageForm, SignedIn, Via};
use crate::accounts::{AccountError, NewSession, secrets};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::ui::{ASSETS, Assets, html_response, message_page, sentence};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signup", get(signup_page).post(signup))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .merge(super::settings::router())
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

/// The fields of the sign-up and login forms.
#[derive(Debug, Default, Deserialize)]
struct Credentials {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// A form with nothing in it but its CSRF token.
#[derive(Debug, Default, Deserialize)]
pub(super) struct NoFields {}

/// A page's outcome: either way a response, but errors are logged once.
#[allow(clippy::result_large_err)]
pub(super) type PageResult = Result<Response, Response>;

/// The page for an unexpected failure (logged here, once).
pub(super) fn internal(err: impl Into<ApiError>) -> Response {
    crate::http::ui::UiError::from(err.into()).into_response()
}

pub(super) fn render(status: StatusCode, page: impl Template) -> Response {
    match page.render() {
        Ok(body) => html_response(status, body),
        Err(err) => internal(ApiError::Internal(
            anyhow::Error::new(err).context("failed to render an account page"),
        )),
    }
}

/// How a refusal of the core reads on a page: its status, and the
/// sentence shown next to the form. `None` for failures that get the
/// error page instead.
pub(super) fn refusal(err: &AccountError) -> Option<(StatusCode, String)> {
    let status = match err {
        AccountError::WrongCredentials => StatusCode::UNAUTHORIZED,
        AccountError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
        AccountError::UsernameTaken => {
            return Some((
                StatusCode::CONFLICT,
                "That username is taken; choose another.".to_owned(),
            ));
        }
        AccountError::SignupClosed => StatusCode::FORBIDDEN,
        AccountError::Invalid(e) => {
            return Some((StatusCode::UNPROCESSABLE_ENTITY, sentence(&e.message)));
        }
        AccountError::NoSuchToken => StatusCode::NOT_FOUND,
        AccountError::Busy | AccountError::Store(_) | AccountError::Hashing(_) => return None,
    };
    Some((status, sentence(&err.to_string())))
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

struct FormView<'a> {
    username: &'a str,
    error: Option<String>,
    status: StatusCode,
}

impl FormView<'_> {
    fn blank(status: StatusCode) -> Self {
        FormView {
            username: "",
            error: None,
            status,
        }
    }
}

// ---- Sign up ----------------------------------------------------------------

fn signup_form(state: &AppState, caller: &Caller, client: &Client, view: FormView<'_>) -> Response {
    let (secret, new) = form_secret(caller);
    let open = state.accounts.signup_open();
    let page = AccountForm {
        assets: &ASSETS,
        heading: "Create your account",
        action: "/signup",
        submit: "Create account",
        open,
        csrf_token: state.accounts.csrf_token(&secret),
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
    if matches!(caller, Caller::SignedIn(_)) {
        return Redirect::to("/").into_response();
    }
    let status = if state.accounts.signup_open() {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    signup_form(&state, &caller, &client, FormView::blank(status))
}

async fn signup(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    PageForm(form): PageForm<Credentials>,
) -> Response {
    let signed_up = async {
        let user = state
            .accounts
            .sign_up(client.ip, &form.username, &form.password)
            .await?;
        state.accounts.start_session(&user).await
    };
    match signed_up.await {
        Ok(session) => redirect_with_session("/", &client, &session),
        Err(err) => match refusal(&err) {
            Some((status, error)) => signup_form(
                &state,
                &caller,
                &client,
                FormView {
                    username: &form.username,
                    error: Some(error),
                    status,
                },
            ),
            None => internal(err),
        },
    }
}

pub(super) fn session_cookie(client: &Client, session: &NewSession) -> HeaderValue {
    client.cookie(
        &client.session_cookie_name(),
        Some(&session.secret),
        Some(session.lifetime),
    )
}

fn redirect_with_session(to: &str, client: &Client, session: &NewSession) -> Response {
    redirect_with_cookie(to, session_cookie(client, session))
}

pub(super) fn redirect_with_cookie(to: &str, cookie: HeaderValue) -> Response {
    let mut response = Redirect::to(to).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

pub(super) fn clear_session_cookie(client: &Client) -> HeaderValue {
    client.cookie(&client.session_cookie_name(), None, None)
}

// ---- Log in and out ------------------------------------------------------

fn login_form(state: &AppState, caller: &Caller, client: &Client, view: FormView<'_>) -> Response {
    let (secret, new) = form_secret(caller);
    let page = AccountForm {
        assets: &ASSETS,
        heading: "Log in",
        action: "/login",
        submit: "Log in",
        open: true,
        csrf_token: state.accounts.csrf_token(&secret),
        username: view.username,
        new_password: false,
        password_autocomplete: "current-password",
        error: view.error,
        notice: None,
        switch_text: "No account yet?",
        switch_href: "/signup",
        switch_link: "Create one",
    };
    with_form_cookie(render(view.status, page), client, &secret, new)
}

async fn login_page(State(state): State<AppState>, caller: Caller, client: Client) -> Response {
    if matches!(caller, Caller::SignedIn(_)) {
        return Redirect::to("/").into_response();
    }
    login_form(&state, &caller, &client, FormView::blank(StatusCode::OK))
}

async fn login(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    PageForm(form): PageForm<Credentials>,
) -> Response {
    let username = form.username.trim();
    let logged_in = async {
        let user = state
            .accounts
            .log_in(client.ip, username, &form.password)
            .await?;
        let session = state.accounts.start_session(&user).await?;
        tracing::info!(username = %user.username, "logged in");
        Ok::<_, AccountError>(session)
    };
    match logged_in.await {
        Ok(session) => redirect_with_session("/", &client, &session),
        Err(err) => match refusal(&err) {
            Some((status, error)) => login_form(
                &state,
                &caller,
                &client,
                FormView {
                    username,
                    error: Some(error),
                    status,
                },
            ),
            None => internal(err),
        },
    }
}

async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    PageForm(NoFields {}): PageForm<NoFields>,
) -> Response {
    if let Caller::SignedIn(SignedIn {
        via: Via::Session { secret },
        ..
    }) = &caller
        && let Err(err) = state.accounts.end_session(secret).await
    {
        return internal(err);
    }
    redirect_with_cookie("/login", clear_session_cookie(&client))
}

/// Shown after an account is deleted.
pub(super) fn account_deleted(client: &Client, tasks: u64) -> Response {
    let mut response = message_page(
        StatusCode::OK,
        "Account deleted",
        &format!("Your account and its {tasks} tasks are deleted."),
    );
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_session_cookie(client));
    response
}
