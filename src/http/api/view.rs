//! A task as the API shows it.

use axum::Json;
use axum::http::header::ETAG;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{DueTime, Priority, Task};
use crate::http::extract::{BaseUrl, etag};
use crate::json::schema::{PriorityName, PriorityNumber, TimeOfDay, TitleText};

/// A task as the API shows it. Every field but `overdue` is always
/// present.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Task)]
pub struct TaskView<'a> {
    /// The task's id. Ids are never reused, so a stale URL never reaches a
    /// different task.
    #[schema(minimum = 1)]
    pub id: i64,
    #[schema(value_type = TitleText)]
    pub title: &'a str,
    #[schema(value_type = PriorityNumber)]
    pub priority: Priority,
    #[schema(value_type = PriorityName)]
    pub priority_name: &'static str,
    /// Whether the task is done.
    pub completed: bool,
    /// The task's place in the list; lists sorted by `order` show lower
    /// numbers first. New tasks go to the end unless they ask for a place.
    pub order: i64,
    /// The day the task is due (`YYYY-MM-DD`, no time zone), or null when
    /// it has none.
    #[schema(required = true, examples("2026-12-24", json!(null)))]
    pub due: Option<NaiveDate>,
    /// The time of day on `due` the task is due (`HH:MM`, 24-hour, no
    /// time zone: a wall-clock time wherever the reader is), or null when
    /// it is due some time that day, or has no due date.
    #[schema(value_type = Option<TimeOfDay>, required = true, examples("09:30", json!(null)))]
    pub due_time: Option<DueTime>,
    /// Only in the answers of `/api/today` and `/api/upcoming`: whether the
    /// task is open and past its due date, or its due time, at the
    /// reader's `date` and `time`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = bool)]
    pub overdue: Option<bool>,
    /// The absolute URL of this task, built from the address the client
    /// used (and the `X-Forwarded-Proto` and `X-Forwarded-Host` headers of a
    /// load balancer).
    #[schema(format = "uri", examples("https://todo.example.com/api/todos/7"))]
    pub url: String,
    /// Goes up by one on every change; the `ETag` header is this number in
    /// quotes.
    #[schema(minimum = 1)]
    pub version: i64,
    /// When the task was created (UTC).
    pub created_at: DateTime<Utc>,
    /// When the task last changed (UTC).
    pub updated_at: DateTime<Utc>,
    /// The list the task is in.
    #[schema(minimum = 1)]
    pub list_id: i64,
    /// The username of who added the task, or null when unknown (tasks
    /// from before lists, the shared list without accounts, or an account
    /// since deleted).
    #[schema(required = true)]
    pub created_by: Option<&'a str>,
    /// The username of who completed the task; null while it is open or
    /// when unknown.
    #[schema(required = true)]
    pub completed_by: Option<&'a str>,
}

impl<'a> TaskView<'a> {
    pub fn new(task: &'a Task, base: &BaseUrl) -> Self {
        Self {
            id: task.id,
            title: task.title.as_str(),
            priority: task.priority,
            priority_name: task.priority.name(),
            completed: task.completed,
            order: task.order,
            due: task.due,
            due_time: task.due_time,
            overdue: None,
            url: base.task_url(task.id),
            version: task.version,
            created_at: task.created_at,
            updated_at: task.updated_at,
            list_id: task.list.0,
            created_by: task.created_by.as_deref(),
            completed_by: task.completed_by.as_deref(),
        }
    }
}

/// One task with its `ETag`.
pub fn task_response(status: StatusCode, task: &Task, base: &BaseUrl) -> Response {
    let mut response = (status, Json(TaskView::new(task, base))).into_response();
    insert_etag(response.headers_mut(), task.version);
    response
}

pub fn insert_etag(headers: &mut HeaderMap, version: i64) {
    if let Ok(value) = HeaderValue::from_str(&etag(version)) {
        headers.insert(ETAG, value);
    }
}
