use std::ops::RangeInclusive;

use chrono::{Datelike, NaiveDate};

use super::FieldError;

/// Due dates are calendar days (`YYYY-MM-DD`), no time zone.
pub struct Due;

impl Due {
    /// The years a due date may have, wherever it comes from (the API, the
    /// pages, an import): four digits, and none so far back that it can
    /// only be a typing slip.
    pub const YEARS: RangeInclusive<i32> = 1900..=9999;

    /// The first day a due date may be, as pages give it to a date input's
    /// `min`.
    pub fn first() -> NaiveDate {
        NaiveDate::from_ymd_opt(*Self::YEARS.start(), 1, 1).expect("a valid day")
    }

    /// The last day a due date may be (a date input's `max`).
    pub fn last() -> NaiveDate {
        NaiveDate::from_ymd_opt(*Self::YEARS.end(), 12, 31).expect("a valid day")
    }

    /// A date as a person or a client writes it; empty means no due date.
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
        let date = shaped
            .then(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok())
            .flatten()
            .ok_or_else(|| {
                FieldError::new(
                    "due",
                    format!("due date {raw:?} is not a valid date; use YYYY-MM-DD"),
                )
            })?;
        Self::check(date).map(Some)
    }

    /// A due date read from elsewhere (import files) must be one `parse`
    /// accepts.
    pub fn check(date: NaiveDate) -> Result<NaiveDate, FieldError> {
        if Self::YEARS.contains(&date.year()) {
            Ok(date)
        } else {
            Err(FieldError::new(
                "due",
                format!(
                    "the due date {date} is out of range; use a year from {} to {}",
                    Self::YEARS.start(),
                    Self::YEARS.end()
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let far = NaiveDate::from_ymd_opt(200_000, 1, 1).unwrap();
        assert_eq!(Due::check(far).unwrap_err().field, "due");
    }

    #[test]
    fn due_dates_keep_one_range_however_they_arrive() {
        for raw in ["0001-01-01", "0201-05-04", "1899-12-31"] {
            let err = Due::parse(raw).unwrap_err();
            assert_eq!(
                err.message,
                format!("the due date {raw} is out of range; use a year from 1900 to 9999")
            );
        }
        assert_eq!(Due::parse("1900-01-01").unwrap(), Some(Due::first()));
        assert_eq!(Due::parse("9999-12-31").unwrap(), Some(Due::last()));
        assert_eq!(Due::first().to_string(), "1900-01-01");
        let early = NaiveDate::from_ymd_opt(1850, 6, 1).unwrap();
        assert!(Due::check(early).is_err());
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
}
