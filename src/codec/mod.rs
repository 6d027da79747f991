//! Codec: ticket-created events to record bodies.
//!
//! The record is the plugin's six fields, in its order: `helpdesk_code`,
//! `datetime_complete`, `department_id`, `department_name`, `helptopic_id`,
//! `helptopic_label`, written as one compact JSON object.
//!
//! Known limit (issue #3): this is standard JSON (serde_json), not yet the
//! plugin's byte-exact PHP `json_encode` output with its flags (`\/` for
//! `/`, numeric strings as numbers), nor its CSV, NDJSON, Base16/Base64 and
//! Kinesis record options. Those come with issue #3 behind this same seam:
//! [`RecordEncoder::encode`] turns one event into one record body.

pub mod csv;
pub mod encoding;
pub mod json;
pub mod record;
pub mod value;

use serde::Serialize;

use crate::assembly::TicketCreated;
use crate::sink::Record;

/// Why an event could not become a record.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// Serialization failed.
    #[error("cannot serialize ticket {ticket_id}: {reason}")]
    Serialize {
        /// The ticket.
        ticket_id: u64,
        /// What went wrong.
        reason: String,
    },
}

/// The six fields, in the plugin's order.
#[derive(Serialize)]
struct PluginFields<'a> {
    helpdesk_code: &'a str,
    datetime_complete: &'a str,
    department_id: u64,
    department_name: Option<&'a str>,
    helptopic_id: u64,
    helptopic_label: Option<&'a str>,
}

/// Turns events into record bodies with the configured options.
#[derive(Debug, Clone, Default)]
pub struct RecordEncoder {
    helpdesk_code: String,
}

impl RecordEncoder {
    /// An encoder writing `helpdesk_code` into every record.
    pub fn new(helpdesk_code: impl Into<String>) -> Self {
        Self {
            helpdesk_code: helpdesk_code.into(),
        }
    }

    /// Encodes one event.
    ///
    /// # Errors
    ///
    /// [`CodecError::Serialize`] naming the ticket.
    pub fn encode(&self, event: &TicketCreated) -> Result<Record, CodecError> {
        let fields = PluginFields {
            helpdesk_code: &self.helpdesk_code,
            datetime_complete: &event.datetime_complete,
            department_id: event.department_id,
            department_name: event.department_name.as_deref(),
            helptopic_id: event.helptopic_id,
            helptopic_label: event.helptopic_label.as_deref(),
        };
        let body = serde_json::to_vec(&fields).map_err(|e| CodecError::Serialize {
            ticket_id: event.ticket_id,
            reason: e.to_string(),
        })?;
        Ok(Record {
            ticket_id: event.ticket_id,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::BinlogPosition;

    fn event(topic: Option<&str>) -> TicketCreated {
        TicketCreated {
            datetime_complete: "2024-01-02 03:04:05".into(),
            department_id: 1,
            department_name: Some("Support".into()),
            helptopic_id: if topic.is_some() { 2 } else { 0 },
            helptopic_label: topic.map(Into::into),
            ticket_id: 9,
            ticket_number: "123456".into(),
            source: "Web".into(),
            user_id: 3,
            position: BinlogPosition::new("b.000001", 400),
            gtid: None,
            timestamp: 0,
            row_index: 0,
        }
    }

    #[test]
    fn six_fields_in_plugin_order() {
        let record = RecordEncoder::new("BFX")
            .encode(&event(Some("Billing")))
            .unwrap();
        assert_eq!(
            String::from_utf8(record.body).unwrap(),
            r#"{"helpdesk_code":"BFX","datetime_complete":"2024-01-02 03:04:05","department_id":1,"department_name":"Support","helptopic_id":2,"helptopic_label":"Billing"}"#
        );
        assert_eq!(record.ticket_id, 9);
    }

    #[test]
    fn no_topic_is_zero_and_null() {
        let record = RecordEncoder::new("").encode(&event(None)).unwrap();
        let text = String::from_utf8(record.body).unwrap();
        assert!(
            text.ends_with(r#""helptopic_id":0,"helptopic_label":null}"#),
            "{text}"
        );
        assert!(text.starts_with(r#"{"helpdesk_code":"","#), "{text}");
    }
}
