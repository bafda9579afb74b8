//! A task as the API shows it.

use axum::Json;
use axum::http::header::ETAG;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::domain::{Priority, Task};
use crate::http::extract::{BaseUrl, etag};

/// A task as the API shows it.
#[derive(Serialize)]
pub struct TaskView<'a> {
    pub id: i64,
    pub title: &'a str,
    pub priority: Priority,
    pub priority_name: &'static str,
    pub completed: bool,
    pub order: i64,
    pub due: Option<NaiveDate>,
    pub url: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl<'a> TaskView<'a> {
    pub fn new(task: &'a Task, base: &BaseUrl) -> Self {
        Self {
            id: task.id,
            title: &task.title,
            priority: task.priority,
            priority_name: task.priority.name(),
            completed: task.completed,
            order: task.order,
            due: task.due,
            url: base.task_url(task.id),
            version: task.version,
            created_at: task.created_at,
            updated_at: task.updated_at,
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
