//! Errors of the binlog source, each either transient (reconnect and resume
//! from the last transaction boundary) or definite (stop and tell the
//! operator what to change).

/// Something went wrong reading the binlog or the server's schema.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The connection failed or broke: retried with backoff.
    #[error("connection to the database failed: {0}")]
    Connection(String),
    /// The server answered with an error.
    #[error("the server refused: {message} (error {code})")]
    Server {
        /// MySQL error code.
        code: u16,
        /// The server's message.
        message: String,
    },
    /// A startup check failed: the message says what to change.
    #[error("{0}")]
    Check(String),
    /// A table's columns are not what the connector needs.
    #[error("schema problem: {0}")]
    Schema(String),
    /// An event could not be decoded.
    #[error("cannot decode the binlog: {0}")]
    Decode(String),
    /// The position to resume from is gone from the server.
    #[error(
        "cannot resume from {position}: the server no longer has that binlog ({message}); \
         the oldest binlog it has is {oldest}. Run `osticket-cdc checkpoint reset --to earliest` \
         to continue from there (tickets in between are not emitted), or `osticket-cdc backfill` \
         and then `checkpoint reset --to latest`"
    )]
    Purged {
        /// The checkpoint position.
        position: String,
        /// The server's message.
        message: String,
        /// The oldest binlog file the server still has.
        oldest: String,
    },
}

/// MySQL's "could not find first log file" family of replication errors.
pub const ER_MASTER_FATAL_ERROR_READING_BINLOG: u16 = 1236;

impl SourceError {
    /// Converts a `mysql_async` error: I/O and driver trouble is transient,
    /// server errors keep their code so callers can classify them.
    pub fn from_mysql(error: mysql_async::Error) -> Self {
        match error {
            mysql_async::Error::Server(e) => SourceError::Server {
                code: e.code,
                message: e.message,
            },
            other => SourceError::Connection(other.to_string()),
        }
    }

    /// True when retrying (reconnecting) can help.
    pub fn is_transient(&self) -> bool {
        match self {
            SourceError::Connection(_) | SourceError::Decode(_) => true,
            // Server errors that mean "try later": too many connections,
            // shutdown in progress, lock wait, query interrupted.
            SourceError::Server { code, .. } => matches!(code, 1040 | 1053 | 1205 | 1317 | 2013),
            SourceError::Check(_) | SourceError::Schema(_) | SourceError::Purged { .. } => false,
        }
    }
}
