//! Who is calling: accounts, sessions, API tokens, and the checks that keep
//! other web sites from acting with a visitor's cookie.
//!
//! `identify` runs before every route. It works out the client (address,
//! HTTPS, the origin it should be using) and the caller: with
//! `AUTH_MODE=none` everyone is `Caller::Open` on the shared list; with
//! accounts, a bearer token or the session cookie names the account, and
//! nobody else gets further than the login page or a 401.
//!
//! A request that changes something and rides on a cookie must come from one
//! of our own pages: `Sec-Fetch-Site`/`Origin` must not say another site,
//! and it must carry the CSRF token bound to the cookie (a hidden form field,
//! or the `X-CSRF-Token` header from the page's script). Bearer tokens are
//! not sent by browsers on their own, so they need neither.

mod cache;
pub mod pages;
pub mod password;
pub mod secrets;
pub mod throttle;
pub mod tokens;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

use super::AppState;
use super::error::ApiError;
use crate::config::{AuthConfig, AuthMode};
use crate::db::accounts::User;
use crate::db::{Store, StoreError};
use crate::domain::Owner;
use cache::FreshCache;

/// Sessions and tokens are re-read from the database after this long, so a
/// logout or a revocation on one instance holds on every instance within
/// about a second.
const CHECK_AGAIN_AFTER: Duration = Duration::from_secs(1);

/// `last_seen_at` / `last_used_at` are written at most this often per session or token.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::minutes(1);

pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "csrf_token";

/// Everything the accounts feature keeps per process.
#[derive(Clone, Debug)]
pub struct Auth {
    pub config: Arc<AuthConfig>,
    pub hasher: password::PasswordHasher,
    sessions: FreshCache<Option<crate::db::accounts::SessionRecord>>,
    tokens: FreshCache<Option<crate::db::accounts::TokenRecord>>,
    body_limit: usize,
}

impl Auth {
    pub fn new(config: AuthConfig, body_limit: usize) -> Self {
        Self {
            hasher: password::PasswordHasher::new(config.password_hash_concurrency),
            config: Arc::new(config),
            sessions: FreshCache::new(CHECK_AGAIN_AFTER),
            tokens: FreshCache::new(CHECK_AGAIN_AFTER),
            body_limit,
        }
    }

    pub fn accounts(&self) -> bool {
        self.config.mode == AuthMode::Accounts
    }

    /// Forgets what this process remembers of sessions and tokens, after a
    /// change that ends some of them (other processes notice within
    /// `CHECK_AGAIN_AFTER`).
    pub fn forget_credentials(&self) {
        self.sessions.clear();
        self.tokens.clear();
    }
}

/// The client as far as we can trust what it says.
#[derive(Debug, Clone)]
pub struct Client {
    pub ip: IpAddr,
    /// The request reached us (or the trusted proxy) over HTTPS.
    pub https: bool,
    /// The origin our pages are served from, e.g. `https://todo.example.com`.
    pub origin: String,
}

impl Client {
    pub fn of(req: &Request, config: &AuthConfig) -> Self {
        let headers = req.headers();
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip());
        let hops = usize::from(config.trusted_proxy_hops);
        let ip = if hops == 0 {
            peer
        } else {
            // Each trusted proxy appends the address it saw; the client is
            // the entry `hops` from the end. Entries before it are the
            // client's own claims.
            let forwarded: Vec<&str> = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .collect();
            forwarded
                .len()
                .checked_sub(hops)
                .and_then(|i| forwarded[i].parse().ok())
                .unwrap_or(peer)
        };
        let trusted = |name: &str| {
            (hops > 0)
                .then(|| headers.get(name).and_then(|v| v.to_str().ok()))
                .flatten()
                .and_then(|v| v.rsplit(',').next())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let (https, origin) = match &config.public_url {
            Some(url) => (url.is_https(), url.origin().to_owned()),
            None => {
                let https =
                    trusted("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"));
                let host = trusted("x-forwarded-host")
                    .filter(|h| is_valid_host(h))
                    .or_else(|| {
                        headers
                            .get(header::HOST)
                            .and_then(|v| v.to_str().ok())
                            .filter(|h| is_valid_host(h))
                    })
                    .unwrap_or("localhost");
                let scheme = if https { "https" } else { "http" };
                (https, format!("{scheme}://{}", host.to_ascii_lowercase()))
            }
        };
        Self { ip, https, origin }
    }

    fn cookie_name(&self, base: &str) -> String {
        // `__Host-` cookies are only accepted from secure origins, for path
        // `/`, without a Domain: no subdomain can plant or shadow them.
        if self.https {
            format!("__Host-{base}")
        } else {
            base.to_owned()
        }
    }

    pub fn session_cookie_name(&self) -> String {
        self.cookie_name("todo_session")
    }

    pub fn form_cookie_name(&self) -> String {
        self.cookie_name("todo_form")
    }

    /// A `Set-Cookie` value for `name`; `None` deletes the cookie.
    pub fn cookie(
        &self,
        name: &str,
        value: Option<&str>,
        max_age: Option<Duration>,
    ) -> HeaderValue {
        let secure = if self.https { "; Secure" } else { "" };
        let cookie = match value {
            Some(value) => {
                let max_age =
                    max_age.map_or(String::new(), |a| format!("; Max-Age={}", a.as_secs()));
                format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}{max_age}")
            }
            None => format!("{name}=; Path=/; HttpOnly; SameSite=Lax{secure}; Max-Age=0"),
        };
        HeaderValue::from_str(&cookie).expect("cookie values are hex")
    }
}

/// `host[:port]`, IPv6 literals included.
pub fn is_valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
}

/// The value of cookie `name`, if the request has it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// Who is making the request.
#[derive(Debug, Clone)]
pub enum Caller {
    /// `AUTH_MODE=none`: everyone uses the shared list.
    Open,
    /// Accounts are on and this request names none.
    Anonymous {
        form_secret: Option<String>,
    },
    SignedIn(SignedIn),
    /// A bearer token that is unknown, expired or revoked.
    BadToken,
    /// The credentials could not be checked (the database is away). Routes
    /// that need no account (health, assets) still answer.
    Unverified(String),
}

#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub via: Via,
}

#[derive(Debug, Clone)]
pub enum Via {
    /// The session cookie's secret (its hash is the session's key).
    Session {
        secret: String,
    },
    Token {
        id: i64,
    },
}

impl Caller {
    pub fn owner(&self) -> Option<Owner> {
        match self {
            Self::Open => Some(Owner::SHARED),
            Self::SignedIn(s) => Some(Owner::user(s.user.id)),
            _ => None,
        }
    }

    /// The CSRF token our pages must send back with this caller's cookie.
    pub fn csrf_token(&self) -> Option<String> {
        match self {
            Self::SignedIn(SignedIn {
                via: Via::Session { secret },
                ..
            }) => Some(secrets::csrf_token(secret)),
            Self::Anonymous {
                form_secret: Some(secret),
            } => Some(secrets::csrf_token(secret)),
            _ => None,
        }
    }

    /// Why an API request without an account is refused.
    pub fn refusal(&self) -> ApiError {
        match self {
            Self::BadToken => {
                ApiError::Unauthorized("the API token is invalid, expired or revoked".to_owned())
            }
            Self::Unverified(message) => ApiError::Unavailable(message.clone()),
            _ => {
                ApiError::Unauthorized("sign in: send Authorization: Bearer <API token>".to_owned())
            }
        }
    }

    pub fn username(&self) -> Option<&str> {
        match self {
            Self::SignedIn(s) => Some(&s.user.username),
            _ => None,
        }
    }
}

/// Runs before every route: see the module documentation.
pub async fn identify(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let auth = &state.auth;
    let client = Client::of(&req, &auth.config);
    let is_api = req.uri().path().starts_with("/api/");
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let bearer = bearer_token(req.headers()).map(str::to_owned);

    let caller = if !auth.accounts() {
        Caller::Open
    } else if let Some(token) = &bearer {
        match token_caller(&state.store, auth, token).await {
            Ok(Some(signed_in)) => Caller::SignedIn(signed_in),
            Ok(None) => Caller::BadToken,
            Err(err) => unverified(err),
        }
    } else {
        let session = match cookie(req.headers(), &client.session_cookie_name()) {
            Some(secret) if secrets::looks_like_secret(secret) => {
                session_caller(&state.store, auth, secret).await
            }
            _ => Ok(None),
        };
        match session {
            Ok(Some(signed_in)) => Caller::SignedIn(signed_in),
            Err(err) => unverified(err),
            Ok(None) => Caller::Anonymous {
                form_secret: cookie(req.headers(), &client.form_cookie_name())
                    .filter(|s| secrets::looks_like_secret(s))
                    .map(str::to_owned),
            },
        }
    };

    let mut req = req;
    if changes_state {
        let via_session = matches!(
            &caller,
            Caller::SignedIn(SignedIn {
                via: Via::Session { .. },
                ..
            })
        );
        // Forms ride on the cookie; so does the API called with one. The API
        // with a bearer token, or with nothing, is not something a browser
        // sends on its own: other sites need CORS for it.
        if (!is_api || via_session)
            && let Some(reason) = cross_site(req.headers(), &client.origin)
        {
            tracing::warn!(reason, "refused a cross-site request");
            return forbidden(
                is_api,
                "this request came from another web site and was refused",
            );
        }
        let expected_csrf = match &caller {
            Caller::Open
            | Caller::BadToken
            | Caller::Unverified(_)
            | Caller::SignedIn(SignedIn {
                via: Via::Token { .. },
                ..
            }) => None,
            Caller::Anonymous { .. } if is_api => None,
            other => Some(other.csrf_token()),
        };
        req = match check_form(req, expected_csrf, auth.body_limit).await {
            Ok(req) => req,
            Err(response) => return response,
        };
    }

    req.extensions_mut().insert(client);
    req.extensions_mut().insert(caller);
    next.run(req).await
}

/// The caller of a request whose credentials could not be checked.
fn unverified(err: StoreError) -> Caller {
    match ApiError::from(err) {
        ApiError::Unavailable(message) => Caller::Unverified(message),
        // Logged here, with its cause; the refusal then passes the message on.
        err @ ApiError::DatabaseUnavailable(_) => {
            err.log();
            Caller::Unverified(err.public_message())
        }
        other => {
            other.log();
            Caller::Unverified("the sign-in could not be checked; retry in a moment".to_owned())
        }
    }
}

fn forbidden(is_api: bool, message: &str) -> Response {
    if is_api {
        ApiError::Forbidden(message.to_owned()).into_response()
    } else {
        super::ui::message_page(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!("{}.", capitalise(message)),
        )
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// Why a state-changing request looks cross-site, if it does.
fn cross_site(headers: &HeaderMap, origin: &str) -> Option<&'static str> {
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("same-origin" | "none") => return None,
        Some(_) => return Some("Sec-Fetch-Site says another site"),
        None => {}
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(sent) if sent.eq_ignore_ascii_case(origin) => None,
        Some(_) => Some("Origin is another site"),
        // Not a browser, or one too old to say: nothing ambient to abuse
        // beyond what SameSite=Lax already keeps back.
        None => None,
    }
}

/// Checks the body of a form post: text must be valid UTF-8 (as in the
/// API), and with a cookie the CSRF token must match. The body is put back
/// for the handler.
async fn check_form(
    req: Request,
    expected: Option<Option<String>>,
    limit: usize,
) -> Result<Request, Response> {
    let is_api = req.uri().path().starts_with("/api/");
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let from_header = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if !is_form && expected.is_none() {
        return Ok(req);
    }
    let (parts, body) = req.into_parts();
    let (bytes, body) = if is_form {
        match axum::body::to_bytes(body, limit).await {
            Ok(bytes) => (Some(bytes.clone()), Body::from(bytes)),
            Err(_) => {
                return Err(if is_api {
                    ApiError::PayloadTooLarge("the request body is too large".to_owned())
                        .into_response()
                } else {
                    super::ui::message_page(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "Payload Too Large",
                        "The form is too large.",
                    )
                });
            }
        }
    } else {
        (None, body)
    };
    let mut from_form = None;
    if let Some(bytes) = &bytes {
        match form_fields(bytes) {
            Ok(fields) => {
                from_form = fields
                    .into_iter()
                    .find(|(k, _)| k == CSRF_FIELD)
                    .map(|(_, v)| v);
            }
            Err(field) => {
                let message = format!("the form field {field:?} is not valid UTF-8 text");
                return Err(if is_api {
                    ApiError::BadRequest(message).into_response()
                } else {
                    super::ui::message_page(
                        StatusCode::BAD_REQUEST,
                        "Bad Request",
                        &format!("{}.", capitalise(&message)),
                    )
                });
            }
        }
    }
    if let Some(expected) = expected {
        let sent = from_header.or(from_form);
        let valid = matches!((&expected, &sent), (Some(e), Some(s)) if secrets::same_secret(e, s));
        if !valid {
            tracing::warn!(
                has_token = sent.is_some(),
                "refused a request without a valid CSRF token"
            );
            return Err(forbidden(
                is_api,
                "this form has expired or did not come from this site; reload the page and try again",
            ));
        }
    }
    Ok(Request::from_parts(parts, body))
}

/// `application/x-www-form-urlencoded` pairs; the name of the first field
/// whose name or value is not UTF-8 after decoding, if any.
pub fn form_fields(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let decode = |raw: &[u8]| -> Result<String, String> {
        let spaced: Vec<u8> = raw
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        percent_encoding::percent_decode(&spaced)
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| String::from_utf8_lossy(&spaced).into_owned())
    };
    body.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut split = pair.splitn(2, |&b| b == b'=');
            let key = split.next().unwrap_or_default();
            let value = split.next().unwrap_or_default();
            let key = decode(key)?;
            let value = decode(value).map_err(|_| key.clone())?;
            Ok((key, value))
        })
        .collect()
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

async fn token_caller(
    store: &Store,
    auth: &Auth,
    token: &str,
) -> Result<Option<SignedIn>, StoreError> {
    let Some(secret) = token
        .strip_prefix(secrets::TOKEN_PREFIX)
        .filter(|s| secrets::looks_like_secret(s))
    else {
        return Ok(None);
    };
    let hash = secrets::storage_hash(&format!("{}{secret}", secrets::TOKEN_PREFIX));
    let record = auth
        .tokens
        .get_or_fetch(&hash, || store.token(&hash))
        .await?;
    let Some(record) = record else {
        return Ok(None);
    };
    let now = Utc::now();
    if record.expires_at.is_some_and(|at| at <= now) {
        return Ok(None);
    }
    if record.last_used_at.is_none_or(|at| now - at > TOUCH_EVERY) {
        auth.tokens.forget(&hash);
        store.touch_token(record.token_id, now).await?;
    }
    Ok(Some(SignedIn {
        user: record.user,
        via: Via::Token {
            id: record.token_id,
        },
    }))
}

async fn session_caller(
    store: &Store,
    auth: &Auth,
    secret: &str,
) -> Result<Option<SignedIn>, StoreError> {
    let hash = secrets::storage_hash(secret);
    let record = auth
        .sessions
        .get_or_fetch(&hash, || store.session(&hash))
        .await?;
    let Some(record) = record else {
        return Ok(None);
    };
    let now = Utc::now();
    let idle = chrono::Duration::from_std(auth.config.session_idle_timeout)
        .unwrap_or(chrono::Duration::MAX);
    if record.expires_at <= now || now - record.last_seen_at > idle {
        auth.sessions.forget(&hash);
        store.delete_session(&hash).await?;
        return Ok(None);
    }
    if now - record.last_seen_at > TOUCH_EVERY {
        auth.sessions.forget(&hash);
        store.touch_session(&hash, now).await?;
    }
    Ok(Some(SignedIn {
        user: record.user,
        via: Via::Session {
            secret: secret.to_owned(),
        },
    }))
}

// ---- Extractors -----------------------------------------------------------

/// The list an API request works on; 401 without credentials.
pub struct ApiOwner(pub Owner);

impl<S: Send + Sync> FromRequestParts<S> for ApiOwner {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let caller = caller(parts);
        caller.owner().map(Self).ok_or_else(|| caller.refusal())
    }
}

/// The list a page shows; anonymous visitors are sent to the login page.
pub struct PageOwner(pub Owner);

impl<S: Send + Sync> FromRequestParts<S> for PageOwner {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        let caller = caller(parts);
        match caller.owner() {
            Some(owner) => Ok(Self(owner)),
            None if matches!(caller, Caller::Unverified(_)) => {
                Err(super::ui::UiError::from(caller.refusal()).into_response())
            }
            None => Err(Redirect::to("/login").into_response()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(caller(parts))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Client>().cloned().unwrap_or(Client {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            https: false,
            origin: "http://localhost".to_owned(),
        }))
    }
}

fn caller(parts: &Parts) -> Caller {
    // `identify` always runs first; without it, nobody is signed in.
    parts
        .extensions
        .get::<Caller>()
        .cloned()
        .unwrap_or(Caller::Anonymous { form_secret: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_site_requests_are_recognised() {
        let origin = "https://todo.example.com";
        let mut h = HeaderMap::new();
        assert_eq!(cross_site(&h, origin), None);
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(cross_site(&h, origin).is_some());
        h.insert("sec-fetch-site", HeaderValue::from_static("same-site"));
        assert!(cross_site(&h, origin).is_some());
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert_eq!(cross_site(&h, origin), None);
        h.remove("sec-fetch-site");
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(cross_site(&h, origin).is_some());
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(cross_site(&h, origin).is_some());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://todo.example.com"),
        );
        assert_eq!(cross_site(&h, origin), None);
    }

    #[test]
    fn form_fields_decode_and_refuse_invalid_utf8() {
        assert_eq!(
            form_fields(b"title=Buy+milk%21&csrf_token=ab").unwrap(),
            vec![
                ("title".into(), "Buy milk!".into()),
                ("csrf_token".into(), "ab".into())
            ]
        );
        assert_eq!(form_fields(b"title=%FF%FE").unwrap_err(), "title");
    }

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer abc"),
        );
        assert_eq!(bearer_token(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&h), None);
    }
}
