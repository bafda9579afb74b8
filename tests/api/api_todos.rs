//! The Todo-Backend style JSON API: happy paths.

use serde_json::{Value, json};
use todo_app::db::DatabaseTarget;
use todo_app::domain::NewTask;

use crate::backend_tests;
use crate::helpers::{TestApp, database_config};

backend_tests!(
    create_answers_201_with_location_and_task,
    url_ignores_untrusted_forwarded_headers,
    list_is_a_bare_array_in_order,
    get_patch_delete_one_task,
    patch_updates_any_field_and_clears_due,
    priority_accepts_names_and_numbers,
    filters_search_and_sort,
    paging_with_limit_offset_and_link,
    delete_all_and_clear_completed,
    complete_all_and_uncomplete_all,
    stale_if_match_gets_412_and_changes_nothing,
    export_then_import_round_trips,
    import_is_all_or_nothing,
    cors_preflight_is_answered,
    cors_headers_go_only_to_requests_with_an_origin,
    lists_see_writes_from_other_instances_and_tools,
);

async fn create_answers_201_with_location_and_task(app: TestApp) {
    let response = app
        .post_json(
            "/api/todos",
            &json!({"title": "  walk the dog  ", "priority": 3, "due": "2030-01-31"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let task: Value = response.json().await.unwrap();
    assert_eq!(task["title"], "walk the dog");
    assert_eq!(task["priority"], 3);
    assert_eq!(task["priority_name"], "high");
    assert_eq!(task["completed"], false);
    assert_eq!(task["due"], "2030-01-31");
    assert_eq!(task["url"], location);
    assert_eq!(location, app.url(&format!("/api/todos/{}", task["id"])));
    assert_eq!(etag, format!("\"{}\"", task["version"]));

    // The url works and gives the same task.
    let fetched: Value = app
        .client
        .get(&location)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched, task);
}

/// Clients may not choose the host of the URLs we hand out: without a
/// trusted proxy, `X-Forwarded-*` is ignored (see `accounts.rs` for the
/// trusted case and PUBLIC_URL).
async fn url_ignores_untrusted_forwarded_headers(app: TestApp) {
    let response = app
        .client
        .post(app.url("/api/todos"))
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "todo.example.com")
        .json(&json!({"title": "behind a balancer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let task: Value = response.json().await.unwrap();
    assert_eq!(task["url"], app.url(&format!("/api/todos/{}", task["id"])));
    assert!(!response_text_mentions(&task, "todo.example.com"));
}

fn response_text_mentions(value: &Value, needle: &str) -> bool {
    value.to_string().contains(needle)
}

async fn list_is_a_bare_array_in_order(app: TestApp) {
    assert_eq!(app.list("").await, Vec::<Value>::new());
    for title in ["one", "two", "three"] {
        app.create_titled(title).await;
    }
    let titles = app.titles("").await;
    assert_eq!(titles, ["one", "two", "three"]);
}

async fn get_patch_delete_one_task(app: TestApp) {
    let task = app.create_titled("read").await;
    let path = format!("/api/todos/{}", task["id"]);

    let response = app
        .patch_json(&path, &json!({"completed": true, "title": "read a book"}))
        .await;
    assert_eq!(response.status(), 200);
    let patched: Value = response.json().await.unwrap();
    assert_eq!(patched["completed"], true);
    assert_eq!(patched["title"], "read a book");
    assert_eq!(patched["version"], task["version"].as_i64().unwrap() + 1);

    let got: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(got, patched);

    assert_eq!(app.delete(&path).await.status(), 204);
    assert_eq!(app.get(&path).await.status(), 404);
    assert_eq!(app.delete(&path).await.status(), 404);
}

async fn patch_updates_any_field_and_clears_due(app: TestApp) {
    let task = app
        .create(json!({"title": "pay rent", "due": "2030-05-01"}))
        .await;
    let path = format!("/api/todos/{}", task["id"]);
    let patched: Value = app
        .patch_json(
            &path,
            &json!({"priority": "urgent", "order": 42, "due": "2030-06-01"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            patched["priority"].clone(),
            patched["order"].clone(),
            patched["due"].clone()
        ),
        (json!(4), json!(42), json!("2030-06-01"))
    );
    assert_eq!(patched["title"], "pay rent", "untouched fields stay");
    let cleared: Value = app
        .patch_json(&path, &json!({"due": null}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["due"], Value::Null);
    assert_eq!(cleared["priority"], 4);
}

async fn priority_accepts_names_and_numbers(app: TestApp) {
    for (given, number) in [
        (json!(1), 1),
        (json!("medium"), 2),
        (json!("3"), 3),
        (json!("Urgent"), 4),
        (json!("do-now"), 5),
    ] {
        let task = app.create(json!({"title": "p", "priority": given})).await;
        assert_eq!(task["priority"], number, "priority {given}");
    }
    // JSON does not tell 3.0 from 3; neither does the API.
    let whole = app
        .create(json!({"title": "p", "priority": 3.0, "order": 7.0}))
        .await;
    assert_eq!(
        (whole["priority"].clone(), whole["order"].clone()),
        (json!(3), json!(7))
    );
    let default = app.create_titled("no priority").await;
    assert_eq!(default["priority"], 1);
}

async fn filters_search_and_sort(app: TestApp) {
    app.create(json!({"title": "Buy MILK", "priority": 2, "due": "2030-03-01"}))
        .await;
    let done = app
        .create(json!({"title": "file taxes", "priority": 5}))
        .await;
    app.create(json!({"title": "buy bread", "priority": 3, "due": "2030-01-01"}))
        .await;
    app.create(json!({"title": "100% effort_", "priority": 1}))
        .await;
    app.patch_json(
        &format!("/api/todos/{}", done["id"]),
        &json!({"completed": true}),
    )
    .await;

    assert_eq!(app.titles("?completed=true").await, ["file taxes"]);
    assert_eq!(app.titles("?completed=false").await.len(), 3);
    assert_eq!(app.titles("?q=buy").await, ["Buy MILK", "buy bread"]);
    assert_eq!(
        app.titles("?q=%25").await,
        ["100% effort_"],
        "LIKE wildcards are literal"
    );
    assert_eq!(app.titles("?q=t_").await, ["100% effort_"]);
    assert_eq!(
        app.titles("?sort=priority").await,
        ["file taxes", "buy bread", "Buy MILK", "100% effort_"]
    );
    assert_eq!(
        app.titles("?sort=due").await,
        ["buy bread", "Buy MILK", "file taxes", "100% effort_"]
    );
    assert_eq!(
        app.titles("?sort=created").await,
        ["100% effort_", "buy bread", "file taxes", "Buy MILK"]
    );
    assert_eq!(
        app.titles("?sort=priority&completed=false&q=buy").await,
        ["buy bread", "Buy MILK"]
    );
}

async fn paging_with_limit_offset_and_link(app: TestApp) {
    for i in 0..5 {
        app.create_titled(&format!("task {i}")).await;
    }
    let response = app.get("/api/todos?limit=2&q=task").await;
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    let page: Vec<Value> = response.json().await.unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(
        link,
        format!(
            "<{}/api/todos?q=task&limit=2&offset=2>; rel=\"next\"",
            app.address
        )
    );

    // Follow the links to the end.
    let mut seen = page.len();
    let mut next = Some(link);
    while let Some(link) = next {
        let url = link
            .trim_start_matches('<')
            .split('>')
            .next()
            .unwrap()
            .to_owned();
        let response = app.client.get(&url).send().await.unwrap();
        next = response
            .headers()
            .get("link")
            .map(|l| l.to_str().unwrap().to_owned());
        seen += response.json::<Vec<Value>>().await.unwrap().len();
    }
    assert_eq!(seen, 5, "five tasks over three pages");
    let last = app.get("/api/todos?limit=2&offset=4").await;
    assert!(last.headers().get("link").is_none());
}

async fn delete_all_and_clear_completed(app: TestApp) {
    let a = app.create_titled("a").await;
    app.create_titled("b").await;
    app.patch_json(
        &format!("/api/todos/{}", a["id"]),
        &json!({"completed": true}),
    )
    .await;
    assert_eq!(app.delete("/api/todos?completed=true").await.status(), 204);
    let left = app.titles("").await;
    assert_eq!(left, ["b"]);
    assert_eq!(app.delete("/api/todos").await.status(), 204);
    assert!(app.list("").await.is_empty());
}

async fn complete_all_and_uncomplete_all(app: TestApp) {
    for t in ["a", "b", "c"] {
        app.create_titled(t).await;
    }
    let body: Value = app
        .patch_json("/api/todos", &json!({"completed": true}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["updated"], 3);
    assert!(app.list("").await.iter().all(|t| t["completed"] == true));
    app.patch_json("/api/todos", &json!({"completed": false}))
        .await;
    assert_eq!(app.list("?completed=false").await.len(), 3);
}

async fn stale_if_match_gets_412_and_changes_nothing(app: TestApp) {
    let task = app.create_titled("shared").await;
    let path = format!("/api/todos/{}", task["id"]);
    let first_etag = format!("\"{}\"", task["version"]);

    // Alice saves with the current ETag.
    let alice = app
        .client
        .patch(app.url(&path))
        .header("if-match", &first_etag)
        .json(&json!({"title": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(alice.status(), 200);
    let new_etag = alice.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, first_etag);

    // Bob still holds the first ETag: refused, and Alice's edit stays.
    let bob = app
        .client
        .patch(app.url(&path))
        .header("if-match", &first_etag)
        .json(&json!({"title": "bob"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bob.status(), 412);
    let error: Value = bob.json().await.unwrap();
    assert_eq!(error["code"], "precondition_failed");
    let stale_delete = app
        .client
        .delete(app.url(&path))
        .header("if-match", &first_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(stale_delete.status(), 412);
    let current: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(current["title"], "alice");

    // If-None-Match with the current ETag: 304.
    let cached = app
        .client
        .get(app.url(&path))
        .header("if-none-match", &new_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);

    let fresh_delete = app
        .client
        .delete(app.url(&path))
        .header("if-match", &new_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(fresh_delete.status(), 204);
}

async fn export_then_import_round_trips(app: TestApp) {
    app.create(json!({"title": "one", "priority": 2, "due": "2030-01-02"}))
        .await;
    let two = app.create_titled("two").await;
    app.patch_json(
        &format!("/api/todos/{}", two["id"]),
        &json!({"completed": true}),
    )
    .await;
    let export = app.get("/api/export").await;
    assert_eq!(export.status(), 200);
    assert!(
        export.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let document: Value = export.json().await.unwrap();
    assert_eq!(document["tasks"].as_array().unwrap().len(), 2);
    let before = app.list("").await;

    // Importing into a non-empty database needs replace=true.
    let refused = app.post_json("/api/import", &document).await;
    assert_eq!(refused.status(), 409);
    let replaced = app.post_json("/api/import?replace=true", &document).await;
    assert_eq!(replaced.status(), 200);
    assert_eq!(replaced.json::<Value>().await.unwrap()["imported"], 2);

    let strip_version = |tasks: Vec<Value>| -> Vec<Value> {
        tasks
            .into_iter()
            .map(|mut t| {
                t.as_object_mut().unwrap().remove("version");
                t
            })
            .collect()
    };
    assert_eq!(strip_version(app.list("").await), strip_version(before));

    // New tasks get ids after the imported ones.
    let next = app.create_titled("after import").await;
    assert!(next["id"].as_i64().unwrap() > two["id"].as_i64().unwrap());
}

async fn import_is_all_or_nothing(app: TestApp) {
    app.create_titled("keep me").await;
    let now = "2030-01-01T00:00:00Z";
    let document = json!({
        "format": "todo-app-export", "version": 1, "exported_at": now,
        "tasks": [
            {"id": 1, "title": "fine", "priority": 1, "completed": false, "order": 1, "due": null, "created_at": now, "updated_at": now},
            {"id": 2, "title": "", "priority": 1, "completed": false, "order": 2, "due": null, "created_at": now, "updated_at": now}
        ]
    });
    let response = app.post_json("/api/import?replace=true", &document).await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["field"], "title");
    assert!(
        error["message"].as_str().unwrap().contains("tasks[1]"),
        "{error}"
    );
    let titles = app.titles("").await;
    assert_eq!(titles, ["keep me"], "a rejected import changes nothing");
}

async fn cors_preflight_is_answered(app: TestApp) {
    let response = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/todos/1"))
        .header("origin", "https://todobackend.com")
        .header("access-control-request-method", "PATCH")
        .header("access-control-request-headers", "content-type,if-match")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let methods = response.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        methods.contains("PATCH") && methods.contains("DELETE"),
        "{methods}"
    );
    let simple = app
        .client
        .get(app.url("/api/todos"))
        .header("origin", "https://x.test")
        .send()
        .await
        .unwrap();
    assert_eq!(simple.headers()["access-control-allow-origin"], "*");
}

/// A request without `Origin` skips the CORS layer's work but gets the
/// same CORS headers a `GET` would get from it: `*` with the exposed
/// headers, and no `Vary` (the answer does not depend on the origin).
async fn cors_headers_go_only_to_requests_with_an_origin(app: TestApp) {
    let cors_headers = |response: &reqwest::Response| -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter(|(name, _)| name.as_str().starts_with("access-control-") || *name == "vary")
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
            .collect();
        headers.sort();
        headers
    };
    let plain = app.get("/api/todos").await;
    let cross = app
        .client
        .get(app.url("/api/todos"))
        .header("origin", "https://x.test")
        .send()
        .await
        .unwrap();
    assert_eq!(cors_headers(&plain), cors_headers(&cross));
    assert_eq!(plain.headers()["access-control-allow-origin"], "*");
    let exposed = plain.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert!(
        exposed.contains("etag") && exposed.contains("location"),
        "{exposed}"
    );
    assert!(!plain.headers().contains_key("vary"));
    // A preflight without `Origin` is still answered as one.
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/todos"))
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    assert!(
        preflight
            .headers()
            .contains_key("access-control-allow-methods")
    );
}

/// Lists are served from memory while the data is unchanged; a change made
/// elsewhere (another instance on the same database, or SQL from a tool) must
/// show up in the very next list.
async fn lists_see_writes_from_other_instances_and_tools(app: TestApp) {
    app.create_titled("mine").await;
    assert_eq!(app.titles("").await, ["mine"]);
    assert_eq!(app.titles("?completed=false").await, ["mine"]);

    let db_config = database_config(app.database.url());
    let other_instance = DatabaseTarget::from_config(&db_config)
        .unwrap()
        .connect(2, db_config.acquire_timeout);
    let shared = other_instance
        .default_list(todo_app::domain::Owner::SHARED)
        .await
        .unwrap();
    other_instance
        .create_task(
            shared,
            todo_app::domain::Owner::SHARED,
            NewTask::new(todo_app::domain::Title::parse("theirs").unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(app.titles("").await, ["mine", "theirs"]);
    assert_eq!(app.titles("?completed=false").await, ["mine", "theirs"]);
    other_instance.close().await;

    app.database
        .execute("UPDATE tasks SET completed = TRUE WHERE title = 'theirs'")
        .await;
    assert_eq!(app.titles("?completed=false").await, ["mine"]);
    assert_eq!(app.titles("?completed=true").await, ["theirs"]);
}
