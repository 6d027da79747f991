//! The `[source]` section: osTicket's database and how to follow its binlog.
//!
//! The URL is parsed here rather than by the driver so that errors can name
//! `source.url` and never repeat the password.

use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, Secret, invalid};
use crate::source::{BinlogPosition, GtidSet};

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    url: Option<String>,
    password: Option<String>,
    server_id: Option<u64>,
    table_prefix: Option<String>,
    start: Option<String>,
    heartbeat_secs: Option<u64>,
    connect_timeout_secs: Option<u64>,
    reconnect_max_backoff_secs: Option<u64>,
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

impl SourceConfig {
    /// The connection a `mysql://USER:PASSWORD@HOST:PORT/DATABASE` URL
    /// names, every other `[source]` key at its default: for commands that
    /// only query the database (`config from-plugin`).
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] naming `source.url`, without the password.
    pub fn from_url(url: &str) -> Result<Self, ConfigError> {
        validate_source(RawSource {
            url: Some(url.to_owned()),
            ..RawSource::default()
        })
    }
}

pub(super) fn validate_source(raw: RawSource) -> Result<SourceConfig, ConfigError> {
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
    text.parse()
        .map_err(|allowed: String| invalid("source.start", text, allowed))
}

impl std::str::FromStr for StartPosition {
    /// What is allowed instead.
    type Err = String;

    /// `latest`, `earliest`, `FILE:POS` or a GTID set.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let allowed = || {
            "`latest`, `earliest`, a binlog position FILE:POS (mysql-bin.000042:4) or a GTID \
             set (0-1-100, or UUID:1-100)"
                .to_owned()
        };
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
                .map_err(|_| allowed());
        }
        match text.parse::<GtidSet>() {
            Ok(set) if !set.is_empty() => Ok(StartPosition::Gtid(set)),
            _ => Err(allowed()),
        }
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
