//! Issue 15: deleting a list can be undone. A deleted list is kept with
//! its tasks and members, but nobody sees it anywhere (the API, the pages,
//! the agenda, exports, the list cache) until its owner restores it, as it
//! was, within `DELETED_RETENTION`; then it is purged.

use std::time::Duration;

use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::helpers::{Backend, Browser, TestApp, accounts_config, token_client};
use crate::per_backend_tests;

per_backend_tests!(
    a_deleted_list_is_gone_everywhere_until_its_owner_restores_it,
    a_deleted_list_is_purged_after_the_retention,
);

async fn send(
    app: &TestApp,
    client: &Client,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client.request(method, app.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// What the owner and a member see of the list, through every way in.
async fn seen(app: &TestApp, client: &Client, list: i64) -> Value {
    let (_, lists) = send(app, client, Method::GET, "/api/lists", None).await;
    let listed = lists.as_array().unwrap().iter().any(|l| l["id"] == list);
    let (_, today) = send(app, client, Method::GET, "/api/today?date=2030-06-10", None).await;
    let (_, upcoming) = send(
        app,
        client,
        Method::GET,
        "/api/upcoming?date=2030-06-09",
        None,
    )
    .await;
    let titles = |tasks: &Value| -> Vec<String> {
        tasks
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_owned())
            .collect()
    };
    json!({
        "listed": listed,
        "today": titles(&today),
        "upcoming": titles(&upcoming),
    })
}

async fn page_status(browser: &Browser, path: &str) -> u16 {
    browser
        .client
        .get(browser.url(path))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn a_deleted_list_is_gone_everywhere_until_its_owner_restores_it(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let mut clients = Vec::new();
    let mut browsers = Vec::new();
    for name in ["ada", "bob", "cyd", "eve"] {
        let password = format!("{name}'s passphrase");
        browsers.push(app.sign_up(name, &password).await);
        clients.push(token_client(&app.token_for(name, &password).await));
    }
    let [ada, bob, cyd, eve]: [Client; 4] = clients.try_into().unwrap();
    let (_, home) = send(
        &app,
        &ada,
        Method::POST,
        "/api/lists",
        Some(json!({"name": "Home"})),
    )
    .await;
    let list = home["id"].as_i64().unwrap();
    let l = |rest: &str| format!("/api/lists/{list}{rest}");
    for (name, role) in [("bob", "editor"), ("cyd", "viewer")] {
        let (status, _) = send(
            &app,
            &ada,
            Method::POST,
            &l("/members"),
            Some(json!({"username": name, "role": role})),
        )
        .await;
        assert_eq!(status, 201);
    }
    let mut tasks = Vec::new();
    for (title, due, completed) in [
        ("rent", "2030-06-10", false),
        ("plants", "2030-06-11", false),
        ("done", "2030-06-10", true),
        ("dropped earlier", "2030-06-10", false),
    ] {
        let (status, task) = send(
            &app,
            &bob,
            Method::POST,
            &l("/todos"),
            Some(json!({"title": title, "due": due, "completed": completed})),
        )
        .await;
        assert_eq!(status, 201);
        tasks.push(task);
    }
    // One task was deleted on its own before the list went.
    let dropped = format!("/api/todos/{}", tasks[3]["id"]);
    assert_eq!(
        send(&app, &bob, Method::DELETE, &dropped, None).await.0,
        204
    );
    // Warm the list cache with the list's tasks.
    let (status, cached) = send(&app, &bob, Method::GET, &l("/todos"), None).await;
    assert_eq!((status, cached.as_array().unwrap().len()), (200, 3));

    let before = [
        seen(&app, &ada, list).await,
        seen(&app, &bob, list).await,
        seen(&app, &cyd, list).await,
    ];
    assert_eq!(before[1]["listed"], true);
    assert!(
        before[1]["today"]
            .as_array()
            .unwrap()
            .contains(&json!("rent")),
        "{}",
        before[1]
    );
    let (_, members_before) = send(&app, &ada, Method::GET, &l("/members"), None).await;
    let (_, tasks_before) = send(&app, &ada, Method::GET, &l("/todos"), None).await;
    let (_, list_before) = send(&app, &ada, Method::GET, &l(""), None).await;

    // Only the owner deletes it (the matrix is `sharing.rs`); the default
    // list never goes.
    let (status, _) = send(&app, &ada, Method::DELETE, &l(""), None).await;
    assert_eq!(status, 204);

    // Gone for everyone, everywhere.
    let rent = format!("/api/todos/{}", tasks[0]["id"]);
    let view = format!("/?list={list}");
    for (who, client, browser) in [
        ("ada", &ada, &browsers[0]),
        ("bob", &bob, &browsers[1]),
        ("cyd", &cyd, &browsers[2]),
    ] {
        let now = seen(&app, client, list).await;
        assert_eq!(now["listed"], false, "{who}");
        assert!(
            !now["today"].as_array().unwrap().contains(&json!("rent")),
            "{who}: {now}"
        );
        assert!(
            !now["upcoming"]
                .as_array()
                .unwrap()
                .contains(&json!("plants")),
            "{who}: {now}"
        );
        for path in [l(""), l("/todos"), l("/members"), rent.clone()] {
            let (status, body) = send(&app, client, Method::GET, &path, None).await;
            assert_eq!(status, 404, "{who} GET {path}: {body}");
        }
        let writes = [
            (
                Method::PATCH,
                rent.clone(),
                Some(json!({"title": "changed"})),
            ),
            (Method::DELETE, rent.clone(), None),
            (
                Method::POST,
                l("/todos"),
                Some(json!({"title": "sneaked in"})),
            ),
            (Method::DELETE, l("/todos"), None),
            (Method::PATCH, l(""), Some(json!({"name": "renamed"}))),
            (Method::DELETE, l(""), None),
            (
                Method::POST,
                l("/members"),
                Some(json!({"username": "eve", "role": "editor"})),
            ),
            (Method::DELETE, l("/members/bob"), None),
        ];
        for (method, path, body) in writes {
            let (status, answer) = send(&app, client, method.clone(), &path, body).await;
            assert_eq!(status, 404, "{who} {method} {path}: {answer}");
        }
        // Nothing of anyone's goes into it.
        let (status, answer) = send(
            &app,
            client,
            Method::POST,
            "/api/todos",
            Some(json!({"title": "in", "list_id": list})),
        )
        .await;
        assert_eq!(
            (status, answer["field"].as_str()),
            (422, Some("list_id")),
            "{who}"
        );
        // Nor does a task deleted from it come back.
        let (status, _) = send(
            &app,
            client,
            Method::POST,
            &format!("{dropped}/restore"),
            None,
        )
        .await;
        assert_ne!(status, 200, "{who}");
        // The pages, their forms and their live updates.
        assert_eq!(page_status(browser, &view).await, 404, "{who} {view}");
        assert_eq!(
            page_status(browser, &format!("/lists/{list}")).await,
            404,
            "{who}"
        );
        let state = format!("/todos/state?view=%2F%3Flist%3D{list}");
        assert_eq!(page_status(browser, &state).await, 404, "{who} {state}");
        let nav = browser
            .client
            .get(browser.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            !nav.contains(&format!("list={list}\"")),
            "{who}: the navigation still shows it"
        );
    }
    // The owner's export leaves it out.
    let (_, export) = send(&app, &ada, Method::GET, "/api/export", None).await;
    assert!(export["lists"].as_array().unwrap().is_empty(), "{export}");

    // Only the owner may bring it back: the members and a stranger cannot
    // even tell it exists.
    for (who, client) in [("bob", &bob), ("cyd", &cyd), ("eve", &eve)] {
        let (status, body) = send(&app, client, Method::POST, &l("/restore"), None).await;
        assert_eq!(status, 404, "{who}: {body}");
    }
    let (status, back) = send(&app, &ada, Method::POST, &l("/restore"), None).await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["name"], "Home");
    // As it was: its tasks, its members, where it was in every view.
    let (_, members_after) = send(&app, &ada, Method::GET, &l("/members"), None).await;
    assert_eq!(members_after, members_before);
    let (_, tasks_after) = send(&app, &ada, Method::GET, &l("/todos"), None).await;
    assert_eq!(tasks_after, tasks_before);
    let (_, mut list_after) = send(&app, &ada, Method::GET, &l(""), None).await;
    let mut list_before = list_before.clone();
    for list in [&mut list_before, &mut list_after] {
        list.as_object_mut().unwrap().remove("updated_at");
    }
    assert_eq!(list_after, list_before);
    let after = [
        seen(&app, &ada, list).await,
        seen(&app, &bob, list).await,
        seen(&app, &cyd, list).await,
    ];
    assert_eq!(after, before);
    assert_eq!(page_status(&browsers[1], &view).await, 200);
    // Twice is an error that changes nothing.
    let (status, again) = send(&app, &ada, Method::POST, &l("/restore"), None).await;
    assert_eq!(
        (status, again["code"].as_str()),
        (409, Some("conflict")),
        "{again}"
    );
    // The editor works in it again; the task deleted before the list can
    // come back too.
    let (status, _) = send(
        &app,
        &bob,
        Method::POST,
        &format!("{dropped}/restore"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    // A member asking to restore a list that is not deleted is refused as
    // any owner's change is.
    let (status, _) = send(&app, &bob, Method::POST, &l("/restore"), None).await;
    assert_eq!(status, 403);

    // The pages: delete through the form, undo through the form.
    let ada_page = &browsers[0];
    let deleted = ada_page
        .post_form(&format!("/lists/{list}/delete"), &[("confirm", "yes")])
        .await;
    assert_eq!(deleted.status(), 303);
    assert_eq!(page_status(ada_page, &view).await, 404);
    let restored = ada_page
        .post_form(&format!("/lists/{list}/restore"), &[])
        .await;
    assert_eq!(restored.status(), 303);
    assert_eq!(restored.headers()["location"], view.as_str());
    assert_eq!(page_status(ada_page, &view).await, 200);
    // A member's form is refused with a page that says so.
    let refused = browsers[1]
        .post_form(&format!("/lists/{list}/restore"), &[])
        .await;
    assert_eq!(refused.status(), 403);

    // The default list is never deleted, so never restored.
    let (_, lists) = send(&app, &ada, Method::GET, "/api/lists", None).await;
    let default = lists
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["default"] == true)
        .unwrap()["id"]
        .clone();
    let (status, _) = send(
        &app,
        &ada,
        Method::DELETE,
        &format!("/api/lists/{default}"),
        None,
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = send(
        &app,
        &ada,
        Method::POST,
        &format!("/api/lists/{default}/restore"),
        None,
    )
    .await;
    assert_eq!(status, 409);
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    use sqlx::Connection;
    match app.backend() {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(app.database.url())
                .await
                .unwrap();
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&mut conn)
                .await
                .unwrap()
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(app.database.url())
                .await
                .unwrap();
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&mut conn)
                .await
                .unwrap()
        }
    }
}

async fn a_deleted_list_is_purged_after_the_retention(backend: Backend) {
    let mut config = accounts_config();
    config.limits.deleted_retention = Duration::from_secs(2);
    let app = TestApp::spawn_with(backend, config)
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ada = token_client(&app.sign_up_with_token("ada", "ada's passphrase").await);
    app.sign_up("bob", "bob's passphrase").await;
    let (_, list) = send(
        &app,
        &ada,
        Method::POST,
        "/api/lists",
        Some(json!({"name": "Short-lived"})),
    )
    .await;
    let l = |rest: &str| format!("/api/lists/{}{rest}", list["id"]);
    send(
        &app,
        &ada,
        Method::POST,
        &l("/members"),
        Some(json!({"username": "bob", "role": "editor"})),
    )
    .await;
    let (_, gone) = send(
        &app,
        &ada,
        Method::POST,
        &l("/todos"),
        Some(json!({"title": "deleted first"})),
    )
    .await;
    send(
        &app,
        &ada,
        Method::POST,
        &l("/todos"),
        Some(json!({"title": "kept"})),
    )
    .await;
    send(
        &app,
        &ada,
        Method::DELETE,
        &format!("/api/todos/{}", gone["id"]),
        None,
    )
    .await;
    assert_eq!(send(&app, &ada, Method::DELETE, &l(""), None).await.0, 204);
    let before = count(&app, "SELECT COUNT(*) FROM lists").await;

    tokio::time::sleep(Duration::from_millis(2200)).await;
    // Past the retention it cannot come back, purged or not.
    let (status, _) = send(&app, &ada, Method::POST, &l("/restore"), None).await;
    assert_eq!(status, 404);
    let purged = app
        .store
        .clone()
        .with_retention(Duration::from_secs(2))
        .purge_deleted()
        .await
        .unwrap();
    assert_eq!((purged.lists, purged.tasks), (1, 2));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM lists").await, before - 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM tasks").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM list_members").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM deleted_tasks").await, 0);
}
