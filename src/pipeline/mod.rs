//! The pipeline: wires source, assembly, codec, sink and checkpoint, and
//! owns batching, backpressure and shutdown.
//!
//! ```text
//! BinlogReader --(bounded channel of Transactions)--> batch loop:
//!     assemble -> encode -> sink.send_batch -> checkpoint.commit
//! ```
//!
//! # Ordering and delivery
//!
//! One batch is in flight at a time and records keep binlog order. The
//! checkpoint (position, GTID state, directory changes, sink offset) is
//! committed in one atomic write only after the sink acknowledged the batch,
//! so a crash at any instant repeats at most the unacknowledged batch and
//! loses nothing. Batches end at transaction boundaries.
//!
//! # Backpressure
//!
//! The channel holds at most `pipeline.queue_transactions` transactions; when
//! the sink is slow the reader waits on it and stops reading the socket, so
//! memory stays bounded however far behind the sink is.
//!
//! # Shutdown
//!
//! When `shutdown_rx` turns true the reader stops at a transaction boundary,
//! the batch loop drains what was already read, delivers it, commits, and
//! returns. The binary exits at once on a second signal; the checkpoint never
//! moves past unacknowledged records.

pub mod backfill;
mod batcher;
pub mod deliver;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tracing::{Instrument, info, info_span, warn};

use crate::assembly::{Assembler, Directory};
use crate::checkpoint::{
    Checkpoint, CheckpointError, CheckpointStore, DirectoryDelta, binlog_index,
};
use crate::codec::{CodecError, RecordEncoder};
use crate::config::Settings;
use crate::config::{SinkConfig, StartPosition};
use crate::sink::beanstalk::BeanstalkSink;
use crate::sink::firehose::FirehoseSink;
use crate::sink::{FileSink, Sink, SinkError, StdoutSink};
use crate::source::backfill::{self as source_backfill, TicketFilter};
use crate::source::connect::{check_server, connect, oldest_binlog};
use crate::source::schema::TableNames;
use crate::source::snapshot::{resolve_start, take_snapshot};
use crate::source::{BinlogReader, Flavor, SourceError};
use backfill::BackfillEmitter;
use batcher::Batcher;

/// Why the pipeline stopped.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The source failed definitely.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The checkpoint store failed.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The sink failed definitely.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// An event could not be encoded.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// Shutdown was asked for, but the sink did not acknowledge the records
    /// read before it within `pipeline.shutdown_timeout_secs`.
    #[error(
        "shutdown deadline of {secs}s passed with {records} records not acknowledged by the \
         sink; the checkpoint stays at {checkpoint} and they are sent again on restart"
    )]
    ShutdownDeadline {
        /// The deadline.
        secs: u64,
        /// Records of the batch in flight.
        records: usize,
        /// The last committed position.
        checkpoint: String,
    },
}

/// Counters the pipeline keeps up to date, for progress logs now and
/// metrics later. Cheap to clone and read from another task.
#[derive(Debug, Default, Clone)]
pub struct PipelineStats {
    /// Transactions read from the binlog.
    pub transactions: Arc<AtomicU64>,
    /// Records acknowledged by the sink.
    pub records: Arc<AtomicU64>,
    /// Commit time (UTC seconds) of the last checkpointed transaction.
    pub checkpoint_timestamp: Arc<AtomicU64>,
    /// Set once the start position is fixed (snapshot taken or checkpoint
    /// loaded): every transaction committed from then on will be read.
    pub ready: Arc<AtomicBool>,
}

/// Runs the connector until shutdown or a definite error.
///
/// # Errors
///
/// A [`PipelineError`] for anything definite; transient trouble is retried.
pub async fn run(
    settings: Settings,
    shutdown_rx: watch::Receiver<bool>,
    stats: PipelineStats,
) -> Result<(), PipelineError> {
    let store = CheckpointStore::open(&settings.checkpoint.dir)?;
    let checkpoint = store.load()?;
    let resume_offset = checkpoint.as_ref().and_then(|c| c.sink_offset);
    match settings.sink.clone() {
        SinkConfig::Stdout { delimiter } => {
            let sink = StdoutSink::new(delimiter.bytes());
            run_with_sink(settings, store, checkpoint, sink, shutdown_rx, stats).await
        }
        SinkConfig::File { path, delimiter } => {
            let sink = FileSink::open(&path, delimiter.bytes(), resume_offset)?;
            run_with_sink(settings, store, checkpoint, sink, shutdown_rx, stats).await
        }
        SinkConfig::Beanstalk(config) => {
            // Connects on the first batch: a beanstalkd that is not up yet is
            // waited for by the batch loop's retry, with a log line each time.
            let sink = BeanstalkSink::new(config)?;
            run_with_sink(settings, store, checkpoint, sink, shutdown_rx, stats).await
        }
        SinkConfig::Firehose(config) => {
            let connect = || FirehoseSink::connect(config.clone());
            let max = Duration::from_secs(30);
            let shutdown = shutdown_rx.clone();
            let connected =
                retry_until_shutdown("Firehose", max, shutdown, SinkError::is_transient, connect);
            let Some(sink) = connected.await? else {
                return Ok(());
            };
            run_with_sink(settings, store, checkpoint, sink, shutdown_rx, stats).await
        }
    }
}

async fn run_with_sink<S: Sink>(
    settings: Settings,
    store: CheckpointStore,
    checkpoint: Option<Checkpoint>,
    mut sink: S,
    shutdown_rx: watch::Receiver<bool>,
    stats: PipelineStats,
) -> Result<(), PipelineError> {
    // Check the server, then find where to start: the checkpoint, or a
    // consistent snapshot of the name tables and its position.
    let source = &settings.source;
    let max = source.reconnect_max_backoff;
    let shutdown = shutdown_rx.clone();
    let connected =
        retry_until_shutdown("database", max, shutdown, SourceError::is_transient, || {
            connect(source)
        });
    let Some(mut conn) = connected.await? else {
        info!("stopped before the database was reachable");
        return Ok(());
    };
    let flavor = check_server(&mut conn, source).await?;
    // Commit marks in purged binlog files can never be replayed from.
    let oldest = oldest_binlog(&mut conn).await?;
    if let Some(index) = binlog_index(&oldest) {
        store.prune_marks_before(index)?;
    }
    let (checkpoint, directory, snapshot_pending) = match checkpoint {
        Some(checkpoint) => {
            let directory = Directory::from_rows(store.load_directory()?);
            info!(
                position = %checkpoint.position,
                gtid = %checkpoint.gtid_state,
                "resuming from checkpoint"
            );
            (checkpoint, directory, false)
        }
        None if settings.pipeline.backfill_first => {
            let Some(checkpoint) = backfill_first(
                &settings,
                &store,
                &mut conn,
                flavor,
                &mut sink,
                &shutdown_rx,
            )
            .await?
            else {
                return Ok(());
            };
            let directory = Directory::from_rows(store.load_directory()?);
            (checkpoint, directory, false)
        }
        None => {
            let names = TableNames::new(&source.database, &source.table_prefix);
            let snapshot = take_snapshot(&mut conn, flavor, &names).await?;
            let (position, gtid) =
                resolve_start(&mut conn, flavor, &source.start, &snapshot).await?;
            let mut checkpoint = Checkpoint::new(position, gtid);
            checkpoint.sink_offset = sink.offset();
            info!(position = %checkpoint.position, gtid = %checkpoint.gtid_state,
                departments_and_topics = snapshot.rows.len(), "first start: snapshot taken");
            // A GTID start has no file yet: the reader finds it and the
            // first transaction's checkpoint records it.
            let snapshot_pending = checkpoint.position.file.is_empty();
            if !snapshot_pending {
                let delta = DirectoryDelta::snapshot(snapshot.rows.clone());
                store.commit(&checkpoint, &delta)?;
            }
            (
                checkpoint,
                Directory::from_rows(snapshot.rows),
                snapshot_pending,
            )
        }
    };
    drop(conn);

    // The reader runs in its own task so a slow sink only fills the channel.
    let (transactions_tx, transactions_rx) = mpsc::channel(settings.pipeline.queue_transactions);
    let reader = BinlogReader::new(
        source.clone(),
        flavor,
        checkpoint.position.clone(),
        checkpoint.gtid_state.clone(),
    );
    stats.ready.store(true, Ordering::Release);
    let reader_task = tokio::spawn(
        reader
            .run(transactions_tx, shutdown_rx.clone())
            .instrument(info_span!("source")),
    );

    // The deadline starts with shutdown; the batch loop gives up at it.
    let (deadline_tx, deadline_rx) = watch::channel(false);
    let timeout = settings.pipeline.shutdown_timeout;
    let mut shutdown = shutdown_rx.clone();
    tokio::spawn(async move {
        if shutdown.wait_for(|stop| *stop).await.is_ok() {
            tokio::time::sleep(timeout).await;
            let _ = deadline_tx.send(true);
        }
    });

    let sink_name = sink.name();
    let mut batcher = Batcher {
        settings: &settings,
        store: Arc::new(store),
        sink,
        encoder: RecordEncoder::new(settings.output.clone()),
        assembler: Assembler::new(directory),
        checkpoint,
        stats,
        uncommitted: None,
        snapshot_pending,
        deadline_rx,
        data_only: sink_name == "firehose",
    };
    let delivered = batcher
        .run(transactions_rx)
        .instrument(info_span!("sink"))
        .await;
    let read = reader_task.await.unwrap_or_else(|e| {
        Err(SourceError::Connection(format!(
            "the binlog reader task failed: {e}"
        )))
    });
    delivered?;
    read?;
    info!(checkpoint = %batcher.checkpoint.position, "stopped");
    Ok(())
}

/// `run --backfill-first` on a first start: every ticket already in the
/// database from one consistent read, then the checkpoint at that read's
/// position with the names it saw, so streaming continues from exactly
/// there. `None` when shutdown came before the backfill finished: nothing is
/// committed and the next start backfills again (the records already sent
/// come again, byte-identical unless names changed in between).
async fn backfill_first<S: Sink>(
    settings: &Settings,
    store: &CheckpointStore,
    conn: &mut mysql_async::Conn,
    flavor: Flavor,
    sink: &mut S,
    shutdown_rx: &watch::Receiver<bool>,
) -> Result<Option<Checkpoint>, PipelineError> {
    let source = &settings.source;
    if source.start != StartPosition::Latest {
        warn!(start = ?source.start,
            "source.start is ignored with --backfill-first: streaming continues from the backfill's read");
    }
    let names = TableNames::new(&source.database, &source.table_prefix);
    let snapshot = source_backfill::open(conn, flavor, &names).await?;
    let filter = TicketFilter::default();
    let total = source_backfill::count(conn, &names, &filter).await?;
    info!(backfill = true, position = %snapshot.position, tickets = total,
        "first start: backfilling the tickets already in the database");
    let assembler = Assembler::new(Directory::from_rows(snapshot.rows.clone()));
    let encoder = RecordEncoder::new(settings.output.clone());
    let emitter = BackfillEmitter::new(settings, &names, filter, &assembler, &encoder, total);
    let hidden = indicatif::ProgressBar::hidden();
    let emitted = emitter.emit(conn, sink, shutdown_rx, &hidden).await?;
    source_backfill::close(conn).await?;
    if !emitted.complete {
        info!(
            backfill = true,
            records = emitted.records,
            "stopped during the backfill; the next start backfills again"
        );
        return Ok(None);
    }
    let mut checkpoint = Checkpoint::new(snapshot.position, snapshot.gtid_state);
    checkpoint.next_sequence = 1 + emitted.records;
    checkpoint.sink_offset = sink.offset();
    store.commit(&checkpoint, &DirectoryDelta::snapshot(snapshot.rows))?;
    info!(backfill = true, records = emitted.records, position = %checkpoint.position,
        "backfill done; streaming from its position");
    Ok(Some(checkpoint))
}

/// Runs `attempt` until it succeeds or fails definitely, waiting with a
/// doubling backoff (up to `max_backoff`) after each transient failure: the
/// database or the sink may start after us. `Ok(None)` when shutdown came
/// first.
async fn retry_until_shutdown<T, E, Fut>(
    what: &'static str,
    max_backoff: Duration,
    mut shutdown_rx: watch::Receiver<bool>,
    is_transient: impl Fn(&E) -> bool,
    mut attempt: impl FnMut() -> Fut,
) -> Result<Option<T>, E>
where
    E: std::fmt::Display,
    Fut: Future<Output = Result<T, E>>,
{
    let mut backoff = Duration::from_millis(250);
    loop {
        match attempt().await {
            Ok(value) => return Ok(Some(value)),
            Err(error) if is_transient(&error) => {
                let backoff_ms = backoff.as_millis() as u64;
                warn!(%error, backoff_ms, "{what} not reachable; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown_rx.wait_for(|s| *s) => return Ok(None),
                }
                backoff = (backoff * 2).min(max_backoff);
            }
            Err(error) => return Err(error),
        }
    }
}
