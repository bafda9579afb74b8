//! The JSON API under `/api`, following the Todo-Backend conventions: the
//! collection is a bare JSON array and every task carries its absolute `url`.
//!
//! Where things are:
//! - this file: the routes, and which handler answers each;
//! - `tasks`: the handlers of `/api/todos` and `/api/todos/{id}`, and the
//!   `{id}` path segment;
//! - `transfer`: `GET /api/export` and `POST /api/import` (the file format
//!   itself is `crate::export`, shared with the CLI);
//! - `body`: JSON request bodies parsed into domain types, the only place
//!   that knows the field names a client writes (and so also their schemas
//!   in the OpenAPI document);
//! - `query`: query strings parsed into domain types, and their parameters
//!   in the document;
//! - `view`: a task as the API shows it, with its `ETag`;
//! - `pagination`: the `Link: rel="next"` header of a partial list.
//!
//! The API's description is `http::openapi` (`/api/openapi.json`), shown
//! to people by `http::reference` (`/api/docs`).

pub(crate) mod body;
mod pagination;
mod query;
pub(crate) mod tasks;
pub(crate) mod transfer;
mod view;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use query::parse_bool;
pub use view::TaskView;

use super::AppState;

pub fn router(import_body_limit: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/api/todos",
            get(tasks::list)
                .post(tasks::create)
                .patch(tasks::update_all)
                .delete(tasks::delete_many),
        )
        .route(
            "/api/todos/{id}",
            get(tasks::get).patch(tasks::update).delete(tasks::delete),
        )
        .route("/api/export", get(transfer::export))
        .route(
            "/api/import",
            post(transfer::import).layer(DefaultBodyLimit::max(import_body_limit)),
        )
        .route("/api/openapi.json", get(super::openapi::document))
        .route("/api/docs", get(super::reference::page))
}
