//! The subcommands: `serve` (the default), `migrate`, `export`, `import`
//! and `healthcheck`.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::config::{Cli, Command};
use crate::http::api::{export_document, parse_export_document};
use crate::lifecycle;
use crate::startup::{Application, open_store};

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(cli.server, &cli.database).await?;
            tracing::info!(
                address = %app.local_addr(),
                version = env!("CARGO_PKG_VERSION"),
                revision = crate::GIT_REVISION,
                "listening"
            );
            lifecycle::listen_for_signals(app.lifecycle());
            app.run_until_stopped().await
        }
        Command::Migrate => {
            let store = open_store(&cli.database).await?;
            store.migrate().await?;
            crate::db::check_connection_budget(&store, &cli.database).await;
            let version = store.schema_version().await?;
            tracing::info!(schema_version = version, "migrations applied");
            store.close().await;
            Ok(())
        }
        Command::Export { output } => {
            let store = open_store(&cli.database).await?;
            store.migrate().await?;
            let tasks = store.all_tasks(crate::domain::Owner::SHARED).await?;
            let count = tasks.len();
            let json = serde_json::to_vec_pretty(&export_document(tasks))?;
            match output.as_deref().filter(|p| *p != Path::new("-")) {
                Some(path) => std::fs::write(path, &json)
                    .with_context(|| format!("failed to write {}", path.display()))?,
                None => std::io::stdout().write_all(&json)?,
            }
            tracing::info!(tasks = count, "exported");
            store.close().await;
            Ok(())
        }
        Command::Import { file, replace } => {
            let raw = if file == Path::new("-") {
                let mut buf = Vec::new();
                std::io::stdin().read_to_end(&mut buf)?;
                buf
            } else {
                std::fs::read(&file)
                    .with_context(|| format!("failed to read {}", file.display()))?
            };
            let value: serde_json::Value =
                serde_json::from_slice(&raw).context("the import file is not valid JSON")?;
            let tasks = parse_export_document(value)?;
            let store = open_store(&cli.database).await?;
            store.migrate().await?;
            let imported = store
                .import_tasks(crate::domain::Owner::SHARED, &tasks, replace)
                .await?;
            tracing::info!(tasks = imported, "imported");
            store.close().await;
            Ok(())
        }
        Command::Healthcheck { timeout } => {
            // Handled in main without a runtime; reachable only if called directly.
            match healthcheck(cli.server.port, timeout) {
                code if code == ExitCode::SUCCESS => Ok(()),
                _ => anyhow::bail!("unhealthy"),
            }
        }
    }
}

/// `GET /healthz` on 127.0.0.1:`port` with a plain socket (the runtime image
/// has no curl); exit 0 on a 200.
pub fn healthcheck(port: u16, timeout: Duration) -> ExitCode {
    match probe(port, timeout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("unhealthy: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn probe(port: u16, timeout: Duration) -> anyhow::Result<()> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
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
