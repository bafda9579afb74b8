//! Issue 14, defect 7 (moves): a move reads a list's order and writes it
//! back in several updates, so moves on one list take turns; they used to
//! take turns with every other account's moves too, through one lock for
//! the whole process. A long move in one account must not hold up a move in
//! another.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::account_tests;
use crate::helpers::{TestApp, token_client};

account_tests!(a_long_move_in_one_account_does_not_hold_up_another);

/// An export document of `count` tasks.
fn document(count: usize) -> Value {
    let tasks: Vec<Value> = (1..=count)
        .map(|i| {
            json!({
                "id": i, "title": format!("task {i}"), "priority": 2, "completed": false,
                "order": i, "due": null,
                "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
            })
        })
        .collect();
    json!({"format": "todo-app-export", "version": 1, "exported_at": "2026-01-01T00:00:00Z", "tasks": tasks})
}

async fn a_long_move_in_one_account_does_not_hold_up_another(app: TestApp) {
    // Bob's list is long (as long as a page shows): moving his last task
    // to the top rewrites every position, a thousand updates.
    let bob = app.sign_up("bob", "bob's passphrase").await;
    let bob_token = app.token_for("bob", "bob's passphrase").await;
    let imported = token_client(&bob_token)
        .post(app.url("/api/import"))
        .json(&document(1000))
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), 200);
    let bob_ids: Vec<i64> = token_client(&bob_token)
        .get(app.url("/api/todos?limit=1000"))
        .send()
        .await
        .unwrap()
        .json::<Vec<Value>>()
        .await
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    let (first, last) = (bob_ids[0], bob_ids[999]);

    let ada = app.sign_up("ada", "ada's passphrase").await;
    let ada_token = app.token_for("ada", "ada's passphrase").await;
    for title in ["one", "two"] {
        let created = token_client(&ada_token)
            .post(app.url("/api/todos"))
            .json(&json!({ "title": title }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
    }
    let ada_ids: Vec<i64> = token_client(&ada_token)
        .get(app.url("/api/todos"))
        .send()
        .await
        .unwrap()
        .json::<Vec<Value>>()
        .await
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();

    let bob_started = Instant::now();
    let bob_move = tokio::spawn(async move {
        let answer = bob
            .post_form(
                &format!("/todos/{last}/move"),
                &[("before", &first.to_string())],
            )
            .await;
        (answer.status().as_u16(), bob_started.elapsed())
    });
    // Let Bob's move get going.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let ada_started = Instant::now();
    let ada_move = ada
        .post_form(
            &format!("/todos/{}/move", ada_ids[1]),
            &[("direction", "up")],
        )
        .await;
    let ada_took = ada_started.elapsed();
    assert_eq!(ada_move.status(), 303);
    let bob_still_moving = !bob_move.is_finished();
    let (bob_status, bob_took) = bob_move.await.unwrap();
    assert_eq!(bob_status, 303);
    eprintln!("bob's move took {bob_took:?}, ada's {ada_took:?}");
    assert!(
        bob_still_moving,
        "Ada's move waited for Bob's ({bob_took:?}) and took {ada_took:?}"
    );
    assert_eq!(ada.page_titles().await, ["two", "one"]);
    let bob_top: Vec<Value> = token_client(&bob_token)
        .get(app.url("/api/todos?limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bob_top[0]["title"], "task 1000");
}
