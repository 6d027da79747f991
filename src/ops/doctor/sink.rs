//! The `sink` check of `doctor`: the configured sink can take records.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::local::probe_writable;
use crate::checkpoint::Checkpoint;
use crate::config::SinkConfig;
use crate::sink::SinkError;
use crate::sink::beanstalk::{BeanstalkClient, BeanstalkConfig, NO_WAL_WARNING, WAL_STATS_KEY};
use crate::sink::firehose::{FirehoseConfig, FirehoseSink};
use crate::source::checks::Finding;

/// The longest `doctor` waits for Firehose to say whether the stream exists:
/// the SDK retries a few times on its own, and a doctor must not hang.
const FIREHOSE_TIMEOUT: Duration = Duration::from_secs(20);

/// The `sink` line, and for beanstalkd the `sink durability` line.
pub(super) async fn check_sink(sink: &SinkConfig, checkpoint: Option<&Checkpoint>) -> Vec<Finding> {
    match sink {
        SinkConfig::Stdout { .. } => vec![Finding::ok("sink", "standard output")],
        SinkConfig::File { path, .. } => {
            let offset = checkpoint.and_then(|c| c.sink_offset);
            vec![check_file(path, offset)]
        }
        SinkConfig::Beanstalk(config) => check_beanstalk(config).await,
        SinkConfig::Firehose(config) => vec![check_firehose(config).await],
    }
}

/// The file can be appended to, and is not shorter than the checkpoint
/// says (which `run` refuses, as it means delivered records were lost).
fn check_file(path: &Path, offset: Option<u64>) -> Finding {
    const CHECK: &str = "sink";
    let shown = path.display();
    let shorter = |len| {
        let error = SinkError::FileShorter {
            path: path.to_owned(),
            len,
            offset: offset.unwrap_or(0),
        };
        Finding::fail(CHECK, error.to_string())
    };
    if path.exists() {
        if let Err(e) = OpenOptions::new().append(true).open(path) {
            return Finding::fail(
                CHECK,
                format!(
                    "cannot open {shown} for appending ({e}); fix its permissions or set sink.path"
                ),
            );
        }
        let len = std::fs::metadata(path).map_or(0, |m| m.len());
        if offset.is_some_and(|offset| len < offset) {
            return shorter(len);
        }
        return Finding::ok(CHECK, format!("file {shown}: {len} bytes, writable"));
    }
    if offset.is_some_and(|offset| offset > 0) {
        return shorter(0);
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    match probe_writable(&parent) {
        Ok(()) => Finding::ok(
            CHECK,
            format!(
                "file {shown} does not exist yet; {} is writable",
                parent.display()
            ),
        ),
        Err(e) => Finding::fail(
            CHECK,
            format!(
                "file {shown} cannot be created: {} is not a writable directory ({e}); create \
                 it or set sink.path",
                parent.display()
            ),
        ),
    }
}

/// Connects to beanstalkd, reads `stats`, and `use`s the tube.
async fn check_beanstalk(config: &BeanstalkConfig) -> Vec<Finding> {
    const CHECK: &str = "sink";
    let address = config.address();
    let unreachable = |e: crate::sink::beanstalk::BeanstalkError| {
        let text = e.to_string();
        let text = text.trim_end_matches("; retrying");
        vec![Finding::fail(
            CHECK,
            format!("{text}; check that beanstalkd runs there (sink.host, sink.port)"),
        )]
    };
    let mut client =
        match BeanstalkClient::connect(&config.host, config.port, config.timeout()).await {
            Ok(client) => client,
            Err(e) => return unreachable(e),
        };
    let stats = match client.stats().await {
        Ok(stats) => stats,
        Err(e) => return unreachable(e),
    };
    if let Err(e) = client.use_tube(&config.tube).await {
        return vec![Finding::fail(CHECK, format!("{e}"))];
    }

    let version = stats.get("version").unwrap_or("?");
    let max_job_size = stats
        .get_u64("max-job-size")
        .map_or("?".to_owned(), |m| m.to_string());
    let sink = if stats.get("draining") == Some("true") {
        Finding::fail(
            CHECK,
            format!(
                "beanstalkd at {address} is draining (it got SIGUSR1) and takes no new jobs; \
                 restart beanstalkd"
            ),
        )
    } else {
        Finding::ok(
            CHECK,
            format!(
                "beanstalkd {version} at {address}, tube `{}`, max-job-size {max_job_size}",
                config.tube
            ),
        )
    };
    let durability = match stats.get_u64(WAL_STATS_KEY) {
        Some(0) => Finding::warn("sink durability", NO_WAL_WARNING),
        Some(index) => Finding::ok(
            "sink durability",
            format!("beanstalkd writes a write-ahead log ({WAL_STATS_KEY} {index})"),
        ),
        None => Finding::warn(
            "sink durability",
            format!(
                "beanstalkd's stats have no {WAL_STATS_KEY}: make sure it runs with `-b DIR`, \
                 or acknowledged jobs are lost if it stops"
            ),
        ),
    };
    vec![sink, durability]
}

/// The delivery stream exists and is `ACTIVE`: the sink's own start check,
/// with a deadline.
async fn check_firehose(config: &FirehoseConfig) -> Finding {
    const CHECK: &str = "sink";
    let stream = &config.stream_name;
    match tokio::time::timeout(FIREHOSE_TIMEOUT, FirehoseSink::connect(config.clone())).await {
        Ok(Ok(sink)) => Finding::ok(
            CHECK,
            format!(
                "Firehose delivery stream `{stream}` is ACTIVE (mode {})",
                sink.mode()
            ),
        ),
        Ok(Err(e)) => Finding::fail(CHECK, e.to_string()),
        Err(_) => Finding::fail(
            CHECK,
            format!(
                "no answer from Firehose about delivery stream `{stream}` within {} s; check \
                 sink.region, sink.endpoint_url and the network",
                FIREHOSE_TIMEOUT.as_secs()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::checks::Severity;

    #[test]
    fn a_file_shorter_than_the_checkpoint_is_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        std::fs::write(&path, b"abc\n").unwrap();
        let finding = check_file(&path, Some(10));
        assert_eq!(finding.severity, Severity::Fail);
        assert!(finding.text.contains("10"), "{}", finding.text);
        assert_eq!(check_file(&path, Some(4)).severity, Severity::Ok);
    }
}
