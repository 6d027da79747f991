//! Configuration: a TOML file plus `OSTICKET_CDC_` environment overrides,
//! turned into validated [`Settings`] before anything starts.
//!
//! Raw values are read with the `config` crate into the `Raw*` structs
//! (unknown keys are errors, so a typo never passes silently), then checked
//! one key at a time. Every error names the key, the bad value and what is
//! allowed. Environment overrides use `__` for nesting:
//! `OSTICKET_CDC_SOURCE__URL` sets `source.url`.
//!
//! Sections are independent so later ones (metrics, TLS, the Beanstalk and
//! Firehose sinks, output formats) can be added without touching these.
//! Credentials live in [`Secret`], which never prints its value.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

mod output;
mod sink;
mod source;

use output::{RawTicketsCreation, validate_tickets_creation};
pub use sink::{Delimiter, SinkConfig};
use sink::{RawSink, validate_sink};
use source::{RawSource, validate_source};
pub use source::{SourceConfig, StartPosition, looks_like_instant, parse_instant, redact_url};

/// A configuration problem, with the key, the value and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read or parsed, or a value had the wrong type.
    #[error("cannot load configuration: {0}")]
    Load(String),
    /// A section's own check failed; the message names the key.
    #[error("invalid configuration: {0}")]
    Rejected(String),
    /// A value is of the right type but not allowed.
    #[error("invalid configuration: `{key}` = {value}: {allowed}")]
    Invalid {
        /// Dotted key, as in the file.
        key: &'static str,
        /// The offending value, quoted; credentials are never shown.
        value: String,
        /// What is allowed instead.
        allowed: String,
    },
}

fn invalid(key: &'static str, value: impl fmt::Display, allowed: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        value: format!("`{value}`"),
        allowed: allowed.into(),
    }
}

/// A credential: prints as `***` in `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The credential itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    #[serde(default)]
    source: RawSource,
    #[serde(default)]
    checkpoint: RawCheckpoint,
    #[serde(default)]
    sink: RawSink,
    #[serde(default)]
    pipeline: RawPipeline,
    #[serde(default)]
    helpdesk: RawHelpdesk,
    #[serde(default)]
    tickets_creation: RawTicketsCreation,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCheckpoint {
    dir: Option<PathBuf>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPipeline {
    max_batch_records: Option<u64>,
    linger_ms: Option<u64>,
    queue_transactions: Option<u64>,
    shutdown_timeout_secs: Option<u64>,
    backfill_first: Option<bool>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHelpdesk {
    code: Option<String>,
}

/// Everything the connector needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the binlog comes from.
    pub source: SourceConfig,
    /// Where positions are stored.
    pub checkpoint: CheckpointConfig,
    /// Where records go.
    pub sink: SinkConfig,
    /// Batching and queue sizes.
    pub pipeline: PipelineConfig,
    /// Whether ticket creations are emitted (`tickets_creation.enabled`).
    pub tickets_creation_enabled: bool,
    /// How records look: the plugin's serializers, encoder and record.
    pub output: crate::codec::OutputConfig,
}

/// The RocksDB checkpoint directory.
#[derive(Debug, Clone)]
pub struct CheckpointConfig {
    /// Directory of the store; created when missing.
    pub dir: PathBuf,
}

/// Batching between source and sink.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Most records handed to the sink at once.
    pub max_batch_records: usize,
    /// How long a batch waits for more records before it is sent.
    pub linger: Duration,
    /// Transactions buffered between the binlog reader and the sink.
    pub queue_transactions: usize,
    /// How long shutdown waits for the sink to take what was read.
    pub shutdown_timeout: Duration,
    /// On a first start (no checkpoint), emit every ticket already in the
    /// database before streaming (`run --backfill-first`).
    pub backfill_first: bool,
}

impl Settings {
    /// Loads `file` (when given) and the environment, then validates.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the key, the value and what is allowed.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with_env(file, std::env::vars())
    }

    /// As [`Settings::load`], with the environment given explicitly (tests).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the key, the value and what is allowed.
    pub fn load_with_env(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut builder = config::Config::builder();
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError::Load(format!(
                    "configuration file {} does not exist; pass an existing file to --config",
                    file.display()
                )));
            }
            builder = builder.add_source(config::File::from(file).format(config::FileFormat::Toml));
        }
        let env: config::Map<String, String> = env
            .into_iter()
            // Only SECTION__KEY names are settings: OSTICKET_CDC_CONFIG,
            // OSTICKET_CDC_LOG and the like configure other things.
            .filter(|(k, _)| {
                k.strip_prefix("OSTICKET_CDC_")
                    .is_some_and(|rest| rest.contains("__"))
            })
            .collect();
        let environment = config::Environment::with_prefix("OSTICKET_CDC")
            .prefix_separator("_")
            .separator("__")
            .try_parsing(true)
            .source(Some(env));
        let raw: RawSettings = builder
            .add_source(environment)
            .build()
            .and_then(config::Config::try_deserialize)
            .map_err(|e| ConfigError::Load(e.to_string()))?;
        Self::validate(raw)
    }

    fn validate(raw: RawSettings) -> Result<Self, ConfigError> {
        let helpdesk_code = validate_helpdesk_code(raw.helpdesk.code)?;
        let (tickets_creation_enabled, output) =
            validate_tickets_creation(raw.tickets_creation, helpdesk_code)?;
        Ok(Settings {
            source: validate_source(raw.source)?,
            checkpoint: CheckpointConfig {
                dir: raw
                    .checkpoint
                    .dir
                    .unwrap_or_else(|| PathBuf::from("osticket-cdc-state")),
            },
            sink: validate_sink(raw.sink)?,
            pipeline: validate_pipeline(raw.pipeline)?,
            tickets_creation_enabled,
            output,
        })
    }
}

fn validate_pipeline(raw: RawPipeline) -> Result<PipelineConfig, ConfigError> {
    let max_batch_records = raw.max_batch_records.unwrap_or(500);
    if !(1..=100_000).contains(&max_batch_records) {
        return Err(invalid(
            "pipeline.max_batch_records",
            max_batch_records,
            "from 1 to 100000",
        ));
    }
    let linger_ms = raw.linger_ms.unwrap_or(5);
    if linger_ms > 60_000 {
        return Err(invalid(
            "pipeline.linger_ms",
            linger_ms,
            "from 0 to 60000 milliseconds",
        ));
    }
    let queue_transactions = raw.queue_transactions.unwrap_or(1024);
    if !(1..=1_000_000).contains(&queue_transactions) {
        return Err(invalid(
            "pipeline.queue_transactions",
            queue_transactions,
            "from 1 to 1000000",
        ));
    }
    let shutdown_timeout_secs = raw.shutdown_timeout_secs.unwrap_or(30);
    if !(1..=3600).contains(&shutdown_timeout_secs) {
        return Err(invalid(
            "pipeline.shutdown_timeout_secs",
            shutdown_timeout_secs,
            "from 1 to 3600 seconds",
        ));
    }
    Ok(PipelineConfig {
        max_batch_records: max_batch_records as usize,
        linger: Duration::from_millis(linger_ms),
        queue_transactions: queue_transactions as usize,
        shutdown_timeout: Duration::from_secs(shutdown_timeout_secs),
        backfill_first: raw.backfill_first.unwrap_or(false),
    })
}

/// The plugin's rule: empty, or 1 to 8 characters, a letter first, then
/// letters, digits, `-` or `_`.
fn validate_helpdesk_code(code: Option<String>) -> Result<String, ConfigError> {
    let code = code.unwrap_or_default();
    let mut chars = code.chars();
    let ok = match chars.next() {
        None => true,
        Some(first) => {
            first.is_ascii_alphabetic()
                && code.len() <= 8
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        }
    };
    if !ok {
        return Err(invalid(
            "helpdesk.code",
            &code,
            "empty, or 1 to 8 characters: a letter, then letters, digits, `-` or `_`",
        ));
    }
    Ok(code)
}

#[cfg(test)]
mod tests;
