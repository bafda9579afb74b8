//! Graceful shutdown: not-ready at once, serving through the drain delay,
//! in-flight requests finished, then a clean exit.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Backend, TestApp, TestDatabase, server_config};
use crate::per_backend_tests;

per_backend_tests!(in_flight_request_finishes_during_shutdown);

async fn in_flight_request_finishes_during_shutdown(backend: Backend) {
    let mut config = server_config();
    config.drain_delay = Duration::from_millis(400);
    config.shutdown_timeout = Duration::from_secs(10);
    let app = TestApp::spawn_with(backend, config).await.unwrap();
    let addr = app.address.trim_start_matches("http://").to_owned();

    // A request whose body is still arriving when the signal comes.
    let body = br#"{"title": "sent during shutdown"}"#;
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/todos HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(&body[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;

    app.lifecycle.begin_shutdown();
    // Draining: not ready, but still serving new requests.
    assert_eq!(app.get("/readyz").await.status(), 503);
    assert_eq!(app.get("/api/todos").await.status(), 200);

    // After the drain delay, new connections are refused...
    tokio::time::sleep(Duration::from_millis(700)).await;
    let refused = reqwest::Client::new()
        .get(app.url("/healthz"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "new connections must be refused after the drain"
    );

    // ...but the in-flight request completes.
    slow.write_all(&body[10..]).await.unwrap();
    let mut response = String::new();
    slow.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");

    let result = tokio::time::timeout(Duration::from_secs(10), app.server)
        .await
        .expect("server did not stop");
    result.unwrap().expect("server stopped with an error");
    // The write that got a 201 is stored.
    let store = app.database.store();
    let shared = store
        .default_list(todo_app::domain::Owner::SHARED)
        .await
        .unwrap();
    let tasks = store.all_tasks(shared).await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].title.as_str(), "sent during shutdown");
    store.close().await;
}

/// The real binary: SIGTERM gives exit code 0, logs are JSON lines with a
/// request line, and the database password never appears in them.
#[tokio::test]
async fn binary_exits_zero_on_sigterm_and_logs_json_without_secrets() {
    let db = match crate::helpers::postgres_admin_url() {
        Some(_) => TestDatabase::create(Backend::Postgres).await.unwrap(),
        None => TestDatabase::create(Backend::Sqlite).await.unwrap(),
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_todo-app"))
        .env_clear()
        .env("DATABASE_URL", db.url())
        .env("AUTH_MODE", "none")
        .env("PORT", port.to_string())
        .env("HOST", "127.0.0.1")
        .env("SHUTDOWN_DRAIN_DELAY", "200ms")
        .env("LOG_FORMAT", "json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..100 {
        if client
            .get(format!("{url}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the binary did not become ready");
    let created = client
        .post(format!("{url}/api/todos"))
        .json(&serde_json::json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    let pid = child.id().unwrap();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = tokio::time::timeout(Duration::from_secs(15), child.wait_with_output())
        .await
        .expect("did not exit")
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let request = lines
        .iter()
        .find(|l| l["message"] == "request" && l["path"] == "/api/todos")
        .expect("a request log line");
    assert_eq!(request["method"], "POST");
    assert_eq!(request["status"], 201);
    assert!(request["latency_ms"].is_number());
    assert!(request["request_id"].is_string(), "{request}");
    assert_eq!(request["route"], "/api/todos", "{request}");
    assert!(lines.iter().any(|l| l["message"] == "stopped"));
    if let TestDatabase::Postgres { .. } = db {
        assert!(
            !stdout.contains("todo_test:todo_test"),
            "the password leaked into the log"
        );
        assert!(
            stdout.contains("postgres://todo_test@"),
            "the database is named without its password"
        );
    }
}
