//! The flags of PHP's `json_encode` that the plugin offers, and the errors of
//! JSON and NDJSON settings.
//!
//! Flags enter as PHP's integer (`1328`), as names (`FORCE_OBJECT`, with or
//! without PHP's `JSON_` prefix, any case) or as a list of names; every form
//! becomes one [`JsonFlags`], which holds only the fourteen known bits. A bit
//! PHP knows but the plugin does not offer (`JSON_THROW_ON_ERROR`, 4194304)
//! is rejected like any other unknown bit: it would change nothing here, and
//! silently accepting it would suggest otherwise.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};
use std::str::FromStr;

/// A JSON or NDJSON setting that cannot be used, with the allowed values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonConfigError {
    /// An integer flag set has bits outside the known flags.
    #[error(
        "invalid JSON flags {bits}: bits {unknown} (0x{unknown:x}) are not a flag the plugin \
         offers; use a sum of {known}",
        known = known_flags()
    )]
    UnknownFlagBits {
        /// The whole value given.
        bits: u32,
        /// The bits that name no flag.
        unknown: u32,
    },
    /// A flag name that is not one of the known flags.
    #[error(
        "invalid JSON flag `{name}`: expected one of {known}, with or without the `JSON_` \
         prefix, or their sum as a number",
        known = known_names()
    )]
    UnknownFlagName {
        /// The name as given.
        name: String,
    },
    /// A number too large for PHP's flags.
    #[error("invalid JSON flags `{text}`: the number does not fit in 32 bits; use a sum of {known}",
        known = known_flags())]
    FlagsOutOfRange {
        /// The text as given.
        text: String,
    },
    /// A depth PHP would not accept or that cannot encode any event.
    #[error(
        "invalid JSON depth {depth}: allowed are 1 to 2147483647 (the event map needs 1, each \
         array nested inside it one more)"
    )]
    DepthOutOfRange {
        /// The depth given.
        depth: u64,
    },
    /// An NDJSON terminator name that is not known.
    #[error(
        "invalid NDJSON terminator `{name}`: expected one of nul (null), lf (line_feed), \
         nel (next_line), ls (line_separator), ps (paragraph_separator), crlf"
    )]
    UnknownTerminator {
        /// The name as given.
        name: String,
    },
}

/// A set of `json_encode` flags, with PHP's bit values.
///
/// Only the flags in the plugin's table exist; [`JsonFlags::from_bits`] and
/// the parsers reject anything else.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct JsonFlags(u32);

impl JsonFlags {
    /// No flag: PHP's plain `json_encode($value)`.
    pub const NONE: Self = Self(0);
    /// `JSON_HEX_TAG` (1): `<` and `>` become `\u003C` and `\u003E`.
    pub const HEX_TAG: Self = Self(1);
    /// `JSON_HEX_AMP` (2): `&` becomes `\u0026`.
    pub const HEX_AMP: Self = Self(2);
    /// `JSON_HEX_APOS` (4): `'` becomes `\u0027`.
    pub const HEX_APOS: Self = Self(4);
    /// `JSON_HEX_QUOT` (8): `"` becomes `\u0022`.
    pub const HEX_QUOT: Self = Self(8);
    /// `JSON_FORCE_OBJECT` (16): lists are written as objects `{"0":...}`.
    pub const FORCE_OBJECT: Self = Self(16);
    /// `JSON_NUMERIC_CHECK` (32): strings PHP considers numeric (values,
    /// never keys) are written as numbers.
    pub const NUMERIC_CHECK: Self = Self(32);
    /// `JSON_UNESCAPED_SLASHES` (64): `/` stays `/` instead of `\/`.
    pub const UNESCAPED_SLASHES: Self = Self(64);
    /// `JSON_PRETTY_PRINT` (128): newlines and 4-space indentation.
    pub const PRETTY_PRINT: Self = Self(128);
    /// `JSON_UNESCAPED_UNICODE` (256): non-ASCII stays raw UTF-8, except
    /// U+2028 and U+2029 without [`Self::UNESCAPED_LINE_TERMINATORS`].
    pub const UNESCAPED_UNICODE: Self = Self(256);
    /// `JSON_PARTIAL_OUTPUT_ON_ERROR` (512): what cannot be encoded becomes
    /// `null` (a string), `""` (a key) or `0` (Inf, NaN) instead of failing.
    pub const PARTIAL_OUTPUT_ON_ERROR: Self = Self(512);
    /// `JSON_PRESERVE_ZERO_FRACTION` (1024): floats with no fraction keep `.0`.
    pub const PRESERVE_ZERO_FRACTION: Self = Self(1024);
    /// `JSON_UNESCAPED_LINE_TERMINATORS` (2048): U+2028 and U+2029 stay raw;
    /// only has an effect together with [`Self::UNESCAPED_UNICODE`].
    pub const UNESCAPED_LINE_TERMINATORS: Self = Self(2048);
    /// `JSON_INVALID_UTF8_IGNORE` (1048576): invalid UTF-8 is dropped.
    pub const INVALID_UTF8_IGNORE: Self = Self(1_048_576);
    /// `JSON_INVALID_UTF8_SUBSTITUTE` (2097152): each invalid UTF-8 sequence
    /// becomes U+FFFD (`\ufffd`, or raw with [`Self::UNESCAPED_UNICODE`]).
    pub const INVALID_UTF8_SUBSTITUTE: Self = Self(2_097_152);
    /// The plugin's default, 1328: FORCE_OBJECT, NUMERIC_CHECK,
    /// UNESCAPED_UNICODE and PRESERVE_ZERO_FRACTION.
    pub const PLUGIN_DEFAULT: Self = Self(16 | 32 | 256 | 1024);
    /// Every known flag.
    pub const ALL: Self = Self(0x0000_0fff | 1_048_576 | 2_097_152);

    /// The flags of PHP's integer, rejecting bits that name no known flag.
    ///
    /// # Errors
    ///
    /// [`JsonConfigError::UnknownFlagBits`] naming the unknown bits.
    pub fn from_bits(bits: u32) -> Result<Self, JsonConfigError> {
        let unknown = bits & !Self::ALL.0;
        if unknown != 0 {
            return Err(JsonConfigError::UnknownFlagBits { bits, unknown });
        }
        Ok(Self(bits))
    }

    /// One flag from its name: `FORCE_OBJECT` or `JSON_FORCE_OBJECT`, in any
    /// case, surrounding white space ignored.
    ///
    /// # Errors
    ///
    /// [`JsonConfigError::UnknownFlagName`] listing the known names.
    pub fn from_name(name: &str) -> Result<Self, JsonConfigError> {
        let trimmed = name.trim();
        let bare = match trimmed.get(..5) {
            Some(prefix) if prefix.eq_ignore_ascii_case("JSON_") => &trimmed[5..],
            _ => trimmed,
        };
        NAMED
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(bare))
            .map(|&(_, flag)| flag)
            .ok_or_else(|| JsonConfigError::UnknownFlagName {
                name: name.to_owned(),
            })
    }

    /// The union of the named flags, as configuration lists them:
    /// `["FORCE_OBJECT", "JSON_NUMERIC_CHECK"]`. No names means no flags.
    ///
    /// # Errors
    ///
    /// [`JsonConfigError::UnknownFlagName`] for the first unknown name.
    pub fn from_names<I, S>(names: I) -> Result<Self, JsonConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        names.into_iter().try_fold(Self::NONE, |all, name| {
            Ok(all | Self::from_name(name.as_ref())?)
        })
    }

    /// PHP's integer value.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// These flags without those of `other`.
    pub const fn without(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// The names of the set flags (without `JSON_`), lowest bit first.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        NAMED
            .iter()
            .filter(move |&&(_, flag)| self.contains(flag))
            .map(|&(name, _)| name)
    }
}

/// Every flag with its name, in bit order.
const NAMED: [(&str, JsonFlags); 14] = [
    ("HEX_TAG", JsonFlags::HEX_TAG),
    ("HEX_AMP", JsonFlags::HEX_AMP),
    ("HEX_APOS", JsonFlags::HEX_APOS),
    ("HEX_QUOT", JsonFlags::HEX_QUOT),
    ("FORCE_OBJECT", JsonFlags::FORCE_OBJECT),
    ("NUMERIC_CHECK", JsonFlags::NUMERIC_CHECK),
    ("UNESCAPED_SLASHES", JsonFlags::UNESCAPED_SLASHES),
    ("PRETTY_PRINT", JsonFlags::PRETTY_PRINT),
    ("UNESCAPED_UNICODE", JsonFlags::UNESCAPED_UNICODE),
    (
        "PARTIAL_OUTPUT_ON_ERROR",
        JsonFlags::PARTIAL_OUTPUT_ON_ERROR,
    ),
    ("PRESERVE_ZERO_FRACTION", JsonFlags::PRESERVE_ZERO_FRACTION),
    (
        "UNESCAPED_LINE_TERMINATORS",
        JsonFlags::UNESCAPED_LINE_TERMINATORS,
    ),
    ("INVALID_UTF8_IGNORE", JsonFlags::INVALID_UTF8_IGNORE),
    (
        "INVALID_UTF8_SUBSTITUTE",
        JsonFlags::INVALID_UTF8_SUBSTITUTE,
    ),
];

fn known_names() -> String {
    NAMED.map(|(name, _)| name).join(", ")
}

fn known_flags() -> String {
    NAMED
        .map(|(name, flag)| format!("{name} ({})", flag.0))
        .join(", ")
}

impl BitOr for JsonFlags {
    type Output = Self;

    fn bitor(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

impl BitOrAssign for JsonFlags {
    fn bitor_assign(&mut self, other: Self) {
        self.0 |= other.0;
    }
}

/// Parses PHP's integer (`1328`) or names joined by `|`, `,`, `+` or white
/// space (`JSON_FORCE_OBJECT | JSON_NUMERIC_CHECK`). Empty text is no flag.
impl FromStr for JsonFlags {
    type Err = JsonConfigError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            let bits = trimmed
                .parse::<u32>()
                .map_err(|_| JsonConfigError::FlagsOutOfRange {
                    text: text.to_owned(),
                })?;
            return Self::from_bits(bits);
        }
        Self::from_names(
            trimmed
                .split(|c: char| c == '|' || c == ',' || c == '+' || c.is_whitespace())
                .filter(|name| !name.is_empty()),
        )
    }
}

/// Names joined by `|` (`FORCE_OBJECT|NUMERIC_CHECK`), or `0` for none; the
/// text parses back to the same flags.
impl fmt::Display for JsonFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0");
        }
        for (i, name) in self.names().enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

impl fmt::Debug for JsonFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsonFlags({}: {self})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_default_is_1328_and_names_its_four_flags() {
        assert_eq!(JsonFlags::PLUGIN_DEFAULT.bits(), 1328);
        assert_eq!(
            JsonFlags::PLUGIN_DEFAULT.to_string(),
            "FORCE_OBJECT|NUMERIC_CHECK|UNESCAPED_UNICODE|PRESERVE_ZERO_FRACTION"
        );
        assert_eq!(JsonFlags::ALL.names().count(), 14);
    }

    #[test]
    fn from_bits_names_the_unknown_bits() {
        assert_eq!(JsonFlags::from_bits(1328), Ok(JsonFlags::PLUGIN_DEFAULT));
        let err = JsonFlags::from_bits(1328 | 4_194_304).unwrap_err();
        assert_eq!(
            err,
            JsonConfigError::UnknownFlagBits {
                bits: 4_195_632,
                unknown: 4_194_304
            }
        );
        let text = err.to_string();
        assert!(
            text.starts_with("invalid JSON flags 4195632: bits 4194304 (0x400000)"),
            "{text}"
        );
        assert!(text.contains("INVALID_UTF8_SUBSTITUTE (2097152)"), "{text}");
    }

    #[test]
    fn names_parse_with_or_without_prefix_in_any_case() {
        let flags = JsonFlags::from_names(["FORCE_OBJECT", "json_numeric_check"]).unwrap();
        assert_eq!(flags, JsonFlags::FORCE_OBJECT | JsonFlags::NUMERIC_CHECK);
        assert_eq!(
            JsonFlags::from_name(" JSON_PRETTY_PRINT "),
            Ok(JsonFlags::PRETTY_PRINT)
        );
        assert_eq!(
            JsonFlags::from_names(Vec::<String>::new()),
            Ok(JsonFlags::NONE)
        );
        let err = JsonFlags::from_name("JSON_THROW_ON_ERROR").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid JSON flag `JSON_THROW_ON_ERROR`: expected one of HEX_TAG,"),
            "{err}"
        );
    }

    #[test]
    fn text_is_a_number_or_names_and_round_trips() {
        assert_eq!("1328".parse(), Ok(JsonFlags::PLUGIN_DEFAULT));
        assert_eq!(
            "JSON_FORCE_OBJECT | JSON_NUMERIC_CHECK|UNESCAPED_UNICODE, PRESERVE_ZERO_FRACTION"
                .parse(),
            Ok(JsonFlags::PLUGIN_DEFAULT)
        );
        assert_eq!("".parse(), Ok(JsonFlags::NONE));
        assert_eq!("0".parse(), Ok(JsonFlags::NONE));
        assert!(matches!(
            "99999999999".parse::<JsonFlags>(),
            Err(JsonConfigError::FlagsOutOfRange { .. })
        ));
        for bits in [0, 1, 1328, JsonFlags::ALL.bits()] {
            let flags = JsonFlags::from_bits(bits).unwrap();
            assert_eq!(flags.to_string().parse(), Ok(flags));
        }
    }
}
