use super::FieldError;

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

/// The years a timestamp may have: four digits, as RFC 3339 writes them
/// (due dates keep a narrower range, `Due::YEARS`).
pub const TIMESTAMP_YEARS: std::ops::RangeInclusive<i32> = 0..=9999;

/// Refuses a timestamp (such as an imported `created_at`) whose year
/// RFC 3339 cannot write.
pub fn check_timestamp_year(
    field: &'static str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, FieldError> {
    use chrono::Datelike;
    if TIMESTAMP_YEARS.contains(&at.year()) {
        Ok(at)
    } else {
        Err(FieldError::new(
            field,
            format!(
                "{field} {at} is out of range; years {:04} to {} are supported",
                TIMESTAMP_YEARS.start(),
                TIMESTAMP_YEARS.end()
            ),
        ))
    }
}
