//! [`CheckpointStore`]: the RocksDB database behind the checkpoint, opened
//! with options for a store of a few kilobytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rocksdb::{
    BlockBasedOptions, Cache, DB, IteratorMode, Options, ReadOptions, WriteBatch, WriteOptions,
};

use super::keys::{
    self, CHANGES_PREFIX, CHECKPOINT_KEY, DIRECTORY_END, DIRECTORY_START, FORMAT_KEY,
    FORMAT_VERSION, MARK_PREFIX,
};
use super::{Checkpoint, CheckpointError, DirectoryDelta};
use crate::source::{BinlogPosition, DirectoryChange, DirectoryKind, DirectoryRow};

/// Memtable size: the store takes a few hundred bytes per commit, so this
/// still holds thousands of commits before a flush, and keeps RocksDB's arena
/// blocks (an eighth of it) small.
const WRITE_BUFFER_BYTES: usize = 4 << 20;

/// Block cache for reads, which happen almost only at start-up.
const BLOCK_CACHE_BYTES: usize = 1 << 20;

/// The size at which RocksDB's own `LOG` file rolls over; two are kept.
const INFO_LOG_BYTES: usize = 1 << 20;

/// The checkpoint store in one directory, holding RocksDB's lock on it for as
/// long as it lives. Dropping it closes the database and releases the lock.
pub struct CheckpointStore {
    /// The directory, for error messages.
    dir: PathBuf,
    /// The open database.
    db: DB,
    /// `next_sequence` of the last commit mark written or found, so a mark
    /// is written only when records were delivered; `None` until known.
    last_mark_sequence: Mutex<Option<u64>>,
}

impl std::fmt::Debug for CheckpointStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointStore")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl CheckpointStore {
    /// Opens the store in `dir`, creating the directory and an empty store
    /// when they are missing.
    ///
    /// # Errors
    ///
    /// [`CheckpointError::Locked`] when another process (or another store in
    /// this process) has the directory open, [`CheckpointError::NewerFormat`]
    /// when a newer osticket-cdc wrote it, and the other variants when the
    /// directory cannot be created or RocksDB cannot open it.
    pub fn open(dir: &Path) -> Result<Self, CheckpointError> {
        std::fs::create_dir_all(dir).map_err(|source| CheckpointError::CreateDir {
            dir: dir.to_owned(),
            source,
        })?;
        let db = DB::open(&options(), dir).map_err(|e| CheckpointError::from_open(dir, e))?;
        let store = Self {
            dir: dir.to_owned(),
            db,
            last_mark_sequence: Mutex::new(None),
        };

        // A fresh store gets its layout version before anything else; an
        // existing one must have a version this build understands.
        match store.read(FORMAT_KEY)? {
            None => {
                let mut batch = WriteBatch::default();
                batch.put(FORMAT_KEY, FORMAT_VERSION.to_string());
                store.write(batch)?;
            }
            Some(value) => {
                let found = keys::decode_format(&value)
                    .map_err(|reason| CheckpointError::corrupt(dir, FORMAT_KEY, reason))?;
                if found > FORMAT_VERSION {
                    return Err(CheckpointError::NewerFormat {
                        dir: dir.to_owned(),
                        found,
                        supported: FORMAT_VERSION,
                    });
                }
                if found != FORMAT_VERSION {
                    let reason = format!("format version {found} was never written");
                    return Err(CheckpointError::corrupt(dir, FORMAT_KEY, reason));
                }
            }
        }
        Ok(store)
    }

    /// Opens the store in `dir` for reading only, without RocksDB's lock, so
    /// that `checkpoint show` works while a connector runs. It sees what was
    /// committed when it opened.
    ///
    /// # Errors
    ///
    /// [`CheckpointError::Open`] when there is no store in `dir` or RocksDB
    /// cannot read it.
    pub fn open_read_only(dir: &Path) -> Result<Self, CheckpointError> {
        let db = DB::open_for_read_only(&options(), dir, false)
            .map_err(|e| CheckpointError::from_open(dir, e))?;
        Ok(Self {
            dir: dir.to_owned(),
            db,
            last_mark_sequence: Mutex::new(None),
        })
    }

    /// The directory the store lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The stored checkpoint, `None` when nothing was committed yet (or after
    /// [`clear`](Self::clear)).
    ///
    /// # Errors
    ///
    /// [`CheckpointError::Corrupt`] when the stored value cannot be decoded,
    /// [`CheckpointError::Read`] when RocksDB fails.
    pub fn load(&self) -> Result<Option<Checkpoint>, CheckpointError> {
        let Some(value) = self.read(CHECKPOINT_KEY)? else {
            return Ok(None);
        };
        keys::decode_checkpoint(&value)
            .map(Some)
            .map_err(|reason| CheckpointError::corrupt(&self.dir, CHECKPOINT_KEY, reason))
    }

    /// Every stored department and help-topic row: departments first, each
    /// kind in id order.
    ///
    /// # Errors
    ///
    /// [`CheckpointError::Corrupt`] when a row cannot be decoded or its key
    /// does not match it, [`CheckpointError::Read`] when RocksDB fails.
    pub fn load_directory(&self) -> Result<Vec<(DirectoryKind, DirectoryRow)>, CheckpointError> {
        let mut read_options = ReadOptions::default();
        read_options.set_iterate_upper_bound(DIRECTORY_END);
        let mode = IteratorMode::From(DIRECTORY_START, rocksdb::Direction::Forward);

        let mut rows = Vec::new();
        for entry in self.db.iterator_opt(mode, read_options) {
            let (key, value) = entry.map_err(|source| self.read_error(source))?;
            let row = keys::decode_row(&key, &value)
                .map_err(|reason| CheckpointError::corrupt(&self.dir, &key, reason))?;
            rows.push(row);
        }
        Ok(rows)
    }

    /// Stores `checkpoint` and applies `delta` to the stored directory, both
    /// or neither: one `WriteBatch`, synced to disk before this returns.
    ///
    /// With `delta.replace` every stored directory row is removed first.
    ///
    /// The same batch extends the history (see the module docs): the delta
    /// under the checkpoint's position when it changes anything, and a commit
    /// mark when records were delivered since the last one. A `replace`
    /// (first start, reset) drops the history after its position, which the
    /// stream will write again.
    ///
    /// # Errors
    ///
    /// [`CheckpointError::Write`] when RocksDB fails; the previous checkpoint
    /// and directory then stay in place.
    pub fn commit(
        &self,
        checkpoint: &Checkpoint,
        delta: &DirectoryDelta,
    ) -> Result<(), CheckpointError> {
        let mut batch = WriteBatch::default();
        if delta.replace {
            // A range tombstone hides only entries older than itself, so the
            // puts that follow in the same batch survive it.
            batch.delete_range(DIRECTORY_START, DIRECTORY_END);
        }
        for (kind, change) in &delta.changes {
            match change {
                DirectoryChange::Upsert(row) => {
                    batch.put(keys::directory_key(*kind, row.id), keys::encode_row(row));
                }
                DirectoryChange::Delete { id } => batch.delete(keys::directory_key(*kind, *id)),
            }
        }
        let mark = self.add_history(&mut batch, checkpoint, delta)?;
        batch.put(CHECKPOINT_KEY, keys::encode_checkpoint(checkpoint));
        self.write(batch)?;
        if mark {
            *self.lock_mark() = Some(checkpoint.next_sequence);
        }
        Ok(())
    }

    /// Puts the history entries of one commit into `batch`; true when a
    /// commit mark is among them.
    fn add_history(
        &self,
        batch: &mut WriteBatch,
        checkpoint: &Checkpoint,
        delta: &DirectoryDelta,
    ) -> Result<bool, CheckpointError> {
        let position = &checkpoint.position;
        let (Some(mark_key), Some(changes_key)) = (
            keys::history_key(MARK_PREFIX, position),
            keys::history_key(CHANGES_PREFIX, position),
        ) else {
            // A file name without an index cannot be ordered: no history.
            return Ok(false);
        };
        if delta.replace {
            batch.delete_range(mark_key.as_slice(), &keys::history_end(MARK_PREFIX));
            batch.delete_range(changes_key.as_slice(), &keys::history_end(CHANGES_PREFIX));
        }
        if !delta.is_empty() {
            batch.put(&changes_key, keys::encode_changes(delta));
        }
        let last = match *self.lock_mark() {
            Some(last) => Some(last),
            None => self.last_mark()?.map(|mark| mark.next_sequence),
        };
        let mark = delta.replace || !delta.is_empty() || last != Some(checkpoint.next_sequence);
        if mark {
            batch.put(&mark_key, keys::encode_checkpoint(checkpoint));
        }
        Ok(mark)
    }

    fn lock_mark(&self) -> std::sync::MutexGuard<'_, Option<u64>> {
        // The guarded value is a plain number: a panic elsewhere cannot
        // leave it half-written.
        self.last_mark_sequence
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The first commit mark: where replayable history begins.
    ///
    /// # Errors
    ///
    /// [`CheckpointError::Corrupt`] or [`CheckpointError::Read`].
    pub fn first_mark(&self) -> Result<Option<Checkpoint>, CheckpointError> {
        let start = MARK_PREFIX.as_bytes();
        self.mark_from(IteratorMode::From(start, rocksdb::Direction::Forward))
    }

    /// The last commit mark.
    ///
    /// # Errors
    ///
    /// [`CheckpointError::Corrupt`] or [`CheckpointError::Read`].
    pub fn last_mark(&self) -> Result<Option<Checkpoint>, CheckpointError> {
        let end = keys::history_end(MARK_PREFIX);
        self.mark_from(IteratorMode::From(&end, rocksdb::Direction::Reverse))
    }

    /// The last commit mark at or before `position`: a transaction boundary
    /// where the connector stood, with the sequence number it had there.
    /// `None` when the history begins later (or `position` cannot be
    /// ordered).
    ///
    /// # Errors
    ///
    /// [`CheckpointError::Corrupt`] or [`CheckpointError::Read`].
    pub fn mark_at_or_before(
        &self,
        position: &BinlogPosition,
    ) -> Result<Option<Checkpoint>, CheckpointError> {
        let Some(key) = keys::history_key(MARK_PREFIX, position) else {
            return Ok(None);
        };
        self.mark_from(IteratorMode::From(&key, rocksdb::Direction::Reverse))
    }

    /// The first mark the iterator yields inside the marks' key range.
    fn mark_from(&self, mode: IteratorMode<'_>) -> Result<Option<Checkpoint>, CheckpointError> {
        let mut read_options = ReadOptions::default();
        read_options.set_iterate_lower_bound(MARK_PREFIX.as_bytes());
        read_options.set_iterate_upper_bound(keys::history_end(MARK_PREFIX));
        let Some(entry) = self.db.iterator_opt(mode, read_options).next() else {
            return Ok(None);
        };
        let (key, value) = entry.map_err(|source| self.read_error(source))?;
        keys::decode_checkpoint(&value)
            .map(Some)
            .map_err(|reason| CheckpointError::corrupt(&self.dir, &key, reason))
    }

    /// The department and help-topic rows as they were at `position` (a
    /// commit mark's), rebuilt from the history: departments first, each
    /// kind in id order.
    ///
    /// # Errors
    ///
    /// [`CheckpointError::Corrupt`] or [`CheckpointError::Read`].
    pub fn directory_at(
        &self,
        position: &BinlogPosition,
    ) -> Result<Vec<(DirectoryKind, DirectoryRow)>, CheckpointError> {
        let mut rows = BTreeMap::new();
        let Some(last) = keys::history_key(CHANGES_PREFIX, position) else {
            return Ok(Vec::new());
        };
        let mut read_options = ReadOptions::default();
        read_options.set_iterate_upper_bound(keys::history_end(CHANGES_PREFIX));
        let start = CHANGES_PREFIX.as_bytes();
        let mode = IteratorMode::From(start, rocksdb::Direction::Forward);
        for entry in self.db.iterator_opt(mode, read_options) {
            let (key, value) = entry.map_err(|source| self.read_error(source))?;
            if *key > *last {
                break;
            }
            let delta = keys::decode_changes(&value)
                .map_err(|reason| CheckpointError::corrupt(&self.dir, &key, reason))?;
            if delta.replace {
                rows.clear();
            }
            for (kind, change) in delta.changes {
                let tag = kind == DirectoryKind::Topic;
                match change {
                    DirectoryChange::Upsert(row) => {
                        rows.insert((tag, row.id), (kind, row));
                    }
                    DirectoryChange::Delete { id } => {
                        rows.remove(&(tag, id));
                    }
                }
            }
        }
        Ok(rows.into_values().collect())
    }

    /// Drops the commit marks in binlog files numbered below `file_index`:
    /// the server no longer has those files, so nothing can be replayed
    /// from them. The directory changes stay (they are small and every
    /// later directory is rebuilt from them).
    ///
    /// # Errors
    ///
    /// [`CheckpointError::Write`] when RocksDB fails.
    pub fn prune_marks_before(&self, file_index: u64) -> Result<(), CheckpointError> {
        let end = keys::history_key(
            MARK_PREFIX,
            &BinlogPosition::new(format!("x.{file_index}"), 0),
        )
        .expect("a numbered file name has an index");
        let mut batch = WriteBatch::default();
        batch.delete_range(MARK_PREFIX.as_bytes(), end.as_slice());
        self.write(batch)
    }

    /// Removes the checkpoint, the directory rows and any history, keeping
    /// the layout version: the next start begins from scratch.
    ///
    /// # Errors
    ///
    /// [`CheckpointError::Write`] when RocksDB fails; nothing is removed then.
    pub fn clear(&self) -> Result<(), CheckpointError> {
        let mut batch = WriteBatch::default();
        batch.delete(CHECKPOINT_KEY);
        batch.delete_range(DIRECTORY_START, DIRECTORY_END);
        batch.delete_range(keys::HISTORY_START, keys::HISTORY_END);
        self.write(batch)?;
        *self.lock_mark() = None;
        Ok(())
    }

    /// Test access to the raw database, to plant bad values.
    #[cfg(test)]
    pub(super) fn raw(&self) -> &DB {
        &self.db
    }

    /// One value, `None` when the key is absent.
    fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>, CheckpointError> {
        self.db.get(key).map_err(|source| self.read_error(source))
    }

    /// Writes `batch` atomically and waits until it is on disk.
    fn write(&self, batch: WriteBatch) -> Result<(), CheckpointError> {
        let mut write_options = WriteOptions::default();
        write_options.set_sync(true);
        self.db
            .write_opt(batch, &write_options)
            .map_err(|source| CheckpointError::Write {
                dir: self.dir.clone(),
                source,
            })
    }

    fn read_error(&self, source: rocksdb::Error) -> CheckpointError {
        CheckpointError::Read {
            dir: self.dir.clone(),
            source,
        }
    }
}

/// RocksDB options for a tiny, rarely read store with synced writes.
fn options() -> Options {
    let mut options = Options::default();
    options.create_if_missing(true);
    options.set_compression_type(rocksdb::DBCompressionType::Lz4);

    // Few files, small buffers: the whole store is kilobytes to a few
    // megabytes (a directory snapshot of thousands of rows at most).
    options.set_max_open_files(64);
    options.set_write_buffer_size(WRITE_BUFFER_BYTES);
    options.set_max_write_buffer_number(2);
    options.set_max_background_jobs(1);
    let mut table = BlockBasedOptions::default();
    table.set_block_cache(&Cache::new_lru_cache(BLOCK_CACHE_BYTES));
    options.set_block_based_table_factory(&table);

    // RocksDB's own diagnostics log stays bounded.
    options.set_keep_log_file_num(2);
    options.set_max_log_file_size(INFO_LOG_BYTES);
    options
}
