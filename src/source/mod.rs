//! The binlog source: attaches to the server as a replica and turns its
//! binlog into [`Transaction`]s that carry only the rows the connector needs.
//!
//! Data enters as binlog events from `mysql_async`'s binlog stream and
//! leaves as one [`Transaction`] per committed transaction, in commit order,
//! each with the position just past its last event. Transactions without a
//! relevant row are still yielded (with no changes) so the checkpoint can
//! move past noise.
//!
//! # Resumption
//!
//! A transaction's `end` is the position of the first event after it, so a
//! checkpoint always holds a transaction boundary and resuming from it neither
//! repeats nor skips a transaction.
//!
//! On the first start (no checkpoint) the department and help-topic tables
//! are read once, consistently with a binlog position ([`snapshot`]).
//! A start given as an instant is found by [`timeline`]: the first
//! transaction whose event time is at or after it.
//!
//! # Ordering
//!
//! Changes inside a transaction keep their binlog order: a department renamed
//! before a ticket insert in the same transaction applies to that ticket.

pub mod backfill;
pub mod checks;
pub mod connect;
pub mod decode;
pub mod error;
pub mod events;
pub mod mariadb;
pub mod position;
pub mod reader;
pub mod schema;
pub mod snapshot;
pub mod timeline;

pub use connect::Flavor;
pub use error::SourceError;
pub use position::{BinlogPosition, GtidSet, MariaGtid};
pub use reader::BinlogReader;
pub use snapshot::Snapshot;
pub use timeline::TimePoint;

/// One committed transaction, reduced to the changes that matter.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    /// Position just after the transaction's last event: where to resume.
    pub end: BinlogPosition,
    /// GTID of this transaction in the server's notation, when it has one.
    pub gtid: Option<String>,
    /// GTID state including this transaction.
    pub gtid_state: GtidSet,
    /// Commit time as the binlog event header gives it: UTC seconds.
    pub timestamp: u32,
    /// Changes to the three tables, in binlog order.
    pub changes: Vec<RowChange>,
}

/// A change to one of the three tables the connector reads.
#[derive(Debug, Clone, PartialEq)]
pub enum RowChange {
    /// A row inserted into `<prefix>ticket`: a ticket was created.
    TicketInserted(TicketRow),
    /// A department row was inserted, updated or deleted.
    Department(DirectoryChange),
    /// A help-topic row was inserted, updated or deleted.
    Topic(DirectoryChange),
}

/// The columns of an inserted ticket row that events are made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRow {
    /// `ticket_id`.
    pub ticket_id: u64,
    /// `number`, the ticket number users see.
    pub number: String,
    /// `user_id`.
    pub user_id: u64,
    /// `dept_id`.
    pub dept_id: u64,
    /// `topic_id`, 0 when the ticket has no help topic.
    pub topic_id: u64,
    /// `source` (`Web`, `Email`, ...), empty when the column is NULL.
    pub source: String,
    /// `created` as stored: `YYYY-MM-DD HH:MM:SS`.
    pub created: String,
    /// Index of this row within its rows event (0-based).
    pub row_index: u32,
}

/// A change to a department or help-topic row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryChange {
    /// The row now has these values (insert, or update's after image).
    Upsert(DirectoryRow),
    /// The row with this id was deleted.
    Delete {
        /// The deleted row's id.
        id: u64,
    },
}

/// The columns of a department or help-topic row that names are built from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DirectoryRow {
    /// `id` (department) or `topic_id` (help topic).
    pub id: u64,
    /// `pid` or `topic_pid`; `None` or `Some(0)` means top level.
    pub parent: Option<u64>,
    /// `name` or `topic`.
    pub name: String,
}

/// Which of the two name tables a directory change belongs to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum DirectoryKind {
    /// `<prefix>department`.
    Department,
    /// `<prefix>help_topic`.
    Topic,
}
