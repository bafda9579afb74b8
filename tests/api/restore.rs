//! Issue 15: deleting a task keeps it for a while, and
//! `POST /api/todos/{id}/restore` puts back the same task (its id, list,
//! place, history and every field), once. Only those who may change tasks
//! in its list may restore it; others are refused and nothing changes.
//! After `DELETED_RETENTION` it is gone for good.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, accounts_config, server_config, token_client};
use crate::per_backend_tests;

per_backend_tests!(
    a_restored_task_is_the_same_task,
    bulk_deletions_are_restored_too,
    only_those_who_may_change_the_list_restore,
    deleted_tasks_are_purged_after_the_retention,
);

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn(backend)
        .await
        .expect(crate::helpers::NO_POSTGRES)
}

async fn restore(client: &Client, app: &TestApp, id: &Value) -> (StatusCode, Value) {
    let response = client
        .post(app.url(&format!("/api/todos/{id}/restore")))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every field of a task but the two a restore moves on.
fn unchanged_part(task: &Value) -> Value {
    let mut task = task.clone();
    let object = task.as_object_mut().unwrap();
    object.remove("version");
    object.remove("updated_at");
    task
}

async fn a_restored_task_is_the_same_task(backend: Backend) {
    let app = spawn(backend).await;
    app.create_titled("first").await;
    let precious = app
        .create(json!({
            "title": "precious", "priority": 4, "completed": true,
            "due": "2031-07-08", "due_time": "07:45"
        }))
        .await;
    app.create_titled("last").await;
    let id = &precious["id"];
    let path = format!("/api/todos/{id}");
    assert_eq!(app.delete(&path).await.status(), 204);
    assert_eq!(app.get(&path).await.status(), 404);
    assert_eq!(app.titles("").await, ["first", "last"]);

    let (status, back) = restore(&app.client, &app, id).await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(unchanged_part(&back), unchanged_part(&precious));
    assert_eq!(back["version"], precious["version"].as_i64().unwrap() + 1);
    let read = app.get(&path).await;
    assert_eq!(
        read.headers()["etag"],
        format!("\"{}\"", back["version"]).as_str()
    );
    assert_eq!(read.json::<Value>().await.unwrap(), back);
    assert_eq!(
        app.titles("").await,
        ["first", "precious", "last"],
        "in its place"
    );

    // Once back, it is not deleted: a second restore says so and changes
    // nothing.
    let (status, again) = restore(&app.client, &app, id).await;
    assert_eq!(
        (status.as_u16(), again["code"].as_str()),
        (409, Some("conflict"))
    );
    assert!(
        again["message"].as_str().unwrap().contains("not deleted"),
        "{again}"
    );
    let still: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(still["version"], back["version"]);
    // A task never deleted, or never there.
    let (status, _) = restore(&app.client, &app, &json!(999999)).await;
    assert_eq!(status, 404);
    let (status, _) = restore(&app.client, &app, &json!("x")).await;
    assert_eq!(status, 404);

    // Deleted, restored, deleted again, restored again: still the same.
    assert_eq!(app.delete(&path).await.status(), 204);
    let (status, twice) = restore(&app.client, &app, id).await;
    assert_eq!(status, 200);
    assert_eq!(unchanged_part(&twice), unchanged_part(&precious));

    // A delete refused for a stale version keeps nothing to restore.
    let stale = app
        .client
        .delete(app.url(&path))
        .header("if-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
    let (status, _) = restore(&app.client, &app, id).await;
    assert_eq!(status, 409);
}

async fn bulk_deletions_are_restored_too(backend: Backend) {
    let app = spawn(backend).await;
    let mut made = Vec::new();
    for (title, completed) in [("a", true), ("b", false), ("c", true)] {
        made.push(
            app.create(json!({"title": title, "completed": completed}))
                .await,
        );
    }
    // Clear completed, then bring each back.
    assert_eq!(app.delete("/api/todos?completed=true").await.status(), 204);
    assert_eq!(app.titles("").await, ["b"]);
    for task in [&made[0], &made[2]] {
        let (status, back) = restore(&app.client, &app, &task["id"]).await;
        assert_eq!(status, 200);
        assert_eq!(unchanged_part(&back), unchanged_part(task));
    }
    assert_eq!(app.titles("").await, ["a", "b", "c"]);
    // Delete everything, then bring it all back.
    assert_eq!(app.delete("/api/todos").await.status(), 204);
    assert!(app.titles("").await.is_empty());
    for task in &made {
        let (status, _) = restore(&app.client, &app, &task["id"]).await;
        assert_eq!(status, 200);
    }
    assert_eq!(app.titles("").await, ["a", "b", "c"]);
    // The same through a list's own route.
    let lists: Vec<Value> = app.get("/api/lists").await.json().await.unwrap();
    let todos = format!("/api/lists/{}/todos?completed=true", lists[0]["id"]);
    assert_eq!(app.delete(&todos).await.status(), 204);
    let (status, _) = restore(&app.client, &app, &made[2]["id"]).await;
    assert_eq!(status, 200);
    assert_eq!(app.titles("").await, ["b", "c"]);
}

/// Ada's list "Home", shared with Bob (editor), Cyd (viewer) and Dee
/// (editor, then removed); Eve is a stranger. Returns the clients and the
/// list's id.
async fn home(app: &TestApp) -> ([Client; 5], i64) {
    let mut clients = Vec::new();
    for name in ["ada", "bob", "cyd", "dee", "eve"] {
        clients.push(token_client(
            &app.sign_up_with_token(name, &format!("{name}'s passphrase"))
                .await,
        ));
    }
    let clients: [Client; 5] = clients.try_into().unwrap();
    let list: Value = clients[0]
        .post(app.url("/api/lists"))
        .json(&json!({"name": "Home"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = list["id"].as_i64().unwrap();
    for (name, role) in [("bob", "editor"), ("cyd", "viewer"), ("dee", "editor")] {
        let response = clients[0]
            .post(app.url(&format!("/api/lists/{id}/members")))
            .json(&json!({"username": name, "role": role}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    let response = clients[0]
        .delete(app.url(&format!("/api/lists/{id}/members/dee")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    (clients, id)
}

async fn add(app: &TestApp, client: &Client, list: i64, title: &str) -> Value {
    let response = client
        .post(app.url(&format!("/api/lists/{list}/todos")))
        .json(&json!({"title": title}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn titles_in(app: &TestApp, client: &Client, list: i64) -> Vec<String> {
    let tasks: Vec<Value> = client
        .get(app.url(&format!("/api/lists/{list}/todos")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tasks
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn only_those_who_may_change_the_list_restore(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ([ada, bob, cyd, dee, eve], list) = home(&app).await;
    let tap = add(&app, &ada, list, "Fix the tap").await;
    let bins = add(&app, &bob, list, "Bins out").await;
    let delete = |client: &Client, task: &Value| {
        let request = client.delete(app.url(&format!("/api/todos/{}", task["id"])));
        async move { assert_eq!(request.send().await.unwrap().status(), 204) }
    };

    // The owner deletes a task: the viewer may not restore it, the removed
    // member and the stranger cannot tell it exists, and none of them
    // changes anything.
    delete(&ada, &tap).await;
    for (who, client, expected) in [("cyd", &cyd, 403), ("dee", &dee, 404), ("eve", &eve, 404)] {
        let (status, body) = restore(client, &app, &tap["id"]).await;
        assert_eq!(status.as_u16(), expected, "{who}: {body}");
        if expected == 404 {
            assert_eq!(
                body["message"],
                format!("task {} not found", tap["id"]),
                "{who}"
            );
        }
        assert_eq!(
            titles_in(&app, &ada, list).await,
            ["Bins out"],
            "{who} changed nothing"
        );
    }
    // The editor may, though the owner deleted it.
    let (status, back) = restore(&bob, &app, &tap["id"]).await;
    assert_eq!(status, 200);
    assert_eq!(back["created_by"], "ada");
    assert_eq!(
        titles_in(&app, &ada, list).await,
        ["Fix the tap", "Bins out"]
    );

    // The editor deletes; the owner restores.
    delete(&bob, &bins).await;
    let (status, back) = restore(&ada, &app, &bins["id"]).await;
    assert_eq!(
        (status.as_u16(), back["created_by"].as_str()),
        (200, Some("bob"))
    );

    // Write access lost after deleting: refused, and nothing changes.
    delete(&bob, &bins).await;
    let demoted = ada
        .patch(app.url(&format!("/api/lists/{list}/members/bob")))
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(demoted.status(), 200);
    let (status, _) = restore(&bob, &app, &bins["id"]).await;
    assert_eq!(status, 403);
    let removed = ada
        .delete(app.url(&format!("/api/lists/{list}/members/bob")))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    let (status, _) = restore(&bob, &app, &bins["id"]).await;
    assert_eq!(status, 404);
    assert_eq!(titles_in(&app, &ada, list).await, ["Fix the tap"]);

    // A task of a list that was deleted since does not come back into
    // it: the list comes back first. Nothing changes meanwhile.
    delete(&ada, &tap).await;
    let gone = ada
        .delete(app.url(&format!("/api/lists/{list}")))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    let (status, body) = restore(&ada, &app, &tap["id"]).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("restore the list first"),
        "{body}"
    );
    let (status, _) = restore(&eve, &app, &tap["id"]).await;
    assert_eq!(status, 404);
    let export: Value = ada
        .get(app.url("/api/export"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(export["lists"].as_array().unwrap().is_empty(), "{export}");
    assert!(export["tasks"].as_array().unwrap().is_empty(), "{export}");
    let back = ada
        .post(app.url(&format!("/api/lists/{list}/restore")))
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 200);
    let (status, _) = restore(&ada, &app, &tap["id"]).await;
    assert_eq!(status, 200);
    assert_eq!(titles_in(&app, &ada, list).await, ["Fix the tap"]);
}

async fn deleted_rows(app: &TestApp) -> i64 {
    use sqlx::Connection;
    let sql = "SELECT COUNT(*) FROM deleted_tasks";
    match app.backend() {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(app.database.url())
                .await
                .unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(app.database.url())
                .await
                .unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
        }
    }
}

async fn deleted_tasks_are_purged_after_the_retention(backend: Backend) {
    let mut config = server_config();
    config.limits.deleted_retention = Duration::from_secs(2);
    let app = TestApp::spawn_with(backend, config.clone())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let mut ids = Vec::new();
    for title in ["one", "two", "three"] {
        ids.push(app.create_titled(title).await["id"].clone());
    }
    assert_eq!(app.delete("/api/todos").await.status(), 204);
    assert_eq!(deleted_rows(&app).await, 3);
    // Within the retention, a purge keeps them and a restore works.
    let purged = app
        .store
        .clone()
        .with_retention(config.limits.deleted_retention)
        .purge_deleted()
        .await
        .unwrap();
    assert_eq!(purged, todo_app::db::Purged::default());
    let (status, _) = restore(&app.client, &app, &ids[0]).await;
    assert_eq!(status, 200);
    assert_eq!(deleted_rows(&app).await, 2);

    // Past it, a restore is refused before any purge ran …
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let (status, _) = restore(&app.client, &app, &ids[1]).await;
    assert_eq!(status, 404);
    assert_eq!(app.titles("").await, ["one"]);
    // … and an instance purges at start (then every few minutes).
    let (_, second) = app.second_instance(config).await;
    let mut waited = Duration::ZERO;
    while deleted_rows(&app).await > 0 {
        assert!(waited < Duration::from_secs(10), "not purged");
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += Duration::from_millis(100);
    }
    second.abort();
}
