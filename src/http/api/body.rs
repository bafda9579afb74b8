//! JSON request bodies of the task routes, as serde-derived types whose
//! OpenAPI schemas come from the same derive (`ToSchema`).
//!
//! This is the one place that knows the field names a client writes. Each
//! field is read as the JSON value it is and parsed into its domain type
//! by the domain's own rule (`Title::parse`, `Priority::parse`, …), so a
//! bad value gets the domain's words; `http::extract::JsonBody` adds which
//! field it was (the path serde was at). Handlers only see [`NewTask`] and
//! [`TaskChanges`], already valid.

use chrono::NaiveDate;
use serde::Deserialize;
use serde::de::{Deserializer, Error as _, IgnoredAny};
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::{
    Due, DueTime, FieldError, ListId, MAX_SAFE_INTEGER, NewTask, Priority, TaskChanges, Title,
    check_range,
};
use crate::http::extract::Body;
use crate::json::schema::{CalendarDay, OrderInput, PriorityInput, ReadOnly, TimeOfDay, TitleText};
use crate::json::{kind, whole_number};

/// The fields of a task a client may write, and the read-only ones it may
/// echo back from a task it read (accepted and ignored, so `PATCH` with a
/// whole task works): written once for both bodies below.
macro_rules! task_body {
    ($(#[$meta:meta])* $name:ident { $(#[$title:meta])* }) => {
        #[derive(Debug, Default, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        $(#[$meta])*
        // The read-only fields are read only to be ignored.
        #[allow(dead_code)]
        pub struct $name {
            $(#[$title])*
            #[serde(default, deserialize_with = "title")]
            #[schema(value_type = TitleText)]
            title: Option<Title>,
            #[serde(default, deserialize_with = "priority")]
            #[schema(value_type = PriorityInput)]
            priority: Option<Priority>,
            /// Whether the task is done.
            #[serde(default, deserialize_with = "completed")]
            #[schema(value_type = bool)]
            completed: Option<bool>,
            #[serde(default, deserialize_with = "order")]
            #[schema(value_type = OrderInput)]
            order: Option<i64>,
            /// The day the task is due (`YYYY-MM-DD`); null (or an empty
            /// string) means no due date, and clears the due time too.
            /// Surrounding whitespace is ignored.
            #[serde(default, deserialize_with = "due")]
            #[schema(value_type = Option<CalendarDay>)]
            due: Option<Option<NaiveDate>>,
            /// The time of day on `due` the task is due (`HH:MM`, 24-hour),
            /// a wall-clock time with no time zone: `09:00` is nine in the
            /// morning wherever the reader is. Null (or an empty string)
            /// removes the time and keeps the date. A time needs a date:
            /// sent with it, or the task's own; otherwise 422.
            #[serde(default, deserialize_with = "due_time")]
            #[schema(value_type = Option<TimeOfDay>)]
            due_time: Option<Option<DueTime>>,
            /// The list the task is in: on a create, the list to add it to
            /// (instead of the one in the path, or the default list); on a
            /// change, the list to move it to (at its end unless `order`
            /// is given). Either way a list the caller may add tasks to.
            #[serde(default, deserialize_with = "list_id")]
            #[schema(value_type = i64, minimum = 1)]
            list_id: Option<ListId>,
            #[serde(default)]
            #[schema(value_type = ReadOnly)]
            created_by: Option<IgnoredAny>,
            #[serde(default)]
            #[schema(value_type = ReadOnly)]
            completed_by: Option<IgnoredAny>,
            #[serde(default)]
            #[schema(value_type = ReadOnly)]
            id: Option<IgnoredAny>,
            #[serde(default)]
            #[schema(value_type = ReadOnly)]
            url: Option<IgnoredAny>,
            #[serde(default)]
            #[schema(value_type = ReadOnly)]
            version: Option<IgnoredAny>,
            #[serde(default)]
            #[schema(value_type = ReadOnly)]
            created_at: Option<IgnoredAny>,
            #[serde(default)]
            #[schema(value_type = ReadOnly)]
            updated_at: Option<IgnoredAny>,
            #[serde(default)]
            #[schema(value_type = ReadOnly)]
            priority_name: Option<IgnoredAny>,
            #[serde(default)]
            #[schema(value_type = ReadOnly)]
            overdue: Option<IgnoredAny>,
        }

        impl Body for $name {
            const FIELDS: &'static [&'static str] =
                &["title", "priority", "completed", "order", "due", "due_time", "list_id"];
        }

        /// The change the body asks for, if it holds together (a time is
        /// not set while the date is cleared).
        impl TryFrom<$name> for TaskChanges {
            type Error = FieldError;

            fn try_from(body: $name) -> Result<Self, FieldError> {
                TaskChanges {
                    title: body.title,
                    priority: body.priority,
                    completed: body.completed,
                    order: body.order,
                    due: body.due,
                    due_time: body.due_time,
                    list: body.list_id,
                }
                .check()
            }
        }
    };
}

task_body! {
    /// A task to create. Only `title` is required: the priority defaults to
    /// 1 (`low`), `completed` to false, and a task without `order` goes to
    /// the end of the list. Fields other than those listed are refused with
    /// 422.
    #[schema(as = NewTask, examples(
        json!({"title": "Water the plants", "priority": "high", "due": "2026-12-24"}),
        json!({"title": "Call the plumber", "due": "2026-12-24", "due_time": "09:30"})
    ))]
    NewTaskBody {
        #[schema(required = true)]
    }
}

task_body! {
    /// The fields to change; fields left out keep their value, and
    /// `"due": null` clears the due date (and its time). All changes are applied together
    /// or not at all. An empty object changes nothing and returns the task
    /// as it is. Fields other than those listed are refused with 422.
    #[schema(as = TaskChanges, examples(
        json!({"completed": true}),
        json!({"due": "2026-12-27", "due_time": "18:00"}),
        json!({"title": "Water the plants twice", "due": null})
    ))]
    TaskChangesBody {}
}

/// `POST /api/todos`: the writable fields, with a title.
impl TryFrom<NewTaskBody> for NewTask {
    type Error = FieldError;

    fn try_from(body: NewTaskBody) -> Result<Self, FieldError> {
        NewTask::try_from(TaskChanges::try_from(body)?)
    }
}

/// Marks every task as completed or not completed. No other field may be
/// sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteAll {
    /// The state to give every task.
    #[serde(deserialize_with = "required_completed")]
    pub completed: bool,
}

impl Body for CompleteAll {
    const FIELDS: &'static [&'static str] = &["completed"];
}

/// Reads one field as the JSON value it is and parses it by `rule`; the
/// rule's message becomes serde's error, which `JsonBody` pins to the field.
fn field<'de, D, T>(
    deserializer: D,
    rule: impl FnOnce(&Value) -> Result<T, FieldError>,
) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
{
    let value = Value::deserialize(deserializer)?;
    rule(&value)
        .map(Some)
        .map_err(|e| D::Error::custom(e.message))
}

fn title<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Title>, D::Error> {
    field(deserializer, |value| match value {
        Value::String(s) => Title::parse(s),
        other => Err(FieldError::new(
            "title",
            format!("title must be a string, not {}", kind(other)),
        )),
    })
}

/// A number (`3`, or `3.0`) or a name (`"high"`, `"3"`).
fn priority<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Priority>, D::Error> {
    field(deserializer, |value| match value {
        Value::Number(n) => match whole_number(value) {
            Some(n) => Priority::from_number(n),
            None => Err(Priority::invalid(&n.to_string())),
        },
        Value::String(s) => Priority::parse(s),
        other => Err(FieldError::new(
            "priority",
            format!(
                "priority must be a number from 1 to 5 or a name, not {}",
                kind(other)
            ),
        )),
    })
}

fn completed<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    field(deserializer, |value| match value {
        Value::Bool(b) => Ok(*b),
        other => Err(FieldError::new(
            "completed",
            format!("completed must be true or false, not {}", kind(other)),
        )),
    })
}

fn required_completed<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    completed(deserializer).map(Option::unwrap_or_default)
}

fn order<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    field(deserializer, |value| match whole_number(value) {
        Some(n) => check_range("order", n, MAX_SAFE_INTEGER),
        None => Err(FieldError::new(
            "order",
            format!("order must be an integer, not {}", kind(value)),
        )),
    })
}

/// A list id: a positive whole number.
fn list_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<ListId>, D::Error> {
    field(deserializer, |value| match whole_number(value) {
        Some(n) if n > 0 => Ok(ListId(n)),
        _ => Err(FieldError::new(
            "list_id",
            format!(
                "list_id must be the id of a list (a positive integer), not {}",
                kind(value)
            ),
        )),
    })
}

/// A date string, or `null` to clear the due date: absent is `None`,
/// null is `Some(None)`.
fn due<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<NaiveDate>>, D::Error> {
    field(deserializer, |value| match value {
        Value::Null => Ok(None),
        Value::String(s) => Due::parse(s),
        other => Err(FieldError::new(
            "due",
            format!(
                "due must be a date string (YYYY-MM-DD) or null, not {}",
                kind(other)
            ),
        )),
    })
}

/// A time string, or `null` to remove the time: absent is `None`, null
/// is `Some(None)`.
fn due_time<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<DueTime>>, D::Error> {
    field(deserializer, |value| match value {
        Value::Null => Ok(None),
        Value::String(s) => DueTime::parse(s),
        other => Err(FieldError::new(
            "due_time",
            format!(
                "due_time must be a time string (HH:MM) or null, not {}",
                kind(other)
            ),
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::extract::from_json;
    use serde_json::json;

    fn changes(value: Value) -> Result<TaskChanges, FieldError> {
        from_json::<TaskChangesBody>(value).and_then(TaskChanges::try_from)
    }

    #[test]
    fn priority_accepts_whole_numbers_and_names() {
        let priority = |value: Value| changes(json!({ "priority": value }));
        assert_eq!(priority(json!(2.5)).unwrap_err().field, "priority");
        assert_eq!(priority(json!(2.0)).unwrap().priority.unwrap().value(), 2);
        assert_eq!(
            priority(json!("high")).unwrap().priority.unwrap().value(),
            3
        );
        assert!(priority(json!(true)).is_err());
    }

    #[test]
    fn order_stays_within_safe_integers() {
        assert!(changes(json!({"order": MAX_SAFE_INTEGER})).is_ok());
        for order in [MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1, i64::MAX] {
            let err = changes(json!({ "order": order })).unwrap_err();
            assert_eq!(err.field, "order");
        }
    }

    #[test]
    fn changes_distinguish_absent_from_null() {
        assert_eq!(changes(json!({"due": null})).unwrap().due, Some(None));
        assert!(changes(json!({})).unwrap().is_empty());
    }

    #[test]
    fn unknown_fields_are_rejected_read_only_ignored() {
        let err = changes(json!({"titel": "x"})).unwrap_err();
        assert_eq!(err.field, "body");
        assert_eq!(
            err.message,
            "unknown field \"titel\"; expected title, priority, completed, order, due, due_time or list_id"
        );
        let ok = changes(json!({"id": 3, "url": "x", "completed": true})).unwrap();
        assert_eq!(ok.completed, Some(true));
    }

    #[test]
    fn due_times_need_a_date_and_clear_with_it() {
        let set = changes(json!({"due_time": "09:30"})).unwrap();
        assert_eq!(set.due_time.unwrap().unwrap().to_string(), "09:30");
        assert_eq!(
            changes(json!({"due_time": null})).unwrap().due_time,
            Some(None)
        );
        assert_eq!(
            changes(json!({"due_time": ""})).unwrap().due_time,
            Some(None)
        );
        for bad in [json!({"due_time": "9:30"}), json!({"due_time": 930})] {
            assert_eq!(changes(bad).unwrap_err().field, "due_time");
        }
        let clearing = changes(json!({"due": null, "due_time": "09:30"})).unwrap_err();
        assert_eq!(clearing.field, "due_time");
        let body = from_json::<NewTaskBody>(json!({"title": "x", "due_time": "09:30"})).unwrap();
        assert_eq!(NewTask::try_from(body).unwrap_err().field, "due_time");
    }

    #[test]
    fn new_task_needs_a_title() {
        let body = from_json::<NewTaskBody>(json!({"priority": 2})).unwrap();
        assert_eq!(NewTask::try_from(body).unwrap_err().field, "title");
    }
}
