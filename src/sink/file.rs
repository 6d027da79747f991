//! [`FileSink`]: records appended to a local file, each followed by the
//! delimiter, fsync'ed after every batch.
//!
//! # Resumption
//!
//! The file's length after each acknowledged batch is the sink's offset and
//! is stored with the checkpoint. On restart, [`FileSink::open`] gets that
//! offset back: bytes past it were written after the last checkpoint and
//! will be produced again, so they are cut off; a file shorter than it lost
//! acknowledged records, which is an error for the operator to resolve.
//!
//! # Failure handling
//!
//! A failed or abandoned batch may have left part of itself in the file. The
//! sink remembers that, and the next batch first truncates the file back to
//! the last acknowledged length, so retrying a batch never duplicates
//! records. See [`SinkError::is_transient`] for which errors are worth a
//! retry.
//!
//! File operations use `std::fs` on tokio's blocking pool (see the `blocking`
//! module for why not `tokio::fs`). [`FileSink::open`] blocks the calling
//! thread briefly; it runs once at start-up.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::blocking::BlockingWrite;
use super::{Record, Sink, SinkError, frame};

/// The sink's name in logs and errors.
const NAME: &str = "file";

/// Appends records to a file.
#[derive(Debug)]
pub struct FileSink {
    /// The file, for error messages; shared with the write in flight.
    path: Arc<PathBuf>,
    /// The file opened for appending; shared with the write in flight.
    file: Arc<File>,
    /// Bytes written after each record.
    delimiter: Vec<u8>,
    /// The file's length after the last acknowledged batch.
    acknowledged_len: u64,
    /// Set while bytes past `acknowledged_len` may exist: a write failed or
    /// its future was dropped. The next batch truncates first.
    unacknowledged_tail: bool,
    /// The write in flight, if any.
    write: BlockingWrite<Result<(), SinkError>>,
}

impl FileSink {
    /// Opens `path` for appending, creating it if missing, with `delimiter`
    /// after each record.
    ///
    /// With `resume_offset` (the offset stored with the checkpoint), a longer
    /// file is truncated to it, with a warning giving the bytes cut. Without
    /// it (a fresh start), records are appended to whatever the file holds.
    ///
    /// # Errors
    ///
    /// [`SinkError::FileShorter`] when the file is shorter than
    /// `resume_offset`; [`SinkError::OpenFile`] when it cannot be opened,
    /// inspected or truncated.
    pub fn open(
        path: &Path,
        delimiter: impl Into<Vec<u8>>,
        resume_offset: Option<u64>,
    ) -> Result<Self, SinkError> {
        let open_error = |source| SinkError::OpenFile {
            path: path.to_owned(),
            source,
        };
        let existed = path.try_exists().map_err(open_error)?;
        if let Some(offset) = resume_offset.filter(|&offset| !existed && offset > 0) {
            return Err(SinkError::FileShorter {
                path: path.to_owned(),
                len: 0,
                offset,
            });
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(open_error)?;
        if !existed {
            sync_parent_dir(path).map_err(open_error)?;
        }

        // Cut what was written after the last checkpoint; it comes again.
        let len = file.metadata().map_err(open_error)?.len();
        let acknowledged_len = match resume_offset {
            None => len,
            Some(offset) if len < offset => {
                return Err(SinkError::FileShorter {
                    path: path.to_owned(),
                    len,
                    offset,
                });
            }
            Some(offset) => {
                if len > offset {
                    file.set_len(offset).map_err(open_error)?;
                    file.sync_data().map_err(open_error)?;
                    tracing::warn!(
                        sink = "file",
                        path = %path.display(),
                        offset,
                        bytes = len - offset,
                        "cut bytes written after the last checkpoint from the sink file; \
                         they will be written again"
                    );
                }
                offset
            }
        };

        Ok(Self {
            path: Arc::new(path.to_owned()),
            file: Arc::new(file),
            delimiter: delimiter.into(),
            acknowledged_len,
            unacknowledged_tail: false,
            write: BlockingWrite::new(),
        })
    }

    /// The file records go to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Sink for FileSink {
    async fn send_batch(&mut self, records: &[Record]) -> Result<(), SinkError> {
        if records.is_empty() {
            return Ok(());
        }
        let bytes = frame(records, &self.delimiter);
        let written = bytes.len() as u64;

        // Until the write below succeeds, the file may hold part of it.
        let truncate_to = self.unacknowledged_tail.then_some(self.acknowledged_len);
        self.unacknowledged_tail = true;
        let (file, path) = (Arc::clone(&self.file), Arc::clone(&self.path));
        self.write
            .run(NAME, move || append(&file, &path, truncate_to, &bytes))
            .await??;

        self.acknowledged_len += written;
        self.unacknowledged_tail = false;
        Ok(())
    }

    fn offset(&self) -> Option<u64> {
        Some(self.acknowledged_len)
    }

    fn name(&self) -> &'static str {
        NAME
    }
}

/// Cuts the file to `truncate_to` if given, appends `bytes` and syncs them.
fn append(
    file: &File,
    path: &Path,
    truncate_to: Option<u64>,
    bytes: &[u8],
) -> Result<(), SinkError> {
    let write_error = |source| SinkError::WriteFile {
        path: path.to_owned(),
        source,
    };
    if let Some(len) = truncate_to {
        file.set_len(len).map_err(write_error)?;
    }
    let mut file_writer = file;
    file_writer.write_all(bytes).map_err(write_error)?;
    file.sync_data().map_err(|source| SinkError::SyncFile {
        path: path.to_owned(),
        source,
    })
}

/// Makes a newly created file's directory entry durable, so the file cannot
/// vanish in a crash after its contents were synced and checkpointed.
fn sync_parent_dir(path: &Path) -> std::io::Result<()> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(parent)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(bodies: &[&str]) -> Vec<Record> {
        let record = |(i, body): (usize, &&str)| Record {
            ticket_id: i as u64 + 1,
            body: body.as_bytes().to_vec(),
        };
        bodies.iter().enumerate().map(record).collect()
    }

    #[tokio::test]
    async fn file_sink_counts_offset_per_batch_and_appends_on_fresh_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tickets.ndjson");
        std::fs::write(&path, "old\n").unwrap();

        let mut sink = FileSink::open(&path, "\n", None).unwrap();
        assert_eq!(
            sink.offset(),
            Some(4),
            "a fresh start appends after what exists"
        );
        sink.send_batch(&records(&["a", "bc"])).await.unwrap();
        assert_eq!(sink.offset(), Some(9));
        sink.send_batch(&[]).await.unwrap();
        sink.send_batch(&records(&["def"])).await.unwrap();
        assert_eq!(sink.offset(), Some(13));
        assert_eq!(std::fs::read(&path).unwrap(), b"old\na\nbc\ndef\n");
        assert_eq!(sink.name(), "file");
    }

    #[tokio::test]
    async fn file_sink_uses_the_configured_delimiter() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/tickets.csv");
        assert!(
            FileSink::open(&path, "\n", None).is_err(),
            "parent directories are not created"
        );

        let path = dir.path().join("tickets.csv");
        let mut sink = FileSink::open(&path, b"\x1e\r\n".to_vec(), None).unwrap();
        sink.send_batch(&records(&["1,x", "2,y"])).await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"1,x\x1e\r\n2,y\x1e\r\n");
        assert_eq!(sink.offset(), Some(12));
    }

    #[tokio::test]
    async fn file_sink_cuts_unacknowledged_bytes_on_resume() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tickets.ndjson");
        std::fs::write(&path, "a\nb\npartial").unwrap();

        let mut sink = FileSink::open(&path, "\n", Some(4)).unwrap();
        assert_eq!(sink.offset(), Some(4));
        assert_eq!(std::fs::read(&path).unwrap(), b"a\nb\n");
        sink.send_batch(&records(&["c"])).await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a\nb\nc\n");
        assert_eq!(sink.offset(), Some(6));

        // Resuming at exactly the file's length cuts nothing.
        drop(sink);
        let sink = FileSink::open(&path, "\n", Some(6)).unwrap();
        assert_eq!(sink.offset(), Some(6));
        assert_eq!(std::fs::read(&path).unwrap(), b"a\nb\nc\n");
    }

    #[test]
    fn file_sink_refuses_a_file_shorter_than_the_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tickets.ndjson");
        std::fs::write(&path, "a\n").unwrap();

        let err = FileSink::open(&path, "\n", Some(10)).unwrap_err();
        assert!(
            matches!(
                err,
                SinkError::FileShorter {
                    len: 2,
                    offset: 10,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(!err.is_transient());
        assert_eq!(
            err.to_string(),
            format!(
                "sink file {} is 2 bytes long but the checkpoint says 10 bytes were written to \
                 it: the file was truncated or replaced behind osticket-cdc's back; restore \
                 the file, or delete the checkpoint with `checkpoint reset`",
                path.display()
            )
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"a\n",
            "the file is left alone"
        );

        // A missing file with a stored offset is the same case.
        let missing = dir.path().join("gone.ndjson");
        let err = FileSink::open(&missing, "\n", Some(1)).unwrap_err();
        assert!(
            matches!(
                err,
                SinkError::FileShorter {
                    len: 0,
                    offset: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(!missing.exists(), "no empty file is created in its place");
    }

    #[tokio::test]
    async fn file_sink_retry_cuts_the_partial_batch_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tickets.ndjson");
        let mut sink = FileSink::open(&path, "\n", None).unwrap();
        sink.send_batch(&records(&["a"])).await.unwrap();

        // As if a write had failed half-way: bytes past the offset.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"hal")
            .unwrap();
        sink.unacknowledged_tail = true;
        sink.send_batch(&records(&["b"])).await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a\nb\n");
        assert_eq!(sink.offset(), Some(4));
    }
}
