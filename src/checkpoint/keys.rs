//! Keys and value encodings of the checkpoint store (layout version 1, laid
//! out in the module docs of [`crate::checkpoint`]).
//!
//! Decoding returns a reason text on failure; the store wraps it into a
//! [`super::CheckpointError::Corrupt`] naming the key.

use serde::{Deserialize, Serialize};

use super::Checkpoint;
use crate::source::{DirectoryKind, DirectoryRow};

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

/// First key of the (future) department and topic history, issue #5.
pub(super) const HISTORY_START: &[u8] = b"history/";

/// Exclusive end of the history keys.
pub(super) const HISTORY_END: &[u8] = b"history0";

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
}
