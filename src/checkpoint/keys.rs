//! Keys and value encodings of the checkpoint store (layout version 1, laid
//! out in the module docs of [`crate::checkpoint`]).
//!
//! Decoding returns a reason text on failure; the store wraps it into a
//! [`super::CheckpointError::Corrupt`] naming the key.

use serde::{Deserialize, Serialize};

use super::{Checkpoint, DirectoryDelta};
use crate::source::{BinlogPosition, DirectoryChange, DirectoryKind, DirectoryRow};

/// The layout version this build writes and reads.
pub(super) const FORMAT_VERSION: u32 = 1;

/// Key of the layout version, decimal text.
pub(super) const FORMAT_KEY: &[u8] = b"meta/format";

/// Key of the JSON checkpoint.
pub(super) const CHECKPOINT_KEY: &[u8] = b"checkpoint";

/// First key of the directory rows; all of them sort below [`DIRECTORY_END`].
pub(super) const DIRECTORY_START: &[u8] = b"dir/";

/// Exclusive end of the directory rows: `0` is the byte after `/`.
pub(super) const DIRECTORY_END: &[u8] = b"dir0";

/// First key of the history (commit marks and directory changes).
pub(super) const HISTORY_START: &[u8] = b"history/";

/// Exclusive end of the history keys.
pub(super) const HISTORY_END: &[u8] = b"history0";

/// Prefix of the commit marks: `history/c/<file index>/<pos>`.
pub(super) const MARK_PREFIX: &str = "history/c/";

/// Prefix of the directory changes: `history/v/<file index>/<pos>`.
pub(super) const CHANGES_PREFIX: &str = "history/v/";

/// The sortable key of `position` under `prefix`, `None` when the file name
/// has no numeric extension (`mysql-bin.000042` has index 42). Keys of one
/// prefix sort in binlog order.
pub(super) fn history_key(prefix: &str, position: &BinlogPosition) -> Option<Vec<u8>> {
    let index = binlog_index(&position.file)?;
    Some(format!("{prefix}{index:020}/{:020}", position.pos).into_bytes())
}

/// The exclusive end of the keys under `prefix`.
pub(super) fn history_end(prefix: &str) -> Vec<u8> {
    let mut end = prefix.as_bytes().to_vec();
    // Every prefix ends in `/`; `0` is the byte after it.
    *end.last_mut().expect("prefixes are not empty") = b'0';
    end
}

/// The number a binlog file's name ends in: its place in the sequence.
pub fn binlog_index(file: &str) -> Option<u64> {
    let (_, digits) = file.rsplit_once('.')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Directory changes as stored in the history.
#[derive(Serialize, Deserialize)]
struct StoredChanges {
    replace: bool,
    changes: Vec<StoredChange>,
}

/// One change: `kind` is `d` or `t`; `row` for an upsert, `id` for a delete.
#[derive(Serialize, Deserialize)]
struct StoredChange {
    kind: char,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    row: Option<DirectoryRow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delete: Option<u64>,
}

/// The JSON value of a history changes key.
pub(super) fn encode_changes(delta: &DirectoryDelta) -> Vec<u8> {
    let changes = delta.changes.iter().map(|(kind, change)| {
        let kind = kind_tag(*kind);
        match change {
            DirectoryChange::Upsert(row) => StoredChange {
                kind,
                row: Some(row.clone()),
                delete: None,
            },
            DirectoryChange::Delete { id } => StoredChange {
                kind,
                row: None,
                delete: Some(*id),
            },
        }
    });
    let stored = StoredChanges {
        replace: delta.replace,
        changes: changes.collect(),
    };
    // Strings, integers and booleans cannot fail to serialise.
    serde_json::to_vec(&stored).expect("directory changes always serialise")
}

/// Directory changes from their JSON value.
pub(super) fn decode_changes(value: &[u8]) -> Result<DirectoryDelta, String> {
    let stored: StoredChanges =
        serde_json::from_slice(value).map_err(|e| format!("invalid history JSON: {e}"))?;
    let mut changes = Vec::with_capacity(stored.changes.len());
    for change in stored.changes {
        let kind = match change.kind {
            'd' => DirectoryKind::Department,
            't' => DirectoryKind::Topic,
            other => return Err(format!("unknown directory kind `{other}`")),
        };
        let change = match (change.row, change.delete) {
            (Some(row), None) => DirectoryChange::Upsert(row),
            (None, Some(id)) => DirectoryChange::Delete { id },
            _ => return Err("a change needs either `row` or `delete`".into()),
        };
        changes.push((kind, change));
    }
    Ok(DirectoryDelta {
        replace: stored.replace,
        changes,
    })
}

/// The one-letter tag of a directory kind in keys.
fn kind_tag(kind: DirectoryKind) -> char {
    match kind {
        DirectoryKind::Department => 'd',
        DirectoryKind::Topic => 't',
    }
}

/// `dir/d/00000000000000000042` for department 42.
pub(super) fn directory_key(kind: DirectoryKind, id: u64) -> Vec<u8> {
    format!("dir/{}/{id:020}", kind_tag(kind)).into_bytes()
}

/// The kind and id a directory key names, `None` when it is not one.
pub(super) fn parse_directory_key(key: &[u8]) -> Option<(DirectoryKind, u64)> {
    let rest = key.strip_prefix(DIRECTORY_START)?;
    let (kind, id) = match rest {
        [b'd', b'/', id @ ..] => (DirectoryKind::Department, id),
        [b't', b'/', id @ ..] => (DirectoryKind::Topic, id),
        _ => return None,
    };
    if id.len() != 20 || !id.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(id)
        .ok()?
        .parse()
        .ok()
        .map(|id| (kind, id))
}

/// The stored layout version, or the reason it is unreadable.
pub(super) fn decode_format(value: &[u8]) -> Result<u32, String> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| {
            format!(
                "`{}` is not a format version",
                String::from_utf8_lossy(value)
            )
        })
}

/// The checkpoint as stored: positions as text, in their everyday notation.
#[derive(Serialize, Deserialize)]
struct StoredCheckpoint {
    position: String,
    gtid_state: String,
    timestamp: u32,
    sink_offset: Option<u64>,
    next_sequence: u64,
}

/// The JSON value of [`CHECKPOINT_KEY`].
pub(super) fn encode_checkpoint(checkpoint: &Checkpoint) -> Vec<u8> {
    let stored = StoredCheckpoint {
        position: checkpoint.position.to_string(),
        gtid_state: checkpoint.gtid_state.to_string(),
        timestamp: checkpoint.timestamp,
        sink_offset: checkpoint.sink_offset,
        next_sequence: checkpoint.next_sequence,
    };
    // Serialising strings and integers into a Vec cannot fail.
    serde_json::to_vec(&stored).expect("a checkpoint always serialises")
}

/// A checkpoint from its JSON value.
pub(super) fn decode_checkpoint(value: &[u8]) -> Result<Checkpoint, String> {
    let stored: StoredCheckpoint =
        serde_json::from_slice(value).map_err(|e| format!("invalid checkpoint JSON: {e}"))?;
    Ok(Checkpoint {
        position: stored.position.parse().map_err(|e| format!("{e}"))?,
        gtid_state: stored.gtid_state.parse().map_err(|e| format!("{e}"))?,
        timestamp: stored.timestamp,
        sink_offset: stored.sink_offset,
        next_sequence: stored.next_sequence,
    })
}

/// The JSON value of a directory key.
pub(super) fn encode_row(row: &DirectoryRow) -> Vec<u8> {
    // A struct of integers and a string cannot fail to serialise.
    serde_json::to_vec(row).expect("a directory row always serialises")
}

/// A directory row from its key and JSON value; the key's id must match.
pub(super) fn decode_row(
    key: &[u8],
    value: &[u8],
) -> Result<(DirectoryKind, DirectoryRow), String> {
    let (kind, id) = parse_directory_key(key).ok_or("not a directory key")?;
    let row: DirectoryRow =
        serde_json::from_slice(value).map_err(|e| format!("invalid directory row JSON: {e}"))?;
    if row.id != id {
        return Err(format!(
            "the key names id {id} but the row has id {}",
            row.id
        ));
    }
    Ok((kind, row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_keys_round_trip_and_sort_by_id() {
        let key = directory_key(DirectoryKind::Topic, 42);
        assert_eq!(key, b"dir/t/00000000000000000042");
        assert_eq!(parse_directory_key(&key), Some((DirectoryKind::Topic, 42)));
        let max = directory_key(DirectoryKind::Department, u64::MAX);
        assert_eq!(
            parse_directory_key(&max),
            Some((DirectoryKind::Department, u64::MAX))
        );
        assert!(
            directory_key(DirectoryKind::Department, 9)
                < directory_key(DirectoryKind::Department, 10)
        );
        assert!(max.as_slice() >= DIRECTORY_START && max.as_slice() < DIRECTORY_END);
        assert_eq!(parse_directory_key(b"dir/x/00000000000000000001"), None);
        assert_eq!(parse_directory_key(b"dir/d/1"), None);
    }

    #[test]
    fn history_keys_sort_in_binlog_order() {
        let key = |file: &str, pos| history_key(MARK_PREFIX, &BinlogPosition::new(file, pos));
        assert!(key("bin.000009", 99_999).unwrap() < key("bin.000010", 4).unwrap());
        assert!(key("bin.000010", 400).unwrap() < key("bin.000010", 1200).unwrap());
        assert!(key("bin.1000000", 4).unwrap() > key("bin.999999", 4).unwrap());
        assert_eq!(key("nodigits", 4), None);
        assert_eq!(key("bin.", 4), None);
        let end = history_end(MARK_PREFIX);
        assert!(key("bin.999999", u64::MAX).unwrap() < end);
        assert!(end.as_slice() <= HISTORY_END);
    }

    #[test]
    fn history_changes_round_trip() {
        let row = DirectoryRow {
            id: 3,
            parent: Some(1),
            name: "Field".into(),
        };
        let delta = DirectoryDelta {
            replace: true,
            changes: vec![
                (DirectoryKind::Department, DirectoryChange::Upsert(row)),
                (DirectoryKind::Topic, DirectoryChange::Delete { id: 7 }),
            ],
        };
        assert_eq!(decode_changes(&encode_changes(&delta)).unwrap(), delta);
        assert!(
            decode_changes(br#"{"replace":false,"changes":[{"kind":"x","delete":1}]}"#).is_err()
        );
        assert!(decode_changes(br#"{"replace":false,"changes":[{"kind":"d"}]}"#).is_err());
    }
}
