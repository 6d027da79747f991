//! Configuration loading and validation: every error names key and value.

use super::*;
use crate::source::BinlogPosition;

fn load(toml: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, toml).unwrap();
    // The plain record needs no stream name; tests of the record set it.
    let mut env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if !toml.contains("[tickets_creation]") {
        env.push((
            "OSTICKET_CDC_TICKETS_CREATION__RECORD".into(),
            "plain".into(),
        ));
    }
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
    assert_eq!(
        s.sink,
        SinkConfig::Stdout {
            delimiter: Delimiter::LineFeed
        }
    );
    assert_eq!(s.output.helpdesk_code, "");
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
            path: "/tmp/out.jsonl".into(),
            delimiter: Delimiter::LineFeed,
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

mod tickets_creation {
    use super::*;
    use crate::codec::{PartitionKey, RecordKind, Serializer};

    fn with(section: &str) -> Result<Settings, ConfigError> {
        load(&format!("{MINIMAL}[tickets_creation]\n{section}\n"), &[])
    }

    #[test]
    fn the_kinesis_record_needs_its_stream_name() {
        let msg = with("").unwrap_err().to_string();
        assert!(
            msg.contains("tickets_creation.stream_name") && msg.contains("plain"),
            "{msg}"
        );
        let msg = with("stream_name = \"bad name!\"").unwrap_err().to_string();
        assert!(msg.contains("bad name!") && msg.contains("128"), "{msg}");
    }

    #[test]
    fn defaults_are_the_plugins_reference_output() {
        let s = with("stream_name = \"osticket-tickets\"").unwrap();
        assert!(s.tickets_creation_enabled);
        let Serializer::Json(data) = &s.output.data else {
            panic!("JSON data")
        };
        assert_eq!((data.flags().bits(), data.depth()), (1328, 16));
        let RecordKind::Kinesis {
            stream_name,
            partition_key,
            encoder,
            serializer,
        } = &s.output.record
        else {
            panic!("a Kinesis record")
        };
        assert_eq!(stream_name, "osticket-tickets");
        assert_eq!(
            partition_key,
            &PartitionKey::Constant("\\KinesisRecord".into())
        );
        assert_eq!(encoder.name(), "base64");
        assert_eq!(serializer.name(), "json");
        assert!(s.output.extra_fields.is_empty());
    }

    #[test]
    fn json_flags_as_number_text_or_names() {
        for flags in [
            "1328",
            "\"FORCE_OBJECT|NUMERIC_CHECK|UNESCAPED_UNICODE|PRESERVE_ZERO_FRACTION\"",
            "[\"JSON_FORCE_OBJECT\", \"NUMERIC_CHECK\", \"UNESCAPED_UNICODE\", \"PRESERVE_ZERO_FRACTION\"]",
        ] {
            let s = with(&format!(
                "record = \"plain\"\n[tickets_creation.data]\njson_flags = {flags}"
            ))
            .unwrap_or_else(|e| panic!("{flags}: {e}"));
            let Serializer::Json(json) = &s.output.data else {
                panic!()
            };
            assert_eq!(json.flags().bits(), 1328, "{flags}");
        }
        let msg = with("record = \"plain\"\n[tickets_creation.data]\njson_flags = 8192")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("tickets_creation.data.json_flags") && msg.contains("8192"),
            "{msg}"
        );
    }

    #[test]
    fn csv_options_are_single_bytes() {
        let section = "stream_name = \"s\"\nrecord_serializer = \"csv\"\n\
                       [tickets_creation.record_options]\ncsv_separator = \";;\"";
        let msg = with(section).unwrap_err().to_string();
        assert!(
            msg.contains("tickets_creation.record_options.csv_*"),
            "{msg}"
        );
        let ok = with(
            "data_serializer = \"csv\"\nrecord = \"plain\"\n[tickets_creation.data]\ncsv_escape = \"\"",
        );
        assert!(ok.is_ok(), "an empty escape turns escaping off");
    }

    #[test]
    fn extra_fields_and_their_names() {
        let s = with(
            "record = \"plain\"\nextra_fields = [\"event_id\", \"sequence\"]\n\
             [tickets_creation.field_names]\nevent_id = \"id\"",
        )
        .unwrap();
        let names: Vec<_> = s
            .output
            .extra_fields
            .iter()
            .map(|(_, n)| n.as_str())
            .collect();
        assert_eq!(names, ["id", "sequence"]);
        let msg = with("record = \"plain\"\nextra_fields = [\"ticketid\"]")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("ticketid") && msg.contains("event_id"),
            "{msg}"
        );
        let clash = "record = \"plain\"\nextra_fields = [\"source\"]\n[tickets_creation.field_names]\nsource = \"department_id\"";
        assert!(
            with(clash)
                .unwrap_err()
                .to_string()
                .contains("not one of the six")
        );
    }

    #[test]
    fn partition_key_from_a_field() {
        let s = with("stream_name = \"s\"\npartition_key_field = \"ticket_id\"").unwrap();
        let RecordKind::Kinesis { partition_key, .. } = &s.output.record else {
            panic!()
        };
        assert_eq!(
            partition_key,
            &PartitionKey::Field(crate::codec::extra::ExtraField::TicketId)
        );
        let both =
            "stream_name = \"s\"\npartition_key = \"k\"\npartition_key_field = \"ticket_id\"";
        assert!(with(both).unwrap_err().to_string().contains("not both"));
    }

    #[test]
    fn unknown_choices_name_what_is_allowed() {
        let cases = [
            ("record = \"avro\"", "tickets_creation.record"),
            (
                "record = \"plain\"\ndata_serializer = \"xml\"",
                "tickets_creation.data_serializer",
            ),
            (
                "stream_name = \"s\"\nencoder = \"rot13\"",
                "tickets_creation.encoder",
            ),
            (
                "stream_name = \"s\"\nencoder = \"utf8\"\nsource_encoding = \"klingon\"",
                "tickets_creation.source_encoding",
            ),
        ];
        for (section, key) in cases {
            let msg = with(section).unwrap_err().to_string();
            assert!(msg.contains(key), "{section}: {msg}");
        }
    }
}

mod sinks {
    use super::*;

    #[test]
    fn beanstalk_keys_with_the_plugins_defaults() {
        let s = load(
            &format!("{MINIMAL}[sink]\ntype = \"beanstalk\"\ntube = \"tickets\"\n"),
            &[],
        )
        .unwrap();
        let SinkConfig::Beanstalk(b) = s.sink else {
            panic!("beanstalk")
        };
        assert_eq!(
            (b.host.as_str(), b.port, b.tube.as_str()),
            ("127.0.0.1", 11300, "tickets")
        );
        assert_eq!((b.priority, b.delay, b.ttr), (1024, 0, 60));
        let msg = load(
            &format!("{MINIMAL}[sink]\ntype = \"beanstalk\"\ntube = \"-bad\"\n"),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains("sink.tube"), "{msg}");
    }

    #[test]
    fn firehose_needs_its_stream_and_a_known_mode() {
        let base = format!("{MINIMAL}[sink]\ntype = \"firehose\"\n");
        let msg = load(&base, &[]).unwrap_err().to_string();
        assert!(msg.contains("sink.delivery_stream"), "{msg}");
        let ok = load(
            &format!(
                "{base}delivery_stream = \"t\"\nmode = \"per_record\"\nregion = \"eu-west-1\"\n"
            ),
            &[],
        );
        assert!(matches!(ok.unwrap().sink, SinkConfig::Firehose(_)));
        let msg = load(
            &format!("{base}delivery_stream = \"t\"\nmode = \"fast\"\n"),
            &[],
        )
        .unwrap_err();
        assert!(msg.to_string().contains("sink.mode"), "{msg}");
    }

    #[test]
    fn keys_of_another_sink_are_refused() {
        let msg = load(
            &format!("{MINIMAL}[sink]\ntype = \"stdout\"\ntube = \"x\"\n"),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            msg.contains("sink.tube does not belong to a `stdout` sink"),
            "{msg}"
        );
        let msg = load(&format!("{MINIMAL}[sink]\ndelimiter = \"tab\"\n"), &[]).unwrap_err();
        assert!(msg.to_string().contains("sink.delimiter"), "{msg}");
    }
}
