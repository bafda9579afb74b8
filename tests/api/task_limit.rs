//! Issue 14, defect 6: an account had no limit on its tasks (one imported
//! 200,000). `MAX_TASKS_PER_ACCOUNT` now caps a list: a create or an import
//! past it is refused with a 409 that names the limit, and writes nothing.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, accounts_config, token_client};
use crate::per_backend_tests;

per_backend_tests!(creates_and_imports_stop_at_the_task_limit);

fn document(titles: &[&str]) -> Value {
    let tasks: Vec<Value> = titles
        .iter()
        .enumerate()
        .map(|(i, title)| {
            json!({
                "id": i + 1, "title": title, "priority": 2, "completed": false,
                "order": i + 1, "due": null,
                "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
            })
        })
        .collect();
    json!({"format": "todo-app-export", "version": 1, "exported_at": "2026-01-01T00:00:00Z", "tasks": tasks})
}

async fn creates_and_imports_stop_at_the_task_limit(backend: Backend) {
    let mut config = accounts_config();
    config.limits.max_tasks_per_account = 3;
    let app = TestApp::spawn_with(backend, config)
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let token = app.sign_up_with_token("ada", "ada's passphrase").await;
    let ada = token_client(&token);
    let titles = |app: &TestApp, ada: &reqwest::Client| {
        let request = ada.get(app.url("/api/todos"));
        async move {
            request
                .send()
                .await
                .unwrap()
                .json::<Vec<Value>>()
                .await
                .unwrap()
                .iter()
                .map(|t| t["title"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    for title in ["one", "two", "three"] {
        let created = ada
            .post(app.url("/api/todos"))
            .json(&json!({ "title": title }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
    }
    let refused = ada
        .post(app.url("/api/todos"))
        .json(&json!({"title": "four"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 409);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["code"], "conflict");
    assert_eq!(
        error["message"],
        "this list holds its limit of 3 tasks; delete some before adding more"
    );
    // The page's form is refused the same way.
    let browser = app.log_in("ada", "ada's passphrase").await.unwrap();
    let page = browser.post_form("/todos", &[("title", "four")]).await;
    assert_eq!(page.status(), 409);
    assert!(page.text().await.unwrap().contains("limit of 3 tasks"));
    assert_eq!(titles(&app, &ada).await, ["one", "two", "three"]);

    // An import larger than the limit writes nothing, not even the
    // replacing delete.
    let refused = ada
        .post(app.url("/api/import?replace=true"))
        .json(&document(&["a", "b", "c", "d"]))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 409);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(
        error["message"],
        "the import holds 4 tasks, more than a list's limit of 3; nothing was imported"
    );
    assert_eq!(titles(&app, &ada).await, ["one", "two", "three"]);
    // One that fits is stored.
    let imported = ada
        .post(app.url("/api/import?replace=true"))
        .json(&document(&["a", "b", "c"]))
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), 200);
    assert_eq!(titles(&app, &ada).await, ["a", "b", "c"]);
    // Another account has its own room.
    let bob = token_client(&app.sign_up_with_token("bob", "bob's passphrase").await);
    let created = bob
        .post(app.url("/api/todos"))
        .json(&json!({"title": "bob's"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
}
