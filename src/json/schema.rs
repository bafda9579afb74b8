//! Types that exist for their schema only: how the domain's values look
//! in JSON, as the OpenAPI document shows them. The API's request and
//! response bodies and the export file use them alike, so they live beside
//! the JSON readers rather than in the HTTP layer. Their numbers are
//! literals, as derive attributes need; `tests/api/openapi.rs` holds them
//! to the domain's constants.

// Never built: only their derived schemas are used.
#![allow(dead_code)]

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// What is to be done. Leading and trailing whitespace is removed; what
/// remains must be 1 to 255 characters long and contain no control
/// characters.
#[derive(ToSchema)]
#[schema(as = Title, min_length = 1, max_length = 255, examples("Water the plants"))]
pub struct TitleText(String);

/// How urgent the task is, from 1 (low) to 5 (do now): 1 `low`, 2
/// `medium`, 3 `high`, 4 `urgent`, 5 `do-now`.
#[derive(Serialize, ToSchema)]
#[schema(as = PriorityNumber, minimum = 1, maximum = 5)]
pub struct PriorityNumber(i16);

/// The name of a priority: `low` is 1, `medium` 2, `high` 3, `urgent` 4
/// and `do-now` 5.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PriorityName {
    Low,
    Medium,
    High,
    Urgent,
    DoNow,
}

/// A priority as a request may give it: the number from 1 to 5, or its
/// name. Names are matched without regard to letter case, `_` or a space
/// may stand for the `-` of `do-now` (and `donow` is accepted), the number
/// may also be sent as a string such as `"3"`, and surrounding whitespace
/// is ignored.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = Priority, examples(3, "high", "do-now"))]
pub enum PriorityInput {
    Number(PriorityNumber),
    Name(PriorityName),
}

/// A calendar day, `YYYY-MM-DD`, with a year from 1900 to 9999.
#[derive(ToSchema)]
#[schema(
    as = Date,
    value_type = String,
    format = Date,
    pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    examples("2026-12-24")
)]
pub struct CalendarDay(NaiveDate);

/// A time of day, `HH:MM` on the 24-hour clock (00:00 to 23:59), with no
/// time zone: a wall-clock time wherever the reader is, as iCalendar's
/// floating times.
#[derive(ToSchema)]
#[schema(
    as = TimeOfDay,
    value_type = String,
    pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$",
    examples("09:30")
)]
pub struct TimeOfDay(String);

/// The task's place in the list. It must lie within JavaScript's safe
/// integers (plus or minus 2^53 - 1), so every client reads it exactly.
#[derive(ToSchema)]
#[schema(
    as = OrderInput,
    minimum = -9007199254740991i64,
    maximum = 9007199254740991i64
)]
pub struct OrderInput(i64);

/// Read-only; accepted and ignored, so a task read from the API can be
/// sent back as it is.
#[derive(ToSchema)]
#[schema(value_type = Value)]
pub struct ReadOnly(Value);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::Priority;

    #[test]
    fn the_priority_names_are_the_domains() {
        let names = serde_json::to_value([
            PriorityName::Low,
            PriorityName::Medium,
            PriorityName::High,
            PriorityName::Urgent,
            PriorityName::DoNow,
        ])
        .unwrap();
        assert_eq!(names, json!(Priority::NAMES));
    }
}
