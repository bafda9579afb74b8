//! PROPFIND and PROPPATCH: the properties of the root, the principal, the
//! calendar home, each calendar (one per list) and each task.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::xml::{self, APPLE, CALDAV, CALENDARSERVER, DAV, Element, Name, Value};
use super::{DavError, Request, Target, stream};
use crate::caldav::{SyncPoint, sync_token, vtodo};
use crate::db::{CalendarObject, Collection};
use crate::domain::{ListName, Role};
use crate::http::error::ApiError;

/// What a PROPFIND (or a REPORT's `<prop>`) asks for.
#[derive(Debug, Clone)]
pub(super) enum Wanted {
    /// `allprop`, or an empty body: the live properties, without
    /// calendar-data.
    All,
    /// `propname`: the names alone.
    Names,
    Props(Vec<Name>),
}

impl Wanted {
    /// From a `propfind` (or a REPORT) element.
    pub fn of(parent: Option<&Element>) -> Self {
        let Some(parent) = parent else {
            return Self::All;
        };
        if parent.child(DAV, "propname").is_some() {
            return Self::Names;
        }
        match parent.child(DAV, "prop") {
            Some(prop) => Self::Props(prop.child_names()),
            None => Self::All,
        }
    }
}

/// A resource whose properties are asked for.
pub(super) enum Resource<'a> {
    Root,
    Principal,
    Home,
    Calendar {
        collection: &'a Collection,
        /// Its version (getctag) and its sync token as it is now.
        change: (i64, SyncPoint),
    },
    Object {
        collection: &'a Collection,
        object: &'a CalendarObject,
    },
}

fn name(ns: &str, local: &str) -> Name {
    Name::new(ns, local)
}

/// What each role may do, as WebDAV privileges (RFC 3744).
fn privileges(role: Option<Role>) -> Vec<Name> {
    let mut names = vec![
        name(DAV, "read"),
        name(DAV, "read-current-user-privilege-set"),
    ];
    match role {
        Some(Role::Viewer) => {}
        Some(Role::Editor) => names.extend([
            name(DAV, "write"),
            name(DAV, "write-content"),
            name(DAV, "bind"),
            name(DAV, "unbind"),
        ]),
        Some(Role::Owner) | None => names.extend([
            name(DAV, "write"),
            name(DAV, "write-content"),
            name(DAV, "write-properties"),
            name(DAV, "bind"),
            name(DAV, "unbind"),
        ]),
    }
    names
}

impl Resource<'_> {
    fn href(&self, request: &Request<'_>) -> String {
        let dav = request.dav;
        match self {
            Self::Root => "/dav/".to_owned(),
            Self::Principal => dav.principal(),
            Self::Home => dav.home(),
            Self::Calendar { collection, .. } => dav.collection(collection),
            Self::Object { collection, object } => dav.object(collection, &object.name),
        }
    }

    /// The properties `allprop` gives, by name.
    fn live(&self) -> Vec<Name> {
        let mut names = vec![
            name(DAV, "resourcetype"),
            name(DAV, "current-user-principal"),
            name(DAV, "current-user-privilege-set"),
        ];
        match self {
            Self::Root => {}
            Self::Principal => names.extend([
                name(DAV, "displayname"),
                name(DAV, "principal-URL"),
                name(CALDAV, "calendar-home-set"),
            ]),
            Self::Home => names.extend([name(DAV, "displayname"), name(DAV, "owner")]),
            Self::Calendar { collection, .. } => {
                names.extend([
                    name(DAV, "displayname"),
                    name(DAV, "owner"),
                    name(CALDAV, "supported-calendar-component-set"),
                    name(CALDAV, "max-resource-size"),
                    name(DAV, "supported-report-set"),
                    name(CALENDARSERVER, "getctag"),
                    name(DAV, "sync-token"),
                ]);
                if collection.color.is_some() {
                    names.push(name(APPLE, "calendar-color"));
                }
                if collection.order.is_some() {
                    names.push(name(APPLE, "calendar-order"));
                }
            }
            Self::Object { .. } => names.extend([
                name(DAV, "getetag"),
                name(DAV, "getcontenttype"),
                name(DAV, "getlastmodified"),
            ]),
        }
        names
    }

    /// The value of one property, `None` where this resource has none.
    fn value(&self, request: &Request<'_>, wanted: &Name) -> Option<Value> {
        let dav = request.dav;
        let (ns, local) = (wanted.ns.as_str(), wanted.local.as_str());
        let value = match (ns, local) {
            (DAV, "current-user-principal") => Value::Href(dav.principal()),
            (DAV, "principal-URL") if matches!(self, Self::Principal) => {
                Value::Href(dav.principal())
            }
            (CALDAV, "calendar-home-set") if matches!(self, Self::Principal) => {
                Value::Href(dav.home())
            }
            (DAV, "resourcetype") => Value::Elements(match self {
                Self::Root | Self::Home => vec![name(DAV, "collection")],
                Self::Principal => vec![name(DAV, "collection"), name(DAV, "principal")],
                Self::Calendar { .. } => vec![name(DAV, "collection"), name(CALDAV, "calendar")],
                Self::Object { .. } => Vec::new(),
            }),
            (DAV, "current-user-privilege-set") => Value::Privileges(privileges(match self {
                Self::Calendar { collection, .. } | Self::Object { collection, .. } => {
                    Some(collection.list.role)
                }
                _ => None,
            })),
            (DAV, "displayname") => match self {
                Self::Principal | Self::Home => Value::Text(dav.user.clone()),
                Self::Calendar { collection, .. } => {
                    Value::Text(collection.list.name.as_str().to_owned())
                }
                _ => return None,
            },
            (DAV, "owner") => match self {
                Self::Home => Value::Href(dav.principal()),
                Self::Calendar { collection, .. } => Value::Href(dav.owner_principal(collection)),
                _ => return None,
            },
            (CALDAV, "supported-calendar-component-set") if self.is_calendar() => {
                Value::Components(vec!["VTODO"])
            }
            (CALDAV, "max-resource-size") if self.is_calendar() => {
                Value::Text(vtodo::MAX_OBJECT_BYTES.to_string())
            }
            (DAV, "supported-report-set") if self.is_calendar() => Value::Reports(vec![
                name(CALDAV, "calendar-query"),
                name(CALDAV, "calendar-multiget"),
                name(DAV, "sync-collection"),
            ]),
            (CALENDARSERVER, "getctag") => match self {
                Self::Calendar { change, .. } => Value::Text(sync_token(&SyncPoint {
                    from: change.0,
                    running: Vec::new(),
                })),
                _ => return None,
            },
            (DAV, "sync-token") => match self {
                Self::Calendar { change, .. } => Value::Text(sync_token(&change.1)),
                _ => return None,
            },
            (APPLE, "calendar-color") => match self {
                Self::Calendar { collection, .. } => Value::Text(collection.color.clone()?),
                _ => return None,
            },
            (APPLE, "calendar-order") => match self {
                Self::Calendar { collection, .. } => Value::Text(collection.order?.to_string()),
                _ => return None,
            },
            (DAV, "getetag") => match self {
                Self::Object { object, .. } => Value::Text(object.etag()),
                _ => return None,
            },
            (DAV, "getcontenttype") => match self {
                Self::Object { .. } => {
                    Value::Text("text/calendar; charset=utf-8; component=VTODO".to_owned())
                }
                _ => return None,
            },
            (DAV, "getlastmodified") => match self {
                Self::Object { object, .. } => Value::Text(
                    object
                        .task
                        .updated_at
                        .format("%a, %d %b %Y %H:%M:%S GMT")
                        .to_string(),
                ),
                _ => return None,
            },
            (CALDAV, "calendar-data") => match self {
                Self::Object { object, .. } => Value::Text(object.vtodo()),
                _ => return None,
            },
            _ => return None,
        };
        Some(value)
    }

    fn is_calendar(&self) -> bool {
        matches!(self, Self::Calendar { .. })
    }

    /// The `<response>` of this resource for `wanted`.
    pub fn response(&self, request: &Request<'_>, wanted: &Wanted) -> xml::Response {
        let href = self.href(request);
        match wanted {
            Wanted::Names => xml::Response::with_props(
                href,
                self.live().into_iter().map(|n| (n, Value::Empty)).collect(),
                Vec::new(),
            ),
            Wanted::All => {
                let found = self
                    .live()
                    .into_iter()
                    .filter_map(|n| self.value(request, &n).map(|v| (n, v)))
                    .collect();
                xml::Response::with_props(href, found, Vec::new())
            }
            Wanted::Props(names) => {
                let mut found = Vec::new();
                let mut missing = Vec::new();
                for n in names {
                    match self.value(request, n) {
                        Some(v) => found.push((n.clone(), v)),
                        None => missing.push(n.clone()),
                    }
                }
                xml::Response::with_props(href, found, missing)
            }
        }
    }
}

pub(super) fn multistatus(responses: &[xml::Response], sync_token: Option<&str>) -> Response {
    let mut response = (
        StatusCode::MULTI_STATUS,
        Body::from(xml::multistatus(responses, sync_token)),
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    response
}

pub(super) async fn propfind(request: &Request<'_>) -> Result<Response, DavError> {
    let body = xml::parse(request.body).map_err(ApiError::BadRequest)?;
    if let Some(root) = &body
        && !root.is(DAV, "propfind")
    {
        return Err(
            ApiError::BadRequest("a PROPFIND body is a DAV:propfind element".to_owned()).into(),
        );
    }
    let wanted = Wanted::of(body.as_ref());
    let depth = request.depth(0);
    let store = &request.state.store;
    let owner = request.dav.owner;
    let mut responses = Vec::new();
    match request.target {
        Target::Root => {
            responses.push(Resource::Root.response(request, &wanted));
            if depth > 0 {
                responses.push(Resource::Principal.response(request, &wanted));
            }
        }
        Target::Principal(_) => responses.push(Resource::Principal.response(request, &wanted)),
        Target::Home(_) => {
            responses.push(Resource::Home.response(request, &wanted));
            if depth > 0 {
                for collection in store.calendar_collections(owner).await? {
                    let change = store.collection_change(collection.list.id).await?;
                    let resource = Resource::Calendar {
                        collection: &collection,
                        change,
                    };
                    responses.push(resource.response(request, &wanted));
                }
            }
        }
        Target::Calendar(_, segment) => {
            let collection = request.collection(segment).await?;
            let change = store.collection_change(collection.list.id).await?;
            responses.push(
                Resource::Calendar {
                    collection: &collection,
                    change,
                }
                .response(request, &wanted),
            );
            if depth > 0 {
                // Every task: written as the client reads it.
                return Ok(stream::multistatus(
                    request,
                    collection,
                    responses,
                    stream::Members::All(None),
                    wanted,
                ));
            }
        }
        Target::Object(_, segment, name) => {
            let collection = request.collection(segment).await?;
            let object = store
                .calendar_object(collection.list.id, name)
                .await?
                .ok_or_else(|| super::no_object(name))?;
            responses.push(
                Resource::Object {
                    collection: &collection,
                    object: &object,
                }
                .response(request, &wanted),
            );
        }
    }
    Ok(multistatus(&responses, None))
}

/// A property a PROPPATCH, MKCALENDAR or extended MKCOL sets (`Some`) or
/// removes (`None`).
pub(super) type Setting = (Name, Option<Element>);

/// The settings of a `propertyupdate`, `mkcalendar` or `mkcol` body, in
/// order.
pub(super) fn requested_settings(body: Option<&Element>) -> Vec<Setting> {
    let mut settings = Vec::new();
    let Some(body) = body else {
        return settings;
    };
    for action in &body.children {
        let set = action.is(DAV, "set");
        if !set && !action.is(DAV, "remove") {
            continue;
        }
        for prop in action.children_named(DAV, "prop") {
            for property in &prop.children {
                if let Some(n) = &property.name {
                    settings.push((n.clone(), set.then(|| property.clone())));
                }
            }
        }
    }
    settings
}

/// Whether we keep this property when a client sets it.
fn settable(n: &Name) -> bool {
    n.is(DAV, "displayname") || n.is(APPLE, "calendar-color") || n.is(APPLE, "calendar-order")
}

/// Applies the settings we keep to `collection`, ignoring the others
/// (MKCALENDAR's time zone, component set and description describe a
/// calendar of tasks that needs none of them).
pub(super) async fn apply_settings(
    request: &Request<'_>,
    collection: &Collection,
    settings: &[Setting],
) -> Result<(), DavError> {
    let store = &request.state.store;
    let owner = request.dav.owner;
    let mut color: Option<Option<String>> = None;
    let mut order: Option<Option<i64>> = None;
    for (n, value) in settings {
        let text = value.as_ref().map(|v| v.text.trim().to_owned());
        if n.is(DAV, "displayname") {
            let Some(text) = text else { continue };
            let list_name = ListName::parse(&text).map_err(ApiError::from)?;
            if list_name != collection.list.name {
                store
                    .update_list(owner, collection.list.id, Some(&list_name), None)
                    .await?;
            }
        } else if n.is(APPLE, "calendar-color") {
            if let Some(text) = &text
                && !is_color(text)
            {
                return Err(ApiError::BadRequest(format!(
                    "calendar-color {text:?} is not a colour like #RRGGBB or #RRGGBBAA"
                ))
                .into());
            }
            color = Some(text);
        } else if n.is(APPLE, "calendar-order") {
            let parsed = match text {
                None => None,
                Some(text) => Some(text.parse::<i64>().map_err(|_| {
                    ApiError::BadRequest(format!("calendar-order {text:?} is not a whole number"))
                })?),
            };
            order = Some(parsed);
        }
    }
    if color.is_some() || order.is_some() {
        store
            .set_calendar_appearance(
                owner,
                collection.list.id,
                color.as_ref().map(|c| c.as_deref()),
                order,
            )
            .await?;
    }
    Ok(())
}

fn is_color(text: &str) -> bool {
    text.strip_prefix('#')
        .is_some_and(|hex| matches!(hex.len(), 6 | 8) && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

/// PROPPATCH on a calendar: all or nothing (RFC 4918 9.2). A property we
/// do not keep, or any property for a caller who is not the list's owner,
/// fails with 403 and the others with 424, and nothing changes.
pub(super) async fn proppatch(request: &Request<'_>) -> Result<Response, DavError> {
    let Target::Calendar(_, segment) = request.target else {
        return Err(ApiError::Forbidden(
            "only a calendar's displayname, calendar-color and calendar-order can be set"
                .to_owned(),
        )
        .into());
    };
    let collection = request.collection(segment).await?;
    let body = xml::parse(request.body).map_err(ApiError::BadRequest)?;
    if !body.as_ref().is_some_and(|b| b.is(DAV, "propertyupdate")) {
        return Err(ApiError::BadRequest(
            "a PROPPATCH body is a DAV:propertyupdate element".to_owned(),
        )
        .into());
    }
    let settings = requested_settings(body.as_ref());
    let href = request.dav.collection(&collection);
    // Only the owner may change a calendar's properties (a member's
    // privileges lack DAV:write-properties): each property says 403.
    let may_write = collection.list.role == Role::Owner;
    let settable = |n: &Name| may_write && settable(n);
    let refused: Vec<&Name> = settings
        .iter()
        .map(|(n, _)| n)
        .filter(|n| !settable(n))
        .collect();
    let response = if refused.is_empty() {
        apply_settings(request, &collection, &settings).await?;
        xml::Response {
            href,
            outcome: xml::Outcome::Props(vec![xml::PropStat {
                status: StatusCode::OK,
                props: settings
                    .iter()
                    .map(|(n, _)| (n.clone(), Value::Empty))
                    .collect(),
            }]),
        }
    } else {
        let (bad, good): (Vec<&Setting>, Vec<&Setting>) =
            settings.iter().partition(|(n, _)| !settable(n));
        let mut propstats = vec![xml::PropStat {
            status: StatusCode::FORBIDDEN,
            props: bad.iter().map(|(n, _)| (n.clone(), Value::Empty)).collect(),
        }];
        if !good.is_empty() {
            propstats.push(xml::PropStat {
                status: StatusCode::FAILED_DEPENDENCY,
                props: good
                    .iter()
                    .map(|(n, _)| (n.clone(), Value::Empty))
                    .collect(),
            });
        }
        xml::Response {
            href,
            outcome: xml::Outcome::Props(propstats),
        }
    };
    Ok(multistatus(&[response], None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_hex() {
        assert!(is_color("#FF2968FF"));
        assert!(is_color("#a0b1c2"));
        assert!(!is_color("red"));
        assert!(!is_color("#12345"));
    }

    #[test]
    fn viewers_may_only_read() {
        assert_eq!(privileges(Some(Role::Viewer)).len(), 2);
        assert!(privileges(Some(Role::Editor)).contains(&name(DAV, "write-content")));
        assert!(!privileges(Some(Role::Editor)).contains(&name(DAV, "write-properties")));
    }

    #[test]
    fn settings_are_read_from_set_and_remove() {
        let body = xml::parse(
            br#"<d:propertyupdate xmlns:d="DAV:" xmlns:a="http://apple.com/ns/ical/"><d:set><d:prop><d:displayname>Home</d:displayname></d:prop></d:set><d:remove><d:prop><a:calendar-color/></d:prop></d:remove></d:propertyupdate>"#,
        )
        .unwrap();
        let settings = requested_settings(body.as_ref());
        assert_eq!(settings.len(), 2);
        assert_eq!(settings[0].1.as_ref().unwrap().text, "Home");
        assert!(settings[1].0.is(APPLE, "calendar-color") && settings[1].1.is_none());
    }
}
