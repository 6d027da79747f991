//! MariaDB-only binlog events that `mysql_common` hands back undecoded:
//! the GTID event (type 162) that opens every transaction, and the GTID
//! list (type 163) at the start of each binlog file.
//!
//! Layouts (little-endian, after the common header, checksum removed):
//!
//! - GTID: sequence number u64, domain id u32, flags u8, then optional
//!   fields the connector does not need. The server id is the header's.
//! - GTID list: count u32 (the low 28 bits; the high 4 are flags), then per
//!   entry domain id u32, server id u32, sequence number u64.

use super::position::MariaGtid;

/// MariaDB's GTID event type.
pub const GTID_EVENT: u8 = 162;
/// MariaDB's GTID list event type.
pub const GTID_LIST_EVENT: u8 = 163;
/// Flag of a GTID event whose transaction is one statement with no
/// `COMMIT` or XID after it (DDL).
const FL_STANDALONE: u8 = 1;

/// A decoded MariaDB GTID event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GtidEvent {
    /// The transaction's GTID.
    pub gtid: MariaGtid,
    /// The transaction is a single statement that ends itself.
    pub standalone: bool,
}

/// Decodes a GTID event body; `None` when it is too short.
pub fn parse_gtid(body: &[u8], server_id: u32) -> Option<GtidEvent> {
    let seq = u64::from_le_bytes(body.get(0..8)?.try_into().ok()?);
    let domain = u32::from_le_bytes(body.get(8..12)?.try_into().ok()?);
    let flags = *body.get(12)?;
    Some(GtidEvent {
        gtid: MariaGtid {
            domain,
            server_id,
            seq,
        },
        standalone: flags & FL_STANDALONE != 0,
    })
}

/// Decodes a GTID list body; `None` when it is truncated.
pub fn parse_gtid_list(body: &[u8]) -> Option<Vec<MariaGtid>> {
    let count = u32::from_le_bytes(body.get(0..4)?.try_into().ok()?) & 0x0fff_ffff;
    let mut gtids = Vec::with_capacity(count as usize);
    for i in 0..count as usize {
        let entry = body.get(4 + i * 16..4 + (i + 1) * 16)?;
        gtids.push(MariaGtid {
            domain: u32::from_le_bytes(entry[0..4].try_into().ok()?),
            server_id: u32::from_le_bytes(entry[4..8].try_into().ok()?),
            seq: u64::from_le_bytes(entry[8..16].try_into().ok()?),
        });
    }
    Some(gtids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtid_event_decodes() {
        let mut body = 9u64.to_le_bytes().to_vec();
        body.extend(2u32.to_le_bytes());
        body.push(FL_STANDALONE | 8);
        let event = parse_gtid(&body, 7).unwrap();
        assert_eq!(event.gtid.to_string(), "2-7-9");
        assert!(event.standalone);
        assert!(parse_gtid(&body[..12], 7).is_none());
    }

    #[test]
    fn gtid_list_decodes() {
        let mut body = (2u32 | 0x1000_0000).to_le_bytes().to_vec();
        for (d, s, n) in [(0u32, 1u32, 40u64), (3, 2, 5)] {
            body.extend(d.to_le_bytes());
            body.extend(s.to_le_bytes());
            body.extend(n.to_le_bytes());
        }
        let list = parse_gtid_list(&body).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].to_string(), "3-2-5");
        assert!(parse_gtid_list(&body[..20]).is_none());
    }
}
