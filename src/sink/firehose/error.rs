//! [`FirehoseError`]: why the Firehose sink could not start or deliver, and
//! whether trying again may help.
//!
//! Errors of the AWS SDK are classified once, where they arise, and kept as
//! text: the SDK's own `Display` says only "service error", so the chain of
//! sources is joined with colons ([`error_chain`]). Transient: the endpoint
//! cannot be reached, a timeout, HTTP 429 or 5xx, and the throttling and
//! availability codes in [`TRANSIENT_CODES`]. Everything else the service
//! answers (access denied, a missing stream, an invalid argument, a KMS key
//! problem) is definite: sending the same request again would get the same
//! answer.

use aws_sdk_firehose::config::http::HttpResponse;
use aws_sdk_firehose::error::{ProvideErrorMetadata, SdkError};

/// Error codes that mean "slow down or try again later". Sources: the
/// Firehose API Reference (`ServiceUnavailableException` for exceeded
/// throughput, per call and per record; `InternalFailure` per record), the
/// AWS KMS throttling code Firehose passes through per record, and the
/// codes the AWS SDKs treat as throttling or transient.
pub const TRANSIENT_CODES: &[&str] = &[
    "ServiceUnavailableException",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalServerError",
    "KMS.ThrottlingException",
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "SlowDown",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// Why the Firehose sink could not start or deliver.
#[derive(Debug, thiserror::Error)]
pub enum FirehoseError {
    /// A setting is out of range; the message names the key.
    #[error("invalid firehose sink configuration: {0}")]
    InvalidConfig(String),

    /// Neither the configuration nor the standard chain names a region.
    #[error(
        "no AWS region for the firehose sink: set `sink.region`, the AWS_REGION environment \
         variable, or a region in the AWS profile"
    )]
    NoRegion,

    /// The standard chain found no usable credentials at start-up.
    #[error(
        "cannot load AWS credentials for the firehose sink: {cause}; provide them through the \
         environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), an AWS profile, web identity, \
         or a container or instance role"
    )]
    Credentials {
        /// What the credential chain said.
        cause: String,
    },

    /// `DescribeDeliveryStream` failed at start-up.
    #[error("cannot check firehose delivery stream `{stream}` ({location}): {cause}")]
    Describe {
        /// The delivery stream.
        stream: String,
        /// Region and endpoint, for the operator.
        location: String,
        /// The SDK's error chain.
        cause: String,
        /// Whether checking again may succeed.
        transient: bool,
    },

    /// The delivery stream does not exist.
    #[error(
        "firehose delivery stream `{stream}` does not exist ({location}): create it, or set \
         `sink.delivery_stream` and `sink.region` to an existing one"
    )]
    StreamNotFound {
        /// The delivery stream.
        stream: String,
        /// Region and endpoint, for the operator.
        location: String,
    },

    /// The delivery stream exists but cannot take records.
    #[error(
        "firehose delivery stream `{stream}` ({location}) is {status}, not ACTIVE: wait until \
         it is ACTIVE, or recreate it, then start osticket-cdc again"
    )]
    StreamNotActive {
        /// The delivery stream.
        stream: String,
        /// Region and endpoint, for the operator.
        location: String,
        /// Its status as Firehose reports it (`CREATING`, `DELETING`, ...).
        status: String,
    },

    /// One record is larger than Firehose accepts; it can never be sent.
    #[error(
        "the record for ticket {ticket_id} is {size} bytes, over Firehose's limit of {max} bytes \
         (1,000 KiB) per record: it cannot be delivered to a firehose sink; leave large opt-in \
         fields out of the record, or use another sink"
    )]
    RecordTooLarge {
        /// The ticket the record is about.
        ticket_id: u64,
        /// The record's size in bytes.
        size: usize,
        /// The limit, [`super::MAX_RECORD_BYTES`].
        max: usize,
    },

    /// A `PutRecordBatch` call failed as a whole (after the SDK's own
    /// retries); nothing of it counts as delivered.
    #[error(
        "cannot send {records} records (tickets {first_ticket_id} to {last_ticket_id}) to \
         firehose delivery stream `{stream}`: {cause}"
    )]
    Put {
        /// The delivery stream.
        stream: String,
        /// Connector records the call carried.
        records: usize,
        /// The first ticket in the call.
        first_ticket_id: u64,
        /// The last ticket in the call.
        last_ticket_id: u64,
        /// The SDK's error chain.
        cause: String,
        /// Whether sending again may succeed.
        transient: bool,
    },

    /// Firehose accepted a call but rejected some of its records.
    #[error(
        "firehose delivery stream `{stream}` rejected {failed} of {sent} records of a call, the \
         first for ticket {ticket_id}: {code}: {message}"
    )]
    RecordsFailed {
        /// The delivery stream.
        stream: String,
        /// Firehose records rejected.
        failed: usize,
        /// Firehose records in the call.
        sent: usize,
        /// The first ticket of the first rejected Firehose record.
        ticket_id: u64,
        /// The first rejected record's error code.
        code: String,
        /// The first rejected record's error message.
        message: String,
    },
}

impl FirehoseError {
    /// True when the same batch may be sent again (retry with backoff);
    /// false when the connector must stop and tell the operator.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Describe { transient, .. } | Self::Put { transient, .. } => *transient,
            Self::RecordsFailed { code, .. } => is_transient_code(code),
            Self::InvalidConfig(_)
            | Self::NoRegion
            | Self::Credentials { .. }
            | Self::StreamNotFound { .. }
            | Self::StreamNotActive { .. }
            | Self::RecordTooLarge { .. } => false,
        }
    }
}

/// Whether a per-record or per-call error code is worth a retry. Unknown
/// codes on records count as transient (AWS's advice is to resend failed
/// records); among them only `KMS.*` codes other than throttling are known
/// to need the operator.
pub(super) fn is_transient_code(code: &str) -> bool {
    TRANSIENT_CODES.contains(&code) || !(code.starts_with("KMS.") || is_definite_code(code))
}

/// Codes the service answers to a request that will never succeed as is.
fn is_definite_code(code: &str) -> bool {
    matches!(
        code,
        "ResourceNotFoundException"
            | "InvalidArgumentException"
            | "InvalidKMSResourceException"
            | "InvalidKmsResourceException"
            | "InvalidSourceException"
            | "AccessDeniedException"
            | "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "IncompleteSignature"
            | "MissingAuthenticationToken"
            | "ValidationException"
            | "SerializationException"
    )
}

/// Whether an error response (HTTP `status`, error `code`) may succeed
/// when sent again.
pub(super) fn is_transient_response(status: u16, code: Option<&str>) -> bool {
    matches!(status, 408 | 429)
        || status >= 500
        || code.is_some_and(|code| TRANSIENT_CODES.contains(&code))
}

/// Classifies an SDK error (after the SDK's own retries) and renders it.
pub(super) fn classify<E>(error: &SdkError<E, HttpResponse>) -> (bool, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let transient = match error {
        // Not sent: the request could not even be built.
        SdkError::ConstructionFailure(_) => false,
        // Sent or maybe sent, no usable answer: the endpoint is down, the
        // connection broke, or the answer was cut off.
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        // Also where a failed credential refresh lands (a role's endpoint
        // briefly away); only a request the client itself refused is final.
        SdkError::DispatchFailure(failure) => !failure.is_user(),
        SdkError::ServiceError(service) => {
            is_transient_response(service.raw().status().as_u16(), service.err().code())
        }
        // Kinds added to the SDK later: retrying is the safe side.
        _ => true,
    };
    (transient, error_chain(error))
}

/// The error code of a service error, for telling a missing stream apart.
pub(super) fn service_code<E: ProvideErrorMetadata>(
    error: &SdkError<E, HttpResponse>,
) -> Option<&str> {
    match error {
        SdkError::ServiceError(service) => service.err().code(),
        _ => None,
    }
}

/// `error` and its sources, joined with colons; a source whose text is
/// already at the end (the SDK repeats codes and messages) is left out.
pub(super) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.ends_with(&part) {
            text = format!("{text}: {part}");
        }
        source = cause.source();
    }
    text
}
