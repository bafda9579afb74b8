//! "Today" and the date format as the reader sees them, not as the server
//! does: a task due tomorrow in Auckland is "Due today" there while it is
//! still yesterday in London.
//!
//! The script stores the browser's offset from UTC in a `tz` cookie (minutes
//! east of UTC), refreshed on every page load, so the next page, with or
//! without JavaScript, is rendered for the reader's zone. Without the cookie
//! the server's own zone (`TZ`) is used. An offset rather than a zone name
//! keeps the server free of a time-zone database; it is only ever used for
//! the reader's wall clock now: today's date, and whether a task due at a
//! time of day (a floating time, `domain::DueTime`) is past it.
//!
//! Dates are written the way the browser's first language (`Accept-Language`)
//! writes them, month names included: "May 4" in the United States, "4 May"
//! in Britain, "4. Mai" in Germany, "5月4日" in Japan. Month names come from
//! chrono's locale tables; the order is ours, for the few shapes below.
//! The page around them stays English.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use chrono::{Datelike, FixedOffset, Locale, NaiveDate, NaiveDateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// The reader's wall clock: their today, and the time, against which a
    /// task due at a time of day (a floating time) is overdue.
    pub now: NaiveDateTime,
    /// Minutes east of UTC the page was rendered for.
    pub offset_minutes: i32,
    pub dates: DateStyle,
}

/// How the reader's language writes a short date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateStyle {
    /// Where the month names come from.
    pub locale: Locale,
    pub order: DateOrder,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    /// "4 May", "4 May 2031"
    DayMonth,
    /// "4. Mai", "4. Mai 2031"
    DayDotMonth,
    /// "May 4", "May 4, 2031"
    MonthDay,
    /// "5月4日", "2031年5月4日"
    Han,
    /// "5월 4일", "2031년 5월 4일"
    Hangul,
}

impl Default for DateStyle {
    /// Without a language: English month names, day first.
    fn default() -> Self {
        Self {
            locale: Locale::en_GB,
            order: DateOrder::DayMonth,
        }
    }
}

/// Regions that write the month before the day.
const MONTH_FIRST: [&str; 4] = ["US", "PH", "FM", "MH"];

/// Languages that put a dot after the day.
const DAY_DOT: [&str; 9] = ["de", "da", "nb", "nn", "no", "fi", "cs", "sk", "sl"];

/// The region meant by a bare language, where it is not the language's
/// own code in capitals ("de" → de_DE).
const USUAL_REGION: [(&str, &str); 14] = [
    ("en", "US"),
    ("ja", "JP"),
    ("zh", "CN"),
    ("ko", "KR"),
    ("sv", "SE"),
    ("da", "DK"),
    ("cs", "CZ"),
    ("uk", "UA"),
    ("el", "GR"),
    ("he", "IL"),
    ("nb", "NO"),
    ("nn", "NO"),
    ("vi", "VN"),
    ("hi", "IN"),
];

impl DateStyle {
    /// From a language tag such as `en-US`, `de`, `zh-Hant-TW` or `es-419`.
    pub fn for_language(tag: &str) -> Self {
        let mut parts = tag.split(['-', '_']);
        let language = parts.next().unwrap_or_default().to_ascii_lowercase();
        // The region is the first two-letter subtag after the language
        // (`zh-Hant-TW`); a numeric one (`es-419`) names no single locale.
        let region = parts
            .find(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_alphabetic()))
            .map(str::to_ascii_uppercase);
        let usual = USUAL_REGION
            .iter()
            .find(|(l, _)| *l == language)
            .map_or_else(|| language.to_ascii_uppercase(), |(_, r)| (*r).to_owned());
        let locale = region
            .iter()
            .chain([&usual])
            .find_map(|r| Locale::try_from(format!("{language}_{r}").as_str()).ok());
        let Some(locale) = locale else {
            return Self::default();
        };
        let order = match language.as_str() {
            "ja" | "zh" => DateOrder::Han,
            "ko" => DateOrder::Hangul,
            "hu" => DateOrder::MonthDay,
            l if DAY_DOT.contains(&l) => DateOrder::DayDotMonth,
            // A bare "en" is read as American English, as browsers do.
            "en" if MONTH_FIRST.contains(&region.as_deref().unwrap_or("US")) => DateOrder::MonthDay,
            _ => DateOrder::DayMonth,
        };
        Self { locale, order }
    }

    /// A short date; the year only when it is not `this_year`.
    pub fn format(&self, date: NaiveDate, this_year: i32) -> String {
        let year = date.year() != this_year;
        let pattern = match (self.order, year) {
            (DateOrder::DayMonth, false) => "%-d %b",
            (DateOrder::DayMonth, true) => "%-d %b %Y",
            (DateOrder::DayDotMonth, false) => "%-d. %b",
            (DateOrder::DayDotMonth, true) => "%-d. %b %Y",
            (DateOrder::MonthDay, false) => "%b %-d",
            (DateOrder::MonthDay, true) => "%b %-d, %Y",
            (DateOrder::Han, false) => "%-m月%-d日",
            (DateOrder::Han, true) => "%Y年%-m月%-d日",
            (DateOrder::Hangul, false) => "%-m월 %-d일",
            (DateOrder::Hangul, true) => "%Y년 %-m월 %-d일",
        };
        let text = date.format_localized(pattern, self.locale).to_string();
        // Some tables pad short names with spaces.
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// The widest offsets in use are −12:00 and +14:00.
const MAX_OFFSET_MINUTES: i32 = 14 * 60;

impl Clock {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let offset_minutes = crate::http::auth::cookie(headers, "tz")
            .and_then(|v| v.parse::<i32>().ok())
            .filter(|m| m.abs() <= MAX_OFFSET_MINUTES)
            .unwrap_or_else(|| chrono::Local::now().offset().local_minus_utc() / 60);
        let now = FixedOffset::east_opt(offset_minutes * 60)
            .map(|zone| Utc::now().with_timezone(&zone).naive_local())
            .unwrap_or_else(|| Utc::now().naive_utc());
        let dates = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|tag| tag.split(';').next().unwrap_or_default().trim())
            .filter(|tag| !tag.is_empty() && *tag != "*")
            .map(DateStyle::for_language)
            .unwrap_or_default();
        Self {
            now,
            offset_minutes,
            dates,
        }
    }

    /// The reader's today.
    pub fn today(&self) -> NaiveDate {
        self.now.date()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Clock {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_headers(&parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn clock(cookie: Option<&str>, language: Option<&str>) -> Clock {
        let mut headers = HeaderMap::new();
        if let Some(c) = cookie {
            headers.insert(header::COOKIE, HeaderValue::from_str(c).unwrap());
        }
        if let Some(l) = language {
            headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(l).unwrap());
        }
        Clock::from_headers(&headers)
    }

    #[test]
    fn the_cookie_sets_the_zone() {
        let east = clock(Some("a=b; tz=840"), None);
        let west = clock(Some("tz=-600"), None);
        assert_eq!(east.offset_minutes, 840);
        assert_eq!(west.offset_minutes, -600);
        // 24 hours apart: always the day before, at the same time.
        assert_eq!(east.today() - west.today(), chrono::Duration::days(1));
        let apart = east.now - west.now;
        assert!(
            (apart - chrono::Duration::hours(24)).num_seconds().abs() < 5,
            "{apart}"
        );
        // Nonsense falls back to the server's zone.
        let local = chrono::Local::now().offset().local_minus_utc() / 60;
        assert_eq!(clock(Some("tz=99999"), None).offset_minutes, local);
        assert_eq!(clock(Some("tz=east"), None).offset_minutes, local);
    }

    #[test]
    fn dates_are_written_as_the_readers_language_writes_them() {
        let date = |language: Option<&str>, iso: &str| {
            clock(None, language)
                .dates
                .format(iso.parse().unwrap(), 2030)
        };
        for (language, this_year, next_year) in [
            (Some("en-US,en;q=0.9"), "Mar 4", "Mar 4, 2031"),
            (Some("en"), "Mar 4", "Mar 4, 2031"),
            (Some("en-GB,en;q=0.8"), "4 Mar", "4 Mar 2031"),
            (Some("de-DE"), "4. Mär", "4. Mär 2031"),
            (Some("de"), "4. Mär", "4. Mär 2031"),
            (Some("fr"), "4 mars", "4 mars 2031"),
            (Some("es-419"), "4 mar", "4 mar 2031"),
            (Some("ja"), "3月4日", "2031年3月4日"),
            (Some("zh-Hant-TW"), "3月4日", "2031年3月4日"),
            (Some("ko-KR"), "3월 4일", "2031년 3월 4일"),
            (Some("ru-RU"), "4 мар", "4 мар 2031"),
            // Unknown, wildcard or absent: English, day first.
            (Some("tlh"), "4 Mar", "4 Mar 2031"),
            (Some("*"), "4 Mar", "4 Mar 2031"),
            (None, "4 Mar", "4 Mar 2031"),
        ] {
            assert_eq!(date(language, "2030-03-04"), this_year, "{language:?}");
            assert_eq!(date(language, "2031-03-04"), next_year, "{language:?}");
        }
    }
}
