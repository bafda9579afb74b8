//! REPORT on a calendar: calendar-query (RFC 4791 7.8), calendar-multiget
//! (7.9) and sync-collection (RFC 6578), each answered with the
//! properties its `<prop>` asks for.

use axum::http::StatusCode;
use axum::response::Response;
use percent_encoding::percent_decode_str;

use super::filter::Filter;
use super::props::{Resource, Wanted, multistatus};
use super::stream::{self, Members};
use super::xml::{self, CALDAV, DAV};
use super::{DavError, Request, Target};
use crate::caldav::{parse_sync_token, sync_token};
use crate::db::StoreError;
use crate::http::error::ApiError;

/// The most changes one sync-collection answer holds; a client asking
/// for more (or for no limit) gets them in pages.
const SYNC_PAGE: usize = 1_000;

pub(super) async fn report(request: &Request<'_>) -> Result<Response, DavError> {
    let Target::Calendar(_, segment) = request.target else {
        return Err(ApiError::Forbidden(
            "reports are made on a calendar (a list's collection)".to_owned(),
        )
        .into());
    };
    let body = xml::parse(request.body)
        .map_err(ApiError::BadRequest)?
        .ok_or_else(|| ApiError::BadRequest("a REPORT needs a body".to_owned()))?;
    let collection = request.collection(segment).await?;
    let store = &request.state.store;
    let wanted = Wanted::of(Some(&body));
    if body.is(CALDAV, "calendar-multiget") {
        let base = request.dav.collection(&collection);
        let decoded_base = percent_decode_str(&base).decode_utf8_lossy().into_owned();
        let hrefs = body
            .children_named(DAV, "href")
            .map(|href| {
                let href = href.text.trim();
                let path = percent_decode_str(href).decode_utf8_lossy();
                let path = path
                    .split_once("://")
                    .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned()))
                    .unwrap_or_else(|| path.into_owned());
                let name = path
                    .strip_prefix(&decoded_base)
                    .filter(|name| !name.is_empty() && !name.contains('/'))
                    .map(str::to_owned);
                (href.to_owned(), name)
            })
            .collect();
        return Ok(stream::multistatus(
            request,
            collection,
            Vec::new(),
            Members::Named(hrefs),
            wanted,
        ));
    }
    if body.is(CALDAV, "calendar-query") {
        let filter = body
            .child(CALDAV, "filter")
            .ok_or_else(|| ApiError::BadRequest("a calendar-query needs a filter".to_owned()))?;
        let filter = Filter::read(filter).map_err(|message| DavError::Precondition {
            status: StatusCode::FORBIDDEN,
            ns: CALDAV,
            name: "valid-filter",
            message,
        })?;
        return Ok(stream::multistatus(
            request,
            collection,
            Vec::new(),
            Members::All(Some(filter)),
            wanted,
        ));
    }
    if body.is(DAV, "sync-collection") {
        let token = body
            .child(DAV, "sync-token")
            .map(|t| t.text.trim().to_owned())
            .unwrap_or_default();
        let since = if token.is_empty() {
            None
        } else {
            Some(parse_sync_token(&token).ok_or(StoreError::SyncTokenTooOld)?)
        };
        let level = body
            .child(DAV, "sync-level")
            .map(|l| l.text.trim().to_owned());
        if !matches!(level.as_deref(), None | Some("1") | Some("infinite")) {
            return Err(ApiError::BadRequest("sync-level is 1 or infinite".to_owned()).into());
        }
        let limit = match body
            .child(DAV, "limit")
            .and_then(|l| l.child(DAV, "nresults"))
        {
            None => SYNC_PAGE,
            Some(n) => n
                .text
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    ApiError::BadRequest("DAV:nresults is a whole number above 0".to_owned())
                })?
                .min(SYNC_PAGE),
        };
        let changes = store
            .sync_changes(collection.list.id, since.as_ref(), limit)
            .await?;
        let mut responses: Vec<xml::Response> = changes
            .changed
            .iter()
            .map(|object| {
                Resource::Object {
                    collection: &collection,
                    object,
                }
                .response(request, &wanted)
            })
            .collect();
        responses.extend(changes.departed.iter().map(|name| xml::Response {
            href: request.dav.object(&collection, name),
            outcome: xml::Outcome::Status(StatusCode::NOT_FOUND),
        }));
        if changes.truncated {
            // RFC 6578 3.6: more follow; ask again with the new token.
            responses.push(xml::Response {
                href: request.dav.collection(&collection),
                outcome: xml::Outcome::Status(StatusCode::INSUFFICIENT_STORAGE),
            });
        }
        return Ok(multistatus(&responses, Some(&sync_token(&changes.next))));
    }
    Err(DavError::Precondition {
        status: StatusCode::FORBIDDEN,
        ns: DAV,
        name: "supported-report",
        message: "this server answers calendar-query, calendar-multiget and sync-collection"
            .to_owned(),
    })
}
