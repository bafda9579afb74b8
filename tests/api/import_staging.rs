//! Issue 14: an import does not hold other writers up for its whole length.
//! It is staged in lists nobody can see, filled in short transactions, and
//! published at once (`src/db/import.rs`); these tests check what that must
//! not cost: nobody sees half an import, a failed one leaves nothing behind,
//! and what a crashed one left is dropped.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, accounts_config, token_client};
use crate::per_backend_tests;

per_backend_tests!(
    an_import_is_seen_whole_or_not_at_all,
    of_two_imports_at_once_one_lands_and_nothing_is_left_staged,
    what_an_interrupted_import_staged_is_dropped_later,
);

/// An export file (format 2) with `tasks` tasks in the default list and
/// `in_list` in a list named "Work".
fn export_file(prefix: &str, tasks: usize, in_list: usize) -> Value {
    let task = |i: usize| {
        json!({"id": i + 1, "title": format!("{prefix} {i}"), "priority": 1, "completed": i.is_multiple_of(3),
               "order": i + 1, "due": null,
               "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"})
    };
    json!({"format": "todo-app-export", "version": 2, "exported_at": "2026-01-01T00:00:00Z",
           "tasks": (0..tasks).map(task).collect::<Vec<_>>(),
           "lists": [{"name": "Work", "position": 2,
                      "tasks": (tasks..tasks + in_list).map(task).collect::<Vec<_>>()}]})
}

/// (name, total) of every list the client sees.
async fn lists(app: &TestApp, client: &reqwest::Client) -> Vec<(String, i64)> {
    let lists: Vec<Value> = client
        .get(app.url("/api/lists"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    lists
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap().to_owned(),
                l["total"].as_i64().unwrap(),
            )
        })
        .collect()
}

const STAGED: &str = "SELECT COUNT(*) FROM lists WHERE owner < 0";

async fn an_import_is_seen_whole_or_not_at_all(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ada = token_client(&app.sign_up_with_token("ada", "ada's passphrase").await);
    let bob = token_client(&app.sign_up_with_token("bob", "bob's passphrase").await);
    // Several batches' worth, in two lists.
    let file = export_file("imported", 4_500, 1_500);
    let before = vec![("Tasks".to_owned(), 0)];
    let after = vec![("Tasks".to_owned(), 4_500), ("Work".to_owned(), 1_500)];
    assert_eq!(lists(&app, &ada).await, before);

    let import = {
        let request = ada.post(app.url("/api/import")).json(&file);
        tokio::spawn(async move { request.send().await.unwrap().status() })
    };
    let mut seen = Vec::new();
    // Bounded: the import takes seconds, each look milliseconds.
    for _ in 0..10_000 {
        if import.is_finished() {
            break;
        }
        let now = lists(&app, &ada).await;
        assert!(
            now == before || now == after,
            "half an import was visible: {now:?}"
        );
        assert_eq!(lists(&app, &bob).await, [("Tasks".to_owned(), 0)]);
        seen.push(now == after);
    }
    assert_eq!(import.await.unwrap(), 200);
    assert_eq!(lists(&app, &ada).await, after);
    assert_eq!(app.database.count(STAGED).await, 0, "nothing stays staged");
    println!(
        "{} looks during the import, {} of them after it was published",
        seen.len(),
        seen.iter().filter(|s| **s).count()
    );
}

async fn of_two_imports_at_once_one_lands_and_nothing_is_left_staged(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ada = token_client(&app.sign_up_with_token("ada", "ada's passphrase").await);
    let send = |file: Value| {
        let request = ada.post(app.url("/api/import")).json(&file);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    // Neither asks to replace: only one may fill the empty lists.
    let (first, second) = tokio::join!(
        send(export_file("first", 2_500, 10)),
        send(export_file("second", 2_500, 10))
    );
    // The other is refused and changes nothing: 409 when it finds the
    // lists filled, or 503 when, on a loaded machine, it waited for its
    // first write past the request timeout.
    let mut statuses = [first, second];
    statuses.sort();
    assert!(
        statuses == [200, 409] || statuses == [200, 503],
        "one import lands, the other is refused: {statuses:?}"
    );
    let export: Value = ada
        .get(app.url("/api/export"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let titles = export["tasks"].as_array().unwrap();
    assert_eq!(titles.len(), 2_500);
    let winner = if first == 200 { "first" } else { "second" };
    assert!(
        titles
            .iter()
            .all(|t| t["title"].as_str().unwrap().starts_with(winner)),
        "the tasks of one file only"
    );
    assert_eq!(
        lists(&app, &ada).await,
        [("Tasks".to_owned(), 2_500), ("Work".to_owned(), 10)]
    );
    assert_eq!(app.database.count(STAGED).await, 0, "nothing stays staged");
}

async fn what_an_interrupted_import_staged_is_dropped_later(backend: Backend) {
    let app = TestApp::spawn_with(backend, accounts_config())
        .await
        .expect(crate::helpers::NO_POSTGRES);
    let ada = token_client(&app.sign_up_with_token("ada", "ada's passphrase").await);
    // What an import that died left: a staged list with a task, two hours
    // old; and one of an import still running (just made).
    app.database
        .execute(
            "INSERT INTO lists (id, owner, name, position, is_default, created_at, updated_at) \
             VALUES (9001, -7, 'import', 0, FALSE, '2000-01-01T00:00:00Z', '2000-01-01T00:00:00Z'), \
                    (9002, -8, 'import', 0, FALSE, '2999-01-01T00:00:00Z', '2999-01-01T00:00:00Z'); \
             INSERT INTO tasks (list_id, title, priority, completed, position, version, created_at, updated_at) \
             VALUES (9001, 'left over', 1, FALSE, 1, 1, '2000-01-01T00:00:00Z', '2000-01-01T00:00:00Z'), \
                    (9002, 'in flight', 1, FALSE, 1, 1, '2999-01-01T00:00:00Z', '2999-01-01T00:00:00Z');",
        )
        .await;
    // Nobody sees either.
    assert_eq!(lists(&app, &ada).await, [("Tasks".to_owned(), 0)]);
    let stray = ada
        .get(app.url("/api/lists/9001/todos"))
        .send()
        .await
        .unwrap();
    assert_eq!(stray.status(), 404);

    let imported = ada
        .post(app.url("/api/import"))
        .json(&export_file("fresh", 3, 0))
        .send()
        .await
        .unwrap();
    let status = imported.status();
    assert_eq!(status, 200, "{}", imported.text().await.unwrap());
    assert_eq!(
        app.database
            .count("SELECT COUNT(*) FROM lists WHERE id = 9001")
            .await,
        0,
        "the abandoned staged list is dropped"
    );
    assert_eq!(
        app.database
            .count("SELECT COUNT(*) FROM tasks WHERE title = 'left over'")
            .await,
        0,
        "with its tasks"
    );
    assert_eq!(
        app.database
            .count("SELECT COUNT(*) FROM tasks WHERE list_id = 9002")
            .await,
        1,
        "a running import's staged list stays"
    );
    assert_eq!(
        lists(&app, &ada).await,
        [("Tasks".to_owned(), 3), ("Work".to_owned(), 0)]
    );
}
