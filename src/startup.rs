//! Building and running the server. `Application::build` binds its own
//! listener, so tests can ask for port 0 and read back the real port.

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::{DatabaseConfig, ServerConfig};
use crate::db::credentials::SecretCredentials;
use crate::db::{DatabaseTarget, Store};
use crate::http::{self, AppState};
use crate::lifecycle::Lifecycle;

/// How long start-up waits for an unreachable database before giving up
/// (and letting the orchestrator restart the process).
const STARTUP_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    state: AppState,
    server: ServerConfig,
}

impl Application {
    /// Connects to the database, applies migrations and binds the port.
    pub async fn build(server: ServerConfig, database: &DatabaseConfig) -> anyhow::Result<Self> {
        let store = open_store(database).await?;
        store
            .wait_until_reachable(STARTUP_PATIENCE)
            .await
            .context("the database is not reachable")?;
        store.migrate().await?;
        crate::db::check_connection_budget(&store, database).await;
        Self::build_with_store(server, store).await
    }

    /// Like `build`, over an already migrated store.
    pub async fn build_with_store(server: ServerConfig, store: Store) -> anyhow::Result<Self> {
        let addr = SocketAddr::new(server.host, server.port);
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("failed to listen on {addr}"))?;
        let state = AppState {
            store,
            lifecycle: Lifecycle::default(),
            list_cache: Default::default(),
            auth: crate::http::auth::Auth::new(server.auth.clone(), server.body_limit),
        };
        let router = http::router(state.clone(), &server);
        Ok(Self {
            listener,
            router,
            state,
            server,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn lifecycle(&self) -> Lifecycle {
        self.state.lifecycle.clone()
    }

    /// Serves until shutdown is requested (see `Lifecycle`), then drains,
    /// waits for in-flight requests up to the shutdown timeout, and closes
    /// the pool.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self {
            listener,
            router,
            state,
            server,
        } = self;
        let lifecycle = state.lifecycle.clone();
        let drain_delay = server.drain_delay;
        let serve = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { lifecycle.stop_accepting(drain_delay).await })
        .into_future();
        let mut serve = std::pin::pin!(serve);

        tokio::select! {
            result = &mut serve => result.context("server failed")?,
            _ = async {
                state.lifecycle.shutdown_requested().await;
                tokio::time::sleep(server.drain_delay).await;
                tokio::time::sleep(server.shutdown_timeout).await;
            } => {
                tracing::warn!(
                    timeout_ms = server.shutdown_timeout.as_millis() as u64,
                    "in-flight requests did not finish in time; stopping anyway"
                );
            }
        }
        state.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

pub async fn open_store(database: &DatabaseConfig) -> anyhow::Result<Store> {
    let mut target = DatabaseTarget::from_config(database)?;
    let mut secret = None;
    if let Some(secret_id) = &database.db_secret_arn {
        let (source, credentials) = SecretCredentials::load(secret_id).await?;
        target = target.with_credentials(&credentials)?;
        tracing::info!(secret = %secret_id, "database credentials come from Secrets Manager");
        secret = Some(source);
    }
    tracing::info!(database = %target.describe(), "using database");
    let store = target.connect(database.pool_size, database.acquire_timeout);
    Ok(match secret {
        Some(source) => store.with_credentials(source),
        None => store,
    })
}
