//! Startup checks and exit codes, through the binary: each broken
//! prerequisite is one clear message and a non-zero exit.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::*;

fn run_connector(config: &std::path::Path) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_osticket-cdc"))
        .args(["run", "--config"])
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.wait_with_output().unwrap()
}

fn config_for(db: &TestDb, state: &tempfile::TempDir, extra: &str) -> std::path::PathBuf {
    let cp = state.path().join("cp");
    settings(&db.url, &db.prefix, &cp, &state.path().join("out"), extra);
    cp.with_extension("toml")
}

fn assert_fails(output: &Output, code: i32, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "stderr: {stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "`{needle}` missing from: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_format_and_minimal_image_are_refused_with_the_fix() {
    let server = Server::start(&["--binlog-format=STATEMENT"]);
    let db = create_db(&server, "schema-1.18.sql", "ost_").await;
    let state = tempfile::tempdir().unwrap();
    let output = run_connector(&config_for(&db, &state, ""));
    assert_fails(
        &output,
        3,
        &[
            "binlog_format is STATEMENT",
            "SET GLOBAL binlog_format = 'ROW'",
        ],
    );

    let mut conn = server.conn(None).await;
    use mysql_async::prelude::Queryable;
    conn.query_drop("SET GLOBAL binlog_format = 'ROW'")
        .await
        .unwrap();
    conn.query_drop("SET GLOBAL binlog_row_image = 'MINIMAL'")
        .await
        .unwrap();
    let output = run_connector(&config_for(&db, &state, ""));
    assert_fails(&output, 3, &["binlog_row_image is MINIMAL", "FULL"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_prefix_names_the_table_and_the_prefixes_found() {
    let db = create_db(Server::shared(), "schema-1.18.sql", "helpdesk_").await;
    let state = tempfile::tempdir().unwrap();
    let cp = state.path().join("cp");
    settings(&db.url, "ost_", &cp, &state.path().join("out"), "");
    let output = run_connector(&cp.with_extension("toml"));
    assert_fails(
        &output,
        3,
        &[
            "ost_ticket",
            "not found",
            "helpdesk_",
            "source.table_prefix",
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_replication_grant_is_named() {
    use mysql_async::prelude::Queryable;
    let server = Server::shared();
    let db = create_db(server, "schema-1.18.sql", "ost_").await;
    let user = format!("weak{}", rand::random::<u16>());
    let mut admin = server.conn(None).await;
    admin
        .query_drop(format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'"))
        .await
        .unwrap();
    admin
        .query_drop(format!("GRANT SELECT ON `{}`.* TO '{user}'@'%'", db.name))
        .await
        .unwrap();
    admin
        .query_drop(format!("GRANT REPLICATION CLIENT ON *.* TO '{user}'@'%'"))
        .await
        .unwrap();
    let state = tempfile::tempdir().unwrap();
    let cp = state.path().join("cp");
    let url = format!("mysql://{user}:pw@127.0.0.1:{}/{}", server.port, db.name);
    settings(&url, "ost_", &cp, &state.path().join("out"), "");
    let output = run_connector(&cp.with_extension("toml"));
    assert_fails(&output, 3, &["REPLICATION SLAVE", "GRANT"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configuration_exits_2_naming_the_key() {
    let state = tempfile::tempdir().unwrap();
    let config = state.path().join("c.toml");
    std::fs::write(
        &config,
        "[source]\nurl = \"mysql://u:secretpw@h/db\"\nserver_id = -3\n",
    )
    .unwrap();
    let output = run_connector(&config);
    assert_fails(&output, 2, &["server_id"]);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("secretpw"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_on_the_same_checkpoint_is_refused() {
    let db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    let state = tempfile::tempdir().unwrap();
    let config = config_for(&db, &state, "");
    let mut first = Command::new(env!("CARGO_BIN_EXE_osticket-cdc"))
        .args(["run", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first one holds the store.
    let lock = state.path().join("cp").join("LOCK");
    for _ in 0..100 {
        if lock.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let output = run_connector(&config);
    first.kill().unwrap();
    first.wait().unwrap();
    assert_fails(&output, 4, &["in use by another osticket-cdc process"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_database_is_retried_until_it_appears() {
    let state = tempfile::tempdir().unwrap();
    let port = free_port();
    let cp = state.path().join("cp");
    settings(
        &format!("mysql://cdc:cdc@127.0.0.1:{port}/osticket"),
        "ost_",
        &cp,
        &state.path().join("out"),
        "",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_osticket-cdc"))
        .args(["run", "--config"])
        .arg(cp.with_extension("toml"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "still waiting for the database"
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("database not reachable; retrying"),
        "{stderr}"
    );
}
