//! The server-rendered web UI at `/`.

use axum::Router;
use axum::response::Html;
use axum::routing::get;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(index))
}

async fn index() -> Html<&'static str> {
    Html("<!doctype html><title>todos</title><h1>todos</h1>")
}

pub fn not_found_page() -> (axum::http::StatusCode, Html<&'static str>) {
    (
        axum::http::StatusCode::NOT_FOUND,
        Html(
            "<!doctype html><title>Not found</title><p>Not found. <a href=\"/\">Back to your todos</a>",
        ),
    )
}
