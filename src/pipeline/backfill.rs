//! Emitting the tickets of an open backfill snapshot (see
//! [`crate::source::backfill`]) to a sink, page by page in `ticket_id`
//! order, each page acknowledged before the next is read. `run
//! --backfill-first` and the `backfill` command share it.

use std::time::{Duration, Instant};

use mysql_async::Conn;
use tokio::sync::watch;
use tracing::info;

use super::PipelineError;
use super::deliver::{Undelivered, send_until_acknowledged};
use crate::assembly::Assembler;
use crate::codec::RecordEncoder;
use crate::config::{Settings, SinkConfig};
use crate::sink::Sink;
use crate::source::backfill::{TicketFilter, ticket_page};
use crate::source::schema::TableNames;

/// How often a progress line is logged.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(10);

/// What to emit and how.
pub struct BackfillEmitter<'a> {
    /// osTicket's tables.
    pub names: &'a TableNames,
    /// Which tickets.
    pub filter: TicketFilter,
    /// Names as of the snapshot.
    pub assembler: &'a Assembler,
    /// The configured output.
    pub encoder: &'a RecordEncoder,
    /// The sink takes the data serializer's output (Firehose).
    pub data_only: bool,
    /// Whether ticket creations are emitted at all.
    pub enabled: bool,
    /// Sequence number of the first record.
    pub first_sequence: u64,
    /// Tickets the filter selects, for progress; 0 when unknown.
    pub total: u64,
}

/// How far an emission got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Emitted {
    /// Records acknowledged by the sink.
    pub records: u64,
    /// False when `stop_rx` ended it early.
    pub complete: bool,
}

impl<'a> BackfillEmitter<'a> {
    /// An emitter of `filter`'s tickets with the configured output, numbering
    /// from 1.
    pub fn new(
        settings: &Settings,
        names: &'a TableNames,
        filter: TicketFilter,
        assembler: &'a Assembler,
        encoder: &'a RecordEncoder,
        total: u64,
    ) -> Self {
        Self {
            names,
            filter,
            assembler,
            encoder,
            data_only: matches!(settings.sink, SinkConfig::Firehose(_)),
            enabled: settings.tickets_creation_enabled,
            first_sequence: 1,
            total,
        }
    }

    /// Reads pages on `conn` (inside the open snapshot) and sends each to
    /// `sink` until every selected ticket is acknowledged, or `stop_rx`
    /// turns true (checked between pages, and while a sink is retried).
    ///
    /// # Errors
    ///
    /// Query, encoding and definite sink failures.
    pub async fn emit<S: Sink>(
        &self,
        conn: &mut Conn,
        sink: &mut S,
        stop_rx: &watch::Receiver<bool>,
        progress: &indicatif::ProgressBar,
    ) -> Result<Emitted, PipelineError> {
        let mut emitted = Emitted {
            records: 0,
            complete: false,
        };
        let mut after_id = 0;
        let mut last_log = Instant::now();
        loop {
            if *stop_rx.borrow() {
                return Ok(emitted);
            }
            let page = ticket_page(conn, self.names, &self.filter, after_id).await?;
            let Some(last) = page.last() else {
                emitted.complete = true;
                return Ok(emitted);
            };
            after_id = last.row.ticket_id;
            if !self.enabled {
                continue;
            }
            let mut records = Vec::with_capacity(page.len());
            for ticket in &page {
                let event = self.assembler.backfilled(&ticket.row, ticket.created_secs);
                let sequence = self.first_sequence + emitted.records + records.len() as u64;
                records.push(if self.data_only {
                    self.encoder.encode_data(&event, sequence)?
                } else {
                    self.encoder.encode(&event, sequence)?
                });
            }
            match send_until_acknowledged(sink, &records, stop_rx.clone()).await {
                Ok(()) => {}
                Err(Undelivered::GaveUp) => return Ok(emitted),
                Err(Undelivered::Sink(error)) => return Err(error.into()),
            }
            emitted.records += records.len() as u64;
            progress.set_position(emitted.records);
            if last_log.elapsed() >= PROGRESS_INTERVAL {
                info!(
                    backfill = true,
                    records = emitted.records,
                    total = self.total,
                    last_ticket_id = after_id,
                    "backfill progress"
                );
                last_log = Instant::now();
            }
        }
    }
}
