//! [`BeanstalkSink`]: batches of records to pipelined `put`s on one
//! connection, resuming a batch after the prefix beanstalkd acknowledged.
//!
//! The connection is opened lazily by the first batch (or eagerly by
//! [`BeanstalkSink::connect`]) and again after any error: connect, read
//! `stats` (max job size, write-ahead log), `use` the tube unless it is
//! `default`. The parent module's docs state the retry and duplicate
//! contract this file implements.

use std::hash::{DefaultHasher, Hash, Hasher};

use tracing::{debug, info, warn};

use super::client::BeanstalkClient;
use super::config::BeanstalkConfig;
use super::protocol::{DEFAULT_TUBE, PutOutcome, PutParams, ServerError, Stats};
use super::{BeanstalkError, NO_WAL_WARNING, WAL_STATS_KEY};
use crate::sink::{Record, Sink, SinkError};

/// The sink's name in logs and errors.
const NAME: &str = "beanstalk";

/// Puts each record as one job into a beanstalkd tube.
#[derive(Debug)]
pub struct BeanstalkSink {
    config: BeanstalkConfig,
    /// The validated job parameters.
    params: PutParams,
    /// `host:port`, for errors and logs.
    address: String,
    /// The open connection; `None` before the first batch and after any
    /// error. Taken out while a batch runs, so a dropped `send_batch` future
    /// drops a connection that may hold a half-written command.
    client: Option<BeanstalkClient>,
    /// `max-job-size` from the last `stats`; larger records are refused
    /// before they are sent.
    max_job_size: Option<u64>,
    /// Whether the server last reported a write-ahead log, so that the
    /// warning about a missing one is given once, not on every reconnect.
    wal: Option<bool>,
    /// The batch being delivered and how much of it beanstalkd acknowledged;
    /// cleared once all of it is.
    unfinished: Option<Unfinished>,
    /// Set after the first connection, to tell reconnects apart in logs.
    connected_once: bool,
}

/// The acknowledged prefix of a batch that was not fully delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Unfinished {
    /// [`fingerprint`] of the batch.
    fingerprint: u64,
    /// How many leading records got `INSERTED` or `BURIED`.
    acknowledged: usize,
}

impl BeanstalkSink {
    /// A sink for `config`, without connecting: the first batch connects.
    ///
    /// # Errors
    ///
    /// [`BeanstalkError::Config`] (definite) when `config` does not validate.
    pub fn new(config: BeanstalkConfig) -> Result<Self, SinkError> {
        config.validate().map_err(BeanstalkError::Config)?;
        let narrow = |value: u64| u32::try_from(value).expect("validated to fit in u32");
        Ok(Self {
            params: PutParams {
                priority: narrow(config.priority),
                delay: narrow(config.delay),
                ttr: narrow(config.ttr),
            },
            address: config.address(),
            config,
            client: None,
            max_job_size: None,
            wal: None,
            unfinished: None,
            connected_once: false,
        })
    }

    /// A sink for `config`, connected now: checks that beanstalkd is there,
    /// reads its `stats` (warning when it keeps no write-ahead log) and
    /// `use`s the tube.
    ///
    /// # Errors
    ///
    /// As [`BeanstalkSink::new`]; and a transient [`BeanstalkError`] when
    /// beanstalkd is not reachable, which the caller may retry or ignore
    /// (the first batch connects again).
    pub async fn connect(config: BeanstalkConfig) -> Result<Self, SinkError> {
        let mut sink = Self::new(config)?;
        sink.client = Some(sink.open().await?);
        Ok(sink)
    }

    /// The configuration the sink runs with.
    pub fn config(&self) -> &BeanstalkConfig {
        &self.config
    }

    /// Opens a connection and prepares it for `put`s.
    async fn open(&mut self) -> Result<BeanstalkClient, BeanstalkError> {
        let (host, port) = (&self.config.host, self.config.port);
        let mut client = BeanstalkClient::connect(host, port, self.config.timeout()).await?;
        let stats = client.stats().await?;
        self.max_job_size = stats.get_u64("max-job-size");
        self.check_wal(&stats);

        // A new connection uses `default`; the plugin sent `use` only for
        // another tube, and so do we, on every connection.
        if self.config.tube != DEFAULT_TUBE {
            client.use_tube(&self.config.tube).await?;
        }
        let (address, tube) = (&self.address, &self.config.tube);
        let max_job_size = self.max_job_size;
        if self.connected_once {
            info!(sink = NAME, %address, %tube, "reconnected to beanstalkd");
        } else {
            info!(sink = NAME, %address, %tube, max_job_size, "connected to beanstalkd");
        }
        self.connected_once = true;
        Ok(client)
    }

    /// Warns when the server keeps jobs in memory only (see [`WAL_STATS_KEY`]).
    fn check_wal(&mut self, stats: &Stats) {
        let wal = stats.get_u64(WAL_STATS_KEY).map(|index| index > 0);
        if wal == Some(false) && self.wal != Some(false) {
            warn!(
                sink = NAME,
                address = %self.address,
                "{NO_WAL_WARNING}"
            );
        }
        self.wal = wal;
    }

    /// How many leading records of `records` are already acknowledged: the
    /// prefix kept from a failed attempt at the same batch, else 0. Records
    /// the batch as the unfinished one.
    fn resume(&mut self, records: &[Record]) -> usize {
        let fingerprint = fingerprint(records);
        let acknowledged = match self.unfinished.take() {
            Some(unfinished) if unfinished.fingerprint == fingerprint => unfinished.acknowledged,
            Some(unfinished) => {
                warn!(
                    sink = NAME,
                    acknowledged = unfinished.acknowledged,
                    records = records.len(),
                    "a new batch came before the previous one was fully acknowledged; the \
                     previous one's remaining records are not sent"
                );
                0
            }
            None => 0,
        };
        if acknowledged > 0 {
            debug!(
                sink = NAME,
                acknowledged,
                records = records.len(),
                "sending the batch again from its first unacknowledged record"
            );
        }
        self.unfinished = Some(Unfinished {
            fingerprint,
            acknowledged,
        });
        acknowledged
    }
}

impl Sink for BeanstalkSink {
    async fn send_batch(&mut self, records: &[Record]) -> Result<(), SinkError> {
        if records.is_empty() {
            return Ok(());
        }
        let start = self.resume(records);
        let mut client = match self.client.take() {
            Some(client) => client,
            None => self.open().await?,
        };

        // A record the server would refuse as too big is not sent; those
        // before it are, so the tube stays in order up to it.
        let max_job_size = self.max_job_size;
        let too_big =
            |record: &Record| max_job_size.is_some_and(|max| record.body.len() as u64 > max);
        let end = records[start..]
            .iter()
            .position(too_big)
            .map_or(records.len(), |i| start + i);

        // Pipeline the rest; every reply moves the acknowledged prefix.
        let bodies: Vec<&[u8]> = records[start..end]
            .iter()
            .map(|r| r.body.as_slice())
            .collect();
        let (params, window) = (self.params, self.config.max_in_flight);
        let unfinished = self.unfinished.as_mut().expect("set by resume");
        let address = &self.address;
        let on_reply = |index: usize, outcome: PutOutcome| {
            let record = &records[start + index];
            match outcome {
                PutOutcome::Inserted(_) => {}
                PutOutcome::Buried(job_id) => warn!(
                    sink = NAME,
                    ticket_id = record.ticket_id,
                    job_id,
                    "beanstalkd stored the job buried (out of memory for its ready queue): it \
                     counts as delivered, but workers only get it after a `kick`"
                ),
                PutOutcome::Refused(reply) => {
                    return Err(refusal(address, record, reply, max_job_size));
                }
            }
            unfinished.acknowledged = start + index + 1;
            Ok(())
        };
        // On error the connection is dropped here, with whatever it holds.
        client
            .put_pipelined(&bodies, params, window, on_reply)
            .await?;
        self.client = Some(client);

        if end < records.len() {
            let record = &records[end];
            return Err(refusal(address, record, ServerError::JobTooBig, max_job_size).into());
        }
        self.unfinished = None;
        Ok(())
    }

    fn offset(&self) -> Option<u64> {
        None
    }

    fn name(&self) -> &'static str {
        NAME
    }
}

/// The definite error for `reply` to the `put` of `record`.
fn refusal(
    address: &str,
    record: &Record,
    reply: ServerError,
    max_job_size: Option<u64>,
) -> BeanstalkError {
    let (address, ticket_id, size) = (address.to_owned(), record.ticket_id, record.body.len());
    match reply {
        ServerError::JobTooBig => BeanstalkError::JobTooBig {
            address,
            ticket_id,
            size,
            max_job_size,
        },
        ServerError::Draining => BeanstalkError::Draining { address, ticket_id },
        ServerError::OutOfMemory => BeanstalkError::OutOfMemory {
            address,
            ticket_id,
            size,
        },
        reply => BeanstalkError::Refused {
            address,
            ticket_id,
            size,
            reply,
        },
    }
}

/// A hash of the whole batch, telling a retry of it from another batch.
/// Within one process only, which is all it needs: the prefix it guards is
/// kept in memory.
pub(super) fn fingerprint(records: &[Record]) -> u64 {
    let mut hasher = DefaultHasher::new();
    records.len().hash(&mut hasher);
    for record in records {
        record.ticket_id.hash(&mut hasher);
        record.body.hash(&mut hasher);
    }
    hasher.finish()
}
