//! The `Link: <...>; rel="next"` header of a list that has more tasks.

use crate::domain::{SortOrder, TaskFilter};
use crate::http::extract::BaseUrl;

/// The link to the next page, keeping the caller's filters.
pub fn next_page_link(base: &BaseUrl, filter: &TaskFilter, returned: usize) -> String {
    let mut query = filter_pairs(filter);
    query.push(("limit", filter.limit.to_string()));
    query.push(("offset", (filter.offset + returned as u64).to_string()));
    let encoded: Vec<String> = query
        .into_iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(&v)))
        .collect();
    format!("<{}/api/todos?{}>; rel=\"next\"", base.0, encoded.join("&"))
}

/// The filters that differ from the defaults, as query parameters.
fn filter_pairs(filter: &TaskFilter) -> Vec<(&'static str, String)> {
    let mut pairs = Vec::new();
    if let Some(completed) = filter.completed {
        pairs.push(("completed", completed.to_string()));
    }
    if let Some(q) = &filter.query {
        pairs.push(("q", q.clone()));
    }
    if filter.sort != SortOrder::Order {
        pairs.push(("sort", filter.sort.name().to_owned()));
    }
    pairs
}

fn percent_encode(raw: &str) -> String {
    percent_encoding::utf8_percent_encode(raw, percent_encoding::NON_ALPHANUMERIC).to_string()
}
