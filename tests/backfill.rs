//! `backfill` and `run --backfill-first` against real servers: tickets that
//! exist before the first start come out once, from one consistent read,
//! and the stream continues from exactly that read, while tickets keep being
//! created: every ticket exactly once, numbered without a gap.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::*;
use mysql_async::prelude::Queryable;
use osticket_cdc::codec::extra::rfc3339_utc;

const EXTRA: &str = "[tickets_creation]\nrecord = \"plain\"\n\
                     extra_fields = [\"ticket_id\", \"event_id\", \"sequence\"]\n";

async fn ticket_ids(db: &mut TestDb) -> Vec<u64> {
    let sql = format!(
        "SELECT ticket_id FROM {}ticket ORDER BY ticket_id",
        db.prefix
    );
    db.conn.query(sql).await.unwrap()
}

/// Runs `osticket-cdc backfill --config CONFIG ARGS...`, which must succeed;
/// its standard output and standard error.
fn run_backfill(config: &Path, args: &[&str]) -> (String, String) {
    let done = Command::new(env!("CARGO_BIN_EXE_osticket-cdc"))
        .args(["backfill", "--config"])
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr).into_owned();
    assert!(done.status.success(), "{stderr}");
    (String::from_utf8_lossy(&done.stdout).into_owned(), stderr)
}

async fn backfill_then_stream(server: &Server) {
    let mut db = create_db(server, "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    for i in 0..150 {
        db.create_ticket(1 + i % 4, i % 3, "2024-08-01 00:00:00")
            .await;
    }
    let state = tempfile::tempdir().unwrap();
    let out = state.path().join("out.jsonl");
    let cp = state.path().join("cp");
    let mut settings = settings(&db.url, &db.prefix, &cp, &out, EXTRA);
    settings.pipeline.backfill_first = true;

    // Tickets keep coming while the connector starts and backfills.
    let mut writer = create_db_handle(server, &db.name, &db.prefix).await;
    let inserting = tokio::spawn(async move {
        for i in 0..250 {
            writer
                .create_ticket(1 + i % 4, i % 3, "2024-08-01 00:00:01")
                .await;
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let running = start_pipeline(settings).await;
    inserting.await.unwrap();
    let expected = ticket_ids(&mut db).await;
    assert_eq!(expected.len(), 400);
    lines_eventually(&out, 400).await;
    // Anything extra would be a ticket twice; give it a moment to show.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    running.stop().await.unwrap();

    let records = parse_lines(
        &std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect::<Vec<_>>(),
    );
    let ids: Vec<u64> = records
        .iter()
        .map(|r| r["ticket_id"].as_u64().unwrap())
        .collect();
    let unique: BTreeSet<u64> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "a ticket came twice: {ids:?}");
    assert_eq!(unique.into_iter().collect::<Vec<_>>(), expected);
    let sequences: Vec<u64> = records
        .iter()
        .map(|r| r["sequence"].as_u64().unwrap())
        .collect();
    assert_eq!(sequences, (1..=400).collect::<Vec<_>>());

    // The backfilled ones come first, in id order, and say so; some were
    // created during the start (the race this test is about) either way.
    let backfilled: Vec<u64> = records
        .iter()
        .filter(|r| r["event_id"].as_str().unwrap().starts_with("backfill:"))
        .map(|r| r["ticket_id"].as_u64().unwrap())
        .collect();
    assert!(backfilled.len() >= 150, "{backfilled:?}");
    eprintln!(
        "{} tickets backfilled, {} streamed",
        backfilled.len(),
        ids.len() - backfilled.len()
    );
    assert_eq!(backfilled, ids[..backfilled.len()]);
    assert!(backfilled.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(records[0]["event_id"], format!("backfill:{}#0", ids[0]));
    assert_eq!(records[0]["department_name"], "Sales");
}

/// A second connection to `name`, for a task of its own.
async fn create_db_handle(server: &Server, name: &str, prefix: &str) -> TestDb {
    TestDb {
        name: name.to_owned(),
        prefix: prefix.to_owned(),
        url: server.url(name),
        conn: server.conn(Some(name)).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_first_then_stream_gives_every_ticket_once_on_mariadb() {
    backfill_then_stream(Server::shared()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_first_then_stream_gives_every_ticket_once_on_mysql() {
    let Some(server) = Server::shared_mysql() else {
        eprintln!(
            "skipped: MySQL 9.7 is not installed here (integration/servers.sh install-mysql)"
        );
        return;
    };
    backfill_then_stream(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_command_selects_ids_and_reset_to_its_position_streams_the_rest() {
    let server = Server::shared();
    let mut db = create_db(server, "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    for _ in 0..6 {
        db.create_ticket(3, 2, "2024-08-02 00:00:00").await;
    }
    let ids = ticket_ids(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let out = state.path().join("out.jsonl");
    let cp = state.path().join("cp");
    settings(&db.url, &db.prefix, &cp, &out, EXTRA);
    let config = cp.with_extension("toml");

    let backfilled = state.path().join("backfill.jsonl");
    let range = format!("{}-{}", ids[2], ids[4]);
    let sink = format!("file:{}", backfilled.display());
    let (_, stderr) = run_backfill(&config, &["--ids", &range, "--sink", &sink]);
    assert!(stderr.contains("backfilled 3 of 3 tickets"), "{stderr}");
    let text = std::fs::read_to_string(&backfilled).unwrap();
    let records = parse_lines(&text.lines().map(str::to_owned).collect::<Vec<_>>());
    let got: Vec<u64> = records
        .iter()
        .map(|r| r["ticket_id"].as_u64().unwrap())
        .collect();
    assert_eq!(got, ids[2..5]);
    assert_eq!(
        records[0]["department_name"],
        "Sales / Maintenance Crew / Night Shift"
    );
    assert_eq!(records[0]["helptopic_label"], "Billing / Refunds");

    // --since compares with `created`.
    db.create_ticket(2, 0, "2024-09-01 00:00:00").await;
    let (text, _) = run_backfill(&config, &["--since", "2024-08-15T00:00:00Z"]);
    let records = parse_lines(&text.lines().map(str::to_owned).collect::<Vec<_>>());
    assert_eq!(records.len(), 1, "{text}");
    assert_eq!(records[0]["datetime_complete"], "2024-09-01 00:00:00");
    assert_eq!(records[0]["department_name"], "Sales / Maintenance Crew");

    // The printed position: a reset to it streams only what came after.
    let position = stderr
        .split("checkpoint reset --to ")
        .nth(1)
        .unwrap()
        .trim()
        .to_owned();
    db.create_ticket(4, 1, "2024-08-02 00:00:07").await;
    let reset = Command::new(env!("CARGO_BIN_EXE_osticket-cdc"))
        .args(["checkpoint", "--config"])
        .arg(&config)
        .args(["reset", "--to", &position])
        .output()
        .unwrap();
    assert!(
        reset.status.success(),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    let running =
        start_pipeline(osticket_cdc::config::Settings::load(Some(&config)).unwrap()).await;
    lines_eventually(&out, 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    running.stop().await.unwrap();
    // The two tickets created after the backfill's read, and nothing else.
    let lines = std::fs::read_to_string(&out).unwrap();
    let records = parse_lines(&lines.lines().map(str::to_owned).collect::<Vec<_>>());
    let created: Vec<&str> = records
        .iter()
        .map(|r| r["datetime_complete"].as_str().unwrap())
        .collect();
    assert_eq!(created, ["2024-09-01 00:00:00", "2024-08-02 00:00:07"]);
}

/// osTicket 1.12.6+ writes `created` in the server's `SYSTEM` zone, whatever
/// `@@global.time_zone` says: on a server whose global zone is five hours
/// off it, `--since` and `created_at` still read `created` in `SYSTEM`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_reads_created_in_the_servers_system_zone() {
    let server = Server::start(&["--default-time-zone=+05:00"]);
    let mut db = create_db(&server, "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    db.create_ticket(1, 0, "2024-09-01 00:00:00").await;
    let late = db.create_ticket(2, 1, "2024-09-01 06:00:00").await;

    // The instants the two `created` values are in the SYSTEM zone.
    db.exec("SET time_zone = 'SYSTEM'").await;
    let (early_secs, late_secs): (u32, u32) = db
        .conn
        .query_first(
            "SELECT UNIX_TIMESTAMP('2024-09-01 00:00:00'), UNIX_TIMESTAMP('2024-09-01 06:00:00')",
        )
        .await
        .unwrap()
        .unwrap();
    let global: String = db
        .conn
        .query_first("SELECT @@global.time_zone")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        global, "+05:00",
        "the server's global zone differs from SYSTEM"
    );

    let state = tempfile::tempdir().unwrap();
    let cp = state.path().join("cp");
    let extra = "[tickets_creation]\nrecord = \"plain\"\n\
                 extra_fields = [\"ticket_id\", \"created_at\"]\n";
    settings(&db.url, &db.prefix, &cp, &state.path().join("out"), extra);
    let config = cp.with_extension("toml");
    // Three hours after the early ticket: only the late one is at or after.
    let since = rfc3339_utc(early_secs + 3 * 3600);
    let (text, _) = run_backfill(&config, &["--since", &since]);
    let records = parse_lines(&text.lines().map(str::to_owned).collect::<Vec<_>>());
    assert_eq!(records.len(), 1, "--since {since}: {text}");
    assert_eq!(records[0]["ticket_id"], late);
    assert_eq!(records[0]["created_at"], rfc3339_utc(late_secs));
}
