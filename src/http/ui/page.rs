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
use crate::domain::{FieldError, List, ListId, Member, Priority, Role, SortOrder, Task};

/// The whole page: header with the new-task form, the list, the footer.
#[derive(Template)]
#[template(path = "page.html", config = "src/http/ui/askama.toml")]
pub struct Page<'a> {
    pub assets: &'static Assets,
    /// The CSRF token every form carries, and who is signed in (accounts mode).
    pub csrf_token: Option<&'a str>,
    pub username: Option<&'a str>,
    pub view: &'a View,
    /// The list shown, and every list the reader can see (the navigation).
    pub list: &'a List,
    pub lists: Vec<ListLink<'a>>,
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

/// A list's own page: rename, delete, sharing, leaving.
#[derive(Template)]
#[template(path = "list_settings.html", config = "src/http/ui/askama.toml")]
pub struct ListSettingsPage<'a> {
    pub assets: &'static Assets,
    pub csrf_token: Option<&'a str>,
    /// Who is signed in; sharing needs accounts.
    pub username: Option<&'a str>,
    pub list: &'a List,
    pub members: Vec<Member>,
}

impl ListSettingsPage<'_> {
    /// The list's page of tasks.
    pub fn back_url(&self) -> String {
        list_url(self.list)
    }

    pub fn roles(&self) -> [Role; 2] {
        [Role::Editor, Role::Viewer]
    }
}

/// One entry of the list navigation.
pub struct ListLink<'a> {
    pub list: &'a List,
    pub url: String,
    pub current: bool,
}

impl<'a> ListLink<'a> {
    pub fn new(list: &'a List, current: ListId) -> Self {
        Self {
            list,
            url: list_url(list),
            current: list.id == current,
        }
    }

    /// "shared by ada" on a list someone else owns.
    pub fn shared_by(&self) -> Option<&'a str> {
        shared_by(self.list)
    }
}

/// The default list lives at `/`; the others at `/?list=ID`.
pub fn list_url(list: &List) -> String {
    if list.is_default && list.role == Role::Owner {
        "/".to_owned()
    } else {
        View::of_list(Some(list.id)).url()
    }
}

/// The owner's name, for a list shared with the reader.
pub fn shared_by(list: &List) -> Option<&str> {
    (list.role != Role::Owner)
        .then_some(list.owner.as_deref())
        .flatten()
}

/// What the reader may do with the tasks of the list shown, and whether
/// rows say who added and completed them (in a list more people share).
#[derive(Debug, Clone, Copy, Default)]
pub struct Access {
    pub editable: bool,
    pub shared: bool,
}

impl Access {
    pub fn of(list: &List) -> Self {
        Self {
            editable: list.role.may_change_tasks(),
            shared: list.role != Role::Owner || list.members > 0,
        }
    }
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
    /// Whether the reader may change the tasks (toggle-all, clear completed).
    pub editable: bool,
}

impl Summary {
    pub fn new(
        view: &View,
        all: TaskCounts,
        matching: TaskCounts,
        listed: usize,
        truncated: bool,
        editable: bool,
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
            editable,
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
    pub access: Access,
}

impl<'a> Item<'a> {
    pub fn new(task: &'a Task, clock: &Clock, view: &View, access: Access) -> Self {
        Self {
            task,
            due: task.due.map(|d| DueLabel::new(d, clock, task.completed)),
            edit: None,
            movable: access.editable && view.sort == SortOrder::Order,
            access,
        }
    }

    /// "Added by ada · done by bob", in a shared list.
    pub fn byline(&self) -> Option<String> {
        if !self.access.shared {
            return None;
        }
        let done_by = self
            .task
            .completed_by
            .as_deref()
            .filter(|_| self.task.completed);
        match (self.task.created_by.as_deref(), done_by) {
            (Some(added), Some(done)) => Some(format!("Added by {added} · done by {done}")),
            (Some(added), None) => Some(format!("Added by {added}")),
            (None, Some(done)) => Some(format!("Done by {done}")),
            (None, None) => None,
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

    pub fn editable(&self) -> bool {
        self.access.editable
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
        list: &'a List,
        lists: &'a [List],
        tasks: &'a [Task],
        summary: Summary,
        new_todo: NewTodoForm,
        mut edit: Option<EditForm>,
        clock: &Clock,
    ) -> Self {
        let access = Access::of(list);
        let editing_focus = edit.is_some() && access.editable;
        let items = tasks
            .iter()
            .map(|task| Item {
                edit: edit
                    .take_if(|e| access.editable && e.id == task.id)
                    .map(|e| e.form),
                ..Item::new(task, clock, view, access)
            })
            .collect();
        Self {
            assets,
            csrf_token: None,
            username: None,
            view,
            list,
            lists: lists.iter().map(|l| ListLink::new(l, list.id)).collect(),
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
        self.editable() && self.view.sort == SortOrder::Order
    }

    pub fn editable(&self) -> bool {
        self.list.role.may_change_tasks()
    }

    /// "Shared by ada", "Shared with 2 people", or nothing.
    pub fn list_note(&self) -> Option<String> {
        let role = match self.list.role {
            Role::Viewer => " · view only",
            _ => "",
        };
        match (shared_by(self.list), self.list.members) {
            (Some(owner), _) => Some(format!("Shared by {owner}{role}")),
            (None, 0) => None,
            (None, 1) => Some("Shared with 1 person".to_owned()),
            (None, n) => Some(format!("Shared with {n} people")),
        }
    }

    /// Where the list's own page is (rename, share, leave).
    pub fn settings_url(&self) -> String {
        format!("/lists/{}", self.list.id.0)
    }

    /// The list id the search form carries, off the default list.
    pub fn list_param(&self) -> Option<i64> {
        self.view.list.map(|l| l.0)
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
