//! Many creates at once. They are committed in batches (one transaction for
//! many tasks); every caller must still get its own task back, only after it
//! is stored, and one failing insert must not take its batch down.

use std::collections::HashSet;

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde_json::{Value, json};
use sqlx::Connection;
use todo_app::db::{Backend, DatabaseTarget, Store};
use todo_app::domain::{NewTask, Owner, Priority, Task, Title};

use crate::backend_tests;
use crate::helpers::{TestApp, TestDatabase, database_config};

backend_tests!(
    concurrent_creates_all_land_in_order,
    a_failing_create_does_not_spoil_the_others,
    concurrent_lists_after_each_write_all_see_it,
    group_commit_off_and_on_store_the_same,
);

const CREATES: usize = 200;

/// Sends all `titles` at once; returns each answer's status and body.
async fn create_all(app: &TestApp, titles: Vec<String>) -> Vec<(String, u16, Value)> {
    let mut creates = tokio::task::JoinSet::new();
    for title in titles {
        let client = app.client.clone();
        let url = app.url("/api/todos");
        creates.spawn(async move {
            let response = client
                .post(url)
                .json(&json!({ "title": title }))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (title, status, response.json::<Value>().await.unwrap())
        });
    }
    creates.join_all().await
}

async fn concurrent_creates_all_land_in_order(app: TestApp) {
    let titles = (0..CREATES).map(|i| format!("task {i}")).collect();
    let answers = create_all(&app, titles).await;

    let mut ids = HashSet::new();
    for (title, status, task) in &answers {
        assert_eq!(*status, 201, "{title}: {task}");
        assert_eq!(task["title"], *title, "each caller gets its own task");
        assert!(ids.insert(task["id"].as_i64().unwrap()), "ids are unique");
    }

    // Everything acknowledged is stored, in the order the writer took the
    // creates: ids and positions rise together. (Across several instances
    // on one PostgreSQL, racing creates may share a position; the id then
    // decides the order.)
    let listed = app.list("?limit=1000").await;
    assert_eq!(listed.len(), CREATES);
    for pair in listed.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(a["id"].as_i64() < b["id"].as_i64(), "{a} before {b}");
        assert!(a["order"].as_i64() < b["order"].as_i64(), "{a} before {b}");
    }
    let stored: HashSet<i64> = listed.iter().map(|t| t["id"].as_i64().unwrap()).collect();
    assert_eq!(stored, ids);
}

/// A trigger by which the database itself refuses the title "poison", as a
/// constraint would.
fn refuse_poison(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON tasks WHEN NEW.title = 'poison' \
             BEGIN SELECT RAISE(ABORT, 'poison refused'); END"
        }
        Backend::Postgres => {
            "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN IF NEW.title = 'poison' THEN RAISE EXCEPTION 'poison refused'; END IF; \
             RETURN NEW; END $$; \
             CREATE TRIGGER refuse_poison BEFORE INSERT ON tasks \
             FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
        }
    }
}

async fn a_failing_create_does_not_spoil_the_others(app: TestApp) {
    app.database
        .execute(refuse_poison(app.store.backend()))
        .await;

    let titles = (0..CREATES)
        .map(|i| {
            if i % 10 == 5 {
                "poison".to_owned()
            } else {
                format!("task {i}")
            }
        })
        .collect();
    let answers = create_all(&app, titles).await;

    let mut acknowledged = HashSet::new();
    for (title, status, body) in &answers {
        if title == "poison" {
            assert_eq!(*status, 500, "{body}");
            assert_eq!(body["code"], "internal_error");
        } else {
            assert_eq!(*status, 201, "{title}: {body}");
            acknowledged.insert(title.clone());
        }
    }
    assert_eq!(acknowledged.len(), CREATES - CREATES / 10);
    let stored: HashSet<String> = app.titles("?limit=1000").await.into_iter().collect();
    assert_eq!(
        stored, acknowledged,
        "exactly the acknowledged tasks are stored"
    );
}

/// A create still waiting for the database when the request timeout comes
/// must not be answered 503 and then stored: a 503 tells the client that
/// nothing happened and a retry is safe. Once a write has begun, the request
/// finishes instead; and whatever is answered 503 is not stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_cut_off_by_the_timeout_are_stored_only_if_acknowledged() {
    let mut config = crate::helpers::server_config();
    config.request_timeout = std::time::Duration::from_millis(300);
    let app = TestApp::spawn_with(crate::helpers::Backend::Sqlite, config)
        .await
        .unwrap();

    // Another process holds SQLite's write lock, so the writer's first
    // insert waits (busy timeout) and everything after it queues, past the
    // request timeout.
    let mut blocker = sqlx::SqliteConnection::connect(app.database.url())
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut blocker)
        .await
        .unwrap();
    let titles: Vec<String> = (0..6).map(|i| format!("waiting {i}")).collect();
    let pending = tokio::spawn({
        let app_client = app.client.clone();
        let url = app.url("/api/todos");
        let titles = titles.clone();
        async move {
            let mut requests = tokio::task::JoinSet::new();
            for title in titles {
                let (client, url) = (app_client.clone(), url.clone());
                requests.spawn(async move {
                    let response = client
                        .post(url)
                        .json(&json!({"title": title}))
                        .send()
                        .await
                        .unwrap();
                    (title, response.status().as_u16())
                });
            }
            requests.join_all().await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    sqlx::query("COMMIT").execute(&mut blocker).await.unwrap();
    let answered = pending.await.unwrap();

    let stored = app.titles("").await;
    for (title, status) in &answered {
        match status {
            201 => assert!(
                stored.contains(title),
                "{title} was acknowledged but not stored"
            ),
            503 => assert!(
                !stored.contains(title),
                "{title} was refused with 503 but stored"
            ),
            other => panic!("{title}: unexpected {other}"),
        }
    }
    // The writes had begun (they were queued), so they were let finish.
    assert!(
        answered.iter().all(|(_, status)| *status == 201),
        "{answered:?}"
    );
}

/// Updates that time out while waiting for their turn are refused (503)
/// before they change anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_refused_by_the_timeout_change_nothing() {
    let mut config = crate::helpers::server_config();
    config.request_timeout = std::time::Duration::from_millis(200);
    let app = TestApp::spawn_with(crate::helpers::Backend::Sqlite, config)
        .await
        .unwrap();
    let task = app.create_titled("before").await;
    let url = app.url(&format!("/api/todos/{}", task["id"]));
    let mut blocker = sqlx::SqliteConnection::connect(app.database.url())
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut blocker)
        .await
        .unwrap();
    // The first update takes the write turn and waits on the lock: it has
    // begun, so it finishes. The others wait for the turn and are refused.
    let first = tokio::spawn({
        let (client, url) = (app.client.clone(), url.clone());
        async move {
            client
                .patch(url)
                .json(&json!({"title": "first"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let mut others = Vec::new();
    for i in 0..3 {
        let (client, url) = (app.client.clone(), url.clone());
        others.push(tokio::spawn(async move {
            client
                .patch(url)
                .json(&json!({"title": format!("other {i}")}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    sqlx::query("COMMIT").execute(&mut blocker).await.unwrap();
    assert_eq!(first.await.unwrap(), 200);
    for other in others {
        assert_eq!(other.await.unwrap(), 503);
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.titles("").await, ["first"]);
}

/// After a write, the many lists that miss the cache at once share one
/// rebuild; every one of them must still include the write.
async fn concurrent_lists_after_each_write_all_see_it(app: TestApp) {
    for round in 0..20 {
        app.create_titled(&format!("task {round}")).await;
        let mut lists = tokio::task::JoinSet::new();
        for _ in 0..10 {
            let (client, url) = (app.client.clone(), app.url("/api/todos"));
            lists.spawn(async move {
                let tasks: Vec<Value> = client.get(url).send().await.unwrap().json().await.unwrap();
                tasks.len()
            });
        }
        for seen in lists.join_all().await {
            assert_eq!(seen, round + 1, "a list missed a create it followed");
        }
    }
}

/// A task as a caller sees it, without the timestamps.
type Seen = (i64, String, Priority, bool, i64, Option<NaiveDate>, i64);

fn seen(task: &Task) -> Seen {
    (
        task.id,
        task.title.to_string(),
        task.priority,
        task.completed,
        task.order,
        task.due,
        task.version,
    )
}

/// What a fixed series of creates answered and left stored.
#[derive(Debug, PartialEq)]
struct Outcome {
    /// Creates one after the other: each answer, in order.
    one_by_one: Vec<Seen>,
    /// Creates all at once, which land in any order: the titles stored and
    /// the titles refused. (Their positions may differ: without group
    /// commit, racing creates on PostgreSQL can share one, as creates on
    /// several instances can; the id then decides the order.)
    at_once_titles: BTreeSet<String>,
    refused: Vec<String>,
}

async fn run_creates(store: &Store) -> Outcome {
    let title = |t: &str| Title::parse(t).unwrap();
    let series = [
        NewTask::new(title("plain")),
        NewTask {
            priority: Priority::try_from(2).unwrap(),
            completed: true,
            ..NewTask::new(title("urgent and done"))
        },
        NewTask {
            order: Some(40),
            due: NaiveDate::from_ymd_opt(2027, 1, 31),
            ..NewTask::new(title("placed"))
        },
        NewTask::new(title("after the placed one")),
    ];
    let shared = store.default_list(Owner::SHARED).await.unwrap();
    let mut one_by_one = Vec::new();
    for new in series {
        one_by_one.push(seen(
            &store.create_task(shared, Owner::SHARED, new).await.unwrap(),
        ));
    }

    let mut creates = tokio::task::JoinSet::new();
    for i in 0..50 {
        let store = store.clone();
        let name = if i % 10 == 5 {
            "poison".to_owned()
        } else {
            format!("task {i}")
        };
        creates.spawn(async move {
            let created = store
                .create_task(shared, Owner::SHARED, NewTask::new(title(&name)))
                .await;
            (name, created)
        });
    }
    let mut answered = BTreeSet::new();
    let mut refused = Vec::new();
    for (name, created) in creates.join_all().await {
        match created {
            Ok(task) => assert!(answered.insert(seen(&task)), "{name} answered twice"),
            Err(_) => refused.push(name),
        }
    }

    let stored: Vec<Seen> = store
        .all_tasks(shared)
        .await
        .unwrap()
        .iter()
        .map(seen)
        .collect();
    let (stored_one_by_one, stored_at_once) = stored.split_at(one_by_one.len());
    assert_eq!(stored_one_by_one, one_by_one, "stored as answered");
    assert_eq!(
        stored_at_once.iter().cloned().collect::<BTreeSet<_>>(),
        answered,
        "stored as answered"
    );
    let last_placed = one_by_one.iter().map(|t| t.4).max().unwrap();
    for task in &answered {
        assert!(task.4 > last_placed, "{task:?} goes at the end");
    }
    Outcome {
        one_by_one,
        at_once_titles: answered.iter().map(|t| t.1.clone()).collect(),
        refused,
    }
}

/// The batching writer only changes how many commits there are: the same
/// creates, with group commit off and on, are answered and stored the same.
async fn group_commit_off_and_on_store_the_same(app: TestApp) {
    app.database
        .execute(refuse_poison(app.store.backend()))
        .await;
    let on = run_creates(&app.store).await;

    let database = TestDatabase::create(app.backend()).await.unwrap();
    let config = database_config(database.url());
    let store = DatabaseTarget::from_config(&config)
        .unwrap()
        .connect(config.pool_size, config.acquire_timeout)
        .with_group_commit(false);
    store.migrate().await.unwrap();
    database.execute(refuse_poison(store.backend())).await;
    let off = run_creates(&store).await;
    store.close().await;

    assert_eq!(on.refused, vec!["poison"; 5]);
    assert_eq!(off, on);
}
