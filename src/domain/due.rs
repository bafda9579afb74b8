use std::fmt;
use std::ops::RangeInclusive;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde::{Serialize, Serializer};

use super::FieldError;

/// Due dates are calendar days (`YYYY-MM-DD`), no time zone. A task may
/// also have a [`DueTime`] on that day.
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

    /// Whether a task due on `date` (at `time`, if it has one) is past due
    /// for a reader whose wall clock shows `now`: a day without a time is
    /// due by its end, a time at that minute. So a task due today at 09:00
    /// is overdue from 09:01 on, one due today without a time from
    /// tomorrow on.
    pub fn is_overdue(date: NaiveDate, time: Option<DueTime>, now: NaiveDateTime) -> bool {
        match time {
            None => date < now.date(),
            // Due within the minute it names; past it once the next begins.
            Some(time) => date
                .and_time(time.0)
                .checked_add_signed(chrono::TimeDelta::minutes(1))
                .is_some_and(|next_minute| next_minute <= now),
        }
    }
}

/// The time of day a task is due, `HH:MM` on the 24-hour clock. It is a
/// wall-clock time with no zone, as iCalendar's "floating" times are: a
/// task due at 09:00 is due at nine in the morning wherever its reader is.
/// It only ever comes with a due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DueTime(NaiveTime);

impl DueTime {
    /// A time as a person or a client writes it (`HH:MM`); empty means no
    /// time.
    pub fn parse(raw: &str) -> Result<Option<Self>, FieldError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        // chrono's `%H:%M` also takes one-digit hours and seconds after
        // them; a client that sends those has a different format in mind.
        let shaped = raw.len() == 5
            && raw.bytes().enumerate().all(|(i, b)| {
                if i == 2 {
                    b == b':'
                } else {
                    b.is_ascii_digit()
                }
            });
        shaped
            .then(|| NaiveTime::parse_from_str(raw, "%H:%M").ok())
            .flatten()
            .map(|time| Some(Self(time)))
            .ok_or_else(|| {
                FieldError::new(
                    "due_time",
                    format!("due time {raw:?} is not a valid time; use HH:MM (00:00 to 23:59)"),
                )
            })
    }

    /// A time read back from the store, which only holds parsed times.
    pub fn stored(time: NaiveTime) -> Self {
        Self(
            time.with_second(0)
                .and_then(|t| t.with_nanosecond(0))
                .unwrap_or(time),
        )
    }

    pub fn time(self) -> NaiveTime {
        self.0
    }

    /// A time without a date cannot be kept: the refusal, in one place.
    pub fn needs_a_date() -> FieldError {
        FieldError::new(
            "due_time",
            "a due time needs a due date: send \"due\" (YYYY-MM-DD) with it",
        )
    }
}

impl fmt::Display for DueTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%H:%M"))
    }
}

impl Serialize for DueTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_times_are_minutes_of_the_day() {
        assert_eq!(DueTime::parse("").unwrap(), None);
        let nine = DueTime::parse(" 09:00 ").unwrap().unwrap();
        assert_eq!(nine.to_string(), "09:00");
        assert_eq!(
            DueTime::parse("23:59").unwrap().unwrap().to_string(),
            "23:59"
        );
        for raw in [
            "9:00",
            "24:00",
            "12:60",
            "09:00:00",
            "noon",
            "0900",
            "０９:００",
        ] {
            let err = DueTime::parse(raw).unwrap_err();
            assert_eq!(err.field, "due_time", "{raw}");
            assert!(err.message.contains("HH:MM"), "{raw}: {}", err.message);
        }
        let with_seconds = NaiveTime::from_hms_opt(9, 0, 30).unwrap();
        assert_eq!(DueTime::stored(with_seconds), nine);
    }

    #[test]
    fn a_time_makes_a_task_overdue_within_its_day() {
        let day = NaiveDate::from_ymd_opt(2030, 3, 10).unwrap();
        let at = |h, m| day.and_hms_opt(h, m, 0).unwrap();
        let nine = DueTime::parse("09:00").unwrap();
        assert!(!Due::is_overdue(day, nine, at(8, 59)));
        assert!(!Due::is_overdue(day, nine, at(9, 0)));
        assert!(!Due::is_overdue(
            day,
            nine,
            day.and_hms_opt(9, 0, 40).unwrap()
        ));
        assert!(Due::is_overdue(day, nine, at(9, 1)));
        assert!(Due::is_overdue(day, nine, at(10, 0)));
        // Without a time, the whole day is left.
        assert!(!Due::is_overdue(day, None, at(23, 59)));
        let next = day.succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap();
        assert!(Due::is_overdue(day, None, next));
        assert!(Due::is_overdue(day, nine, next));
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
