//! `GET /api/today` and `GET /api/upcoming`: the tasks people plan their
//! day with, across every list the caller can see.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDateTime;
use serde::Deserialize;
use utoipa::IntoParams;

use super::query;
use super::view::TaskView;
use crate::domain::{Agenda, Due, DueTime, FieldError, TaskFilter};
use crate::http::AppState;
use crate::http::auth::ApiOwner;
use crate::http::error::ApiResult;
use crate::http::extract::BaseUrl;
use crate::http::openapi::responses::*;

/// Query string of the agenda views.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgendaParams {
    /// The caller's today (`YYYY-MM-DD`), so that "today" is the reader's,
    /// not the server's. Without it, today in UTC.
    #[param(value_type = Option<String>, format = Date, nullable = false, example = "2026-12-24")]
    date: Option<String>,
    /// The caller's wall-clock time (`HH:MM`), with `date`: a task due on
    /// `date` at an earlier time is `overdue`. Without it, tasks due on
    /// `date` are not overdue yet; without `date` too, the time in UTC.
    #[param(value_type = Option<String>, nullable = false, pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "09:30")]
    time: Option<String>,
    /// The most tasks to return.
    #[param(value_type = Option<u32>, nullable = false, minimum = 1, maximum = 1000, default = 1000)]
    limit: Option<String>,
}

impl AgendaParams {
    /// The reader's wall clock (their today, and the time if they said),
    /// and the limit.
    fn parse(self) -> Result<(NaiveDateTime, u32), FieldError> {
        let time = match self.time.as_deref() {
            None => None,
            Some(raw) => DueTime::parse(raw).map_err(|_| {
                FieldError::new(
                    "time",
                    format!("time {:?} is not a valid time; use HH:MM", raw.trim()),
                )
            })?,
        };
        let now = match self.date.as_deref().map(str::trim) {
            None | Some("") if time.is_some() => {
                return Err(FieldError::new(
                    "time",
                    "time needs the date it is on: send date (YYYY-MM-DD) too",
                ));
            }
            None | Some("") => chrono::Utc::now().naive_utc(),
            Some(raw) => Due::parse(raw)
                .ok()
                .flatten()
                .ok_or_else(|| {
                    FieldError::new(
                        "date",
                        format!("date {raw:?} is not a valid day; use YYYY-MM-DD"),
                    )
                })?
                .and_time(time.map_or(chrono::NaiveTime::MIN, DueTime::time)),
        };
        let limit = match self.limit.as_deref() {
            None | Some("") => TaskFilter::MAX_LIMIT,
            Some(raw) => raw
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=TaskFilter::MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    FieldError::new(
                        "limit",
                        format!(
                            "limit must be a whole number from 1 to {}",
                            TaskFilter::MAX_LIMIT
                        ),
                    )
                })?,
        };
        Ok((now, limit))
    }
}

async fn agenda(
    state: &AppState,
    owner: crate::domain::Owner,
    base: &BaseUrl,
    agenda: Agenda,
    params: Result<Query<AgendaParams>, QueryRejection>,
) -> ApiResult<Response> {
    let (now, limit) = query::accept(params)?.parse()?;
    let tasks = state.store.agenda(owner, agenda, now.date(), limit).await?;
    let views: Vec<TaskView> = tasks
        .iter()
        .map(|task| TaskView {
            overdue: Some(task.is_overdue(now)),
            ..TaskView::new(task, base)
        })
        .collect();
    Ok(Json(views).into_response())
}

#[utoipa::path(
    get,
    path = "/api/today",
    operation_id = "listToday",
    tag = "Lists",
    summary = "Today: what is due today or overdue",
    description = "Open tasks due on `date` or earlier, and tasks completed that were due on \
                   `date`, from every list the caller can see (each task has its `list_id`). \
                   Open tasks first, soonest due first (on one day, tasks without a time before \
                   timed ones, by time), then by priority. Each says whether it is `overdue` \
                   at `date` and `time`.",
    params(AgendaParams),
    responses(
        (status = 200, description = "The tasks.", body = Vec<TaskView>),
        (status = 400, response = BadRequest),
        (status = 422, response = ValidationFailed),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn today(
    State(state): State<AppState>,
    ApiOwner(owner): ApiOwner,
    base: BaseUrl,
    params: Result<Query<AgendaParams>, QueryRejection>,
) -> ApiResult<Response> {
    agenda(&state, owner, &base, Agenda::Today, params).await
}

#[utoipa::path(
    get,
    path = "/api/upcoming",
    operation_id = "listUpcoming",
    tag = "Lists",
    summary = "Upcoming: what is due in the next seven days",
    description = "Tasks due in the seven days after `date`, from every list the caller can \
                   see, soonest first (on one day, tasks without a time before timed ones; group \
                   them by `due` to show them by day).",
    params(AgendaParams),
    responses(
        (status = 200, description = "The tasks.", body = Vec<TaskView>),
        (status = 400, response = BadRequest),
        (status = 422, response = ValidationFailed),
        (status = 503, response = Unavailable),
        (status = 401, response = Unauthorized),
    )
)]
pub async fn upcoming(
    State(state): State<AppState>,
    ApiOwner(owner): ApiOwner,
    base: BaseUrl,
    params: Result<Query<AgendaParams>, QueryRejection>,
) -> ApiResult<Response> {
    agenda(&state, owner, &base, Agenda::Upcoming, params).await
}
