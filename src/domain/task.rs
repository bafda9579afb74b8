use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::{DueTime, FieldError, ListId, ListName, Priority, Title};

/// A stored task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Task {
    pub id: i64,
    pub title: Title,
    pub priority: Priority,
    pub completed: bool,
    pub order: i64,
    pub due: Option<NaiveDate>,
    /// The time of day on `due`, if it has one (never without `due`).
    pub due_time: Option<DueTime>,
    /// Bumped on every change; the HTTP layer exposes it as the `ETag`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The list it is in.
    pub list: ListId,
    /// Who added it and who completed it (usernames), where known.
    pub created_by: Option<String>,
    pub completed_by: Option<String>,
}

/// A task to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    pub title: Title,
    pub priority: Priority,
    pub completed: bool,
    /// Position in the list; `None` puts the task at the end.
    pub order: Option<i64>,
    pub due: Option<NaiveDate>,
    /// Only with `due`.
    pub due_time: Option<DueTime>,
}

impl NewTask {
    pub fn new(title: Title) -> Self {
        Self {
            title,
            priority: Priority::default(),
            completed: false,
            order: None,
            due: None,
            due_time: None,
        }
    }
}

/// A new task is the fields of a change, with a title: what is left out
/// takes its default.
impl TryFrom<TaskChanges> for NewTask {
    type Error = FieldError;

    fn try_from(changes: TaskChanges) -> Result<Self, FieldError> {
        let title = changes
            .title
            .ok_or_else(|| FieldError::new("title", "title is required"))?;
        let due = changes.due.flatten();
        let due_time = changes.due_time.flatten();
        if due_time.is_some() && due.is_none() {
            return Err(DueTime::needs_a_date());
        }
        Ok(Self {
            title,
            priority: changes.priority.unwrap_or_default(),
            completed: changes.completed.unwrap_or(false),
            order: changes.order,
            due,
            due_time,
        })
    }
}

/// A partial update: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskChanges {
    pub title: Option<Title>,
    pub priority: Option<Priority>,
    pub completed: Option<bool>,
    pub order: Option<i64>,
    /// `Some(None)` clears the due date, and its time with it.
    pub due: Option<Option<NaiveDate>>,
    /// `Some(None)` clears the time and keeps the date. Setting a time
    /// needs a date: sent with it, or the task's own.
    pub due_time: Option<Option<DueTime>>,
    /// Moves the task to this list (at its end, unless `order` is given).
    pub list: Option<ListId>,
}

impl TaskChanges {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Refuses a change that sets a time while it clears the date; whether
    /// a time sent alone has a date to go with is the stored task's
    /// business (`Store::update_task`).
    pub fn check(self) -> Result<Self, FieldError> {
        if matches!(self.due, Some(None)) && matches!(self.due_time, Some(Some(_))) {
            return Err(DueTime::needs_a_date());
        }
        Ok(self)
    }

    /// Whether the change gives the task a time of day.
    pub fn sets_a_time(&self) -> bool {
        matches!(self.due_time, Some(Some(_)))
    }
}

/// A task read from an export file, validated, keeping its id and history.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedTask {
    pub id: i64,
    pub title: Title,
    pub priority: Priority,
    pub completed: bool,
    pub order: i64,
    pub due: Option<NaiveDate>,
    /// Only with `due`.
    pub due_time: Option<DueTime>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an import stores: the tasks of the default list, and other lists
/// with theirs (export format version 2; version 1 has only the former).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Import {
    pub tasks: Vec<ImportedTask>,
    pub lists: Vec<ImportedList>,
}

/// A list read from an export file, to be created with its tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedList {
    pub name: ListName,
    pub position: i64,
    pub tasks: Vec<ImportedTask>,
}

impl Import {
    /// Every task in it, in every list.
    pub fn task_count(&self) -> usize {
        self.tasks.len() + self.lists.iter().map(|l| l.tasks.len()).sum::<usize>()
    }

    /// The most tasks any one list of it holds.
    pub fn largest_list(&self) -> usize {
        self.lists
            .iter()
            .map(|l| l.tasks.len())
            .chain([self.tasks.len()])
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_task_needs_a_title() {
        let changes = TaskChanges {
            priority: Some(Priority::LOW),
            ..TaskChanges::default()
        };
        assert_eq!(NewTask::try_from(changes).unwrap_err().field, "title");
    }

    #[test]
    fn a_time_needs_a_date() {
        let nine = DueTime::parse("09:00").unwrap();
        let new = TaskChanges {
            title: Some(Title::parse("Call").unwrap()),
            due_time: Some(nine),
            ..TaskChanges::default()
        };
        assert_eq!(
            NewTask::try_from(new.clone()).unwrap_err().field,
            "due_time"
        );
        let dated = TaskChanges {
            due: Some(NaiveDate::from_ymd_opt(2030, 1, 2)),
            ..new
        };
        assert_eq!(NewTask::try_from(dated).unwrap().due_time, nine);
        let clearing = TaskChanges {
            due: Some(None),
            due_time: Some(nine),
            ..TaskChanges::default()
        };
        assert_eq!(clearing.check().unwrap_err().field, "due_time");
        let only_time = TaskChanges {
            due_time: Some(nine),
            ..TaskChanges::default()
        };
        assert!(only_time.check().unwrap().sets_a_time());
    }
}
