//! Scenarios that every server flavour must pass; `tests/stream.rs` runs
//! them on MariaDB and `tests/mysql.rs` on MySQL.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

/// Runs the connector from the current binlog end (plus `extra` source
/// settings); returns it and its output file.
pub async fn stream_from_now(
    db: &mut TestDb,
    extra: &str,
    state: &tempfile::TempDir,
) -> (Running, PathBuf) {
    let start = binlog_end(&mut db.conn).await;
    let out = state.path().join("out.jsonl");
    let settings = settings(
        &db.url,
        &db.prefix,
        &state.path().join("cp"),
        &out,
        &format!("start = \"{start}\"\n{extra}"),
    );
    (start_pipeline(settings).await, out)
}

/// Every line of `out`, parsed.
pub fn all_records(out: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(out).unwrap_or_default();
    parse_lines(&text.lines().map(str::to_owned).collect::<Vec<_>>())
}

/// For each schema shape and prefix: three tickets created the osTicket way
/// give exactly three records, in order, with nested names, a top-level
/// department without topic, and a missing department.
pub async fn one_event_per_ticket_for_each_shape(server: &Server, shapes: &[(&str, &str)]) {
    for &(shape, prefix) in shapes {
        let mut db = create_db(server, shape, prefix).await;
        seed_names(&mut db).await;
        let state = tempfile::tempdir().unwrap();
        let (running, out) = stream_from_now(&mut db, "", &state).await;

        let nested = Some("Sales / Maintenance Crew / Night Shift");
        let cases = [
            (
                3,
                2,
                "2024-01-02 03:04:05",
                nested,
                Some("Billing / Refunds"),
            ),
            (4, 0, "2024-02-29 23:59:59", Some("Support"), None),
            (99, 1, "2025-12-31 00:00:00", None, Some("Billing")),
        ];
        for (dept, topic, created, _, _) in cases {
            db.create_ticket(dept, topic, created).await;
        }
        lines_eventually(&out, cases.len()).await;
        // Let any wrongly emitted record arrive before counting.
        tokio::time::sleep(Duration::from_millis(300)).await;
        running.stop().await.unwrap();

        let want: Vec<_> = cases
            .iter()
            .map(|(dept, topic, created, dn, tn)| expected(created, *dept, *dn, *topic, *tn))
            .collect();
        assert_eq!(all_records(&out), want, "{shape} with prefix {prefix}");
    }
}

/// `alter_ticket` (an `ALTER TABLE {prefix}ticket ...` adding columns before
/// `dept_id`) and a column added first to the department table, both while
/// the connector runs, shift no value.
pub async fn alter_mid_stream_shifts_no_value(server: &Server, alter_ticket: &str) {
    let mut db = create_db(server, "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let (running, out) = stream_from_now(&mut db, "", &state).await;

    db.create_ticket(4, 1, "2024-04-01 00:00:00").await;
    lines_eventually(&out, 1).await;
    db.exec(alter_ticket).await;
    db.create_ticket(3, 2, "2024-04-01 00:00:01").await;
    db.exec("ALTER TABLE {prefix}department ADD COLUMN code CHAR(3) NOT NULL DEFAULT 'abc' FIRST")
        .await;
    db.exec("UPDATE {prefix}department SET name = 'Help' WHERE id = 4")
        .await;
    db.create_ticket(4, 0, "2024-04-01 00:00:02").await;

    let lines = lines_eventually(&out, 3).await;
    running.stop().await.unwrap();
    let nested = Some("Sales / Maintenance Crew / Night Shift");
    assert_eq!(
        parse_lines(&lines),
        vec![
            expected(
                "2024-04-01 00:00:00",
                4,
                Some("Support"),
                1,
                Some("Billing")
            ),
            expected(
                "2024-04-01 00:00:01",
                3,
                nested,
                2,
                Some("Billing / Refunds")
            ),
            expected("2024-04-01 00:00:02", 4, Some("Help"), 0, None),
        ]
    );
}
