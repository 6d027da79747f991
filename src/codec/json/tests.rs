//! The plugin's test vectors for JSON and NDJSON data and records, and the
//! PHP behaviours most likely to regress. Expected bytes come from PHP 8.2.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::*;

/// The event of the test vectors: code `BFX`, department 1 `Support`,
/// topic 2 `Billing`, created 2024-01-02 03:04:05.
fn event(department: &str, topic: Option<(i64, &str)>) -> Value {
    Value::map([
        ("helpdesk_code", Value::str("BFX")),
        ("datetime_complete", Value::str("2024-01-02 03:04:05")),
        ("department_id", Value::Int(1)),
        ("department_name", Value::str(department)),
        ("helptopic_id", Value::Int(topic.map_or(0, |(id, _)| id))),
        (
            "helptopic_label",
            Value::opt_str(topic.map(|(_, label)| label)),
        ),
    ])
}

/// The Kinesis record around encoded data.
fn record(data: String) -> Value {
    Value::map([
        ("Data", Value::Str(data.into_bytes())),
        ("StreamName", Value::str("osticket-tickets")),
        ("PartitionKey", Value::str("\\KinesisRecord")),
    ])
}

const EVENT_JSON: &str = r#"{"helpdesk_code":"BFX","datetime_complete":"2024-01-02 03:04:05","department_id":1,"department_name":"Support","helptopic_id":2,"helptopic_label":"Billing"}"#;

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

fn encode(flags: JsonFlags, depth: u32, value: &Value) -> Result<String, JsonError> {
    JsonSerializer::new(flags, depth)
        .unwrap()
        .encode(value)
        .map(text)
}

fn flags(bits: u32) -> JsonFlags {
    JsonFlags::from_bits(bits).unwrap()
}

#[test]
fn vector_a_event_json_is_156_bytes() {
    let json = JsonSerializer::default().encode(&event("Support", Some((2, "Billing"))));
    let json = text(json.unwrap());
    assert_eq!(json, EVENT_JSON);
    assert_eq!(json.len(), 156);
}

#[test]
fn vector_a_json_record_of_base64_data_is_284_bytes() {
    let data = STANDARD.encode(EVENT_JSON);
    let body = text(JsonSerializer::default().encode(&record(data)).unwrap());
    assert_eq!(body.len(), 284);
    assert_eq!(
        body,
        concat!(
            r#"{"Data":"eyJoZWxwZGVza19jb2RlIjoiQkZYIiwiZGF0ZXRpbWVfY29tcGxldGUiOiIyMDI0LTAxLTAy"#,
            r#"IDAzOjA0OjA1IiwiZGVwYXJ0bWVudF9pZCI6MSwiZGVwYXJ0bWVudF9uYW1lIjoiU3VwcG9ydCIsImhl"#,
            r#"bHB0b3BpY19pZCI6MiwiaGVscHRvcGljX2xhYmVsIjoiQmlsbGluZyJ9","StreamName":"#,
            r#""osticket-tickets","PartitionKey":"\\KinesisRecord"}"#
        )
    );
}

#[test]
fn vector_b3_csv_text_in_a_json_record_is_125_bytes() {
    let csv = "BFX,\"2024-01-02 03:04:05\",1,Support,2,Billing\n".to_owned();
    let body = text(JsonSerializer::default().encode(&record(csv)).unwrap());
    assert_eq!(
        body,
        r#"{"Data":"BFX,\"2024-01-02 03:04:05\",1,Support,2,Billing\n","StreamName":"osticket-tickets","PartitionKey":"\\KinesisRecord"}"#
    );
    assert_eq!(body.len(), 125);
}

#[test]
fn vector_c_ndjson_data_and_records() {
    let ndjson = NdjsonSerializer::default();
    let data = ndjson
        .encode(&event("Support", Some((2, "Billing"))))
        .unwrap();
    assert_eq!(data, format!("{EVENT_JSON}\n").into_bytes());

    // (c1) the Base64 covers the trailing LF.
    let c1 = JsonSerializer::default()
        .encode(&record(STANDARD.encode(&data)))
        .unwrap();
    assert_eq!(c1.len(), 288);
    assert!(text(c1).contains("J9Cg==\""));

    // (c2) NDJSON text inside an NDJSON record.
    let c2 = ndjson.encode(&record(text(data))).unwrap();
    assert_eq!(c2.len(), 255);
    assert_eq!(c2.last(), Some(&b'\n'));
    assert!(text(c2).starts_with(r#"{"Data":"{\"helpdesk_code\":\"BFX\",\"#));
}

#[test]
fn vector_d_no_topic_and_numeric_label() {
    let json = text(
        JsonSerializer::default()
            .encode(&event("Support", None))
            .unwrap(),
    );
    assert!(
        json.ends_with(r#""helptopic_id":0,"helptopic_label":null}"#),
        "{json}"
    );

    let event = event("Parent / Child \"x\" é", Some((2, "2024")));
    let json = text(JsonSerializer::default().encode(&event).unwrap());
    assert!(
        json.contains(r#""department_name":"Parent \/ Child \"x\" é","#),
        "{json}"
    );
    assert!(json.ends_with(r#""helptopic_label":2024}"#), "{json}");
}

#[test]
fn vector_d_base16_record_is_388_bytes() {
    let hex: String = EVENT_JSON.bytes().map(|b| format!("{b:02x}")).collect();
    let body = text(JsonSerializer::default().encode(&record(hex)).unwrap());
    assert!(body.starts_with(r#"{"Data":"7b2268656c706465736b5f636f6465"#));
    assert_eq!(body.len(), 388);
}

#[test]
fn numeric_check_applies_to_values_not_keys() {
    let value = Value::map([("12", Value::str("12")), ("a/b", Value::str("1e3"))]);
    assert_eq!(
        encode(flags(32 | 1024), 1, &value).unwrap(),
        r#"{"12":12,"a\/b":1000.0}"#
    );
    assert_eq!(
        encode(flags(32), 1, &Value::str("1e999")).unwrap(),
        r#""1e999""#
    );
    assert_eq!(
        encode(flags(32), 1, &Value::str("0x1A")).unwrap(),
        r#""0x1A""#
    );
    assert_eq!(encode(flags(32), 1, &Value::str("")).unwrap(), r#""""#);
}

#[test]
fn pretty_print_matches_php_layout() {
    let value = Value::map([
        ("a", Value::List(vec![Value::Int(1), Value::List(vec![])])),
        ("b", Value::List(vec![])),
        ("c", Value::map([("x", Value::Null)])),
    ]);
    let expected = "{\n    \"a\": [\n        1,\n        []\n    ],\n    \"b\": [],\n    \"c\": {\n        \"x\": null\n    }\n}";
    assert_eq!(
        encode(JsonFlags::PRETTY_PRINT, 3, &value).unwrap(),
        expected
    );
    let list = Value::List(vec![Value::Int(1), Value::List(vec![Value::Int(3)])]);
    assert_eq!(
        encode(flags(16 | 128), 2, &list).unwrap(),
        "{\n    \"0\": 1,\n    \"1\": {\n        \"0\": 3\n    }\n}"
    );
}

#[test]
fn maps_behave_as_php_arrays() {
    let list_like = Value::map([("0", Value::Int(1)), ("1", Value::Int(2))]);
    assert_eq!(encode(JsonFlags::NONE, 1, &list_like).unwrap(), "[1,2]");
    let reordered = Value::map([("1", Value::Int(1)), ("0", Value::Int(2))]);
    assert_eq!(
        encode(JsonFlags::NONE, 1, &reordered).unwrap(),
        r#"{"1":1,"0":2}"#
    );
    assert_eq!(
        encode(JsonFlags::NONE, 1, &Value::Map(vec![])).unwrap(),
        "[]"
    );
    assert_eq!(
        encode(JsonFlags::FORCE_OBJECT, 1, &Value::Map(vec![])).unwrap(),
        "{}"
    );
    let repeated = Value::map([
        ("a", Value::Int(1)),
        ("b", Value::Int(2)),
        ("a", Value::Int(3)),
    ]);
    assert_eq!(
        encode(JsonFlags::NONE, 1, &repeated).unwrap(),
        r#"{"a":3,"b":2}"#
    );
}

#[test]
fn depth_counts_arrays_and_is_checked_after_elements() {
    let nested = Value::List(vec![Value::List(vec![Value::Int(1)])]);
    assert_eq!(encode(JsonFlags::NONE, 2, &nested).unwrap(), "[[1]]");
    let err = encode(JsonFlags::NONE, 1, &nested).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot encode the value at `[0]` as JSON: depth 2 exceeds the limit 1 (PHP: \"Maximum \
         stack depth exceeded\"); raise the JSON depth"
    );
    // An empty array still counts; a scalar needs no depth at all.
    let empty_inside = Value::List(vec![Value::List(vec![])]);
    assert!(matches!(
        encode(JsonFlags::NONE, 1, &empty_inside),
        Err(JsonError::DepthExceeded {
            depth: 2,
            limit: 1,
            ..
        })
    ));
    // The invalid string inside the too-deep array is found first.
    let bad_inside = Value::List(vec![Value::List(vec![Value::Str(b"\xff".to_vec())])]);
    let err = encode(JsonFlags::NONE, 1, &bad_inside).unwrap_err();
    assert_eq!(
        err.php_message(),
        "Malformed UTF-8 characters, possibly incorrectly encoded"
    );
    // With partial output PHP writes the too-deep arrays in full.
    assert_eq!(
        encode(JsonFlags::PARTIAL_OUTPUT_ON_ERROR, 1, &nested).unwrap(),
        "[[1]]"
    );
    assert_eq!(
        JsonSerializer::new(JsonFlags::NONE, 0),
        Err(JsonConfigError::DepthOutOfRange { depth: 0 })
    );
}

#[test]
fn errors_name_the_field_and_the_byte() {
    let value = Value::map([("department_name", Value::Str(b"Sa\xffles".to_vec()))]);
    let err = encode(JsonFlags::PLUGIN_DEFAULT, 16, &value).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot encode the value at `department_name` as JSON: invalid UTF-8 at byte 2 (PHP: \
         \"Malformed UTF-8 characters, possibly incorrectly encoded\"); set the JSON flag \
         INVALID_UTF8_SUBSTITUTE or INVALID_UTF8_IGNORE to accept such text"
    );
    let key = Value::Map(vec![(b"k\xc3".to_vec(), Value::Int(1))]);
    let err = encode(JsonFlags::NONE, 16, &key).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot encode the key `k\u{fffd}` as JSON: invalid UTF-8 at byte 1")
    );
    let err = encode(JsonFlags::NONE, 16, &Value::Float(f64::NAN)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot encode the top-level value as JSON: the float NaN is not finite (PHP: \"Inf and \
         NaN cannot be JSON encoded\")"
    );
}

#[test]
fn partial_output_replaces_what_fails() {
    let value = Value::Map(vec![
        (b"\xff".to_vec(), Value::Str(b"\xff".to_vec())),
        (b"inf".to_vec(), Value::Float(f64::INFINITY)),
    ]);
    let serializer = JsonSerializer::new(JsonFlags::PARTIAL_OUTPUT_ON_ERROR, 1).unwrap();
    let (bytes, warning) = serializer.encode_with_warning(&value).unwrap();
    assert_eq!(text(bytes), r#"{"":null,"inf":0}"#);
    assert_eq!(
        warning.map(|w| w.php_message()),
        Some("Inf and NaN cannot be JSON encoded")
    );
    // Without it the last error recorded is the one reported.
    let err = encode(
        JsonFlags::NONE,
        1,
        &Value::List(vec![Value::Float(f64::INFINITY), Value::List(vec![])]),
    )
    .unwrap_err();
    assert_eq!(err.php_message(), "Maximum stack depth exceeded");
}

#[test]
fn encode_into_leaves_the_buffer_alone_on_error() {
    let mut out = b"prefix".to_vec();
    let serializer = JsonSerializer::default();
    assert!(
        serializer
            .encode_into(&Value::Str(b"\xff".to_vec()), &mut out)
            .is_err()
    );
    assert_eq!(out, b"prefix");
    serializer
        .encode_into(&Value::Bool(true), &mut out)
        .unwrap();
    assert_eq!(out, b"prefixtrue");
}
