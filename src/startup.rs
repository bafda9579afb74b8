//! Building and running the server. `Application::build` binds its own
//! listener, so tests can ask for port 0 and read back the real port.

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::{DatabaseConfig, ServerConfig};
use crate::db::{self, Store};
use crate::http::{self, AppState};
use crate::lifecycle::{Lifecycle, ShutdownTiming};

/// How long start-up waits for an unreachable database before giving up
/// (and letting the orchestrator restart the process).
const STARTUP_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    state: AppState,
    shutdown: ShutdownTiming,
}

impl Application {
    /// Connects to the database, applies migrations and binds the port.
    pub async fn build(server: ServerConfig, database: &DatabaseConfig) -> anyhow::Result<Self> {
        let store = db::open_store(database).await?;
        store
            .wait_until_reachable(STARTUP_PATIENCE)
            .await
            .context("the database is not reachable")?;
        store.migrate().await?;
        db::check_connection_budget(&store, database.fleet_size).await;
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
            shutdown: ShutdownTiming {
                drain_delay: server.drain_delay,
                shutdown_timeout: server.shutdown_timeout,
            },
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

    /// Serves until shutdown is requested and then runs it (see
    /// `Lifecycle::serve`), and closes the pool.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self {
            listener,
            router,
            state,
            shutdown,
        } = self;
        state
            .lifecycle
            .serve(shutdown, |stop_accepting| {
                axum::serve(
                    listener,
                    router.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(stop_accepting)
                .into_future()
            })
            .await
            .context("server failed")?;
        state.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}
