//! The `[sink]` section: where records go. `type` picks the sink; the other
//! keys belong to one sink each, and a key of another sink is an error, so a
//! half-edited file never passes silently.
//!
//! - `stdout`: `delimiter`;
//! - `file`: `path`, `delimiter`;
//! - `beanstalk`: `host`, `port`, `tube`, `priority`, `delay`, `ttr`,
//!   `timeout_secs`, `max_in_flight`;
//! - `firehose`: `delivery_stream`, `region`, `endpoint_url`, `mode`,
//!   `timeout_secs`.

use std::path::PathBuf;

use serde::Deserialize;

use super::{ConfigError, invalid};
use crate::sink::beanstalk::BeanstalkConfig;
use crate::sink::firehose::{FirehoseConfig, FirehoseMode};

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSink {
    #[serde(rename = "type")]
    kind: Option<String>,
    path: Option<PathBuf>,
    delimiter: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    tube: Option<String>,
    priority: Option<u64>,
    delay: Option<u64>,
    ttr: Option<u64>,
    timeout_secs: Option<u64>,
    max_in_flight: Option<usize>,
    delivery_stream: Option<String>,
    region: Option<String>,
    endpoint_url: Option<String>,
    mode: Option<String>,
}

/// Where records are delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkConfig {
    /// One record per delimiter on standard output.
    Stdout {
        /// Written after each record.
        delimiter: Delimiter,
    },
    /// Records appended to a file, exactly once.
    File {
        /// The file.
        path: PathBuf,
        /// Written after each record.
        delimiter: Delimiter,
    },
    /// One job per record in a Beanstalk tube.
    Beanstalk(BeanstalkConfig),
    /// Records to a Kinesis Data Firehose delivery stream.
    Firehose(FirehoseConfig),
}

/// What the stdout and file sinks write after each record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    /// `\n` (the default): one record per line.
    LineFeed,
    /// `\r\n`.
    CrLf,
    /// A NUL byte.
    Nul,
    /// Nothing: for records that end in their own terminator (NDJSON, CSV).
    None,
}

impl Delimiter {
    /// The bytes written after each record.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Delimiter::LineFeed => b"\n",
            Delimiter::CrLf => b"\r\n",
            Delimiter::Nul => b"\0",
            Delimiter::None => b"",
        }
    }
}

pub(super) fn validate_sink(raw: RawSink) -> Result<SinkConfig, ConfigError> {
    let kind = raw.kind.clone().unwrap_or_else(|| "stdout".to_owned());
    let allowed: &[&str] = match kind.as_str() {
        "stdout" => &["delimiter"],
        "file" => &["path", "delimiter"],
        "beanstalk" => &[
            "host",
            "port",
            "tube",
            "priority",
            "delay",
            "ttr",
            "timeout_secs",
            "max_in_flight",
        ],
        "firehose" => &[
            "delivery_stream",
            "region",
            "endpoint_url",
            "mode",
            "timeout_secs",
        ],
        other => {
            return Err(invalid(
                "sink.type",
                other,
                "`stdout`, `file`, `beanstalk` or `firehose`",
            ));
        }
    };
    if let Some(key) = present_keys(&raw)
        .into_iter()
        .find(|k| !allowed.contains(k))
    {
        return Err(invalid(
            "sink.type",
            &kind,
            format!(
                "sink.{key} does not belong to a `{kind}` sink; its keys are {}",
                allowed.join(", ")
            ),
        ));
    }

    let delimiter = || match raw.delimiter.as_deref().unwrap_or("lf") {
        "lf" => Ok(Delimiter::LineFeed),
        "crlf" => Ok(Delimiter::CrLf),
        "nul" => Ok(Delimiter::Nul),
        "none" => Ok(Delimiter::None),
        other => Err(invalid(
            "sink.delimiter",
            other,
            "`lf` (default), `crlf`, `nul`, or `none` for records that end in their own \
             terminator (NDJSON or CSV data with record = \"plain\")",
        )),
    };
    match kind.as_str() {
        "stdout" => Ok(SinkConfig::Stdout {
            delimiter: delimiter()?,
        }),
        "file" => {
            let path = raw.path.clone().ok_or_else(|| {
                invalid(
                    "sink.path",
                    "(missing)",
                    "set the file to append records to",
                )
            })?;
            Ok(SinkConfig::File {
                path,
                delimiter: delimiter()?,
            })
        }
        "beanstalk" => {
            let defaults = BeanstalkConfig::default();
            let config = BeanstalkConfig {
                host: raw.host.unwrap_or(defaults.host),
                port: raw.port.unwrap_or(defaults.port),
                tube: raw.tube.unwrap_or(defaults.tube),
                priority: raw.priority.unwrap_or(defaults.priority),
                delay: raw.delay.unwrap_or(defaults.delay),
                ttr: raw.ttr.unwrap_or(defaults.ttr),
                timeout_secs: raw.timeout_secs.unwrap_or(defaults.timeout_secs),
                max_in_flight: raw.max_in_flight.unwrap_or(defaults.max_in_flight),
            };
            config.validate().map_err(ConfigError::Rejected)?;
            Ok(SinkConfig::Beanstalk(config))
        }
        _ => {
            let stream = raw.delivery_stream.ok_or_else(|| {
                invalid(
                    "sink.delivery_stream",
                    "(missing)",
                    "the name of the Firehose delivery stream to put records into",
                )
            })?;
            let mut config = FirehoseConfig::new(stream);
            config.region = raw.region;
            config.endpoint_url = raw.endpoint_url;
            if let Some(mode) = raw.mode {
                config.mode = mode.parse::<FirehoseMode>().map_err(|_| {
                    invalid(
                        "sink.mode",
                        &mode,
                        "`ordered` (records packed so a partial failure cannot reorder them) \
                         or `per_record` (one Firehose record each; may duplicate, never \
                         reorders)",
                    )
                })?;
            }
            if let Some(secs) = raw.timeout_secs {
                config.timeout_secs = secs;
            }
            config.validate().map_err(ConfigError::Rejected)?;
            Ok(SinkConfig::Firehose(config))
        }
    }
}

/// The keys set in `[sink]` besides `type`.
fn present_keys(raw: &RawSink) -> Vec<&'static str> {
    let set = [
        ("path", raw.path.is_some()),
        ("delimiter", raw.delimiter.is_some()),
        ("host", raw.host.is_some()),
        ("port", raw.port.is_some()),
        ("tube", raw.tube.is_some()),
        ("priority", raw.priority.is_some()),
        ("delay", raw.delay.is_some()),
        ("ttr", raw.ttr.is_some()),
        ("timeout_secs", raw.timeout_secs.is_some()),
        ("max_in_flight", raw.max_in_flight.is_some()),
        ("delivery_stream", raw.delivery_stream.is_some()),
        ("region", raw.region.is_some()),
        ("endpoint_url", raw.endpoint_url.is_some()),
        ("mode", raw.mode.is_some()),
    ];
    set.into_iter()
        .filter(|(_, on)| *on)
        .map(|(k, _)| k)
        .collect()
}
