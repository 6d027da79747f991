//! The preview against the plugin's reference vectors, and its handling of
//! bytes that are not plain text.

use super::display::escape;
use super::*;
use crate::codec::encoding::Encoder;
use crate::codec::json::{JsonFlags, JsonSerializer, NdjsonSerializer, NdjsonTerminator};
use crate::codec::record::DEFAULT_PARTITION_KEY;
use crate::codec::{OutputConfig, PartitionKey};

/// The seed vectors' configuration: code `BFX`, JSON data, Base64, JSON
/// record for stream `osticket-tickets`.
fn reference_config(data: Serializer) -> RecordEncoder {
    RecordEncoder::new(OutputConfig {
        helpdesk_code: "BFX".to_owned(),
        data,
        record: RecordKind::Kinesis {
            stream_name: "osticket-tickets".to_owned(),
            partition_key: PartitionKey::Constant(DEFAULT_PARTITION_KEY.to_owned()),
            encoder: Encoder::Base64,
            serializer: Serializer::default(),
        },
        extra_fields: Vec::new(),
    })
}

fn preview(encoder: &RecordEncoder, sample: &SampleTicket) -> Result<String, PreviewError> {
    let mut out = Vec::new();
    write_preview(&mut out, encoder, true, sample)?;
    Ok(String::from_utf8(out).unwrap())
}

#[test]
fn reference_ticket_shows_the_plugin_vector() {
    let text = preview(
        &reference_config(Serializer::default()),
        &SampleTicket::default(),
    )
    .unwrap();
    let data = r#"{"helpdesk_code":"BFX","datetime_complete":"2024-01-02 03:04:05","department_id":1,"department_name":"Support","helptopic_id":2,"helptopic_label":"Billing"}"#;
    let body = concat!(
        r#"{"Data":"eyJoZWxwZGVza19jb2RlIjoiQkZYIiwiZGF0ZXRpbWVfY29tcGxldGUiOiIyMDI0LTAxLTAyIDAzOjA0OjA1IiwiZGVwYXJ0bWVudF9pZCI6MSwiZGVwYXJ0bWVudF9uYW1lIjoiU3VwcG9ydCIsImhlbHB0b3BpY19pZCI6MiwiaGVscHRvcGljX2xhYmVsIjoiQmlsbGluZyJ9","#,
        r#""StreamName":"osticket-tickets","PartitionKey":"\\KinesisRecord"}"#
    );
    assert!(text.contains(&format!(
        "data (json, flags 1328, depth 16), 156 bytes:\n{data}\n"
    )));
    assert!(text.contains(&format!(", 284 bytes:\n{body}\n")), "{text}");
    assert!(text.contains("  \"department_name\": \"Support\",\n"));
    assert!(!text.contains("hex"));
}

#[test]
fn line_endings_are_escaped_and_dumped() {
    let json = JsonSerializer::default();
    let ndjson = Serializer::Ndjson(NdjsonSerializer::new(json, NdjsonTerminator::CrLf));
    let text = preview(&reference_config(ndjson), &SampleTicket::default()).unwrap();
    assert!(text.contains("158 bytes, not plain text"), "{text}");
    assert!(text.contains("\"helptopic_label\":\"Billing\"}\\r\\n\n"));
    assert!(text.contains("00000090  "), "{text}");
    assert!(text.contains("Billing\"}..|\n"), "{text}");
}

#[test]
fn invalid_utf8_fails_naming_ticket_and_keys() {
    let sample = SampleTicket {
        department_name: Some(b"Sup\xffport".to_vec()),
        ticket_id: 42,
        ..SampleTicket::default()
    };
    let mut out = Vec::new();
    let encoder = reference_config(Serializer::default());
    let error = write_preview(&mut out, &encoder, true, &sample).unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("cannot serialize ticket 42 (data serializer)"),
        "{message}"
    );
    assert!(message.contains("department_name"), "{message}");
    assert!(message.contains("[tickets_creation.data]"), "{message}");
    // The event was printed before the failure, with the raw bytes noted.
    let printed = String::from_utf8(out).unwrap();
    assert!(printed.contains("`department_name` is not UTF-8 (bytes 537570ff706f7274)"));
}

#[test]
fn invalid_utf8_substituted_when_the_flags_say_so() {
    let flags = JsonFlags::PLUGIN_DEFAULT | JsonFlags::INVALID_UTF8_SUBSTITUTE;
    let data = Serializer::Json(JsonSerializer::new(flags, 16).unwrap());
    let sample = SampleTicket {
        department_name: Some(b"Sup\xffport".to_vec()),
        ..SampleTicket::default()
    };
    let text = preview(&reference_config(data), &sample).unwrap();
    assert!(
        text.contains("\"department_name\":\"Sup\u{fffd}port\""),
        "{text}"
    );
}

#[test]
fn no_topic_and_missing_department_are_null() {
    let sample = SampleTicket {
        department_name: None,
        topic_id: 0,
        topic_label: None,
        ..SampleTicket::default()
    };
    let text = preview(&reference_config(Serializer::default()), &sample).unwrap();
    assert!(text.contains(
        r#""department_id":1,"department_name":null,"helptopic_id":0,"helptopic_label":null}"#
    ));
}

#[test]
fn escape_marks_every_invisible_byte() {
    assert_eq!(escape(b"a\\b\0\r\n\t"), "a\\\\b\\0\\r\\n\\t");
    assert_eq!(escape("x\u{85}\u{2028}é".as_bytes()), "x\\u{85}\\u{2028}é");
    assert_eq!(escape(b"\xff\xfeok"), "\\xff\\xfeok");
}

#[test]
fn created_parses_as_utc_seconds() {
    assert_eq!(parse_created("2024-01-02 03:04:05"), Ok(1_704_164_645));
    assert_eq!(parse_created("1970-01-01 00:00:00"), Ok(0));
    assert_eq!(parse_created("2000-02-29 00:00:00"), Ok(951_782_400));
    for bad in [
        "2023-02-29 00:00:00",
        "2024-01-02T03:04:05",
        "2024-1-02 03:04:05",
        "1969-12-31 23:59:59",
    ] {
        assert!(
            parse_created(bad).unwrap_err().contains("YYYY-MM-DD"),
            "{bad}"
        );
    }
}

#[test]
fn hex_parses_pairs_and_names_bad_ones() {
    assert_eq!(parse_hex("53 75 70 ff"), Ok(b"Sup\xff".to_vec()));
    assert_eq!(parse_hex(""), Ok(Vec::new()));
    assert!(parse_hex("5").unwrap_err().contains("even"));
    assert!(parse_hex("zz").unwrap_err().contains("`zz`"));
}
