//! Bad input: every case gets the right status, a JSON error that names the
//! problem, and leaves the stored data exactly as it was.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(
    bad_bodies_are_rejected_and_change_nothing,
    bad_patches_are_rejected_and_change_nothing,
    bad_list_parameters_get_422,
    unknown_ids_and_routes_get_404,
    wrong_method_gets_405,
    too_large_body_gets_413,
    bad_if_match_gets_400,
    out_of_range_imports_get_422,
);

/// (body, content type, expected status, expected field)
fn bad_creates() -> Vec<(&'static str, &'static str, u16, Option<&'static str>)> {
    let long = Box::leak(format!("{{\"title\": \"{}\"}}", "x".repeat(256)).into_boxed_str());
    vec![
        ("{\"title\": ", "application/json", 400, None),
        ("[1, 2]", "application/json", 400, None),
        ("{\"title\": \"ok\"}", "text/plain", 415, None),
        ("title=ok", "application/x-www-form-urlencoded", 415, None),
        ("{}", "application/json", 422, Some("title")),
        (
            "{\"title\": \"   \"}",
            "application/json",
            422,
            Some("title"),
        ),
        ("{\"title\": 12}", "application/json", 422, Some("title")),
        (long, "application/json", 422, Some("title")),
        (
            "{\"title\": \"x\", \"priority\": 0}",
            "application/json",
            422,
            Some("priority"),
        ),
        (
            "{\"title\": \"x\", \"priority\": 6}",
            "application/json",
            422,
            Some("priority"),
        ),
        (
            "{\"title\": \"x\", \"priority\": \"someday\"}",
            "application/json",
            422,
            Some("priority"),
        ),
        (
            "{\"title\": \"x\", \"priority\": 2.5}",
            "application/json",
            422,
            Some("priority"),
        ),
        (
            "{\"title\": \"x\", \"completed\": \"yes\"}",
            "application/json",
            422,
            Some("completed"),
        ),
        (
            "{\"title\": \"x\", \"order\": \"first\"}",
            "application/json",
            422,
            Some("order"),
        ),
        (
            "{\"title\": \"x\", \"due\": \"2030-02-30\"}",
            "application/json",
            422,
            Some("due"),
        ),
        (
            "{\"title\": \"x\", \"order\": 9223372036854775807}",
            "application/json",
            422,
            Some("order"),
        ),
        (
            "{\"title\": \"x\", \"due\": \"+20000-01-01\"}",
            "application/json",
            422,
            Some("due"),
        ),
        (
            "{\"title\": \"x\", \"due\": 20300101}",
            "application/json",
            422,
            Some("due"),
        ),
        (
            "{\"title\": \"x\", \"colour\": \"red\"}",
            "application/json",
            422,
            Some("body"),
        ),
    ]
}

async fn bad_bodies_are_rejected_and_change_nothing(app: TestApp) {
    app.create_titled("existing").await;
    let before = app.list("").await;
    for (body, content_type, status, field) in bad_creates() {
        let response = app
            .client
            .post(app.url("/api/todos"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status().as_u16(),
            status,
            "body {body:.60} as {content_type}"
        );
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let error: Value = response.json().await.unwrap();
        assert!(error["code"].is_string(), "{error}");
        assert!(
            error["message"].as_str().is_some_and(|m| m.len() > 10),
            "{error}"
        );
        assert_eq!(error["field"].as_str(), field, "{body:.60}: {error}");
    }
    assert_eq!(app.list("").await, before, "nothing was stored or changed");
}

async fn bad_patches_are_rejected_and_change_nothing(app: TestApp) {
    let task = app.create(json!({"title": "stable", "priority": 2})).await;
    let path = format!("/api/todos/{}", task["id"]);
    for (body, field) in [
        (json!({"title": ""}), "title"),
        (json!({"priority": "meh"}), "priority"),
        (json!({"completed": 1}), "completed"),
        (json!({"due": "tomorrow"}), "due"),
        // A valid field next to an invalid one must not be half-applied.
        (json!({"completed": true, "priority": 9}), "priority"),
    ] {
        let response = app.patch_json(&path, &body).await;
        assert_eq!(response.status(), 422, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["field"], field, "{body}");
    }
    let after: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(after, task);
}

async fn bad_list_parameters_get_422(app: TestApp) {
    for (query, field) in [
        ("?completed=maybe", "completed"),
        ("?sort=colour", "sort"),
        ("?limit=0", "limit"),
        ("?limit=100000", "limit"),
        ("?limit=ten", "limit"),
        ("?offset=-1", "offset"),
        ("?offset=9223372036854775808", "offset"),
        // PostgreSQL refuses NUL in text; this used to be a 500.
        ("?q=a%00b", "q"),
    ] {
        let response = app.get(&format!("/api/todos{query}")).await;
        assert_eq!(response.status(), 422, "{query}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["field"], field, "{query}");
    }
}

async fn unknown_ids_and_routes_get_404(app: TestApp) {
    for path in [
        "/api/todos/999999",
        "/api/todos/abc",
        "/api/todos/-1",
        // Not UTF-8: used to be axum's plain-text 400.
        "/api/todos/%FF",
        "/api/nothing",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["code"], "not_found");
    }
    let response = app
        .patch_json("/api/todos/999999", &json!({"completed": true}))
        .await;
    assert_eq!(response.status(), 404);
}

async fn wrong_method_gets_405(app: TestApp) {
    let response = app
        .client
        .put(app.url("/api/todos"))
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["code"], "method_not_allowed");
    assert_eq!(
        app.client
            .post(app.url("/api/todos/1"))
            .send()
            .await
            .unwrap()
            .status(),
        405
    );
}

async fn too_large_body_gets_413(app: TestApp) {
    let huge = json!({"title": "x".repeat(100 * 1024)});
    let response = app.post_json("/api/todos", &huge).await;
    assert_eq!(response.status(), 413);
    // The unread body ends the connection; the client is told so.
    assert_eq!(response.headers()["connection"], "close");
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["code"], "payload_too_large");
    assert!(app.list("").await.is_empty());
}

async fn bad_if_match_gets_400(app: TestApp) {
    let task = app.create_titled("x").await;
    let response = app
        .client
        .patch(app.url(&format!("/api/todos/{}", task["id"])))
        .header("if-match", "version-one")
        .json(&json!({"title": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        app.get(&format!("/api/todos/{}", task["id"]))
            .await
            .json::<Value>()
            .await
            .unwrap()["title"],
        "x"
    );
}

/// Values the database cannot hold, or that leave no room for new tasks,
/// are refused before anything is written (they used to be 500s on
/// PostgreSQL, and a huge id broke creating tasks afterwards).
async fn out_of_range_imports_get_422(app: TestApp) {
    let now = "2030-01-01T00:00:00Z";
    let task = json!({"id": 1, "title": "t", "priority": 1, "completed": false, "order": 1,
        "due": null, "created_at": now, "updated_at": now});
    for (field, value) in [
        ("id", json!(i64::MAX)),
        ("order", json!(i64::MAX)),
        ("order", json!(-(1_i64 << 62) - 1)),
        // Ids and positions must stay what a JavaScript client holds
        // exactly, also after new tasks are numbered past them.
        ("id", json!(1_i64 << 53)),
        ("order", json!(1_i64 << 53)),
        ("due", json!("+200000-01-01")),
        // The pages could not save such a task again.
        ("due", json!("1850-01-01")),
        ("created_at", json!("-5000-01-01T00:00:00Z")),
        ("updated_at", json!("+200000-01-01T00:00:00Z")),
    ] {
        let mut task = task.clone();
        task[field] = value;
        let document = json!({"format": "todo-app-export", "version": 1, "exported_at": now,
            "tasks": [task]});
        let response = app.post_json("/api/import?replace=true", &document).await;
        assert_eq!(response.status(), 422, "{field}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["field"], field, "{error}");
    }
    assert!(app.list("").await.is_empty());

    // Automatic numbering stops at the client limit (ties keep creation
    // order by id), so every export imports again and new tasks still
    // find room.
    app.create(json!({"title": "last", "order": (1_i64 << 53) - 1}))
        .await;
    let after = app.create_titled("after last").await;
    assert_eq!(after["order"], (1_i64 << 53) - 1);
    let titles: Vec<Value> = app
        .list("")
        .await
        .iter()
        .map(|t| t["title"].clone())
        .collect();
    assert_eq!(titles, ["last", "after last"]);
    let export: Value = app.get("/api/export").await.json().await.unwrap();
    let response = app.post_json("/api/import?replace=true", &export).await;
    assert_eq!(response.status(), 200);
    app.create_titled("still works").await;
}
