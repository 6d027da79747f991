//! The binlog reader: one replica connection at a time, turned into
//! [`Transaction`]s, reconnected with backoff when it breaks.
//!
//! # Resumption
//!
//! The reader remembers the end of the last complete transaction it sent.
//! After any transient failure it opens a new connection and asks for the
//! binlog from exactly there, dropping the half-read transaction, so a
//! reconnect neither skips nor repeats a transaction.
//!
//! A position comes from the `log_pos` of a transaction's last event. MySQL's
//! compressed transactions (`binlog_transaction_compression`) are the
//! exception: the stream yields the `Transaction_payload` event, then the
//! events decompressed from it, which carry `log_pos` 0; such a transaction
//! ends where its payload event ends. Heartbeats never move the position.
//!
//! # Failure handling
//!
//! A heartbeat period is asked of the server; three periods without any
//! event mean the connection is dead. A panic inside the event parser (a
//! truncated event) is caught and treated like a broken connection. Definite
//! errors (purged binlog, schema problems) end the reader with the error.

use std::collections::HashMap;
use std::time::Duration;

use mysql_async::binlog::EventType;
use mysql_async::binlog::events::{Event, EventData};
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStream, BinlogStreamRequest, Conn};
use tokio::sync::{mpsc, watch};
use tracing::{debug, info, warn};

use super::connect::{Flavor, connect, oldest_binlog};
use super::decode::{RowsKind, TablePlan, fingerprint};
use super::error::ER_MASTER_FATAL_ERROR_READING_BINLOG;
use super::events::{format_uuid, guarded_next, rotate_file_name};
use super::mariadb;
use super::schema::{
    ColumnInfo, TableNames, TableRole, columns_from_server, columns_from_table_map,
};
use super::{BinlogPosition, GtidSet, SourceError, Transaction};
use crate::config::SourceConfig;

/// Follows the binlog from a transaction boundary.
pub struct BinlogReader {
    config: SourceConfig,
    flavor: Flavor,
    names: TableNames,
    /// End of the last transaction sent: where a reconnect resumes.
    resume: BinlogPosition,
    /// GTID state at `resume`.
    gtid_state: GtidSet,
    /// Decode plans by table id, for the three tables only.
    plans: HashMap<u64, TablePlan>,
    /// Columns read from `information_schema`, dropped after DDL.
    server_columns: HashMap<TableRole, Vec<ColumnInfo>>,
    /// Connection for schema look-ups, opened when first needed.
    query_conn: Option<Conn>,
}

/// The transaction being read.
#[derive(Default)]
struct Pending {
    /// Inside BEGIN ... COMMIT/XID (or a MariaDB non-standalone GTID).
    open: bool,
    /// Started by a GTID event: the first event has been seen.
    started: bool,
    gtid: Option<String>,
    timestamp: u32,
    changes: Vec<super::RowChange>,
    /// The events being read come out of a `Transaction_payload` event:
    /// their own `log_pos` is not a position in the binlog.
    in_payload: bool,
}

/// MySQL 8.0.26+'s heartbeat with a 64-bit position, which `mysql_common`
/// does not name (it reads as an unknown event).
const HEARTBEAT_LOG_EVENT_V2: u8 = 0x29;

/// Events that come before a MySQL transaction, outside its payload when it
/// is compressed.
const STARTS_OUTSIDE_PAYLOADS: [EventType; 4] = [
    EventType::GTID_EVENT,
    EventType::ANONYMOUS_GTID_EVENT,
    EventType::GTID_TAGGED_LOG_EVENT,
    EventType::TRANSACTION_PAYLOAD_EVENT,
];

impl BinlogReader {
    /// A reader that will resume from `resume` with `gtid_state`.
    pub fn new(
        config: SourceConfig,
        flavor: Flavor,
        resume: BinlogPosition,
        gtid_state: GtidSet,
    ) -> Self {
        let names = TableNames::new(&config.database, &config.table_prefix);
        Self {
            config,
            flavor,
            names,
            resume,
            gtid_state,
            plans: HashMap::new(),
            server_columns: HashMap::new(),
            query_conn: None,
        }
    }

    /// Reads until `shutdown_rx` turns true or `transactions_tx` closes,
    /// reconnecting on transient errors.
    ///
    /// # Errors
    ///
    /// The first definite [`SourceError`].
    pub async fn run(
        mut self,
        transactions_tx: mpsc::Sender<Transaction>,
        mut shutdown_rx: watch::Receiver<bool>,
    ) -> Result<(), SourceError> {
        const FIRST_BACKOFF: Duration = Duration::from_millis(200);
        let mut backoff = FIRST_BACKOFF;
        loop {
            // A connection that delivered something starts the backoff over.
            let started_at = self.resume.clone();
            let result = tokio::select! {
                r = self.stream_once(&transactions_tx) => r,
                _ = shutdown_rx.wait_for(|stop| *stop) => return Ok(()),
            };
            match result {
                Ok(()) => return Ok(()),
                // The pipeline is gone (it stopped on its own error): no one
                // is left to read for.
                Err(_) if transactions_tx.is_closed() => return Ok(()),
                Err(error) if error.is_transient() => {
                    if self.resume != started_at {
                        backoff = FIRST_BACKOFF;
                    }
                    let backoff_ms = backoff.as_millis() as u64;
                    warn!(position = %self.resume, %error, backoff_ms,
                        "binlog connection lost; reconnecting");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown_rx.wait_for(|stop| *stop) => return Ok(()),
                    }
                    backoff = (backoff * 2).min(self.config.reconnect_max_backoff);
                    self.plans.clear();
                    self.query_conn = None;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// One connection's worth of streaming. `Ok` only when the receiver is gone.
    async fn stream_once(
        &mut self,
        transactions_tx: &mpsc::Sender<Transaction>,
    ) -> Result<(), SourceError> {
        let mut stream = self.open_stream().await?;
        info!(position = %self.resume, gtid = %self.gtid_state, "streaming binlog");
        let silence = self.config.heartbeat * 3;
        let mut file = self.resume.file.clone();
        let mut next_pos = self.resume.pos;
        let mut pending = Pending::default();

        loop {
            let event = match guarded_next(&mut stream, silence, "no event or heartbeat").await? {
                None => {
                    return Err(SourceError::Connection(
                        "the server closed the binlog stream".into(),
                    ));
                }
                Some(Err(e)) => return Err(self.classify_stream_error(e).await),
                Some(Ok(event)) => event,
            };

            let header = event.header();
            let event_type = header.event_type_raw();
            if event_type == EventType::ROTATE_EVENT as u8 {
                if let Ok(Some(EventData::RotateEvent(rotate))) = event.read_data() {
                    file = rotate_file_name(&event, rotate.name_raw());
                    next_pos = rotate.position();
                    // A real rotate (not the one the server sends at connect)
                    // moves the resume point to the new file.
                    if header.log_pos() != 0 && !pending.open && !pending.started {
                        debug!(file = %file, "binlog rotated");
                        self.finish(&mut pending, &file, next_pos, transactions_tx)
                            .await?;
                    }
                }
                continue;
            }
            // A heartbeat only proves the connection alive (any event resets
            // the watchdog above); its log_pos is no transaction's end.
            if event_type == EventType::HEARTBEAT_EVENT as u8
                || event_type == HEARTBEAT_LOG_EVENT_V2
            {
                continue;
            }
            if header.log_pos() != 0 && !pending.in_payload {
                next_pos = u64::from(header.log_pos());
            }
            if pending.changes.is_empty() && !pending.open && !pending.started {
                pending.timestamp = header.timestamp();
            }

            let ends = self.handle_event(&event, event_type, &mut pending).await?;
            if ends {
                self.finish(&mut pending, &file, next_pos, transactions_tx)
                    .await?;
            }
        }
    }

    /// Applies one event to the pending transaction; true when it ends it.
    async fn handle_event(
        &mut self,
        event: &Event,
        event_type: u8,
        pending: &mut Pending,
    ) -> Result<bool, SourceError> {
        // A payload holds one whole transaction and never the event that
        // starts the next: if one comes first, the stream dropped the payload
        // (it skips one it cannot decompress) and its rows would be lost.
        let starts_outside = STARTS_OUTSIDE_PAYLOADS
            .iter()
            .any(|t| *t as u8 == event_type);
        if pending.in_payload && starts_outside {
            return Err(SourceError::Decode(format!(
                "the Transaction_payload event after {} yielded no complete transaction \
                 (it could not be decompressed)",
                self.resume
            )));
        }
        if event_type == mariadb::GTID_EVENT {
            let gtid = mariadb::parse_gtid(event.data(), event.header().server_id())
                .ok_or_else(|| SourceError::Decode("truncated MariaDB GTID event".into()))?;
            self.gtid_state.add_mariadb(gtid.gtid);
            pending.gtid = Some(gtid.gtid.to_string());
            pending.started = true;
            pending.open = !gtid.standalone;
            return Ok(false);
        }
        if event_type == mariadb::GTID_LIST_EVENT {
            for gtid in mariadb::parse_gtid_list(event.data()).unwrap_or_default() {
                self.gtid_state.add_mariadb(gtid);
            }
            return Ok(false);
        }
        if event_type == EventType::TABLE_MAP_EVENT as u8 {
            if let Ok(Some(EventData::TableMapEvent(tme))) = event.read_data() {
                self.plan_table(&tme).await?;
            }
            return Ok(false);
        }
        if RowsKind::is_rows_event(event_type) {
            let Ok(Some(EventData::RowsEvent(rows))) = event.read_data() else {
                return Err(SourceError::Decode("a rows event does not parse".into()));
            };
            // Rows of any other table are skipped without decoding a value.
            if let Some(plan) = self.plans.get(&rows.table_id()) {
                plan.decode_rows(&rows, &mut pending.changes)?;
            }
            return Ok(false);
        }
        if event_type == EventType::XID_EVENT as u8 {
            return Ok(true);
        }
        if event_type == EventType::TRANSACTION_PAYLOAD_EVENT as u8 {
            // The stream yields the transaction's events next, decompressed.
            pending.in_payload = true;
            return Ok(false);
        }
        if event_type == EventType::GTID_EVENT as u8
            || event_type == EventType::GTID_TAGGED_LOG_EVENT as u8
        {
            if let Ok(Some(EventData::GtidEvent(gtid))) = event.read_data() {
                let uuid = format_uuid(&gtid.sid());
                self.gtid_state.add_mysql(&uuid, gtid.gno());
                pending.gtid = Some(format!("{uuid}:{}", gtid.gno()));
                pending.started = true;
            }
            return Ok(false);
        }
        if event_type == EventType::QUERY_EVENT as u8 {
            let Ok(Some(EventData::QueryEvent(query))) = event.read_data() else {
                return Ok(false);
            };
            let sql = query.query();
            let word = sql.split_whitespace().next().unwrap_or_default();
            if word.eq_ignore_ascii_case("BEGIN") {
                pending.open = true;
                pending.started = true;
                return Ok(false);
            }
            if word.eq_ignore_ascii_case("COMMIT") || word.eq_ignore_ascii_case("ROLLBACK") {
                return Ok(true);
            }
            if self.names.touched_by_ddl(&sql) {
                info!(query = %sql, "DDL on an osTicket table; its schema will be read again");
                self.server_columns.clear();
                self.plans.clear();
            }
            // Outside BEGIN ... COMMIT a statement is its own transaction.
            return Ok(!pending.open);
        }
        Ok(false)
    }

    /// Sends the finished transaction and moves the resume point past it.
    async fn finish(
        &mut self,
        pending: &mut Pending,
        file: &str,
        next_pos: u64,
        transactions_tx: &mpsc::Sender<Transaction>,
    ) -> Result<(), SourceError> {
        let done = std::mem::take(pending);
        self.resume = BinlogPosition::new(file, next_pos);
        let transaction = Transaction {
            end: self.resume.clone(),
            gtid: done.gtid,
            gtid_state: self.gtid_state.clone(),
            timestamp: done.timestamp,
            changes: done.changes,
        };
        if !transaction.changes.is_empty() {
            debug!(position = %transaction.end, changes = transaction.changes.len(), "transaction");
        }
        transactions_tx
            .send(transaction)
            .await
            .map_err(|_| SourceError::Connection("the pipeline stopped".into()))
    }

    /// Builds (or reuses) the decode plan for a table map of one of the
    /// three tables; forgets table ids that now map to other tables.
    async fn plan_table(
        &mut self,
        tme: &mysql_async::binlog::events::TableMapEvent<'_>,
    ) -> Result<(), SourceError> {
        let Some(role) = self
            .names
            .role(tme.database_name_raw(), tme.table_name_raw())
        else {
            self.plans.remove(&tme.table_id());
            return Ok(());
        };
        if self
            .plans
            .get(&tme.table_id())
            .is_some_and(|p| p.matches(&fingerprint(tme)))
        {
            return Ok(());
        }
        let columns = match columns_from_table_map(tme) {
            Some(columns) => columns,
            None => self.columns_from_server(role).await?,
        };
        let plan = TablePlan::build(role, tme, &columns)?;
        debug!(table = %tme.table_name(), table_id = tme.table_id(), "decode plan built");
        self.plans.insert(tme.table_id(), plan);
        Ok(())
    }

    async fn columns_from_server(
        &mut self,
        role: TableRole,
    ) -> Result<Vec<ColumnInfo>, SourceError> {
        if let Some(columns) = self.server_columns.get(&role) {
            return Ok(columns.clone());
        }
        if self.query_conn.is_none() {
            self.query_conn = Some(connect(&self.config).await?);
        }
        let conn = self.query_conn.as_mut().expect("connection opened above");
        let table = self
            .names
            .all()
            .into_iter()
            .find(|(_, r)| *r == role)
            .map(|(t, _)| t.to_owned());
        let columns =
            columns_from_server(conn, &self.config.database, &table.unwrap_or_default()).await?;
        self.server_columns.insert(role, columns.clone());
        Ok(columns)
    }

    /// Opens a replica connection positioned at `self.resume`.
    async fn open_stream(&mut self) -> Result<BinlogStream, SourceError> {
        let mut conn = connect(&self.config).await?;
        let period_ns = self.config.heartbeat.as_nanos() as u64;
        conn.query_drop(format!("SET @master_heartbeat_period = {period_ns}"))
            .await
            .map_err(SourceError::from_mysql)?;
        if self.flavor == Flavor::MariaDb {
            // Without this, MariaDB rewrites its GTID events into BEGIN queries.
            conn.query_drop("SET @mariadb_slave_capability = 4")
                .await
                .map_err(SourceError::from_mysql)?;
        }
        if self.resume.file.is_empty() {
            // A GTID start (MariaDB): the server finds the position.
            let state = self.gtid_state.to_string().replace('\'', "");
            conn.query_drop(format!("SET @slave_connect_state = '{state}'"))
                .await
                .map_err(SourceError::from_mysql)?;
        }
        let request = BinlogStreamRequest::new(self.config.server_id)
            .with_filename(self.resume.file.as_bytes())
            .with_pos(self.resume.pos);
        conn.get_binlog_stream(request)
            .await
            .map_err(SourceError::from_mysql)
    }

    /// Turns a stream error into a [`SourceError`], recognising a purged binlog.
    async fn classify_stream_error(&mut self, error: mysql_async::Error) -> SourceError {
        let error = SourceError::from_mysql(error);
        let SourceError::Server {
            code: ER_MASTER_FATAL_ERROR_READING_BINLOG,
            message,
        } = &error
        else {
            return error;
        };
        let lower = message.to_ascii_lowercase();
        if !(lower.contains("could not find")
            || lower.contains("purged")
            || lower.contains("first log file"))
        {
            return error;
        }
        let oldest = match connect(&self.config).await {
            Ok(mut conn) => oldest_binlog(&mut conn)
                .await
                .unwrap_or_else(|_| "(unknown)".into()),
            Err(_) => "(unknown)".into(),
        };
        SourceError::Purged {
            position: self.resume.to_string(),
            message: message.clone(),
            oldest,
        }
    }
}
