//! The checkpoint store: where the connector stands, kept in a small RocksDB
//! database so a restart resumes exactly where the sink's acknowledgements
//! ended.
//!
//! Data enters through [`CheckpointStore::commit`], which the pipeline calls
//! after a sink acknowledged a batch, with the [`Checkpoint`] after that batch
//! and the [`DirectoryDelta`] of department and help-topic rows changed by the
//! same transactions. It leaves through [`CheckpointStore::load`] and
//! [`CheckpointStore::load_directory`] at start-up.
//!
//! # Key layout
//!
//! Keys are ASCII and sort the way they are read back:
//!
//! | key                      | value                                          |
//! |--------------------------|------------------------------------------------|
//! | `meta/format`            | format version in decimal, now `1`             |
//! | `checkpoint`             | JSON of the [`Checkpoint`]                     |
//! | `dir/d/<id>`             | JSON [`DirectoryRow`] of a department          |
//! | `dir/t/<id>`             | JSON [`DirectoryRow`] of a help topic          |
//! | `history/c/<file>/<pos>` | commit mark: JSON [`Checkpoint`] at that point |
//! | `history/v/<file>/<pos>` | JSON directory changes committed at that point |
//!
//! `<id>` is the row id as 20 zero-padded decimal digits, so rows come back in
//! id order. `<file>` is the binlog file's number (`42` for
//! `mysql-bin.000042`) and `<pos>` the byte offset, both 20 digits, so history
//! keys sort in binlog order.
//!
//! # History
//!
//! `replay` re-emits a past range byte for byte, which needs the names of
//! departments and topics as they were and the sequence numbers records had.
//! Every commit that delivered records writes a commit mark (the checkpoint
//! at that point); every commit that changed the directory writes its
//! changes. [`CheckpointStore::directory_at`] replays the changes up to a
//! mark; [`CheckpointStore::mark_at_or_before`] finds where to start reading.
//! A mark is about 150 bytes, written at most once per batch; marks in binlog
//! files the server has purged are dropped at start-up
//! ([`CheckpointStore::prune_marks_before`]). Directory changes are kept:
//! osTicket's department and topic tables change a few times a year. Binlog
//! file names without a numeric extension get no history (every server names
//! them `<base>.NNNNNN`). In the checkpoint JSON the position is `FILE:POS` text and the
//! GTID state is the server's own notation: the same text logs and command
//! line flags use, so a stored value can be read and pasted by hand.
//!
//! The format version changes when a reader of the old layout would misread
//! the new one. Fields added to the checkpoint JSON with a default do not
//! change it: older values simply lack them. A store whose version is newer
//! than this build's refuses to open, so an old binary never writes into a
//! layout it does not understand.
//!
//! # Resumption
//!
//! The checkpoint holds the end of the last transaction whose records the sink
//! acknowledged, a transaction boundary, and the directory state as of that
//! same point. Both are written in one synced `WriteBatch`: after a crash the
//! store holds either the old or the new pair, never a position with the
//! directory of another.
//!
//! # Ordering
//!
//! Inside a [`DirectoryDelta`], changes apply in their order in the vector; a
//! `replace` first removes every stored directory row, so a full snapshot is
//! written as `replace: true` with one upsert per row.
//!
//! # Failure handling
//!
//! Every error is definite: a store that cannot be read or written stops the
//! connector (see [`CheckpointError`]). RocksDB's `LOCK` file keeps a second
//! process (or a second open in the same process) out of a directory; that
//! case gets its own error, [`CheckpointError::Locked`].
//!
//! Calls block the calling thread, `commit` for an fsync; from async code
//! run them on the blocking pool. The store is `Send + Sync`.

mod error;
mod keys;
mod store;

#[cfg(test)]
mod tests;

pub use error::CheckpointError;
pub use keys::binlog_index;
pub use store::CheckpointStore;

use crate::source::{BinlogPosition, DirectoryChange, DirectoryKind, DirectoryRow, GtidSet};

/// Where the connector stands: everything up to here reached the sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// End of the last transaction whose records the sink acknowledged.
    pub position: BinlogPosition,
    /// GTID state at `position`.
    pub gtid_state: GtidSet,
    /// Commit time (UTC seconds) of that transaction, 0 if unknown.
    pub timestamp: u32,
    /// The file sink's length after those records; `None` for other sinks.
    pub sink_offset: Option<u64>,
    /// The sequence number the next emitted event gets (the first is 1).
    pub next_sequence: u64,
}

impl Checkpoint {
    /// A checkpoint at `position` before anything was emitted: no commit
    /// time, no sink offset, next sequence number 1.
    pub fn new(position: BinlogPosition, gtid_state: GtidSet) -> Self {
        Self {
            position,
            gtid_state,
            timestamp: 0,
            sink_offset: None,
            next_sequence: 1,
        }
    }
}

/// Department and help-topic changes committed together with a checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryDelta {
    /// Remove every stored directory row before applying `changes`: the
    /// changes are then a complete snapshot.
    pub replace: bool,
    /// Changes in the order they happened.
    pub changes: Vec<(DirectoryKind, DirectoryChange)>,
}

impl DirectoryDelta {
    /// A delta that leaves the stored directory as it is.
    pub fn none() -> Self {
        Self::default()
    }

    /// A delta that replaces the stored directory with `rows`.
    pub fn snapshot(rows: impl IntoIterator<Item = (DirectoryKind, DirectoryRow)>) -> Self {
        let changes = rows
            .into_iter()
            .map(|(kind, row)| (kind, DirectoryChange::Upsert(row)));
        Self {
            replace: true,
            changes: changes.collect(),
        }
    }

    /// True when committing this delta changes nothing in the directory.
    pub fn is_empty(&self) -> bool {
        !self.replace && self.changes.is_empty()
    }
}
