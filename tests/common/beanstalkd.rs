//! A beanstalkd per test, started by `integration/servers.sh` with its
//! write-ahead log, stopped when the test ends.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::{print_skip as skip, stop_when_tests_end};
use osticket_cdc::sink::beanstalk::{BeanstalkClient, BeanstalkConfig, Job, Reservation};

/// `servers.sh`'s exit code when a server is not installed.
pub const NOT_INSTALLED: i32 = 3;

/// A beanstalkd of one test, in its own directory.
pub struct Beanstalkd {
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl Beanstalkd {
    /// A directory and port, nothing started yet.
    pub fn unstarted() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("osticket-cdc-bs")
            .tempdir()
            .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self { dir, port }
    }

    /// A running beanstalkd with extra arguments, or `None` after printing
    /// why it is skipped.
    pub fn start(extra: &[&str]) -> Option<Self> {
        let server = Self::unstarted();
        server.start_now(extra).then_some(server)
    }

    /// Starts (or restarts, on the same log) beanstalkd; false if it is not
    /// installed.
    pub fn start_now(&self, extra: &[&str]) -> bool {
        let output = script()
            .arg("start-beanstalkd")
            .arg(self.dir.path())
            .arg(self.port.to_string())
            .args(extra)
            .output()
            .expect("integration/servers.sh runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.code() == Some(NOT_INSTALLED) {
            skip(&format!("beanstalkd is not installed: {}", stderr.trim()));
            return false;
        }
        assert!(
            output.status.success(),
            "beanstalkd did not start: {stderr}"
        );
        stop_when_tests_end(self.dir.path());
        true
    }

    /// SIGKILL, as a crash: no chance to flush or close anything.
    pub fn kill(&self) {
        let pid_file = self.dir.path().join("beanstalkd.pid");
        let pid = std::fs::read_to_string(pid_file).unwrap().trim().to_owned();
        let status = Command::new("kill").args(["-KILL", &pid]).status().unwrap();
        assert!(status.success(), "kill -KILL {pid}");
        // Gone, or a zombie: either way its sockets and log lock are released.
        let deadline = Instant::now() + Duration::from_secs(10);
        let zombie = |stat: &str| stat.rsplit(") ").next().is_some_and(|s| s.starts_with('Z'));
        while let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            assert!(
                Instant::now() < deadline,
                "beanstalkd {pid} survived SIGKILL"
            );
            if zombie(&stat) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn stop(&self) {
        script().arg("stop").arg(self.dir.path()).output().unwrap();
    }

    pub fn config(&self, tube: &str) -> BeanstalkConfig {
        BeanstalkConfig {
            port: self.port,
            tube: tube.to_owned(),
            timeout_secs: 5,
            ..BeanstalkConfig::default()
        }
    }

    pub async fn client(&self) -> BeanstalkClient {
        BeanstalkClient::connect("127.0.0.1", self.port, Duration::from_secs(5))
            .await
            .unwrap()
    }

    /// One number from `stats`, on a connection of its own.
    pub async fn stat(&self, key: &str) -> Option<u64> {
        self.client().await.stats().await.unwrap().get_u64(key)
    }

    /// The bodies of [`Beanstalkd::drain_jobs`], none of them torn.
    pub async fn drain(&self, tube: &str) -> Vec<Vec<u8>> {
        let jobs = self.drain_jobs(tube).await;
        assert!(jobs.iter().all(|job| !job.torn), "no crash, no torn job");
        jobs.into_iter().map(|job| job.body).collect()
    }

    /// Reserves and deletes every ready job of `tube`, in the order
    /// beanstalkd hands them out (priority, then job id).
    pub async fn drain_jobs(&self, tube: &str) -> Vec<Job> {
        let mut client = self.client().await;
        if tube != "default" {
            client.watch(tube).await.unwrap();
            client.ignore("default").await.unwrap();
        }
        let mut jobs = Vec::new();
        loop {
            match client.reserve_with_timeout(0).await.unwrap() {
                Reservation::Job(job) => {
                    assert!(client.delete(job.id).await.unwrap());
                    jobs.push(job);
                }
                Reservation::TimedOut => return jobs,
                Reservation::DeadlineSoon => panic!("jobs are deleted at once"),
            }
        }
    }
}

impl Drop for Beanstalkd {
    fn drop(&mut self) {
        self.stop();
    }
}

fn script() -> Command {
    Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("integration/servers.sh"))
}
