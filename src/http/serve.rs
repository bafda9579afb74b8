//! The accept loop: HTTP/1.1 connections with limits for a server that may
//! face the internet directly (ECS tasks on public IPs, no load balancer).
//!
//! - A client gets `HEADER_READ_TIMEOUT` to send a request's headers; hyper
//!   runs the same timer while a kept-alive connection waits for its next
//!   request, so it is also the idle timeout. Slow or stalled clients are
//!   closed instead of holding a connection (and a file descriptor) forever.
//! - At most `MAX_CONNECTIONS` are open at once. When they are all taken the
//!   loop stops accepting until one closes: newcomers wait in the kernel's
//!   backlog rather than the process running out of file descriptors, and
//!   the timeout above frees the slots that stalled clients hold.
//! - With no trusted proxy in front, one address may hold at most
//!   `MAX_CONNECTIONS_PER_CLIENT` of them (an IPv6 /64 counts as one
//!   address, as one host usually has a whole /64); further connections from
//!   it are closed as soon as they are accepted, so a single client cannot
//!   fill the table and everyone else still gets in. Behind a proxy every
//!   connection comes from the proxy's few addresses, so this cap would
//!   throttle everyone: there the same number limits requests in flight per
//!   forwarded client instead (`http::limits`).
//! - Each request carries the peer's address (`ConnectInfo`), which `auth`
//!   uses unless a trusted proxy says otherwise.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use super::limits::PerClient;

/// The limits of the accept loop, resolved from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    /// Connections one address may hold; `None` behind a trusted proxy.
    pub max_connections_per_address: Option<usize>,
}

/// Serves `router` on `listener` until `stop` resolves, then stops
/// accepting and lets open connections finish their current request.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let per_address = limits.max_connections_per_address.map(PerClient::new);
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let mut stop = std::pin::pin!(stop);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: pass, then retry
                    // (returning would stop the server for good).
                    tracing::warn!(error = %err, "failed to accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let address_slot = match &per_address {
            Some(per_address) => match per_address.open(peer.ip()) {
                Some(address_slot) => Some(address_slot),
                None => {
                    // Closed unread: the client already holds its share.
                    tracing::debug!(client = %peer, "refused a connection over the per-address limit");
                    continue;
                }
            },
            None => None,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone().map_request(
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                // Before routing: `PROPFIND /` is CalDAV's.
                super::caldav::alias_root(&mut req);
                req.map(axum::body::Body::new)
            },
        ));
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // Errors here are the client's (gone, too slow, garbage).
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, client = %peer, "connection ended with an error");
            }
            drop(address_slot);
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
