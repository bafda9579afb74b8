//! Issue 15: an account owns at most `MAX_LISTS_PER_ACCOUNT` lists (its
//! default list included) and a list is shared with at most
//! `MAX_MEMBERS_PER_LIST` people. Past either, a 409 names the limit and
//! nothing is written. Deleted lists kept for undo cannot pile up: a new
//! list makes room by purging the oldest of them.

use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, accounts_config, token_client};
use crate::per_backend_tests;

per_backend_tests!(
    an_account_owns_at_most_max_lists,
    a_list_is_shared_with_at_most_max_members,
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

async fn names(app: &TestApp, client: &Client) -> Vec<String> {
    let (_, lists) = send(app, client, Method::GET, "/api/lists", None).await;
    lists
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["role"] == "owner")
        .map(|l| l["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn an_account_owns_at_most_max_lists(backend: Backend) {
    let mut config = accounts_config();
    config.limits.max_lists_per_account = 3;
    let app = TestApp::spawn_with(backend, config.clone())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ada_page = app.sign_up("ada", "ada's passphrase").await;
    let ada = token_client(&app.token_for("ada", "ada's passphrase").await);
    let bob = token_client(&app.sign_up_with_token("bob", "bob's passphrase").await);
    let create = |client: &Client, name: &str| {
        let request = client
            .post(app.url("/api/lists"))
            .json(&json!({ "name": name }));
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    // The default list and two more: the limit.
    let (_, work) = create(&ada, "Work").await;
    assert_eq!(create(&ada, "Home").await.0, 201);
    let (status, refused) = create(&ada, "One too many").await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["code"], "conflict");
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.contains("3 lists") && message.contains("MAX_LISTS_PER_ACCOUNT"),
        "{message}"
    );
    assert_eq!(names(&app, &ada).await, ["Tasks", "Work", "Home"]);
    // The page's form is refused alike, and writes nothing.
    let form = ada_page.post_form("/lists", &[("name", "By form")]).await;
    assert_eq!(form.status(), 409);
    assert!(form.text().await.unwrap().contains("MAX_LISTS_PER_ACCOUNT"));
    assert_eq!(names(&app, &ada).await.len(), 3);
    // Lists shared with an account are their owners': Bob may still make
    // his own and share them with Ada, past her limit.
    for name in ["Bob's 1", "Bob's 2"] {
        let (status, list) = create(&bob, name).await;
        assert_eq!(status, 201);
        let (status, _) = send(
            &app,
            &bob,
            Method::POST,
            &format!("/api/lists/{}/members", list["id"]),
            Some(json!({"username": "ada", "role": "editor"})),
        )
        .await;
        assert_eq!(status, 201);
    }
    let (_, all) = send(&app, &ada, Method::GET, "/api/lists", None).await;
    assert_eq!(all.as_array().unwrap().len(), 5);

    // An import that would make more lists than that is refused whole.
    let export = |lists: usize| {
        let lists: Vec<Value> = (0..lists)
            .map(|i| json!({"name": format!("imported {i}"), "position": i + 10, "tasks": []}))
            .collect();
        json!({"format": "todo-app-export", "version": 2, "exported_at": "2026-12-01T00:00:00Z",
               "tasks": [], "lists": lists})
    };
    let (status, body) = send(
        &app,
        &ada,
        Method::POST,
        "/api/import?replace=true",
        Some(export(3)),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("4 lists"),
        "{body}"
    );
    assert_eq!(names(&app, &ada).await, ["Tasks", "Work", "Home"]);
    let (status, _) = send(
        &app,
        &ada,
        Method::POST,
        "/api/import?replace=true",
        Some(export(2)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        names(&app, &ada).await,
        ["Tasks", "imported 0", "imported 1"]
    );

    // A deleted list still counts while it can be restored, but a new
    // list makes room by purging the oldest deleted one: deleting and
    // making lists never piles them up.
    let (_, lists) = send(&app, &ada, Method::GET, "/api/lists", None).await;
    let first = lists.as_array().unwrap()[1]["id"].clone();
    let second = lists.as_array().unwrap()[2]["id"].clone();
    for id in [&first, &second] {
        let (status, _) = send(
            &app,
            &ada,
            Method::DELETE,
            &format!("/api/lists/{id}"),
            None,
        )
        .await;
        assert_eq!(status, 204);
    }
    assert_eq!(create(&ada, "Fresh").await.0, 201);
    // The first deleted went to make room; the second is still there.
    let (status, _) = send(
        &app,
        &ada,
        Method::POST,
        &format!("/api/lists/{first}/restore"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = send(
        &app,
        &ada,
        Method::POST,
        &format!("/api/lists/{second}/restore"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(create(&ada, "Over").await.0, 409);
    let _ = work;

    // Restoring past a limit lowered since is refused and changes nothing.
    let (status, _) = send(
        &app,
        &ada,
        Method::DELETE,
        &format!("/api/lists/{second}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let mut lower = config;
    lower.limits.max_lists_per_account = 2;
    let (second_instance, server) = app.second_instance(lower).await;
    let response = ada
        .post(format!("{second_instance}/api/lists/{second}/restore"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    server.abort();
    assert_eq!(names(&app, &ada).await, ["Tasks", "Fresh"]);
}

async fn a_list_is_shared_with_at_most_max_members(backend: Backend) {
    let mut config = accounts_config();
    config.limits.max_members_per_list = 2;
    let app = TestApp::spawn_with(backend, config)
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ada = token_client(&app.sign_up_with_token("ada", "ada's passphrase").await);
    for name in ["bob", "cyd", "dee"] {
        app.sign_up(name, &format!("{name}'s passphrase")).await;
    }
    let (_, list) = send(
        &app,
        &ada,
        Method::POST,
        "/api/lists",
        Some(json!({"name": "Home"})),
    )
    .await;
    let members = format!("/api/lists/{}/members", list["id"]);
    for name in ["bob", "cyd"] {
        let (status, _) = send(
            &app,
            &ada,
            Method::POST,
            &members,
            Some(json!({"username": name, "role": "viewer"})),
        )
        .await;
        assert_eq!(status, 201);
    }
    let (status, refused) = send(
        &app,
        &ada,
        Method::POST,
        &members,
        Some(json!({"username": "dee", "role": "viewer"})),
    )
    .await;
    assert_eq!(status, 409, "{refused}");
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.contains("2 people") && message.contains("MAX_MEMBERS_PER_LIST"),
        "{message}"
    );
    let (_, listed) = send(&app, &ada, Method::GET, &members, None).await;
    let listed: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["username"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["bob", "cyd"], "nothing was written");
    // Room again once someone leaves.
    let (status, _) = send(&app, &ada, Method::DELETE, &format!("{members}/cyd"), None).await;
    assert_eq!(status, 204);
    let (status, _) = send(
        &app,
        &ada,
        Method::POST,
        &members,
        Some(json!({"username": "dee", "role": "editor"})),
    )
    .await;
    assert_eq!(status, 201);
}
