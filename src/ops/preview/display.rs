//! How `preview` shows bytes: the event map as indented JSON, and each
//! stage's bytes as text when they are plain text, else escaped and as a
//! hex dump. Plain text is UTF-8 without control characters and without
//! U+2028/U+2029, which a terminal would hide or act on.

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::codec::value::Value;

/// The event map as indented JSON, one field a line, followed by a note for
/// each string that is not UTF-8 (shown with U+FFFD in the JSON).
pub(super) fn event_json(value: &Value) -> String {
    let Value::Map(fields) = value else {
        return format!("{}\n", compact_json(value));
    };
    let mut text = String::from("{\n");
    for (i, (key, field)) in fields.iter().enumerate() {
        let comma = if i + 1 < fields.len() { "," } else { "" };
        let key = json_string(key);
        let _ = writeln!(text, "  {key}: {}{comma}", compact_json(field));
    }
    text.push_str("}\n");
    for (key, field) in fields {
        if let Value::Str(bytes) = field
            && std::str::from_utf8(bytes).is_err()
        {
            let _ = writeln!(
                text,
                "note: `{}` is not UTF-8 (bytes {}); shown above with U+FFFD",
                String::from_utf8_lossy(key),
                hex(bytes)
            );
        }
    }
    text
}

fn compact_json(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or(f.to_string(), |n| n.to_string())
        }
        Value::Str(bytes) => json_string(bytes),
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(compact_json).collect();
            format!("[{}]", items.join(","))
        }
        Value::Map(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{}:{}", json_string(k), compact_json(v)))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
    }
}

fn json_string(bytes: &[u8]) -> String {
    serde_json::to_string(&String::from_utf8_lossy(bytes)).unwrap_or_default()
}

/// Writes `bytes` under `label`: as text when they are plain text, else
/// escaped and as a hex dump.
pub(super) fn write_bytes(out: &mut impl Write, label: &str, bytes: &[u8]) -> io::Result<()> {
    let count = bytes.len();
    match plain_text(bytes) {
        Some(text) => writeln!(out, "\n{label}, {count} bytes:\n{text}"),
        None => {
            writeln!(
                out,
                "\n{label}, {count} bytes, not plain text: escaped (\\n \\r \\t \\0 \\u{{..}} \
                 \\xNN, a backslash doubled), then in hex:"
            )?;
            writeln!(out, "{}", escape(bytes))?;
            out.write_all(hex_dump(bytes).as_bytes())
        }
    }
}

/// The bytes as text when they are UTF-8 without control characters or
/// line separators, which a terminal would hide or act on.
fn plain_text(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    let visible = text
        .chars()
        .all(|c| !c.is_control() && c != '\u{2028}' && c != '\u{2029}');
    visible.then_some(text)
}

/// Rust-style escapes for what [`plain_text`] refuses; `\xNN` for each byte
/// of invalid UTF-8.
pub(super) fn escape(bytes: &[u8]) -> String {
    let mut text = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => text.push_str("\\\\"),
                '\n' => text.push_str("\\n"),
                '\r' => text.push_str("\\r"),
                '\t' => text.push_str("\\t"),
                '\0' => text.push_str("\\0"),
                c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                    let _ = write!(text, "\\u{{{:x}}}", u32::from(c));
                }
                c => text.push(c),
            }
        }
        for byte in chunk.invalid() {
            let _ = write!(text, "\\x{byte:02x}");
        }
    }
    text
}

/// Sixteen bytes a line: offset, hex in two groups of eight, ASCII.
fn hex_dump(bytes: &[u8]) -> String {
    let mut text = String::new();
    for (line, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(text, "{:08x} ", line * 16);
        for i in 0..16 {
            let gap = if i == 8 { "  " } else { " " };
            match chunk.get(i) {
                Some(byte) => {
                    let _ = write!(text, "{gap}{byte:02x}");
                }
                None => text.push_str(&format!("{gap}  ")),
            }
        }
        let ascii: String = chunk
            .iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    char::from(b)
                } else {
                    '.'
                }
            })
            .collect();
        let _ = writeln!(text, "  |{ascii}|");
    }
    text
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
