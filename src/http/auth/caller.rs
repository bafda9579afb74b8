//! Who is making the request, as `identify` worked it out, and the
//! extractors handlers ask for it with.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

use crate::accounts::{SignedIn, Via};
use crate::domain::Owner;
use crate::http::error::ApiError;

#[derive(Debug, Clone)]
pub enum Caller {
    /// `AUTH_MODE=none`: everyone uses the shared list.
    Open,
    /// Accounts are on and this request names none.
    Anonymous {
        form_secret: Option<String>,
    },
    SignedIn(SignedIn),
    /// A bearer token that is unknown, expired or revoked.
    BadToken,
    /// The credentials could not be checked (the database is away). Routes
    /// that need no account (health, assets) still answer.
    Unverified(String),
}

impl Caller {
    pub fn owner(&self) -> Option<Owner> {
        match self {
            Self::Open => Some(Owner::SHARED),
            Self::SignedIn(s) => Some(Owner::user(s.user.id)),
            _ => None,
        }
    }

    /// The cookie secret CSRF tokens of this caller are bound to.
    pub fn cookie_secret(&self) -> Option<&str> {
        match self {
            Self::SignedIn(SignedIn {
                via: Via::Session { secret },
                ..
            }) => Some(secret),
            Self::Anonymous {
                form_secret: Some(secret),
            } => Some(secret),
            _ => None,
        }
    }

    /// Why an API request without an account is refused.
    pub fn refusal(&self) -> ApiError {
        match self {
            Self::BadToken => {
                ApiError::Unauthorized("the API token is invalid, expired or revoked".to_owned())
            }
            Self::Unverified(message) => ApiError::Unavailable(message.clone()),
            _ => {
                ApiError::Unauthorized("sign in: send Authorization: Bearer <API token>".to_owned())
            }
        }
    }

    pub fn username(&self) -> Option<&str> {
        match self {
            Self::SignedIn(s) => Some(&s.user.username),
            _ => None,
        }
    }

    /// The signed-in caller, or the API's refusal.
    pub fn signed_in(&self) -> Result<&SignedIn, ApiError> {
        match self {
            Self::SignedIn(s) => Ok(s),
            other => Err(other.refusal()),
        }
    }
}

/// The list an API request works on; 401 without credentials.
pub struct ApiOwner(pub Owner);

impl<S: Send + Sync> FromRequestParts<S> for ApiOwner {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let caller = caller(parts);
        caller.owner().map(Self).ok_or_else(|| caller.refusal())
    }
}

/// The list a page shows; anonymous visitors are sent to the login page.
pub struct PageOwner(pub Owner);

impl<S: Send + Sync> FromRequestParts<S> for PageOwner {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        let caller = caller(parts);
        match caller.owner() {
            Some(owner) => Ok(Self(owner)),
            None if matches!(caller, Caller::Unverified(_)) => {
                Err(crate::http::ui::UiError::from(caller.refusal()).into_response())
            }
            None => Err(Redirect::to("/login").into_response()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(caller(parts))
    }
}

fn caller(parts: &Parts) -> Caller {
    // `identify` always runs first; without it, nobody is signed in.
    parts
        .extensions
        .get::<Caller>()
        .cloned()
        .unwrap_or(Caller::Anonymous { form_secret: None })
}
