//! todo-app: a todo list web app and JSON API over SQLite or PostgreSQL.
//!
//! A tour, outside in:

/// The subcommands other than `serve`.
pub mod cli;
/// Flags and environment variables, with their defaults.
pub mod config;
/// The connection pool and queries for SQLite and PostgreSQL.
pub mod db;
/// What a task is; parsing of untrusted input into valid values.
pub mod domain;
/// Routes: the web UI, the JSON API and the operational endpoints.
pub mod http;
/// Readiness and graceful shutdown on SIGTERM/SIGINT.
pub mod lifecycle;
/// Building the server and running it until a graceful stop.
pub mod startup;
/// Structured logging.
pub mod telemetry;

/// The git revision this binary was built from (`unknown` outside a checkout).
pub const GIT_REVISION: &str = env!("GIT_REVISION");
