//! Shutdown: SIGTERM during a steady stream stops at a transaction boundary,
//! delivers what was read, exits 0 quickly, and a restart resumes exactly
//! after the last acknowledged record.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn created_at(i: u32) -> String {
    format!(
        "2024-05-05 {:02}:{:02}:{:02}",
        i / 3600,
        (i / 60) % 60,
        i % 60
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exits_0_and_a_restart_resumes_after_the_last_record() {
    const TICKETS: u32 = 600;
    let mut db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let out = state.path().join("out.jsonl");
    let cp = state.path().join("cp");
    let start = binlog_end(&mut db.conn).await;
    settings(
        &db.url,
        &db.prefix,
        &cp,
        &out,
        &format!("start = \"{start}\""),
    );
    let config = cp.with_extension("toml");
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_osticket-cdc"))
            .args(["run", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };

    // A steady stream of tickets, created the whole time.
    let inserter = tokio::spawn(async move {
        for i in 0..TICKETS {
            db.create_ticket(1 + u64::from(i % 4), 0, &created_at(i))
                .await;
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
    });

    let mut stops = 0;
    while stops < 2 || !inserter.is_finished() {
        let child = spawn();
        tokio::time::sleep(Duration::from_millis(700)).await;
        let asked = Instant::now();
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(0),
            "clean exit on SIGTERM: {stderr}"
        );
        assert!(
            asked.elapsed() < Duration::from_secs(10),
            "stopped within the deadline"
        );
        assert!(
            stderr.contains("stopped"),
            "logs the final checkpoint: {stderr}"
        );
        stops += 1;
    }
    inserter.await.unwrap();

    let mut child = spawn();
    let lines = lines_eventually(&out, TICKETS as usize).await;
    // Past start-up: a signal before the handlers exist ends the process
    // the default way (nothing is lost, but the exit is not 0).
    tokio::time::sleep(Duration::from_millis(700)).await;
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());

    let all = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        all.lines().count(),
        TICKETS as usize,
        "nothing repeated after {stops} stops"
    );
    for (i, record) in parse_lines(&lines).iter().enumerate() {
        assert_eq!(
            record["datetime_complete"],
            created_at(i as u32),
            "record {i}"
        );
    }
    assert!(stops >= 2, "stopped {stops} times mid-stream");
    println!("{TICKETS} tickets, {stops} SIGTERMs mid-stream, each exit 0, every ticket once");
}
