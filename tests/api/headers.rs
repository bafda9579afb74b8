//! Issue 14, defect 5: the security headers were only on the app's own
//! pages. Now every API answer is `no-store` and `nosniff` (errors, 404,
//! 405, 413, export and the OpenAPI document included), every HTML page has
//! a Content-Security-Policy (the API reference too), and an `https`
//! `PUBLIC_URL` brings `Strict-Transport-Security` on every answer.

use serde_json::json;

use crate::account_tests;
use crate::helpers::{Backend, TestApp, accounts_config};

account_tests!(every_api_answer_is_no_store_and_nosniff);

async fn every_api_answer_is_no_store_and_nosniff(app: TestApp) {
    let token = app.sign_up_with_token("ada", "ada's passphrase").await;
    let client = crate::helpers::token_client(&token);
    let url = |path: &str| app.url(path);
    let big = json!({"title": "x".repeat(100 * 1024)}).to_string();
    let answers = [
        ("list", client.get(url("/api/todos")).send().await),
        (
            "create",
            client
                .post(url("/api/todos"))
                .json(&json!({"title": "milk"}))
                .send()
                .await,
        ),
        ("export", client.get(url("/api/export")).send().await),
        ("account", client.get(url("/api/account")).send().await),
        (
            "invalid field",
            client
                .post(url("/api/todos"))
                .json(&json!({"title": ""}))
                .send()
                .await,
        ),
        ("no token", app.client.get(url("/api/todos")).send().await),
        (
            "no route",
            client.get(url("/api/nothing-here")).send().await,
        ),
        (
            "no such task",
            client.get(url("/api/todos/999")).send().await,
        ),
        (
            "wrong method",
            client.put(url("/api/todos")).body("{}").send().await,
        ),
        (
            "too large",
            client
                .post(url("/api/todos"))
                .header("content-type", "application/json")
                .body(big)
                .send()
                .await,
        ),
        (
            "openapi",
            app.client.get(url("/api/openapi.json")).send().await,
        ),
        ("reference", app.client.get(url("/api/docs")).send().await),
    ];
    for (what, answer) in answers {
        let answer = answer.unwrap();
        let headers = answer.headers();
        assert_eq!(
            headers.get("cache-control").map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{what} ({})",
            answer.status()
        );
        assert_eq!(
            headers
                .get("x-content-type-options")
                .map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{what} ({})",
            answer.status()
        );
        // No https PUBLIC_URL here: no HSTS.
        assert!(!headers.contains_key("strict-transport-security"), "{what}");
    }
}

/// Every page of the app, its error pages and the API reference have a
/// policy that forbids inline scripts; the reference has no script at all.
#[tokio::test]
async fn every_html_page_has_a_content_security_policy() {
    let app = TestApp::spawn_with(Backend::Sqlite, accounts_config())
        .await
        .unwrap();
    let big = "title=".to_owned() + &"x".repeat(100 * 1024);
    let pages = [
        ("login", app.client.get(app.url("/login")).send().await),
        ("signup", app.client.get(app.url("/signup")).send().await),
        (
            "not found",
            app.client.get(app.url("/nothing-here")).send().await,
        ),
        (
            "too large",
            app.client
                .post(app.url("/login"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(big)
                .send()
                .await,
        ),
        (
            "reference",
            app.client.get(app.url("/api/docs")).send().await,
        ),
    ];
    for (what, page) in pages {
        let page = page.unwrap();
        let status = page.status();
        let headers = page.headers().clone();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{what}"
        );
        let policy = headers
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{what} ({status}) has no Content-Security-Policy"))
            .to_str()
            .unwrap()
            .to_owned();
        assert!(policy.contains("default-src 'none'"), "{what}: {policy}");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{what}: {policy}"
        );
        assert!(!policy.contains("unsafe-inline"), "{what}: {policy}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
        if what == "reference" {
            // The page wears the app's stylesheet, and has no inline style
            // or script to allow.
            let html = page.text().await.unwrap();
            assert!(!html.contains("<style"), "{html}");
            assert!(html.contains("<link rel=\"stylesheet\" href=\"/assets/app."));
            assert!(policy.contains("style-src 'self'"), "{policy}");
            assert!(!policy.contains("script-src"), "no scripts: {policy}");
        }
    }
}

/// With an `https` PUBLIC_URL every answer, pages, API and errors alike,
/// tells browsers to use HTTPS only.
#[tokio::test]
async fn an_https_public_url_brings_hsts_everywhere() {
    let mut config = accounts_config();
    config.auth.public_url =
        Some(todo_app::config::parse_public_url("https://todo.example.com").unwrap());
    let app = TestApp::spawn_with(Backend::Sqlite, config).await.unwrap();
    for path in [
        "/login",
        "/api/todos",
        "/api/openapi.json",
        "/healthz",
        "/nothing",
    ] {
        let answer = app.get(path).await;
        assert_eq!(
            answer.headers()["strict-transport-security"],
            "max-age=31536000; includeSubDomains",
            "{path} ({})",
            answer.status()
        );
    }
}
