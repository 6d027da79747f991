//! The batch loop: transactions in, records to the sink, checkpoints out.
//!
//! One batch is in flight at a time. A batch ends at a transaction boundary
//! when it is full or its linger time is up; it is delivered (transient sink
//! failures retried with backoff), then the checkpoint through its last
//! transaction is committed in one atomic write with the directory changes
//! and the sink's offset.
//!
//! # Shutdown
//!
//! When shutdown is asked for, the reader stops and this loop delivers what
//! was already read. If the sink cannot take it before the shutdown deadline,
//! the loop gives up with [`PipelineError::ShutdownDeadline`]: the checkpoint
//! stays at the last acknowledged record, which is sent again on restart.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tracing::{debug, info};

use super::deliver::{Undelivered, send_until_acknowledged};
use super::{PipelineError, PipelineStats};
use crate::assembly::Assembler;
use crate::checkpoint::{Checkpoint, CheckpointStore, DirectoryDelta};
use crate::codec::RecordEncoder;
use crate::config::Settings;
use crate::sink::{Record, Sink};
use crate::source::Transaction;

/// How often a checkpoint is written when only noise goes by.
const IDLE_COMMIT_INTERVAL: Duration = Duration::from_secs(1);

/// How often a progress line is logged at info level.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(30);

/// The batch loop's state.
pub(super) struct Batcher<'a, S> {
    pub(super) settings: &'a Settings,
    pub(super) store: Arc<CheckpointStore>,
    pub(super) sink: S,
    pub(super) encoder: RecordEncoder,
    pub(super) assembler: Assembler,
    /// The last committed checkpoint.
    pub(super) checkpoint: Checkpoint,
    pub(super) stats: PipelineStats,
    /// The last transaction read but not yet committed (its changes taken).
    pub(super) uncommitted: Option<Transaction>,
    /// The first-start snapshot is not stored yet (a GTID start, whose
    /// position is only known after the first transaction).
    pub(super) snapshot_pending: bool,
    /// Turns true when the shutdown deadline has passed.
    pub(super) deadline_rx: watch::Receiver<bool>,
    /// The sink takes the data serializer's output, not the record
    /// (Firehose); decided once, not per event.
    pub(super) data_only: bool,
}

impl<S: Sink> Batcher<'_, S> {
    /// Runs until the reader is done and everything read is delivered.
    pub(super) async fn run(
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

    fn deadline_error(&self, records: usize) -> PipelineError {
        PipelineError::ShutdownDeadline {
            secs: self.settings.pipeline.shutdown_timeout.as_secs(),
            records,
            checkpoint: self.checkpoint.position.to_string(),
        }
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
                // Firehose gets the data serializer's output: the bytes the
                // plugin's consumers stored in the end.
                let record = if self.data_only {
                    self.encoder.encode_data(&event, sequence)?
                } else {
                    self.encoder.encode(&event, sequence)?
                };
                records.push(record);
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
            let deadline_rx = self.deadline_rx.clone();
            match send_until_acknowledged(&mut self.sink, &records, deadline_rx).await {
                Ok(()) => {
                    // The acknowledgement instant, which the sink benchmark
                    // pairs with each ticket's commit time.
                    let (sink, first_sequence) = (self.sink.name(), self.checkpoint.next_sequence);
                    debug!(
                        sink,
                        first_sequence,
                        records = records.len(),
                        "batch acknowledged"
                    );
                }
                Err(Undelivered::GaveUp) => return Err(self.deadline_error(records.len())),
                Err(Undelivered::Sink(error)) => {
                    let (sink, checkpoint) = (self.sink.name(), &self.checkpoint.position);
                    tracing::error!(sink, %checkpoint, %error,
                        "sink failed; stopping with the checkpoint unchanged");
                    return Err(error.into());
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
