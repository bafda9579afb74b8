//! Query strings of the API, parsed into domain types. Every parameter is
//! read as a string first, so a bad value gets our own message rather than
//! serde's.

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use serde::Deserialize;

use crate::domain::{FieldError, SortOrder, TaskFilter};
use crate::http::error::ApiError;

/// A query string that serde could not even split into strings (such as
/// invalid percent-encoding) is a plain 400.
pub fn accept<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query
        .map(|Query(params)| params)
        .map_err(|e| ApiError::BadRequest(format!("bad query string: {e}")))
}

/// Query string of `GET /api/todos`.
#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    completed: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

impl TryFrom<ListParams> for TaskFilter {
    type Error = FieldError;

    fn try_from(params: ListParams) -> Result<Self, FieldError> {
        let mut filter = TaskFilter::default();
        filter.completed = match params.completed.as_deref() {
            None | Some("") => None,
            Some(raw) => Some(parse_bool("completed", raw)?),
        };
        filter.query = params
            .q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_owned);
        // Titles never hold control characters, and PostgreSQL refuses NUL
        // in text: such a search is a mistake, not a query.
        if filter
            .query
            .as_deref()
            .is_some_and(|q| q.chars().any(char::is_control))
        {
            return Err(FieldError::new(
                "q",
                "q must not contain control characters",
            ));
        }
        if let Some(sort) = &params.sort {
            filter.sort = SortOrder::parse(sort)?;
        }
        if let Some(raw) = params.limit.as_deref() {
            filter.limit = raw
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=TaskFilter::MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    FieldError::new(
                        "limit",
                        format!(
                            "limit {raw:?} must be a whole number from 1 to {}",
                            TaskFilter::MAX_LIMIT
                        ),
                    )
                })?;
        }
        if let Some(raw) = params.offset.as_deref() {
            // Capped where the databases' own (signed 64-bit) OFFSET ends.
            filter.offset = raw
                .parse::<u64>()
                .ok()
                .filter(|n| i64::try_from(*n).is_ok())
                .ok_or_else(|| {
                    FieldError::new(
                        "offset",
                        format!(
                            "offset {raw:?} must be a whole number from 0 to {}",
                            i64::MAX
                        ),
                    )
                })?;
        }
        Ok(filter)
    }
}

/// Query string of `DELETE /api/todos`.
#[derive(Debug, Default, Deserialize)]
pub struct DeleteParams {
    completed: Option<String>,
}

/// Which tasks `DELETE /api/todos` removes.
pub enum Deletion {
    All,
    Completed,
}

impl TryFrom<DeleteParams> for Deletion {
    type Error = FieldError;

    fn try_from(params: DeleteParams) -> Result<Self, FieldError> {
        match params.completed.as_deref() {
            None | Some("") => Ok(Self::All),
            Some(raw) if parse_bool("completed", raw)? => Ok(Self::Completed),
            Some(_) => Err(FieldError::new(
                "completed",
                "only completed=true is supported when deleting many tasks",
            )),
        }
    }
}

/// Query string of `POST /api/import`.
#[derive(Debug, Default, Deserialize)]
pub struct ImportParams {
    replace: Option<String>,
}

impl ImportParams {
    /// Whether the import replaces the tasks there are (`?replace=true`).
    pub fn replace(&self) -> Result<bool, FieldError> {
        match self.replace.as_deref() {
            None | Some("") => Ok(false),
            Some(raw) => parse_bool("replace", raw),
        }
    }
}

pub fn parse_bool(field: &'static str, raw: &str) -> Result<bool, FieldError> {
    match raw {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(FieldError::new(
            field,
            format!("{field} must be true or false, not {raw:?}"),
        )),
    }
}
