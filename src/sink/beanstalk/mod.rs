//! The Beanstalk sink: each record becomes one beanstalkd job, put into the
//! configured tube in the order the pipeline produced the records, the way
//! the osTicket plugin put its jobs, but delivered at least once.
//!
//! - `config`: [`BeanstalkConfig`], the plugin's defaults and their checks.
//! - `protocol`: commands and the incremental reply parser, over bytes.
//! - `client`: [`BeanstalkClient`], one async connection.
//! - `sink`: [`BeanstalkSink`], the batch loop: pipelining, resuming a batch.
//!
//! # Why a client of our own
//!
//! The `beanstalkc` crate (1.0) blocks, was last released in 2020, and its
//! `put` turns the body into a string without checking UTF-8: undefined
//! behaviour for any body that is not UTF-8, which record bodies need not
//! be. The async crates on the registry are abandoned or corrupt bodies.
//! The commands needed here are few and the replies simple, so
//! [`BeanstalkClient`] speaks them itself, treating bodies as bytes framed
//! by their length, and pipelines `put`s, which none of those crates do.
//!
//! # Delivery
//!
//! A record is delivered when beanstalkd answers its `put` with
//! `INSERTED <id>`. `BURIED <id>` also counts: the server stored the job but
//! could not grow its ready queue (out of memory), so it parked the job as
//! buried. The job exists and survives in the write-ahead log; sending it
//! again would duplicate it. The sink logs a warning naming the ticket and
//! job id, because workers only see a buried job after a `kick`.
//!
//! The acknowledgement is only as durable as beanstalkd: without `-b DIR`
//! (its write-ahead log) jobs live in memory and vanish when it stops. The
//! sink reads `stats` on every connection and warns when the log is off.
//! beanstalkd 1.12 has no `binlog-enabled` key: with `-b` its
//! `binlog-current-index` is the number of the current log file (1 or
//! more), without it 0, so [`WAL_STATS_KEY`] = 0 means no log. With `-b`,
//! a job is written to the log before `INSERTED` is sent, so it survives a
//! crash of the process; surviving a power loss also needs `-f 0` (the
//! default syncs at most every 50 ms).
//!
//! # Ordering and retries
//!
//! One connection, one batch at a time; `put`s are pipelined up to
//! `max_in_flight` and beanstalkd carries them out and replies in order, so
//! the acknowledged records of a batch are always a prefix of it. The sink
//! keeps the length of that prefix, with a fingerprint (a hash of every
//! ticket id and body, and the count) of the batch it belongs to, until the
//! batch is fully acknowledged. When `send_batch` is called again with a
//! batch of the same fingerprint, as the pipeline does after a transient
//! error, it reconnects and sends only the records after that prefix.
//! Any other batch starts from its first record (with a warning if the
//! previous one was left unfinished).
//!
//! So after a lost connection, the only records that can be stored twice
//! are those whose `put` was written but whose reply never came: at most
//! `max_in_flight` per lost connection, each repeated copy following the
//! first copies in the tube in the same order, and no record ever appears
//! for the first time before one that precedes it. The same holds when a
//! `send_batch` future is dropped: the prefix is updated reply by reply,
//! and the connection, possibly holding a half-written command, is dropped
//! with the future.
//!
//! # Failure handling
//!
//! Transient ([`BeanstalkError::is_transient`]): beanstalkd not reachable
//! (refused, unresolvable, no answer), the connection lost (EOF, reset), or
//! no reply within `timeout_secs`. Definite: a refusal of a job
//! (`JOB_TOO_BIG`, `DRAINING`, `OUT_OF_MEMORY`, and the protocol errors
//! `BAD_FORMAT`, `EXPECTED_CRLF`, `UNKNOWN_COMMAND`, `INTERNAL_ERROR`),
//! an unexpected reply, or bytes that are not a beanstalkd reply. A record
//! larger than the `max-job-size` read from `stats` is refused before it is
//! sent; the records before it are delivered first.
//!
//! # Known limits
//!
//! When beanstalkd refuses a job in the middle of the window, the `put`s
//! already written behind it may still be stored. The connector stops, and
//! after it is restarted from its checkpoint those records are put again:
//! they appear twice, and their first copies come before the refused record.
//!
//! A crash of beanstalkd itself can leave, besides the duplicates above, a
//! job of NUL bytes in the tube: its write-ahead-log recovery restores a
//! `put` that the crash cut short as a job whose body is zeros (see "Torn
//! jobs" in the protocol module; `Job::torn` flags it when reserved). That
//! `put` was never acknowledged, so its record is sent again; consumers
//! should skip bodies that are all NUL bytes, which no record can be.

mod client;
mod config;
mod protocol;
mod sink;

#[cfg(test)]
mod tests;

use std::io;

pub use client::BeanstalkClient;
pub use config::{BeanstalkConfig, MAX_IN_FLIGHT_LIMIT};
pub use protocol::{
    DEFAULT_TUBE, Job, ProtocolError, PutOutcome, PutParams, Reservation, ServerError, Stats,
};
pub use sink::BeanstalkSink;

/// The `stats` key that tells whether beanstalkd writes a log (`-b`):
/// 0 without one, the current log file's number with one.
pub const WAL_STATS_KEY: &str = "binlog-current-index";

/// What the sink logs, and `doctor` reports, when beanstalkd keeps no
/// write-ahead log ([`WAL_STATS_KEY`] is 0).
pub const NO_WAL_WARNING: &str = "beanstalkd keeps jobs in memory only (stats: \
    binlog-current-index 0, started without -b): jobs it acknowledged are lost if it stops; \
    start it with `-b DIR`";

/// Why the Beanstalk sink or client failed.
#[derive(Debug, thiserror::Error)]
pub enum BeanstalkError {
    /// The configuration is not one beanstalkd accepts.
    #[error("invalid Beanstalk sink configuration: {0}")]
    Config(String),

    /// No connection could be made.
    #[error("beanstalkd at {address} is not reachable: {source}; retrying")]
    Unreachable {
        /// `host:port`.
        address: String,
        /// Why the connection failed.
        source: io::Error,
    },

    /// The connection broke (closed by the server, reset, write failed).
    #[error("lost the connection to beanstalkd at {address}: {source}; retrying")]
    ConnectionLost {
        /// `host:port`.
        address: String,
        /// What the socket said; `UnexpectedEof` when the server closed it.
        source: io::Error,
    },

    /// The server did not reply, or did not read, within `timeout_secs`.
    #[error(
        "beanstalkd at {address} did not {waiting_for} within {secs} s (sink.timeout_secs); \
         retrying on a new connection"
    )]
    Timeout {
        /// `host:port`.
        address: String,
        /// The timeout.
        secs: u64,
        /// What it did not do.
        waiting_for: &'static str,
    },

    /// A record is larger than the server's maximum job size.
    #[error(
        "the record of ticket {ticket_id} is {size} bytes, more than beanstalkd at {address} \
         accepts ({}); restart beanstalkd with `-z {size}` or more",
        max_job_size.map_or("its max-job-size".to_owned(), |max| format!("max-job-size {max}"))
    )]
    JobTooBig {
        /// `host:port`.
        address: String,
        /// The ticket of the record.
        ticket_id: u64,
        /// The body's length in bytes.
        size: usize,
        /// The server's `max-job-size` (its `-z`), if `stats` reported it.
        max_job_size: Option<u64>,
    },

    /// The server is in drain mode and takes no new jobs.
    #[error(
        "beanstalkd at {address} refused the record of ticket {ticket_id}: it is draining (it \
         got SIGUSR1) and takes no new jobs; restart beanstalkd, then osticket-cdc"
    )]
    Draining {
        /// `host:port`.
        address: String,
        /// The ticket of the refused record.
        ticket_id: u64,
    },

    /// The server has no room for the job.
    #[error(
        "beanstalkd at {address} refused the {size}-byte record of ticket {ticket_id} with \
         OUT_OF_MEMORY: it has no room for the job in memory or in its write-ahead log; free \
         memory, or disk space in its -b directory, then restart osticket-cdc"
    )]
    OutOfMemory {
        /// `host:port`.
        address: String,
        /// The ticket of the refused record.
        ticket_id: u64,
        /// The body's length in bytes.
        size: usize,
    },

    /// The server refused a job with a protocol error or an internal error.
    #[error(
        "beanstalkd at {address} refused the {size}-byte record of ticket {ticket_id} with \
         {reply}: {}",
        refusal_hint(*reply)
    )]
    Refused {
        /// `host:port`.
        address: String,
        /// The ticket of the refused record.
        ticket_id: u64,
        /// The body's length in bytes.
        size: usize,
        /// The reply.
        reply: ServerError,
    },

    /// A command got a reply that does not fit it.
    #[error(
        "beanstalkd at {address} answered `{command}` with {reply}; check sink.tube, and that \
         sink.host and sink.port point at beanstalkd"
    )]
    UnexpectedReply {
        /// `host:port`.
        address: String,
        /// The command.
        command: String,
        /// The reply, or why nothing was sent.
        reply: String,
    },

    /// The server sent bytes that are not a beanstalkd reply.
    #[error(
        "cannot understand the server at {address}: {source}; check that sink.host and \
         sink.port point at beanstalkd"
    )]
    Protocol {
        /// `host:port`.
        address: String,
        /// What was wrong.
        source: ProtocolError,
    },
}

impl BeanstalkError {
    /// True when sending the same batch again may succeed: the server was
    /// unreachable, the connection broke, or a reply did not come in time.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Unreachable { .. } | Self::ConnectionLost { .. } | Self::Timeout { .. }
        )
    }
}

/// What to do about a refusal that is not the user's doing.
fn refusal_hint(reply: ServerError) -> &'static str {
    match reply {
        ServerError::InternalError => {
            "beanstalkd reported an internal error; see its log, restart it, then restart \
             osticket-cdc"
        }
        _ => {
            "osticket-cdc sent something beanstalkd did not accept; this is a bug, please \
             report it with the output of `beanstalkd -v`"
        }
    }
}
