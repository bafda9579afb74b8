//! Issue 15: exports carry lists (format version 2): an account's own
//! lists, not those shared with it; they import beside the default list;
//! a version 1 file still imports into the default list.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, accounts_config, token_client};
use crate::per_backend_tests;

per_backend_tests!(
    exports_carry_lists_and_version_1_still_imports,
    the_settings_page_downloads_the_export,
);

async fn the_settings_page_downloads_the_export(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let browser = app.sign_up("ada", "ada's passphrase").await;
    let created = browser.post_form("/todos", &[("title", "kept safe")]).await;
    assert!(created.status().is_redirection(), "{}", created.status());
    let settings = browser
        .client
        .get(browser.url("/settings"))
        .send()
        .await
        .unwrap();
    let html = settings.text().await.unwrap();
    assert!(html.contains(r#"href="/api/export" download"#), "{html}");
    // The link works with the page's own session cookie.
    let export = browser
        .client
        .get(browser.url("/api/export"))
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    assert!(
        export.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let document: Value = export.json().await.unwrap();
    assert_eq!(document["tasks"][0]["title"], "kept safe");
}

async fn exports_carry_lists_and_version_1_still_imports(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ada = token_client(&app.sign_up_with_token("ada", "ada's passphrase").await);
    let bob = token_client(&app.sign_up_with_token("bob", "bob's passphrase").await);
    let post = |client: &reqwest::Client, path: &str, body: Value| {
        let request = client.post(app.url(path)).json(&body);
        async move {
            let response = request.send().await.unwrap();
            assert!(response.status().is_success(), "{}", response.status());
            response.json::<Value>().await.unwrap()
        }
    };
    post(&ada, "/api/todos", json!({"title": "in the default list"})).await;
    let work = post(&ada, "/api/lists", json!({"name": "Work"})).await;
    post(
        &ada,
        &format!("/api/lists/{}/todos", work["id"]),
        json!({"title": "report", "due": "2030-01-02"}),
    )
    .await;
    // A list Bob shares with Ada is Bob's: not in Ada's export.
    let bobs = post(&bob, "/api/lists", json!({"name": "Bob's"})).await;
    post(
        &bob,
        &format!("/api/lists/{}/members", bobs["id"]),
        json!({"username": "ada", "role": "editor"}),
    )
    .await;
    post(
        &ada,
        &format!("/api/lists/{}/todos", bobs["id"]),
        json!({"title": "not mine to export"}),
    )
    .await;

    let export: Value = ada
        .get(app.url("/api/export"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(export["version"], 2);
    assert_eq!(export["tasks"].as_array().unwrap().len(), 1);
    let lists = export["lists"].as_array().unwrap();
    assert_eq!(lists.len(), 1, "{export}");
    assert_eq!(lists[0]["name"], "Work");
    assert_eq!(lists[0]["tasks"][0]["title"], "report");

    // Into another account: the lists come back beside its default list.
    let cyd = token_client(&app.sign_up_with_token("cyd", "cyd's passphrase").await);
    let imported = post(&cyd, "/api/import", export.clone()).await;
    assert_eq!(imported["imported"], 2);
    let cyds: Vec<Value> = cyd
        .get(app.url("/api/lists"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = cyds.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Tasks", "Work"]);
    assert_eq!(cyds[1]["total"], 1);
    // Again, without replace: refused, nothing changes; with it, the same.
    let again = cyd
        .post(app.url("/api/import"))
        .json(&export)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    post(&cyd, "/api/import?replace=true", export.clone()).await;
    let cyds: Vec<Value> = cyd
        .get(app.url("/api/lists"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cyds.len(), 2, "replace does not duplicate lists");

    // A version 1 file (no lists) still imports, into the default list.
    let v1 = json!({"format": "todo-app-export", "version": 1, "exported_at": "2026-01-01T00:00:00Z",
        "tasks": [{"id": 1, "title": "old file", "priority": 1, "completed": false, "order": 1,
                   "due": null, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}]});
    let dee = token_client(&app.sign_up_with_token("dee", "dee's passphrase").await);
    assert_eq!(post(&dee, "/api/import", v1.clone()).await["imported"], 1);
    let titles: Vec<Value> = dee
        .get(app.url("/api/todos"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(titles[0]["title"], "old file");
    // A list that is not valid is named, and nothing is written.
    let mut bad = export.clone();
    bad["lists"][0]["name"] = json!(" ");
    let refused = dee
        .post(app.url("/api/import?replace=true"))
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().starts_with("lists[0]: "),
        "{body}"
    );
    let titles: Vec<Value> = dee
        .get(app.url("/api/todos"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(titles.len(), 1, "the refused import changed nothing");
}
