//! Who is calling, and the account pages and routes: HTTP's side of
//! `crate::accounts`, which holds every rule.
//!
//! `identify` runs before every route. It works out the client (address,
//! HTTPS, the origin it should be using) and the caller: with
//! `AUTH_MODE=none` everyone is `Caller::Open` on the shared list; with
//! accounts, a bearer token or the session cookie names the account, and
//! nobody else gets further than the login page or a 401.
//!
//! A request that changes something and rides on a cookie must come from one
//! of our own pages: `Sec-Fetch-Site`/`Origin` must not say another site,
//! and it must carry the CSRF token bound to the cookie (see `form`). Bearer
//! tokens are not sent by browsers on their own, so they need neither.
//!
//! - `client`: proxy trust, the origin, cookies;
//! - `caller`: the `Caller` model and its extractors;
//! - `identify`: the middleware;
//! - `form`: `PageForm`, the one way pages read a form, and its CSRF check;
//! - `pages`: sign-up, login and logout pages; `settings`: the settings page;
//! - `tokens`: `/api/tokens` and `/api/account`.

mod caller;
mod client;
mod form;
mod identify;
pub mod pages;
mod settings;
pub mod tokens;

pub use caller::{ApiOwner, Caller, PageOwner};
pub use client::{Client, cookie, is_valid_host};
pub use form::{CSRF_FIELD, CSRF_HEADER, PageCsrfToken, PageForm};
pub use identify::identify;

pub use crate::accounts::{SignedIn, Via};
