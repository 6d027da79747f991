//! Tests of the checkpoint store against real RocksDB directories.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use super::keys::{CHECKPOINT_KEY, FORMAT_KEY};
use super::*;

/// Set in the child process of [`lock_is_exclusive_across_processes`]: the
/// directory the child opens and holds.
const HOLD_DIR_ENV: &str = "OSTICKET_CDC_TEST_HOLD_CHECKPOINT_DIR";

/// What the child prints once it holds the store.
const HOLDING: &str = "osticket-cdc-test-child-holds-the-store";

fn department(id: u64, parent: Option<u64>, name: &str) -> (DirectoryKind, DirectoryChange) {
    let row = DirectoryRow {
        id,
        parent,
        name: name.to_owned(),
    };
    (DirectoryKind::Department, DirectoryChange::Upsert(row))
}

fn topic(id: u64, name: &str) -> (DirectoryKind, DirectoryChange) {
    let row = DirectoryRow {
        id,
        parent: None,
        name: name.to_owned(),
    };
    (DirectoryKind::Topic, DirectoryChange::Upsert(row))
}

fn sample_checkpoint() -> Checkpoint {
    Checkpoint {
        position: BinlogPosition::new("mysql-bin.000042", 1337),
        gtid_state: "0-1-9,1-2-40".parse().unwrap(),
        timestamp: 1_700_000_000,
        sink_offset: Some(4096),
        next_sequence: 17,
    }
}

fn names(store: &CheckpointStore) -> Vec<(DirectoryKind, u64, String)> {
    let rows = store.load_directory().unwrap();
    rows.into_iter()
        .map(|(kind, row)| (kind, row.id, row.name))
        .collect()
}

#[test]
fn fresh_store_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(&dir.path().join("not/yet/there")).unwrap();
    assert_eq!(store.load().unwrap(), None);
    assert!(store.load_directory().unwrap().is_empty());
}

#[test]
fn checkpoint_and_directory_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let checkpoint = sample_checkpoint();
    let delta = DirectoryDelta {
        replace: false,
        changes: vec![
            department(10, None, "Support"),
            topic(2, "Billing"),
            department(9, Some(10), "L2"),
        ],
    };
    store.commit(&checkpoint, &delta).unwrap();

    assert_eq!(store.load().unwrap(), Some(checkpoint));
    let rows = store.load_directory().unwrap();
    assert_eq!(
        rows[0],
        (
            DirectoryKind::Department,
            DirectoryRow {
                id: 9,
                parent: Some(10),
                name: "L2".into()
            }
        )
    );
    assert_eq!(
        names(&store)[1..],
        [
            (DirectoryKind::Department, 10, "Support".into()),
            (DirectoryKind::Topic, 2, "Billing".into()),
        ]
    );

    // A MySQL GTID set and no sink offset survive as well.
    let uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    let mysql = Checkpoint::new(
        BinlogPosition::new("binlog.000001", 4),
        format!("{uuid}:1-5:7").parse().unwrap(),
    );
    store.commit(&mysql, &DirectoryDelta::none()).unwrap();
    assert_eq!(store.load().unwrap(), Some(mysql));
    assert_eq!(names(&store).len(), 3, "an empty delta keeps the directory");
}

#[test]
fn checkpoint_is_stored_as_readable_text() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    store
        .commit(&sample_checkpoint(), &DirectoryDelta::none())
        .unwrap();
    let raw = store.raw().get(CHECKPOINT_KEY).unwrap().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(json["position"], "mysql-bin.000042:1337");
    assert_eq!(json["gtid_state"], "0-1-9,1-2-40");
    assert_eq!(store.raw().get(FORMAT_KEY).unwrap().unwrap(), b"1");
}

#[test]
fn delete_removes_a_row() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let delta = DirectoryDelta {
        replace: false,
        changes: vec![department(1, None, "A"), department(2, None, "B")],
    };
    store.commit(&sample_checkpoint(), &delta).unwrap();

    let delete = (DirectoryKind::Department, DirectoryChange::Delete { id: 1 });
    let delta = DirectoryDelta {
        replace: false,
        changes: vec![delete, department(2, None, "B2")],
    };
    store.commit(&sample_checkpoint(), &delta).unwrap();
    assert_eq!(names(&store), [(DirectoryKind::Department, 2, "B2".into())]);
}

#[test]
fn replace_writes_a_fresh_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let old = DirectoryDelta {
        replace: false,
        changes: vec![department(1, None, "A"), topic(1, "T"), topic(7, "U")],
    };
    store.commit(&sample_checkpoint(), &old).unwrap();

    // Row 1 is both removed by the range delete and written again after it
    // in the same batch: the later put must win.
    let snapshot = DirectoryDelta::snapshot([
        (
            DirectoryKind::Department,
            DirectoryRow {
                id: 1,
                parent: None,
                name: "A2".into(),
            },
        ),
        (
            DirectoryKind::Topic,
            DirectoryRow {
                id: 3,
                parent: None,
                name: "V".into(),
            },
        ),
    ]);
    store.commit(&sample_checkpoint(), &snapshot).unwrap();
    assert_eq!(
        names(&store),
        [
            (DirectoryKind::Department, 1, "A2".into()),
            (DirectoryKind::Topic, 3, "V".into()),
        ]
    );

    // Replacing with nothing empties the directory.
    store
        .commit(
            &sample_checkpoint(),
            &DirectoryDelta {
                replace: true,
                changes: vec![],
            },
        )
        .unwrap();
    assert!(store.load_directory().unwrap().is_empty());
}

#[test]
fn reopen_after_drop_sees_the_last_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let delta = DirectoryDelta {
        replace: false,
        changes: vec![topic(5, "Other")],
    };
    store.commit(&sample_checkpoint(), &delta).unwrap();
    drop(store);

    let store = CheckpointStore::open(dir.path()).unwrap();
    assert_eq!(store.load().unwrap(), Some(sample_checkpoint()));
    assert_eq!(names(&store), [(DirectoryKind::Topic, 5, "Other".into())]);
}

#[test]
fn clear_removes_checkpoint_and_directory() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let delta = DirectoryDelta {
        replace: false,
        changes: vec![topic(5, "Other")],
    };
    store.commit(&sample_checkpoint(), &delta).unwrap();
    store.clear().unwrap();
    assert_eq!(store.load().unwrap(), None);
    assert!(store.load_directory().unwrap().is_empty());
    drop(store);
    assert_eq!(
        CheckpointStore::open(dir.path()).unwrap().load().unwrap(),
        None
    );
}

#[test]
fn second_open_in_process_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let _first = CheckpointStore::open(dir.path()).unwrap();
    let err = CheckpointStore::open(dir.path()).unwrap_err();
    assert!(matches!(err, CheckpointError::Locked { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "checkpoint directory {} is in use by another osticket-cdc process; \
             stop it first or point `checkpoint.dir` elsewhere",
            dir.path().display()
        )
    );
}

/// Runs this test binary again as a child that holds the store (see
/// [`child_holds_store_until_stdin_closes`]), then opens the same directory.
#[test]
fn lock_is_exclusive_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "checkpoint::tests::child_holds_store_until_stdin_closes",
        ])
        .args(["--nocapture", "--test-threads=1"])
        .env(HOLD_DIR_ENV, dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();

    // Wait until the child holds the lock; EOF means it failed to.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains(HOLDING) {
        line.clear();
        assert_ne!(
            stdout.read_line(&mut line).unwrap(),
            0,
            "the child exited before holding the store"
        );
    }

    let err = CheckpointStore::open(dir.path()).unwrap_err();
    assert!(matches!(err, CheckpointError::Locked { .. }), "{err:?}");

    // Closing its stdin lets the child drop the store and exit; the lock is
    // then free again.
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    CheckpointStore::open(dir.path()).unwrap();
}

/// The child side of [`lock_is_exclusive_across_processes`]; does nothing
/// in a normal test run.
#[test]
fn child_holds_store_until_stdin_closes() {
    let Some(dir) = std::env::var_os(HOLD_DIR_ENV) else {
        return;
    };
    let _store = CheckpointStore::open(std::path::Path::new(&dir)).unwrap();
    println!("{HOLDING}");
    std::io::stdout().flush().unwrap();
    let mut rest = String::new();
    let _ = std::io::stdin().read_line(&mut rest);
}

#[test]
fn corrupt_checkpoint_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    store.raw().put(CHECKPOINT_KEY, b"{not json").unwrap();
    let err = store.load().unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "checkpoint store in {} is corrupt: key `checkpoint`: invalid checkpoint JSON",
            dir.path().display()
        )),
        "{err}"
    );
    assert!(
        err.ends_with("run `checkpoint reset` to start again from a chosen position"),
        "{err}"
    );

    // Valid JSON with a bad position names the position.
    let json = br#"{"position":"nofile","gtid_state":"","timestamp":0,"sink_offset":null,"next_sequence":1}"#;
    store.raw().put(CHECKPOINT_KEY, json).unwrap();
    let err = store.load().unwrap_err().to_string();
    assert!(err.contains("`nofile` is not a binlog position"), "{err}");
}

#[test]
fn corrupt_directory_row_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    store
        .raw()
        .put(
            b"dir/t/00000000000000000003",
            br#"{"id":4,"parent":null,"name":"x"}"#,
        )
        .unwrap();
    let err = store.load_directory().unwrap_err().to_string();
    assert!(
        err.contains("key `dir/t/00000000000000000003`: the key names id 3 but the row has id 4"),
        "{err}"
    );
}

#[test]
fn newer_format_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    store.raw().put(FORMAT_KEY, b"2").unwrap();
    drop(store);
    let err = CheckpointStore::open(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            CheckpointError::NewerFormat {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("has format version 2 but this osticket-cdc reads only version 1")
    );
}

fn replace(changes: Vec<(DirectoryKind, DirectoryChange)>) -> DirectoryDelta {
    DirectoryDelta {
        replace: true,
        changes,
    }
}

fn at(file: &str, pos: u64, next_sequence: u64) -> Checkpoint {
    Checkpoint {
        position: BinlogPosition::new(file, pos),
        next_sequence,
        ..sample_checkpoint()
    }
}

fn names_at(store: &CheckpointStore, file: &str, pos: u64) -> Vec<(DirectoryKind, u64, String)> {
    let rows = store.directory_at(&BinlogPosition::new(file, pos)).unwrap();
    rows.into_iter()
        .map(|(kind, row)| (kind, row.id, row.name))
        .collect()
}

#[test]
fn history_rebuilds_the_directory_at_each_mark() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let start = replace(vec![department(1, None, "Sales"), topic(2, "Billing")]);
    store.commit(&at("bin.000009", 400, 1), &start).unwrap();
    let rename = DirectoryDelta {
        replace: false,
        changes: vec![department(1, None, "Revenue")],
    };
    store.commit(&at("bin.000009", 900, 4), &rename).unwrap();
    let delete = DirectoryDelta {
        replace: false,
        changes: vec![(DirectoryKind::Topic, DirectoryChange::Delete { id: 2 })],
    };
    store.commit(&at("bin.000010", 300, 9), &delete).unwrap();

    let sales = (DirectoryKind::Department, 1, "Sales".to_owned());
    let revenue = (DirectoryKind::Department, 1, "Revenue".to_owned());
    let billing = (DirectoryKind::Topic, 2, "Billing".to_owned());
    assert_eq!(
        names_at(&store, "bin.000009", 400),
        [sales.clone(), billing.clone()]
    );
    assert_eq!(
        names_at(&store, "bin.000009", 899),
        [sales, billing.clone()]
    );
    assert_eq!(
        names_at(&store, "bin.000009", 900),
        [revenue.clone(), billing]
    );
    assert_eq!(names_at(&store, "bin.000010", 300), [revenue]);

    let mark = |file, pos| {
        store
            .mark_at_or_before(&BinlogPosition::new(file, pos))
            .unwrap()
    };
    assert_eq!(mark("bin.000009", 399), None);
    assert_eq!(mark("bin.000009", 400).unwrap().next_sequence, 1);
    assert_eq!(mark("bin.000009", 5000).unwrap().next_sequence, 4);
    assert_eq!(mark("bin.000011", 4).unwrap().next_sequence, 9);
    assert_eq!(store.first_mark().unwrap().unwrap().position.pos, 400);
    assert_eq!(store.last_mark().unwrap().unwrap().position.pos, 300);
}

#[test]
fn marks_only_when_records_were_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let start = replace(vec![department(1, None, "Sales")]);
    store.commit(&at("bin.000001", 100, 1), &start).unwrap();
    // Noise only: the position moves, the sequence does not.
    store
        .commit(&at("bin.000001", 200, 1), &DirectoryDelta::none())
        .unwrap();
    let position = BinlogPosition::new("bin.000001", 250);
    assert_eq!(
        store
            .mark_at_or_before(&position)
            .unwrap()
            .unwrap()
            .position
            .pos,
        100
    );
    store
        .commit(&at("bin.000001", 300, 2), &DirectoryDelta::none())
        .unwrap();
    drop(store);
    // A reopened store knows its last mark.
    let store = CheckpointStore::open(dir.path()).unwrap();
    store
        .commit(&at("bin.000001", 400, 2), &DirectoryDelta::none())
        .unwrap();
    let position = BinlogPosition::new("bin.000001", 450);
    assert_eq!(
        store
            .mark_at_or_before(&position)
            .unwrap()
            .unwrap()
            .position
            .pos,
        300
    );
}

#[test]
fn a_replace_drops_the_history_after_it_and_pruning_drops_old_marks() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    let start = replace(vec![department(1, None, "Sales")]);
    store.commit(&at("bin.000001", 100, 1), &start).unwrap();
    let rename = DirectoryDelta {
        replace: false,
        changes: vec![department(1, None, "Revenue")],
    };
    store.commit(&at("bin.000003", 100, 5), &rename).unwrap();

    // A reset back to bin.000002 with other names: the later past is gone.
    let reset = replace(vec![department(1, None, "Deals")]);
    store.commit(&at("bin.000002", 100, 5), &reset).unwrap();
    let deals = (DirectoryKind::Department, 1, "Deals".to_owned());
    assert_eq!(names_at(&store, "bin.000003", 100), [deals]);
    assert_eq!(
        store.last_mark().unwrap().unwrap().position.file,
        "bin.000002"
    );

    store.prune_marks_before(2).unwrap();
    assert_eq!(
        store.first_mark().unwrap().unwrap().position.file,
        "bin.000002"
    );
    // Directory changes survive pruning.
    let sales = (DirectoryKind::Department, 1, "Sales".to_owned());
    assert_eq!(names_at(&store, "bin.000001", 100), [sales]);
}
