//! The in-process tier: the app's router (`startup::router`) driven with
//! `tower::ServiceExt::oneshot`, no socket and no server task, over a fresh
//! database per test. A case costs one request's work, so this is where
//! handler cases go by the dozen; what needs a real connection (shutdown,
//! timeouts, several instances, the browser's forms) stays black-box.
//!
//! Each test runs on SQLite and, with `TEST_DATABASE_URL`, PostgreSQL.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::helpers::{Backend, TestDatabase, server_config};
use crate::per_backend_tests;

per_backend_tests!(
    bad_input_gets_its_own_status_and_message,
    bad_input_changes_nothing,
    create_answers_201_with_location_etag_and_task,
    conditional_requests_use_the_etag,
    lists_filter_and_page_with_a_link,
    unknown_routes_and_methods_get_json_errors,
    responses_carry_a_request_id,
);

/// The router over a fresh, migrated database. `Host` is what the app
/// builds its URLs from, so every request names one.
struct InProcessApp {
    router: Router,
    _database: TestDatabase,
}

const HOST: &str = "todo.test";

/// What came back: status, headers and the whole body.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: axum::body::Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{}: not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
            .to_str()
            .unwrap()
    }
}

impl InProcessApp {
    async fn new(backend: Backend) -> Self {
        let database = TestDatabase::create(backend)
            .await
            .expect(crate::helpers::NO_POSTGRES);
        let store = database.store();
        store.migrate().await.expect("migrations failed");
        Self {
            router: todo_app::startup::router(&server_config(), store)
                .await
                .expect("the router could not be built"),
            _database: database,
        }
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Reply {
            status,
            headers,
            body,
        }
    }

    fn request(method: Method, path: &str) -> axum::http::request::Builder {
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, HOST)
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(
            Self::request(Method::GET, path)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    async fn send_json(&self, method: Method, path: &str, body: &Value) -> Reply {
        self.send(
            Self::request(method, path)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    async fn create(&self, body: Value) -> Value {
        let reply = self.send_json(Method::POST, "/api/todos", &body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "creating {body}");
        reply.json()
    }
}

/// One request the API must refuse, and exactly how.
struct BadInput {
    method: Method,
    path: &'static str,
    content_type: &'static str,
    body: String,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
    message: &'static str,
}

impl BadInput {
    /// The request as a client sends it: a body comes with its type and
    /// length (the length is what an oversized body is refused by).
    fn request(&self) -> Request<Body> {
        let mut request = InProcessApp::request(self.method.clone(), self.path);
        if !self.body.is_empty() {
            request = request
                .header(header::CONTENT_TYPE, self.content_type)
                .header(header::CONTENT_LENGTH, self.body.len());
        }
        request.body(Body::from(self.body.clone())).unwrap()
    }

    fn describe(&self) -> String {
        format!("{} {} {:.60}", self.method, self.path, self.body)
    }
}

fn bad_inputs() -> Vec<BadInput> {
    let create = |body: &str, status, code, field, message| BadInput {
        method: Method::POST,
        path: "/api/todos",
        content_type: "application/json",
        body: body.to_owned(),
        status,
        code,
        field,
        message,
    };
    let list = |path, field, message| BadInput {
        method: Method::GET,
        path,
        content_type: "application/json",
        body: String::new(),
        status: 422,
        code: "validation_failed",
        field: Some(field),
        message,
    };
    vec![
        create(
            "{\"title\": ",
            400,
            "bad_request",
            None,
            "the request body is not valid JSON: EOF while parsing a value at line 1 column 10",
        ),
        BadInput {
            content_type: "text/plain",
            ..create(
                "{\"title\": \"ok\"}",
                415,
                "unsupported_media_type",
                None,
                "send the body as JSON with Content-Type: application/json",
            )
        },
        create(
            "{}",
            422,
            "validation_failed",
            Some("title"),
            "title is required",
        ),
        create(
            "{\"title\": \"   \"}",
            422,
            "validation_failed",
            Some("title"),
            "title must not be empty",
        ),
        create(
            &json!({"title": "x".repeat(256)}).to_string(),
            422,
            "validation_failed",
            Some("title"),
            "title is 256 characters long; the maximum is 255",
        ),
        create(
            "{\"title\": \"x\", \"priority\": 6}",
            422,
            "validation_failed",
            Some("priority"),
            "priority \"6\" is not valid; use 1-5 or one of: low, medium, high, urgent, do-now",
        ),
        create(
            "{\"title\": \"x\", \"priority\": \"someday\"}",
            422,
            "validation_failed",
            Some("priority"),
            "priority \"someday\" is not valid; use 1-5 or one of: low, medium, high, urgent, do-now",
        ),
        create(
            "{\"title\": \"x\", \"completed\": \"yes\"}",
            422,
            "validation_failed",
            Some("completed"),
            "completed must be true or false, not a string",
        ),
        create(
            "{\"title\": \"x\", \"due\": \"2030-02-30\"}",
            422,
            "validation_failed",
            Some("due"),
            "due date \"2030-02-30\" is not a valid date; use YYYY-MM-DD",
        ),
        // One range of years for the API, the pages and imports: the API
        // used to store 1850, which the edit form then refused to save.
        create(
            "{\"title\": \"x\", \"due\": \"1850-01-01\"}",
            422,
            "validation_failed",
            Some("due"),
            "the due date 1850-01-01 is out of range; use a year from 1900 to 9999",
        ),
        create(
            "{\"title\": \"x\", \"colour\": \"red\"}",
            422,
            "validation_failed",
            Some("body"),
            "unknown field \"colour\"; expected title, priority, completed, order, due, due_time or list_id",
        ),
        create(
            "{\"title\": \"x\", \"due\": \"2030-02-03\", \"due_time\": \"9:30\"}",
            422,
            "validation_failed",
            Some("due_time"),
            "due time \"9:30\" is not a valid time; use HH:MM (00:00 to 23:59)",
        ),
        create(
            "{\"title\": \"x\", \"due_time\": \"09:30\"}",
            422,
            "validation_failed",
            Some("due_time"),
            "a due time needs a due date: send \"due\" (YYYY-MM-DD) with it",
        ),
        create(
            &json!({"title": "x".repeat(100 * 1024)}).to_string(),
            413,
            "payload_too_large",
            None,
            "the request body is too large; the limit is 65536 bytes",
        ),
        list(
            "/api/todos?completed=maybe",
            "completed",
            "completed must be true or false, not \"maybe\"",
        ),
        list(
            "/api/todos?sort=colour",
            "sort",
            "sort \"colour\" is not valid; use one of: order, priority, due, created",
        ),
        list(
            "/api/todos?limit=0",
            "limit",
            "limit \"0\" must be a whole number from 1 to 1000",
        ),
        list(
            "/api/todos?offset=-1",
            "offset",
            "offset \"-1\" must be a whole number from 0 to 9223372036854775807",
        ),
        list(
            "/api/todos?q=a%00b",
            "q",
            "q must not contain control characters",
        ),
        BadInput {
            method: Method::PATCH,
            path: "/api/todos/999999",
            ..create(
                "{\"completed\": true}",
                404,
                "not_found",
                None,
                "task 999999 not found",
            )
        },
    ]
}

async fn bad_input_gets_its_own_status_and_message(backend: Backend) {
    let app = InProcessApp::new(backend).await;
    for case in bad_inputs() {
        let what = case.describe();
        let reply = app.send(case.request()).await;
        assert_eq!(reply.status.as_u16(), case.status, "{what}");
        assert!(
            reply.header("content-type").starts_with("application/json"),
            "{what}"
        );
        let error = reply.json();
        assert_eq!(error["code"], case.code, "{what}: {error}");
        assert_eq!(error["field"].as_str(), case.field, "{what}: {error}");
        assert_eq!(error["message"], case.message, "{what}: {error}");
    }
}

/// A refused create or edit stores nothing and changes nothing.
async fn bad_input_changes_nothing(backend: Backend) {
    let app = InProcessApp::new(backend).await;
    let task = app.create(json!({"title": "stable", "priority": 2})).await;
    let path = format!("/api/todos/{}", task["id"]);
    for case in bad_inputs() {
        let reply = app.send(case.request()).await;
        assert!(reply.status.is_client_error(), "{}", case.describe());
    }
    // A valid field next to an invalid one must not be half-applied.
    let reply = app
        .send_json(
            Method::PATCH,
            &path,
            &json!({"completed": true, "priority": 9}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json()["field"], "priority");

    let list = app.get("/api/todos").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json(), json!([task]));
}

async fn create_answers_201_with_location_etag_and_task(backend: Backend) {
    let app = InProcessApp::new(backend).await;
    let reply = app
        .send_json(
            Method::POST,
            "/api/todos",
            &json!({"title": "  walk the dog  ", "priority": 3, "due": "2030-01-31"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert!(reply.header("content-type").starts_with("application/json"));
    let task = reply.json();
    assert_eq!(task["title"], "walk the dog");
    assert_eq!(task["priority"], 3);
    assert_eq!(task["priority_name"], "high");
    assert_eq!(task["completed"], false);
    assert_eq!(task["due"], "2030-01-31");
    let location = format!("http://{HOST}/api/todos/{}", task["id"]);
    assert_eq!(reply.header("location"), location);
    assert_eq!(task["url"], location);
    assert_eq!(reply.header("etag"), format!("\"{}\"", task["version"]));

    let fetched = app.get(&format!("/api/todos/{}", task["id"])).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.header("etag"), reply.header("etag"));
    assert_eq!(fetched.json(), task);
}

async fn conditional_requests_use_the_etag(backend: Backend) {
    let app = InProcessApp::new(backend).await;
    let task = app.create(json!({"title": "draft"})).await;
    let path = format!("/api/todos/{}", task["id"]);
    let first = format!("\"{}\"", task["version"]);

    let unchanged = app
        .send(
            InProcessApp::request(Method::GET, &path)
                .header(header::IF_NONE_MATCH, &first)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
    assert!(unchanged.body.is_empty());

    let patch = |etag: &str| {
        InProcessApp::request(Method::PATCH, &path)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::IF_MATCH, etag)
            .body(Body::from(json!({"title": "final"}).to_string()))
            .unwrap()
    };
    let saved = app.send(patch(&first)).await;
    assert_eq!(saved.status, StatusCode::OK);
    assert_eq!(saved.json()["title"], "final");
    assert_ne!(saved.header("etag"), first);

    // The first ETag is stale now: refused, and the edit stays.
    let stale = app.send(patch(&first)).await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(stale.json()["code"], "precondition_failed");
    let malformed = app.send(patch("version-one")).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get(&path).await.json()["title"], "final");
}

async fn lists_filter_and_page_with_a_link(backend: Backend) {
    let app = InProcessApp::new(backend).await;
    for i in 0..3 {
        app.create(json!({"title": format!("task {i}"), "completed": i == 1}))
            .await;
    }
    let done = app.get("/api/todos?completed=true").await;
    assert_eq!(done.status, StatusCode::OK);
    let titles: Vec<Value> = done
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].clone())
        .collect();
    assert_eq!(titles, [json!("task 1")]);

    let page = app.get("/api/todos?limit=2").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.json().as_array().unwrap().len(), 2);
    assert_eq!(
        page.header("link"),
        format!("<http://{HOST}/api/todos?limit=2&offset=2>; rel=\"next\"")
    );
    let last = app.get("/api/todos?limit=2&offset=2").await;
    assert_eq!(last.json().as_array().unwrap().len(), 1);
    assert!(last.headers.get("link").is_none());
}

async fn unknown_routes_and_methods_get_json_errors(backend: Backend) {
    let app = InProcessApp::new(backend).await;
    for (method, path, status, code, message) in [
        (
            Method::GET,
            "/api/todos/999999",
            404,
            "not_found",
            "task 999999 not found",
        ),
        (
            Method::GET,
            "/api/todos/abc",
            404,
            "not_found",
            "no task has the id \"abc\"",
        ),
        (
            Method::GET,
            "/api/nothing",
            404,
            "not_found",
            "no API route matches /api/nothing",
        ),
        (
            Method::PUT,
            "/api/todos",
            405,
            "method_not_allowed",
            "method not allowed",
        ),
        (
            Method::POST,
            "/api/todos/1",
            405,
            "method_not_allowed",
            "method not allowed",
        ),
    ] {
        let what = format!("{method} {path}");
        let reply = app
            .send(
                InProcessApp::request(method, path)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status.as_u16(), status, "{what}");
        let error = reply.json();
        assert_eq!(error["code"], code, "{what}: {error}");
        assert_eq!(error["message"], message, "{what}: {error}");
    }
}

async fn responses_carry_a_request_id(backend: Backend) {
    let app = InProcessApp::new(backend).await;
    let echoed = app
        .send(
            InProcessApp::request(Method::GET, "/healthz")
                .header("x-request-id", "abc-123")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(echoed.status, StatusCode::OK);
    assert_eq!(echoed.header("x-request-id"), "abc-123");
    let generated = app.get("/readyz").await;
    assert_eq!(generated.status, StatusCode::OK);
    assert_eq!(generated.header("x-request-id").len(), 36);
}
