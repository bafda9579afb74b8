//! The JSON API under `/api`, following the Todo-Backend conventions: the
//! collection is a bare JSON array and every task carries its absolute `url`.
//!
//! Where things are:
//! - this file: the routes, and which handler answers each;
//! - `tasks`: the handlers of `/api/todos`, `/api/lists/{list_id}/todos`
//!   and `/api/todos/{id}` (and its `restore`), and the `{id}` path
//!   segment;
//! - `lists`: `/api/lists`, one list and its members;
//! - `agenda`: `/api/today` and `/api/upcoming`, across lists;
//! - `scope`: which list a collection route works on (the default one, or
//!   the one in the path) and the caller's role there;
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

pub(crate) mod agenda;
pub(crate) mod body;
pub(crate) mod lists;
mod pagination;
mod query;
mod scope;
pub(crate) mod tasks;
pub(crate) mod transfer;
mod view;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, patch, post};

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
        .route("/api/todos/{id}/restore", post(tasks::restore))
        .route("/api/lists", get(lists::index).post(lists::create))
        .route(
            "/api/lists/{list_id}",
            get(lists::show).patch(lists::update).delete(lists::delete),
        )
        .route("/api/lists/{list_id}/restore", post(lists::restore))
        .route(
            "/api/lists/{list_id}/todos",
            get(tasks::list_in)
                .post(tasks::create_in)
                .patch(tasks::update_all_in)
                .delete(tasks::delete_many_in),
        )
        .route(
            "/api/lists/{list_id}/members",
            get(lists::members).post(lists::add_member),
        )
        .route(
            "/api/lists/{list_id}/members/{username}",
            patch(lists::update_member).delete(lists::remove_member),
        )
        .route("/api/today", get(agenda::today))
        .route("/api/upcoming", get(agenda::upcoming))
        .route("/api/export", get(transfer::export))
        .route(
            "/api/import",
            post(transfer::import).layer(DefaultBodyLimit::max(import_body_limit)),
        )
        .route("/api/openapi.json", get(super::openapi::document))
        .route("/api/docs", get(super::reference::page))
}
