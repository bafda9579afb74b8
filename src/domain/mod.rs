//! The todo domain: what a task is and which values are valid.
//!
//! Everything here is plain data with no I/O. Input from the outside world
//! (HTTP forms, JSON, import files) is turned into these types by `parse`
//! functions, so storage and handlers only ever see values that are valid.

mod account;
mod task;

pub use account::{NewPassword, Owner, UserId, Username};

pub use task::{
    Due, FieldError, MAX_IMPORTED, MAX_SAFE_INTEGER, NewTask, Priority, SortOrder, Task,
    TaskChanges, TaskFilter, Title, check_range, whole_number,
};
