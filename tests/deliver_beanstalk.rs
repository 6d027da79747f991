//! End to end into a real beanstalkd: 5,000 tickets created in MariaDB (the
//! first ones the osTicket way, the rest in multi-row INSERTs) arrive as
//! jobs, one per ticket, in commit order, each body exactly what `preview`
//! computes for that ticket (both use `RecordEncoder::stages`). (A
//! beanstalkd down at start, and SIGKILLs of the connector mid-batch, are in
//! `tests/deliver_e2e.rs`.)

mod common;

use std::time::{Duration, Instant};

use common::beanstalkd::Beanstalkd;
use common::bulk::{event, insert_tickets};
use common::*;
use osticket_cdc::codec::RecordEncoder;

const DAY: &str = "2024-08-08";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_tickets_arrive_as_jobs_in_order_with_the_plugins_bytes() {
    const TICKETS: u32 = 5000;
    let Some(beanstalkd) = Beanstalkd::start(&[]) else {
        return;
    };
    let mut db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let start = binlog_end(&mut db.conn).await;
    // The plugin's reference record (JSON data, Base64, JSON Kinesis record)
    // with the opt-in sequence, so each body names its place.
    let extra = format!(
        "start = \"{start}\"\n[tickets_creation]\nstream_name = \"osticket-tickets\"\n\
         extra_fields = [\"sequence\"]\n"
    );
    let mut settings = settings(
        &db.url,
        &db.prefix,
        &state.path().join("cp"),
        &state.path().join("o"),
        &extra,
    );
    settings.sink = osticket_cdc::config::SinkConfig::Beanstalk(beanstalkd.config("tickets"));
    let encoder = RecordEncoder::new(settings.output.clone());
    let started = Instant::now();
    let running = start_pipeline(settings).await;

    insert_tickets(&mut db, DAY, TICKETS).await;
    let inserted = started.elapsed();
    let mut jobs = Vec::new();
    while jobs.len() < TICKETS as usize {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "only {} of {TICKETS} jobs after 120 s",
            jobs.len()
        );
        assert!(!running.is_finished(), "the pipeline stopped early");
        jobs.extend(beanstalkd.drain("tickets").await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Anything wrongly sent twice would be in the tube by now.
    tokio::time::sleep(Duration::from_millis(500)).await;
    running.stop().await.unwrap();
    jobs.extend(beanstalkd.drain("tickets").await);
    assert_eq!(jobs.len(), TICKETS as usize, "one job per ticket");

    // What preview computes for each ticket.
    for (i, job) in jobs.iter().enumerate() {
        let want = encoder
            .stages(&event(DAY, i as u32), i as u64 + 1)
            .unwrap()
            .body;
        assert!(
            job == &want,
            "job {i}: {} instead of {}",
            String::from_utf8_lossy(job),
            String::from_utf8_lossy(&want)
        );
    }
    println!(
        "{TICKETS} tickets (inserted in {:.1} s) as {TICKETS} jobs in order, each the bytes \
         preview computes ({:.1} s in all)",
        inserted.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
