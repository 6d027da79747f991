//! Finding a transaction boundary by time: the first transaction committed
//! at or after an instant, for `checkpoint reset --to TIME`, `source.start`
//! as an instant, and replay ranges. The same search finds the boundary just
//! after a GTID set ([`first_not_in`]), for `checkpoint reset --to
//! GTID-SET` (a checkpoint stores a file and a position) and a MySQL start
//! from a GTID set.
//!
//! # What "at or after" means
//!
//! A binlog event header carries a time in whole UTC seconds: for a
//! transaction's first event (its GTID event) that is when its first
//! statement started, the same time the reader gives as
//! [`Transaction::timestamp`](super::Transaction). Transactions are written in
//! commit order, so these times are not strictly increasing: a long
//! transaction started at 10:00:05 can follow one started at 10:00:07. The
//! lookup returns the first transaction *in binlog order* whose header time
//! is at or after the instant; a transaction before it in the binlog with a
//! later time is not delivered, one after it with an earlier time is.
//!
//! # How it reads
//!
//! `SHOW BINARY LOGS` gives the files. A binary search over them, each probe
//! one short non-blocking dump of a file's first events up to its first
//! transaction, finds the first file that started at or after the instant;
//! the file before it (which started earlier) and that file bracket the
//! answer. One non-blocking dump from the start of the bracket then reads
//! event headers up to the first transaction start whose time is at or
//! after the instant. Only headers are looked at, except GTID events (the
//! transaction's GTID) and MySQL's `Previous_gtids` events.
//!
//! Transactions are recognised by their GTID event, which every supported
//! server writes before each transaction (MySQL 5.7+ writes an anonymous one
//! when `gtid_mode` is off; MariaDB 10.0+ always does). The events of a
//! MySQL compressed transaction come out of its payload with `log_pos` 0 and
//! are skipped; its GTID event is outside the payload.
//!
//! The dumps register with server id 0 and the non-blocking flag, as
//! `mysqlbinlog` does: the server ends them at the binlog's current end, and
//! they do not take the place of a running connector (a new dump replaces
//! only one with its own server id; the tests check this on both servers).
//! A dump that goes silent, or an event the parser panics on, ends the
//! lookup with an error as in the reader ([`guarded_next`]), never a crash.
//!
//! # GTID state
//!
//! MariaDB: `BINLOG_GTID_POS(file, pos)` at the found boundary. MySQL: the
//! file's `Previous_gtids` event plus the GTIDs read before the boundary. A
//! tagged GTID (MySQL 8.3+) counts under its UUID, as in the reader.

use std::time::Duration;

use indicatif::ProgressBar;
use mysql_async::binlog::EventType;
use mysql_async::binlog::events::{Event, EventData};
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStream, BinlogStreamRequest, Conn, Opts};

use super::connect::{Flavor, connect};
use super::events::{format_uuid, guarded_next, rotate_file_name};
use super::mariadb;
use super::snapshot::mariadb_gtid_at;
use super::{BinlogPosition, GtidSet, MariaGtid, SourceError};
use crate::config::SourceConfig;

/// A transaction boundary found by commit time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimePoint {
    /// Where the transaction starts (its GTID event): a reader started here
    /// delivers it first.
    pub position: BinlogPosition,
    /// GTID state at `position`, before the transaction.
    pub gtid_state: GtidSet,
    /// The transaction's own time from its event header: UTC seconds.
    pub timestamp: u32,
    /// True when the instant lies before the first transaction of the oldest
    /// binlog the server still has: transactions between the instant and
    /// this one were purged (or never written). For [`first_not_in`]: the
    /// transactions just after the set are no longer on the server.
    pub before_oldest: bool,
}

/// Server id of the lookup's dumps. 0 is no replica's id, so a dump never
/// takes the place of a running connector.
const LOOKUP_SERVER_ID: u32 = 0;

/// MySQL's `Previous_gtids` event.
const PREVIOUS_GTIDS_EVENT: u8 = EventType::PREVIOUS_GTIDS_EVENT as u8;

/// The boundary just before the first transaction committed at or after `at`
/// (UTC seconds): starting a reader there delivers that transaction first.
/// `None` when no transaction on the server is that late (the caller then
/// uses the current end). Reads only event headers where it can; `progress`
/// counts the bytes of binlog scanned.
///
/// # Errors
///
/// Connection and query failures; a binlog that is off.
pub async fn first_at_or_after(
    source: &SourceConfig,
    flavor: Flavor,
    at: u64,
    progress: &ProgressBar,
) -> Result<Option<TimePoint>, SourceError> {
    let mut conn = connect(source).await?;
    first_at_or_after_on(&mut conn, flavor, at, progress).await
}

/// [`first_at_or_after`] with an open query connection; the dumps use
/// connections with the same options.
///
/// # Errors
///
/// As [`first_at_or_after`].
pub async fn first_at_or_after_on(
    conn: &mut Conn,
    flavor: Flavor,
    at: u64,
    progress: &ProgressBar,
) -> Result<Option<TimePoint>, SourceError> {
    let found = first_matching(conn, flavor, progress, |start| {
        u64::from(start.timestamp) >= at
    })
    .await?;
    Ok(found.map(|(found, in_oldest)| {
        let before_oldest = in_oldest && found.first_in_file && u64::from(found.timestamp) > at;
        found.into_point(before_oldest)
    }))
}

/// The boundary just after the transactions of a GTID set: before the
/// first transaction, in binlog order, whose GTID the set does not hold.
/// MariaDB: a sequence number above its domain's, or a domain the set lacks.
/// MySQL: a `uuid:N` outside the set's intervals; transactions without a
/// GTID (`gtid_mode` off) never count. `None` when the set holds every
/// transaction on the server.
///
/// With several domains (or source UUIDs) this is the earliest transaction
/// the set lacks in any of them; later transactions that the set holds are
/// read again (delivered at least once, never skipped).
///
/// # Errors
///
/// As [`first_at_or_after`]; a [`SourceError::Check`] for an empty set.
pub async fn first_not_in(
    conn: &mut Conn,
    flavor: Flavor,
    set: &GtidSet,
    progress: &ProgressBar,
) -> Result<Option<TimePoint>, SourceError> {
    if set.is_empty() {
        return Err(SourceError::Check(
            "an empty GTID set names no transaction; use `earliest` instead".into(),
        ));
    }
    let found = first_matching(conn, flavor, progress, |start| match &start.gtid {
        StartGtid::None => false,
        gtid => !holds(set, gtid),
    })
    .await?;
    Ok(found.map(|(found, in_oldest)| {
        // The set's own next transaction is not the one found.
        let gap = !holds_predecessor(set, &found.gtid);
        let before_oldest = in_oldest && found.first_in_file && gap;
        found.into_point(before_oldest)
    }))
}

/// The GTID of a transaction, from its GTID event.
#[derive(Debug, Clone, PartialEq, Eq)]
enum StartGtid {
    /// An anonymous transaction (MySQL with `gtid_mode` off).
    None,
    /// MariaDB's `domain-server-seq`.
    MariaDb(MariaGtid),
    /// MySQL's `uuid:gno` (untagged; a tagged GTID counts by its UUID).
    MySql(String, u64),
}

/// True when `set` holds the transaction `gtid`.
fn holds(set: &GtidSet, gtid: &StartGtid) -> bool {
    match (set, gtid) {
        (GtidSet::MariaDb(domains), StartGtid::MariaDb(g)) => {
            domains.get(&g.domain).is_some_and(|held| g.seq <= held.seq)
        }
        (GtidSet::MySql(sets), StartGtid::MySql(uuid, gno)) => sets
            .get(uuid)
            .is_some_and(|intervals| intervals.iter().any(|(s, e)| s <= gno && gno <= e)),
        _ => false,
    }
}

/// True when `set` holds the transaction just before `gtid` in its domain
/// or source (or `gtid` is the first there).
fn holds_predecessor(set: &GtidSet, gtid: &StartGtid) -> bool {
    match gtid {
        StartGtid::MariaDb(g) if g.seq > 1 => holds(
            set,
            &StartGtid::MariaDb(MariaGtid {
                seq: g.seq - 1,
                ..*g
            }),
        ),
        StartGtid::MySql(uuid, gno) if *gno > 1 => {
            holds(set, &StartGtid::MySql(uuid.clone(), gno - 1))
        }
        _ => true,
    }
}

/// The start of a transaction as its GTID event shows it.
struct TransactionStart {
    /// Header time: when the transaction's first statement started.
    timestamp: u32,
    /// Its GTID.
    gtid: StartGtid,
}

/// What the scan found.
struct Found {
    position: BinlogPosition,
    timestamp: u32,
    gtid: StartGtid,
    /// The first transaction of its file.
    first_in_file: bool,
    /// MariaDB: from `BINLOG_GTID_POS`. MySQL: `Previous_gtids` of the file
    /// and the GTIDs before `position`.
    gtid_state: GtidSet,
}

impl Found {
    fn into_point(self, before_oldest: bool) -> TimePoint {
        TimePoint {
            position: self.position,
            gtid_state: self.gtid_state,
            timestamp: self.timestamp,
            before_oldest,
        }
    }
}

/// The first transaction, in binlog order, that `target` accepts, and
/// whether it is in the oldest binlog. `target` must be monotonic in binlog
/// order for the binary search over files to be exact: false, then true.
async fn first_matching(
    conn: &mut Conn,
    flavor: Flavor,
    progress: &ProgressBar,
    target: impl Fn(&TransactionStart) -> bool,
) -> Result<Option<(Found, bool)>, SourceError> {
    let opts = conn.opts().clone();
    let files = binary_logs(conn).await?;

    // Binary search for the first file whose first transaction is a target.
    // A file without a transaction counts as one: everything before it was
    // written earlier, and the scan reads through it anyway.
    let (mut lo, mut hi) = (0, files.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        let first = first_transaction(&opts, flavor, &files[mid].0).await?;
        if first.as_ref().is_none_or(&target) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let scan_from = lo.saturating_sub(1);

    progress.set_length(files[scan_from..].iter().map(|(_, size)| size).sum());
    progress.set_position(0);
    let scanned = scan(&opts, flavor, &files[scan_from..], &target, progress).await?;
    let Some(mut found) = scanned else {
        return Ok(None);
    };
    if flavor == Flavor::MariaDb {
        found.gtid_state = mariadb_gtid_at(conn, &found.position).await?;
    }
    let in_oldest = found.position.file == files[0].0;
    Ok(Some((found, in_oldest)))
}

/// `SHOW BINARY LOGS`: each file and its size, oldest first.
async fn binary_logs(conn: &mut Conn) -> Result<Vec<(String, u64)>, SourceError> {
    let rows: Vec<mysql_async::Row> = conn
        .query("SHOW BINARY LOGS")
        .await
        .map_err(SourceError::from_mysql)?;
    let files: Vec<(String, u64)> = rows
        .iter()
        .filter_map(|row| Some((row.get::<String, _>(0)?, row.get::<u64, _>(1)?)))
        .collect();
    if files.is_empty() {
        return Err(SourceError::Check(
            "the server lists no binlog file (SHOW BINARY LOGS is empty): start it with \
             log_bin (log-bin=mysql-bin) and binlog_format=ROW"
                .into(),
        ));
    }
    Ok(files)
}

/// The first transaction in `file`, `None` when it has none.
async fn first_transaction(
    opts: &Opts,
    flavor: Flavor,
    file: &str,
) -> Result<Option<TransactionStart>, SourceError> {
    let mut stream = open_dump(opts, flavor, file).await?;
    while let Some(event) = next_event(&mut stream).await? {
        let header = event.header();
        let event_type = header.event_type_raw();
        if event_type == EventType::ROTATE_EVENT as u8 && header.log_pos() != 0 {
            // The file ended (or the server stopped) without a transaction.
            return Ok(None);
        }
        if header.log_pos() != 0 && starts_transaction(event_type) {
            return Ok(Some(transaction_start(&event)));
        }
    }
    Ok(None)
}

/// A transaction start from its GTID event.
fn transaction_start(event: &Event) -> TransactionStart {
    let header = event.header();
    let event_type = header.event_type_raw();
    let gtid = if event_type == mariadb::GTID_EVENT {
        mariadb::parse_gtid(event.data(), header.server_id())
            .map_or(StartGtid::None, |g| StartGtid::MariaDb(g.gtid))
    } else if event_type == EventType::GTID_EVENT as u8
        || event_type == EventType::GTID_TAGGED_LOG_EVENT as u8
    {
        match event.read_data() {
            Ok(Some(EventData::GtidEvent(g))) => StartGtid::MySql(format_uuid(&g.sid()), g.gno()),
            _ => StartGtid::None,
        }
    } else {
        StartGtid::None
    };
    TransactionStart {
        timestamp: header.timestamp(),
        gtid,
    }
}

/// Reads from the start of `files[0]` to the first transaction start that
/// `target` accepts, through later files; `None` at the binlog's end.
async fn scan(
    opts: &Opts,
    flavor: Flavor,
    files: &[(String, u64)],
    target: &impl Fn(&TransactionStart) -> bool,
    progress: &ProgressBar,
) -> Result<Option<Found>, SourceError> {
    let mut stream = open_dump(opts, flavor, &files[0].0).await?;
    let mut file = files[0].0.clone();
    // Bytes of the files before `file`, for the progress bar.
    let mut done_before: u64 = 0;
    let mut first_in_file = true;
    let mut mysql_state = GtidSet::Empty;

    while let Some(event) = next_event(&mut stream).await? {
        let header = event.header();
        let event_type = header.event_type_raw();
        // Events out of a compressed payload have no position of their own.
        if header.log_pos() == 0 && event_type != EventType::ROTATE_EVENT as u8 {
            continue;
        }
        progress.set_position(done_before + u64::from(header.log_pos()));

        if event_type == EventType::ROTATE_EVENT as u8 {
            let Ok(Some(EventData::RotateEvent(rotate))) = event.read_data() else {
                continue;
            };
            let next = rotate_file_name(&event, rotate.name_raw());
            // The rotate sent when the dump starts names `files[0]` itself.
            if header.log_pos() != 0 && next != file {
                done_before += files
                    .iter()
                    .find(|(name, _)| *name == file)
                    .map_or(0, |(_, size)| *size);
                file = next;
                first_in_file = true;
                mysql_state = GtidSet::Empty;
            }
            continue;
        }
        if event_type == PREVIOUS_GTIDS_EVENT {
            mysql_state = previous_gtids(&event).unwrap_or_default();
            continue;
        }
        if !starts_transaction(event_type) {
            continue;
        }

        // A transaction starts here, at the beginning of its GTID event.
        let start = transaction_start(&event);
        if target(&start) {
            let pos = u64::from(header.log_pos()).saturating_sub(u64::from(header.event_size()));
            return Ok(Some(Found {
                position: BinlogPosition::new(file, pos),
                timestamp: start.timestamp,
                gtid: start.gtid,
                first_in_file,
                gtid_state: mysql_state,
            }));
        }
        first_in_file = false;
        if let StartGtid::MySql(uuid, gno) = &start.gtid {
            mysql_state.add_mysql(uuid, *gno);
        }
    }
    Ok(None)
}

/// True for the event every transaction starts with.
fn starts_transaction(event_type: u8) -> bool {
    event_type == mariadb::GTID_EVENT
        || event_type == EventType::GTID_EVENT as u8
        || event_type == EventType::ANONYMOUS_GTID_EVENT as u8
        || event_type == EventType::GTID_TAGGED_LOG_EVENT as u8
}

/// MySQL's `Previous_gtids` event as a GTID set (tags dropped, as in the
/// reader).
fn previous_gtids(event: &Event) -> Option<GtidSet> {
    let Ok(Some(EventData::PreviousGtidsEvent(previous))) = event.read_data() else {
        return None;
    };
    let mut parts = Vec::new();
    for sid in previous.sids() {
        let mut part = format_uuid(&sid.uuid());
        for interval in sid.intervals() {
            // Intervals are stored half-open: [start, end).
            let (start, end) = (interval.start(), interval.end());
            if end > start {
                part.push_str(&format!(":{start}-{}", end - 1));
            }
        }
        if part.contains(':') {
            parts.push(part);
        }
    }
    parts.join(",").parse().ok()
}

/// A non-blocking dump from the start of `file`: it ends at the binlog's
/// current end.
async fn open_dump(opts: &Opts, flavor: Flavor, file: &str) -> Result<BinlogStream, SourceError> {
    let mut conn = Conn::new(opts.clone())
        .await
        .map_err(SourceError::from_mysql)?;
    if flavor == Flavor::MariaDb {
        // Without this, MariaDB rewrites its GTID events into BEGIN queries.
        conn.query_drop("SET @mariadb_slave_capability = 4")
            .await
            .map_err(SourceError::from_mysql)?;
    }
    let request = BinlogStreamRequest::new(LOOKUP_SERVER_ID)
        .with_filename(file.as_bytes())
        .with_pos(4)
        .with_non_blocking();
    conn.get_binlog_stream(request)
        .await
        .map_err(SourceError::from_mysql)
}

/// The next event, `None` at the end of a non-blocking dump.
async fn next_event(stream: &mut BinlogStream) -> Result<Option<Event>, SourceError> {
    /// A dump that sends nothing for this long is broken.
    const SILENCE: Duration = Duration::from_secs(60);
    match guarded_next(stream, SILENCE, "the binlog dump sent nothing").await? {
        None => Ok(None),
        Some(Err(e)) => Err(SourceError::from_mysql(e)),
        Some(Ok(event)) => Ok(Some(event)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

    fn maria(text: &str) -> StartGtid {
        StartGtid::MariaDb(text.parse().unwrap())
    }

    #[test]
    fn a_mariadb_set_holds_each_domain_up_to_its_sequence() {
        let set: GtidSet = "0-1-10,1-2-5".parse().unwrap();
        assert!(holds(&set, &maria("0-1-10")));
        assert!(
            holds(&set, &maria("0-7-3")),
            "another server id, same domain"
        );
        assert!(!holds(&set, &maria("0-1-11")));
        assert!(!holds(&set, &maria("2-1-1")), "a domain the set lacks");
        assert!(!holds(&set, &StartGtid::None));
        assert!(holds_predecessor(&set, &maria("0-1-11")));
        assert!(
            !holds_predecessor(&set, &maria("0-1-12")),
            "0-1-11 is missing"
        );
        assert!(
            holds_predecessor(&set, &maria("2-1-1")),
            "the first of its domain"
        );
    }

    #[test]
    fn a_mysql_set_holds_its_intervals() {
        let set: GtidSet = format!("{UUID}:1-5:7").parse().unwrap();
        let gtid = |gno| StartGtid::MySql(UUID.to_owned(), gno);
        assert!(holds(&set, &gtid(5)) && holds(&set, &gtid(7)));
        assert!(!holds(&set, &gtid(6)) && !holds(&set, &gtid(8)));
        let other = StartGtid::MySql("00000000-0000-0000-0000-000000000001".into(), 1);
        assert!(!holds(&set, &other));
        assert!(holds_predecessor(&set, &gtid(6)) && !holds_predecessor(&set, &gtid(10)));
        assert!(!holds(&set, &maria("0-1-1")), "flavours never mix");
    }
}
