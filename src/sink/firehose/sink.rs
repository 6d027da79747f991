//! [`FirehoseSink`]: the sink loop. Plans each batch into calls, sends them
//! one at a time, and remembers across a failed attempt how many leading
//! records of the batch Firehose already acknowledged.

use aws_config::ConfigLoader;
use aws_sdk_firehose::config::ProvideCredentials;
use tracing::{debug, info};

use super::batch::{check_record_sizes, fingerprint, plan_calls};
use super::client::{FirehoseClient, PutOutcome};
use super::error::error_chain;
use super::{FirehoseConfig, FirehoseError, FirehoseMode};
use crate::sink::{Record, Sink, SinkError};

/// The sink's name in logs and errors.
const NAME: &str = "firehose";

/// Delivers records to an Amazon Data Firehose delivery stream.
#[derive(Debug)]
pub struct FirehoseSink {
    /// The delivery stream's client.
    client: FirehoseClient,
    /// The validated settings.
    config: FirehoseConfig,
    /// How far the current batch got: set when a batch starts, advanced as
    /// Firehose acknowledges each call, cleared when the batch completes.
    /// It survives an error return and a dropped future, so the pipeline's
    /// retry of the same batch resumes after the acknowledged records.
    progress: Option<Progress>,
}

/// The acknowledged prefix of the batch in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Progress {
    /// [`fingerprint`] of the batch.
    batch: u64,
    /// Leading records of the batch that Firehose acknowledged.
    acknowledged: usize,
}

impl FirehoseSink {
    /// Connects with the standard AWS chain for credentials and region
    /// ([`FirehoseConfig::sdk_config_loader`]) and checks the stream.
    ///
    /// # Errors
    ///
    /// As [`FirehoseSink::connect_with`].
    pub async fn connect(config: FirehoseConfig) -> Result<Self, SinkError> {
        let loader = config.sdk_config_loader();
        Self::connect_with(config, loader).await
    }

    /// Connects with an SDK configuration loader, normally
    /// [`FirehoseConfig::sdk_config_loader`] with additions (static
    /// credentials, a retry policy), and checks that the delivery stream
    /// exists and is `ACTIVE`.
    ///
    /// # Errors
    ///
    /// A [`SinkError::Firehose`]: definite for invalid settings, no region,
    /// no credentials, a missing or inactive stream, or a refusal such as
    /// access denied; transient when Firehose could not be reached or
    /// answered with throttling or a server error (start again later).
    pub async fn connect_with(
        config: FirehoseConfig,
        loader: ConfigLoader,
    ) -> Result<Self, SinkError> {
        config.validate().map_err(FirehoseError::InvalidConfig)?;
        let sdk_config = loader.load().await;
        if sdk_config.region().is_none() {
            return Err(FirehoseError::NoRegion.into());
        }

        // Credentials are loaded once here so that missing ones stop the
        // start with a clear message; later the SDK refreshes them itself.
        let credentials =
            sdk_config
                .credentials_provider()
                .ok_or_else(|| FirehoseError::Credentials {
                    cause: "no credentials provider is configured".to_owned(),
                })?;
        if let Err(error) = credentials.provide_credentials().await {
            let cause = error_chain(&error);
            return Err(FirehoseError::Credentials { cause }.into());
        }

        let client = FirehoseClient::new(&sdk_config, &config.stream_name);
        client.check_stream().await?;
        info!(
            sink = NAME,
            stream = %config.stream_name,
            location = client.location(),
            mode = %config.mode,
            "connected to the firehose delivery stream"
        );
        Ok(Self {
            client,
            config,
            progress: None,
        })
    }

    /// The delivery stream records go to.
    pub fn stream_name(&self) -> &str {
        &self.config.stream_name
    }

    /// How records are mapped onto Firehose records.
    pub fn mode(&self) -> FirehoseMode {
        self.config.mode
    }

    /// Leading records of `records` already acknowledged by an earlier
    /// attempt at the same batch; 0 for any other batch, which starts anew.
    fn resume(&mut self, records: &[Record]) -> usize {
        let batch = fingerprint(records);
        match self.progress {
            Some(progress) if progress.batch == batch => progress.acknowledged,
            _ => {
                self.progress = Some(Progress {
                    batch,
                    acknowledged: 0,
                });
                0
            }
        }
    }

    /// Records `count` more leading records of the batch as acknowledged.
    fn acknowledge(&mut self, count: usize) {
        if let Some(progress) = &mut self.progress {
            progress.acknowledged += count;
        }
    }
}

impl Sink for FirehoseSink {
    async fn send_batch(&mut self, records: &[Record]) -> Result<(), SinkError> {
        if records.is_empty() {
            return Ok(());
        }
        // Refuse the batch before sending any of it if one record can never go.
        check_record_sizes(records)?;

        let start = self.resume(records);
        if start > 0 {
            debug!(
                sink = NAME,
                records = records.len(),
                acknowledged = start,
                "resuming a batch after its acknowledged records"
            );
        }
        let calls = plan_calls(records, start, self.config.mode);
        debug!(
            sink = NAME,
            records = records.len() - start,
            calls = calls.len(),
            "sending batch"
        );

        // One call at a time: the next starts only after Firehose
        // acknowledged every record before it.
        for call in &calls {
            match self.client.put(records, call).await? {
                PutOutcome::Accepted => self.acknowledge(call.len()),
                PutOutcome::Rejected {
                    first,
                    failed,
                    code,
                    message,
                } => {
                    // Records before the first rejected one are delivered;
                    // it and everything after it go again, in order.
                    let acknowledged = call.acknowledged_before(first);
                    self.acknowledge(acknowledged);
                    let rejected = records.get(call.records.start + acknowledged);
                    let ticket_id = rejected.map_or(0, |r| r.ticket_id);
                    return Err(FirehoseError::RecordsFailed {
                        stream: self.config.stream_name.clone(),
                        failed,
                        sent: call.entries.len(),
                        ticket_id,
                        code,
                        message,
                    }
                    .into());
                }
            }
        }
        self.progress = None;
        Ok(())
    }

    fn offset(&self) -> Option<u64> {
        None
    }

    fn name(&self) -> &'static str {
        NAME
    }
}
