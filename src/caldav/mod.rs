//! CalDAV's side of a task, with no I/O and no HTTP: the VTODO object a
//! client sent, read into the fields we model ([`vtodo::parse`](crate::caldav::vtodo::parse)) and given
//! back with the task's current values ([`vtodo::render`](crate::caldav::vtodo::render)), and the sync
//! tokens handed to clients. The store keeps the objects (`db::caldav`);
//! the WebDAV front end is `http::caldav`.

pub mod vtodo;

pub use vtodo::{ParsedTodo, TaskState, TodoError, TodoFields};

/// A sync token (RFC 6578) as clients see it: a URI naming a change
/// number ("every change from this one on").
pub fn sync_token(change: i64) -> String {
    format!("{SYNC_TOKEN_PREFIX}{change}")
}

/// The change number of a token this server made; `None` for anything
/// else (a client's garbage, another server's token).
pub fn parse_sync_token(token: &str) -> Option<i64> {
    token
        .trim()
        .strip_prefix(SYNC_TOKEN_PREFIX)?
        .parse()
        .ok()
        .filter(|n| *n >= 0)
}

const SYNC_TOKEN_PREFIX: &str = "urn:x-todo-app:sync:";
