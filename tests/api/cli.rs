//! The binary's subcommands and configuration, run as a user would.

use std::process::Output;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Connection;

use crate::helpers::{Backend, TestApp, TestDatabase, TestRole, postgres_admin_url};

const BIN: &str = env!("CARGO_BIN_EXE_todo-app");

async fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = tokio::process::Command::new(BIN);
    command.args(args).env_clear().env("LOG_FORMAT", "json");
    for (k, v) in env {
        command.env(k, v);
    }
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("command hung")
        .unwrap()
}

fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
}

#[tokio::test]
async fn help_lists_every_setting_with_its_default() {
    let output = run(&["--help"], &[]).await;
    assert_success(&output, "--help");
    let help = String::from_utf8(output.stdout).unwrap();
    for env in [
        "PORT",
        "HOST",
        "DATABASE_URL",
        "DB_HOST",
        "DB_PORT",
        "DB_NAME",
        "DB_USER",
        "DB_PASSWORD",
        "DB_SECRET_ARN",
        "DB_POOL_SIZE",
        "LOG_FORMAT",
        "RUST_LOG",
        "SHUTDOWN_DRAIN_DELAY",
        "SHUTDOWN_TIMEOUT",
        "CORS_ORIGINS",
        "BODY_LIMIT",
    ] {
        assert!(
            help.contains(&format!("env: {env}")),
            "--help does not mention {env}"
        );
    }
    for default in [
        "[default: 8080]",
        "[default: 0.0.0.0]",
        "[default: 10]",
        "[default: 20s]",
    ] {
        assert!(help.contains(default), "--help lacks {default}");
    }
    for command in ["serve", "migrate", "export", "import", "healthcheck"] {
        assert!(help.contains(command), "--help lacks the {command} command");
    }
    // Secret values set in the environment are never echoed by --help.
    let output = run(
        &["--help"],
        &[
            ("DB_PASSWORD", "hunter2"),
            ("DATABASE_URL", "postgres://u:hunter2@h/d"),
        ],
    )
    .await;
    assert!(!String::from_utf8_lossy(&output.stdout).contains("hunter2"));
}

#[tokio::test]
async fn bad_configuration_fails_with_a_clear_message() {
    for (env, expected) in [
        (
            vec![("DATABASE_URL", "mysql://u:hunter2@h/d")],
            "must start with sqlite://",
        ),
        (vec![("DB_HOST", "db.internal")], "DB_USER"),
        (vec![("PORT", "eighty")], "invalid value 'eighty'"),
        (vec![("SHUTDOWN_TIMEOUT", "soon")], "not a duration"),
    ] {
        let output = run(&["migrate"], &env).await;
        assert!(!output.status.success(), "{env:?} should fail");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{env:?}: {stderr}");
        assert!(!stderr.contains("hunter2"), "a password leaked: {stderr}");
    }
}

#[tokio::test]
async fn healthcheck_exits_zero_only_when_healthy() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let port = app.address.rsplit(':').next().unwrap().to_owned();
    assert_success(
        &run(&["healthcheck"], &[("PORT", &port)]).await,
        "healthcheck",
    );
    drop(app);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let output = run(&["healthcheck", "--timeout", "1s"], &[("PORT", &closed)]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unhealthy"));
}

/// Many instances starting at once against one empty database: every one
/// succeeds and each migration is applied exactly once.
async fn concurrent_migrations(backend: Backend) {
    let Some(db) = TestDatabase::create(backend).await else {
        return;
    };
    // Start all eight processes before waiting for any of them.
    let children: Vec<_> = (0..8)
        .map(|_| {
            tokio::process::Command::new(BIN)
                .arg("migrate")
                .env_clear()
                .env("DATABASE_URL", db.url())
                .env("LOG_FORMAT", "json")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        assert_success(&output, "concurrent migrate");
    }
    let applied: i64 = match backend {
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(db.url()).await.unwrap();
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
                .fetch_one(&mut conn)
                .await
                .unwrap()
        }
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(db.url()).await.unwrap();
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
                .fetch_one(&mut conn)
                .await
                .unwrap()
        }
    };
    let expected = std::fs::read_dir(format!(
        "{}/migrations/{}",
        env!("CARGO_MANIFEST_DIR"),
        match backend {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    ))
    .unwrap()
    .count() as i64;
    assert_eq!(applied, expected, "each migration recorded once");
}

#[tokio::test]
async fn migrations_run_concurrently_on_sqlite() {
    concurrent_migrations(Backend::Sqlite).await;
}

#[tokio::test]
async fn migrations_run_concurrently_on_postgres() {
    concurrent_migrations(Backend::Postgres).await;
}

/// The move the README describes: export from the SQLite default, import
/// into PostgreSQL, nothing lost; a bad file imports nothing.
#[tokio::test]
async fn export_from_sqlite_and_import_into_postgres() {
    let source = TestApp::spawn(Backend::Sqlite).await.unwrap();
    source
        .create(json!({"title": "first", "priority": "urgent", "due": "2030-04-01"}))
        .await;
    let second = source.create_titled("second").await;
    source
        .patch_json(
            &format!("/api/todos/{}", second["id"]),
            &json!({"completed": true}),
        )
        .await;
    let before = source.list("").await;

    let dir = std::env::temp_dir().join(format!("todo-export-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tasks.json");
    let output = run(
        &["export", "-o", file.to_str().unwrap()],
        &[("DATABASE_URL", source.database.url())],
    )
    .await;
    assert_success(&output, "export");

    let target_backend = if postgres_admin_url().is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let target = TestApp::spawn(target_backend).await.unwrap();
    let output = run(
        &["import", file.to_str().unwrap()],
        &[("DATABASE_URL", target.database.url())],
    )
    .await;
    assert_success(&output, "import");
    let after = target.list("").await;
    let comparable = |tasks: Vec<Value>, base: &str| -> Vec<Value> {
        tasks
            .into_iter()
            .map(|mut t| {
                let o = t.as_object_mut().unwrap();
                o.remove("version");
                o.insert(
                    "url".into(),
                    json!(o["url"].as_str().unwrap().replace(base, "")),
                );
                t
            })
            .collect()
    };
    assert_eq!(
        comparable(after, &target.address),
        comparable(before, &source.address)
    );

    // Importing again without --replace is refused and changes nothing.
    let output = run(
        &["import", file.to_str().unwrap()],
        &[("DATABASE_URL", target.database.url())],
    )
    .await;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("already holds 2 tasks"));

    // A corrupt file is refused before anything is written.
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"format": "todo-app-export", "version": 1, "exported_at": "2030-01-01T00:00:00Z", "tasks": [{"id": 1}]}"#).unwrap();
    let output = run(
        &["import", "--replace", bad.to_str().unwrap()],
        &[("DATABASE_URL", target.database.url())],
    )
    .await;
    assert!(!output.status.success());
    assert_eq!(target.list("").await.len(), 2);
    let _ = std::fs::remove_dir_all(dir);
}

/// ECS passes DB_HOST, DB_PORT, DB_NAME, DB_USER and DB_PASSWORD from a
/// Secrets Manager secret; a password with any characters must work.
#[tokio::test]
async fn postgres_from_db_parts_with_an_awkward_password() {
    let password = "p@ss:w/rd?#%&= 'x\"é";
    let Some(role) = TestRole::create("parts", password).await else {
        return;
    };
    let (host, port) = role.host_and_port();
    let port = port.to_string();
    let env = [
        ("DB_HOST", host.as_str()),
        ("DB_PORT", port.as_str()),
        ("DB_NAME", role.name.as_str()),
        ("DB_USER", role.name.as_str()),
        ("DB_PASSWORD", password),
        ("DB_SSLMODE", "disable"),
    ];
    let output = run(&["migrate"], &env).await;
    assert_success(&output, "migrate with DB_* parts");
    let log = String::from_utf8_lossy(&output.stdout);
    let name = &role.name;
    assert!(
        log.contains(&format!("postgres://{name}@{host}:{port}/{name}")),
        "{log}"
    );
    assert!(!log.contains("p@ss"), "the password leaked into the log");
}

/// The server reuses list responses while the data is unchanged; a write by
/// another process on the same SQLite file must still show at once.
#[tokio::test]
async fn lists_see_writes_made_by_another_process() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.create_titled("from the server").await;
    assert_eq!(app.list("").await.len(), 1);
    assert_eq!(
        app.list("").await.len(),
        1,
        "second read, maybe from memory"
    );

    // Another process writes straight into the file.
    app.database
        .execute("UPDATE tasks SET title = 'changed elsewhere'")
        .await;
    let titles = app.titles("").await;
    assert_eq!(titles, ["changed elsewhere"]);
    app.database.execute("DELETE FROM tasks").await;
    assert!(app.list("").await.is_empty());

    // And the CLI's import.
    let dir = std::env::temp_dir().join(format!("todo-import-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tasks.json");
    std::fs::write(
        &file,
        json!({"format": "todo-app-export", "version": 1, "exported_at": "2030-01-01T00:00:00Z", "tasks": [
            {"id": 7, "title": "imported", "priority": 2, "completed": false, "order": 1, "due": null,
             "created_at": "2030-01-01T00:00:00Z", "updated_at": "2030-01-01T00:00:00Z"}]})
        .to_string(),
    )
    .unwrap();
    assert_success(
        &run(
            &["import", file.to_str().unwrap()],
            &[("DATABASE_URL", app.database.url())],
        )
        .await,
        "import",
    );
    let titles = app.titles("").await;
    assert_eq!(titles, ["imported"]);
    let _ = std::fs::remove_dir_all(dir);
}

/// With DB_FLEET_SIZE, start-up warns when that many pools cannot fit in
/// PostgreSQL's max_connections, and says so when they do.
#[tokio::test]
async fn startup_checks_the_connection_budget() {
    let Some(db) = TestDatabase::create(Backend::Postgres).await else {
        return;
    };
    for (fleet, pool, expected) in [
        ("1000", "10", "can outgrow"),
        ("2", "5", "connection budget fits"),
    ] {
        let output = run(
            &["migrate"],
            &[
                ("DATABASE_URL", db.url()),
                ("DB_FLEET_SIZE", fleet),
                ("DB_POOL_SIZE", pool),
            ],
        )
        .await;
        assert_success(&output, "migrate");
        let log = String::from_utf8_lossy(&output.stdout);
        assert!(log.contains(expected), "fleet {fleet} × pool {pool}: {log}");
    }
}
