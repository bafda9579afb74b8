//! Random secrets handed to clients and the hashes stored in their place.
//!
//! Sessions and API tokens carry 256 random bits, so a fast hash (SHA-256)
//! is enough to store them: there is nothing to brute-force. Passwords are
//! another matter and go through Argon2id (`password.rs`).

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The prefix of every API token, so a leaked one is easy to recognise
/// (and to search for in logs and repositories).
pub const TOKEN_PREFIX: &str = "todo_pat_";

/// How many random bytes a secret holds (hex-encoded, twice as many
/// characters).
pub const SECRET_BYTES: usize = 32;

/// `SECRET_BYTES` random bytes from the operating system, hex-encoded.
pub fn random_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).expect("the operating system has no randomness to give");
    hex::encode(bytes)
}

pub fn new_api_token() -> String {
    format!("{TOKEN_PREFIX}{}", random_secret())
}

/// What the database keeps of a session cookie or API token.
pub fn storage_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// The server's key for CSRF tokens, shared by every instance through the
/// database (`Store::server_key`), so a page served by one instance posts
/// to another behind the load balancer.
#[derive(Clone)]
pub struct CsrfKey(Vec<u8>);

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(..)")
    }
}

impl CsrfKey {
    /// The name it is stored under.
    pub const NAME: &str = "csrf";

    pub fn new(key: Vec<u8>) -> Self {
        Self(key)
    }

    /// Random bytes for a key nobody has stored yet.
    pub fn fresh_bytes() -> Vec<u8> {
        let mut bytes = vec![0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes).expect("the operating system has no randomness to give");
        bytes
    }

    /// The CSRF token bound to a cookie's secret: an HMAC under the server's
    /// key (OWASP's signed double-submit cookie), so only someone who holds
    /// the cookie can know it, a token leaked without the key cannot be made
    /// for another cookie, and nothing per session needs storing.
    pub fn token(&self, cookie_secret: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any size");
        mac.update(b"todo-app csrf\0");
        mac.update(cookie_secret.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Compares without leaking, through timing, how much of a guess was right.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Secrets are hex of a fixed length; anything else is not worth a lookup.
pub fn looks_like_secret(raw: &str) -> bool {
    raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_recognisable() {
        let a = new_api_token();
        assert!(a.starts_with(TOKEN_PREFIX));
        assert!(looks_like_secret(&a[TOKEN_PREFIX.len()..]));
        assert_ne!(a, new_api_token());
        assert_ne!(storage_hash(&a), storage_hash(&new_api_token()));
        let s = random_secret();
        let key = CsrfKey::new(CsrfKey::fresh_bytes());
        assert!(same_secret(&key.token(&s), &key.token(&s)));
        assert!(!same_secret(&key.token(&s), &key.token(&random_secret())));
        // Another server's key makes another token for the same cookie.
        let other = CsrfKey::new(CsrfKey::fresh_bytes());
        assert!(!same_secret(&key.token(&s), &other.token(&s)));
    }
}
