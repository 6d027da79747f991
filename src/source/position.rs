//! Binlog positions and GTID sets: one type each that prints and parses the
//! same way everywhere (logs, the checkpoint store, command-line flags).
//!
//! - [`BinlogPosition`] prints as `FILE:POS` (`mysql-bin.000042:1337`).
//! - [`GtidSet`] holds either MariaDB's per-domain state (`0-1-9,1-2-40`) or
//!   MySQL's executed set (`3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:7`), and
//!   prints in the server's own notation so it can be pasted into SQL.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A place in the server's binlog: a file name and a byte offset in it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BinlogPosition {
    /// Binlog file name, without directory (`mysql-bin.000042`).
    pub file: String,
    /// Byte offset of the next event to read in `file`.
    pub pos: u64,
}

impl BinlogPosition {
    /// A position from its two parts.
    pub fn new(file: impl Into<String>, pos: u64) -> Self {
        Self {
            file: file.into(),
            pos,
        }
    }
}

impl fmt::Display for BinlogPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.pos)
    }
}

/// Why a text is not a [`BinlogPosition`] or a [`GtidSet`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a {what}: {reason}")]
pub struct ParsePositionError {
    text: String,
    what: &'static str,
    reason: &'static str,
}

impl ParsePositionError {
    fn new(text: &str, what: &'static str, reason: &'static str) -> Self {
        Self {
            text: text.to_owned(),
            what,
            reason,
        }
    }
}

impl FromStr for BinlogPosition {
    type Err = ParsePositionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let what = "binlog position (FILE:POS)";
        let (file, pos) = text.rsplit_once(':').ok_or_else(|| {
            ParsePositionError::new(text, what, "no `:` between file and position")
        })?;
        if file.is_empty() {
            return Err(ParsePositionError::new(
                text,
                what,
                "the file name is empty",
            ));
        }
        let pos = pos
            .parse::<u64>()
            .map_err(|_| ParsePositionError::new(text, what, "the position is not a number"))?;
        Ok(Self::new(file, pos))
    }
}

/// One MariaDB GTID: `domain-server-sequence`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MariaGtid {
    /// Replication domain.
    pub domain: u32,
    /// Server id of the server that committed the transaction.
    pub server_id: u32,
    /// Sequence number within the domain.
    pub seq: u64,
}

impl fmt::Display for MariaGtid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.domain, self.server_id, self.seq)
    }
}

impl FromStr for MariaGtid {
    type Err = ParsePositionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || ParsePositionError::new(text, "MariaDB GTID", "expected DOMAIN-SERVER-SEQ");
        let mut parts = text.trim().splitn(3, '-');
        let domain = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let server_id = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let seq = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        Ok(Self {
            domain,
            server_id,
            seq,
        })
    }
}

/// The GTID state after a transaction, in the flavour of the server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum GtidSet {
    /// No GTID is known (a MySQL server with `gtid_mode=OFF`, or nothing seen yet).
    #[default]
    Empty,
    /// MariaDB: the last GTID of each replication domain.
    MariaDb(BTreeMap<u32, MariaGtid>),
    /// MySQL: per source UUID, the executed transaction numbers as
    /// inclusive, sorted, non-overlapping intervals.
    MySql(BTreeMap<String, Vec<(u64, u64)>>),
}

impl GtidSet {
    /// Records a MariaDB transaction's GTID: it becomes its domain's latest.
    pub fn add_mariadb(&mut self, gtid: MariaGtid) {
        if !matches!(self, GtidSet::MariaDb(_)) {
            *self = GtidSet::MariaDb(BTreeMap::new());
        }
        if let GtidSet::MariaDb(domains) = self {
            domains.insert(gtid.domain, gtid);
        }
    }

    /// Records a MySQL transaction `uuid:gno`, merging it into the intervals.
    pub fn add_mysql(&mut self, uuid: &str, gno: u64) {
        if !matches!(self, GtidSet::MySql(_)) {
            *self = GtidSet::MySql(BTreeMap::new());
        }
        if let GtidSet::MySql(sets) = self {
            let intervals = sets.entry(uuid.to_ascii_lowercase()).or_default();
            insert_interval(intervals, gno, gno);
        }
    }

    /// True when no GTID is recorded.
    pub fn is_empty(&self) -> bool {
        match self {
            GtidSet::Empty => true,
            GtidSet::MariaDb(d) => d.is_empty(),
            GtidSet::MySql(s) => s.is_empty(),
        }
    }
}

/// Adds `[start, end]` to sorted disjoint intervals, merging neighbours.
fn insert_interval(intervals: &mut Vec<(u64, u64)>, start: u64, end: u64) {
    intervals.push((start, end));
    intervals.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(intervals.len());
    for &(s, e) in intervals.iter() {
        match merged.last_mut() {
            Some(last) if s <= last.1.saturating_add(1) => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    *intervals = merged;
}

impl fmt::Display for GtidSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GtidSet::Empty => Ok(()),
            GtidSet::MariaDb(domains) => {
                let parts: Vec<String> = domains.values().map(ToString::to_string).collect();
                f.write_str(&parts.join(","))
            }
            GtidSet::MySql(sets) => {
                let mut first = true;
                for (uuid, intervals) in sets {
                    if !first {
                        f.write_str(",")?;
                    }
                    first = false;
                    f.write_str(uuid)?;
                    for (s, e) in intervals {
                        if s == e {
                            write!(f, ":{s}")?;
                        } else {
                            write!(f, ":{s}-{e}")?;
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

impl FromStr for GtidSet {
    type Err = ParsePositionError;

    /// Parses either notation; an empty text is [`GtidSet::Empty`].
    /// A text with `:` is MySQL's, anything else MariaDB's.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(GtidSet::Empty);
        }
        let mut set = GtidSet::Empty;
        if !text.contains(':') {
            for part in text.split(',').filter(|p| !p.trim().is_empty()) {
                set.add_mariadb(part.parse()?);
            }
            return Ok(set);
        }
        let what = "MySQL GTID set";
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let mut pieces = part.split(':');
            let uuid = pieces.next().unwrap_or_default();
            if uuid.len() != 36 || !uuid.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
                return Err(ParsePositionError::new(text, what, "expected UUID:N-M"));
            }
            for interval in pieces {
                let (s, e) = match interval.split_once('-') {
                    Some((s, e)) => (s.parse::<u64>(), e.parse::<u64>()),
                    None => (interval.parse::<u64>(), interval.parse::<u64>()),
                };
                let (Ok(s), Ok(e)) = (s, e) else {
                    return Err(ParsePositionError::new(
                        text,
                        what,
                        "an interval is not N or N-M",
                    ));
                };
                if s == 0 || e < s {
                    return Err(ParsePositionError::new(text, what, "an interval is empty"));
                }
                if !matches!(set, GtidSet::MySql(_)) {
                    set = GtidSet::MySql(BTreeMap::new());
                }
                if let GtidSet::MySql(sets) = &mut set {
                    insert_interval(sets.entry(uuid.to_ascii_lowercase()).or_default(), s, e);
                }
            }
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_round_trips_through_text() {
        let pos: BinlogPosition = "mysql-bin.000042:1337".parse().unwrap();
        assert_eq!(pos, BinlogPosition::new("mysql-bin.000042", 1337));
        assert_eq!(pos.to_string(), "mysql-bin.000042:1337");
        assert!("mysql-bin.000042".parse::<BinlogPosition>().is_err());
        assert!(":4".parse::<BinlogPosition>().is_err());
        assert!("f:x".parse::<BinlogPosition>().is_err());
    }

    #[test]
    fn mariadb_state_keeps_last_gtid_per_domain() {
        let mut set: GtidSet = "0-1-9,1-2-40".parse().unwrap();
        set.add_mariadb("0-3-10".parse().unwrap());
        assert_eq!(set.to_string(), "0-3-10,1-2-40");
    }

    #[test]
    fn mysql_set_merges_intervals() {
        let uuid = "3E11FA47-71CA-11E1-9E33-C80AA9429562";
        let mut set: GtidSet = format!("{uuid}:1-5:7").parse().unwrap();
        set.add_mysql(uuid, 6);
        assert_eq!(set.to_string(), "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-7");
        set.add_mysql(uuid, 9);
        assert_eq!(
            set.to_string(),
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-7:9"
        );
        assert!("3E11FA47:1".parse::<GtidSet>().is_err());
        assert_eq!("".parse::<GtidSet>().unwrap(), GtidSet::Empty);
    }
}
