//! `backfill`: ticket-created records for tickets already in the database,
//! from one consistent read that does not lock osTicket's tables on MariaDB
//! (see [`crate::source::backfill`] for MySQL's short global read lock),
//! with department and topic names as of that read, in `ticket_id` order.
//!
//! The command does not touch the checkpoint. It prints the binlog position
//! of its read: `checkpoint reset --to` that position makes the next `run`
//! stream exactly the tickets created after the read, the way on after a
//! purged binlog. `run --backfill-first` does both in one go on a first
//! start.
//!
//! Backfilled records carry `event_id` `backfill:<ticket_id>#0` and
//! `sequence` numbers from 1 in the order sent; their `created_at` is the
//! ticket's `created` read in the server's `SYSTEM` zone, as osTicket writes it
//! (see [`crate::source::backfill`]). They are not in the binlog,
//! so `replay` cannot repeat them: run the backfill again.

use tokio::sync::watch;
use tracing::info;

use super::replay::{Target, open_target};
use crate::assembly::{Assembler, Directory};
use crate::codec::RecordEncoder;
use crate::config::Settings;
use crate::pipeline::PipelineError;
use crate::pipeline::backfill::BackfillEmitter;
use crate::source::BinlogPosition;
use crate::source::backfill::{self, TicketFilter};
use crate::source::connect::{check_server, connect};
use crate::source::schema::TableNames;

/// What a backfill sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillSummary {
    /// Records acknowledged by the sink.
    pub records: u64,
    /// Tickets the filter selected.
    pub selected: u64,
    /// False when a signal stopped it.
    pub complete: bool,
    /// The binlog position the read corresponds to.
    pub position: BinlogPosition,
}

/// Emits the tickets `filter` selects to `target`.
///
/// # Errors
///
/// Database, encoding and definite sink failures.
pub async fn backfill(
    settings: &Settings,
    filter: TicketFilter,
    target: &Target,
    stop_rx: watch::Receiver<bool>,
    progress: &dyn Fn(u64) -> indicatif::ProgressBar,
) -> Result<BackfillSummary, PipelineError> {
    let source = &settings.source;
    let mut conn = connect(source).await?;
    let flavor = check_server(&mut conn, source).await?;
    let mut sink = open_target(settings, target).await?;
    let names = TableNames::new(&source.database, &source.table_prefix);
    let snapshot = backfill::open(&mut conn, flavor, &names).await?;
    let selected = backfill::count(&mut conn, &names, &filter).await?;
    info!(backfill = true, position = %snapshot.position, tickets = selected,
        "backfill: consistent read opened");
    let assembler = Assembler::new(Directory::from_rows(snapshot.rows));
    let encoder = RecordEncoder::new(settings.output.clone());
    let emitter = BackfillEmitter::new(settings, &names, filter, &assembler, &encoder, selected);
    let bar = progress(selected);
    let emitted = emitter.emit(&mut conn, &mut sink, &stop_rx, &bar).await?;
    bar.finish_and_clear();
    backfill::close(&mut conn).await?;
    info!(
        backfill = true,
        records = emitted.records,
        complete = emitted.complete,
        "backfill finished"
    );
    Ok(BackfillSummary {
        records: emitted.records,
        selected,
        complete: emitted.complete,
        position: snapshot.position,
    })
}
