//! The database checks shared by `run` and `doctor`: each returns
//! [`Finding`]s (OK, WARN or FAIL, with what was found and what to change)
//! instead of stopping at the first problem.
//!
//! `run` ([`super::connect::check_server`]) goes through them in order and
//! turns the first FAIL into a [`SourceError::Check`] with the finding's text;
//! `doctor` prints every finding. The two therefore state the same facts and
//! the same fixes. A query that fails (a broken connection, a server error
//! no check expects) is an `Err`, as before: the finding would be a guess.
//!
//! WARN findings never stop `run`; they name things that will hurt later,
//! such as a binlog without column names.

use mysql_async::Conn;
use mysql_async::prelude::Queryable;

use super::SourceError;
use super::connect::{Flavor, binlog_end};
use super::decode::required_columns;
use super::schema::{TableNames, columns_from_server};
use crate::config::SourceConfig;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// As the connector needs it.
    Ok,
    /// Will not stop the connector, but will hurt (data at risk, less
    /// robust schema handling).
    Warn,
    /// Stops the connector.
    Fail,
}

impl Severity {
    /// `OK`, `WARN` or `FAIL`.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Ok => "OK",
            Severity::Warn => "WARN",
            Severity::Fail => "FAIL",
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The check's short name (`binlog_format`, `replication grant`).
    pub check: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// What was found, and for WARN and FAIL what to change.
    pub text: String,
}

impl Finding {
    /// A passed check.
    pub fn ok(check: &'static str, text: impl Into<String>) -> Self {
        Self::new(check, Severity::Ok, text)
    }

    /// A check that found something that will hurt.
    pub fn warn(check: &'static str, text: impl Into<String>) -> Self {
        Self::new(check, Severity::Warn, text)
    }

    /// A check that found something that stops the connector.
    pub fn fail(check: &'static str, text: impl Into<String>) -> Self {
        Self::new(check, Severity::Fail, text)
    }

    fn new(check: &'static str, severity: Severity, text: impl Into<String>) -> Self {
        Self {
            check,
            severity,
            text: text.into(),
        }
    }

    /// `Err` with the finding's text when it is a FAIL: how `run` stops.
    ///
    /// # Errors
    ///
    /// [`SourceError::Check`] for a FAIL.
    pub fn into_result(self) -> Result<(), SourceError> {
        match self.severity {
            Severity::Fail => Err(SourceError::Check(self.text)),
            Severity::Ok | Severity::Warn => Ok(()),
        }
    }
}

/// `log_bin`, `binlog_format`, `binlog_row_image`, MariaDB's
/// `log_bin_compress` and `binlog_row_metadata`, in that order.
///
/// # Errors
///
/// A failed query.
pub async fn check_binlog_settings(
    conn: &mut Conn,
    flavor: Flavor,
) -> Result<Vec<Finding>, SourceError> {
    let row: Option<(Option<String>, Option<String>, Option<String>)> = conn
        .query_first("SELECT @@global.log_bin, @@global.binlog_format, @@global.binlog_row_image")
        .await
        .map_err(SourceError::from_mysql)?;
    let (log_bin, format, image) = row.unwrap_or_default();
    let mut findings = Vec::new();

    let log_bin = log_bin.unwrap_or_default();
    findings.push(if is_on(&log_bin) {
        Finding::ok("log_bin", "ON")
    } else {
        Finding::fail(
            "log_bin",
            "log_bin is OFF: the server writes no binlog; start it with --log-bin \
             (and --binlog-format=ROW --binlog-row-image=FULL)",
        )
    });

    let format = format.unwrap_or_default();
    findings.push(if format.eq_ignore_ascii_case("ROW") {
        Finding::ok("binlog_format", "ROW")
    } else {
        Finding::fail(
            "binlog_format",
            format!(
                "binlog_format is {format}, the connector needs ROW (osTicket's inserts would be \
                 logged as statements): SET GLOBAL binlog_format = 'ROW' and set it in the \
                 server's configuration"
            ),
        )
    });

    let image = image.unwrap_or_default();
    findings.push(if image.eq_ignore_ascii_case("FULL") {
        Finding::ok("binlog_row_image", "FULL")
    } else {
        Finding::fail(
            "binlog_row_image",
            format!(
                "binlog_row_image is {image}, the connector needs FULL (other images leave out \
                 columns it reads): SET GLOBAL binlog_row_image = 'FULL' and set it in the \
                 server's configuration"
            ),
        )
    });

    if flavor == Flavor::MariaDb {
        findings.push(check_compression(conn).await);
    }
    findings.push(check_row_metadata(conn).await);
    Ok(findings)
}

/// MariaDB's compressed binlog events cannot be parsed.
async fn check_compression(conn: &mut Conn) -> Finding {
    let compress: Option<Option<String>> = conn
        .query_first("SELECT @@global.log_bin_compress")
        .await
        .unwrap_or(None);
    if compress.flatten().is_some_and(|c| is_on(&c)) {
        Finding::fail(
            "log_bin_compress",
            "log_bin_compress is ON: MariaDB's compressed binlog events are not supported; \
             SET GLOBAL log_bin_compress = OFF",
        )
    } else {
        Finding::ok("log_bin_compress", "OFF")
    }
}

/// Column names in the binlog are recommended, not needed: without them the
/// reader asks `information_schema` (see [`super::schema`]).
async fn check_row_metadata(conn: &mut Conn) -> Finding {
    let metadata: Option<Option<String>> = conn
        .query_first("SELECT @@global.binlog_row_metadata")
        .await
        .unwrap_or(None);
    let fallback = "column names then come from information_schema, and rows written before an \
                    ALTER TABLE on the three tables but read after it are described by the new \
                    schema";
    match metadata.flatten() {
        Some(value) if value.eq_ignore_ascii_case("FULL") => Finding::ok(
            "binlog_row_metadata",
            "FULL: column names travel with the binlog",
        ),
        Some(value) => Finding::warn(
            "binlog_row_metadata",
            format!(
                "binlog_row_metadata is {value}: {fallback}; SET GLOBAL binlog_row_metadata = \
                 'FULL' and set it in the server's configuration"
            ),
        ),
        None => Finding::warn(
            "binlog_row_metadata",
            format!(
                "this server has no binlog_row_metadata (MySQL 8.0.1+, MariaDB 10.5+ have it): \
                 {fallback}"
            ),
        ),
    }
}

/// The user needs REPLICATION SLAVE (checked here from its grants; a grant
/// through a role is not seen, and the dump itself then tells).
///
/// # Errors
///
/// A failed `SHOW GRANTS`.
pub async fn check_grants(conn: &mut Conn) -> Result<Finding, SourceError> {
    let grants: Vec<String> = conn
        .query("SHOW GRANTS FOR CURRENT_USER()")
        .await
        .map_err(SourceError::from_mysql)?;
    let upper: Vec<String> = grants.iter().map(|g| g.to_ascii_uppercase()).collect();
    let global = |g: &&String| g.contains(" ON *.*");
    let slave = upper.iter().filter(global).find_map(|g| {
        ["REPLICATION SLAVE", "ALL PRIVILEGES"]
            .into_iter()
            .find(|privilege| g.contains(privilege))
    });
    Ok(match slave {
        Some(privilege) => Finding::ok("replication grant", format!("{privilege} ON *.*")),
        None => Finding::fail(
            "replication grant",
            "the connector's user lacks REPLICATION SLAVE: GRANT REPLICATION SLAVE, \
             REPLICATION CLIENT ON *.* TO it (BINLOG MONITOR instead of REPLICATION CLIENT on \
             MariaDB 10.5+)",
        ),
    })
}

/// The binlog status can be read (`REPLICATION CLIENT`, `BINLOG MONITOR` on
/// MariaDB 10.5+): the first start and `checkpoint show` need it.
///
/// # Errors
///
/// A failed query other than a missing privilege.
pub async fn check_binlog_status(conn: &mut Conn, flavor: Flavor) -> Result<Finding, SourceError> {
    match binlog_end(conn, flavor).await {
        Ok((end, _)) => Ok(Finding::ok(
            "binlog status",
            format!("readable; the binlog ends at {end}"),
        )),
        Err(SourceError::Check(text)) => Ok(Finding::fail("binlog status", text)),
        Err(other) => Err(other),
    }
}

/// The three tables must exist under the configured prefix.
///
/// # Errors
///
/// A failed query of `information_schema`.
pub async fn check_tables(conn: &mut Conn, config: &SourceConfig) -> Result<Finding, SourceError> {
    let names = TableNames::new(&config.database, &config.table_prefix);
    let present: Vec<String> = conn
        .exec(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
            (config.database.as_str(),),
        )
        .await
        .map_err(SourceError::from_mysql)?;
    for (table, _) in names.all() {
        if present.iter().any(|p| p == table) {
            continue;
        }
        let prefixes: Vec<&str> = present
            .iter()
            .filter_map(|p| p.strip_suffix("help_topic"))
            .collect();
        let hint = if prefixes.is_empty() {
            "is this osTicket's database, and may the user SELECT from it?".to_owned()
        } else {
            format!(
                "tables with the prefix {} exist: set source.table_prefix",
                prefixes.join(", ")
            )
        };
        return Ok(Finding::fail(
            "tables",
            format!(
                "table `{}`.`{table}` not found (source.table_prefix = `{}`): {hint}",
                config.database, config.table_prefix
            ),
        ));
    }
    let tables: Vec<String> = names.all().iter().map(|(t, _)| format!("`{t}`")).collect();
    Ok(Finding::ok(
        "tables",
        format!("{} in `{}`", tables.join(", "), config.database),
    ))
}

/// The columns the connector reads exist in each of the three tables, and
/// the user may SELECT them (the first start reads the department and
/// help-topic tables; the reader asks `information_schema` about all three
/// when the binlog has no column names). `run` finds a missing column at the
/// first row event of the table instead.
///
/// # Errors
///
/// A failed query of `information_schema`.
pub async fn check_columns(conn: &mut Conn, config: &SourceConfig) -> Result<Finding, SourceError> {
    let names = TableNames::new(&config.database, &config.table_prefix);
    let mut problems = Vec::new();
    for (table, role) in names.all() {
        let wanted = required_columns(role);
        let columns = match columns_from_server(conn, &config.database, table).await {
            Ok(columns) => columns,
            Err(SourceError::Schema(message)) => {
                problems.push(message);
                continue;
            }
            Err(other) => return Err(other),
        };
        let missing: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|w| !columns.iter().any(|c| c.name.eq_ignore_ascii_case(w)))
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "table {}.{table} has no column `{}`, which the connector needs; check \
                 source.table_prefix and that this is an osTicket table",
                config.database,
                missing.join("`, `")
            ));
            continue;
        }

        // Seeing the columns needs some privilege on the table; reading
        // them needs SELECT.
        let probe = format!(
            "SELECT `{}` FROM `{}`.`{table}` LIMIT 0",
            wanted.join("`, `"),
            config.database
        );
        match conn
            .query_drop(probe)
            .await
            .map_err(SourceError::from_mysql)
        {
            Ok(()) => {}
            Err(SourceError::Server {
                code: 1142 | 1143,
                message,
            }) => problems.push(format!(
                "{message}: GRANT SELECT ON `{}`.`{table}` TO the connector's user",
                config.database
            )),
            Err(other) => return Err(other),
        }
    }
    Ok(if problems.is_empty() {
        Finding::ok(
            "columns",
            "every column the connector reads is there and may be selected",
        )
    } else {
        Finding::fail("columns", problems.join("; "))
    })
}

fn is_on(value: &str) -> bool {
    value == "1" || value.eq_ignore_ascii_case("ON")
}
