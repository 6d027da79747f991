//! Streaming against a real MariaDB: one event per ticket insert, in order,
//! with names as of the ticket, for every schema shape and prefix.

mod common;

use common::scenarios::*;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_schema_shape_and_prefix_gives_one_event_per_ticket() {
    let shapes = [
        "schema-1.10.sql",
        "schema-1.14.sql",
        "schema-1.18.sql",
        "schema-upgraded-1.7.sql",
    ];
    let cases: Vec<_> = shapes
        .iter()
        .flat_map(|s| [(*s, "ost_"), (*s, "helpdesk_")])
        .collect();
    one_event_per_ticket_for_each_shape(Server::shared(), &cases).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_updates_and_deletes_and_lookalike_tables_give_no_events() {
    let mut db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let (running, out) = stream_from_now(&mut db, "", &state).await;

    let first = db.create_ticket(4, 1, "2024-01-01 00:00:01").await;
    db.exec(&format!(
        "UPDATE {{prefix}}ticket SET dept_id = 1, topic_id = 2 WHERE ticket_id = {first}"
    ))
    .await;
    db.exec(&format!(
        "DELETE FROM {{prefix}}ticket WHERE ticket_id = {first}"
    ))
    .await;
    db.exec("INSERT INTO {prefix}ticket__cdata (ticket_id, subject) VALUES (1, 'x')")
        .await;
    db.exec("INSERT INTO {prefix}ticket_status (name, state, properties, created, updated) VALUES ('Weird', 'open', '{}', NOW(), NOW())").await;
    db.create_ticket(1, 0, "2024-01-01 00:00:02").await;

    let lines = lines_eventually(&out, 2).await;
    // Let any wrongly emitted record arrive before counting.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    running.stop().await.unwrap();
    let got = parse_lines(
        &std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        got,
        vec![
            expected(
                "2024-01-01 00:00:01",
                4,
                Some("Support"),
                1,
                Some("Billing")
            ),
            expected("2024-01-01 00:00:02", 1, Some("Sales"), 0, None),
        ],
        "{lines:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_those_at_each_tickets_insert_across_restarts() {
    let mut db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let (running, out) = stream_from_now(&mut db, "", &state).await;

    db.create_ticket(3, 2, "2024-03-01 10:00:00").await;
    db.exec("UPDATE {prefix}department SET name = 'Revenue' WHERE id = 1")
        .await;
    db.create_ticket(3, 2, "2024-03-01 10:00:01").await;
    lines_eventually(&out, 2).await;
    running.stop().await.unwrap();

    // While stopped: re-parent department 3 to the top and rename a topic.
    // The restarted connector reads its directory from the checkpoint and
    // these changes from the binlog, in order.
    db.exec("UPDATE {prefix}department SET pid = NULL WHERE id = 3")
        .await;
    db.exec("UPDATE {prefix}help_topic SET topic = 'Payments' WHERE topic_id = 1")
        .await;
    db.create_ticket(3, 2, "2024-03-01 10:00:02").await;
    let settings = settings(&db.url, &db.prefix, &state.path().join("cp"), &out, "");
    let running = start_pipeline(settings).await;

    // A rename in the same transaction as the insert applies to it.
    db.exec("BEGIN").await;
    db.exec("UPDATE {prefix}department SET name = 'Day Shift' WHERE id = 3")
        .await;
    db.exec("INSERT INTO {prefix}ticket SET number='x1', dept_id=3, topic_id=1, created='2024-03-01 10:00:03', lastupdate=NOW(), updated=NOW()").await;
    db.exec("COMMIT").await;
    // Deleted department and topic: null names; a department whose parent
    // was deleted loses that ancestor.
    db.exec("DELETE FROM {prefix}department WHERE id = 3").await;
    db.exec("DELETE FROM {prefix}help_topic WHERE topic_id = 2")
        .await;
    db.create_ticket(3, 2, "2024-03-01 10:00:04").await;
    db.exec("DELETE FROM {prefix}department WHERE id = 1").await;
    db.create_ticket(2, 0, "2024-03-01 10:00:05").await;

    let lines = lines_eventually(&out, 6).await;
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
                Some("Night Shift"),
                2,
                Some("Payments / Refunds")
            ),
            expected(
                "2024-03-01 10:00:03",
                3,
                Some("Day Shift"),
                1,
                Some("Payments")
            ),
            expected("2024-03-01 10:00:04", 3, None, 2, None),
            expected("2024-03-01 10:00:05", 2, Some("Maintenance Crew"), 0, None),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alter_table_mid_stream_shifts_no_value() {
    let alter = "ALTER TABLE {prefix}ticket \
                 ADD COLUMN extra_id INT UNSIGNED NOT NULL DEFAULT 77 AFTER ticket_id, \
                 ADD COLUMN note VARCHAR(300) NULL AFTER number";
    alter_mid_stream_shifts_no_value(Server::shared(), alter).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_column_names_in_the_binlog_the_schema_is_read_from_the_server() {
    let server = Server::start(&["--binlog-row-metadata=MINIMAL"]);
    let mut db = create_db(&server, "schema-1.14.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let (running, out) = stream_from_now(&mut db, "", &state).await;

    db.create_ticket(2, 1, "2024-05-01 00:00:00").await;
    lines_eventually(&out, 1).await;
    db.exec("ALTER TABLE {prefix}ticket ADD COLUMN extra_id INT NOT NULL DEFAULT 5 FIRST")
        .await;
    db.create_ticket(3, 2, "2024-05-01 00:00:01").await;

    let lines = lines_eventually(&out, 2).await;
    running.stop().await.unwrap();
    assert_eq!(
        parse_lines(&lines),
        vec![
            expected(
                "2024-05-01 00:00:00",
                2,
                Some("Sales / Maintenance Crew"),
                1,
                Some("Billing")
            ),
            expected(
                "2024-05-01 00:00:01",
                3,
                Some("Sales / Maintenance Crew / Night Shift"),
                2,
                Some("Billing / Refunds")
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_rows_in_one_insert_keep_their_order() {
    let mut db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let (running, out) = stream_from_now(&mut db, "", &state).await;

    let rows: Vec<String> = (0..50)
        .map(|i| {
            format!(
                "('n{i}', {}, 1, '2024-06-01 00:00:{:02}', NOW(), NOW())",
                1 + i % 4,
                i % 60
            )
        })
        .collect();
    db.exec(&format!(
        "INSERT INTO {{prefix}}ticket (number, dept_id, topic_id, created, lastupdate, updated) VALUES {}",
        rows.join(",")
    )).await;
    let lines = lines_eventually(&out, 50).await;
    running.stop().await.unwrap();
    let got = parse_lines(&lines);
    for (i, record) in got.iter().enumerate() {
        assert_eq!(
            record["datetime_complete"],
            format!("2024-06-01 00:00:{:02}", i % 60),
            "row {i}"
        );
        assert_eq!(record["department_id"], 1 + i as u64 % 4, "row {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_output_is_the_plugins_bytes() {
    // The seed specification's reference ticket: department 1 `Support`,
    // topic 2 `Billing`, created 2024-01-02 03:04:05, helpdesk code BFX,
    // every option at its default: JSON data, Base64, a JSON Kinesis record.
    let mut db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    db.department(1, None, "Support").await;
    db.topic(2, 0, "Billing").await;
    let state = tempfile::tempdir().unwrap();
    let extra = "[tickets_creation]\nstream_name = \"osticket-tickets\"\n";
    let (running, out) = stream_from_now(&mut db, extra, &state).await;
    db.create_ticket(1, 2, "2024-01-02 03:04:05").await;
    let lines = lines_eventually(&out, 1).await;
    running.stop().await.unwrap();

    let want = concat!(
        r#"{"Data":"eyJoZWxwZGVza19jb2RlIjoiQkZYIiwiZGF0ZXRpbWVfY29tcGxldGUiOiIyMDI0LTAxLTAyIDAzOjA0OjA1IiwiZGVwYXJ0bWVudF9pZCI6MSwiZGVwYXJ0bWVudF9uYW1lIjoiU3VwcG9ydCIsImhlbHB0b3BpY19pZCI6MiwiaGVscHRvcGljX2xhYmVsIjoiQmlsbGluZyJ9","#,
        r#""StreamName":"osticket-tickets","PartitionKey":"\\KinesisRecord"}"#
    );
    assert_eq!(lines, [want]);
    assert_eq!(want.len(), 284);
}
