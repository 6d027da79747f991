//! The command line: commands, logging set-up and exit codes.
//!
//! Exit codes:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | stopped cleanly (a signal, or the end of what was asked) |
//! | 1 | stopped by an error while running; the checkpoint holds the last delivered position |
//! | 2 | bad command line or configuration: nothing was started |
//! | 3 | the database is not set up for the connector (binlog, grants, tables) |
//! | 4 | the checkpoint directory is used by another osticket-cdc process |
//! | 130 | a second signal: stopped at once, the checkpoint unchanged since the last delivery |

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::checkpoint::CheckpointError;
use crate::config::Settings;
use crate::pipeline::{self, PipelineError, PipelineStats};
use crate::source::SourceError;

/// Streams osTicket ticket creations from the MySQL/MariaDB binlog.
#[derive(Debug, Parser)]
#[command(name = "osticket-cdc", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Follow the binlog and deliver a record for every ticket created.
    Run {
        /// The TOML configuration file; `OSTICKET_CDC_*` variables override it.
        #[arg(long, short, env = "OSTICKET_CDC_CONFIG")]
        config: Option<PathBuf>,
        /// Log format on standard error.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        log_format: String,
    },
}

/// Exit code: bad command line or configuration.
pub const EXIT_CONFIG: u8 = 2;
/// Exit code: the database is not ready for the connector.
pub const EXIT_PREREQUISITE: u8 = 3;
/// Exit code: the checkpoint is held by another process.
pub const EXIT_LOCKED: u8 = 4;

/// Parses the command line, runs the command and returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { config, log_format } => {
            init_logging(&log_format);
            let settings = match Settings::load(config.as_deref()) {
                Ok(settings) => settings,
                Err(e) => {
                    error!(error = %e, "configuration rejected");
                    eprintln!("osticket-cdc: {e}");
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime can be built");
            runtime.block_on(run(settings))
        }
    }
}

/// Logs go to standard error: standard output may be the record stream.
fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("OSTICKET_CDC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn run(settings: Settings) -> ExitCode {
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        info!("signal received: finishing the current batch (a second signal exits at once)");
        let _ = shutdown_tx.send(true);
        wait_for_signal().await;
        warn!("second signal: exiting now; undelivered records will be sent again on restart");
        std::process::exit(130);
    });

    match pipeline::run(settings, shutdown_rx, PipelineStats::default()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!(error = %e, "stopped");
            eprintln!("osticket-cdc: {e}");
            ExitCode::from(exit_code(&e))
        }
    }
}

fn exit_code(error: &PipelineError) -> u8 {
    match error {
        PipelineError::Source(SourceError::Check(_) | SourceError::Schema(_)) => EXIT_PREREQUISITE,
        PipelineError::Checkpoint(CheckpointError::Locked { .. }) => EXIT_LOCKED,
        _ => 1,
    }
}

async fn wait_for_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler can be installed");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
