//! How the pages answer: HTML with its headers, and errors as message pages.
use super::*;

/// Pages also carry the security headers of `http::headers`, set around
/// the whole router.
pub(crate) fn html_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, Html(body)).into_response();
    // The list changes with every action: always revalidate.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Errors of UI routes: the API's error, shown as a page instead of JSON.
pub struct UiError(pub(super) ApiError);

impl<E: Into<ApiError>> From<E> for UiError {
    fn from(err: E) -> Self {
        Self(err.into())
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        self.0.log();
        let status = self.0.status();
        let heading = status.canonical_reason().unwrap_or("Error");
        let message = match &self.0 {
            ApiError::Validation(e) => e.message.clone(),
            other => other.public_message(),
        };
        message_page(status, heading, &page::sentence(&message))
    }
}

pub(super) type UiResult<T = Response> = Result<T, UiError>;

pub(crate) fn message_page(status: StatusCode, heading: &str, message: &str) -> Response {
    let page = MessagePage {
        assets: &ASSETS,
        heading,
        message,
    };
    match page.render() {
        Ok(body) => html_response(status, body),
        Err(err) => {
            tracing::error!(error = %err, "failed to render the message page");
            (status, heading.to_owned()).into_response()
        }
    }
}

pub fn not_found_page() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is nothing at this address.",
    )
}

pub(super) fn render_error(err: askama::Error) -> ApiError {
    ApiError::Internal(anyhow::Error::new(err).context("failed to render the page"))
}
