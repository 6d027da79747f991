//! End to end into a local Firehose (moto, S3 destination): 5,000 tickets
//! created in MariaDB (the first ones the osTicket way, the rest in
//! multi-row INSERTs) flow through the in-process pipeline, whose Firehose
//! sink takes the standard AWS credential chain; the S3 objects read in the
//! order moto created them hold exactly one NDJSON line per ticket, in
//! commit order, each the data serializer's bytes for that ticket as
//! `preview` computes them (both use `RecordEncoder::stages`).
//!
//! The pipeline path has no way to pass credentials but the process
//! environment, so this file holds one test only: nothing else in this
//! process reads the environment while the test sets it.

mod common;
#[path = "firehose/http.rs"]
#[allow(dead_code)]
mod http;
#[path = "firehose/moto.rs"]
#[allow(dead_code)]
mod moto;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::bulk::{event, insert_tickets};
use common::*;
use osticket_cdc::codec::RecordEncoder;
use osticket_cdc::config::SinkConfig;
use osticket_cdc::sink::FirehoseConfig;

use moto::{Moto, REGION, create_stream, delivered, object_count};

const DAY: &str = "2024-10-10";

/// The lines (each with its LF) of the objects of `bucket`, concatenated
/// in creation order.
async fn lines(moto: SocketAddr, bucket: &str) -> Vec<Vec<u8>> {
    let stream = delivered(moto, bucket).await.concat();
    stream
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

#[test]
fn five_thousand_tickets_arrive_in_firehose_in_order() {
    // SAFETY: the only test of this binary, and no thread has been started
    // yet: nothing reads or writes the environment concurrently.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
        std::env::set_var("AWS_REGION", REGION);
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(deliver_5000_tickets());
}

async fn deliver_5000_tickets() {
    const TICKETS: u32 = 5000;
    let (stream, bucket) = ("e2e-tickets", "e2e-tickets-bucket");
    let moto = Moto::shared();
    create_stream(moto.addr(), stream, bucket).await;

    // The pipeline with the Firehose sink, NDJSON data, plain records.
    let mut db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let start = binlog_end(&mut db.conn).await;
    let extra = format!(
        "start = \"{start}\"\n[tickets_creation]\ndata_serializer = \"ndjson\"\nrecord = \"plain\"\n\
         extra_fields = [\"sequence\"]\n"
    );
    let mut settings = settings(
        &db.url,
        &db.prefix,
        &state.path().join("cp"),
        &state.path().join("o"),
        &extra,
    );
    let mut config = FirehoseConfig::new(stream);
    config.region = Some(REGION.to_owned());
    config.endpoint_url = Some(moto.url());
    config.timeout_secs = 5;
    settings.sink = SinkConfig::Firehose(config);
    let encoder = RecordEncoder::new(settings.output.clone());
    let started = Instant::now();
    let running = start_pipeline(settings).await;

    insert_tickets(&mut db, DAY, TICKETS).await;

    // Wait until moto's objects stop growing for a while and hold every
    // ticket (reading them while one is written could see the registry and
    // the listing disagree), then stop the pipeline and read them for good.
    let (mut count, mut since) = (0, Instant::now());
    loop {
        assert!(!running.is_finished(), "the pipeline stopped early");
        let now = object_count(moto.addr(), bucket).await;
        if now != count {
            (count, since) = (now, Instant::now());
        } else if since.elapsed() > Duration::from_millis(1500)
            && lines(moto.addr(), bucket).await.len() >= TICKETS as usize
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "{count} objects and not every ticket after 180 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    running.stop().await.unwrap();
    let objects = object_count(moto.addr(), bucket).await;
    let lines = lines(moto.addr(), bucket).await;

    // Exactly one line per ticket, in order, the data serializer's bytes.
    assert_eq!(lines.len(), TICKETS as usize, "one line per ticket");
    for (i, line) in lines.iter().enumerate() {
        let want = encoder
            .stages(&event(DAY, i as u32), i as u64 + 1)
            .unwrap()
            .data;
        assert_eq!(
            String::from_utf8_lossy(line),
            String::from_utf8_lossy(&want),
            "line {i}"
        );
        assert!(line == &want, "line {i}: bytes");
    }
    println!(
        "{TICKETS} tickets in {objects} S3 objects: one NDJSON line each, in order, \
         byte for byte the data serializer's output ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
}
