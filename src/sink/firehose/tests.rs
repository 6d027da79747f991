//! Unit tests of the pure parts: call planning against the limits, reading
//! `PutRecordBatch` answers, error classification, and settings. Delivery
//! through a real (moto) Firehose and injected faults is `tests/firehose.rs`.

use aws_sdk_firehose::config::http::HttpResponse;
use aws_sdk_firehose::error::{ConnectorError, ErrorMetadata, SdkError};
use aws_sdk_firehose::operation::put_record_batch::PutRecordBatchError;
use aws_sdk_firehose::types::PutRecordBatchResponseEntry;

use super::batch::{Call, check_record_sizes, fingerprint, plan_calls};
use super::client::{INCONSISTENT_ANSWER, PutOutcome, outcome};
use super::error::{classify, is_transient_code, is_transient_response};
use super::*;
use crate::sink::{Record, SinkError};

fn records(sizes: &[usize]) -> Vec<Record> {
    let record = |(i, &size): (usize, &usize)| Record {
        ticket_id: 100 + i as u64,
        body: vec![b'a' + (i % 26) as u8; size],
    };
    sizes.iter().enumerate().map(record).collect()
}

/// Checks a plan covers `start..len` in order, with no gap or overlap.
fn assert_covers(calls: &[Call], start: usize, len: usize) {
    let mut next = start;
    for call in calls {
        assert_eq!(call.records.start, next, "{calls:?}");
        for entry in &call.entries {
            assert_eq!(entry.start, next, "{calls:?}");
            next = entry.end;
        }
        assert_eq!(call.records.end, next, "{calls:?}");
    }
    assert_eq!(next, len);
}

#[test]
fn ordered_mode_packs_contiguous_records_one_entry_per_call() {
    // 600 KiB records: one per entry. Small ones: all in one entry.
    let big = records(&[600 * 1024; 3]);
    let calls = plan_calls(&big, 0, FirehoseMode::Ordered);
    assert_eq!(calls.len(), 3);
    assert!(calls.iter().all(|c| c.entries.len() == 1));
    assert_covers(&calls, 0, 3);

    let small = records(&[100; 2_000]);
    let calls = plan_calls(&small, 0, FirehoseMode::Ordered);
    assert_eq!(
        calls.len(),
        1,
        "2,000 small records make one Firehose record"
    );
    assert_eq!(calls[0].entries, vec![0..2_000]);

    // Exactly at the limit still fits; one byte more opens a new entry.
    let exact = records(&[MAX_RECORD_BYTES - 10, 10, 1]);
    let calls = plan_calls(&exact, 0, FirehoseMode::Ordered);
    assert_eq!(
        calls.iter().map(|c| c.records.clone()).collect::<Vec<_>>(),
        [0..2, 2..3]
    );

    // A resumed batch starts after the acknowledged records.
    let calls = plan_calls(&small, 1_500, FirehoseMode::Ordered);
    assert_eq!(calls[0].records, 1_500..2_000);
    assert!(plan_calls(&small, 2_000, FirehoseMode::Ordered).is_empty());
}

#[test]
fn per_record_mode_cuts_calls_at_500_records_and_4_mib() {
    let many = records(&[10; 1_201]);
    let calls = plan_calls(&many, 0, FirehoseMode::PerRecord);
    let lens: Vec<_> = calls.iter().map(Call::len).collect();
    assert_eq!(lens, [500, 500, 201]);
    assert!(calls.iter().all(|c| c.entries.len() == c.len()));
    assert_covers(&calls, 0, 1_201);

    // 900,000 bytes encode to 1,200,000: three per call fit in 4 MiB, four
    // do not.
    let heavy = records(&[900_000; 7]);
    let calls = plan_calls(&heavy, 0, FirehoseMode::PerRecord);
    assert_eq!(calls.iter().map(Call::len).collect::<Vec<_>>(), [3, 3, 1]);
    assert_covers(&calls, 0, 7);

    let calls = plan_calls(&many, 700, FirehoseMode::PerRecord);
    assert_eq!(calls.iter().map(Call::len).collect::<Vec<_>>(), [500, 1]);
    assert_covers(&calls, 700, 1_201);
}

#[test]
fn rejected_entries_acknowledge_only_the_records_before_them() {
    let call = Call {
        records: 10..20,
        entries: vec![10..14, 14..15, 15..20],
    };
    assert_eq!(call.acknowledged_before(0), 0);
    assert_eq!(call.acknowledged_before(1), 4);
    assert_eq!(call.acknowledged_before(2), 5);
    assert_eq!(call.acknowledged_before(3), 10, "past the end: all");
}

#[test]
fn an_oversize_record_is_definite_and_names_its_ticket() {
    assert!(check_record_sizes(&records(&[MAX_RECORD_BYTES, 0])).is_ok());
    let err = check_record_sizes(&records(&[5, MAX_RECORD_BYTES + 1])).unwrap_err();
    assert!(!err.is_transient());
    assert_eq!(
        err.to_string(),
        "the record for ticket 101 is 1024001 bytes, over Firehose's limit of 1024000 bytes \
         (1,000 KiB) per record: it cannot be delivered to a firehose sink; leave large opt-in \
         fields out of the record, or use another sink"
    );
}

#[test]
fn the_fingerprint_tells_a_retry_from_another_batch() {
    let batch = records(&[3, 4, 5]);
    assert_eq!(fingerprint(&batch), fingerprint(&batch.clone()));
    assert_ne!(fingerprint(&batch), fingerprint(&batch[..2]));
    let mut other = batch.clone();
    other[2].body[0] = b'z';
    assert_ne!(fingerprint(&batch), fingerprint(&other));
}

fn accepted() -> PutRecordBatchResponseEntry {
    PutRecordBatchResponseEntry::builder()
        .record_id("id")
        .build()
}

fn rejected(code: &str) -> PutRecordBatchResponseEntry {
    PutRecordBatchResponseEntry::builder()
        .error_code(code)
        .error_message("Slow down.")
        .build()
}

#[test]
fn answers_acknowledge_only_what_firehose_accounted_for() {
    assert_eq!(
        outcome(2, 0, &[accepted(), accepted()]),
        PutOutcome::Accepted
    );

    let partial = outcome(
        4,
        2,
        &[
            accepted(),
            rejected("InternalFailure"),
            accepted(),
            rejected("X"),
        ],
    );
    assert_eq!(
        partial,
        PutOutcome::Rejected {
            first: 1,
            failed: 2,
            code: "InternalFailure".into(),
            message: "Slow down.".into()
        }
    );

    // Too few entries, or a failure count no entry explains: all again.
    for answer in [
        outcome(3, 0, &[accepted(), accepted()]),
        outcome(2, 1, &[accepted(), accepted()]),
    ] {
        let PutOutcome::Rejected { first, code, .. } = answer else {
            panic!("{answer:?}");
        };
        assert_eq!((first, code.as_str()), (0, INCONSISTENT_ANSWER));
        assert!(is_transient_code(&code));
    }
}

#[test]
fn throttling_and_server_errors_are_transient_refusals_are_not() {
    for code in [
        "ServiceUnavailableException",
        "InternalFailure",
        "KMS.ThrottlingException",
    ] {
        assert!(is_transient_code(code), "{code}");
    }
    for code in [
        "KMS.AccessDeniedException",
        "KMS.NotFoundException",
        "InvalidArgumentException",
    ] {
        assert!(!is_transient_code(code), "{code}");
    }
    assert!(
        is_transient_code("SomethingNew"),
        "unknown record codes are retried"
    );

    assert!(is_transient_response(500, None));
    assert!(is_transient_response(
        503,
        Some("ServiceUnavailableException")
    ));
    assert!(is_transient_response(429, None));
    assert!(is_transient_response(400, Some("ThrottlingException")));
    assert!(is_transient_response(
        400,
        Some("ServiceUnavailableException")
    ));
    assert!(!is_transient_response(
        400,
        Some("ResourceNotFoundException")
    ));
    assert!(!is_transient_response(400, Some("AccessDeniedException")));
    assert!(!is_transient_response(403, None));
}

fn service_error(status: u16, code: &str) -> SdkError<PutRecordBatchError, HttpResponse> {
    let error = PutRecordBatchError::generic(ErrorMetadata::builder().code(code).build());
    let raw = HttpResponse::new(status.try_into().unwrap(), "{}".into());
    SdkError::service_error(error, raw)
}

#[test]
fn sdk_errors_are_classified_by_kind_status_and_code() {
    let (transient, cause) = classify(&service_error(400, "ThrottlingException"));
    assert!(transient);
    assert!(cause.contains("ThrottlingException"), "{cause}");
    assert!(!classify(&service_error(400, "InvalidArgumentException")).0);
    assert!(classify(&service_error(502, "Whatever")).0);

    let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    let dispatch = SdkError::<PutRecordBatchError, HttpResponse>::dispatch_failure(
        ConnectorError::io(refused.into()),
    );
    assert!(
        classify(&dispatch).0,
        "an unreachable endpoint is transient"
    );
    let timeout = SdkError::<PutRecordBatchError, HttpResponse>::timeout_error("slow");
    assert!(classify(&timeout).0);
    let unbuilt = SdkError::<PutRecordBatchError, HttpResponse>::construction_failure("bad");
    assert!(!classify(&unbuilt).0);
}

#[test]
fn settings_are_checked_with_the_key_named() {
    let mut config = FirehoseConfig::new("tickets-prod_1.a");
    assert_eq!(config.validate(), Ok(()));
    assert_eq!(config.mode, FirehoseMode::Ordered);
    assert_eq!(config.timeout_secs, DEFAULT_TIMEOUT_SECS);

    config.stream_name = "tickets/prod".into();
    let err = config.validate().unwrap_err();
    assert!(
        err.starts_with("sink.delivery_stream = \"tickets/prod\" is not"),
        "{err}"
    );
    config.stream_name = "x".repeat(65);
    assert!(config.validate().is_err());

    let mut config = FirehoseConfig::new("tickets");
    config.region = Some("us east".into());
    assert!(
        config
            .validate()
            .unwrap_err()
            .starts_with("sink.region = \"us east\"")
    );
    config.region = Some("eu-west-3".into());
    config.endpoint_url = Some("localhost:4566".into());
    assert!(
        config
            .validate()
            .unwrap_err()
            .starts_with("sink.endpoint_url = \"localhost:4566\"")
    );
    config.endpoint_url = Some("http://127.0.0.1:4566".into());
    config.timeout_secs = 0;
    assert_eq!(
        config.validate().unwrap_err(),
        "sink.timeout_secs = 0 is out of range: use 1..3600 (default 30)"
    );
    config.timeout_secs = 5;
    assert_eq!(config.validate(), Ok(()));
}

#[test]
fn modes_parse_and_print_as_configured() {
    for mode in [FirehoseMode::Ordered, FirehoseMode::PerRecord] {
        assert_eq!(mode.as_str().parse::<FirehoseMode>(), Ok(mode));
        assert_eq!(mode.to_string(), mode.as_str());
    }
    let err = "per-record".parse::<FirehoseMode>().unwrap_err();
    assert!(
        err.starts_with("sink.mode = \"per-record\" is not"),
        "{err}"
    );
}

#[tokio::test]
async fn connect_refuses_invalid_settings_before_any_request() {
    let mut config = FirehoseConfig::new("tickets");
    config.timeout_secs = 0;
    let err = FirehoseSink::connect(config).await.unwrap_err();
    assert!(
        matches!(err, SinkError::Firehose(FirehoseError::InvalidConfig(_))),
        "{err:?}"
    );
    assert!(!err.is_transient());
    assert!(
        err.to_string()
            .starts_with("invalid firehose sink configuration: sink.timeout_secs")
    );
}

#[tokio::test]
async fn connect_needs_a_region_and_credentials() {
    let config = FirehoseConfig::new("tickets");
    let loader = config
        .sdk_config_loader()
        .region(None::<aws_config::Region>)
        .no_credentials();
    let err = FirehoseSink::connect_with(config, loader)
        .await
        .unwrap_err();
    assert!(
        matches!(err, SinkError::Firehose(FirehoseError::NoRegion)),
        "{err:?}"
    );
    assert!(!err.is_transient());
    assert!(
        err.to_string()
            .starts_with("no AWS region for the firehose sink: set `sink.region`")
    );

    let mut config = FirehoseConfig::new("tickets");
    config.region = Some("us-east-1".into());
    let loader = config.sdk_config_loader().no_credentials();
    let err = FirehoseSink::connect_with(config, loader)
        .await
        .unwrap_err();
    assert!(!err.is_transient());
    assert!(
        err.to_string().starts_with(
            "cannot load AWS credentials for the firehose sink: no credentials provider is \
             configured; provide them through the environment"
        ),
        "{err}"
    );
}
