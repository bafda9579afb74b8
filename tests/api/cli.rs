//! The binary's subcommands and configuration, run as a user would.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Connection;

use crate::helpers::{Backend, NO_POSTGRES, TestApp, TestDatabase, TestRole, postgres_admin_url};

const BIN: &str = env!("CARGO_BIN_EXE_todo-app");

async fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    run_in(&std::env::temp_dir(), args, env).await
}

async fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = tokio::process::Command::new(BIN);
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("LOG_FORMAT", "json");
    for (k, v) in env {
        command.env(k, v);
    }
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("command hung")
        .unwrap()
}

/// A fresh directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("todo-cli-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Files whose name ends with `suffix`.
    fn files_ending_with(&self, suffix: &str) -> Vec<String> {
        std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(suffix))
            .collect()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An export document holding one task.
fn one_task_export() -> String {
    json!({"format": "todo-app-export", "version": 1, "exported_at": "2030-01-01T00:00:00Z", "tasks": [
        {"id": 3, "title": "kept", "priority": 2, "completed": false, "order": 1, "due": null,
         "created_at": "2030-01-01T00:00:00Z", "updated_at": "2030-01-01T00:00:00Z"}]})
    .to_string()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
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
    // In a container HOST is the listening address, 0.0.0.0: the check
    // then asks this machine.
    assert_success(
        &run(&["healthcheck"], &[("PORT", &port), ("HOST", "0.0.0.0")]).await,
        "healthcheck with HOST=0.0.0.0",
    );
    assert_success(
        &run(
            &["healthcheck", "--host", "127.0.0.1", "--port", &port],
            &[],
        )
        .await,
        "healthcheck --host --port",
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
    let db = TestDatabase::create(backend).await.expect(NO_POSTGRES);
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
    if let TestDatabase::Sqlite { dir, .. } = &db {
        let locks: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|name| name.to_string_lossy().ends_with(".migrate-lock"))
            .collect();
        assert!(locks.is_empty(), "left behind: {locks:?}");
    }
}

#[tokio::test]
async fn migrations_run_concurrently_on_sqlite() {
    concurrent_migrations(Backend::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set TEST_DATABASE_URL to run on PostgreSQL"
)]
async fn migrations_run_concurrently_on_postgres() {
    concurrent_migrations(Backend::Postgres).await;
}

/// The move the README describes: export from the SQLite default, import
/// into PostgreSQL, nothing lost; a bad file imports nothing.
#[tokio::test]
#[cfg_attr(
    not(postgres_tests),
    ignore = "set TEST_DATABASE_URL to run on PostgreSQL"
)]
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

    let target = TestApp::spawn(Backend::Postgres).await.expect(NO_POSTGRES);
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
#[cfg_attr(
    not(postgres_tests),
    ignore = "set TEST_DATABASE_URL to run on PostgreSQL"
)]
async fn postgres_from_db_parts_with_an_awkward_password() {
    let password = "p@ss:w/rd?#%&= 'x\"é";
    let role = TestRole::create("parts", password)
        .await
        .expect(NO_POSTGRES);
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
#[cfg_attr(
    not(postgres_tests),
    ignore = "set TEST_DATABASE_URL to run on PostgreSQL"
)]
async fn startup_checks_the_connection_budget() {
    let db = TestDatabase::create(Backend::Postgres)
        .await
        .expect(NO_POSTGRES);
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

/// Each subcommand's --help lists the settings that command reads, and no
/// others.
#[tokio::test]
async fn each_command_lists_only_its_own_settings() {
    async fn help(command: &str) -> String {
        let output = run(&[command, "--help"], &[]).await;
        assert_success(&output, command);
        String::from_utf8(output.stdout).unwrap()
    }
    let server_only = [
        "env: SHUTDOWN_DRAIN_DELAY",
        "env: SHUTDOWN_TIMEOUT",
        "env: REQUEST_TIMEOUT",
        "env: CORS_ORIGINS",
        "env: BODY_LIMIT",
        "Address to listen on",
    ];
    let database = ["env: DATABASE_URL", "env: DB_HOST", "env: DB_SSLMODE"];
    let logging = ["env: RUST_LOG", "env: LOG_FORMAT"];

    let healthcheck = help("healthcheck").await;
    for present in [
        "--host",
        "Address of the server to check",
        "env: HOST",
        "env: PORT",
        "--timeout",
    ] {
        assert!(
            healthcheck.contains(present),
            "healthcheck lacks {present}: {healthcheck}"
        );
    }
    for absent in server_only.iter().chain(&database).chain(&logging) {
        assert!(
            !healthcheck.contains(absent),
            "healthcheck lists {absent}: {healthcheck}"
        );
    }

    for (command, own) in [
        ("migrate", &["env: DB_FLEET_SIZE"][..]),
        ("export", &["--output"][..]),
        ("import", &["--replace", "--create", "<FILE>"][..]),
    ] {
        let text = help(command).await;
        for present in own.iter().chain(&database).chain(&logging) {
            assert!(text.contains(present), "{command} lacks {present}: {text}");
        }
        for absent in server_only.iter().chain(&["env: HOST=", "env: PORT"]) {
            assert!(!text.contains(absent), "{command} lists {absent}: {text}");
        }
    }

    let serve = help("serve").await;
    for present in server_only.iter().chain(&database).chain(&logging) {
        assert!(serve.contains(present), "serve lacks {present}: {serve}");
    }
}

/// A value that cannot be right stops the process before it does anything,
/// with a message that names the setting.
#[tokio::test]
async fn bad_settings_are_refused_at_start_naming_the_setting() {
    let dir = TempDir::new();
    let file = dir.path("todo.db");
    let url = format!("sqlite://{}", file.display());
    for (command, setting, value) in [
        ("migrate", "DB_SSLMODE", "requir"),
        ("migrate", "RUST_LOG", "todo_app=verbose"),
        ("migrate", "RUST_LOG", "warning"),
        ("serve", "RUST_LOG", "infoo"),
        ("serve", "CORS_ORIGINS", "todo.example.com"),
        ("serve", "CORS_ORIGINS", "https://todo.example.com/"),
        ("serve", "CORS_ORIGINS", "https://a.example, *"),
        ("serve", "PUBLIC_URL", "https://todo.example.com/app"),
        ("serve", "PUBLIC_URL", "todo.example.com"),
        ("serve", "SESSION_IDLE_TIMEOUT", "soon"),
        ("serve", "BODY_READ_TIMEOUT", "1.5h30m"),
    ] {
        let output = run(
            &[command],
            &[("DATABASE_URL", &url), ("PORT", "0"), (setting, value)],
        )
        .await;
        let stderr = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{setting}={value}: {stderr}");
        assert!(
            stderr.contains(setting) && stderr.contains(value),
            "{setting}={value}: {stderr}"
        );
        assert!(!file.exists(), "{setting}={value}: the database was opened");
    }
    // The values they replace still work.
    let output = run(
        &["migrate"],
        &[
            ("DATABASE_URL", &url),
            ("DB_SSLMODE", "verify-full"),
            ("RUST_LOG", "warn,todo_app=info"),
        ],
    )
    .await;
    assert_success(&output, "migrate with good settings");
}

/// A mistyped database path is not an empty database: export and import
/// refuse it and say which file they looked for; import creates one only
/// when asked. Both say which database they read or wrote.
#[tokio::test]
async fn export_and_import_refuse_a_database_that_does_not_exist() {
    let dir = TempDir::new();
    let missing = dir.path("mistyped.db");
    let url = format!("sqlite://{}", missing.display());
    let export_file = dir.path("tasks.json");
    std::fs::write(&export_file, one_task_export()).unwrap();

    let output = run(&["export"], &[("DATABASE_URL", &url)]).await;
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains(&format!("no database at {}", missing.display())),
        "{message}"
    );
    assert!(message.contains("DATABASE_URL"), "{message}");
    assert!(output.stdout.is_empty(), "an export was written");
    assert!(!missing.exists(), "export created the database");

    // Without DATABASE_URL the default ./todo.db is meant, and named.
    let output = run_in(&dir.0, &["export"], &[]).await;
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains(&format!("no database at {}", dir.path("todo.db").display()))
            && message.contains("DATABASE_URL is unset"),
        "{message}"
    );
    assert!(!dir.path("todo.db").exists());

    let file_arg = export_file.to_str().unwrap();
    let output = run(&["import", file_arg], &[("DATABASE_URL", &url)]).await;
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains(&missing.display().to_string()) && message.contains("--create"),
        "{message}"
    );
    assert!(!missing.exists(), "import created the database");

    let output = run(&["import", "--create", file_arg], &[("DATABASE_URL", &url)]).await;
    assert_success(&output, "import --create");
    assert_eq!(
        stderr(&output).trim(),
        format!("imported 1 task from {file_arg} into {}", missing.display())
    );
    assert!(missing.exists());

    // To stdout: the document alone (logs go to stderr), ending with a newline.
    let output = run(&["export"], &[("DATABASE_URL", &url)]).await;
    assert_success(&output, "export to stdout");
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    assert!(stdout.ends_with("}\n"), "{stdout:?}");
    let document: Value = serde_json::from_str(&stdout).expect("stdout is the export alone");
    assert_eq!(document["tasks"][0]["title"], "kept");
    assert!(
        stderr(&output).contains(&format!(
            "exported 1 task from {} to stdout",
            missing.display()
        )),
        "{}",
        stderr(&output)
    );

    let written = dir.path("again.json");
    let output = run(
        &["export", "-o", written.to_str().unwrap()],
        &[("DATABASE_URL", &url)],
    )
    .await;
    assert_success(&output, "export -o");
    assert!(std::fs::read_to_string(&written).unwrap().ends_with("}\n"));

    assert!(
        dir.files_ending_with(".migrate-lock").is_empty(),
        "a migration lock was left behind"
    );
}

/// What is wrong with an import file is told in terms of the file, once,
/// on stderr.
#[tokio::test]
async fn import_errors_say_what_is_wrong_with_the_file_once() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let url = app.database.url().to_owned();
    let dir = TempDir::new();
    let head =
        r#""format": "todo-app-export", "version": 1, "exported_at": "2030-01-01T00:00:00Z""#;
    let task = r#""title": "t", "priority": 2, "completed": false, "order": 1, "due": null, "created_at": "2030-01-01T00:00:00Z", "updated_at": "2030-01-01T00:00:00Z""#;
    let cases = [
        (format!("{{{head}}}"), "this file is not a todo-app export: it has no `tasks`".to_owned()),
        ("".to_owned(), "the file is empty".to_owned()),
        ("{\"format\": ".to_owned(), "this file is not JSON".to_owned()),
        (r#"[{"id": 1, "title": "a"}]"#.to_owned(), "it holds an array, not an object".to_owned()),
        (
            r#"{"format": "something-else", "version": 1, "tasks": []}"#.to_owned(),
            r#"its `format` is "something-else", not "todo-app-export""#.to_owned(),
        ),
        (
            r#"{"format": "todo-app-export", "version": 3, "exported_at": "2030-01-01T00:00:00Z", "tasks": []}"#.to_owned(),
            "this export is version 3".to_owned(),
        ),
        (
            format!(r#"{{{head}, "tasks": [{{"id": 1, {task}}}, {{"id": 2}}]}}"#),
            "task 2 in the file (id 2) has no `title`".to_owned(),
        ),
        (
            format!(r#"{{{head}, "tasks": [{{"id": 5, {}}}]}}"#, task.replace(r#""title": "t""#, r#""title": " ""#)),
            "task 1 in the file (id 5): title must not be empty".to_owned(),
        ),
    ];
    for (i, (content, expected)) in cases.iter().enumerate() {
        let file = dir.path(&format!("case-{i}.json"));
        std::fs::write(&file, content).unwrap();
        let file = file.to_str().unwrap();
        let output = run(&["import", file], &[("DATABASE_URL", &url)]).await;
        assert!(!output.status.success(), "{content}");
        let message = stderr(&output);
        assert!(
            message.contains(&format!("cannot import {file}: ")),
            "{message}"
        );
        assert_eq!(
            message.matches(expected.as_str()).count(),
            1,
            "{content}: {message}"
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            !stdout.contains(expected.as_str()),
            "printed twice: {stdout}"
        );
    }
    assert!(app.list("").await.is_empty(), "nothing was imported");

    let file = dir.path("one.json");
    std::fs::write(&file, one_task_export()).unwrap();
    let file = file.to_str().unwrap();
    assert_success(
        &run(&["import", file], &[("DATABASE_URL", &url)]).await,
        "first import",
    );
    let output = run(&["import", file], &[("DATABASE_URL", &url)]).await;
    assert!(!output.status.success());
    let message = stderr(&output);
    assert_eq!(
        message.matches("already holds 1 task;").count(),
        1,
        "{message}"
    );
    assert!(message.contains("Pass --replace"), "{message}");
    assert!(!message.contains("import with replace"), "{message}");
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("already holds"),
        "printed twice"
    );
    assert_success(
        &run(&["import", "--replace", file], &[("DATABASE_URL", &url)]).await,
        "import --replace",
    );
    assert_eq!(app.titles("").await, ["kept"]);
}

/// A server that cannot start says why once: in its log, where operators
/// look, or on stderr when the log shows no errors.
#[tokio::test]
async fn a_failed_start_is_reported_once() {
    let env = [("DATABASE_URL", "mysql://u:hunter2@h/d")];
    let output = run(&["serve"], &env).await;
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let fatal: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["message"] == "fatal")
        .collect();
    assert_eq!(fatal.len(), 1, "{stdout}");
    assert!(
        fatal[0]["error"]
            .as_str()
            .unwrap()
            .contains("must start with sqlite://")
    );
    assert!(
        !stderr(&output).contains("must start with"),
        "printed twice"
    );
    assert!(!stdout.contains("hunter2") && !stderr(&output).contains("hunter2"));

    let output = run(&["serve"], &[env[0], ("RUST_LOG", "off")]).await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).matches("must start with sqlite://").count(),
        1
    );
    assert!(output.stdout.is_empty());
}

/// A user moves their own tasks from the SQLite default to PostgreSQL:
/// `user add` on the new database (password on stdin), then `export --user`
/// and `import --user`. Another account's tasks stay where they are.
#[tokio::test]
async fn accounts_are_added_and_their_tasks_moved_with_the_cli() {
    use tokio::io::AsyncWriteExt;
    let source = TestApp::spawn_with(Backend::Sqlite, crate::helpers::accounts_config())
        .await
        .unwrap();
    let ada =
        crate::helpers::token_client(&source.sign_up_with_token("ada", "ada passphrase").await);
    for title in ["ada's first", "ada's second"] {
        ada.post(source.url("/api/todos"))
            .json(&json!({"title": title}))
            .send()
            .await
            .unwrap();
    }
    let bob =
        crate::helpers::token_client(&source.sign_up_with_token("bob", "bob passphrase").await);
    bob.post(source.url("/api/todos"))
        .json(&json!({"title": "bob's"}))
        .send()
        .await
        .unwrap();

    let dir = TempDir::new();
    let file = dir.0.join("ada.json");
    let output = run(
        &["export", "--user", "ada", "-o", file.to_str().unwrap()],
        &[("DATABASE_URL", source.database.url())],
    )
    .await;
    assert_success(&output, "export --user");
    let exported: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let titles: Vec<&str> = exported["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["ada's first", "ada's second"], "only Ada's tasks");
    let missing = run(
        &["export", "--user", "nobody-here"],
        &[("DATABASE_URL", source.database.url())],
    )
    .await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("no account named \"nobody-here\""),
        "{}",
        stderr(&missing)
    );

    let backend = if postgres_admin_url().is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let target = TestApp::spawn_with(backend, crate::helpers::accounts_config())
        .await
        .unwrap();
    let mut add = tokio::process::Command::new(BIN)
        .args(["user", "add", "ada"])
        .env_clear()
        .env("DATABASE_URL", target.database.url())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"the new server's passphrase\n")
        .await
        .unwrap();
    let added = add.wait_with_output().await.unwrap();
    assert_success(&added, "user add");
    assert!(
        !String::from_utf8_lossy(&added.stderr).contains("passphrase"),
        "the password is not echoed to the log"
    );
    let output = run(
        &["import", "--user", "ada", file.to_str().unwrap()],
        &[("DATABASE_URL", target.database.url())],
    )
    .await;
    assert_success(&output, "import --user");
    let token = target.token_for("ada", "the new server's passphrase").await;
    let moved: Vec<Value> = crate::helpers::token_client(&token)
        .get(target.url("/api/todos"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let titles: Vec<&str> = moved.iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["ada's first", "ada's second"]);
    // A second `user add` of the same name, in another case, is refused.
    let mut again = tokio::process::Command::new(BIN)
        .args(["user", "add", "ADA"])
        .env_clear()
        .env("DATABASE_URL", target.database.url())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    again
        .stdin
        .take()
        .unwrap()
        .write_all(b"another passphrase\n")
        .await
        .unwrap();
    let again = again.wait_with_output().await.unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already has an account named ADA"));
}
