//! `config from-plugin` against a real MariaDB holding the plugin's settings
//! the way osTicket saves them, then `preview` with the printed file: the
//! body must be the bytes the plugin sends for its reference ticket,
//! checked by hand and against PHP 8.2 running the plugin's own steps.

mod common;

use std::io::Write;
use std::process::{Command, Output};

use common::*;
use osticket_cdc::config::Settings;

/// osTicket's `config` table.
const CONFIG_TABLE: &str = "CREATE TABLE {prefix}config (
    id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
    namespace varchar(64) NOT NULL,
    `key` varchar(64) NOT NULL,
    value text NOT NULL,
    updated timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE KEY namespace (namespace, `key`)
) DEFAULT CHARSET=utf8";

/// The plugin saved by osTicket 1.17+: choices as `{"key":"label"}`, JSON
/// flags as their sum (1344 = UNESCAPED_SLASHES | UNESCAPED_UNICODE |
/// PRESERVE_ZERO_FRACTION), NDJSON data ending in CR LF, Base16, a CSV
/// record with `;`. Hidden fields of serializers not chosen are saved too.
const PLUGIN_1_17: &[(&str, &str)] = &[
    ("code", "BFX"),
    ("stm", r#"{"stm_beanstalk":"Beanstalk"}"#),
    ("stm_beanstalk_host", "beanstalk.internal"),
    ("stm_beanstalk_port", "11300"),
    ("stm_beanstalk_priority", "1024"),
    ("stm_beanstalk_delay", "0"),
    ("stm_beanstalk_ttr", "60"),
    ("tickets_creation_enabled", "1"),
    ("tickets_creation_stm_beanstalk_queue", "tickets"),
    (
        "tickets_creation_tpl_sequence_srz",
        r#"{"srz_ndjson":"NDJSON"}"#,
    ),
    ("tickets_creation_tpl_sequence_srz_csv_separator", ","),
    ("tickets_creation_tpl_sequence_srz_csv_memory", "2097152"),
    ("tickets_creation_tpl_sequence_srz_json_depth", "16"),
    ("tickets_creation_tpl_sequence_srz_json_flags", "1344"),
    (
        "tickets_creation_tpl_sequence_srz_ndjson_eol",
        r#"{"DQo=":"Carriage Return + Line Feed"}"#,
    ),
    (
        "tickets_creation_rec",
        r#"{"rec_kinesis":"Amazon Kinesis record"}"#,
    ),
    ("tickets_creation_rec_kinesis_stream", "osticket-tickets"),
    (
        "tickets_creation_rec_kinesis_enc",
        r#"{"enc_hex":"Base16"}"#,
    ),
    ("tickets_creation_rec_kinesis_srz", r#"{"srz_csv":"CSV"}"#),
    ("tickets_creation_rec_kinesis_srz_csv_separator", ";"),
    ("tickets_creation_rec_kinesis_srz_csv_enclosure", "\""),
    ("tickets_creation_rec_kinesis_srz_csv_escape", "\\"),
    ("tickets_creation_rec_kinesis_srz_csv_memory", "2097152"),
    ("tickets_creation_rec_kinesis_srz_json_flags", "1328"),
    ("tickets_creation_rec_kinesis_srz_json_depth", "16"),
];

/// The file printed for [`PLUGIN_1_17`]; `{port}` and `{database}` stand
/// for the test server's.
const EXPECTED_FILE: &str = r#"# osticket-cdc configuration converted by `osticket-cdc config from-plugin`
# from the bfx-ost-streamer plugin's settings (namespace `plugin.3.instance.1`
# of table `ost_config`). Keys not written take their defaults, which are the
# plugin's.

[source]
# osTicket's database, as given to `config from-plugin`. The password is not
# copied: set OSTICKET_CDC_SOURCE__PASSWORD (or source.password), which
# replaces the URL's, before `osticket-cdc run`. The user needs REPLICATION
# SLAVE, REPLICATION CLIENT (BINLOG MONITOR on MariaDB 10.5+) and SELECT on the
# ticket, department and help topic tables.
url = "mysql://cdc:change-me@127.0.0.1:{port}/{database}"
table_prefix = "ost_"

[helpdesk]
# Plugin: `code`.
code = "BFX"

[sink]
# The plugin streamed to Beanstalk (`stm` = stm_beanstalk). The Beanstalk sink
# comes with issue #4; until then records go to standard output. The plugin's
# Beanstalk settings:
#   stm_beanstalk_host = "beanstalk.internal"
#   stm_beanstalk_port = "11300"
#   stm_beanstalk_priority = "1024"
#   stm_beanstalk_delay = "0"
#   stm_beanstalk_ttr = "60"
#   tickets_creation_stm_beanstalk_queue = "tickets"
type = "stdout"

[tickets_creation]
# Plugin: `tickets_creation_enabled` = "1".
enabled = true
# Plugin: `tickets_creation_tpl_sequence_srz` = srz_ndjson.
data_serializer = "ndjson"
# Plugin: `tickets_creation_rec` = rec_kinesis.
record = "kinesis"
# Plugin: `tickets_creation_rec_kinesis_stream`.
stream_name = "osticket-tickets"
# Plugin: `tickets_creation_rec_kinesis_enc` = enc_hex.
encoder = "base16"
# Plugin: `tickets_creation_rec_kinesis_srz` = srz_csv.
record_serializer = "csv"

[tickets_creation.data]
# Options of the ndjson serializer (plugin:
# `tickets_creation_tpl_sequence_srz_*`).
# Plugin: `tickets_creation_tpl_sequence_srz_json_flags` = "1344":
# UNESCAPED_SLASHES | UNESCAPED_UNICODE | PRESERVE_ZERO_FRACTION.
json_flags = 1344
# Plugin: `tickets_creation_tpl_sequence_srz_json_depth`.
json_depth = 16
# Plugin: `tickets_creation_tpl_sequence_srz_ndjson_eol` = DQo= (CR LF).
ndjson_terminator = "crlf"

[tickets_creation.record_options]
# Options of the csv serializer (plugin: `tickets_creation_rec_kinesis_srz_*`).
# Plugin: `tickets_creation_rec_kinesis_srz_csv_separator` = ";".
csv_separator = ";"
# Plugin: `tickets_creation_rec_kinesis_srz_csv_enclosure` = "\"".
csv_enclosure = "\""
# Plugin: `tickets_creation_rec_kinesis_srz_csv_escape` = "\\".
csv_escape = "\\"
"#;

/// The warnings printed for [`PLUGIN_1_17`], in order.
const EXPECTED_WARNINGS: &str = "\
warning: `stm` = \"stm_beanstalk\": the Beanstalk sink comes with issue #4; sink.type is stdout until then
warning: `stm_beanstalk_host` = \"beanstalk.internal\": the Beanstalk sink comes with issue #4; kept as a comment in [sink]
warning: `stm_beanstalk_port` = \"11300\": the Beanstalk sink comes with issue #4; kept as a comment in [sink]
warning: `stm_beanstalk_priority` = \"1024\": the Beanstalk sink comes with issue #4; kept as a comment in [sink]
warning: `stm_beanstalk_delay` = \"0\": the Beanstalk sink comes with issue #4; kept as a comment in [sink]
warning: `stm_beanstalk_ttr` = \"60\": the Beanstalk sink comes with issue #4; kept as a comment in [sink]
warning: `tickets_creation_stm_beanstalk_queue` = \"tickets\": the Beanstalk sink comes with issue #4; kept as a comment in [sink]
warning: `tickets_creation_rec_kinesis_srz_csv_memory` = \"2097152\": the CSV memory limit never changed the output (PHP's php://temp only moves to a file above it); not carried over
";

/// The reference ticket's data with those settings (JSON, then CR LF).
const REFERENCE_JSON: &str = r#"{"helpdesk_code":"BFX","datetime_complete":"2024-01-02 03:04:05","department_id":1,"department_name":"Support","helptopic_id":2,"helptopic_label":"Billing"}"#;

/// The plugin's pipeline for the reference ticket, step by step as its
/// classes run it: json_encode, the delimiter, bin2hex, fputcsv on
/// php://temp. Prints the body in hex.
const PLUGIN_PIPELINE_PHP: &str = r#"<?php
$event = ['helpdesk_code' => 'BFX', 'datetime_complete' => '2024-01-02 03:04:05',
    'department_id' => 1, 'department_name' => 'Support', 'helptopic_id' => 2,
    'helptopic_label' => 'Billing'];
$data = json_encode($event, 1344, 16) . base64_decode('DQo=', true);
$record = ['Data' => bin2hex($data), 'StreamName' => 'osticket-tickets',
    'PartitionKey' => '\\KinesisRecord'];
$fh = fopen(sprintf('php://temp/maxmemory:%u', 2097152), 'w+');
fputcsv($fh, $record, ';', '"', '\\');
echo bin2hex(stream_get_contents($fh, -1, 0));
"#;

async fn insert_settings(db: &mut TestDb, namespace: &str, settings: &[(&str, &str)]) {
    for (key, value) in settings {
        let sql = format!(
            "INSERT INTO {{prefix}}config (namespace, `key`, value) VALUES ({}, {}, {})",
            quote(namespace),
            quote(key),
            quote(value)
        );
        db.exec(&sql).await;
    }
}

/// A database with osTicket's config table, some core settings and another
/// plugin's.
async fn database_with_config_table() -> TestDb {
    let mut db = create_db(Server::shared(), "schema-1.18.sql", "ost_").await;
    db.exec(CONFIG_TABLE).await;
    insert_settings(
        &mut db,
        "core",
        &[("helpdesk_title", "Help"), ("code", "x")],
    )
    .await;
    insert_settings(&mut db, "plugin.5.instance.1", &[("code", "other plugin")]).await;
    db
}

fn osticket_cdc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_osticket-cdc"))
        .args(args)
        .env_remove("OSTICKET_CDC_SOURCE__URL")
        .env_remove("OSTICKET_CDC_SOURCE__PASSWORD")
        .env_remove("OSTICKET_CDC_CONFIG")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of the hex dump under the preview's `body` heading.
fn body_from_preview(stdout: &str) -> Vec<u8> {
    let body = stdout.split("\nbody (").nth(1).expect("a body section");
    let mut bytes = Vec::new();
    for line in body.lines().skip(2) {
        let Some((columns, _ascii)) = line.split_once("  |") else {
            break;
        };
        for pair in columns[8..].split_whitespace() {
            bytes.push(u8::from_str_radix(pair, 16).unwrap());
        }
    }
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn osticket_1_17_settings_become_a_file_with_the_plugin_bytes() {
    let mut db = database_with_config_table().await;
    insert_settings(&mut db, "plugin.3.instance.1", PLUGIN_1_17).await;

    let output = osticket_cdc(&["config", "from-plugin", "--url", &db.url]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    let expected = EXPECTED_FILE
        .replace("{port}", &Server::shared().port.to_string())
        .replace("{database}", &db.name);
    assert_eq!(stdout, expected);
    assert_eq!(stderr, EXPECTED_WARNINGS);

    // The file loads as `run` would load it, the password from the environment.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("converted.toml");
    std::fs::write(&file, &stdout).unwrap();
    let env = [("OSTICKET_CDC_SOURCE__PASSWORD".to_owned(), "cdc".to_owned())];
    let settings = Settings::load_with_env(Some(&file), env).unwrap();
    assert_eq!(settings.source.password.expose(), "cdc");
    assert_eq!(settings.source.database, db.name);
    assert!(settings.tickets_creation_enabled);

    // The reference ticket through `preview`, against the plugin's bytes.
    let output = osticket_cdc(&["preview", "--config", file.to_str().unwrap()]);
    let preview = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let body = body_from_preview(&preview);
    let data = format!("{REFERENCE_JSON}\r\n");
    let by_hand = format!(
        "{};osticket-tickets;\"\\KinesisRecord\"\n",
        hex(data.as_bytes())
    );
    assert_eq!(text(&body), by_hand, "{preview}");
    assert!(preview.contains(&format!(", {} bytes, not plain text", by_hand.len())));
    match php_body() {
        Some(php) => assert_eq!(hex(&body), php, "PHP disagrees"),
        None => {
            let _ = writeln!(
                std::io::stderr(),
                "skipped the PHP comparison: php is not installed (integration/servers.sh install)"
            );
        }
    }
}

/// The body PHP computes, in hex; `None` without `php`.
fn php_body() -> Option<String> {
    let mut script = tempfile::NamedTempFile::new().unwrap();
    script.write_all(PLUGIN_PIPELINE_PHP.as_bytes()).unwrap();
    let output = Command::new("php").arg(script.path()).output().ok()?;
    assert!(output.status.success(), "php: {}", text(&output.stderr));
    Some(text(&output.stdout))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_configurations_are_listed_until_one_is_chosen() {
    let mut db = database_with_config_table().await;
    let stream = |name| {
        [
            ("tickets_creation_enabled", "1"),
            ("tickets_creation_rec_kinesis_stream", name),
        ]
    };
    insert_settings(&mut db, "plugin.3.instance.1", &stream("first")).await;
    insert_settings(&mut db, "plugin.3.instance.2", &stream("second")).await;
    // osTicket 1.16 and older: no instance, bare choice keys.
    let old = [
        ("tickets_creation_enabled", "1"),
        ("tickets_creation_tpl_sequence_srz", "srz_csv"),
        ("tickets_creation_rec_kinesis_stream", "old"),
    ];
    insert_settings(&mut db, "plugin.7", &old).await;

    let output = osticket_cdc(&["config", "from-plugin", "--url", &db.url]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(6), "{stderr}");
    assert!(
        stderr.contains(
            "plugin.3.instance.1, plugin.3.instance.2, plugin.7; pass --plugin-id N (and \
             --instance N on osTicket 1.17+)"
        ),
        "{stderr}"
    );

    let chosen = osticket_cdc(&["config", "from-plugin", "--url", &db.url, "--instance", "2"]);
    assert_eq!(chosen.status.code(), Some(0), "{}", text(&chosen.stderr));
    assert!(text(&chosen.stdout).contains("stream_name = \"second\"\n"));

    let old = osticket_cdc(&[
        "config",
        "from-plugin",
        "--url",
        &db.url,
        "--plugin-id",
        "7",
    ]);
    let stdout = text(&old.stdout);
    assert_eq!(old.status.code(), Some(0), "{}", text(&old.stderr));
    assert!(stdout.contains("data_serializer = \"csv\"\n"), "{stdout}");

    let none = osticket_cdc(&[
        "config",
        "from-plugin",
        "--url",
        &db.url,
        "--plugin-id",
        "9",
    ]);
    assert_eq!(none.status.code(), Some(6));
    assert!(
        text(&none.stderr).contains("no bfx-ost-streamer settings in `ost_config` for plugin id 9")
    );

    let prefix = osticket_cdc(&["config", "from-plugin", "--url", &db.url, "--prefix", "hd_"]);
    assert_eq!(prefix.status.code(), Some(6));
    assert!(text(&prefix.stderr).contains("table `hd_config` does not exist"));
}
