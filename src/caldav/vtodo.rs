//! A task as a VTODO, both ways.
//!
//! [`parse`] reads the iCalendar object a client PUTs (with the
//! `icalendar` crate's parser) into the fields we model, refusing what we
//! cannot keep. [`render`] gives the object back: the one the client sent,
//! with each modelled property set from the task as it is now where the two
//! disagree (an edit in the page or the API), and every other line (VALARM,
//! RRULE, RELATED-TO, X-*, VTIMEZONE, line folding) byte for byte. A parser
//! that re-serializes would normalize those, so the edit works on content
//! lines of the raw text: it only ever swaps whole lines of the task's own
//! component, and what it writes comes from `icalendar`'s `Property`.
//!
//! The mapping (docs/caldav.md): SUMMARY ↔ title; PRIORITY 1–9 ↔ our 1–5;
//! STATUS/COMPLETED/PERCENT-COMPLETE ↔ completed; DUE ↔ due date and time
//! of day; X-APPLE-SORT-ORDER ↔ order.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use icalendar::parser::{Component, Property, read_calendar, unfold};

use crate::domain::{Due, DueTime, MAX_SAFE_INTEGER, Priority, Title};

/// The largest object we keep, in bytes (a task with a long description
/// and several alarms is a few kilobytes).
pub const MAX_OBJECT_BYTES: usize = 64 * 1024;

/// The fields of a task a VTODO carries.
#[derive(Debug, Clone, PartialEq)]
pub struct TodoFields {
    pub title: Title,
    pub priority: Priority,
    pub completed: bool,
    pub due: Option<NaiveDate>,
    pub due_time: Option<DueTime>,
    /// `X-APPLE-SORT-ORDER`, when the object has one.
    pub order: Option<i64>,
}

/// An object a client sent, checked: its UID, the fields we model, and
/// the text to keep.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedTodo {
    pub uid: String,
    pub fields: TodoFields,
    pub text: String,
}

/// Why an object was refused; each names the RFC 4791 precondition a
/// client can act on, and says what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TodoError {
    #[error("the object is {0} bytes; the largest this server keeps is {MAX_OBJECT_BYTES}")]
    TooLarge(usize),
    #[error("the body is not an iCalendar object: {0}")]
    NotICalendar(String),
    #[error("{0}")]
    UnsupportedComponent(String),
    #[error("{0}")]
    Invalid(String),
}

impl TodoError {
    /// The CalDAV precondition element (RFC 4791 5.3.2.1) this breaks.
    pub fn precondition(&self) -> &'static str {
        match self {
            Self::TooLarge(_) => "max-resource-size",
            Self::NotICalendar(_) => "valid-calendar-data",
            Self::UnsupportedComponent(_) => "supported-calendar-component",
            Self::Invalid(_) => "valid-calendar-object-resource",
        }
    }
}

/// Reads and checks an object a client sent.
pub fn parse(text: &str) -> Result<ParsedTodo, TodoError> {
    if text.len() > MAX_OBJECT_BYTES {
        return Err(TodoError::TooLarge(text.len()));
    }
    let unfolded = unfold(text);
    let todo = master_todo(&unfolded)?;
    let uid = todo
        .find_prop("UID")
        .map(|p| p.val.as_str().trim().to_owned())
        .filter(|uid| !uid.is_empty())
        .ok_or_else(|| TodoError::Invalid("the VTODO has no UID".to_owned()))?;
    let fields = fields_of(&todo)?;
    Ok(ParsedTodo {
        uid,
        fields,
        text: text.to_owned(),
    })
}

/// The one VTODO of an object (the master, where recurrence overrides
/// share its UID), or why there is none we can keep.
fn master_todo<'a>(unfolded: &'a str) -> Result<Component<'a>, TodoError> {
    let trimmed = unfolded.trim_start_matches('\u{feff}').trim_start();
    if !trimmed
        .get(..15)
        .is_some_and(|start| start.eq_ignore_ascii_case("BEGIN:VCALENDAR"))
    {
        return Err(TodoError::NotICalendar(
            "it does not start with BEGIN:VCALENDAR".to_owned(),
        ));
    }
    let calendar =
        read_calendar(trimmed).map_err(|err| TodoError::NotICalendar(first_line(&err)))?;
    let mut todos = Vec::new();
    for component in calendar.components {
        match component.name.as_str() {
            "VTODO" => todos.push(component),
            "VTIMEZONE" => {}
            other => {
                return Err(TodoError::UnsupportedComponent(format!(
                    "a {other} cannot be stored here: this calendar holds tasks (VTODO) only"
                )));
            }
        }
    }
    let uid = |c: &Component<'_>| c.find_prop("UID").map(|p| p.val.as_str().to_owned());
    let first_uid = todos.first().map(uid);
    if todos
        .iter()
        .any(|todo| uid(todo) != first_uid.clone().flatten())
    {
        return Err(TodoError::UnsupportedComponent(
            "the object holds several tasks: send one VTODO per resource".to_owned(),
        ));
    }
    let mut masters = todos
        .into_iter()
        .filter(|todo| todo.find_prop("RECURRENCE-ID").is_none());
    match (masters.next(), masters.next()) {
        (Some(master), None) => Ok(master),
        (None, _) => Err(TodoError::UnsupportedComponent(
            "the object holds no VTODO".to_owned(),
        )),
        (Some(_), Some(_)) => Err(TodoError::UnsupportedComponent(
            "the object holds several tasks: send one VTODO per resource".to_owned(),
        )),
    }
}

fn first_line(err: &str) -> String {
    err.lines()
        .find(|line| !line.trim().is_empty() && line.trim() != "error:")
        .unwrap_or(err)
        .trim()
        .chars()
        .take(200)
        .collect()
}

/// The fields we model, as the VTODO `todo` has them.
fn fields_of(todo: &Component<'_>) -> Result<TodoFields, TodoError> {
    let summary = todo
        .find_prop("SUMMARY")
        .map(|p| p.val.clone().unescape_text().as_str().to_owned())
        .unwrap_or_default();
    let title = Title::parse(&summary).map_err(|err| {
        TodoError::Invalid(if summary.trim().is_empty() {
            "the VTODO has no SUMMARY: a task needs a title".to_owned()
        } else {
            format!("SUMMARY: {}", err.message)
        })
    })?;
    let priority = match todo.find_prop("PRIORITY") {
        None => Priority::default(),
        Some(p) => {
            let value: u8 = p
                .val
                .as_str()
                .trim()
                .parse()
                .ok()
                .filter(|v| *v <= 9)
                .ok_or_else(|| {
                    TodoError::Invalid(format!(
                        "PRIORITY {:?} is not a number from 0 to 9",
                        p.val.as_str()
                    ))
                })?;
            priority_from_ical(value)
        }
    };
    let completed = is_completed(todo);
    let (due, due_time) = match todo.find_prop("DUE") {
        None => (None, None),
        Some(p) => {
            let (date, time) = parse_date_or_time(p).ok_or_else(|| {
                TodoError::Invalid(format!(
                    "DUE {:?} is not a date or a date-time",
                    p.val.as_str()
                ))
            })?;
            let date = Due::check(date)
                .map_err(|err| TodoError::Invalid(format!("DUE: {}", err.message)))?;
            (Some(date), time)
        }
    };
    let order = todo
        .find_prop("X-APPLE-SORT-ORDER")
        .and_then(|p| p.val.as_str().trim().parse::<i64>().ok())
        .map(|order| order.clamp(0, MAX_SAFE_INTEGER));
    Ok(TodoFields {
        title,
        priority,
        completed,
        due,
        due_time,
        order,
    })
}

fn is_completed(todo: &Component<'_>) -> bool {
    let status = todo
        .find_prop("STATUS")
        .map(|p| p.val.as_str().trim().to_ascii_uppercase());
    match status.as_deref() {
        Some("COMPLETED") => true,
        Some(_) => false,
        None => todo.find_prop("COMPLETED").is_some(),
    }
}

/// iCalendar's PRIORITY (1 highest, 9 lowest, 0 none) as ours (5 highest,
/// 1 lowest and the default).
pub fn priority_from_ical(value: u8) -> Priority {
    let ours = match value {
        1 | 2 => 5,
        3 | 4 => 4,
        5 => 3,
        6 | 7 => 2,
        _ => 1,
    };
    Priority::from_number(ours).unwrap_or_default()
}

/// Ours as iCalendar's; `None` for our lowest, which is "not set".
pub fn priority_to_ical(priority: Priority) -> Option<u8> {
    match priority.value() {
        5 => Some(1),
        4 => Some(3),
        3 => Some(5),
        2 => Some(7),
        _ => None,
    }
}

/// A DATE or DATE-TIME value: the day, and the time of day (to the minute)
/// as written: floating, in its TZID, or UTC.
fn parse_date_or_time(p: &Property<'_>) -> Option<(NaiveDate, Option<DueTime>)> {
    let raw = p.val.as_str().trim();
    if raw.len() == 8 {
        return NaiveDate::parse_from_str(raw, "%Y%m%d")
            .ok()
            .map(|d| (d, None));
    }
    let local = raw.strip_suffix('Z').unwrap_or(raw);
    let at = NaiveDateTime::parse_from_str(local, "%Y%m%dT%H%M%S").ok()?;
    let minute = NaiveTime::from_hms_opt(at.hour(), at.minute(), 0)?;
    Some((at.date(), Some(DueTime::stored(minute))))
}

/// A task as it is now, for [`render`].
#[derive(Debug, Clone)]
pub struct TaskState<'a> {
    pub uid: &'a str,
    pub fields: TodoFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The VTODO of a task: `stored` (what a client last sent) with the
/// modelled properties brought up to date, or, for a task no client sent,
/// one made from the task.
pub fn render(stored: Option<&str>, task: &TaskState<'_>) -> String {
    if let Some(stored) = stored
        && let Ok(todo) = master_todo(&unfold(stored))
        && let Ok(fields) = fields_of(&todo)
    {
        let due_tzid = todo.find_prop("DUE").and_then(|p| {
            p.params
                .iter()
                .find(|param| param.key.as_str().eq_ignore_ascii_case("TZID"))
                .and_then(|param| param.val.as_ref().map(|v| v.as_str().to_owned()))
        });
        let had_order = fields.order.is_some();
        let edits = edits(&fields, task, due_tzid.as_deref(), had_order);
        return splice(stored, &edits);
    }
    let skeleton = skeleton(task);
    let fields = TodoFields {
        title: task.fields.title.clone(),
        priority: Priority::default(),
        completed: false,
        due: None,
        due_time: None,
        order: None,
    };
    let mut edits = edits(&fields, task, None, true);
    // The skeleton's stamps are the task's already.
    edits.retain(|(name, _)| !matches!(*name, "LAST-MODIFIED" | "DTSTAMP"));
    splice(&skeleton, &edits)
}

/// The VCALENDAR of a task no client sent: UID, SUMMARY and the stamps;
/// [`edits`] adds the rest.
fn skeleton(task: &TaskState<'_>) -> String {
    use icalendar::{Calendar, Component as _, Todo};
    let mut calendar = Calendar::empty();
    calendar.append_property(("VERSION", "2.0"));
    calendar.append_property(("PRODID", "-//todo-app//todo-app//EN"));
    calendar.push(
        Todo::new()
            .uid(task.uid)
            .summary(task.fields.title.as_str())
            .timestamp(task.updated_at)
            .add_property("CREATED", utc_stamp(task.created_at))
            .add_property("LAST-MODIFIED", utc_stamp(task.updated_at))
            .done(),
    );
    calendar.to_string()
}

fn utc_stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A property of the task's VTODO to set (a new content line) or remove.
type Edit = (&'static str, Option<String>);

/// The lines to change so that an object whose modelled fields are `now`
/// says what `task` says; nothing when they agree.
fn edits(now: &TodoFields, task: &TaskState<'_>, due_tzid: Option<&str>, order: bool) -> Vec<Edit> {
    let want = &task.fields;
    let line = |name: &str, value: String| {
        let property = icalendar::Property::new(name, value);
        TryInto::<String>::try_into(property).unwrap_or_default()
    };
    let mut edits: Vec<Edit> = Vec::new();
    if now.title != want.title {
        edits.push((
            "SUMMARY",
            Some(line("SUMMARY", want.title.as_str().to_owned())),
        ));
    }
    if now.priority != want.priority {
        let value = priority_to_ical(want.priority).map(|p| line("PRIORITY", p.to_string()));
        edits.push(("PRIORITY", value));
    }
    if now.completed != want.completed {
        if want.completed {
            edits.push(("STATUS", Some(line("STATUS", "COMPLETED".to_owned()))));
            edits.push((
                "COMPLETED",
                Some(line("COMPLETED", utc_stamp(task.updated_at))),
            ));
            edits.push((
                "PERCENT-COMPLETE",
                Some(line("PERCENT-COMPLETE", "100".to_owned())),
            ));
        } else {
            edits.push(("STATUS", Some(line("STATUS", "NEEDS-ACTION".to_owned()))));
            edits.push(("COMPLETED", None));
            edits.push(("PERCENT-COMPLETE", None));
        }
    }
    if (now.due, now.due_time) != (want.due, want.due_time) {
        let value = want.due.map(|date| {
            let day = date.format("%Y%m%d");
            let mut property = match want.due_time {
                None => {
                    let mut p = icalendar::Property::new("DUE", day.to_string());
                    p.add_parameter("VALUE", "DATE");
                    p
                }
                Some(time) => icalendar::Property::new(
                    "DUE",
                    format!("{day}T{}", time.time().format("%H%M%S")),
                ),
            };
            if want.due_time.is_some()
                && let Some(tzid) = due_tzid
            {
                property.add_parameter("TZID", tzid);
            }
            TryInto::<String>::try_into(property).unwrap_or_default()
        });
        edits.push(("DUE", value));
    }
    if order && now.order != want.order {
        let value = want
            .order
            .map(|o| line("X-APPLE-SORT-ORDER", o.to_string()));
        edits.push(("X-APPLE-SORT-ORDER", value));
    }
    if !edits.is_empty() {
        edits.push((
            "LAST-MODIFIED",
            Some(line("LAST-MODIFIED", utc_stamp(task.updated_at))),
        ));
        edits.push(("DTSTAMP", Some(line("DTSTAMP", utc_stamp(task.updated_at)))));
    }
    edits
}

/// `text` with the properties `edits` names replaced (at their first
/// place; `None` removes them) or, where missing, added at the end of the
/// master VTODO. Only lines of that component's own properties are
/// touched: not those of its VALARMs or of recurrence overrides.
fn splice(text: &str, edits: &[Edit]) -> String {
    if edits.is_empty() {
        return text.to_owned();
    }
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = String::with_capacity(text.len() + 256);
    let mut written = vec![false; edits.len()];
    let mut depth_names: Vec<String> = Vec::new();
    let mut in_master = false;
    let mut master_done = false;
    for logical in logical_lines(text) {
        let content: String = unfold(logical.trim_end_matches(['\r', '\n']));
        let name = property_name(&content);
        let value = content
            .split_once(':')
            .map(|(_, v)| v.trim().to_ascii_uppercase())
            .unwrap_or_default();
        let at_master_level = in_master && depth_names.len() == 2;
        if name == "BEGIN" {
            depth_names.push(value.clone());
            if !master_done && depth_names.len() == 2 && value == "VTODO" {
                in_master = !component_is_override(text, logical);
            }
        } else if name == "END" {
            if at_master_level && value == "VTODO" {
                for (i, (_, line)) in edits.iter().enumerate() {
                    if !written[i]
                        && let Some(line) = line
                    {
                        out.push_str(&with_newline(line, newline));
                    }
                }
                in_master = false;
                master_done = true;
            }
            depth_names.pop();
        } else if at_master_level && let Some(i) = edits.iter().position(|(n, _)| *n == name) {
            if !written[i] {
                written[i] = true;
                if let Some(line) = &edits[i].1 {
                    out.push_str(&with_newline(line, newline));
                }
            }
            continue;
        }
        out.push_str(logical);
    }
    out
}

/// Whether the VTODO starting at `begin` is a recurrence override (has a
/// RECURRENCE-ID), looking ahead to its END.
fn component_is_override(text: &str, begin: &str) -> bool {
    let start = begin.as_ptr() as usize - text.as_ptr() as usize;
    let mut depth = 0;
    for logical in logical_lines(&text[start..]) {
        let content = unfold(logical.trim_end_matches(['\r', '\n']));
        match property_name(&content).as_str() {
            "BEGIN" => depth += 1,
            "END" => {
                depth -= 1;
                if depth == 0 {
                    return false;
                }
            }
            "RECURRENCE-ID" if depth == 1 => return true,
            _ => {}
        }
    }
    false
}

/// `line` (a property `icalendar` wrote, ending in CRLF) with the object's
/// own line ending.
fn with_newline(line: &str, newline: &str) -> String {
    line.trim_end_matches(['\r', '\n']).replace("\r\n", newline) + newline
}

/// The content lines of `text` as they are written: each with its folded
/// continuations and its line ending.
fn logical_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\n' {
            let next = bytes.get(i + 1);
            if !matches!(next, Some(b' ' | b'\t')) {
                lines.push(&text[start..=i]);
                start = i + 1;
            }
        }
        i += 1;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// The upper-cased name of a content line (before its parameters/value).
fn property_name(content: &str) -> String {
    content
        .split([';', ':'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    const APPLE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Apple Inc.//iOS 17.0//EN\r\nBEGIN:VTODO\r\nUID:A1B2C3\r\nDTSTAMP:20261201T100000Z\r\nSUMMARY:Buy milk\r\nPRIORITY:1\r\nDUE;TZID=Europe/Berlin:20261210T090000\r\nX-APPLE-SORT-ORDER:12\r\nRRULE:FREQ=WEEKLY\r\nX-APPLE-X:a very long value that is folded over two lines because it goes past\r\n  seventy-five octets\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nSUMMARY:Alarm text\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";

    fn state(parsed: &ParsedTodo) -> TaskState<'_> {
        TaskState {
            uid: &parsed.uid,
            fields: parsed.fields.clone(),
            created_at: Utc::now(),
            updated_at: "2026-12-07T10:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn an_object_reads_into_the_fields_we_model() {
        let parsed = parse(APPLE).unwrap();
        assert_eq!(parsed.uid, "A1B2C3");
        assert_eq!(parsed.fields.title.as_str(), "Buy milk");
        assert_eq!(parsed.fields.priority.value(), 5);
        assert_eq!(parsed.fields.due, NaiveDate::from_ymd_opt(2026, 12, 10));
        assert_eq!(parsed.fields.due_time, DueTime::parse("09:00").unwrap());
        assert_eq!(parsed.fields.order, Some(12));
        assert!(!parsed.fields.completed);
    }

    #[test]
    fn unchanged_fields_give_the_object_back_byte_for_byte() {
        let parsed = parse(APPLE).unwrap();
        assert_eq!(render(Some(APPLE), &state(&parsed)), APPLE);
    }

    #[test]
    fn a_title_edit_changes_only_the_summary_and_the_stamps() {
        let parsed = parse(APPLE).unwrap();
        let mut task = state(&parsed);
        task.fields.title = Title::parse("Buy oat milk, 2; now").unwrap();
        task.fields.completed = true;
        let out = render(Some(APPLE), &task);
        assert!(
            out.contains("\r\nSUMMARY:Buy oat milk\\, 2\\; now\r\n"),
            "{out}"
        );
        assert!(out.contains("SUMMARY:Alarm text\r\n"), "{out}");
        assert!(
            out.contains("STATUS:COMPLETED\r\nCOMPLETED:20261207T100000Z\r\n"),
            "{out}"
        );
        assert!(out.contains("DTSTAMP:20261207T100000Z\r\n"), "{out}");
        for kept in [
            "RRULE:FREQ=WEEKLY\r\n",
            "  seventy-five octets\r\n",
            "TRIGGER:-PT15M\r\n",
            "DUE;TZID=Europe/Berlin:20261210T090000\r\n",
        ] {
            assert!(out.contains(kept), "{kept} in {out}");
        }
        let again = parse(&out).unwrap();
        assert_eq!(again.fields, task.fields);
    }

    #[test]
    fn a_new_time_keeps_the_zone_and_clearing_removes_due() {
        let parsed = parse(APPLE).unwrap();
        let mut task = state(&parsed);
        task.fields.due_time = DueTime::parse("17:30").unwrap();
        let out = render(Some(APPLE), &task);
        assert!(
            out.contains("DUE;TZID=Europe/Berlin:20261210T173000\r\n"),
            "{out}"
        );
        task.fields.due = None;
        task.fields.due_time = None;
        let out = render(Some(APPLE), &task);
        assert!(!out.contains("DUE"), "{out}");
    }

    #[test]
    fn a_task_no_client_sent_is_a_valid_vtodo() {
        let task = TaskState {
            uid: "abc",
            fields: TodoFields {
                title: Title::parse("Call Bo").unwrap(),
                priority: Priority::from_number(4).unwrap(),
                completed: false,
                due: NaiveDate::from_ymd_opt(2030, 1, 2),
                due_time: None,
                order: Some(3),
            },
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let out = render(None, &task);
        let parsed = parse(&out).unwrap();
        assert_eq!(parsed.uid, "abc");
        assert_eq!(parsed.fields, task.fields);
        assert!(out.contains("DUE;VALUE=DATE:20300102\r\n"), "{out}");
    }

    #[test]
    fn what_cannot_be_kept_is_refused() {
        let event = APPLE.replace("VTODO", "VEVENT");
        assert_eq!(
            parse(&event).unwrap_err().precondition(),
            "supported-calendar-component"
        );
        assert_eq!(
            parse("hello").unwrap_err().precondition(),
            "valid-calendar-data"
        );
        let two = APPLE.replace(
            "END:VCALENDAR",
            "BEGIN:VTODO\r\nUID:other\r\nSUMMARY:x\r\nEND:VTODO\r\nEND:VCALENDAR",
        );
        assert_eq!(
            parse(&two).unwrap_err().precondition(),
            "supported-calendar-component"
        );
        let long = APPLE.replace("Buy milk", &"x".repeat(300));
        let err = parse(&long).unwrap_err();
        assert!(err.to_string().contains("300 characters"), "{err}");
        let big = APPLE.replace("Buy milk", &"x".repeat(MAX_OBJECT_BYTES));
        assert_eq!(parse(&big).unwrap_err().precondition(), "max-resource-size");
        assert!(parse(&APPLE.replace("UID:A1B2C3\r\n", "")).is_err());
    }

    #[test]
    fn priorities_map_both_ways() {
        for ours in 1..=5 {
            let p = Priority::from_number(ours).unwrap();
            assert_eq!(priority_from_ical(priority_to_ical(p).unwrap_or(0)), p);
        }
        assert_eq!(priority_from_ical(9).value(), 1);
        assert_eq!(priority_from_ical(0).value(), 1);
    }
}
