//! The subcommands: `serve` (the default), `migrate`, `export`, `import`
//! and `healthcheck`.
//!
//! The one-shot commands share one path through the database
//! (`with_store`: open, migrate, work, close). Their messages are written
//! for the person at the terminal: an error is printed once, on stderr, and
//! names the file and the flag that matter.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::config::{
    Command, DatabaseConfig, ExportArgs, HealthcheckArgs, ImportArgs, MigrateArgs, ServeArgs,
    UserAddArgs, UserCommand,
};
use crate::db::{self, DatabaseTarget, Store, StoreError};
use crate::domain::{Import, NewPassword, Owner, UserId, Username};
use crate::export::{
    EXPORT_FORMAT, ExportDocument, ExportedTask, FORMAT_VERSION, export_of, parse_export_document,
};
use crate::json;
use crate::lifecycle;
use crate::startup::Application;

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(args) => migrate(args).await,
        Command::Export(args) => export(args).await,
        Command::Import(args) => import(args).await,
        Command::User(UserCommand::Add(args)) => add_user(args).await,
        Command::Healthcheck(args) => {
            // Handled in main without a runtime; reachable only if called directly.
            match healthcheck(&args) {
                code if code == ExitCode::SUCCESS => Ok(()),
                _ => bail!("unhealthy"),
            }
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let app = Application::build(args.server, &args.database).await?;
    tracing::info!(
        address = %app.local_addr(),
        version = env!("CARGO_PKG_VERSION"),
        revision = crate::GIT_REVISION,
        "listening"
    );
    lifecycle::listen_for_signals(app.lifecycle());
    app.run_until_stopped().await
}

/// Opens the store, applies pending migrations, runs `work` and closes the
/// store again, whether `work` succeeded or not.
async fn with_store<T>(
    database: &DatabaseConfig,
    work: impl AsyncFnOnce(&Store) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let store = db::open_store(database).await?;
    let result = match store.migrate().await {
        Ok(()) => work(&store).await,
        Err(err) => Err(err),
    };
    store.close().await;
    result
}

async fn migrate(args: MigrateArgs) -> anyhow::Result<()> {
    with_store(&args.database, async |store| {
        db::check_connection_budget(store, args.database.fleet_size).await;
        let version = store.schema_version().await?;
        tracing::info!(schema_version = version, "migrations applied");
        Ok(())
    })
    .await
}

async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let location = existing_database(&args.database, "nothing to export; check DATABASE_URL")?;
    let document = with_store(&args.database, async |store| {
        let owner = owner(store, args.user.as_deref(), &location).await?;
        Ok(export_of(store, owner).await?)
    })
    .await?;
    let count = document.tasks.len() + document.lists.iter().map(|l| l.tasks.len()).sum::<usize>();
    let mut json = serde_json::to_vec_pretty(&document)?;
    json.push(b'\n');
    let destination = match args.output.as_deref().filter(|p| *p != Path::new("-")) {
        Some(path) => {
            std::fs::write(path, &json)
                .with_context(|| format!("failed to write {}", path.display()))?;
            path.display().to_string()
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&json)?;
            stdout.flush()?;
            "stdout".to_owned()
        }
    };
    tracing::info!(tasks = count, database = %location, "exported");
    eprintln!(
        "exported {} from {location} to {destination}",
        tasks_word(count)
    );
    Ok(())
}

async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let ImportArgs {
        file,
        replace,
        user,
        create,
        limits,
        database,
        log: _,
    } = args;
    let (raw, source) = if file == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("failed to read stdin")?;
        (buf, "stdin".to_owned())
    } else {
        let raw =
            std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
        (raw, file.display().to_string())
    };
    let import =
        read_export(&raw).map_err(|why| anyhow::anyhow!("cannot import {source}: {why}"))?;
    let location = if create {
        DatabaseTarget::from_config(&database)?.location()
    } else {
        existing_database(
            &database,
            "check DATABASE_URL, or pass --create to start a new database",
        )?
    };
    let imported = with_store(&database, async |store| {
        let owner = owner(store, user.as_deref(), &location).await?;
        let list = store.default_list(owner).await?;
        let store = store
            .clone()
            .with_task_limit(Some(limits.max_tasks_per_account))
            .with_list_limits(Some(limits.max_lists_per_account), None);
        match store.import(list, owner, &import, replace).await {
            Ok(imported) => Ok(imported),
            Err(StoreError::TaskLimit { limit, .. }) => bail!(
                "{source} holds a list of {}, more than a list may hold \
                 (MAX_TASKS_PER_ACCOUNT, {limit}); nothing was imported",
                tasks_word(import.largest_list())
            ),
            Err(StoreError::ListLimit {
                limit,
                importing: Some(lists),
            }) => bail!(
                "{source} would leave the account with {lists} lists, more than one may own \
                 (MAX_LISTS_PER_ACCOUNT, {limit}); nothing was imported"
            ),
            Err(StoreError::ListNotEmpty { .. }) => {
                let (held, them) = match store.count_tasks(list, None).await {
                    Ok(counts) if counts.total == 1 => ("1 task".to_owned(), "it"),
                    Ok(counts) if counts.total > 1 => (tasks_word(counts.total as usize), "them"),
                    _ => ("tasks".to_owned(), "them"),
                };
                bail!(
                    "{location} already holds {held}; nothing was imported. \
                     Pass --replace to delete {them} and import {source} in their place"
                )
            }
            Err(err) => Err(err.into()),
        }
    })
    .await?;
    tracing::info!(tasks = imported, database = %location, "imported");
    eprintln!(
        "imported {} from {source} into {location}",
        tasks_word(imported as usize)
    );
    Ok(())
}

/// The list `--user` names: that account's, or the shared list without it.
async fn owner(store: &Store, user: Option<&str>, location: &str) -> anyhow::Result<Owner> {
    let Some(name) = user else {
        return Ok(Owner::SHARED);
    };
    let username = Username::parse(name).map_err(|e| anyhow::anyhow!("--user: {}", e.message))?;
    match store.user_credentials(&username).await? {
        Some(account) => Ok(Owner::user(UserId(account.id))),
        None => bail!(
            "there is no account named {name:?} in {location}; create it with `todo-app user add {name}`"
        ),
    }
}

/// `todo-app user add NAME`, with the password on stdin.
async fn add_user(args: UserAddArgs) -> anyhow::Result<()> {
    let username = Username::parse(&args.username).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprint!("Password for {username} (shown as you type; or pipe it in): ");
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("failed to read the password from stdin")?;
    let password = NewPassword::parse(line.trim_end_matches(['\r', '\n']), "password")
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let location = DatabaseTarget::from_config(&args.database)?.location();
    with_store(
        &args.database,
        async |store| match crate::accounts::add_user(store, &username, &password).await {
            Ok(_) => Ok(()),
            Err(crate::accounts::AccountError::UsernameTaken) => {
                bail!("{location} already has an account named {username} (names ignore case)")
            }
            Err(err) => Err(anyhow::anyhow!("{err}")),
        },
    )
    .await?;
    eprintln!("created the account {username} in {location}");
    Ok(())
}

/// Where the configured database is, refusing a SQLite file that does not
/// exist (opening it would create an empty one): a mistyped path must not
/// look like a database without tasks.
fn existing_database(database: &DatabaseConfig, hint: &str) -> anyhow::Result<String> {
    let target = DatabaseTarget::from_config(database)?;
    let location = target.location();
    if let Some(file) = target.sqlite_file()
        && !file.exists()
    {
        let from = match database.database_url.as_deref().filter(|u| !u.is_empty()) {
            Some(_) => "named by DATABASE_URL",
            None => "the default, as DATABASE_URL is unset",
        };
        bail!("there is no database at {location} ({from}); {hint}");
    }
    Ok(location)
}

fn tasks_word(n: usize) -> String {
    match n {
        1 => "1 task".to_owned(),
        n => format!("{n} tasks"),
    }
}

/// Reads an export file, explaining what is wrong with it in terms of the
/// file rather than of the parser.
fn read_export(raw: &[u8]) -> Result<Import, String> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err("the file is empty".to_owned());
    }
    let value: Value =
        serde_json::from_slice(raw).map_err(|e| format!("this file is not JSON ({e})"))?;
    let not_export = "this file is not a todo-app export";
    let Value::Object(doc) = &value else {
        let hint = match value {
            Value::Array(_) => {
                " (a list of tasks, as GET /api/todos returns, is not an export: \
                 make one with `todo-app export` or GET /api/export)"
            }
            _ => "",
        };
        return Err(format!(
            "{not_export}: it holds {}, not an object{hint}",
            json::kind(&value)
        ));
    };
    match doc.get("format") {
        None => return Err(format!("{not_export}: it has no `format`")),
        Some(Value::String(format)) if format == EXPORT_FORMAT => {}
        Some(other) => {
            return Err(format!(
                "{not_export}: its `format` is {other}, not \"{EXPORT_FORMAT}\""
            ));
        }
    }
    match doc.get("version") {
        None => return Err(format!("{not_export}: it has no `version`")),
        Some(version)
            if version
                .as_f64()
                .is_some_and(|v| (1..=FORMAT_VERSION).any(|known| f64::from(known) == v)) => {}
        Some(version) => {
            return Err(format!(
                "this export is version {version}, and this todo-app reads versions 1 to {FORMAT_VERSION}"
            ));
        }
    }
    for field in ["exported_at", "tasks"] {
        if !doc.contains_key(field) {
            return Err(format!("{not_export}: it has no `{field}`"));
        }
    }
    let Some(tasks) = doc["tasks"].as_array() else {
        return Err(format!(
            "its `tasks` is {}, not a list",
            json::kind(&doc["tasks"])
        ));
    };
    for (i, task) in tasks.iter().enumerate() {
        let which = describe_task(i, task);
        if !task.is_object() {
            return Err(format!("{which} is {}, not an object", json::kind(task)));
        }
        if let Err(e) = serde_json::from_value::<ExportedTask>(task.clone()) {
            let e = e.to_string();
            return Err(match e.strip_prefix("missing field ") {
                Some(field) => format!("{which} has no {field}"),
                None => format!("{which}: {e}"),
            });
        }
    }
    if let Err(e) = serde_json::from_value::<ExportDocument<Value>>(value.clone()) {
        return Err(format!("{not_export}: {e}"));
    }
    parse_export_document(value.clone()).map_err(|e| {
        // Domain checks name the task as `tasks[i]: ...`.
        let message = e.message;
        if let Some((index, rest)) = message
            .strip_prefix("tasks[")
            .and_then(|m| m.split_once("]: "))
            && let Ok(i) = index.parse::<usize>()
        {
            format!("{}: {rest}", describe_task(i, &tasks[i]))
        } else {
            message
        }
    })
}

/// "task 3 in the file (id 17)", counting from one as people do.
fn describe_task(i: usize, task: &Value) -> String {
    match task.get("id") {
        Some(id) => format!("task {} in the file (id {id})", i + 1),
        None => format!("task {} in the file", i + 1),
    }
}

/// `GET /healthz` on the server with a plain socket (the runtime image has
/// no curl); exit 0 on a 200.
pub fn healthcheck(args: &HealthcheckArgs) -> ExitCode {
    match probe(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("unhealthy: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn probe(args: &HealthcheckArgs) -> anyhow::Result<()> {
    // A server listening on every address is reached on this machine's.
    let host = match args.host {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let addr = SocketAddr::new(host, args.port);
    let timeout = args.timeout;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .with_context(|| format!("cannot connect to {addr}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(
        b"GET /healthz HTTP/1.0\r\nHost: localhost\r\nUser-Agent: todo-app-healthcheck\r\n\r\n",
    )?;
    let mut head = [0u8; 32];
    let n = stream.read(&mut head).context("no answer")?;
    let status_line = String::from_utf8_lossy(&head[..n]);
    let status = status_line.split_whitespace().nth(1).unwrap_or_default();
    anyhow::ensure!(status == "200", "/healthz answered {status:?}");
    Ok(())
}
