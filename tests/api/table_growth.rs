//! PostgreSQL keeps the plan it chose for a prepared statement until the
//! table's statistics change. Statistics from a small table make a
//! sequential scan the plan for a lookup by id; after the table has grown a
//! thousandfold, every pooled connection would still scan it. These tests
//! take such statistics (as autovacuum does soon after a deployment), grow
//! the table the two ways the app knows of, creates and an import, and then
//! check the plan that a connection which prepared the app's statements
//! before the growth now uses: index scans reading a handful of pages.
//!
//! The test's connection stands for one of the app's pooled connections:
//! the same driver, the same statements, prepared and run the same way.
//! Autovacuum is switched off for the table so that only the app can have
//! brought the statistics up to date.

use serde_json::Value;
use sqlx::{Connection, PgConnection};
use todo_app::domain::{ImportedTask, NewTask, Priority, Title};

use crate::helpers::{Backend, TestApp};

/// The statements `Store::get_task` and `Store::list_tasks` (default
/// order) run.
const GET_SQL: &str = todo_app::db::GET_TASK_SQL;
fn list_sql() -> &'static str {
    todo_app::db::list_sql(todo_app::domain::SortOrder::Order)
}

const SMALL: i64 = 100;
const GROWTH: usize = 100_000;

/// Pages a lookup by id may touch: the index's levels and one heap page,
/// and those of the (small) lists and members it checks access in.
const GET_PAGES: i64 = 16;
/// The rows the list query asks for: a page of 100 and one more.
const LIST_ROWS: i64 = 101;

async fn spawn() -> TestApp {
    TestApp::spawn(Backend::Postgres)
        .await
        .expect(crate::helpers::NO_POSTGRES)
}

fn imported(ids: std::ops::RangeInclusive<i64>) -> Vec<ImportedTask> {
    let now = chrono::Utc::now();
    ids.map(|id| ImportedTask {
        id,
        title: Title::parse(&format!("imported {id}")).unwrap(),
        priority: Priority::default(),
        completed: id % 3 == 0,
        order: id,
        due: None,
        due_time: None,
        created_at: now,
        updated_at: now,
    })
    .collect()
}

/// A connection that has run the app's get and list often enough for
/// PostgreSQL to settle on generic plans, made while the table is small
/// and its statistics say so.
async fn connection_with_small_table_plans(app: &TestApp) -> PgConnection {
    let shared = app
        .store
        .default_list(todo_app::domain::Owner::SHARED)
        .await
        .unwrap();
    app.store
        .import_tasks(
            shared,
            todo_app::domain::Owner::SHARED,
            &imported(1..=SMALL),
            true,
        )
        .await
        .unwrap();
    let mut conn = PgConnection::connect(app.database.url()).await.unwrap();
    sqlx::raw_sql("ALTER TABLE tasks SET (autovacuum_enabled = false); ANALYZE tasks")
        .execute(&mut conn)
        .await
        .unwrap();
    for id in 1..=10 {
        run_get(&mut conn, id).await;
        run_list(&mut conn).await;
    }
    // The hazard this guards against is real: the plans in use scan.
    for sql in [GET_SQL, list_sql()] {
        let (name, generic) = prepared(&mut conn, sql).await;
        assert!(generic > 0, "{name} should use a generic plan by now");
    }
    let plan = explain(&mut conn, GET_SQL, "1, 0").await;
    assert!(
        scans(&plan).contains(&"Seq Scan".to_owned()),
        "a small table's statistics should make the lookup a seq scan: {plan}"
    );
    conn
}

async fn run_get(conn: &mut PgConnection, id: i64) {
    sqlx::query(GET_SQL)
        .bind(id)
        .bind(0_i64)
        .fetch_optional(&mut *conn)
        .await
        .unwrap();
}

/// The list of `AUTH_MODE=none`, where these tests put their tasks.
async fn shared_list(conn: &mut PgConnection) -> i64 {
    sqlx::query_scalar("SELECT id FROM lists WHERE owner = 0 AND is_default")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
}

async fn run_list(conn: &mut PgConnection) {
    let list = shared_list(conn).await;
    sqlx::query(list_sql())
        .bind(None::<bool>)
        .bind(None::<&str>)
        .bind(101_i64)
        .bind(0_i64)
        .bind(list)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
}

/// The name SQLx gave `sql` on this connection, and how often PostgreSQL
/// ran it with its generic plan.
async fn prepared(conn: &mut PgConnection, sql: &str) -> (String, i64) {
    sqlx::query_as("SELECT name, generic_plans FROM pg_prepared_statements WHERE statement = $1")
        .bind(sql)
        .fetch_one(&mut *conn)
        .await
        .expect("the statement is prepared on this connection")
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of the connection's own prepared statement:
/// the plan it really uses, with the pages it touched.
async fn explain(conn: &mut PgConnection, sql: &str, args: &str) -> Value {
    let (name, _) = prepared(conn, sql).await;
    let explain = format!("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE {name}({args})");
    let plan: Value = sqlx::query_scalar(sqlx::AssertSqlSafe(explain))
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    plan[0]["Plan"].clone()
}

/// Every node type in a plan, with the index it uses if any.
fn scans(plan: &Value) -> Vec<String> {
    let mut out = vec![match plan["Index Name"].as_str() {
        Some(index) => format!("{} using {index}", plan["Node Type"].as_str().unwrap()),
        None => plan["Node Type"].as_str().unwrap().to_owned(),
    }];
    for child in plan["Plans"].as_array().into_iter().flatten() {
        out.extend(scans(child));
    }
    out
}

/// No node of the plan reads the whole tasks table (the small tables of
/// lists and members may be scanned: they are small).
fn assert_no_scan_of_tasks(plan: &Value) {
    assert!(
        plan["Node Type"] != "Seq Scan" || plan["Relation Name"] != "tasks",
        "a scan of the tasks table: {plan}"
    );
    for child in plan["Plans"].as_array().into_iter().flatten() {
        assert_no_scan_of_tasks(child);
    }
}

fn pages(plan: &Value) -> i64 {
    plan["Shared Hit Blocks"].as_i64().unwrap() + plan["Shared Read Blocks"].as_i64().unwrap()
}

/// The most rows any scan in the plan produced.
fn rows_scanned(plan: &Value) -> i64 {
    let own = match plan["Node Type"].as_str() {
        Some(node) if node.ends_with("Scan") => plan["Actual Rows"].as_i64().unwrap(),
        _ => 0,
    };
    plan["Plans"]
        .as_array()
        .into_iter()
        .flatten()
        .map(rows_scanned)
        .fold(own, i64::max)
}

/// After the growth, the plans the connection prepared earlier look up by
/// index and read only a few pages.
async fn assert_plans_fit_a_large_table(conn: &mut PgConnection, rows: i64) {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tasks")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(count, rows);

    let get = explain(conn, GET_SQL, &format!("{}, 0", rows / 2)).await;
    assert!(
        scans(&get).contains(&"Index Scan using tasks_pkey".to_owned()),
        "a lookup by id: {get}"
    );
    assert_no_scan_of_tasks(&get);
    assert!(
        pages(&get) <= GET_PAGES,
        "a lookup by id reads {} pages: {get}",
        pages(&get)
    );

    let shared = shared_list(conn).await;
    let list = explain(
        conn,
        list_sql(),
        &format!("NULL, NULL, {LIST_ROWS}, 0, {shared}"),
    )
    .await;
    assert_eq!(
        scans(&list)[..2],
        ["Limit", "Index Scan using tasks_list_position"],
        "the first page of the list: {list}"
    );
    assert_no_scan_of_tasks(&list);
    // It stops after the page instead of reading the whole table.
    assert_eq!(
        rows_scanned(&list),
        LIST_ROWS,
        "the first page of the list: {list}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set TEST_DATABASE_URL to run on PostgreSQL"
)]
async fn plans_follow_the_table_after_creates_grow_it() {
    let app = spawn().await;
    let mut conn = connection_with_small_table_plans(&app).await;

    // As many creates at once as wrk's connections send, through the
    // app's create path (the batching writer).
    let mut creates = tokio::task::JoinSet::new();
    for i in 0..GROWTH {
        if creates.len() >= 256 {
            creates.join_next().await.unwrap().unwrap();
        }
        let store = app.store.clone();
        creates.spawn(async move {
            let title = Title::parse(&format!("grown {i}")).unwrap();
            let shared = store
                .default_list(todo_app::domain::Owner::SHARED)
                .await
                .unwrap();
            store
                .create_task(shared, todo_app::domain::Owner::SHARED, NewTask::new(title))
                .await
                .unwrap();
        });
    }
    creates.join_all().await;
    // The writer refreshes the statistics between batches, after answering
    // the one that made the table grow enough; once a later create has been
    // answered, that refresh is over.
    let title = Title::parse("one more").unwrap();
    let shared = app
        .store
        .default_list(todo_app::domain::Owner::SHARED)
        .await
        .unwrap();
    app.store
        .create_task(shared, todo_app::domain::Owner::SHARED, NewTask::new(title))
        .await
        .unwrap();

    assert_plans_fit_a_large_table(&mut conn, SMALL + GROWTH as i64 + 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set TEST_DATABASE_URL to run on PostgreSQL"
)]
async fn plans_follow_the_table_after_an_import_replaces_it() {
    let app = spawn().await;
    let mut conn = connection_with_small_table_plans(&app).await;

    let rows = 20_000;
    let shared = app
        .store
        .default_list(todo_app::domain::Owner::SHARED)
        .await
        .unwrap();
    app.store
        .import_tasks(
            shared,
            todo_app::domain::Owner::SHARED,
            &imported(1..=rows),
            true,
        )
        .await
        .unwrap();

    assert_plans_fit_a_large_table(&mut conn, rows).await;
}
