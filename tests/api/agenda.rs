//! Issue 15: Today and Upcoming, across every list the reader can see, for
//! the reader's day.

use reqwest::Client;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, accounts_config, token_client};
use crate::per_backend_tests;

per_backend_tests!(today_and_upcoming_span_lists_for_the_readers_day);

async fn post(app: &TestApp, client: &Client, path: &str, body: Value) -> Value {
    let response = client.post(app.url(path)).json(&body).send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

async fn titles(app: &TestApp, client: &Client, path: &str) -> Vec<String> {
    let response = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let tasks: Vec<Value> = response.json().await.unwrap();
    tasks
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn today_and_upcoming_span_lists_for_the_readers_day(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ada = token_client(&app.sign_up_with_token("ada", "ada's passphrase").await);
    let bob = token_client(&app.sign_up_with_token("bob", "bob's passphrase").await);
    let stranger = token_client(&app.sign_up_with_token("eve", "eve's passphrase").await);
    // Bob shares a list with Ada; Eve's tasks are hers alone.
    let shared = post(&app, &bob, "/api/lists", json!({"name": "Flat"})).await;
    let flat = format!("/api/lists/{}/todos", shared["id"]);
    post(
        &app,
        &bob,
        &format!("/api/lists/{}/members", shared["id"]),
        json!({"username": "ada", "role": "viewer"}),
    )
    .await;
    let work = post(&app, &ada, "/api/lists", json!({"name": "Work"})).await;
    let work_todos = format!("/api/lists/{}/todos", work["id"]);

    for (client, path, title, due, completed) in [
        (&ada, "/api/todos", "overdue", Some("2030-06-09"), false),
        (
            &ada,
            "/api/todos",
            "done long ago",
            Some("2030-06-09"),
            true,
        ),
        (
            &ada,
            work_todos.as_str(),
            "due today",
            Some("2030-06-10"),
            false,
        ),
        (&ada, "/api/todos", "done today", Some("2030-06-10"), true),
        (
            &bob,
            flat.as_str(),
            "rent, shared",
            Some("2030-06-10"),
            false,
        ),
        (&ada, "/api/todos", "tomorrow", Some("2030-06-11"), false),
        (
            &ada,
            work_todos.as_str(),
            "in a week",
            Some("2030-06-17"),
            false,
        ),
        (
            &ada,
            "/api/todos",
            "in eight days",
            Some("2030-06-18"),
            false,
        ),
        (&ada, "/api/todos", "no date", None, false),
        (
            &stranger,
            "/api/todos",
            "eve's, due today",
            Some("2030-06-10"),
            false,
        ),
    ] {
        post(
            &app,
            client,
            path,
            json!({"title": title, "due": due, "completed": completed}),
        )
        .await;
    }

    assert_eq!(
        titles(&app, &ada, "/api/today?date=2030-06-10").await,
        ["overdue", "due today", "rent, shared", "done today"]
    );
    assert_eq!(
        titles(&app, &ada, "/api/upcoming?date=2030-06-10").await,
        ["tomorrow", "in a week"]
    );
    // The reader's day, not the server's: a day later, yesterday's tasks
    // are overdue and the window moves on.
    assert_eq!(
        titles(&app, &ada, "/api/today?date=2030-06-11").await,
        ["overdue", "due today", "rent, shared", "tomorrow"]
    );
    assert_eq!(
        titles(&app, &ada, "/api/upcoming?date=2030-06-11").await,
        ["in a week", "in eight days"]
    );
    // Each task says which list it is in.
    let today: Vec<Value> = ada
        .get(app.url("/api/today?date=2030-06-10&limit=3"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(today.len(), 3);
    assert_eq!(today[2]["list_id"], shared["id"]);
    assert_eq!(today[2]["created_by"], "bob");
    // Leaving the shared list takes its tasks out of the views at once.
    let left = ada
        .delete(app.url(&format!("/api/lists/{}/members/ada", shared["id"])))
        .send()
        .await
        .unwrap();
    assert_eq!(left.status(), 204);
    assert_eq!(
        titles(&app, &ada, "/api/today?date=2030-06-10").await,
        ["overdue", "due today", "done today"]
    );
    // Bad input is named.
    for (query, field) in [
        ("date=2030-13-01", "date"),
        ("date=tomorrow", "date"),
        ("limit=0", "limit"),
    ] {
        let response = ada
            .get(app.url(&format!("/api/today?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["field"], field, "{query}");
    }
}
