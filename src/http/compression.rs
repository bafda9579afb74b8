//! Compressed answers: brotli or gzip, whichever the client prefers in
//! `Accept-Encoding`, for pages, JSON and assets alike.
//!
//! tower-http's `CompressionLayer` ([`layer`](crate::http::compression::layer)) compresses answers as they
//! are sent and marks them `Vary: Accept-Encoding`, so a shared cache keeps
//! one copy per encoding. It leaves alone an answer that already has a
//! `Content-Encoding`: that is how `GET /api/todos` sends the compressed
//! forms its cache keeps (`CachedList::compressed`), made once per list
//! rather than per request. That handler picks the encoding itself with
//! [`Coding::preferred`](crate::http::compression::Coding::preferred), and both compress at [`LEVEL`](crate::http::compression::LEVEL).
//!
//! Not compressed: bodies under [`MIN_SIZE`](crate::http::compression::MIN_SIZE), images other than SVG
//! (already compressed) and event streams (compression would hold events
//! back until a block fills). A client that refuses every coding,
//! `identity` included, gets the body as it is rather than the layer's 406.

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use tower::layer::util::Stack;
use tower::util::MapRequestLayer;
use tower_http::compression::predicate::{And, NotForContentType, Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// Brotli quality 3 and gzip level 3, both on the fast side (one number
/// for both, as the layer takes one). Brotli's own default (11) costs tens
/// of times the CPU for a few per cent fewer bytes. Quality 4, nginx's
/// choice for answers compressed as they go, made our lists 2-4 % smaller
/// for 40-75 % more CPU, and for a body of 1 MB or more it switches to a
/// 16 MB hash table cleared for every answer: the page of 500 tasks cost
/// 35 ms more per request. Measured in `docs/benchmarks.md`.
pub const LEVEL: i32 = 3;

/// Bodies smaller than this go as they are: below one packet, compressing
/// saves no round trip, only CPU.
pub const MIN_SIZE: usize = 1024;

/// Answers worth compressing (see above).
type Compressible = And<And<SizeAbove, NotForContentType>, NotForContentType>;

/// The compression layer, behind the request mapping that spares clients
/// its 406.
pub type Layer = Stack<CompressionLayer<Compressible>, MapRequestLayer<fn(Request) -> Request>>;

/// The layer that compresses answers for clients that accept it.
pub fn layer() -> Layer {
    let compressible = SizeAbove::new(MIN_SIZE as u64)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE);
    let compression = CompressionLayer::new()
        .quality(CompressionLevel::Precise(LEVEL))
        .compress_when(compressible);
    Stack::new(
        compression,
        MapRequestLayer::new(as_is_when_nothing_fits as fn(Request) -> Request),
    )
}

/// A content coding the app sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
}

impl Coding {
    /// The coding to answer a request with, as the layer chooses it: the
    /// highest `q` in `Accept-Encoding` (`*` standing for codings it does
    /// not name), brotli before gzip before none at equal `q`. `None`: send
    /// the body as it is.
    pub fn preferred(headers: &HeaderMap) -> Option<Self> {
        match negotiate(headers) {
            Negotiated::Coded(coding) => Some(coding),
            Negotiated::AsIs | Negotiated::Nothing => None,
        }
    }

    /// The `Content-Encoding` of a body in this coding.
    pub fn header_value(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::Brotli => "br",
            Self::Gzip => "gzip",
        })
    }

    /// `body` compressed in this coding, at [`LEVEL`].
    pub async fn encode(self, body: &[u8]) -> std::io::Result<Bytes> {
        use async_compression::Level;
        use async_compression::tokio::write::{BrotliEncoder, GzipEncoder};
        use tokio::io::AsyncWriteExt;

        let level = Level::Precise(LEVEL);
        let out = Vec::with_capacity(body.len() / 4);
        // Into memory: every write is ready at once, nothing waits.
        let out = match self {
            Self::Brotli => {
                let mut encoder = BrotliEncoder::with_quality(out, level);
                encoder.write_all(body).await?;
                encoder.shutdown().await?;
                encoder.into_inner()
            }
            Self::Gzip => {
                let mut encoder = GzipEncoder::with_quality(out, level);
                encoder.write_all(body).await?;
                encoder.shutdown().await?;
                encoder.into_inner()
            }
        };
        Ok(out.into())
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Negotiated {
    Coded(Coding),
    AsIs,
    /// `Accept-Encoding` refuses every coding we have, `identity` too.
    Nothing,
}

fn negotiate(headers: &HeaderMap) -> Negotiated {
    let (mut brotli, mut gzip, mut identity, mut any) = (None, None, None, None);
    let items = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','));
    for item in items {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let q = match parts.next() {
            None => 1.0,
            Some(param) => match parse_q(param) {
                Some(q) => q,
                // As the layer does: an item it cannot read is ignored.
                None => continue,
            },
        };
        let slot = match name.to_ascii_lowercase().as_str() {
            "br" => &mut brotli,
            "gzip" | "x-gzip" => &mut gzip,
            "identity" => &mut identity,
            "*" => &mut any,
            _ => continue,
        };
        slot.get_or_insert(q);
    }
    let weight = |q: Option<f32>| q.or(any).unwrap_or(0.0);
    let (brotli, gzip, as_is) = (weight(brotli), weight(gzip), weight(identity));
    if brotli > 0.0 && brotli >= gzip && brotli >= as_is {
        Negotiated::Coded(Coding::Brotli)
    } else if gzip > 0.0 && gzip >= as_is {
        Negotiated::Coded(Coding::Gzip)
    } else if as_is > 0.0 || identity.or(any).is_none() {
        // The body as it is is acceptable unless refused by name or by `*`.
        Negotiated::AsIs
    } else {
        Negotiated::Nothing
    }
}

/// tower-http answers 406 when `Accept-Encoding` refuses every coding,
/// `identity` included, but only once the handler has run: a change would
/// be made and then reported as refused. Such a request is answered as if
/// it had no `Accept-Encoding`, with the body as it is, which RFC 9110
/// (12.5.3, 15.5.7) leaves to the server.
fn as_is_when_nothing_fits(mut request: Request) -> Request {
    if negotiate(request.headers()) == Negotiated::Nothing {
        request.headers_mut().remove(header::ACCEPT_ENCODING);
    }
    request
}

/// The weight of `q=0.5` (RFC 9110, 12.4.2), or `None` if it is not one.
fn parse_q(param: &str) -> Option<f32> {
    let (name, value) = param.trim().split_once('=')?;
    if !name.trim().eq_ignore_ascii_case("q") {
        return None;
    }
    let value = value.trim();
    let valid = value.len() <= 5
        && value.starts_with(['0', '1'])
        && value.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    value
        .parse::<f32>()
        .ok()
        .filter(|q| valid && (0.0..=1.0).contains(q))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(accept: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in accept {
            headers.append(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    fn preferred(accept: &[&str]) -> Option<Coding> {
        Coding::preferred(&headers(accept))
    }

    #[test]
    fn picks_what_the_client_prefers() {
        use Coding::*;
        let cases: &[(&[&str], Option<Coding>)] = &[
            (&[], None),
            (&[""], None),
            (&["identity"], None),
            (&["br"], Some(Brotli)),
            (&["gzip"], Some(Gzip)),
            (&["x-gzip"], Some(Gzip)),
            (&["GZip"], Some(Gzip)),
            // What browsers send: equal weights, brotli wins.
            (&["gzip, deflate, br, zstd"], Some(Brotli)),
            (&["gzip", "br"], Some(Brotli)),
            (&["br;q=0.5, gzip"], Some(Gzip)),
            (&["br;q=0.5, gzip;q=0.8"], Some(Gzip)),
            (&["br; q=0.9, gzip;Q=0.8"], Some(Brotli)),
            (&["br;q=0, gzip;q=0"], None),
            (&["gzip;q=0.5, identity"], None),
            (&["deflate"], None),
            (&["zstd"], None),
            (&["*"], Some(Brotli)),
            (&["*;q=0.1, br;q=0"], Some(Gzip)),
            (&["*;q=0"], None),
            // Weights that do not parse drop their item.
            (&["br;q=2, gzip"], Some(Gzip)),
            (&["br;q=x, gzip"], Some(Gzip)),
            (&["br;level=1"], None),
            (&["br;q=1.000"], Some(Brotli)),
            (&["br;q=1.0001"], None),
        ];
        for (accept, expected) in cases {
            assert_eq!(preferred(accept), *expected, "Accept-Encoding: {accept:?}");
        }
    }

    #[test]
    fn knows_when_nothing_is_acceptable() {
        for refusing in [
            &["identity;q=0"][..],
            &["*;q=0"],
            &["br;q=0, gzip;q=0, identity;q=0"],
            &["deflate, identity;q=0"],
            &["*;q=0, deflate"],
        ] {
            assert_eq!(
                negotiate(&headers(refusing)),
                Negotiated::Nothing,
                "{refusing:?}"
            );
        }
        for accepting in [
            &[][..],
            &[""],
            &["br;q=0, gzip;q=0"],
            &["*;q=0, identity"],
            &["identity;q=0, gzip"],
            &["deflate"],
        ] {
            assert_ne!(
                negotiate(&headers(accepting)),
                Negotiated::Nothing,
                "{accepting:?}"
            );
        }
    }
}
