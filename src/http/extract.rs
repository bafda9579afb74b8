//! Extractors whose rejections are `ApiError`s, so every bad request gets the
//! same JSON error shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{CONTENT_TYPE, IF_MATCH};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use serde_path_to_error::Segment;

use super::error::ApiError;
use crate::domain::FieldError;

/// A request body that must be a JSON object (`Content-Type: application/json`).
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match parse_json_body(req, state).await? {
            Value::Object(map) => Ok(Self(map)),
            _ => Err(ApiError::BadRequest(
                "the request body must be a JSON object".to_owned(),
            )),
        }
    }
}

/// A JSON request body read into `T`: axum's `Json`, with our error type
/// as its rejection (the shape of axum's `error-handling` example), and
/// errors that name the field at fault.
///
/// Not JSON is a 400, and so is JSON that is not an object; a value serde
/// or a field's rule refuses is a 422 naming the field (the path serde was
/// at, from `serde_path_to_error`), and a field `T` does not have is a 422
/// naming the body and listing the fields it has.
pub struct JsonBody<T>(pub T);

/// A type a JSON body is read into: serde reads it, and `FIELDS` (the
/// fields a client may write, in the order messages list them) lets an
/// error name the field it is about.
pub trait Body: DeserializeOwned {
    const FIELDS: &'static [&'static str];
}

impl<T: Body, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let JsonObject(object) = JsonObject::from_request(req, state).await?;
        Ok(Self(from_json(Value::Object(object))?))
    }
}

/// Reads `value` into `T`; a refusal names the field it is about.
pub fn from_json<T: Body>(value: Value) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let key = match err.path().iter().next() {
            Some(Segment::Map { key }) => Some(key.clone()),
            _ => None,
        };
        // Read from a `Value`, serde's messages carry no line and column.
        let message = err.into_inner().to_string();
        match key {
            None => FieldError::new("body", message),
            Some(key) => match T::FIELDS.iter().find(|field| **field == key) {
                Some(field) => FieldError::new(field, message),
                // Serde stops at a key only when it cannot read its value,
                // or when the key is not one of `T`'s fields.
                None => {
                    // Field names are caller-controlled; keep the message short.
                    let shown: String = key.chars().take(40).collect();
                    FieldError::new(
                        "body",
                        format!("unknown field {shown:?}; expected {}", listing(T::FIELDS)),
                    )
                }
            },
        }
    })
}

/// `a, b or c`.
fn listing(names: &[&str]) -> String {
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, others)) => format!("{} or {last}", others.join(", ")),
        None => String::new(),
    }
}

/// A request body that must be JSON of any shape.
pub struct JsonValue(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonValue {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        parse_json_body(req, state).await.map(Self)
    }
}

/// A JSON request body, unparsed: for bodies large enough (imports) that
/// going through a `serde_json::Value` would cost several times their size.
pub struct JsonBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        read_json_body(req, state).await.map(Self)
    }
}

async fn parse_json_body<S: Send + Sync>(req: Request, state: &S) -> Result<Value, ApiError> {
    let bytes = read_json_body(req, state).await?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("the request body is not valid JSON: {e}")))
}

async fn read_json_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    if !is_json(req.headers()) {
        return Err(ApiError::UnsupportedMediaType(
            "send the body as JSON with Content-Type: application/json".to_owned(),
        ));
    }
    let bytes =
        Bytes::from_request(req, state)
            .await
            .map_err(|rejection| match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => {
                    ApiError::PayloadTooLarge("the request body is too large".to_owned())
                }
                _ => ApiError::BadRequest(format!("could not read the request body: {rejection}")),
            })?;
    Ok(bytes)
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.len() > 5
            && essence[..essence.len() - 5].contains('/')
            && essence.to_ascii_lowercase().ends_with("+json"))
}

/// The absolute base URL of the app (`https://todo.example.com`): the
/// `PUBLIC_URL`, or what the request says, trusting `X-Forwarded-*` only
/// from the configured number of proxies (see `auth::Client`).
#[derive(Debug, Clone)]
pub struct BaseUrl(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let client = super::auth::Client::from_request_parts(parts, state).await?;
        Ok(Self(client.origin))
    }
}

impl BaseUrl {
    pub fn task_url(&self, id: i64) -> String {
        format!("{}/api/todos/{id}", self.0)
    }

    pub fn list_url(&self, id: crate::domain::ListId) -> String {
        format!("{}/api/lists/{}", self.0, id.0)
    }
}

/// The version an `If-Match` header names, if any: a write then applies
/// only to that version of the task.
///
/// `If-Match: *` ("any current version") asks nothing more than no header
/// does: a task that does not exist is a 404 either way, so it is `None`.
pub struct Precondition(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for Precondition {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(raw) = parts.headers.get(IF_MATCH) else {
            return Ok(Self(None));
        };
        let raw = raw.to_str().unwrap_or_default().trim();
        if raw == "*" {
            return Ok(Self(None));
        }
        parse_etag(raw).map(|v| Self(Some(v))).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "If-Match {raw:?} is not an ETag of this API; send the ETag header of the task, e.g. \"3\""
            ))
        })
    }
}

/// The ETag of a task at `version`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Reads `"3"` or `W/"3"` back into a version.
pub fn parse_etag(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    let raw = raw.strip_prefix("W/").unwrap_or(raw);
    raw.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn etags_round_trip() {
        assert_eq!(parse_etag(&etag(7)), Some(7));
        assert_eq!(parse_etag("W/\"7\""), Some(7));
        assert_eq!(parse_etag("7"), None);
    }

    #[test]
    fn json_content_types() {
        let mut h = HeaderMap::new();
        assert!(!is_json(&h));
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert!(is_json(&h));
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/merge-patch+json"),
        );
        assert!(is_json(&h));
        h.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(!is_json(&h));
    }
}
