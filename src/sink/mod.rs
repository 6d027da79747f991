//! Sinks: where records go, and the point at which they count as delivered.
//!
//! Records enter through [`Sink::send_batch`] in the order the pipeline
//! produced them; the call returns once the sink acknowledged every one of
//! them, and only then may the pipeline move the checkpoint past them. A sink
//! that can say how far it got ([`Sink::offset`], the file sink's length)
//! has that value stored with the checkpoint, so a restart can cut off what
//! was written but never checkpointed.
//!
//! Framing: the stdout and file sinks write the configured delimiter after
//! each record (`sink.delimiter`, a newline unless told otherwise; `none` for
//! records that end in their own terminator). Beanstalk sends each record as
//! one job and Firehose sends the bytes as they are: a job and a Firehose
//! record need no delimiter.
//!
//! # Layout
//!
//! The two local sinks are single files here: [`StdoutSink`] and [`FileSink`].
//! The network sinks have a folder each ([`beanstalk`], [`firehose`]) holding
//! their configuration, client, sink loop and tests, and an error enum of
//! their own that is one variant of [`SinkError`].
//!
//! # Failure handling
//!
//! Every [`SinkError`] says through [`SinkError::is_transient`] whether
//! sending the same batch again may succeed. A batch that failed, or whose
//! future was dropped, may have been delivered in part; a sink either undoes
//! that before the next batch (the file sink truncates back to its last
//! acknowledged length) or reports the error as definite.
//!
//! [`Sink`] uses `impl Future` returns, so it is not object safe: the
//! pipeline is generic over the sink, or matches on an enum of sinks.

mod any;
pub mod beanstalk;
mod blocking;
mod file;
pub mod firehose;
mod stdout;

use std::io;
use std::path::PathBuf;

pub use any::AnySink;
pub use beanstalk::{BeanstalkConfig, BeanstalkSink};
pub use file::FileSink;
pub use firehose::{FirehoseConfig, FirehoseMode, FirehoseSink};
pub use stdout::StdoutSink;

/// The delimiter written after each record unless configured otherwise.
pub const DEFAULT_DELIMITER: &[u8] = b"\n";

/// One record to deliver: an encoded ticket event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The ticket the record is about, for logs and partitioning.
    pub ticket_id: u64,
    /// The encoded event, without delimiter.
    pub body: Vec<u8>,
}

/// A destination for records.
pub trait Sink: Send {
    /// Delivers `records` in order; returns once every one of them is
    /// acknowledged (written and flushed; for the file sink, also fsync'ed).
    ///
    /// # Errors
    ///
    /// A [`SinkError`]; when it is transient, calling again with the same
    /// records is safe.
    fn send_batch(
        &mut self,
        records: &[Record],
    ) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// The offset to store with the checkpoint (the file sink's length after
    /// the last acknowledged batch), `None` if the sink has none.
    fn offset(&self) -> Option<u64>;

    /// Short name for logs: `stdout`, `file`.
    fn name(&self) -> &'static str;
}

/// Why a sink could not deliver records or could not start.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Writing or flushing standard output failed.
    #[error("cannot write records to stdout: {source}")]
    Stdout {
        /// The error of the write; `BrokenPipe` when the reader went away.
        source: io::Error,
    },

    /// The sink file cannot be opened, inspected or truncated at start-up.
    #[error("cannot open sink file {}: {source}", path.display())]
    OpenFile {
        /// The configured file.
        path: PathBuf,
        /// What the file system said.
        source: io::Error,
    },

    /// The sink file is shorter than the checkpoint says it was.
    #[error(
        "sink file {} is {len} bytes long but the checkpoint says {offset} bytes were \
         written to it: the file was truncated or replaced behind osticket-cdc's back; \
         restore the file, or delete the checkpoint with `checkpoint reset`",
        path.display()
    )]
    FileShorter {
        /// The configured file.
        path: PathBuf,
        /// Its length now.
        len: u64,
        /// The length stored with the checkpoint.
        offset: u64,
    },

    /// Writing records to the sink file failed.
    #[error("cannot write records to sink file {}: {source}", path.display())]
    WriteFile {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        source: io::Error,
    },

    /// Flushing the sink file to disk failed.
    #[error("cannot sync sink file {} to disk: {source}", path.display())]
    SyncFile {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        source: io::Error,
    },

    /// The Beanstalk sink failed; transient or definite as the inner error says.
    #[error(transparent)]
    Beanstalk(#[from] beanstalk::BeanstalkError),

    /// The Firehose sink failed; transient or definite as the inner error says.
    #[error(transparent)]
    Firehose(#[from] firehose::FirehoseError),

    /// The runtime shut down while a write was in progress.
    #[error("the {sink} sink was stopped in the middle of a write by the runtime shutting down")]
    Aborted {
        /// The sink's name.
        sink: &'static str,
    },
}

impl SinkError {
    /// True when sending the same batch again may succeed (retry with
    /// backoff); false when the connector must stop and tell the operator.
    ///
    /// A full disk or an interrupted file write is transient: the file sink
    /// cuts the partial batch before retrying. A failed fsync is not: after
    /// one, Linux may have dropped the dirty pages, and a second fsync would
    /// report success for data that never reached the disk.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Beanstalk(error) => error.is_transient(),
            Self::Firehose(error) => error.is_transient(),
            Self::WriteFile { source, .. } => matches!(
                source.kind(),
                io::ErrorKind::StorageFull
                    | io::ErrorKind::QuotaExceeded
                    | io::ErrorKind::Interrupted
                    | io::ErrorKind::WouldBlock
                    | io::ErrorKind::TimedOut
            ),
            Self::Stdout { .. }
            | Self::OpenFile { .. }
            | Self::FileShorter { .. }
            | Self::SyncFile { .. }
            | Self::Aborted { .. } => false,
        }
    }
}

/// The bytes of `records` as written: each body followed by `delimiter`.
fn frame(records: &[Record], delimiter: &[u8]) -> Vec<u8> {
    let len = records.iter().map(|r| r.body.len() + delimiter.len()).sum();
    let mut bytes = Vec::with_capacity(len);
    for record in records {
        bytes.extend_from_slice(&record.body);
        bytes.extend_from_slice(delimiter);
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_puts_the_delimiter_after_every_record() {
        let records = [
            Record {
                ticket_id: 1,
                body: b"a".to_vec(),
            },
            Record {
                ticket_id: 2,
                body: b"bc".to_vec(),
            },
        ];
        assert_eq!(frame(&records, b"\n"), b"a\nbc\n");
        assert_eq!(frame(&records, b"\x1e\r\n"), b"a\x1e\r\nbc\x1e\r\n");
        assert_eq!(frame(&records, b""), b"abc");
        assert!(frame(&[], b"\n").is_empty());
    }

    #[test]
    fn only_recoverable_file_writes_are_transient() {
        let path = PathBuf::from("/tmp/x");
        let full = io::Error::from(io::ErrorKind::StorageFull);
        assert!(
            SinkError::WriteFile {
                path: path.clone(),
                source: full
            }
            .is_transient()
        );
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        assert!(
            !SinkError::WriteFile {
                path: path.clone(),
                source: denied
            }
            .is_transient()
        );
        let eio = io::Error::other("EIO");
        assert!(!SinkError::SyncFile { path, source: eio }.is_transient());
        let pipe = io::Error::from(io::ErrorKind::BrokenPipe);
        assert!(!SinkError::Stdout { source: pipe }.is_transient());
    }
}
