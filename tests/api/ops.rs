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
    let backend = match app.database {
        crate::helpers::TestDatabase::Sqlite { .. } => crate::helpers::Backend::Sqlite,
        crate::helpers::TestDatabase::Postgres { .. } => crate::helpers::Backend::Postgres,
    };
    let draining = TestApp::spawn_with(backend, config).await.unwrap();
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
    let expected = match app.database {
        crate::helpers::TestDatabase::Sqlite { .. } => "sqlite",
        crate::helpers::TestDatabase::Postgres { .. } => "postgres",
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
    config.cors_origins = Some("https://todo.example.com, https://admin.example.com".to_owned());
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
