//! "Today" and the date format as the reader sees them, not as the server
//! does: a task due tomorrow in Auckland is "Due today" there while it is
//! still yesterday in London.
//!
//! The script stores the browser's offset from UTC in a `tz` cookie (minutes
//! east of UTC), refreshed on every page load, so the next page, with or
//! without JavaScript, is rendered for the reader's zone. Without the cookie
//! the server's own zone (`TZ`) is used. The order of day and month follows
//! the browser's first language (`Accept-Language`): "May 4" in the United
//! States, "4 May" elsewhere. An offset rather than a zone name keeps the
//! server free of a time-zone database; it is only ever used for today's date.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use chrono::{FixedOffset, NaiveDate, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub today: NaiveDate,
    /// Minutes east of UTC the page was rendered for.
    pub offset_minutes: i32,
    /// "May 4" rather than "4 May".
    pub month_first: bool,
}

/// Regions that write the month before the day.
const MONTH_FIRST: [&str; 4] = ["us", "ph", "fm", "mh"];

/// The widest offsets in use are −12:00 and +14:00.
const MAX_OFFSET_MINUTES: i32 = 14 * 60;

impl Clock {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let offset_minutes = cookie(headers, "tz")
            .and_then(|v| v.parse::<i32>().ok())
            .filter(|m| m.abs() <= MAX_OFFSET_MINUTES)
            .unwrap_or_else(|| chrono::Local::now().offset().local_minus_utc() / 60);
        let today = FixedOffset::east_opt(offset_minutes * 60)
            .map(|zone| Utc::now().with_timezone(&zone).date_naive())
            .unwrap_or_else(|| Utc::now().date_naive());
        let month_first = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|tag| {
                let tag = tag.split(';').next().unwrap_or_default().trim();
                let mut parts = tag.split(['-', '_']);
                let language = parts.next().unwrap_or_default().to_ascii_lowercase();
                let region = parts.next().map(str::to_ascii_lowercase);
                match region {
                    Some(region) => MONTH_FIRST.contains(&region.as_str()),
                    // A bare "en" is read as American English, as browsers do.
                    None => language == "en",
                }
            })
            .unwrap_or(false);
        Self {
            today,
            offset_minutes,
            month_first,
        }
    }
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
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
        // 24 hours apart: always the day before.
        assert_eq!(east.today - west.today, chrono::Duration::days(1));
        // Nonsense falls back to the server's zone.
        let local = chrono::Local::now().offset().local_minus_utc() / 60;
        assert_eq!(clock(Some("tz=99999"), None).offset_minutes, local);
        assert_eq!(clock(Some("tz=east"), None).offset_minutes, local);
    }

    #[test]
    fn the_language_sets_the_date_order() {
        assert!(clock(None, Some("en-US,en;q=0.9")).month_first);
        assert!(clock(None, Some("en")).month_first);
        assert!(!clock(None, Some("en-GB,en;q=0.8")).month_first);
        assert!(!clock(None, Some("de-DE")).month_first);
        assert!(!clock(None, Some("fr")).month_first);
        assert!(!clock(None, None).month_first);
    }
}
