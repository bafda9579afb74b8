//! Where a task stands against the reader's clock: overdue, due today,
//! tomorrow or later, and in which part of the Today and Upcoming views it
//! belongs. The pages and the API only word and colour what is decided
//! here, so "what is overdue" has one home for every front end (the rule
//! for a time of day is `Due::is_overdue`).

use chrono::{NaiveDate, NaiveDateTime};

use super::{Agenda, Due, DueTime, Task};

/// A due date (and time) seen from `now`, the reader's wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueStanding {
    /// Past its day, or its time on that day, and not done.
    Overdue,
    Today,
    Tomorrow,
    /// Later than tomorrow, or done (a done task is never late).
    Later,
}

impl DueStanding {
    pub fn of(due: NaiveDate, time: Option<DueTime>, completed: bool, now: NaiveDateTime) -> Self {
        if completed {
            return Self::Later;
        }
        if Due::is_overdue(due, time, now) {
            return Self::Overdue;
        }
        match (due - now.date()).num_days() {
            0 => Self::Today,
            1 => Self::Tomorrow,
            _ => Self::Later,
        }
    }
}

impl Task {
    /// Past its due date (or time) and not done, for a reader whose wall
    /// clock shows `now`.
    pub fn is_overdue(&self, now: NaiveDateTime) -> bool {
        self.due.is_some_and(|due| {
            DueStanding::of(due, self.due_time, self.completed, now) == DueStanding::Overdue
        })
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
    /// Where `task` goes in this view at the reader's `now`: a task due
    /// today at a time already past is overdue. The store chose the tasks
    /// (`Store::agenda`); this only sorts them into parts.
    pub fn group(self, task: &Task, now: NaiveDateTime) -> AgendaGroup {
        match task.due {
            _ if task.completed => AgendaGroup::Done,
            Some(_) if task.is_overdue(now) => AgendaGroup::Overdue,
            Some(due) => AgendaGroup::Day(due),
            // The store never lists an undated task here.
            None => AgendaGroup::Day(now.date()),
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
            due_time: None,
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
        let noon = today.and_hms_opt(12, 0, 0).unwrap();
        assert!(task(Some("2030-03-09"), false).is_overdue(noon));
        assert!(!task(Some("2030-03-09"), true).is_overdue(noon));
        assert!(!task(Some("2030-03-10"), false).is_overdue(noon));
        assert!(!task(None, false).is_overdue(noon));
        let standing = |due: &str, done| DueStanding::of(day(due), None, done, noon);
        assert_eq!(standing("2030-03-10", false), DueStanding::Today);
        assert_eq!(standing("2030-03-11", false), DueStanding::Tomorrow);
        assert_eq!(standing("2030-03-12", false), DueStanding::Later);
        assert_eq!(standing("2030-03-01", true), DueStanding::Later);
    }

    #[test]
    fn a_time_of_day_makes_a_task_overdue_within_its_day() {
        let today = day("2030-03-10");
        let at = |h| today.and_hms_opt(h, 0, 0).unwrap();
        let nine = Task {
            due_time: DueTime::parse("09:00").unwrap(),
            ..task(Some("2030-03-10"), false)
        };
        assert_eq!(Agenda::Today.group(&nine, at(8)), AgendaGroup::Day(today));
        assert_eq!(Agenda::Today.group(&nine, at(10)), AgendaGroup::Overdue);
        let standing = |now| DueStanding::of(today, nine.due_time, false, now);
        assert_eq!(standing(at(8)), DueStanding::Today);
        assert_eq!(standing(at(10)), DueStanding::Overdue);
        assert_eq!(
            DueStanding::of(today, nine.due_time, true, at(10)),
            DueStanding::Later
        );
    }

    #[test]
    fn agenda_parts_put_overdue_first_and_done_last() {
        let today = day("2030-03-10");
        let noon = today.and_hms_opt(12, 0, 0).unwrap();
        let group = |due: &str, done| Agenda::Today.group(&task(Some(due), done), noon);
        assert_eq!(group("2030-03-01", false), AgendaGroup::Overdue);
        assert_eq!(group("2030-03-10", false), AgendaGroup::Day(today));
        assert_eq!(group("2030-03-10", true), AgendaGroup::Done);
        assert!(AgendaGroup::Overdue < AgendaGroup::Day(today));
        assert!(AgendaGroup::Day(today) < AgendaGroup::Day(day("2030-03-11")));
        assert!(AgendaGroup::Day(day("2030-03-17")) < AgendaGroup::Done);
    }
}
