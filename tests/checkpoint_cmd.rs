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
