use clap::Parser;
use todo_app::config::{Cli, Command};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The healthcheck runs every few seconds inside the container: keep it
    // quiet and free of a multi-threaded runtime.
    if let Some(Command::Healthcheck { timeout }) = cli.command {
        return todo_app::cli::healthcheck(cli.server.port, timeout);
    }
    todo_app::telemetry::init(&cli.log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("failed to start the async runtime");
    match runtime.block_on(todo_app::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "fatal");
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
