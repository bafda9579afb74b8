//! What an attacker tried against the accounts, and what they now get: a
//! burst of guesses or sign-ups sent at once, names that are not names,
//! tokens that outlive the password, an account deleted with a token
//! alone, sessions ended while in use, CSRF tokens made without the key.
//! Over a real port, on both databases.

use std::time::Duration;

use serde_json::{Value, json};

use crate::accounts::count_sql;
use crate::helpers::{Backend, TestApp, accounts_config, cookie_client, csrf_field, token_client};
use crate::{account_tests, per_backend_tests};

account_tests!(
    a_burst_of_guesses_gets_no_more_checks_than_guesses_one_by_one,
    a_burst_of_sign_ups_makes_no_more_accounts_than_the_limit,
    a_password_change_and_logging_out_everywhere_revoke_api_tokens,
    deleting_the_account_through_the_api_needs_the_password,
    invalid_usernames_never_reach_the_database,
    quiet_throttle_entries_are_swept_out,
    csrf_tokens_are_keyed_with_a_secret_every_instance_shares,
);

const PASSWORD: &str = "a good long passphrase";

async fn token_attempt(app: &TestApp, name: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/tokens"))
        .json(&json!({"username": name, "password": password, "name": "x"}))
        .send()
        .await
        .unwrap()
}

/// Five failures are free and the sixth starts a wait, so after five,
/// sixteen attempts sent at once (the right password among them) may have
/// one password checked, as sixteen sent one by one would: the rest wait.
/// The check used to run before the failures were written, and every one
/// of the sixteen was checked (the right one got a token).
async fn a_burst_of_guesses_gets_no_more_checks_than_guesses_one_by_one(app: TestApp) {
    app.sign_up("ada", PASSWORD).await;
    for _ in 0..5 {
        assert_eq!(
            token_attempt(&app, "ada", "wrong wrong").await.status(),
            401
        );
    }
    let burst: Vec<_> = (0..16)
        .map(|i| {
            let client = app.client.clone();
            let url = app.url("/api/tokens");
            let password = if i == 15 { PASSWORD } else { "wrong wrong" };
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&json!({"username": "ada", "password": password, "name": "x"}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in burst {
        statuses.push(attempt.await.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s != 429).count();
    assert!(
        checked <= 1,
        "{checked} of the burst were checked: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| matches!(s, 401 | 201 | 429)),
        "{statuses:?}"
    );
}

/// Sign-ups from one address: five are free, the sixth starts a wait. A
/// burst of seventeen used to make seventeen accounts.
async fn a_burst_of_sign_ups_makes_no_more_accounts_than_the_limit(app: TestApp) {
    // Each sign-up form is loaded first (its cookie and CSRF field), so the
    // posts themselves go out together.
    let mut forms = Vec::new();
    for _ in 0..17 {
        let client = cookie_client();
        let page = client.get(app.url("/signup")).send().await.unwrap();
        let csrf = csrf_field(&page.text().await.unwrap()).unwrap();
        forms.push((client, csrf));
    }
    let burst: Vec<_> = forms
        .into_iter()
        .enumerate()
        .map(|(i, (client, csrf))| {
            let url = app.url("/signup");
            tokio::spawn(async move {
                let name = format!("user{i}");
                client
                    .post(url)
                    .form(&[
                        ("username", name.as_str()),
                        ("password", PASSWORD),
                        ("csrf_token", &csrf),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for signup in burst {
        statuses.push(signup.await.unwrap());
    }
    let made = count_sql(&app, "SELECT COUNT(*) FROM users").await;
    assert!(made <= 6, "{made} accounts from one address: {statuses:?}");
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count() as i64,
        made,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| matches!(s, 303 | 429)),
        "{statuses:?}"
    );
    let counted = count_sql(
        &app,
        "SELECT CAST(failures AS BIGINT) FROM auth_throttle WHERE key LIKE 'signup:ip:%'",
    )
    .await;
    assert_eq!(counted, made, "the stored count is the accounts made");
}

async fn api_status(token: &str, app: &TestApp) -> u16 {
    token_client(token)
        .get(app.url("/api/todos"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Whoever knew the old password may have made tokens with it: a password
/// change revokes them, and so does "log out everywhere". Both used to
/// leave every token working.
async fn a_password_change_and_logging_out_everywhere_revoke_api_tokens(app: TestApp) {
    let browser = app.sign_up("ada", PASSWORD).await;
    let token = app.token_for("ada", PASSWORD).await;
    assert_eq!(api_status(&token, &app).await, 200);
    let changed = browser
        .post_form(
            "/settings/password",
            &[
                ("current_password", PASSWORD),
                ("password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(changed.status(), 200);
    assert!(changed.text().await.unwrap().contains("API tokens revoked"));
    assert_eq!(api_status(&token, &app).await, 401);
    assert_eq!(count_sql(&app, "SELECT COUNT(*) FROM api_tokens").await, 0);
    // The session that made the change stays.
    assert_eq!(
        browser
            .client
            .get(browser.url("/"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let token = app.token_for("ada", "a brand new passphrase").await;
    assert_eq!(api_status(&token, &app).await, 200);
    let everywhere = browser.post_form("/settings/logout-everywhere", &[]).await;
    assert_eq!(everywhere.status(), 303);
    assert_eq!(api_status(&token, &app).await, 401);
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
}

/// A leaked token alone used to delete the account; now every path asks
/// for the password, and a wrong one changes nothing.
async fn deleting_the_account_through_the_api_needs_the_password(app: TestApp) {
    let token = app.sign_up_with_token("ada", PASSWORD).await;
    let api = token_client(&token);
    api.post(app.url("/api/todos"))
        .json(&json!({"title": "keep me"}))
        .send()
        .await
        .unwrap();
    let bare = api.delete(app.url("/api/account")).send().await.unwrap();
    assert_eq!(bare.status(), 415, "no body: the password is missing");
    let empty = api
        .delete(app.url("/api/account"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 401);
    let wrong = api
        .delete(app.url("/api/account"))
        .json(&json!({"password": "not the password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized", "{body}");
    assert_eq!(count_sql(&app, "SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(count_sql(&app, "SELECT COUNT(*) FROM tasks").await, 1);
    let deleted = api
        .delete(app.url("/api/account"))
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(count_sql(&app, "SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(count_sql(&app, "SELECT COUNT(*) FROM tasks").await, 0);
}

/// A NUL in a login name made PostgreSQL answer 500 (the raw name was the
/// throttle key), and 65,011-character names were stored as keys. A name
/// that cannot be a username is now counted against the address only.
async fn invalid_usernames_never_reach_the_database(app: TestApp) {
    let long = "x".repeat(65_011);
    // Five attempts in all: within the free ones, so each is answered.
    for name in ["a\0b", long.as_str(), "ab", "ünïcode"] {
        let response = token_attempt(&app, name, "whatever it is").await;
        assert_eq!(response.status(), 401, "{:?}", &name[..name.len().min(10)]);
    }
    let form = app.log_in("a\0b", "whatever it is").await.err().unwrap();
    assert_eq!(form.status(), 401);
    assert_eq!(
        count_sql(
            &app,
            "SELECT COUNT(*) FROM auth_throttle WHERE key NOT LIKE 'login:ip:%'"
        )
        .await,
        0
    );
    assert_eq!(
        count_sql(
            &app,
            "SELECT CAST(COALESCE(MAX(LENGTH(key)), 0) AS BIGINT) FROM auth_throttle"
        )
        .await,
        "login:ip:127.0.0.1".len() as i64
    );
}

/// Entries nobody is blocked by, quiet for over an hour, are deleted (they
/// used to stay for ever, one per name ever tried).
async fn quiet_throttle_entries_are_swept_out(app: TestApp) {
    let old = "2000-01-01T00:00:00Z";
    let old = match app.backend() {
        Backend::Sqlite => format!("'{old}'"),
        Backend::Postgres => format!("TIMESTAMPTZ '{old}'"),
    };
    app.database
        .execute(&format!(
            "INSERT INTO auth_throttle (key, failures, last_failure, blocked_until, version) \
             VALUES ('login:user:someone', 3, {old}, {old}, 3)"
        ))
        .await;
    assert_eq!(
        token_attempt(&app, "someone", "wrong wrong").await.status(),
        401
    );
    assert_eq!(
        count_sql(
            &app,
            "SELECT COUNT(*) FROM auth_throttle WHERE key = 'login:user:someone' AND failures = 3"
        )
        .await,
        0,
        "the quiet entry was swept out (a new one counts from 1)"
    );
}

/// The CSRF token is an HMAC of the cookie under a key stored once in the
/// database: a page from one instance posts to another, and a token made
/// the old way (a plain hash of the cookie, which anyone could compute) is
/// refused.
async fn csrf_tokens_are_keyed_with_a_secret_every_instance_shares(app: TestApp) {
    use sha2::{Digest, Sha256};

    let (other, _server) = app.second_instance(accounts_config()).await;
    let browser = app.sign_up("ada", PASSWORD).await;
    let moved = browser
        .client
        .post(format!("{other}/todos"))
        .form(&[
            ("title", "posted elsewhere"),
            ("csrf_token", browser.csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 303, "the other instance knows the key");
    assert_eq!(count_sql(&app, "SELECT COUNT(*) FROM server_keys").await, 1);

    let (client, response) = app.submit_account_form("/login", "ada", PASSWORD).await;
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    let secret = cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let mut plain = Sha256::new();
    plain.update(b"todo-app csrf\0");
    plain.update(secret.as_bytes());
    let forged = hex::encode(plain.finalize());
    let refused = client
        .post(app.url("/todos"))
        .form(&[("title", "forged"), ("csrf_token", forged.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(count_sql(&app, "SELECT COUNT(*) FROM tasks").await, 1);
}

mod idle {
    use super::*;

    per_backend_tests!(sessions_in_use_survive_a_short_idle_timeout);

    /// With an idle timeout under a minute, a session in use used to end
    /// anyway (its last use was written at most once a minute).
    async fn sessions_in_use_survive_a_short_idle_timeout(backend: Backend) {
        let mut config = accounts_config();
        config.auth.session_idle_timeout = Duration::from_secs(3);
        let app = TestApp::spawn_with(backend, config)
            .await
            .expect("the macro runs this only where the database is available");
        let browser = app.sign_up("ada", PASSWORD).await;
        for _ in 0..7 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let page = browser.client.get(browser.url("/")).send().await.unwrap();
            assert_eq!(page.status(), 200, "signed out while in use");
        }
        // Left alone for longer than the timeout, it ends.
        tokio::time::sleep(Duration::from_secs(4)).await;
        let page = browser.client.get(browser.url("/")).send().await.unwrap();
        assert_eq!(page.status(), 303);
    }
}
