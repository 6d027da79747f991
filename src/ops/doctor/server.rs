//! The checks of `doctor` that only it makes against the database: the
//! server's version, the replicas registered with it, and the checkpoint's
//! binlog against what the server keeps.

use mysql_async::Conn;
use mysql_async::prelude::Queryable;

use super::local::{LockHolder, human_duration, now};
use crate::checkpoint::Checkpoint;
use crate::config::SourceConfig;
use crate::source::checks::Finding;
use crate::source::connect::Flavor;
use crate::source::{BinlogPosition, SourceError};

/// A remaining retention margin below this is a WARN.
const RETENTION_MARGIN_SECS: u64 = 24 * 3600;

/// The server's flavour and version; MySQL 8.0+ and MariaDB 10.5+ are
/// supported, older ones get a WARN.
pub(super) async fn server_finding(
    conn: &mut Conn,
    source: &SourceConfig,
) -> Result<(Flavor, Finding), SourceError> {
    let row: Option<(String, u32)> = conn
        .query_first("SELECT VERSION(), @@server_id")
        .await
        .map_err(SourceError::from_mysql)?;
    let (version, server_id) = row.unwrap_or_default();
    let flavor = if version.to_ascii_lowercase().contains("mariadb") {
        Flavor::MariaDb
    } else {
        Flavor::MySql
    };
    let (name, minimum) = match flavor {
        Flavor::MariaDb => ("MariaDB", (10, 5)),
        Flavor::MySql => ("MySQL", (8, 0)),
    };
    let number = version.split('-').next().unwrap_or_default();
    let mut parts = number.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let major_minor = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    let at = format!(
        "{name} {number} at {}:{} (its server_id {server_id})",
        source.host, source.port
    );
    let finding = if major_minor >= minimum {
        Finding::ok("server", at)
    } else {
        Finding::warn(
            "server",
            format!(
                "{at}: older than the supported {name} {}.{}+ (tested with MariaDB 10.11 and \
                 MySQL 9.7); upgrade the server",
                minimum.0, minimum.1
            ),
        )
    };
    Ok((flavor, finding))
}

/// Replicas registered with the server, and whether one uses our id. Two
/// binlog readers with one id take turns disconnecting each other: the
/// server drops the older connection whenever a new one registers.
pub(super) async fn check_server_id(
    conn: &mut Conn,
    flavor: Flavor,
    source: &SourceConfig,
    holder: Option<&LockHolder>,
) -> Result<Finding, SourceError> {
    let id = source.server_id;
    let own: Option<u32> = conn
        .query_first("SELECT @@server_id")
        .await
        .map_err(SourceError::from_mysql)?;
    if own == Some(id) {
        let free = free_server_id(id, &[id]);
        return Ok(Finding::warn(
            "server_id",
            format!(
                "source.server_id = {id} is the server's own server_id; reading works, but ids \
                 should be unique among the servers and replicas of a replication topology: \
                 set source.server_id = {free} (or another id no replica uses)"
            ),
        ));
    }
    let statements: &[&str] = match flavor {
        Flavor::MariaDb => &["SHOW SLAVE HOSTS"],
        Flavor::MySql => &["SHOW REPLICAS", "SHOW SLAVE HOSTS"],
    };
    let mut replicas = None;
    let mut last_error = None;
    for statement in statements {
        match conn.query::<mysql_async::Row, _>(*statement).await {
            Ok(rows) => {
                replicas = Some(rows);
                break;
            }
            // A spelling this version does not know (1064) says less than
            // the refusal of the one it knows.
            Err(e) => match SourceError::from_mysql(e) {
                SourceError::Server { code: 1064, .. } if last_error.is_some() => {}
                error => last_error = Some(error),
            },
        }
    }
    let replicas: Vec<(u32, String)> = match (replicas, last_error) {
        (Some(rows), _) => rows
            .iter()
            .filter_map(|row| Some((row.get::<u32, _>(0)?, row.get::<String, _>(1)?)))
            .collect(),
        (
            None,
            Some(SourceError::Server {
                code: 1227,
                message,
            }),
        ) => {
            let grant = match flavor {
                Flavor::MariaDb => "REPLICATION MASTER ADMIN",
                Flavor::MySql => "REPLICATION SLAVE",
            };
            return Ok(Finding::warn(
                "server_id",
                format!(
                    "cannot list the server's replicas ({message}); make sure no other replica \
                     or osticket-cdc uses source.server_id = {id}, or GRANT {grant} ON *.* TO \
                     the connector's user so that doctor can check"
                ),
            ));
        }
        (None, Some(other)) => return Err(other),
        (None, None) => Vec::new(),
    };

    let mut used: Vec<u32> = replicas.iter().map(|(r, _)| *r).collect();
    used.extend(own);
    let listing = if replicas.is_empty() {
        "no replica is registered".to_owned()
    } else {
        let list: Vec<String> = replicas
            .iter()
            .map(|(r, host)| format!("{r} from {}", host_text(host)))
            .collect();
        format!("registered replicas: {}", list.join(", "))
    };
    let free = free_server_id(id, &used);
    let same: Vec<&String> = replicas
        .iter()
        .filter(|(r, _)| *r == id)
        .map(|(_, h)| h)
        .collect();
    Ok(match (same.as_slice(), holder) {
        ([], _) => Finding::ok("server_id", format!("{id} is not in use ({listing})")),
        ([host], Some(holder)) => Finding::ok(
            "server_id",
            format!(
                "{id} is registered from {}, taken to be the osticket-cdc that holds \
                 checkpoint.dir ({}); {listing}",
                host_text(host),
                holder.describe()
            ),
        ),
        (hosts, _) => Finding::fail(
            "server_id",
            format!(
                "source.server_id = {id} is used by a replica connected from {}; two binlog \
                 readers with the same server_id make the server disconnect one whenever the \
                 other connects, again and again: set source.server_id = {free}, an id no \
                 replica uses ({listing}; the server's own is {}). An osticket-cdc that \
                 stopped moments ago stays registered until the server notices, within two \
                 heartbeats (source.heartbeat_secs): if that is the one, run doctor again",
                hosts
                    .iter()
                    .map(|h| host_text(h))
                    .collect::<Vec<_>>()
                    .join(", "),
                own.map_or("unknown".to_owned(), |o| o.to_string()),
            ),
        ),
    })
}

/// A replica's reported host; MySQL leaves it empty for clients that do
/// not report one, as osticket-cdc.
fn host_text(host: &str) -> &str {
    if host.is_empty() {
        "an unreported host"
    } else {
        host
    }
}

/// The next id after `wanted` that nothing uses (0 is not a valid id).
fn free_server_id(wanted: u32, used: &[u32]) -> u32 {
    let mut id = wanted;
    loop {
        id = id.wrapping_add(1);
        if id != 0 && !used.contains(&id) {
            return id;
        }
    }
}

/// The checkpoint's binlog file must still be on the server; when it is
/// not, the same message as `run` gives.
pub(super) async fn check_checkpoint_binlog(
    conn: &mut Conn,
    position: &BinlogPosition,
) -> Result<Finding, SourceError> {
    if position.file.is_empty() {
        return Ok(Finding::ok(
            "checkpoint binlog",
            "the checkpoint holds a GTID set only; the server finds its binlog",
        ));
    }
    let rows: Vec<mysql_async::Row> = conn
        .query("SHOW BINARY LOGS")
        .await
        .map_err(SourceError::from_mysql)?;
    let files: Vec<String> = rows.iter().filter_map(|r| r.get(0)).collect();
    let oldest = files.first().cloned().unwrap_or_default();
    Ok(if files.contains(&position.file) {
        Finding::ok(
            "checkpoint binlog",
            format!(
                "{} (checkpoint {position}) is on the server; its oldest binlog is {oldest}",
                position.file
            ),
        )
    } else {
        let purged = SourceError::Purged {
            position: position.to_string(),
            message: format!("{} is not among its binary logs", position.file),
            oldest,
        };
        Finding::fail("checkpoint binlog", purged.to_string())
    })
}

/// How long the server keeps binlogs, against the checkpoint's age.
pub(super) async fn check_retention(
    conn: &mut Conn,
    checkpoint: Option<&Checkpoint>,
    holder: Option<&LockHolder>,
) -> Finding {
    const CHECK: &str = "binlog retention";
    // Either may be missing: MySQL 8.4 dropped expire_logs_days, MariaDB
    // before 10.6 has no binlog_expire_logs_seconds.
    let seconds: Option<u64> = conn
        .query_first("SELECT @@global.binlog_expire_logs_seconds")
        .await
        .ok()
        .flatten();
    let days: Option<f64> = conn
        .query_first("SELECT CAST(@@global.expire_logs_days AS DOUBLE)")
        .await
        .ok()
        .flatten();
    let (retention, setting) = match (seconds, days) {
        (Some(s), _) if s > 0 => (Some(s), format!("binlog_expire_logs_seconds = {s}")),
        (_, Some(d)) if d > 0.0 => (
            Some((d * 86_400.0) as u64),
            format!("expire_logs_days = {d}"),
        ),
        _ => (None, "binlog_expire_logs_seconds = 0".to_owned()),
    };
    let Some(retention) = retention else {
        return Finding::ok(
            CHECK,
            format!("binlogs are kept until purged by hand ({setting})"),
        );
    };
    let kept = format!(
        "binlogs are kept for {} ({setting})",
        human_duration(retention)
    );
    let Some(timestamp) = checkpoint
        .map(|c| u64::from(c.timestamp))
        .filter(|&t| t > 0)
    else {
        return Finding::ok(CHECK, format!("{kept}; no delivery checkpointed yet"));
    };

    let age = now().saturating_sub(timestamp);
    let margin = retention.saturating_sub(age);
    let facts = format!(
        "{kept}; the checkpoint's last delivery is {} old",
        human_duration(age)
    );
    if let Some(holder) = holder {
        return Finding::ok(
            CHECK,
            format!(
                "{facts}; a connector is running on it ({}), so the age is the time since the \
                 last transaction it delivered",
                holder.describe()
            ),
        );
    }
    if margin < RETENTION_MARGIN_SECS {
        let raise = retention.max(age) + 7 * 86_400;
        Finding::warn(
            CHECK,
            format!(
                "{facts}: {} left before the server may purge its binlog, after which the \
                 connector cannot resume; start the connector, or keep binlogs longer: SET \
                 GLOBAL binlog_expire_logs_seconds = {raise} and set it in the server's \
                 configuration",
                human_duration(margin)
            ),
        )
    } else {
        Finding::ok(
            CHECK,
            format!("{facts}: {} of margin", human_duration(margin)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_server_id_skips_used_ids_and_zero() {
        assert_eq!(free_server_id(4242, &[]), 4243);
        assert_eq!(free_server_id(7, &[8, 9, 1]), 10);
        assert_eq!(free_server_id(u32::MAX, &[1]), 2);
    }
}
