//! What can go wrong in the store, classified once, where the error is
//! made. The messages are for logs; what a client reads is written by the
//! HTTP layer (`http::error`).

use super::lists::Need;
use super::postgres;
use crate::domain::Role;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("task {0} not found")]
    NotFound(i64),
    /// The caller's `If-Match` version is not the stored one.
    #[error("task {id} has changed: the current version is {current}")]
    VersionMismatch { id: i64, current: i64 },
    /// An import without `replace` into a list that has tasks.
    #[error("the list already holds {existing} tasks")]
    ListNotEmpty { existing: i64 },
    /// An import that keeps ids names an id another list's task holds.
    #[error("task id {0} belongs to another list")]
    IdTaken(i64),
    /// A create or an import that would take a list past the account's
    /// task limit; nothing was written.
    #[error("the list would hold more than {limit} tasks")]
    TaskLimit { limit: u64, importing: Option<u64> },
    /// A new list (made, restored or imported) that would take its owner
    /// past the lists an account may have; nothing was written.
    #[error("the account would own more than {limit} lists")]
    ListLimit { limit: u64, importing: Option<u64> },
    /// Sharing a list with more people than a list may have.
    #[error("the list would be shared with more than {limit} people")]
    MemberLimit { limit: u64 },
    /// No list with this id that the actor can see.
    #[error("list {0} not found")]
    ListNotFound(i64),
    /// The actor can see the list but its role does not allow the change.
    #[error("a {role} of list {list} may not do this")]
    NotAllowed { list: i64, role: Role, needed: Need },
    /// A restore of a list that is not deleted.
    #[error("list {0} is not deleted")]
    ListNotDeleted(i64),
    /// A task restored into a list that was deleted since: the list comes
    /// back first.
    #[error("list {0} was deleted")]
    ListDeleted(i64),
    /// The default list is never deleted.
    #[error("the default list cannot be deleted")]
    DefaultList,
    /// A restore of a task that is not deleted (or was restored already).
    #[error("task {0} is not deleted")]
    NotDeleted(i64),
    /// A time of day given to task `0`, which has no due date.
    #[error("task {0} has no due date to give a time to")]
    TimeWithoutDate(i64),
    /// A task moved to a list the actor cannot add tasks to.
    #[error("list {0} does not take tasks from this actor")]
    TargetList(i64),
    /// Sharing with an account that does not exist.
    #[error("no account is named {0:?}")]
    UnknownUser(String),
    /// Sharing a list with its own owner.
    #[error("a list cannot be shared with its owner")]
    ShareWithSelf,
    #[error("{0:?} is already a member")]
    AlreadyMember(String),
    #[error("{0:?} is not a member")]
    MemberNotFound(String),
    /// A CalDAV create (`If-None-Match: *`) where a resource is.
    #[error("there is already a resource named {0}")]
    ResourceExists(String),
    /// A CalDAV replace that would change the object's UID (its current).
    #[error("the resource holds UID {0}")]
    UidChanged(String),
    /// A task arriving at a resource name another task of the list took
    /// at the same moment (the unique index caught it); nothing written.
    #[error("another task of the list has the same resource name")]
    ResourceNameTaken,
    /// A CalDAV object whose UID another resource of the list holds.
    #[error("the UID is used by the resource {0}")]
    UidConflict(String),
    /// A sync token older than the changes still kept.
    #[error("the sync token is older than the changes kept")]
    SyncTokenTooOld,
    /// A username already taken (regardless of case).
    #[error("the username is taken")]
    UsernameTaken,
    /// The pool had no free connection within the acquire timeout.
    #[error("the database is busy")]
    Busy,
    /// The database is not reachable right now (see [`is_connection_error`]):
    /// worth retrying, not a bug.
    #[error("{context}")]
    Unavailable {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("{context}")]
    Database {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
}

impl StoreError {
    /// Classifies a failed step, `context` saying what it was doing
    /// ("failed to insert task").
    pub(crate) fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| match source {
            sqlx::Error::PoolTimedOut => Self::Busy,
            source if is_connection_error(&source) => Self::Unavailable { context, source },
            source if is_resource_name_clash(&source) => Self::ResourceNameTaken,
            source => Self::Database { context, source },
        }
    }

    /// The underlying database error, if any.
    pub fn sqlx_error(&self) -> Option<&sqlx::Error> {
        match self {
            Self::Unavailable { source, .. } | Self::Database { source, .. } => Some(source),
            _ => None,
        }
    }

    /// Busy or unreachable: the same request may well succeed in a moment.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Busy | Self::Unavailable { .. })
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The unique index of a list's resource names (`tasks_list_caldav_name`)
/// refused a write. PostgreSQL names the index; SQLite names its columns.
fn is_resource_name_clash(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation()
        && (db.constraint() == Some("tasks_list_caldav_name")
            || db.message().contains("tasks.caldav_name")))
}

/// Errors that mean "the database is not reachable right now" rather than a bug.
pub fn is_connection_error(err: &sqlx::Error) -> bool {
    matches!(
        err,
        sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolClosed
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::WorkerCrashed
    ) || postgres::is_unavailable(err)
}
