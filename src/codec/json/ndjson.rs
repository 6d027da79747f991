//! NDJSON: the JSON of a [`JsonSerializer`] followed by one terminator.
//!
//! The terminator is framing, kept apart from the serializer: the JSON
//! bytes are the same whichever terminator follows. Names accepted in
//! configuration, in any case, with `-` or a space allowed for `_`:
//!
//! | terminator | short | long | bytes |
//! |---|---|---|---|
//! | null character | `nul` | `null`, `null_character` | `00` |
//! | line feed (default) | `lf` | `line_feed`, `newline` | `0A` |
//! | next line U+0085 | `nel` | `next_line` | `C2 85` |
//! | line separator U+2028 | `ls` | `line_separator` | `E2 80 A8` |
//! | paragraph separator U+2029 | `ps` | `paragraph_separator` | `E2 80 A9` |
//! | carriage return + line feed | `crlf` | `cr_lf`, `carriage_return_line_feed` | `0D 0A` |

use std::fmt;
use std::str::FromStr;

use super::{JsonConfigError, JsonError, JsonSerializer};
use crate::codec::value::Value;

/// What follows each JSON document in NDJSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NdjsonTerminator {
    /// `00`, the null character.
    Null,
    /// `0A`, line feed: the default.
    #[default]
    LineFeed,
    /// `C2 85`, next line (U+0085 in UTF-8).
    NextLine,
    /// `E2 80 A8`, line separator (U+2028 in UTF-8).
    LineSeparator,
    /// `E2 80 A9`, paragraph separator (U+2029 in UTF-8).
    ParagraphSeparator,
    /// `0D 0A`, carriage return and line feed.
    CrLf,
}

impl NdjsonTerminator {
    /// Every terminator, in the plugin's order.
    pub const ALL: [Self; 6] = [
        Self::Null,
        Self::LineFeed,
        Self::NextLine,
        Self::LineSeparator,
        Self::ParagraphSeparator,
        Self::CrLf,
    ];

    /// The bytes written after each document.
    pub const fn bytes(self) -> &'static [u8] {
        match self {
            Self::Null => b"\x00",
            Self::LineFeed => b"\n",
            Self::NextLine => b"\xc2\x85",
            Self::LineSeparator => b"\xe2\x80\xa8",
            Self::ParagraphSeparator => b"\xe2\x80\xa9",
            Self::CrLf => b"\r\n",
        }
    }

    /// The short name, as [`fmt::Display`] prints it and parsing accepts.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Null => "nul",
            Self::LineFeed => "lf",
            Self::NextLine => "nel",
            Self::LineSeparator => "ls",
            Self::ParagraphSeparator => "ps",
            Self::CrLf => "crlf",
        }
    }

    /// The long names also accepted.
    const fn long_names(self) -> &'static [&'static str] {
        match self {
            Self::Null => &["null", "null_character"],
            Self::LineFeed => &["line_feed", "newline"],
            Self::NextLine => &["next_line"],
            Self::LineSeparator => &["line_separator"],
            Self::ParagraphSeparator => &["paragraph_separator"],
            Self::CrLf => &["cr_lf", "carriage_return_line_feed"],
        }
    }
}

/// Parses the names in the module table.
impl FromStr for NdjsonTerminator {
    type Err = JsonConfigError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let normal: String = text
            .trim()
            .chars()
            .map(|c| match c {
                '-' | ' ' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        Self::ALL
            .into_iter()
            .find(|t| t.name() == normal || t.long_names().contains(&normal.as_str()))
            .ok_or_else(|| JsonConfigError::UnknownTerminator {
                name: text.to_owned(),
            })
    }
}

impl fmt::Display for NdjsonTerminator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// JSON documents, each followed by a terminator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NdjsonSerializer {
    json: JsonSerializer,
    terminator: NdjsonTerminator,
}

impl NdjsonSerializer {
    /// NDJSON with this JSON and terminator.
    pub fn new(json: JsonSerializer, terminator: NdjsonTerminator) -> Self {
        Self { json, terminator }
    }

    /// The JSON serializer.
    pub fn json(&self) -> &JsonSerializer {
        &self.json
    }

    /// The terminator.
    pub fn terminator(&self) -> NdjsonTerminator {
        self.terminator
    }

    /// The JSON of `value` and the terminator.
    ///
    /// # Errors
    ///
    /// As [`JsonSerializer::encode`].
    pub fn encode(&self, value: &Value) -> Result<Vec<u8>, JsonError> {
        let mut out = self.json.encode(value)?;
        out.extend_from_slice(self.terminator.bytes());
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminators_have_the_plugin_bytes() {
        let bytes: Vec<&[u8]> = NdjsonTerminator::ALL.iter().map(|t| t.bytes()).collect();
        assert_eq!(
            bytes,
            [
                &b"\0"[..],
                b"\n",
                b"\xc2\x85",
                b"\xe2\x80\xa8",
                b"\xe2\x80\xa9",
                b"\r\n"
            ]
        );
        assert_eq!(NdjsonTerminator::default(), NdjsonTerminator::LineFeed);
    }

    #[test]
    fn names_parse_short_long_and_loosely_written() {
        use NdjsonTerminator::*;
        let cases = [
            ("lf", LineFeed),
            ("Line Feed", LineFeed),
            ("line-feed", LineFeed),
            ("nul", Null),
            ("NULL", Null),
            ("null_character", Null),
            ("nel", NextLine),
            ("next_line", NextLine),
            ("ls", LineSeparator),
            ("line_separator", LineSeparator),
            ("ps", ParagraphSeparator),
            ("paragraph separator", ParagraphSeparator),
            ("crlf", CrLf),
            (" CR-LF ", CrLf),
            ("carriage_return_line_feed", CrLf),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse(), Ok(expected), "{text}");
        }
        for terminator in NdjsonTerminator::ALL {
            assert_eq!(terminator.to_string().parse(), Ok(terminator));
        }
        let err = "cr".parse::<NdjsonTerminator>().unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid NDJSON terminator `cr`: expected one of nul (null), lf"),
            "{err}"
        );
    }
}
