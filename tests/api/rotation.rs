//! Credentials that survive a rotation: the real binary reads PostgreSQL
//! credentials from Secrets Manager (moto's, at `TEST_SECRETS_ENDPOINT`),
//! and keeps serving while the role's password and the secret change.
//! ci/moto.sh serves moto over HTTPS with a certificate of its own
//! (`TEST_SECRETS_CA_FILE`), so the app's AWS client shows its TLS works and
//! checks certificates.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;
use sqlx::Connection;

use crate::helpers::{TestRole, with_database};

struct Fixture {
    role: TestRole,
    secrets: aws_sdk_secretsmanager::Client,
    endpoint: String,
    /// The certificate moto's HTTPS endpoint presents, when it has one.
    ca_file: Option<String>,
    secret_arn: String,
}

/// The certificate to trust for an `https://` endpoint (`TEST_SECRETS_CA_FILE`).
fn secrets_ca_file(endpoint: &str) -> Option<String> {
    if !endpoint.starts_with("https://") {
        return None;
    }
    let file = std::env::var("TEST_SECRETS_CA_FILE").expect(
        "TEST_SECRETS_CA_FILE must name the certificate of an https:// TEST_SECRETS_ENDPOINT",
    );
    Some(file)
}

/// `None` outside CI when moto or PostgreSQL is not configured.
fn secrets_endpoint() -> Option<String> {
    match std::env::var("TEST_SECRETS_ENDPOINT") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("TEST_SECRETS_ENDPOINT (a local Secrets Manager) must be set in CI")
        }
        _ => None,
    }
}

impl Fixture {
    async fn new(password: &str) -> Option<Self> {
        let endpoint = secrets_endpoint()?;
        let role = TestRole::create("rot", password).await?;
        let ca_file = secrets_ca_file(&endpoint);
        let http_client = match &ca_file {
            // The test's own client trusts only moto's certificate.
            Some(file) => {
                use aws_smithy_http_client::tls;
                let pem = std::fs::read(file).expect("cannot read TEST_SECRETS_CA_FILE");
                let trust = tls::TrustStore::empty().with_pem_certificate(pem);
                aws_smithy_http_client::Builder::new()
                    .tls_provider(tls::Provider::Rustls(
                        tls::rustls_provider::CryptoMode::Ring,
                    ))
                    .tls_context(
                        tls::TlsContext::builder()
                            .with_trust_store(trust)
                            .build()
                            .unwrap(),
                    )
                    .build_https()
            }
            None => todo_app::db::credentials::aws_http_client(),
        };
        let config = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
            .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
            .endpoint_url(&endpoint)
            .http_client(http_client)
            .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .build();
        let secrets = aws_sdk_secretsmanager::Client::from_conf(config);
        let created = secrets
            .create_secret()
            .name(format!("todo-app/{}", role.name))
            .secret_string(json!({"username": role.name, "password": password}).to_string())
            .send()
            .await
            .expect("cannot create the secret in the local Secrets Manager");
        let secret_arn = created.arn().unwrap().to_owned();
        Some(Self {
            role,
            secrets,
            endpoint,
            ca_file,
            secret_arn,
        })
    }

    async fn set_secret(&self, password: &str) {
        self.secrets
            .put_secret_value()
            .secret_id(&self.secret_arn)
            .secret_string(json!({"username": self.role.name, "password": password}).to_string())
            .send()
            .await
            .unwrap();
    }

    /// Closes the app's open connections, as their max lifetime or a
    /// failover would, so the next queries need new ones.
    async fn drop_connections(&self) {
        self.role
            .admin(format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{}'",
                self.role.name
            ))
            .await;
    }

    async fn stored_titles(&self) -> i64 {
        let url = with_database(&self.role.admin_url, &self.role.name);
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query_scalar("SELECT COUNT(*) FROM tasks")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    }

    /// The app with the trust store a deployment has: the system's
    /// certificates (`SSL_CERT_FILE` adds moto's, as a private CA would be).
    fn spawn_app(&self, port: u16) -> tokio::process::Child {
        let mut command = self.app_command(port);
        if let Some(file) = &self.ca_file {
            command.env("SSL_CERT_FILE", file);
        }
        command
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap()
    }

    fn app_command(&self, port: u16) -> tokio::process::Command {
        let admin = self.role.host_and_port();
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_todo-app"));
        command
            .env_clear()
            .env("PORT", port.to_string())
            .env("AUTH_MODE", "none")
            .env("HOST", "127.0.0.1")
            .env("DB_HOST", admin.0)
            .env("DB_PORT", admin.1.to_string())
            .env("DB_NAME", &self.role.name)
            .env("DB_SECRET_ARN", &self.secret_arn)
            .env("DB_SSLMODE", "disable")
            .env("DB_POOL_SIZE", "2")
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("LOG_FORMAT", "json")
            .env("SHUTDOWN_DRAIN_DELAY", "0s")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        command
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Creates tasks one after another until stopped; returns (ok, failed, last_status).
async fn write_steadily(url: String, stop: Arc<AtomicBool>) -> (u32, u32, u16) {
    let client = reqwest::Client::new();
    let (mut ok, mut failed, mut last) = (0, 0, 0);
    // Bounded: at most 2 000 requests whatever happens.
    for i in 0..2000 {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let response = client
            .post(format!("{url}/api/todos"))
            .json(&json!({"title": format!("task {i}")}))
            .send()
            .await;
        last = response.as_ref().map_or(0, |r| r.status().as_u16());
        if last == 201 {
            ok += 1
        } else {
            failed += 1
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (ok, failed, last)
}

async fn wait_ready(url: &str) {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client
            .get(format!("{url}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the app did not become ready");
}

async fn rotate_while_serving(secret_lags_by: Duration) {
    let old = "old:p@ss/w#rd?'%";
    let new = "new&p@ss w0rd=\"";
    let fixture = Fixture::new(old)
        .await
        .expect("TEST_SECRETS_ENDPOINT and TEST_DATABASE_URL must be set: this test was built for them (see build.rs)");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut child = fixture.spawn_app(port);
    let pid = child.id().unwrap();
    // Read the log as it comes: a full pipe would block the app's writes.
    let log = tokio::spawn({
        let mut stdout = child.stdout.take().unwrap();
        async move {
            use tokio::io::AsyncReadExt;
            let mut log = Vec::new();
            stdout.read_to_end(&mut log).await.unwrap();
            String::from_utf8_lossy(&log).into_owned()
        }
    });
    wait_ready(&url).await;

    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(write_steadily(url.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The rotation, as Secrets Manager's rotation function does it: the
    // database gets the new password, then the secret (maybe a bit later).
    fixture.role.set_password(new).await;
    fixture.drop_connections().await;
    tokio::time::sleep(secret_lags_by).await;
    fixture.set_secret(new).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    let (ok, failed, last) = writer.await.unwrap();

    // Still the same process, serving with the new password.
    let response = reqwest::Client::new()
        .get(format!("{url}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(child.id(), Some(pid), "the app was not restarted");
    assert_eq!(last, 201, "the last write succeeded");
    assert!(ok > 20, "kept writing: {ok} ok, {failed} failed");
    // Only requests that raced the rotation may fail: those between the
    // password change and the secret update, plus one refresh interval.
    let allowed = 2 + (secret_lags_by.as_millis() as u32 + 1000) / 10;
    assert!(
        failed <= allowed,
        "{failed} writes failed (allowed {allowed})"
    );
    assert_eq!(
        fixture.stored_titles().await,
        i64::from(ok),
        "every 201 is stored"
    );

    // Stop and check the log: the reload is recorded, no password appears.
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("the app did not stop")
        .unwrap();
    assert!(status.success(), "{status}");
    let log = log.await.unwrap();
    assert!(
        log.contains("reloaded the credentials from Secrets Manager"),
        "{log}"
    );
    for secret in [old, new] {
        assert!(!log.contains(secret), "a password leaked into the log");
    }
    eprintln!(
        "rotation with the secret {secret_lags_by:?} behind: {ok} writes ok, {failed} failed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(postgres_tests, secrets_tests)),
    ignore = "set TEST_DATABASE_URL and TEST_SECRETS_ENDPOINT (ci/moto.sh) to run"
)]
async fn keeps_serving_when_password_and_secret_rotate_together() {
    rotate_while_serving(Duration::ZERO).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(postgres_tests, secrets_tests)),
    ignore = "set TEST_DATABASE_URL and TEST_SECRETS_ENDPOINT (ci/moto.sh) to run"
)]
async fn recovers_when_the_secret_is_updated_after_the_password() {
    rotate_while_serving(Duration::from_millis(700)).await;
}

/// The AWS client checks the endpoint's certificate: without moto's in its
/// trust store, the app does not read the secret and does not start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(postgres_tests, secrets_tests)),
    ignore = "set TEST_DATABASE_URL and TEST_SECRETS_ENDPOINT (ci/moto.sh) to run"
)]
async fn refuses_a_secrets_endpoint_it_cannot_verify() {
    let password = "unverified-p@ss";
    let fixture = Fixture::new(password)
        .await
        .expect("TEST_SECRETS_ENDPOINT and TEST_DATABASE_URL must be set: this test was built for them (see build.rs)");
    assert!(
        fixture.ca_file.is_some(),
        "TEST_SECRETS_ENDPOINT is not https://: nothing to verify"
    );
    let port = free_port();
    let child = fixture.app_command(port).spawn().unwrap();
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the app neither started nor stopped")
        .unwrap();
    assert!(
        !output.status.success(),
        "the app started without a trusted secret"
    );
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        said.contains("failed to read the secret") && said.contains("certificate"),
        "{said}"
    );
    assert!(!said.contains(password), "the password leaked: {said}");
}
