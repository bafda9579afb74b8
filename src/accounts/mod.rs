//! The accounts core: sign-up, login, password changes, sessions, API
//! tokens, the login throttle, password hashing and account deletion.
//!
//! Every front end (the HTML pages, the JSON API, the CLI) calls these
//! functions with typed input and gets a typed [`AccountError`](crate::accounts::AccountError) back; none
//! of them hashes a password, counts a failure or decides who may do what
//! on its own. Nothing here knows HTTP: the address a request came from is
//! passed in as the throttle's key, and secrets leave as plain strings for
//! the front end to put in a cookie or show once.
//!
//! - `password`: Argon2id, off the runtime and bounded;
//! - `secrets`: random secrets, their stored hashes, the CSRF key;
//! - `throttle`: the shared rate limit on guesses and sign-ups;
//! - `credentials`: who a session cookie or API token stands for;
//! - `cache`: recent lookups of those, trusted for a second.

mod cache;
mod credentials;
pub mod password;
pub mod secrets;
pub mod throttle;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::{AuthConfig, AuthMode, Signup};
use crate::db::accounts::{TokenInfo, User};
use crate::db::{Store, StoreError};
use crate::domain::{FieldError, NewPassword, Username};
pub use credentials::{SignedIn, Via};
use password::{HashError, PasswordHasher};
use secrets::CsrfKey;
use throttle::{Keys, Throttle};

/// Why an account operation was refused. The words a person reads are the
/// front end's; the cases are these.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Wrong username or password; never says which.
    #[error("the username or password is wrong")]
    WrongCredentials,
    #[error("too many attempts; try again in {}", in_seconds(*.0))]
    Throttled(Duration),
    #[error("that username is taken")]
    UsernameTaken,
    #[error("sign-up is closed on this server")]
    SignupClosed,
    #[error("{0}")]
    Invalid(#[from] FieldError),
    #[error("you have no API token with this id")]
    NoSuchToken,
    /// Too many password hashes are waiting: retry in a moment.
    #[error("too many sign-ins are being checked right now; retry in a moment")]
    Busy,
    #[error(transparent)]
    Store(StoreError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// "1 second", "15 seconds": how long to wait, never less than a second.
fn in_seconds(wait: Duration) -> String {
    match wait.as_secs().max(1) {
        1 => "1 second".to_owned(),
        n => format!("{n} seconds"),
    }
}

impl From<StoreError> for AccountError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::UsernameTaken => Self::UsernameTaken,
            other => Self::Store(other),
        }
    }
}

impl From<HashError> for AccountError {
    fn from(err: HashError) -> Self {
        match err {
            HashError::Busy => Self::Busy,
            HashError::Failed(message) => Self::Hashing(message),
        }
    }
}

pub type AccountResult<T> = Result<T, AccountError>;

/// A session just started: the secret goes into the cookie, only its hash
/// is stored.
#[derive(Debug)]
pub struct NewSession {
    pub secret: String,
    pub lifetime: Duration,
}

/// A token just made: `secret` is shown once, never again.
#[derive(Debug)]
pub struct NewToken {
    pub secret: String,
    pub info: TokenInfo,
}

/// What a new API token is called and how long it lives.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub name: String,
    pub expires_at: Option<DateTime<Utc>>,
}

impl TokenRequest {
    /// The longest name an API token may have, in characters.
    pub const NAME_MAX_CHARS: usize = 100;
    /// The longest an API token may live, in days.
    pub const MAX_DAYS: u32 = 3650;

    pub fn parse(name: &str, expires_in_days: Option<u32>) -> Result<Self, FieldError> {
        let name = name.trim();
        if name.is_empty()
            || name.chars().count() > Self::NAME_MAX_CHARS
            || name.chars().any(char::is_control)
        {
            return Err(FieldError::new(
                "name",
                format!(
                    "a token needs a name of 1 to {} characters, without control characters",
                    Self::NAME_MAX_CHARS
                ),
            ));
        }
        let expires_at = match expires_in_days {
            None => None,
            Some(days @ 1..=Self::MAX_DAYS) => {
                Some(Utc::now() + chrono::Duration::days(i64::from(days)))
            }
            Some(days) => {
                return Err(FieldError::new(
                    "expires_in_days",
                    format!(
                        "expires_in_days {days} must be a whole number of days from 1 to {}",
                        Self::MAX_DAYS
                    ),
                ));
            }
        };
        Ok(Self {
            name: name.to_owned(),
            expires_at,
        })
    }
}

/// The accounts of one process: the store, the rules from the
/// configuration, and what the process keeps between requests.
#[derive(Clone, Debug)]
pub struct Accounts {
    store: Store,
    config: Arc<AuthConfig>,
    hasher: PasswordHasher,
    throttle: Throttle,
    credentials: credentials::Credentials,
    csrf: CsrfKey,
}

impl Accounts {
    /// Reads (or, on a new database, makes) the keys every instance shares.
    pub async fn open(store: Store, config: AuthConfig) -> Result<Self, StoreError> {
        let csrf = CsrfKey::new(
            store
                .server_key(CsrfKey::NAME, &CsrfKey::fresh_bytes())
                .await?,
        );
        Ok(Self {
            hasher: PasswordHasher::new(config.password_hash_concurrency),
            credentials: credentials::Credentials::new(config.session_idle_timeout),
            throttle: Throttle::default(),
            config: Arc::new(config),
            store,
            csrf,
        })
    }

    /// Whether accounts are on (`AUTH_MODE=accounts`).
    pub fn enabled(&self) -> bool {
        self.config.mode == AuthMode::Accounts
    }

    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    pub fn signup_open(&self) -> bool {
        self.config.signup == Signup::Open
    }

    /// The CSRF token our pages send back with a cookie holding `secret`.
    pub fn csrf_token(&self, cookie_secret: &str) -> String {
        self.csrf.token(cookie_secret)
    }

    /// Whether `sent` is the CSRF token of `cookie_secret`.
    pub fn csrf_matches(&self, cookie_secret: &str, sent: &str) -> bool {
        secrets::same_secret(&self.csrf.token(cookie_secret), sent)
    }

    // ---- Sign-up and login --------------------------------------------

    /// Sign-up from `client`: open sign-up only, counted against the address
    /// before anything is hashed or stored.
    pub async fn sign_up(
        &self,
        client: IpAddr,
        username: &str,
        password: &str,
    ) -> AccountResult<User> {
        if !self.signup_open() {
            return Err(AccountError::SignupClosed);
        }
        let username = Username::parse(username)?;
        let password = NewPassword::parse(password, "password")?;
        // Every sign-up counts, successful or not: the limit is on accounts
        // made from one address.
        let _admission = self
            .throttle
            .admit(&self.store, &Keys::signup(&client.to_string()))
            .await?
            .map_err(AccountError::Throttled)?;
        self.register(&username, &password).await
    }

    async fn register(&self, username: &Username, password: &NewPassword) -> AccountResult<User> {
        register(&self.store, &self.hasher, username, password).await
    }

    /// Checks a username and password from `client`, within the shared rate
    /// limits. The attempt is counted before the hash is checked.
    pub async fn log_in(
        &self,
        client: IpAddr,
        username: &str,
        password: &str,
    ) -> AccountResult<User> {
        // An invalid name cannot exist; it still costs a hash (so the answer
        // takes as long) and counts against the address, but is never stored.
        let username = Username::parse(username).ok();
        let keys = Keys::login(&client.to_string(), username.as_ref());
        let admission = self
            .throttle
            .admit(&self.store, &keys)
            .await?
            .map_err(AccountError::Throttled)?;
        let credentials = match &username {
            Some(name) => self.store.user_credentials(name).await?,
            None => None,
        };
        let valid = self
            .hasher
            .verify(
                password,
                credentials.as_ref().map(|c| c.password_hash.as_str()),
            )
            .await?;
        match credentials {
            Some(c) if valid => {
                admission.succeeded(&self.store).await?;
                Ok(User {
                    id: crate::domain::UserId(c.id),
                    username: c.username,
                })
            }
            _ => {
                admission.failed(&self.store).await?;
                tracing::info!(client = %client, "failed login");
                Err(AccountError::WrongCredentials)
            }
        }
    }

    /// Starts a session for `user`: a new random secret every time (so a
    /// session id planted before login is worthless).
    pub async fn start_session(&self, user: &User) -> AccountResult<NewSession> {
        let secret = secrets::random_secret();
        let lifetime = self.config.session_lifetime;
        // Logins are rare enough to sweep out sessions nobody will present again.
        let idle = chrono::Duration::from_std(self.config.session_idle_timeout)
            .unwrap_or(chrono::Duration::MAX);
        self.store.delete_stale_sessions(Utc::now() - idle).await?;
        let expires_at =
            Utc::now() + chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::days(30));
        self.store
            .create_session(user.id, &secrets::storage_hash(&secret), expires_at)
            .await?;
        Ok(NewSession { secret, lifetime })
    }

    /// Ends the session whose cookie holds `secret`.
    pub async fn end_session(&self, secret: &str) -> AccountResult<()> {
        let hash = secrets::storage_hash(secret);
        self.store.delete_session(&hash).await?;
        self.credentials.forget_session(&hash);
        Ok(())
    }

    /// "Log out everywhere": every session ends and every API token is
    /// revoked, on this instance at once and on the others within a second.
    pub async fn end_everything(&self, user: &User) -> AccountResult<()> {
        let (sessions, tokens) = self.store.end_all_credentials(user.id).await?;
        self.credentials.forget_all();
        tracing::info!(username = %user.username, sessions, tokens, "logged out everywhere");
        Ok(())
    }

    /// Changes the password after checking the current one (throttled like
    /// a login). Every other session ends and every API token is revoked;
    /// the session `keep` (the one making the change) stays.
    pub async fn change_password(
        &self,
        client: IpAddr,
        user: &User,
        keep_session: Option<&str>,
        current: &str,
        new: &str,
    ) -> AccountResult<()> {
        self.confirm_password(client, user, current).await?;
        let new = NewPassword::parse(new, "password")?;
        let hash = self.hasher.hash(new.expose()).await?;
        let keep = keep_session.map(secrets::storage_hash).unwrap_or_default();
        self.store.set_password(user.id, &hash, &keep).await?;
        self.credentials.forget_all();
        tracing::info!(username = %user.username, "password changed; other sessions ended and API tokens revoked");
        Ok(())
    }

    /// Deletes an account and everything it owns, after checking its
    /// password (on every path: a stolen token or session alone cannot).
    /// Returns how many tasks went with it.
    pub async fn delete_account(
        &self,
        client: IpAddr,
        user: &User,
        password: &str,
    ) -> AccountResult<u64> {
        self.confirm_password(client, user, password).await?;
        let tasks = self.store.delete_user(user.id).await?;
        self.credentials.forget_all();
        tracing::info!(username = %user.username, tasks, "account deleted");
        Ok(tasks)
    }

    /// The signed-in user's own password, checked as a login is.
    async fn confirm_password(
        &self,
        client: IpAddr,
        user: &User,
        password: &str,
    ) -> AccountResult<()> {
        let checked = self.log_in(client, &user.username, password).await?;
        if checked.id != user.id {
            // Renamed or replaced since the session began.
            return Err(AccountError::WrongCredentials);
        }
        Ok(())
    }

    // ---- API tokens ----------------------------------------------------

    pub async fn issue_token(&self, user: &User, request: TokenRequest) -> AccountResult<NewToken> {
        let secret = secrets::new_api_token();
        let info = self
            .store
            .create_token(
                user.id,
                &request.name,
                &secrets::storage_hash(&secret),
                request.expires_at,
            )
            .await?;
        tracing::info!(username = %user.username, token_id = info.id, "API token created");
        Ok(NewToken { secret, info })
    }

    pub async fn tokens(&self, user: &User) -> AccountResult<Vec<TokenInfo>> {
        Ok(self.store.list_tokens(user.id).await?)
    }

    pub async fn revoke_token(&self, user: &User, id: i64) -> AccountResult<()> {
        if !self.store.delete_token(user.id, id).await? {
            return Err(AccountError::NoSuchToken);
        }
        self.credentials.forget_all_tokens();
        tracing::info!(username = %user.username, token_id = id, "API token revoked");
        Ok(())
    }

    // ---- Who is calling --------------------------------------------------

    /// The account a session cookie's secret stands for, if it is valid.
    pub async fn session(&self, secret: &str) -> Result<Option<SignedIn>, StoreError> {
        self.credentials.session(&self.store, secret).await
    }

    /// The account an API token stands for, if it is valid.
    pub async fn token(&self, token: &str) -> Result<Option<SignedIn>, StoreError> {
        self.credentials.token(&self.store, token).await
    }

    /// The account an app password stands for: HTTP Basic as CalDAV
    /// clients send it, the username with one of its API tokens. The
    /// account password is never taken there (a phone would keep it, and
    /// each request would cost a hash); it fails like any wrong secret. A
    /// failure counts against the login throttle, as a failed login does,
    /// and a throttled client is refused before anything is checked. A
    /// valid token needs no count: it cannot be guessed.
    pub async fn app_password(
        &self,
        client: IpAddr,
        username: &str,
        secret: &str,
    ) -> AccountResult<SignedIn> {
        let username = Username::parse(username).ok();
        if let Some(name) = &username
            && let Some(signed_in) = self.token(secret).await?
            && Username::parse(&signed_in.user.username).is_ok_and(|own| own.key() == name.key())
        {
            return Ok(signed_in);
        }
        let keys = Keys::login(&client.to_string(), username.as_ref());
        let admission = self
            .throttle
            .admit(&self.store, &keys)
            .await?
            .map_err(AccountError::Throttled)?;
        admission.failed(&self.store).await?;
        tracing::info!(client = %client, "failed app password");
        Err(AccountError::WrongCredentials)
    }
}

/// Creates an account without limits: `todo-app user add`, which works
/// with sign-up closed (sign-up goes through [`Accounts::sign_up`]).
pub async fn add_user(
    store: &Store,
    username: &Username,
    password: &NewPassword,
) -> AccountResult<User> {
    register(store, &PasswordHasher::new(1), username, password).await
}

async fn register(
    store: &Store,
    hasher: &PasswordHasher,
    username: &Username,
    password: &NewPassword,
) -> AccountResult<User> {
    let hash = hasher.hash(password.expose()).await?;
    let account = store.create_user(username, &hash).await?;
    tracing::info!(username = %username, "account created");
    if account.claimed_tasks > 0 {
        tracing::info!(
            username = %username,
            tasks = account.claimed_tasks,
            "the first account received the tasks stored before accounts were turned on"
        );
    }
    Ok(account.user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_requests_are_checked() {
        assert!(TokenRequest::parse("backup", None).is_ok());
        assert_eq!(TokenRequest::parse("  ", None).unwrap_err().field, "name");
        assert_eq!(
            TokenRequest::parse("x", Some(0)).unwrap_err().field,
            "expires_in_days"
        );
        assert!(TokenRequest::parse("x", Some(TokenRequest::MAX_DAYS)).is_ok());
        assert!(TokenRequest::parse("x", Some(TokenRequest::MAX_DAYS + 1)).is_err());
    }

    #[test]
    fn throttled_says_how_long_in_words() {
        let said = |ms| AccountError::Throttled(Duration::from_millis(ms)).to_string();
        assert_eq!(said(200), "too many attempts; try again in 1 second");
        assert_eq!(said(1_900), "too many attempts; try again in 1 second");
        assert_eq!(said(15_000), "too many attempts; try again in 15 seconds");
    }
}
