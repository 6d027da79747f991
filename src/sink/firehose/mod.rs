//! The Firehose sink: records delivered to an Amazon Data Firehose delivery
//! stream with `PutRecordBatch`, in commit order, at least once.
//!
//! [`FirehoseSink::connect`] builds an AWS SDK client from [`FirehoseConfig`]
//! (the standard credential and region chain, an optional endpoint such as
//! a local moto server) and checks that the delivery stream exists and is
//! `ACTIVE`. Then each [`Sink::send_batch`](crate::sink::Sink::send_batch)
//! cuts the batch into calls, sends them one at a time, and returns once
//! Firehose acknowledged every record.
//!
//! Bodies are sent as they are: unlike the local sinks, this one adds no
//! delimiter, because the data serializer already ends each NDJSON or CSV
//! record with its terminator. Firehose itself joins records with nothing.
//!
//! # Limits
//!
//! Firehose takes at most [`MAX_RECORDS_PER_CALL`] records and
//! [`MAX_BYTES_PER_CALL`] bytes per call, and [`MAX_RECORD_BYTES`] per
//! record. Calls are cut to fit; a single record over the record limit is a
//! definite [`FirehoseError::RecordTooLarge`] naming its ticket, raised
//! before any record of the batch is sent.
//!
//! # Ordering
//!
//! `PutRecordBatch` is not atomic: Firehose may reject some records of a
//! call (throughput exceeded, an internal failure) and accept later ones.
//! Resending only the rejected records would deliver them after their
//! successors. The `mode` setting ([`FirehoseMode`]) chooses how to avoid
//! that. Order here is the order in which Firehose accepts records; how it
//! lays out its buffer at the destination is Firehose's business.
//!
//! - `ordered` (the default): contiguous records of a batch are packed into
//!   as few Firehose records as the 1,000 KiB limit allows, and each call
//!   carries exactly one of them, so a call is accepted or rejected whole.
//!   One call is in flight at a time, and the next starts only after the
//!   previous one was acknowledged. What Firehose accepts is therefore
//!   always a prefix of the records in commit order. The price: a Firehose
//!   record holds several tickets. For S3 (which concatenates records
//!   anyway) the delivered bytes are the same; destinations that look at
//!   single Firehose records (a Lambda transformation, dynamic
//!   partitioning, HTTP endpoints, OpenSearch, Splunk, Redshift) need
//!   `per_record`.
//! - `per_record`: one Firehose record per connector record, in calls of up
//!   to 500. After a partial failure, the first rejected record and every
//!   record after it in the batch are sent again, including the ones
//!   Firehose had accepted after it; records before it are not. This never
//!   reorders, but duplicates the accepted records that followed the first
//!   rejection.
//!
//! The contract, in both modes: no record is lost, and the destination sees
//! the records in commit order, possibly with repeats. Precisely, reading
//! what Firehose accepted and keeping only the *last* copy of each record
//! gives exactly the commit order; in `ordered` mode keeping the *first*
//! copy does too. Consumers that must not see repeats deduplicate on the
//! record's `event_id` or `sequence` field.
//!
//! Repeats have two sources. In `per_record` mode, partial failures, as
//! above. In both modes, calls whose outcome was unknown: after a timeout,
//! a dropped connection or a 5xx, the SDK (or, once its attempts are spent,
//! the pipeline) sends the same call again, and Firehose may have stored
//! the first attempt before it failed. The repeat then follows its original
//! directly, before any later call is made. And after a restart, the batch
//! that was never checkpointed is sent again from its first record (the
//! acknowledged prefix is remembered in memory only).
//!
//! A known limit: an attempt the client gave up on after its timeout may in
//! principle still be processed by Firehose later, after the retry and even
//! after later calls. Its copy then lands out of place (the first copies
//! are still in order in `ordered` mode). Consumers that need exact order
//! whatever happens sort and deduplicate on the `sequence` field.
//!
//! # Failure handling
//!
//! The pipeline retries a transient error with the same batch. The sink
//! remembers how many leading records of that batch Firehose acknowledged
//! (a fingerprint of the batch tells a retry from a new batch) and resumes
//! after them, so a retry repeats nothing that was acknowledged; the memory
//! survives a dropped future. Transient: Firehose unreachable, timeouts,
//! HTTP 429 and 5xx, throttling (`ThrottlingException`,
//! `ServiceUnavailableException`) and rejected records with those codes
//! (see [`TRANSIENT_CODES`]). Definite: invalid settings, no region or
//! credentials at start-up, a missing or inactive stream, an oversize
//! record, and refusals such as access denied or an unusable KMS key.
//!
//! The SDK retries a call itself first (standard policy: 3 attempts with
//! backoff, each limited by `timeout_secs`); only what is left reaches the
//! pipeline. [`Sink::offset`](crate::sink::Sink::offset) is `None`: there is
//! nothing to cut on restart, where the unacknowledged batch is sent again.

mod batch;
mod client;
mod config;
mod error;
mod sink;

pub use batch::{MAX_BYTES_PER_CALL, MAX_RECORD_BYTES, MAX_RECORDS_PER_CALL};
pub use config::{DEFAULT_TIMEOUT_SECS, FirehoseConfig, FirehoseMode, MAX_TIMEOUT_SECS};
pub use error::{FirehoseError, TRANSIENT_CODES};
pub use sink::FirehoseSink;

#[cfg(test)]
mod tests;
