//! [`FirehoseConfig`]: which delivery stream the Firehose sink writes to,
//! how it reaches AWS, and how it maps records onto Firehose records.
//!
//! The configuration loader fills this struct from the `[sink]` table
//! (`type = "firehose"`; keys `delivery_stream`, `region`, `endpoint_url`,
//! `mode`, `timeout_secs`) and calls [`FirehoseConfig::validate`]; the sink
//! validates again, so a hand-built value cannot reach AWS unchecked.
//!
//! Credentials are deliberately not settings: they come from the AWS SDK's
//! standard chain (environment, shared profile, web identity, container or
//! instance role), so no secret ever sits in the connector's configuration
//! file or its logs.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region};

/// Default for `timeout_secs`: one attempt of one call. A full call carries
/// at most 4 MiB, which takes well under a second on any working link.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// Largest `timeout_secs` accepted.
pub const MAX_TIMEOUT_SECS: u64 = 3_600;

/// How long to wait for a TCP and TLS connection: the AWS SDK's own default
/// (3.1 s), kept because setting any timeout replaces all of the SDK's.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3_100);

/// Longest delivery stream name. Source: Amazon Data Firehose API
/// Reference, `DeliveryStreamName` (1 to 64 characters of `[a-zA-Z0-9_.-]`).
const MAX_STREAM_NAME_LEN: usize = 64;

/// Where and how the Firehose sink delivers records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirehoseConfig {
    /// The delivery stream records go to (`delivery_stream`; required).
    pub stream_name: String,
    /// The AWS region (`region`); `None` takes it from the standard chain
    /// (`AWS_REGION`, the shared profile, instance metadata).
    pub region: Option<String>,
    /// An endpoint replacing AWS's (`endpoint_url`), such as a local moto
    /// server or a VPC endpoint; `None` uses the region's public endpoint
    /// (or `AWS_ENDPOINT_URL_FIREHOSE` when set).
    pub endpoint_url: Option<String>,
    /// How records become Firehose records (`mode`; default `ordered`).
    pub mode: FirehoseMode,
    /// Seconds one attempt of one call may take before it counts as failed
    /// (`timeout_secs`; default [`DEFAULT_TIMEOUT_SECS`]).
    pub timeout_secs: u64,
}

impl FirehoseConfig {
    /// A configuration for `stream_name` with every other key at its default.
    pub fn new(stream_name: impl Into<String>) -> Self {
        Self {
            stream_name: stream_name.into(),
            region: None,
            endpoint_url: None,
            mode: FirehoseMode::default(),
            timeout_secs: DEFAULT_TIMEOUT_SECS,
        }
    }

    /// Checks every value against what Firehose and the SDK accept.
    ///
    /// # Errors
    ///
    /// A message naming the first bad key (as `sink.KEY`), its value, and
    /// what is allowed.
    pub fn validate(&self) -> Result<(), String> {
        let name = &self.stream_name;
        let name_chars = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
        if name.is_empty() || name.len() > MAX_STREAM_NAME_LEN || !name.chars().all(name_chars) {
            return Err(format!(
                "sink.delivery_stream = {name:?} is not a Firehose delivery stream name: use 1 \
                 to {MAX_STREAM_NAME_LEN} letters, digits, `_`, `.` or `-`"
            ));
        }
        if let Some(region) = &self.region {
            let region_chars = |c: char| c.is_ascii_alphanumeric() || c == '-';
            if region.is_empty() || !region.chars().all(region_chars) {
                return Err(format!(
                    "sink.region = {region:?} is not an AWS region name: use one such as \
                     \"us-east-1\", or leave it out to take the region from AWS_REGION or the \
                     AWS profile"
                ));
            }
        }
        if let Some(url) = &self.endpoint_url {
            let host = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            if host.is_none_or(|host| host.is_empty() || host.starts_with('/')) {
                return Err(format!(
                    "sink.endpoint_url = {url:?} is not an http:// or https:// URL with a host: \
                     use one such as \"http://127.0.0.1:5000\", or leave it out for AWS's own \
                     endpoint"
                ));
            }
        }
        if !(1..=MAX_TIMEOUT_SECS).contains(&self.timeout_secs) {
            return Err(format!(
                "sink.timeout_secs = {} is out of range: use 1..{MAX_TIMEOUT_SECS} (default \
                 {DEFAULT_TIMEOUT_SECS})",
                self.timeout_secs
            ));
        }
        Ok(())
    }

    /// The AWS SDK configuration loader for these settings: the standard
    /// credential and region chain with [`BehaviorVersion::latest`], then the
    /// configured region, endpoint and timeouts on top.
    ///
    /// [`super::FirehoseSink::connect`] loads it as is; tests and embedders
    /// may add to it (static credentials, a faster retry policy) and pass it
    /// to [`super::FirehoseSink::connect_with`].
    pub fn sdk_config_loader(&self) -> ConfigLoader {
        let timeout = self.timeout();
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .operation_attempt_timeout(timeout)
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts);
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        loader
    }

    /// `timeout_secs` as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
}

/// How connector records are mapped onto Firehose records and calls; see
/// the module documentation of [`super`] for the ordering contract of each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirehoseMode {
    /// Contiguous records packed into as few Firehose records as the limits
    /// allow, one Firehose record per call, one call at a time: every call
    /// succeeds or fails whole, so a failure can never reorder records.
    #[default]
    Ordered,
    /// One Firehose record per connector record, up to 500 per call; after a
    /// partial failure everything from the first failed record on is sent
    /// again, which can duplicate records but never reorders them.
    PerRecord,
}

impl FirehoseMode {
    /// The name used in the configuration and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ordered => "ordered",
            Self::PerRecord => "per_record",
        }
    }
}

impl fmt::Display for FirehoseMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FirehoseMode {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "ordered" => Ok(Self::Ordered),
            "per_record" => Ok(Self::PerRecord),
            other => Err(format!(
                "sink.mode = {other:?} is not a Firehose sink mode: use \"ordered\" (tickets \
                 packed into few Firehose records, never reordered) or \"per_record\" (one \
                 Firehose record per ticket, for destinations that read single records)"
            )),
        }
    }
}
