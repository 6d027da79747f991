//! What the reader and the `TIME`/GTID lookup ([`super::timeline`]) both do
//! with the events of a binlog dump: take the next one without hanging or
//! crashing, read a rotate event's file name, print a MySQL source UUID.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use mysql_async::BinlogStream;
use mysql_async::binlog::events::Event;

use super::SourceError;

/// The stream's next item, with the two failures the stream itself does not
/// report turned into errors: `silence` without any event (`what` names
/// what was awaited), and a panic of the event parser on a truncated event.
/// Both are transient, like a broken connection.
pub async fn guarded_next(
    stream: &mut BinlogStream,
    silence: Duration,
    what: &str,
) -> Result<Option<Result<Event, mysql_async::Error>>, SourceError> {
    let next = AssertUnwindSafe(stream.next()).catch_unwind();
    match tokio::time::timeout(silence, next).await {
        Err(_) => Err(SourceError::Connection(format!(
            "{what} for {}s",
            silence.as_secs()
        ))),
        Ok(Err(_panic)) => Err(SourceError::Decode(
            "the event parser panicked on a truncated event".into(),
        )),
        Ok(Ok(next)) => Ok(next),
    }
}

/// The file name of a rotate event. The rotate the server sends when a dump
/// starts comes before the format description, so the parser cannot know
/// that it carries a CRC32 and leaves the 4 checksum bytes on the name: they
/// are recognised by recomputing the checksum, and cut.
pub fn rotate_file_name(event: &Event, name: &[u8]) -> String {
    use mysql_common::proto::MySerialize;
    let data = event.data();
    if name.len() > 4 && data.len() >= 4 {
        let (body, crc) = data.split_at(data.len() - 4);
        let mut header = Vec::with_capacity(19);
        event.header().serialize(&mut header);
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&header);
        hasher.update(body);
        if hasher.finalize().to_le_bytes() == crc {
            return String::from_utf8_lossy(&name[..name.len() - 4]).into_owned();
        }
    }
    String::from_utf8_lossy(name).into_owned()
}

/// A MySQL source UUID in its usual text form.
pub fn format_uuid(sid: &[u8; 16]) -> String {
    let hex: String = sid.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
