//! Configuration: command-line flags, each with an environment variable and a
//! default (defaults < environment < flags). `todo-app --help` lists them all.
//!
//! Secrets (`DATABASE_URL` with a password, `DB_PASSWORD`) are never shown:
//! clap is told to hide their environment values, and `DatabaseConfig`'s
//! `Debug` redacts them.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// A todo list web app and JSON API, on SQLite or PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "todo-app", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub server: ServerConfig,

    #[command(flatten)]
    pub database: DatabaseConfig,

    #[command(flatten)]
    pub log: LogConfig,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app and API (the default when no command is given).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Write every task as JSON to a file or stdout.
    Export {
        /// File to write; `-` or nothing means stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Load tasks from an export file, all or nothing.
    Import {
        /// File to read; `-` means stdin.
        file: PathBuf,
        /// Delete the tasks already stored before importing.
        #[arg(long)]
        replace: bool,
    },
    /// Request /healthz on the local port; exit 0 when healthy, 1 otherwise.
    /// Made for container HEALTHCHECKs in images without curl.
    Healthcheck {
        /// How long to wait for an answer.
        #[arg(long, default_value = "3s", value_parser = parse_duration)]
        timeout: Duration,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ServerConfig {
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "0.0.0.0", global = true)]
    pub host: IpAddr,

    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "PORT", default_value_t = 8080, global = true)]
    pub port: u16,

    /// After SIGTERM/SIGINT, keep serving (while /readyz says 503) for this
    /// long so a load balancer stops sending traffic before we stop accepting.
    #[arg(long, env = "SHUTDOWN_DRAIN_DELAY", default_value = "5s", value_parser = parse_duration, global = true)]
    pub drain_delay: Duration,

    /// After draining, how long in-flight requests get to finish.
    #[arg(long, env = "SHUTDOWN_TIMEOUT", default_value = "20s", value_parser = parse_duration, global = true)]
    pub shutdown_timeout: Duration,

    /// Longest time one request may take before it is answered with 503.
    #[arg(long, env = "REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_duration, global = true)]
    pub request_timeout: Duration,

    /// Origins allowed to call the API from a browser: `*` or a comma-separated list.
    #[arg(long, env = "CORS_ORIGINS", default_value = "*", global = true)]
    pub cors_origins: String,

    /// Largest request body accepted, in bytes (API and forms).
    #[arg(long, env = "BODY_LIMIT", default_value_t = 64 * 1024, global = true)]
    pub body_limit: usize,

    /// Largest import body accepted, in bytes.
    #[arg(long, env = "IMPORT_BODY_LIMIT", default_value_t = 32 * 1024 * 1024, global = true)]
    pub import_body_limit: usize,
}

#[derive(Clone, Args)]
pub struct DatabaseConfig {
    /// Database URL: `sqlite://FILE`, `postgres://...` or `postgresql://...`.
    /// Unset means SQLite in ./todo.db, unless the DB_* variables are set.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,

    /// PostgreSQL host, used with DB_USER, DB_PASSWORD and DB_NAME when DATABASE_URL is unset.
    #[arg(long, env = "DB_HOST", global = true)]
    pub db_host: Option<String>,

    /// PostgreSQL port.
    #[arg(long, env = "DB_PORT", default_value_t = 5432, global = true)]
    pub db_port: u16,

    /// PostgreSQL database name.
    #[arg(long, env = "DB_NAME", global = true)]
    pub db_name: Option<String>,

    /// PostgreSQL user.
    #[arg(long, env = "DB_USER", global = true)]
    pub db_user: Option<String>,

    /// PostgreSQL password (any characters).
    #[arg(long, env = "DB_PASSWORD", hide_env_values = true, global = true)]
    pub db_password: Option<String>,

    /// ARN or name of a Secrets Manager secret holding `{"username", "password"}`
    /// for PostgreSQL (with DB_HOST and DB_NAME). Read at start and again
    /// whenever PostgreSQL refuses the password, so rotations need no restart.
    #[arg(long, env = "DB_SECRET_ARN", global = true)]
    pub db_secret_arn: Option<String>,

    /// TLS to PostgreSQL: disable, prefer or require.
    #[arg(long, env = "DB_SSLMODE", default_value = "prefer", global = true)]
    pub db_sslmode: String,

    /// Connections in the pool of each process.
    #[arg(long, env = "DB_POOL_SIZE", default_value_t = 10, global = true)]
    pub pool_size: u32,

    /// How long a request waits for a free connection before it gets a 503.
    #[arg(long, env = "DB_ACQUIRE_TIMEOUT", default_value = "3s", value_parser = parse_duration, global = true)]
    pub acquire_timeout: Duration,

    /// Most processes that may share the PostgreSQL server at once (for
    /// example the ECS maximum task count times two during a deployment).
    /// At start the app warns when that many pools cannot fit in the
    /// server's max_connections.
    #[arg(long, env = "DB_FLEET_SIZE", global = true)]
    pub fleet_size: Option<u32>,
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("db_host", &self.db_host)
            .field("db_port", &self.db_port)
            .field("db_name", &self.db_name)
            .field("db_user", &self.db_user)
            .field(
                "db_password",
                &self.db_password.as_ref().map(|_| "[redacted]"),
            )
            .field("db_sslmode", &self.db_sslmode)
            .field("pool_size", &self.pool_size)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("fleet_size", &self.fleet_size)
            .finish()
    }
}

#[derive(Debug, Clone, Args)]
pub struct LogConfig {
    /// Log format: json, text, or auto (json unless stdout is a terminal).
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto, global = true)]
    pub log_format: LogFormat,

    /// Log filter in RUST_LOG syntax, e.g. `info` or `todo_app=debug,sqlx=warn`.
    #[arg(long, env = "RUST_LOG", default_value = "info", global = true)]
    pub log_level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Auto,
    Json,
    Text,
}

/// Hides the password of a URL like `postgres://user:secret@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    // The userinfo ends at the last '@' before the first '/' of the path.
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let masked = if userinfo.contains(':') {
                format!("{user}:[redacted]")
            } else {
                user.to_owned()
            };
            format!("{scheme}://{masked}{}", &rest[at..])
        }
        None => url.to_owned(),
    }
}

/// Parses `250ms`, `5s`, `2m` or a bare number of seconds.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let (number, unit) = match raw.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => raw.split_at(i),
        None => (raw, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{raw:?} is not a duration; use e.g. 500ms, 5s or 2m"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("unknown unit in {raw:?}; use ms, s or m")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{raw:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords() {
        assert_eq!(
            redact_url("postgres://app:s3cr%40t@db:5432/todo"),
            "postgres://app:[redacted]@db:5432/todo"
        );
        assert_eq!(redact_url("postgres://db/todo"), "postgres://db/todo");
        assert_eq!(redact_url("sqlite://todo.db"), "sqlite://todo.db");
        assert_eq!(
            redact_url("postgresql://u:p@ss@h/d"),
            "postgresql://u:[redacted]@h/d"
        );
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("5").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5h").is_err());
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
