#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use todo_app::config::{Cli, Command, ServeArgs};
use todo_app::telemetry::{self, LogTo};

fn main() -> ExitCode {
    let command = Cli::parse().into_command();
    let (log, log_to) = match &command {
        // The healthcheck runs every few seconds inside the container: keep
        // it quiet and free of a multi-threaded runtime.
        Command::Healthcheck(args) => return todo_app::cli::healthcheck(args),
        // Its stdout may be the export itself.
        Command::Export(args) => (&args.log, LogTo::Stderr),
        Command::Serve(ServeArgs { log, .. }) => (log, LogTo::Stdout),
        Command::Migrate(args) => (&args.log, LogTo::Stdout),
        Command::Import(args) => (&args.log, LogTo::Stdout),
        Command::User(todo_app::config::UserCommand::Add(args)) => (&args.log, LogTo::Stderr),
    };
    if let Err(err) = telemetry::init(log, log_to) {
        eprintln!("error: {err:#}");
        return ExitCode::FAILURE;
    }
    // A server's fatal error belongs in its log, which is where operators
    // look (unless RUST_LOG silences errors); a one-shot command's goes to
    // the person who ran it, on stderr. Either way it is told once.
    let serving = matches!(command, Command::Serve(_));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("failed to start the async runtime");
    match runtime.block_on(todo_app::cli::run(command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if serving && tracing::enabled!(tracing::Level::ERROR) => {
            tracing::error!(error = format!("{err:#}"), "fatal");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
