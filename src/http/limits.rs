//! What one client may hold of the server: its request body is read with a
//! limit on size and on pauses, and it may have only so many connections or
//! requests at once.
//!
//! - **Bodies** are read here, before any handler runs, with the route's
//!   size limit (`BODY_LIMIT`, `IMPORT_BODY_LIMIT`) and `BODY_READ_TIMEOUT`
//!   as the longest pause between two pieces. A client that stops sending
//!   mid-body gets 408 and the connection is closed, instead of holding it
//!   until `REQUEST_TIMEOUT`; one that sends too much gets 413. Handlers get
//!   the whole body in memory, which they would read whole anyway; imports,
//!   the large ones, are read one at a time.
//! - **Per client**: with no trusted proxy, `http::serve` caps the
//!   connections one address holds open ([`PerClient`] keyed on the peer).
//!   Behind a proxy the peer is the proxy, shared by every user, so the cap
//!   moves here and counts requests in flight per client as the trusted
//!   `X-Forwarded-For` entry names it ([`in_flight_per_client`]). A client
//!   that stalls its bodies then ties up at most that many requests, and
//!   everyone else's go on; the proxy itself (an ALB) holds the connections
//!   and reads the headers.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt;

use super::audience::Audience;
use super::error::ApiError;
use crate::config::AuthConfig;

/// How request bodies are read.
#[derive(Debug, Clone, Copy)]
pub struct BodyReading {
    pub limit: usize,
    pub import_limit: usize,
    /// The longest pause between two pieces of a body.
    pub pause: Duration,
}

/// Reads the request body whole (see the module documentation), refusing
/// a body announced too large before waiting for any of it.
pub async fn read_body(State(reading): State<BodyReading>, req: Request, next: Next) -> Response {
    let audience = Audience::of(req.uri());
    let limit = if req.uri().path() == "/api/import" {
        reading.import_limit
    } else {
        reading.limit
    };
    let too_large = || format!("the request body is too large; the limit is {limit} bytes");
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit as u64) {
        return refuse(audience, ApiError::PayloadTooLarge(too_large()));
    }
    // One import at a time per process, taken before its body is read:
    // each holds its file (up to `IMPORT_BODY_LIMIT`) and what is parsed
    // from it, and a 512 MiB task must survive several arriving at once.
    // The others wait, within the request timeout.
    let _import_turn = if req.uri().path() == "/api/import" {
        static IMPORTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
        Some(
            IMPORTS
                .acquire()
                .await
                .expect("the semaphore is never closed"),
        )
    } else {
        None
    };
    let (parts, mut body) = req.into_parts();
    if http_body::Body::is_end_stream(&body) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let mut bytes = Vec::new();
    loop {
        let frame = match tokio::time::timeout(reading.pause, body.frame()).await {
            Ok(Some(Ok(frame))) => frame,
            Ok(None) => break,
            // The client closed or broke the connection: nobody reads this.
            Ok(Some(Err(err))) => {
                return refuse(
                    audience,
                    ApiError::BadRequest(format!("the request body could not be read: {err}")),
                );
            }
            Err(_) => {
                tracing::info!(
                    received = bytes.len(),
                    "the client stopped sending its request body"
                );
                return refuse(
                    audience,
                    ApiError::RequestTimeout(format!(
                        "the request body stopped arriving for {} s; send it whole and promptly",
                        reading.pause.as_secs_f64()
                    )),
                );
            }
        };
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > limit {
                return refuse(audience, ApiError::PayloadTooLarge(too_large()));
            }
            bytes.extend_from_slice(&data);
        }
    }
    next.run(Request::from_parts(parts, Body::from(Bytes::from(bytes))))
        .await
}

/// The refusal of a body, as JSON for the API and as a page elsewhere. The
/// body is left unread, so the connection cannot carry another request:
/// say so, or a client's pool reuses it and finds it closed under it.
fn refuse(audience: Audience, error: ApiError) -> Response {
    let mut response = audience.answer(error);
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Requests in flight per client, for a server behind trusted proxies.
#[derive(Clone)]
pub struct InFlight {
    pub clients: Arc<PerClient>,
    pub auth: Arc<AuthConfig>,
}

/// Refuses a request with 429 while its client already has its share in
/// flight (see the module documentation).
pub async fn in_flight_per_client(
    State(in_flight): State<InFlight>,
    req: Request,
    next: Next,
) -> Response {
    let client = super::auth::Client::of(&req, &in_flight.auth);
    let Some(_slot) = in_flight.clients.open(client.ip) else {
        tracing::warn!(client = %client.ip, "refused a request over the per-client limit");
        let error = ApiError::TooManyRequests {
            message: format!(
                "this client already has {} requests in flight; wait for them to finish",
                in_flight.clients.limit
            ),
            retry_after: Duration::from_secs(1),
        };
        let mut response = Audience::of(req.uri()).answer(error);
        let headers = response.headers_mut();
        // The API's answer says so already; the page's must too.
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    };
    next.run(req).await
}

/// Counts what each client holds (connections, or requests in flight) and
/// refuses more than `limit`.
pub struct PerClient {
    limit: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl PerClient {
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for one more from `ip`, or `None` when it holds `limit`
    /// already. The slot gives itself back when dropped.
    pub fn open(self: &Arc<Self>, ip: IpAddr) -> Option<ClientSlot> {
        let key = client_key(ip);
        let mut open = self.lock();
        let count = open.entry(key).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            owner: self.clone(),
            key,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        // The map is consistent after every statement, so a panic elsewhere
        // while it was held leaves nothing half done.
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One connection or request of a client, counted until dropped.
pub struct ClientSlot {
    owner: Arc<PerClient>,
    key: IpAddr,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.owner.lock();
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// What one client is: its IPv4 address, or the /64 of its IPv6 address
/// (the smallest block a network hands a host, so one machine can pick
/// among 2^64 addresses). IPv4-mapped IPv6 addresses count as IPv4.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u128::from(u64::MAX)))),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_share_and_gets_it_back() {
        let clients = PerClient::new(2);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let first = clients.open(ip).unwrap();
        let _second = clients.open(ip).unwrap();
        assert!(clients.open(ip).is_none());
        assert!(clients.open("192.0.2.2".parse().unwrap()).is_some());
        drop(first);
        assert!(clients.open(ip).is_some());
    }

    #[test]
    fn an_ipv6_host_is_its_slash_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }
}
