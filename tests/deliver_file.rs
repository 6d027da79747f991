//! End to end into the file sink: 5,000 tickets created in MariaDB (the
//! first ones the osTicket way, the rest in multi-row INSERTs) are written
//! as one line each, in commit order, the file byte for byte the records
//! `preview` computes (both use `RecordEncoder::stages`), each followed by
//! the delimiter.

mod common;

use std::time::{Duration, Instant};

use common::bulk::{event, insert_tickets};
use common::*;
use osticket_cdc::codec::RecordEncoder;

const DAY: &str = "2024-07-07";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_tickets_are_written_in_order_with_the_plugins_bytes() {
    const TICKETS: u32 = 5000;
    let mut db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let start = binlog_end(&mut db.conn).await;
    let out = state.path().join("records.jsonl");
    // The plugin's reference record (JSON data, Base64, JSON Kinesis record)
    // with the opt-in sequence, so each line names its place.
    let extra = format!(
        "start = \"{start}\"\n[tickets_creation]\nstream_name = \"osticket-tickets\"\n\
         extra_fields = [\"sequence\"]\n"
    );
    let settings = settings(&db.url, &db.prefix, &state.path().join("cp"), &out, &extra);
    let encoder = RecordEncoder::new(settings.output.clone());
    let started = Instant::now();
    let running = start_pipeline(settings).await;

    insert_tickets(&mut db, DAY, TICKETS).await;
    let inserted = started.elapsed();
    loop {
        let lines = std::fs::read(&out).unwrap_or_default();
        if lines.iter().filter(|&&b| b == b'\n').count() >= TICKETS as usize {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "not every record after 120 s"
        );
        assert!(!running.is_finished(), "the pipeline stopped early");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Anything wrongly written twice would be in the file by now.
    tokio::time::sleep(Duration::from_millis(500)).await;
    running.stop().await.unwrap();

    // The whole file is what preview computes for each ticket, in order.
    let written = std::fs::read(&out).unwrap();
    let lines: Vec<&[u8]> = written.split_inclusive(|&b| b == b'\n').collect();
    assert_eq!(lines.len(), TICKETS as usize, "one line per ticket");
    for (i, line) in lines.iter().enumerate() {
        let mut want = encoder
            .stages(&event(DAY, i as u32), i as u64 + 1)
            .unwrap()
            .body;
        want.push(b'\n');
        assert!(
            *line == want.as_slice(),
            "line {i}: {} instead of {}",
            String::from_utf8_lossy(line),
            String::from_utf8_lossy(&want)
        );
    }
    println!(
        "{TICKETS} tickets (inserted in {:.1} s) as {TICKETS} lines in order, each the bytes \
         preview computes ({:.1} s in all)",
        inserted.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
