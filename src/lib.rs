//! osticket-cdc: change-data capture for osTicket helpdesks.
//!
//! The connector attaches to osTicket's MySQL or MariaDB database as a
//! replica, follows the binlog and emits one record for every row inserted
//! into `<prefix>ticket`, joined with the department's and help topic's full
//! names, in commit order. Modules follow the data:
//!
//! - [`source`]: the binlog reader, positions and GTID sets, table schemas;
//!   yields [`source::Transaction`]s holding only the rows that matter.
//! - [`assembly`]: transactions to [`assembly::TicketCreated`] events, with
//!   the department and help-topic state kept current in binlog order.
//! - [`codec`]: events to record bytes.
//! - [`sink`]: where records go (stdout, a file).
//! - [`checkpoint`]: the RocksDB store of positions and directory state.
//! - [`pipeline`]: wires the stages and owns batching and shutdown.
//! - [`ops`]: the other commands (`preview`, `config from-plugin`).
#![warn(missing_docs)]

pub mod assembly;
pub mod checkpoint;
pub mod cli;
pub mod codec;
pub mod config;
pub mod ops;
pub mod pipeline;
pub mod sink;
pub mod source;
