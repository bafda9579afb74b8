//! Where a task stands against the reader's day: overdue, due today,
//! tomorrow or later, and in which part of the Today and Upcoming views it
//! belongs. The pages only word and colour what is decided here, so "what
//! is overdue" has one home for every front end.

use chrono::NaiveDate;

use super::{Agenda, Task};

/// A due date seen from `today`, the reader's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueStanding {
    /// Past its day and not done.
    Overdue,
    Today,
    Tomorrow,
    /// Later than tomorrow, or done (a done task is never late).
    Later,
}

impl DueStanding {
    pub fn of(due: NaiveDate, completed: bool, today: NaiveDate) -> Self {
        match (due - today).num_days() {
            _ if completed => Self::Later,
            ..0 => Self::Overdue,
            0 => Self::Today,
            1 => Self::Tomorrow,
            _ => Self::Later,
        }
    }
}

impl Task {
    /// Past its due date and not done, for a reader whose day is `today`.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.due
            .is_some_and(|due| DueStanding::of(due, self.completed, today) == DueStanding::Overdue)
    }
}

/// A part of an agenda view, in the order the view shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AgendaGroup {
    /// Open tasks whose day has passed (Today only).
    Overdue,
    /// Open tasks due on this day.
    Day(NaiveDate),
    /// Done tasks, under the open ones.
    Done,
}

impl Agenda {
    /// Where `task` goes in this view on the reader's `today`. The store
    /// chose the tasks (`Store::agenda`); this only sorts them into parts.
    pub fn group(self, task: &Task, today: NaiveDate) -> AgendaGroup {
        match task.due {
            _ if task.completed => AgendaGroup::Done,
            Some(_) if task.is_overdue(today) => AgendaGroup::Overdue,
            Some(due) => AgendaGroup::Day(due),
            // The store never lists an undated task here.
            None => AgendaGroup::Day(today),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ListId, Priority, Title};

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn task(due: Option<&str>, completed: bool) -> Task {
        let now = chrono::Utc::now();
        Task {
            id: 1,
            title: Title::parse("t").unwrap(),
            priority: Priority::default(),
            completed,
            order: 1,
            due: due.map(day),
            version: 1,
            created_at: now,
            updated_at: now,
            list: ListId(1),
            created_by: None,
            completed_by: None,
        }
    }

    #[test]
    fn overdue_means_before_the_readers_day_and_not_done() {
        let today = day("2030-03-10");
        assert!(task(Some("2030-03-09"), false).is_overdue(today));
        assert!(!task(Some("2030-03-09"), true).is_overdue(today));
        assert!(!task(Some("2030-03-10"), false).is_overdue(today));
        assert!(!task(None, false).is_overdue(today));
        let standing = |due: &str, done| DueStanding::of(day(due), done, today);
        assert_eq!(standing("2030-03-10", false), DueStanding::Today);
        assert_eq!(standing("2030-03-11", false), DueStanding::Tomorrow);
        assert_eq!(standing("2030-03-12", false), DueStanding::Later);
        assert_eq!(standing("2030-03-01", true), DueStanding::Later);
    }

    #[test]
    fn agenda_parts_put_overdue_first_and_done_last() {
        let today = day("2030-03-10");
        let group = |due: &str, done| Agenda::Today.group(&task(Some(due), done), today);
        assert_eq!(group("2030-03-01", false), AgendaGroup::Overdue);
        assert_eq!(group("2030-03-10", false), AgendaGroup::Day(today));
        assert_eq!(group("2030-03-10", true), AgendaGroup::Done);
        assert!(AgendaGroup::Overdue < AgendaGroup::Day(today));
        assert!(AgendaGroup::Day(today) < AgendaGroup::Day(day("2030-03-11")));
        assert!(AgendaGroup::Day(day("2030-03-17")) < AgendaGroup::Done);
    }
}
