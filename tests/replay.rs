//! `replay` through the binary against real servers: a range holding
//! renames, re-parents and deletes of departments and topics, and a binlog
//! rotation, comes out byte for byte as it was delivered live, names of the
//! time included; ranges that cannot be replayed are refused with what is
//! available.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;

const EXTRA: &str = "[tickets_creation]\nrecord = \"plain\"\n\
                     extra_fields = [\"event_id\", \"sequence\"]\n";

fn replay(config: &Path, from: &str, to: &str, sink: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_osticket-cdc"))
        .args(["replay", "--config"])
        .arg(config)
        .args(["--from", from, "--to", to, "--sink", sink])
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The file's records as the byte lines they are.
fn lines(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap_or_default();
    bytes
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

async fn replay_matches_live(server: &Server) {
    let mut db = create_db(server, "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let out = state.path().join("live.jsonl");
    let cp = state.path().join("cp");
    let settings = settings(&db.url, &db.prefix, &cp, &out, EXTRA);
    let config = cp.with_extension("toml");

    let running = start_pipeline(settings).await;
    let mut ends = vec![binlog_end(&mut db.conn).await];
    // 1: the seeded names.
    db.create_ticket(3, 2, "2024-07-01 00:00:01").await;
    ends.push(binlog_end(&mut db.conn).await);
    // 2: the root department renamed.
    db.exec("UPDATE {prefix}department SET name = 'Revenue' WHERE id = 1")
        .await;
    db.create_ticket(3, 2, "2024-07-01 00:00:02").await;
    ends.push(binlog_end(&mut db.conn).await);
    // 3: re-parented under Support, in a new binlog file.
    db.exec("FLUSH BINARY LOGS").await;
    db.exec("UPDATE {prefix}department SET pid = 4 WHERE id = 2")
        .await;
    db.create_ticket(3, 2, "2024-07-01 00:00:03").await;
    ends.push(binlog_end(&mut db.conn).await);
    // 4: the topic deleted, and a rename in the ticket's own transaction.
    db.exec("DELETE FROM {prefix}help_topic WHERE topic_id = 2")
        .await;
    db.exec("BEGIN").await;
    db.exec("UPDATE {prefix}department SET name = 'Care' WHERE id = 4")
        .await;
    db.exec(
        "INSERT INTO {prefix}ticket SET number='900004', user_id=7, user_email_id=0, \
         dept_id=3, topic_id=2, ip_address='', source='Web', created='2024-07-01 00:00:04', \
         lastupdate=NOW(), updated=NOW()",
    )
    .await;
    db.exec("COMMIT").await;
    ends.push(binlog_end(&mut db.conn).await);
    // 5: the topic back under another name, then everything renamed again
    // after the last ticket, so that today's names match none of them.
    db.topic(2, 1, "Chargebacks").await;
    db.create_ticket(3, 2, "2024-07-01 00:00:05").await;
    ends.push(binlog_end(&mut db.conn).await);
    db.exec("UPDATE {prefix}department SET name = CONCAT('Old ', name)")
        .await;
    db.exec("UPDATE {prefix}help_topic SET topic = CONCAT('Old ', topic)")
        .await;
    lines_eventually(&out, 5).await;

    // Beside the running connector: the middle of the range.
    let middle = state.path().join("middle.jsonl");
    let sink = format!("file:{}", middle.display());
    let done = replay(&config, &ends[1], &ends[3], &sink);
    assert!(done.status.success(), "{}", stderr(&done));
    let live = lines(&out);
    assert_eq!(lines(&middle), live[1..3], "{}", stderr(&done));
    assert!(
        stderr(&done).contains("replayed 2 records (sequence 2 to 3)"),
        "{}",
        stderr(&done)
    );
    running.stop().await.unwrap();

    // `checkpoint show` says what can be replayed.
    let shown = Command::new(env!("CARGO_BIN_EXE_osticket-cdc"))
        .args(["checkpoint", "--config"])
        .arg(&config)
        .arg("show")
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&shown.stdout);
    let line = shown
        .lines()
        .find(|l| l.starts_with("replayable:"))
        .unwrap_or_default();
    assert!(
        line.contains(" to ") && !line.contains("nothing"),
        "{shown}"
    );

    // Stopped: the whole range, to a file and to stdout.
    let whole = state.path().join("whole.jsonl");
    let sink = format!("file:{}", whole.display());
    let done = replay(&config, &ends[0], &ends[5], &sink);
    assert!(done.status.success(), "{}", stderr(&done));
    assert_eq!(lines(&whole), live);
    let text = String::from_utf8_lossy(&live.concat()).into_owned();
    // The plugin's JSON escapes `/`.
    for name in [
        r"Revenue \/ Maintenance Crew",
        r"Support \/ Maintenance Crew",
        r"Care \/ Maintenance Crew",
        r"Billing \/ Refunds",
        r"Billing \/ Chargebacks",
        r#""helptopic_label":null"#,
    ] {
        assert!(text.contains(name), "the live run has {name}: {text}");
    }
    assert!(!text.contains("Old "), "{text}");
    let printed = replay(&config, &ends[3], &ends[4], "stdout");
    assert!(printed.status.success(), "{}", stderr(&printed));
    assert_eq!(printed.stdout, live[3]);

    // Not delivered yet, reversed, and older than the history.
    db.create_ticket(1, 1, "2024-07-01 00:00:06").await;
    let later = binlog_end(&mut db.conn).await;
    let refused = replay(&config, &ends[0], &later, "stdout");
    assert_eq!(refused.status.code(), Some(8), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("not delivered yet"),
        "{}",
        stderr(&refused)
    );
    let refused = replay(&config, &ends[2], &ends[1], "stdout");
    assert_eq!(refused.status.code(), Some(8), "{}", stderr(&refused));
    let (file, _) = ends[0].rsplit_once(':').unwrap();
    let refused = replay(&config, &format!("{file}:4"), &ends[1], "stdout");
    assert_eq!(refused.status.code(), Some(8), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("older than the kept history"),
        "{}",
        stderr(&refused)
    );
    assert!(refused.stdout.is_empty());

    // A reset back to after ticket 1 delivers 2 to 5 again, then 6, with
    // the names they had (today's are all "Old ..."): only `sequence` moves
    // on.
    let reset = Command::new(env!("CARGO_BIN_EXE_osticket-cdc"))
        .args(["checkpoint", "--config"])
        .arg(&config)
        .args(["reset", "--to", &ends[1]])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&reset.stdout);
    assert!(reset.status.success(), "{said}{}", stderr(&reset));
    assert!(
        said.contains("as of the target, from the kept history"),
        "{said}"
    );
    let settings = osticket_cdc::config::Settings::load(Some(&config)).unwrap();
    let running = start_pipeline(settings).await;
    let all = lines_eventually(&out, 5 + 5).await;
    running.stop().await.unwrap();
    let without_sequence = |lines: &[String]| {
        let mut records = parse_lines(lines);
        for record in &mut records {
            record.as_object_mut().unwrap().remove("sequence");
        }
        records
    };
    let first: Vec<String> = live[1..]
        .iter()
        .map(|l| String::from_utf8_lossy(l).trim_end().to_owned())
        .collect();
    assert_eq!(without_sequence(&all[5..9]), without_sequence(&first));
    // The first run stopped after 5 records: numbering goes on from 6.
    assert_eq!(parse_lines(&all[5..6])[0]["sequence"], 6);

    // The binlog of the range purged: refused, naming the oldest file left.
    let newest = purge_all_but_newest_binlog(&mut db).await;
    let refused = replay(&config, &ends[0], &ends[2], "stdout");
    assert_eq!(refused.status.code(), Some(8), "{}", stderr(&refused));
    let said = stderr(&refused);
    assert!(
        said.contains("no longer has") && said.contains(&newest),
        "{said}"
    );
    assert!(refused.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_is_byte_identical_to_the_live_records_on_mariadb() {
    let server = Server::start(&[]);
    replay_matches_live(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_is_byte_identical_to_the_live_records_on_mysql() {
    let Some(server) = Server::start_mysql(&[]) else {
        eprintln!(
            "skipped: MySQL 9.7 is not installed here (integration/servers.sh install-mysql)"
        );
        return;
    };
    replay_matches_live(&server).await;
}

/// Instants as bounds: tickets in three groups an hour apart (commit times
/// forged with `SET timestamp`); `--from T2 --to T3` is the middle group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_between_two_instants_is_the_group_committed_between_them() {
    let server = Server::start(&[]);
    let mut db = create_db(&server, "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let out = state.path().join("live.jsonl");
    let cp = state.path().join("cp");
    let running = start_pipeline(settings(&db.url, &db.prefix, &cp, &out, EXTRA)).await;
    let hour = 3600;
    // Later than the setup's own statements, which carry today's time.
    let t1 = 1_893_492_000; // 2030-01-01T10:00:00Z
    for (group, start) in [t1, t1 + hour, t1 + 2 * hour].into_iter().enumerate() {
        db.exec(&format!("SET timestamp = {start}")).await;
        for i in 0..3 {
            let created = format!("2030-01-01 1{group}:00:0{i}");
            db.create_ticket(1 + i, 0, &created).await;
        }
        db.exec("SET timestamp = DEFAULT").await;
    }
    lines_eventually(&out, 9).await;
    running.stop().await.unwrap();

    let middle = state.path().join("middle.jsonl");
    let sink = format!("file:{}", middle.display());
    let config = cp.with_extension("toml");
    let from = "2030-01-01T11:00:00Z";
    let to = "2030-01-01T12:59:59+01:00";
    let done = replay(&config, from, to, &sink);
    assert!(done.status.success(), "{}", stderr(&done));
    assert_eq!(lines(&middle), lines(&out)[3..6], "{}", stderr(&done));

    // An instant after everything stands for the checkpoint.
    let done = replay(&config, from, "2031-01-01T00:00:00Z", "stdout");
    assert!(done.status.success(), "{}", stderr(&done));
    assert_eq!(done.stdout, lines(&out)[3..].concat());
}

/// `--sink configured` with beanstalkd configured: the replayed jobs equal
/// the live ones byte for byte, and a backfill lands in the same tube.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_and_backfill_into_the_configured_beanstalk_tube() {
    let Some(beanstalkd) = common::beanstalkd::Beanstalkd::start(&[]) else {
        return;
    };
    let mut db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let cp = state.path().join("cp");
    let sink = format!(
        "[sink]\ntype = \"beanstalk\"\nport = {}\ntube = \"tickets\"\n",
        beanstalkd.port
    );
    let toml = format!(
        "[source]\nurl = \"{}\"\nserver_id = {}\n[checkpoint]\ndir = \"{}\"\n{sink}\
         [tickets_creation]\nstream_name = \"osticket-tickets\"\n\
         extra_fields = [\"event_id\", \"sequence\"]\n",
        db.url,
        2000 + rand::random::<u32>() % 1_000_000,
        cp.display()
    );
    let config = state.path().join("beanstalk.toml");
    std::fs::write(&config, toml).unwrap();
    let settings = osticket_cdc::config::Settings::load(Some(&config)).unwrap();

    let running = start_pipeline(settings).await;
    let from = binlog_end(&mut db.conn).await;
    for second in 1..=4 {
        db.create_ticket(second, 1, &format!("2024-07-02 00:00:0{second}"))
            .await;
    }
    let mut live = Vec::new();
    while live.len() < 4 {
        live.extend(beanstalkd.drain("tickets").await);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    running.stop().await.unwrap();
    let to = binlog_end(&mut db.conn).await;

    let done = replay(&config, &from, &to, "configured");
    assert!(done.status.success(), "{}", stderr(&done));
    assert_eq!(beanstalkd.drain("tickets").await, live);

    let done = Command::new(env!("CARGO_BIN_EXE_osticket-cdc"))
        .args(["backfill", "--config"])
        .arg(&config)
        .args(["--sink", "configured"])
        .output()
        .unwrap();
    assert!(done.status.success(), "{}", stderr(&done));
    let backfilled = beanstalkd.drain("tickets").await;
    assert_eq!(backfilled.len(), 4);
    // Same names and bytes apart from the ids the binlog gives.
    assert_ne!(backfilled, live);
}
