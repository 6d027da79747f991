//! [`AnySink`]: one of the sinks, chosen at run time from the configuration
//! or a command-line flag, for the commands (`replay`, `backfill`) that send
//! records outside the live pipeline. The live pipeline stays generic over
//! its sink.

use std::path::Path;

use super::{BeanstalkSink, FileSink, FirehoseSink, Record, Sink, SinkError, StdoutSink};
use crate::config::SinkConfig;

/// A sink of any kind.
pub enum AnySink {
    /// Standard output.
    Stdout(StdoutSink),
    /// A file.
    File(FileSink),
    /// A Beanstalk tube.
    Beanstalk(BeanstalkSink),
    /// A Firehose delivery stream.
    Firehose(FirehoseSink),
}

impl AnySink {
    /// The sink `config` describes, appending to a file sink's file (no
    /// checkpoint offset: these commands do not own one). Firehose is
    /// connected and checked once, without retrying.
    ///
    /// # Errors
    ///
    /// The sink cannot be opened or its stream is missing or not active.
    pub async fn open(config: &SinkConfig) -> Result<Self, SinkError> {
        Ok(match config {
            SinkConfig::Stdout { delimiter } => Self::Stdout(StdoutSink::new(delimiter.bytes())),
            SinkConfig::File { path, delimiter } => Self::file(path, delimiter.bytes())?,
            SinkConfig::Beanstalk(config) => Self::Beanstalk(BeanstalkSink::new(config.clone())?),
            SinkConfig::Firehose(config) => {
                Self::Firehose(FirehoseSink::connect(config.clone()).await?)
            }
        })
    }

    /// A file sink appending to `path`.
    ///
    /// # Errors
    ///
    /// The file cannot be opened.
    pub fn file(path: &Path, delimiter: &[u8]) -> Result<Self, SinkError> {
        FileSink::open(path, delimiter, None).map(Self::File)
    }
}

impl Sink for AnySink {
    async fn send_batch(&mut self, records: &[Record]) -> Result<(), SinkError> {
        match self {
            Self::Stdout(sink) => sink.send_batch(records).await,
            Self::File(sink) => sink.send_batch(records).await,
            Self::Beanstalk(sink) => sink.send_batch(records).await,
            Self::Firehose(sink) => sink.send_batch(records).await,
        }
    }

    fn offset(&self) -> Option<u64> {
        match self {
            Self::Stdout(sink) => sink.offset(),
            Self::File(sink) => sink.offset(),
            Self::Beanstalk(sink) => sink.offset(),
            Self::Firehose(sink) => sink.offset(),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Stdout(sink) => sink.name(),
            Self::File(sink) => sink.name(),
            Self::Beanstalk(sink) => sink.name(),
            Self::Firehose(sink) => sink.name(),
        }
    }
}
