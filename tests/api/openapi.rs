//! The OpenAPI document against the running server, in both directions.
//!
//! The document is derived from the code (`todo_app::http::openapi`), but
//! derivation only sees types and annotations: which statuses middleware
//! produces, what the domain's rules accept and which routes exist are the
//! server's business. These tests keep the two honest. They
//! check that:
//!
//! - every documented path and method is routed, every other method on those
//!   paths gets 405, and every route in the source is documented;
//! - a realistic request for every status code the document lists really
//!   produces it (so the document promises nothing the server never does),
//!   and every response of the API is listed, has a body that validates
//!   against the documented schema, and carries the documented headers;
//! - the values the domain defines (priority names, sort orders, limits)
//!   are the ones the document names (derive attributes take literals), and
//!   the document's examples are real: the error example is a real answer
//!   word for word, and the request examples are accepted.
//!
//! Schemas are checked with JSON Schema 2020-12, which is what OpenAPI 3.1
//! uses, so no translation from OpenAPI's dialect is needed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use todo_app::domain::{
    DueTime, MAX_IMPORTED, MAX_SAFE_INTEGER, Priority, SortOrder, TaskFilter, Title,
};
use todo_app::export::{EXPORT_FORMAT, FORMAT_VERSION};
use todo_app::json::whole_number;

use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(
    document_is_served_as_built,
    documented_operations_are_routed_and_nothing_else,
    every_documented_response_is_real_and_conforms,
);

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

fn document() -> Value {
    serde_json::from_str(todo_app::http::openapi::json()).expect("the document is not valid JSON")
}

/// Compiles `schema` (inline, or a `$ref` into the document) as a JSON
/// Schema 2020-12 whose root also carries the document's `components`, so
/// `#/components/...` references resolve.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = match schema {
        Value::Object(map) => map.clone(),
        // `true` and `false` are schemas too.
        other => json!({ "allOf": [other] }).as_object().unwrap().clone(),
    };
    root.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    root.insert("components".into(), doc["components"].clone());
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&Value::Object(root))
        .unwrap_or_else(|e| panic!("schema {schema} does not compile: {e}"))
}

fn validation_errors(doc: &Value, schema: &Value, instance: &Value) -> Vec<String> {
    validator(doc, schema)
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Follows `$ref`s (only local ones exist) to the object they name.
fn resolve<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    while let Some(reference) = value.get("$ref").and_then(Value::as_str) {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("only local references are expected, not {reference}"));
        value = doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{reference} points at nothing"));
    }
    value
}

/// Every (path, method) the document describes.
fn operations(doc: &Value) -> Vec<(String, Method)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method.to_ascii_lowercase()).is_some() {
                ops.push((path.clone(), method.parse().unwrap()));
            }
        }
    }
    ops
}

/// One response as seen by the test, after it was checked.
struct Seen {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

/// Sends requests, checks each response against the document and records
/// which documented responses were produced.
struct Contract {
    doc: Value,
    seen: Mutex<BTreeSet<(String, String, u16)>>,
}

impl Contract {
    fn new(doc: Value) -> Self {
        Self {
            doc,
            seen: Mutex::new(BTreeSet::new()),
        }
    }

    /// Sends `request` and checks the answer against the operation at
    /// `template` (e.g. `/api/todos/{id}`) with the request's method.
    async fn send(&self, template: &str, request: RequestBuilder) -> Seen {
        // Each request goes out through the client that built it (signed in
        // or not), with that client's default headers.
        let (client, request) = request.build_split();
        let request = request.unwrap();
        let method = request.method().clone();
        let what = format!("{method} {}", request.url());
        let response = client.execute(request).await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();

        let operation = self.doc["paths"][template]
            .get(method.as_str().to_ascii_lowercase())
            .unwrap_or_else(|| panic!("{method} {template} is not documented"));
        let spec = operation["responses"]
            .get(status.to_string())
            .or_else(|| operation["responses"].get("default"))
            .map(|r| resolve(&self.doc, r))
            .unwrap_or_else(|| {
                panic!(
                    "{what} answered {status}, which {method} {template} does not list: {}",
                    String::from_utf8_lossy(&bytes)
                )
            });

        for (name, header) in spec
            .get("headers")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let header = resolve(&self.doc, header);
            match headers.get(name.as_str()) {
                Some(value) => {
                    let value = json!(value.to_str().expect("ASCII header"));
                    let errors = validation_errors(&self.doc, &header["schema"], &value);
                    assert!(
                        errors.is_empty(),
                        "{what} ({status}): header {name}: {value} does not match: {errors:?}"
                    );
                }
                None if header["required"] == true => {
                    panic!("{what} ({status}) lacks the documented {name} header")
                }
                None => {}
            }
        }

        let body = match spec.get("content") {
            Some(content) => {
                let content_type = headers
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let essence = content_type.split(';').next().unwrap_or_default().trim();
                let media = content.get(essence).unwrap_or_else(|| {
                    panic!("{what} ({status}) is {content_type:?}, which is not documented")
                });
                // Pages (the API reference) are checked as strings.
                let body: Value = if essence == "text/html" {
                    Value::String(String::from_utf8(bytes.to_vec()).unwrap_or_else(|e| {
                        panic!("{what} ({status}): the page is not UTF-8: {e}")
                    }))
                } else {
                    serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                        panic!("{what} ({status}): body is not JSON ({e}): {bytes:?}")
                    })
                };
                let errors = validation_errors(&self.doc, &media["schema"], &body);
                assert!(
                    errors.is_empty(),
                    "{what} ({status}): the body does not match the document:\n{}\n{body:#}",
                    errors.join("\n")
                );
                body
            }
            None => {
                assert!(
                    bytes.is_empty(),
                    "{what} ({status}) has a body, but the document promises none: {bytes:?}"
                );
                Value::Null
            }
        };

        self.seen
            .lock()
            .unwrap()
            .insert((template.to_owned(), method.to_string(), status));
        Seen {
            status,
            headers,
            body,
        }
    }

    /// Like `send`, and insists on one status.
    async fn expect(&self, status: u16, template: &str, request: RequestBuilder) -> Seen {
        let seen = self.send(template, request).await;
        assert_eq!(seen.status, status, "{template}: {}", seen.body);
        seen
    }

    /// Every documented (path, method, status) that no request produced.
    fn never_seen(&self) -> Vec<String> {
        let seen = self.seen.lock().unwrap();
        let mut missing = Vec::new();
        for (path, method) in operations(&self.doc) {
            let op = &self.doc["paths"][&path][method.as_str().to_ascii_lowercase()];
            for status in op["responses"].as_object().unwrap().keys() {
                let Ok(code) = status.parse::<u16>() else {
                    continue;
                };
                if !seen.contains(&(path.clone(), method.to_string(), code)) {
                    missing.push(format!("{method} {path} {status}"));
                }
            }
        }
        missing
    }
}

#[test]
fn document_is_well_formed() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));

    // Every reference resolves.
    fn walk(value: &Value, refs: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    refs.push(r.clone());
                }
                map.values().for_each(|v| walk(v, refs));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
            _ => {}
        }
    }
    let mut refs = Vec::new();
    walk(&doc, &mut refs);
    assert!(refs.len() > 20, "the document uses references");
    for r in refs {
        assert!(
            r.strip_prefix('#').and_then(|p| doc.pointer(p)).is_some(),
            "{r} points at nothing"
        );
    }

    // Every schema compiles, and its examples are valid instances of it.
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        for example in schema["examples"].as_array().into_iter().flatten() {
            let errors = validation_errors(&doc, schema, example);
            assert!(errors.is_empty(), "example {example} of {name}: {errors:?}");
        }
        validator(&doc, schema);
    }

    // Headers the server always sends say so (utoipa's own `Header` cannot,
    // so `http::openapi::responses` adds it): `Contract::send` relies on it
    // to notice a missing one.
    for (name, header) in doc["components"]["headers"].as_object().unwrap() {
        let always = name != "Link";
        assert_eq!(header["required"] == true, always, "header {name}");
    }

    // Formats are checked, not only types.
    let task = json!({"$ref": "#/components/schemas/ExportedTask"});
    let mut example = json!({"id": 1, "title": "x", "priority": 1, "completed": false, "order": 1,
        "due": "2030-02-28", "created_at": "2030-01-01T00:00:00Z", "updated_at": "2030-01-01T00:00:00Z"});
    assert!(validator(&doc, &task).is_valid(&example));
    example["due"] = json!("2030-02-30");
    assert!(
        !validator(&doc, &task).is_valid(&example),
        "dates are checked"
    );

    // Operations are named once and described in words.
    let mut ids = BTreeSet::new();
    for (path, method) in operations(&doc) {
        let op = &doc["paths"][&path][method.as_str().to_ascii_lowercase()];
        let id = op["operationId"].as_str().expect("operationId");
        assert!(ids.insert(id.to_owned()), "operationId {id} twice");
        for key in ["summary", "description"] {
            assert!(op[key].is_string(), "{method} {path} has no {key}");
        }
        for (status, response) in op["responses"].as_object().unwrap() {
            assert!(
                resolve(&doc, response)["description"].is_string(),
                "{method} {path} {status} has no description"
            );
        }
    }
}

/// The values the domain defines are the ones the document names.
#[test]
fn document_names_the_domain_values() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["PriorityName"]["enum"],
        json!(Priority::NAMES),
        "priority names"
    );
    assert_eq!(schemas["PriorityNumber"]["minimum"], 1);
    assert_eq!(schemas["PriorityNumber"]["maximum"], Priority::NAMES.len());
    assert_eq!(schemas["Title"]["maxLength"], Title::MAX_CHARS);
    assert_eq!(schemas["OrderInput"]["maximum"], MAX_SAFE_INTEGER);
    assert_eq!(schemas["OrderInput"]["minimum"], -MAX_SAFE_INTEGER);

    let list = &doc["paths"]["/api/todos"]["get"]["parameters"];
    let param = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("parameter {name}"))["schema"]
            .clone()
    };
    assert_eq!(param("sort")["enum"], json!(SortOrder::NAMES));
    assert_eq!(param("limit")["maximum"], TaskFilter::MAX_LIMIT);
    assert_eq!(param("limit")["default"], TaskFilter::MAX_LIMIT);

    assert_eq!(param("offset")["maximum"], i64::MAX);

    let exported = &schemas["ExportedTask"]["properties"];
    assert_eq!(exported["id"]["maximum"], MAX_IMPORTED);
    assert_eq!(exported["order"]["maximum"], MAX_SAFE_INTEGER);
    assert_eq!(exported["order"]["minimum"], -MAX_SAFE_INTEGER);
    let export = &schemas["ExportDocument"]["properties"];
    assert_eq!(export["format"]["enum"], json!([EXPORT_FORMAT]));
    assert_eq!(export["version"]["minimum"], 1);
    assert_eq!(export["version"]["maximum"], FORMAT_VERSION);

    // What the schemas accept, the server accepts. (They are narrower where
    // the server is lenient: it trims titles and reads priority names in
    // any case, which the descriptions say in words.)
    let priority = validator(&doc, &json!({"$ref": "#/components/schemas/Priority"}));
    for raw in [
        "1", "5", "low", "High", "medium", "urgent", "do-now", "do_now", "donow", "0", "6", "hi",
        "",
    ] {
        if priority.is_valid(&json!(raw)) {
            assert!(Priority::parse(raw).is_ok(), "priority {raw:?}");
        }
    }
    for n in [
        json!(0),
        json!(1),
        json!(5),
        json!(6),
        json!(2.5),
        json!(3.0),
    ] {
        if priority.is_valid(&n) {
            let accepted = whole_number(&n).is_some_and(|n| Priority::from_number(n).is_ok());
            assert!(accepted, "priority {n}");
        }
    }
    let time = validator(&doc, &json!({"$ref": "#/components/schemas/TimeOfDay"}));
    for raw in [
        "00:00", "09:30", "23:59", "24:00", "9:30", "09:60", "09:30:00", "", " 09:30",
    ] {
        let accepted = DueTime::parse(raw).is_ok_and(|t| t.is_some());
        if time.is_valid(&json!(raw)) {
            assert!(accepted, "due_time {raw:?}");
        } else {
            // What the schema refuses, the server refuses too, but for the
            // surrounding whitespace it forgives (as for dates).
            assert!(!accepted || raw != raw.trim(), "due_time {raw:?}");
        }
    }
    let title = validator(&doc, &json!({"$ref": "#/components/schemas/Title"}));
    for raw in ["milk", " milk ", "é", &"x".repeat(Title::MAX_CHARS)] {
        assert!(
            title.is_valid(&json!(raw)) && Title::parse(raw).is_ok(),
            "{raw:?}"
        );
    }
    assert!(!title.is_valid(&json!("x".repeat(Title::MAX_CHARS + 1))));
}

/// Every route the source declares for the API or operations is documented.
/// Routes are found in the source because axum cannot list a router's
/// routes; the probe in `documented_operations_are_routed_and_nothing_else`
/// covers the other direction, and which methods each path has.
#[test]
fn every_route_in_the_source_is_documented() {
    let doc = document();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut routes = BTreeMap::new();
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let file = path.file_name().unwrap().to_string_lossy().into_owned();
                for route in route_literals(&text) {
                    routes.insert(route, file.clone());
                }
            }
        }
    }
    assert!(
        routes.contains_key("/api/todos/{id}") && routes.contains_key("/healthz"),
        "the route scan found the routes: {routes:?}"
    );
    for (route, file) in &routes {
        // The API and the operational endpoints are documented; the web UI
        // (HTML pages and forms) is not part of the API.
        let documented_here = route.starts_with("/api/") || file == "ops.rs" || file == "api.rs";
        if documented_here {
            assert!(
                doc["paths"].get(route).is_some(),
                "{route} (routed in {file}) is missing from the document (`http::openapi::ApiDoc`)"
            );
        }
    }
}

/// The string literals passed to `.route(` in Rust source.
/// The account lists are shared with in the routing test, made once.
async fn routed_member(app: &TestApp) -> String {
    let name = "routed-member";
    let probe = app
        .client
        .get(app.url("/api/account"))
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 200);
    let exists = reqwest::Client::new()
        .post(app.url("/api/tokens"))
        .json(&json!({"username": name, "password": "member passphrase", "name": "x"}))
        .send()
        .await
        .unwrap()
        .status()
        == 201;
    if !exists {
        app.sign_up(name, "member passphrase").await;
    }
    name.to_owned()
}

fn route_literals(text: &str) -> Vec<String> {
    text.match_indices(".route(")
        .filter_map(|(at, call)| {
            let rest = text[at + call.len()..].trim_start();
            let rest = rest.strip_prefix('"')?;
            Some(rest[..rest.find('"')?].to_owned())
        })
        .collect()
}

async fn document_is_served_as_built(app: TestApp) {
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    assert_eq!(response.json::<Value>().await.unwrap(), document());
}

/// Each documented method is routed (a fresh task's id, so a 404 can only
/// mean "no route"), and every other method on a documented path is refused
/// with 405 and an `Allow` header naming exactly the documented methods.
async fn documented_operations_are_routed_and_nothing_else(app: TestApp) {
    // With accounts on, so the account routes exist; signed in by a token.
    let app = TestApp::spawn_signed_in(app.backend()).await.unwrap();
    let doc = document();
    let ops = operations(&doc);
    let paths: BTreeSet<&String> = ops.iter().map(|(p, _)| p).collect();
    for template in paths {
        let documented: BTreeSet<&str> = ops
            .iter()
            .filter(|(p, _)| p == template)
            .map(|(_, m)| m.as_str())
            .collect();
        for method in METHODS {
            let task = app.create_titled("probe").await;
            let mut client = app.client.clone();
            let id = match template.as_str() {
                // A token of the caller's own, so a 404 can only mean "no route".
                "/api/tokens/{id}" => {
                    let token: Value = client
                        .post(app.url("/api/tokens"))
                        .json(&json!({"username": "owner", "password": "owner passphrase", "name": "probe"}))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    token["id"].to_string()
                }
                _ => task["id"].to_string(),
            };
            if template == "/api/account" && method == "DELETE" {
                // Deleting the account must not take the test's own with it.
                // (Only this one: sign-ups from one address are rate limited.)
                let name = format!("probe-{}", uuid::Uuid::new_v4().simple());
                client = crate::helpers::token_client(
                    &app.sign_up_with_token(&name, "probe passphrase").await,
                );
            }
            // A fresh list of the caller's, shared with a member, so a 404
            // on a list route can only mean "no route" too.
            let list: Value = app
                .client
                .post(app.url("/api/lists"))
                .json(&json!({"name": "probe"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let member = routed_member(&app).await;
            let shared = app
                .client
                .post(app.url(&format!("/api/lists/{}/members", list["id"])))
                .json(&json!({"username": member, "role": "editor"}))
                .send()
                .await
                .unwrap();
            assert_eq!(shared.status(), 201);
            let path = template
                .replace("{id}", &id)
                .replace("{list_id}", &list["id"].to_string())
                .replace("{username}", &member);
            let response = client
                .request(method.parse().unwrap(), app.url(&path))
                .header(CONTENT_TYPE, "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            if documented.contains(method) {
                assert!(
                    status != 404 && status != 405,
                    "{method} {template} is documented but answers {status}"
                );
                continue;
            }
            assert_eq!(
                status, 405,
                "{method} {path} is not documented but answers {status}"
            );
            let allow: BTreeSet<String> = response.headers()["allow"]
                .to_str()
                .unwrap()
                .split(',')
                .map(|m| m.trim().to_owned())
                .filter(|m| m != "HEAD")
                .collect();
            let documented_owned: BTreeSet<String> =
                documented.iter().map(|m| m.to_string()).collect();
            assert_eq!(allow, documented_owned, "Allow of {template}");
            if template.starts_with("/api/") {
                let body: Value = response.json().await.unwrap();
                let error = json!({"$ref": "#/components/responses/MethodNotAllowed/content/application~1json/schema"});
                let errors = validation_errors(&doc, &error, &body);
                assert!(errors.is_empty(), "405 of {template}: {errors:?} {body}");
            }
        }
    }
}

/// Drives every documented response of every operation with a realistic
/// request, then fails listing any the server never produced.
async fn every_documented_response_is_real_and_conforms(app: TestApp) {
    // With accounts on (the default), signed in by a token.
    let app = TestApp::spawn_signed_in(app.backend()).await.unwrap();
    let api = Contract::new(document());
    let c = &app.client;
    let url = |path: &str| app.url(path);
    const TODOS: &str = "/api/todos";
    const TASK: &str = "/api/todos/{id}";
    const IMPORT: &str = "/api/import";
    let json_text = |builder: RequestBuilder, body: &str| {
        builder
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_owned())
    };
    let huge = json!({"title": "x".repeat(100 * 1024)});

    // Creating: 201 with Location and ETag, and every kind of refusal.
    let created = api
        .expect(
            201,
            TODOS,
            c.post(url(TODOS)).json(
                &json!({"title": "Water the plants", "priority": "high", "due": "2030-12-24"}),
            ),
        )
        .await;
    assert_eq!(
        created.headers["location"],
        created.body["url"].as_str().unwrap()
    );
    // The document's examples of request bodies are accepted as they are.
    let examples = |schema: &str| {
        api.doc["components"]["schemas"][schema]["examples"]
            .as_array()
            .unwrap_or_else(|| panic!("{schema} has examples"))
            .clone()
    };
    let mut example_ids = Vec::new();
    for example in examples("NewTask") {
        let made = api
            .expect(201, TODOS, c.post(url(TODOS)).json(&example))
            .await;
        assert_eq!(
            made.body["due_time"],
            example.get("due_time").cloned().unwrap_or(Value::Null)
        );
        example_ids.push(made.body["id"].as_i64().unwrap());
    }
    for example in examples("TaskChanges") {
        let path = format!("/api/todos/{}", example_ids[0]);
        api.expect(200, TASK, c.patch(url(&path)).json(&example))
            .await;
    }
    for id in example_ids {
        api.expect(204, TASK, c.delete(url(&format!("/api/todos/{id}"))))
            .await;
    }
    for body in [
        json!({"title": "Pay rent", "priority": 5, "completed": true}),
        json!({"title": "Call mum", "priority": "do_now", "order": 0}),
    ] {
        api.expect(201, TODOS, c.post(url(TODOS)).json(&body)).await;
    }
    api.expect(
        422,
        TODOS,
        c.post(url(TODOS))
            .json(&json!({"title": "Call", "due_time": "09:30"})),
    )
    .await;
    api.expect(400, TODOS, json_text(c.post(url(TODOS)), "{\"title\":"))
        .await;
    api.expect(413, TODOS, c.post(url(TODOS)).json(&huge)).await;
    api.expect(
        415,
        TODOS,
        c.post(url(TODOS))
            .header(CONTENT_TYPE, "text/plain")
            .body("title"),
    )
    .await;
    let invalid = api
        .expect(422, TODOS, c.post(url(TODOS)).json(&json!({"title": " "})))
        .await;
    // The document's example of an error is this very answer, word for word.
    assert_eq!(
        invalid.body, api.doc["components"]["schemas"]["Error"]["examples"][0],
        "the example of Error"
    );

    // Listing: a bare array, paged with Link.
    let all = api.expect(200, TODOS, c.get(url(TODOS))).await;
    assert_eq!(all.body.as_array().unwrap().len(), 3);
    assert!(all.headers.get("link").is_none(), "one page only");
    let first = api
        .expect(200, TODOS, c.get(url("/api/todos?limit=2&sort=priority")))
        .await;
    let link = first.headers["link"].to_str().unwrap().to_owned();
    let next = link[1..link.find('>').unwrap()].to_owned();
    let second = api.expect(200, TODOS, c.get(&next)).await;
    assert_eq!(second.body.as_array().unwrap().len(), 1);
    api.expect(
        200,
        TODOS,
        c.get(url("/api/todos?completed=true&q=RENT&sort=due")),
    )
    .await;
    api.expect(400, TODOS, c.get(url("/api/todos?limit=1&limit=2")))
        .await;
    api.expect(422, TODOS, c.get(url("/api/todos?limit=0")))
        .await;

    // One task: ETag, If-None-Match, If-Match.
    let id = created.body["id"].as_i64().unwrap();
    let task_url = url(&format!("/api/todos/{id}"));
    let one = api.expect(200, TASK, c.get(&task_url)).await;
    let etag = one.headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", one.body["version"]));
    api.expect(304, TASK, c.get(&task_url).header("if-none-match", &etag))
        .await;
    api.expect(304, TASK, c.get(&task_url).header("if-none-match", "*"))
        .await;
    api.expect(404, TASK, c.get(url("/api/todos/999999"))).await;
    api.expect(404, TASK, c.get(url("/api/todos/abc"))).await;

    let changed = api
        .expect(
            200,
            TASK,
            c.patch(&task_url).header("if-match", &etag).json(
                &json!({"title": "Water the plants twice", "due": null, "priority": "Urgent"}),
            ),
        )
        .await;
    assert_eq!(changed.body["priority_name"], "urgent");
    assert_ne!(changed.headers["etag"].to_str().unwrap(), etag);
    let stale = || c.patch(&task_url).header("if-match", &etag);
    api.expect(412, TASK, stale().json(&json!({"completed": true})))
        .await;
    api.expect(400, TASK, json_text(c.patch(&task_url), "[]"))
        .await;
    api.expect(
        404,
        TASK,
        c.patch(url("/api/todos/999999"))
            .json(&json!({"completed": true})),
    )
    .await;
    api.expect(413, TASK, c.patch(&task_url).json(&huge)).await;
    api.expect(
        415,
        TASK,
        c.patch(&task_url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("completed=true"),
    )
    .await;
    api.expect(422, TASK, c.patch(&task_url).json(&json!({"priority": 9})))
        .await;

    // The whole list at once.
    let updated = api
        .expect(
            200,
            TODOS,
            c.patch(url(TODOS)).json(&json!({"completed": true})),
        )
        .await;
    assert_eq!(updated.body["updated"], 2, "one task was completed already");
    api.expect(400, TODOS, json_text(c.patch(url(TODOS)), "nope"))
        .await;
    api.expect(413, TODOS, c.patch(url(TODOS)).json(&huge))
        .await;
    api.expect(
        415,
        TODOS,
        c.patch(url(TODOS)).body("{\"completed\": true}"),
    )
    .await;
    api.expect(422, TODOS, c.patch(url(TODOS)).json(&json!({"title": "x"})))
        .await;

    // Export and import.
    let export = api
        .expect(200, "/api/export", c.get(url("/api/export")))
        .await;
    assert_eq!(export.body["tasks"].as_array().unwrap().len(), 3);
    api.expect(409, IMPORT, c.post(url(IMPORT)).json(&export.body))
        .await;
    let imported = api
        .expect(
            200,
            IMPORT,
            c.post(url("/api/import?replace=true")).json(&export.body),
        )
        .await;
    assert_eq!(imported.body["imported"], 3);
    api.expect(400, IMPORT, json_text(c.post(url(IMPORT)), "{"))
        .await;
    // A server with a small import limit, so the client can finish sending
    // the oversized body before the answer arrives.
    let mut small = TestApp::spawn_with(app.backend(), {
        let mut config = crate::helpers::accounts_config();
        config.import_body_limit = 1024;
        config
    })
    .await
    .unwrap();
    small.client =
        crate::helpers::token_client(&small.sign_up_with_token("small", "small passphrase").await);
    api.expect(
        413,
        IMPORT,
        small.client.post(small.url(IMPORT)).json(&huge),
    )
    .await;
    api.expect(415, IMPORT, c.post(url(IMPORT)).body("{}"))
        .await;
    api.expect(
        422,
        IMPORT,
        c.post(url("/api/import?replace=true"))
            .json(&json!({"format": "todo-app-export", "version": 3, "exported_at": "2030-01-01T00:00:00Z", "tasks": []})),
    )
    .await;

    // Deleting. An account's import gives tasks new ids (ids are unique
    // across accounts), and new ids never had a version before.
    let all = api.expect(200, TODOS, c.get(url(TODOS))).await;
    let id = all
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == "Water the plants twice")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let task_url = url(&format!("/api/todos/{id}"));
    let current = api
        .expect(
            200,
            TASK,
            c.patch(&task_url).json(&json!({"completed": false})),
        )
        .await;
    api.expect(412, TASK, c.delete(&task_url).header("if-match", "\"1\""))
        .await;
    api.expect(400, TASK, c.delete(&task_url).header("if-match", "v1"))
        .await;
    api.expect(
        204,
        TASK,
        c.delete(&task_url)
            .header("if-match", current.headers["etag"].clone()),
    )
    .await;
    api.expect(404, TASK, c.delete(&task_url)).await;
    api.expect(204, TODOS, c.delete(url("/api/todos?completed=true")))
        .await;
    api.expect(
        400,
        TODOS,
        c.delete(url("/api/todos?completed=1&completed=1")),
    )
    .await;
    api.expect(422, TODOS, c.delete(url("/api/todos?completed=false")))
        .await;
    api.expect(204, TODOS, c.delete(url(TODOS))).await;

    // Lists, their tasks and their members.
    const LISTS: &str = "/api/lists";
    const LIST: &str = "/api/lists/{list_id}";
    const LIST_TODOS: &str = "/api/lists/{list_id}/todos";
    const MEMBERS: &str = "/api/lists/{list_id}/members";
    const MEMBER: &str = "/api/lists/{list_id}/members/{username}";
    const LIST_RESTORE: &str = "/api/lists/{list_id}/restore";
    for example in examples("NewList") {
        api.expect(201, LISTS, c.post(url(LISTS)).json(&example))
            .await;
    }
    let groceries = api
        .expect(
            201,
            LISTS,
            c.post(url(LISTS)).json(&json!({"name": "Shop"})),
        )
        .await;
    assert_eq!(
        groceries.headers["location"],
        groceries.body["url"].as_str().unwrap()
    );
    api.expect(400, LISTS, json_text(c.post(url(LISTS)), "{"))
        .await;
    api.expect(413, LISTS, c.post(url(LISTS)).json(&huge)).await;
    api.expect(415, LISTS, c.post(url(LISTS)).body("{}")).await;
    api.expect(422, LISTS, c.post(url(LISTS)).json(&json!({"name": ""})))
        .await;
    // An instance with a limit of lists the caller has reached.
    let mut full = crate::helpers::accounts_config();
    full.limits.max_lists_per_account = 1;
    let (limited, limited_server) = app.second_instance(full).await;
    api.expect(
        409,
        LISTS,
        c.post(format!("{limited}{LISTS}"))
            .json(&json!({"name": "One too many"})),
    )
    .await;
    limited_server.abort();
    let lists = api.expect(200, LISTS, c.get(url(LISTS))).await;
    assert!(
        lists
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["default"] == true)
    );
    let list_id = groceries.body["id"].as_i64().unwrap();
    let list_path = format!("/api/lists/{list_id}");
    api.expect(200, LIST, c.get(url(&list_path))).await;
    api.expect(404, LIST, c.get(url("/api/lists/999999"))).await;
    for example in examples("ListChanges") {
        api.expect(200, LIST, c.patch(url(&list_path)).json(&example))
            .await;
    }
    api.expect(400, LIST, json_text(c.patch(url(&list_path)), "["))
        .await;
    api.expect(413, LIST, c.patch(url(&list_path)).json(&huge))
        .await;
    api.expect(415, LIST, c.patch(url(&list_path)).body("{}"))
        .await;
    api.expect(
        422,
        LIST,
        c.patch(url(&list_path)).json(&json!({"name": 3})),
    )
    .await;
    api.expect(
        404,
        LIST,
        c.patch(url("/api/lists/999999"))
            .json(&json!({"name": "x"})),
    )
    .await;
    let default_id = lists
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["default"] == true)
        .unwrap()["id"]
        .clone();
    api.expect(
        409,
        LIST,
        c.delete(url(&format!("/api/lists/{default_id}"))),
    )
    .await;

    // Its tasks, as /api/todos.
    let todos_path = format!("/api/lists/{list_id}/todos");
    let in_list = api
        .expect(
            201,
            LIST_TODOS,
            c.post(url(&todos_path)).json(&json!({"title": "Milk"})),
        )
        .await;
    assert_eq!(in_list.body["list_id"], list_id);
    api.expect(400, LIST_TODOS, json_text(c.post(url(&todos_path)), "{"))
        .await;
    api.expect(413, LIST_TODOS, c.post(url(&todos_path)).json(&huge))
        .await;
    api.expect(415, LIST_TODOS, c.post(url(&todos_path)).body("{}"))
        .await;
    api.expect(
        422,
        LIST_TODOS,
        c.post(url(&todos_path)).json(&json!({"title": ""})),
    )
    .await;
    api.expect(
        404,
        LIST_TODOS,
        c.post(url("/api/lists/999999/todos"))
            .json(&json!({"title": "x"})),
    )
    .await;
    api.expect(200, LIST_TODOS, c.get(url(&todos_path))).await;
    api.expect(
        400,
        LIST_TODOS,
        c.get(url(&format!("{todos_path}?limit=1&limit=2"))),
    )
    .await;
    api.expect(
        422,
        LIST_TODOS,
        c.get(url(&format!("{todos_path}?limit=0"))),
    )
    .await;
    api.expect(404, LIST_TODOS, c.get(url("/api/lists/999999/todos")))
        .await;
    api.expect(
        200,
        LIST_TODOS,
        c.patch(url(&todos_path)).json(&json!({"completed": true})),
    )
    .await;
    api.expect(400, LIST_TODOS, json_text(c.patch(url(&todos_path)), "x"))
        .await;
    api.expect(413, LIST_TODOS, c.patch(url(&todos_path)).json(&huge))
        .await;
    api.expect(415, LIST_TODOS, c.patch(url(&todos_path)).body("{}"))
        .await;
    api.expect(
        422,
        LIST_TODOS,
        c.patch(url(&todos_path)).json(&json!({"completed": 1})),
    )
    .await;
    api.expect(
        404,
        LIST_TODOS,
        c.patch(url("/api/lists/999999/todos"))
            .json(&json!({"completed": true})),
    )
    .await;

    // Members: a viewer reads, and is refused every change.
    let viewer_name = "list-viewer";
    let viewer = crate::helpers::token_client(
        &app.sign_up_with_token(viewer_name, "viewer passphrase")
            .await,
    );
    let members_path = format!("/api/lists/{list_id}/members");
    for example in examples("NewMember") {
        let name = example["username"].as_str().unwrap().to_owned();
        app.sign_up(&name, "member passphrase").await;
        api.expect(201, MEMBERS, c.post(url(&members_path)).json(&example))
            .await;
    }
    api.expect(
        201,
        MEMBERS,
        c.post(url(&members_path))
            .json(&json!({"username": viewer_name, "role": "viewer"})),
    )
    .await;
    api.expect(
        409,
        MEMBERS,
        c.post(url(&members_path))
            .json(&json!({"username": viewer_name, "role": "editor"})),
    )
    .await;
    api.expect(400, MEMBERS, json_text(c.post(url(&members_path)), "{"))
        .await;
    api.expect(413, MEMBERS, c.post(url(&members_path)).json(&huge))
        .await;
    api.expect(415, MEMBERS, c.post(url(&members_path)).body("{}"))
        .await;
    api.expect(
        422,
        MEMBERS,
        c.post(url(&members_path))
            .json(&json!({"username": "nobody-here", "role": "viewer"})),
    )
    .await;
    api.expect(
        403,
        MEMBERS,
        viewer
            .post(url(&members_path))
            .json(&json!({"username": "owner", "role": "viewer"})),
    )
    .await;
    api.expect(
        404,
        MEMBERS,
        c.post(url("/api/lists/999999/members"))
            .json(&json!({"username": viewer_name, "role": "viewer"})),
    )
    .await;
    let members = api
        .expect(200, MEMBERS, viewer.get(url(&members_path)))
        .await;
    assert!(
        members
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["username"] == viewer_name)
    );
    api.expect(404, MEMBERS, c.get(url("/api/lists/999999/members")))
        .await;
    let viewer_path = format!("{members_path}/{viewer_name}");
    for example in examples("MemberChanges") {
        api.expect(200, MEMBER, c.patch(url(&viewer_path)).json(&example))
            .await;
    }
    api.expect(400, MEMBER, json_text(c.patch(url(&viewer_path)), "{"))
        .await;
    api.expect(413, MEMBER, c.patch(url(&viewer_path)).json(&huge))
        .await;
    api.expect(415, MEMBER, c.patch(url(&viewer_path)).body("{}"))
        .await;
    api.expect(
        422,
        MEMBER,
        c.patch(url(&viewer_path)).json(&json!({"role": "owner"})),
    )
    .await;
    api.expect(
        403,
        MEMBER,
        viewer
            .patch(url(&viewer_path))
            .json(&json!({"role": "editor"})),
    )
    .await;
    api.expect(
        404,
        MEMBER,
        c.patch(url(&format!("{members_path}/nobody-here")))
            .json(&json!({"role": "viewer"})),
    )
    .await;
    // What a viewer may not do.
    api.expect(
        403,
        LIST,
        viewer.patch(url(&list_path)).json(&json!({"name": "mine"})),
    )
    .await;
    api.expect(403, LIST, viewer.delete(url(&list_path))).await;
    api.expect(
        403,
        LIST_TODOS,
        viewer.post(url(&todos_path)).json(&json!({"title": "x"})),
    )
    .await;
    api.expect(
        403,
        LIST_TODOS,
        viewer
            .patch(url(&todos_path))
            .json(&json!({"completed": false})),
    )
    .await;
    api.expect(403, LIST_TODOS, viewer.delete(url(&todos_path)))
        .await;
    let milk = url(&format!("/api/todos/{}", in_list.body["id"]));
    api.expect(
        403,
        TASK,
        viewer.patch(&milk).json(&json!({"completed": false})),
    )
    .await;
    api.expect(403, TASK, viewer.delete(&milk)).await;
    api.expect(200, TASK, viewer.get(&milk)).await;
    // Restoring: the owner deletes Milk; the viewer may not bring it back,
    // the owner may, once.
    const RESTORE: &str = "/api/todos/{id}/restore";
    let milk_restore = format!("{milk}/restore");
    api.expect(204, TASK, c.delete(&milk)).await;
    api.expect(403, RESTORE, viewer.post(&milk_restore)).await;
    api.expect(404, RESTORE, c.post(url("/api/todos/999999/restore")))
        .await;
    let back = api.expect(200, RESTORE, c.post(&milk_restore)).await;
    assert_eq!(back.body["id"], in_list.body["id"]);
    api.expect(409, RESTORE, c.post(&milk_restore)).await;
    // Moving a task into a list the caller may not add to.
    api.expect(422, TASK, c.patch(&milk).json(&json!({"list_id": 999999})))
        .await;
    api.expect(
        400,
        LIST_TODOS,
        c.delete(url(&format!("{todos_path}?completed=1&completed=1"))),
    )
    .await;
    api.expect(
        422,
        LIST_TODOS,
        c.delete(url(&format!("{todos_path}?completed=false"))),
    )
    .await;
    api.expect(404, LIST_TODOS, c.delete(url("/api/lists/999999/todos")))
        .await;
    api.expect(
        204,
        LIST_TODOS,
        c.delete(url(&format!("{todos_path}?completed=true"))),
    )
    .await;
    // Removing members: the owner removes one, a member leaves.
    api.expect(
        403,
        MEMBER,
        viewer.delete(url(&format!("{members_path}/sam"))),
    )
    .await;
    api.expect(204, MEMBER, c.delete(url(&format!("{members_path}/sam"))))
        .await;
    api.expect(204, MEMBER, viewer.delete(url(&viewer_path)))
        .await;
    api.expect(404, MEMBER, c.delete(url(&viewer_path))).await;
    api.expect(404, LIST, viewer.get(url(&list_path))).await;
    api.expect(204, LIST_TODOS, c.delete(url(&todos_path)))
        .await;
    api.expect(204, LIST, c.delete(url(&list_path))).await;
    api.expect(404, LIST, c.delete(url(&list_path))).await;
    // Undoing the deletion: the owner, once; a member of the list as it
    // is gets 403, a list no one has 404.
    let restore_path = format!("{list_path}/restore");
    let back = api
        .expect(200, LIST_RESTORE, c.post(url(&restore_path)))
        .await;
    assert_eq!(back.body["id"], list_id);
    api.expect(409, LIST_RESTORE, c.post(url(&restore_path)))
        .await;
    api.expect(404, LIST_RESTORE, c.post(url("/api/lists/999999/restore")))
        .await;
    api.expect(
        201,
        MEMBERS,
        c.post(url(&members_path))
            .json(&json!({"username": viewer_name, "role": "viewer"})),
    )
    .await;
    api.expect(403, LIST_RESTORE, viewer.post(url(&restore_path)))
        .await;
    api.expect(204, LIST, c.delete(url(&list_path))).await;

    // Today and Upcoming, with the reader's time: every task says
    // whether it is overdue.
    for view in ["/api/today", "/api/upcoming"] {
        api.expect(200, view, c.get(url(&format!("{view}?date=2030-12-24"))))
            .await;
        let timed = api
            .expect(
                200,
                view,
                c.get(url(&format!("{view}?date=2030-12-23&time=10:00"))),
            )
            .await;
        assert!(
            timed
                .body
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["overdue"].is_boolean()),
            "{}",
            timed.body
        );
        api.expect(422, view, c.get(url(&format!("{view}?time=10:00"))))
            .await;
        api.expect(200, view, c.get(url(view))).await;
        api.expect(400, view, c.get(url(&format!("{view}?date=1&date=2"))))
            .await;
        api.expect(422, view, c.get(url(&format!("{view}?date=24.12.2030"))))
            .await;
    }

    // The rest of the document's paths.
    api.expect(200, "/api/openapi.json", c.get(url("/api/openapi.json")))
        .await;
    let reference = api.expect(200, "/api/docs", c.get(url("/api/docs"))).await;
    let page = reference.body.as_str().unwrap();
    assert!(page.contains("<h1>") && page.contains("<main>"), "{page}");
    api.expect(200, "/healthz", c.get(url("/healthz"))).await;
    api.expect(200, "/readyz", c.get(url("/readyz"))).await;
    let version = api.expect(200, "/version", c.get(url("/version"))).await;
    assert!(version.body["schema_version"].is_i64());

    // Accounts: tokens and the account itself.
    const TOKENS: &str = "/api/tokens";
    let anon = reqwest::Client::new();
    let login = |name: &str, password: &str| json!({"username": "owner", "password": password, "name": name});
    let made = api
        .expect(
            201,
            TOKENS,
            anon.post(url(TOKENS))
                .json(&login("contract", "owner passphrase")),
        )
        .await;
    let listed = api.expect(200, TOKENS, c.get(url(TOKENS))).await;
    assert!(listed.body.as_array().unwrap().len() >= 2);
    api.expect(400, TOKENS, json_text(anon.post(url(TOKENS)), "{"))
        .await;
    api.expect(415, TOKENS, anon.post(url(TOKENS)).body("{}"))
        .await;
    api.expect(
        422,
        TOKENS,
        anon.post(url(TOKENS)).json(&login(" ", "owner passphrase")),
    )
    .await;
    let token_url = url(&format!("/api/tokens/{}", made.body["id"]));
    api.expect(204, "/api/tokens/{id}", c.delete(&token_url))
        .await;
    api.expect(404, "/api/tokens/{id}", c.delete(&token_url))
        .await;
    let me = api
        .expect(200, "/api/account", c.get(url("/api/account")))
        .await;
    assert_eq!(me.body["username"], "owner");
    let throwaway = crate::helpers::token_client(
        &app.sign_up_with_token("throwaway", "throwaway passphrase")
            .await,
    );
    // Deleting an account asks for its password, on the API too.
    let account = "/api/account";
    api.expect(415, account, throwaway.delete(url(account)))
        .await;
    api.expect(
        400,
        account,
        throwaway.delete(url(account)).json(&json!([])),
    )
    .await;
    api.expect(
        401,
        account,
        throwaway
            .delete(url(account))
            .json(&json!({"password": "not the password"})),
    )
    .await;
    api.expect(
        204,
        account,
        throwaway
            .delete(url(account))
            .json(&json!({"password": "throwaway passphrase"})),
    )
    .await;
    let second_throwaway = crate::helpers::token_client(
        &app.sign_up_with_token("throwaway2", "throwaway passphrase")
            .await,
    );

    // Without credentials every route but the public ones answers 401.
    let doc = document();
    for (path, method) in operations(&doc) {
        let op = &doc["paths"][&path][method.as_str().to_ascii_lowercase()];
        if op["responses"].get("401").is_none() {
            continue;
        }
        let request = anon
            .request(
                method.clone(),
                url(&path
                    .replace("{id}", &id.to_string())
                    .replace("{list_id}", "1")
                    .replace("{username}", "someone")),
            )
            .json(&json!({"name": "x"}));
        api.expect(401, &path, request).await;
    }
    // Repeated wrong passwords are throttled.
    let mut throttled = None;
    for _ in 0..8 {
        let seen = api
            .send(
                TOKENS,
                anon.post(url(TOKENS)).json(&login("x", "wrong password")),
            )
            .await;
        if seen.status == 429 {
            throttled = Some(seen);
            break;
        }
    }
    assert!(throttled.is_some(), "no 429 after eight wrong passwords");
    // The password a deletion asks for is throttled like a login.
    api.expect(
        429,
        account,
        second_throwaway
            .delete(url(account))
            .json(&json!({"password": "throwaway passphrase"})),
    )
    .await;

    // With the database gone, every operation that needs it says 503 with
    // Retry-After, and readiness says so too.
    app.store.close().await;
    let gone = url("/api/todos/1");
    for (template, request) in [
        (TODOS, c.get(url(TODOS))),
        (TODOS, c.post(url(TODOS)).json(&json!({"title": "x"}))),
        (TODOS, c.patch(url(TODOS)).json(&json!({"completed": true}))),
        (TODOS, c.delete(url(TODOS))),
        (TASK, c.get(&gone)),
        (TASK, c.patch(&gone).json(&json!({"completed": true}))),
        (TASK, c.delete(&gone)),
        (
            "/api/todos/{id}/restore",
            c.post(url("/api/todos/1/restore")),
        ),
        ("/api/export", c.get(url("/api/export"))),
        (IMPORT, c.post(url(IMPORT)).json(&export.body)),
        (LISTS, c.get(url(LISTS))),
        (LISTS, c.post(url(LISTS)).json(&json!({"name": "x"}))),
        (LIST, c.get(url("/api/lists/1"))),
        (
            LIST,
            c.patch(url("/api/lists/1")).json(&json!({"name": "x"})),
        ),
        (LIST, c.delete(url("/api/lists/1"))),
        (LIST_TODOS, c.get(url("/api/lists/1/todos"))),
        (
            LIST_TODOS,
            c.post(url("/api/lists/1/todos"))
                .json(&json!({"title": "x"})),
        ),
        (
            LIST_TODOS,
            c.patch(url("/api/lists/1/todos"))
                .json(&json!({"completed": true})),
        ),
        (LIST_TODOS, c.delete(url("/api/lists/1/todos"))),
        (MEMBERS, c.get(url("/api/lists/1/members"))),
        (
            MEMBERS,
            c.post(url("/api/lists/1/members"))
                .json(&json!({"username": "sam", "role": "viewer"})),
        ),
        (
            MEMBER,
            c.patch(url("/api/lists/1/members/sam"))
                .json(&json!({"role": "viewer"})),
        ),
        (MEMBER, c.delete(url("/api/lists/1/members/sam"))),
        (LIST_RESTORE, c.post(url("/api/lists/1/restore"))),
        ("/api/today", c.get(url("/api/today"))),
        ("/api/upcoming", c.get(url("/api/upcoming"))),
        ("/readyz", c.get(url("/readyz"))),
    ] {
        api.expect(503, template, request).await;
    }
    let version = api.expect(200, "/version", c.get(url("/version"))).await;
    assert!(version.body["schema_version"].is_null());

    let missing = api.never_seen();
    assert!(
        missing.is_empty(),
        "the document lists responses no request produced:\n{}",
        missing.join("\n")
    );
}
