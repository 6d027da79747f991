//! Checks of an at-least-once stream, whatever the sink: the records as they
//! arrived (beanstalkd jobs in job id order, NDJSON lines of Firehose's S3
//! objects in creation order), each a plain JSON record carrying the
//! `event_id` and `sequence` extra fields.

use std::collections::HashMap;

/// One delivered copy of a record: its bytes and the fields the checks use.
pub struct Copy {
    /// The bytes as delivered.
    pub body: Vec<u8>,
    /// The `sequence` extra field.
    pub sequence: u64,
    /// The `event_id` extra field.
    pub event_id: String,
    /// `datetime_complete`: tells the ticket.
    pub created: String,
}

/// Parses one delivered record.
pub fn parse_copy(body: Vec<u8>) -> Copy {
    let value: serde_json::Value = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&body)));
    Copy {
        sequence: value["sequence"].as_u64().expect("a sequence"),
        event_id: value["event_id"].as_str().expect("an event_id").to_owned(),
        created: value["datetime_complete"].as_str().unwrap().to_owned(),
        body,
    }
}

/// How many distinct sequence numbers `copies` hold.
pub fn distinct_sequences(copies: &[Copy]) -> usize {
    let mut distinct: Vec<u64> = copies.iter().map(|c| c.sequence).collect();
    distinct.sort_unstable();
    distinct.dedup();
    distinct.len()
}

/// Checks `copies` against `n` tickets, ticket `i` created at
/// `created_at(i)`: the first copies are sequences 1 to `n` in order, each
/// with its ticket's creation time and an event id of its own; any later
/// copy is byte for byte its first copy. Returns how many repeats there were.
pub fn check_copies(copies: &[Copy], n: u32, created_at: impl Fn(u32) -> String) -> usize {
    let mut first: HashMap<u64, &Copy> = HashMap::new();
    let mut repeats = 0;
    for copy in copies {
        match first.get(&copy.sequence) {
            None => {
                let i = first.len() as u32;
                assert_eq!(copy.sequence, u64::from(i) + 1, "first copy {i}: sequence");
                assert_eq!(copy.created, created_at(i), "first copy {i}: ticket order");
                first.insert(copy.sequence, copy);
            }
            Some(original) => {
                assert_eq!(
                    copy.event_id, original.event_id,
                    "repeat of sequence {}: same event_id",
                    copy.sequence
                );
                assert!(
                    copy.body == original.body,
                    "repeat of sequence {} differs: {} vs {}",
                    copy.sequence,
                    String::from_utf8_lossy(&copy.body),
                    String::from_utf8_lossy(&original.body)
                );
                repeats += 1;
            }
        }
    }
    assert_eq!(first.len(), n as usize, "every ticket present, no extra");
    let mut ids: Vec<&str> = first.values().map(|c| c.event_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n as usize, "one distinct event_id per ticket");
    repeats
}
