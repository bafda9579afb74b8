//! calendar-query's `<C:filter>` (RFC 4791 9.7), matched against a task's
//! VTODO as rendered: comp-filter, prop-filter, param-filter, text-match
//! (`i;ascii-casemap` and `i;octet`, with negate-condition),
//! is-not-defined and time-range, the latter on a VTODO as RFC 4791 9.9
//! defines it from DTSTART, DURATION, DUE, COMPLETED and CREATED.
//!
//! Times with a TZID or none (floating) are compared as if they were UTC:
//! the server keeps no time zone database, and a task's day does not move
//! with the reader. A filter is read once into [`Filter`]; an unknown
//! element in it is a 400 that says which, never a silent match.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use icalendar::parser::{Component, read_calendar, unfold};

use super::xml::{CALDAV, Element};

/// A comp-filter, read from the request.
#[derive(Debug, Clone)]
pub struct Filter {
    name: String,
    is_not_defined: bool,
    time_range: Option<TimeRange>,
    props: Vec<PropFilter>,
    comps: Vec<Filter>,
}

#[derive(Debug, Clone)]
struct PropFilter {
    name: String,
    is_not_defined: bool,
    time_range: Option<TimeRange>,
    text: Vec<TextMatch>,
    params: Vec<ParamFilter>,
}

#[derive(Debug, Clone)]
struct ParamFilter {
    name: String,
    is_not_defined: bool,
    text: Option<TextMatch>,
}

#[derive(Debug, Clone)]
struct TextMatch {
    needle: String,
    case_sensitive: bool,
    negate: bool,
}

#[derive(Debug, Clone, Copy)]
struct TimeRange {
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
}

impl Filter {
    /// The `<C:filter>` element's one comp-filter (on VCALENDAR).
    pub fn read(filter: &Element) -> Result<Self, String> {
        let comps: Vec<&Element> = filter.children_named(CALDAV, "comp-filter").collect();
        match comps.as_slice() {
            [one] => Self::comp(one),
            _ => Err("a filter holds exactly one comp-filter, on VCALENDAR".to_owned()),
        }
    }

    fn comp(element: &Element) -> Result<Self, String> {
        let mut filter = Filter {
            name: name_attribute(element, "comp-filter")?,
            is_not_defined: false,
            time_range: None,
            props: Vec::new(),
            comps: Vec::new(),
        };
        for child in &element.children {
            match caldav_local_name(child) {
                Some("is-not-defined") => filter.is_not_defined = true,
                Some("time-range") => filter.time_range = Some(TimeRange::read(child)?),
                Some("prop-filter") => filter.props.push(PropFilter::read(child)?),
                Some("comp-filter") => filter.comps.push(Filter::comp(child)?),
                _ => return Err(unknown(child, "comp-filter")),
            }
        }
        Ok(filter)
    }

    /// Whether the object (a VCALENDAR text) passes.
    pub fn matches(&self, object: &str) -> bool {
        let unfolded = unfold(object);
        let Ok(calendar) = read_calendar(&unfolded) else {
            return false;
        };
        let root = Component {
            name: "VCALENDAR".into(),
            properties: calendar.properties,
            components: calendar.components,
        };
        if !self.name.eq_ignore_ascii_case("VCALENDAR") {
            return false;
        }
        if self.is_not_defined {
            return false;
        }
        self.passes(&root)
    }

    /// This filter's tests on a component of its name.
    fn passes(&self, comp: &Component<'_>) -> bool {
        if let Some(range) = &self.time_range
            && !range.overlaps_component(comp)
        {
            return false;
        }
        self.props.iter().all(|p| p.passes(comp))
            && self.comps.iter().all(|child| {
                let mut named = comp
                    .components
                    .iter()
                    .filter(|c| c.name.as_str().eq_ignore_ascii_case(&child.name));
                if child.is_not_defined {
                    named.next().is_none()
                } else {
                    named.any(|c| child.passes(c))
                }
            })
    }
}

impl PropFilter {
    fn read(element: &Element) -> Result<Self, String> {
        let mut filter = PropFilter {
            name: name_attribute(element, "prop-filter")?,
            is_not_defined: false,
            time_range: None,
            text: Vec::new(),
            params: Vec::new(),
        };
        for child in &element.children {
            match caldav_local_name(child) {
                Some("is-not-defined") => filter.is_not_defined = true,
                Some("time-range") => filter.time_range = Some(TimeRange::read(child)?),
                Some("text-match") => filter.text.push(TextMatch::read(child)?),
                Some("param-filter") => filter.params.push(ParamFilter::read(child)?),
                _ => return Err(unknown(child, "prop-filter")),
            }
        }
        Ok(filter)
    }

    fn passes(&self, comp: &Component<'_>) -> bool {
        let mut named = comp
            .properties
            .iter()
            .filter(|p| p.name.as_str().eq_ignore_ascii_case(&self.name));
        if self.is_not_defined {
            return named.next().is_none();
        }
        named.any(|property| {
            let value = property.val.clone().unescape_text().as_str().to_owned();
            self.time_range.is_none_or(|range| {
                parse_time(property.val.as_str()).is_some_and(|at| range.contains(at))
            }) && self.text.iter().all(|t| t.matches(&value))
                && self.params.iter().all(|p| {
                    let mut named = property
                        .params
                        .iter()
                        .filter(|param| param.key.as_str().eq_ignore_ascii_case(&p.name));
                    if p.is_not_defined {
                        return named.next().is_none();
                    }
                    named.any(|param| {
                        let value = param.val.as_ref().map(|v| v.as_str()).unwrap_or_default();
                        p.text.as_ref().is_none_or(|t| t.matches(value))
                    })
                })
        })
    }
}

impl ParamFilter {
    fn read(element: &Element) -> Result<Self, String> {
        let mut filter = ParamFilter {
            name: name_attribute(element, "param-filter")?,
            is_not_defined: false,
            text: None,
        };
        for child in &element.children {
            match caldav_local_name(child) {
                Some("is-not-defined") => filter.is_not_defined = true,
                Some("text-match") => filter.text = Some(TextMatch::read(child)?),
                _ => return Err(unknown(child, "param-filter")),
            }
        }
        Ok(filter)
    }
}

impl TextMatch {
    fn read(element: &Element) -> Result<Self, String> {
        let case_sensitive = match element.attribute("collation").unwrap_or("i;ascii-casemap") {
            "i;ascii-casemap" => false,
            "i;octet" => true,
            other => {
                return Err(format!(
                    "the collation {other:?} is not supported; use i;ascii-casemap or i;octet"
                ));
            }
        };
        Ok(TextMatch {
            needle: element.text.clone(),
            case_sensitive,
            negate: element.attribute("negate-condition") == Some("yes"),
        })
    }

    fn matches(&self, value: &str) -> bool {
        let found = if self.case_sensitive {
            value.contains(&self.needle)
        } else {
            value
                .to_ascii_lowercase()
                .contains(&self.needle.to_ascii_lowercase())
        };
        found != self.negate
    }
}

impl TimeRange {
    fn read(element: &Element) -> Result<Self, String> {
        let read = |name: &str| -> Result<Option<DateTime<Utc>>, String> {
            match element.attribute(name) {
                None => Ok(None),
                Some(raw) => raw
                    .strip_suffix('Z')
                    .and_then(|t| NaiveDateTime::parse_from_str(t, "%Y%m%dT%H%M%S").ok())
                    .map(|t| Some(t.and_utc()))
                    .ok_or_else(|| {
                        format!(
                            "time-range {name}={raw:?} is not a UTC date-time like 20261201T000000Z"
                        )
                    }),
            }
        };
        let range = TimeRange {
            start: read("start")?,
            end: read("end")?,
        };
        if range.start.is_none() && range.end.is_none() {
            return Err("a time-range needs start, end or both".to_owned());
        }
        Ok(range)
    }

    fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start.is_none_or(|s| at >= s) && self.end.is_none_or(|e| at < e)
    }

    /// RFC 4791 9.9 for a VTODO (any other component: its DTSTART alone).
    fn overlaps_component(&self, comp: &Component<'_>) -> bool {
        let start = self.start.unwrap_or(DateTime::<Utc>::MIN_UTC);
        let end = self.end.unwrap_or(DateTime::<Utc>::MAX_UTC);
        let time = |name: &str| {
            comp.find_prop(name)
                .and_then(|p| parse_time(p.val.as_str()))
        };
        let dtstart = time("DTSTART");
        let due = time("DUE");
        let completed = time("COMPLETED");
        let created = time("CREATED");
        let duration = comp
            .find_prop("DURATION")
            .and_then(|p| parse_duration(p.val.as_str()));
        match (dtstart, duration, due) {
            (Some(dtstart), Some(duration), _) => {
                let until = dtstart + duration;
                start <= until && (end > dtstart || end >= until)
            }
            (Some(dtstart), None, Some(due)) => {
                (start < due || start <= dtstart) && (end > dtstart || end >= due)
            }
            (Some(dtstart), None, None) => start <= dtstart && end > dtstart,
            (None, _, Some(due)) => start < due && end >= due,
            (None, _, None) => match (completed, created) {
                (Some(completed), Some(created)) => {
                    (start <= created || start <= completed) && (end >= created || end >= completed)
                }
                (Some(completed), None) => start <= completed && end >= completed,
                (None, Some(created)) => end > created,
                (None, None) => true,
            },
        }
    }
}

fn name_attribute(element: &Element, what: &str) -> Result<String, String> {
    element
        .attribute("name")
        .map(str::to_owned)
        .ok_or_else(|| format!("a {what} needs a name attribute"))
}

/// The element's name when it is in the CalDAV namespace (the only one a
/// filter's elements may come from).
fn caldav_local_name(element: &Element) -> Option<&str> {
    element
        .name
        .as_ref()
        .filter(|n| n.ns == CALDAV)
        .map(|n| n.local.as_str())
}

fn unknown(child: &Element, parent: &str) -> String {
    let name = child
        .name
        .as_ref()
        .map_or_else(|| "?".to_owned(), |n| format!("{{{}}}{}", n.ns, n.local));
    format!("{name} is not understood inside a {parent}")
}

/// A DATE or DATE-TIME value as a UTC instant (floating and TZID times
/// taken as UTC; a date is its midnight).
fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if raw.len() == 8 {
        return NaiveDate::parse_from_str(raw, "%Y%m%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc());
    }
    let local = raw.strip_suffix('Z').unwrap_or(raw);
    NaiveDateTime::parse_from_str(local, "%Y%m%dT%H%M%S")
        .ok()
        .map(|t| t.and_utc())
}

/// An RFC 5545 DURATION (`P1W`, `PT1H30M`, `-P2D`…).
fn parse_duration(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let (sign, rest) = match raw.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, raw.strip_prefix('+').unwrap_or(raw)),
    };
    let rest = rest.strip_prefix('P')?;
    let mut total = Duration::zero();
    let mut number = String::new();
    let mut in_time = false;
    for c in rest.chars() {
        match c {
            '0'..='9' => number.push(c),
            'T' => in_time = true,
            unit => {
                let n: i64 = number.parse().ok()?;
                number.clear();
                total += match (unit, in_time) {
                    ('W', false) => Duration::weeks(n),
                    ('D', false) => Duration::days(n),
                    ('H', true) => Duration::hours(n),
                    ('M', true) => Duration::minutes(n),
                    ('S', true) => Duration::seconds(n),
                    _ => return None,
                };
            }
        }
    }
    number.is_empty().then_some(total * sign)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::caldav::xml;

    const TODO: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nUID:1\r\nSUMMARY:Buy Milk\r\nDUE;VALUE=DATE:20261210\r\nSTATUS:NEEDS-ACTION\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";

    fn filter(inner: &str) -> Filter {
        let body = format!(
            r#"<C:filter xmlns:C="urn:ietf:params:xml:ns:caldav"><C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO">{inner}</C:comp-filter></C:comp-filter></C:filter>"#
        );
        Filter::read(&xml::parse(body.as_bytes()).unwrap().unwrap()).unwrap()
    }

    #[test]
    fn filters_match_as_rfc_4791_says() {
        assert!(filter("").matches(TODO));
        assert!(
            filter(
                r#"<C:prop-filter name="SUMMARY"><C:text-match>milk</C:text-match></C:prop-filter>"#
            )
            .matches(TODO)
        );
        assert!(!filter(r#"<C:prop-filter name="SUMMARY"><C:text-match collation="i;octet">milk</C:text-match></C:prop-filter>"#).matches(TODO));
        assert!(filter(r#"<C:prop-filter name="STATUS"><C:text-match negate-condition="yes">COMPLETED</C:text-match></C:prop-filter>"#).matches(TODO));
        assert!(
            filter(r#"<C:prop-filter name="COMPLETED"><C:is-not-defined/></C:prop-filter>"#)
                .matches(TODO)
        );
        assert!(
            !filter(r#"<C:prop-filter name="DUE"><C:is-not-defined/></C:prop-filter>"#)
                .matches(TODO)
        );
        assert!(filter(r#"<C:comp-filter name="VALARM"/>"#).matches(TODO));
        assert!(
            !filter(r#"<C:comp-filter name="VALARM"><C:is-not-defined/></C:comp-filter>"#)
                .matches(TODO)
        );
        // DUE only: start < DUE and end >= DUE.
        assert!(
            filter(r#"<C:time-range start="20261209T000000Z" end="20261211T000000Z"/>"#)
                .matches(TODO)
        );
        assert!(!filter(r#"<C:time-range start="20261210T000000Z"/>"#).matches(TODO));
        assert!(filter(r#"<C:time-range end="20261210T000000Z"/>"#).matches(TODO));
        assert!(!filter(r#"<C:time-range end="20261209T000000Z"/>"#).matches(TODO));
    }

    #[test]
    fn a_task_with_no_dates_is_in_every_range() {
        let bare = TODO.replace("DUE;VALUE=DATE:20261210\r\n", "");
        assert!(filter(r#"<C:time-range start="20300101T000000Z"/>"#).matches(&bare));
        let created = bare.replace("UID:1\r\n", "UID:1\r\nCREATED:20261201T100000Z\r\n");
        assert!(!filter(r#"<C:time-range end="20261101T000000Z"/>"#).matches(&created));
    }

    #[test]
    fn durations_read() {
        assert_eq!(parse_duration("PT1H30M"), Some(Duration::minutes(90)));
        assert_eq!(parse_duration("-P1W2D"), Some(Duration::days(-9)));
        assert_eq!(parse_duration("P1H"), None);
    }

    #[test]
    fn unknown_elements_are_refused() {
        let body = r#"<C:filter xmlns:C="urn:ietf:params:xml:ns:caldav"><C:comp-filter name="VCALENDAR"><C:bogus/></C:comp-filter></C:filter>"#;
        let err = Filter::read(&xml::parse(body.as_bytes()).unwrap().unwrap()).unwrap_err();
        assert!(err.contains("bogus"), "{err}");
    }
}
