//! Logging: JSON lines for machines (the default when stdout is not a
//! terminal, as under ECS and CloudWatch), readable text for people.

use std::io::IsTerminal;

use anyhow::Context;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::{LogConfig, LogFormat};

/// Where log lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTo {
    /// The usual place, as container platforms collect it.
    Stdout,
    /// For a command whose stdout is its output (`export`).
    Stderr,
}

/// Installs the global subscriber. Call once, first thing in `main`.
///
/// The filter was checked when the configuration was parsed
/// (`config::parse_log_filter`); an invalid one given here directly is an
/// error, never a silent fallback.
pub fn init(config: &LogConfig, to: LogTo) -> anyhow::Result<()> {
    let filter = EnvFilter::builder()
        .parse(&config.log_level)
        .with_context(|| format!("RUST_LOG {:?} is not a log filter", config.log_level))?;
    let json = match config.log_format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => match to {
            LogTo::Stdout => !std::io::stdout().is_terminal(),
            LogTo::Stderr => !std::io::stderr().is_terminal(),
        },
    };
    match to {
        LogTo::Stdout => install(filter, json, std::io::stdout),
        LogTo::Stderr => install(filter, json, std::io::stderr),
    }
    Ok(())
}

fn install<W>(filter: EnvFilter, json: bool, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        builder.init();
    }
}
