//! How the app reads JSON values, the same in API bodies and export files,
//! and how the OpenAPI document describes them (`schema`).

pub mod schema;

use serde_json::Value;

use crate::domain::MAX_SAFE_INTEGER;

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

/// What kind of value a client sent, for messages ("not a string").
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
