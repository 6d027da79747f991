//! The `[tickets_creation]` section: the plugin's options for its one use
//! case, grouped as a user thinks of them (the data, the record around it,
//! the extra fields), validated into a [`crate::codec::OutputConfig`].
//!
//! Defaults are the plugin's where it had one (JSON flags 1328, depth 16,
//! NDJSON line feed, CSV `,` `"` `\`, partition key `\KinesisRecord`). The
//! plugin had no default for its choice fields (serializers, record type,
//! encoder: the administrator had to pick); here they default to JSON data,
//! the Kinesis record, Base64 and a JSON record serializer, the
//! combination of the plugin's reference output.
//!
//! Other use cases (ticket updates, ...) would get sections of their own
//! with the same shape.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{ConfigError, invalid};
use crate::codec::csv::{CsvOptions, CsvSerializer};
use crate::codec::encoding::{Encoder, SourceEncoding};
use crate::codec::extra::ExtraField;
use crate::codec::json::{JsonFlags, JsonSerializer, NdjsonSerializer, NdjsonTerminator};
use crate::codec::record::DEFAULT_PARTITION_KEY;
use crate::codec::{OutputConfig, PartitionKey, RecordKind, Serializer};

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTicketsCreation {
    enabled: Option<bool>,
    data_serializer: Option<String>,
    #[serde(default)]
    data: RawSerializerOptions,
    record: Option<String>,
    stream_name: Option<String>,
    partition_key: Option<String>,
    partition_key_field: Option<String>,
    encoder: Option<String>,
    source_encoding: Option<String>,
    record_serializer: Option<String>,
    #[serde(default)]
    record_options: RawSerializerOptions,
    #[serde(default)]
    extra_fields: Vec<String>,
    #[serde(default)]
    field_names: BTreeMap<String, String>,
}

/// JSON flags as PHP's number, a `|`-joined text or a list of names.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum RawFlags {
    Number(u64),
    Text(String),
    Names(Vec<String>),
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSerializerOptions {
    json_flags: Option<RawFlags>,
    json_depth: Option<u64>,
    ndjson_terminator: Option<String>,
    csv_separator: Option<String>,
    csv_enclosure: Option<String>,
    csv_escape: Option<String>,
}

/// Whether the use case runs, and how its records look.
pub(super) fn validate_tickets_creation(
    raw: RawTicketsCreation,
    helpdesk_code: String,
) -> Result<(bool, OutputConfig), ConfigError> {
    let enabled = raw.enabled.unwrap_or(true);
    let data = serializer(
        "tickets_creation.data_serializer",
        raw.data_serializer.as_deref().unwrap_or("json"),
        raw.data.clone(),
        "tickets_creation.data",
    )?;

    let record = match raw.record.as_deref().unwrap_or("kinesis") {
        "plain" => RecordKind::Plain,
        "kinesis" => kinesis_record(&raw)?,
        other => {
            return Err(invalid(
                "tickets_creation.record",
                other,
                "`kinesis` (the plugin's Amazon Kinesis record) or `plain` (the data alone)",
            ));
        }
    };
    let extra_fields = extra_fields(&raw.extra_fields, &raw.field_names)?;
    let output = OutputConfig {
        helpdesk_code,
        data,
        record,
        extra_fields,
    };
    Ok((enabled, output))
}

fn kinesis_record(raw: &RawTicketsCreation) -> Result<RecordKind, ConfigError> {
    let stream_name = raw.stream_name.clone().ok_or_else(|| {
        invalid(
            "tickets_creation.stream_name",
            "(missing)",
            "the Kinesis stream name the plugin used (1 to 128 letters, digits, `-`, `_`, \
             `.`), or set tickets_creation.record = \"plain\"",
        )
    })?;
    let name_ok = (1..=128).contains(&stream_name.len())
        && stream_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !name_ok {
        return Err(invalid(
            "tickets_creation.stream_name",
            &stream_name,
            "1 to 128 characters: letters, digits, `-`, `_`, `.`",
        ));
    }

    let partition_key = match (&raw.partition_key, &raw.partition_key_field) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "tickets_creation.partition_key_field",
                raw.partition_key_field.as_deref().unwrap_or_default(),
                "either partition_key (a constant) or partition_key_field, not both",
            ));
        }
        (_, Some(field)) => PartitionKey::Field(field.parse().map_err(|allowed: String| {
            invalid("tickets_creation.partition_key_field", field, allowed)
        })?),
        (Some(key), None) => PartitionKey::Constant(key.clone()),
        (None, None) => PartitionKey::Constant(DEFAULT_PARTITION_KEY.to_owned()),
    };

    let encoder = match raw.encoder.as_deref().unwrap_or("base64") {
        name if name.eq_ignore_ascii_case("utf8") || name.eq_ignore_ascii_case("utf-8") => {
            let from = raw.source_encoding.as_deref().unwrap_or("UTF-8");
            let from = SourceEncoding::parse(from)
                .map_err(|e| invalid("tickets_creation.source_encoding", from, e.to_string()))?;
            Encoder::Utf8 { from }
        }
        name => Encoder::parse(name).map_err(|_| {
            invalid(
                "tickets_creation.encoder",
                name,
                "`utf8`, `base16` (hex) or `base64`",
            )
        })?,
    };

    let serializer = serializer(
        "tickets_creation.record_serializer",
        raw.record_serializer.as_deref().unwrap_or("json"),
        raw.record_options.clone(),
        "tickets_creation.record_options",
    )?;
    Ok(RecordKind::Kinesis {
        stream_name,
        partition_key,
        encoder,
        serializer,
    })
}

/// One serializer from its name and its options table.
fn serializer(
    key: &'static str,
    name: &str,
    options: RawSerializerOptions,
    table: &'static str,
) -> Result<Serializer, ConfigError> {
    let json = || -> Result<JsonSerializer, ConfigError> {
        let flags = match &options.json_flags {
            None => JsonFlags::PLUGIN_DEFAULT,
            Some(RawFlags::Number(n)) => u32::try_from(*n)
                .ok()
                .and_then(|n| JsonFlags::from_bits(n).ok())
                .ok_or_else(|| invalid(flags_key(table), n, flags_help()))?,
            Some(RawFlags::Text(text)) => {
                text.parse()
                    .map_err(|e: crate::codec::json::JsonConfigError| {
                        invalid(flags_key(table), text, e.to_string())
                    })?
            }
            Some(RawFlags::Names(names)) => JsonFlags::from_names(names)
                .map_err(|e| invalid(flags_key(table), names.join("|"), e.to_string()))?,
        };
        let depth = options
            .json_depth
            .unwrap_or(u64::from(JsonSerializer::DEFAULT_DEPTH));
        let depth_ok = u32::try_from(depth)
            .ok()
            .filter(|d| *d >= 1 && *d <= JsonSerializer::MAX_DEPTH);
        let depth = depth_ok.ok_or_else(|| {
            invalid(
                depth_key(table),
                depth,
                "from 1 to 2147483647 (the event needs 1)",
            )
        })?;
        JsonSerializer::new(flags, depth)
            .map_err(|e| invalid(depth_key(table), depth, e.to_string()))
    };

    match name {
        "json" => Ok(Serializer::Json(json()?)),
        "ndjson" => {
            let text = options.ndjson_terminator.as_deref().unwrap_or("lf");
            let terminator: NdjsonTerminator =
                text.parse()
                    .map_err(|e: crate::codec::json::JsonConfigError| {
                        invalid(terminator_key(table), text, e.to_string())
                    })?;
            Ok(Serializer::Ndjson(NdjsonSerializer::new(
                json()?,
                terminator,
            )))
        }
        "csv" => {
            let separator = options.csv_separator.as_deref().unwrap_or(",");
            let enclosure = options.csv_enclosure.as_deref().unwrap_or("\"");
            let escape = options.csv_escape.as_deref().unwrap_or("\\");
            let csv = CsvOptions::new(separator, enclosure, escape).map_err(|e| {
                invalid(
                    csv_key(table),
                    format!("{separator} {enclosure} {escape}"),
                    e.to_string(),
                )
            })?;
            Ok(Serializer::Csv(CsvSerializer::new(csv)))
        }
        other => Err(invalid(key, other, "`json`, `ndjson` or `csv`")),
    }
}

fn flags_help() -> &'static str {
    "PHP's json_encode flags as a number (1328 is the plugin's default), a `|`-joined text \
     such as \"FORCE_OBJECT|NUMERIC_CHECK\", or a list of names"
}

fn flags_key(table: &'static str) -> &'static str {
    if table.ends_with("data") {
        "tickets_creation.data.json_flags"
    } else {
        "tickets_creation.record_options.json_flags"
    }
}

fn depth_key(table: &'static str) -> &'static str {
    if table.ends_with("data") {
        "tickets_creation.data.json_depth"
    } else {
        "tickets_creation.record_options.json_depth"
    }
}

fn terminator_key(table: &'static str) -> &'static str {
    if table.ends_with("data") {
        "tickets_creation.data.ndjson_terminator"
    } else {
        "tickets_creation.record_options.ndjson_terminator"
    }
}

fn csv_key(table: &'static str) -> &'static str {
    if table.ends_with("data") {
        "tickets_creation.data.csv_*"
    } else {
        "tickets_creation.record_options.csv_*"
    }
}

/// The extra fields in order, each with its configured name.
fn extra_fields(
    names: &[String],
    renames: &BTreeMap<String, String>,
) -> Result<Vec<(ExtraField, String)>, ConfigError> {
    for key in renames.keys() {
        key.parse::<ExtraField>().map_err(|allowed| {
            invalid(
                "tickets_creation.field_names",
                key,
                format!("keys are {allowed}"),
            )
        })?;
    }
    let mut fields: Vec<(ExtraField, String)> = Vec::new();
    for name in names {
        let field: ExtraField = name
            .parse()
            .map_err(|allowed: String| invalid("tickets_creation.extra_fields", name, allowed))?;
        let written = renames.get(name).cloned().unwrap_or_else(|| name.clone());
        let clash = [
            "helpdesk_code",
            "datetime_complete",
            "department_id",
            "department_name",
            "helptopic_id",
            "helptopic_label",
        ]
        .contains(&written.as_str())
            || fields.iter().any(|(f, w)| *f == field || *w == written);
        if clash || written.is_empty() {
            return Err(invalid(
                "tickets_creation.extra_fields",
                name,
                "each field once, under a name that is not empty and not one of the six \
                 plugin fields or another extra field (see tickets_creation.field_names)",
            ));
        }
        fields.push((field, written));
    }
    Ok(fields)
}
