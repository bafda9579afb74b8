//! The middleware that runs before every route: who is calling, and may a
//! request that changes something go ahead.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;

use super::caller::Caller;
use super::client::{Client, cookie};
use super::form::{CSRF_HEADER, CsrfCheck, PageCsrfToken};
use crate::accounts::{SignedIn, Via, secrets};
use crate::db::StoreError;
use crate::http::AppState;
use crate::http::audience::Audience;
use crate::http::error::ApiError;

/// See the module documentation of `http::auth`.
pub async fn identify(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let accounts = &state.accounts;
    let client = Client::of(&req, accounts.config());
    let audience = Audience::of(req.uri());
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);

    let caller = if !accounts.enabled() {
        Caller::Open
    } else if audience == Audience::Dav {
        // CalDAV clients sign in with Basic and an app password, on every
        // request; they carry no cookie.
        match basic_credentials(req.headers()) {
            Some((username, secret)) => {
                match accounts.app_password(client.ip, &username, &secret).await {
                    Ok(signed_in) => Caller::SignedIn(signed_in),
                    Err(err) => return audience.answer(ApiError::from(err)),
                }
            }
            None => Caller::Anonymous { form_secret: None },
        }
    } else if let Some(token) = bearer_token(req.headers()) {
        match accounts.token(token).await {
            Ok(Some(signed_in)) => Caller::SignedIn(signed_in),
            Ok(None) => Caller::BadToken,
            Err(err) => unverified(err),
        }
    } else {
        let session = match cookie(req.headers(), &client.session_cookie_name()) {
            Some(secret) => accounts.session(secret).await,
            None => Ok(None),
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
    let expected_csrf = caller.cookie_secret().map(|s| accounts.csrf_token(s));

    let mut check = CsrfCheck::Done;
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
        if (audience != Audience::Api || via_session)
            && let Some(reason) = cross_site(req.headers(), &client.origin)
        {
            tracing::warn!(reason, "refused a cross-site request");
            return audience.answer(ApiError::Forbidden(
                "this request came from another web site and was refused".to_owned(),
            ));
        }
        let needs_token = match &caller {
            Caller::Open | Caller::BadToken | Caller::Unverified(_) => false,
            Caller::SignedIn(s) => matches!(s.via, Via::Session { .. }),
            Caller::Anonymous { .. } => audience == Audience::Page,
        };
        if needs_token {
            let sent = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            check = match (&expected_csrf, sent) {
                (Some(expected), Some(sent)) if secrets::same_secret(expected, sent) => {
                    CsrfCheck::Done
                }
                // The script sends the header; a plain form carries the
                // token as a field, which `PageForm` checks as it reads it.
                (expected, None) if audience == Audience::Page => {
                    CsrfCheck::Pending(expected.clone())
                }
                _ => return super::form::csrf_refusal(audience, sent.is_some()),
            };
        }
    }

    let extensions = req.extensions_mut();
    extensions.insert(client);
    extensions.insert(caller);
    extensions.insert(PageCsrfToken(expected_csrf));
    extensions.insert(check);
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

/// The username and secret of `Authorization: Basic …`.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (username, secret) = decoded.split_once(':')?;
    Some((username.to_owned(), secret.to_owned()))
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

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
    fn basic_credentials_are_decoded() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic YWRhOnRvZG9fcGF0X3g6eQ=="),
        );
        assert_eq!(
            basic_credentials(&h),
            Some(("ada".to_owned(), "todo_pat_x:y".to_owned()))
        );
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!"));
        assert_eq!(basic_credentials(&h), None);
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
