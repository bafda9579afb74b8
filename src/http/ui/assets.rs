//! The stylesheet, script and icon, compiled into the binary and served
//! under names that carry a hash of their content (`/assets/app.3f9c….css`),
//! and the web app manifest that names the icon.
//!
//! A new release changes the name, so browsers may keep a copy for a year
//! (`immutable`) and still never run a stale script against a newer page.
//! During a rolling deploy an old page can ask a new instance for its old
//! name: it gets the current file, marked not to be cached, rather than a 404
//! and an unstyled page.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

const APP_CSS: &str = include_str!("assets/app.css");
const APP_JS: &str = include_str!("assets/app.js");
const ICON_SVG: &str = include_str!("assets/icon.svg");

/// The URLs the page links to.
pub struct Assets {
    pub css: String,
    pub js: String,
    pub icon: String,
}

pub static ASSETS: LazyLock<Assets> = LazyLock::new(|| Assets {
    css: format!("/assets/app.{:016x}.css", fnv1a(APP_CSS.as_bytes())),
    js: format!("/assets/app.{:016x}.js", fnv1a(APP_JS.as_bytes())),
    icon: format!("/assets/icon.{:016x}.svg", fnv1a(ICON_SVG.as_bytes())),
});

/// FNV-1a: tiny and good enough to tell two versions of a file apart
/// (this is a cache key, not a security boundary).
pub const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

pub async fn serve(Path(file): Path<String>) -> Response {
    let assets = &*ASSETS;
    let (body, content_type, current) = if file.starts_with("app.") && file.ends_with(".css") {
        (APP_CSS, "text/css; charset=utf-8", &assets.css)
    } else if file.starts_with("app.") && file.ends_with(".js") {
        (APP_JS, "text/javascript; charset=utf-8", &assets.js)
    } else if file.starts_with("icon.") && file.ends_with(".svg") {
        (ICON_SVG, "image/svg+xml", &assets.icon)
    } else {
        return super::not_found_page();
    };
    let cache = if current.strip_prefix("/assets/") == Some(file.as_str()) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    respond(body.to_owned(), content_type, cache)
}

fn respond(body: String, content_type: &'static str, cache: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `/favicon.ico`, which browsers ask for on pages that name no icon (the
/// API reference, a JSON error opened in a tab) and some clients always
/// do: our icon, under the name they expect.
pub async fn favicon() -> Response {
    respond(
        ICON_SVG.to_owned(),
        "image/svg+xml",
        "public, max-age=86400",
    )
}

/// Lets the list be installed as an app, with our icon and colours.
pub async fn manifest() -> Response {
    let manifest = serde_json::json!({
        "name": "todos",
        "short_name": "todos",
        "description": "A list of things to do.",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f3f1ed",
        "theme_color": "#0f766e",
        "icons": [
            { "src": ASSETS.icon, "sizes": "any", "type": "image/svg+xml", "purpose": "any" },
        ],
    });
    // Not content-hashed (browsers look for it by the name in the page), so
    // revalidated like the page.
    respond(
        manifest.to_string(),
        "application/manifest+json",
        "no-cache",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_content_hash() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert!(ASSETS.css.starts_with("/assets/app.") && ASSETS.css.ends_with(".css"));
        assert!(ASSETS.icon.starts_with("/assets/icon.") && ASSETS.icon.ends_with(".svg"));
        assert_ne!(
            ASSETS.css.trim_end_matches(".css"),
            ASSETS.js.trim_end_matches(".js")
        );
    }
}
