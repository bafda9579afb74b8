//! CalDAV (RFC 4791, with RFC 6578's sync): every list the caller can see
//! as a calendar collection of VTODOs, over the same store calls and rules
//! as the JSON API (docs/caldav.md).
//!
//! A tour:
//! - this file: the routes (`/.well-known/caldav`, everything under
//!   `/dav/`), who is calling, what a path names (`Target`), the methods
//!   that read or write one resource (GET, PUT, DELETE, MKCALENDAR), and how
//!   a refusal is told (`answer`, `DavError`);
//! - `props`: PROPFIND and PROPPATCH, the properties of each kind of
//!   resource;
//! - `report`: REPORT: calendar-query, calendar-multiget, sync-collection;
//! - `stream`: answers over a calendar's tasks, written page by page;
//! - `filter`: calendar-query's filters, matched against a task's VTODO;
//! - `xml`: reading request bodies and writing answers with `quick-xml`.
//!
//! Who is calling is `auth::identify`'s business, as for every route:
//! under `/dav/` it reads HTTP Basic with an app password
//! (`Accounts::app_password`). A request without credentials gets a 401
//! that asks for them.

mod filter;
mod props;
mod report;
mod stream;
pub mod xml;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get};
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::caldav::{TodoError, vtodo};
use crate::db::{Collection, PutCondition, StoreError};
use crate::domain::{ListName, Owner};

/// The name of the realm Basic authentication asks for.
const REALM: &str = "todo-app";

/// What `OPTIONS` says this server speaks (RFC 4791 5.1).
const DAV_CLASSES: &str = "1, 3, calendar-access";
const ALLOWED: &str = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MKCALENDAR";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/caldav", any(well_known))
        .route("/dav", any(dav))
        .route("/dav/", any(dav))
        .route("/dav/{*path}", any(dav))
        .route("/.well-known/caldav/", get(well_known))
}

/// RFC 6764: where a client that knows only the host starts.
async fn well_known() -> Redirect {
    Redirect::permanent("/dav/")
}

/// A client given only the app's address asks `PROPFIND /` for the
/// principal (RFC 6764 6): that and nothing else of WebDAV on `/` is
/// answered as `/dav/` is; `GET /` stays the page. Called on each request
/// before routing (`serve`), as a plain function: a router wrapped around
/// the app for it would cost every request a layer.
pub fn alias_root<B>(req: &mut axum::http::Request<B>) {
    if req.uri().path() == "/" && matches!(req.method().as_str(), "PROPFIND" | "OPTIONS") {
        *req.uri_mut() = Uri::from_static("/dav/");
    }
}

/// What a path under `/dav/` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    Root,
    Principal(String),
    Home(String),
    Calendar(String, String),
    Object(String, String, String),
}

impl Target {
    fn of(path: &str) -> Option<Self> {
        let rest = path.strip_prefix("/dav")?;
        let segments: Vec<String> = rest
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        Some(match segments.as_slice() {
            [] => Self::Root,
            ["principals", user] => Self::Principal((*user).to_owned()),
            ["calendars", user] => Self::Home((*user).to_owned()),
            ["calendars", user, list] => Self::Calendar((*user).to_owned(), (*list).to_owned()),
            ["calendars", user, list, name] => {
                Self::Object((*user).to_owned(), (*list).to_owned(), (*name).to_owned())
            }
            _ => return None,
        })
    }

    /// The user whose space this is, if the path names one.
    fn user(&self) -> Option<&str> {
        match self {
            Self::Root => None,
            Self::Principal(u) | Self::Home(u) | Self::Calendar(u, _) | Self::Object(u, _, _) => {
                Some(u)
            }
        }
    }
}

/// Characters kept out of a path segment we write.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

fn segment(raw: &str) -> String {
    utf8_percent_encode(raw, SEGMENT).to_string()
}

/// The caller, as CalDAV names it: the account, and the name in its paths.
#[derive(Debug, Clone)]
pub(super) struct Dav {
    pub owner: Owner,
    pub user: String,
}

impl Dav {
    pub fn principal(&self) -> String {
        format!("/dav/principals/{}/", segment(&self.user))
    }

    pub fn home(&self) -> String {
        format!("/dav/calendars/{}/", segment(&self.user))
    }

    pub fn collection(&self, collection: &Collection) -> String {
        format!("{}{}/", self.home(), segment(&collection.segment))
    }

    pub fn object(&self, collection: &Collection, name: &str) -> String {
        format!("{}{}", self.collection(collection), segment(name))
    }

    /// The principal of a list's owner (ourselves when it is ours).
    pub fn owner_principal(&self, collection: &Collection) -> String {
        match &collection.list.owner {
            Some(owner) => format!("/dav/principals/{}/", segment(owner)),
            None => self.principal(),
        }
    }
}

/// The name of the caller in paths; `AUTH_MODE=none` serves the shared
/// list to everyone as `shared`.
fn dav_caller(caller: &Caller) -> Result<Dav, DavError> {
    match caller {
        Caller::Open => Ok(Dav {
            owner: Owner::SHARED,
            user: "shared".to_owned(),
        }),
        Caller::SignedIn(signed_in) => Ok(Dav {
            owner: Owner::user(signed_in.user.id),
            user: signed_in.user.username.clone(),
        }),
        Caller::Unverified(message) => Err(ApiError::Unavailable(message.clone()).into()),
        _ => Err(ApiError::Unauthorized(
            "sign in with your username and an app password".to_owned(),
        )
        .into()),
    }
}

async fn dav(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        if method == Method::OPTIONS {
            return Ok(options());
        }
        let dav = dav_caller(&caller)?;
        let target = Target::of(uri.path())
            .ok_or_else(|| ApiError::NotFound(format!("nothing is at {}", uri.path())))?;
        if let Some(user) = target.user()
            && !user.eq_ignore_ascii_case(&dav.user)
        {
            return Err(ApiError::NotFound(format!(
                "{} is not yours; your calendars are under {}",
                uri.path(),
                dav.home()
            ))
            .into());
        }
        let request = Request {
            state: &state,
            dav: &dav,
            target: &target,
            headers: &headers,
            body: &body,
        };
        match method.as_str() {
            "PROPFIND" => props::propfind(&request).await,
            "PROPPATCH" => props::proppatch(&request).await,
            "REPORT" => report::report(&request).await,
            "GET" | "HEAD" => get_object(&request, method == Method::HEAD).await,
            "PUT" => put_object(&request).await,
            "DELETE" => delete(&request).await,
            "MKCALENDAR" | "MKCOL" => make_calendar(&request).await,
            _ => Err(DavError::Api(ApiError::MethodNotAllowed)),
        }
    }
    .await;
    match result {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

/// A request, as the method handlers see it.
pub(super) struct Request<'a> {
    pub state: &'a AppState,
    pub dav: &'a Dav,
    pub target: &'a Target,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
}

impl Request<'_> {
    /// The collection the target is in (or is).
    pub async fn collection(&self, segment: &str) -> Result<Collection, DavError> {
        self.state
            .store
            .calendar_collection(self.dav.owner, segment)
            .await
            .map_err(|err| match err {
                StoreError::ListNotFound(_) => DavError::Api(ApiError::NotFound(format!(
                    "no calendar {segment} is yours or shared with you"
                ))),
                other => other.into(),
            })
    }

    /// The `Depth` header: 0, 1, or infinity (taken as 1: nothing here is
    /// deeper), 0 when absent for the methods that default so.
    pub fn depth(&self, default: u8) -> u8 {
        match self
            .headers
            .get("depth")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
        {
            Some("0") => 0,
            Some("1") | Some("infinity") => 1,
            _ => default,
        }
    }
}

fn options() -> Response {
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    headers.insert("dav", HeaderValue::from_static(DAV_CLASSES));
    headers.insert(header::ALLOW, HeaderValue::from_static(ALLOWED));
    response
}

const CALENDAR_TYPE: &str = "text/calendar; charset=utf-8";

async fn get_object(request: &Request<'_>, head: bool) -> Result<Response, DavError> {
    let Target::Object(_, list, name) = request.target else {
        return Err(ApiError::MethodNotAllowed.into());
    };
    let collection = request.collection(list).await?;
    let object = request
        .state
        .store
        .calendar_object(collection.list.id, name)
        .await?
        .ok_or_else(|| no_object(name))?;
    let body = object.vtodo();
    let mut response = if head {
        let mut r = StatusCode::OK.into_response();
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        r
    } else {
        body.into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(CALENDAR_TYPE),
    );
    headers.insert(header::ETAG, header_value(&object.etag()));
    Ok(response)
}

fn no_object(name: &str) -> DavError {
    ApiError::NotFound(format!("no task is at {name} in this calendar")).into()
}

fn header_value(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `If-Match` / `If-None-Match: *` as a condition on the resource.
fn put_condition(headers: &HeaderMap) -> Result<PutCondition, DavError> {
    if let Some(value) = headers.get(header::IF_NONE_MATCH) {
        return match value.to_str().map(str::trim) {
            Ok("*") => Ok(PutCondition::Absent),
            _ => Err(ApiError::BadRequest(
                "If-None-Match is only understood as * (create, never replace)".to_owned(),
            )
            .into()),
        };
    }
    match headers.get(header::IF_MATCH) {
        None => Ok(PutCondition::Any),
        Some(value) => {
            let raw = value.to_str().unwrap_or_default().trim();
            if raw == "*" {
                return Ok(PutCondition::Version(-1));
            }
            raw.trim_start_matches("W/")
                .trim_matches('"')
                .parse::<i64>()
                .map(PutCondition::Version)
                .map_err(|_| {
                    ApiError::PreconditionFailed(format!(
                        "If-Match {raw:?} is not an ETag this server gave"
                    ))
                    .into()
                })
        }
    }
}

async fn put_object(request: &Request<'_>) -> Result<Response, DavError> {
    let Target::Object(_, list, name) = request.target else {
        return Err(ApiError::MethodNotAllowed.into());
    };
    let collection = request.collection(list).await?;
    let text = std::str::from_utf8(request.body)
        .map_err(|_| DavError::from(TodoError::NotICalendar("it is not UTF-8 text".to_owned())))?;
    let todo = vtodo::parse(text)?;
    let store = &request.state.store;
    let mut condition = put_condition(request.headers)?;
    if condition == PutCondition::Version(-1) {
        // `If-Match: *`: any version, but it must exist.
        condition = match store.calendar_object(collection.list.id, name).await? {
            Some(object) => PutCondition::Version(object.task.version),
            None => PutCondition::Version(0),
        };
    }
    let (object, created) = store
        .put_calendar_object(
            request.dav.owner,
            collection.list.id,
            name,
            &todo,
            condition,
        )
        .await
        .map_err(|err| match err {
            StoreError::NotFound(_) => DavError::Api(ApiError::PreconditionFailed(format!(
                "no task is at {name} (If-Match asked to replace one)"
            ))),
            other => other.into(),
        })?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    };
    let mut response = status.into_response();
    // RFC 4791 5.3.4: an ETag only when what GET gives is what was sent.
    if object.vtodo() == todo.text {
        response
            .headers_mut()
            .insert(header::ETAG, header_value(&object.etag()));
    }
    Ok(response)
}

async fn delete(request: &Request<'_>) -> Result<Response, DavError> {
    let store = &request.state.store;
    match request.target {
        Target::Object(_, list, name) => {
            let collection = request.collection(list).await?;
            let object = store
                .calendar_object(collection.list.id, name)
                .await?
                .ok_or_else(|| no_object(name))?;
            let expected = match put_condition(request.headers)? {
                PutCondition::Version(v) if v >= 0 => Some(v),
                _ => None,
            };
            store
                .delete_task(request.dav.owner, object.task.id, expected)
                .await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Target::Calendar(_, list) => {
            let collection = request.collection(list).await?;
            store
                .delete_list(request.dav.owner, collection.list.id)
                .await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        _ => Err(ApiError::MethodNotAllowed.into()),
    }
}

/// MKCALENDAR (and extended MKCOL): a new list, named by the request's
/// `displayname` or else by its URL.
async fn make_calendar(request: &Request<'_>) -> Result<Response, DavError> {
    let Target::Calendar(_, segment) = request.target else {
        return Err(ApiError::Forbidden(
            "calendars are made in your calendar home, one level below it".to_owned(),
        )
        .into());
    };
    let body = xml::parse(request.body).map_err(ApiError::BadRequest)?;
    let set = props::requested_settings(body.as_ref());
    let name = set
        .iter()
        .find(|(name, _)| name.is(xml::DAV, "displayname"))
        .and_then(|(_, value)| value.as_ref().map(|v| v.text.trim().to_owned()))
        .unwrap_or_else(|| segment.clone());
    let name = ListName::parse(&name).map_err(ApiError::from)?;
    let store = &request.state.store;
    let collection = store
        .create_calendar(request.dav.owner, segment, &name)
        .await
        .map_err(|err| match err {
            StoreError::ResourceExists(_) => DavError::Precondition {
                status: StatusCode::METHOD_NOT_ALLOWED,
                ns: xml::DAV,
                name: "resource-must-be-null",
                message: format!("there is already a calendar at {segment}"),
            },
            other => other.into(),
        })?;
    props::apply_settings(request, &collection, &set).await?;
    Ok(StatusCode::CREATED.into_response())
}

/// Why a CalDAV request was refused.
#[derive(Debug)]
pub(super) enum DavError {
    /// As the API would say it, in plain text.
    Api(ApiError),
    /// A WebDAV/CalDAV precondition, as an XML `DAV:error` body.
    Precondition {
        status: StatusCode,
        ns: &'static str,
        name: &'static str,
        message: String,
    },
}

impl From<ApiError> for DavError {
    fn from(err: ApiError) -> Self {
        Self::Api(err)
    }
}

impl From<StoreError> for DavError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::UidConflict(other) => Self::Precondition {
                status: StatusCode::CONFLICT,
                ns: xml::CALDAV,
                name: "no-uid-conflict",
                message: format!(
                    "another task of this calendar ({other}) has this UID; nothing was changed"
                ),
            },
            StoreError::UidChanged(uid) => Self::Precondition {
                status: StatusCode::CONFLICT,
                ns: xml::CALDAV,
                name: "no-uid-conflict",
                message: format!(
                    "this resource holds the task with UID {uid}; a task's UID cannot change"
                ),
            },
            StoreError::SyncTokenTooOld => Self::Precondition {
                status: StatusCode::FORBIDDEN,
                ns: xml::DAV,
                name: "valid-sync-token",
                message: "the sync token is older than the changes this server keeps (or not one of its tokens); sync again from scratch".to_owned(),
            },
            StoreError::ListNotFound(_) => {
                Self::Api(ApiError::NotFound("no such calendar is yours or shared with you".to_owned()))
            }
            other => Self::Api(other.into()),
        }
    }
}

impl From<TodoError> for DavError {
    fn from(err: TodoError) -> Self {
        let status = match err {
            TodoError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::FORBIDDEN,
        };
        Self::Precondition {
            status,
            ns: xml::CALDAV,
            name: err.precondition(),
            message: format!("{err}; nothing was changed"),
        }
    }
}

impl IntoResponse for DavError {
    fn into_response(self) -> Response {
        match self {
            Self::Api(err) => answer(err),
            Self::Precondition {
                status,
                ns,
                name,
                message,
            } => {
                let mut response =
                    (status, Body::from(xml::error(ns, name, &message))).into_response();
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/xml; charset=utf-8"),
                );
                response
            }
        }
    }
}

/// A refusal as CalDAV clients read it: the status, our words in plain
/// text, and on a 401 the Basic challenge they answer with the username
/// and an app password.
pub fn answer(err: ApiError) -> Response {
    err.log();
    let status = err.status();
    let message = if status == StatusCode::UNAUTHORIZED {
        "CalDAV signs in with your username and an app password: an API token made in Settings \
         or with POST /api/tokens. The account password is not accepted here."
            .to_owned()
    } else {
        err.public_message()
    };
    let mut response = (status, format!("{message}\n")).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            header_value(&format!("Basic realm=\"{REALM}\", charset=\"UTF-8\"")),
        );
    }
    if let ApiError::TooManyRequests { retry_after, .. } = &err {
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after.as_secs().max(1)),
        );
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(header::ALLOW, HeaderValue::from_static(ALLOWED));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_what_they_are() {
        assert_eq!(Target::of("/dav/"), Some(Target::Root));
        assert_eq!(
            Target::of("/dav/principals/ada/"),
            Some(Target::Principal("ada".into()))
        );
        assert_eq!(
            Target::of("/dav/calendars/ada/12/a%20b.ics"),
            Some(Target::Object("ada".into(), "12".into(), "a b.ics".into()))
        );
        assert_eq!(Target::of("/dav/calendars/ada/12/x/y"), None);
        assert_eq!(segment("a b/c.ics"), "a%20b%2Fc.ics");
    }
}
