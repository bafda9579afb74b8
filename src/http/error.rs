//! The one error type of the HTTP layer.
//!
//! Clients get a stable JSON shape, `{"code", "message", "field"?}`, and never
//! an internal detail; the full cause chain of a 5xx goes to the log once,
//! inside the request's span.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{Need, StoreError};
use crate::domain::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// No credentials, or ones that are not valid (401 with `WWW-Authenticate`).
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts; `retry_after` says when to try again.
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after: std::time::Duration,
    },
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The client stopped sending its request body (408; the connection
    /// is closed).
    #[error("{0}")]
    RequestTimeout(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error(transparent)]
    Validation(#[from] FieldError),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    Conflict(String),
    /// Refused for now (shutting down, overloaded); worth retrying.
    #[error("{0}")]
    Unavailable(String),
    /// The database is unreachable or saturated; worth retrying. Keeps the
    /// cause for the log.
    #[error(transparent)]
    DatabaseUnavailable(StoreError),
    #[error(transparent)]
    Internal(anyhow::Error),
}

/// What went wrong. `code` is stable and meant for programs; `message` is
/// meant for people and may change.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Error, examples(json!({
    "code": "validation_failed",
    "message": "title must not be empty",
    "field": "title"
})))]
pub struct ErrorBody<'a> {
    #[schema(inline)]
    pub code: ErrorCode,
    #[schema(min_length = 1)]
    pub message: String,
    /// For `validation_failed`: the input at fault, such as `title`,
    /// `priority`, `due`, `limit`, or `body` for the request body as a whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub field: Option<&'a str>,
}

/// The kind of error: stable, for programs to match on.
// The one list of codes: the document shows it (in the order of their
// status codes), and `ApiError::code` gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    RequestTimeout,
    Conflict,
    PreconditionFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    TooManyRequests,
    Unavailable,
    InternalError,
}

impl ApiError {
    /// The status, the code and, where the error's own text must not reach
    /// the client, the message it reads instead: one row per kind of error.
    fn table(&self) -> (StatusCode, ErrorCode, Option<&'static str>) {
        use ErrorCode as C;
        use StatusCode as S;
        match self {
            Self::BadRequest(_) => (S::BAD_REQUEST, C::BadRequest, None),
            Self::NotFound(_) => (S::NOT_FOUND, C::NotFound, None),
            Self::Unauthorized(_) => (S::UNAUTHORIZED, C::Unauthorized, None),
            Self::Forbidden(_) => (S::FORBIDDEN, C::Forbidden, None),
            Self::TooManyRequests { .. } => (S::TOO_MANY_REQUESTS, C::TooManyRequests, None),
            Self::MethodNotAllowed => (S::METHOD_NOT_ALLOWED, C::MethodNotAllowed, None),
            Self::RequestTimeout(_) => (S::REQUEST_TIMEOUT, C::RequestTimeout, None),
            Self::PayloadTooLarge(_) => (S::PAYLOAD_TOO_LARGE, C::PayloadTooLarge, None),
            Self::UnsupportedMediaType(_) => {
                (S::UNSUPPORTED_MEDIA_TYPE, C::UnsupportedMediaType, None)
            }
            Self::Validation(_) => (S::UNPROCESSABLE_ENTITY, C::ValidationFailed, None),
            Self::PreconditionFailed(_) => (S::PRECONDITION_FAILED, C::PreconditionFailed, None),
            Self::Conflict(_) => (S::CONFLICT, C::Conflict, None),
            Self::Unavailable(_) => (S::SERVICE_UNAVAILABLE, C::Unavailable, None),
            Self::DatabaseUnavailable(StoreError::Busy) => (
                S::SERVICE_UNAVAILABLE,
                C::Unavailable,
                Some("the server is busy; retry in a moment"),
            ),
            Self::DatabaseUnavailable(_) => (
                S::SERVICE_UNAVAILABLE,
                C::Unavailable,
                Some("the database is unavailable; retry in a moment"),
            ),
            Self::Internal(_) => (
                S::INTERNAL_SERVER_ERROR,
                C::InternalError,
                Some("internal server error"),
            ),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.table().0
    }

    pub fn code(&self) -> ErrorCode {
        self.table().1
    }

    /// The message shown to clients.
    pub fn public_message(&self) -> String {
        match (self, self.table().2) {
            (_, Some(message)) => message.to_owned(),
            // `field` names the input; the message says what is wrong with
            // it, in the words the OpenAPI document's example shows.
            (Self::Validation(e), None) => e.message.clone(),
            (_, None) => self.to_string(),
        }
    }

    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Validation(e) => Some(e.field),
            _ => None,
        }
    }

    /// Logs server-side failures with their whole cause chain: the one
    /// place an error is logged, once per response.
    pub fn log(&self) {
        match self {
            Self::Internal(err) => tracing::error!(error = format!("{err:#}"), "request failed"),
            Self::Unavailable(msg) => tracing::warn!(error = %msg, "request refused"),
            Self::DatabaseUnavailable(err) => match err.sqlx_error() {
                Some(source) => tracing::warn!(error = %source, "request refused: {err}"),
                None => tracing::warn!(error = %err, "request refused"),
            },
            _ => {}
        }
    }
}

/// Maps each store error to what the client is told; the prose is written
/// here, not in the store.
/// How the JSON API tells a refusal of the accounts core.
impl From<crate::accounts::AccountError> for ApiError {
    fn from(err: crate::accounts::AccountError) -> Self {
        use crate::accounts::AccountError as E;
        match err {
            E::WrongCredentials => {
                Self::Unauthorized(crate::http::ui::sentence(&E::WrongCredentials.to_string()))
            }
            E::Throttled(wait) => Self::TooManyRequests {
                message: crate::http::ui::sentence(&E::Throttled(wait).to_string()),
                retry_after: wait,
            },
            E::UsernameTaken => Self::Conflict("that username is taken".to_owned()),
            E::SignupClosed => Self::Forbidden("sign-up is closed on this server".to_owned()),
            E::Invalid(field) => Self::Validation(field),
            E::NoSuchToken => Self::NotFound(E::NoSuchToken.to_string()),
            E::Busy => Self::Unavailable(E::Busy.to_string()),
            E::Store(err) => err.into(),
            E::Hashing(message) => {
                Self::Internal(anyhow::anyhow!("password hashing failed: {message}"))
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(id) => Self::NotFound(format!("task {id} not found")),
            StoreError::VersionMismatch { id, current } => Self::PreconditionFailed(format!(
                "task {id} was changed by someone else (its ETag is now \"{current}\"); reload it and retry"
            )),
            StoreError::ListNotEmpty { existing } => Self::Conflict(format!(
                "the list already holds {existing} tasks; import with ?replace=true to replace them"
            )),
            StoreError::IdTaken(id) => Self::Conflict(format!(
                "task id {id} belongs to another list; import into an account instead, which gives tasks new ids"
            )),
            StoreError::TaskLimit {
                limit,
                importing: None,
            } => Self::Conflict(format!(
                "this list holds its limit of {limit} tasks; delete some before adding more"
            )),
            StoreError::TaskLimit {
                limit,
                importing: Some(count),
            } => Self::Conflict(format!(
                "the import holds {count} tasks, more than a list's limit of {limit}; nothing was imported"
            )),
            StoreError::ListLimit {
                limit,
                importing: None,
            } => Self::Conflict(format!(
                "you own {limit} lists, the most one account may (MAX_LISTS_PER_ACCOUNT); delete one before making another"
            )),
            StoreError::ListLimit {
                limit,
                importing: Some(lists),
            } => Self::Conflict(format!(
                "the import would leave you with {lists} lists, more than the {limit} one account may own (MAX_LISTS_PER_ACCOUNT); nothing was imported"
            )),
            StoreError::MemberLimit { limit } => Self::Conflict(format!(
                "this list is shared with {limit} people, the most one list may be (MAX_MEMBERS_PER_LIST); remove someone before adding more"
            )),
            StoreError::UsernameTaken => Self::Conflict("that username is taken".to_owned()),
            StoreError::ResourceExists(name) => Self::PreconditionFailed(format!(
                "there is already a task at {name} (If-None-Match: * asked for a new one)"
            )),
            StoreError::ResourceNameTaken => Self::Conflict(
                "another task of that list took the same CalDAV resource name at the same moment; nothing was changed, try again"
                    .to_owned(),
            ),
            StoreError::UidChanged(uid) => Self::Conflict(format!(
                "this resource holds the task with UID {uid}; a task's UID cannot change"
            )),
            StoreError::UidConflict(name) => Self::Conflict(format!(
                "another task of this list ({name}) has this UID; UIDs are unique in a list"
            )),
            StoreError::SyncTokenTooOld => Self::Conflict(
                "the sync token is older than the changes this server keeps; sync again from scratch"
                    .to_owned(),
            ),
            StoreError::ListNotFound(id) => Self::NotFound(format!("list {id} not found")),
            StoreError::NotAllowed { list, role, needed } => Self::Forbidden(match needed {
                Need::Manage => format!(
                    "you are {} of list {list}; only its owner may rename, delete or share it",
                    role.with_article()
                ),
                Need::ChangeTasks | Need::Read => format!(
                    "you are {} of list {list}: you may read its tasks but not change them",
                    role.with_article()
                ),
            }),
            StoreError::ListNotDeleted(id) => Self::Conflict(format!(
                "list {id} is not deleted (it may have been restored already); there is nothing to restore"
            )),
            StoreError::ListDeleted(id) => Self::Conflict(format!(
                "list {id}, where this task was, has been deleted; its owner can restore the list first"
            )),
            StoreError::DefaultList => Self::Conflict(
                "the default list cannot be deleted; delete its tasks instead".to_owned(),
            ),
            StoreError::NotDeleted(id) => Self::Conflict(format!(
                "task {id} is not deleted (it may have been restored already); there is nothing to restore"
            )),
            StoreError::TimeWithoutDate(_) => {
                Self::Validation(crate::domain::DueTime::needs_a_date())
            }
            StoreError::TargetList(id) => Self::Validation(FieldError::new(
                "list_id",
                format!("list {id} is not a list you may add tasks to"),
            )),
            StoreError::UnknownUser(name) => Self::Validation(FieldError::new(
                "username",
                format!("no account is named {name:?}"),
            )),
            StoreError::ShareWithSelf => Self::Validation(FieldError::new(
                "username",
                "that is the list's owner; share it with someone else",
            )),
            StoreError::AlreadyMember(name) => Self::Conflict(format!(
                "the list is already shared with {name:?}; change their role with PATCH"
            )),
            StoreError::MemberNotFound(name) => {
                Self::NotFound(format!("{name:?} is not a member of this list"))
            }
            err if err.is_transient() => Self::DatabaseUnavailable(err),
            err => Self::Internal(err.into()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let status = self.status();
        let body = ErrorBody {
            code: self.code(),
            message: self.public_message(),
            field: self.field(),
        };
        let retry_after = match &self {
            Self::TooManyRequests { retry_after, .. } => Some(retry_after.as_secs().max(1)),
            Self::Unavailable(_) | Self::DatabaseUnavailable(_) => Some(1),
            _ => None,
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_documented_and_every_documented_code_is_used() {
        let errors = [
            ApiError::BadRequest(String::new()),
            ApiError::NotFound(String::new()),
            ApiError::Unauthorized(String::new()),
            ApiError::Forbidden(String::new()),
            ApiError::TooManyRequests {
                message: String::new(),
                retry_after: std::time::Duration::ZERO,
            },
            ApiError::MethodNotAllowed,
            ApiError::RequestTimeout(String::new()),
            ApiError::PayloadTooLarge(String::new()),
            ApiError::UnsupportedMediaType(String::new()),
            ApiError::Validation(FieldError::new("title", "")),
            ApiError::PreconditionFailed(String::new()),
            ApiError::Conflict(String::new()),
            ApiError::Unavailable(String::new()),
            ApiError::DatabaseUnavailable(StoreError::Busy),
            ApiError::Internal(anyhow::anyhow!("")),
        ];
        let codes: std::collections::BTreeSet<String> = errors
            .iter()
            .map(|error| serde_json::to_value(error.code()).unwrap())
            .map(|code| code.as_str().unwrap().to_owned())
            .collect();
        // What the OpenAPI document lists, read from the schema it is built
        // from: no code is documented that no error carries, and the other
        // way round.
        let schema = serde_json::to_value(<ErrorCode as utoipa::PartialSchema>::schema()).unwrap();
        let documented = schema["enum"]
            .as_array()
            .expect("ErrorCode's schema is an enum")
            .iter()
            .map(|code| code.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(codes, documented);
    }
}
