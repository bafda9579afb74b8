//! Answers over the tasks of a calendar (PROPFIND with depth 1,
//! calendar-query, calendar-multiget), written page by page as the client
//! reads them: a request holds one page of tasks and what the client has
//! not read yet of two pages of XML, whatever the size of the list.
//!
//! The 207 and its first bytes go out before the tasks are read, so a
//! database error part-way cannot become an error status: the body is cut
//! off instead, and the client sees an incomplete answer, not a short one.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body::Frame;
use tokio::sync::mpsc;

use super::filter::Filter;
use super::props::{Resource, Wanted};
use super::{Request, xml};
use crate::db::{CalendarObject, Collection, StoreError};

/// Tasks read (and responses written) at a time.
const PAGE: usize = 200;

/// Which tasks of the collection the answer lists.
pub(super) enum Members {
    /// Every task, in the list's order, that the filter lets through.
    All(Option<Filter>),
    /// The tasks at these hrefs, in the order asked: each href as sent and
    /// the name of a resource of this collection it points at, if it does
    /// (else it is answered 404).
    Named(Vec<(String, Option<String>)>),
}

/// A 207 with `first` (the collection's own response, for a PROPFIND), then
/// a response per member, with the properties `wanted`.
pub(super) fn multistatus(
    request: &Request<'_>,
    collection: Collection,
    first: Vec<xml::Response>,
    members: Members,
    wanted: Wanted,
) -> Response {
    let (sender, receiver) = mpsc::channel(2);
    let (state, dav, target, headers, body) = (
        request.state.clone(),
        request.dav.clone(),
        request.target.clone(),
        request.headers.clone(),
        request.body.clone(),
    );
    tokio::spawn(async move {
        let request = Request {
            state: &state,
            dav: &dav,
            target: &target,
            headers: &headers,
            body: &body,
        };
        let pages = Pages {
            request: &request,
            collection: &collection,
            wanted: &wanted,
            sender: &sender,
        };
        if let Err(err) = pages.write(first, members).await {
            match err {
                // The client left: nothing to tell anyone.
                Stop::Gone => {}
                Stop::Failed(err) => {
                    tracing::error!(error = %err, "a CalDAV answer was cut off");
                    let _ = sender.send(Err(err)).await;
                }
            }
        }
    });
    let mut response = (StatusCode::MULTI_STATUS, Body::new(Chunks(receiver))).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    response
}

enum Stop {
    Gone,
    Failed(StoreError),
}

impl From<StoreError> for Stop {
    fn from(err: StoreError) -> Self {
        Self::Failed(err)
    }
}

struct Pages<'a> {
    request: &'a Request<'a>,
    collection: &'a Collection,
    wanted: &'a Wanted,
    sender: &'a mpsc::Sender<Result<Bytes, StoreError>>,
}

impl Pages<'_> {
    async fn write(&self, first: Vec<xml::Response>, members: Members) -> Result<(), Stop> {
        let (head, tail) = xml::multistatus_frame(None);
        let mut opening = head;
        opening.extend(xml::responses(&first));
        self.send(opening).await?;
        let store = &self.request.state.store;
        let list = self.collection.list.id;
        match members {
            Members::All(filter) => {
                let mut after = None;
                loop {
                    let (objects, next) = store.calendar_objects_page(list, after, PAGE).await?;
                    let responses: Vec<xml::Response> = objects
                        .iter()
                        .filter(|object| filter.as_ref().is_none_or(|f| f.matches(&object.vtodo())))
                        .map(|object| self.response(object))
                        .collect();
                    self.send(xml::responses(&responses)).await?;
                    match next {
                        Some(next) => after = Some(next),
                        None => break,
                    }
                }
            }
            Members::Named(hrefs) => {
                for page in hrefs.chunks(PAGE) {
                    let names: Vec<&str> = page
                        .iter()
                        .filter_map(|(_, name)| name.as_deref())
                        .collect();
                    let objects = store.calendar_objects_named(list, &names).await?;
                    let responses: Vec<xml::Response> = page
                        .iter()
                        .map(|(href, name)| {
                            match name
                                .as_deref()
                                .and_then(|name| objects.iter().find(|o| o.name == name))
                            {
                                Some(object) => self.response(object),
                                None => xml::Response {
                                    href: href.clone(),
                                    outcome: xml::Outcome::Status(StatusCode::NOT_FOUND),
                                },
                            }
                        })
                        .collect();
                    self.send(xml::responses(&responses)).await?;
                }
            }
        }
        self.send(tail).await
    }

    fn response(&self, object: &CalendarObject) -> xml::Response {
        Resource::Object {
            collection: self.collection,
            object,
        }
        .response(self.request, self.wanted)
    }

    async fn send(&self, bytes: Vec<u8>) -> Result<(), Stop> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.sender
            .send(Ok(Bytes::from(bytes)))
            .await
            .map_err(|_| Stop::Gone)
    }
}

/// A body of the chunks the writing task sends; an error ends it as a
/// failed body (the connection is cut), not as a finished one.
struct Chunks(mpsc::Receiver<Result<Bytes, StoreError>>);

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = StoreError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, StoreError>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|chunk| chunk.map(Frame::data)))
    }
}
