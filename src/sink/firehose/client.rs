//! [`FirehoseClient`]: the two Firehose operations the sink uses, with
//! their answers turned into what the sink needs to know.
//!
//! `DescribeDeliveryStream` runs once at start-up; `PutRecordBatch` carries
//! every record. A call's answer becomes a [`PutOutcome`]: all entries
//! accepted, or the index of the first entry Firehose rejected. An answer
//! that does not account for every entry counts as a rejection from the
//! first entry, so a record is only ever acknowledged on Firehose's word.

use aws_config::SdkConfig;
use aws_sdk_firehose::Client;
use aws_sdk_firehose::primitives::Blob;
use aws_sdk_firehose::types::{DeliveryStreamStatus, PutRecordBatchResponseEntry};

use super::batch::{Call, entry_data};
use super::error::{FirehoseError, classify, service_code};
use crate::sink::Record;

/// One delivery stream, reached through the AWS SDK.
#[derive(Debug, Clone)]
pub(super) struct FirehoseClient {
    /// The SDK client; it signs, retries whole calls and times them out.
    client: Client,
    /// The delivery stream.
    stream: String,
    /// Region and endpoint, for error messages.
    location: String,
}

/// What Firehose made of one `PutRecordBatch` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PutOutcome {
    /// Every entry was accepted.
    Accepted,
    /// Entries were rejected; `first` is the index of the first of them.
    Rejected {
        /// Index of the first rejected entry.
        first: usize,
        /// Entries rejected.
        failed: usize,
        /// The first rejected entry's error code.
        code: String,
        /// The first rejected entry's error message.
        message: String,
    },
}

impl FirehoseClient {
    /// A client for `stream` with the loaded SDK configuration.
    pub fn new(sdk_config: &SdkConfig, stream: &str) -> Self {
        let region = sdk_config.region().map_or("(none)", |r| r.as_ref());
        let location = match sdk_config.endpoint_url() {
            Some(url) => format!("region {region}, endpoint {url}"),
            None => format!("region {region}"),
        };
        Self {
            client: Client::new(sdk_config),
            stream: stream.to_owned(),
            location,
        }
    }

    /// The region and endpoint, as error messages name them.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Checks that the delivery stream exists and is `ACTIVE`.
    ///
    /// # Errors
    ///
    /// [`FirehoseError::StreamNotFound`], [`FirehoseError::StreamNotActive`]
    /// (both definite), or [`FirehoseError::Describe`] when the check
    /// itself failed, transient when the endpoint could not be reached.
    pub async fn check_stream(&self) -> Result<(), FirehoseError> {
        let answer = self
            .client
            .describe_delivery_stream()
            .delivery_stream_name(&self.stream)
            .send()
            .await;
        let output = match answer {
            Ok(output) => output,
            Err(error) if service_code(&error) == Some("ResourceNotFoundException") => {
                return Err(FirehoseError::StreamNotFound {
                    stream: self.stream.clone(),
                    location: self.location.clone(),
                });
            }
            Err(error) => {
                let (transient, cause) = classify(&error);
                return Err(FirehoseError::Describe {
                    stream: self.stream.clone(),
                    location: self.location.clone(),
                    cause,
                    transient,
                });
            }
        };
        let status = output
            .delivery_stream_description()
            .map(|d| d.delivery_stream_status().clone());
        match status {
            Some(DeliveryStreamStatus::Active) => Ok(()),
            other => Err(FirehoseError::StreamNotActive {
                stream: self.stream.clone(),
                location: self.location.clone(),
                status: other.map_or_else(|| "not described".to_owned(), |s| s.to_string()),
            }),
        }
    }

    /// Sends `call`'s entries, built from `records`, in one
    /// `PutRecordBatch` call.
    ///
    /// # Errors
    ///
    /// [`FirehoseError::Put`] when the call failed as a whole, after the
    /// SDK's own retries.
    pub async fn put(&self, records: &[Record], call: &Call) -> Result<PutOutcome, FirehoseError> {
        let entries = call.entries.iter().map(|range| {
            aws_sdk_firehose::types::Record::builder()
                .data(Blob::new(entry_data(records, range.clone())))
                .build()
                .expect("a record with data builds")
        });
        let answer = self
            .client
            .put_record_batch()
            .delivery_stream_name(&self.stream)
            .set_records(Some(entries.collect()))
            .send()
            .await;
        match answer {
            Ok(output) => Ok(outcome(
                call.entries.len(),
                output.failed_put_count(),
                output.request_responses(),
            )),
            Err(error) => {
                let (transient, cause) = classify(&error);
                let calls_records = &records[call.records.clone()];
                Err(FirehoseError::Put {
                    stream: self.stream.clone(),
                    records: call.len(),
                    first_ticket_id: calls_records.first().map_or(0, |r| r.ticket_id),
                    last_ticket_id: calls_records.last().map_or(0, |r| r.ticket_id),
                    cause,
                    transient,
                })
            }
        }
    }
}

/// Reads a `PutRecordBatch` answer for `sent` entries. An entry counts as
/// accepted only with a record id and no error code; an answer with the
/// wrong number of entries, or a failure count no entry explains, rejects
/// the whole call.
pub(super) fn outcome(
    sent: usize,
    failed_put_count: i32,
    responses: &[PutRecordBatchResponseEntry],
) -> PutOutcome {
    let rejected = |entry: &&PutRecordBatchResponseEntry| {
        entry.error_code().is_some() || entry.record_id().is_none()
    };
    let complete = responses.len() == sent;
    let (first, failed) = match responses.iter().position(|e| rejected(&e)) {
        Some(first) if complete => (first, responses.iter().filter(rejected).count()),
        None if complete && failed_put_count == 0 => return PutOutcome::Accepted,
        _ => (0, sent),
    };

    let entry = responses.get(first).filter(|e| e.error_code().is_some());
    PutOutcome::Rejected {
        first,
        failed,
        code: entry
            .and_then(|e| e.error_code())
            .unwrap_or(INCONSISTENT_ANSWER)
            .to_owned(),
        message: entry.and_then(|e| e.error_message()).map_or_else(
            || {
                format!(
                    "Firehose answered for {} of {sent} records and counted {failed_put_count} \
                     failed; the whole call is sent again",
                    responses.len()
                )
            },
            str::to_owned,
        ),
    }
}

/// The code given to an answer that does not account for every record;
/// unknown codes count as transient, so the call is sent again.
pub(super) const INCONSISTENT_ANSWER: &str = "InconsistentAnswer";
