//! The HTTP layer: one router per concern, merged here under shared layers.

pub mod api;
mod audience;
pub mod auth;
/// CalDAV: every list as a calendar collection of VTODOs.
pub mod caldav;
/// Brotli and gzip for clients that accept them.
pub mod compression;
/// CORS for the API, for the requests that can be cross-origin.
mod cors;
pub mod error;
pub mod extract;
/// The security headers every answer carries.
pub mod headers;
pub mod limits;
mod list_cache;
pub mod openapi;
pub mod ops;
/// `GET /api/docs`: the OpenAPI document as an HTML page.
mod reference;
mod request_log;
pub mod serve;
/// Turns per list, for work on one list that must not overlap.
pub mod turns;
pub mod ui;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;

use crate::config::ServerConfig;
use crate::db::Store;
use crate::lifecycle::Lifecycle;
use error::ApiError;
pub use list_cache::ListCache;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub lifecycle: Lifecycle,
    pub list_cache: ListCache,
    pub accounts: crate::accounts::Accounts,
    /// Moves take turns per list (see `ui`'s `move_task`).
    pub moves: turns::Turns,
}

pub fn router(state: AppState, config: &ServerConfig) -> Router {
    let api = api::router(config.import_body_limit)
        .merge(auth::tokens::router())
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(cors::layer(config));

    // Without accounts (`AUTH_MODE=none`) the account pages do not exist:
    // their paths get the 404 page of any unknown address.
    let account_pages = if state.accounts.enabled() {
        auth::pages::router()
    } else {
        Router::new()
    };
    let app = Router::new()
        .merge(api)
        .merge(ui::router())
        .merge(account_pages)
        .merge(ops::router())
        .merge(caldav::router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::identify,
        ))
        .with_state(state)
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(axum::middleware::from_fn_with_state(
            limits::BodyReading {
                limit: config.body_limit,
                import_limit: config.import_body_limit,
                pause: config.connections.body_read_timeout,
            },
            limits::read_body,
        ));
    // Outside the body reading, so a client stalling its bodies is counted
    // while it stalls.
    let app = if config.auth.trusted_proxy_hops > 0 {
        app.layer(axum::middleware::from_fn_with_state(
            limits::InFlight {
                clients: limits::PerClient::new(
                    config.connections.max_connections_per_client as usize,
                ),
                auth: std::sync::Arc::new(config.auth.clone()),
            },
            limits::in_flight_per_client,
        ))
    } else {
        app
    };
    let app = app.layer(axum::middleware::from_fn_with_state(
        config.request_timeout,
        deadline,
    ));
    // Around everything that answers, so no answer misses them.
    headers::layer(app, config)
        .layer(compression::layer())
        // Outermost, so the log line sees the final status of every response.
        .layer(axum::middleware::from_fn(request_log::log_request))
}

/// A request that outlives `REQUEST_TIMEOUT` gets our JSON 503, unless it
/// has begun to change data: then it is allowed to finish (its database
/// calls are bounded by their own timeouts), because a 503 promises the
/// client that nothing happened and a retry is safe.
async fn deadline(
    axum::extract::State(timeout): axum::extract::State<Duration>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let work = crate::db::tracking_writes(started.clone(), next.run(req));
    let mut work = std::pin::pin!(work);
    match tokio::time::timeout(timeout, &mut work).await {
        Ok(response) => response,
        Err(_) if started.load(std::sync::atomic::Ordering::Acquire) => {
            tracing::warn!(
                timeout_ms = timeout.as_millis() as u64,
                "a write outlived the request timeout; letting it finish"
            );
            work.await
        }
        Err(_) => ApiError::Unavailable("the request took too long; retry in a moment".to_owned())
            .into_response(),
    }
}

async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    match audience::Audience::of(&uri) {
        audience::Audience::Api => {
            ApiError::NotFound(format!("no API route matches {}", uri.path())).into_response()
        }
        audience::Audience::Page => ui::not_found_page(),
        audience::Audience::Dav => {
            caldav::answer(ApiError::NotFound(format!("nothing is at {}", uri.path())))
        }
    }
}
