//! End to end into a real beanstalkd: tickets created in MariaDB arrive as
//! jobs, one per ticket, in commit order, each body exactly what `preview`
//! computes for that ticket. (A beanstalkd down at start, and SIGKILLs of
//! the connector mid-batch, are in `tests/deliver_e2e.rs`.)

mod common;

use std::time::Duration;

use common::beanstalkd::Beanstalkd;
use common::*;
use osticket_cdc::codec::RecordEncoder;

fn created_at(i: u32) -> String {
    format!(
        "2024-08-08 {:02}:{:02}:{:02}",
        i / 3600,
        (i / 60) % 60,
        i % 60
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_arrive_as_jobs_in_order_with_the_plugins_bytes() {
    const TICKETS: u32 = 300;
    let Some(beanstalkd) = Beanstalkd::start(&[]) else {
        return;
    };
    let mut db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let start = binlog_end(&mut db.conn).await;
    let extra =
        format!("start = \"{start}\"\n[tickets_creation]\nstream_name = \"osticket-tickets\"\n");
    let mut settings = settings(
        &db.url,
        &db.prefix,
        &state.path().join("cp"),
        &state.path().join("o"),
        &extra,
    );
    settings.sink = osticket_cdc::config::SinkConfig::Beanstalk(beanstalkd.config("tickets"));
    let encoder = RecordEncoder::new(settings.output.clone());
    let running = start_pipeline(settings).await;

    for i in 0..TICKETS {
        db.create_ticket(3, u64::from(i % 3), &created_at(i)).await;
    }
    let mut jobs = Vec::new();
    for _ in 0..200 {
        jobs.extend(beanstalkd.drain("tickets").await);
        if jobs.len() >= TICKETS as usize {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running.stop().await.unwrap();
    assert_eq!(jobs.len(), TICKETS as usize, "one job per ticket");

    // What preview computes for each ticket (the body does not depend on
    // the ids and positions, which only the opt-in fields carry).
    for (i, job) in jobs.iter().enumerate() {
        let event = seeded_event(created_at(i as u32), 3, u64::from(i as u32 % 3));
        let want = encoder.stages(&event, 1).unwrap().body;
        assert_eq!(job, &want, "job {i}: {}", String::from_utf8_lossy(job));
    }
}
