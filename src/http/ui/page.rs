//! What the templates render, prepared so the templates only print: labels,
//! due-date wording and which form shows which error are decided here, in
//! Rust, where they can be tested. Askama compiles the templates into the
//! binary; nothing is parsed per request, and every value is HTML-escaped.

use askama::Template;
use chrono::{Datelike, NaiveDate};

use super::assets::Assets;
use super::view::{Filter, View};
use crate::db::TaskCounts;
use crate::domain::{FieldError, Priority, SortOrder, Task};

/// The whole page: header with the new-task form, the list, the footer.
#[derive(Template)]
#[template(path = "page.html", config = "src/http/ui/askama.toml")]
pub struct Page<'a> {
    pub assets: &'static Assets,
    pub view: &'a View,
    /// The `return` value of every form on the page.
    pub return_to: String,
    pub items: Vec<Item<'a>>,
    pub counts: TaskCounts,
    /// More tasks match than one page shows.
    pub truncated: bool,
    pub new_todo: NewTodoForm,
    pub filters: Vec<FilterLink>,
    /// Whether the user's own edit (a 422, or `?edit=`) asks for focus.
    pub editing_focus: bool,
    /// The CSRF token every form carries (accounts mode).
    pub csrf_token: Option<String>,
    /// Who is signed in (accounts mode).
    pub username: Option<String>,
}

/// A page that is not the list: 404s and errors.
#[derive(Template)]
#[template(path = "message.html", config = "src/http/ui/askama.toml")]
pub struct MessagePage<'a> {
    pub assets: &'static Assets,
    pub heading: &'a str,
    pub message: &'a str,
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

/// The values and errors of a form as the user sent it, so a rejected form
/// comes back with their input in it.
#[derive(Debug, Default)]
pub struct FormState {
    pub title: String,
    pub priority: i16,
    pub due: String,
    pub errors: Vec<FieldError>,
}

impl FormState {
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
}

impl Item<'_> {
    pub fn editing(&self) -> bool {
        self.edit.is_some()
    }

    pub fn edit_title(&self) -> &str {
        self.edit.as_ref().map_or(&self.task.title, |f| &f.title)
    }

    pub fn edit_priority(&self) -> i16 {
        // 0: the sent priority was not valid; keep showing the stored one.
        self.edit
            .as_ref()
            .map(|f| f.priority)
            .filter(|p| *p > 0)
            .unwrap_or(self.task.priority.value())
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
    pub fn new(due: NaiveDate, today: NaiveDate, completed: bool) -> Self {
        let days = (due - today).num_days();
        let date = if due.year() == today.year() {
            due.format("%-d %b").to_string()
        } else {
            due.format("%-d %b %Y").to_string()
        };
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
        counts: TaskCounts,
        truncated: bool,
        new_todo: NewTodoForm,
        mut edit: Option<EditForm>,
        today: NaiveDate,
    ) -> Self {
        let editing_focus = edit.is_some();
        let items = tasks
            .iter()
            .map(|task| Item {
                task,
                due: task.due.map(|d| DueLabel::new(d, today, task.completed)),
                edit: edit.take_if(|e| e.id == task.id).map(|e| e.form),
            })
            .collect();
        let filters = Filter::ALL
            .into_iter()
            .map(|f| FilterLink {
                label: f.label(),
                url: view.url_for(f),
                selected: f == view.filter,
            })
            .collect();
        Self {
            assets,
            view,
            return_to: view.url(),
            items,
            counts,
            truncated,
            new_todo,
            filters,
            editing_focus,
            csrf_token: None,
            username: None,
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

    pub fn search(&self) -> &str {
        self.view.query.as_deref().unwrap_or_default()
    }

    pub fn all_done(&self) -> bool {
        self.counts.total > 0 && self.counts.active == 0
    }

    pub fn items_left(&self) -> &'static str {
        if self.counts.active == 1 {
            "item left"
        } else {
            "items left"
        }
    }

    /// Why the list is empty although tasks exist.
    pub fn empty_text(&self) -> String {
        match (&self.view.query, self.view.filter) {
            (Some(q), _) => format!("No tasks match “{q}”."),
            (None, Filter::Active) => "Nothing left to do.".to_owned(),
            (None, Filter::Completed) => "No completed tasks yet.".to_owned(),
            (None, Filter::All) => "No tasks.".to_owned(),
        }
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

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn due_labels_say_how_close() {
        let today = day("2030-03-10");
        let label = |due: &str, done: bool| DueLabel::new(day(due), today, done);
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
    fn errors_read_as_sentences() {
        assert_eq!(
            sentence("title must not be empty"),
            "Title must not be empty."
        );
        assert_eq!(sentence("ok."), "Ok.");
        assert_eq!(sentence(""), ".");
    }
}
