//! One log line per request, and a span that carries the request id to
//! whatever else is logged while the request is handled.
//!
//! The id comes from `X-Request-Id`, else the ALB's `X-Amzn-Trace-Id`, else
//! is generated, and is echoed back as `X-Request-Id` so a user's report can
//! be matched with the log.
//!
//! The request's own line is written after the span has closed, with the
//! span's fields on the line itself: inside the span, the JSON formatter
//! would parse the span's fields back from text for every line (a sixth of
//! a cached list's instructions went to the line and the span).

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

const REQUEST_ID: &str = "x-request-id";
const AMZN_TRACE_ID: &str = "x-amzn-trace-id";

pub async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = request_id(request.headers());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());

    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        route = route.as_deref().unwrap_or(""),
    );
    let mut response = next.run(request).instrument(span).await;

    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        request_id = %request_id,
        method = %method,
        route = route.as_deref().unwrap_or(""),
        path,
        status,
        latency_ms,
        "request"
    );
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// A caller-supplied id is kept only if it is short and printable, so it
/// cannot forge log lines or headers.
fn request_id(headers: &HeaderMap) -> String {
    [REQUEST_ID, AMZN_TRACE_ID]
        .iter()
        .filter_map(|name| headers.get(*name)?.to_str().ok())
        .map(str::trim)
        .find(|id| !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_taken_or_made() {
        let mut h = HeaderMap::new();
        assert_eq!(request_id(&h).len(), 36);
        h.insert(AMZN_TRACE_ID, HeaderValue::from_static("Root=1-abc"));
        assert_eq!(request_id(&h), "Root=1-abc");
        h.insert(REQUEST_ID, HeaderValue::from_static("req-1"));
        assert_eq!(request_id(&h), "req-1");
        h.insert(REQUEST_ID, HeaderValue::from_static("has space"));
        assert_eq!(request_id(&h), "Root=1-abc");
    }
}
