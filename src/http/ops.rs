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
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;

/// How long readiness waits for the database before calling it down.
const READY_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/version", get(version))
}

/// What `/healthz` answers.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Health {
    #[schema(inline)]
    status: Alive,
}

/// What `/readyz` answers when ready.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ready {
    #[schema(inline)]
    status: Readiness,
}

/// What `/readyz` answers when not.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotReady {
    #[schema(inline)]
    status: Unreadiness,
    /// Why, for example `shutting down` or `database unavailable`.
    reason: &'static str,
}

// One value each: the schema says exactly what is sent.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum Alive {
    Ok,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum Readiness {
    Ready,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum Unreadiness {
    Unavailable,
}

/// The database backends, as `/version` names them (`db::Backend`'s
/// `Display`; a test holds the two together).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // only its schema is used
enum BackendName {
    Sqlite,
    Postgres,
}

/// What `/version` answers.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Version {
    /// The release of todo-app.
    version: &'static str,
    /// The commit the binary was built from, or `unknown`.
    git_revision: &'static str,
    #[schema(value_type = BackendName, inline)]
    database: String,
    /// The newest applied migration, or null when the database does not
    /// answer.
    #[schema(required = true)]
    schema_version: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "Operations",
    summary = "Liveness",
    description = "Answers 200 whenever the process can serve requests. It never touches the \
                   database, so a slow database cannot get healthy instances restarted.",
    responses((status = 200, description = "The process is alive.", body = Health)),
    security()
)]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: Alive::Ok })
}

#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "Operations",
    summary = "Readiness",
    description = "Answers 200 when the database answers within two seconds, and 503 when it \
                   does not or while the server is shutting down, so a load balancer stops \
                   sending new requests.",
    responses(
        (status = 200, description = "Ready for traffic.", body = Ready),
        (status = 503, description = "Not ready; `reason` says why.", body = NotReady),
    ),
    security()
)]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let not_ready = |reason| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(NotReady {
                status: Unreadiness::Unavailable,
                reason,
            }),
        )
            .into_response()
    };
    if state.lifecycle.is_shutting_down() {
        return not_ready("shutting down");
    }
    match tokio::time::timeout(READY_PROBE_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => Json(Ready {
            status: Readiness::Ready,
        })
        .into_response(),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, source = ?std::error::Error::source(&err).map(ToString::to_string), "readiness check failed");
            not_ready("database unavailable")
        }
        Err(_) => not_ready("database did not answer in time"),
    }
}

#[utoipa::path(
    get,
    path = "/version",
    operation_id = "version",
    tag = "Operations",
    summary = "Version",
    description = "The release, the commit it was built from, the database in use and the \
                   newest applied migration.",
    responses((status = 200, description = "What is running.", body = Version)),
    security()
)]
pub async fn version(State(state): State<AppState>) -> Json<Version> {
    // The schema version is informational; a database outage should not
    // turn this endpoint into an error.
    let schema_version = state.store.schema_version().await.ok().flatten();
    Json(Version {
        version: env!("CARGO_PKG_VERSION"),
        git_revision: crate::GIT_REVISION,
        database: state.store.backend().to_string(),
        schema_version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Backend;

    #[test]
    fn the_backend_names_are_the_ones_served() {
        let documented = serde_json::to_value([BackendName::Sqlite, BackendName::Postgres]);
        let served = [Backend::Sqlite, Backend::Postgres].map(|b| b.to_string());
        assert_eq!(documented.unwrap(), serde_json::json!(served));
    }
}
