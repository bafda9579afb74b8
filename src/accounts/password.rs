//! Password hashing with Argon2id, off the async runtime and bounded.
//!
//! One hash takes ~19 MiB and tens of milliseconds of a core. On a 0.25 vCPU
//! task a flood of logins could otherwise take every core the requests of
//! signed-in users need, so hashes run on the blocking pool, at most
//! `concurrency` at once, and when too many are already waiting a login is
//! refused at once (503, retry) instead of queueing without bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use tokio::sync::Semaphore;

/// OWASP's first recommendation for Argon2id: m = 19 MiB, t = 2, p = 1.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Requests allowed to wait for a hashing turn, per permit.
const WAITING_PER_PERMIT: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("too many sign-ins are being checked right now")]
    Busy,
    #[error("password hashing failed: {0}")]
    Failed(String),
}

#[derive(Clone, Debug)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
}

impl PasswordHasher {
    pub fn new(concurrency: u32) -> Self {
        let concurrency = concurrency.max(1) as usize;
        Self {
            permits: Arc::new(Semaphore::new(concurrency)),
            waiting: Arc::new(AtomicUsize::new(0)),
            max_waiting: concurrency * WAITING_PER_PERMIT,
        }
    }

    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let password = password.to_owned();
        self.run(move || {
            argon2()
                .hash_password(password.as_bytes())
                .map(|hash| hash.to_string())
                .map_err(|e| HashError::Failed(e.to_string()))
        })
        .await
    }

    /// Checks `password` against a stored hash. `None` (no such account)
    /// still costs one hash, so the answer takes as long either way and
    /// does not tell whether the username exists.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, HashError> {
        let password = password.to_owned();
        let hash = hash.map(str::to_owned);
        self.run(move || {
            let stored = hash.as_deref().unwrap_or_else(|| dummy_hash());
            let matches = argon2()
                .verify_password(password.as_bytes(), stored)
                .is_ok();
            Ok(matches && hash.is_some())
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(HashError::Busy);
        }
        let permit = self.permits.acquire().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        let _permit = permit.map_err(|_| HashError::Busy)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| HashError::Failed(e.to_string()))?
    }
}

/// A hash of a random password, checked against when an account does not exist.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        argon2()
            .hash_password(super::secrets::random_secret().as_bytes())
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_are_argon2id_with_owasp_parameters() {
        let hasher = PasswordHasher::new(1);
        let hash = hasher.hash("correct horse battery").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            hasher
                .verify("correct horse battery", Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("wrong horse battery", Some(&hash))
                .await
                .unwrap()
        );
        assert!(!hasher.verify("correct horse battery", None).await.unwrap());
    }

    #[tokio::test]
    async fn a_flood_beyond_the_queue_is_refused_not_queued() {
        let hasher = PasswordHasher::new(1);
        let attempts: Vec<_> = (0..40)
            .map(|_| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.verify("password1", None).await })
            })
            .collect();
        let mut busy = 0;
        for attempt in attempts {
            if matches!(attempt.await.unwrap(), Err(HashError::Busy)) {
                busy += 1;
            }
        }
        // One runs, sixteen wait; the rest are turned away.
        assert!(busy >= 40 - 1 - WAITING_PER_PERMIT, "only {busy} refused");
    }
}
