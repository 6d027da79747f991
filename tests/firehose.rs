//! The Firehose sink against a real local Firehose (moto, S3 destination),
//! with a fault-injecting proxy for what moto cannot do.
//!
//! Every record body starts with its sequence number and ends with a
//! newline, and its size varies (some records are large, so calls are cut
//! at the 4 MiB and 1,000 KiB limits). moto writes one S3 object per
//! accepted call; the objects, read in the order moto created them, give
//! the exact byte stream Firehose accepted. Each test checks that stream
//! against the ordering contract: every record present with its bytes
//! intact, in commit order once repeats are removed (keeping the last copy;
//! in `ordered` mode the first copy too), and, where the faults cannot
//! cause repeats, no repeat at all.
//!
//! A test uses its own bucket and delivery stream on one moto shared by the
//! binary; the test of moto being down starts and stops its own.

#[path = "firehose/harness.rs"]
mod harness;
#[path = "firehose/http.rs"]
mod http;
#[path = "firehose/moto.rs"]
#[allow(dead_code)]
mod moto;
#[path = "firehose/proxy.rs"]
mod proxy;

use std::time::Duration;

use osticket_cdc::sink::firehose::{FirehoseError, MAX_BYTES_PER_CALL, MAX_RECORD_BYTES};
use osticket_cdc::sink::{FirehoseMode, Sink, SinkError};

use harness::{accepted, connect, deliver, first_copies, last_copies, records};
use moto::{Moto, create_stream, delete_stream, free_port, sink_config};
use proxy::{Fault, FaultProxy};

/// Sizes for the large runs: mostly small records, every 97th 150 KB, and
/// one batch of 9 KB records that needs two calls of 4 MiB in `per_record`.
fn varied_size(seq: usize) -> usize {
    match seq {
        _ if seq % 97 == 0 => 150_000,
        1_500..2_000 => 9_000,
        _ => 20 + seq * 31 % 1_500,
    }
}

/// Sends 5,000 records in batches of 500 straight to moto and checks that
/// exactly those bytes arrived, in order, within the per-call limits.
async fn deliver_5000_in_order(mode: FirehoseMode, name: &str) -> Vec<Vec<usize>> {
    let moto = Moto::shared();
    create_stream(moto.addr(), name, name).await;
    let mut sink = connect(&sink_config(name, &moto.url(), mode))
        .await
        .unwrap();
    assert_eq!((sink.stream_name(), sink.mode()), (name, mode));

    let all = records(0..5_000, varied_size);
    for batch in all.chunks(500) {
        assert_eq!(deliver(&mut sink, batch).await, 0, "no fault, no retry");
    }
    let objects = accepted(moto, name, varied_size).await;
    let stream: Vec<usize> = objects.concat();
    assert_eq!(
        stream,
        (0..5_000).collect::<Vec<_>>(),
        "exactly once, in order"
    );
    objects
}

#[tokio::test]
async fn ordered_mode_delivers_5000_records_in_order() {
    let objects = deliver_5000_in_order(FirehoseMode::Ordered, "ordered-5000").await;
    // One packed Firehose record per call and object, within 1,000 KiB.
    for object in &objects {
        let bytes: usize = object.iter().map(|&s| varied_size(s).max(9)).sum();
        assert!(
            bytes <= MAX_RECORD_BYTES,
            "{bytes} bytes in one Firehose record"
        );
    }
    assert!(objects.len() >= 10, "{} objects", objects.len());
}

#[tokio::test]
async fn per_record_mode_delivers_5000_records_in_order() {
    let objects = deliver_5000_in_order(FirehoseMode::PerRecord, "per-record-5000").await;
    // Calls of at most 500 records and 4 MiB; the 9 KB batch needed two.
    for object in &objects {
        let bytes: usize = object.iter().map(|&s| varied_size(s).max(9)).sum();
        assert!(object.len() <= 500 && bytes <= MAX_BYTES_PER_CALL);
    }
    assert_eq!(objects.len(), 11, "ten batches, one of them in two calls");
}

#[tokio::test]
async fn connect_and_send_batch_are_transient_while_moto_is_down() {
    let name = "moto-down";
    let moto = Moto::new(free_port());
    let config = sink_config(name, &moto.url(), FirehoseMode::Ordered);

    // Not started yet: connecting fails, transiently, naming what it tried.
    let err = connect(&config).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "cannot check firehose delivery stream `{name}` (region us-east-1, endpoint {}): ",
            moto.url()
        )),
        "{message}"
    );

    // Up: the stream is found.
    let moto = restart(moto).await;
    create_stream(moto.addr(), name, name).await;
    let mut sink = connect(&config).await.unwrap();

    // Down again: sending fails transiently; up again, the same batch goes.
    let moto = stop(moto).await;
    let batch = records(0..300, |seq| 10 + seq);
    let err = sink.send_batch(&batch).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    let expected = format!(
        "cannot send 300 records (tickets 10000 to 10299) to firehose delivery stream `{name}`: "
    );
    assert!(err.to_string().starts_with(&expected), "{err}");

    // moto keeps nothing across a restart: the stream is created again.
    let moto = restart(moto).await;
    create_stream(moto.addr(), name, name).await;
    assert_eq!(deliver(&mut sink, &batch).await, 0);
    let stream = accepted(&moto, name, |seq| 10 + seq).await.concat();
    assert_eq!(stream, (0..300).collect::<Vec<_>>());
}

/// Starts the private `moto` off the runtime's thread.
async fn restart(moto: Moto) -> Moto {
    tokio::task::spawn_blocking(move || {
        moto.start();
        moto
    })
    .await
    .unwrap()
}

/// Stops the private `moto` off the runtime's thread.
async fn stop(moto: Moto) -> Moto {
    tokio::task::spawn_blocking(move || {
        moto.stop();
        moto
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_missing_or_inactive_delivery_stream_is_a_definite_error_naming_it() {
    let moto = Moto::shared();
    let config = sink_config("no-such-stream", &moto.url(), FirehoseMode::Ordered);
    let err = connect(&config).await.unwrap_err();
    assert!(
        matches!(
            err,
            SinkError::Firehose(FirehoseError::StreamNotFound { .. })
        ),
        "{err:?}"
    );
    assert!(!err.is_transient());
    assert_eq!(
        err.to_string(),
        format!(
            "firehose delivery stream `no-such-stream` does not exist (region us-east-1, \
             endpoint {}): create it, or set `sink.delivery_stream` and `sink.region` to an \
             existing one",
            moto.url()
        )
    );

    // A stream that exists but is still being created.
    create_stream(moto.addr(), "creating", "creating").await;
    let proxy = FaultProxy::start(moto.addr()).await;
    proxy.report_status("CREATING");
    let config = sink_config("creating", &proxy.url, FirehoseMode::Ordered);
    let err = connect(&config).await.unwrap_err();
    assert!(!err.is_transient());
    assert!(
        err.to_string().starts_with(&format!(
            "firehose delivery stream `creating` (region us-east-1, endpoint {}) is CREATING, \
             not ACTIVE: ",
            proxy.url
        )),
        "{err}"
    );

    // A stream deleted while the sink runs: sending is refused for good.
    create_stream(moto.addr(), "deleted", "deleted").await;
    let config = sink_config("deleted", &moto.url(), FirehoseMode::PerRecord);
    let mut sink = connect(&config).await.unwrap();
    delete_stream(moto.addr(), "deleted").await;
    let err = sink.send_batch(&records(0..3, |_| 10)).await.unwrap_err();
    assert!(!err.is_transient(), "{err}");
    let message = err.to_string();
    assert!(
        message.starts_with(
            "cannot send 3 records (tickets 10000 to 10002) to firehose delivery stream \
             `deleted`: "
        ) && message.contains("ResourceNotFoundException"),
        "{message}"
    );
}

#[tokio::test]
async fn an_oversize_record_is_a_definite_error_naming_the_ticket() {
    let moto = Moto::shared();
    for (mode, name) in [
        (FirehoseMode::Ordered, "oversize-ordered"),
        (FirehoseMode::PerRecord, "oversize-per-record"),
    ] {
        create_stream(moto.addr(), name, name).await;
        let mut sink = connect(&sink_config(name, &moto.url(), mode))
            .await
            .unwrap();

        // One byte over 1,000 KiB: nothing of the batch is sent.
        let size = |seq| if seq == 2 { MAX_RECORD_BYTES + 1 } else { 100 };
        let err = sink.send_batch(&records(0..4, size)).await.unwrap_err();
        assert!(!err.is_transient());
        assert!(
            err.to_string().starts_with(
                "the record for ticket 10002 is 1024001 bytes, over Firehose's limit of 1024000 \
                 bytes (1,000 KiB) per record: "
            ),
            "{err}"
        );
        assert!(
            accepted(moto, name, size).await.is_empty(),
            "{mode}: nothing sent"
        );

        // Exactly 1,000 KiB goes, between small records.
        let size = |seq| if seq == 2 { MAX_RECORD_BYTES } else { 100 };
        assert_eq!(deliver(&mut sink, &records(0..4, size)).await, 0);
        let stream = accepted(moto, name, size).await.concat();
        assert_eq!(stream, [0, 1, 2, 3], "{mode}");
    }
}

/// Record sizes of the fault runs: 1 to 3 KB, so a batch of 1,000 makes two
/// or three calls in either mode and a fault can hit a call mid-batch.
fn fault_size(seq: usize) -> usize {
    1_000 + seq * 7 % 2_000
}

/// Sends 3,000 records in batches of 1,000 through a proxy that applies
/// `faults` to successive `PutRecordBatch` requests. Returns the accepted
/// stream, the proxy and the transient errors the sink returned.
async fn run_with_faults(
    mode: FirehoseMode,
    name: &str,
    timeout_secs: u64,
    faults: Vec<Fault>,
) -> (Vec<usize>, FaultProxy, usize) {
    let moto = Moto::shared();
    create_stream(moto.addr(), name, name).await;
    let proxy = FaultProxy::start(moto.addr()).await;
    let mut config = sink_config(name, &proxy.url, mode);
    config.timeout_secs = timeout_secs;
    let mut sink = connect(&config).await.unwrap();

    proxy.script(faults);
    let mut errors = 0;
    for batch in records(0..3_000, fault_size).chunks(1_000) {
        errors += deliver(&mut sink, batch).await;
    }
    assert_eq!(proxy.unused_faults(), 0, "the script ran to its end");
    let stream = accepted(moto, name, fault_size).await.concat();
    (stream, proxy, errors)
}

/// Faults that deliver nothing of what they hit (or, for `Reject`, only the
/// entries they let through). Three server errors in a row outlast the
/// SDK's three attempts and reach the sink.
fn undelivering_faults(reject: &[Vec<usize>]) -> Vec<Fault> {
    let [a, b, c] = [0, 1, 2].map(|i| Fault::Reject(reject[i].clone()));
    vec![
        Fault::Pass,
        a,
        Fault::ServerError,
        Fault::ServerError,
        Fault::ServerError,
        Fault::Pass,
        Fault::Pass,
        Fault::Unavailable,
        Fault::Throttled,
        b,
        Fault::Drop,
        Fault::Pass,
        Fault::Pass,
        c,
        Fault::Unavailable,
    ]
}

#[tokio::test]
async fn firehose_partial_failure_keeps_order_in_ordered_mode() {
    // A call carries one packed record: rejecting it rejects the call.
    let faults = undelivering_faults(&[vec![0], vec![0], vec![0]]);
    let (stream, proxy, errors) =
        run_with_faults(FirehoseMode::Ordered, "faults-ordered", 5, faults).await;
    assert!(errors >= 5, "faults reached the sink: {errors}");
    assert!(proxy.puts() > 15);
    // Nothing was delivered twice: acknowledged calls were not resent.
    assert_eq!(stream, (0..3_000).collect::<Vec<_>>());
}

#[tokio::test]
async fn firehose_partial_failure_keeps_order_in_per_record_mode() {
    let rejects = [vec![3, 100, 499], vec![0], vec![250, 251, 400]];
    let faults = undelivering_faults(&rejects);
    let (stream, proxy, errors) =
        run_with_faults(FirehoseMode::PerRecord, "faults-per-record", 5, faults).await;
    assert!(errors >= 5, "faults reached the sink: {errors}");
    assert_eq!(last_copies(&stream), (0..3_000).collect::<Vec<_>>());
    // The only repeats: records accepted after a rejected one in the same
    // call. Records acknowledged before it were not sent again.
    assert!(proxy.accepted_after_rejection() > 0);
    assert_eq!(stream.len() - 3_000, proxy.accepted_after_rejection());
}

/// Calls delivered whose answer was lost, one of them by a timeout.
fn withheld_answers() -> Vec<Fault> {
    vec![
        Fault::Pass,
        Fault::DeliverThenDrop,
        Fault::Pass,
        Fault::DeliverThenStall(Duration::from_millis(1_500)),
        Fault::Pass,
        Fault::Pass,
        Fault::DeliverThenDrop,
    ]
}

#[tokio::test]
async fn lost_answers_repeat_records_but_never_reorder_them() {
    for (mode, name) in [
        (FirehoseMode::Ordered, "lost-ordered"),
        (FirehoseMode::PerRecord, "lost-per-record"),
    ] {
        let (stream, proxy, _) = run_with_faults(mode, name, 1, withheld_answers()).await;
        assert_eq!(proxy.withheld(), 3);
        assert!(
            stream.len() > 3_000,
            "{mode}: the SDK resent what it could not know"
        );
        let expected: Vec<usize> = (0..3_000).collect();
        assert_eq!(first_copies(&stream), expected, "{mode}");
        assert_eq!(last_copies(&stream), expected, "{mode}");
    }
}
