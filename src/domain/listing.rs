use super::FieldError;

/// How a list of tasks is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SortOrder {
    /// The user's own order (`order` ascending). TodoMVC adds at the bottom.
    #[default]
    Order,
    /// Most urgent first.
    Priority,
    /// Soonest due date first; tasks without one last. On one day, tasks
    /// without a time of day come before the timed ones, in time order.
    Due,
    /// Newest first.
    Created,
}

impl SortOrder {
    pub const NAMES: [&'static str; 4] = ["order", "priority", "due", "created"];

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "order" | "" => Ok(Self::Order),
            "priority" => Ok(Self::Priority),
            "due" => Ok(Self::Due),
            "created" => Ok(Self::Created),
            other => Err(FieldError::new(
                "sort",
                format!(
                    "sort {other:?} is not valid; use one of: {}",
                    Self::NAMES.join(", ")
                ),
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Order => "order",
            Self::Priority => "priority",
            Self::Due => "due",
            Self::Created => "created",
        }
    }
}

/// Which tasks to list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaskFilter {
    pub completed: Option<bool>,
    /// Case-insensitive substring of the title.
    pub query: Option<String>,
    pub sort: SortOrder,
    pub limit: u32,
    pub offset: u64,
}

impl TaskFilter {
    pub const MAX_LIMIT: u32 = 1000;
}

impl Default for TaskFilter {
    fn default() -> Self {
        Self {
            completed: None,
            query: None,
            sort: SortOrder::default(),
            limit: Self::MAX_LIMIT,
            offset: 0,
        }
    }
}

/// The views people plan their day with, across every list the reader
/// can see, for the reader's `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agenda {
    /// Open tasks due today or earlier, and those completed that were due
    /// today.
    Today,
    /// Tasks due in the next `UPCOMING_DAYS` days after today.
    Upcoming,
}

impl Agenda {
    pub const UPCOMING_DAYS: u64 = 7;

    /// The days the view covers: `(first, last)`, `first` open-ended for
    /// Today (every overdue task).
    pub fn days(self, today: chrono::NaiveDate) -> (Option<chrono::NaiveDate>, chrono::NaiveDate) {
        match self {
            Self::Today => (None, today),
            Self::Upcoming => (
                today.succ_opt(),
                today
                    .checked_add_days(chrono::Days::new(Self::UPCOMING_DAYS))
                    .unwrap_or(today),
            ),
        }
    }
}
