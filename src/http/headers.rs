//! The security headers, set once around the whole router, so every answer
//! carries them whichever handler, extractor or layer wrote it (errors,
//! 404, 405, 408, 413, 429 and the 503 of the deadline included):
//!
//! - `X-Content-Type-Options: nosniff` on everything: a browser never
//!   guesses a type we did not say (a JSON error rendered as HTML).
//! - Every HTML page gets [`CONTENT_SECURITY_POLICY`](crate::http::headers::CONTENT_SECURITY_POLICY) unless it brings a
//!   policy of its own (the API reference allows its one inline style), and
//!   may not be framed.
//! - Every answer under `/api/` is `Cache-Control: no-store`: it is one
//!   account's data, or an error about it, and no browser or shared cache
//!   should keep it. The OpenAPI document and its page are the same for
//!   everyone, but they get it too: one rule with no exceptions is easier to
//!   trust, and they are small.
//! - `Strict-Transport-Security` when `PUBLIC_URL` is `https`: the app is
//!   then only meant to be reached over HTTPS, and browsers should not try
//!   plain HTTP again for a year.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Response, header};
use axum::middleware::Next;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::ServerConfig;

/// The policy for the app's pages: scripts and styles only from our own
/// files (no inline script, so injected markup cannot run), forms and fetches
/// only to us, and never inside someone else's frame.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; manifest-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const HSTS: &str = "max-age=31536000; includeSubDomains";

/// `router` with the headers above on every answer.
pub fn layer(router: Router, config: &ServerConfig) -> Router {
    let https = config
        .auth
        .public_url
        .as_ref()
        .is_some_and(|url| url.is_https());
    let router = router
        .layer(axum::middleware::from_fn(api_answers_are_not_stored))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            |response: &Response<Body>| {
                is_html(response).then_some(HeaderValue::from_static(CONTENT_SECURITY_POLICY))
            },
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            |response: &Response<Body>| {
                is_html(response).then_some(HeaderValue::from_static("DENY"))
            },
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ));
    if https {
        router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        ))
    } else {
        router
    }
}

fn is_html<B>(response: &Response<B>) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("text/html"))
}

/// `Cache-Control: no-store` on every answer under `/api/` and `/dav/`, the one header
/// here that depends on the request rather than the response.
async fn api_answers_are_not_stored(req: Request, next: Next) -> axum::response::Response {
    let is_api = super::audience::Audience::of(req.uri()) != super::audience::Audience::Page;
    let mut response = next.run(req).await;
    if is_api {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
