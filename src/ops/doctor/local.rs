//! The checkpoint directory as `doctor` sees it: what it holds, whether it
//! is writable, and which process holds its lock.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::checkpoint::{Checkpoint, CheckpointStore};
use crate::codec::extra::rfc3339_utc;
use crate::source::checks::Finding;

/// What is known about the checkpoint directory.
pub(super) struct LocalCheckpoint {
    /// The stored checkpoint, if there is one and it could be read.
    pub checkpoint: Option<Checkpoint>,
    /// The process holding the store's lock, when one does.
    pub holder: Option<LockHolder>,
    /// The `checkpoint` line.
    pub finding: Finding,
}

/// A process that holds RocksDB's lock on the checkpoint directory.
pub(super) struct LockHolder {
    /// Its pid, when the kernel tells.
    pid: Option<u32>,
}

impl LockHolder {
    /// `pid 123`, or a vaguer text when the pid is not known.
    pub fn describe(&self) -> String {
        self.pid
            .map_or("a running process".to_owned(), |pid| format!("pid {pid}"))
    }
}

/// Reads the checkpoint directory without changing it (but for a probe
/// file that shows it is writable).
pub(super) fn inspect_checkpoint(dir: &Path) -> LocalCheckpoint {
    const CHECK: &str = "checkpoint";
    let shown = dir.display();
    let none = |finding| LocalCheckpoint {
        checkpoint: None,
        holder: None,
        finding,
    };
    if !dir.exists() {
        // The connector creates the directory and any missing parents.
        let ancestor = dir.ancestors().skip(1).find(|a| a.is_dir());
        let ancestor = ancestor.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        return none(match probe_writable(&ancestor) {
            Ok(()) => Finding::ok(
                CHECK,
                format!(
                    "{shown} does not exist yet: the first run creates it and starts at \
                     source.start"
                ),
            ),
            Err(e) => Finding::fail(
                CHECK,
                format!(
                    "{shown} does not exist and cannot be created: {} is not writable ({e}); \
                     set checkpoint.dir to a directory this user may write",
                    ancestor.display()
                ),
            ),
        });
    }
    if !dir.is_dir() {
        return none(Finding::fail(
            CHECK,
            format!("{shown} is not a directory; set checkpoint.dir to a directory"),
        ));
    }
    if let Err(e) = probe_writable(dir) {
        return none(Finding::fail(
            CHECK,
            format!(
                "{shown} is not writable ({e}); run the connector as a user that may write it, \
                 or set checkpoint.dir elsewhere"
            ),
        ));
    }

    let holder = lock_holder(&dir.join("LOCK"));
    let held = holder.as_ref().map_or(String::new(), |h| {
        format!(
            "; in use by a running osticket-cdc ({}): `run` and `checkpoint reset` refuse \
             until it stops",
            h.describe()
        )
    });
    if !dir.join("CURRENT").exists() {
        return LocalCheckpoint {
            checkpoint: None,
            holder,
            finding: Finding::ok(
                CHECK,
                format!("{shown}: no checkpoint yet, the first run starts at source.start{held}"),
            ),
        };
    }
    let loaded = CheckpointStore::open_read_only(dir).and_then(|store| store.load());
    let (checkpoint, finding) = match loaded {
        Err(e) => (None, Finding::fail(CHECK, e.to_string())),
        Ok(None) => (
            None,
            Finding::ok(
                CHECK,
                format!("{shown}: no checkpoint yet, the first run starts at source.start{held}"),
            ),
        ),
        Ok(Some(checkpoint)) => {
            let delivered = match checkpoint.timestamp {
                0 => "nothing delivered yet".to_owned(),
                t => format!(
                    "last delivery {} ({} ago)",
                    rfc3339_utc(t),
                    human_duration(now().saturating_sub(u64::from(t)))
                ),
            };
            let text = format!(
                "{shown}: at {} (GTID {}), {delivered}{held}",
                checkpoint.position, checkpoint.gtid_state
            );
            (Some(checkpoint), Finding::ok(CHECK, text))
        }
    };
    LocalCheckpoint {
        checkpoint,
        holder,
        finding,
    }
}

/// Creates and removes an empty file in `dir`.
pub(super) fn probe_writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".osticket-cdc-doctor-{}", std::process::id()));
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    std::fs::remove_file(&probe)
}

/// The process holding a POSIX lock on `lock` (RocksDB locks its `LOCK`
/// file with `fcntl`), from Linux's `/proc/locks`. `None` when no one holds
/// it, or when the system does not tell.
fn lock_holder(lock: &Path) -> Option<LockHolder> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(lock).ok()?;
    let dev = meta.dev();
    // glibc's major()/minor(); /proc/locks prints them in hex.
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    parse_proc_locks(&locks, major, minor, meta.ino())
}

/// Finds the lock on `major:minor:inode` in `/proc/locks` text, whose lines
/// read `1: POSIX  ADVISORY  WRITE 4242 fe:00:10035289 0 EOF` (a waiting
/// request has `->` after the number and is skipped).
fn parse_proc_locks(text: &str, major: u64, minor: u64, inode: u64) -> Option<LockHolder> {
    text.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.get(1) == Some(&"->") {
            return None;
        }
        let (pid, file) = (fields.get(4)?, fields.get(5)?);
        let mut parts = file.split(':');
        let found = (
            u64::from_str_radix(parts.next()?, 16).ok()?,
            u64::from_str_radix(parts.next()?, 16).ok()?,
            parts.next()?.parse::<u64>().ok()?,
        );
        (found == (major, minor, inode)).then(|| LockHolder {
            pid: pid.parse().ok().filter(|&p| p > 0),
        })
    })
}

/// `3 d 4 h`, `5 h 2 min`, `42 s`.
pub(super) fn human_duration(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// Seconds since the Unix epoch.
pub(super) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_locks_lines_are_matched_by_device_and_inode() {
        let text = "1: POSIX  ADVISORY  WRITE 22736 fe:00:10012581 0 EOF\n\
                    2: -> POSIX  ADVISORY  WRITE 99 fe:00:10035289 0 EOF\n\
                    3: POSIX  ADVISORY  WRITE 23303 fe:00:10035289 0 EOF\n\
                    4: OFDLCK ADVISORY  WRITE -1 08:01:77 0 EOF\n";
        let holder = parse_proc_locks(text, 0xfe, 0, 10035289).expect("held");
        assert_eq!(holder.pid, Some(23303));
        assert_eq!(
            parse_proc_locks(text, 0xfe, 1, 10035289).map(|h| h.pid),
            None
        );
        let ofd = parse_proc_locks(text, 8, 1, 77).expect("held");
        assert_eq!(ofd.describe(), "a running process");
    }

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(human_duration(42), "42 s");
        assert_eq!(human_duration(125), "2 min");
        assert_eq!(human_duration(3 * 3600 + 120), "3 h 2 min");
        assert_eq!(human_duration(2 * 86_400 + 5 * 3600), "2 d 5 h");
    }
}
