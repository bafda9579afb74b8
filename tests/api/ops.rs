//! Health, readiness, version and request ids.

use serde_json::Value;

use crate::backend_tests;
use crate::helpers::TestApp;

backend_tests!(
    healthz_and_readyz_answer,
    readyz_is_503_while_shutting_down,
    readyz_is_503_when_the_database_is_gone,
    version_names_backend_and_schema,
    request_ids_are_echoed_or_generated,
);

async fn healthz_and_readyz_answer(app: TestApp) {
    assert_eq!(app.get("/healthz").await.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "ready");
}

async fn readyz_is_503_while_shutting_down(app: TestApp) {
    // A drain delay keeps the server up after shutdown begins.
    let mut config = crate::helpers::server_config();
    config.drain_delay = std::time::Duration::from_secs(30);
    let draining = TestApp::spawn_with(app.backend(), config).await.unwrap();
    draining.lifecycle.begin_shutdown();
    let response = draining.get("/readyz").await;
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.json::<Value>().await.unwrap()["reason"],
        "shutting down"
    );
    // Liveness and the API keep working while draining.
    assert_eq!(draining.get("/healthz").await.status(), 200);
    assert_eq!(draining.get("/api/todos").await.status(), 200);
}

async fn readyz_is_503_when_the_database_is_gone(app: TestApp) {
    app.store.close().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.json::<Value>().await.unwrap()["reason"],
        "database unavailable"
    );
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "liveness does not touch the database"
    );
    let api = app.get("/api/todos").await;
    assert_eq!(api.status(), 503);
    assert!(api.headers().contains_key("retry-after"));
}

async fn version_names_backend_and_schema(app: TestApp) {
    let version: Value = app.get("/version").await.json().await.unwrap();
    assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
    assert!(version["git_revision"].is_string());
    let expected = match app.backend() {
        crate::helpers::Backend::Sqlite => "sqlite",
        crate::helpers::Backend::Postgres => "postgres",
    };
    assert_eq!(version["database"], expected);
    assert!(version["schema_version"].as_i64().unwrap() >= 20261125000001);
}

async fn request_ids_are_echoed_or_generated(app: TestApp) {
    let echoed = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "abc-123");
    let trace = app
        .client
        .get(app.url("/healthz"))
        .header(
            "x-amzn-trace-id",
            "Root=1-5759e988-bd862e3fe1be46a994272793",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        trace.headers()["x-request-id"],
        "Root=1-5759e988-bd862e3fe1be46a994272793"
    );
    let generated = app.get("/healthz").await;
    assert_eq!(generated.headers()["x-request-id"].len(), 36);
}

/// A request that outlives REQUEST_TIMEOUT gets the JSON 503, not a hang.
#[tokio::test]
async fn slow_requests_time_out_with_a_json_503() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut config = crate::helpers::server_config();
    config.request_timeout = std::time::Duration::from_millis(300);
    let app = TestApp::spawn_with(crate::helpers::Backend::Sqlite, config)
        .await
        .unwrap();
    let addr = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // Promise a body and never send it.
    let head = format!(
        "POST /api/todos HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_string(&mut response),
    )
    .await
    .expect("no answer")
    .unwrap();
    assert!(response.starts_with("HTTP/1.1 503"), "{response}");
    assert!(response.contains("\"code\":\"unavailable\""), "{response}");
    assert!(app.list("").await.is_empty());
}

/// CORS_ORIGINS narrows the API to the listed origins.
#[tokio::test]
async fn cors_origins_can_be_restricted() {
    let mut config = crate::helpers::server_config();
    config.cors_origins = Some(
        todo_app::config::parse_cors_origins("https://todo.example.com, https://admin.example.com")
            .unwrap(),
    );
    let app = TestApp::spawn_with(crate::helpers::Backend::Sqlite, config)
        .await
        .unwrap();
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/todos"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight("https://admin.example.com").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://admin.example.com"
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

/// Clients that open connections and never finish their headers (or sit
/// on an idle keep-alive) are cut off after the header timeout, and the
/// cap on connections keeps the rest waiting in the kernel's queue instead
/// of taking every file descriptor: `/healthz` keeps answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_clients_cannot_lock_everyone_out() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut config = crate::helpers::server_config();
    config.connections.header_read_timeout = Some(std::time::Duration::from_secs(1));
    config.connections.max_connections = 50;
    let app = TestApp::spawn_with(crate::helpers::Backend::Sqlite, config)
        .await
        .unwrap();
    let address = app.address.trim_start_matches("http://").to_owned();
    // 300 half-sent requests, more than the cap.
    let mut stalled = Vec::new();
    for _ in 0..300 {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        stalled.push(stream);
    }
    let started = std::time::Instant::now();
    let health = tokio::time::timeout(std::time::Duration::from_secs(15), app.get("/healthz"))
        .await
        .expect("/healthz must answer while stalled clients are around");
    assert_eq!(health.status(), 200);
    // The stalled connections are closed by the server, not left open.
    let mut buf = [0u8; 1];
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), stalled[0].read(&mut buf))
        .await
        .expect("a stalled connection is closed after the header timeout");
    assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?}");
    eprintln!("healthz answered after {:?}", started.elapsed());
}
