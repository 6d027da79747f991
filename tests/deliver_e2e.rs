//! End to end through the connector binary: killed with SIGKILL at random
//! moments while tickets are created, it loses no ticket and repeats only
//! byte-identical copies of records that were in flight, into a real
//! beanstalkd and into a local Firehose (moto, S3 destination); a
//! beanstalkd or a Firehose endpoint that is not up at start is waited for,
//! with a log line each time the connector retries.
//!
//! The Firehose connector gets its AWS credentials through its own
//! environment ([`spawn_connector_with_env`]), never this process's.

mod common;
#[path = "firehose/http.rs"]
#[allow(dead_code)]
mod http;
#[path = "firehose/moto.rs"]
#[allow(dead_code)]
mod moto;
#[path = "firehose/proxy.rs"]
#[allow(dead_code)]
mod proxy;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::beanstalkd::Beanstalkd;
use common::delivered::{Copy, check_copies, distinct_sequences, parse_copy};
use common::*;
use moto::{Moto, REGION, create_stream, delivered, free_port, object_count};
use osticket_cdc::sink::beanstalk::NO_WAL_WARNING;
use proxy::FaultProxy;
use rand::Rng;

/// The tube every test of this file uses (not `default`, so `use` is sent).
const TUBE: &str = "e2e-tickets";

fn created_at(i: u32) -> String {
    let (h, m, s) = (i / 3600, (i / 60) % 60, i % 60);
    format!("2024-09-09 {h:02}:{m:02}:{s:02}")
}

/// Creates tickets `range` the osTicket way, spread over four departments
/// and three topics, each created at [`created_at`] of its number.
async fn create_tickets(db: &mut TestDb, range: std::ops::Range<u32>) {
    for i in range {
        db.create_ticket(u64::from(1 + i % 4), u64::from(i % 3), &created_at(i))
            .await;
    }
}

/// A database with names, a state directory, and a connector configuration
/// (see [`write_config`]) starting at the binlog's end, delivering to the
/// beanstalkd on `port`; the path of the connector's log beside it.
async fn beanstalk_setup(port: u16) -> (TestDb, tempfile::TempDir, PathBuf, PathBuf) {
    let mut db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let start = binlog_end(&mut db.conn).await;
    let config = write_config(&db, state.path(), &start, port);
    let log = state.path().join("connector.log");
    (db, state, config, log)
}

/// Writes the connector's configuration for `db` into `state` (beanstalk
/// sink on `port`, plain JSON records with `event_id` and `sequence`),
/// checks that it loads, and returns its path.
fn write_config(db: &TestDb, state: &Path, start: &str, port: u16) -> std::path::PathBuf {
    let toml = format!(
        "[source]\nurl = \"{}\"\ntable_prefix = \"{}\"\nserver_id = {}\nstart = \"{start}\"\n\
         [tickets_creation]\nrecord = \"plain\"\nextra_fields = [\"event_id\", \"sequence\"]\n\
         [checkpoint]\ndir = \"{}\"\n\
         [sink]\ntype = \"beanstalk\"\nhost = \"127.0.0.1\"\nport = {port}\ntube = \"{TUBE}\"\n\
         timeout_secs = 5\n[helpdesk]\ncode = \"BFX\"\n",
        db.url,
        db.prefix,
        1000 + rand::random::<u32>() % 1_000_000,
        state.join("cp").display(),
    );
    let file = state.join("connector.toml");
    std::fs::write(&file, toml).unwrap();
    osticket_cdc::config::Settings::load_with_env(Some(&file), []).expect("the config loads");
    file
}

/// SIGTERM, then the exit status, which must be a clean exit.
fn terminate(mut child: Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
}

/// Drains the tube until it has given jobs of `n` distinct sequences, then
/// once more after a pause, for late repeats. Returns every job in the
/// order beanstalkd handed them out (job id order: all have one priority).
async fn drain_until(beanstalkd: &Beanstalkd, n: usize, timeout: Duration) -> Vec<Copy> {
    let started = Instant::now();
    let mut jobs: Vec<Copy> = Vec::new();
    loop {
        jobs.extend(beanstalkd.drain(TUBE).await.into_iter().map(parse_copy));
        let distinct = distinct_sequences(&jobs);
        if distinct >= n {
            break;
        }
        assert!(
            started.elapsed() < timeout,
            "only {distinct} of {n} records after {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    jobs.extend(beanstalkd.drain(TUBE).await.into_iter().map(parse_copy));
    jobs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_killed_mid_batch_into_beanstalk_loses_nothing() {
    const TICKETS: u32 = 1000;
    let Some(beanstalkd) = Beanstalkd::start(&[]) else {
        return;
    };
    let (mut db, _state, config, log) = beanstalk_setup(beanstalkd.port).await;

    // Tickets are created in the background the whole time, paced so the
    // kills below fall while they are.
    let inserter = tokio::spawn(async move {
        for i in 0..TICKETS {
            create_tickets(&mut db, i..i + 1).await;
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        db
    });

    let mut rng = rand::rng();
    let mut kills = 0;
    let mut killed_during_creation = 0;
    while (kills < 4 || !inserter.is_finished()) && kills < 12 {
        let mut child = spawn_connector(&config, &log);
        tokio::time::sleep(Duration::from_millis(rng.random_range(150..900))).await;
        if !inserter.is_finished() {
            killed_during_creation += 1;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
    }
    let _db = inserter.await.unwrap();

    // A last run delivers the rest, then stops cleanly on SIGTERM.
    let child = spawn_connector(&config, &log);
    let jobs = drain_until(&beanstalkd, TICKETS as usize, Duration::from_secs(90)).await;
    terminate(child);
    let mut jobs = jobs;
    jobs.extend(beanstalkd.drain(TUBE).await.into_iter().map(parse_copy));

    let repeats = check_copies(&jobs, TICKETS, created_at);
    assert!(
        killed_during_creation >= 3,
        "only {killed_during_creation} of {kills} kills fell while tickets were created"
    );
    println!(
        "{TICKETS} tickets, {kills} SIGKILLs ({killed_during_creation} during creation): \
         {} jobs, every ticket present in order, {repeats} byte-identical repeats",
        jobs.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beanstalkd_down_at_start_is_waited_for() {
    const TICKETS: u32 = 50;
    let beanstalkd = Beanstalkd::unstarted();
    let (mut db, _state, config, log) = beanstalk_setup(beanstalkd.port).await;

    // The connector runs and tickets are created while nothing listens on
    // the port.
    let child = spawn_connector(&config, &log);
    create_tickets(&mut db, 0..TICKETS).await;
    let unreachable = format!(
        "beanstalkd at 127.0.0.1:{} is not reachable",
        beanstalkd.port
    );
    let started = Instant::now();
    let text = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("sink failed; retrying") && text.contains(&unreachable) {
            break text;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no retry line in the log after 30 s:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let retries_while_down = text.matches("sink failed; retrying").count();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Up: everything arrives, once, in order.
    if !beanstalkd.start_now(&[]) {
        terminate(child);
        return;
    }
    let jobs = drain_until(&beanstalkd, TICKETS as usize, Duration::from_secs(60)).await;
    terminate(child);
    let repeats = check_copies(&jobs, TICKETS, created_at);
    assert_eq!(repeats, 0, "nothing was in flight: no repeat");
    assert_eq!(jobs.len(), TICKETS as usize);
    println!(
        "{TICKETS} tickets created while beanstalkd was down ({retries_while_down} retry lines \
         logged), all delivered once, in order, after it started"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beanstalkd_without_its_write_ahead_log_is_warned_about_at_start() {
    const TICKETS: u32 = 3;
    let Some(beanstalkd) = Beanstalkd::start(&["--no-wal"]) else {
        return;
    };
    let (mut db, _state, config, log) = beanstalk_setup(beanstalkd.port).await;

    let child = spawn_connector(&config, &log);
    create_tickets(&mut db, 0..TICKETS).await;
    // The warning comes with the connection, before the first job.
    let jobs = drain_until(&beanstalkd, TICKETS as usize, Duration::from_secs(60)).await;
    terminate(child);
    assert_eq!(check_copies(&jobs, TICKETS, created_at), 0);
    let text = std::fs::read_to_string(&log).unwrap();
    let warnings = text
        .lines()
        .filter(|line| line.contains("WARN") && line.contains(NO_WAL_WARNING))
        .count();
    assert_eq!(warnings, 1, "one warning for the one connection:\n{text}");
    // Standard error is a file here, not a terminal: no colour codes.
    assert!(
        !text.contains('\u{1b}'),
        "escape codes in a log file:\n{text}"
    );
}

/// The delivery stream and bucket of the Firehose test.
const STREAM: &str = "e2e-kill";
const BUCKET: &str = "e2e-kill-bucket";

/// The environment the Firehose connector runs with: test credentials
/// (moto checks no signature) and no instance metadata lookups.
const AWS_ENV: [(&str, &str); 4] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_REGION", REGION),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// Writes the connector's configuration for `db` into `state`: Firehose
/// sink on delivery stream `stream` at `endpoint`, NDJSON data (a Firehose record is the data serializer's
/// output) with `event_id` and `sequence`, batches lingering 50 ms so that
/// each holds several tickets and moto's objects stay well under the 1,000
/// one listing returns. Checks that it loads.
fn write_firehose_config(
    db: &TestDb,
    state: &Path,
    start: &str,
    stream: &str,
    endpoint: &str,
) -> PathBuf {
    let toml = format!(
        "[source]\nurl = \"{}\"\ntable_prefix = \"{}\"\nserver_id = {}\nstart = \"{start}\"\n\
         [tickets_creation]\ndata_serializer = \"ndjson\"\nrecord = \"plain\"\n\
         extra_fields = [\"event_id\", \"sequence\"]\n\
         [checkpoint]\ndir = \"{}\"\n[pipeline]\nlinger_ms = 50\n\
         [sink]\ntype = \"firehose\"\ndelivery_stream = \"{stream}\"\nregion = \"{REGION}\"\n\
         endpoint_url = \"{endpoint}\"\ntimeout_secs = 5\n[helpdesk]\ncode = \"BFX\"\n",
        db.url,
        db.prefix,
        1000 + rand::random::<u32>() % 1_000_000,
        state.join("cp").display(),
    );
    let file = state.join("connector.toml");
    std::fs::write(&file, toml).unwrap();
    osticket_cdc::config::Settings::load_with_env(Some(&file), []).expect("the config loads");
    file
}

/// Every NDJSON line of the objects of `bucket`, in the order moto created
/// the objects.
async fn firehose_copies(moto: &Moto, bucket: &str) -> Vec<Copy> {
    let stream = delivered(moto.addr(), bucket).await.concat();
    assert!(
        stream.is_empty() || stream.ends_with(b"\n"),
        "a record was cut"
    );
    stream
        .split_inclusive(|&b| b == b'\n')
        .map(|line| parse_copy(line.to_vec()))
        .collect()
}

/// Waits until moto's objects have stopped growing for a while and hold
/// `n` distinct sequences (reading them while one is written could see the
/// registry and the listing disagree).
async fn wait_for_firehose(moto: &Moto, bucket: &str, n: usize, timeout: Duration) {
    let started = Instant::now();
    let (mut count, mut since) = (usize::MAX, Instant::now());
    loop {
        let now = object_count(moto.addr(), bucket).await;
        if now != count {
            (count, since) = (now, Instant::now());
        } else if since.elapsed() > Duration::from_millis(1500)
            && distinct_sequences(&firehose_copies(moto, bucket).await) >= n
        {
            return;
        }
        assert!(
            started.elapsed() < timeout,
            "{count} objects and not every ticket after {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_killed_mid_batch_into_firehose_loses_nothing() {
    const TICKETS: u32 = 1000;
    let moto = Moto::shared();
    create_stream(moto.addr(), STREAM, BUCKET).await;
    let mut db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let start = binlog_end(&mut db.conn).await;
    let config = write_firehose_config(&db, state.path(), &start, STREAM, &moto.url());
    let log = state.path().join("connector.log");

    // Tickets are created in the background the whole time, paced so the
    // kills below fall while they are.
    let inserter = tokio::spawn(async move {
        for i in 0..TICKETS {
            create_tickets(&mut db, i..i + 1).await;
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        db
    });

    // The Firehose sink checks the stream at start, so a run lives longer
    // than into beanstalkd before it is killed.
    let mut rng = rand::rng();
    let (mut kills, mut killed_during_creation) = (0, 0);
    let mut objects_at_kill = Vec::new();
    while (kills < 4 || !inserter.is_finished()) && kills < 12 {
        let mut child = spawn_connector_with_env(&config, &log, &AWS_ENV);
        tokio::time::sleep(Duration::from_millis(rng.random_range(200..1000))).await;
        if !inserter.is_finished() {
            killed_during_creation += 1;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        objects_at_kill.push(object_count(moto.addr(), BUCKET).await);
    }
    let _db = inserter.await.unwrap();

    // A last run delivers the rest, then stops cleanly on SIGTERM.
    let child = spawn_connector_with_env(&config, &log, &AWS_ENV);
    wait_for_firehose(moto, BUCKET, TICKETS as usize, Duration::from_secs(120)).await;
    terminate(child);
    let copies = firehose_copies(moto, BUCKET).await;

    let repeats = check_copies(&copies, TICKETS, created_at);
    assert!(
        killed_during_creation >= 3,
        "only {killed_during_creation} of {kills} kills fell while tickets were created"
    );
    let delivering_runs = objects_at_kill.windows(2).filter(|w| w[1] > w[0]).count();
    assert!(
        delivering_runs >= 2,
        "killed runs delivered records before their kill: S3 objects after each kill \
         {objects_at_kill:?}"
    );
    println!(
        "{TICKETS} tickets, {kills} SIGKILLs ({killed_during_creation} during creation; S3 \
         objects after each {objects_at_kill:?}): {} records in {} objects, every ticket present \
         in order, {repeats} byte-identical repeats",
        copies.len(),
        object_count(moto.addr(), BUCKET).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firehose_down_at_start_is_waited_for() {
    const TICKETS: u32 = 50;
    const LATE_STREAM: &str = "e2e-late";
    const LATE_BUCKET: &str = "e2e-late-bucket";
    // The stream exists on moto from the start; what is down is the
    // endpoint the connector is given, a port nothing listens on until a
    // relay to moto is started there.
    let moto = Moto::shared();
    create_stream(moto.addr(), LATE_STREAM, LATE_BUCKET).await;
    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let mut db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let start = binlog_end(&mut db.conn).await;
    let config = write_firehose_config(&db, state.path(), &start, LATE_STREAM, &endpoint);
    let log = state.path().join("connector.log");

    let child = spawn_connector_with_env(&config, &log, &AWS_ENV);
    create_tickets(&mut db, 0..TICKETS).await;
    let unreachable = format!("cannot check firehose delivery stream `{LATE_STREAM}`");
    let started = Instant::now();
    let retries_while_down = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let retries = text
            .lines()
            .filter(|line| line.contains("Firehose not reachable; retrying"))
            .filter(|line| line.contains(&unreachable) && line.contains(&endpoint))
            .count();
        // Two lines: the connector keeps retrying, not only once.
        if retries >= 2 {
            break retries;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no two retry lines naming the stream and {endpoint} after 30 s:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // Up: everything arrives, once, in order.
    let _relay = FaultProxy::start_on(port, moto.addr()).await;
    wait_for_firehose(moto, LATE_BUCKET, TICKETS as usize, Duration::from_secs(90)).await;
    terminate(child);
    let copies = firehose_copies(moto, LATE_BUCKET).await;
    let repeats = check_copies(&copies, TICKETS, created_at);
    assert_eq!(repeats, 0, "nothing was in flight: no repeat");
    assert_eq!(copies.len(), TICKETS as usize);
    println!(
        "{TICKETS} tickets created while the Firehose endpoint was down ({retries_while_down} \
         retry lines logged), all delivered once, in order, after it came up"
    );
}
