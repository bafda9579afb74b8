use super::FieldError;

/// How a list of tasks is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SortOrder {
    /// The user's own order (`order` ascending). TodoMVC adds at the bottom.
    #[default]
    Order,
    /// Most urgent first.
    Priority,
    /// Soonest due date first; tasks without one last.
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
