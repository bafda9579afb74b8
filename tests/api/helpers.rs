//! Spawning the real server on a free port over a fresh database.
//!
//! Every test gets its own database: a temporary SQLite file, or a new
//! PostgreSQL database created through `TEST_DATABASE_URL` and dropped
//! again when the test ends (even when it panics).

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Connection;
use todo_app::config::{AuthMode, DatabaseConfig, ServerConfig};
use todo_app::db::{DatabaseTarget, Store};
use todo_app::lifecycle::Lifecycle;
use todo_app::startup::Application;

/// The tests name databases as the app does.
pub use todo_app::db::Backend;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub lifecycle: Lifecycle,
    pub database: TestDatabase,
    /// The running server; await it to see how it stopped.
    pub server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// The URL of the PostgreSQL server tests may create databases on, `None`
/// when `TEST_DATABASE_URL` is unset. In CI (`CI` set) it is mandatory: a
/// missing PostgreSQL fails instead of skipping.
///
/// Tests that need PostgreSQL do not return early on `None` (libtest would
/// count them as passed): they carry
/// `#[cfg_attr(not(postgres_tests), ignore = "…")]`, which build.rs turns on
/// exactly when `TEST_DATABASE_URL` is unset outside CI, and `expect` the
/// database with [`NO_POSTGRES`].
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("TEST_DATABASE_URL must be set in CI: the PostgreSQL tests are mandatory")
        }
        _ => None,
    }
}

/// Why a test built to run on PostgreSQL failed without it: the binary was
/// run directly, without the `TEST_DATABASE_URL` it was compiled for.
pub const NO_POSTGRES: &str =
    "TEST_DATABASE_URL is not set, but this test was built for PostgreSQL (see build.rs)";

/// The server settings of the tests: clap's defaults (as a user gets them),
/// on a free loopback port, with the shared list of `AUTH_MODE=none` that
/// the tests written before accounts use. Account tests switch it on.
pub fn server_config() -> ServerConfig {
    use clap::Parser;
    let mut config = todo_app::config::Cli::parse_from(["todo-app"]).serve.server;
    config.host = IpAddr::V4(Ipv4Addr::LOCALHOST);
    config.port = 0;
    config.drain_delay = Duration::ZERO;
    config.shutdown_timeout = Duration::from_secs(5);
    config.request_timeout = Duration::from_secs(10);
    config.import_body_limit = 4 * 1024 * 1024;
    config.auth.mode = AuthMode::None;
    // The tests' many clients all come from 127.0.0.1.
    config.connections.max_connections_per_client = 1024;
    config
}

pub fn database_config(url: &str) -> DatabaseConfig {
    DatabaseConfig {
        database_url: Some(url.to_owned()),
        pool_size: 5,
        acquire_timeout: Duration::from_secs(5),
        ..DatabaseConfig::default()
    }
}

/// A database that exists for one test.
pub enum TestDatabase {
    Sqlite {
        dir: PathBuf,
        url: String,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl TestDatabase {
    /// `None` when PostgreSQL is asked for but not configured (outside CI).
    pub async fn create(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("todo-test-{}", uuid::Uuid::new_v4()));
                std::fs::create_dir_all(&dir).unwrap();
                let url = format!("sqlite://{}", dir.join("todo.db").display());
                Some(Self::Sqlite { dir, url })
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url()?;
                let name = format!("todo_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .expect("cannot connect to TEST_DATABASE_URL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await
                    .expect("cannot create a test database");
                let url = with_database(&admin_url, &name);
                Some(Self::Postgres {
                    admin_url,
                    name,
                    url,
                })
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } => url,
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite { .. } => Backend::Sqlite,
            Self::Postgres { .. } => Backend::Postgres,
        }
    }

    /// A pool on this database, as the app opens it (not yet migrated).
    pub fn store(&self) -> Store {
        let config = database_config(self.url());
        DatabaseTarget::from_config(&config)
            .unwrap()
            .connect(config.pool_size, config.acquire_timeout)
    }

    /// The one integer `sql` selects, read on a connection of its own.
    pub async fn count(&self, sql: &str) -> i64 {
        match self {
            Self::Sqlite { url, .. } => {
                let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&mut conn)
                    .await
                    .unwrap()
            }
            Self::Postgres { url, .. } => {
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&mut conn)
                    .await
                    .unwrap()
            }
        }
    }

    /// Runs `sql` (one or more statements) on a connection of its own, as
    /// another process or an operator's tool would.
    pub async fn execute(&self, sql: &str) {
        let sql = sqlx::raw_sql(sqlx::AssertSqlSafe(sql));
        match self {
            Self::Sqlite { url, .. } => {
                let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
                sql.execute(&mut conn).await.unwrap();
            }
            Self::Postgres { url, .. } => {
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                sql.execute(&mut conn).await.unwrap();
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self {
            Self::Sqlite { dir, .. } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Self::Postgres {
                admin_url, name, ..
            } => run_admin_sql_blocking(
                admin_url,
                vec![format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")],
            ),
        }
    }
}

/// Runs administrative SQL from `Drop`, which runs inside the test's
/// runtime: on a thread with its own. Errors are ignored (best effort).
fn run_admin_sql_blocking(admin_url: &str, statements: Vec<String>) {
    let admin_url = admin_url.to_owned();
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                for sql in statements {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut admin)
                        .await;
                }
            }
        });
    })
    .join();
}

/// A PostgreSQL login role with a password and a database of the same
/// name, both dropped when the test ends.
pub struct TestRole {
    pub admin_url: String,
    pub name: String,
}

impl TestRole {
    /// `None` when PostgreSQL is not configured (outside CI).
    pub async fn create(prefix: &str, password: &str) -> Option<Self> {
        let role = Self {
            admin_url: postgres_admin_url()?,
            name: format!("{prefix}_{}", uuid::Uuid::new_v4().simple()),
        };
        role.admin(format!(
            "CREATE ROLE {} LOGIN PASSWORD {}",
            role.name,
            quote(password)
        ))
        .await;
        role.admin(format!("CREATE DATABASE {0} OWNER {0}", role.name))
            .await;
        Some(role)
    }

    /// Runs one statement as the administrator.
    pub async fn admin(&self, sql: String) {
        let mut admin = sqlx::PgConnection::connect(&self.admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut admin)
            .await
            .unwrap();
    }

    pub async fn set_password(&self, password: &str) {
        self.admin(format!(
            "ALTER ROLE {} PASSWORD {}",
            self.name,
            quote(password)
        ))
        .await;
    }

    /// Host and port of the server, as DB_HOST and DB_PORT would name them.
    pub fn host_and_port(&self) -> (String, u16) {
        let after_scheme = self.admin_url.split_once("://").unwrap().1;
        let authority = after_scheme.split(['/', '?']).next().unwrap();
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), p.parse().unwrap()),
            None => (host_port.to_owned(), 5432),
        }
    }
}

impl Drop for TestRole {
    fn drop(&mut self) {
        run_admin_sql_blocking(
            &self.admin_url,
            vec![
                format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
                format!("DROP ROLE IF EXISTS {}", self.name),
            ],
        );
    }
}

/// A SQL string literal.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Replaces the database name in a PostgreSQL URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[authority_end..].find('/').map(|i| i + authority_end);
    let mut out = match path_start {
        Some(i) => format!("{}/{name}", &base[..i]),
        None => format!("{base}/{name}"),
    };
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// `server_config()` with accounts on, as `cargo run` and the image start.
pub fn accounts_config() -> ServerConfig {
    let mut config = server_config();
    config.auth.mode = AuthMode::Accounts;
    config
}

/// A browser of one signed-in user: its cookies, and the CSRF token its
/// pages carry.
pub struct Browser {
    pub client: reqwest::Client,
    pub csrf: String,
    pub address: String,
}

/// The value of the first `name="csrf_token"` field in a page.
pub fn csrf_field(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf_token\" value=\"")? + "name=\"csrf_token\" value=\"".len();
    Some(html[at..].split('"').next()?.to_owned())
}

pub fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

impl Browser {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Submits a form as the page would: fields plus the CSRF token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &self.csrf));
        self.client
            .post(self.url(path))
            .form(&all)
            .send()
            .await
            .unwrap()
    }

    /// The titles on the list page, in order.
    pub async fn page_titles(&self) -> Vec<String> {
        let html = self
            .client
            .get(self.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        html.split(" id=\"title-")
            .skip(1)
            .filter_map(|rest| {
                let start = rest.find('>')? + 1;
                let end = rest[start..].find("</label>")? + start;
                let text = rest[start..end].trim();
                Some(
                    text.replace("&#39;", "'")
                        .replace("&quot;", "\"")
                        .replace("&lt;", "<")
                        .replace("&gt;", ">")
                        .replace("&amp;", "&"),
                )
            })
            .collect()
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, server_config()).await
    }

    /// With accounts on, and `client` signed in as a fresh account by an API
    /// token, so the helpers below act as that user.
    pub async fn spawn_signed_in(backend: Backend) -> Option<Self> {
        let mut app = Self::spawn_with(backend, accounts_config()).await?;
        let token = app.sign_up_with_token("owner", "owner passphrase").await;
        app.client = token_client(&token);
        Some(app)
    }

    pub async fn spawn_with(backend: Backend, server: ServerConfig) -> Option<Self> {
        let database = TestDatabase::create(backend).await?;
        Some(Self::spawn_on(database, server).await)
    }

    /// Another instance over the same database, as behind a load balancer.
    pub async fn second_instance(
        &self,
        server: ServerConfig,
    ) -> (String, tokio::task::JoinHandle<anyhow::Result<()>>) {
        let app = Application::build_with_store(server, self.database.store())
            .await
            .unwrap();
        let address = format!("http://127.0.0.1:{}", app.local_addr().port());
        (address, tokio::spawn(app.run_until_stopped()))
    }

    /// Submits the sign-up or login form at `path` as a browser does: loads
    /// the page (for its form cookie and CSRF field), then posts it.
    pub async fn submit_account_form(
        &self,
        path: &str,
        name: &str,
        password: &str,
    ) -> (reqwest::Client, reqwest::Response) {
        let client = cookie_client();
        let page = client
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let form_csrf = csrf_field(&page).expect("the form page has a CSRF field");
        let response = client
            .post(self.url(path))
            .form(&[
                ("username", name),
                ("password", password),
                ("csrf_token", &form_csrf),
            ])
            .send()
            .await
            .unwrap();
        (client, response)
    }

    /// The signed-in browser after a form was accepted.
    async fn browser(&self, client: reqwest::Client) -> Browser {
        let page = client
            .get(self.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = csrf_field(&page).expect("the list page has a CSRF field");
        Browser {
            client,
            csrf,
            address: self.address.clone(),
        }
    }

    /// Signs `name` up through the sign-up form.
    pub async fn sign_up(&self, name: &str, password: &str) -> Browser {
        let (client, response) = self.submit_account_form("/signup", name, password).await;
        assert_eq!(
            response.status(),
            303,
            "sign-up of {name} failed: {}",
            response.text().await.unwrap()
        );
        self.browser(client).await
    }

    /// Logs `name` in through the login form.
    pub async fn log_in(&self, name: &str, password: &str) -> Result<Browser, reqwest::Response> {
        let (client, response) = self.submit_account_form("/login", name, password).await;
        if response.status() != 303 {
            return Err(response);
        }
        Ok(self.browser(client).await)
    }

    /// `POST /api/tokens` with a username and password.
    pub async fn token_for(&self, name: &str, password: &str) -> String {
        let response = self
            .client
            .post(self.url("/api/tokens"))
            .json(&json!({"username": name, "password": password, "name": "tests"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        response.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn sign_up_with_token(&self, name: &str, password: &str) -> String {
        self.sign_up(name, password).await;
        self.token_for(name, password).await
    }
}

/// A client that sends `Authorization: Bearer TOKEN` with every request.
pub fn token_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

impl TestApp {
    /// The app over an existing database (say, one an earlier app used).
    pub async fn spawn_on(database: TestDatabase, server: ServerConfig) -> Self {
        let store = database.store();
        store.migrate().await.expect("migrations failed");
        let app = Application::build_with_store(server, store.clone())
            .await
            .expect("failed to build the app");
        let port = app.local_addr().port();
        let lifecycle = app.lifecycle();
        let server = tokio::spawn(app.run_until_stopped());
        Self {
            address: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            store,
            lifecycle,
            database,
            server,
        }
    }

    pub fn backend(&self) -> Backend {
        self.database.backend()
    }

    /// Stops the server and hands back its database, for the next app.
    pub async fn stop(self) -> TestDatabase {
        self.lifecycle.begin_shutdown();
        let _ = self.server.await;
        self.store.close().await;
        self.database
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .patch(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.client.delete(self.url(path)).send().await.unwrap()
    }

    /// Creates a task through the API and returns its JSON.
    pub async fn create(&self, body: Value) -> Value {
        let response = self.post_json("/api/todos", &body).await;
        assert_eq!(response.status(), 201, "creating {body}");
        response.json().await.unwrap()
    }

    pub async fn create_titled(&self, title: &str) -> Value {
        self.create(json!({ "title": title })).await
    }

    /// The titles of `GET /api/todos{query}`, in the order listed.
    pub async fn titles(&self, query: &str) -> Vec<String> {
        self.list(query)
            .await
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_owned())
            .collect()
    }

    pub async fn list(&self, query: &str) -> Vec<Value> {
        let response = self.get(&format!("/api/todos{query}")).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }
}

/// Generates one `#[tokio::test]` per backend for each listed test function
/// `async fn name(app: TestApp)`. PostgreSQL variants are reported as
/// ignored when `TEST_DATABASE_URL` is unset (and fail in CI).
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite)
                        .await
                        .expect("SQLite is always available");
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(postgres_tests), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
                async fn $name() {
                    let app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres)
                        .await
                        .expect($crate::helpers::NO_POSTGRES);
                    super::$name(app).await;
                }
            )*
        }
    };
}

/// Like `backend_tests!`, with accounts on (the default outside the tests).
#[macro_export]
macro_rules! account_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::helpers::TestApp::spawn_with(
                        $crate::helpers::Backend::Sqlite,
                        $crate::helpers::accounts_config(),
                    )
                    .await
                    .expect("SQLite is always available");
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(postgres_tests), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
                async fn $name() {
                    let app = $crate::helpers::TestApp::spawn_with(
                        $crate::helpers::Backend::Postgres,
                        $crate::helpers::accounts_config(),
                    )
                    .await
                    .expect($crate::helpers::NO_POSTGRES);
                    super::$name(app).await;
                }
            )*
        }
    };
}

/// Like `backend_tests!`, for test functions `async fn name(backend: Backend)`
/// that set up their own app (or none). PostgreSQL variants are reported as
/// ignored when `TEST_DATABASE_URL` is unset (and fail in CI).
#[macro_export]
macro_rules! per_backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(postgres_tests), ignore = "set TEST_DATABASE_URL to run on PostgreSQL")]
                async fn $name() {
                    $crate::helpers::postgres_admin_url().expect($crate::helpers::NO_POSTGRES);
                    super::$name($crate::helpers::Backend::Postgres).await;
                }
            )*
        }
    };
}

#[test]
fn database_names_are_replaced_in_urls() {
    assert_eq!(
        with_database("postgres://u:p@h:5432/db?sslmode=disable", "x"),
        "postgres://u:p@h:5432/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
}
