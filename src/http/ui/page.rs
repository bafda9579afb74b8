//! What the templates render, prepared so the templates only print: labels,
//! due-date wording and which form shows which error are decided here, in
//! Rust, where they can be tested. Askama compiles the templates into the
//! binary; nothing is parsed per request, and every value is HTML-escaped.
//!
//! The page is put together from parts that are also rendered on their own
//! (`RowPart`, `SummaryPart`): a change made by the script is answered with
//! just the parts it changed, from the same templates as the full page.

use askama::Template;
use chrono::{Datelike, NaiveDate};

use super::assets::Assets;
use super::clock::Clock;
use super::view::{Filter, View};
use crate::db::TaskCounts;
use crate::domain::{FieldError, Priority, SortOrder, Task};

/// The whole page: header with the new-task form, the list, the footer.
#[derive(Template)]
#[template(path = "page.html", config = "src/http/ui/askama.toml")]
pub struct Page<'a> {
    pub assets: &'static Assets,
    /// The CSRF token every form carries, and who is signed in (accounts mode).
    pub csrf_token: Option<&'a str>,
    pub username: Option<&'a str>,
    pub view: &'a View,
    /// The `return` value of every form on the page.
    pub return_to: String,
    pub items: Vec<Item<'a>>,
    pub summary: Summary,
    pub new_todo: NewTodoForm,
    /// Whether the user's own edit (a 422, or `?edit=`) asks for focus.
    pub editing_focus: bool,
    /// The time-zone offset the dates were rendered for, so the script can
    /// tell when its own zone differs.
    pub utc_offset: i32,
}

/// One row on its own, as the script receives it after a change.
#[derive(Template)]
#[template(path = "row.html", config = "src/http/ui/askama.toml")]
pub struct RowPart<'a> {
    pub csrf_token: Option<&'a str>,
    pub view: &'a View,
    pub return_to: &'a str,
    pub item: Item<'a>,
}

/// The parts of the page that depend on every task: toggle-all, the notes
/// under the list, the footer and the first-run hint.
#[derive(Template)]
#[template(path = "summary.html", config = "src/http/ui/askama.toml")]
pub struct SummaryPart<'a> {
    pub csrf_token: Option<&'a str>,
    pub summary: &'a Summary,
}

/// A page that is not the list: 404s and errors.
#[derive(Template)]
#[template(path = "message.html", config = "src/http/ui/askama.toml")]
pub struct MessagePage<'a> {
    pub assets: &'static Assets,
    pub heading: &'a str,
    pub message: &'a str,
}

/// "Delete these?" for browsers without JavaScript, which have no Undo.
#[derive(Template)]
#[template(path = "confirm.html", config = "src/http/ui/askama.toml")]
pub struct ConfirmPage<'a> {
    pub assets: &'static Assets,
    pub csrf_token: Option<&'a str>,
    pub heading: String,
    pub titles: Vec<&'a str>,
    pub action: String,
    pub return_to: String,
    pub button: &'static str,
    /// The way back: "Keep it" or "Keep them".
    pub keep: &'static str,
}

pub struct FilterLink {
    pub label: &'static str,
    pub url: String,
    pub selected: bool,
}

pub struct SortChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// What the counter, toggle-all and footer show.
pub struct Summary {
    pub return_to: String,
    /// Every task: toggle-all and "Clear completed" act on all of them.
    pub all: TaskCounts,
    /// The tasks the search matches (all of them without a search): the counter.
    pub matching: TaskCounts,
    pub searching: bool,
    pub filters: Vec<FilterLink>,
    /// How many rows the list shows, and whether more matched.
    pub listed: usize,
    pub truncated: bool,
    pub empty_text: String,
}

impl Summary {
    pub fn new(
        view: &View,
        all: TaskCounts,
        matching: TaskCounts,
        listed: usize,
        truncated: bool,
    ) -> Self {
        let filters = Filter::ALL
            .into_iter()
            .map(|f| FilterLink {
                label: f.label(),
                url: view.url_for(f),
                selected: f == view.filter,
            })
            .collect();
        let empty_text = match (&view.query, view.filter) {
            (Some(q), _) => format!("No tasks match “{q}”."),
            (None, Filter::Active) => "Nothing left to do.".to_owned(),
            (None, Filter::Completed) => "No completed tasks yet.".to_owned(),
            (None, Filter::All) => "No tasks.".to_owned(),
        };
        Self {
            return_to: view.url(),
            all,
            matching,
            searching: view.query.is_some(),
            filters,
            listed,
            truncated,
            empty_text,
        }
    }

    pub fn all_done(&self) -> bool {
        self.all.total > 0 && self.all.active == 0
    }

    pub fn items_left(&self) -> &'static str {
        match (self.matching.active == 1, self.searching) {
            (true, false) => "item left",
            (false, false) => "items left",
            (true, true) => "matching item left",
            (false, true) => "matching items left",
        }
    }
}

/// The values and errors of a form as the user sent it, so a rejected form
/// comes back with their input in it.
#[derive(Debug, Default)]
pub struct FormState {
    pub title: String,
    /// `None`: no valid priority was sent.
    pub priority: Option<Priority>,
    pub due: String,
    pub errors: Vec<FieldError>,
}

impl FormState {
    /// What the priority picker shows: the priority sent, else the default.
    pub fn picked_priority(&self) -> i16 {
        self.priority.unwrap_or_default().value()
    }

    pub fn has_error(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }

    /// The errors as one sentence each, for the alert next to the form.
    pub fn error_text(&self) -> String {
        self.errors
            .iter()
            .map(|e| sentence(&e.message))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

pub type NewTodoForm = FormState;

/// A rejected or requested edit: which task, and its form.
pub struct EditForm {
    pub id: i64,
    pub form: FormState,
}

/// One task as a list item.
pub struct Item<'a> {
    pub task: &'a Task,
    pub due: Option<DueLabel>,
    /// Shown in edit mode, with these values (the task's own, or rejected input).
    pub edit: Option<FormState>,
    /// Whether the list is in the user's own order, so rows can be moved.
    pub movable: bool,
}

impl<'a> Item<'a> {
    pub fn new(task: &'a Task, clock: &Clock, view: &View) -> Self {
        Self {
            task,
            due: task.due.map(|d| DueLabel::new(d, clock, task.completed)),
            edit: None,
            movable: view.sort == SortOrder::Order,
        }
    }

    pub fn editing(&self) -> bool {
        self.edit.is_some()
    }

    pub fn edit_title(&self) -> &str {
        self.edit
            .as_ref()
            .map_or(self.task.title.as_str(), |f| &f.title)
    }

    pub fn edit_priority(&self) -> i16 {
        // No valid priority sent: keep showing the stored one.
        self.edit
            .as_ref()
            .and_then(|f| f.priority)
            .unwrap_or(self.task.priority)
            .value()
    }

    pub fn edit_due(&self) -> String {
        match &self.edit {
            Some(f) => f.due.clone(),
            None => self.task.due.map(|d| d.to_string()).unwrap_or_default(),
        }
    }

    pub fn edit_error(&self) -> String {
        self.edit
            .as_ref()
            .map(FormState::error_text)
            .unwrap_or_default()
    }

    /// TodoMVC's classes: `completed`, `editing`.
    pub fn class(&self) -> &'static str {
        match (self.task.completed, self.editing()) {
            (true, true) => "completed editing",
            (true, false) => "completed",
            (false, true) => "editing",
            (false, false) => "",
        }
    }

    pub fn priority_class(&self) -> &'static str {
        self.task.priority.name()
    }

    /// A plain task (low priority) shows no priority mark: only what says
    /// something is shown.
    pub fn priority_label(&self) -> Option<&'static str> {
        (self.task.priority != Priority::default()).then(|| self.task.priority.label())
    }

    pub fn has_tags(&self) -> bool {
        self.priority_label().is_some() || self.due.is_some()
    }

    pub fn priorities(&self) -> impl Iterator<Item = Priority> {
        Priority::all()
    }
}

/// How a due date reads next to a task.
#[derive(Debug, PartialEq, Eq)]
pub struct DueLabel {
    pub iso: String,
    pub text: String,
    /// Past due and not done: highlighted.
    pub overdue: bool,
    /// Due today or tomorrow and not done.
    pub soon: bool,
}

impl DueLabel {
    pub fn new(due: NaiveDate, clock: &Clock, completed: bool) -> Self {
        let today = clock.today;
        let days = (due - today).num_days();
        let date = clock.dates.format(due, today.year());
        let text = match days {
            _ if completed => format!("Due {date}"),
            ..0 => format!("Overdue, {date}"),
            0 => "Due today".to_owned(),
            1 => "Due tomorrow".to_owned(),
            _ => format!("Due {date}"),
        };
        Self {
            iso: due.to_string(),
            text,
            overdue: !completed && days < 0,
            soon: !completed && (0..=1).contains(&days),
        }
    }
}

impl<'a> Page<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        assets: &'static Assets,
        view: &'a View,
        tasks: &'a [Task],
        summary: Summary,
        new_todo: NewTodoForm,
        mut edit: Option<EditForm>,
        clock: &Clock,
    ) -> Self {
        let editing_focus = edit.is_some();
        let items = tasks
            .iter()
            .map(|task| Item {
                edit: edit.take_if(|e| e.id == task.id).map(|e| e.form),
                ..Item::new(task, clock, view)
            })
            .collect();
        Self {
            assets,
            csrf_token: None,
            username: None,
            view,
            return_to: view.url(),
            items,
            summary,
            new_todo,
            editing_focus,
            utc_offset: clock.offset_minutes,
        }
    }

    pub fn priorities(&self) -> impl Iterator<Item = Priority> {
        Priority::all()
    }

    pub fn sort_choices(&self) -> Vec<SortChoice> {
        [
            (SortOrder::Order, "Your order"),
            (SortOrder::Priority, "Priority"),
            (SortOrder::Due, "Due date"),
            (SortOrder::Created, "Newest first"),
        ]
        .into_iter()
        .map(|(sort, label)| SortChoice {
            value: sort.name(),
            label,
            selected: sort == self.view.sort,
        })
        .collect()
    }

    /// Rows can be moved only in the user's own order.
    pub fn movable(&self) -> bool {
        self.view.sort == SortOrder::Order
    }

    pub fn search(&self) -> &str {
        self.view.query.as_deref().unwrap_or_default()
    }
}

/// "title must not be empty" → "Title must not be empty."
pub fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::ui::clock::DateStyle;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn due_labels_say_how_close() {
        let clock = Clock {
            today: day("2030-03-10"),
            offset_minutes: 0,
            dates: DateStyle::default(),
        };
        let label = |due: &str, done: bool| DueLabel::new(day(due), &clock, done);
        assert_eq!(label("2030-03-09", false).text, "Overdue, 9 Mar");
        assert!(label("2030-03-09", false).overdue);
        assert!(!label("2030-03-09", true).overdue);
        assert_eq!(label("2030-03-09", true).text, "Due 9 Mar");
        assert_eq!(label("2030-03-10", false).text, "Due today");
        assert!(label("2030-03-10", false).soon);
        assert_eq!(label("2030-03-11", false).text, "Due tomorrow");
        assert_eq!(label("2030-04-01", false).text, "Due 1 Apr");
        assert_eq!(label("2031-01-02", false).text, "Due 2 Jan 2031");
        assert_eq!(label("2031-01-02", false).iso, "2031-01-02");
    }

    #[test]
    fn due_labels_follow_the_readers_date_order() {
        let clock = Clock {
            today: day("2030-03-10"),
            offset_minutes: 0,
            dates: DateStyle::for_language("en-US"),
        };
        assert_eq!(
            DueLabel::new(day("2030-04-01"), &clock, false).text,
            "Due Apr 1"
        );
        assert_eq!(
            DueLabel::new(day("2031-01-02"), &clock, false).text,
            "Due Jan 2, 2031"
        );
    }

    #[test]
    fn errors_read_as_sentences() {
        assert_eq!(
            sentence("title must not be empty"),
            "Title must not be empty."
        );
        assert_eq!(sentence("ok."), "Ok.");
        assert_eq!(sentence(""), ".");
    }
}
