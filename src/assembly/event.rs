//! The ticket-created event: one per ticket row inserted, with the names of
//! its department and help topic as they were at that point of the binlog.
//!
//! Events leave assembly for the codec, which picks the fields the consumers
//! see and adds the configured helpdesk code. The remaining fields say where
//! the event came from, for logs, checkpoints and consumers that want to
//! de-duplicate or order what they receive.

use serde::Serializer;

use crate::source::BinlogPosition;

/// One ticket creation, ready for the codec.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TicketCreated {
    /// The ticket's `created` column as stored: `YYYY-MM-DD HH:MM:SS`, in the
    /// database server's local time.
    pub datetime_complete: String,
    /// The ticket's `dept_id`.
    pub department_id: u64,
    /// The department's full name; `None` when the department row does not
    /// exist.
    pub department_name: Option<String>,
    /// The ticket's `topic_id`; 0 when the ticket has no help topic.
    pub helptopic_id: u64,
    /// The help topic's full name; `None` when `helptopic_id` is 0 or the
    /// topic row does not exist.
    pub helptopic_label: Option<String>,
    /// The ticket's `ticket_id`.
    pub ticket_id: u64,
    /// The ticket's `number`, as users see it.
    pub ticket_number: String,
    /// The ticket's `source` (`Web`, `Email`, ...); empty when NULL.
    pub source: String,
    /// The ticket's `user_id`.
    pub user_id: u64,
    /// End of the ticket's transaction: where a resumed stream would start
    /// after this event. Serialized as `FILE:POS`, as it prints everywhere.
    #[serde(serialize_with = "serialize_display")]
    pub position: BinlogPosition,
    /// GTID of the ticket's transaction, when the server assigns them.
    pub gtid: Option<String>,
    /// Binlog event time of the ticket's transaction: UTC seconds.
    pub timestamp: u32,
    /// Index of the ticket's row within its rows event (0-based); with
    /// `position` it tells apart tickets inserted by one statement.
    pub row_index: u32,
    /// Index of this ticket among the ticket inserts of its transaction
    /// (0-based): with the transaction's GTID or position it identifies the
    /// insert, even when one transaction inserts tickets in several
    /// statements.
    pub ordinal: u32,
}

/// Writes a value as its `Display` text, for types without a `Serialize`
/// of their own whose printed form is their canonical one.
fn serialize_display<T: std::fmt::Display, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_serializes_as_file_colon_pos() {
        let event = TicketCreated {
            datetime_complete: "2024-01-02 03:04:05".to_owned(),
            department_id: 1,
            department_name: Some("Support".to_owned()),
            helptopic_id: 0,
            helptopic_label: None,
            ticket_id: 7,
            ticket_number: "123456".to_owned(),
            source: "Web".to_owned(),
            user_id: 3,
            position: BinlogPosition::new("mysql-bin.000042", 1337),
            gtid: None,
            timestamp: 1_704_164_645,
            row_index: 0,
            ordinal: 0,
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["position"], "mysql-bin.000042:1337");
        assert_eq!(json["helptopic_label"], serde_json::Value::Null);
    }
}
