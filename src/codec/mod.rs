//! Codec: ticket-created events to record bodies, byte for byte as the
//! osTicket streamer plugin wrote them.
//!
//! The plugin's pipeline, for each event:
//!
//! 1. the **event**: an ordered map of the six fields `helpdesk_code`,
//!    `datetime_complete`, `department_id`, `department_name`,
//!    `helptopic_id`, `helptopic_label`, then any opt-in [`extra`] fields;
//! 2. the **data serializer** ([`json`], NDJSON or [`csv`]) turns it into
//!    bytes;
//! 3. the **encoder** ([`encoding`]: UTF-8, Base16 or Base64) turns those
//!    into text;
//! 4. the **record** ([`record`]): `Data`, `StreamName`, `PartitionKey`;
//! 5. the **record serializer** (JSON, NDJSON or CSV with its own options)
//!    turns the record into the body.
//!
//! A plain record skips 3 to 5: its body is the data serializer's output.
//! Each stage is PHP's own behaviour (`json_encode`, `fputcsv`,
//! `base64_encode`, `bin2hex`, `mb_convert_encoding`), checked by
//! differential tests against PHP 8.2.
//!
//! A serializer failure is a definite error naming the ticket and the
//! reason, never an empty message and never a silent drop.

pub mod csv;
pub mod encoding;
pub mod extra;
pub mod json;
pub mod record;
pub mod serializer;
pub mod value;

use encoding::Encoder;
use extra::ExtraField;
pub use serializer::{SerializeError, Serializer};
use value::Value;

use crate::assembly::TicketCreated;
use crate::sink::Record;

/// Why an event could not become a record.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// A serializer failed.
    #[error("cannot serialize ticket {ticket_id} ({stage}): {source}")]
    Serialize {
        /// The ticket.
        ticket_id: u64,
        /// `data serializer` or `record serializer`.
        stage: &'static str,
        /// What went wrong.
        source: SerializeError,
    },
}

/// What the record around the data is.
#[derive(Debug, Clone)]
pub enum RecordKind {
    /// The plugin's "Amazon Kinesis record".
    Kinesis {
        /// `StreamName`.
        stream_name: String,
        /// `PartitionKey`.
        partition_key: PartitionKey,
        /// Turns the data into `Data` text.
        encoder: Encoder,
        /// Turns the record into the body.
        serializer: Serializer,
    },
    /// The data serializer's output alone.
    Plain,
}

/// Where the Kinesis record's `PartitionKey` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartitionKey {
    /// The same text for every record (the plugin's `\KinesisRecord`).
    Constant(String),
    /// An extra field's value, such as the ticket id.
    Field(ExtraField),
}

/// Everything that decides the bytes of a record.
#[derive(Debug, Clone)]
pub struct OutputConfig {
    /// The plugin's helpdesk code, `""` when none.
    pub helpdesk_code: String,
    /// The data serializer.
    pub data: Serializer,
    /// The record around the data.
    pub record: RecordKind,
    /// Fields appended after the six, with the names they are written under.
    pub extra_fields: Vec<(ExtraField, String)>,
}

impl Default for OutputConfig {
    /// Plain JSON of the six fields with the plugin's JSON defaults.
    fn default() -> Self {
        Self {
            helpdesk_code: String::new(),
            data: Serializer::default(),
            record: RecordKind::Plain,
            extra_fields: Vec::new(),
        }
    }
}

/// Every stage of one record, for `preview`.
#[derive(Debug, Clone, PartialEq)]
pub struct Stages {
    /// The event map.
    pub event: Value,
    /// The data serializer's output.
    pub data: Vec<u8>,
    /// The record body as it is sent.
    pub body: Vec<u8>,
}

/// Turns events into record bodies with the configured options.
#[derive(Debug, Clone, Default)]
pub struct RecordEncoder {
    config: OutputConfig,
}

impl RecordEncoder {
    /// An encoder for `config`.
    pub fn new(config: OutputConfig) -> Self {
        Self { config }
    }

    /// The configuration.
    pub fn config(&self) -> &OutputConfig {
        &self.config
    }

    /// The event map: the six fields, then the extra ones.
    pub fn event_value(&self, event: &TicketCreated, sequence: u64) -> Value {
        let mut fields = vec![
            (
                "helpdesk_code".to_owned(),
                Value::str(self.config.helpdesk_code.clone()),
            ),
            (
                "datetime_complete".to_owned(),
                Value::str(event.datetime_complete.clone()),
            ),
            (
                "department_id".to_owned(),
                Value::Int(event.department_id as i64),
            ),
            (
                "department_name".to_owned(),
                Value::opt_str(event.department_name.clone()),
            ),
            (
                "helptopic_id".to_owned(),
                Value::Int(event.helptopic_id as i64),
            ),
            (
                "helptopic_label".to_owned(),
                Value::opt_str(event.helptopic_label.clone()),
            ),
        ];
        for (field, name) in &self.config.extra_fields {
            fields.push((name.clone(), field.value(event, sequence)));
        }
        Value::map(fields)
    }

    /// All stages of the record for `event`, the `sequence`-th emitted.
    ///
    /// # Errors
    ///
    /// [`CodecError::Serialize`] naming the ticket and the failing stage.
    pub fn stages(&self, event: &TicketCreated, sequence: u64) -> Result<Stages, CodecError> {
        self.stages_of_value(self.event_value(event, sequence), event, sequence)
    }

    /// As [`RecordEncoder::stages`], from an event map prepared by the
    /// caller: `preview` uses it to put bytes that are not UTF-8 into a
    /// field, which [`TicketCreated`]'s strings cannot hold. `event` still
    /// supplies the ticket id (for errors) and the partition key field.
    ///
    /// # Errors
    ///
    /// [`CodecError::Serialize`] naming the ticket and the failing stage.
    pub fn stages_of_value(
        &self,
        value: Value,
        event: &TicketCreated,
        sequence: u64,
    ) -> Result<Stages, CodecError> {
        let failed = |stage| {
            move |source| CodecError::Serialize {
                ticket_id: event.ticket_id,
                stage,
                source,
            }
        };
        let data = self
            .config
            .data
            .encode(&value)
            .map_err(failed("data serializer"))?;
        let body = match &self.config.record {
            RecordKind::Plain => data.clone(),
            RecordKind::Kinesis {
                stream_name,
                partition_key,
                encoder,
                serializer,
            } => {
                let key = match partition_key {
                    PartitionKey::Constant(text) => text.clone(),
                    PartitionKey::Field(field) => scalar_text(&field.value(event, sequence)),
                };
                let record = record::kinesis_record(encoder.encode(&data), stream_name, &key);
                serializer
                    .encode(&record)
                    .map_err(failed("record serializer"))?
            }
        };
        Ok(Stages {
            event: value,
            data,
            body,
        })
    }

    /// The record for `event`, the `sequence`-th emitted.
    ///
    /// # Errors
    ///
    /// [`CodecError::Serialize`] naming the ticket and the failing stage.
    pub fn encode(&self, event: &TicketCreated, sequence: u64) -> Result<Record, CodecError> {
        let stages = self.stages(event, sequence)?;
        Ok(Record {
            ticket_id: event.ticket_id,
            body: stages.body,
        })
    }
}

impl RecordEncoder {
    /// The data serializer's output for `event` as the record: what a
    /// Firehose record carries (the bytes the plugin's consumers stored).
    ///
    /// # Errors
    ///
    /// [`CodecError::Serialize`] naming the ticket.
    pub fn encode_data(&self, event: &TicketCreated, sequence: u64) -> Result<Record, CodecError> {
        let value = self.event_value(event, sequence);
        let body = self
            .config
            .data
            .encode(&value)
            .map_err(|source| CodecError::Serialize {
                ticket_id: event.ticket_id,
                stage: "data serializer",
                source,
            })?;
        Ok(Record {
            ticket_id: event.ticket_id,
            body,
        })
    }
}

/// A scalar as PHP's string conversion writes it (for partition keys).
fn scalar_text(value: &Value) -> String {
    match value {
        Value::Int(i) => i.to_string(),
        Value::Str(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Value::Bool(true) => "1".to_owned(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests;
