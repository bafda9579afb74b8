//! PostgreSQL credentials that survive a password rotation.
//!
//! RDS rotates a Secrets-Manager-managed master password, but ECS injects
//! secrets only when a task starts. With `DB_SECRET_ARN` set, the app reads
//! `{"username", "password"}` from the secret itself (credentials from the
//! task role), and when PostgreSQL refuses the password it reads the secret
//! again and gives the pool the new one. Open connections stay valid through
//! a rotation; only new connections need the new password.

use std::fmt;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Deserialize;
use sqlx::PgPool;
use tokio::sync::Mutex;

/// Re-reading the secret more often than this would not help: a rotation
/// is in progress, and Secrets Manager requests cost money.
const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(1);

pub struct SecretCredentials {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
    last_refresh: Mutex<Option<Instant>>,
}

/// A username and password; `Debug` never shows the password.
#[derive(Clone, Deserialize)]
pub struct DbCredentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for DbCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbCredentials")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

impl fmt::Debug for SecretCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretCredentials")
            .field("secret_id", &self.secret_id)
            .finish_non_exhaustive()
    }
}

/// The AWS SDK's HTTPS client, on ring (see Cargo.toml): the SDK has none
/// of its own without its default crypto library.
pub fn aws_http_client() -> aws_sdk_secretsmanager::config::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

impl SecretCredentials {
    /// Uses the standard AWS configuration chain (task role, environment,
    /// `AWS_REGION`, `AWS_ENDPOINT_URL`) and reads the secret once.
    pub async fn load(secret_id: &str) -> anyhow::Result<(Self, DbCredentials)> {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(aws_http_client())
            .load()
            .await;
        let source = Self {
            client: aws_sdk_secretsmanager::Client::new(&config),
            secret_id: secret_id.to_owned(),
            last_refresh: Mutex::new(None),
        };
        let credentials = source.fetch().await?;
        Ok((source, credentials))
    }

    pub async fn fetch(&self) -> anyhow::Result<DbCredentials> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map_err(aws_sdk_secretsmanager::Error::from)
            .with_context(|| format!("failed to read the secret {}", self.secret_id))?;
        let text = output
            .secret_string()
            .with_context(|| format!("the secret {} has no string value", self.secret_id))?;
        // serde's message could quote the value; keep it out of errors.
        serde_json::from_str(text).map_err(|_| {
            anyhow::anyhow!(
                "the secret {} is not JSON with \"username\" and \"password\"",
                self.secret_id
            )
        })
    }

    /// Reads the secret again and gives its credentials to the pool's new
    /// connections. Concurrent callers wait for one refresh instead of each
    /// asking Secrets Manager.
    pub async fn refresh(&self, pool: &PgPool) {
        let mut last = self.last_refresh.lock().await;
        if last.is_some_and(|at| at.elapsed() < MIN_REFRESH_INTERVAL) {
            return;
        }
        *last = Some(Instant::now());
        match self.fetch().await {
            Ok(credentials) => {
                let options = (*pool.connect_options())
                    .clone()
                    .username(&credentials.username)
                    .password(&credentials.password);
                pool.set_connect_options(options);
                tracing::info!(
                    secret = %self.secret_id,
                    username = %credentials.username,
                    "PostgreSQL refused the password; reloaded the credentials from Secrets Manager"
                );
            }
            Err(err) => tracing::warn!(
                error = format!("{err:#}"),
                "could not reload the database credentials"
            ),
        }
    }
}
