use chrono::{Datelike, NaiveDate};

use super::FieldError;

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
}
