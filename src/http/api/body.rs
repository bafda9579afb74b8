//! JSON request bodies of the task routes, parsed into domain types.
//!
//! This is the one place that knows the field names a client writes and
//! the JSON types each may have; the domain only sees [`TaskChanges`] and
//! [`NewTask`], already valid.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::domain::{
    Due, FieldError, MAX_SAFE_INTEGER, NewTask, Priority, TaskChanges, Title, check_range,
};
use crate::http::extract::JsonObject;
use crate::json::{kind, whole_number};

/// Fields a client may echo back from a task it read (they are read-only
/// and ignored), so `PATCH` with a whole task works.
const READ_ONLY_FIELDS: [&str; 6] = [
    "id",
    "url",
    "version",
    "created_at",
    "updated_at",
    "priority_name",
];

/// `POST /api/todos`: the writable fields, with a title.
impl TryFrom<JsonObject> for NewTask {
    type Error = FieldError;

    fn try_from(JsonObject(body): JsonObject) -> Result<Self, FieldError> {
        NewTask::try_from(&body)
    }
}

/// Also how the UI reads back the tasks an Undo restores.
impl TryFrom<&Map<String, Value>> for NewTask {
    type Error = FieldError;

    fn try_from(body: &Map<String, Value>) -> Result<Self, FieldError> {
        NewTask::try_from(changes(body)?)
    }
}

/// `PATCH`: any subset of the writable fields.
impl TryFrom<JsonObject> for TaskChanges {
    type Error = FieldError;

    fn try_from(JsonObject(body): JsonObject) -> Result<Self, FieldError> {
        changes(&body)
    }
}

fn changes(body: &Map<String, Value>) -> Result<TaskChanges, FieldError> {
    let mut changes = TaskChanges::default();
    for (key, value) in body {
        match key.as_str() {
            "title" => match value {
                Value::String(s) => changes.title = Some(Title::parse(s)?),
                other => {
                    return Err(FieldError::new(
                        "title",
                        format!("title must be a string, not {}", kind(other)),
                    ));
                }
            },
            "priority" => changes.priority = Some(priority(value)?),
            "completed" => match value {
                Value::Bool(b) => changes.completed = Some(*b),
                other => {
                    return Err(FieldError::new(
                        "completed",
                        format!("completed must be true or false, not {}", kind(other)),
                    ));
                }
            },
            "order" => match whole_number(value) {
                Some(n) => changes.order = Some(check_range("order", n, MAX_SAFE_INTEGER)?),
                None => {
                    return Err(FieldError::new(
                        "order",
                        format!("order must be an integer, not {}", kind(value)),
                    ));
                }
            },
            "due" => changes.due = Some(due(value)?),
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

/// A number (`3`, or `3.0`) or a name (`"high"`, `"3"`).
fn priority(value: &Value) -> Result<Priority, FieldError> {
    match value {
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
    }
}

/// A date string, or `null` to clear the due date.
fn due(value: &Value) -> Result<Option<NaiveDate>, FieldError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Due::parse(s),
        other => Err(FieldError::new(
            "due",
            format!(
                "due must be a date string (YYYY-MM-DD) or null, not {}",
                kind(other)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(value: Value) -> JsonObject {
        JsonObject(value.as_object().unwrap().clone())
    }

    #[test]
    fn priority_accepts_whole_numbers_and_names() {
        assert!(priority(&json!(2.5)).is_err());
        assert_eq!(priority(&json!(2.0)).unwrap().value(), 2);
        assert_eq!(priority(&json!("high")).unwrap().value(), 3);
        assert!(priority(&json!(true)).is_err());
    }

    #[test]
    fn order_stays_within_safe_integers() {
        assert!(TaskChanges::try_from(body(json!({"order": MAX_SAFE_INTEGER}))).is_ok());
        for order in [MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1, i64::MAX] {
            let err = TaskChanges::try_from(body(json!({ "order": order }))).unwrap_err();
            assert_eq!(err.field, "order");
        }
    }

    #[test]
    fn changes_distinguish_absent_from_null() {
        let changes = TaskChanges::try_from(body(json!({"due": null}))).unwrap();
        assert_eq!(changes.due, Some(None));
        assert!(TaskChanges::try_from(body(json!({}))).unwrap().is_empty());
    }

    #[test]
    fn unknown_fields_are_rejected_read_only_ignored() {
        assert!(TaskChanges::try_from(body(json!({"titel": "x"}))).is_err());
        let changes =
            TaskChanges::try_from(body(json!({"id": 3, "url": "x", "completed": true}))).unwrap();
        assert_eq!(changes.completed, Some(true));
    }

    #[test]
    fn new_task_needs_a_title() {
        let err = NewTask::try_from(body(json!({"priority": 2}))).unwrap_err();
        assert_eq!(err.field, "title");
    }
}
