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
