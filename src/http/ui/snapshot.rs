//! What a view shows, read once per page or answer: its tasks in groups
//! and the counts the page states.
//!
//! - A list's view: its open tasks (the first `View::shown` of them, with
//!   "Show more" for the rest), then its completed tasks in a section of
//!   their own, collapsed ("Show 12 completed"), whatever the sort. The
//!   Completed filter shows only that section's tasks, the Active filter
//!   only the open ones.
//! - Today and Upcoming: tasks from every list the reader can see, in the
//!   parts `Agenda::group` puts them in (overdue, each day, done).
//!
//! Tasks the reader has just added (`pinned`) stay in view after the
//! window: a new task at the end of a list of thousands is shown where it
//! is, after "Show more", not thousands of rows below the input.

use std::collections::HashSet;

use chrono::NaiveDate;

use super::page::Summary;
use super::view::{Filter, View};
use super::{Reader, UiError, UiResult};
use crate::db::TaskCounts;
use crate::domain::{Agenda, AgendaGroup, List, Task, TaskFilter};
use crate::http::AppState;

/// Completed tasks shown in the collapsed section of a list's view; the
/// rest are a link away, in the Completed filter.
pub const DONE_PAGE: u32 = View::PAGE;

/// What the view shows, read once per answer.
pub struct Snapshot {
    pub groups: Vec<Group>,
    pub summary: Summary,
    /// Every list the reader can see, when the view needed them (the
    /// planning views: rows name their list and follow its role).
    pub lists: Option<Vec<List>>,
}

/// One part of a view: a list of rows, maybe with a heading.
pub struct Group {
    /// Stable across answers, so the script finds the part again:
    /// `open`, `done`, `overdue`, `day-2030-03-10`.
    pub key: String,
    pub kind: GroupKind,
    pub tasks: Vec<Task>,
    /// Tasks of the group the window leaves out ("Show more").
    pub hidden: i64,
    /// Tasks the reader added that the window would leave out: shown after
    /// the "Show more" line, where they are in the list.
    pub pinned: Vec<Task>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupKind {
    /// The list's rows, without a heading.
    Main,
    /// A part of a planning view: overdue, or a day.
    Part(AgendaGroup),
    /// Completed tasks under the open ones, collapsed; `total` of them.
    Completed { total: i64 },
}

/// Reads what `view` shows of `list` (which the reader has opened: see
/// `Reader::open`), or of every list for a planning view. `pinned`: tasks
/// the reader has just added, kept in view.
pub async fn snapshot(
    state: &AppState,
    reader: &Reader,
    list: &List,
    view: &View,
    pinned: &[i64],
) -> UiResult<Snapshot> {
    match view.agenda {
        Some(agenda) => agenda_snapshot(state, reader, agenda, view).await,
        None => list_snapshot(state, list, view, pinned).await,
    }
}

async fn list_snapshot(
    state: &AppState,
    list: &List,
    view: &View,
    pinned: &[i64],
) -> UiResult<Snapshot> {
    let editable = list.role.may_change_tasks();
    let id = list.id;
    let base = view.task_filter();
    let page = |completed: bool, limit: u32| TaskFilter {
        completed: Some(completed),
        limit,
        ..base.clone()
    };
    let (open_limit, done_limit) = match view.filter {
        Filter::All => (view.shown, DONE_PAGE),
        Filter::Active => (view.shown, 0),
        Filter::Completed => (0, view.shown),
    };
    let read = |filter: Option<TaskFilter>| async move {
        match filter {
            Some(filter) => state.store.list_tasks(id, &filter).await.map(|(t, _)| t),
            None => Ok(Vec::new()),
        }
    };
    let (open, done, all) = tokio::try_join!(
        read((open_limit > 0).then(|| page(false, open_limit))),
        read((done_limit > 0).then(|| page(true, done_limit))),
        state.store.count_tasks(id, None),
    )?;
    // The counter counts what the search matches, under every filter.
    let matching = match &view.query {
        None => all,
        Some(query) => state.store.count_tasks(id, Some(query)).await?,
    };
    let mut groups = Vec::new();
    match view.filter {
        Filter::All | Filter::Active => {
            let hidden = matching.active - open.len() as i64;
            let pinned = if hidden > 0 {
                pinned_tasks(state, list, view, &open, pinned).await?
            } else {
                Vec::new()
            };
            groups.push(Group {
                key: "open".to_owned(),
                kind: GroupKind::Main,
                hidden: hidden - pinned.len() as i64,
                tasks: open,
                pinned,
            });
            if view.filter == Filter::All && matching.completed() > 0 {
                groups.push(Group {
                    key: "done".to_owned(),
                    kind: GroupKind::Completed {
                        total: matching.completed(),
                    },
                    hidden: matching.completed() - done.len() as i64,
                    tasks: done,
                    pinned: Vec::new(),
                });
            }
        }
        Filter::Completed => groups.push(Group {
            key: "done".to_owned(),
            kind: GroupKind::Main,
            hidden: matching.completed() - done.len() as i64,
            tasks: done,
            pinned: Vec::new(),
        }),
    }
    let summary = Summary::new(view, all, matching, &groups, editable);
    Ok(Snapshot {
        groups,
        summary,
        lists: None,
    })
}

/// The open tasks among `wanted` that the window (`shown`) leaves out, in
/// the view's order, as long as they still match its search.
async fn pinned_tasks(
    state: &AppState,
    list: &List,
    view: &View,
    shown: &[Task],
    wanted: &[i64],
) -> UiResult<Vec<Task>> {
    let on_page: HashSet<i64> = shown.iter().map(|t| t.id).collect();
    let wanted: Vec<i64> = wanted
        .iter()
        .copied()
        .filter(|id| !on_page.contains(id))
        .take(View::PAGE as usize)
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let filter = TaskFilter {
        completed: Some(false),
        ..view.task_filter()
    };
    state
        .store
        .tasks_among(list.id, &filter, &wanted)
        .await
        .map_err(UiError::from)
}

async fn agenda_snapshot(
    state: &AppState,
    reader: &Reader,
    agenda: Agenda,
    view: &View,
) -> UiResult<Snapshot> {
    let now = reader.clock.now;
    let today = now.date();
    let (tasks, lists) = tokio::try_join!(
        state
            .store
            .agenda(reader.owner, agenda, today, TaskFilter::MAX_LIMIT),
        state.store.lists(reader.owner),
    )?;
    let mut groups: Vec<Group> = Vec::new();
    for task in tasks {
        let part = agenda.group(&task, now);
        let key = group_key(part);
        match groups.iter_mut().find(|g| g.key == key) {
            Some(group) => group.tasks.push(task),
            None => groups.push(Group {
                kind: match part {
                    AgendaGroup::Done => GroupKind::Completed { total: 0 },
                    part => GroupKind::Part(part),
                },
                key,
                tasks: vec![task],
                hidden: 0,
                pinned: Vec::new(),
            }),
        }
    }
    // The view's first day is always there, if empty (and then not shown),
    // so a task added to it has a place to go.
    let first = match agenda {
        Agenda::Today => today,
        Agenda::Upcoming => today.succ_opt().unwrap_or(today),
    };
    if !groups.iter().any(|g| g.key == day_key(first)) {
        groups.push(Group {
            key: day_key(first),
            kind: GroupKind::Part(AgendaGroup::Day(first)),
            tasks: Vec::new(),
            hidden: 0,
            pinned: Vec::new(),
        });
    }
    groups.sort_by_key(|g| match g.kind {
        GroupKind::Part(part) => part,
        _ => AgendaGroup::Done,
    });
    let done = groups
        .iter()
        .filter(|g| matches!(g.kind, GroupKind::Completed { .. }))
        .map(|g| g.tasks.len() as i64)
        .sum::<i64>();
    let total = groups.iter().map(|g| g.tasks.len() as i64).sum::<i64>();
    for group in &mut groups {
        if let GroupKind::Completed { total } = &mut group.kind {
            *total = group.tasks.len() as i64;
        }
    }
    let counts = TaskCounts {
        total,
        active: total - done,
    };
    let summary = Summary::new(view, counts, counts, &groups, false);
    Ok(Snapshot {
        groups,
        summary,
        lists: Some(lists),
    })
}

fn group_key(part: AgendaGroup) -> String {
    match part {
        AgendaGroup::Overdue => "overdue".to_owned(),
        AgendaGroup::Day(day) => day_key(day),
        AgendaGroup::Done => "done".to_owned(),
    }
}

fn day_key(day: NaiveDate) -> String {
    format!("day-{day}")
}
