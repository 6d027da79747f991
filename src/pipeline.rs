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

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tracing::{Instrument, debug, info, info_span, warn};

use crate::assembly::{Assembler, Directory};
use crate::checkpoint::{Checkpoint, CheckpointError, CheckpointStore, DirectoryDelta};
use crate::codec::{CodecError, RecordEncoder};
use crate::config::Settings;
use crate::sink::{FileSink, Record, Sink, SinkError, StdoutSink};
use crate::source::connect::{check_server, connect};
use crate::source::schema::TableNames;
use crate::source::snapshot::{resolve_start, take_snapshot};
use crate::source::{BinlogReader, SourceError, Transaction};

/// How often a checkpoint is written when only noise goes by.
const IDLE_COMMIT_INTERVAL: Duration = Duration::from_secs(1);

/// How often a progress line is logged at info level.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(30);

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
    match &settings.sink {
        crate::config::SinkConfig::Stdout => {
            let sink = StdoutSink::new(crate::sink::DEFAULT_DELIMITER);
            run_with_sink(settings, store, checkpoint, sink, shutdown_rx, stats).await
        }
        crate::config::SinkConfig::File { path } => {
            let sink = FileSink::open(path, crate::sink::DEFAULT_DELIMITER, resume_offset)?;
            run_with_sink(settings, store, checkpoint, sink, shutdown_rx, stats).await
        }
    }
}

async fn run_with_sink<S: Sink>(
    settings: Settings,
    store: CheckpointStore,
    checkpoint: Option<Checkpoint>,
    sink: S,
    shutdown_rx: watch::Receiver<bool>,
    stats: PipelineStats,
) -> Result<(), PipelineError> {
    // Check the server, then find where to start: the checkpoint, or a
    // consistent snapshot of the name tables and its position.
    let source = &settings.source;
    let Some(mut conn) = connect_with_retry(source, shutdown_rx.clone()).await? else {
        info!("stopped before the database was reachable");
        return Ok(());
    };
    let flavor = check_server(&mut conn, source).await?;
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

/// Connects, retrying transient failures (the database may start after
/// us); `None` when shutdown was asked for first.
async fn connect_with_retry(
    source: &crate::config::SourceConfig,
    mut shutdown_rx: watch::Receiver<bool>,
) -> Result<Option<mysql_async::Conn>, SourceError> {
    let mut backoff = Duration::from_millis(250);
    loop {
        match connect(source).await {
            Ok(conn) => return Ok(Some(conn)),
            Err(error) if error.is_transient() => {
                let backoff_ms = backoff.as_millis() as u64;
                warn!(%error, backoff_ms, "database not reachable; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown_rx.wait_for(|s| *s) => return Ok(None),
                }
                backoff = (backoff * 2).min(source.reconnect_max_backoff);
            }
            Err(error) => return Err(error),
        }
    }
}

/// The batch loop's state.
struct Batcher<'a, S> {
    settings: &'a Settings,
    store: Arc<CheckpointStore>,
    sink: S,
    encoder: RecordEncoder,
    assembler: Assembler,
    /// The last committed checkpoint.
    checkpoint: Checkpoint,
    stats: PipelineStats,
    /// The last transaction read but not yet committed (its changes taken).
    uncommitted: Option<Transaction>,
    /// The first-start snapshot is not stored yet (a GTID start, whose
    /// position is only known after the first transaction).
    snapshot_pending: bool,
}

impl<S: Sink> Batcher<'_, S> {
    async fn run(
        &mut self,
        mut transactions_rx: mpsc::Receiver<Transaction>,
    ) -> Result<(), PipelineError> {
        let linger = self.settings.pipeline.linger;
        let max_records = self.settings.pipeline.max_batch_records;
        let mut last_commit = Instant::now();
        let mut last_progress = Instant::now();
        let mut closed = false;
        while !closed {
            // Wait for the first transaction, then gather more until the
            // batch is full or the linger time is up.
            let Some(first) = transactions_rx.recv().await else {
                break;
            };
            let mut records = Vec::new();
            self.add(&mut records, first)?;
            let deadline = tokio::time::Instant::now() + linger;
            while records.len() < max_records {
                match tokio::time::timeout_at(deadline, transactions_rx.recv()).await {
                    Ok(Some(tx)) => self.add(&mut records, tx)?,
                    Ok(None) => {
                        closed = true;
                        break;
                    }
                    Err(_) => break,
                }
            }

            // Noise alone is checkpointed at most once a second.
            if !records.is_empty() || last_commit.elapsed() >= IDLE_COMMIT_INTERVAL {
                self.deliver(records).await?;
                last_commit = Instant::now();
            }
            if last_progress.elapsed() >= PROGRESS_INTERVAL {
                self.log_progress();
                last_progress = Instant::now();
            }
        }
        // Whatever was read last is committed on the way out.
        self.deliver(Vec::new()).await
    }

    /// One info line: totals, where the checkpoint stands, how far behind.
    fn log_progress(&self) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        // Behind by the age of the last delivered transaction (0 before one).
        let delivered_at = u64::from(self.checkpoint.timestamp);
        let lag_secs = if delivered_at == 0 {
            0
        } else {
            now.saturating_sub(delivered_at)
        };
        info!(
            transactions = self.stats.transactions.load(Ordering::Relaxed),
            records = self.stats.records.load(Ordering::Relaxed),
            checkpoint = %self.checkpoint.position,
            lag_secs,
            "progress"
        );
    }

    /// Assembles and encodes one transaction's records into `records`.
    fn add(&mut self, records: &mut Vec<Record>, mut tx: Transaction) -> Result<(), PipelineError> {
        self.stats.transactions.fetch_add(1, Ordering::Relaxed);
        let events = self.assembler.assemble(&tx);
        if self.settings.tickets_creation_enabled {
            for event in events {
                // Numbers continue from the checkpoint, so a redelivered
                // record gets the number it had the first time.
                let sequence = self.checkpoint.next_sequence + records.len() as u64;
                records.push(self.encoder.encode(&event, sequence)?);
            }
        }
        tx.changes = Vec::new();
        self.uncommitted = Some(tx);
        Ok(())
    }

    /// Sends `records` (retrying transient failures with backoff), then
    /// commits the checkpoint through the last transaction read.
    async fn deliver(&mut self, records: Vec<Record>) -> Result<(), PipelineError> {
        if !records.is_empty() {
            let mut backoff = Duration::from_millis(100);
            loop {
                match self.sink.send_batch(&records).await {
                    Ok(()) => break,
                    Err(error) if error.is_transient() => {
                        let (sink, backoff_ms) = (self.sink.name(), backoff.as_millis() as u64);
                        let records = records.len();
                        warn!(sink, %error, records, backoff_ms, "sink failed; retrying");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                    }
                    Err(error) => {
                        let (sink, checkpoint) = (self.sink.name(), &self.checkpoint.position);
                        tracing::error!(sink, %checkpoint, %error,
                            "sink failed; stopping with the checkpoint unchanged");
                        return Err(error.into());
                    }
                }
            }
            self.stats
                .records
                .fetch_add(records.len() as u64, Ordering::Relaxed);
        }

        let Some(tx) = self.uncommitted.take() else {
            return Ok(());
        };
        let mut next = self.checkpoint.clone();
        next.position = tx.end;
        next.gtid_state = tx.gtid_state;
        next.timestamp = tx.timestamp;
        next.sink_offset = self.sink.offset();
        next.next_sequence += records.len() as u64;
        let changes = self.assembler.directory_mut().take_delta();
        let delta = if self.snapshot_pending {
            // The first commit of a GTID start stores the whole directory.
            let rows = self
                .assembler
                .directory()
                .rows()
                .map(|(k, r)| (k, r.clone()));
            DirectoryDelta::snapshot(rows.collect::<Vec<_>>())
        } else {
            DirectoryDelta {
                replace: false,
                changes,
            }
        };
        // The commit waits for an fsync: off the async workers.
        let store = Arc::clone(&self.store);
        let checkpoint = next.clone();
        tokio::task::spawn_blocking(move || store.commit(&checkpoint, &delta))
            .await
            .expect("the checkpoint commit does not panic")?;
        debug!(checkpoint = %next.position, records = records.len(), "checkpoint committed");
        self.stats
            .checkpoint_timestamp
            .store(u64::from(next.timestamp), Ordering::Relaxed);
        self.checkpoint = next;
        self.snapshot_pending = false;
        Ok(())
    }
}
