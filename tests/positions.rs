//! Start points, rotations and reconnects against a real MariaDB: the
//! connector starts where it is told, follows new binlog files, and picks up
//! after the server restarts, without losing or repeating a ticket.

mod common;

use common::*;
use mysql_async::prelude::Queryable;

fn config(db: &TestDb, state: &tempfile::TempDir, extra: &str) -> osticket_cdc::config::Settings {
    settings(
        &db.url,
        &db.prefix,
        &state.path().join("cp"),
        &state.path().join("out.jsonl"),
        extra,
    )
}

fn records(state: &tempfile::TempDir) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(state.path().join("out.jsonl")).unwrap_or_default();
    parse_lines(&text.lines().map(str::to_owned).collect::<Vec<_>>())
}

fn created(records: &[serde_json::Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["datetime_complete"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_rotations_and_resumes_in_the_new_file() {
    let mut db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let running = start_pipeline(config(&db, &state, "")).await;

    db.create_ticket(1, 1, "2024-08-01 00:00:01").await;
    db.exec("FLUSH BINARY LOGS").await;
    db.create_ticket(1, 1, "2024-08-01 00:00:02").await;
    lines_eventually(&state.path().join("out.jsonl"), 2).await;
    running.stop().await.unwrap();

    db.exec("FLUSH BINARY LOGS").await;
    db.create_ticket(1, 1, "2024-08-01 00:00:03").await;
    db.exec("FLUSH BINARY LOGS").await;
    let running = start_pipeline(config(&db, &state, "")).await;
    db.create_ticket(1, 1, "2024-08-01 00:00:04").await;
    lines_eventually(&state.path().join("out.jsonl"), 4).await;
    running.stop().await.unwrap();

    let want = [
        "2024-08-01 00:00:01",
        "2024-08-01 00:00:02",
        "2024-08-01 00:00:03",
        "2024-08-01 00:00:04",
    ];
    assert_eq!(created(&records(&state)), want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_from_earliest_a_position_or_a_gtid() {
    let server = Server::start(&[]);
    let mut db = create_db(&server, "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    db.create_ticket(4, 0, "2024-09-01 00:00:01").await;
    let after_first = binlog_end(&mut db.conn).await;
    let gtid: String = db
        .conn
        .query_first("SELECT @@gtid_binlog_pos")
        .await
        .unwrap()
        .unwrap();
    db.create_ticket(4, 0, "2024-09-01 00:00:02").await;

    let cases = [
        (
            "earliest".to_owned(),
            vec!["2024-09-01 00:00:01", "2024-09-01 00:00:02"],
        ),
        (after_first, vec!["2024-09-01 00:00:02"]),
        (gtid, vec!["2024-09-01 00:00:02"]),
    ];
    for (start, want) in cases {
        let state = tempfile::tempdir().unwrap();
        let running = start_pipeline(config(&db, &state, &format!("start = \"{start}\""))).await;
        lines_eventually(&state.path().join("out.jsonl"), want.len()).await;
        // Anything it should not have emitted would arrive by now.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        running.stop().await.unwrap();
        assert_eq!(created(&records(&state)), want, "start = {start}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_when_the_server_restarts() {
    let server = Server::start(&[]);
    let mut db = create_db(&server, "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let running = start_pipeline(config(&db, &state, "reconnect_max_backoff_secs = 1")).await;

    db.create_ticket(2, 2, "2024-10-01 00:00:01").await;
    lines_eventually(&state.path().join("out.jsonl"), 1).await;
    server.restart();
    let mut db = TestDb {
        conn: server.conn(Some(&db.name)).await,
        ..db
    };
    db.create_ticket(2, 2, "2024-10-01 00:00:02").await;
    db.create_ticket(3, 0, "2024-10-01 00:00:03").await;
    lines_eventually(&state.path().join("out.jsonl"), 3).await;
    assert!(
        !running.is_finished(),
        "the connector kept running through the restart"
    );
    running.stop().await.unwrap();
    let want = [
        "2024-10-01 00:00:01",
        "2024-10-01 00:00:02",
        "2024-10-01 00:00:03",
    ];
    assert_eq!(created(&records(&state)), want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gtid_start_stores_the_names_with_its_first_checkpoint() {
    let mut db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let gtid: String = db
        .conn
        .query_first("SELECT @@gtid_binlog_pos")
        .await
        .unwrap()
        .unwrap();
    let state = tempfile::tempdir().unwrap();
    let start = format!("start = \"{gtid}\"");
    let running = start_pipeline(config(&db, &state, &start)).await;
    db.create_ticket(3, 2, "2024-12-01 00:00:01").await;
    lines_eventually(&state.path().join("out.jsonl"), 1).await;
    running.stop().await.unwrap();

    // The restart reads the names from the checkpoint, not the database.
    let running = start_pipeline(config(&db, &state, &start)).await;
    db.create_ticket(3, 2, "2024-12-01 00:00:02").await;
    lines_eventually(&state.path().join("out.jsonl"), 2).await;
    running.stop().await.unwrap();
    let names: Vec<_> = records(&state)
        .iter()
        .map(|r| r["department_name"].clone())
        .collect();
    let nested = serde_json::json!("Sales / Maintenance Crew / Night Shift");
    assert_eq!(names, vec![nested.clone(), nested]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purged_checkpoint_binlog_stops_with_the_ways_on() {
    let server = Server::start(&[]);
    let mut db = create_db(&server, "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    config(&db, &state, "");
    let toml = state.path().join("cp").with_extension("toml");
    // A separate process, so its replica connection is surely gone before
    // the purge (MariaDB waits for dump threads still reading a log).
    let mut first = std::process::Command::new(env!("CARGO_BIN_EXE_osticket-cdc"))
        .args(["run", "--config"])
        .arg(&toml)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    db.create_ticket(1, 1, "2024-12-02 00:00:01").await;
    lines_eventually(&state.path().join("out.jsonl"), 1).await;
    let pid = first.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(first.wait().unwrap().success());

    // Rotate twice and purge everything before the newest file.
    let newest = purge_all_but_newest_binlog(&mut db).await;

    let child = std::process::Command::new(env!("CARGO_BIN_EXE_osticket-cdc"))
        .args(["run", "--config"])
        .arg(&toml)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    for needle in [
        "cannot resume from mysql-bin.000001",
        &newest,
        "checkpoint reset",
        "backfill",
    ] {
        assert!(stderr.contains(needle), "`{needle}` missing from: {stderr}");
    }
}
