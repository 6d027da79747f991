//! The Beanstalk sink against a real beanstalkd (Debian's 1.12) started by
//! `integration/servers.sh`: bulk delivery of binary bodies, SIGKILLs in the
//! middle of a stream, refusals, the choice of tube, a server that starts
//! late.
//!
//! Every test starts its own beanstalkd (with its write-ahead log, `-b`) in a
//! temporary directory on a free port, so the tests run in parallel; it is
//! stopped when the test ends, and by a watcher should the process die. When
//! beanstalkd is not installed the tests print `skipped: ...` and pass.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use osticket_cdc::sink::beanstalk::{
    BeanstalkConfig, BeanstalkSink, Job, PutOutcome, PutParams, ServerError, WAL_STATS_KEY,
};
use osticket_cdc::sink::{Record, Sink};

mod common;
use common::beanstalkd::*;

/// Record `i`: its number, then NUL, CR LF and invalid UTF-8, then a
/// filler of varying length.
fn body(i: usize) -> Vec<u8> {
    let mut body = format!("{i:06}").into_bytes();
    body.extend_from_slice(b"\0\r\n\xff\xfe\xc3(\r\n");
    body.extend(std::iter::repeat_n((i % 251) as u8, i % 700));
    body
}

/// Records 0 to `n - 1`, each for ticket `i + 1`.
fn records(n: usize) -> Vec<Record> {
    let record = |i: usize| Record {
        ticket_id: i as u64 + 1,
        body: body(i),
    };
    (0..n).map(record).collect()
}

/// The record numbers at the start of bodies made by [`body`].
fn numbers(bodies: &[Vec<u8>]) -> Vec<usize> {
    let number = |body: &Vec<u8>| std::str::from_utf8(&body[..6]).unwrap().parse().unwrap();
    bodies.iter().map(number).collect()
}

/// Checks that `order` is runs of consecutive numbers, each run after the
/// first starting less than `window` back from where the previous one ended
/// and not after it; returns the (resent from, previous end) of each run.
fn resends(order: &[usize], window: usize) -> Vec<(usize, usize)> {
    let (mut resends, mut end) = (Vec::new(), order[0]);
    for &n in &order[1..] {
        if n != end + 1 {
            assert!(
                n <= end && end - n < window,
                "{n} after a run ending at {end}"
            );
            resends.push((n, end));
        }
        end = n;
    }
    resends
}

/// Sends `records` as the pipeline does: again after each transient error,
/// after a short pause. Returns how many transient errors there were.
async fn send_with_retry(sink: &mut BeanstalkSink, records: &[Record]) -> usize {
    let mut transient = 0;
    loop {
        match sink.send_batch(records).await {
            Ok(()) => return transient,
            Err(error) if error.is_transient() => {
                transient += 1;
                assert!(transient < 1000, "still failing: {error}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(error) => panic!("definite error: {error}"),
        }
    }
}

#[tokio::test]
async fn delivers_binary_records_in_order_byte_for_byte() {
    let Some(server) = Beanstalkd::start(&[]) else {
        return;
    };
    let mut records = records(5000);
    records[1].body = Vec::new();
    records[2].body = b"\r\n".to_vec();

    let started = Instant::now();
    let mut sink = BeanstalkSink::new(server.config("default")).unwrap();
    for batch in records.chunks(500) {
        sink.send_batch(batch).await.unwrap();
    }
    let sent = started.elapsed();
    let bodies = server.drain("default").await;
    println!(
        "5000 records sent in {sent:?}, reserved back in {:?}",
        started.elapsed() - sent
    );

    assert_eq!(bodies.len(), records.len());
    for (i, (got, record)) in bodies.iter().zip(&records).enumerate() {
        assert_eq!(got, &record.body, "record {i}");
    }
    assert_eq!(sink.offset(), None);
    assert_eq!(sink.name(), "beanstalk");
}

/// Three SIGKILLs while a task sends 10,000 records in batches of 500 with a
/// window of 50, each followed by a restart on the same write-ahead log.
///
/// What must hold, with W = `max_in_flight` and K = the kills:
/// 1. every record is in the tube, and every copy is byte-equal to it;
/// 2. first appearances come in record order: 0, 1, 2, ...;
/// 3. the tube is a series of runs of consecutive records; each run after the
///    first begins at a record already stored, less than W before the end of
///    the previous run (a resend of puts that were in flight at a kill), so
///    there are at most K + 1 runs and at most K * W duplicates;
/// 4. besides, at most K torn jobs, all NUL bytes: beanstalkd's recovery
///    restores a `put` that a kill cut short between its log header and body
///    as a job of zeros (never acknowledged; its record was sent again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_kills_mid_stream_duplicating_only_in_flight_records() {
    const RECORDS: usize = 10_000;
    const WINDOW: usize = 50;
    let Some(server) = Beanstalkd::start(&[]) else {
        return;
    };
    let records = records(RECORDS);
    let config = BeanstalkConfig {
        max_in_flight: WINDOW,
        timeout_secs: 2,
        ..server.config("kills")
    };

    // The sender plays the pipeline; `progress` is how far it got.
    let progress = Arc::new(AtomicUsize::new(0));
    let sender = {
        let (records, progress) = (records.clone(), Arc::clone(&progress));
        tokio::spawn(async move {
            let mut sink = BeanstalkSink::new(config).unwrap();
            let mut transient = 0;
            for batch in records.chunks(500) {
                transient += send_with_retry(&mut sink, batch).await;
                progress.fetch_add(batch.len(), Ordering::Release);
            }
            transient
        })
    };
    let server = Arc::new(server);
    let kills = [2_000, 5_000, 8_000];
    for threshold in kills {
        while progress.load(Ordering::Acquire) < threshold {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let server = Arc::clone(&server);
        tokio::task::spawn_blocking(move || {
            server.kill();
            std::thread::sleep(Duration::from_millis(100));
            assert!(server.start_now(&[]));
        })
        .await
        .unwrap();
    }
    let transient = tokio::time::timeout(Duration::from_secs(120), sender)
        .await
        .expect("all records sent within 2 minutes")
        .unwrap();
    assert!(
        transient >= kills.len(),
        "every kill is noticed: {transient}"
    );

    // 4. Torn jobs aside, 1. everything is there, byte for byte.
    let jobs = server.drain_jobs("kills").await;
    let (torn, jobs): (Vec<Job>, Vec<Job>) = jobs.into_iter().partition(|job| job.torn);
    assert!(torn.len() <= kills.len(), "{torn:?}");
    assert!(torn.iter().all(|job| job.body.iter().all(|&b| b == 0)));
    let bodies: Vec<Vec<u8>> = jobs.into_iter().map(|job| job.body).collect();
    let order = numbers(&bodies);
    for (&n, got) in order.iter().zip(&bodies) {
        assert_eq!(got, &records[n].body, "record {n}");
    }

    // 2. First appearances in order, none missing.
    let mut seen = vec![false; RECORDS];
    let mut firsts = order.clone();
    firsts.retain(|&n| !std::mem::replace(&mut seen[n], true));
    assert_eq!(firsts, (0..RECORDS).collect::<Vec<_>>());

    // 3. Resends go back at most W, at most one per kill.
    let resends = resends(&order, WINDOW);
    let duplicates = order.len() - RECORDS;
    println!(
        "{} kills, {transient} transient errors, resends (from, previous end) {resends:?}, \
         {duplicates} duplicates, {} torn jobs",
        kills.len(),
        torn.len()
    );
    assert!(resends.len() <= kills.len());
    assert!(duplicates <= kills.len() * WINDOW);
}

#[tokio::test]
async fn a_job_over_max_job_size_is_a_definite_error_naming_both_sizes() {
    let Some(server) = Beanstalkd::start(&["-z", "1000"]) else {
        return;
    };
    let sizes = [900, 1000, 2000, 10];
    let mut records = records(sizes.len());
    for (record, size) in records.iter_mut().zip(sizes) {
        record.body = vec![b'x'; size];
    }

    let mut sink = BeanstalkSink::new(server.config("big")).unwrap();
    let error = sink.send_batch(&records).await.unwrap_err();
    assert!(!error.is_transient());
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "the record of ticket 3 is 2000 bytes, more than beanstalkd at 127.0.0.1:{} accepts \
             (max-job-size 1000)",
            server.port
        )),
        "{message}"
    );
    // The records before it are delivered, the one after it is not sent.
    let lengths: Vec<usize> = server.drain("big").await.iter().map(Vec::len).collect();
    assert_eq!(lengths, [900, 1000]);

    // beanstalkd's own refusal, through the client: the stream stays in step.
    assert_eq!(server.stat("max-job-size").await, Some(1000));
    let mut client = server.client().await;
    let params = PutParams {
        priority: 1,
        delay: 0,
        ttr: 60,
    };
    let outcome = client.put(&[b'y'; 2000], params).await.unwrap();
    assert_eq!(outcome, PutOutcome::Refused(ServerError::JobTooBig));
    assert!(matches!(
        client.put(b"z\r\n", params).await.unwrap(),
        PutOutcome::Inserted(_)
    ));
}

#[tokio::test]
async fn uses_a_tube_only_when_it_is_not_default_and_again_after_reconnecting() {
    let Some(server) = Beanstalkd::start(&[]) else {
        return;
    };
    assert!(
        server.stat(WAL_STATS_KEY).await >= Some(1),
        "-b: a log file number"
    );
    let mut probe = server.client().await;
    assert_eq!(probe.list_tube_used().await.unwrap(), "default");
    probe.use_tube("probe").await.unwrap();
    assert_eq!(probe.list_tube_used().await.unwrap(), "probe");

    // The default tube: no `use` at all.
    let batch = records(3);
    let mut plain = BeanstalkSink::new(server.config("default")).unwrap();
    plain.send_batch(&batch).await.unwrap();
    assert_eq!(server.stat("cmd-use").await, Some(1), "only the probe's");

    // Another tube: one `use` per connection.
    let mut orders = BeanstalkSink::new(server.config("orders.v1")).unwrap();
    orders.send_batch(&batch[..2]).await.unwrap();
    assert_eq!(server.stat("cmd-use").await, Some(2));
    let tube = probe
        .stats_tube("orders.v1")
        .await
        .unwrap()
        .expect("a tube");
    assert_eq!(tube.get_u64("current-jobs-ready"), Some(2));
    assert_eq!(
        tube.get_u64("current-using"),
        Some(1),
        "the sink's connection"
    );
    assert_eq!(probe.stats_tube("never-used").await.unwrap(), None);

    // After a restart the new connection sends `use` again.
    drop(probe);
    server.stop();
    assert!(server.start_now(&[]));
    send_with_retry(&mut orders, &batch[2..]).await;
    assert_eq!(server.stat("cmd-use").await, Some(1));
    assert_eq!(numbers(&server.drain("orders.v1").await), [0, 1, 2]);
    assert_eq!(numbers(&server.drain("default").await), [0, 1, 2]);
}

#[tokio::test]
async fn waits_with_transient_errors_for_a_server_that_starts_late() {
    let server = Beanstalkd::unstarted();
    let records = records(20);
    let config = server.config("late");
    let expected = format!("beanstalkd at 127.0.0.1:{} is not reachable: ", server.port);

    let error = BeanstalkSink::connect(config.clone()).await.unwrap_err();
    assert!(
        error.is_transient() && error.to_string().starts_with(&expected),
        "{error}"
    );
    let mut sink = BeanstalkSink::new(config).unwrap();
    for _ in 0..3 {
        let error = sink.send_batch(&records).await.unwrap_err();
        assert!(error.is_transient(), "{error}");
        let message = error.to_string();
        assert!(
            message.starts_with(&expected) && message.ends_with("; retrying"),
            "{message}"
        );
    }

    if !server.start_now(&[]) {
        return;
    }
    send_with_retry(&mut sink, &records).await;
    let bodies: Vec<Vec<u8>> = records.into_iter().map(|r| r.body).collect();
    assert_eq!(server.drain("late").await, bodies);
}
