//! Encoders: a serializer's bytes to the text that becomes the record's
//! `Data`, as the plugin's three encoders write it.
//!
//! - [`Encoder::Base16`]: PHP's `bin2hex`, lowercase, high nibble first.
//! - [`Encoder::Base64`]: PHP's `base64_encode`, standard alphabet, `=`
//!   padding, no line breaks.
//! - [`Encoder::Utf8`]: PHP's `mb_convert_encoding($bytes, 'UTF-8', $from)`
//!   from a configured [`SourceEncoding`], with mbstring's default
//!   substitute `?` for input that is invalid in the source encoding.
//!
//! # Source encodings
//!
//! Names are matched as mbstring matches them: ignoring case, and accepting
//! its aliases (`latin1`, `cp1252`, `Shift_JIS`, `GBK`, ...). Each supported
//! source was compared with PHP 8.2 over every byte, every byte pair of the
//! double-byte ones and many random strings, and agrees byte for byte:
//!
//! - UTF-8 (the default): valid input passes unchanged, including a BOM or
//!   U+FFFD; each maximal invalid subpart (a lone continuation byte, a
//!   truncated sequence, an overlong or surrogate prefix) becomes one `?`,
//!   the rule encoding_rs shares with mbstring.
//! - ASCII; ISO-8859-1 (each byte is U+0000..U+00FF: mbstring's Latin-1,
//!   not WHATWG's, which is Windows-1252) and ISO-8859-9 (also built here,
//!   because WHATWG folds it into Windows-1254); ISO-8859-2 to -8, -10, -13
//!   to -16; Windows-1251, -1252, -1254; CP866; KOI8-R; KOI8-U (mbstring's
//!   is the real KOI8-U: 0xAE and 0xBE are box drawing, not Ў/ў). Where
//!   mbstring leaves a byte undefined (0x98 in Windows-1251, seven C1 bytes
//!   in Windows-1254) it is `?`, where WHATWG would pass a control through.
//! - UTF-16 (a leading BOM chooses the byte order and is dropped; big-endian
//!   without one), UTF-16BE, UTF-16LE: an unpaired surrogate is one `?`, and
//!   a dangling last byte is another.
//! - SJIS, CP932, SJIS-win, EUC-KR, UHC, EUC-CN, CP936: see
//!   the `double_byte` module for how mbstring's structure is kept around
//!   encoding_rs's tables.
//!
//! Left out, because encoding_rs cannot reproduce mbstring for them without
//! tables of our own: GB18030 (four-byte sequences on an older table),
//! EUC-JP, eucJP-win and CP51932 (three-byte JIS X 0212 sequences and
//! hundreds of differing cells), BIG-5 and CP950 (hundreds to thousands of
//! differing cells), and the stateful or exotic ones (ISO-2022-*, UTF-7,
//! UTF-32, UCS-2/4, HZ, ArmSCII-8, CP850, the mobile variants). A
//! configuration naming one is rejected at startup rather than converted
//! almost like PHP.

mod double_byte;
mod sources;

use base64::Engine;

use self::sources::{SOURCES, Source};

/// Why an encoder or a source encoding name was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodingError {
    /// The encoder name is not one of the three.
    #[error("unknown encoder {name:?}: the encoders are utf-8, base16 and base64")]
    UnknownEncoder {
        /// The name that was given.
        name: String,
    },
    /// The source encoding is not supported (or not known to mbstring).
    #[error(
        "unknown source encoding {name:?}: supported are {supported} \
         (case-insensitive; mbstring's aliases such as latin1 or cp1252 work too)"
    )]
    UnknownSource {
        /// The name that was given.
        name: String,
        /// The supported names, comma-separated.
        supported: String,
    },
}

/// One of the plugin's encoders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoder {
    /// Conversion to UTF-8, as `mb_convert_encoding`.
    Utf8 {
        /// The encoding the serialized bytes are in.
        from: SourceEncoding,
    },
    /// Lowercase hexadecimal, as `bin2hex`.
    Base16,
    /// Padded standard Base64 on one line, as `base64_encode`.
    Base64,
}

impl Encoder {
    /// The encoder called `name` (`utf-8` or `utf8`, `base16` or `hex`,
    /// `base64`; any case); UTF-8 converts from UTF-8.
    ///
    /// # Errors
    ///
    /// [`EncodingError::UnknownEncoder`] for any other name.
    pub fn parse(name: &str) -> Result<Self, EncodingError> {
        match name.to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Ok(Encoder::Utf8 {
                from: SourceEncoding::default(),
            }),
            "base16" | "hex" => Ok(Encoder::Base16),
            "base64" => Ok(Encoder::Base64),
            _ => Err(EncodingError::UnknownEncoder { name: name.into() }),
        }
    }

    /// The encoder's name as the configuration spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Encoder::Utf8 { .. } => "utf-8",
            Encoder::Base16 => "base16",
            Encoder::Base64 => "base64",
        }
    }

    /// The text for `bytes`. Never fails: invalid input is substituted.
    pub fn encode(&self, bytes: &[u8]) -> Vec<u8> {
        match self {
            Encoder::Utf8 { from } => from.decode_to_utf8(bytes),
            Encoder::Base16 => {
                const DIGITS: &[u8; 16] = b"0123456789abcdef";
                let hex = bytes.iter().flat_map(|b| [b >> 4, b & 0x0F]);
                hex.map(|nibble| DIGITS[usize::from(nibble)]).collect()
            }
            Encoder::Base64 => base64::engine::general_purpose::STANDARD
                .encode(bytes)
                .into_bytes(),
        }
    }
}

/// An encoding the UTF-8 encoder converts from.
#[derive(Debug, Clone, Copy)]
pub struct SourceEncoding {
    source: &'static Source,
}

impl PartialEq for SourceEncoding {
    fn eq(&self, other: &Self) -> bool {
        self.source.name == other.source.name
    }
}

impl Eq for SourceEncoding {}

impl Default for SourceEncoding {
    /// UTF-8.
    fn default() -> Self {
        Self {
            source: &SOURCES[0],
        }
    }
}

impl std::fmt::Display for SourceEncoding {
    /// mbstring's name.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.source.name)
    }
}

impl SourceEncoding {
    /// The source called `name` or one of its aliases, ignoring case.
    ///
    /// # Errors
    ///
    /// [`EncodingError::UnknownSource`] listing the supported names.
    pub fn parse(name: &str) -> Result<Self, EncodingError> {
        let known = |s: &&Source| {
            s.name.eq_ignore_ascii_case(name)
                || s.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
        };
        match SOURCES.iter().find(known) {
            Some(source) => Ok(Self { source }),
            None => Err(EncodingError::UnknownSource {
                name: name.into(),
                supported: SOURCES
                    .iter()
                    .map(|s| s.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// Every supported source, in a fixed order.
    pub fn all() -> impl Iterator<Item = SourceEncoding> {
        SOURCES.iter().map(|source| Self { source })
    }

    /// mbstring's name for this source.
    pub fn name(&self) -> &'static str {
        self.source.name
    }

    /// The other names mbstring accepts for it.
    pub fn aliases(&self) -> &'static [&'static str] {
        self.source.aliases
    }

    /// `input` converted to UTF-8, with `?` for what is invalid.
    pub fn decode_to_utf8(&self, input: &[u8]) -> Vec<u8> {
        self.source.decode_to_utf8(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf8_from(source: &str, input: &[u8]) -> String {
        let bytes = SourceEncoding::parse(source).unwrap().decode_to_utf8(input);
        String::from_utf8(bytes).expect("the output is UTF-8")
    }

    #[test]
    fn base16_is_lowercase_hex_and_base64_is_padded() {
        assert_eq!(Encoder::Base16.encode(b"{\"h\xff"), b"7b2268ff");
        assert_eq!(Encoder::Base64.encode(b""), b"");
        assert_eq!(Encoder::Base64.encode(b"a"), b"YQ==");
        assert_eq!(Encoder::Base64.encode(&[0xfb, 0xff]), b"+/8=");
        assert_eq!(Encoder::Base64.encode(&[0; 60]).len(), 80, "no line breaks");
    }

    #[test]
    fn invalid_utf8_becomes_one_question_mark_per_maximal_subpart() {
        assert_eq!(utf8_from("UTF-8", b"a\x80b"), "a?b");
        assert_eq!(utf8_from("UTF-8", b"\xe2\x82a"), "?a");
        assert_eq!(utf8_from("UTF-8", b"\xf0\x9f\x98"), "?");
        assert_eq!(utf8_from("UTF-8", b"\xc0\xaf"), "??");
        assert_eq!(utf8_from("UTF-8", b"\xed\xa0\x80"), "???");
        assert_eq!(utf8_from("UTF-8", b"\xe2\x28\xa1"), "?(?");
        // Valid input passes unchanged, a BOM and U+FFFD included.
        assert_eq!(
            utf8_from("utf8", "\u{feff}é€😀\u{fffd}".as_bytes()),
            "\u{feff}é€😀\u{fffd}"
        );
    }

    #[test]
    fn single_byte_sources_follow_mbstring_not_whatwg() {
        assert_eq!(utf8_from("latin1", b"\x80\xe9"), "\u{80}é");
        assert_eq!(utf8_from("Windows-1252", b"\x80\x81"), "€\u{81}");
        assert_eq!(utf8_from("ISO-8859-9", b"\xd0\xfd"), "Ğı");
        assert_eq!(utf8_from("cp1251", b"\x98\xc0"), "?А");
        assert_eq!(utf8_from("CP1254", b"\x81\x80"), "?€");
        assert_eq!(utf8_from("KOI8-U", b"\xae\xbe"), "╝╬");
        assert_eq!(utf8_from("us-ascii", b"a\x80"), "a?");
    }

    #[test]
    fn utf16_bom_surrogates_and_odd_bytes() {
        assert_eq!(utf8_from("UTF-16", b"\xff\xfeA\x00"), "A");
        assert_eq!(utf8_from("UTF-16", b"\x00A\xfe\xff\x00B"), "A\u{feff}B");
        assert_eq!(utf8_from("UTF-16BE", b"\xfe\xff\x00A"), "\u{feff}A");
        assert_eq!(utf8_from("UTF-16BE", b"\xd8\x00\xdc\x00"), "\u{10000}");
        assert_eq!(utf8_from("UTF-16BE", b"\xd8\x00\x00A\xdc\x00"), "?A?");
        assert_eq!(utf8_from("UTF-16BE", b"\xd8\x00\xd8"), "??");
        assert_eq!(utf8_from("UTF-16LE", b"A\x00B"), "A?");
    }

    #[test]
    fn double_byte_sources_consume_the_byte_after_a_lead() {
        assert_eq!(utf8_from("SJIS", b"\x82\xa0\xb1"), "あｱ");
        assert_eq!(utf8_from("Shift_JIS", b"\xe4+a"), "?a");
        assert_eq!(utf8_from("SJIS", b"\x81\x60"), "〜");
        assert_eq!(utf8_from("CP932", b"\x81\x60"), "～");
        assert_eq!(utf8_from("SJIS", b"\x87\x40"), "?");
        assert_eq!(utf8_from("CP932", b"\x87\x40"), "①");
        assert_eq!(utf8_from("EUC-KR", b"\xb0\xa1\x81\x41"), "가?A");
        assert_eq!(utf8_from("UHC", b"\x81\x41"), "갂");
        assert_eq!(utf8_from("GBK", b"\x80\xff\xfe\x50"), "€\u{f8f5}\u{e815}");
        assert_eq!(utf8_from("gb2312", b"\xa1\xa4\xd6\xd0"), "・中");
        assert_eq!(utf8_from("CP936", b"\xd6"), "?");
    }

    #[test]
    fn names_match_mbstring_in_any_case() {
        assert_eq!(
            SourceEncoding::parse("LATIN1").unwrap().name(),
            "ISO-8859-1"
        );
        assert_eq!(
            SourceEncoding::parse("windows-31j").unwrap().name(),
            "CP932"
        );
        assert_eq!(SourceEncoding::default().name(), "UTF-8");
        let err = SourceEncoding::parse("EUC-JP").unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("unknown source encoding \"EUC-JP\": supported are UTF-8, ASCII,")
        );
        assert!(message.contains("CP936"), "{message}");
        assert_eq!(Encoder::parse("Base64").unwrap(), Encoder::Base64);
        assert_eq!(Encoder::parse("HEX").unwrap(), Encoder::Base16);
        let err = Encoder::parse("rot13").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown encoder \"rot13\": the encoders are utf-8, base16 and base64"
        );
    }
}
