//! Configuration: command-line flags, each with an environment variable and a
//! default (defaults < environment < flags). `todo-app --help` lists them all;
//! each subcommand's `--help` lists only the settings it reads.
//!
//! Settings come in groups, one struct per concern (`ServerConfig`,
//! `DatabaseConfig`, `LogConfig`), flattened into the arguments of each
//! command that needs them: `ServeArgs` for the server, smaller ones for the
//! one-shot commands. A new group is one more struct and one more
//! `#[command(flatten)]` line where it is used.
//!
//! Every value is parsed here, at the edge: a bad one stops the process at
//! start with a message that names the setting, and the rest of the code
//! gets typed values (`SslMode`, a checked CORS list, a valid log filter).
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
#[command(
    name = "todo-app",
    version,
    about,
    long_about = None,
    // Without a command the app serves, with the flags given here; a
    // command takes its own flags after its name.
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub serve: ServeArgs,
}

impl Cli {
    /// The command to run: `serve` when none is given.
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Serve(self.serve))
    }
}

#[derive(Debug, Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once at start: boxing `Serve` would save no memory"
)]
pub enum Command {
    /// Serve the web app and API (the default when no command is given).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(MigrateArgs),
    /// Write every task as JSON to a file or stdout.
    Export(ExportArgs),
    /// Load tasks from an export file, all or nothing.
    Import(ImportArgs),
    /// Manage accounts (for AUTH_MODE=accounts).
    #[command(subcommand)]
    User(UserCommand),
    /// Request /healthz of a running server; exit 0 when healthy, 1 otherwise.
    /// Made for container HEALTHCHECKs in images without curl.
    Healthcheck(HealthcheckArgs),
}

/// Everything the server reads.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub server: ServerConfig,

    #[command(flatten)]
    pub database: DatabaseConfig,

    #[command(flatten)]
    pub log: LogConfig,
}

#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub database: DatabaseConfig,

    #[command(flatten)]
    pub log: LogConfig,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is read from the first line of stdin.
    /// Works with SIGNUP=closed too. The first account ever created also
    /// receives the tasks stored before accounts were used.
    Add(UserAddArgs),
}

#[derive(Debug, Clone, Args)]
pub struct UserAddArgs {
    /// The username: 3 to 40 letters, digits, '.', '_' or '-'.
    pub username: String,

    #[command(flatten)]
    pub database: DatabaseConfig,

    #[command(flatten)]
    pub log: LogConfig,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// File to write; `-` or nothing means stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,

    /// Export this account's tasks (AUTH_MODE=accounts). Without it, the
    /// shared list of AUTH_MODE=none.
    #[arg(long)]
    pub user: Option<String>,

    #[command(flatten)]
    pub database: DatabaseConfig,

    #[command(flatten)]
    pub log: LogConfig,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// File to read; `-` means stdin.
    pub file: PathBuf,

    /// Delete the tasks already stored before importing.
    #[arg(long)]
    pub replace: bool,

    /// Import into this account's list (AUTH_MODE=accounts); its tasks get
    /// new ids. Without it, the shared list of AUTH_MODE=none, ids kept.
    #[arg(long)]
    pub user: Option<String>,

    /// Create the SQLite database file if it does not exist yet (without
    /// this, a missing file is an error, so a mistyped path is not mistaken
    /// for a new database).
    #[arg(long)]
    pub create: bool,

    #[command(flatten)]
    pub limits: AccountLimits,

    #[command(flatten)]
    pub database: DatabaseConfig,

    #[command(flatten)]
    pub log: LogConfig,
}

#[derive(Debug, Clone, Args)]
pub struct HealthcheckArgs {
    /// Address of the server to check (0.0.0.0 or ::, a server's HOST when
    /// it listens on every address, means this machine).
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Port of the server to check.
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,

    /// How long to wait for an answer.
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    pub timeout: Duration,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Server")]
pub struct ServerConfig {
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "0.0.0.0")]
    pub host: IpAddr,

    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,

    /// After SIGTERM/SIGINT, keep serving (while /readyz says 503) for this
    /// long so a load balancer stops sending traffic before we stop accepting.
    #[arg(long, env = "SHUTDOWN_DRAIN_DELAY", default_value = "5s", value_parser = parse_duration)]
    pub drain_delay: Duration,

    /// After draining, how long in-flight requests get to finish.
    #[arg(long, env = "SHUTDOWN_TIMEOUT", default_value = "20s", value_parser = parse_duration)]
    pub shutdown_timeout: Duration,

    /// Longest time one request may take before it is answered with 503.
    #[arg(long, env = "REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,

    /// Origins allowed to call the API from a browser: `*`, or a
    /// comma-separated list such as `https://todo.example.com` (empty: none).
    /// Unset: `*` with AUTH_MODE=none, none with accounts.
    #[arg(long, env = "CORS_ORIGINS", value_parser = parse_cors_origins)]
    pub cors_origins: Option<CorsOrigins>,

    /// Largest request body accepted, in bytes (API and forms).
    #[arg(long, env = "BODY_LIMIT", default_value_t = 64 * 1024)]
    pub body_limit: usize,

    /// Largest import body accepted, in bytes.
    #[arg(long, env = "IMPORT_BODY_LIMIT", default_value_t = 32 * 1024 * 1024)]
    pub import_body_limit: usize,

    /// Keep ready-made bodies of `GET /api/todos` while the data is
    /// unchanged. `false` builds every list afresh (for comparing, or
    /// ruling the cache out).
    #[arg(long, env = "LIST_CACHE", default_value_t = true, action = clap::ArgAction::Set)]
    pub list_cache: bool,

    #[command(flatten)]
    pub auth: AuthConfig,

    #[command(flatten)]
    pub connections: ConnectionConfig,

    #[command(flatten)]
    pub limits: AccountLimits,
}

/// What one account may store.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Limits")]
pub struct AccountLimits {
    /// Most tasks one list may hold; a create or an import past it is
    /// refused (409) and writes nothing.
    #[arg(long, env = "MAX_TASKS_PER_ACCOUNT", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_tasks_per_account: u64,

    /// Most lists one account may own, its default list included; making
    /// (or importing) one more is refused (409). Lists deleted but kept
    /// for undo count too, except that a new list makes room by purging
    /// the owner's oldest deleted one.
    #[arg(long, env = "MAX_LISTS_PER_ACCOUNT", default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_lists_per_account: u64,

    /// Most people one list may be shared with (its owner not counted);
    /// sharing with one more is refused (409).
    #[arg(long, env = "MAX_MEMBERS_PER_LIST", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_members_per_list: u64,

    /// How long deleted tasks and lists are kept: until then Undo (and
    /// the API's `restore` routes) brings them back as they were, and sync
    /// clients learn of the deletion; then they are purged for good.
    #[arg(long, env = "DELETED_RETENTION", default_value = "30d", value_parser = parse_duration)]
    pub deleted_retention: Duration,
}

/// Who may use the app, and how the app tells who is calling.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Accounts")]
pub struct AuthConfig {
    /// `accounts`: everyone signs in and sees only their own tasks. `none`:
    /// one shared list and no login, for a private single-user instance.
    #[arg(long = "auth", env = "AUTH_MODE", value_enum, default_value_t = AuthMode::Accounts)]
    pub mode: AuthMode,

    /// `open`: anyone may create an account. `closed`: only `todo-app user add`.
    #[arg(long, env = "SIGNUP", value_enum, default_value_t = Signup::Open)]
    pub signup: Signup,

    /// A session ends after this long without a request.
    #[arg(long, env = "SESSION_IDLE_TIMEOUT", default_value = "7d", value_parser = parse_duration)]
    pub session_idle_timeout: Duration,

    /// A session ends this long after login, however active.
    #[arg(long, env = "SESSION_LIFETIME", default_value = "30d", value_parser = parse_duration)]
    pub session_lifetime: Duration,

    /// The address users reach the app at, e.g. `https://todo.example.com`.
    /// Used for absolute URLs and to recognise same-origin requests; unset,
    /// the request's Host header is used.
    #[arg(long, env = "PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<PublicUrl>,

    /// How many proxies in front of the app append to X-Forwarded-For (1
    /// behind an AWS ALB). 0 trusts no X-Forwarded-* header at all.
    #[arg(long, env = "TRUSTED_PROXY_HOPS", default_value_t = 0)]
    pub trusted_proxy_hops: u8,

    /// Password hashes computed at once (each takes ~19 MiB and a core for
    /// tens of milliseconds); further logins wait their turn.
    #[arg(long, env = "PASSWORD_HASH_CONCURRENCY", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub password_hash_concurrency: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    Accounts,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Signup {
    Open,
    Closed,
}

/// `PUBLIC_URL`: an `http` or `https` origin (scheme, host and port; no
/// path, query or user), parsed once by the URL standard's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(url::Url);

impl PublicUrl {
    /// `https://todo.example.com`: lower case, no default port, no
    /// trailing slash.
    pub fn origin(&self) -> String {
        self.0.origin().ascii_serialization()
    }

    pub fn is_https(&self) -> bool {
        self.0.scheme() == "https"
    }
}

pub fn parse_public_url(raw: &str) -> Result<PublicUrl, String> {
    let raw = raw.trim().trim_end_matches('/');
    let example = "e.g. https://todo.example.com";
    let url = url::Url::parse(raw)
        .map_err(|err| format!("{raw:?} is not a URL ({err}); use {example}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{raw:?} must start with http:// or https://"));
    }
    let just_the_origin = url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if !just_the_origin {
        return Err(format!(
            "{raw:?} must be just scheme and host (and port), {example}"
        ));
    }
    Ok(PublicUrl(url))
}

/// Limits that keep slow or idle clients from tying up the server when it
/// faces the internet directly (tasks on public IPs, no load balancer).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Connections")]
pub struct ConnectionConfig {
    /// Longest time a client may take to send a request's headers, which is
    /// also how long an idle kept-alive connection stays open. Unset: 10 s,
    /// or 75 s behind a trusted proxy (longer than the ALB's 60 s idle
    /// timeout, so the balancer always closes first).
    #[arg(long, env = "HEADER_READ_TIMEOUT", value_parser = parse_duration)]
    pub header_read_timeout: Option<Duration>,

    /// Most connections open at once; further clients wait in the kernel's
    /// accept queue until one closes.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Most a client may hold at once, so one cannot take every connection.
    /// With TRUSTED_PROXY_HOPS=0: connections from one address (an IPv6
    /// /64 counts as one), further ones are closed at once. Behind a trusted
    /// proxy, whose few addresses carry everyone's connections: requests in
    /// flight from one client as X-Forwarded-For names it, further ones 429.
    #[arg(long, env = "MAX_CONNECTIONS_PER_CLIENT", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections_per_client: u32,

    /// Longest pause while a request body arrives; a client that stalls
    /// mid-body longer gets 408 and the connection is closed.
    #[arg(long, env = "BODY_READ_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub body_read_timeout: Duration,
}

#[derive(Clone, Args)]
#[command(next_help_heading = "Database")]
pub struct DatabaseConfig {
    /// Database URL: `sqlite://FILE`, `postgres://...` or `postgresql://...`.
    /// Unset means SQLite in ./todo.db, unless the DB_* variables are set.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// PostgreSQL host, used with DB_USER, DB_PASSWORD and DB_NAME when DATABASE_URL is unset.
    #[arg(long, env = "DB_HOST")]
    pub db_host: Option<String>,

    /// PostgreSQL port.
    #[arg(long, env = "DB_PORT", default_value_t = 5432)]
    pub db_port: u16,

    /// PostgreSQL database name.
    #[arg(long, env = "DB_NAME")]
    pub db_name: Option<String>,

    /// PostgreSQL user; unset with DB_SECRET_ARN, whose secret names it.
    #[arg(long, env = "DB_USER")]
    pub db_user: Option<String>,

    /// PostgreSQL password (any characters).
    #[arg(long, env = "DB_PASSWORD", hide_env_values = true)]
    pub db_password: Option<String>,

    /// ARN or name of a Secrets Manager secret holding `{"username", "password"}`
    /// for PostgreSQL (with DB_HOST and DB_NAME). Read at start and again
    /// whenever PostgreSQL refuses the password, so rotations need no restart.
    #[arg(long, env = "DB_SECRET_ARN")]
    pub db_secret_arn: Option<String>,

    /// TLS to PostgreSQL (an `sslmode` in DATABASE_URL wins).
    #[arg(long, env = "DB_SSLMODE", value_enum, default_value_t = SslMode::Prefer)]
    pub db_sslmode: SslMode,

    /// Connections in the pool of each process.
    #[arg(long, env = "DB_POOL_SIZE", default_value_t = 10)]
    pub pool_size: u32,

    /// SQLite: read single tasks on the request's own thread instead of
    /// handing the query to a connection thread (`false` to always hand it over).
    #[arg(long, env = "SQLITE_DIRECT_READS", default_value_t = true, action = clap::ArgAction::Set)]
    pub sqlite_direct_reads: bool,

    /// How long a request waits for a free connection before it gets a 503.
    #[arg(long, env = "DB_ACQUIRE_TIMEOUT", default_value = "3s", value_parser = parse_duration)]
    pub acquire_timeout: Duration,

    /// Most processes that may share the PostgreSQL server at once (for
    /// example the ECS maximum task count times two during a deployment).
    /// At start the app warns when that many pools cannot fit in the
    /// server's max_connections.
    #[arg(long, env = "DB_FLEET_SIZE")]
    pub fleet_size: Option<u32>,
}

impl Default for DatabaseConfig {
    /// Every setting at the default its flag documents, whatever the
    /// environment holds: what tests and tools start from.
    fn default() -> Self {
        use clap::FromArgMatches;
        let command = Self::augment_args(clap::Command::new("defaults"))
            .mut_args(|arg| arg.env(None::<&str>));
        let matches = command
            .try_get_matches_from(["defaults"])
            .expect("every database setting has a default or is optional");
        Self::from_arg_matches(&matches).expect("the defaults parse")
    }
}

/// PostgreSQL's `sslmode`, as libpq spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
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
            .field("db_secret_arn", &self.db_secret_arn)
            .field("db_sslmode", &self.db_sslmode)
            .field("pool_size", &self.pool_size)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("fleet_size", &self.fleet_size)
            .finish()
    }
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Logging")]
pub struct LogConfig {
    /// Log format: json, text, or auto (json unless stdout is a terminal).
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,

    /// Log filter in RUST_LOG syntax, e.g. `info` or `todo_app=debug,sqlx=warn`.
    #[arg(long, env = "RUST_LOG", default_value = "info", value_parser = parse_log_filter)]
    pub log_level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Auto,
    Json,
    Text,
}

/// The origins allowed to call the API from other sites' pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// `*`: every origin.
    Any,
    /// These origins only; none when empty.
    List(Vec<Origin>),
}

/// `*`, or the origins joined with commas: the setting as it can be written.
impl fmt::Display for CorsOrigins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("*"),
            Self::List(origins) => {
                let texts: Vec<&str> = origins.iter().map(Origin::as_str).collect();
                f.write_str(&texts.join(","))
            }
        }
    }
}

/// A web origin, `scheme://host[:port]`, as a browser sends it in `Origin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin(String);

impl Origin {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parses a `CORS_ORIGINS` value: `*` alone, or a comma-separated list of
/// origins (`scheme://host[:port]`, as a browser sends them in `Origin`),
/// spaces around the commas allowed.
pub fn parse_cors_origins(raw: &str) -> Result<CorsOrigins, String> {
    if raw.trim() == "*" {
        return Ok(CorsOrigins::Any);
    }
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|origin| {
            check_origin(origin).map_err(|why| format!("CORS_ORIGINS (--cors-origins): {why}"))
        })
        .collect::<Result<_, _>>()
        .map(CorsOrigins::List)
}

fn check_origin(origin: &str) -> Result<Origin, String> {
    if origin == "*" {
        return Err("`*` allows every origin and cannot be part of a list".to_owned());
    }
    let Some((scheme, authority)) = origin.split_once("://") else {
        return Err(format!(
            "{origin:?} is not an origin; write it as a browser sends it, e.g. https://todo.example.com"
        ));
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err(format!("{origin:?} has no valid scheme (such as https)"));
    }
    if authority.is_empty() {
        return Err(format!("{origin:?} has no host"));
    }
    if authority.contains('/') {
        return Err(format!(
            "{origin:?} has a path; an origin is only scheme://host[:port], e.g. {scheme}://{}",
            authority.split('/').next().unwrap_or_default()
        ));
    }
    if !authority
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, '?' | '#' | '@' | '"' | '\\'))
    {
        return Err(format!("{origin:?} holds characters an origin cannot have"));
    }
    // What is left to check (the host, the port) the URL standard says.
    url::Url::parse(origin).map_err(|err| format!("{origin:?} is not an origin: {err}"))?;
    Ok(Origin(origin.to_owned()))
}

/// Checks a `RUST_LOG` filter, so a typo stops the process at start instead
/// of silently logging something else.
pub fn parse_log_filter(raw: &str) -> Result<String, String> {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    let setting = "RUST_LOG (--log-level)";
    tracing_subscriber::EnvFilter::builder()
        .parse(raw)
        .map_err(|err| {
            format!("{setting} {raw:?} is not a log filter ({err}); use e.g. info or todo_app=debug,sqlx=warn")
        })?;
    // A bare word is a valid filter: it names a crate or module to log at
    // every level. One that looks like a level (`warning`, `infoo`) is
    // almost surely a typo, and would switch every other log off.
    for directive in raw.split(',').map(str::trim) {
        let word = directive.to_ascii_lowercase();
        if word.is_empty() || LEVELS.contains(&word.as_str()) || word.contains(['=', '[', ':']) {
            continue;
        }
        if let Some(level) = LEVELS
            .iter()
            .find(|level| word.starts_with(**level) || edit_distance(&word, level) <= 1)
        {
            return Err(format!(
                "{setting}: {directive:?} is not a level; did you mean {level:?}? \
                 (to log the target {directive:?} at every level, write {directive}=trace)"
            ));
        }
    }
    Ok(raw.to_owned())
}

/// Levenshtein distance, for the short words of a log filter.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
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

/// Parses a duration as `humantime` reads it (`250ms`, `5s`, `2m`, `12h`,
/// `7d`, `1h 30m`, …), or a bare number of seconds (`5`). A fraction
/// before a single unit (`1.5s`, `0.5d`), which humantime does not take,
/// is read as that much of humantime's unit, as this setting always was.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let not_a_duration = || format!("{raw:?} is not a duration; use e.g. 500ms, 5s, 2m or 1h 30m");
    let number_end = raw
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(raw.len());
    let (number, unit) = raw.split_at(number_end);
    if !unit.is_empty() && !number.contains('.') {
        return humantime::parse_duration(raw)
            .map_err(|err| format!("{}: {err}", not_a_duration()));
    }
    let value: f64 = number.parse().map_err(|_| not_a_duration())?;
    let unit = if unit.is_empty() {
        Duration::from_secs(1)
    } else if unit.chars().all(char::is_alphabetic) {
        humantime::parse_duration(&format!("1{unit}"))
            .map_err(|err| format!("{}: {err}", not_a_duration()))?
    } else {
        return Err(not_a_duration());
    };
    Duration::try_from_secs_f64(value * unit.as_secs_f64()).map_err(|e| format!("{raw:?}: {e}"))
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
    fn database_defaults_are_the_documented_ones() {
        let config = DatabaseConfig::default();
        assert_eq!(config.database_url, None);
        assert_eq!(config.db_port, 5432);
        assert_eq!(config.db_sslmode, SslMode::Prefer);
        assert_eq!(config.pool_size, 10);
        assert_eq!(config.acquire_timeout, Duration::from_secs(3));
        assert_eq!(config.fleet_size, None);
    }

    #[test]
    fn durations_parse() {
        let ms = Duration::from_millis;
        // Every form read before humantime still reads the same.
        for (raw, expected) in [
            ("250ms", ms(250)),
            ("5", ms(5_000)),
            (" 5 ", ms(5_000)),
            ("0", ms(0)),
            ("0.5", ms(500)),
            ("5.", ms(5_000)),
            ("30s", ms(30_000)),
            ("2m", ms(120_000)),
            ("12h", ms(12 * 3_600_000)),
            ("7d", ms(7 * 86_400_000)),
            ("1.5s", ms(1_500)),
            ("0.5m", ms(30_000)),
            ("0.25d", ms(21_600_000)),
            ("1.5ms", Duration::from_micros(1_500)),
        ] {
            assert_eq!(parse_duration(raw), Ok(expected), "{raw:?}");
        }
        // And humantime's own forms on top.
        assert_eq!(parse_duration("1h 30m"), Ok(ms(5_400_000)));
        assert_eq!(parse_duration("2w"), Ok(ms(14 * 86_400_000)));
        assert_eq!(parse_duration("90sec"), Ok(ms(90_000)));
        for bad in ["", "soon", "5x", "-5", ".", "1.5h30m", "1e3"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains("is not a duration"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn cors_origins_are_checked() {
        assert_eq!(parse_cors_origins(" * ").unwrap(), CorsOrigins::Any);
        assert_eq!(
            parse_cors_origins("").unwrap(),
            CorsOrigins::List(Vec::new())
        );
        assert_eq!(
            parse_cors_origins("https://a.example, http://localhost:3000 ,")
                .unwrap()
                .to_string(),
            "https://a.example,http://localhost:3000"
        );
        for bad in [
            "todo.example.com",
            "https://todo.example.com/",
            "https://a.example,*",
            "https://",
            "1http://x",
            "https://a b",
            "https://a.example:99999",
        ] {
            let err = parse_cors_origins(bad).unwrap_err();
            assert!(err.contains("CORS_ORIGINS"), "{bad}: {err}");
        }
    }

    #[test]
    fn log_filters_are_checked() {
        for good in [
            "info",
            "warn,sqlx=off",
            "todo_app=debug,tower_http=trace",
            "todo_app",
            "todo_app::http[request]=debug",
            "",
        ] {
            assert_eq!(parse_log_filter(good).as_deref(), Ok(good), "{good}");
        }
        for (bad, hint) in [
            ("warning", "\"warn\""),
            ("infoo", "\"info\""),
            ("debg", "\"debug\""),
            ("todo_app=verbose", "not a log filter"),
        ] {
            let err = parse_log_filter(bad).unwrap_err();
            assert!(
                err.contains("RUST_LOG") && err.contains(hint),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn commands_default_to_serve_and_take_their_own_flags() {
        let cli = Cli::try_parse_from(["todo-app", "--port", "9000"]).unwrap();
        let Command::Serve(args) = cli.into_command() else {
            panic!("no command means serve");
        };
        assert_eq!(args.server.port, 9000);
        let cli = Cli::try_parse_from(["todo-app", "healthcheck", "--host", "::1"]).unwrap();
        let Command::Healthcheck(args) = cli.into_command() else {
            panic!("healthcheck");
        };
        assert_eq!(args.host, "::1".parse::<IpAddr>().unwrap());
        // A flag of another command is refused, not silently ignored.
        assert!(Cli::try_parse_from(["todo-app", "healthcheck", "--drain-delay", "1s"]).is_err());
        assert!(Cli::try_parse_from(["todo-app", "--port", "1", "migrate"]).is_err());
    }

    #[test]
    fn public_urls_are_origins() {
        assert_eq!(
            parse_public_url("HTTPS://Todo.Example.com/")
                .unwrap()
                .origin(),
            "https://todo.example.com"
        );
        assert_eq!(
            parse_public_url("http://localhost:8080").unwrap().origin(),
            "http://localhost:8080"
        );
        assert_eq!(
            parse_public_url("https://todo.example.com:443")
                .unwrap()
                .origin(),
            "https://todo.example.com"
        );
        assert!(
            parse_public_url("https://todo.example.com")
                .unwrap()
                .is_https()
        );
        assert!(!parse_public_url("http://[::1]:8080").unwrap().is_https());
        // What was accepted before the URL was a `url::Url` still is.
        for (raw, origin) in [
            ("https://todo.example.com//", "https://todo.example.com"),
            (" http://127.0.0.1:3000 ", "http://127.0.0.1:3000"),
            ("http://[::1]:8080", "http://[::1]:8080"),
            (
                "https://todo-app.example.com.",
                "https://todo-app.example.com.",
            ),
        ] {
            assert_eq!(parse_public_url(raw).unwrap().origin(), origin, "{raw}");
        }
        for (bad, says) in [
            ("todo.example.com", "is not a URL"),
            ("ftp://x", "must start with http:// or https://"),
            ("https://x/app", "just scheme and host"),
            ("https://x?a=b", "just scheme and host"),
            ("https://x#top", "just scheme and host"),
            ("https://", "is not a URL"),
            ("https://a@b", "just scheme and host"),
            ("https://a:secret@b", "just scheme and host"),
            ("https://todo.example.com:99999", "is not a URL"),
        ] {
            let err = parse_public_url(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
