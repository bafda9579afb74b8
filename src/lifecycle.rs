//! Process lifecycle: readiness and graceful shutdown.
//!
//! On SIGTERM or SIGINT the app first reports not-ready (so a load balancer
//! takes it out of rotation) while still serving for the drain delay, then
//! stops accepting and gives in-flight requests the shutdown timeout to
//! finish. A second signal skips what is left of the drain. All of that
//! timing lives here, in `Lifecycle::serve`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// How shutdown is paced (`SHUTDOWN_DRAIN_DELAY`, `SHUTDOWN_TIMEOUT`).
#[derive(Clone, Copy, Debug)]
pub struct ShutdownTiming {
    /// How long to keep serving, not ready, after the signal.
    pub drain_delay: Duration,
    /// Then, how long in-flight requests get to finish.
    pub shutdown_timeout: Duration,
}

/// Resolves when a server should stop accepting connections.
pub type StopAccepting = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// How `Lifecycle::serve` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Every in-flight request finished.
    Cleanly,
    /// The shutdown timeout passed with requests still running.
    TimedOut,
}

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
    async fn stop_accepting(&self, drain_delay: Duration) {
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

impl Lifecycle {
    /// Runs a server through the whole shutdown sequence. `server` gets the
    /// future on which it must stop accepting (after the drain); once that
    /// resolved, in-flight requests have `shutdown_timeout` to finish before
    /// the server is dropped.
    pub async fn serve<F, E>(
        &self,
        timing: ShutdownTiming,
        server: impl FnOnce(StopAccepting) -> F,
    ) -> Result<Stopped, E>
    where
        F: Future<Output = Result<(), E>>,
    {
        let (stopped_accepting, accepting_stopped) = tokio::sync::oneshot::channel();
        let lifecycle = self.clone();
        let server = server(Box::pin(async move {
            lifecycle.stop_accepting(timing.drain_delay).await;
            let _ = stopped_accepting.send(());
        }));
        let deadline = async {
            match accepting_stopped.await {
                Ok(()) => tokio::time::sleep(timing.shutdown_timeout).await,
                // The server ended before it stopped accepting.
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            result = server => result.map(|()| Stopped::Cleanly),
            () = deadline => {
                tracing::warn!(
                    timeout_ms = timing.shutdown_timeout.as_millis() as u64,
                    "in-flight requests did not finish in time; stopping anyway"
                );
                Ok(Stopped::TimedOut)
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    const TIMING: ShutdownTiming = ShutdownTiming {
        drain_delay: Duration::from_millis(50),
        shutdown_timeout: Duration::from_millis(100),
    };

    #[tokio::test]
    async fn a_server_that_finishes_stops_cleanly_after_the_drain() {
        let lifecycle = Lifecycle::default();
        lifecycle.begin_shutdown();
        let started = tokio::time::Instant::now();
        let stopped = lifecycle
            .serve(TIMING, |stop_accepting| async {
                stop_accepting.await;
                Ok::<_, std::io::Error>(())
            })
            .await
            .unwrap();
        assert_eq!(stopped, Stopped::Cleanly);
        assert!(started.elapsed() >= TIMING.drain_delay);
    }

    #[tokio::test]
    async fn in_flight_work_gets_the_timeout_counted_from_the_end_of_the_drain() {
        let lifecycle = Lifecycle::default();
        lifecycle.begin_shutdown();
        let started = tokio::time::Instant::now();
        let stopped = lifecycle
            .serve(TIMING, |stop_accepting| async {
                stop_accepting.await;
                // A request that never finishes.
                std::future::pending::<Result<(), std::io::Error>>().await
            })
            .await
            .unwrap();
        assert_eq!(stopped, Stopped::TimedOut);
        assert!(started.elapsed() >= TIMING.drain_delay + TIMING.shutdown_timeout);
    }

    #[tokio::test]
    async fn a_server_error_is_returned() {
        let lifecycle = Lifecycle::default();
        let result = lifecycle
            .serve(TIMING, |_| async { Err::<(), _>("bind failed") })
            .await;
        assert_eq!(result, Err("bind failed"));
    }
}
