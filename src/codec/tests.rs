//! The record pipeline against the seed specification's vectors, and the
//! opt-in fields.

use super::*;
use crate::codec::csv::CsvSerializer;
use crate::codec::json::JsonSerializer;
use crate::source::BinlogPosition;

fn event(topic: Option<&str>) -> TicketCreated {
    TicketCreated {
        datetime_complete: "2024-01-02 03:04:05".into(),
        department_id: 1,
        department_name: Some("Support".into()),
        helptopic_id: if topic.is_some() { 2 } else { 0 },
        helptopic_label: topic.map(Into::into),
        ticket_id: 9,
        ticket_number: "123456".into(),
        source: "Web".into(),
        user_id: 3,
        position: BinlogPosition::new("b.000001", 400),
        gtid: Some("0-1-77".into()),
        timestamp: 1_704_164_645,
        row_index: 0,
        ordinal: 0,
    }
}

fn kinesis(encoder: Encoder, serializer: Serializer) -> RecordKind {
    RecordKind::Kinesis {
        stream_name: "osticket-tickets".into(),
        partition_key: PartitionKey::Constant(record::DEFAULT_PARTITION_KEY.into()),
        encoder,
        serializer,
    }
}

fn encoder(data: Serializer, record: RecordKind) -> RecordEncoder {
    RecordEncoder::new(OutputConfig {
        helpdesk_code: "BFX".into(),
        data,
        record,
        extra_fields: vec![],
    })
}

fn body(encoder: &RecordEncoder, event: &TicketCreated) -> String {
    String::from_utf8(encoder.encode(event, 1).unwrap().body).unwrap()
}

const DATA_A: &str = r#"{"helpdesk_code":"BFX","datetime_complete":"2024-01-02 03:04:05","department_id":1,"department_name":"Support","helptopic_id":2,"helptopic_label":"Billing"}"#;

#[test]
fn vector_a_json_base64_json_record() {
    let e = encoder(
        Serializer::default(),
        kinesis(Encoder::Base64, Serializer::default()),
    );
    let stages = e.stages(&event(Some("Billing")), 1).unwrap();
    assert_eq!(String::from_utf8(stages.data).unwrap(), DATA_A);
    let body = String::from_utf8(stages.body).unwrap();
    assert_eq!(body.len(), 284);
    assert!(
        body.starts_with(r#"{"Data":"eyJoZWxwZGVza19jb2RlIjoiQkZYIiwi"#),
        "{body}"
    );
    assert!(
        body.ends_with(r#"","StreamName":"osticket-tickets","PartitionKey":"\\KinesisRecord"}"#)
    );
}

#[test]
fn vector_b2_csv_base64_csv_record() {
    let csv = || Serializer::Csv(CsvSerializer::default());
    let e = encoder(csv(), kinesis(Encoder::Base64, csv()));
    assert_eq!(
        body(&e, &event(Some("Billing"))),
        "QkZYLCIyMDI0LTAxLTAyIDAzOjA0OjA1IiwxLFN1cHBvcnQsMixCaWxsaW5nCg==,osticket-tickets,\"\\KinesisRecord\"\n"
    );
}

#[test]
fn plain_record_is_the_data_alone() {
    let e = encoder(Serializer::default(), RecordKind::Plain);
    assert_eq!(body(&e, &event(Some("Billing"))), DATA_A);
    let no_topic = body(&e, &event(None));
    assert!(
        no_topic.ends_with(r#""helptopic_id":0,"helptopic_label":null}"#),
        "{no_topic}"
    );
}

#[test]
fn extra_fields_follow_the_six_under_their_names() {
    let mut e = encoder(
        Serializer::Json(JsonSerializer::default()),
        RecordKind::Plain,
    );
    e.config.extra_fields = vec![
        (ExtraField::TicketId, "ticket_id".into()),
        (ExtraField::EventId, "id".into()),
        (ExtraField::Sequence, "sequence".into()),
        (ExtraField::CreatedAt, "created_at".into()),
    ];
    let text = body(&e, &event(Some("Billing")));
    let tail = r#""helptopic_label":"Billing","ticket_id":9,"id":"0-1-77#0","sequence":1,"created_at":"2024-01-02T03:04:05Z"}"#;
    assert!(text.ends_with(tail), "{text}");
}

#[test]
fn partition_key_from_a_field() {
    let mut record = kinesis(Encoder::Base64, Serializer::default());
    if let RecordKind::Kinesis { partition_key, .. } = &mut record {
        *partition_key = PartitionKey::Field(ExtraField::TicketId);
    }
    let text = body(&encoder(Serializer::default(), record), &event(None));
    assert!(
        text.ends_with(r#""PartitionKey":9}"#),
        "NUMERIC_CHECK applies: {text}"
    );
}

#[test]
fn serializer_failure_names_the_ticket_and_the_reason() {
    let invalid = Value::map([("x", Value::Str(vec![0xff]))]);
    let source = SerializeError::from(JsonSerializer::default().encode(&invalid).unwrap_err());
    let error = CodecError::Serialize {
        ticket_id: 42,
        stage: "data serializer",
        source,
    };
    let message = error.to_string();
    assert!(
        message.contains("ticket 42") && message.contains("UTF-8"),
        "{message}"
    );
}
