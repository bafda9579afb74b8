//! Reading a page's form, and the CSRF token it must carry.
//!
//! A request that changes something and rides on a cookie must come from
//! one of our own pages: it carries the CSRF token bound to the cookie,
//! either in the `X-CSRF-Token` header (the page's script; `identify`
//! checks it) or as the `csrf_token` field of the form, which [`PageForm`]
//! checks as it reads the form. Every page route that changes something
//! takes a `PageForm`, so no form is read twice and none goes unchecked.

use axum::extract::{FromRequest, Request};
use axum::response::Response;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::accounts::secrets;
use crate::http::audience::Audience;
use crate::http::error::ApiError;

pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "csrf_token";

/// The CSRF token a page must put in its forms for this caller, if any.
#[derive(Debug, Clone)]
pub struct PageCsrfToken(pub Option<String>);

/// Whether the request still owes its CSRF token.
#[derive(Debug, Clone)]
pub(super) enum CsrfCheck {
    /// Checked already, or none is needed.
    Done,
    /// The form must carry this token (`None`: there is no cookie to bind
    /// one to, so no token can be right).
    Pending(Option<String>),
}

/// A page's form, decoded with serde into `T` after its CSRF token (when
/// one is owed) was checked. Text must be valid UTF-8, as in the API.
pub struct PageForm<T>(pub T);

#[derive(Deserialize)]
struct WithToken<T> {
    csrf_token: Option<String>,
    #[serde(flatten)]
    form: T,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for PageForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let audience = Audience::of(req.uri());
        let check = req.extensions().get::<CsrfCheck>().cloned();
        let body = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| {
                audience.answer(ApiError::PayloadTooLarge(
                    "the form is too large".to_owned(),
                ))
            })?;
        if let Some(field) = invalid_utf8_field(&body) {
            return Err(audience.answer(ApiError::BadRequest(format!(
                "the form field {field:?} is not valid UTF-8 text"
            ))));
        }
        let WithToken { csrf_token, form } = serde_urlencoded::from_bytes::<WithToken<T>>(&body)
            .map_err(|e| {
                audience.answer(ApiError::BadRequest(format!(
                    "could not read the form: {e}"
                )))
            })?;
        // `identify` always runs first; without it, assume a token is owed.
        match check.unwrap_or(CsrfCheck::Pending(None)) {
            CsrfCheck::Done => {}
            CsrfCheck::Pending(expected) => {
                let valid = matches!((&expected, &csrf_token), (Some(e), Some(s)) if secrets::same_secret(e, s));
                if !valid {
                    return Err(csrf_refusal(audience, csrf_token.is_some()));
                }
            }
        }
        Ok(Self(form))
    }
}

pub(super) fn csrf_refusal(audience: Audience, had_token: bool) -> Response {
    tracing::warn!(
        has_token = had_token,
        "refused a request without a valid CSRF token"
    );
    audience.answer(ApiError::Forbidden(
        "this form has expired or did not come from this site; reload the page and try again"
            .to_owned(),
    ))
}

/// The name of the first field whose name or value is not UTF-8 once
/// decoded. (serde_urlencoded would quietly put replacement characters in
/// their place, and the task would be stored that way.)
fn invalid_utf8_field(body: &[u8]) -> Option<String> {
    // Ok: the decoded text; Err: the same, with replacement characters.
    let decode = |raw: &[u8]| {
        let spaced: Vec<u8> = raw
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        let decoded = percent_encoding::percent_decode(&spaced);
        match decoded.clone().decode_utf8() {
            Ok(text) => Ok(text.into_owned()),
            Err(_) => Err(decoded.decode_utf8_lossy().into_owned()),
        }
    };
    body.split(|&b| b == b'&').find_map(|pair| {
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &pair[..0]),
        };
        match (decode(name), decode(value)) {
            (Err(name), _) | (Ok(name), Err(_)) => Some(name),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_invalid_utf8_are_named() {
        assert_eq!(invalid_utf8_field(b"title=Buy+milk%21&csrf_token=ab"), None);
        assert_eq!(
            invalid_utf8_field(b"title=%FF%FE").as_deref(),
            Some("title")
        );
        assert_eq!(
            invalid_utf8_field(b"ok=1&na%FFme=x").as_deref(),
            Some("na\u{fffd}me")
        );
    }
}
