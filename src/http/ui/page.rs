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
use super::snapshot::{Group, GroupKind};
use super::view::{Filter, View, agenda_path, row_anchor};
use crate::db::TaskCounts;
use crate::domain::{
    Agenda, AgendaGroup, DueStanding, DueTime, FieldError, List, ListId, Member, Priority, Role,
    SortOrder, Task,
};

/// The whole page: header with the new-task form, the list, the footer.
#[derive(Template)]
#[template(path = "page.html", config = "src/http/ui/askama.toml")]
pub struct Page<'a> {
    pub assets: &'static Assets,
    /// The CSRF token of the page's forms, and who is signed in (accounts
    /// mode). Rows carry no token: their buttons belong to one form
    /// (`#row-actions`) that carries it once.
    pub csrf_token: Option<&'a str>,
    pub username: Option<&'a str>,
    /// Whether there are accounts to share lists with.
    pub accounts: bool,
    pub view: &'a View,
    /// The list shown (the reader's default list in a planning view), and
    /// every list the reader can see (the navigation).
    pub list: &'a List,
    pub lists: Vec<ListLink<'a>>,
    /// The `return` value of every form on the page.
    pub return_to: String,
    pub groups: Vec<GroupView<'a>>,
    pub summary: Summary,
    pub new_todo: NewTodoForm,
    /// Whether the user's own edit (a 422, or `?edit=`) asks for focus.
    pub editing_focus: bool,
    /// The time-zone offset the dates were rendered for, so the script can
    /// tell when its own zone differs.
    pub utc_offset: i32,
    /// The reader's day.
    pub today: NaiveDate,
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

/// The groups of a view without their rows: what the script puts the rows
/// into (headings, "Show 12 completed", "Show more").
#[derive(Template)]
#[template(path = "groups.html", config = "src/http/ui/askama.toml")]
pub struct FramePart<'a> {
    pub csrf_token: Option<&'a str>,
    pub view: &'a View,
    pub return_to: &'a str,
    pub groups: Vec<GroupView<'a>>,
    pub with_rows: bool,
}

/// A task's edit form: in its row when editing without the script (or
/// after a refused edit), and once per page as the script's template.
#[derive(Template)]
#[template(path = "edit_form.html", config = "src/http/ui/askama.toml")]
pub struct EditFormPart<'a> {
    pub csrf_token: Option<&'a str>,
    pub return_to: &'a str,
    /// `None`: the template, with empty values.
    pub id: Option<i64>,
    pub title: &'a str,
    pub priority: i16,
    pub due: String,
    pub due_time: String,
    pub error: String,
    /// Whether the task can be moved (the user's own order).
    pub movable: bool,
    pub autofocus: bool,
}

impl EditFormPart<'_> {
    pub fn priorities(&self) -> impl Iterator<Item = Priority> {
        Priority::all()
    }

    /// The task id in names and paths; the template's is `0`, which the
    /// script replaces.
    pub fn task(&self) -> i64 {
        self.id.unwrap_or(0)
    }
}

/// One group of rows, as a template renders it.
pub struct GroupView<'a> {
    pub key: &'a str,
    pub kind: &'a GroupKind,
    pub items: Vec<Item<'a>>,
    /// Items the reader added that lie beyond the window.
    pub pinned: Vec<Item<'a>>,
    /// "Show 50 more": where, and how many are left out.
    pub more: Option<MoreLink>,
    pub heading: String,
    /// Whether rows move in this group (the list's own order, open tasks).
    pub movable: bool,
    /// The first group carries TodoMVC's `#todo-list` id.
    pub first: bool,
}

/// The way to the rows a group leaves out.
pub struct MoreLink {
    pub url: String,
    pub text: String,
    pub hidden: i64,
}

/// How the rows of a view are made: the role that decides each row's
/// controls, and the list a row names in a planning view.
#[derive(Clone, Copy)]
pub struct Rows<'a> {
    pub view: &'a View,
    /// The list shown (the reader's default list in a planning view).
    pub list: &'a List,
    /// Every list the reader can see; needed in the planning views only.
    pub lists: &'a [List],
    pub clock: &'a Clock,
    /// The task just added without the script, marked.
    pub added: Option<i64>,
}

impl<'a> Rows<'a> {
    fn list_of(&self, task: &Task) -> Option<&'a List> {
        match self.view.agenda {
            None => Some(self.list),
            Some(_) => self.lists.iter().find(|l| l.id == task.list),
        }
    }

    pub fn access(&self, task: &Task) -> Access {
        self.list_of(task).map_or_else(Access::default, Access::of)
    }

    pub fn item(&self, task: &'a Task) -> Item<'a> {
        Item {
            list_name: self
                .view
                .agenda
                .and(self.list_of(task))
                .map(|l| l.name.as_str()),
            added: self.added == Some(task.id),
            ..Item::new(task, self.clock, self.view, self.access(task))
        }
    }
}

impl<'a> GroupView<'a> {
    pub fn new(
        group: &'a Group,
        rows: Rows<'a>,
        edit: &mut Option<EditForm>,
        with_rows: bool,
    ) -> Self {
        let view = rows.view;
        let clock = rows.clock;
        let item = |task: &'a Task, edit: &mut Option<EditForm>| {
            let item = rows.item(task);
            Item {
                edit: edit
                    .take_if(|e| item.access.editable && e.id == task.id)
                    .map(|e| e.form),
                ..item
            }
        };
        let (items, pinned) = if with_rows {
            (
                group.tasks.iter().map(|t| item(t, edit)).collect(),
                group.pinned.iter().map(|t| item(t, edit)).collect(),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let more = (group.hidden > 0).then(|| match group.kind {
            // The collapsed section shows a page; the rest are in the
            // Completed filter.
            GroupKind::Completed { .. } if view.agenda.is_none() => MoreLink {
                url: view.url_for(Filter::Completed),
                text: format!(
                    "See all {} completed",
                    group.hidden + group.tasks.len() as i64
                ),
                hidden: group.hidden,
            },
            // Without the script the page comes again, longer: it opens at
            // the last row that was shown, where reading goes on.
            _ => MoreLink {
                url: match group.tasks.last() {
                    Some(last) => format!(
                        "{}#{}",
                        view.url_showing(view.shown.saturating_add(View::PAGE)),
                        row_anchor(last.id)
                    ),
                    None => view.url_showing(view.shown.saturating_add(View::PAGE)),
                },
                text: format!("Show {} more", group.hidden.min(i64::from(View::PAGE))),
                hidden: group.hidden,
            },
        });
        let heading = match group.kind {
            GroupKind::Main => String::new(),
            GroupKind::Completed { total } => format!("{total} completed"),
            GroupKind::Part(AgendaGroup::Overdue) => "Overdue".to_owned(),
            GroupKind::Part(AgendaGroup::Day(day)) => day_heading(day, clock),
            GroupKind::Part(AgendaGroup::Done) => "Done".to_owned(),
        };
        let editable_list = view.agenda.is_none() && Access::of(rows.list).editable;
        Self {
            key: &group.key,
            kind: &group.kind,
            items,
            pinned,
            more,
            heading,
            movable: editable_list && view.sort == SortOrder::Order && group.key == "open",
            first: false,
        }
    }

    pub fn is_completed(&self) -> bool {
        matches!(self.kind, GroupKind::Completed { .. })
    }

    /// Whether a row of the group is in edit mode (a collapsed section
    /// opens to show it).
    pub fn has_editing(&self) -> bool {
        self.items.iter().any(Item::editing)
    }

    pub fn is_main(&self) -> bool {
        matches!(self.kind, GroupKind::Main)
    }

    pub fn is_overdue(&self) -> bool {
        matches!(self.kind, GroupKind::Part(AgendaGroup::Overdue))
    }
}

/// "Today · Mon 14 Dec", "Tomorrow · Tue 15 Dec", "Wed 16 Dec".
pub fn day_heading(day: NaiveDate, clock: &Clock) -> String {
    let date = clock.dates.format(day, clock.today().year());
    let weekday = day.format_localized("%a", clock.dates.locale).to_string();
    match DueStanding::of(day, None, false, clock.now) {
        DueStanding::Today => format!("Today · {weekday} {date}"),
        DueStanding::Tomorrow => format!("Tomorrow · {weekday} {date}"),
        _ => format!("{weekday} {date}"),
    }
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

/// What the counter, toggle-all and the bar over the list show.
pub struct Summary {
    pub return_to: String,
    /// Every task: toggle-all and "Clear completed" act on all of them.
    pub all: TaskCounts,
    /// The tasks the search matches (all of them without a search): the counter.
    pub matching: TaskCounts,
    pub searching: bool,
    /// A planning view: no filters, toggle-all or Clear completed.
    pub agenda: Option<Agenda>,
    pub filters: Vec<FilterLink>,
    /// Said when the main part of the view has no rows.
    pub empty_text: Option<String>,
    /// Whether the reader may change the tasks (toggle-all, clear completed).
    pub editable: bool,
}

impl Summary {
    pub fn new(
        view: &View,
        all: TaskCounts,
        matching: TaskCounts,
        groups: &[Group],
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
        // The main part: the open rows, or all of a planning view's.
        let main_is_empty = match view.agenda {
            Some(_) => groups
                .iter()
                .all(|g| g.tasks.is_empty() || matches!(g.kind, GroupKind::Completed { .. })),
            None => groups
                .first()
                .is_none_or(|g| g.tasks.is_empty() && g.pinned.is_empty()),
        };
        let empty_text = main_is_empty
            .then(|| match (view.agenda, &view.query, view.filter) {
                (Some(Agenda::Today), _, _) => "Nothing due today.".to_owned(),
                (Some(Agenda::Upcoming), _, _) => {
                    format!("Nothing due in the next {} days.", Agenda::UPCOMING_DAYS)
                }
                (None, Some(q), _) => format!("No tasks match “{q}”."),
                (None, None, Filter::Completed) => "No completed tasks yet.".to_owned(),
                (None, None, _) if all.total == 0 => "No tasks.".to_owned(),
                (None, None, _) => "Nothing left to do.".to_owned(),
            })
            // An empty list shows the first-run hint instead.
            .filter(|_| view.agenda.is_some() || all.total > 0);
        Self {
            return_to: view.url(),
            all,
            matching,
            searching: view.query.is_some(),
            agenda: view.agenda,
            filters,
            empty_text,
            editable: editable && view.agenda.is_none(),
        }
    }

    pub fn all_done(&self) -> bool {
        self.all.total > 0 && self.all.active == 0
    }

    /// Whether the list has anything to show: the planning views always do
    /// (at least their "Nothing due" line).
    pub fn has_tasks(&self) -> bool {
        self.agenda.is_some() || self.all.total > 0
    }

    pub fn items_left(&self) -> &'static str {
        match (self.matching.active == 1, self.searching, self.agenda) {
            (true, _, Some(Agenda::Today)) => "task due",
            (false, _, Some(Agenda::Today)) => "tasks due",
            (true, _, Some(Agenda::Upcoming)) => "task coming up",
            (false, _, Some(Agenda::Upcoming)) => "tasks coming up",
            (true, false, None) => "item left",
            (false, false, None) => "items left",
            (true, true, None) => "matching item left",
            (false, true, None) => "matching items left",
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
    pub due_time: String,
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
    /// The list it is in, named in a planning view (rows from many lists).
    pub list_name: Option<&'a str>,
    /// Just added (without the script): marked for a moment.
    pub added: bool,
}

impl<'a> Item<'a> {
    pub fn new(task: &'a Task, clock: &Clock, view: &View, access: Access) -> Self {
        Self {
            task,
            due: task
                .due
                .map(|d| DueLabel::new(d, task.due_time, clock, task.completed)),
            edit: None,
            movable: access.editable
                && view.agenda.is_none()
                && view.sort == SortOrder::Order
                && !task.completed,
            access,
            list_name: None,
            added: false,
        }
    }

    /// The edit form in this row (editing without the script).
    pub fn edit_form<'b>(
        &'b self,
        csrf_token: &Option<&'b str>,
        return_to: &'b str,
    ) -> EditFormPart<'b> {
        EditFormPart {
            csrf_token: *csrf_token,
            return_to,
            id: Some(self.task.id),
            title: self.edit_title(),
            priority: self.edit_priority(),
            due: self.edit_due(),
            due_time: self.edit_due_time(),
            error: self.edit_error(),
            movable: self.movable,
            autofocus: self.editing(),
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

    pub fn edit_due_time(&self) -> String {
        match &self.edit {
            Some(f) => f.due_time.clone(),
            None => self
                .task
                .due_time
                .map(|t| t.to_string())
                .unwrap_or_default(),
        }
    }

    pub fn edit_error(&self) -> String {
        self.edit
            .as_ref()
            .map(FormState::error_text)
            .unwrap_or_default()
    }

    /// TodoMVC's classes, `completed` and `editing`, and ours, `added`.
    pub fn class(&self) -> String {
        [
            (self.task.completed, "completed"),
            (self.editing(), "editing"),
            (self.added, "added"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect::<Vec<_>>()
        .join(" ")
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
        self.priority_label().is_some() || self.due.is_some() || self.list_name.is_some()
    }

    pub fn editable(&self) -> bool {
        self.access.editable
    }
}

/// How a due date (and time) reads next to a task.
#[derive(Debug, PartialEq, Eq)]
pub struct DueLabel {
    /// For `<time datetime>`: the day, or the day and the time as a local
    /// date-time (no zone, as the time is the reader's wall clock).
    pub iso: String,
    pub text: String,
    /// Past due and not done: highlighted.
    pub overdue: bool,
    /// Due today or tomorrow and not done.
    pub soon: bool,
}

impl DueLabel {
    /// Words and colour for what `DueStanding` decides.
    pub fn new(due: NaiveDate, time: Option<DueTime>, clock: &Clock, completed: bool) -> Self {
        let standing = DueStanding::of(due, time, completed, clock.now);
        let today = clock.today();
        let date = clock.dates.format(due, today.year());
        // The day in words; a task done says its day plainly.
        let day = match (due - today).num_days() {
            _ if completed => date,
            0 => "today".to_owned(),
            1 => "tomorrow".to_owned(),
            _ => date,
        };
        let when = match time {
            Some(time) => format!("{day} at {time}"),
            None => day,
        };
        let text = match standing {
            DueStanding::Overdue => format!("Overdue, {when}"),
            _ => format!("Due {when}"),
        };
        Self {
            iso: match time {
                Some(time) => format!("{due}T{time}"),
                None => due.to_string(),
            },
            text,
            overdue: standing == DueStanding::Overdue,
            soon: matches!(standing, DueStanding::Today | DueStanding::Tomorrow),
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
        groups: &'a [Group],
        summary: Summary,
        new_todo: NewTodoForm,
        mut edit: Option<EditForm>,
        clock: &'a Clock,
        added: Option<i64>,
    ) -> Self {
        let rows = Rows {
            view,
            list,
            lists,
            clock,
            added,
        };
        let editing_focus = edit.is_some() && Access::of(list).editable;
        let mut groups: Vec<GroupView<'a>> = groups
            .iter()
            .map(|g| GroupView::new(g, rows, &mut edit, true))
            .collect();
        if let Some(first) = groups.first_mut() {
            first.first = true;
        }
        Self {
            assets,
            csrf_token: None,
            username: None,
            accounts: false,
            view,
            list,
            lists: lists
                .iter()
                .map(|l| ListLink {
                    current: view.agenda.is_none() && l.id == list.id,
                    ..ListLink::new(l, list.id)
                })
                .collect(),
            return_to: view.url(),
            groups,
            summary,
            new_todo,
            editing_focus,
            utc_offset: clock.offset_minutes,
            today: clock.today(),
        }
    }

    /// What an empty edit form looks like, for the script to fill in (it
    /// drops the move buttons where a row cannot move).
    pub fn edit_template(&self) -> EditFormPart<'_> {
        EditFormPart {
            csrf_token: self.csrf_token,
            return_to: &self.return_to,
            id: None,
            title: "",
            priority: Priority::default().value(),
            due: String::new(),
            due_time: String::new(),
            error: String::new(),
            movable: self.view.agenda.is_none() && self.view.sort == SortOrder::Order,
            autofocus: false,
        }
    }

    /// The navigation's entries for the planning views.
    pub fn agenda_links(&self) -> [(&'static str, &'static str, bool); 2] {
        [(Agenda::Today, "Today"), (Agenda::Upcoming, "Upcoming")]
            .map(|(agenda, label)| (agenda_path(agenda), label, self.view.agenda == Some(agenda)))
    }

    /// The heading over the tasks: the list's name, or the planning view's.
    pub fn heading(&self) -> &str {
        match self.view.agenda {
            Some(Agenda::Today) => "Today",
            Some(Agenda::Upcoming) => "Upcoming",
            None => self.list.name.as_str(),
        }
    }

    /// The page's title in the browser's tab.
    pub fn title(&self) -> String {
        format!("{} · todos", self.heading())
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

    pub fn editable(&self) -> bool {
        self.list.role.may_change_tasks()
    }

    /// "Shared by ada", "Shared with 2 people", or nothing.
    pub fn list_note(&self) -> Option<String> {
        if let Some(agenda) = self.view.agenda {
            return Some(match agenda {
                Agenda::Today => "Due today or overdue, from every list".to_owned(),
                Agenda::Upcoming => {
                    format!("The next {} days, from every list", Agenda::UPCOMING_DAYS)
                }
            });
        }
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

    /// The link to it: sharing is offered only where there are accounts.
    pub fn settings_label(&self) -> &'static str {
        match (self.list.role.may_manage(), self.accounts) {
            (true, true) => "Share & edit",
            (true, false) => "Edit list",
            (false, _) => "Members",
        }
    }

    /// What the new-task form adds to: in a planning view, the reader's
    /// default list, due on the view's first day.
    pub fn new_task_due(&self) -> String {
        if !self.new_todo.due.is_empty() || !self.new_todo.errors.is_empty() {
            return self.new_todo.due.clone();
        }
        match self.view.agenda {
            Some(Agenda::Today) => self.today.to_string(),
            Some(Agenda::Upcoming) => self.today.succ_opt().unwrap_or(self.today).to_string(),
            None => String::new(),
        }
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

    fn clock_at(now: &str, dates: DateStyle) -> Clock {
        Clock {
            now: now.parse().unwrap(),
            offset_minutes: 0,
            dates,
        }
    }

    #[test]
    fn due_labels_say_how_close() {
        let clock = clock_at("2030-03-10T08:00:00", DateStyle::default());
        let label = |due: &str, done: bool| DueLabel::new(day(due), None, &clock, done);
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
    fn due_labels_with_a_time_are_overdue_once_it_passed() {
        let at = |time: &str| DueTime::parse(time).unwrap();
        let clock = clock_at("2030-03-10T10:00:00", DateStyle::default());
        let label = |due: &str, time: &str| DueLabel::new(day(due), at(time), &clock, false);
        let missed = label("2030-03-10", "09:00");
        assert_eq!(missed.text, "Overdue, today at 09:00");
        assert!(missed.overdue && !missed.soon);
        assert_eq!(missed.iso, "2030-03-10T09:00");
        let later = label("2030-03-10", "18:30");
        assert_eq!(later.text, "Due today at 18:30");
        assert!(!later.overdue && later.soon);
        assert_eq!(label("2030-03-11", "07:00").text, "Due tomorrow at 07:00");
        assert_eq!(label("2030-04-01", "07:00").text, "Due 1 Apr at 07:00");
        assert_eq!(label("2030-03-09", "23:00").text, "Overdue, 9 Mar at 23:00");
        // Done is never overdue.
        let done = DueLabel::new(day("2030-03-10"), at("09:00"), &clock, true);
        assert_eq!(done.text, "Due 10 Mar at 09:00");
        assert!(!done.overdue);
        // The reader's clock decides: the same task is not yet overdue at 08:59.
        let early = clock_at("2030-03-10T08:59:00", DateStyle::default());
        assert!(!DueLabel::new(day("2030-03-10"), at("09:00"), &early, false).overdue);
    }

    #[test]
    fn due_labels_follow_the_readers_date_order() {
        let clock = clock_at("2030-03-10T08:00:00", DateStyle::for_language("en-US"));
        assert_eq!(
            DueLabel::new(day("2030-04-01"), None, &clock, false).text,
            "Due Apr 1"
        );
        assert_eq!(
            DueLabel::new(day("2031-01-02"), None, &clock, false).text,
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
