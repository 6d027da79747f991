//! The first start: one consistent read of the department and help-topic
//! tables, and the binlog position that read corresponds to exactly.
//!
//! - MariaDB: `START TRANSACTION WITH CONSISTENT SNAPSHOT` and the status
//!   variables `binlog_snapshot_file` / `binlog_snapshot_position`, which the
//!   server fixes at the same instant as the snapshot. No lock at all.
//! - MySQL: `LOCK TABLES ... READ` on the two name tables only (osTicket
//!   writes them a few times a year), the binlog position, the read, and
//!   `UNLOCK TABLES`: tickets and every other table stay writable, and the
//!   lock lasts one read of two small tables.
//!
//! Either way no change to the two tables falls between the read and the
//! position: none is missed and none applied twice.

use mysql_async::Conn;
use mysql_async::prelude::Queryable;

use tracing::{info, warn};

use super::connect::{Flavor, binlog_end, oldest_binlog};
use super::schema::TableNames;
use super::timeline::{first_at_or_after_on, first_not_in};
use super::{BinlogPosition, DirectoryKind, DirectoryRow, GtidSet, SourceError};
use crate::config::StartPosition;

/// The department and help-topic rows at a binlog position.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The position the rows are consistent with.
    pub position: BinlogPosition,
    /// GTID state at `position`.
    pub gtid_state: GtidSet,
    /// Every department and help-topic row.
    pub rows: Vec<(DirectoryKind, DirectoryRow)>,
}

/// Reads the two tables consistently with a binlog position.
///
/// # Errors
///
/// Query failures (a missing `LOCK TABLES` grant on MySQL is named).
pub async fn take_snapshot(
    conn: &mut Conn,
    flavor: Flavor,
    names: &TableNames,
) -> Result<Snapshot, SourceError> {
    match flavor {
        Flavor::MariaDb => {
            conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT")
                .await
                .map_err(SourceError::from_mysql)?;
            let position = mariadb_snapshot_position(conn).await?;
            let rows = read_rows(conn, names).await?;
            conn.query_drop("COMMIT")
                .await
                .map_err(SourceError::from_mysql)?;
            let gtid_state = mariadb_gtid_at(conn, &position).await?;
            Ok(Snapshot {
                position,
                gtid_state,
                rows,
            })
        }
        Flavor::MySql => {
            let lock = format!(
                "LOCK TABLES `{}` READ, `{}` READ",
                names.department, names.topic
            );
            conn.query_drop(lock)
                .await
                .map_err(|e| match SourceError::from_mysql(e) {
                    SourceError::Server {
                        code: 1044 | 1142,
                        message,
                    } => SourceError::Check(format!(
                        "cannot take the first snapshot: {message}; GRANT LOCK TABLES ON `{}`.* to \
                     the connector's user (it locks the department and help-topic tables for \
                     one short read)",
                        names.database
                    )),
                    other => other,
                })?;
            let result = async {
                let (position, gtid) = binlog_end(conn, flavor).await?;
                let rows = read_rows(conn, names).await?;
                Ok::<_, SourceError>((position, gtid, rows))
            }
            .await;
            conn.query_drop("UNLOCK TABLES")
                .await
                .map_err(SourceError::from_mysql)?;
            let (position, gtid, rows) = result?;
            let gtid_state = gtid.parse().unwrap_or_default();
            Ok(Snapshot {
                position,
                gtid_state,
                rows,
            })
        }
    }
}

/// Where `source.start` points when there is no checkpoint, and the GTID
/// state there. `Latest` is the snapshot's own position; so is an instant
/// later than every transaction on the server. An instant, and a GTID set on
/// MySQL, are looked up in the binlog ([`super::timeline`]).
///
/// # Errors
///
/// Query failures.
pub async fn resolve_start(
    conn: &mut Conn,
    flavor: Flavor,
    start: &StartPosition,
    snapshot: &Snapshot,
) -> Result<(BinlogPosition, GtidSet), SourceError> {
    match start {
        StartPosition::Latest => Ok((snapshot.position.clone(), snapshot.gtid_state.clone())),
        StartPosition::Earliest => {
            let position = BinlogPosition::new(oldest_binlog(conn).await?, 4);
            let gtid = match flavor {
                Flavor::MariaDb => mariadb_gtid_at(conn, &position).await?,
                Flavor::MySql => GtidSet::Empty,
            };
            Ok((position, gtid))
        }
        StartPosition::Position(position) => {
            let gtid = match flavor {
                Flavor::MariaDb => mariadb_gtid_at(conn, position).await.unwrap_or_default(),
                Flavor::MySql => GtidSet::Empty,
            };
            Ok((position.clone(), gtid))
        }
        StartPosition::Gtid(set) => match flavor {
            // An empty file name makes the reader connect by GTID
            // (`@slave_connect_state`); the server finds the position.
            Flavor::MariaDb => Ok((BinlogPosition::new("", 4), set.clone())),
            // MySQL's reader starts at a file and position: the first
            // transaction the set does not hold, or the end.
            Flavor::MySql => {
                let hidden = indicatif::ProgressBar::hidden();
                match first_not_in(conn, flavor, set, &hidden).await? {
                    Some(point) => Ok((point.position, point.gtid_state)),
                    None => Ok((snapshot.position.clone(), snapshot.gtid_state.clone())),
                }
            }
        },
        StartPosition::Time(at) => {
            let hidden = indicatif::ProgressBar::hidden();
            match first_at_or_after_on(conn, flavor, *at, &hidden).await? {
                Some(point) => {
                    if point.before_oldest {
                        warn!(at_secs = at, oldest = %point.position,
                            "source.start lies before the oldest binlog the server has: \
                             starting there; older transactions were purged");
                    }
                    info!(at_secs = at, position = %point.position, gtid = %point.gtid_state,
                        timestamp = point.timestamp,
                        "source.start: first transaction at or after the instant");
                    Ok((point.position, point.gtid_state))
                }
                None => {
                    info!(at_secs = at, position = %snapshot.position,
                        "source.start: no transaction that late; starting at the binlog's end");
                    Ok((snapshot.position.clone(), snapshot.gtid_state.clone()))
                }
            }
        }
    }
}

/// The binlog position MariaDB fixed for the consistent snapshot this
/// connection's transaction holds (`binlog_snapshot_file`/`_position`).
pub(crate) async fn mariadb_snapshot_position(
    conn: &mut Conn,
) -> Result<BinlogPosition, SourceError> {
    let status: Vec<(String, String)> = conn
        .query("SHOW STATUS LIKE 'binlog_snapshot_%'")
        .await
        .map_err(SourceError::from_mysql)?;
    let value = |name: &str| {
        status
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let file = value("binlog_snapshot_file").unwrap_or_default();
    let pos = value("binlog_snapshot_position")
        .and_then(|p| p.parse().ok())
        .unwrap_or(4);
    Ok(BinlogPosition::new(file, pos))
}

/// MariaDB's GTID state at a binlog position.
pub(crate) async fn mariadb_gtid_at(
    conn: &mut Conn,
    position: &BinlogPosition,
) -> Result<GtidSet, SourceError> {
    let gtid: Option<Option<String>> = conn
        .exec_first(
            "SELECT BINLOG_GTID_POS(?, ?)",
            (position.file.as_str(), position.pos),
        )
        .await
        .map_err(SourceError::from_mysql)?;
    Ok(gtid
        .flatten()
        .unwrap_or_default()
        .parse()
        .unwrap_or_default())
}

/// Every department and help-topic row, in the current transaction.
pub(crate) async fn read_rows(
    conn: &mut Conn,
    names: &TableNames,
) -> Result<Vec<(DirectoryKind, DirectoryRow)>, SourceError> {
    let mut rows = Vec::new();
    let queries = [
        (
            DirectoryKind::Department,
            format!("SELECT id, pid, name FROM `{}`", names.department),
        ),
        (
            DirectoryKind::Topic,
            format!("SELECT topic_id, topic_pid, topic FROM `{}`", names.topic),
        ),
    ];
    for (kind, sql) in queries {
        let found: Vec<(u64, Option<u64>, Option<String>)> =
            conn.query(sql).await.map_err(SourceError::from_mysql)?;
        rows.extend(found.into_iter().map(|(id, parent, name)| {
            (
                kind,
                DirectoryRow {
                    id,
                    parent,
                    name: name.unwrap_or_default(),
                },
            )
        }));
    }
    Ok(rows)
}
