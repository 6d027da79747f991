//! Connecting to the server, knowing its flavour, and the startup checks
//! that turn a misconfigured server into one clear message each.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder};

use super::SourceError;
use super::checks::{check_binlog_settings, check_grants, check_tables};
use crate::config::SourceConfig;

/// Which server the connector talks to; their replication dialects differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// MariaDB: `domain-server-seq` GTIDs, its own GTID events.
    MariaDb,
    /// MySQL: `uuid:N` GTIDs.
    MySql,
}

/// Opens a query connection with the configured credentials and timeout.
///
/// # Errors
///
/// [`SourceError::Connection`] (transient) or a server error such as a
/// refused login.
pub async fn connect(config: &SourceConfig) -> Result<Conn, SourceError> {
    let opts = OptsBuilder::default()
        .ip_or_hostname(config.host.clone())
        .tcp_port(config.port)
        .user(Some(config.user.clone()))
        .pass(Some(config.password.expose().to_owned()))
        .db_name(Some(config.database.clone()))
        .prefer_socket(false);
    let where_ = format!("{}:{}", config.host, config.port);
    match tokio::time::timeout(config.connect_timeout, Conn::new(opts)).await {
        Err(_) => Err(SourceError::Connection(format!(
            "no answer from {where_} within {}s",
            config.connect_timeout.as_secs()
        ))),
        Ok(Err(e)) => Err(match SourceError::from_mysql(e) {
            SourceError::Server {
                code: 1045,
                message,
            } => SourceError::Check(format!(
                "cannot log in to {where_} as `{}`: {message}; check the user and password in \
                 source.url (or OSTICKET_CDC_SOURCE__PASSWORD)",
                config.user
            )),
            SourceError::Server { code: 1049, .. } => SourceError::Check(format!(
                "database `{}` does not exist on {where_}; set source.url's path to osTicket's \
                 database",
                config.database
            )),
            SourceError::Connection(message) => {
                SourceError::Connection(format!("cannot connect to {where_}: {message}"))
            }
            other => other,
        }),
        Ok(Ok(conn)) => Ok(conn),
    }
}

/// The server's flavour, from its version string.
///
/// # Errors
///
/// A query failure.
pub async fn flavor(conn: &mut Conn) -> Result<Flavor, SourceError> {
    let version: Option<String> = conn
        .query_first("SELECT VERSION()")
        .await
        .map_err(SourceError::from_mysql)?;
    Ok(
        if version
            .unwrap_or_default()
            .to_ascii_lowercase()
            .contains("mariadb")
        {
            Flavor::MariaDb
        } else {
            Flavor::MySql
        },
    )
}

/// The server's current binlog end and its executed GTID set text (MySQL
/// only; MariaDB's comes from `BINLOG_GTID_POS`).
///
/// # Errors
///
/// A missing privilege or binlog off, as a [`SourceError::Check`].
pub async fn binlog_end(
    conn: &mut Conn,
    flavor: Flavor,
) -> Result<(super::BinlogPosition, String), SourceError> {
    // MySQL 8.4+ only knows the new spelling, MySQL 8.0 and MariaDB the old.
    let statements = match flavor {
        Flavor::MariaDb => ["SHOW MASTER STATUS", "SHOW BINLOG STATUS"],
        Flavor::MySql => ["SHOW BINARY LOG STATUS", "SHOW MASTER STATUS"],
    };
    let mut last_error = None;
    for statement in statements {
        match conn.query_first::<mysql_async::Row, _>(statement).await {
            Ok(Some(row)) => {
                let file: String = row.get(0).unwrap_or_default();
                let pos: u64 = row.get(1).unwrap_or_default();
                let gtid: String = row
                    .get::<Option<String>, _>(4)
                    .flatten()
                    .unwrap_or_default();
                return Ok((
                    super::BinlogPosition::new(file, pos),
                    gtid.replace('\n', ""),
                ));
            }
            Ok(None) => {
                return Err(SourceError::Check(
                    "the binlog is off: start the server with log_bin (log-bin=mysql-bin) \
                     and binlog_format=ROW"
                        .into(),
                ));
            }
            Err(e) => last_error = Some(SourceError::from_mysql(e)),
        }
    }
    Err(match last_error {
        Some(SourceError::Server { code: 1227, .. }) => SourceError::Check(
            "the connector's user may not read the binlog status: GRANT REPLICATION CLIENT \
             (BINLOG MONITOR on MariaDB 10.5+) ON *.* TO it"
                .into(),
        ),
        Some(other) => other,
        None => SourceError::Check("cannot read the binlog status".into()),
    })
}

/// The oldest binlog file the server still has.
///
/// # Errors
///
/// A query failure.
pub async fn oldest_binlog(conn: &mut Conn) -> Result<String, SourceError> {
    let row: Option<mysql_async::Row> = conn
        .query_first("SHOW BINARY LOGS")
        .await
        .map_err(SourceError::from_mysql)?;
    Ok(row.and_then(|r| r.get::<String, _>(0)).unwrap_or_default())
}

/// Checks everything the connector needs before it streams: binlog on,
/// ROW format, FULL row image, the replication grants and the three tables.
/// The checks live in [`super::checks`], shared with `doctor`; this stops at
/// the first FAIL.
///
/// # Errors
///
/// The first failed check as a [`SourceError::Check`] naming the variable or
/// grant and how to fix it.
pub async fn check_server(conn: &mut Conn, config: &SourceConfig) -> Result<Flavor, SourceError> {
    let flavor = flavor(conn).await?;
    for finding in check_binlog_settings(conn, flavor).await? {
        finding.into_result()?;
    }
    check_grants(conn).await?.into_result()?;
    binlog_end(conn, flavor).await?;
    check_tables(conn, config).await?.into_result()?;
    Ok(flavor)
}
