//! CalDAV's side of a task, with no I/O and no HTTP: the VTODO object a
//! client sent, read into the fields we model ([`vtodo::parse`](crate::caldav::vtodo::parse)) and given
//! back with the task's current values ([`vtodo::render`](crate::caldav::vtodo::render)), and the sync
//! tokens handed to clients. The store keeps the objects (`db::caldav`);
//! the WebDAV front end is `http::caldav`.

pub mod vtodo;

pub use vtodo::{ParsedTodo, TaskState, TodoError, TodoFields};

/// A point in the history of changes, which a sync token names: every
/// change the reader had not seen is numbered `from` or later, or is one
/// of `running` (PostgreSQL: transactions that were still running, with
/// smaller numbers, when the point was taken; SQLite has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncPoint {
    pub from: i64,
    pub running: Vec<i64>,
}

impl SyncPoint {
    /// The oldest change this point may still have to report.
    pub fn oldest(&self) -> i64 {
        self.running
            .iter()
            .copied()
            .chain([self.from])
            .min()
            .unwrap_or(self.from)
    }

    /// This point moved back to `from` (when less), keeping only the
    /// running changes below it.
    pub fn until(&self, from: i64) -> Self {
        let from = from.min(self.from);
        Self {
            from,
            running: self.running.iter().copied().filter(|r| *r < from).collect(),
        }
    }
}

/// A sync token (RFC 6578) as clients see it: a URI naming a point.
pub fn sync_token(point: &SyncPoint) -> String {
    let mut token = format!("{SYNC_TOKEN_PREFIX}{}", point.from);
    for running in &point.running {
        token.push('.');
        token.push_str(&running.to_string());
    }
    token
}

/// The point a token this server made names; `None` for anything else (a
/// client's garbage, another server's token).
pub fn parse_sync_token(token: &str) -> Option<SyncPoint> {
    let mut numbers = token
        .trim()
        .strip_prefix(SYNC_TOKEN_PREFIX)?
        .split('.')
        .map(|n| n.parse::<i64>().ok().filter(|n| *n >= 0));
    let from = numbers.next()??;
    let running = numbers.collect::<Option<Vec<i64>>>()?;
    (running.len() <= MAX_RUNNING).then_some(SyncPoint { from, running })
}

/// The most running changes a token may name (PostgreSQL's connections
/// bound them far below this).
const MAX_RUNNING: usize = 10_000;

const SYNC_TOKEN_PREFIX: &str = "urn:x-todo-app:sync:";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let point = SyncPoint {
            from: 120,
            running: vec![117, 119],
        };
        assert_eq!(sync_token(&point), "urn:x-todo-app:sync:120.117.119");
        assert_eq!(parse_sync_token(&sync_token(&point)), Some(point.clone()));
        assert_eq!(point.oldest(), 117);
        assert_eq!(
            point.until(118),
            SyncPoint {
                from: 118,
                running: vec![117]
            }
        );
        for bad in [
            "",
            "urn:x-todo-app:sync:",
            "urn:x-todo-app:sync:1.x",
            "urn:x-todo-app:sync:-1",
            "http://other/sync/3",
        ] {
            assert_eq!(parse_sync_token(bad), None, "{bad}");
        }
    }
}
