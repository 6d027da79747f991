//! `preview`: one sample ticket through the configured codec, each stage
//! printed, so an operator sees the exact bytes before consumers switch from
//! the plugin. Nothing connects to a database: the ticket comes from the
//! command line, with the plugin's reference ticket as default (department 1
//! `Support`, topic 2 `Billing`, created `2024-01-02 03:04:05`, ticket 1,
//! number `000001`, source `Web`).
//!
//! Output, in order: the event map as JSON (for reading; it is not the data
//! serializer's output), the data serializer's bytes, and the record body as
//! a sink sends it. Bytes that are plain text are printed as they are;
//! anything else (control bytes such as NUL, CR or a trailing LF, the
//! invisible line separators U+2028/U+2029, invalid UTF-8) is printed
//! escaped and as a hex dump. The byte count is given either way.
//!
//! A department name given as hex may be invalid UTF-8, which
//! [`TicketCreated`]'s strings cannot hold: those bytes are put into the
//! event map directly ([`RecordEncoder::stages_of_value`]).

use std::io::{self, Write};

use crate::assembly::TicketCreated;
use crate::codec::value::Value;
use crate::codec::{CodecError, RecordEncoder, RecordKind, Serializer};
use crate::source::BinlogPosition;
use display::{event_json, write_bytes};

mod display;

/// The ticket `preview` encodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleTicket {
    /// `dept_id`.
    pub department_id: u64,
    /// The department's full name as bytes (any bytes, so that invalid
    /// UTF-8 can be tried); `None` for a department row that does not exist.
    pub department_name: Option<Vec<u8>>,
    /// `topic_id`; 0 for no help topic.
    pub topic_id: u64,
    /// The help topic's full name; `None` for no topic.
    pub topic_label: Option<String>,
    /// `created`, `YYYY-MM-DD HH:MM:SS`.
    pub created: String,
    /// `ticket_id`.
    pub ticket_id: u64,
    /// `number`.
    pub number: String,
    /// `source` (`Web`, `Email`, ...).
    pub source: String,
    /// `user_id`.
    pub user_id: u64,
    /// The GTID the `event_id` extra field is built from.
    pub gtid: String,
}

impl Default for SampleTicket {
    /// The plugin's reference ticket.
    fn default() -> Self {
        Self {
            department_id: 1,
            department_name: Some(b"Support".to_vec()),
            topic_id: 2,
            topic_label: Some("Billing".to_owned()),
            created: "2024-01-02 03:04:05".to_owned(),
            ticket_id: 1,
            number: "000001".to_owned(),
            source: "Web".to_owned(),
            user_id: 1,
            gtid: "0-1-1".to_owned(),
        }
    }
}

impl SampleTicket {
    /// The event `run` would build for this ticket. Its binlog time is
    /// `created` read as UTC (the `created_at` extra field shows it); a
    /// department name that is not UTF-8 appears here with U+FFFD.
    pub fn event(&self) -> TicketCreated {
        TicketCreated {
            datetime_complete: self.created.clone(),
            department_id: self.department_id,
            department_name: self
                .department_name
                .as_deref()
                .map(|name| String::from_utf8_lossy(name).into_owned()),
            helptopic_id: self.topic_id,
            helptopic_label: self.topic_label.clone(),
            ticket_id: self.ticket_id,
            ticket_number: self.number.clone(),
            source: self.source.clone(),
            user_id: self.user_id,
            position: BinlogPosition::new("preview-bin.000001", 4),
            gtid: Some(self.gtid.clone()),
            timestamp: parse_created(&self.created).unwrap_or_default(),
            row_index: 0,
            ordinal: 0,
        }
    }
}

/// Why the preview stopped.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// The configuration cannot serialize the sample ticket.
    #[error("{source}; that stage is configured by {keys}")]
    Serialize {
        /// The codec's error, naming the ticket, the stage and the reason.
        source: CodecError,
        /// The configuration keys of the failing stage.
        keys: &'static str,
    },
    /// Standard output could not be written.
    #[error("cannot write the preview: {0}")]
    Io(#[from] io::Error),
}

/// Writes every stage of `sample`'s record, the first emitted (sequence 1),
/// to `out`; the event first, so that it is shown even when a serializer
/// fails.
///
/// # Errors
///
/// [`PreviewError::Serialize`] when a serializer rejects the ticket (the
/// message names the ticket, the stage, the reason and the keys to change);
/// [`PreviewError::Io`] when `out` fails.
pub fn write_preview(
    out: &mut impl Write,
    encoder: &RecordEncoder,
    enabled: bool,
    sample: &SampleTicket,
) -> Result<(), PreviewError> {
    let event = sample.event();
    writeln!(
        out,
        "preview of ticket {} (number {}) as record 1; no database is read",
        event.ticket_id, event.ticket_number
    )?;
    if !enabled {
        writeln!(
            out,
            "note: tickets_creation.enabled = false: `run` emits no record until it is true"
        )?;
    }

    // The event map, with the department name's own bytes.
    let mut value = encoder.event_value(&event, 1);
    if let (Value::Map(fields), Some(name)) = (&mut value, &sample.department_name) {
        for (key, field) in fields.iter_mut() {
            if key == b"department_name" {
                *field = Value::Str(name.clone());
            }
        }
    }
    writeln!(out, "\nevent (the map the data serializer receives):")?;
    out.write_all(event_json(&value).as_bytes())?;

    let stages = encoder
        .stages_of_value(value, &event, 1)
        .map_err(|source| {
            let CodecError::Serialize { stage, .. } = &source;
            let keys = if *stage == "data serializer" {
                "tickets_creation.data_serializer and [tickets_creation.data]"
            } else {
                "tickets_creation.record_serializer and [tickets_creation.record_options]"
            };
            PreviewError::Serialize { source, keys }
        })?;
    let config = encoder.config();
    let data_label = format!("data ({})", describe_serializer(&config.data));
    write_bytes(out, &data_label, &stages.data)?;
    let body_label = match &config.record {
        RecordKind::Plain => "body (plain record: the data alone)".to_owned(),
        RecordKind::Kinesis {
            stream_name,
            encoder,
            serializer,
            ..
        } => format!(
            "body (Kinesis record for stream {stream_name}, {} encoder, record serializer {})",
            encoder.name(),
            describe_serializer(serializer)
        ),
    };
    write_bytes(out, &body_label, &stages.body)?;
    Ok(())
}

/// A serializer and its options, as the configuration names them.
fn describe_serializer(serializer: &Serializer) -> String {
    match serializer {
        Serializer::Json(json) => {
            format!(
                "json, flags {}, depth {}",
                json.flags().bits(),
                json.depth()
            )
        }
        Serializer::Ndjson(ndjson) => format!(
            "ndjson, flags {}, depth {}, terminator {}",
            ndjson.json().flags().bits(),
            ndjson.json().depth(),
            ndjson.terminator()
        ),
        Serializer::Csv(csv) => {
            let options = csv.options();
            let escape = options
                .escape()
                .map_or("none".to_owned(), |b| format!("{:?}", char::from(b)));
            format!(
                "csv, separator {:?}, enclosure {:?}, escape {escape}",
                char::from(options.separator()),
                char::from(options.enclosure()),
            )
        }
    }
}

/// Parses hex digits (white space ignored) into bytes, for
/// `--department-name-hex`.
///
/// # Errors
///
/// What is wrong, for the command line to show.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return Err("an even number of hex digits is needed, two per byte (e.g. 53ff)".into());
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| format!("`{}` is not a hex byte", String::from_utf8_lossy(pair)))
        })
        .collect()
}

/// Checks `YYYY-MM-DD HH:MM:SS` (the shape of osTicket's `created`) and
/// returns the instant it names read as UTC, in seconds since 1970.
///
/// # Errors
///
/// What is wrong, for the command line to show.
pub fn parse_created(text: &str) -> Result<u32, String> {
    let shape = "expected YYYY-MM-DD HH:MM:SS between 1970 and 2105, such as 2024-01-02 03:04:05";
    let Some([year, month, day, hour, minute, second]) = created_fields(text) else {
        return Err(shape.to_owned());
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let valid = (1..=12).contains(&month)
        && (1..=month_days).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    if !valid {
        return Err(shape.to_owned());
    }

    // Howard Hinnant's days-from-civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    u32::try_from(secs).map_err(|_| shape.to_owned())
}

/// The six numbers of `YYYY-MM-DD HH:MM:SS`, when the text has that shape.
fn created_fields(text: &str) -> Option<[i64; 6]> {
    let b = text.as_bytes();
    let shape_ok = b.len() == 19
        && [(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':')]
            .iter()
            .all(|&(i, separator)| b[i] == separator);
    if !shape_ok {
        return None;
    }
    let number = |range: std::ops::Range<usize>| {
        let digits = text.get(range)?;
        digits
            .bytes()
            .all(|d| d.is_ascii_digit())
            .then(|| digits.parse().ok())
            .flatten()
    };
    let [year, month, day, hour, minute, second] =
        [0..4, 5..7, 8..10, 11..13, 14..16, 17..19].map(number);
    Some([year?, month?, day?, hour?, minute?, second?])
}

#[cfg(test)]
mod tests;
