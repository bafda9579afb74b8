//! todo-app: a todo list web app and JSON API over SQLite or PostgreSQL.
//!
//! A tour, outside in:

/// The subcommands other than `serve`.
pub mod cli;
/// Flags and environment variables, with their defaults.
pub mod config;
/// The connection pool and queries for SQLite and PostgreSQL.
pub mod db;
/// What a task is and which values are valid; no I/O, no wire format.
pub mod domain;
/// The export file format, shared by the API and the CLI.
pub mod export;
/// Routes: the web UI, the JSON API and the operational endpoints.
pub mod http;
/// How JSON numbers and kinds are read, in API bodies and export files.
pub mod json;
/// Readiness and graceful shutdown on SIGTERM/SIGINT.
pub mod lifecycle;
/// Building the server and running it until a graceful stop.
pub mod startup;
/// Structured logging.
pub mod telemetry;

/// The git revision this binary was built from (`unknown` outside a checkout).
pub const GIT_REVISION: &str = env!("GIT_REVISION");
