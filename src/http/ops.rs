//! Operational endpoints: liveness, readiness and version.
//!
//! Liveness is cheap and never touches the database, so a slow database
//! cannot get healthy tasks killed; readiness is honest and does.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::AppState;

/// How long readiness waits for the database before calling it down.
const READY_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/version", get(version))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Response {
    let not_ready = |reason: &str| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "reason": reason })),
        )
            .into_response()
    };
    if state.lifecycle.is_shutting_down() {
        return not_ready("shutting down");
    }
    match tokio::time::timeout(READY_PROBE_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => Json(json!({ "status": "ready" })).into_response(),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, source = ?std::error::Error::source(&err).map(ToString::to_string), "readiness check failed");
            not_ready("database unavailable")
        }
        Err(_) => not_ready("database did not answer in time"),
    }
}

async fn version(State(state): State<AppState>) -> Response {
    // The schema version is informational; a database outage should not
    // turn this endpoint into an error.
    let schema = state.store.schema_version().await.ok().flatten();
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "git_revision": crate::GIT_REVISION,
        "database": state.store.backend().to_string(),
        "schema_version": schema,
    }))
    .into_response()
}
