//! What the user is looking at: a list's tasks under a filter (the path),
//! with a sort order, a search and how many rows are shown (the query
//! string), or one of the planning views across every list (`/today`,
//! `/upcoming`). Views are addressable, like TodoMVC's `#/active` but on
//! the server, so Back, bookmarks and reloads all land where they were.
//!
//! Every form carries the view it was posted from in a `return` field, and
//! the answer redirects there. That field is attacker-controlled, so it is
//! not checked and echoed (an open redirect waits behind every missed case):
//! it is *parsed* into a `View`, and the redirect is written from the `View`.

use axum::extract::Query;
use axum::http::Uri;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use crate::domain::{Agenda, ListId, SortOrder, TaskFilter};

/// Which tasks a view lists; each has its own path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filter {
    #[default]
    All,
    Active,
    Completed,
}

impl Filter {
    pub const ALL: [Filter; 3] = [Filter::All, Filter::Active, Filter::Completed];

    pub fn from_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.path() == path)
    }

    pub fn path(self) -> &'static str {
        match self {
            Self::All => "/",
            Self::Active => "/active",
            Self::Completed => "/completed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::All => "All",
            Self::Active => "Active",
            Self::Completed => "Completed",
        }
    }

    pub fn completed(self) -> Option<bool> {
        match self {
            Self::All => None,
            Self::Active => Some(false),
            Self::Completed => Some(true),
        }
    }
}

/// The query string of a view page. Strings, so a bad value falls back to
/// the default instead of failing the page: a stale bookmark should still open.
#[derive(Debug, Default, Deserialize)]
pub struct ViewParams {
    /// The list shown (`?list=ID`); none is the reader's default list.
    pub list: Option<String>,
    pub sort: Option<String>,
    pub q: Option<String>,
    /// The task to show in edit mode, for browsers without JavaScript.
    pub edit: Option<String>,
    /// How many rows of the main group are shown ("Show more").
    pub shown: Option<String>,
    /// The task just added without JavaScript: kept in view, marked.
    pub added: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// `None`: the reader's default list, at `/`.
    pub list: Option<ListId>,
    /// A planning view across every list instead of one list; it has no
    /// filter, sort, search or list of its own.
    pub agenda: Option<Agenda>,
    pub filter: Filter,
    pub sort: SortOrder,
    /// Trimmed, never empty.
    pub query: Option<String>,
    /// Rows of the main group shown: a page, or more after "Show more".
    pub shown: u32,
}

impl Default for View {
    fn default() -> Self {
        Self {
            list: None,
            agenda: None,
            filter: Filter::default(),
            sort: SortOrder::default(),
            query: None,
            shown: View::PAGE,
        }
    }
}

/// The path of each planning view.
pub fn agenda_path(agenda: Agenda) -> &'static str {
    match agenda {
        Agenda::Today => "/today",
        Agenda::Upcoming => "/upcoming",
    }
}

/// Longest search kept; longer ones are cut rather than refused.
const MAX_QUERY_CHARS: usize = 200;

/// Characters escaped in a query value: all but the unreserved ones.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

impl View {
    /// Rows a page shows at first: a few screens, not the whole list, so a
    /// list of thousands opens as fast as one of fifty.
    pub const PAGE: u32 = 50;
    /// The most rows one page may be asked to show.
    pub const MAX_SHOWN: u32 = TaskFilter::MAX_LIMIT;

    pub fn new(filter: Filter, params: &ViewParams) -> Self {
        let sort = params
            .sort
            .as_deref()
            .and_then(|s| SortOrder::parse(s).ok())
            .unwrap_or_default();
        // Titles hold no control characters (and PostgreSQL refuses NUL in
        // text), so they are dropped from a search rather than searched for.
        let query = params
            .q
            .as_deref()
            .map(|q| q.chars().filter(|c| !c.is_control()).collect::<String>())
            .map(|q| q.trim().chars().take(MAX_QUERY_CHARS).collect::<String>())
            .filter(|q| !q.is_empty());
        let shown = params
            .shown
            .as_deref()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .map_or(Self::PAGE, |n| n.clamp(Self::PAGE, Self::MAX_SHOWN));
        Self {
            list: params.list.as_deref().and_then(parse_list),
            agenda: None,
            filter,
            sort,
            query,
            shown,
        }
    }

    /// A planning view: Today or Upcoming.
    pub fn of_agenda(agenda: Agenda) -> Self {
        Self {
            agenda: Some(agenda),
            ..Self::default()
        }
    }

    /// Reads a form's `return` field. Anything that is not one of our view
    /// URLs (another host, `//evil`, `/api/...`, garbage) gives the default view.
    pub fn from_return(raw: Option<&str>) -> Self {
        let Some(uri) = raw.and_then(|r| r.parse::<Uri>().ok()) else {
            return Self::default();
        };
        if uri.scheme().is_some() || uri.authority().is_some() {
            return Self::default();
        }
        if let Some(agenda) = [Agenda::Today, Agenda::Upcoming]
            .into_iter()
            .find(|a| agenda_path(*a) == uri.path())
        {
            return Self::of_agenda(agenda);
        }
        let Some(filter) = Filter::from_path(uri.path()) else {
            return Self::default();
        };
        let params = Query::<ViewParams>::try_from_uri(&uri)
            .map(|Query(p)| p)
            .unwrap_or_default();
        Self::new(filter, &params)
    }

    /// This view's URL, in canonical form (defaults left out).
    pub fn url(&self) -> String {
        self.url_for(self.filter)
    }

    /// The same sort and search under another filter.
    pub fn url_for(&self, filter: Filter) -> String {
        self.url_with(filter, None)
    }

    /// This view with one task in edit mode (the no-JavaScript edit page).
    pub fn edit_url(&self, id: i64) -> String {
        self.url_with(self.filter, Some(id))
    }

    /// This view after adding a task without JavaScript: the task is kept
    /// in view even beyond the rows shown, and the browser scrolls to it.
    pub fn added_url(&self, id: i64) -> String {
        let url = self.url();
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}added={id}#{}", row_anchor(id))
    }

    /// The same view showing `shown` rows of its main group.
    pub fn url_showing(&self, shown: u32) -> String {
        Self {
            shown,
            ..self.clone()
        }
        .url()
    }

    fn url_with(&self, filter: Filter, edit: Option<i64>) -> String {
        let mut url = String::from(match self.agenda {
            Some(agenda) => agenda_path(agenda),
            None => filter.path(),
        });
        let mut sep = '?';
        let mut push = |key: &str, value: &str| {
            url.push(sep);
            url.push_str(key);
            url.push('=');
            url.extend(utf8_percent_encode(value, QUERY_VALUE));
            sep = '&';
        };
        if let Some(list) = self.list {
            push("list", &list.0.to_string());
        }
        if self.sort != SortOrder::default() {
            push("sort", self.sort.name());
        }
        if let Some(q) = &self.query {
            push("q", q);
        }
        if self.shown != Self::PAGE {
            push("shown", &self.shown.to_string());
        }
        if let Some(id) = edit {
            push("edit", &id.to_string());
        }
        url
    }

    /// The first page of a list: every task, in the user's order.
    pub fn of_list(list: Option<ListId>) -> Self {
        Self {
            list,
            ..Self::default()
        }
    }

    /// The tasks of this view's list that are `completed` (or all), in
    /// its sort and search.
    pub fn task_filter(&self) -> TaskFilter {
        TaskFilter {
            completed: self.filter.completed(),
            query: self.query.clone(),
            sort: self.sort,
            ..TaskFilter::default()
        }
    }
}

/// The `id` of a task's row, for links that scroll to it.
pub fn row_anchor(id: i64) -> String {
    format!("task-{id}")
}

/// A list id as a URL carries it: a positive whole number, or no list.
pub fn parse_list(raw: &str) -> Option<ListId> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(ListId)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(filter: Filter, sort: Option<&str>, q: Option<&str>) -> View {
        View::new(
            filter,
            &ViewParams {
                sort: sort.map(str::to_owned),
                q: q.map(str::to_owned),
                edit: None,
                list: None,
                shown: None,
                added: None,
            },
        )
    }

    #[test]
    fn urls_are_canonical_and_round_trip() {
        let plain = View::default();
        assert_eq!(plain.url(), "/");
        let v = view(Filter::Active, Some("due"), Some("  milk & eggs ")).clone();
        assert_eq!(v.url(), "/active?sort=due&q=milk%20%26%20eggs");
        assert_eq!(View::from_return(Some(&v.url())), v);
        assert_eq!(v.url_for(Filter::All), "/?sort=due&q=milk%20%26%20eggs");
        assert_eq!(v.edit_url(7), "/active?sort=due&q=milk%20%26%20eggs&edit=7");
        let listed = View {
            list: Some(ListId(5)),
            ..v.clone()
        };
        assert_eq!(listed.url(), "/active?list=5&sort=due&q=milk%20%26%20eggs");
        assert_eq!(View::from_return(Some(&listed.url())), listed);
        assert_eq!(View::of_list(Some(ListId(5))).url(), "/?list=5");
        let unicode = view(Filter::Completed, None, Some("crème brûlée"));
        assert_eq!(View::from_return(Some(&unicode.url())), unicode);
        let more = View {
            shown: 150,
            ..v.clone()
        };
        assert_eq!(more.url(), "/active?sort=due&q=milk%20%26%20eggs&shown=150");
        assert_eq!(View::from_return(Some(&more.url())), more);
        assert_eq!(
            v.url_showing(100),
            "/active?sort=due&q=milk%20%26%20eggs&shown=100"
        );
        assert_eq!(
            v.added_url(7),
            "/active?sort=due&q=milk%20%26%20eggs&added=7#task-7"
        );
        assert_eq!(View::default().added_url(7), "/?added=7#task-7");
        for agenda in [Agenda::Today, Agenda::Upcoming] {
            let planning = View::of_agenda(agenda);
            assert_eq!(View::from_return(Some(&planning.url())), planning);
        }
        assert_eq!(View::of_agenda(Agenda::Today).url(), "/today");
        // A planning view takes nothing from the query string.
        assert_eq!(
            View::from_return(Some("/upcoming?sort=due&list=3&q=x")).url(),
            "/upcoming"
        );
    }

    #[test]
    fn shown_stays_within_a_page_and_the_most_a_page_holds() {
        let shown = |raw: &str| {
            View::new(
                Filter::All,
                &ViewParams {
                    shown: Some(raw.to_owned()),
                    ..ViewParams::default()
                },
            )
            .shown
        };
        assert_eq!(shown("100"), 100);
        assert_eq!(shown("3"), View::PAGE);
        assert_eq!(shown("99999"), View::MAX_SHOWN);
        assert_eq!(shown("lots"), View::PAGE);
    }

    #[test]
    fn bad_values_fall_back_to_defaults() {
        let v = view(Filter::All, Some("sideways"), Some("   "));
        assert_eq!(v, View::default());
        let long = view(Filter::All, None, Some(&"x".repeat(500)));
        assert_eq!(long.query.unwrap().len(), MAX_QUERY_CHARS);
    }

    #[test]
    fn return_values_never_leave_the_app() {
        for raw in [
            "https://evil.example/",
            "//evil.example/active",
            "/\\evil.example",
            "/api/todos",
            "/todos/1/delete",
            "javascript:alert(1)",
            "active",
            "",
            "/active\r\nSet-Cookie: x=1",
        ] {
            let v = View::from_return(Some(raw));
            assert_eq!(v.url(), "/", "{raw:?}");
        }
        assert_eq!(View::from_return(None), View::default());
        assert_eq!(
            View::from_return(Some("/completed?sort=priority&bogus=1")).url(),
            "/completed?sort=priority"
        );
    }
}
