//! What can go wrong with the checkpoint store, in words an operator can act
//! on. All of it is definite: the connector stops rather than run without a
//! place to record its progress.

use std::path::{Path, PathBuf};

/// Why the checkpoint store cannot be opened, read or written.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The directory does not exist and cannot be created.
    #[error(
        "cannot create checkpoint directory {}: {source}; check `checkpoint.dir`",
        dir.display()
    )]
    CreateDir {
        /// The configured directory.
        dir: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },

    /// Another store holds RocksDB's `LOCK` file in the directory.
    #[error(
        "checkpoint directory {} is in use by another osticket-cdc process; \
         stop it first or point `checkpoint.dir` elsewhere",
        dir.display()
    )]
    Locked {
        /// The directory in use.
        dir: PathBuf,
    },

    /// RocksDB refused to open the directory for another reason.
    #[error(
        "cannot open checkpoint store in {} (checkpoint.dir): {source}; make sure this user may \
         create files there and the disk is not full, or set checkpoint.dir to another directory",
        dir.display()
    )]
    Open {
        /// The directory.
        dir: PathBuf,
        /// RocksDB's error.
        source: rocksdb::Error,
    },

    /// The store was written by a newer osticket-cdc with another layout.
    #[error(
        "checkpoint store in {} has format version {found} but this osticket-cdc reads \
         only version {supported}; run the newer osticket-cdc that wrote it, or move the \
         directory away to start from scratch",
        dir.display()
    )]
    NewerFormat {
        /// The directory.
        dir: PathBuf,
        /// The version found in `meta/format`.
        found: u32,
        /// The version this build writes and reads.
        supported: u32,
    },

    /// A stored value cannot be decoded.
    #[error(
        "checkpoint store in {} is corrupt: key `{key}`: {reason}; run `checkpoint reset` \
         to start again from a chosen position",
        dir.display()
    )]
    Corrupt {
        /// The directory.
        dir: PathBuf,
        /// The key whose value is bad.
        key: String,
        /// What is wrong with it.
        reason: String,
    },

    /// Reading from RocksDB failed.
    #[error("cannot read checkpoint store in {}: {source}", dir.display())]
    Read {
        /// The directory.
        dir: PathBuf,
        /// RocksDB's error.
        source: rocksdb::Error,
    },

    /// Writing to RocksDB failed; the previous checkpoint is still in place.
    #[error("cannot write checkpoint to {}: {source}", dir.display())]
    Write {
        /// The directory.
        dir: PathBuf,
        /// RocksDB's error.
        source: rocksdb::Error,
    },
}

impl CheckpointError {
    /// Maps an error of `DB::open`, recognising RocksDB's lock conflicts.
    ///
    /// RocksDB reports them as IO errors with fixed texts: "lock hold by
    /// current process" when this process already has the directory open, and
    /// "While lock file: .../LOCK: Resource temporarily unavailable" (EAGAIN,
    /// or EACCES on some systems) when another process holds the `fcntl` lock.
    /// A failing lock for another reason (say, a file system without locks)
    /// stays an [`CheckpointError::Open`] with RocksDB's text.
    pub(super) fn from_open(dir: &Path, source: rocksdb::Error) -> Self {
        let text = source.to_string();
        let held_here = text.contains("lock hold by current process");
        let held_elsewhere = text.contains("While lock file")
            && (text.contains("Resource temporarily unavailable")
                || text.contains("Permission denied"));
        if held_here || held_elsewhere {
            Self::Locked {
                dir: dir.to_owned(),
            }
        } else {
            Self::Open {
                dir: dir.to_owned(),
                source,
            }
        }
    }

    /// A [`CheckpointError::Corrupt`] for `key`.
    pub(super) fn corrupt(dir: &Path, key: &[u8], reason: impl Into<String>) -> Self {
        let key = String::from_utf8_lossy(key).into_owned();
        Self::Corrupt {
            dir: dir.to_owned(),
            key,
            reason: reason.into(),
        }
    }
}
