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

/// The app's router over an already migrated store, without a listener:
/// the in-process tests drive it with `tower::ServiceExt::oneshot`.
/// `Application` serves the same router on a port.
pub async fn router(server: &ServerConfig, store: Store) -> anyhow::Result<axum::Router> {
    Ok(http::router(app_state(server, store).await?, server))
}

async fn app_state(server: &ServerConfig, store: Store) -> anyhow::Result<AppState> {
    let accounts = crate::accounts::Accounts::open(store.clone(), server.auth.clone())
        .await
        .context("failed to read the server's keys")?;
    Ok(AppState {
        store: store
            .with_task_limit(Some(server.limits.max_tasks_per_account))
            .with_list_limits(
                Some(server.limits.max_lists_per_account),
                Some(server.limits.max_members_per_list),
            )
            .with_retention(server.limits.deleted_retention),
        lifecycle: Lifecycle::default(),
        list_cache: crate::http::ListCache::new(server.list_cache),
        accounts,
        moves: crate::http::turns::Turns::default(),
    })
}

/// How often each instance purges what was deleted longer ago than
/// `DELETED_RETENTION`. Restores refuse such rows already; this only
/// frees the space, so it need not be prompt.
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Purges old deletions at start and every `PURGE_EVERY`, until aborted.
/// A failure is logged and the next round tries again.
async fn purge_now_and_then(store: Store) {
    let mut rounds = tokio::time::interval(PURGE_EVERY);
    rounds.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        rounds.tick().await;
        match store.purge_deleted().await {
            Ok(purged) if purged == db::Purged::default() => {}
            Ok(purged) => tracing::info!(
                tasks = purged.tasks,
                lists = purged.lists,
                "purged what was deleted longer ago than DELETED_RETENTION"
            ),
            Err(err) => tracing::warn!(error = %err, "failed to purge deleted tasks and lists"),
        }
    }
}

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    state: AppState,
    shutdown: ShutdownTiming,
    limits: crate::http::serve::Limits,
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
        let state = app_state(&server, store).await?;
        let router = http::router(state.clone(), &server);
        let behind_proxy = server.auth.trusted_proxy_hops > 0;
        let limits = crate::http::serve::Limits {
            header_read_timeout: server.connections.header_read_timeout.unwrap_or(
                std::time::Duration::from_secs(if behind_proxy { 75 } else { 10 }),
            ),
            max_connections: server.connections.max_connections as usize,
            // Behind a proxy the peer is the proxy: `http::limits` counts
            // requests per forwarded client instead.
            max_connections_per_address: (!behind_proxy)
                .then_some(server.connections.max_connections_per_client as usize),
        };
        if server.auth.mode == crate::config::AuthMode::None && !server.host.is_loopback() {
            tracing::warn!(
                host = %server.host,
                "AUTH_MODE=none: anyone who can reach this address can read and change every task"
            );
        }
        Ok(Self {
            limits,
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
            limits,
        } = self;
        // Dropped (aborting the purge) when serving ends, or when this
        // future is dropped.
        let mut purger = tokio::task::JoinSet::new();
        purger.spawn(purge_now_and_then(state.store.clone()));
        let served = state
            .lifecycle
            .serve(shutdown, |stop_accepting| {
                crate::http::serve::serve(listener, router, limits, stop_accepting)
            })
            .await;
        drop(purger);
        served.context("server failed")?;
        state.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}
