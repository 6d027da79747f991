//! `osticket-cdc doctor` through the binary, against real servers: a healthy
//! setup is all OK with exit 0; each broken prerequisite is a FAIL line that
//! names the problem and its fix, with exit 7.

mod common;
#[path = "firehose/http.rs"]
#[allow(dead_code)]
mod http;
#[path = "firehose/moto.rs"]
#[allow(dead_code)]
mod moto;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::beanstalkd::Beanstalkd;
use common::*;
use mysql_async::prelude::Queryable;
use osticket_cdc::source::Flavor;

/// What `doctor` printed and how it exited.
struct Report {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Report {
    /// `(severity, check, text)` of every line, in order.
    fn lines(&self) -> Vec<(&str, &str, &str)> {
        self.stdout
            .lines()
            .map(|line| {
                let (severity, rest) = line.split_at(4);
                let (check, text) = rest[1..]
                    .split_once(": ")
                    .unwrap_or_else(|| panic!("not a doctor line: {line}"));
                (severity.trim_end(), check, text)
            })
            .collect()
    }

    fn checks(&self) -> Vec<&str> {
        self.lines()
            .into_iter()
            .map(|(_, check, _)| check)
            .collect()
    }

    /// Asserts that the line of `check` has `severity` and contains every
    /// needle.
    fn assert_line(&self, severity: &str, check: &str, needles: &[&str]) {
        let lines = self.lines();
        let Some((found, _, text)) = lines.iter().find(|(_, c, _)| *c == check) else {
            panic!("no `{check}` line in:\n{}", self.stdout);
        };
        assert_eq!(*found, severity, "`{check}`: {text}\nall:\n{}", self.stdout);
        for needle in needles {
            assert!(
                text.contains(needle),
                "`{needle}` missing from `{check}`: {text}"
            );
        }
    }

    fn assert_exit(&self, code: i32) {
        assert_eq!(
            self.code,
            Some(code),
            "stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
    }
}

fn run_doctor(config: &Path) -> Report {
    run_doctor_with_env(config, &[])
}

fn run_doctor_with_env(config: &Path, env: &[(&str, &str)]) -> Report {
    let output = Command::new(env!("CARGO_BIN_EXE_osticket-cdc"))
        .args(["doctor", "--config"])
        .arg(config)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    Report {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A configuration for `db` (file sink, checkpoint `cp`) in `state`.
fn config_for(db: &TestDb, state: &tempfile::TempDir) -> PathBuf {
    let cp = state.path().join("cp");
    settings(&db.url, &db.prefix, &cp, &state.path().join("out"), "");
    cp.with_extension("toml")
}

/// The same configuration with another checkpoint directory and output
/// file (and so the same `server_id`).
fn sibling_config(config: &Path, state: &tempfile::TempDir) -> PathBuf {
    let text = std::fs::read_to_string(config).unwrap();
    let dir = config.parent().unwrap().display().to_string();
    let other = state.path().display().to_string();
    let path = state.path().join("sibling.toml");
    std::fs::write(&path, text.replace(&dir, &other)).unwrap();
    path
}

/// The checks of a healthy server, in order.
const MARIADB_CHECKS: [&str; 15] = [
    "config",
    "server",
    "log_bin",
    "binlog_format",
    "binlog_row_image",
    "log_bin_compress",
    "binlog_row_metadata",
    "replication grant",
    "binlog status",
    "tables",
    "columns",
    "server_id",
    "binlog retention",
    "sink",
    "checkpoint",
];

fn assert_all_ok(report: &Report) {
    report.assert_exit(0);
    for (severity, check, text) in report.lines() {
        assert_eq!(severity, "OK", "{check}: {text}\nall:\n{}", report.stdout);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_mariadb_passes_every_check() {
    let db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    let state = tempfile::tempdir().unwrap();
    let config = config_for(&db, &state);

    let report = run_doctor(&config);
    assert_all_ok(&report);
    assert_eq!(report.checks(), MARIADB_CHECKS);
    report.assert_line("OK", "server", &["MariaDB"]);
    report.assert_line("OK", "checkpoint", &["does not exist yet"]);
    assert!(
        report.stderr.contains("the connector can run"),
        "{}",
        report.stderr
    );

    // With a checkpoint (set without streaming, so no replica registers):
    // its binlog is found on the server.
    let reset = Command::new(env!("CARGO_BIN_EXE_osticket-cdc"))
        .args(["checkpoint", "reset", "--to", "latest", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(reset.status.success(), "{reset:?}");
    let report = run_doctor(&config);
    assert_all_ok(&report);
    report.assert_line("OK", "checkpoint binlog", &["is on the server"]);
    report.assert_line(
        "OK",
        "checkpoint",
        &["at mysql-bin.", "nothing delivered yet"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_mysql_passes_every_check() {
    let Some(server) = Server::shared_mysql() else {
        return;
    };
    let db = create_db(server, "schema-1.18.sql", "ost_").await;
    let state = tempfile::tempdir().unwrap();
    let report = run_doctor(&config_for(&db, &state));
    assert_all_ok(&report);
    let mysql_checks: Vec<&str> = MARIADB_CHECKS
        .into_iter()
        .filter(|c| *c != "log_bin_compress")
        .collect();
    assert_eq!(report.checks(), mysql_checks);
    report.assert_line("OK", "server", &["MySQL 9."]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_format_then_minimal_image_fail_with_the_fix() {
    let server = Server::start(&["--binlog-format=STATEMENT"]);
    assert_format_and_image_are_named(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_format_then_minimal_image_fail_with_the_fix_on_mysql() {
    if let Some(server) = Server::start_mysql(&["--binlog-format=STATEMENT"]) {
        assert_format_and_image_are_named(&server).await;
    }
}

async fn assert_format_and_image_are_named(server: &Server) {
    let db = create_db(server, "schema-1.18.sql", "ost_").await;
    let state = tempfile::tempdir().unwrap();
    let config = config_for(&db, &state);

    let report = run_doctor(&config);
    report.assert_exit(7);
    report.assert_line(
        "FAIL",
        "binlog_format",
        &[
            "binlog_format is STATEMENT",
            "needs ROW",
            "SET GLOBAL binlog_format = 'ROW'",
        ],
    );
    report.assert_line("OK", "binlog_row_image", &["FULL"]);
    // The other checks still ran.
    report.assert_line("OK", "tables", &[]);
    report.assert_line("OK", "sink", &[]);
    assert!(report.stderr.contains("1 FAIL"), "{}", report.stderr);

    let mut conn = server.conn(None).await;
    conn.query_drop("SET GLOBAL binlog_format = 'ROW'")
        .await
        .unwrap();
    conn.query_drop("SET GLOBAL binlog_row_image = 'MINIMAL'")
        .await
        .unwrap();
    let report = run_doctor(&config);
    report.assert_exit(7);
    report.assert_line("OK", "binlog_format", &["ROW"]);
    report.assert_line(
        "FAIL",
        "binlog_row_image",
        &[
            "binlog_row_image is MINIMAL",
            "SET GLOBAL binlog_row_image = 'FULL'",
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_grants_are_named_with_the_grant_statement() {
    assert_missing_grants_are_named(Server::shared()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_grants_are_named_with_the_grant_statement_on_mysql() {
    if let Some(server) = Server::shared_mysql() {
        assert_missing_grants_are_named(server).await;
    }
}

async fn assert_missing_grants_are_named(server: &Server) {
    let db = create_db(server, "schema-1.18.sql", "ost_").await;
    let mut admin = server.conn(None).await;
    let user = format!("doc{}", rand::random::<u32>());
    let name = &db.name;
    for sql in [
        format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'"),
        format!("GRANT REPLICATION CLIENT ON *.* TO '{user}'@'%'"),
        format!("GRANT SELECT ON `{name}`.`ost_department` TO '{user}'@'%'"),
        format!("GRANT SELECT ON `{name}`.`ost_help_topic` TO '{user}'@'%'"),
        // The ticket table is visible to the user, but not readable.
        format!("GRANT INSERT ON `{name}`.`ost_ticket` TO '{user}'@'%'"),
    ] {
        admin.query_drop(sql).await.unwrap();
    }
    let state = tempfile::tempdir().unwrap();
    let cp = state.path().join("cp");
    let url = format!("mysql://{user}:pw@127.0.0.1:{}/{name}", server.port);
    settings(&url, "ost_", &cp, &state.path().join("out"), "");

    let report = run_doctor(&cp.with_extension("toml"));
    report.assert_exit(7);
    report.assert_line(
        "FAIL",
        "replication grant",
        &["lacks REPLICATION SLAVE", "GRANT REPLICATION SLAVE"],
    );
    report.assert_line(
        "FAIL",
        "columns",
        &[&format!("GRANT SELECT ON `{name}`.`ost_ticket`")],
    );
    // Listing the replicas needs a grant the user lacks: a warning.
    let grant = match server.flavor {
        Flavor::MariaDb => "GRANT REPLICATION MASTER ADMIN",
        Flavor::MySql => "GRANT REPLICATION SLAVE",
    };
    report.assert_line("WARN", "server_id", &[grant, "source.server_id = "]);
    report.assert_line("OK", "binlog status", &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_prefix_lists_the_prefixes_found() {
    let db = create_db(Server::shared(), "schema-1.18.sql", "helpdesk_").await;
    let state = tempfile::tempdir().unwrap();
    let cp = state.path().join("cp");
    settings(&db.url, "ost_", &cp, &state.path().join("out"), "");

    let report = run_doctor(&cp.with_extension("toml"));
    report.assert_exit(7);
    report.assert_line(
        "FAIL",
        "tables",
        &[
            "`ost_ticket` not found",
            "helpdesk_",
            "set source.table_prefix",
        ],
    );
    assert!(!report.checks().contains(&"columns"), "{}", report.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_id_used_by_a_running_connector_fails_elsewhere() {
    assert_server_id_in_use_is_found(Server::shared()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_id_used_by_a_running_connector_fails_elsewhere_on_mysql() {
    if let Some(server) = Server::shared_mysql() {
        assert_server_id_in_use_is_found(server).await;
    }
}

async fn assert_server_id_in_use_is_found(server: &Server) {
    let db = create_db(server, "schema-1.18.sql", "ost_").await;
    let state = tempfile::tempdir().unwrap();
    let config = config_for(&db, &state);
    let mut connector = spawn_connector(&config, &state.path().join("log"));
    let id = wait_for_registration(server, &config).await;

    // Another configuration with the same id: the two would kick each other.
    let other = tempfile::tempdir().unwrap();
    let report = run_doctor(&sibling_config(&config, &other));
    report.assert_exit(7);
    report.assert_line(
        "FAIL",
        "server_id",
        &[
            &format!("source.server_id = {id} is used by a replica"),
            "disconnect",
            "set source.server_id = ",
        ],
    );

    // The running connector's own configuration: that replica is itself.
    let report = run_doctor(&config);
    let pid = format!("pid {}", connector.id());
    report.assert_line("OK", "server_id", &[&id.to_string(), &pid]);
    report.assert_line(
        "OK",
        "checkpoint",
        &["in use by a running osticket-cdc", &pid],
    );
    report.assert_exit(0);

    connector.kill().unwrap();
    connector.wait().unwrap();
}

/// Waits until the connector of `config` shows in `SHOW SLAVE HOSTS`
/// (`SHOW REPLICAS` on MySQL); returns its server_id.
async fn wait_for_registration(server: &Server, config: &Path) -> u32 {
    let text = std::fs::read_to_string(config).unwrap();
    let id: u32 = text
        .lines()
        .find_map(|l| l.strip_prefix("server_id = "))
        .unwrap()
        .parse()
        .unwrap();
    let statement = match server.flavor {
        Flavor::MariaDb => "SHOW SLAVE HOSTS",
        Flavor::MySql => "SHOW REPLICAS",
    };
    let mut conn = server.conn(None).await;
    let start = Instant::now();
    loop {
        let ids: Vec<u32> = conn
            .query_map(statement, |row: mysql_async::Row| {
                row.get::<u32, _>(0).unwrap()
            })
            .await
            .unwrap();
        if ids.contains(&id) {
            return id;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the connector did not register as replica {id}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purged_checkpoint_binlog_fails_with_the_ways_on() {
    assert_purged_binlog_is_named(&Server::start(&[])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purged_checkpoint_binlog_fails_with_the_ways_on_mysql() {
    if let Some(server) = Server::start_mysql(&[]) {
        assert_purged_binlog_is_named(&server).await;
    }
}

/// A connector delivers a ticket and stops; the binlog under its checkpoint
/// is purged, and the server set to expire binlogs after two hours.
async fn assert_purged_binlog_is_named(server: &Server) {
    let mut db = create_db(server, "schema-1.18.sql", "ost_").await;
    // A fresh server: the checkpoint will be in its first binlog.
    let first = binlog_end(&mut db.conn).await;
    let first = first.split(':').next().unwrap().to_owned();
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let config = config_for(&db, &state);
    let mut connector = spawn_connector(&config, &state.path().join("log"));
    wait_for_registration(server, &config).await;
    db.create_ticket(1, 1, "2024-12-02 00:00:01").await;
    lines_eventually(&state.path().join("out"), 1).await;
    let pid = connector.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(connector.wait().unwrap().success());

    // Before the purge: the checkpoint's binlog is there.
    let report = run_doctor(&config);
    report.assert_line("OK", "checkpoint binlog", &[&first]);

    let newest = purge_all_but_newest_binlog(&mut db).await;
    db.exec("SET GLOBAL binlog_expire_logs_seconds = 7200")
        .await;
    let report = run_doctor(&config);
    report.assert_exit(7);
    report.assert_line(
        "FAIL",
        "checkpoint binlog",
        &[
            &format!("cannot resume from {first}:"),
            &format!("{first} is not among its binary logs"),
            &format!("the oldest binlog it has is {newest}"),
            "checkpoint reset --to earliest",
            "backfill",
        ],
    );
    report.assert_line(
        "WARN",
        "binlog retention",
        &[
            "binlog_expire_logs_seconds = 7200",
            "left before the server may purge",
            "SET GLOBAL binlog_expire_logs_seconds = ",
        ],
    );
    report.assert_line("OK", "checkpoint", &["last delivery"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_one_line_and_the_local_checks_still_run() {
    let state = tempfile::tempdir().unwrap();
    let cp = state.path().join("cp");
    let url = format!("mysql://cdc:cdc@127.0.0.1:{}/osticket", free_port());
    settings(&url, "ost_", &cp, &state.path().join("out"), "");

    let report = run_doctor(&cp.with_extension("toml"));
    report.assert_exit(7);
    assert_eq!(report.checks(), ["config", "server", "sink", "checkpoint"]);
    report.assert_line("FAIL", "server", &["cannot connect", "source.url"]);
    report.assert_line("OK", "sink", &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_login_names_the_keys_to_fix() {
    let db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    let state = tempfile::tempdir().unwrap();
    let cp = state.path().join("cp");
    let url = db.url.replace("cdc:cdc@", "cdc:wrong@");
    settings(&url, "ost_", &cp, &state.path().join("out"), "");

    let report = run_doctor(&cp.with_extension("toml"));
    report.assert_exit(7);
    report.assert_line(
        "FAIL",
        "server",
        &[
            "cannot log in",
            "source.url",
            "OSTICKET_CDC_SOURCE__PASSWORD",
        ],
    );
    assert!(!report.stdout.contains("wrong"), "{}", report.stdout);
}

#[test]
fn a_bad_configuration_exits_2_naming_the_key() {
    let state = tempfile::tempdir().unwrap();
    let config = state.path().join("c.toml");
    std::fs::write(
        &config,
        "[source]\nurl = \"mysql://u:secretpw@h/db\"\nserver_id = 0\n[tickets_creation]\nrecord = \"plain\"\n",
    )
    .unwrap();
    let report = run_doctor(&config);
    report.assert_exit(2);
    assert!(report.stdout.is_empty(), "{}", report.stdout);
    assert!(report.stderr.contains("server_id"), "{}", report.stderr);
    assert!(!report.stderr.contains("secretpw"), "{}", report.stderr);
}

/// Replaces the file sink of a [`config_for`] configuration with `sink`.
fn with_sink(config: &Path, state: &tempfile::TempDir, sink: &str) {
    let text = std::fs::read_to_string(config).unwrap();
    let file_sink = format!(
        "[sink]\ntype = \"file\"\npath = \"{}\"",
        state.path().join("out").display()
    );
    assert!(text.contains(&file_sink), "{text}");
    std::fs::write(config, text.replace(&file_sink, sink)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firehose_stream_must_exist() {
    let moto = moto::Moto::shared();
    let stream = format!("doctor-{}", rand::random::<u32>());
    moto::create_stream(moto.addr(), &stream, &format!("{stream}-bucket")).await;
    let db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    let state = tempfile::tempdir().unwrap();
    let config = config_for(&db, &state);
    let sink = |stream: &str| {
        format!(
            "[sink]\ntype = \"firehose\"\ndelivery_stream = \"{stream}\"\nregion = \"{}\"\n\
             endpoint_url = \"{}\"\ntimeout_secs = 5",
            moto::REGION,
            moto.url()
        )
    };
    // Credentials through the child's environment only.
    let env = [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ];

    with_sink(&config, &state, &sink(&stream));
    let report = run_doctor_with_env(&config, &env);
    assert_all_ok(&report);
    report.assert_line("OK", "sink", &[&format!("`{stream}` is ACTIVE")]);

    let missing = format!("{stream}-missing");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace(&sink(&stream), &sink(&missing))).unwrap();
    let report = run_doctor_with_env(&config, &env);
    report.assert_exit(7);
    report.assert_line("FAIL", "sink", &[&missing, "does not exist"]);
}

/// A beanstalkd started with `args` and a configuration whose sink is its
/// tube `doctor` (with the database and state directory it needs), or
/// `None` after saying why beanstalkd is skipped.
async fn beanstalk_doctor_setup(
    args: &[&str],
) -> Option<(Beanstalkd, TestDb, tempfile::TempDir, PathBuf)> {
    let beanstalkd = Beanstalkd::start(args)?;
    let db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    let state = tempfile::tempdir().unwrap();
    let config = config_for(&db, &state);
    let sink = format!(
        "[sink]\ntype = \"beanstalk\"\nport = {}\ntube = \"doctor\"\ntimeout_secs = 5",
        beanstalkd.port
    );
    with_sink(&config, &state, &sink);
    Some((beanstalkd, db, state, config))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beanstalkd_is_checked_and_its_absence_fails() {
    let Some((beanstalkd, _db, _state, config)) = beanstalk_doctor_setup(&[]).await else {
        return;
    };

    let report = run_doctor(&config);
    assert_all_ok(&report);
    report.assert_line(
        "OK",
        "sink",
        &["beanstalkd", "tube `doctor`", "max-job-size"],
    );
    report.assert_line("OK", "sink durability", &["write-ahead log"]);

    beanstalkd.stop();
    let report = run_doctor(&config);
    report.assert_exit(7);
    report.assert_line("FAIL", "sink", &["not reachable", "sink.host, sink.port"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beanstalkd_without_its_write_ahead_log_is_a_warning() {
    let Some((_beanstalkd, _db, _state, config)) = beanstalk_doctor_setup(&["--no-wal"]).await
    else {
        return;
    };

    // Delivery works, only its durability is at stake: a warning, exit 0.
    let report = run_doctor(&config);
    report.assert_exit(0);
    report.assert_line("OK", "sink", &["beanstalkd", "tube `doctor`"]);
    report.assert_line(
        "WARN",
        "sink durability",
        &[
            "in memory only",
            "binlog-current-index 0",
            "start it with `-b DIR`",
        ],
    );
}

/// `chattr +i` on a directory while it lives: nothing can be created in it,
/// not even by root (the tests run as root, for whom modes are no barrier).
struct Immutable(PathBuf);

impl Immutable {
    /// `None`, after saying why, where the file system or the process
    /// cannot set the flag.
    fn set(dir: &Path) -> Option<Immutable> {
        let output = Command::new("chattr").arg("+i").arg(dir).output();
        match output {
            Ok(output) if output.status.success() => Some(Immutable(dir.to_owned())),
            other => {
                println!(
                    "skipped: cannot make {} immutable: {other:?}",
                    dir.display()
                );
                None
            }
        }
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_dir_that_cannot_be_written_fails_with_the_fix() {
    let db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    let state = tempfile::tempdir().unwrap();
    let config = config_for(&db, &state);
    let cp = state.path().join("cp");

    // The directory exists and refuses new files.
    std::fs::create_dir_all(&cp).unwrap();
    let Some(frozen) = Immutable::set(&cp) else {
        return;
    };
    let report = run_doctor(&config);
    report.assert_exit(7);
    report.assert_line(
        "FAIL",
        "checkpoint",
        &[
            &format!("{} is not writable", cp.display()),
            "checkpoint.dir",
        ],
    );
    // `run` stops too, naming the directory, and writes nothing.
    let run = Command::new(env!("CARGO_BIN_EXE_osticket-cdc"))
        .args(["run", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success(),
        "run with a frozen checkpoint: {stderr}"
    );
    for needle in [
        &format!(
            "cannot open checkpoint store in {} (checkpoint.dir)",
            cp.display()
        ),
        "Operation not permitted",
        "set checkpoint.dir to another directory",
    ] {
        assert!(stderr.contains(needle), "`{needle}` missing: {stderr}");
    }
    drop(frozen);

    // The directory does not exist and its parent refuses it.
    std::fs::remove_dir(&cp).unwrap();
    let Some(_frozen) = Immutable::set(state.path()) else {
        return;
    };
    let report = run_doctor(&config);
    report.assert_exit(7);
    report.assert_line(
        "FAIL",
        "checkpoint",
        &[
            "does not exist and cannot be created",
            &format!("{} is not writable", state.path().display()),
            "set checkpoint.dir",
        ],
    );
}
