//! `checkpoint show` and `checkpoint reset` through the binary, against a
//! real MariaDB: what they print, what a reset changes for the next run,
//! and the refusal while a connector holds the checkpoint.

mod common;

use std::process::{Command, Output};

use common::*;

fn cdc(config: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_osticket-cdc"))
        .args(["checkpoint", "--config"])
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn created(out: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(out).unwrap_or_default();
    parse_lines(&text.lines().map(str::to_owned).collect::<Vec<_>>())
        .iter()
        .map(|r| r["datetime_complete"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_and_reset_move_the_start_as_asked() {
    let server = Server::start(&[]);
    let mut db = create_db(&server, "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let out = state.path().join("out.jsonl");
    let cp = state.path().join("cp");
    let settings = settings(&db.url, &db.prefix, &cp, &out, "");
    let config = cp.with_extension("toml");

    // Nothing yet, then one run that delivers two tickets.
    assert!(text(&cdc(&config, &["show"])).contains("no checkpoint"));
    let running = start_pipeline(settings.clone()).await;
    db.create_ticket(1, 0, "2024-06-06 00:00:01").await;
    db.create_ticket(1, 0, "2024-06-06 00:00:02").await;
    lines_eventually(&out, 2).await;

    // Show works beside the running connector; reset is refused.
    let shown = text(&cdc(&config, &["show"]));
    assert!(
        shown.contains("position:") && shown.contains("next sequence:     3"),
        "{shown}"
    );
    let refused = cdc(&config, &["reset", "--to", "latest"]);
    assert_eq!(refused.status.code(), Some(4), "{}", text(&refused));
    running.stop().await.unwrap();

    // While stopped, two tickets are created: show says it is behind.
    db.create_ticket(1, 0, "2024-06-06 00:00:03").await;
    db.create_ticket(1, 0, "2024-06-06 00:00:04").await;
    let shown = text(&cdc(&config, &["show"]));
    let behind: u64 = shown
        .lines()
        .find_map(|l| {
            l.strip_prefix("behind:")?
                .trim()
                .strip_suffix(" bytes")?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no byte lag in: {shown}"));
    assert!(behind > 0, "{shown}");

    // A dry run changes nothing; the reset skips the two tickets.
    let before = shown
        .lines()
        .find(|l| l.starts_with("position:"))
        .unwrap()
        .to_owned();
    let dry = text(&cdc(&config, &["reset", "--to", "latest", "--dry-run"]));
    assert!(
        dry.contains("dry run") && dry.contains("to undo: osticket-cdc checkpoint reset --to"),
        "{dry}"
    );
    assert!(
        text(&cdc(&config, &["show"])).contains(&before),
        "unchanged by the dry run"
    );
    let reset = cdc(&config, &["reset", "--to", "latest"]);
    assert!(reset.status.success(), "{}", text(&reset));

    let running = start_pipeline(settings.clone()).await;
    db.create_ticket(1, 0, "2024-06-06 00:00:05").await;
    lines_eventually(&out, 3).await;
    running.stop().await.unwrap();
    assert_eq!(
        created(&out),
        [
            "2024-06-06 00:00:01",
            "2024-06-06 00:00:02",
            "2024-06-06 00:00:05"
        ]
    );

    // Back to the start of the binlog: every ticket again, appended.
    assert!(
        cdc(&config, &["reset", "--to", "earliest"])
            .status
            .success()
    );
    let running = start_pipeline(settings).await;
    lines_eventually(&out, 8).await;
    running.stop().await.unwrap();
    let all = created(&out);
    assert_eq!(all.len(), 8, "{all:?}");
    assert_eq!(
        &all[3..],
        [
            "2024-06-06 00:00:01",
            "2024-06-06 00:00:02",
            "2024-06-06 00:00:03",
            "2024-06-06 00:00:04",
            "2024-06-06 00:00:05"
        ]
    );
}

/// 2030-01-01T00:00:00Z: the forged commit time of the first group of
/// tickets, later than anything the test's setup writes.
const BASE: u64 = 1_893_456_000;

/// Creates one ticket per `created` value with every statement's binlog
/// time forged to `secs` (`SET timestamp`), so groups are separated in time
/// without sleeping.
async fn group_at(db: &mut TestDb, secs: u64, created: &[&str]) {
    db.exec(&format!("SET timestamp = {secs}")).await;
    for created in created {
        db.create_ticket(1, 0, created).await;
    }
    db.exec("SET timestamp = DEFAULT").await;
}

/// Resets a fresh checkpoint in its own directory to `to`, runs the
/// connector from it, creates `marker` tickets (at `marker_secs`) once it
/// runs, and checks that exactly `expected` arrive, in order. Returns what
/// the reset printed.
async fn reset_then_run(
    db: &mut TestDb,
    to: &str,
    marker: &[&str],
    marker_secs: u64,
    expected: &[&str],
) -> String {
    let state = tempfile::tempdir().unwrap();
    let out = state.path().join("out.jsonl");
    let cp = state.path().join("cp");
    let settings = settings(&db.url, &db.prefix, &cp, &out, "");
    let config = cp.with_extension("toml");
    let reset = cdc(&config, &["reset", "--to", to]);
    let printed = text(&reset);
    assert!(reset.status.success(), "reset --to {to}: {printed}");

    let running = start_pipeline(settings).await;
    group_at(db, marker_secs, marker).await;
    lines_eventually(&out, expected.len()).await;
    // Let any wrongly emitted record arrive before comparing.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    running.stop().await.unwrap();
    assert_eq!(created(&out), expected, "reset --to {to}: {printed}");
    printed
}

/// Runs the connector without a checkpoint from `source.start = start` and
/// checks that exactly `expected` arrive.
async fn first_start_from(db: &mut TestDb, start: &str, expected: &[&str]) {
    let state = tempfile::tempdir().unwrap();
    let out = state.path().join("out.jsonl");
    let start_key = format!("start = \"{start}\"");
    let first = settings(
        &db.url,
        &db.prefix,
        &state.path().join("cp"),
        &out,
        &start_key,
    );
    let running = start_pipeline(first).await;
    lines_eventually(&out, expected.len()).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    running.stop().await.unwrap();
    assert_eq!(created(&out), expected, "source.start = {start}");
}

/// The server's GTID state, in the connector's notation.
async fn gtid_now(db: &mut TestDb, flavor: osticket_cdc::source::Flavor) -> String {
    use mysql_async::prelude::Queryable;
    let sql = match flavor {
        osticket_cdc::source::Flavor::MariaDb => "SELECT @@gtid_binlog_pos",
        osticket_cdc::source::Flavor::MySql => "SELECT @@gtid_executed",
    };
    let text: Option<String> = db.conn.query_first(sql).await.unwrap();
    text.unwrap_or_default()
        .replace('\n', "")
        .parse::<osticket_cdc::source::GtidSet>()
        .unwrap()
        .to_string()
}

/// Three groups of tickets an hour apart in binlog time, a binlog rotation
/// between the first and the second; then each kind of reset target, a run,
/// and exactly the tickets after the target.
async fn each_target_delivers_exactly_the_later_tickets(server: &Server) {
    let mut db = create_db(server, "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let (a, b, c) = (
        ["2001-01-01 00:00:01", "2001-01-01 00:00:02"],
        ["2001-01-01 00:01:01", "2001-01-01 00:01:02"],
        ["2001-01-01 00:02:01", "2001-01-01 00:02:02"],
    );
    group_at(&mut db, BASE, &a).await;
    db.exec("FLUSH BINARY LOGS").await;
    let before_b = binlog_end(&mut db.conn).await;
    let second_file = before_b.split(':').next().unwrap().to_owned();
    group_at(&mut db, BASE + 3600, &b).await;
    let gtid_before_c = gtid_now(&mut db, server.flavor).await;
    group_at(&mut db, BASE + 7200, &c).await;
    let b_and_c: Vec<&str> = b.iter().chain(&c).copied().collect();

    // FILE:POS, and an instant whose transaction opens the second binlog:
    // the lookup reads through the rotation to it.
    reset_then_run(&mut db, &before_b, &[], 0, &b_and_c).await;
    let printed = reset_then_run(&mut db, "2030-01-01T01:00:00Z", &[], 0, &b_and_c).await;
    assert!(
        printed.contains("instant:           2030-01-01T01:00:00Z")
            && printed.contains(&format!(
                "first transaction: 2030-01-01T01:00:00Z at {second_file}:"
            )),
        "{printed}"
    );

    // The same instant as another offset with a fraction: the middle of a
    // file, and the GTID state just before the transaction.
    let printed = reset_then_run(&mut db, "2030-01-01T03:00:00.750+01:00", &[], 0, &c).await;
    assert!(
        printed.contains("first transaction: 2030-01-01T02:00:00Z")
            && printed.contains(&format!("(gtid state there: {gtid_before_c})")),
        "{printed}"
    );
    reset_then_run(&mut db, &gtid_before_c, &[], 0, &c).await;

    // `source.start` as an instant, and as a GTID set, on a first start.
    first_start_from(&mut db, "2030-01-01T01:00:00Z", &b_and_c).await;
    first_start_from(&mut db, &gtid_before_c, &c).await;

    // Later than every transaction: the binlog's end, as `latest`.
    let m1 = "2001-01-01 00:05:01";
    let printed =
        reset_then_run(&mut db, "2030-01-01T10:00:00Z", &[m1], BASE + 18_000, &[m1]).await;
    assert!(
        printed.contains("none at or after the instant"),
        "{printed}"
    );
    let m2 = "2001-01-01 00:05:02";
    reset_then_run(&mut db, "latest", &[m2], BASE + 18_001, &[m2]).await;
    let everything: Vec<&str> = a.iter().chain(&b_and_c).chain(&[m1, m2]).copied().collect();
    reset_then_run(&mut db, "earliest", &[], 0, &everything).await;

    // A dry run prints the lookup and changes nothing.
    let state = tempfile::tempdir().unwrap();
    let cp = state.path().join("cp");
    settings(&db.url, &db.prefix, &cp, &state.path().join("o"), "");
    let config = cp.with_extension("toml");
    let dry = text(&cdc(
        &config,
        &["reset", "--to", "2030-01-01T02:00:00Z", "--dry-run"],
    ));
    assert!(
        dry.contains("first transaction: 2030-01-01T02:00:00Z") && dry.contains("dry run"),
        "{dry}"
    );
    assert!(text(&cdc(&config, &["show"])).contains("no checkpoint"));

    // With the first binlog purged, an instant before everything starts at
    // the oldest binlog left, and says that older ones are gone.
    db.exec(&format!("PURGE BINARY LOGS TO '{second_file}'"))
        .await;
    let after_purge: Vec<&str> = b_and_c.iter().chain(&[m1, m2]).copied().collect();
    let printed = reset_then_run(&mut db, "2029-06-01T00:00:00Z", &[], 0, &after_purge).await;
    assert!(
        printed.contains(&format!(
            "before the oldest binlog the server still has ({second_file})"
        )),
        "{printed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_each_reset_target_delivers_exactly_the_later_tickets() {
    // A private server: the test forges binlog times and purges binlogs.
    let server = Server::start(&[]);
    each_target_delivers_exactly_the_later_tickets(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_each_reset_target_delivers_exactly_the_later_tickets() {
    let Some(server) = Server::start_mysql(&[]) else {
        return;
    };
    each_target_delivers_exactly_the_later_tickets(&server).await;
}

#[test]
fn a_bad_instant_is_refused_with_the_expected_form() {
    let state = tempfile::tempdir().unwrap();
    let config = state.path().join("c.toml");
    std::fs::write(&config, "[source]\nurl = \"mysql://u@127.0.0.1:1/db\"\n").unwrap();
    let refused = cdc(&config, &["reset", "--to", "2026-12-03T10:00"]);
    let said = text(&refused);
    assert_eq!(refused.status.code(), Some(2), "{said}");
    assert!(
        said.contains("2026-12-03T10:00") && said.contains("2026-12-03T10:00:00Z"),
        "{said}"
    );
}

/// The ids of the server's binlog dump threads.
async fn dump_threads(db: &mut TestDb) -> Vec<u64> {
    use mysql_async::prelude::Queryable;
    db.conn
        .query("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND = 'Binlog Dump'")
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_a_time_lookup_leaves_a_running_connector_attached() {
    a_time_lookup_leaves_a_running_connector_attached(Server::shared()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_a_time_lookup_leaves_a_running_connector_attached() {
    let Some(server) = Server::shared_mysql() else {
        return;
    };
    a_time_lookup_leaves_a_running_connector_attached(server).await;
}

/// A lookup's dumps (server id 0) run beside a connector's without ending it.
async fn a_time_lookup_leaves_a_running_connector_attached(server: &Server) {
    let mut db = create_db(server, "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let out = state.path().join("out.jsonl");
    let settings = settings(&db.url, &db.prefix, &state.path().join("cp"), &out, "");
    let running = start_pipeline(settings.clone()).await;
    // Ready means the start is fixed; the reader connects just after.
    let mut before = dump_threads(&mut db).await;
    for _ in 0..200 {
        if !before.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        before = dump_threads(&mut db).await;
    }
    assert!(!before.is_empty(), "the connector's dump is listed");

    // Later than everything: the lookup reads the whole binlog.
    let tomorrow = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 86_400;
    let bar = indicatif::ProgressBar::hidden();
    let found = osticket_cdc::source::timeline::first_at_or_after(
        &settings.source,
        server.flavor,
        tomorrow,
        &bar,
    )
    .await
    .unwrap();
    assert_eq!(found, None);
    assert!(bar.position() > 0, "the bar counted the bytes read");

    // The connector's dump thread is the same one, and it still delivers.
    let after = dump_threads(&mut db).await;
    assert!(
        before.iter().all(|id| after.contains(id)),
        "{before:?} -> {after:?}"
    );
    db.create_ticket(1, 0, "2024-06-06 00:00:01").await;
    lines_eventually(&out, 1).await;
    running.stop().await.unwrap();
}
