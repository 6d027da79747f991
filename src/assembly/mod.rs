//! Assembly: transactions to ticket-created events.
//!
//! Data enters as [`Transaction`](crate::source::Transaction)s from the
//! source and leaves as [`TicketCreated`] events for the codec, in the same
//! order. Department and help-topic rows are kept in a [`Directory`], changed
//! by their row events in binlog order, so each ticket gets the full names as
//! they were when the ticket was inserted: a rename earlier in the ticket's
//! transaction applies to it, a later one does not.
//!
//! The [`Assembler`] is pure and synchronous: it does no I/O and cannot fail.
//! Storing the directory belongs to the checkpoint, which receives the
//! changes through [`Directory::take_delta`].
//!
//! # Known limits
//!
//! A ticket whose department or topic row is unknown gets a `None` name.
//! Binlog order guarantees the row exists on the server first, so this
//! happens when the directory started from an incomplete snapshot, or when
//! the row was deleted before the ticket was inserted.

pub mod assembler;
pub mod directory;
pub mod event;

pub use assembler::Assembler;
pub use directory::Directory;
pub use event::TicketCreated;
