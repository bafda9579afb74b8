//! Requests that are refused, or that used to go wrong in ways the probing
//! of the public deployment found: each is refused cleanly and changes
//! nothing, on both databases.

use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(
    control_characters_in_a_page_search_are_dropped,
    form_posts_with_invalid_utf8_are_refused_like_the_api,
    etags_never_repeat_for_a_task_id_after_a_replacing_import,
);

/// `GET /?q=%00` was a 500 on PostgreSQL, which refuses NUL in text.
async fn control_characters_in_a_page_search_are_dropped(app: TestApp) {
    app.create_titled("milk").await;
    for query in ["%00", "%00milk", "mi%07lk%0A"] {
        let page = app.get(&format!("/?q={query}")).await;
        assert_eq!(page.status(), 200, "{query}");
    }
    let html = app.get("/?q=%00milk").await.text().await.unwrap();
    assert!(
        html.contains(">milk</label>"),
        "the search for \"milk\" finds it"
    );
}

/// The API refuses bodies that are not UTF-8; the form posts used to store
/// them with replacement characters instead.
async fn form_posts_with_invalid_utf8_are_refused_like_the_api(app: TestApp) {
    let response = app
        .client
        .post(app.url("/todos"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("title=caf%E9")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let html = response.text().await.unwrap();
    assert!(html.contains("not valid UTF-8"), "{html}");
    let api = app
        .client
        .post(app.url("/api/todos"))
        .header("content-type", "application/json")
        .body(b"{\"title\": \"caf\xe9\"}".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 400);
    assert!(app.list("").await.is_empty());
    // Valid UTF-8, percent-encoded, is of course fine.
    let ok = app
        .client
        .post(app.url("/todos"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("title=caf%C3%A9")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
    assert_eq!(app.titles("").await, ["café"]);
}

/// After `import?replace=true` versions used to start again at 1, so a
/// stale `If-Match: "1"` succeeded and an old `If-None-Match` got a 304 for
/// different content.
async fn etags_never_repeat_for_a_task_id_after_a_replacing_import(app: TestApp) {
    let task = app.create_titled("original").await;
    let id = task["id"].as_i64().unwrap();
    let url = format!("/api/todos/{id}");
    let first_etag = app.get(&url).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let export: Value = app.get("/api/export").await.json().await.unwrap();
    let mut changed = export.clone();
    changed["tasks"][0]["title"] = json!("imported instead");
    for document in [&export, &changed] {
        let response = app.post_json("/api/import?replace=true", document).await;
        assert_eq!(response.status(), 200);
        let now = app.get(&url).await;
        let etag = now.headers()["etag"].to_str().unwrap().to_owned();
        assert_ne!(etag, first_etag, "an ETag was issued twice for task {id}");
        let cached = app
            .client
            .get(app.url(&url))
            .header("if-none-match", &first_etag)
            .send()
            .await
            .unwrap();
        assert_eq!(cached.status(), 200, "an old ETag must not get a 304");
        let stale = app
            .client
            .patch(app.url(&url))
            .header("if-match", &first_etag)
            .json(&json!({"title": "stale"}))
            .send()
            .await
            .unwrap();
        assert_eq!(stale.status(), 412);
    }
    // Two imports of the same id never share a version either.
    let after: Value = app.get(&url).await.json().await.unwrap();
    assert_eq!(after["title"], "imported instead");
}
