//! The OpenAPI 3 description of the JSON API, written by hand next to the
//! handlers and kept honest by the tests in `tests/api/openapi.rs`.

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

pub const DOCUMENT: &str = include_str!("openapi.json");

pub async fn document() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], DOCUMENT)
}
