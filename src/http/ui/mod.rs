//! The server-rendered web UI at `/`, shaped like TodoMVC so the page is
//! familiar and its tooling works against it.
//!
//! Every action is a plain HTML form that POSTs and is answered with a 303
//! back to the view the user was on, so the whole app works without
//! JavaScript. `assets/app.js` then takes the same forms over: it changes
//! the page at once, posts the form with `fetch`, and the same handler
//! answers with just what changed (`live`): the affected rows, rendered by
//! the same templates, and the parts that follow from all tasks. The server
//! stays the one place that knows how a task looks, in what order, under
//! which filter. (Rendering in the browser too would mean two copies of
//! every template.)

/// The forms that change tasks.
mod actions;
/// Embedded CSS, JavaScript, icon and manifest under content-hashed URLs.
mod assets;
/// The reader's "today" and date order.
mod clock;
/// The list pages.
mod list;
/// The forms that change lists and who they are shared with.
mod lists;
/// What the script gets back: changed rows, the summary, Undo.
mod live;
/// View models and the compiled templates.
mod page;
/// `Reader`: who is asking, and whose list it is.
mod reader;
/// HTML answers and error pages.
mod response;
/// What a view shows: its tasks in groups, and the counts.
mod snapshot;
/// Filters, sort and search as URLs; the parsing of `return` fields.
mod view;

use askama::Template;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::AppState;
use super::api::parse_bool;
use super::auth::{Caller, PageCsrfToken, PageForm};
use super::error::ApiError;
use crate::db::{Need, StoreError};
use crate::domain::{
    Due, DueTime, FieldError, List, NewTask, Owner, Priority, SortOrder, TaskChanges, TaskFilter,
    Title,
};
pub(crate) use assets::{ASSETS, Assets};
use clock::Clock;
use live::{Changed, Extras};
pub(crate) use page::sentence;
use page::{ConfirmPage, EditForm, FormState, MessagePage, Page};
use view::{Filter, View, ViewParams};

use actions::*;
use list::*;
use lists::*;
pub use reader::Reader;
use reader::may_change_tasks;
pub(crate) use response::{UiError, html_response, message_page, not_found_page};
use response::{UiResult, render_error};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(show_all))
        .route("/active", get(show_active))
        .route("/completed", get(show_completed))
        .route("/today", get(show_today))
        .route("/upcoming", get(show_upcoming))
        .route("/todos", post(create))
        .route("/todos/toggle-all", post(toggle_all))
        .route("/todos/clear-completed", post(clear_completed))
        .route("/todos/restore", post(restore))
        .route("/todos/state", get(live::state))
        .route("/todos/rows", get(live::rows))
        .route("/todos/{id}/toggle", post(toggle))
        .route("/todos/{id}/edit", post(edit))
        .route("/todos/{id}/delete", post(delete))
        .route("/todos/{id}/move", post(move_task))
        .route("/lists", post(create_list))
        .route("/lists/{id}", get(settings))
        .route("/lists/{id}/rename", post(rename_list))
        .route("/lists/{id}/delete", post(delete_list))
        .route("/lists/{id}/restore", post(restore_list))
        .route("/lists/{id}/members", post(add_member))
        .route("/lists/{id}/members/role", post(set_member_role))
        .route("/lists/{id}/members/remove", post(remove_member))
        .route("/lists/{id}/leave", post(leave_list))
        .route("/assets/{file}", get(assets::serve))
        .route("/manifest.webmanifest", get(assets::manifest))
        .route("/favicon.ico", get(assets::favicon))
}
