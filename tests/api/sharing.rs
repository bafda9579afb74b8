//! Issue 15: who may do what with a shared list. The whole matrix: the
//! owner, an editor, a viewer, a removed member and a stranger, against
//! every route that reaches a list or its tasks. A non-member gets 404 as
//! for a list that does not exist, a viewer's write gets 403, and nothing a
//! refused request asked for happens. Then removal across two instances.

use reqwest::{Client, Method};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, accounts_config, server_config, token_client};
use crate::per_backend_tests;

per_backend_tests!(
    every_role_gets_exactly_its_rights,
    a_removed_member_loses_access_on_every_instance_at_once,
    moving_a_task_out_of_a_shared_list_hides_it_from_members,
    without_accounts_there_is_no_sharing,
);

struct People {
    owner: Client,
    editor: Client,
    viewer: Client,
    removed: Client,
    stranger: Client,
}

impl People {
    fn all(&self) -> [(&'static str, &Client); 5] {
        [
            ("owner", &self.owner),
            ("editor", &self.editor),
            ("viewer", &self.viewer),
            ("removed", &self.removed),
            ("stranger", &self.stranger),
        ]
    }
}

async fn send(
    app_url: &str,
    client: &Client,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client.request(method, format!("{app_url}{path}"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Ada's list "Home" with one task, shared with Bob (editor), Cyd (viewer)
/// and Dee (editor, then removed); Eve is a stranger.
async fn shared_list(app: &TestApp) -> (People, i64, i64) {
    let mut clients = Vec::new();
    for name in ["ada", "bob", "cyd", "dee", "eve"] {
        clients.push(token_client(
            &app.sign_up_with_token(name, &format!("{name}'s passphrase"))
                .await,
        ));
    }
    let [owner, editor, viewer, removed, stranger] = clients.try_into().unwrap();
    let people = People {
        owner,
        editor,
        viewer,
        removed,
        stranger,
    };
    let base = app.url("");
    let (status, list) = send(
        &base,
        &people.owner,
        Method::POST,
        "/api/lists",
        Some(json!({"name": "Home"})),
    )
    .await;
    assert_eq!(status, 201, "{list}");
    let list_id = list["id"].as_i64().unwrap();
    for (name, role) in [("bob", "editor"), ("cyd", "viewer"), ("dee", "editor")] {
        let (status, member) = send(
            &base,
            &people.owner,
            Method::POST,
            &format!("/api/lists/{list_id}/members"),
            Some(json!({"username": name, "role": role})),
        )
        .await;
        assert_eq!(status, 201, "{member}");
    }
    let (status, _) = send(
        &base,
        &people.owner,
        Method::DELETE,
        &format!("/api/lists/{list_id}/members/dee"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, task) = send(
        &base,
        &people.owner,
        Method::POST,
        &format!("/api/lists/{list_id}/todos"),
        Some(json!({"title": "Fix the tap", "completed": true})),
    )
    .await;
    assert_eq!(status, 201, "{task}");
    assert_eq!(task["created_by"], "ada");
    assert_eq!(task["completed_by"], "ada");
    (people, list_id, task["id"].as_i64().unwrap())
}

/// The list and its tasks as the owner sees them: what a refused request
/// must leave as it was.
async fn state_of(app: &TestApp, owner: &Client, list_id: i64) -> (Value, Value, Value) {
    let base = app.url("");
    let (_, mut list) = send(
        &base,
        owner,
        Method::GET,
        &format!("/api/lists/{list_id}"),
        None,
    )
    .await;
    list.as_object_mut().unwrap().remove("updated_at");
    let (_, tasks) = send(
        &base,
        owner,
        Method::GET,
        &format!("/api/lists/{list_id}/todos"),
        None,
    )
    .await;
    let (_, members) = send(
        &base,
        owner,
        Method::GET,
        &format!("/api/lists/{list_id}/members"),
        None,
    )
    .await;
    (list, tasks, members)
}

async fn every_role_gets_exactly_its_rights(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let (people, list, task) = shared_list(&app).await;
    let base = app.url("");
    let l = |rest: &str| format!("/api/lists/{list}{rest}");
    let t = format!("/api/todos/{task}");

    // Reading: members see the list, its tasks, its members and the task
    // (with its ETag); the others cannot tell it exists.
    let (_, etag_source) = send(&base, &people.owner, Method::GET, &t, None).await;
    let etag = format!("\"{}\"", etag_source["version"]);
    for (who, client) in people.all() {
        let member = matches!(who, "owner" | "editor" | "viewer");
        let (_, lists) = send(&base, client, Method::GET, "/api/lists", None).await;
        let listed = lists.as_array().unwrap().iter().find(|x| x["id"] == list);
        assert_eq!(listed.is_some(), member, "{who} in GET /api/lists");
        if let Some(listed) = listed {
            assert_eq!(listed["role"], who, "{who}'s role");
            assert_eq!(listed["owner"], "ada");
            assert_eq!(listed["shared"], true);
        }
        let expected = if member { 200 } else { 404 };
        for path in [l(""), l("/todos"), l("/members"), t.clone()] {
            let (status, body) = send(&base, client, Method::GET, &path, None).await;
            assert_eq!(status, expected, "{who} GET {path}: {body}");
            if !member {
                assert_eq!(body["code"], "not_found", "{who} GET {path}");
            }
        }
        let response = client
            .get(app.url(&t))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            if member { 304 } else { 404 },
            "{who} If-None-Match"
        );
        if !member {
            assert!(
                response.headers().get("etag").is_none(),
                "{who} learns no ETag"
            );
        }
    }

    // Refused writes: every one answers as the matrix says and changes
    // nothing.
    let before = state_of(&app, &people.owner, list).await;
    let refusals: Vec<(Method, String, Option<Value>)> = vec![
        (Method::PATCH, l(""), Some(json!({"name": "Mine now"}))),
        (Method::DELETE, l(""), None),
        (
            Method::POST,
            l("/todos"),
            Some(json!({"title": "sneaked in"})),
        ),
        (
            Method::PATCH,
            l("/todos"),
            Some(json!({"completed": false})),
        ),
        (Method::DELETE, l("/todos"), None),
        (Method::DELETE, l("/todos?completed=true"), None),
        (Method::PATCH, t.clone(), Some(json!({"title": "changed"}))),
        (Method::DELETE, t.clone(), None),
        (
            Method::POST,
            l("/members"),
            Some(json!({"username": "eve", "role": "editor"})),
        ),
        (
            Method::PATCH,
            l("/members/cyd"),
            Some(json!({"role": "editor"})),
        ),
        (Method::DELETE, l("/members/ada"), None),
        (Method::POST, l("/restore"), None),
    ];
    for (who, client) in people.all() {
        for (method, path, body) in &refusals {
            let manage = path == &l("") || path.contains("/members") || path.ends_with("/restore");
            let expected = match who {
                "owner" => continue,
                "editor" if !manage => continue,
                "editor" | "viewer" => 403,
                _ => 404,
            };
            let (status, answer) = send(&base, client, method.clone(), path, body.clone()).await;
            assert_eq!(status, expected, "{who} {method} {path}: {answer}");
        }
        // Putting a task of one's own into the list, by create or by move,
        // is refused the same way for everyone who may not add to it,
        // whether or not they can see it.
        if matches!(who, "viewer" | "removed" | "stranger") {
            let (status, answer) = send(
                &base,
                client,
                Method::POST,
                "/api/todos",
                Some(json!({"title": "in", "list_id": list})),
            )
            .await;
            assert_eq!(
                (status, answer["field"].as_str()),
                (422, Some("list_id")),
                "{who}: {answer}"
            );
            let (_, own) = send(
                &base,
                client,
                Method::POST,
                "/api/todos",
                Some(json!({"title": "mine"})),
            )
            .await;
            let (status, answer) = send(
                &base,
                client,
                Method::PATCH,
                &format!("/api/todos/{}", own["id"]),
                Some(json!({"list_id": list})),
            )
            .await;
            assert_eq!(
                (status, answer["field"].as_str()),
                (422, Some("list_id")),
                "{who}: {answer}"
            );
            // Their own "delete everything" never reaches the shared list.
            let (status, _) = send(&base, client, Method::DELETE, "/api/todos", None).await;
            assert_eq!(status, 204);
        }
    }
    assert_eq!(
        state_of(&app, &people.owner, list).await,
        before,
        "a refused request changed something"
    );

    // Allowed writes: the editor adds, completes, moves in and deletes.
    let (status, added) = send(
        &base,
        &people.editor,
        Method::POST,
        &l("/todos"),
        Some(json!({"title": "Buy washers"})),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(added["created_by"], "bob");
    let added_path = format!("/api/todos/{}", added["id"]);
    let (status, done) = send(
        &base,
        &people.editor,
        Method::PATCH,
        &added_path,
        Some(json!({"completed": true})),
    )
    .await;
    assert_eq!((status, done["completed_by"].as_str()), (200, Some("bob")));
    let (_, reopened) = send(
        &base,
        &people.owner,
        Method::PATCH,
        &added_path,
        Some(json!({"completed": false})),
    )
    .await;
    assert_eq!(reopened["completed_by"], Value::Null);
    let (_, own) = send(
        &base,
        &people.editor,
        Method::POST,
        "/api/todos",
        Some(json!({"title": "from bob's list"})),
    )
    .await;
    let (status, moved) = send(
        &base,
        &people.editor,
        Method::PATCH,
        &format!("/api/todos/{}", own["id"]),
        Some(json!({"list_id": list})),
    )
    .await;
    assert_eq!(
        (status, moved["list_id"].as_i64()),
        (200, Some(list)),
        "{moved}"
    );
    let (status, _) = send(&base, &people.editor, Method::DELETE, &added_path, None).await;
    assert_eq!(status, 204);
    // The viewer sees what the editor did.
    let (_, seen) = send(&base, &people.viewer, Method::GET, &l("/todos"), None).await;
    let titles: Vec<&str> = seen
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Fix the tap", "from bob's list"]);

    // A member leaves; the owner deletes the list, tasks and all.
    let (status, _) = send(
        &base,
        &people.viewer,
        Method::DELETE,
        &l("/members/cyd"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = send(&base, &people.viewer, Method::GET, &l(""), None).await;
    assert_eq!(status, 404);
    let (status, _) = send(&base, &people.owner, Method::DELETE, &l(""), None).await;
    assert_eq!(status, 204);
    for (who, client) in people.all() {
        let (status, _) = send(&base, client, Method::GET, &t, None).await;
        assert_eq!(status, 404, "{who} still reaches a task of a deleted list");
    }
    // Sharing with nobody, or with the owner, says so.
    let (_, other) = send(
        &base,
        &people.owner,
        Method::POST,
        "/api/lists",
        Some(json!({"name": "Other"})),
    )
    .await;
    let members = format!("/api/lists/{}/members", other["id"]);
    let (status, answer) = send(
        &base,
        &people.owner,
        Method::POST,
        &members,
        Some(json!({"username": "nobody", "role": "viewer"})),
    )
    .await;
    assert_eq!(
        (status, answer["message"].as_str()),
        (422, Some("no account is named \"nobody\""))
    );
    let (status, answer) = send(
        &base,
        &people.owner,
        Method::POST,
        &members,
        Some(json!({"username": "ADA", "role": "viewer"})),
    )
    .await;
    assert_eq!((status, answer["field"].as_str()), (422, Some("username")));
}

async fn a_removed_member_loses_access_on_every_instance_at_once(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let (people, list, _) = shared_list(&app).await;
    let (second, _server) = app.second_instance(accounts_config()).await;
    let todos = format!("/api/lists/{list}/todos");
    // Bob reads through the second instance (which caches the list body),
    // then Ada removes Bob through the first.
    for _ in 0..3 {
        let (status, _) = send(&second, &people.editor, Method::GET, &todos, None).await;
        assert_eq!(status, 200);
    }
    let (status, _) = send(
        &app.url(""),
        &people.owner,
        Method::DELETE,
        &format!("/api/lists/{list}/members/bob"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let removed_at = std::time::Instant::now();
    loop {
        let (status, _) = send(&second, &people.editor, Method::GET, &todos, None).await;
        if status == 404 {
            break;
        }
        assert!(
            removed_at.elapsed() < std::time::Duration::from_secs(2),
            "the second instance still serves the list to a removed member"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (status, _) = send(
        &second,
        &people.editor,
        Method::POST,
        &todos,
        Some(json!({"title": "x"})),
    )
    .await;
    assert_eq!(status, 404);
}

async fn moving_a_task_out_of_a_shared_list_hides_it_from_members(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let (people, list, task) = shared_list(&app).await;
    let base = app.url("");
    let (_, lists) = send(&base, &people.owner, Method::GET, "/api/lists", None).await;
    let default = lists
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["default"] == true)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, moved) = send(
        &base,
        &people.owner,
        Method::PATCH,
        &format!("/api/todos/{task}"),
        Some(json!({"list_id": default})),
    )
    .await;
    assert_eq!((status, moved["list_id"].as_i64()), (200, Some(default)));
    for client in [&people.editor, &people.viewer] {
        let (status, _) = send(
            &base,
            client,
            Method::GET,
            &format!("/api/todos/{task}"),
            None,
        )
        .await;
        assert_eq!(status, 404);
        let (_, tasks) = send(
            &base,
            client,
            Method::GET,
            &format!("/api/lists/{list}/todos"),
            None,
        )
        .await;
        assert_eq!(tasks, json!([]));
    }
    // The owner's plain /api/todos is the default list, and has it.
    let (_, mine) = send(&base, &people.owner, Method::GET, "/api/todos", None).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
}

/// `AUTH_MODE=none`: every list is everyone's, so there is no one to share
/// with. The pages offer no sharing, and the API's member routes say why
/// they are not there; nothing is stored.
async fn without_accounts_there_is_no_sharing(backend: Backend) {
    let app = TestApp::spawn_with(backend, server_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let client = Client::new();
    let lists: Value = client
        .get(app.url("/api/lists"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = lists[0]["id"].as_i64().unwrap();
    for page in [
        "/".to_owned(),
        format!("/lists/{list}"),
        "/today".to_owned(),
    ] {
        let html = client.get(app.url(&page)).send().await.unwrap();
        assert_eq!(html.status(), 200, "{page}");
        let html = html.text().await.unwrap().to_lowercase();
        assert!(
            !html.contains("share") && !html.contains("/members"),
            "{page} offers sharing"
        );
    }
    let sharing_page = client
        .get(app.url(&format!("/lists/{list}/sharing")))
        .send()
        .await
        .unwrap();
    assert_eq!(sharing_page.status(), 404);
    for (method, path, body) in [
        (Method::GET, format!("/api/lists/{list}/members"), None),
        (
            Method::POST,
            format!("/api/lists/{list}/members"),
            Some(json!({"username": "bobby", "role": "editor"})),
        ),
        (
            Method::DELETE,
            format!("/api/lists/{list}/members/bobby"),
            None,
        ),
    ] {
        let mut request = client.request(method.clone(), app.url(&path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
        let error: Value = response.json().await.unwrap();
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("sharing needs accounts"),
            "{error}"
        );
    }
    let after: Value = client
        .get(app.url("/api/lists"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after[0]["members"], 0);
    assert_eq!(after[0]["shared"], false);
}
