//! Crash recovery: the connector killed with SIGKILL at random moments while
//! tickets are being created loses nothing and repeats nothing.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use rand::Rng;

fn created_at(i: u32) -> String {
    let (h, m, s) = (i / 3600, (i / 60) % 60, i % 60);
    format!("2024-07-01 {h:02}:{m:02}:{s:02}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumes_after_kill_without_loss_or_duplicates() {
    const TICKETS: u32 = 2000;
    let mut db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let out = state.path().join("out.jsonl");
    let start = binlog_end(&mut db.conn).await;
    let cp = state.path().join("cp");
    settings(
        &db.url,
        &db.prefix,
        &cp,
        &out,
        &format!(
            "start = \"{start}\"\n[tickets_creation]\nrecord = \"plain\"\n\
             extra_fields = [\"event_id\", \"sequence\"]"
        ),
    );
    let config = cp.with_extension("toml");
    let log = state.path().join("connector.log");

    // Tickets are created in the background the whole time.
    let inserter = tokio::spawn(async move {
        for i in 0..TICKETS {
            db.create_ticket(u64::from(1 + i % 4), u64::from(i % 3), &created_at(i))
                .await;
            // Paced, so the kills below fall while tickets are created.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        db
    });

    let mut rng = rand::rng();
    let mut kills = 0;
    while (kills < 4 || !inserter.is_finished()) && kills < 12 {
        let mut child = spawn_connector(&config, &log);
        tokio::time::sleep(Duration::from_millis(rng.random_range(150..900))).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
    }
    let _db = inserter.await.unwrap();

    // A last run delivers the rest, then stops cleanly on SIGTERM.
    let mut child = spawn_connector(&config, &log);
    let lines = lines_eventually(&out, TICKETS as usize).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");

    let text = std::fs::read_to_string(&out).unwrap();
    let all: Vec<String> = text.lines().map(str::to_owned).collect();
    assert_eq!(
        all.len(),
        TICKETS as usize,
        "exactly one record per ticket after {kills} kills"
    );
    for (i, record) in parse_lines(&lines).iter().enumerate() {
        assert_eq!(
            record["datetime_complete"],
            created_at(i as u32),
            "record {i} in insert order"
        );
        // Records cut off at a kill and written again carry the numbers and
        // ids they had: the sequence has no gap and no repeat.
        assert_eq!(record["sequence"], i as u64 + 1, "record {i}: sequence");
    }
    let ids: std::collections::HashSet<_> = parse_lines(&lines)
        .iter()
        .map(|r| r["event_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids.len(),
        TICKETS as usize,
        "one distinct event_id per ticket"
    );
    assert!(kills >= 3, "the connector was killed {kills} times");
    println!("2000 tickets, {kills} SIGKILLs, every ticket exactly once, in order");
}
