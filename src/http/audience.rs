//! Whom an answer is for: a client of the JSON API, or a person in a
//! browser. Decided once, from the path, so every refusal made before a
//! route runs (limits, CSRF, 404) speaks the right language.

use axum::http::Uri;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// `/api/…`: JSON errors.
    Api,
    /// `/dav/…` and `/.well-known/caldav`: CalDAV clients (plain text or
    /// WebDAV's XML errors, and Basic authentication).
    Dav,
    /// Everything else: HTML pages.
    Page,
}

impl Audience {
    pub fn of(uri: &Uri) -> Self {
        let path = uri.path();
        if path.starts_with("/api/") {
            Self::Api
        } else if path == "/dav" || path.starts_with("/dav/") || path == "/.well-known/caldav" {
            Self::Dav
        } else {
            Self::Page
        }
    }

    /// `err` as this audience reads it: the API's JSON, or a message page.
    pub fn answer(self, err: ApiError) -> Response {
        match self {
            Self::Api => err.into_response(),
            Self::Dav => super::caldav::answer(err),
            Self::Page => super::ui::UiError::from(err).into_response(),
        }
    }
}
