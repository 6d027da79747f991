//! `replay --from X --to Y`: the records of a past range again, byte for byte
//! as they were first emitted, without touching the live checkpoint.
//!
//! # How the bytes come out the same
//!
//! A record depends on the ticket row (in the binlog), the names of its
//! department and help topic at that moment, and its `sequence` number. The
//! live pipeline stores, with each commit that delivered records, a commit
//! mark (position, GTID state, next sequence number) and every change to the
//! department and topic tables (see [`crate::checkpoint`], *History*).
//! Replay starts reading the binlog at the last mark at or before `--from`,
//! with the directory rebuilt as of that mark and the sequence number the
//! mark holds, runs the same assembly and encoding as `run`, and sends only
//! the records of transactions inside the range. `event_id` comes from the
//! binlog (GTID or position, and the ticket's place in its transaction), so
//! it repeats by construction.
//!
//! # The range
//!
//! `--from` is exclusive and `--to` inclusive, on transaction ends: a
//! record's transaction ends after FROM and at or before TO. Checkpoint
//! positions (`checkpoint show`, the `position` of a record, the log's
//! `checkpoint=`) are transaction ends, so consecutive ranges chain without
//! gap or overlap. A time bound (RFC 3339) stands for the boundary before the
//! first transaction committed at or after it, so `--from T1 --to T2` is the
//! transactions committed in `[T1, T2)`.
//!
//! # Limits
//!
//! - Replay reads the binlog under a random server id of its own (see
//!   [`super::command_server_id`]), so it runs beside the connector without
//!   disconnecting it.
//! - The range must end at or before the checkpoint: later records were not
//!   delivered yet, so there is nothing to repeat.
//! - History starts with the first delivery by a connector that keeps it
//!   (this version on); a range before it, or in binlog files the server no
//!   longer has, is refused with what is available.
//! - The configuration's output settings (`[tickets_creation]`) must be the
//!   ones the records were emitted with: replay re-encodes, it does not keep
//!   copies of the bytes.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use tokio::sync::{mpsc, watch};
use tracing::info;

use super::progress;
use crate::assembly::{Assembler, Directory};
use crate::checkpoint::{CheckpointError, CheckpointStore, binlog_index};
use crate::codec::extra::rfc3339_utc;
use crate::codec::{CodecError, RecordEncoder};
use crate::config::SourceConfig;
use crate::config::{Settings, SinkConfig};
use crate::config::{looks_like_instant, parse_instant};
use crate::pipeline::deliver::{Undelivered, send_until_acknowledged};
use crate::sink::{AnySink, Record, SinkError, StdoutSink};
use crate::source::connect::{Flavor, check_server, connect};
use crate::source::timeline::first_at_or_after_on;
use crate::source::{BinlogPosition, BinlogReader, DirectoryKind, DirectoryRow, SourceError};

/// One end of a replay range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    /// A transaction end, `FILE:POS`.
    Position(BinlogPosition),
    /// An RFC 3339 instant, as UTC seconds: the boundary before the first
    /// transaction committed at or after it.
    Time(u64),
}

impl FromStr for Bound {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if looks_like_instant(text) {
            return parse_instant(text).map(Bound::Time);
        }
        let position: BinlogPosition = text.parse().map_err(|e| format!("{e}"))?;
        if binlog_index(&position.file).is_none() {
            return Err(format!(
                "`{}` is not a binlog file name: it ends in `.NNNNNN` (`mysql-bin.000042`)",
                position.file
            ));
        }
        Ok(Self::Position(position))
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bound::Position(position) => position.fmt(f),
            Bound::Time(secs) => match u32::try_from(*secs) {
                Ok(secs) => f.write_str(&rfc3339_utc(secs)),
                Err(_) => write!(f, "{secs} s"),
            },
        }
    }
}

/// Where replayed records go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Standard output, with the configured delimiter.
    Stdout,
    /// A file, appended to.
    File(PathBuf),
    /// The sink in the configuration.
    Configured,
}

impl FromStr for Target {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "stdout" => Ok(Target::Stdout),
            "configured" => Ok(Target::Configured),
            _ => match text.strip_prefix("file:") {
                Some(path) if !path.is_empty() => Ok(Target::File(path.into())),
                _ => Err(format!(
                    "`{text}` is not a replay sink: use `stdout`, `file:PATH` or `configured`"
                )),
            },
        }
    }
}

/// Why a replay did not complete.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The checkpoint store could not be read.
    #[error(transparent)]
    Store(#[from] CheckpointError),
    /// The database failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The sink failed definitely.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// A record could not be encoded.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The range is empty, reversed or not delivered yet.
    #[error("{0}")]
    Range(String),
    /// The range is older than the kept history or the server's binlogs.
    #[error("{0}")]
    Unavailable(String),
    /// A signal stopped the replay.
    #[error("replay interrupted after {records} records; nothing else was changed")]
    Interrupted {
        /// Records acknowledged before the signal.
        records: u64,
    },
}

/// What a replay sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplaySummary {
    /// Records sent and acknowledged.
    pub records: u64,
    /// Sequence number of the first record, if any.
    pub first_sequence: Option<u64>,
    /// Where reading started (the commit mark used).
    pub read_from: BinlogPosition,
}

/// A place in the binlog that sorts: file number, then offset.
type Order = (u64, u64);

fn order(position: &BinlogPosition) -> Result<Order, ReplayError> {
    binlog_index(&position.file)
        .map(|index| (index, position.pos))
        .ok_or_else(|| {
            ReplayError::Range(format!(
                "`{}` is not a numbered binlog file; replay needs `NAME.NNNNNN` files",
                position.file
            ))
        })
}

/// Replays the records of transactions ending after `from` and at or before
/// `to` to `target`, stopping early when `stop_rx` turns true.
///
/// # Errors
///
/// A [`ReplayError`]; the live checkpoint is never written.
pub async fn replay(
    settings: &Settings,
    from: &Bound,
    to: &Bound,
    target: &Target,
    stop_rx: watch::Receiver<bool>,
) -> Result<ReplaySummary, ReplayError> {
    let dir = &settings.checkpoint.dir;
    if !dir.join("CURRENT").exists() {
        return Err(ReplayError::Unavailable(format!(
            "no checkpoint store in {}: nothing was delivered from this configuration yet, so \
             there is nothing to replay",
            dir.display()
        )));
    }
    // Read-only: works beside a running connector, never moves its checkpoint.
    let store = CheckpointStore::open_read_only(dir)?;
    let checkpoint = store.load()?.ok_or_else(|| {
        ReplayError::Unavailable(format!("no checkpoint in {} yet", dir.display()))
    })?;

    let source = &settings.source;
    let mut conn = connect(source).await?;
    let flavor = check_server(&mut conn, source).await?;
    let from = resolve(&mut conn, flavor, from, &checkpoint.position).await?;
    let to = resolve(&mut conn, flavor, to, &checkpoint.position).await?;
    let (from_order, to_order) = (order(&from)?, order(&to)?);
    if from_order >= to_order {
        return Err(ReplayError::Range(format!(
            "--from {from} is not before --to {to}: the range holds no transaction"
        )));
    }
    if to_order > order(&checkpoint.position)? {
        return Err(ReplayError::Range(format!(
            "--to {to} is after the checkpoint {}: records after it were not delivered yet; \
             replay up to {} at most",
            checkpoint.position, checkpoint.position
        )));
    }

    let first = store.first_mark()?.ok_or_else(|| {
        ReplayError::Unavailable(format!(
            "the checkpoint store in {} holds no history (it was written by an osticket-cdc \
             without replay, or has delivered nothing since): only ranges delivered from now on \
             can be replayed",
            dir.display()
        ))
    })?;
    let mark = store.mark_at_or_before(&from)?.ok_or_else(|| {
        ReplayError::Unavailable(format!(
            "--from {from} is older than the kept history, which starts at {}: replayable is \
             {} to {}",
            first.position, first.position, checkpoint.position
        ))
    })?;
    let files = binary_logs(&mut conn).await?;
    if !files.contains(&mark.position.file) {
        let oldest = files.first().cloned().unwrap_or_default();
        return Err(ReplayError::Unavailable(format!(
            "replaying from {from} needs binlog file {} (from the commit mark at {}), which the \
             server no longer has; its oldest is {oldest}: choose --from in {oldest} or later",
            mark.position.file, mark.position
        )));
    }
    let directory = Directory::from_rows(store.directory_at(&mark.position)?);
    drop(store);
    drop(conn);

    let mut sink = open_target(settings, target).await?;
    let mut replayer = Replayer {
        encoder: RecordEncoder::new(settings.output.clone()),
        assembler: Assembler::new(directory),
        data_only: matches!(settings.sink, SinkConfig::Firehose(_)),
        enabled: settings.tickets_creation_enabled,
        next_sequence: mark.next_sequence,
        summary: ReplaySummary {
            records: 0,
            first_sequence: None,
            read_from: mark.position.clone(),
        },
    };
    info!(from = %from, to = %to, read_from = %mark.position, sink = %target_name(target),
        "replaying");

    let (transactions_tx, mut transactions_rx) =
        mpsc::channel(settings.pipeline.queue_transactions);
    let (reader_stop_tx, reader_stop_rx) = watch::channel(false);
    let mut reader_source = source.clone();
    reader_source.server_id = super::command_server_id();
    let reader = BinlogReader::new(reader_source, flavor, mark.position, mark.gtid_state);
    let reader_task = tokio::spawn(reader.run(transactions_tx, reader_stop_rx));

    let max_records = settings.pipeline.max_batch_records;
    let mut batch: Vec<Record> = Vec::new();
    let bar = progress::spinner("replaying");
    let mut stop = stop_rx.clone();
    let mut last_read = Instant::now();
    let result = loop {
        let next = tokio::select! {
            next = transactions_rx.recv() => next,
            _ = stop.wait_for(|s| *s) => break Err(ReplayError::Interrupted {
                records: replayer.summary.records,
            }),
            _ = tokio::time::sleep(Duration::from_secs(5)) => {
                info!(waited_secs = last_read.elapsed().as_secs(), to = %to,
                    "waiting for the binlog to reach the end of the range");
                continue;
            }
        };
        last_read = Instant::now();
        let Some(transaction) = next else {
            break Err(reader_outcome(reader_task).await);
        };
        let end = order(&transaction.end)?;
        let in_range = end > from_order && end <= to_order;
        replayer.add(&transaction, in_range, &mut batch)?;
        if batch.len() >= max_records || end >= to_order {
            replayer.send(&mut sink, &mut batch, &stop_rx).await?;
            bar.set_message(format!(
                "replaying: {} records, at {}",
                replayer.summary.records, transaction.end
            ));
        }
        if end >= to_order {
            break Ok(());
        }
    };
    let _ = reader_stop_tx.send(true);
    bar.finish_and_clear();
    result?;
    info!(records = replayer.summary.records, "replay done");
    Ok(replayer.summary)
}

/// The department and help-topic rows as they were at `target`, a
/// transaction boundary, from the kept history: the rows at the last commit
/// mark before it, then the binlog's changes up to it. `None` when the
/// history does not reach back that far, the binlog from that mark is gone,
/// or the binlog does not reach `target` within a few seconds; the caller
/// then reads today's rows.
///
/// # Errors
///
/// Store and binlog failures.
pub async fn names_at(
    source: &SourceConfig,
    flavor: Flavor,
    store: &CheckpointStore,
    target: &BinlogPosition,
) -> Result<Option<Vec<(DirectoryKind, DirectoryRow)>>, ReplayError> {
    let (Some(mark), Ok(target_order)) = (store.mark_at_or_before(target)?, order(target)) else {
        return Ok(None);
    };
    let rows = store.directory_at(&mark.position)?;
    if mark.position == *target {
        return Ok(Some(rows));
    }
    let mut conn = connect(source).await?;
    if !binary_logs(&mut conn).await?.contains(&mark.position.file) {
        return Ok(None);
    }
    drop(conn);

    let mut assembler = Assembler::new(Directory::from_rows(rows));
    let mut reader_source = source.clone();
    reader_source.server_id = super::command_server_id();
    let reader = BinlogReader::new(reader_source, flavor, mark.position, mark.gtid_state);
    let (transactions_tx, mut transactions_rx) = mpsc::channel(64);
    let (stop_tx, stop_rx) = watch::channel(false);
    let reader_task = tokio::spawn(reader.run(transactions_tx, stop_rx));
    let reached = loop {
        let next = tokio::time::timeout(Duration::from_secs(5), transactions_rx.recv()).await;
        let Ok(Some(transaction)) = next else {
            break false;
        };
        let end = order(&transaction.end)?;
        if end > target_order {
            // `target` is inside this transaction: not a boundary.
            break false;
        }
        assembler.assemble(&transaction);
        if end == target_order {
            break true;
        }
    };
    let _ = stop_tx.send(true);
    drop(transactions_rx);
    let _ = reader_task.await;
    if !reached {
        return Ok(None);
    }
    let rows = assembler
        .directory()
        .rows()
        .map(|(kind, row)| (kind, row.clone()));
    Ok(Some(rows.collect()))
}

/// The assembly and encoding state of a replay.
struct Replayer {
    encoder: RecordEncoder,
    assembler: Assembler,
    data_only: bool,
    enabled: bool,
    next_sequence: u64,
    summary: ReplaySummary,
}

impl Replayer {
    /// Assembles one transaction (names change even outside the range) and
    /// encodes its records into `batch` when it is inside the range.
    fn add(
        &mut self,
        transaction: &crate::source::Transaction,
        in_range: bool,
        batch: &mut Vec<Record>,
    ) -> Result<(), ReplayError> {
        let events = self.assembler.assemble(transaction);
        if !self.enabled {
            return Ok(());
        }
        for event in events {
            // Numbered exactly as the live batch loop numbered them.
            let sequence = self.next_sequence;
            self.next_sequence += 1;
            if !in_range {
                continue;
            }
            let record = if self.data_only {
                self.encoder.encode_data(&event, sequence)?
            } else {
                self.encoder.encode(&event, sequence)?
            };
            self.summary.first_sequence.get_or_insert(sequence);
            batch.push(record);
        }
        Ok(())
    }

    async fn send(
        &mut self,
        sink: &mut AnySink,
        batch: &mut Vec<Record>,
        stop_rx: &watch::Receiver<bool>,
    ) -> Result<(), ReplayError> {
        if batch.is_empty() {
            return Ok(());
        }
        match send_until_acknowledged(sink, batch, stop_rx.clone()).await {
            Ok(()) => {}
            Err(Undelivered::GaveUp) => {
                return Err(ReplayError::Interrupted {
                    records: self.summary.records,
                });
            }
            Err(Undelivered::Sink(error)) => return Err(error.into()),
        }
        self.summary.records += batch.len() as u64;
        batch.clear();
        Ok(())
    }
}

/// The position a bound stands for. An instant later than every
/// transaction stands for the checkpoint: everything delivered is before it.
async fn resolve(
    conn: &mut mysql_async::Conn,
    flavor: Flavor,
    bound: &Bound,
    checkpoint: &BinlogPosition,
) -> Result<BinlogPosition, ReplayError> {
    match bound {
        Bound::Position(position) => Ok(position.clone()),
        Bound::Time(at) => {
            let bar = progress::bar(0, &format!("finding {bound}"));
            let found = first_at_or_after_on(conn, flavor, *at, &bar).await?;
            bar.finish_and_clear();
            Ok(found.map_or_else(|| checkpoint.clone(), |point| point.position))
        }
    }
}

fn target_name(target: &Target) -> String {
    match target {
        Target::Stdout => "stdout".into(),
        Target::File(path) => format!("file:{}", path.display()),
        Target::Configured => "configured".into(),
    }
}

/// The sink for `target`; stdout and file use the configured delimiter when
/// the configured sink has one, a line feed otherwise.
pub(crate) async fn open_target(
    settings: &Settings,
    target: &Target,
) -> Result<AnySink, SinkError> {
    let delimiter: &[u8] = match &settings.sink {
        SinkConfig::Stdout { delimiter } | SinkConfig::File { delimiter, .. } => delimiter.bytes(),
        _ => b"\n",
    };
    match target {
        Target::Stdout => Ok(AnySink::Stdout(StdoutSink::new(delimiter))),
        Target::File(path) => AnySink::file(path, delimiter),
        Target::Configured => AnySink::open(&settings.sink).await,
    }
}

/// The server's binlog files, oldest first.
async fn binary_logs(conn: &mut mysql_async::Conn) -> Result<Vec<String>, SourceError> {
    let rows: Vec<mysql_async::Row> = conn
        .query("SHOW BINARY LOGS")
        .await
        .map_err(SourceError::from_mysql)?;
    Ok(rows
        .into_iter()
        .filter_map(|row| row.get::<String, _>(0))
        .collect())
}

/// The reader stopped before the range ended: its error, or a plain one.
async fn reader_outcome(task: tokio::task::JoinHandle<Result<(), SourceError>>) -> ReplayError {
    match task.await {
        Ok(Err(error)) => error.into(),
        Ok(Ok(())) => ReplayError::Source(SourceError::Connection(
            "the binlog reader stopped before the end of the range".into(),
        )),
        Err(error) => ReplayError::Source(SourceError::Connection(format!(
            "the binlog reader task failed: {error}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_targets_parse() {
        assert_eq!(
            "mysql-bin.000042:1337".parse::<Bound>(),
            Ok(Bound::Position(BinlogPosition::new(
                "mysql-bin.000042",
                1337
            )))
        );
        let error = "binlog:4".parse::<Bound>().unwrap_err();
        assert!(
            error.contains("`binlog` is not a binlog file name"),
            "{error}"
        );
        assert!("nonsense".parse::<Bound>().is_err());
        assert_eq!(
            "2026-12-03T10:00:00Z".parse::<Bound>(),
            Ok(Bound::Time(1_796_292_000))
        );
        assert_eq!(
            Bound::Time(1_796_292_000).to_string(),
            "2026-12-03T10:00:00Z"
        );
        assert!("2026-12-03T25:00:00Z".parse::<Bound>().is_err());
        assert_eq!("stdout".parse::<Target>(), Ok(Target::Stdout));
        assert_eq!("configured".parse::<Target>(), Ok(Target::Configured));
        assert_eq!(
            "file:/tmp/x.ndjson".parse::<Target>(),
            Ok(Target::File("/tmp/x.ndjson".into()))
        );
        let error = "file:".parse::<Target>().unwrap_err();
        assert!(
            error.contains("`stdout`, `file:PATH` or `configured`"),
            "{error}"
        );
    }
}
