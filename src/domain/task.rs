use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// A problem with one input field, reported to the client as a 422.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// A task title: trimmed, 1 to 255 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub const MAX_CHARS: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new("title", "title must not be empty"));
        }
        let chars = trimmed.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(FieldError::new(
                "title",
                format!(
                    "title is {chars} characters long; the maximum is {}",
                    Self::MAX_CHARS
                ),
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(FieldError::new(
                "title",
                "title must not contain control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// How urgent a task is: 1 (low) to 5 (do now). Higher is more urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(i16);

impl Priority {
    pub const LOW: Priority = Priority(1);
    /// Names in order, index 0 is priority 1. The API accepts these or the numbers.
    pub const NAMES: [&'static str; 5] = ["low", "medium", "high", "urgent", "do-now"];

    pub fn all() -> impl Iterator<Item = Priority> {
        (1..=5).map(Priority)
    }

    pub fn from_number(n: i64) -> Result<Self, FieldError> {
        if (1..=5).contains(&n) {
            Ok(Self(n as i16))
        } else {
            Err(Self::invalid(&n.to_string()))
        }
    }

    /// Accepts `1`..`5` or a name (`low`, `medium`, `high`, `urgent`, `do-now`), case-insensitive.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim();
        if let Ok(n) = raw.parse::<i64>() {
            return Self::from_number(n);
        }
        let lower = raw.to_ascii_lowercase().replace(['_', ' '], "-");
        Self::NAMES
            .iter()
            .position(|name| *name == lower || (lower == "donow" && *name == "do-now"))
            .map(|i| Self(i as i16 + 1))
            .ok_or_else(|| Self::invalid(raw))
    }

    fn from_json(value: &Value) -> Result<Self, FieldError> {
        match value {
            Value::Number(n) => match whole_number(value) {
                Some(n) => Self::from_number(n),
                None => Err(Self::invalid(&n.to_string())),
            },
            Value::String(s) => Self::parse(s),
            other => Err(FieldError::new(
                "priority",
                format!(
                    "priority must be a number from 1 to 5 or a name, not {}",
                    json_kind(other)
                ),
            )),
        }
    }

    fn invalid(raw: &str) -> FieldError {
        FieldError::new(
            "priority",
            format!(
                "priority {raw:?} is not valid; use 1-5 or one of: {}",
                Self::NAMES.join(", ")
            ),
        )
    }

    pub fn value(self) -> i16 {
        self.0
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[(self.0 - 1) as usize]
    }

    /// Human label for the UI, e.g. "Do now".
    pub fn label(self) -> &'static str {
        ["Low", "Medium", "High", "Urgent", "Do now"][(self.0 - 1) as usize]
    }
}

impl Default for Priority {
    fn default() -> Self {
        Self::LOW
    }
}

impl TryFrom<i16> for Priority {
    type Error = FieldError;
    fn try_from(n: i16) -> Result<Self, FieldError> {
        Self::from_number(n.into())
    }
}

impl Serialize for Priority {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i16(self.0)
    }
}

/// Due dates are calendar days (`YYYY-MM-DD`), no time zone.
pub struct Due;

impl Due {
    pub fn parse(raw: &str) -> Result<Option<NaiveDate>, FieldError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        // chrono's `%Y` also takes signed and five-digit years, which
        // PostgreSQL may not store and RFC 3339 clients cannot read.
        let shaped = raw.len() == 10
            && raw.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        shaped
            .then(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok())
            .flatten()
            .map(Some)
            .ok_or_else(|| {
                FieldError::new(
                    "due",
                    format!("due date {raw:?} is not a valid date; use YYYY-MM-DD"),
                )
            })
    }

    /// Dates read from elsewhere (import files) must be ones `parse` accepts:
    /// years 0000 to 9999.
    pub fn check(field: &'static str, date: NaiveDate) -> Result<NaiveDate, FieldError> {
        if (0..=9999).contains(&date.year()) {
            Ok(date)
        } else {
            Err(FieldError::new(
                field,
                format!("{field} {date} is out of range; years 0000 to 9999 are supported"),
            ))
        }
    }

    fn from_json(value: &Value) -> Result<Option<NaiveDate>, FieldError> {
        match value {
            Value::Null => Ok(None),
            Value::String(s) => Self::parse(s),
            other => Err(FieldError::new(
                "due",
                format!(
                    "due must be a date string (YYYY-MM-DD) or null, not {}",
                    json_kind(other)
                ),
            )),
        }
    }
}

/// The largest `order` a client may set, in either direction:
/// JavaScript's `Number.MAX_SAFE_INTEGER`, so every browser client reads
/// the number exactly.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// The largest id an import accepts. Below `MAX_SAFE_INTEGER` with room to
/// spare, because new tasks get ids past the last one, and every id (like
/// every `order`) must stay one a JavaScript client holds exactly, so that
/// each export imports again.
pub const MAX_IMPORTED: i64 = 1 << 52;

pub fn check_range(field: &'static str, n: i64, max: i64) -> Result<i64, FieldError> {
    if (-max..=max).contains(&n) {
        Ok(n)
    } else {
        Err(FieldError::new(
            field,
            format!("{field} {n} is out of range; use a whole number from -{max} to {max}"),
        ))
    }
}

/// A JSON number without a fraction, as an integer. `3.0` counts (JSON and
/// JSON Schema do not tell it from `3`), up to the limit where a float is
/// exact.
pub fn whole_number(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() <= MAX_SAFE_INTEGER as f64)
            .map(|f| f as i64)
    })
}

/// A stored task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Task {
    pub id: i64,
    pub title: String,
    pub priority: Priority,
    pub completed: bool,
    pub order: i64,
    pub due: Option<NaiveDate>,
    /// Bumped on every change; the HTTP layer exposes it as the `ETag`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
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
}

impl NewTask {
    pub fn new(title: Title) -> Self {
        Self {
            title,
            priority: Priority::default(),
            completed: false,
            order: None,
            due: None,
        }
    }

    /// Parses a JSON object such as `{"title": "...", "priority": "high"}`.
    pub fn from_json(body: &Map<String, Value>) -> Result<Self, FieldError> {
        let changes = TaskChanges::from_json(body)?;
        let title = changes
            .title
            .ok_or_else(|| FieldError::new("title", "title is required"))?;
        Ok(Self {
            title,
            priority: changes.priority.unwrap_or_default(),
            completed: changes.completed.unwrap_or(false),
            order: changes.order,
            due: changes.due.flatten(),
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
    /// `Some(None)` clears the due date.
    pub due: Option<Option<NaiveDate>>,
}

/// Fields a client may echo back (they are read-only and ignored).
const READ_ONLY_FIELDS: [&str; 6] = [
    "id",
    "url",
    "version",
    "created_at",
    "updated_at",
    "priority_name",
];

impl TaskChanges {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Parses a JSON object with any subset of the writable fields.
    pub fn from_json(body: &Map<String, Value>) -> Result<Self, FieldError> {
        let mut changes = Self::default();
        for (key, value) in body {
            match key.as_str() {
                "title" => match value {
                    Value::String(s) => changes.title = Some(Title::parse(s)?),
                    other => {
                        return Err(FieldError::new(
                            "title",
                            format!("title must be a string, not {}", json_kind(other)),
                        ));
                    }
                },
                "priority" => changes.priority = Some(Priority::from_json(value)?),
                "completed" => match value {
                    Value::Bool(b) => changes.completed = Some(*b),
                    other => {
                        return Err(FieldError::new(
                            "completed",
                            format!("completed must be true or false, not {}", json_kind(other)),
                        ));
                    }
                },
                "order" => match whole_number(value) {
                    Some(n) => changes.order = Some(check_range("order", n, MAX_SAFE_INTEGER)?),
                    None => {
                        return Err(FieldError::new(
                            "order",
                            format!("order must be an integer, not {}", json_kind(value)),
                        ));
                    }
                },
                "due" => changes.due = Some(Due::from_json(value)?),
                key if READ_ONLY_FIELDS.contains(&key) => {}
                _ => {
                    // Field names are caller-controlled; keep the message short.
                    let shown: String = key.chars().take(40).collect();
                    return Err(FieldError::new(
                        "body",
                        format!(
                            "unknown field {shown:?}; expected title, priority, completed, order or due"
                        ),
                    ));
                }
            }
        }
        Ok(changes)
    }
}

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

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn title_is_trimmed_and_bounded() {
        assert_eq!(Title::parse("  milk ").unwrap().as_str(), "milk");
        assert_eq!(Title::parse("   ").unwrap_err().field, "title");
        assert!(Title::parse(&"é".repeat(255)).is_ok());
        let err = Title::parse(&"é".repeat(256)).unwrap_err();
        assert!(err.message.contains("256"), "{err}");
    }

    #[test]
    fn priority_accepts_numbers_and_names() {
        assert_eq!(Priority::parse("3").unwrap().value(), 3);
        assert_eq!(Priority::parse("Do-Now").unwrap().value(), 5);
        assert_eq!(Priority::parse("do_now").unwrap().value(), 5);
        assert_eq!(Priority::parse("urgent").unwrap().name(), "urgent");
        assert!(Priority::parse("0").is_err());
        assert!(Priority::parse("6").is_err());
        assert!(Priority::parse("whenever").is_err());
        assert!(Priority::from_json(&json!(2.5)).is_err());
        assert_eq!(Priority::from_json(&json!(2.0)).unwrap().value(), 2);
        assert!(Priority::from_json(&json!(true)).is_err());
    }

    #[test]
    fn order_stays_within_safe_integers() {
        let body = json!({"order": MAX_SAFE_INTEGER})
            .as_object()
            .unwrap()
            .clone();
        assert!(TaskChanges::from_json(&body).is_ok());
        for order in [MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1, i64::MAX] {
            let body = json!({ "order": order }).as_object().unwrap().clone();
            assert_eq!(TaskChanges::from_json(&body).unwrap_err().field, "order");
        }
    }

    #[test]
    fn due_dates_have_four_digit_years() {
        for raw in [
            "+20000-01-01",
            "-0001-01-01",
            "20000-01-01",
            "2030-1-01",
            "２０３０-01-01",
        ] {
            assert!(Due::parse(raw).is_err(), "{raw}");
        }
        assert!(Due::parse("0001-01-01").is_ok());
        let far = NaiveDate::from_ymd_opt(200_000, 1, 1).unwrap();
        assert_eq!(Due::check("due", far).unwrap_err().field, "due");
    }

    #[test]
    fn due_dates_are_calendar_days() {
        assert_eq!(
            Due::parse("2030-02-28").unwrap(),
            NaiveDate::from_ymd_opt(2030, 2, 28)
        );
        assert_eq!(Due::parse("").unwrap(), None);
        assert!(Due::parse("2030-02-30").is_err());
        assert!(Due::parse("tomorrow").is_err());
    }

    #[test]
    fn changes_distinguish_absent_from_null() {
        let body = json!({"due": null}).as_object().unwrap().clone();
        assert_eq!(TaskChanges::from_json(&body).unwrap().due, Some(None));
        let body = json!({}).as_object().unwrap().clone();
        assert!(TaskChanges::from_json(&body).unwrap().is_empty());
    }

    #[test]
    fn unknown_fields_are_rejected_read_only_ignored() {
        let body = json!({"titel": "x"}).as_object().unwrap().clone();
        assert!(TaskChanges::from_json(&body).is_err());
        let body = json!({"id": 3, "url": "x", "completed": true})
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(TaskChanges::from_json(&body).unwrap().completed, Some(true));
    }

    #[test]
    fn new_task_needs_a_title() {
        let body = json!({"priority": 2}).as_object().unwrap().clone();
        assert_eq!(NewTask::from_json(&body).unwrap_err().field, "title");
    }
}
