//! The mapping against settings stored both ways osTicket stores them; every
//! converted file is loaded back and its records compared with the bytes
//! the plugin would send.

use super::*;
use crate::codec::RecordEncoder;
use crate::config::Settings;
use crate::ops::preview::SampleTicket;

fn origin(namespace: &str) -> Origin {
    Origin {
        url: "mysql://cdc:change-me@db:3306/osticket".to_owned(),
        table_prefix: "ost_".to_owned(),
        namespace: namespace.to_owned(),
    }
}

fn rows(pairs: &[(&str, &str)]) -> Vec<StoredSetting> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Some(v.to_string())))
        .collect()
}

/// Loads the converted file as `run` would, the password from the
/// environment.
fn load(toml: &str) -> Settings {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("converted.toml");
    std::fs::write(&path, toml).unwrap();
    let env = [(
        "OSTICKET_CDC_SOURCE__PASSWORD".to_owned(),
        "s3cret".to_owned(),
    )];
    Settings::load_with_env(Some(&path), env)
        .unwrap_or_else(|e| panic!("{e}\n--- converted file ---\n{toml}"))
}

/// The record body the loaded file produces for the reference ticket.
fn reference_body(settings: &Settings) -> Vec<u8> {
    let encoder = RecordEncoder::new(settings.output.clone());
    let event = SampleTicket::default().event();
    encoder.stages(&event, 1).unwrap().body
}

const REFERENCE_DATA: &str = r#"{"helpdesk_code":"BFX","datetime_complete":"2024-01-02 03:04:05","department_id":1,"department_name":"Support","helptopic_id":2,"helptopic_label":"Billing"}"#;

/// The file with each wrapped comment on one line.
fn unwrapped(toml: &str) -> String {
    toml.replace("\n# ", " ")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// osTicket 1.17+: choices as `{"key":"label"}`, flags as an integer.
fn settings_1_17() -> Vec<StoredSetting> {
    rows(&[
        ("code", "BFX"),
        ("stm", r#"{"stm_beanstalk":"Beanstalk"}"#),
        ("stm_beanstalk_host", "beanstalk.internal"),
        ("stm_beanstalk_port", "11300"),
        ("tickets_creation_enabled", "1"),
        ("tickets_creation_stm_beanstalk_queue", "tickets"),
        (
            "tickets_creation_tpl_sequence_srz",
            r#"{"srz_ndjson":"NDJSON"}"#,
        ),
        ("tickets_creation_tpl_sequence_srz_json_flags", "1344"),
        ("tickets_creation_tpl_sequence_srz_json_depth", "16"),
        (
            "tickets_creation_tpl_sequence_srz_ndjson_eol",
            r#"{"DQo=":"Carriage Return + Line Feed"}"#,
        ),
        ("tickets_creation_tpl_sequence_srz_csv_separator", ","),
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
    ])
}

#[test]
fn osticket_1_17_settings_give_the_plugin_bytes() {
    let conversion = convert(&settings_1_17(), &origin("plugin.3.instance.1"));
    let toml = &conversion.toml;
    for line in [
        "url = \"mysql://cdc:change-me@db:3306/osticket\"\n",
        "code = \"BFX\"\n",
        "#   stm_beanstalk_host = \"beanstalk.internal\"\n",
        "#   tickets_creation_stm_beanstalk_queue = \"tickets\"\n",
        "type = \"stdout\"\n",
        "enabled = true\n",
        "data_serializer = \"ndjson\"\n",
        "encoder = \"base16\"\n",
        "record_serializer = \"csv\"\n",
        "[tickets_creation.data]\n",
        "json_flags = 1344\n",
        "ndjson_terminator = \"crlf\"\n",
        "[tickets_creation.record_options]\n",
        "csv_separator = \";\"\n",
        "csv_escape = \"\\\\\"\n",
    ] {
        assert!(toml.contains(line), "missing {line:?} in\n{toml}");
    }
    // Options of serializers not chosen are not written.
    assert!(!toml.contains("csv_separator = \",\""), "{toml}");
    assert!(!toml.contains("json_flags = 1328"), "{toml}");

    let warnings = conversion.warnings.join("\n");
    assert_eq!(conversion.warnings.len(), 5, "{warnings}");
    assert!(warnings.contains("`stm` = \"stm_beanstalk\": the Beanstalk sink comes with issue #4"));
    assert!(warnings.contains("`stm_beanstalk_port` = \"11300\""));
    assert!(warnings.contains("`tickets_creation_rec_kinesis_srz_csv_memory` = \"2097152\""));

    let settings = load(toml);
    assert!(settings.tickets_creation_enabled);
    let data = format!("{REFERENCE_DATA}\r\n");
    let expected = format!(
        "{};osticket-tickets;\"\\KinesisRecord\"\n",
        hex(data.as_bytes())
    );
    assert_eq!(
        String::from_utf8(reference_body(&settings)).unwrap(),
        expected
    );
}

#[test]
fn osticket_1_16_bare_choice_keys_give_the_reference_vector() {
    let settings = rows(&[
        ("code", "BFX"),
        ("stm", "stm_beanstalk"),
        ("tickets_creation_enabled", "1"),
        ("tickets_creation_tpl_sequence_srz", "srz_json"),
        ("tickets_creation_tpl_sequence_srz_json_flags", "1328"),
        ("tickets_creation_tpl_sequence_srz_json_depth", "16"),
        ("tickets_creation_rec", "rec_kinesis"),
        ("tickets_creation_rec_kinesis_stream", "osticket-tickets"),
        ("tickets_creation_rec_kinesis_enc", "enc_base64"),
        ("tickets_creation_rec_kinesis_srz", "srz_json"),
        ("tickets_creation_rec_kinesis_srz_json_flags", "1328"),
        ("tickets_creation_rec_kinesis_srz_json_depth", "16"),
    ]);
    let conversion = convert(&settings, &origin("plugin.3"));
    let text = unwrapped(&conversion.toml);
    assert!(
        text.contains("(namespace `plugin.3` of table `ost_config`)"),
        "{text}"
    );
    assert!(conversion.toml.contains("encoder = \"base64\"\n"));
    assert!(
        conversion
            .toml
            .contains("#   stm_beanstalk_host: not set\n")
    );
    assert_eq!(conversion.warnings.len(), 1, "{:?}", conversion.warnings);

    // Seed vector (a): JSON data, Base64, JSON record.
    let body = reference_body(&load(&conversion.toml));
    let expected = concat!(
        r#"{"Data":"eyJoZWxwZGVza19jb2RlIjoiQkZYIiwiZGF0ZXRpbWVfY29tcGxldGUiOiIyMDI0LTAxLTAyIDAzOjA0OjA1IiwiZGVwYXJ0bWVudF9pZCI6MSwiZGVwYXJ0bWVudF9uYW1lIjoiU3VwcG9ydCIsImhlbHB0b3BpY19pZCI6MiwiaGVscHRvcGljX2xhYmVsIjoiQmlsbGluZyJ9","#,
        r#""StreamName":"osticket-tickets","PartitionKey":"\\KinesisRecord"}"#
    );
    assert_eq!(String::from_utf8(body).unwrap(), expected);
}

#[test]
fn disabled_or_unset_use_case_is_written_disabled() {
    for value in [Some("0"), Some(""), None] {
        let mut settings = rows(&[("tickets_creation_rec_kinesis_stream", "s")]);
        settings.push((
            "tickets_creation_enabled".to_owned(),
            value.map(str::to_owned),
        ));
        let conversion = convert(&settings, &origin("plugin.1"));
        assert!(conversion.toml.contains("enabled = false\n"));
        assert!(
            conversion.warnings[0].starts_with("`tickets_creation_enabled`"),
            "{:?}",
            conversion.warnings
        );
        assert!(!load(&conversion.toml).tickets_creation_enabled);
    }
}

#[test]
fn flags_read_as_the_plugin_reads_them() {
    let cases = [
        ("", "json_flags = 0\n"),
        ("1344", "json_flags = 1344\n"),
        // 4096 and 8192 name no flag: the plugin's field drops them.
        ("13632", "json_flags = 1344\n"),
        ("abc", "json_flags = 0\n"),
    ];
    for (stored, line) in cases {
        let settings = rows(&[
            ("tickets_creation_enabled", "1"),
            ("tickets_creation_tpl_sequence_srz", "srz_json"),
            ("tickets_creation_tpl_sequence_srz_json_flags", stored),
            ("tickets_creation_tpl_sequence_srz_json_depth", "0"),
            ("tickets_creation_rec_kinesis_stream", "s"),
        ]);
        let toml = convert(&settings, &origin("plugin.1")).toml;
        assert!(toml.contains(line), "{stored:?}: {toml}");
        assert!(toml.contains("json_depth = 16\n"), "{toml}");
        load(&toml);
    }
}

#[test]
fn csv_options_read_as_the_plugin_constructor_reads_them() {
    let settings = rows(&[
        ("tickets_creation_enabled", "1"),
        ("tickets_creation_tpl_sequence_srz", "srz_csv"),
        ("tickets_creation_tpl_sequence_srz_csv_separator", "|x"),
        ("tickets_creation_tpl_sequence_srz_csv_enclosure", "   "),
        ("tickets_creation_tpl_sequence_srz_csv_escape", " "),
        ("tickets_creation_rec_kinesis_stream", "s"),
    ]);
    let conversion = convert(&settings, &origin("plugin.1"));
    let toml = &conversion.toml;
    assert!(toml.contains("csv_separator = \"|\"\n"), "{toml}");
    assert!(toml.contains("csv_enclosure = \"\\\"\"\n"), "{toml}");
    let text = unwrapped(toml);
    assert!(
        text.contains("(blank: the plugin turned escaping off).\ncsv_escape = \"\"\n"),
        "{text}"
    );
    let output = load(toml).output;
    let crate::codec::Serializer::Csv(csv) = output.data else {
        panic!("CSV data expected");
    };
    assert_eq!(csv.options().separator(), b'|');
    assert_eq!(csv.options().escape(), None);
}

#[test]
fn what_cannot_be_carried_over_is_warned() {
    let settings = vec![
        ("tickets_creation_enabled".to_owned(), Some("1".to_owned())),
        (
            "tickets_creation_rec_kinesis_enc".to_owned(),
            Some("enc_utf8".to_owned()),
        ),
        (
            "tickets_creation_rec_kinesis_enc_utf8_encoding".to_owned(),
            Some(r#"{"UUENCODE":"UUENCODE"}"#.to_owned()),
        ),
        (
            "tickets_creation_tpl_sequence_srz".to_owned(),
            Some("srz_yaml".to_owned()),
        ),
        (
            "tickets_creation_tpl_sequence_srz_ndjson_eol".to_owned(),
            Some("CQ==".to_owned()),
        ),
        ("favourite_colour".to_owned(), None),
    ];
    let conversion = convert(&settings, &origin("plugin.1"));
    let warnings = conversion.warnings.join("\n");
    for expected in [
        "`tickets_creation_rec_kinesis_enc_utf8_encoding` = \"UUENCODE\": osticket-cdc cannot \
         convert from this encoding",
        "`tickets_creation_tpl_sequence_srz` = \"srz_yaml\": not a serializer",
        "`tickets_creation_rec_kinesis_stream` is not set",
        "`tickets_creation_rec` is not set",
        "`tickets_creation_rec_kinesis_srz` is not set",
        "unknown plugin setting `favourite_colour` = NULL",
    ] {
        assert!(
            warnings.contains(expected),
            "missing {expected:?} in\n{warnings}"
        );
    }
    assert_eq!(conversion.warnings.len(), 6, "{warnings}");
    let settings = load(&conversion.toml);
    assert_eq!(
        settings.output.data.name(),
        "json",
        "an unknown data serializer stays at the default"
    );
}

#[test]
fn selector_picks_namespaces_of_both_forms() {
    let any = PluginSelector::default();
    assert!(any.matches("plugin.3") && any.matches("plugin.3.instance.1"));
    assert!(!any.matches("core") && !any.matches("pluginx.3"));
    let id = PluginSelector {
        plugin_id: Some(3),
        instance: None,
    };
    assert!(id.matches("plugin.3.instance.2") && !id.matches("plugin.4"));
    let instance = PluginSelector {
        plugin_id: Some(3),
        instance: Some(2),
    };
    assert!(instance.matches("plugin.3.instance.2"));
    assert!(!instance.matches("plugin.3") && !instance.matches("plugin.3.instance.1"));
}

#[test]
fn url_keeps_everything_but_the_password() {
    assert_eq!(
        url_without_password("mysql://cdc:p@ss:w@rd@db:3306/osticket?x=1"),
        "mysql://cdc:change-me@db:3306/osticket?x=1"
    );
    assert_eq!(
        url_without_password("mariadb://cdc@db/osticket"),
        "mariadb://cdc@db/osticket"
    );
}
