//! The record: what the plugin wraps around the encoded data before the
//! record serializer turns it into the job body.
//!
//! The plugin has one kind of record, the "Amazon Kinesis record": an
//! ordered map of three strings, always in this order:
//!
//! 1. `Data`: the encoder's output (Base16 or Base64 text, or the UTF-8
//!    converted data bytes);
//! 2. `StreamName`: the configured stream name;
//! 3. `PartitionKey`: by default [`DEFAULT_PARTITION_KEY`], the 14 bytes
//!    `\KinesisRecord` (a backslash and the word, not an escape sequence).
//!
//! The record is a [`Value::Map`], so any record serializer takes it: JSON
//! and NDJSON write an object with these keys, CSV writes the three values
//! as one row (keys never appear). The serialized record is the whole body,
//! with no envelope around it.

use super::value::Value;

/// The partition key the plugin writes unless configured otherwise: a
/// backslash followed by `KinesisRecord`, 14 bytes.
pub const DEFAULT_PARTITION_KEY: &str = "\\KinesisRecord";

/// The Kinesis record around `data`, the encoder's output, in the plugin's
/// key order: `Data`, `StreamName`, `PartitionKey`.
pub fn kinesis_record(data: Vec<u8>, stream_name: &str, partition_key: &str) -> Value {
    Value::Map(vec![
        (b"Data".to_vec(), Value::Str(data)),
        (b"StreamName".to_vec(), Value::str(stream_name)),
        (b"PartitionKey".to_vec(), Value::str(partition_key)),
    ])
}

#[cfg(test)]
mod tests {
    //! The seed specification's vectors: helpdesk code `BFX`, stream
    //! `osticket-tickets`, every option at its default; department 1
    //! `Support`, topic 2 `Billing`, created `2024-01-02 03:04:05`.

    use super::*;
    use crate::codec::csv::CsvSerializer;
    use crate::codec::encoding::Encoder;
    use crate::codec::json::{JsonSerializer, NdjsonSerializer, NdjsonTerminator};

    const STREAM: &str = "osticket-tickets";

    /// The six event fields, in the plugin's order.
    fn event(department: &str, topic: Option<&str>) -> Value {
        Value::map([
            ("helpdesk_code", Value::str("BFX")),
            ("datetime_complete", Value::str("2024-01-02 03:04:05")),
            ("department_id", Value::Int(1)),
            ("department_name", Value::str(department)),
            (
                "helptopic_id",
                Value::Int(if topic.is_some() { 2 } else { 0 }),
            ),
            ("helptopic_label", Value::opt_str(topic)),
        ])
    }

    fn ticket() -> Value {
        event("Support", Some("Billing"))
    }

    fn csv_data() -> Vec<u8> {
        CsvSerializer::default().encode_row(&ticket()).unwrap()
    }

    fn json_data() -> Vec<u8> {
        JsonSerializer::default().encode(&ticket()).unwrap()
    }

    fn record(encoder: Encoder, data: &[u8]) -> Value {
        kinesis_record(encoder.encode(data), STREAM, DEFAULT_PARTITION_KEY)
    }

    fn csv_body(record: &Value) -> String {
        String::from_utf8(CsvSerializer::default().encode_row(record).unwrap()).unwrap()
    }

    fn json_body(record: &Value) -> String {
        String::from_utf8(JsonSerializer::default().encode(record).unwrap()).unwrap()
    }

    const JSON_DATA: &str = concat!(
        r#"{"helpdesk_code":"BFX","datetime_complete":"2024-01-02 03:04:05","#,
        r#""department_id":1,"department_name":"Support","helptopic_id":2,"#,
        r#""helptopic_label":"Billing"}"#,
    );

    const JSON_DATA_BASE64: &str = concat!(
        "eyJoZWxwZGVza19jb2RlIjoiQkZYIiwiZGF0ZXRpbWVfY29tcGxldGUiOiIyMDI0LTAxLTAy",
        "IDAzOjA0OjA1IiwiZGVwYXJ0bWVudF9pZCI6MSwiZGVwYXJ0bWVudF9uYW1lIjoiU3VwcG9y",
        "dCIsImhlbHB0b3BpY19pZCI6MiwiaGVscHRvcGljX2xhYmVsIjoiQmlsbGluZyJ9",
    );

    /// A JSON record's text after `Data`'s value.
    const JSON_RECORD_TAIL: &str =
        r#","StreamName":"osticket-tickets","PartitionKey":"\\KinesisRecord"}"#;

    /// The JSON record holding `data`, already escaped.
    fn json_record(data: &str) -> String {
        format!(r#"{{"Data":"{data}"{JSON_RECORD_TAIL}"#)
    }

    const CSV_DATA_BASE64: &str =
        "QkZYLCIyMDI0LTAxLTAyIDAzOjA0OjA1IiwxLFN1cHBvcnQsMixCaWxsaW5nCg==";

    #[test]
    fn keys_in_plugin_order_and_the_partition_key_is_14_bytes() {
        let Value::Map(entries) = kinesis_record(b"x".to_vec(), STREAM, DEFAULT_PARTITION_KEY)
        else {
            panic!("a record is a map");
        };
        let keys: Vec<&[u8]> = entries.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(keys, [&b"Data"[..], b"StreamName", b"PartitionKey"]);
        assert_eq!(DEFAULT_PARTITION_KEY.len(), 14);
        assert!(DEFAULT_PARTITION_KEY.starts_with('\\'));
    }

    #[test]
    fn csv_data_is_vector_b() {
        let data = csv_data();
        assert_eq!(data, b"BFX,\"2024-01-02 03:04:05\",1,Support,2,Billing\n");
        assert_eq!(data.len(), 46);
    }

    #[test]
    fn csv_data_base64_csv_record_is_vector_b2() {
        let body = csv_body(&record(Encoder::Base64, &csv_data()));
        assert_eq!(
            body,
            format!("{CSV_DATA_BASE64},osticket-tickets,\"\\KinesisRecord\"\n")
        );
        assert_eq!(body.len(), 99);
    }

    #[test]
    fn csv_data_base64_json_record_is_vector_b1() {
        let body = json_body(&record(Encoder::Base64, &csv_data()));
        let expected = json_record(CSV_DATA_BASE64);
        assert_eq!(body, expected);
        assert_eq!(body.len(), 140);
    }

    #[test]
    fn csv_data_utf8_json_record_is_vector_b3() {
        let utf8 = Encoder::parse("utf-8").unwrap();
        let body = json_body(&record(utf8, &csv_data()));
        let expected = concat!(
            r#"{"Data":"BFX,\"2024-01-02 03:04:05\",1,Support,2,Billing\n","#,
            r#""StreamName":"osticket-tickets","PartitionKey":"\\KinesisRecord"}"#,
        );
        assert_eq!(body, expected);
        assert_eq!(body.len(), 125);
    }

    #[test]
    fn json_data_base64_json_record_is_vector_a() {
        assert_eq!(json_data(), JSON_DATA.as_bytes());
        assert_eq!(JSON_DATA.len(), 156);
        let body = json_body(&record(Encoder::Base64, &json_data()));
        let expected = json_record(JSON_DATA_BASE64);
        assert_eq!(body, expected);
        assert_eq!(body.len(), 284);
    }

    #[test]
    fn base16_and_base64_of_the_json_data() {
        let hex = Encoder::Base16.encode(JSON_DATA.as_bytes());
        assert!(hex.starts_with(b"7b2268656c706465736b5f636f6465"));
        assert_eq!(hex.len(), 312);
        assert_eq!(
            Encoder::Base64.encode(JSON_DATA.as_bytes()),
            JSON_DATA_BASE64.as_bytes()
        );
    }

    #[test]
    fn json_data_base16_json_record_is_388_bytes() {
        let body = json_body(&record(Encoder::Base16, &json_data()));
        assert!(
            body.starts_with(r#"{"Data":"7b2268656c706465736b5f636f6465"#),
            "{body}"
        );
        assert_eq!(body.len(), 388);
    }

    #[test]
    fn ndjson_data_base64_json_record_is_vector_c1() {
        let ndjson = NdjsonSerializer::new(JsonSerializer::default(), NdjsonTerminator::LineFeed);
        let data = ndjson.encode(&ticket()).unwrap();
        let body = json_body(&record(Encoder::Base64, &data));
        assert!(body.contains(r#"J9Cg==","StreamName""#), "{body}");
        assert_eq!(body.len(), 288);
    }

    #[test]
    fn ndjson_data_utf8_ndjson_record_is_vector_c2() {
        let ndjson = NdjsonSerializer::new(JsonSerializer::default(), NdjsonTerminator::LineFeed);
        let data = ndjson.encode(&ticket()).unwrap();
        let utf8 = Encoder::parse("utf-8").unwrap();
        let body = String::from_utf8(ndjson.encode(&record(utf8, &data)).unwrap()).unwrap();
        let escaped = JSON_DATA.replace('"', "\\\"");
        let expected = json_record(&format!("{escaped}\\n")) + "\n";
        assert_eq!(body, expected);
        assert_eq!(body.len(), 255);
    }

    #[test]
    fn csv_variants_of_vector_d() {
        let no_topic = CsvSerializer::default()
            .encode_row(&event("Support", None))
            .unwrap();
        assert!(no_topic.ends_with(b",Support,0,\n"));
        let quoted = event("Parent / Child \"x\" é", Some("2024"));
        let row = String::from_utf8(CsvSerializer::default().encode_row(&quoted).unwrap()).unwrap();
        assert!(
            row.ends_with(",\"Parent / Child \"\"x\"\" é\",2,2024\n"),
            "{row}"
        );
    }
}
