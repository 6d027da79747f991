//! Streaming against a real MySQL 9.7: v2 row events, `uuid:N` GTIDs,
//! `caching_sha2_password` logins without TLS, `SHOW BINARY LOG STATUS`,
//! and transactions compressed into `Transaction_payload` events.
//!
//! MySQL is optional (`integration/servers.sh install-mysql`): without it
//! every test here says why it is skipped and passes.

mod common;

use std::path::Path;
use std::time::Duration;

use common::scenarios::*;
use common::*;
use mysql_async::prelude::Queryable;
use osticket_cdc::checkpoint::{Checkpoint, CheckpointStore};
use osticket_cdc::source::GtidSet;

/// The checkpoint a stopped pipeline left in `cp`.
fn stored_checkpoint(cp: &Path) -> Checkpoint {
    let store = CheckpointStore::open(cp).unwrap();
    store.load().unwrap().expect("a checkpoint was committed")
}

fn created_at(i: u32) -> String {
    format!(
        "2024-09-01 {:02}:{:02}:{:02}",
        i / 3600,
        (i / 60) % 60,
        i % 60
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_schema_shape_and_prefix_gives_one_event_per_ticket() {
    let Some(server) = Server::shared_mysql() else {
        return;
    };
    let shapes = [
        ("schema-1.18.sql", "ost_"),
        ("schema-1.10.sql", "helpdesk_"),
        ("schema-1.14.sql", "helpdesk_"),
        ("schema-upgraded-1.7.sql", "ost_"),
    ];
    one_event_per_ticket_for_each_shape(server, &shapes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_that_never_logged_in_authenticates_without_tls() {
    let Some(server) = Server::shared_mysql() else {
        return;
    };
    let mut db = create_db(server, "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;

    // A user of its own: nobody else logs in as it, so the connector's first
    // login cannot use caching_sha2_password's cache and needs the full
    // authentication (the server's RSA key, as there is no TLS).
    let user = format!("fresh{}", rand::random::<u32>());
    for sql in [
        format!("CREATE USER '{user}'@'%' IDENTIFIED WITH caching_sha2_password BY 'pw{user}'"),
        format!("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '{user}'@'%'"),
        format!(
            "GRANT SELECT, LOCK TABLES ON `{}`.* TO '{user}'@'%'",
            db.name
        ),
    ] {
        db.conn.query_drop(sql).await.unwrap();
    }
    let state = tempfile::tempdir().unwrap();
    let start = binlog_end(&mut db.conn).await;
    let out = state.path().join("out.jsonl");
    let url = format!(
        "mysql://{user}:pw{user}@127.0.0.1:{}/{}",
        server.port, db.name
    );
    let settings = settings(
        &url,
        "ost_",
        &state.path().join("cp"),
        &out,
        &format!("start = \"{start}\""),
    );
    let running = start_pipeline(settings).await;

    db.create_ticket(2, 1, "2024-08-01 00:00:00").await;
    let lines = lines_eventually(&out, 1).await;
    running.stop().await.unwrap();
    assert_eq!(
        parse_lines(&lines),
        vec![expected(
            "2024-08-01 00:00:00",
            2,
            Some("Sales / Maintenance Crew"),
            1,
            Some("Billing")
        )]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn department_rename_between_tickets_names_each_as_of_its_insert() {
    let Some(server) = Server::shared_mysql() else {
        return;
    };
    let mut db = create_db(server, "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let (running, out) = stream_from_now(&mut db, "", &state).await;

    db.create_ticket(3, 2, "2024-03-01 10:00:00").await;
    db.exec("UPDATE {prefix}department SET name = 'Revenue' WHERE id = 1")
        .await;
    db.create_ticket(3, 2, "2024-03-01 10:00:01").await;
    db.exec("UPDATE {prefix}department SET name = 'Day Shift', pid = 0 WHERE id = 3")
        .await;
    db.exec("UPDATE {prefix}help_topic SET topic = 'Payments' WHERE topic_id = 1")
        .await;
    db.create_ticket(3, 2, "2024-03-01 10:00:02").await;

    let lines = lines_eventually(&out, 3).await;
    running.stop().await.unwrap();
    assert_eq!(
        parse_lines(&lines),
        vec![
            expected(
                "2024-03-01 10:00:00",
                3,
                Some("Sales / Maintenance Crew / Night Shift"),
                2,
                Some("Billing / Refunds")
            ),
            expected(
                "2024-03-01 10:00:01",
                3,
                Some("Revenue / Maintenance Crew / Night Shift"),
                2,
                Some("Billing / Refunds")
            ),
            expected(
                "2024-03-01 10:00:02",
                3,
                Some("Day Shift"),
                2,
                Some("Payments / Refunds")
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alter_table_adding_a_column_before_dept_id_shifts_no_value() {
    let Some(server) = Server::shared_mysql() else {
        return;
    };
    // MySQL adds these columns INSTANT, in place; the row images still list
    // them in table order. A value 1 read by position would name `Sales`.
    let alter = "ALTER TABLE {prefix}ticket \
                 ADD COLUMN region_id INT UNSIGNED NOT NULL DEFAULT 1 AFTER status_id, \
                 ADD COLUMN note VARCHAR(300) NULL AFTER number";
    alter_mid_stream_shifts_no_value(server, alter).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_from_the_checkpoint_emits_exactly_the_new_tickets() {
    let Some(server) = Server::shared_mysql() else {
        return;
    };
    let mut db = create_db(server, "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let (running, out) = stream_from_now(&mut db, "", &state).await;
    for i in 0..3 {
        db.create_ticket(1 + u64::from(i), 1, &created_at(i)).await;
    }
    lines_eventually(&out, 3).await;
    running.stop().await.unwrap();

    // While stopped: more tickets and a rename, read from the binlog later.
    for i in 3..6 {
        db.create_ticket(4, 0, &created_at(i)).await;
    }
    db.exec("UPDATE {prefix}department SET name = 'Helpdesk' WHERE id = 4")
        .await;
    db.create_ticket(4, 0, &created_at(6)).await;
    let settings = settings(&db.url, &db.prefix, &state.path().join("cp"), &out, "");
    let running = start_pipeline(settings).await;
    db.create_ticket(2, 2, &created_at(7)).await;

    lines_eventually(&out, 8).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    running.stop().await.unwrap();
    let got = all_records(&out);
    let want = vec![
        expected(&created_at(0), 1, Some("Sales"), 1, Some("Billing")),
        expected(
            &created_at(1),
            2,
            Some("Sales / Maintenance Crew"),
            1,
            Some("Billing"),
        ),
        expected(
            &created_at(2),
            3,
            Some("Sales / Maintenance Crew / Night Shift"),
            1,
            Some("Billing"),
        ),
        expected(&created_at(3), 4, Some("Support"), 0, None),
        expected(&created_at(4), 4, Some("Support"), 0, None),
        expected(&created_at(5), 4, Some("Support"), 0, None),
        expected(&created_at(6), 4, Some("Helpdesk"), 0, None),
        expected(
            &created_at(7),
            2,
            Some("Sales / Maintenance Crew"),
            2,
            Some("Billing / Refunds"),
        ),
    ];
    assert_eq!(got, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_transactions_resume_at_payload_ends_across_restarts() {
    const TICKETS: u32 = 400;
    let Some(server) = Server::start_mysql(&["--binlog-transaction-compression=ON"]) else {
        return;
    };
    let mut db = create_db(&server, "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let out = state.path().join("out.jsonl");
    let cp = state.path().join("cp");
    // `latest`: the snapshot's position and executed GTID set, so the GTID
    // state can be compared with the server's at the end.
    let settings = settings(&db.url, &db.prefix, &cp, &out, "");
    let mut running = start_pipeline(settings.clone()).await;

    // Tickets are created in the background, with a rotation now and then,
    // while the pipeline is stopped and started again wherever it is.
    let inserter = tokio::spawn(async move {
        for i in 0..TICKETS {
            db.create_ticket(u64::from(1 + i % 4), u64::from(i % 3), &created_at(i))
                .await;
            if i % 150 == 75 {
                db.exec("FLUSH BINARY LOGS").await;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        db
    });
    let mut restarts = 0;
    while !inserter.is_finished() {
        let seen = all_records(&out).len();
        while all_records(&out).len() < seen + 15 && !inserter.is_finished() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        running.stop().await.unwrap();
        tokio::time::sleep(Duration::from_millis(rand::random_range(0..200))).await;
        running = start_pipeline(settings.clone()).await;
        restarts += 1;
    }
    let mut db = inserter.await.unwrap();
    lines_eventually(&out, TICKETS as usize).await;
    // Let the reader take in the follow-up updates of the last ticket.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    running.stop().await.unwrap();

    let got = all_records(&out);
    assert_eq!(
        got.len(),
        TICKETS as usize,
        "one record per ticket after {restarts} restarts"
    );
    for (i, record) in got.iter().enumerate() {
        assert_eq!(
            record["datetime_complete"],
            created_at(i as u32),
            "record {i} in insert order"
        );
    }

    // The checkpoint is the binlog's end (a payload's end, not an inner
    // event's), with exactly the server's executed GTID set.
    let checkpoint = stored_checkpoint(&cp);
    assert_eq!(
        checkpoint.position.to_string(),
        binlog_end(&mut db.conn).await
    );
    let executed: Option<String> = db
        .conn
        .query_first("SELECT @@global.gtid_executed")
        .await
        .unwrap();
    let executed: GtidSet = executed.unwrap().replace('\n', "").parse().unwrap();
    assert_eq!(checkpoint.gtid_state, executed);

    // The tickets really went through Transaction_payload events, and the
    // restarts and rotations really happened.
    let files: Vec<(String, u64, String)> = db.conn.query("SHOW BINARY LOGS").await.unwrap();
    let mut payloads = 0;
    for (file, _, _) in &files {
        let events: Vec<mysql_async::Row> = db
            .conn
            .query(format!("SHOW BINLOG EVENTS IN '{file}'"))
            .await
            .unwrap();
        payloads += events
            .iter()
            .filter(|e| {
                e.get::<String, _>(2)
                    .is_some_and(|t| t == "Transaction_payload")
            })
            .count();
    }
    assert!(
        payloads >= TICKETS as usize,
        "only {payloads} Transaction_payload events"
    );
    assert!(files.len() >= 3, "only {} binlog files", files.len());
    assert!(restarts >= 3, "the pipeline was restarted {restarts} times");
    println!(
        "{TICKETS} tickets in {payloads} compressed transactions over {} binlogs, \
         {restarts} restarts: each exactly once",
        files.len()
    );
}
