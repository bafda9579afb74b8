//! todo-app: a todo list web app and JSON API over SQLite or PostgreSQL.
//!
//! # A map of `src/`, outside in
//!
//! - `main.rs` only parses the command line, starts logging and a runtime,
//!   and hands over to [`cli`] (the one-shot commands) or [`startup`] (the
//!   server). Everything else is this library, so tests drive the same code.
//! - [`config`] parses every flag and environment variable at the edge; the
//!   rest of the code sees typed, valid settings.
//! - [`startup`] opens the store, migrates, builds the router and serves
//!   until [`lifecycle`] (readiness, the drain on SIGTERM) says stop.
//! - [`http`] is the outside world's door: shared layers (request log and
//!   id, deadline, body limits, who is calling) around one router per
//!   concern: `http::api` (JSON), `http::ui` (the HTML pages),
//!   `http::auth` (accounts, sessions, tokens, CSRF), `http::caldav`
//!   (CalDAV for phone and desktop task apps), `http::ops` (health,
//!   readiness, version), `http::openapi` and `http::reference` (the API's
//!   description). Requests are parsed into domain values here, and errors
//!   get their status and words in one table (`http::error`).
//! - [`domain`] says what a task and an account are and which values are
//!   valid. No I/O and no wire format: it is what every other module
//!   agrees on.
//! - [`db`] stores domain values in SQLite or PostgreSQL behind one `Store`,
//!   with every backend difference in one module per backend.
//! - [`caldav`] is CalDAV's model of a task (a VTODO read from a client
//!   and rendered back with our edits), shared by `db` and `http::caldav`.
//! - [`export`] and [`json`] are formats the API and the CLI share, so the
//!   two cannot disagree; [`telemetry`] is logging.
//!
//! Dependencies point inwards: `http` and `cli` use `db` and `domain`, `db`
//! uses `domain` (and its settings from `config`), and `domain` uses
//! nothing of ours.

#![forbid(unsafe_code)]

/// The one-shot subcommands: `migrate`, `export`, `import`, `user add`,
/// `healthcheck`.
/// Sign-up, login, sessions, API tokens and the login throttle: the rules
/// every front end calls.
pub mod accounts;
/// CalDAV's model of a task: the VTODO a client sent, read and rendered.
pub mod caldav;
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
/// How JSON numbers and kinds are read, in API bodies and export files,
/// and the schemas that describe them.
pub mod json;
/// Readiness and graceful shutdown on SIGTERM/SIGINT.
pub mod lifecycle;
/// Building the server and running it until a graceful stop.
pub mod startup;
/// Structured logging.
pub mod telemetry;

/// The git revision this binary was built from (`unknown` outside a checkout).
pub const GIT_REVISION: &str = env!("GIT_REVISION");

#[cfg(test)]
mod tests {
    /// The map above says dependencies point inwards: only `http` itself
    /// and `startup`, which mounts it, may reach into `http` (and this
    /// file, which names every module).
    #[test]
    fn nothing_outside_the_http_layer_depends_on_it() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![src.clone()];
        let mut offenders = Vec::new();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let inside = path.strip_prefix(&src).unwrap();
                if ["http", "startup.rs", "lib.rs"]
                    .iter()
                    .any(|m| inside.starts_with(m))
                {
                    continue;
                }
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && std::fs::read_to_string(&path)
                        .unwrap()
                        .contains("crate::http")
                {
                    offenders.push(inside.display().to_string());
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "these use `crate::http`: {offenders:?}"
        );
    }
}
