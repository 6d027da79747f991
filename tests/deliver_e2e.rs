//! End to end into a real beanstalkd through the connector binary: killed
//! with SIGKILL at random moments while tickets are created, it loses no
//! ticket and repeats only byte-identical copies of jobs that were in
//! flight; a beanstalkd that is not up at start is waited for, with a log
//! line each time the connector retries.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::beanstalkd::Beanstalkd;
use common::*;
use rand::Rng;

/// The tube every test of this file uses (not `default`, so `use` is sent).
const TUBE: &str = "e2e-tickets";

fn created_at(i: u32) -> String {
    let (h, m, s) = (i / 3600, (i / 60) % 60, i % 60);
    format!("2024-09-09 {h:02}:{m:02}:{s:02}")
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

/// One job's record: its bytes, sequence, event id and creation time.
struct Job {
    body: Vec<u8>,
    sequence: u64,
    event_id: String,
    created: String,
}

fn parse_job(body: Vec<u8>) -> Job {
    let value: serde_json::Value = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&body)));
    Job {
        sequence: value["sequence"].as_u64().expect("a sequence"),
        event_id: value["event_id"].as_str().expect("an event_id").to_owned(),
        created: value["datetime_complete"].as_str().unwrap().to_owned(),
        body,
    }
}

/// Drains the tube until it has given jobs of `n` distinct sequences, then
/// once more after a pause, for late repeats. Returns every job in the
/// order beanstalkd handed them out (job id order: all have one priority).
async fn drain_until(beanstalkd: &Beanstalkd, n: usize, timeout: Duration) -> Vec<Job> {
    let started = Instant::now();
    let mut jobs: Vec<Job> = Vec::new();
    loop {
        jobs.extend(beanstalkd.drain(TUBE).await.into_iter().map(parse_job));
        let mut distinct: Vec<u64> = jobs.iter().map(|j| j.sequence).collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() >= n {
            break;
        }
        assert!(
            started.elapsed() < timeout,
            "only {} of {n} records after {timeout:?}",
            distinct.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    jobs.extend(beanstalkd.drain(TUBE).await.into_iter().map(parse_job));
    jobs
}

/// Checks the jobs against `n` tickets: the first copies are sequences 1 to
/// `n` in order, each with its ticket's creation time and an event id of its
/// own; any later copy is byte for byte its first copy. Returns how many
/// repeats there were.
fn check_jobs(jobs: &[Job], n: u32) -> usize {
    let mut first: HashMap<u64, &Job> = HashMap::new();
    let mut repeats = 0;
    for job in jobs {
        match first.get(&job.sequence) {
            None => {
                let i = first.len() as u32;
                assert_eq!(job.sequence, u64::from(i) + 1, "first copy {i}: sequence");
                assert_eq!(job.created, created_at(i), "first copy {i}: ticket order");
                first.insert(job.sequence, job);
            }
            Some(original) => {
                assert_eq!(
                    job.event_id, original.event_id,
                    "repeat of sequence {}: same event_id",
                    job.sequence
                );
                assert!(
                    job.body == original.body,
                    "repeat of sequence {} differs: {} vs {}",
                    job.sequence,
                    String::from_utf8_lossy(&job.body),
                    String::from_utf8_lossy(&original.body)
                );
                repeats += 1;
            }
        }
    }
    assert_eq!(first.len(), n as usize, "every ticket present, no extra");
    let mut ids: Vec<&str> = first.values().map(|j| j.event_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n as usize, "one distinct event_id per ticket");
    repeats
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_killed_mid_batch_into_beanstalk_loses_nothing() {
    const TICKETS: u32 = 1000;
    let Some(beanstalkd) = Beanstalkd::start(&[]) else {
        return;
    };
    let mut db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let start = binlog_end(&mut db.conn).await;
    let config = write_config(&db, state.path(), &start, beanstalkd.port);
    let log = state.path().join("connector.log");

    // Tickets are created in the background the whole time, paced so the
    // kills below fall while they are.
    let inserter = tokio::spawn(async move {
        for i in 0..TICKETS {
            db.create_ticket(u64::from(1 + i % 4), u64::from(i % 3), &created_at(i))
                .await;
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
    jobs.extend(beanstalkd.drain(TUBE).await.into_iter().map(parse_job));

    let repeats = check_jobs(&jobs, TICKETS);
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
    let mut db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let start = binlog_end(&mut db.conn).await;
    let config = write_config(&db, state.path(), &start, beanstalkd.port);
    let log = state.path().join("connector.log");

    // The connector runs and tickets are created while nothing listens on
    // the port.
    let child = spawn_connector(&config, &log);
    for i in 0..TICKETS {
        db.create_ticket(u64::from(1 + i % 4), u64::from(i % 3), &created_at(i))
            .await;
    }
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
    let repeats = check_jobs(&jobs, TICKETS);
    assert_eq!(repeats, 0, "nothing was in flight: no repeat");
    assert_eq!(jobs.len(), TICKETS as usize);
    println!(
        "{TICKETS} tickets created while beanstalkd was down ({retries_while_down} retry lines \
         logged), all delivered once, in order, after it started"
    );
}
