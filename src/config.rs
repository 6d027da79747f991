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

use crate::source::{BinlogPosition, GtidSet};

/// A configuration problem, with the key, the value and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read or parsed, or a value had the wrong type.
    #[error("cannot load configuration: {0}")]
    Load(String),
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
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSource {
    url: Option<String>,
    password: Option<String>,
    server_id: Option<u64>,
    table_prefix: Option<String>,
    start: Option<String>,
    heartbeat_secs: Option<u64>,
    connect_timeout_secs: Option<u64>,
    reconnect_max_backoff_secs: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCheckpoint {
    dir: Option<PathBuf>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSink {
    #[serde(rename = "type")]
    kind: Option<String>,
    path: Option<PathBuf>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPipeline {
    max_batch_records: Option<u64>,
    linger_ms: Option<u64>,
    queue_transactions: Option<u64>,
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
    /// The helpdesk code written into every record (`""` when unset).
    pub helpdesk_code: String,
}

/// Connection to the osTicket database and how to follow its binlog.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// User with REPLICATION SLAVE, REPLICATION CLIENT and SELECT.
    pub user: String,
    /// That user's password.
    pub password: Secret,
    /// osTicket's database.
    pub database: String,
    /// The replica id the connector registers with; unique among replicas.
    pub server_id: u32,
    /// osTicket's table prefix, ending in `_`.
    pub table_prefix: String,
    /// Where to start when there is no checkpoint.
    pub start: StartPosition,
    /// Heartbeat period asked of the server; silence for three periods
    /// means the connection is dead.
    pub heartbeat: Duration,
    /// Timeout for connecting.
    pub connect_timeout: Duration,
    /// Upper bound of the reconnect backoff.
    pub reconnect_max_backoff: Duration,
}

/// Where to start reading when no checkpoint exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartPosition {
    /// The server's current end: only tickets created from now on.
    Latest,
    /// The oldest binlog the server still has.
    Earliest,
    /// An explicit `FILE:POS`.
    Position(BinlogPosition),
    /// A GTID set: start after these transactions.
    Gtid(GtidSet),
}

/// The RocksDB checkpoint directory.
#[derive(Debug, Clone)]
pub struct CheckpointConfig {
    /// Directory of the store; created when missing.
    pub dir: PathBuf,
}

/// Where records are delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkConfig {
    /// One record per line on standard output.
    Stdout,
    /// One record per line appended to a file, exactly once.
    File {
        /// The file.
        path: PathBuf,
    },
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
            helpdesk_code: validate_helpdesk_code(raw.helpdesk.code)?,
        })
    }
}

fn validate_source(raw: RawSource) -> Result<SourceConfig, ConfigError> {
    let url = raw.url.ok_or_else(|| {
        invalid(
            "source.url",
            "(missing)",
            "set it to mysql://USER:PASSWORD@HOST:PORT/DATABASE \
             (or OSTICKET_CDC_SOURCE__URL)",
        )
    })?;
    let parsed = parse_mysql_url(&url)?;
    let password = raw.password.map(Secret::new).unwrap_or(parsed.password);

    let server_id = raw.server_id.unwrap_or(4242);
    if server_id == 0 || server_id > u64::from(u32::MAX) {
        return Err(invalid(
            "source.server_id",
            server_id,
            "a replica id from 1 to 4294967295, unique among the server's replicas",
        ));
    }

    let table_prefix = raw.table_prefix.unwrap_or_else(|| "ost_".to_owned());
    let prefix_ok = !table_prefix.is_empty()
        && table_prefix.len() <= 32
        && table_prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if !prefix_ok {
        return Err(invalid(
            "source.table_prefix",
            &table_prefix,
            "osTicket's table prefix: letters, digits and `_`, such as `ost_`",
        ));
    }

    let start = parse_start(raw.start.as_deref().unwrap_or("latest"))?;
    let heartbeat = secs(
        "source.heartbeat_secs",
        raw.heartbeat_secs.unwrap_or(10),
        1,
        3600,
    )?;
    let connect_timeout = secs(
        "source.connect_timeout_secs",
        raw.connect_timeout_secs.unwrap_or(10),
        1,
        600,
    )?;
    let reconnect_max_backoff = secs(
        "source.reconnect_max_backoff_secs",
        raw.reconnect_max_backoff_secs.unwrap_or(30),
        1,
        3600,
    )?;

    Ok(SourceConfig {
        host: parsed.host,
        port: parsed.port,
        user: parsed.user,
        password,
        database: parsed.database,
        server_id: server_id as u32,
        table_prefix,
        start,
        heartbeat,
        connect_timeout,
        reconnect_max_backoff,
    })
}

fn secs(key: &'static str, value: u64, min: u64, max: u64) -> Result<Duration, ConfigError> {
    if value < min || value > max {
        return Err(invalid(
            key,
            value,
            format!("a number of seconds from {min} to {max}"),
        ));
    }
    Ok(Duration::from_secs(value))
}

/// Parses `source.start`: `latest`, `earliest`, `FILE:POS` or a GTID set.
fn parse_start(text: &str) -> Result<StartPosition, ConfigError> {
    let allowed = "`latest`, `earliest`, a binlog position FILE:POS \
                   (mysql-bin.000042:4) or a GTID set (0-1-100, or UUID:1-100)";
    match text.trim() {
        "latest" => return Ok(StartPosition::Latest),
        "earliest" => return Ok(StartPosition::Earliest),
        _ => {}
    }
    let looks_like_uuid = text.split(':').next().is_some_and(|head| head.len() == 36);
    if text.contains(':') && !looks_like_uuid {
        return text
            .parse()
            .map(StartPosition::Position)
            .map_err(|_| invalid("source.start", text, allowed));
    }
    match text.parse::<GtidSet>() {
        Ok(set) if !set.is_empty() => Ok(StartPosition::Gtid(set)),
        _ => Err(invalid("source.start", text, allowed)),
    }
}

struct MysqlUrl {
    host: String,
    port: u16,
    user: String,
    password: Secret,
    database: String,
}

/// Parses `mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE`. The error never
/// repeats the password.
fn parse_mysql_url(url: &str) -> Result<MysqlUrl, ConfigError> {
    let shape = "mysql://USER:PASSWORD@HOST:PORT/DATABASE";
    let Some(rest) = url
        .strip_prefix("mysql://")
        .or_else(|| url.strip_prefix("mariadb://"))
    else {
        return Err(invalid(
            "source.url",
            redact_url(url),
            format!("expected {shape}"),
        ));
    };
    let (credentials, location) = rest.rsplit_once('@').unwrap_or(("", rest));
    let (user, password) = credentials.split_once(':').unwrap_or((credentials, ""));
    let (authority, database) = location.split_once('/').unwrap_or((location, ""));
    let database = database.split('?').next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => {
            let port = port.parse::<u16>().map_err(|_| {
                invalid(
                    "source.url",
                    redact_url(url),
                    "the port must be a number from 1 to 65535",
                )
            })?;
            (host, port)
        }
        None => (authority, 3306),
    };
    if user.is_empty() || host.is_empty() || database.is_empty() {
        return Err(invalid(
            "source.url",
            redact_url(url),
            format!("expected {shape}: user, host and database are required"),
        ));
    }
    Ok(MysqlUrl {
        host: host.to_owned(),
        port,
        user: percent_decode(user),
        password: Secret::new(percent_decode(password)),
        database: percent_decode(database),
    })
}

/// The URL with its password replaced by `***`, for error messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(not a URL)".to_owned();
    };
    match rest.rsplit_once('@') {
        Some((credentials, location)) => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{location}")
        }
        None => url.to_owned(),
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn validate_sink(raw: RawSink) -> Result<SinkConfig, ConfigError> {
    match raw.kind.as_deref().unwrap_or("stdout") {
        "stdout" => Ok(SinkConfig::Stdout),
        "file" => {
            let path = raw.path.ok_or_else(|| {
                invalid(
                    "sink.path",
                    "(missing)",
                    "set the file to append records to",
                )
            })?;
            Ok(SinkConfig::File { path })
        }
        other => Err(invalid(
            "sink.type",
            other,
            "`stdout` or `file` (Beanstalk and Firehose come with issue #4)",
        )),
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
    Ok(PipelineConfig {
        max_batch_records: max_batch_records as usize,
        linger: Duration::from_millis(linger_ms),
        queue_transactions: queue_transactions as usize,
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
