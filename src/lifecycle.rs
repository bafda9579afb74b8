//! Process lifecycle: readiness and graceful shutdown.
//!
//! On SIGTERM or SIGINT the app first reports not-ready (so a load balancer
//! takes it out of rotation) while still serving for the drain delay, then
//! stops accepting and gives in-flight requests the shutdown timeout to
//! finish. A second signal skips what is left of the drain.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

#[derive(Clone, Debug, Default)]
pub struct Lifecycle {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    shutting_down: AtomicBool,
    signalled: Notify,
}

impl Lifecycle {
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::Acquire)
    }

    /// Starts shutdown, as a signal would. Safe to call more than once.
    pub fn begin_shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::Release);
        self.inner.signalled.notify_waiters();
        // Also wake a waiter that registers after this call.
        self.inner.signalled.notify_one();
    }

    /// Resolves once shutdown has begun.
    pub async fn shutdown_requested(&self) {
        loop {
            let notified = self.inner.signalled.notified();
            if self.is_shutting_down() {
                return;
            }
            notified.await;
        }
    }

    /// Resolves when the server should stop accepting connections: after
    /// shutdown began and the drain delay passed (or a second signal came).
    pub async fn stop_accepting(&self, drain_delay: Duration) {
        self.shutdown_requested().await;
        tracing::info!(
            drain_delay_ms = drain_delay.as_millis() as u64,
            "shutting down: reporting not-ready and draining"
        );
        tokio::select! {
            _ = tokio::time::sleep(drain_delay) => {}
            _ = wait_for_signal() => tracing::info!("second signal: skipping the rest of the drain"),
        }
        tracing::info!("no longer accepting connections; finishing in-flight requests");
    }
}

/// Turns SIGTERM/SIGINT into `begin_shutdown`.
pub fn listen_for_signals(lifecycle: Lifecycle) {
    tokio::spawn(async move {
        let signal = wait_for_signal().await;
        tracing::info!(signal, "signal received");
        lifecycle.begin_shutdown();
    });
}

async fn wait_for_signal() -> &'static str {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => "SIGINT",
        _ = terminate => "SIGTERM",
    }
}
