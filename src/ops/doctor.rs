//! `doctor`: checks everything the connector depends on and prints one line
//! per check, `OK`, `WARN` or `FAIL`, with what was found and, when
//! something is wrong, what to change.
//!
//! In order:
//!
//! 1. `config`: the configuration loaded (the command line exits 2 before
//!    this when it does not);
//! 2. `server`: reachable, its flavour and version. When it cannot be
//!    reached, that one FAIL line stands for every database check;
//! 3. `log_bin`, `binlog_format`, `binlog_row_image`, `log_bin_compress`
//!    (MariaDB), `binlog_row_metadata`: the binlog settings;
//! 4. `replication grant`, `binlog status`: `REPLICATION SLAVE`, and
//!    `REPLICATION CLIENT` (`BINLOG MONITOR` on MariaDB 10.5+);
//! 5. `tables`, `columns`: the three tables under `source.table_prefix`,
//!    the columns the connector reads, `SELECT` on them;
//! 6. `server_id`: no other replica registered with `source.server_id`;
//! 7. `checkpoint binlog`, `binlog retention`: the checkpoint's binlog is
//!    still on the server, and how long the server keeps binlogs compared
//!    with the checkpoint's age;
//! 8. `sink` (and `sink durability` for beanstalkd): configured and
//!    reachable;
//! 9. `checkpoint`: the directory, the stored position, and whether a
//!    running connector holds it.
//!
//! Steps 3 to 5 are the checks `run` makes at start ([`crate::source::checks`]),
//! so both say the same thing; `run` stops at the first FAIL, `doctor`
//! reports them all. Only FAIL lines make the exit code non-zero: WARN lines
//! name what will hurt later (a binlog without column names, beanstalkd
//! without its write-ahead log, a checkpoint close to the server's binlog
//! expiry).
//!
//! `doctor` changes nothing: it opens the checkpoint read-only (it works
//! beside a running connector), does not register as a replica, and only
//! creates and removes an empty probe file to learn that a directory is
//! writable.
//!
//! # Known limits
//!
//! - `server_id` is checked against `SHOW SLAVE HOSTS` (`SHOW REPLICAS` on
//!   MySQL). MariaDB 10.5+ allows that only with `REPLICATION MASTER ADMIN`;
//!   without it the line is a WARN asking to make sure by hand. A replica
//!   registered with the configured id while a connector holds the
//!   checkpoint is taken to be that connector: the server's list does not
//!   say which process registered. A connector stopped moments ago stays
//!   listed until the server notices (about two heartbeats), so its id can
//!   show as used for that long; the FAIL line says so.
//! - Whether a running process holds the checkpoint is read from Linux's
//!   `/proc/locks`; elsewhere it is not reported.
//! - The retention margin counts from the checkpoint's last delivered
//!   transaction; the binlog file holding it was closed at that time or
//!   later, so the real margin is at least the one shown.

mod local;
mod server;
mod sink;

use std::io::{self, Write};
use std::path::Path;

use crate::config::{Settings, SinkConfig};
use crate::source::SourceError;
use crate::source::checks::{
    Finding, Severity, check_binlog_settings, check_binlog_status, check_columns, check_grants,
    check_tables,
};
use crate::source::connect::connect;
use server::{check_checkpoint_binlog, check_retention, check_server_id, server_finding};

/// How many checks ended in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DoctorSummary {
    /// Checks that passed.
    pub ok: usize,
    /// Checks with a warning.
    pub warnings: usize,
    /// Checks that would stop the connector.
    pub failures: usize,
}

/// Writes findings as they come, one line each, and counts them.
struct Report<'a, W: Write> {
    out: &'a mut W,
    summary: DoctorSummary,
}

impl<W: Write> Report<'_, W> {
    fn line(&mut self, finding: &Finding) -> io::Result<()> {
        match finding.severity {
            Severity::Ok => self.summary.ok += 1,
            Severity::Warn => self.summary.warnings += 1,
            Severity::Fail => self.summary.failures += 1,
        }
        let label = finding.severity.label();
        writeln!(self.out, "{label:<4} {}: {}", finding.check, finding.text)?;
        self.out.flush()
    }

    /// A check's result, or a FAIL saying it could not be made.
    fn result(
        &mut self,
        check: &'static str,
        result: Result<Finding, SourceError>,
    ) -> io::Result<Finding> {
        let finding = result.unwrap_or_else(|e| Finding::fail(check, format!("cannot check: {e}")));
        self.line(&finding)?;
        Ok(finding)
    }
}

/// Runs every check for `settings` (loaded from `config_file`, if any) and
/// writes one line per check to `out`.
///
/// # Errors
///
/// Only a failed write to `out`; every problem found is a line.
pub async fn run_doctor<W: Write>(
    settings: &Settings,
    config_file: Option<&Path>,
    out: &mut W,
) -> io::Result<DoctorSummary> {
    let mut report = Report {
        out,
        summary: DoctorSummary::default(),
    };
    report.line(&config_finding(settings, config_file))?;

    // The checkpoint is read first: the server checks compare with it.
    let local = local::inspect_checkpoint(&settings.checkpoint.dir);
    server_checks(&mut report, settings, &local).await?;

    for finding in sink::check_sink(&settings.sink, local.checkpoint.as_ref()).await {
        report.line(&finding)?;
    }
    report.line(&local.finding)?;
    Ok(report.summary)
}

fn config_finding(settings: &Settings, config_file: Option<&Path>) -> Finding {
    let source = &settings.source;
    let file = config_file.map_or_else(
        || "no file, environment only".to_owned(),
        |f| f.display().to_string(),
    );
    let sink = match &settings.sink {
        SinkConfig::Stdout { .. } => "stdout",
        SinkConfig::File { .. } => "file",
        SinkConfig::Beanstalk(_) => "beanstalk",
        SinkConfig::Firehose(_) => "firehose",
    };
    Finding::ok(
        "config",
        format!(
            "{file}: database `{}` at {}:{} as `{}`, server_id {}, table_prefix `{}`, sink {sink}",
            source.database,
            source.host,
            source.port,
            source.user,
            source.server_id,
            source.table_prefix
        ),
    )
}

/// Steps 2 to 7: everything that asks the database.
async fn server_checks<W: Write>(
    report: &mut Report<'_, W>,
    settings: &Settings,
    local: &local::LocalCheckpoint,
) -> io::Result<()> {
    let source = &settings.source;
    let mut conn = match connect(source).await {
        Ok(conn) => conn,
        Err(e) => {
            let text = match e {
                SourceError::Check(text) => text,
                other => format!(
                    "{other}; check source.url's host and port, and that the server runs \
                     (the database checks are skipped)"
                ),
            };
            return report.line(&Finding::fail("server", text));
        }
    };
    let flavor = match server_finding(&mut conn, source).await {
        Ok((flavor, finding)) => {
            report.line(&finding)?;
            flavor
        }
        Err(e) => {
            return report.line(&Finding::fail("server", format!("cannot check: {e}")));
        }
    };

    match check_binlog_settings(&mut conn, flavor).await {
        Ok(findings) => {
            for finding in findings {
                report.line(&finding)?;
            }
        }
        Err(e) => report.line(&Finding::fail("binlog", format!("cannot check: {e}")))?,
    }
    report.result("replication grant", check_grants(&mut conn).await)?;
    report.result(
        "binlog status",
        check_binlog_status(&mut conn, flavor).await,
    )?;
    let tables = report.result("tables", check_tables(&mut conn, source).await)?;
    if tables.severity == Severity::Ok {
        report.result("columns", check_columns(&mut conn, source).await)?;
    }

    let holder = local.holder.as_ref();
    let server_id = check_server_id(&mut conn, flavor, source, holder).await;
    report.result("server_id", server_id)?;
    if let Some(checkpoint) = &local.checkpoint {
        let binlog = check_checkpoint_binlog(&mut conn, &checkpoint.position).await;
        report.result("checkpoint binlog", binlog)?;
    }
    let retention = check_retention(&mut conn, local.checkpoint.as_ref(), holder).await;
    report.line(&retention)?;
    Ok(())
}
