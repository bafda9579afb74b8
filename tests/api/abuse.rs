//! One client trying to take the server from everyone else, over real
//! sockets: stalled request bodies, and more connections or requests than
//! its share. The server is reached from two loopback addresses, 127.0.0.1
//! as the greedy client and 127.0.0.2 as everyone else.
//!
//! Nothing here touches the database beyond what the server does at start,
//! so these run on SQLite only.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::{Backend, TestApp, accounts_config};

const GREEDY: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
const SOMEONE_ELSE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

fn server_address(app: &TestApp) -> SocketAddr {
    app.address.trim_start_matches("http://").parse().unwrap()
}

/// A connection to the app from `from`.
async fn connect_from(from: IpAddr, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    socket.connect(to).await.unwrap()
}

/// Sends the headers of a form post promising 100 bytes, and 10 of them.
async fn stall_a_body(stream: &mut TcpStream, path: &str, extra_headers: &str) {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: todo.test\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         {extra_headers}Content-Length: 100\r\n\r\nusername=a"
    );
    // A connection over the limit may be closed before this arrives.
    let _ = stream.write_all(head.as_bytes()).await;
}

/// Everything the server sends until it closes, or `None` if it is still
/// open after `patience`.
async fn read_until_closed(stream: &mut TcpStream, patience: Duration) -> Option<String> {
    let mut answer = Vec::new();
    match tokio::time::timeout(patience, stream.read_to_end(&mut answer)).await {
        Ok(_) => Some(String::from_utf8_lossy(&answer).into_owned()),
        Err(_) => None,
    }
}

/// `GET /healthz` from 127.0.0.2, and how long it took.
async fn health_from_someone_else(app: &TestApp) -> (u16, Duration) {
    let client = reqwest::Client::builder()
        .local_address(SOMEONE_ELSE)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let started = Instant::now();
    let response = client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("/healthz must answer someone else while one client hoards connections");
    (response.status().as_u16(), started.elapsed())
}

/// Issue 14, defect 2: 1,030 unfinished `POST /login` bodies from one
/// client made `/healthz` wait 29 s. Now one address holds at most
/// `MAX_CONNECTIONS_PER_CLIENT` connections; the rest are closed at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_hold_every_connection() {
    let mut config = accounts_config();
    config.connections.max_connections = 32;
    config.connections.max_connections_per_client = 4;
    // Long, so only the per-address cap can explain a prompt answer.
    config.connections.body_read_timeout = Duration::from_secs(30);
    let app = TestApp::spawn_with(Backend::Sqlite, config).await.unwrap();
    let server = server_address(&app);
    let mut stalled = Vec::new();
    for _ in 0..40 {
        let mut stream = connect_from(GREEDY, server).await;
        stall_a_body(&mut stream, "/login", "").await;
        stalled.push(stream);
    }
    let (status, took) = health_from_someone_else(&app).await;
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(1), "/healthz took {took:?}");
    // All but four of the greedy connections were closed unanswered.
    let mut closed = 0;
    for stream in &mut stalled {
        if let Some(answer) = read_until_closed(stream, Duration::from_millis(200)).await {
            assert_eq!(answer, "", "closed without an answer");
            closed += 1;
        }
    }
    assert_eq!(closed, 36, "four connections stay with the greedy client");
    // Its slots come back when its connections close.
    stalled.clear();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = connect_from(GREEDY, server).await;
    again
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: todo.test\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut again, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// A client that stops sending its body gets 408 after
/// `BODY_READ_TIMEOUT`, and its connection is closed, instead of holding
/// it until `REQUEST_TIMEOUT`; on pages and in the API alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_gets_408_and_its_connection_closed() {
    let mut config = accounts_config();
    config.connections.body_read_timeout = Duration::from_millis(500);
    config.request_timeout = Duration::from_secs(20);
    let app = TestApp::spawn_with(Backend::Sqlite, config).await.unwrap();
    let server = server_address(&app);
    for (path, shows) in [
        ("/login", "The request body stopped arriving"),
        ("/api/todos", "\"code\":\"request_timeout\""),
    ] {
        let started = Instant::now();
        let mut stream = connect_from(GREEDY, server).await;
        stall_a_body(&mut stream, path, "").await;
        let answer = read_until_closed(&mut stream, Duration::from_secs(5))
            .await
            .unwrap_or_else(|| panic!("{path}: the stalled connection is still open"));
        let took = started.elapsed();
        assert!(answer.starts_with("HTTP/1.1 408"), "{path}: {answer}");
        assert!(answer.contains("connection: close"), "{path}: {answer}");
        assert!(answer.contains(shows), "{path}: {answer}");
        assert!(took < Duration::from_secs(3), "{path}: took {took:?}");
    }
}

/// Behind a proxy every connection comes from the proxy, so the cap is on
/// requests in flight per client as the trusted `X-Forwarded-For` names
/// it: one client stalling its bodies gets 429 past its share, and others
/// coming through the same proxy are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_proxy_the_cap_is_per_forwarded_client() {
    let mut config = accounts_config();
    config.auth.trusted_proxy_hops = 1;
    config.connections.max_connections_per_client = 4;
    config.connections.body_read_timeout = Duration::from_secs(30);
    let app = TestApp::spawn_with(Backend::Sqlite, config).await.unwrap();
    let server = server_address(&app);
    let greedy = "X-Forwarded-For: 203.0.113.9\r\n";
    let mut stalled = Vec::new();
    for _ in 0..4 {
        // All from the proxy's one address.
        let mut stream = connect_from(GREEDY, server).await;
        stall_a_body(&mut stream, "/login", greedy).await;
        stalled.push(stream);
    }
    // Give the server the moment it needs to count them.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fifth = connect_from(GREEDY, server).await;
    stall_a_body(&mut fifth, "/api/todos", greedy).await;
    let answer = read_until_closed(&mut fifth, Duration::from_secs(3))
        .await
        .expect("the fifth request of one client is refused at once");
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    assert!(
        answer.contains("\"code\":\"too_many_requests\""),
        "{answer}"
    );
    // Another client behind the same proxy is served.
    let mut other = connect_from(GREEDY, server).await;
    other
        .write_all(
            b"GET /healthz HTTP/1.1\r\nHost: todo.test\r\nX-Forwarded-For: 203.0.113.10\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let answer = read_until_closed(&mut other, Duration::from_secs(3))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The stalled ones still hold their places: nothing closed them.
    for stream in &mut stalled {
        assert_eq!(
            read_until_closed(stream, Duration::from_millis(100)).await,
            None
        );
    }
}
