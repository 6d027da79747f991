//! The tickets already in the database, read for `backfill` from one
//! consistent snapshot that also fixes the binlog position it corresponds
//! to, so that streaming can continue from exactly there.
//!
//! - MariaDB: `START TRANSACTION WITH CONSISTENT SNAPSHOT` and the status
//!   variables `binlog_snapshot_file` / `binlog_snapshot_position`, fixed by
//!   the server at the same instant as the snapshot: no lock at all.
//! - MySQL has no such variables. The position is taken the way
//!   `mysqldump --single-transaction --source-data` takes it:
//!   `FLUSH TABLES WITH READ LOCK`, the snapshot, the position,
//!   `UNLOCK TABLES`. The global read lock lasts the few milliseconds of
//!   those three statements (it waits for running writes to finish first)
//!   and needs the `RELOAD` privilege. Known limit of issue #5.
//!
//! `created` is a DATETIME without a zone. osTicket 1.12.6 and later write
//! it with the connection's zone set to `SYSTEM` (the database server's
//! operating-system zone), so the read does the same: `--since` and a
//! record's `created_at` convert `created` in that zone, whatever
//! `@@global.time_zone` says. (osTicket 1.10 to 1.12.5 wrote it in
//! `@@global.time_zone`; where that differs from `SYSTEM`, their
//! `created_at` is off by the difference. Known limit of issue #5.)
//!
//! Tickets are then read in pages of [`PAGE_TICKETS`] in `ticket_id` order
//! inside the same transaction, so the snapshot holds however slowly the
//! sink takes them; the transaction stays open (and InnoDB keeps old row
//! versions for it) until [`close`].

use mysql_async::Conn;
use mysql_async::prelude::Queryable;

use super::connect::{Flavor, binlog_end};
use super::schema::TableNames;
use super::snapshot::{mariadb_gtid_at, mariadb_snapshot_position, read_rows};
use super::{SourceError, TicketRow};
use crate::source::Snapshot;

/// Tickets per page.
pub const PAGE_TICKETS: usize = 1000;

/// Which tickets a backfill emits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TicketFilter {
    /// Only tickets whose `created` is at or after this instant (UTC
    /// seconds), `created` read in the server's `SYSTEM` zone.
    pub since: Option<u64>,
    /// Only tickets with an id in this inclusive range.
    pub ids: Option<(u64, u64)>,
}

/// A ticket read by a backfill: its row, and its `created` as UTC seconds.
#[derive(Debug, Clone)]
pub struct StoredTicket {
    /// The columns a record is made of.
    pub row: TicketRow,
    /// `UNIX_TIMESTAMP(created)`, 0 when the server cannot convert it.
    pub created_secs: u32,
}

/// Opens the consistent read on `conn` and reads the department and
/// help-topic rows in it. The transaction stays open for [`ticket_page`].
///
/// # Errors
///
/// Query failures; on MySQL a missing `RELOAD` privilege is named.
pub async fn open(
    conn: &mut Conn,
    flavor: Flavor,
    names: &TableNames,
) -> Result<Snapshot, SourceError> {
    let query = |e| SourceError::from_mysql(e);
    conn.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .await
        .map_err(query)?;
    // The zone osTicket writes `created` in (see the module docs).
    conn.query_drop("SET time_zone = 'SYSTEM'")
        .await
        .map_err(query)?;
    let (position, gtid_state) = match flavor {
        Flavor::MariaDb => {
            conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
                .await
                .map_err(query)?;
            let position = mariadb_snapshot_position(conn).await?;
            let gtid = mariadb_gtid_at(conn, &position).await?;
            (position, gtid)
        }
        Flavor::MySql => {
            conn.query_drop("FLUSH TABLES WITH READ LOCK")
                .await
                .map_err(|e| match SourceError::from_mysql(e) {
                    SourceError::Server {
                        code: 1044 | 1045 | 1227,
                        message,
                    } => SourceError::Check(format!(
                        "cannot open the backfill's snapshot: {message}; on MySQL it holds the \
                         global read lock for a few milliseconds to fix the binlog position: \
                         GRANT RELOAD ON *.* to the connector's user"
                    )),
                    other => other,
                })?;
            let opened = async {
                conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
                    .await
                    .map_err(query)?;
                binlog_end(conn, flavor).await
            }
            .await;
            conn.query_drop("UNLOCK TABLES").await.map_err(query)?;
            let (position, gtid) = opened?;
            (position, gtid.parse().unwrap_or_default())
        }
    };
    let rows = read_rows(conn, names).await?;
    Ok(Snapshot {
        position,
        gtid_state,
        rows,
    })
}

/// How many tickets `filter` selects in the snapshot.
///
/// # Errors
///
/// Query failures.
pub async fn count(
    conn: &mut Conn,
    names: &TableNames,
    filter: &TicketFilter,
) -> Result<u64, SourceError> {
    let sql = format!(
        "SELECT COUNT(*) FROM `{}` WHERE {}",
        names.ticket,
        condition(filter)
    );
    let count: Option<u64> = conn
        .query_first(sql)
        .await
        .map_err(SourceError::from_mysql)?;
    Ok(count.unwrap_or(0))
}

/// The next page of tickets after `after_id`, in id order; empty at the end.
///
/// # Errors
///
/// Query failures.
pub async fn ticket_page(
    conn: &mut Conn,
    names: &TableNames,
    filter: &TicketFilter,
    after_id: u64,
) -> Result<Vec<StoredTicket>, SourceError> {
    type Columns = (
        u64,
        Option<String>,
        Option<u64>,
        Option<u64>,
        Option<u64>,
        Option<String>,
        Option<String>,
        Option<u64>,
    );
    let sql = format!(
        "SELECT ticket_id, number, user_id, dept_id, topic_id, source, \
         DATE_FORMAT(created, '%Y-%m-%d %H:%i:%s'), UNIX_TIMESTAMP(created) \
         FROM `{}` WHERE ticket_id > {after_id} AND {} ORDER BY ticket_id LIMIT {PAGE_TICKETS}",
        names.ticket,
        condition(filter)
    );
    let rows: Vec<Columns> = conn.query(sql).await.map_err(SourceError::from_mysql)?;
    Ok(rows
        .into_iter()
        .map(
            |(ticket_id, number, user_id, dept_id, topic_id, source, created, secs)| StoredTicket {
                row: TicketRow {
                    ticket_id,
                    number: number.unwrap_or_default(),
                    user_id: user_id.unwrap_or(0),
                    dept_id: dept_id.unwrap_or(0),
                    topic_id: topic_id.unwrap_or(0),
                    source: source.unwrap_or_default(),
                    created: created.unwrap_or_default(),
                    row_index: 0,
                },
                created_secs: secs.and_then(|s| u32::try_from(s).ok()).unwrap_or(0),
            },
        )
        .collect())
}

/// Ends the snapshot's transaction.
///
/// # Errors
///
/// Query failures.
pub async fn close(conn: &mut Conn) -> Result<(), SourceError> {
    conn.query_drop("COMMIT")
        .await
        .map_err(SourceError::from_mysql)
}

/// The SQL condition of `filter` (numbers only: nothing to escape).
fn condition(filter: &TicketFilter) -> String {
    let mut parts = vec!["1 = 1".to_owned()];
    if let Some(since) = filter.since {
        parts.push(format!("created >= FROM_UNIXTIME({since})"));
    }
    if let Some((first, last)) = filter.ids {
        parts.push(format!("ticket_id BETWEEN {first} AND {last}"));
    }
    parts.join(" AND ")
}
