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

/// The schemas of these bodies in the OpenAPI document (`http::openapi`).
///
/// The bodies are read by hand above, not by serde, so their schemas are
/// written here by hand too, from the same constants the parser checks
/// against; `tests/api/openapi.rs` holds each one to what the parser does.
pub mod schema {
    use std::borrow::Cow;

    use serde_json::json;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{
        AnyOfBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
    };
    use utoipa::{PartialSchema, ToSchema};

    use super::READ_ONLY_FIELDS;
    use crate::domain::{MAX_SAFE_INTEGER, NewTask, Priority, TaskChanges, Title};
    use crate::http::openapi::{any, closed, constant, reference};

    /// What `char::is_whitespace` (and so `str::trim`) takes, as the inside
    /// of a regular expression's character class.
    pub const WHITESPACE: &str =
        r"\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
    /// What `char::is_control` takes, likewise.
    pub const CONTROL: &str = r"\u0000-\u001F\u007F-\u009F";

    /// A schema of its own, named in `components/schemas`.
    macro_rules! named {
        ($ty:ty, $name:literal, $schema:expr) => {
            impl PartialSchema for $ty {
                fn schema() -> RefOr<Schema> {
                    $schema.into()
                }
            }
            impl ToSchema for $ty {
                fn name() -> Cow<'static, str> {
                    Cow::Borrowed($name)
                }
            }
        };
    }

    named!(Title, "Title", {
        let (ws, ctrl) = (WHITESPACE, CONTROL);
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(Title::MAX_CHARS))
            // Trimmed, then at least one character that is not whitespace,
            // and no control characters anywhere.
            .pattern(Some(format!(
                "^[{ws}]*[^{ctrl}]*[^{ctrl}{ws}][^{ctrl}]*[{ws}]*$"
            )))
            .description(Some(format!(
                "What is to be done. Leading and trailing whitespace is removed; what remains must \
                 be 1 to {} characters long and contain no control characters.",
                Title::MAX_CHARS
            )))
            .examples([json!("Water the plants")])
    });

    named!(Priority, "PriorityNumber", {
        let names: Vec<String> = Priority::all()
            .map(|p| format!("{} `{}`", p.value(), p.name()))
            .collect();
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(Priority::NAMES.len() as i64))
            .description(Some(format!(
                "How urgent the task is, from 1 (low) to {} (do now): {}.",
                Priority::NAMES.len(),
                names.join(", ")
            )))
    });

    /// A priority's name, as responses give it in `priority_name`.
    pub struct PriorityName;
    named!(PriorityName, "PriorityName", {
        let names: Vec<String> = Priority::all()
            .map(|p| format!("`{}` {}", p.name(), p.value()))
            .collect();
        let (last, others) = names.split_last().expect("there are priorities");
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(Priority::NAMES))
            .description(Some(format!(
                "The name of a priority: {} and {last}.",
                others.join(", ").replacen(' ', " is ", 1)
            )))
    });

    /// A priority as a request may give it: what `super::priority` takes.
    pub struct PriorityInput;
    named!(PriorityInput, "Priority", {
        let ws = WHITESPACE;
        let max = Priority::NAMES.len();
        // Each name in either case, with `_`, ` ` or nothing for its `-`.
        let names: Vec<String> = Priority::NAMES
            .iter()
            .map(|name| {
                name.chars()
                    .map(|c| match c {
                        '-' => "[-_ ]?".to_owned(),
                        c => format!("[{}{}]", c.to_ascii_uppercase(), c),
                    })
                    .collect()
            })
            .collect();
        AnyOfBuilder::new()
            .description(Some(
                "A priority as a request may give it: the number from 1 to 5, or its name. Names \
                 are matched without regard to letter case, `_` or a space may stand for the `-` \
                 of `do-now` (and `donow` is accepted), the number may also be sent as a string \
                 such as `\"3\"`, and surrounding whitespace is ignored.",
            ))
            .item(reference::<Priority>())
            .item(reference::<PriorityName>())
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(format!(
                        "^[{ws}]*(\\+?0*[1-{max}]|{})[{ws}]*$",
                        names.join("|")
                    ))),
            )
            .examples([json!(3), json!("high"), json!("do-now")])
    });

    /// A calendar day as `crate::domain::Due` reads it.
    pub struct CalendarDay;
    named!(CalendarDay, "Date", {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .pattern(Some("^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
            .description(Some(
                "A calendar day, `YYYY-MM-DD`, with a four-digit year.",
            ))
            .examples([json!("2026-12-24")])
    });

    /// An `order` a request may set.
    pub struct OrderInput;
    named!(OrderInput, "OrderInput", {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(-MAX_SAFE_INTEGER))
            .maximum(Some(MAX_SAFE_INTEGER))
            .description(Some(
                "The task's place in the list. It must lie within JavaScript's safe integers \
                 (plus or minus 2^53 - 1), so every client reads it exactly.",
            ))
    });

    /// The writable fields, as `super::changes` reads them.
    fn task_fields(description: &str) -> ObjectBuilder {
        let mut object = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(description))
            .additional_properties(closed())
            .property("title", reference::<Title>())
            .property("priority", reference::<PriorityInput>())
            .property(
                "completed",
                ObjectBuilder::new()
                    .schema_type(Type::Boolean)
                    .description(Some("Whether the task is done.")),
            )
            .property("order", reference::<OrderInput>())
            .property(
                "due",
                AnyOfBuilder::new()
                    .item(reference::<CalendarDay>())
                    .item(constant(""))
                    .item(ObjectBuilder::new().schema_type(Type::Null))
                    .description(Some(
                        "The day the task is due (`YYYY-MM-DD`); null or an empty string means \
                         no due date. Surrounding whitespace is ignored.",
                    )),
            );
        for field in READ_ONLY_FIELDS {
            object = object.property(
                field,
                any().description(Some(
                    "Read-only; accepted and ignored, so a task read from the API can be sent \
                     back as it is.",
                )),
            );
        }
        object
    }

    named!(NewTask, "NewTask", {
        task_fields(
            "A task to create. Only `title` is required: the priority defaults to 1 (`low`), \
             `completed` to false, and a task without `order` goes to the end of the list. \
             Fields other than those listed are refused with 422.",
        )
        .required("title")
        .examples([json!({"title": "Water the plants", "priority": "high", "due": "2026-12-24"})])
    });

    named!(TaskChanges, "TaskChanges", {
        task_fields(
            "The fields to change; fields left out keep their value, and `\"due\": null` clears \
             the due date. All changes are applied together or not at all. An empty object \
             changes nothing and returns the task as it is. Fields other than those listed are \
             refused with 422.",
        )
        .examples([
            json!({"completed": true}),
            json!({"title": "Water the plants twice", "due": null}),
        ])
    });

    /// The body of `PATCH /api/todos`.
    pub struct CompleteAll;
    named!(CompleteAll, "CompleteAll", {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "Marks every task as completed or not completed. No other field may be sent.",
            ))
            .required("completed")
            .additional_properties(closed())
            .property("completed", ObjectBuilder::new().schema_type(Type::Boolean))
    });
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
