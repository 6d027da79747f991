//! `checkpoint show` and `checkpoint reset`: where the connector stands, and
//! moving its start point deliberately.
//!
//! `show` opens the store read-only, so it works while a connector runs,
//! and asks the server how far its binlog has grown since. `reset` takes the
//! store's lock, so it refuses while a connector holds it. It stores the
//! department and help-topic rows as they were at the new position with it,
//! in one atomic write: from the kept history when it reaches the target
//! (the rows at the last commit mark before it and the binlog's changes up
//! to it, [`super::replay::names_at`]), so records delivered again carry the
//! names they had; otherwise, and for `latest`, today's rows from the same
//! consistent snapshot as a first start.
//! The file sink's offset and the `sequence` counter carry over, so the
//! output file continues and sequence numbers keep increasing.
//!
//! `--to TIME` finds the first transaction, in binlog order, whose event
//! time is at or after the instant ([`crate::source::timeline`]) with a
//! progress bar of the binlog bytes read, and prints that transaction's own
//! time beside its position. An instant later than every transaction resets
//! to the binlog's end, as `latest` does. A GTID set is looked up the same
//! way (the first transaction it does not hold), because the store keeps a
//! file and a position.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use mysql_async::prelude::Queryable;

use crate::checkpoint::{Checkpoint, CheckpointError, CheckpointStore, DirectoryDelta};
use crate::codec::extra::rfc3339_utc;
use crate::config::{Settings, StartPosition};
use crate::source::connect::{binlog_end, check_server, connect, flavor};
use crate::source::schema::TableNames;
use crate::source::snapshot::{resolve_start, take_snapshot};
use crate::source::timeline::{first_at_or_after_on, first_not_in};
use crate::source::{BinlogPosition, SourceError, TimePoint};

use super::progress;
use super::replay::names_at;

/// Why a checkpoint command failed.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointCommandError {
    /// The store could not be opened, read or written.
    #[error(transparent)]
    Store(#[from] CheckpointError),
    /// The database could not be asked.
    #[error(transparent)]
    Source(#[from] SourceError),
}

/// The text of `checkpoint show`.
///
/// # Errors
///
/// The store cannot be read. An unreachable server is reported in the text,
/// not as an error: the stored position is still worth showing.
pub async fn show(settings: &Settings) -> Result<String, CheckpointCommandError> {
    let dir = &settings.checkpoint.dir;
    let mut out = String::new();
    if !dir.join("CURRENT").exists() {
        let _ = writeln!(
            out,
            "no checkpoint in {}: the first run starts at source.start",
            dir.display()
        );
        return Ok(out);
    }
    let store = CheckpointStore::open_read_only(dir)?;
    let Some(checkpoint) = store.load()? else {
        let _ = writeln!(out, "no checkpoint in {} yet", dir.display());
        return Ok(out);
    };
    describe(&mut out, &checkpoint);
    match store.first_mark()? {
        Some(first) => {
            let _ = writeln!(
                out,
                "replayable:        {} to {} (osticket-cdc replay --from .. --to ..)",
                first.position, checkpoint.position
            );
        }
        None => {
            let _ = writeln!(out, "replayable:        nothing yet (no history kept)");
        }
    }

    match behind(settings, &checkpoint).await {
        Ok((end, bytes)) => {
            let _ = writeln!(out, "server end:        {end}");
            let _ = writeln!(out, "behind:            {bytes} bytes");
            if bytes > 0 && checkpoint.timestamp > 0 {
                let secs = now().saturating_sub(u64::from(checkpoint.timestamp));
                let _ = writeln!(
                    out,
                    "behind (time):     at most {secs} s (age of the last delivery)"
                );
            }
        }
        Err(e) => {
            let _ = writeln!(out, "server:            not reachable ({e})");
        }
    }
    Ok(out)
}

/// What `checkpoint reset` did or would do, as text.
///
/// # Errors
///
/// [`CheckpointError::Locked`] while a connector runs on the store; query
/// failures; a target the server does not have.
pub async fn reset(
    settings: &Settings,
    to: &StartPosition,
    dry_run: bool,
) -> Result<String, CheckpointCommandError> {
    let store = CheckpointStore::open(&settings.checkpoint.dir)?;
    let previous = store.load()?;

    let source = &settings.source;
    let mut conn = connect(source).await?;
    let flavor = check_server(&mut conn, source).await?;
    let names = TableNames::new(&source.database, &source.table_prefix);
    let snapshot = take_snapshot(&mut conn, flavor, &names).await?;
    let mut found = String::new();
    let (position, gtid_state) = match to {
        StartPosition::Time(at) => {
            let bar = progress::bar(0, "reading binlog event headers");
            let point = first_at_or_after_on(&mut conn, flavor, *at, &bar).await;
            bar.finish_and_clear();
            describe_time_point(
                &mut found,
                *at,
                point.as_ref().ok().and_then(Option::as_ref),
            );
            match point? {
                Some(point) => (point.position, point.gtid_state),
                None => (snapshot.position.clone(), snapshot.gtid_state.clone()),
            }
        }
        // A checkpoint holds a file and a position: the set's is looked up
        // (the reader of a first start lets the server find it instead).
        StartPosition::Gtid(set) => {
            let bar = progress::bar(0, "reading binlog GTID events");
            let point = first_not_in(&mut conn, flavor, set, &bar).await;
            bar.finish_and_clear();
            match point? {
                Some(point) => {
                    if point.before_oldest {
                        let _ = writeln!(
                            found,
                            "note: transactions just after the GTID set were purged; the oldest \
                             one left is used"
                        );
                    }
                    (point.position, point.gtid_state)
                }
                None => (snapshot.position.clone(), snapshot.gtid_state.clone()),
            }
        }
        _ => resolve_start(&mut conn, flavor, to, &snapshot).await?,
    };

    // Names as they were at the target when the history reaches it, so
    // records delivered again carry the names they had the first time.
    let history_rows = match to {
        StartPosition::Latest => None,
        _ if position.file.is_empty() => None,
        _ => names_at(source, flavor, &store, &position)
            .await
            .unwrap_or_else(|error| {
                let _ = writeln!(found, "note: the kept history could not be read ({error})");
                None
            }),
    };
    let rows = match history_rows {
        Some(rows) => {
            let _ = writeln!(
                found,
                "names:             as of the target, from the kept history"
            );
            rows
        }
        None => {
            let _ = writeln!(
                found,
                "names:             as of now (the kept history does not reach the target)"
            );
            snapshot.rows
        }
    };

    let mut next = Checkpoint::new(position, gtid_state);
    if let Some(previous) = &previous {
        next.sink_offset = previous.sink_offset;
        next.next_sequence = previous.next_sequence;
    }

    let mut out = String::new();
    match &previous {
        Some(previous) => {
            let _ = writeln!(out, "previous checkpoint:");
            describe(&mut out, previous);
            let _ = writeln!(
                out,
                "to undo: osticket-cdc checkpoint reset --to {}",
                previous.position
            );
        }
        None => {
            let _ = writeln!(out, "previous checkpoint: none");
        }
    }
    out.push_str(&found);
    let target = if next.position.file.is_empty() {
        format!("the GTID set {}", next.gtid_state)
    } else {
        next.position.to_string()
    };
    if dry_run {
        let _ = writeln!(out, "dry run: would reset to {target}; nothing changed");
    } else {
        store.commit(&next, &DirectoryDelta::snapshot(rows))?;
        let _ = writeln!(out, "reset to {target}");
    }
    Ok(out)
}

/// The lines of a `--to TIME` lookup: the instant and what was found there.
fn describe_time_point(out: &mut String, at: u64, point: Option<&TimePoint>) {
    let at_text = u32::try_from(at).map_or_else(|_| at.to_string(), rfc3339_utc);
    let _ = writeln!(out, "instant:           {at_text}");
    match point {
        Some(point) => {
            let _ = writeln!(
                out,
                "first transaction: {} at {} (gtid state there: {})",
                rfc3339_utc(point.timestamp),
                point.position,
                point.gtid_state
            );
            if point.before_oldest {
                let _ = writeln!(
                    out,
                    "note: the instant is before the oldest binlog the server still has ({}): \
                     transactions older than {} were purged and cannot be read again",
                    point.position.file,
                    rfc3339_utc(point.timestamp)
                );
            }
        }
        None => {
            let _ = writeln!(
                out,
                "first transaction: none at or after the instant; the binlog's end is used, \
                 as with `--to latest`"
            );
        }
    }
}

fn describe(out: &mut String, checkpoint: &Checkpoint) {
    let _ = writeln!(out, "position:          {}", checkpoint.position);
    let _ = writeln!(out, "gtid:              {}", checkpoint.gtid_state);
    if checkpoint.timestamp > 0 {
        let _ = writeln!(
            out,
            "last delivered:    {}",
            rfc3339_utc(checkpoint.timestamp)
        );
    }
    if let Some(offset) = checkpoint.sink_offset {
        let _ = writeln!(out, "file sink length:  {offset} bytes");
    }
    let _ = writeln!(out, "next sequence:     {}", checkpoint.next_sequence);
}

/// The server's binlog end and the bytes between the checkpoint and it.
async fn behind(
    settings: &Settings,
    checkpoint: &Checkpoint,
) -> Result<(BinlogPosition, u64), SourceError> {
    let mut conn = connect(&settings.source).await?;
    let flavor = flavor(&mut conn).await?;
    let (end, _) = binlog_end(&mut conn, flavor).await?;
    let files: Vec<mysql_async::Row> = conn
        .query("SHOW BINARY LOGS")
        .await
        .map_err(SourceError::from_mysql)?;
    let at = &checkpoint.position;
    let bytes = files
        .iter()
        .filter_map(|row| Some((row.get::<String, _>(0)?, row.get::<u64, _>(1)?)))
        .filter(|(file, _)| *file >= at.file)
        .map(|(file, size)| {
            if file == at.file {
                size.saturating_sub(at.pos)
            } else {
                size
            }
        })
        .sum();
    Ok((end, bytes))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
