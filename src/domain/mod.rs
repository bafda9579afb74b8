//! The todo domain: what a task is and which values are valid.
//!
//! Everything here is plain data with no I/O and no wire format. Input from
//! the outside world (HTTP forms, JSON bodies, import files) is turned into
//! these types at the edge that receives it (`http::api::body`,
//! `http::ui`, `export`), so storage and handlers only ever see values that
//! are valid.
//!
//! Where things are:
//! - `field_error`: [`FieldError`], the one way a value is refused;
//! - `title`, `priority`, `due`: the parsed value of each task field
//!   (`due` also the time of day a task may be due at, and when it is
//!   overdue);
//! - `limits`: the numeric bounds ids, positions and timestamps keep;
//! - `task`: [`Task`] as stored, [`NewTask`], [`TaskChanges`] and
//!   [`ImportedTask`], what the store is asked to write;
//! - `listing`: [`TaskFilter`] and [`SortOrder`], which tasks a list shows;
//! - `reorder`: which tasks get which `order` when one moves;
//! - `schedule`: what is overdue, due today or tomorrow on the reader's
//!   day, and which part of Today or Upcoming a task belongs in;
//! - `list`: [`List`], its [`Role`]s and what each may do;
//! - `account`: users and who acts.
//!
//! [`FieldError`]: crate::domain::FieldError
//! [`Task`]: crate::domain::Task
//! [`NewTask`]: crate::domain::NewTask
//! [`TaskChanges`]: crate::domain::TaskChanges
//! [`ImportedTask`]: crate::domain::ImportedTask
//! [`TaskFilter`]: crate::domain::TaskFilter
//! [`SortOrder`]: crate::domain::SortOrder
//! [`List`]: crate::domain::List
//! [`Role`]: crate::domain::Role

mod account;
mod due;
mod field_error;
mod limits;
mod list;
mod listing;
mod priority;
mod reorder;
mod schedule;
mod task;
mod title;

pub use account::{NewPassword, Owner, UserId, Username};
pub use due::{Due, DueTime};
pub use field_error::FieldError;
pub use limits::{
    MAX_IMPORTED, MAX_SAFE_INTEGER, TIMESTAMP_YEARS, check_range, check_timestamp_year,
};
pub use list::{List, ListId, ListName, Member, Role};
pub use listing::{Agenda, SortOrder, TaskFilter};
pub use priority::Priority;
pub use reorder::{MoveTarget, reorder};
pub use schedule::{AgendaGroup, DueStanding};
pub use task::{Import, ImportedList, ImportedTask, NewTask, Task, TaskChanges};
pub use title::Title;
