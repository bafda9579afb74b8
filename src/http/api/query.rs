//! Query strings of the API, parsed into domain types. serde reads each
//! parameter as a string, and a validation step turns it into its domain
//! value, so a bad value gets a message naming the parameter rather than
//! serde's. The parameters' schemas in the OpenAPI document come from the
//! `IntoParams` derives below (their numbers are literals, as derive
//! attributes need; `tests/api/openapi.rs` holds them to the domain's
//! constants).

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::{FieldError, SortOrder, TaskFilter};
use crate::http::error::ApiError;

/// A query string that serde could not even split into strings (such as
/// invalid percent-encoding) is a plain 400.
pub fn accept<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query
        .map(|Query(params)| params)
        .map_err(|e| ApiError::BadRequest(format!("bad query string: {e}")))
}

/// Query string of `GET /api/todos`. The doc comments and schemas are the
/// parameters' description in the OpenAPI document.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only completed tasks (`true`) or only open ones (`false`); `1` and
    /// `0` mean the same. Without it, or empty, all tasks.
    #[param(value_type = Option<bool>, nullable = false)]
    completed: Option<String>,
    /// Only tasks whose title contains this text, ignoring letter case.
    /// Surrounding whitespace is ignored and an empty value matches every
    /// task; control characters, which no title holds, get 422.
    #[param(nullable = false)]
    q: Option<String>,
    /// The order of the list: `order` (the list's own order, the default),
    /// `priority` (most urgent first), `due` (soonest first, tasks without
    /// a due date last) or `created` (newest first).
    #[param(value_type = Option<SortName>, inline, nullable = false)]
    sort: Option<String>,
    /// The most tasks to return.
    #[param(value_type = Option<u32>, nullable = false, minimum = 1, maximum = 1000, default = 1000)]
    limit: Option<String>,
    /// How many tasks of the sorted, filtered list to skip.
    #[param(value_type = Option<u64>, nullable = false, format = Int64, minimum = 0, maximum = 9223372036854775807i64, default = 0)]
    offset: Option<String>,
}

/// The names of the sort orders, as the document lists them
/// (`SortOrder::NAMES`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(default = "order")]
#[allow(dead_code)] // only its schema (and a test) uses it
pub enum SortName {
    Order,
    Priority,
    Due,
    Created,
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
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteParams {
    /// `true` (or `1`) deletes only the completed tasks. Deleting only the
    /// open tasks is not supported: `false` gets 422.
    #[param(value_type = Option<bool>, nullable = false)]
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
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// `true` (or `1`) deletes every existing task before importing.
    #[param(value_type = Option<bool>, nullable = false, default = false)]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sort_names_are_the_domains() {
        let names = serde_json::to_value([
            SortName::Order,
            SortName::Priority,
            SortName::Due,
            SortName::Created,
        ])
        .unwrap();
        assert_eq!(names, serde_json::json!(SortOrder::NAMES));
    }
}
