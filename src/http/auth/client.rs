//! The client as far as we can trust what it says: its address (through
//! the trusted proxies only), whether it came over HTTPS, the origin our
//! pages are served from, and the cookies we set for it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};

use crate::config::AuthConfig;

#[derive(Debug, Clone)]
pub struct Client {
    pub ip: IpAddr,
    /// The request reached us (or the trusted proxy) over HTTPS.
    pub https: bool,
    /// The origin our pages are served from, e.g. `https://todo.example.com`.
    pub origin: String,
}

impl Client {
    pub fn of(req: &Request, config: &AuthConfig) -> Self {
        let headers = req.headers();
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip());
        let hops = usize::from(config.trusted_proxy_hops);
        let ip = if hops == 0 {
            peer
        } else {
            // Each trusted proxy appends the address it saw; the client is
            // the entry `hops` from the end. Entries before it are the
            // client's own claims.
            let forwarded: Vec<&str> = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .collect();
            forwarded
                .len()
                .checked_sub(hops)
                .and_then(|i| forwarded[i].parse().ok())
                .unwrap_or(peer)
        };
        let trusted = |name: &str| {
            (hops > 0)
                .then(|| headers.get(name).and_then(|v| v.to_str().ok()))
                .flatten()
                .and_then(|v| v.rsplit(',').next())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let (https, origin) = match &config.public_url {
            Some(url) => (url.is_https(), url.origin()),
            None => {
                let https =
                    trusted("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"));
                let host = trusted("x-forwarded-host")
                    .filter(|h| is_valid_host(h))
                    .or_else(|| {
                        headers
                            .get(header::HOST)
                            .and_then(|v| v.to_str().ok())
                            .filter(|h| is_valid_host(h))
                    })
                    .unwrap_or("localhost");
                let scheme = if https { "https" } else { "http" };
                (https, format!("{scheme}://{}", host.to_ascii_lowercase()))
            }
        };
        Self { ip, https, origin }
    }

    fn cookie_name(&self, base: &str) -> String {
        // `__Host-` cookies are only accepted from secure origins, for path
        // `/`, without a Domain: no subdomain can plant or shadow them.
        if self.https {
            format!("__Host-{base}")
        } else {
            base.to_owned()
        }
    }

    pub fn session_cookie_name(&self) -> String {
        self.cookie_name("todo_session")
    }

    pub fn form_cookie_name(&self) -> String {
        self.cookie_name("todo_form")
    }

    /// A `Set-Cookie` value for `name`; `None` deletes the cookie.
    pub fn cookie(
        &self,
        name: &str,
        value: Option<&str>,
        max_age: Option<Duration>,
    ) -> HeaderValue {
        let mut cookie = Cookie::build((name.to_owned(), value.unwrap_or_default().to_owned()))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.https)
            .build();
        match (value, max_age) {
            (None, _) => cookie.make_removal(),
            (Some(_), Some(age)) => cookie.set_max_age(
                cookie::time::Duration::try_from(age).unwrap_or(cookie::time::Duration::MAX),
            ),
            (Some(_), None) => {}
        }
        HeaderValue::from_str(&cookie.to_string()).expect("cookie values are hex")
    }
}

/// The value of cookie `name`, if the request has it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .and_then(|c| c.value_raw())
        .map(str::trim)
}

/// `host[:port]`, IPv6 literals included.
pub fn is_valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Client>().cloned().unwrap_or(Client {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            https: false,
            origin: "http://localhost".to_owned(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(https: bool) -> Client {
        Client {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            https,
            origin: "http://localhost".to_owned(),
        }
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_over_https() {
        let set = client(true).cookie(
            "__Host-todo_session",
            Some("ab12"),
            Some(Duration::from_secs(60)),
        );
        let set = set.to_str().unwrap();
        for part in [
            "__Host-todo_session=ab12",
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/",
            "Max-Age=60",
        ] {
            assert!(set.contains(part), "{set} lacks {part}");
        }
        let gone = client(false).cookie("todo_session", None, None);
        let gone = gone.to_str().unwrap();
        assert!(gone.starts_with("todo_session=;"), "{gone}");
        assert!(gone.contains("Max-Age=0"), "{gone}");
        assert!(!gone.contains("Secure"), "{gone}");
    }

    #[test]
    fn cookies_are_read_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; todo_session=abc; b=2"),
        );
        assert_eq!(cookie(&h, "todo_session"), Some("abc"));
        assert_eq!(cookie(&h, "todo_form"), None);
    }
}
