//! [`StdoutSink`]: records on standard output, each followed by the
//! delimiter, flushed after every batch.
//!
//! A batch counts as acknowledged once it is flushed to the pipe or terminal;
//! what the reader does with it afterwards is out of sight. Logs go to
//! standard error, so the two never mix.
//!
//! Errors are definite: bytes already handed to a pipe cannot be taken back,
//! so a retry would repeat part of a batch. A reader that goes away shows up
//! as `BrokenPipe` (Rust ignores `SIGPIPE`).

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use super::blocking::BlockingWrite;
use super::{Record, Sink, SinkError, frame};

/// The sink's name in logs and errors.
const NAME: &str = "stdout";

/// Writes records to standard output.
pub struct StdoutSink {
    /// Bytes written after each record.
    delimiter: Vec<u8>,
    /// Where bytes go: the process's stdout, or a buffer in tests. Shared
    /// with the blocking write that is in flight.
    out: Arc<Mutex<dyn Write + Send>>,
    /// The write in flight, if any.
    write: BlockingWrite<std::io::Result<()>>,
}

impl std::fmt::Debug for StdoutSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StdoutSink")
            .field("delimiter", &self.delimiter)
            .finish_non_exhaustive()
    }
}

impl StdoutSink {
    /// A sink writing to this process's standard output, putting `delimiter`
    /// after each record ([`super::DEFAULT_DELIMITER`] for lines).
    pub fn new(delimiter: impl Into<Vec<u8>>) -> Self {
        Self::with_writer(delimiter, Arc::new(Mutex::new(std::io::stdout())))
    }

    /// A sink writing to `out` instead, for tests.
    fn with_writer(delimiter: impl Into<Vec<u8>>, out: Arc<Mutex<dyn Write + Send>>) -> Self {
        Self {
            delimiter: delimiter.into(),
            out,
            write: BlockingWrite::new(),
        }
    }
}

impl Sink for StdoutSink {
    async fn send_batch(&mut self, records: &[Record]) -> Result<(), SinkError> {
        if records.is_empty() {
            return Ok(());
        }
        let bytes = frame(records, &self.delimiter);
        let out = Arc::clone(&self.out);
        let written = self
            .write
            .run(NAME, move || {
                // A panic while holding the lock cannot leave the writer in
                // a state worse than a failed write, so poisoning is ignored.
                let mut out = out.lock().unwrap_or_else(PoisonError::into_inner);
                out.write_all(&bytes)?;
                out.flush()
            })
            .await?;
        written.map_err(|source| SinkError::Stdout { source })
    }

    fn offset(&self) -> Option<u64> {
        None
    }

    fn name(&self) -> &'static str {
        NAME
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that appends to a shared buffer and counts flushes.
    #[derive(Default)]
    struct Captured {
        bytes: Vec<u8>,
        flushes: usize,
    }

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.bytes.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            self.flushes += 1;
            Ok(())
        }
    }

    /// A writer whose reader went away.
    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn record(ticket_id: u64, body: &str) -> Record {
        Record {
            ticket_id,
            body: body.as_bytes().to_vec(),
        }
    }

    #[tokio::test]
    async fn stdout_sink_writes_delimited_records_and_flushes_per_batch() {
        let captured = Arc::new(Mutex::new(Captured::default()));
        let mut sink = StdoutSink::with_writer("\r\n", captured.clone());
        sink.send_batch(&[record(1, "{\"a\":1}"), record(2, "{\"b\":2}")])
            .await
            .unwrap();
        sink.send_batch(&[]).await.unwrap();
        sink.send_batch(&[record(3, "c")]).await.unwrap();

        let captured = captured.lock().unwrap();
        assert_eq!(captured.bytes, b"{\"a\":1}\r\n{\"b\":2}\r\nc\r\n");
        assert_eq!(captured.flushes, 2, "one flush per non-empty batch");
        assert_eq!(sink.offset(), None);
        assert_eq!(sink.name(), "stdout");
    }

    #[tokio::test]
    async fn stdout_sink_broken_pipe_is_definite() {
        let mut sink = StdoutSink::with_writer(
            super::super::DEFAULT_DELIMITER,
            Arc::new(Mutex::new(Closed)),
        );
        let err = sink.send_batch(&[record(1, "x")]).await.unwrap_err();
        assert!(!err.is_transient());
        assert_eq!(
            err.to_string(),
            "cannot write records to stdout: broken pipe"
        );
    }
}
