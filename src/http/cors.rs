//! CORS for the API, with tower-http's `CorsLayer`, run only for requests
//! that can be CORS requests: those with an `Origin` header, and preflights.
//!
//! `CorsLayer` builds its headers for every request (a header map, its
//! `Vary` list joined and checked, its own settings cloned), which measured
//! about 15 000 instructions per request, an eighth of a whole get
//! (`docs/benchmarks.md`). For a request without `Origin` that is not an
//! `OPTIONS`, what it adds depends on nothing in the request, so it is
//! worked out once, by asking the layer itself at start, and copied onto
//! each such response: the answers stay exactly tower-http's.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::response::Response;
use tower::{Layer, Service};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::{AuthMode, CorsOrigins, ServerConfig};

/// The API's CORS, from the configuration.
pub fn layer(config: &ServerConfig) -> CrossOriginOnly {
    let cors = cors_layer(&origins(config));
    CrossOriginOnly {
        plain: headers_without_origin(&cors).map(Arc::new),
        cors: Arc::new(cors),
    }
}

/// The headers `cors` adds to a `GET` without `Origin`, found by running it
/// once around a service that answers at once. `None` if it did not answer
/// at once (then every request goes through it).
fn headers_without_origin(cors: &CorsLayer) -> Option<HeaderMap> {
    let mut probe = cors.layer(tower::service_fn(|_: Request| async {
        Ok::<_, Infallible>(Response::new(Body::empty()))
    }));
    let mut answer = std::pin::pin!(probe.call(Request::new(Body::empty())));
    match answer
        .as_mut()
        .poll(&mut Context::from_waker(std::task::Waker::noop()))
    {
        Poll::Ready(Ok(response)) => Some(response.headers().clone()),
        Poll::Ready(Err(never)) => match never {},
        Poll::Pending => None,
    }
}

/// The origins the API answers cross-origin calls from. Unset: any with
/// `AUTH_MODE=none` (the Todo-Backend clients run on other origins), none
/// with accounts. Credentials (cookies) are never allowed cross-origin:
/// other sites' pages use bearer tokens.
fn origins(config: &ServerConfig) -> CorsOrigins {
    match (&config.cors_origins, config.auth.mode) {
        (Some(origins), _) => origins.clone(),
        (None, AuthMode::None) => CorsOrigins::Any,
        (None, AuthMode::Accounts) => CorsOrigins::List(Vec::new()),
    }
}

fn cors_layer(origins: &CorsOrigins) -> CorsLayer {
    let allow_origin = match origins {
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(list) => AllowOrigin::list(
            list.iter()
                // Checked when parsed: visible ASCII, so always a header value.
                .filter_map(|origin| HeaderValue::from_str(origin.as_str()).ok()),
        ),
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::AUTHORIZATION,
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::LOCATION,
            header::ETAG,
            header::LINK,
            header::WWW_AUTHENTICATE,
            header::RETRY_AFTER,
            HeaderName::from_static("x-request-id"),
        ])
        .max_age(Duration::from_secs(3600))
}

/// Runs `CorsLayer` around the routes for requests that can be CORS
/// requests, and copies its constant headers onto the others. Both sit
/// behind an `Arc`, since axum clones a route's service for every request.
#[derive(Clone)]
pub struct CrossOriginOnly {
    cors: Arc<CorsLayer>,
    plain: Option<Arc<HeaderMap>>,
}

impl<S> Layer<S> for CrossOriginOnly {
    type Service = CrossOriginOnlyService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CrossOriginOnlyService {
            inner,
            cors: self.cors.clone(),
            plain: self.plain.clone(),
        }
    }
}

#[derive(Clone)]
pub struct CrossOriginOnlyService<S> {
    inner: S,
    cors: Arc<CorsLayer>,
    plain: Option<Arc<HeaderMap>>,
}

impl<S> Service<Request> for CrossOriginOnlyService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let plain = match &self.plain {
            Some(plain)
                if req.method() != Method::OPTIONS
                    && !req.headers().contains_key(header::ORIGIN) =>
            {
                plain.clone()
            }
            _ => {
                // The service that was polled ready goes into `Cors`, whose
                // readiness is its inner service's; a clone stays here.
                let clone = self.inner.clone();
                let ready = std::mem::replace(&mut self.inner, clone);
                return Box::pin(self.cors.layer(ready).call(req));
            }
        };
        let response = self.inner.call(req);
        Box::pin(async move {
            let mut response = response.await?;
            let headers = response.headers_mut();
            for (name, value) in plain.iter() {
                // As `CorsLayer` does: `Vary` is added to, the rest replaced.
                if name == header::VARY {
                    headers.append(name, value.clone());
                } else {
                    headers.insert(name, value.clone());
                }
            }
            Ok(response)
        })
    }
}
