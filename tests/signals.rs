//! Signals while the sink hangs: beanstalkd stopped with SIGSTOP (a real
//! server that stops answering) holds the batch; the first SIGTERM waits for
//! it within the shutdown deadline, a second one exits at once with 130, and
//! the ticket is delivered after a restart.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::beanstalkd::Beanstalkd;
use common::*;

fn signal(name: &str, pid: &str) {
    assert!(
        Command::new("kill")
            .args([name, pid])
            .status()
            .unwrap()
            .success()
    );
}

fn spawn(config: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_osticket-cdc"))
        .args(["run", "--config"])
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn drain_until(beanstalkd: &Beanstalkd, n: usize) -> Vec<Vec<u8>> {
    let mut jobs = Vec::new();
    for _ in 0..200 {
        jobs.extend(beanstalkd.drain("signals").await);
        if jobs.len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    jobs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_exits_at_once_while_the_sink_hangs() {
    let Some(beanstalkd) = Beanstalkd::start(&[]) else {
        return;
    };
    let mut db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    seed_names(&mut db).await;
    let state = tempfile::tempdir().unwrap();
    let start = binlog_end(&mut db.conn).await;
    let extra = format!(
        "start = \"{start}\"\n[pipeline]\nshutdown_timeout_secs = 60\n\
         [tickets_creation]\nrecord = \"plain\"\n"
    );
    let cp = state.path().join("cp");
    settings(&db.url, &db.prefix, &cp, &state.path().join("o"), &extra);
    let config = cp.with_extension("toml");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "[sink]\ntype = \"file\"\npath = ",
        &format!(
            "[sink]\ntype = \"beanstalk\"\nport = {}\ntube = \"signals\"\ntimeout_secs = 60\n# ",
            beanstalkd.port
        ),
    );
    std::fs::write(&config, text).unwrap();

    let mut child = spawn(&config);
    tokio::time::sleep(Duration::from_millis(700)).await;
    db.create_ticket(1, 0, "2024-10-10 00:00:01").await;
    assert_eq!(
        drain_until(&beanstalkd, 1).await.len(),
        1,
        "the first ticket arrives"
    );

    // beanstalkd stops answering; the next ticket's put hangs.
    let beanstalkd_pid = std::fs::read_to_string(beanstalkd.dir.path().join("beanstalkd.pid"))
        .unwrap()
        .trim()
        .to_owned();
    signal("-STOP", &beanstalkd_pid);
    db.create_ticket(1, 0, "2024-10-10 00:00:02").await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let pid = child.id().to_string();
    signal("-TERM", &pid);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the first signal waits for the sink"
    );
    let asked = Instant::now();
    signal("-TERM", &pid);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            asked.elapsed() < Duration::from_secs(5),
            "the second signal exits at once"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let exit_after = asked.elapsed();
    assert_eq!(status.code(), Some(130));
    signal("-CONT", &beanstalkd_pid);

    // The unacknowledged ticket is sent again after a restart (it may also
    // have reached beanstalkd before the stop: a byte-identical repeat).
    let mut child = spawn(&config);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut jobs = drain_until(&beanstalkd, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    jobs.extend(beanstalkd.drain("signals").await);
    signal("-TERM", &child.id().to_string());
    assert!(child.wait().unwrap().success());
    assert!(
        !jobs.is_empty() && jobs.iter().all(|j| j == &jobs[0]),
        "{jobs:?}"
    );
    let record: serde_json::Value = serde_json::from_slice(&jobs[0]).unwrap();
    assert_eq!(record["datetime_complete"], "2024-10-10 00:00:02");
    println!("second signal: exit 130 in {exit_after:?}; ticket delivered after restart");
}
