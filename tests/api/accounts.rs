//! Accounts: sign-up, login, sessions, API tokens, and what another account
//! or another web site can do (nothing). Over a real port, on both databases.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::account_tests;
use crate::helpers::{
    Backend, TestApp, accounts_config, cookie_client, csrf_field, server_config, token_client,
};

account_tests!(
    anonymous_visitors_are_sent_to_login_and_the_api_answers_401,
    sign_up_add_log_out_log_in_and_find_the_tasks,
    session_cookies_are_http_only_lax_and_fresh_at_every_login,
    another_account_gets_404_on_every_route_and_changes_nothing,
    cross_site_form_posts_are_refused_and_change_nothing,
    form_posts_without_the_csrf_token_are_refused,
    api_tokens_are_shown_once_listed_without_secret_and_revocable,
    tokens_by_session_need_the_csrf_header,
    expired_tokens_and_sessions_stop_working,
    usernames_are_unique_regardless_of_case_and_validated,
    failed_logins_are_throttled_without_telling_whether_the_user_exists,
    a_password_change_ends_the_other_sessions,
    deleting_the_account_deletes_its_tasks_and_credentials,
    logout_and_revocation_reach_every_instance_within_two_seconds,
    forwarded_headers_are_trusted_only_from_the_configured_proxies,
    cors_allows_no_origin_by_default_and_never_credentials,
    per_account_export_and_import,
    oversized_bodies_are_refused_at_once,
    tasks_from_before_accounts_go_to_the_first_account,
    accounts_routes_are_absent_without_accounts,
);

const PASSWORD: &str = "a good long passphrase";

async fn status_of(response: reqwest::Response) -> u16 {
    response.status().as_u16()
}

async fn anonymous_visitors_are_sent_to_login_and_the_api_answers_401(app: TestApp) {
    let page = app.get("/").await;
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/login");
    for (method, path) in [
        ("GET", "/api/todos"),
        ("POST", "/api/todos"),
        ("DELETE", "/api/todos"),
        ("GET", "/api/export"),
        ("POST", "/api/import?replace=true"),
        ("GET", "/api/todos/1"),
        ("GET", "/api/tokens"),
    ] {
        let response = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .json(&json!({"title": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{method} {path}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "unauthorized", "{body}");
    }
    let wrong =
        token_client("todo_pat_0000000000000000000000000000000000000000000000000000000000000000");
    let response = wrong.get(app.url("/api/todos")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("revoked"),
        "{body}"
    );
    // The description of the API stays public.
    assert_eq!(app.get("/api/openapi.json").await.status(), 200);
    assert_eq!(app.get("/healthz").await.status(), 200);
    // So do the icon and the manifest, which the login page uses.
    assert_eq!(app.get("/favicon.ico").await.status(), 200);
    assert_eq!(app.get("/manifest.webmanifest").await.status(), 200);
}

async fn sign_up_add_log_out_log_in_and_find_the_tasks(app: TestApp) {
    // The forms use the names and autocomplete values password managers know.
    for (path, autocomplete) in [("/signup", "new-password"), ("/login", "current-password")] {
        let html = app.get(path).await.text().await.unwrap();
        assert!(
            html.contains(r#"name="username" value="" autocomplete="username""#),
            "{html}"
        );
        assert!(
            html.contains(&format!(
                r#"type="password" name="password" autocomplete="{autocomplete}""#
            )),
            "{html}"
        );
    }
    let browser = app.sign_up("ada", PASSWORD).await;
    let page = browser.client.get(browser.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Signed in as <strong>ada</strong>"), "{html}");
    assert!(html.contains(r#"<meta name="csrf-token""#));

    let created = browser
        .post_form("/todos", &[("title", "Water the plants")])
        .await;
    assert_eq!(created.status(), 303);
    assert_eq!(browser.page_titles().await, ["Water the plants"]);

    let out = browser.post_form("/logout", &[]).await;
    assert_eq!(out.status(), 303);
    assert_eq!(out.headers()["location"], "/login");
    assert_eq!(
        status_of(browser.client.get(browser.url("/")).send().await.unwrap()).await,
        303
    );

    let again = app
        .log_in("ADA", PASSWORD)
        .await
        .unwrap_or_else(|_| panic!("login works in any case"));
    assert_eq!(again.page_titles().await, ["Water the plants"]);
    let wrong = app.log_in("ada", "not the passphrase").await.err().unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("The username or password is wrong.")
    );
}

async fn session_cookies_are_http_only_lax_and_fresh_at_every_login(app: TestApp) {
    app.sign_up("ada", PASSWORD).await;
    let mut seen = Vec::new();
    for _ in 0..2 {
        let client = cookie_client();
        let page = client
            .get(app.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = csrf_field(&page).unwrap();
        let response = client
            .post(app.url("/login"))
            .form(&[
                ("username", "ada"),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
            ])
            .send()
            .await
            .unwrap();
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(cookie.starts_with("todo_session="), "{cookie}");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
            assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
        }
        // Plain HTTP here: no Secure, no __Host- prefix (browsers would drop it).
        assert!(!cookie.contains("Secure"), "{cookie}");
        seen.push(cookie.split(';').next().unwrap().to_owned());
    }
    assert_ne!(seen[0], seen[1], "every login gets a new session id");
    // Only the hash of the session secret is stored.
    use sha2::Digest;
    let secret = seen[0].split('=').nth(1).unwrap();
    let stored = |bytes: &[u8]| {
        format!(
            "SELECT COUNT(*) FROM sessions WHERE token_hash = {}",
            hex_literal(&app, bytes)
        )
    };
    assert_eq!(count_sql(&app, &stored(secret.as_bytes())).await, 0);
    assert_eq!(
        count_sql(&app, &stored(&sha2::Sha256::digest(secret.as_bytes()))).await,
        1
    );

    // Behind HTTPS the cookie is Secure and __Host- prefixed.
    let mut config = accounts_config();
    config.auth.public_url =
        Some(todo_app::config::parse_public_url("https://todo.example.com").unwrap());
    let (address, _server) = app.second_instance(config).await;
    let page = reqwest::get(format!("{address}/login")).await.unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("__Host-todo_form=") && cookie.contains("; Secure"),
        "{cookie}"
    );
}

/// A SQL literal for bytes, in the syntax of the app's database.
fn hex_literal(app: &TestApp, bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    match app.backend() {
        Backend::Sqlite => format!("X'{hex}'"),
        Backend::Postgres => format!("'\\x{hex}'::bytea"),
    }
}

pub(crate) async fn count_sql(app: &TestApp, sql: &str) -> i64 {
    use sqlx::Connection;
    match app.backend() {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(app.database.url())
                .await
                .unwrap();
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(&mut conn)
                .await
                .unwrap()
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(app.database.url())
                .await
                .unwrap();
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(&mut conn)
                .await
                .unwrap()
        }
    }
}

/// Everything `owner` has, as the API shows it, to compare before and after.
async fn snapshot(client: &reqwest::Client, app: &TestApp) -> Value {
    let list: Value = client
        .get(app.url("/api/todos"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let export: Value = client
        .get(app.url("/api/export"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    json!({"list": list, "tasks": export["tasks"]})
}

async fn another_account_gets_404_on_every_route_and_changes_nothing(app: TestApp) {
    let alice = token_client(&app.sign_up_with_token("alice", PASSWORD).await);
    let mut ids = Vec::new();
    for (title, completed) in [("Alice's secret", false), ("Alice's done", true)] {
        let task: Value = alice
            .post(app.url("/api/todos"))
            .json(&json!({"title": title, "completed": completed}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(task["id"].as_i64().unwrap());
    }
    let before = snapshot(&alice, &app).await;

    let bob_browser = app.sign_up("bob", PASSWORD).await;
    let bob = token_client(&app.token_for("bob", PASSWORD).await);
    for id in &ids {
        let path = format!("/api/todos/{id}");
        for (method, body) in [
            ("GET", None),
            ("PATCH", Some(json!({"completed": true}))),
            ("DELETE", None),
        ] {
            let mut request = bob.request(method.parse().unwrap(), app.url(&path));
            if let Some(body) = &body {
                request = request.json(body);
            }
            let response = request.header("if-match", "*").send().await.unwrap();
            assert_eq!(response.status(), 404, "{method} {path}");
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["message"], format!("task {id} not found"));
        }
        // The same through the pages, with a valid session and CSRF token.
        for action in ["toggle", "edit", "delete"] {
            let response = bob_browser
                .post_form(
                    &format!("/todos/{id}/{action}"),
                    &[("title", "Bob was here"), ("completed", "true")],
                )
                .await;
            let status = response.status().as_u16();
            // Deleting what is not there quietly returns to the list.
            assert!(
                status == 404 || (action == "delete" && status == 303),
                "{action}: {status}"
            );
        }
        let edit_page = bob_browser
            .client
            .get(bob_browser.url(&format!("/?edit={id}")))
            .send()
            .await
            .unwrap();
        assert!(!edit_page.text().await.unwrap().contains("Alice"));
    }
    // Bulk routes act on Bob's own (empty) list only.
    assert_eq!(
        bob.get(app.url("/api/todos"))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap(),
        json!([])
    );
    assert_eq!(
        bob.get(app.url("/api/todos?q=secret"))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap(),
        json!([])
    );
    let patched: Value = bob
        .patch(app.url("/api/todos"))
        .json(&json!({"completed": false}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(patched["updated"], 0);
    assert_eq!(
        bob.delete(app.url("/api/todos"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        bob.delete(app.url("/api/todos?completed=true"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let export: Value = bob
        .get(app.url("/api/export"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(export["tasks"], json!([]));
    let doc = json!({"format": "todo-app-export", "version": 1, "exported_at": "2030-01-01T00:00:00Z",
        "tasks": [{"id": ids[0], "title": "Bob's", "priority": 1, "completed": false, "order": 1,
                   "due": null, "created_at": "2030-01-01T00:00:00Z", "updated_at": "2030-01-01T00:00:00Z"}]});
    for form in ["/todos/toggle-all", "/todos/clear-completed"] {
        assert_eq!(bob_browser.post_form(form, &[]).await.status(), 303);
    }
    let imported = bob
        .post(app.url("/api/import?replace=true"))
        .json(&doc)
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), 200);
    // Bob's import got a new id; Alice's task keeps its own.
    let bobs: Value = bob
        .get(app.url("/api/todos"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bobs.as_array().unwrap().len(), 1);
    assert_ne!(bobs[0]["id"], ids[0]);
    // The cached list of one account is never served to another.
    assert_eq!(bob_browser.page_titles().await, ["Bob's"]);

    assert_eq!(
        snapshot(&alice, &app).await,
        before,
        "Alice's tasks changed"
    );
}

async fn cross_site_form_posts_are_refused_and_change_nothing(app: TestApp) {
    let browser = app.sign_up("ada", PASSWORD).await;
    browser.post_form("/todos", &[("title", "keep me")]).await;
    // The attack from the issue: toggle everything, then clear completed,
    // from another site's page, with the victim's cookie and even a token.
    for header in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        for path in [
            "/todos/toggle-all",
            "/todos/clear-completed",
            "/todos",
            "/logout",
        ] {
            let response = browser
                .client
                .post(browser.url(path))
                .header(header.0, header.1)
                .form(&[("csrf_token", browser.csrf.as_str()), ("title", "injected")])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 403, "{path} with {header:?}");
        }
    }
    assert_eq!(browser.page_titles().await, ["keep me"]);
    // Our own pages' posts say same-origin and pass.
    let ok = browser
        .client
        .post(browser.url("/todos"))
        .header("sec-fetch-site", "same-origin")
        .header("origin", app.address.as_str())
        .form(&[("csrf_token", browser.csrf.as_str()), ("title", "mine")])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);

    // With AUTH_MODE=none there is no cookie, but the forms are refused
    // cross-site all the same.
    let open = TestApp::spawn_with(app.backend(), server_config())
        .await
        .unwrap();
    open.create_titled("shared").await;
    for path in ["/todos/toggle-all", "/todos/clear-completed"] {
        let response = open
            .client
            .post(open.url(path))
            .header("origin", "https://evil.example")
            .form(&[("completed", "true")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{path}");
    }
    assert_eq!(open.titles("").await, ["shared"]);
    assert_eq!(open.list("").await[0]["completed"], false);
}

async fn form_posts_without_the_csrf_token_are_refused(app: TestApp) {
    let browser = app.sign_up("ada", PASSWORD).await;
    for token in [
        None,
        Some("0".repeat(64)),
        Some(browser.csrf[..63].to_owned()),
    ] {
        let mut fields = vec![("title", "sneaky".to_owned())];
        if let Some(token) = &token {
            fields.push(("csrf_token", token.clone()));
        }
        let response = browser
            .client
            .post(browser.url("/todos"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{token:?}");
        let html = response.text().await.unwrap();
        assert!(html.contains("reload the page"), "{html}");
    }
    assert!(browser.page_titles().await.is_empty());
    // The API with the session cookie needs the header.
    let response = browser
        .client
        .post(browser.url("/api/todos"))
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let response = browser
        .client
        .post(browser.url("/api/todos"))
        .header("x-csrf-token", &browser.csrf)
        .json(&json!({"title": "from the page's script"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    // Login and sign-up forms too: without the form cookie's token, refused.
    let stranger = cookie_client();
    for path in ["/login", "/signup"] {
        let response = stranger
            .post(app.url(path))
            .form(&[("username", "mallory"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{path}");
    }
    assert_eq!(
        count_sql(
            &app,
            "SELECT COUNT(*) FROM users WHERE username = 'mallory'"
        )
        .await,
        0
    );
}

async fn api_tokens_are_shown_once_listed_without_secret_and_revocable(app: TestApp) {
    app.sign_up("ada", PASSWORD).await;
    let response = app
        .client
        .post(app.url("/api/tokens"))
        .json(&json!({"username": "ada", "password": PASSWORD, "name": "backup script", "expires_in_days": 30}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(
        token.starts_with("todo_pat_") && token.len() > 60,
        "{token}"
    );
    let ada = token_client(&token);
    assert_eq!(
        ada.post(app.url("/api/todos"))
            .json(&json!({"title": "via token"}))
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let listed = ada
        .get(app.url("/api/tokens"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !listed.contains(&token[9..]),
        "the list shows the secret: {listed}"
    );
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed[0]["name"], "backup script");
    assert!(listed[0]["last_used_at"].is_string(), "{listed}");
    assert!(listed[0]["expires_at"].is_string(), "{listed}");
    // The account itself.
    let me: Value = ada
        .get(app.url("/api/account"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "ada");

    let id = created["id"].as_i64().unwrap();
    // Another account cannot revoke it.
    let bob = token_client(&app.sign_up_with_token("bob", PASSWORD).await);
    assert_eq!(
        bob.delete(app.url(&format!("/api/tokens/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        ada.get(app.url("/api/todos"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        ada.delete(app.url(&format!("/api/tokens/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        ada.get(app.url("/api/todos"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    // Wrong password: 401, and no token.
    let refused = app
        .client
        .post(app.url("/api/tokens"))
        .json(&json!({"username": "ada", "password": "nope nope nope", "name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(
        count_sql(&app, "SELECT COUNT(*) FROM api_tokens").await,
        1,
        "only Bob's"
    );

    // The settings page makes and revokes tokens too, showing a new one once.
    let browser = app
        .log_in("ada", PASSWORD)
        .await
        .unwrap_or_else(|_| panic!("login failed"));
    let page = browser
        .post_form(
            "/settings/tokens",
            &[("name", "from the page"), ("expires_in_days", "")],
        )
        .await;
    assert_eq!(page.status(), 201);
    let html = page.text().await.unwrap();
    let shown = html
        .split("<code class=\"token-value\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert!(shown.starts_with("todo_pat_"));
    assert_eq!(
        token_client(&shown)
            .get(app.url("/api/todos"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let settings = browser
        .client
        .get(browser.url("/settings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(settings.contains("from the page") && !settings.contains(&shown));
}

async fn tokens_by_session_need_the_csrf_header(app: TestApp) {
    let browser = app.sign_up("ada", PASSWORD).await;
    let without = browser
        .client
        .post(browser.url("/api/tokens"))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(without.status(), 403);
    let with = browser
        .client
        .post(browser.url("/api/tokens"))
        .header("x-csrf-token", &browser.csrf)
        .json(&json!({"name": "made in the browser"}))
        .send()
        .await
        .unwrap();
    assert_eq!(with.status(), 201);
}

async fn expired_tokens_and_sessions_stop_working(app: TestApp) {
    let token = app.sign_up_with_token("ada", PASSWORD).await;
    let ada = token_client(&token);
    assert_eq!(
        ada.get(app.url("/api/todos"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let past = match app.backend() {
        Backend::Sqlite => "'2020-01-01T00:00:00+00:00'",
        Backend::Postgres => "'2020-01-01T00:00:00Z'::timestamptz",
    };
    app.database
        .execute(&format!("UPDATE api_tokens SET expires_at = {past}"))
        .await;
    let browser = app
        .log_in("ada", PASSWORD)
        .await
        .unwrap_or_else(|_| panic!("login failed"));
    app.database
        .execute(&format!("UPDATE sessions SET last_seen_at = {past}"))
        .await;
    // Within the second lookups are remembered for, both stop.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let api = ada
            .get(app.url("/api/todos"))
            .send()
            .await
            .unwrap()
            .status();
        let page = browser
            .client
            .get(browser.url("/"))
            .send()
            .await
            .unwrap()
            .status();
        if api == 401 && page == 303 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still accepted: api {api}, page {page}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // An idle session is deleted, not only refused; the next login also
    // clears the sign-up's session, idle as well.
    assert_eq!(count_sql(&app, "SELECT COUNT(*) FROM sessions").await, 1);
    app.log_in("ada", PASSWORD)
        .await
        .unwrap_or_else(|_| panic!("login failed"));
    assert_eq!(count_sql(&app, "SELECT COUNT(*) FROM sessions").await, 1);
}

async fn usernames_are_unique_regardless_of_case_and_validated(app: TestApp) {
    app.sign_up("Ada", PASSWORD).await;
    let client = cookie_client();
    let page = client
        .get(app.url("/signup"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_field(&page).unwrap();
    for (name, password, status, message) in [
        ("ada", PASSWORD, 409, "That username is taken"),
        ("ab", PASSWORD, 422, "3 to 40 characters"),
        ("ada lovelace", PASSWORD, 422, "may hold letters, digits"),
        ("grace", "short", 422, "at least 8 characters"),
    ] {
        let response = client
            .post(app.url("/signup"))
            .form(&[
                ("username", name),
                ("password", password),
                ("csrf_token", &csrf),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{name}");
        let html = response.text().await.unwrap();
        assert!(html.contains(message), "{name}: {html}");
        // The form comes back with the name typed.
        assert!(html.contains(&format!("value=\"{name}\"")), "{html}");
    }
    // Long passphrases are welcome.
    app.sign_up("grace", &"correct horse battery staple ".repeat(6))
        .await;
    assert_eq!(count_sql(&app, "SELECT COUNT(*) FROM users").await, 2);
}

async fn failed_logins_are_throttled_without_telling_whether_the_user_exists(app: TestApp) {
    app.sign_up("ada", PASSWORD).await;
    let attempt = |name: &'static str, password: &'static str| {
        let client = app.client.clone();
        let url = app.url("/api/tokens");
        async move {
            client
                .post(url)
                .json(&json!({"username": name, "password": password, "name": "x"}))
                .send()
                .await
                .unwrap()
        }
    };
    let existing = attempt("ada", "wrong wrong").await;
    let missing = attempt("nobody-here", "wrong wrong").await;
    assert_eq!(existing.status(), 401);
    assert_eq!(missing.status(), 401);
    assert_eq!(
        existing.text().await.unwrap(),
        missing.text().await.unwrap()
    );
    // Five failures in all are free; the sixth starts the back-off.
    for _ in 0..4 {
        assert_eq!(attempt("ada", "wrong wrong").await.status(), 401);
    }
    let blocked = attempt("ada", PASSWORD).await;
    assert_eq!(blocked.status(), 429, "even the right password waits");
    let retry: u64 = blocked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    // The login page says the same, in words.
    let page = app.log_in("ada", PASSWORD).await.err().unwrap();
    assert_eq!(page.status(), 429);
    assert!(page.text().await.unwrap().contains("Too many attempts"));
    // The counts live in the database, so every instance sees them.
    let (address, _server) = app.second_instance(accounts_config()).await;
    let elsewhere = app
        .client
        .post(format!("{address}/api/tokens"))
        .json(&json!({"username": "ada", "password": PASSWORD, "name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 429);
    // After the wait, the right password works and clears the username's count.
    tokio::time::sleep(Duration::from_secs(retry + 1)).await;
    assert_eq!(attempt("ada", PASSWORD).await.status(), 201);
}

async fn a_password_change_ends_the_other_sessions(app: TestApp) {
    let first = app.sign_up("ada", PASSWORD).await;
    let second = app
        .log_in("ada", PASSWORD)
        .await
        .unwrap_or_else(|_| panic!("login failed"));
    let changed = first
        .post_form(
            "/settings/password",
            &[
                ("current_password", PASSWORD),
                ("password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(changed.status(), 200);
    assert!(changed.text().await.unwrap().contains("Password changed"));
    assert_eq!(
        first
            .client
            .get(first.url("/"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        second
            .client
            .get(second.url("/"))
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
    assert!(app.log_in("ada", PASSWORD).await.is_err());
    assert!(app.log_in("ada", "a brand new passphrase").await.is_ok());
    // A wrong current password changes nothing.
    let refused = first
        .post_form(
            "/settings/password",
            &[
                ("current_password", "guess guess"),
                ("password", "another one entirely"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 401);
    assert!(app.log_in("ada", "a brand new passphrase").await.is_ok());
}

async fn deleting_the_account_deletes_its_tasks_and_credentials(app: TestApp) {
    let browser = app.sign_up("ada", PASSWORD).await;
    let token = app.token_for("ada", PASSWORD).await;
    browser.post_form("/todos", &[("title", "mine")]).await;
    let bob = token_client(&app.sign_up_with_token("bob", PASSWORD).await);
    bob.post(app.url("/api/todos"))
        .json(&json!({"title": "bob's"}))
        .send()
        .await
        .unwrap();

    let wrong = browser
        .post_form("/settings/delete-account", &[("password", "not it at all")])
        .await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(browser.page_titles().await, ["mine"]);
    let deleted = browser
        .post_form("/settings/delete-account", &[("password", PASSWORD)])
        .await;
    assert_eq!(deleted.status(), 200);
    assert!(
        deleted
            .text()
            .await
            .unwrap()
            .contains("its 1 tasks are deleted")
    );
    assert_eq!(
        browser
            .client
            .get(browser.url("/"))
            .send()
            .await
            .unwrap()
            .status(),
        303
    );
    assert_eq!(
        token_client(&token)
            .get(app.url("/api/todos"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        count_sql(&app, "SELECT COUNT(*) FROM tasks").await,
        1,
        "only Bob's task is left"
    );
    // The API way, for scripts.
    assert_eq!(
        bob.delete(app.url("/api/account"))
            .json(&json!({"password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(count_sql(&app, "SELECT COUNT(*) FROM tasks").await, 0);
    assert_eq!(count_sql(&app, "SELECT COUNT(*) FROM users").await, 0);
}

/// Logs in and returns the raw session cookie, to replay it by hand.
async fn raw_login(app: &TestApp, name: &str) -> String {
    let (_, response) = app.submit_account_form("/login", name, PASSWORD).await;
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

async fn logout_and_revocation_reach_every_instance_within_two_seconds(app: TestApp) {
    let (other, _server) = app.second_instance(accounts_config()).await;
    app.sign_up("ada", PASSWORD).await;
    let cookie = raw_login(&app, "ada").await;
    let token = app.token_for("ada", PASSWORD).await;
    let api = token_client(&token);
    let page_on = |address: String| {
        let cookie = cookie.clone();
        async move {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .get(format!("{address}/"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
        }
    };
    // The cookie and token work on the other instance too (no stickiness).
    let page = page_on(other.clone()).await;
    assert_eq!(page.status(), 200);
    let csrf = csrf_field(&page.text().await.unwrap()).unwrap();
    assert_eq!(
        api.get(format!("{other}/api/todos"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let tokens: Value = api
        .get(app.url("/api/tokens"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = tokens[0]["id"].as_i64().unwrap();
    let logout = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 303);
    assert_eq!(
        api.delete(app.url(&format!("/api/tokens/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let ended = Instant::now();
    // On this instance at once; on the other within two seconds.
    assert_eq!(page_on(app.address.clone()).await.status(), 303);
    loop {
        let page = page_on(other.clone()).await.status();
        let call = api
            .get(format!("{other}/api/todos"))
            .send()
            .await
            .unwrap()
            .status();
        if page == 303 && call == 401 {
            break;
        }
        assert!(
            ended.elapsed() < Duration::from_secs(2),
            "page {page}, API {call} after {:?}",
            ended.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn forwarded_headers_are_trusted_only_from_the_configured_proxies(app: TestApp) {
    let token = app.sign_up_with_token("ada", PASSWORD).await;
    let ada = token_client(&token);
    let create = |address: String| {
        let ada = ada.clone();
        async move {
            let task: Value = ada
                .post(format!("{address}/api/todos"))
                .header("x-forwarded-proto", "https")
                .header("x-forwarded-host", "evil.example")
                .header("x-forwarded-for", "203.0.113.9")
                .json(&json!({"title": "t"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            task["url"].as_str().unwrap().to_owned()
        }
    };
    // No proxy configured: the headers are the client's word, ignored.
    assert!(create(app.address.clone()).await.starts_with(&app.address));
    // One trusted proxy (the ALB): its headers count.
    let mut behind_alb = accounts_config();
    behind_alb.auth.trusted_proxy_hops = 1;
    let (alb, _a) = app.second_instance(behind_alb).await;
    assert!(
        create(alb.clone())
            .await
            .starts_with("https://evil.example/api/todos/")
    );
    // PUBLIC_URL wins over anything a request says.
    let mut public = accounts_config();
    public.auth.trusted_proxy_hops = 1;
    public.auth.public_url =
        Some(todo_app::config::parse_public_url("https://todo.example.com").unwrap());
    let (fixed, _b) = app.second_instance(public).await;
    assert!(
        create(fixed)
            .await
            .starts_with("https://todo.example.com/api/todos/")
    );

    // The throttle keys on the address the trusted proxy saw, not the client's claim.
    let spoofed = |address: String, claimed: &'static str| {
        let client = app.client.clone();
        async move {
            client
                .post(format!("{address}/api/tokens"))
                .header("x-forwarded-for", format!("{claimed}, 198.51.100.7"))
                .json(&json!({"username": "nobody-at-all", "password": "wrong wrong", "name": "x"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for i in 0..6 {
        let claimed: &'static str = Box::leak(format!("10.0.0.{i}").into_boxed_str());
        assert_eq!(spoofed(alb.clone(), claimed).await, 401);
    }
    assert_eq!(
        spoofed(alb.clone(), "10.9.9.9").await,
        429,
        "a new claimed address does not reset the count"
    );
    assert_eq!(
        count_sql(
            &app,
            "SELECT COUNT(*) FROM auth_throttle WHERE key = 'login:ip:198.51.100.7'"
        )
        .await,
        1
    );
}

async fn cors_allows_no_origin_by_default_and_never_credentials(app: TestApp) {
    let preflight = |address: String| async move {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, format!("{address}/api/todos"))
            .header("origin", "https://app.example.com")
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
            .await
            .unwrap()
    };
    let default = preflight(app.address.clone()).await;
    assert!(
        default
            .headers()
            .get("access-control-allow-origin")
            .is_none(),
        "{:?}",
        default.headers()
    );
    let mut listed = accounts_config();
    listed.cors_origins =
        Some(todo_app::config::parse_cors_origins("https://app.example.com").unwrap());
    let (address, _server) = app.second_instance(listed).await;
    let allowed = preflight(address.clone()).await;
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert!(
        allowed
            .headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
    let allow_headers = allowed.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allow_headers.contains("authorization"), "{allow_headers}");
    // With a list the answer depends on the origin, so a request without
    // one (which skips the CORS layer) still says so to caches.
    let plain = reqwest::Client::new()
        .get(format!("{address}/api/todos"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 401);
    assert_eq!(plain.headers()["vary"], "origin");
    assert!(plain.headers().get("access-control-allow-origin").is_none());
    // An explicitly empty list allows none either.
    let mut empty = accounts_config();
    empty.cors_origins = Some(todo_app::config::CorsOrigins::List(Vec::new()));
    let (address, _server) = app.second_instance(empty).await;
    assert!(
        preflight(address)
            .await
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

async fn per_account_export_and_import(app: TestApp) {
    let ada = token_client(&app.sign_up_with_token("ada", PASSWORD).await);
    for title in ["one", "two"] {
        ada.post(app.url("/api/todos"))
            .json(&json!({"title": title, "priority": "high"}))
            .send()
            .await
            .unwrap();
    }
    let export: Value = ada
        .get(app.url("/api/export"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(export["tasks"].as_array().unwrap().len(), 2);
    // Moving to another account (or server) keeps titles, priorities and order.
    let bob = token_client(&app.sign_up_with_token("bob", PASSWORD).await);
    let imported: Value = bob
        .post(app.url("/api/import"))
        .json(&export)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(imported["imported"], 2, "{imported}");
    let bobs: Value = bob
        .get(app.url("/api/todos"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let titles: Vec<&str> = bobs
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["one", "two"]);
    assert_eq!(bobs[0]["priority_name"], "high");
    // A second import without replace is refused; Ada's list is untouched.
    let again = bob
        .post(app.url("/api/import"))
        .json(&export)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let body: Value = again.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("replace=true"),
        "{body}"
    );
    let adas: Value = ada
        .get(app.url("/api/todos"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(adas.as_array().unwrap().len(), 2);
}

async fn oversized_bodies_are_refused_at_once(app: TestApp) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A Content-Length past the limit, and no body at all: the answer must
    // not wait for bytes that never come.
    for path in ["/api/todos", "/todos", "/api/import"] {
        let mut stream = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://"))
            .await
            .unwrap();
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut head = [0u8; 12];
        tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut head))
            .await
            .unwrap_or_else(|_| panic!("{path}: no answer within 5 s"))
            .unwrap();
        assert_eq!(&head, b"HTTP/1.1 413", "{path}");
    }
}

/// Upgrading: a database used without accounts has tasks (owner: the shared
/// list). Turned on, accounts keep them, and the first account gets them.
async fn tasks_from_before_accounts_go_to_the_first_account(app: TestApp) {
    let backend = app.backend();
    drop(app);
    let before = TestApp::spawn_with(backend, server_config()).await.unwrap();
    for title in ["from before", "also from before"] {
        before.create_titled(title).await;
    }
    let database = before.stop().await;
    let app = TestApp::spawn_on(database, accounts_config()).await;
    let first = app.sign_up("first", PASSWORD).await;
    assert_eq!(
        first.page_titles().await,
        ["from before", "also from before"]
    );
    let second = app.sign_up("second", PASSWORD).await;
    assert!(second.page_titles().await.is_empty());
}

async fn accounts_routes_are_absent_without_accounts(app: TestApp) {
    let open = TestApp::spawn_with(app.backend(), server_config())
        .await
        .unwrap();
    for path in ["/signup", "/login", "/settings"] {
        assert_eq!(open.get(path).await.status(), 404, "{path}");
    }
    // Every form of the account pages is absent too, not only the pages.
    for path in [
        "/signup",
        "/login",
        "/logout",
        "/settings/password",
        "/settings/tokens",
        "/settings/tokens/1/delete",
        "/settings/logout-everywhere",
        "/settings/delete-account",
    ] {
        let response = open
            .client
            .post(open.url(path))
            .header("origin", open.address.as_str())
            .form(&[("username", "ada"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "POST {path}");
        assert!(
            response.text().await.unwrap().contains("Not found"),
            "{path}"
        );
    }
    let tokens = open.get("/api/tokens").await;
    assert_eq!(tokens.status(), 404);
    assert!(tokens.text().await.unwrap().contains("AUTH_MODE=none"));
    // And the shared list works without credentials, as before accounts.
    open.create_titled("shared").await;
    assert_eq!(open.titles("").await, ["shared"]);
    // With sign-up closed, the page says so and the form is refused.
    let mut closed = accounts_config();
    closed.auth.signup = todo_app::config::Signup::Closed;
    let (address, _server) = app.second_instance(closed).await;
    let page = reqwest::get(format!("{address}/signup")).await.unwrap();
    assert_eq!(page.status(), 403);
    assert!(page.text().await.unwrap().contains("Sign-up is closed"));
}
