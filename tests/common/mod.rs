//! Test harness: real MariaDB (and, when installed, MySQL 9.7) servers
//! started by `integration/servers.sh`, one database per test, tickets
//! inserted the way osTicket inserts them.
//!
//! A test binary uses the server named by `OSTICKET_CDC_TEST_MARIADB_PORT`
//! (`..._MYSQL_PORT` for MySQL; the test command starts one for the whole
//! run) or else starts its own in a temporary directory, stopped by a watcher
//! when the test process ends. MySQL is optional: without it, its tests say
//! why they are skipped and pass.
#![allow(dead_code)]

pub mod beanstalkd;
pub mod bulk;
pub mod delivered;
pub mod scenarios;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use osticket_cdc::config::Settings;
use osticket_cdc::source::Flavor;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running MariaDB or MySQL.
pub struct Server {
    /// Its directory (data, socket, pid); `None` for an external one.
    pub dir: Option<tempfile::TempDir>,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// MariaDB or MySQL.
    pub flavor: Flavor,
}

/// `integration/servers.sh start-mysql`'s exit code when MySQL 9.7 is not installed.
const NOT_INSTALLED: i32 = 3;

impl Server {
    /// The server shared by every test of this binary.
    pub fn shared() -> &'static Server {
        static SHARED: OnceLock<Server> = OnceLock::new();
        SHARED.get_or_init(|| match std::env::var("OSTICKET_CDC_TEST_MARIADB_PORT") {
            Ok(port) => Server::external(&port, Flavor::MariaDb),
            Err(_) => Server::start(&[]),
        })
    }

    /// The MySQL 9.7 server shared by every test of this binary, or `None`
    /// (after saying why) when MySQL is not installed.
    pub fn shared_mysql() -> Option<&'static Server> {
        static SHARED: OnceLock<Result<Server, String>> = OnceLock::new();
        let shared = SHARED.get_or_init(|| match std::env::var("OSTICKET_CDC_TEST_MYSQL_PORT") {
            Ok(port) => Ok(Server::external(&port, Flavor::MySql)),
            Err(_) => Server::try_start_mysql(&[]),
        });
        shared.as_ref().map_err(|reason| print_skip(reason)).ok()
    }

    fn external(port: &str, flavor: Flavor) -> Server {
        Server {
            dir: None,
            port: port.parse().expect("a port number"),
            flavor,
        }
    }

    /// A private MariaDB with extra `mariadbd` arguments; stopped on drop.
    pub fn start(extra: &[&str]) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("osticket-cdc-db")
            .tempdir()
            .unwrap();
        let port = free_port();
        let status = Command::new(root().join("integration/servers.sh"))
            .arg("start-mariadb")
            .arg(dir.path())
            .arg(port.to_string())
            .args(extra)
            .status()
            .expect("integration/servers.sh runs");
        assert!(
            status.success(),
            "MariaDB did not start (run `integration/servers.sh install`)"
        );
        stop_when_tests_end(dir.path());
        Server {
            dir: Some(dir),
            port,
            flavor: Flavor::MariaDb,
        }
    }

    /// A private MySQL 9.7 with extra `mysqld` arguments, stopped on drop;
    /// `None` (after saying why) when MySQL is not installed.
    pub fn start_mysql(extra: &[&str]) -> Option<Server> {
        Server::try_start_mysql(extra)
            .map_err(|reason| print_skip(&reason))
            .ok()
    }

    /// Starts MySQL; `Err` with the script's reason when it is not installed.
    fn try_start_mysql(extra: &[&str]) -> Result<Server, String> {
        let dir = tempfile::Builder::new()
            .prefix("osticket-cdc-my")
            .tempdir()
            .unwrap();
        let port = free_port();
        let output = Command::new(root().join("integration/servers.sh"))
            .arg("start-mysql")
            .arg(dir.path())
            .arg(port.to_string())
            .args(extra)
            .output()
            .expect("integration/servers.sh runs");
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        if output.status.code() == Some(NOT_INSTALLED) {
            return Err(stderr);
        }
        assert!(output.status.success(), "MySQL 9.7 did not start: {stderr}");
        stop_when_tests_end(dir.path());
        Ok(Server {
            dir: Some(dir),
            port,
            flavor: Flavor::MySql,
        })
    }

    /// `mysql://cdc:cdc@127.0.0.1:PORT/DB`.
    pub fn url(&self, database: &str) -> String {
        format!("mysql://cdc:cdc@127.0.0.1:{}/{database}", self.port)
    }

    /// A root-like connection (the `cdc` user has all privileges in tests).
    pub async fn conn(&self, database: Option<&str>) -> mysql_async::Conn {
        let opts = mysql_async::OptsBuilder::default()
            .ip_or_hostname("127.0.0.1")
            .tcp_port(self.port)
            .user(Some("cdc"))
            .pass(Some("cdc"))
            .db_name(database.map(str::to_owned))
            .prefer_socket(false);
        mysql_async::Conn::new(opts).await.expect("test connection")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = Command::new(root().join("integration/servers.sh"))
                .arg("stop")
                .arg(dir.path())
                .status();
        }
    }
}

/// Stops the servers in `dir` and removes it when this test process ends,
/// however it ends.
fn stop_when_tests_end(dir: &Path) {
    let watcher = format!(
        "while kill -0 {} 2>/dev/null; do sleep 1; done; '{}' stop '{}' >/dev/null 2>&1; \
         rm -rf '{}'",
        std::process::id(),
        root().join("integration/servers.sh").display(),
        dir.display(),
        dir.display()
    );
    // Never waited for: the watcher outlives this process by design.
    #[allow(clippy::zombie_processes)]
    Command::new("setsid")
        .args(["sh", "-c", &watcher])
        .spawn()
        .unwrap();
}

/// Says why a MySQL test is skipped. Written to the process's stderr rather
/// than through `eprintln!`, which the test harness captures and hides for a
/// passing test: a skip must be seen.
fn print_skip(reason: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "skipped: MySQL 9.7 is not installed (integration/servers.sh install-mysql): {reason}"
    );
}

/// One osTicket database of a test.
pub struct TestDb {
    /// Database name.
    pub name: String,
    /// Table prefix.
    pub prefix: String,
    /// Its connection URL for the connector.
    pub url: String,
    /// A connection for the test's own statements.
    pub conn: mysql_async::Conn,
}

/// Creates a database with the tables of `schema` (a file name under
/// `integration/fixtures/`, such as `schema-1.18.sql`) under `prefix`.
pub async fn create_db(server: &Server, schema: &str, prefix: &str) -> TestDb {
    let name = format!("t{}_{}", std::process::id(), rand::random::<u32>());
    let mut admin = server.conn(None).await;
    admin
        .query_drop(format!("CREATE DATABASE `{name}`"))
        .await
        .unwrap();
    drop(admin);
    let mut conn = server.conn(Some(&name)).await;
    for file in [schema, "noise-tables.sql"] {
        let path = root().join("integration/fixtures").join(file);
        let sql = std::fs::read_to_string(path).unwrap();
        for statement in split_sql(&sql.replace("{prefix}", prefix)) {
            conn.query_drop(statement)
                .await
                .unwrap_or_else(|e| panic!("{file}: {e}"));
        }
    }
    TestDb {
        url: server.url(&name),
        name,
        prefix: prefix.to_owned(),
        conn,
    }
}

/// Splits a fixture into statements (fixtures have no `;` inside strings).
fn split_sql(sql: &str) -> Vec<String> {
    let without_comments: String = sql
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    without_comments
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl TestDb {
    /// Runs one statement.
    pub async fn exec(&mut self, sql: &str) {
        let sql = sql.replace("{prefix}", &self.prefix);
        self.conn
            .query_drop(&sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Adds a department (`pid` 0 or None for top level).
    pub async fn department(&mut self, id: u64, pid: Option<u64>, name: &str) {
        let pid = pid.map_or("NULL".to_owned(), |p| p.to_string());
        let sql = format!(
            "INSERT INTO {{prefix}}department (id, pid, name, signature, created, updated) \
             VALUES ({id}, {pid}, {}, '', NOW(), NOW())",
            quote(name)
        );
        self.exec(&sql).await;
    }

    /// Adds a help topic (`pid` 0 for top level).
    pub async fn topic(&mut self, id: u64, pid: u64, name: &str) {
        let sql = format!(
            "INSERT INTO {{prefix}}help_topic (topic_id, topic_pid, topic, created, updated) \
             VALUES ({id}, {pid}, {}, NOW(), NOW())",
            quote(name)
        );
        self.exec(&sql).await;
    }

    /// Creates a ticket as osTicket does: noise, one autocommitted INSERT,
    /// more noise, then the follow-up UPDATEs of status, SLA and due date.
    /// Returns the ticket id.
    pub async fn create_ticket(&mut self, dept: u64, topic: u64, created: &str) -> u64 {
        let p = self.prefix.clone();
        let noise = format!(
            "INSERT INTO {p}session (session_id, session_data, session_expire, session_updated) \
             VALUES (UUID(), REPEAT('x', 200), NOW(), NOW())"
        );
        self.conn.query_drop(&noise).await.ok();
        let number = rand::random::<u32>() % 1_000_000;
        let sql = format!(
            "INSERT INTO {p}ticket SET number='{number:06}', user_id=7, user_email_id=0, \
             dept_id={dept}, topic_id={topic}, ip_address='127.0.0.1', source='Web', \
             created='{created}', lastupdate=NOW(), updated=NOW()"
        );
        self.conn
            .query_drop(&sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let id = self.conn.last_insert_id().expect("auto increment id");
        let follow_up = [
            format!(
                "INSERT INTO {p}thread (object_id, object_type, created) VALUES ({id}, 'T', NOW())"
            ),
            format!("UPDATE {p}ticket SET status_id=1 WHERE ticket_id={id}"),
            format!(
                "UPDATE {p}ticket SET sla_id=1, est_duedate=NOW() + INTERVAL 1 DAY WHERE ticket_id={id}"
            ),
        ];
        for sql in follow_up {
            self.conn
                .query_drop(&sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        id
    }
}

/// A SQL string literal.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

/// Settings for a test: `db`, file sink at `out`, checkpoint in `state`.
pub fn settings(db_url: &str, prefix: &str, state: &Path, out: &Path, extra: &str) -> Settings {
    let toml = format!(
        "[source]\nurl = \"{db_url}\"\ntable_prefix = \"{prefix}\"\nserver_id = {}\n{extra}\n\
         [checkpoint]\ndir = \"{}\"\n[sink]\ntype = \"file\"\npath = \"{}\"\n[helpdesk]\ncode = \"BFX\"\n{}",
        1000 + rand::random::<u32>() % 1_000_000,
        state.display(),
        out.display(),
        // Plain JSON records unless the test shapes them itself.
        if extra.contains("[tickets_creation]") {
            ""
        } else {
            "[tickets_creation]\nrecord = \"plain\"\n"
        }
    );
    let file = state.with_extension("toml");
    std::fs::write(&file, toml).unwrap();
    Settings::load_with_env(Some(&file), []).unwrap()
}

/// The lines of `path` once it has at least `n`, or panics after `timeout`.
pub fn wait_for_lines(path: &Path, n: usize, timeout: Duration) -> Vec<String> {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        if lines.len() >= n {
            return lines;
        }
        assert!(
            start.elapsed() < timeout,
            "only {} of {n} records after {timeout:?}: {lines:?}",
            lines.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The record the connector should write for a ticket, as a JSON value.
pub fn expected(
    created: &str,
    dept: u64,
    dept_name: Option<&str>,
    topic: u64,
    topic_name: Option<&str>,
) -> serde_json::Value {
    serde_json::json!({
        "helpdesk_code": "BFX",
        "datetime_complete": created,
        "department_id": dept,
        "department_name": dept_name,
        "helptopic_id": topic,
        "helptopic_label": topic_name,
    })
}

/// Parses each line as JSON.
pub fn parse_lines(lines: &[String]) -> Vec<serde_json::Value> {
    lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// A pipeline running in this process.
pub struct Running {
    shutdown_tx: tokio::sync::watch::Sender<bool>,
    handle: tokio::task::JoinHandle<Result<(), osticket_cdc::pipeline::PipelineError>>,
}

/// Starts the pipeline in a task of the current runtime and waits until its
/// start position is fixed, so that what the test does next is streamed.
pub async fn start_pipeline(settings: Settings) -> Running {
    init_logging();
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let stats = osticket_cdc::pipeline::PipelineStats::default();
    let ready = stats.ready.clone();
    let handle = tokio::spawn(osticket_cdc::pipeline::run(settings, shutdown_rx, stats));
    let start = Instant::now();
    while !ready.load(std::sync::atomic::Ordering::Acquire) {
        if handle.is_finished() {
            panic!("the pipeline stopped at start: {:?}", handle.await);
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "pipeline not ready after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Running {
        shutdown_tx,
        handle,
    }
}

/// Logs of the library go to the test's captured output.
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OSTICKET_CDC_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_test_writer()
        .try_init();
}

impl Running {
    /// Asks for shutdown and waits for the pipeline's result.
    pub async fn stop(self) -> Result<(), osticket_cdc::pipeline::PipelineError> {
        let _ = self.shutdown_tx.send(true);
        tokio::time::timeout(Duration::from_secs(30), self.handle)
            .await
            .expect("the pipeline stops within 30 s")
            .expect("the pipeline task does not panic")
    }

    /// True once the pipeline has returned (normally because of an error).
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
}

/// Async [`wait_for_lines`].
pub async fn lines_eventually(path: &Path, n: usize) -> Vec<String> {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        if lines.len() >= n {
            return lines;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "only {} of {n} records: {lines:?}",
            lines.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The server's current binlog end as `FILE:POS`. MySQL 8.4+ knows only
/// `SHOW BINARY LOG STATUS`, MariaDB only `SHOW MASTER STATUS`.
pub async fn binlog_end(conn: &mut mysql_async::Conn) -> String {
    let row: mysql_async::Row = match conn.query_first("SHOW BINARY LOG STATUS").await {
        Ok(row) => row,
        Err(_) => conn.query_first("SHOW MASTER STATUS").await.unwrap(),
    }
    .expect("binlog on");
    let file: String = row.get(0).unwrap();
    let pos: u64 = row.get(1).unwrap();
    format!("{file}:{pos}")
}

/// Standard nested names used by several tests: departments 1 `Sales`,
/// 2 `Sales / Maintenance Crew`, 3 `Sales / Maintenance Crew / Night Shift`,
/// 4 `Support`; topics 1 `Billing`, 2 `Billing / Refunds`.
pub async fn seed_names(db: &mut TestDb) {
    db.department(1, None, "Sales").await;
    db.department(2, Some(1), "Maintenance Crew").await;
    db.department(3, Some(2), "Night Shift").await;
    db.department(4, Some(0), "Support").await;
    db.topic(1, 0, "Billing").await;
    db.topic(2, 1, "Refunds").await;
}

impl Server {
    /// Stops this private server and starts it again on the same data and
    /// port, as a database restart or failover would look to the connector.
    pub fn restart(&self) {
        let dir = self
            .dir
            .as_ref()
            .expect("only a private server restarts")
            .path();
        let script = root().join("integration/servers.sh");
        assert!(
            Command::new(&script)
                .arg("stop")
                .arg(dir)
                .status()
                .unwrap()
                .success()
        );
        let status = Command::new(&script)
            .arg("start-mariadb")
            .arg(dir)
            .arg(self.port.to_string())
            .status()
            .unwrap();
        assert!(status.success(), "MariaDB restarts on its data");
    }
}

/// Runs the connector binary on `config`, its stderr appended to `log`.
pub fn spawn_connector(config: &Path, log: &Path) -> std::process::Child {
    spawn_connector_with_env(config, log, &[])
}

/// [`spawn_connector`] with extra environment variables for the connector
/// only (such as AWS credentials), leaving this process's environment,
/// which parallel tests share, alone.
pub fn spawn_connector_with_env(
    config: &Path,
    log: &Path,
    env: &[(&str, &str)],
) -> std::process::Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_osticket-cdc"))
        .args(["run", "--config"])
        .arg(config)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// The event of a ticket in department `dept` and topic `topic` of
/// [`seed_names`], with the names the connector must give it; the ids and
/// positions that only the opt-in fields carry are left empty.
pub fn seeded_event(
    created: String,
    dept: u64,
    topic: u64,
) -> osticket_cdc::assembly::TicketCreated {
    let department_name = match dept {
        1 => Some("Sales"),
        2 => Some("Sales / Maintenance Crew"),
        3 => Some("Sales / Maintenance Crew / Night Shift"),
        4 => Some("Support"),
        _ => None,
    };
    let helptopic_label = match topic {
        1 => Some("Billing"),
        2 => Some("Billing / Refunds"),
        _ => None,
    };
    osticket_cdc::assembly::TicketCreated {
        datetime_complete: created,
        department_id: dept,
        department_name: department_name.map(str::to_owned),
        helptopic_id: topic,
        helptopic_label: helptopic_label.map(str::to_owned),
        ticket_id: 0,
        ticket_number: String::new(),
        source: String::new(),
        user_id: 0,
        position: osticket_cdc::source::BinlogPosition::new("", 0),
        gtid: None,
        timestamp: 0,
        row_index: 0,
        ordinal: 0,
    }
}

/// Rotates the binlog twice and purges every file before the newest, as an
/// expiry would under a stopped connector; returns the newest file's name.
/// MariaDB keeps a log a dump thread still reads (a stopped connector's may
/// linger a moment), so it purges until the oldest file is the newest.
pub async fn purge_all_but_newest_binlog(db: &mut TestDb) -> String {
    db.exec("FLUSH BINARY LOGS").await;
    db.exec("FLUSH BINARY LOGS").await;
    let end = binlog_end(&mut db.conn).await;
    let newest = end.split(':').next().unwrap().to_owned();
    for _ in 0..50 {
        db.exec(&format!("PURGE BINARY LOGS TO '{newest}'")).await;
        let row: mysql_async::Row = db
            .conn
            .query_first("SHOW BINARY LOGS")
            .await
            .unwrap()
            .unwrap();
        let oldest: String = row.get(0).unwrap();
        if oldest == newest {
            return newest;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("binlogs before {newest} could not be purged");
}
