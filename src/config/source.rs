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
    /// An instant in UTC seconds since 1970 (given as RFC 3339 text): start
    /// just before the first transaction, in binlog order, whose event time
    /// is at or after it.
    Time(u64),
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

/// Parses `source.start`: `latest`, `earliest`, `FILE:POS`, a GTID set or an
/// RFC 3339 instant.
fn parse_start(text: &str) -> Result<StartPosition, ConfigError> {
    text.parse()
        .map_err(|allowed: String| invalid("source.start", text, allowed))
}

impl std::str::FromStr for StartPosition {
    /// What is allowed instead.
    type Err = String;

    /// `latest`, `earliest`, `FILE:POS`, a GTID set or an RFC 3339 instant.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let allowed = || {
            "`latest`, `earliest`, a binlog position FILE:POS (mysql-bin.000042:4), a GTID \
             set (0-1-100, or UUID:1-100) or an RFC 3339 instant (2026-12-03T10:00:00Z)"
                .to_owned()
        };
        match text.trim() {
            "latest" => return Ok(StartPosition::Latest),
            "earliest" => return Ok(StartPosition::Earliest),
            _ => {}
        }
        // Before the position: an instant has `:` too. A MariaDB GTID set
        // such as `2026-12-03` has no `T` after the date.
        if looks_like_instant(text.trim()) {
            return parse_instant(text.trim()).map(StartPosition::Time);
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

/// The form [`parse_instant`] expects, for error messages.
const INSTANT_FORM: &str = "an RFC 3339 instant: the date, `T`, the time and `Z` or an offset, \
     such as 2026-12-03T10:00:00Z or 2026-12-03T11:00:00+01:00 (fractional seconds allowed)";

/// True for text that starts like an RFC 3339 instant: `YYYY-MM-DDT`.
pub fn looks_like_instant(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && matches!(b.get(10), Some(b'T' | b't'))
}

/// An RFC 3339 instant (`2026-12-03T10:00:00Z`, `2026-12-03T11:00:00+01:00`,
/// `2026-12-03T10:00:00.250Z`) as UTC seconds since 1970.
///
/// A fraction of a second is dropped: binlog event times are whole seconds,
/// so a transaction stamped with the instant's own second counts as at or
/// after it (the lookup may start up to a second early, never late).
///
/// # Errors
///
/// A text naming the value and the expected form, for an instant that does
/// not parse, lies before 1970, or lies after 2106-02-07T06:28:15Z (the last
/// second a binlog event header can hold).
pub fn parse_instant(text: &str) -> Result<u64, String> {
    use time::format_description::well_known::Rfc3339;
    let parsed = time::OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| format!("`{text}` is not {INSTANT_FORM}: {e}"))?;
    let secs = parsed.unix_timestamp();
    if secs < 0 || secs > i64::from(u32::MAX) {
        return Err(format!(
            "`{text}` is outside the times a binlog can hold (1970-01-01T00:00:00Z to \
             2106-02-07T06:28:15Z); expected {INSTANT_FORM}"
        ));
    }
    Ok(secs as u64)
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

#[cfg(test)]
mod instant_tests {
    use super::*;

    #[test]
    fn instants_parse_to_utc_seconds() {
        // 2026-12-03T10:00:00Z, checked with `date -u -d ... +%s`.
        let ten = 1_796_292_000;
        assert_eq!(parse_instant("2026-12-03T10:00:00Z"), Ok(ten));
        assert_eq!(parse_instant("2026-12-03T11:00:00+01:00"), Ok(ten));
        assert_eq!(parse_instant("2026-12-03T04:30:00-05:30"), Ok(ten));
        assert_eq!(parse_instant("2026-12-03t10:00:00z"), Ok(ten));
        // The fraction is dropped, never rounded up.
        assert_eq!(parse_instant("2026-12-03T10:00:00.999Z"), Ok(ten));
        assert_eq!(parse_instant("2026-12-03T10:00:01.000000001Z"), Ok(ten + 1));
        assert_eq!(parse_instant("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(
            parse_instant("2106-02-07T06:28:15Z"),
            Ok(u64::from(u32::MAX))
        );
    }

    #[test]
    fn bad_instants_name_the_value_and_the_form() {
        for bad in [
            "2026-12-03T10:00:00",
            "2026-12-03T10:00Z",
            "2026-13-03T10:00:00Z",
            "2026-02-30T10:00:00Z",
            "2026-12-03T25:00:00Z",
            "2026-12-03T10:00:00+1",
            "2026-12-03Tnoon",
        ] {
            let error = parse_instant(bad).unwrap_err();
            assert!(
                error.contains(&format!("`{bad}`")) && error.contains("2026-12-03T10:00:00Z"),
                "{bad}: {error}"
            );
        }
        let early = parse_instant("1969-12-31T23:59:59Z").unwrap_err();
        assert!(early.contains("outside"), "{early}");
        let late = parse_instant("2106-02-07T06:28:16Z").unwrap_err();
        assert!(late.contains("outside"), "{late}");
    }

    #[test]
    fn start_positions_tell_instants_from_gtids_and_positions() {
        assert_eq!(
            "2026-12-03T10:00:00Z".parse::<StartPosition>(),
            Ok(StartPosition::Time(1_796_292_000))
        );
        // A MariaDB GTID whose domain looks like a year is still a GTID.
        assert!(matches!(
            "2026-12-03".parse::<StartPosition>(),
            Ok(StartPosition::Gtid(_))
        ));
        assert!(matches!(
            "mysql-bin.000002:4".parse::<StartPosition>(),
            Ok(StartPosition::Position(_))
        ));
        let error = "2026-12-03T10:00:00".parse::<StartPosition>().unwrap_err();
        assert!(error.contains("RFC 3339"), "{error}");
        let error = validate_source(RawSource {
            url: Some("mysql://u@h/db".into()),
            start: Some("2026-12-03T10:00".into()),
            ..RawSource::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("source.start") && error.contains("2026-12-03T10:00"),
            "{error}"
        );
    }
}
