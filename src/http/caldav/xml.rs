//! WebDAV's XML: request bodies read into a small tree with namespaces
//! resolved (`quick-xml`'s `NsReader`), and the multistatus and error
//! bodies written with its `Writer`, so every name and text is escaped by
//! the library, never by hand.

use std::io::Cursor;

use axum::http::StatusCode;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

pub const DAV: &str = "DAV:";
pub const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
pub const CALENDARSERVER: &str = "http://calendarserver.org/ns/";
pub const APPLE: &str = "http://apple.com/ns/ical/";
/// Our own, for the words of an error.
pub const TODO_APP: &str = "urn:x-todo-app";

/// The prefixes answers declare once, on their root.
const PREFIXES: [(&str, &str); 5] = [
    (DAV, "d"),
    (CALDAV, "c"),
    (CALENDARSERVER, "cs"),
    (APPLE, "ical"),
    (TODO_APP, "t"),
];

/// Nesting and size a request body may have: enough for any real
/// request, far from what could hurt.
const MAX_DEPTH: usize = 32;
const MAX_ELEMENTS: usize = 20_000;

/// A namespaced element name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name {
    pub ns: String,
    pub local: String,
}

impl Name {
    pub fn new(ns: &str, local: &str) -> Self {
        Self {
            ns: ns.to_owned(),
            local: local.to_owned(),
        }
    }

    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local == local
    }
}

/// An element of a request body.
#[derive(Debug, Clone, Default)]
pub struct Element {
    pub name: Option<Name>,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.name.as_ref().is_some_and(|n| n.is(ns, local))
    }

    /// The first child named so.
    pub fn child(&self, ns: &str, local: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, local))
    }

    /// Every child named so.
    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(ns, local))
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The names of the children: a `<prop>`'s properties.
    pub fn child_names(&self) -> Vec<Name> {
        self.children
            .iter()
            .filter_map(|c| c.name.clone())
            .collect()
    }
}

/// Reads a request body; `None` when it is empty (WebDAV then means the
/// default, e.g. `allprop` for PROPFIND).
pub fn parse(body: &[u8]) -> Result<Option<Element>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let mut reader = NsReader::from_reader(body);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0;
    let mut buf = Vec::new();
    loop {
        let (ns, event) = reader
            .read_resolved_event_into(&mut buf)
            .map_err(|err| format!("the body is not well-formed XML: {err}"))?;
        let ns = match ns {
            ResolveResult::Bound(ns) => ns.as_ref().to_owned(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(prefix) => {
                return Err(format!(
                    "the body uses the undeclared namespace prefix {prefix:?}"
                ));
            }
        };
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(start) | Event::Empty(start) => {
                count += 1;
                if count > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                    return Err("the body is too large or too deeply nested".to_owned());
                }
                let local = start.local_name().as_ref().to_owned();
                let mut element = Element {
                    name: Some(Name { ns, local }),
                    ..Element::default()
                };
                for attribute in start.attributes() {
                    let attribute = attribute.map_err(|err| format!("a bad attribute: {err}"))?;
                    let key = attribute.key.local_name().as_ref().to_owned();
                    let value = attribute
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|err| format!("a bad attribute value: {err}"))?
                        .into_owned();
                    element.attributes.push((key, value));
                }
                if empty {
                    close(&mut stack, &mut root, element)?;
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or("an end tag without a start")?;
                close(&mut stack, &mut root, element)?;
            }
            Event::Text(text) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&text.xml10_content());
                }
            }
            Event::CData(data) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&data.xml10_content());
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => quick_xml::escape::resolve_predefined_entity(&reference)
                        .map(str::to_owned)
                        .ok_or_else(|| {
                            format!("the body uses an unknown entity &{};", &*reference)
                        })?,
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            Event::DocType(_) => return Err("a DOCTYPE is not accepted".to_owned()),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err("the body ends inside an element".to_owned());
    }
    root.map(Some)
        .ok_or_else(|| "the body holds no element".to_owned())
}

fn close(
    stack: &mut [Element],
    root: &mut Option<Element>,
    element: Element,
) -> Result<(), String> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None if root.is_none() => *root = Some(element),
        None => return Err("the body holds more than one root element".to_owned()),
    }
    Ok(())
}

/// A property's value in an answer.
#[derive(Debug, Clone)]
pub enum Value {
    /// Present, with no content (or the name alone, in a 404 propstat).
    Empty,
    Text(String),
    Href(String),
    /// Child elements with no content: a resourcetype, a component set.
    Elements(Vec<Name>),
    /// `<privilege><read/></privilege>…`
    Privileges(Vec<Name>),
    /// `<c:comp name="VTODO"/>…`
    Components(Vec<&'static str>),
    /// `<supported-report><report><name/></report></supported-report>…`
    Reports(Vec<Name>),
}

#[derive(Debug, Clone)]
pub struct PropStat {
    pub status: StatusCode,
    pub props: Vec<(Name, Value)>,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    /// The resource's properties, by status.
    Props(Vec<PropStat>),
    /// A status for the whole resource (a sync tombstone's 404).
    Status(StatusCode),
}

#[derive(Debug, Clone)]
pub struct Response {
    pub href: String,
    pub outcome: Outcome,
}

impl Response {
    /// Found properties under 200, missing ones under 404; a status with
    /// no property is left out.
    pub fn with_props(href: String, found: Vec<(Name, Value)>, missing: Vec<Name>) -> Self {
        let mut propstats = Vec::new();
        if !found.is_empty() || missing.is_empty() {
            propstats.push(PropStat {
                status: StatusCode::OK,
                props: found,
            });
        }
        if !missing.is_empty() {
            propstats.push(PropStat {
                status: StatusCode::NOT_FOUND,
                props: missing.into_iter().map(|n| (n, Value::Empty)).collect(),
            });
        }
        Self {
            href,
            outcome: Outcome::Props(propstats),
        }
    }
}

/// A 207 Multi-Status body.
pub fn multistatus(responses: &[Response], sync_token: Option<&str>) -> Vec<u8> {
    document(|w| {
        root(w, DAV, "multistatus", |w| {
            for response in responses {
                write_response(w, response)?;
            }
            if let Some(token) = sync_token {
                text_element(w, DAV, "sync-token", token)?;
            }
            Ok(())
        })
    })
}

/// A 207 Multi-Status body in parts, for an answer written as it is made:
/// what comes before the responses (the declaration and the root's start,
/// declaring every prefix), and what comes after them.
pub fn multistatus_frame(sync_token: Option<&str>) -> (Vec<u8>, Vec<u8>) {
    let mut whole = multistatus(&[], sync_token);
    let close = whole
        .windows(b"<d:multistatus".len())
        .position(|w| w == b"<d:multistatus")
        .and_then(|start| {
            whole[start..]
                .iter()
                .position(|b| *b == b'>')
                .map(|end| start + end + 1)
        })
        .expect("a multistatus document has a root");
    let after = whole.split_off(close);
    (whole, after)
}

/// `<response>` elements, to go between the parts of [`multistatus_frame`].
pub fn responses(responses: &[Response]) -> Vec<u8> {
    let mut writer = Writer::new(Cursor::new(Vec::new()));
    let written = responses
        .iter()
        .try_for_each(|response| write_response(&mut writer, response));
    // Writing to memory cannot fail.
    debug_assert!(written.is_ok());
    writer.into_inner().into_inner()
}

fn write_response(w: &mut W, response: &Response) -> std::io::Result<()> {
    element(w, DAV, "response", |w| {
        text_element(w, DAV, "href", &response.href)?;
        match &response.outcome {
            Outcome::Status(status) => text_element(w, DAV, "status", &status_line(*status)),
            Outcome::Props(propstats) => {
                for propstat in propstats {
                    element(w, DAV, "propstat", |w| {
                        element(w, DAV, "prop", |w| {
                            for (name, value) in &propstat.props {
                                write_value(w, name, value)?;
                            }
                            Ok(())
                        })?;
                        text_element(w, DAV, "status", &status_line(propstat.status))
                    })?;
                }
                Ok(())
            }
        }
    })
}

/// A `DAV:error` body naming the precondition that failed (RFC 4918
/// 16), with our words for people alongside.
pub fn error(ns: &str, precondition: &str, message: &str) -> Vec<u8> {
    document(|w| {
        root(w, DAV, "error", |w| {
            element(w, ns, precondition, |_| Ok(()))?;
            text_element(w, TODO_APP, "message", message)
        })
    })
}

type W = Writer<Cursor<Vec<u8>>>;

fn document(body: impl FnOnce(&mut W) -> std::io::Result<()>) -> Vec<u8> {
    let mut writer = Writer::new(Cursor::new(Vec::new()));
    let written = writer
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))
        .and_then(|()| body(&mut writer));
    // Writing to memory cannot fail.
    debug_assert!(written.is_ok());
    writer.into_inner().into_inner()
}

fn prefix(ns: &str) -> Option<&'static str> {
    PREFIXES.iter().find(|(n, _)| *n == ns).map(|(_, p)| *p)
}

/// The root element, declaring every prefix.
fn root(
    w: &mut W,
    ns: &str,
    local: &str,
    inner: impl FnOnce(&mut W) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let name = format!("{}:{local}", prefix(ns).unwrap_or("d"));
    let declarations: Vec<(String, &str)> = PREFIXES
        .iter()
        .map(|(ns, p)| (format!("xmlns:{p}"), *ns))
        .collect();
    w.create_element(name.as_str())
        .with_attributes(declarations.iter().map(|(k, v)| (k.as_str(), *v)))
        .write_inner_content(inner)?;
    Ok(())
}

/// An element in `ns`: with our prefix for the namespaces we know, and a
/// default namespace declaration for any other (a client's own property).
fn element(
    w: &mut W,
    ns: &str,
    local: &str,
    inner: impl FnOnce(&mut W) -> std::io::Result<()>,
) -> std::io::Result<()> {
    start(w, ns, local, Some(inner))
}

fn start<F: FnOnce(&mut W) -> std::io::Result<()>>(
    w: &mut W,
    ns: &str,
    local: &str,
    inner: Option<F>,
) -> std::io::Result<()> {
    let (name, declare) = match prefix(ns) {
        Some(p) => (format!("{p}:{local}"), None),
        None => (local.to_owned(), Some(ns)),
    };
    let mut builder = w.create_element(name.as_str());
    if let Some(ns) = declare {
        builder = builder.with_attribute(("xmlns", ns));
    }
    match inner {
        Some(inner) => builder.write_inner_content(inner)?,
        None => builder.write_empty()?,
    };
    Ok(())
}

fn empty(w: &mut W, ns: &str, local: &str) -> std::io::Result<()> {
    start::<fn(&mut W) -> std::io::Result<()>>(w, ns, local, None)
}

fn text_element(w: &mut W, ns: &str, local: &str, text: &str) -> std::io::Result<()> {
    element(w, ns, local, |w| {
        w.write_event(Event::Text(BytesText::new(text)))?;
        Ok(())
    })
}

fn write_value(w: &mut W, name: &Name, value: &Value) -> std::io::Result<()> {
    let (ns, local) = (name.ns.as_str(), name.local.as_str());
    match value {
        Value::Empty => empty(w, ns, local),
        Value::Text(text) => text_element(w, ns, local, text),
        Value::Href(href) => element(w, ns, local, |w| text_element(w, DAV, "href", href)),
        Value::Elements(names) => element(w, ns, local, |w| {
            names.iter().try_for_each(|n| empty(w, &n.ns, &n.local))
        }),
        Value::Privileges(names) => element(w, ns, local, |w| {
            names
                .iter()
                .try_for_each(|n| element(w, DAV, "privilege", |w| empty(w, &n.ns, &n.local)))
        }),
        Value::Components(components) => element(w, ns, local, |w| {
            components.iter().try_for_each(|c| {
                w.create_element("c:comp")
                    .with_attribute(("name", *c))
                    .write_empty()
                    .map(|_| ())
            })
        }),
        Value::Reports(names) => element(w, ns, local, |w| {
            names.iter().try_for_each(|n| {
                element(w, DAV, "supported-report", |w| {
                    element(w, DAV, "report", |w| empty(w, &n.ns, &n.local))
                })
            })
        }),
    }
}

fn status_line(status: StatusCode) -> String {
    format!(
        "HTTP/1.1 {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multistatus_in_parts_is_the_same_document() {
        let answers = vec![
            Response {
                href: "/dav/a.ics".to_owned(),
                outcome: Outcome::Status(StatusCode::NOT_FOUND),
            },
            Response::with_props(
                "/dav/b.ics".to_owned(),
                vec![(Name::new(DAV, "getetag"), Value::Text("\"3\"".to_owned()))],
                vec![Name::new("urn:mine", "other")],
            ),
        ];
        for token in [None, Some("urn:x:1")] {
            let (head, tail) = multistatus_frame(token);
            let mut parts = head;
            parts.extend(responses(&answers[..1]));
            parts.extend(responses(&answers[1..]));
            parts.extend(tail);
            assert_eq!(
                String::from_utf8(parts).unwrap(),
                String::from_utf8(multistatus(&answers, token)).unwrap()
            );
        }
    }

    #[test]
    fn namespaces_are_resolved_whatever_the_prefix() {
        let body = br#"<?xml version="1.0"?><x:propfind xmlns:x="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><x:prop><x:displayname/><C:calendar-home-set/><y:other xmlns:y="urn:mine"/></x:prop></x:propfind>"#;
        let root = parse(body).unwrap().unwrap();
        assert!(root.is(DAV, "propfind"));
        let names = root.child(DAV, "prop").unwrap().child_names();
        assert_eq!(
            names,
            vec![
                Name::new(DAV, "displayname"),
                Name::new(CALDAV, "calendar-home-set"),
                Name::new("urn:mine", "other")
            ]
        );
    }

    #[test]
    fn text_comes_unescaped_and_bad_bodies_are_refused() {
        let root = parse(b"<a xmlns=\"DAV:\"><href>/x?a=1&amp;b=&#50;</href></a>")
            .unwrap()
            .unwrap();
        assert_eq!(root.child(DAV, "href").unwrap().text, "/x?a=1&b=2");
        assert!(parse(b"<a><b></a>").is_err());
        assert!(parse(b"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>").is_err());
        assert!(parse(b"<p:a/>").is_err());
        assert!(parse(b"  ").unwrap().is_none());
    }

    #[test]
    fn answers_escape_what_they_carry() {
        let body = multistatus(
            &[Response::with_props(
                "/dav/a&b/".to_owned(),
                vec![(
                    Name::new(DAV, "displayname"),
                    Value::Text("<Home & co>".to_owned()),
                )],
                vec![Name::new("urn:mine", "other")],
            )],
            Some("urn:x-todo-app:sync:4"),
        );
        let text = String::from_utf8(body.clone()).unwrap();
        assert!(text.contains("<d:href>/dav/a&amp;b/</d:href>"), "{text}");
        assert!(text.contains("&lt;Home &amp; co&gt;"), "{text}");
        assert!(text.contains("<other xmlns=\"urn:mine\"/>"), "{text}");
        assert!(text.contains("HTTP/1.1 404 Not Found"), "{text}");
        // And it reads back.
        let root = parse(&body).unwrap().unwrap();
        assert!(root.is(DAV, "multistatus"));
    }
}
