//! SQLite's direct reads (a task read on the request's own thread, see
//! `db::sqlite::DirectReads`) change how fast a task comes, never what it
//! says: two instances over one database, one reading directly and one
//! through the pool (`SQLITE_DIRECT_READS=false`), give the same answers,
//! headers included, for tasks of every shape, for another account's task
//! and for ids that do not exist, and see each other's writes at once.
//! On PostgreSQL the switch changes nothing; the test runs there too.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use todo_app::startup::Application;

use crate::account_tests;
use crate::helpers::{TestApp, accounts_config, token_client};

account_tests!(single_tasks_are_the_same_with_and_without_direct_reads);

/// The answer to `GET path` as it matters to a client.
async fn answer(client: &Client, base: &str, path: &str) -> (StatusCode, Option<String>, String) {
    let response = client.get(format!("{base}{path}")).send().await.unwrap();
    let status = response.status();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.text().await.unwrap().replace(base, "BASE");
    (status, etag, body)
}

async fn single_tasks_are_the_same_with_and_without_direct_reads(app: TestApp) {
    let plain = Application::build_with_store(
        accounts_config(),
        app.database.store().with_direct_reads(false),
    )
    .await
    .unwrap();
    let plain_base = format!("http://127.0.0.1:{}", plain.local_addr().port());
    let _plain = tokio::spawn(plain.run_until_stopped());

    let ada = token_client(&app.sign_up_with_token("ada", "ada's passphrase").await);
    let bob = token_client(&app.sign_up_with_token("bob", "bob's passphrase").await);
    let create = async |client: &Client, body: Value| -> i64 {
        let response = client
            .post(app.url("/api/todos"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let mut ids = vec![
        create(&ada, json!({"title": "plain"})).await,
        create(
            &ada,
            json!({"title": "Ünïcode ✓ \"quoted\"", "priority": 5, "due": "2030-02-28", "due_time": "09:30"}),
        )
        .await,
        create(
            &ada,
            json!({"title": "done", "completed": true, "order": -7}),
        )
        .await,
    ];
    let bobs = create(&bob, json!({"title": "bob's own"})).await;

    let compare = async |step: &str, ids: &[i64]| {
        let mut paths: Vec<String> = ids.iter().map(|id| format!("/api/todos/{id}")).collect();
        // Bob's task is not Ada's to read; an id nobody has; and one past it.
        paths.push(format!("/api/todos/{bobs}"));
        paths.push("/api/todos/999999".to_owned());
        for path in &paths {
            let direct = answer(&ada, &app.address, path).await;
            let pooled = answer(&ada, &plain_base, path).await;
            assert_eq!(direct, pooled, "{step}: {path}");
            assert!(
                direct.0 == 200 || direct.0 == 404,
                "{step}: {path}: {direct:?}"
            );
        }
        // Bob reads his own, both ways.
        let path = format!("/api/todos/{bobs}");
        let direct = answer(&bob, &app.address, &path).await;
        assert_eq!(direct.0, 200, "{step}: bob's own task");
        assert_eq!(direct, answer(&bob, &plain_base, &path).await, "{step}");
    };
    compare("created", &ids).await;

    // A change made through one instance is read back at once through the
    // other (each read is its own transaction, never a stale snapshot).
    for (base, title) in [
        (&plain_base, "renamed by the plain one"),
        (&app.address, "and back"),
    ] {
        let response = ada
            .patch(format!("{base}/api/todos/{}", ids[0]))
            .json(&json!({"title": title, "completed": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        for reader in [&app.address, &plain_base] {
            let (_, _, body) = answer(&ada, reader, &format!("/api/todos/{}", ids[0])).await;
            let read: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(read["title"], title, "read through {reader}");
        }
    }
    compare("changed", &ids).await;

    let gone = ids.remove(1);
    let response = ada
        .delete(app.url(&format!("/api/todos/{gone}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    ids.push(gone);
    compare("one deleted", &ids).await;
}
