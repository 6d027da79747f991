//! Configuration loading and validation: every error names key and value.

use super::*;
use crate::source::BinlogPosition;

fn load(toml: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, toml).unwrap();
    let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    Settings::load_with_env(Some(&path), env)
}

const MINIMAL: &str = "[source]\nurl = \"mysql://cdc:s3cret@db:3307/osticket\"\n";

#[test]
fn minimal_file_gets_defaults() {
    let s = load(MINIMAL, &[]).unwrap();
    assert_eq!(s.source.host, "db");
    assert_eq!(s.source.port, 3307);
    assert_eq!(s.source.user, "cdc");
    assert_eq!(s.source.password.expose(), "s3cret");
    assert_eq!(s.source.database, "osticket");
    assert_eq!(s.source.table_prefix, "ost_");
    assert_eq!(s.source.start, StartPosition::Latest);
    assert_eq!(s.sink, SinkConfig::Stdout);
    assert_eq!(s.helpdesk_code, "");
}

#[test]
fn environment_overrides_nested_keys() {
    let env = [
        ("OSTICKET_CDC_SOURCE__URL", "mysql://u:p@h/other"),
        ("OSTICKET_CDC_SOURCE__SERVER_ID", "77"),
        ("OSTICKET_CDC_SINK__TYPE", "file"),
        ("OSTICKET_CDC_SINK__PATH", "/tmp/out.jsonl"),
        ("OSTICKET_CDC_LOG", "debug"),
        ("OSTICKET_CDC_TEST_MARIADB_PORT", "3306"),
    ];
    let s = load(MINIMAL, &env).unwrap();
    assert_eq!(s.source.database, "other");
    assert_eq!(s.source.server_id, 77);
    assert_eq!(
        s.sink,
        SinkConfig::File {
            path: "/tmp/out.jsonl".into()
        }
    );
}

#[test]
fn credentials_never_print() {
    let s = load(MINIMAL, &[("OSTICKET_CDC_SOURCE__PASSWORD", "hunter2")]).unwrap();
    assert_eq!(s.source.password.expose(), "hunter2");
    let debug = format!("{s:?}");
    assert!(
        !debug.contains("hunter2") && !debug.contains("s3cret"),
        "{debug}"
    );
}

#[test]
fn bad_url_names_key_without_password() {
    let err = load("[source]\nurl = \"postgres://u:topsecret@h/db\"\n", &[]).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("source.url") && msg.contains("mysql://"),
        "{msg}"
    );
    assert!(!msg.contains("topsecret"), "{msg}");
}

#[test]
fn start_positions_parse() {
    let with = |start: &str| load(&format!("{MINIMAL}start = \"{start}\"\n"), &[]);
    assert_eq!(
        with("earliest").unwrap().source.start,
        StartPosition::Earliest
    );
    assert_eq!(
        with("mysql-bin.000002:4").unwrap().source.start,
        StartPosition::Position(BinlogPosition::new("mysql-bin.000002", 4))
    );
    assert!(matches!(
        with("0-1-100").unwrap().source.start,
        StartPosition::Gtid(_)
    ));
    let uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-100";
    assert!(matches!(
        with(uuid).unwrap().source.start,
        StartPosition::Gtid(_)
    ));
    let msg = with("yesterday").unwrap_err().to_string();
    assert!(
        msg.contains("source.start") && msg.contains("yesterday"),
        "{msg}"
    );
}

#[test]
fn invalid_values_name_key_value_and_fix() {
    let cases = [
        ("server_id = 0", "source.server_id"),
        ("table_prefix = \"ost-\"", "source.table_prefix"),
        ("heartbeat_secs = 0", "source.heartbeat_secs"),
    ];
    for (line, key) in cases {
        let msg = load(&format!("{MINIMAL}{line}\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(msg.contains(key), "{line}: {msg}");
    }
    let msg = load(&format!("{MINIMAL}[sink]\ntype = \"kafka\"\n"), &[])
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("sink.type") && msg.contains("kafka") && msg.contains("stdout"),
        "{msg}"
    );
    let msg = load(&format!("{MINIMAL}[sink]\ntype = \"file\"\n"), &[])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("sink.path"), "{msg}");
    let msg = load(&format!("{MINIMAL}[helpdesk]\ncode = \"1BAD\"\n"), &[]).unwrap_err();
    assert!(msg.to_string().contains("helpdesk.code"), "{msg}");
}

#[test]
fn unknown_keys_and_wrong_types_are_errors() {
    let msg = load(&format!("{MINIMAL}server_idd = 3\n"), &[])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("server_idd"), "{msg}");
    let msg = load(&format!("{MINIMAL}server_id = \"x\"\n"), &[])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("server_id"), "{msg}");
}

#[test]
fn missing_file_is_a_clear_error() {
    let err = Settings::load_with_env(Some(Path::new("/nonexistent/c.toml")), []).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/c.toml"), "{err}");
}
