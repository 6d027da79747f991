//! The command line: commands, logging set-up and exit codes.
//!
//! Exit codes:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | stopped cleanly (a signal, or the end of what was asked) |
//! | 1 | stopped by an error; `run`'s checkpoint holds the last delivered position |
//! | 2 | bad command line or configuration: nothing was started |
//! | 3 | the database is not set up for the connector (binlog, grants, tables) |
//! | 4 | the checkpoint directory is used by another osticket-cdc process |
//! | 5 | `preview`: the configuration cannot serialize the sample ticket |
//! | 6 | `config from-plugin`: no plugin settings found, or several (listed) |
//! | 7 | `doctor`: at least one check failed (a `FAIL` line): the connector would not run |
//! | 8 | `replay`: the range is not available (not delivered yet, older than the history or the server's binlogs) |
//! | 130 | a second signal: stopped at once, the checkpoint unchanged since the last delivery; `replay` and `backfill` stopped by a signal |
//!
//! `preview` reads no database; its code 5 comes with a message naming the
//! ticket, the failing stage, the reason and the keys to change.
//! `config from-plugin` exits 1 when the database cannot be read, and 6 with
//! the namespaces it found when `--plugin-id`/`--instance` must choose.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::checkpoint::CheckpointError;
use crate::codec::RecordEncoder;
use crate::config::{Secret, Settings, SourceConfig};
use crate::ops::backfill as ops_backfill;
use crate::ops::checkpoint::{self as ops_checkpoint, CheckpointCommandError};
use crate::ops::doctor;
use crate::ops::from_plugin::{self, FromPluginError, PluginSelector};
use crate::ops::preview::{self, PreviewError, SampleTicket};
use crate::ops::replay::{self, Bound as ReplayBound, ReplayError, Target as ReplayTarget};
use crate::pipeline::{self, PipelineError, PipelineStats};
use crate::source::SourceError;
use crate::source::backfill::TicketFilter;

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
        /// On a first start (no checkpoint yet), emit every ticket already in
        /// the database from one consistent read, then stream from exactly
        /// that read's position: none missed, none twice. Ignored when a
        /// checkpoint exists. Same as `pipeline.backfill_first = true`.
        #[arg(long)]
        backfill_first: bool,
    },
    /// Show, stage by stage, the record a sample ticket becomes with this
    /// configuration (the plugin's reference ticket unless told otherwise).
    /// Reads no database.
    Preview {
        /// The TOML configuration file; `OSTICKET_CDC_*` variables override it.
        #[arg(long, short, env = "OSTICKET_CDC_CONFIG")]
        config: Option<PathBuf>,
        /// The sample ticket.
        #[command(flatten)]
        ticket: PreviewArgs,
    },
    /// Show or move the checkpoint.
    Checkpoint {
        /// The TOML configuration file; `OSTICKET_CDC_*` variables override it.
        #[arg(long, short, env = "OSTICKET_CDC_CONFIG", global = true)]
        config: Option<PathBuf>,
        /// Which action.
        #[command(subcommand)]
        command: CheckpointCommand,
    },
    /// Send the records of a past range again, byte for byte as first
    /// emitted (names as they were then, same event_id and sequence),
    /// without touching the checkpoint. FROM is exclusive, TO inclusive:
    /// records of transactions ending after FROM and at or before TO.
    Replay {
        /// The TOML configuration file; `OSTICKET_CDC_*` variables override it.
        #[arg(long, short, env = "OSTICKET_CDC_CONFIG")]
        config: Option<PathBuf>,
        /// Start of the range (exclusive): `FILE:POS`, or an RFC 3339 instant
        /// (the transactions committed at or after it).
        #[arg(long, value_parser = parse_arg::<ReplayBound>)]
        from: ReplayBound,
        /// End of the range (inclusive): `FILE:POS`, at most the checkpoint, or
        /// an RFC 3339 instant (the transactions committed before it).
        #[arg(long, value_parser = parse_arg::<ReplayBound>)]
        to: ReplayBound,
        /// Where to send them: `stdout`, `file:PATH` (appended to) or
        /// `configured` (the configuration's sink).
        #[arg(long, default_value = "stdout", value_parser = parse_arg::<ReplayTarget>)]
        sink: ReplayTarget,
        /// Log format on standard error.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        log_format: String,
    },
    /// Emit records for tickets already in the database, from one
    /// consistent read (no lock on MariaDB), names as of now, in ticket id
    /// order. Leaves the checkpoint alone and prints the read's binlog
    /// position, for `checkpoint reset --to` it.
    Backfill {
        /// The TOML configuration file; `OSTICKET_CDC_*` variables override it.
        #[arg(long, short, env = "OSTICKET_CDC_CONFIG")]
        config: Option<PathBuf>,
        /// Only tickets with an id in this inclusive range: `A-B`.
        #[arg(long, value_parser = ids_arg)]
        ids: Option<(u64, u64)>,
        /// Only tickets created at or after this RFC 3339 instant
        /// (`2026-12-01T00:00:00Z`), compared in the server's time zone.
        #[arg(long, value_parser = crate::config::parse_instant)]
        since: Option<u64>,
        /// Where to send them: `stdout`, `file:PATH` (appended to) or
        /// `configured` (the configuration's sink).
        #[arg(long, default_value = "stdout", value_parser = parse_arg::<ReplayTarget>)]
        sink: ReplayTarget,
        /// Log format on standard error.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        log_format: String,
    },
    /// Check everything the connector depends on (server, binlog settings,
    /// grants, tables, server_id, binlog retention against the checkpoint,
    /// sink, checkpoint directory) and print one line per check: `OK`,
    /// `WARN`, or `FAIL` with what to change. Changes nothing; works beside
    /// a running connector. Exits 7 when a check failed.
    Doctor {
        /// The TOML configuration file; `OSTICKET_CDC_*` variables override it.
        #[arg(long, short, env = "OSTICKET_CDC_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Configuration tools.
    Config {
        /// Which tool.
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

/// The `checkpoint` actions.
#[derive(Debug, Subcommand)]
pub enum CheckpointCommand {
    /// Where the connector stands: binlog position, GTID state, time of the
    /// last delivered transaction, and how far behind the server it is.
    /// Works while a connector runs.
    Show,
    /// Move the start point. Refused while a connector holds the checkpoint;
    /// prints the previous position so the reset can be undone.
    Reset {
        /// `earliest`, `latest`, `FILE:POS`, a GTID set, or an RFC 3339
        /// instant (`2026-12-03T10:00:00Z`, `2026-12-03T11:00:00+01:00`): just
        /// before the first transaction, in binlog order, whose event time is
        /// at or after it (the binlog's end when none is that late).
        #[arg(long, value_parser = start_arg)]
        to: crate::config::StartPosition,
        /// Show what would change and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

fn parse_arg<T: std::str::FromStr<Err = String>>(text: &str) -> Result<T, String> {
    text.parse()
}

fn ids_arg(text: &str) -> Result<(u64, u64), String> {
    let bad = || format!("`{text}` is not an id range: use `FIRST-LAST`, such as `1-5000`");
    let (first, last) = text.split_once('-').ok_or_else(bad)?;
    let first: u64 = first.trim().parse().map_err(|_| bad())?;
    let last: u64 = last.trim().parse().map_err(|_| bad())?;
    if first > last {
        return Err(format!("`{text}`: the first id is larger than the last"));
    }
    Ok((first, last))
}

fn start_arg(text: &str) -> Result<crate::config::StartPosition, String> {
    text.parse()
}

/// The `config` tools.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the osticket-cdc configuration equivalent to the bfx-ost-streamer
    /// plugin's settings saved in osTicket's database; a `warning:` line on
    /// standard error for each setting that cannot be carried over.
    FromPlugin {
        /// osTicket's database: mysql://USER:PASSWORD@HOST:PORT/DATABASE.
        #[arg(long, env = "OSTICKET_CDC_SOURCE__URL", hide_env_values = true)]
        url: String,
        /// The password, instead of the URL's; through the environment it
        /// stays out of the process list.
        #[arg(long, env = "OSTICKET_CDC_SOURCE__PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// osTicket's table prefix.
        #[arg(long, default_value = "ost_")]
        prefix: String,
        /// The plugin's id in osTicket (namespace `plugin.<id>`); found when
        /// only one plugin holds bfx-ost-streamer settings.
        #[arg(long)]
        plugin_id: Option<u64>,
        /// The plugin instance on osTicket 1.17+ (`plugin.<id>.instance.<n>`).
        #[arg(long)]
        instance: Option<u64>,
    },
}

/// The sample ticket of `preview`; the defaults are the plugin's reference
/// ticket.
#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// The ticket's department id.
    #[arg(long, default_value_t = 1)]
    department_id: u64,
    /// The department's full name.
    #[arg(long, default_value = "Support")]
    department_name: String,
    /// The department's name as hex bytes, to try text that is not UTF-8
    /// (`537570ff`).
    #[arg(long, value_parser = hex_arg, conflicts_with = "department_name")]
    department_name_hex: Option<HexBytes>,
    /// No department row: `department_name` is null.
    #[arg(long, conflicts_with_all = ["department_name", "department_name_hex"])]
    no_department_name: bool,
    /// The ticket's help topic id.
    #[arg(long, default_value_t = 2)]
    topic_id: u64,
    /// The help topic's full name.
    #[arg(long, default_value = "Billing")]
    topic_label: String,
    /// No help topic: id 0, label null.
    #[arg(long, conflicts_with_all = ["topic_id", "topic_label"])]
    no_topic: bool,
    /// The ticket's `created`, YYYY-MM-DD HH:MM:SS.
    #[arg(long, default_value = "2024-01-02 03:04:05", value_parser = created_arg)]
    created: String,
    /// The ticket id.
    #[arg(long, default_value_t = 1)]
    ticket_id: u64,
    /// The ticket number.
    #[arg(long, default_value = "000001")]
    number: String,
    /// The ticket's source.
    #[arg(long, default_value = "Web")]
    source: String,
    /// The ticket's user id.
    #[arg(long, default_value_t = 1)]
    user_id: u64,
    /// The GTID of the ticket's transaction (for the `event_id` field).
    #[arg(long, default_value = "0-1-1")]
    gtid: String,
}

/// Bytes given as hex on the command line.
#[derive(Debug, Clone)]
pub struct HexBytes(Vec<u8>);

fn hex_arg(text: &str) -> Result<HexBytes, String> {
    preview::parse_hex(text).map(HexBytes)
}

fn created_arg(text: &str) -> Result<String, String> {
    preview::parse_created(text).map(|_| text.to_owned())
}

impl PreviewArgs {
    fn sample(self) -> SampleTicket {
        let department_name = match (self.no_department_name, self.department_name_hex) {
            (true, _) => None,
            (false, Some(HexBytes(bytes))) => Some(bytes),
            (false, None) => Some(self.department_name.into_bytes()),
        };
        let (topic_id, topic_label) = if self.no_topic {
            (0, None)
        } else {
            (self.topic_id, Some(self.topic_label))
        };
        SampleTicket {
            department_id: self.department_id,
            department_name,
            topic_id,
            topic_label,
            created: self.created,
            ticket_id: self.ticket_id,
            number: self.number,
            source: self.source,
            user_id: self.user_id,
            gtid: self.gtid,
        }
    }
}

/// Exit code: bad command line or configuration.
pub const EXIT_CONFIG: u8 = 2;
/// Exit code: the database is not ready for the connector.
pub const EXIT_PREREQUISITE: u8 = 3;
/// Exit code: the checkpoint is held by another process.
pub const EXIT_LOCKED: u8 = 4;
/// Exit code: `preview`'s configuration cannot serialize the sample ticket.
pub const EXIT_CANNOT_SERIALIZE: u8 = 5;
/// Exit code: `config from-plugin` found no plugin settings, or several.
pub const EXIT_PLUGIN_NOT_FOUND: u8 = 6;
/// Exit code: `doctor` found something that would stop the connector.
pub const EXIT_DOCTOR_FAILED: u8 = 7;
/// Exit code: `replay`'s range is not available (not delivered yet, older
/// than the kept history or the server's binlogs, or empty).
pub const EXIT_UNAVAILABLE: u8 = 8;
/// Exit code: stopped by a signal before the command finished.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Parses the command line, runs the command and returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            config,
            log_format,
            backfill_first,
        } => {
            init_logging(&log_format);
            let settings = match Settings::load(config.as_deref()) {
                Ok(settings) => settings,
                Err(e) => {
                    error!(error = %e, "configuration rejected");
                    eprintln!("osticket-cdc: {e}");
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            let mut settings = settings;
            settings.pipeline.backfill_first |= backfill_first;
            runtime().block_on(run(settings))
        }
        Command::Backfill {
            config,
            ids,
            since,
            sink,
            log_format,
        } => {
            init_logging(&log_format);
            let settings = match load_settings(config.as_deref()) {
                Ok(settings) => settings,
                Err(code) => return code,
            };
            let filter = TicketFilter { since, ids };
            runtime().block_on(backfill_command(settings, filter, sink))
        }
        Command::Preview { config, ticket } => preview(config, ticket),
        Command::Replay {
            config,
            from,
            to,
            sink,
            log_format,
        } => {
            init_logging(&log_format);
            let settings = match load_settings(config.as_deref()) {
                Ok(settings) => settings,
                Err(code) => return code,
            };
            runtime().block_on(replay_command(settings, from, to, sink))
        }
        Command::Checkpoint { config, command } => checkpoint(config, command),
        Command::Doctor { config } => doctor(config),
        Command::Config {
            command:
                ConfigCommand::FromPlugin {
                    url,
                    password,
                    prefix,
                    plugin_id,
                    instance,
                },
        } => {
            let selector = PluginSelector {
                plugin_id,
                instance,
            };
            from_plugin(&url, password, prefix, selector)
        }
    }
}

/// `checkpoint show` and `checkpoint reset`.
fn checkpoint(config: Option<PathBuf>, command: CheckpointCommand) -> ExitCode {
    let settings = match load_settings(config.as_deref()) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let runtime = current_thread_runtime();
    let result = runtime.block_on(async {
        match command {
            CheckpointCommand::Show => ops_checkpoint::show(&settings).await,
            CheckpointCommand::Reset { to, dry_run } => {
                ops_checkpoint::reset(&settings, &to, dry_run).await
            }
        }
    });
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("osticket-cdc: {e}");
            ExitCode::from(match e {
                CheckpointCommandError::Store(CheckpointError::Locked { .. }) => EXIT_LOCKED,
                CheckpointCommandError::Source(SourceError::Check(_)) => EXIT_PREREQUISITE,
                _ => 1,
            })
        }
    }
}

/// `doctor`: one line per check on standard output, a summary on standard
/// error.
fn doctor(config: Option<PathBuf>) -> ExitCode {
    let settings = match load_settings(config.as_deref()) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let runtime = current_thread_runtime();
    let mut out = std::io::stdout().lock();
    let result = runtime.block_on(doctor::run_doctor(&settings, config.as_deref(), &mut out));
    match result {
        Ok(summary) if summary.failures == 0 => {
            eprintln!(
                "osticket-cdc: {} OK, {} WARN: the connector can run",
                summary.ok, summary.warnings
            );
            ExitCode::SUCCESS
        }
        Ok(summary) => {
            eprintln!(
                "osticket-cdc: {} FAIL, {} WARN, {} OK: fix the FAIL lines before running the \
                 connector",
                summary.failures, summary.warnings, summary.ok
            );
            ExitCode::from(EXIT_DOCTOR_FAILED)
        }
        // The reader went away (`doctor | head`): nothing to report.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("osticket-cdc: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `preview`: nothing but the configuration is read.
fn preview(config: Option<PathBuf>, ticket: PreviewArgs) -> ExitCode {
    let settings = match load_settings(config.as_deref()) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let encoder = RecordEncoder::new(settings.output);
    let mut out = std::io::stdout().lock();
    let enabled = settings.tickets_creation_enabled;
    match preview::write_preview(&mut out, &encoder, enabled, &ticket.sample()) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`preview ... | head`): nothing to report.
        Err(PreviewError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            use std::io::Write;
            let _ = out.flush();
            eprintln!("osticket-cdc: {e}");
            match e {
                PreviewError::Serialize { .. } => ExitCode::from(EXIT_CANNOT_SERIALIZE),
                PreviewError::Io(_) => ExitCode::FAILURE,
            }
        }
    }
}

/// `config from-plugin`: the file on standard output, warnings on
/// standard error.
fn from_plugin(
    url: &str,
    password: Option<String>,
    prefix: String,
    selector: PluginSelector,
) -> ExitCode {
    let mut source = match SourceConfig::from_url(url) {
        Ok(source) => source,
        Err(e) => {
            eprintln!("osticket-cdc: --url: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if let Some(password) = password {
        source.password = Secret::new(password);
    }
    source.table_prefix = prefix;

    let runtime = current_thread_runtime();
    match runtime.block_on(from_plugin::convert_from_database(&source, url, selector)) {
        Ok(conversion) => {
            print!("{}", conversion.toml);
            for warning in &conversion.warnings {
                eprintln!("warning: {warning}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("osticket-cdc: {e}");
            ExitCode::from(match e {
                FromPluginError::Prefix { .. } => EXIT_CONFIG,
                FromPluginError::Source(_) => 1,
                FromPluginError::NoTable { .. }
                | FromPluginError::NotFound { .. }
                | FromPluginError::Ambiguous { .. } => EXIT_PLUGIN_NOT_FOUND,
            })
        }
    }
}

/// Logs go to standard error: standard output may be the record stream.
/// Colours only on a terminal, so a file, journald or `docker logs` gets
/// plain text; on a terminal, log lines go above the progress bars.
fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("OSTICKET_CDC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(crate::ops::progress::log_writer);
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

/// `replay`: a summary on standard error, records where `--sink` says.
async fn replay_command(
    settings: Settings,
    from: ReplayBound,
    to: ReplayBound,
    sink: ReplayTarget,
) -> ExitCode {
    let stop_rx = stop_on_signal();
    match replay::replay(&settings, &from, &to, &sink, stop_rx).await {
        Ok(summary) => {
            let numbers = match summary.first_sequence {
                Some(first) => format!(
                    " (sequence {first} to {})",
                    first + summary.records.saturating_sub(1)
                ),
                None => String::new(),
            };
            eprintln!(
                "replayed {} records{numbers}, read from {}",
                summary.records, summary.read_from
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("osticket-cdc: {e}");
            ExitCode::from(match e {
                ReplayError::Range(_) | ReplayError::Unavailable(_) => EXIT_UNAVAILABLE,
                ReplayError::Interrupted { .. } => EXIT_INTERRUPTED,
                ReplayError::Source(SourceError::Check(_) | SourceError::Schema(_)) => {
                    EXIT_PREREQUISITE
                }
                _ => 1,
            })
        }
    }
}

/// `backfill`: records where `--sink` says, a summary on standard error.
async fn backfill_command(
    settings: Settings,
    filter: TicketFilter,
    sink: ReplayTarget,
) -> ExitCode {
    let stop_rx = stop_on_signal();
    let progress = |len| crate::ops::progress::counter(len, "backfilling", "tickets");
    match ops_backfill::backfill(&settings, filter, &sink, stop_rx, &progress).await {
        Ok(summary) if summary.complete => {
            eprintln!(
                "backfilled {} of {} tickets from a consistent read at {}; to stream on from \
                 there: osticket-cdc checkpoint reset --to {}",
                summary.records, summary.selected, summary.position, summary.position
            );
            ExitCode::SUCCESS
        }
        Ok(summary) => {
            eprintln!(
                "backfill interrupted after {} of {} tickets",
                summary.records, summary.selected
            );
            ExitCode::from(EXIT_INTERRUPTED)
        }
        Err(e) => {
            eprintln!("osticket-cdc: {e}");
            ExitCode::from(exit_code(&e))
        }
    }
}

/// The configuration, or exit code 2 after saying why.
fn load_settings(config: Option<&std::path::Path>) -> Result<Settings, ExitCode> {
    Settings::load(config).map_err(|e| {
        eprintln!("osticket-cdc: {e}");
        ExitCode::from(EXIT_CONFIG)
    })
}

/// Turns true on the first SIGTERM or SIGINT; a second one exits at once
/// with 130. For the commands that stop between batches.
fn stop_on_signal() -> watch::Receiver<bool> {
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        let _ = stop_tx.send(true);
        wait_for_signal().await;
        std::process::exit(i32::from(EXIT_INTERRUPTED));
    });
    stop_rx
}

/// A single-threaded runtime for the commands that ask and answer.
fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime can be built")
}

/// A multi-threaded runtime for the commands that stream.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime can be built")
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
