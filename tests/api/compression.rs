//! Issue 15, compression: answers come brotli- or gzip-compressed as the
//! client's `Accept-Encoding` asks, with `Vary: Accept-Encoding`, and
//! decode to exactly the body a client that accepts neither gets. The list
//! comes from the list cache's compressed copies (which the compression
//! layer must not compress again); pages and assets from the layer.

use async_compression::tokio::bufread::{BrotliDecoder, GzipDecoder};
use reqwest::header::{ACCEPT_ENCODING, HeaderMap};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

use crate::helpers::{TestApp, server_config, token_client};
use crate::{account_tests, backend_tests};

backend_tests!(
    lists_come_in_the_encoding_asked_for,
    compressed_lists_follow_changes_and_the_cache_switch,
    head_and_not_modified_still_behave,
    small_bodies_go_as_they_are,
    refusing_every_encoding_is_not_an_error,
    pages_and_assets_are_compressed,
);
mod accounts {
    use super::*;
    account_tests!(each_account_gets_its_own_compressed_list);
}

/// What a client gets for `GET url` with `accept` (`None`: no header).
struct Answer {
    status: u16,
    headers: HeaderMap,
    /// As it came over the wire.
    raw: Vec<u8>,
}

impl Answer {
    fn encoding(&self) -> Option<&str> {
        self.headers
            .get("content-encoding")
            .map(|v| v.to_str().unwrap())
    }

    fn varies_by_encoding(&self) -> bool {
        self.headers
            .get_all("vary")
            .iter()
            .flat_map(|v| v.to_str().unwrap().split(','))
            .any(|v| v.trim().eq_ignore_ascii_case("accept-encoding"))
    }

    /// The body with its `Content-Encoding` undone.
    async fn decoded(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self.encoding() {
            None => out.extend_from_slice(&self.raw),
            Some("br") => {
                BrotliDecoder::new(&self.raw[..])
                    .read_to_end(&mut out)
                    .await
                    .expect("not valid brotli");
            }
            Some("gzip") => {
                GzipDecoder::new(&self.raw[..])
                    .read_to_end(&mut out)
                    .await
                    .expect("not valid gzip");
            }
            Some(other) => panic!("unexpected Content-Encoding {other}"),
        }
        out
    }
}

async fn fetch(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    accept: Option<&str>,
    extra: &[(&str, &str)],
) -> Answer {
    let mut request = client.request(method, url);
    if let Some(accept) = accept {
        request = request.header(ACCEPT_ENCODING, accept);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        raw: response.bytes().await.unwrap().to_vec(),
    }
}

async fn get(client: &reqwest::Client, url: &str, accept: Option<&str>) -> Answer {
    fetch(client, reqwest::Method::GET, url, accept, &[]).await
}

/// Enough tasks for a list well over the size that is compressed.
async fn fill(app: &TestApp, count: usize) {
    for i in 0..count {
        app.create(
            json!({"title": format!("buy item number {i} from the shop"), "priority": 1 + i % 5}),
        )
        .await;
    }
}

/// Which `Accept-Encoding` gets which `Content-Encoding`.
const NEGOTIATION: [(Option<&str>, Option<&str>); 10] = [
    (None, None),
    (Some("identity"), None),
    (Some("br"), Some("br")),
    (Some("gzip"), Some("gzip")),
    (Some("gzip, deflate, br, zstd"), Some("br")),
    (Some("br;q=0.5, gzip"), Some("gzip")),
    (Some("br;q=0, gzip;q=0, identity"), None),
    (Some("deflate"), None),
    // Refuses all we have: the body as it is rather than a 406.
    (Some("identity;q=0"), None),
    (Some("*;q=0"), None),
];

async fn lists_come_in_the_encoding_asked_for(app: TestApp) {
    fill(&app, 40).await;
    for query in ["", "?sort=priority&limit=30"] {
        let url = app.url(&format!("/api/todos{query}"));
        let plain = get(&app.client, &url, None).await;
        assert_eq!(plain.status, 200);
        let tasks: Vec<Value> = serde_json::from_slice(&plain.raw).unwrap();
        assert!(tasks.len() >= 30 && plain.raw.len() > 4096, "{query}");
        for (accept, expected) in NEGOTIATION {
            // Twice: the second answer comes from the cache's copy.
            for round in 0..2 {
                let answer = get(&app.client, &url, accept).await;
                let what = format!("{query} with Accept-Encoding {accept:?}, round {round}");
                assert_eq!(answer.status, 200, "{what}");
                assert_eq!(answer.encoding(), expected, "{what}");
                assert!(answer.varies_by_encoding(), "{what}: {:?}", answer.headers);
                assert_eq!(answer.headers["content-type"], "application/json", "{what}");
                assert_eq!(
                    answer.headers.get("link"),
                    plain.headers.get("link"),
                    "{what}"
                );
                assert_eq!(answer.decoded().await, plain.raw, "{what}");
                if expected.is_some() {
                    assert!(
                        answer.raw.len() * 3 < plain.raw.len(),
                        "{what}: barely compressed"
                    );
                    // Sent with its length, as a stored body is.
                    assert_eq!(
                        answer.headers["content-length"],
                        answer.raw.len().to_string().as_str(),
                        "{what}"
                    );
                }
            }
        }
    }
}

async fn compressed_lists_follow_changes_and_the_cache_switch(app: TestApp) {
    fill(&app, 30).await;
    let mut uncached_config = server_config();
    uncached_config.list_cache = false;
    let (uncached, _server) = app.second_instance(uncached_config).await;
    let lists = async |step: &str| {
        let mut bodies = Vec::new();
        for address in [&app.address, &uncached] {
            let url = format!("{address}/api/todos");
            let plain = get(&app.client, &url, None).await.raw;
            for accept in ["br", "gzip"] {
                let answer = get(&app.client, &url, Some(accept)).await;
                assert_eq!(answer.encoding(), Some(accept), "{step}: {address}");
                assert!(answer.varies_by_encoding(), "{step}");
                assert_eq!(
                    answer.decoded().await,
                    plain,
                    "{step}: {accept} from {address}"
                );
            }
            bodies.push(
                String::from_utf8(plain)
                    .unwrap()
                    .replace(address.as_str(), "BASE"),
            );
        }
        assert_eq!(bodies[0], bodies[1], "{step}: with and without the cache");
        bodies.remove(0)
    };
    let before = lists("before").await;
    // A write makes new lists, and new compressed copies of them.
    app.create(json!({"title": "a task added later"})).await;
    let after = lists("after a create").await;
    assert!(!before.contains("a task added later") && after.contains("a task added later"));
    let response = app
        .patch_json("/api/todos", &json!({"completed": true}))
        .await;
    assert_eq!(response.status(), 200);
    let completed = lists("after completing all").await;
    assert!(!completed.contains("\"completed\":false"), "{completed}");
}

async fn head_and_not_modified_still_behave(app: TestApp) {
    fill(&app, 30).await;
    let list = app.url("/api/todos");
    for accept in [None, Some("br"), Some("gzip")] {
        let got = get(&app.client, &list, accept).await;
        let head = fetch(&app.client, reqwest::Method::HEAD, &list, accept, &[]).await;
        assert_eq!(head.status, 200, "{accept:?}");
        assert!(head.raw.is_empty(), "{accept:?}");
        assert_eq!(head.encoding(), got.encoding(), "{accept:?}");
        assert_eq!(
            head.headers.get("content-length"),
            got.headers.get("content-length"),
            "{accept:?}"
        );
        assert!(head.varies_by_encoding(), "{accept:?}");
    }

    // One task with a long title: a body over the compressed size, with
    // its ETag, compressed by the layer; its 304 is empty and unencoded.
    let task = app.create(json!({"title": "🍎".repeat(255)})).await;
    let url = app.url(&format!("/api/todos/{}", task["id"]));
    let plain = get(&app.client, &url, None).await;
    assert!(plain.raw.len() >= 1024, "{}", plain.raw.len());
    let etag = plain.headers["etag"].to_str().unwrap().to_owned();
    for accept in ["br", "gzip"] {
        let answer = get(&app.client, &url, Some(accept)).await;
        assert_eq!(answer.encoding(), Some(accept));
        assert_eq!(answer.headers["etag"], etag.as_str());
        assert_eq!(answer.decoded().await, plain.raw);
        let unchanged = fetch(
            &app.client,
            reqwest::Method::GET,
            &url,
            Some(accept),
            &[("if-none-match", &etag)],
        )
        .await;
        assert_eq!(unchanged.status, 304, "{accept}");
        assert!(unchanged.raw.is_empty());
        assert_eq!(unchanged.encoding(), None);
        assert_eq!(unchanged.headers["etag"], etag.as_str());
    }

    // The page's poll for changes: compressed, and still a 304 when
    // nothing changed.
    let state = app.url("/todos/state?view=/");
    let first = get(&app.client, &state, Some("br")).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.encoding(), Some("br"));
    let state_json: Value = serde_json::from_slice(&first.decoded().await).unwrap();
    assert_eq!(state_json["view"].as_array().unwrap().len(), 31);
    let etag = first.headers["etag"].to_str().unwrap().to_owned();
    let again = fetch(
        &app.client,
        reqwest::Method::GET,
        &state,
        Some("br"),
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status, 304);
    assert!(again.raw.is_empty());
    assert_eq!(again.encoding(), None);
}

async fn small_bodies_go_as_they_are(app: TestApp) {
    let task = app.create_titled("milk").await;
    let paths = [
        // A list of one: its handler compresses lists itself.
        "/api/todos".to_owned(),
        "/healthz".to_owned(),
        "/api/todos/999".to_owned(),
        format!("/api/todos/{}", task["id"]),
    ];
    for path in &paths {
        let plain = get(&app.client, &app.url(path), None).await;
        assert!(plain.raw.len() < 1024, "{path}");
        for accept in ["br", "gzip"] {
            let answer = get(&app.client, &app.url(path), Some(accept)).await;
            assert_eq!(answer.encoding(), None, "{path} with {accept}");
            assert!(!answer.varies_by_encoding(), "{path} with {accept}");
            assert_eq!(answer.raw, plain.raw, "{path} with {accept}");
        }
    }
}

/// tower-http's layer would answer 406 here, after the handler ran: the
/// task would be created and the client told it was refused.
async fn refusing_every_encoding_is_not_an_error(app: TestApp) {
    for (i, accept) in ["identity;q=0", "*;q=0", "br;q=0, gzip;q=0, identity;q=0"]
        .into_iter()
        .enumerate()
    {
        let response = app
            .client
            .post(app.url("/api/todos"))
            .header(ACCEPT_ENCODING, accept)
            .json(&json!({"title": format!("task {i} {}", "x".repeat(200))}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{accept}");
        assert_eq!(response.headers().get("content-encoding"), None, "{accept}");
        let task: Value = response.json().await.unwrap();
        assert_eq!(task["id"], i + 1, "{accept}");
        let page = get(&app.client, &app.url("/"), Some(accept)).await;
        assert_eq!((page.status, page.encoding()), (200, None), "{accept}");
    }
    assert_eq!(app.list("").await.len(), 3);
}

async fn pages_and_assets_are_compressed(app: TestApp) {
    fill(&app, 10).await;
    let page = get(&app.client, &app.url("/"), None).await;
    let html = String::from_utf8(page.raw.clone()).unwrap();
    let linked = |prefix: &str| {
        let start = html
            .find(prefix)
            .unwrap_or_else(|| panic!("no {prefix} in the page"));
        let end = start + html[start..].find('"').unwrap();
        html[start..end].to_owned()
    };
    let mut paths = vec![
        "/".to_owned(),
        "/active".to_owned(),
        linked("/assets/app."),
        "/api/openapi.json".to_owned(),
        "/api/docs".to_owned(),
    ];
    let script = html
        .match_indices("/assets/app.")
        .map(|(at, _)| {
            let end = at + html[at..].find('"').unwrap();
            html[at..end].to_owned()
        })
        .find(|p| p.ends_with(".js"))
        .expect("the page links its script");
    paths.push(script);
    for path in &paths {
        let plain = get(&app.client, &app.url(path), None).await;
        assert_eq!(plain.status, 200, "{path}");
        assert!(plain.raw.len() > 1024, "{path}");
        for accept in ["br", "gzip"] {
            let answer = get(&app.client, &app.url(path), Some(accept)).await;
            assert_eq!(answer.encoding(), Some(accept), "{path}");
            assert!(answer.varies_by_encoding(), "{path}");
            assert!(
                answer.raw.len() < plain.raw.len() / 2,
                "{path} with {accept}"
            );
            assert_eq!(
                answer.headers["content-type"], plain.headers["content-type"],
                "{path}"
            );
            let decoded = answer.decoded().await;
            if path.starts_with("/assets/") || path.starts_with("/api/") {
                assert_eq!(decoded, plain.raw, "{path} with {accept}");
            } else {
                // Pages carry a fresh CSRF token and the like; the same
                // page all the same.
                assert_eq!(decoded.len(), plain.raw.len(), "{path} with {accept}");
            }
        }
    }
}

async fn each_account_gets_its_own_compressed_list(app: TestApp) {
    let mut lists = Vec::new();
    for name in ["ada", "bob"] {
        let token = app
            .sign_up_with_token(name, &format!("{name}'s passphrase"))
            .await;
        let client = token_client(&token);
        for i in 0..30 {
            let response = client
                .post(app.url("/api/todos"))
                .json(&json!({"title": format!("{name}'s task number {i}")}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201);
        }
        lists.push(client);
    }
    for (client, name, other) in [(&lists[0], "ada", "bob"), (&lists[1], "bob", "ada")] {
        for accept in ["br", "gzip"] {
            let answer = get(client, &app.url("/api/todos"), Some(accept)).await;
            assert_eq!(answer.encoding(), Some(accept));
            let body = String::from_utf8(answer.decoded().await).unwrap();
            assert_eq!(
                body.matches(&format!("{name}'s task")).count(),
                30,
                "{name}"
            );
            assert!(
                !body.contains(&format!("{other}'s")),
                "{name} sees {other}'s list"
            );
            // The same list by its id.
            let lists: Value = client
                .get(app.url("/api/lists"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let by_id = app.url(&format!("/api/lists/{}/todos", lists[0]["id"]));
            let answer = get(client, &by_id, Some(accept)).await;
            assert_eq!(answer.encoding(), Some(accept));
            assert!(answer.varies_by_encoding());
            assert_eq!(String::from_utf8(answer.decoded().await).unwrap(), body);
        }
    }
}
