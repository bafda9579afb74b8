//! Random secrets handed to clients and the hashes stored in their place.
//!
//! Sessions and API tokens carry 256 random bits, so a fast hash (SHA-256)
//! is enough to store them: there is nothing to brute-force. Passwords are
//! another matter and go through Argon2id (`password.rs`).

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

/// The CSRF token bound to a cookie's secret: only someone who holds the
/// cookie can know it, and nothing needs storing.
pub fn csrf_token(cookie_secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"todo-app csrf\0");
    hasher.update(cookie_secret.as_bytes());
    hex::encode(hasher.finalize())
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
        assert!(same_secret(&csrf_token(&s), &csrf_token(&s)));
        assert!(!same_secret(&csrf_token(&s), &csrf_token(&random_secret())));
    }
}
