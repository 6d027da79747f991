//! PHP 8.2's `json_encode($value, $flags, $depth)`, byte for byte, over the
//! [`Value`] model; and NDJSON, the same JSON followed by a terminator.
//!
//! A [`JsonSerializer`] holds validated [`JsonFlags`] and a depth and turns
//! one value into bytes: exactly the string PHP returns, or a [`JsonError`]
//! where PHP returns `false`. An [`NdjsonSerializer`] appends its
//! [`NdjsonTerminator`]. The plugin's defaults are flags 1328
//! (FORCE_OBJECT, NUMERIC_CHECK, UNESCAPED_UNICODE, PRESERVE_ZERO_FRACTION)
//! and depth 16.
//!
//! What must stay true: the output equals PHP's for every value, flag set
//! and depth; `tests/php_json.rs` checks that against a real `php`. The PHP
//! rules that are easy to get wrong are documented where they are kept:
//! numbers in `json/number.rs`, strings and invalid UTF-8 in
//! `json/string.rs`, arrays, depth and error precedence in
//! `json/encoder.rs`. In short:
//!
//! - depth counts arrays, not values: a flat map needs depth 1, a scalar
//!   encodes even at depth 0 (which this type does not accept, as no event
//!   could be written with it), and an empty array still counts;
//! - NUMERIC_CHECK applies to string values, never to keys; a numeric string
//!   too large for a float (`1e999`) stays a string;
//! - with PARTIAL_OUTPUT_ON_ERROR, PHP returns output even though it records
//!   an error (also for depth: the too-deep arrays are written in full);
//!   [`JsonSerializer::encode_with_warning`] returns that error too;
//! - Inf and NaN fail with "Inf and NaN cannot be JSON encoded", or are
//!   written as `0` with PARTIAL_OUTPUT_ON_ERROR.
//!
//! Written by hand: `serde_json` writes standard JSON, and no maintained
//! crate reproduces PHP's flags, its idea of a numeric string, its float
//! formatting or its handling of invalid UTF-8, which is what the plugin's
//! consumers receive.
//!
//! Known limit: the walk recurses once per nested array, like PHP's, and
//! visits arrays deeper than the limit (PHP checks depth after an array's
//! elements); values nested many thousands deep could exhaust the stack.
//! The connector's events and records are flat.

mod encoder;
mod flags;
mod ndjson;
mod number;
mod string;

#[cfg(test)]
mod tests;

use std::fmt;

pub use flags::{JsonConfigError, JsonFlags};
pub use ndjson::{NdjsonSerializer, NdjsonTerminator};

use crate::codec::value::Value;
use encoder::Encoder;

/// Where in a value an encoding error happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPlace {
    /// Keys joined by `.` with list indexes as `[i]` (`a.b[2]`), invalid
    /// UTF-8 shown as U+FFFD; empty for the top-level value.
    pub path: String,
    /// Whether the key at `path` itself is at fault, not its value.
    pub in_key: bool,
}

impl fmt::Display for JsonPlace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.in_key, self.path.is_empty()) {
            (true, _) => write!(f, "the key `{}`", self.path),
            (false, true) => f.write_str("the top-level value"),
            (false, false) => write!(f, "the value at `{}`", self.path),
        }
    }
}

/// Why PHP's `json_encode` would return `false` (or, with
/// PARTIAL_OUTPUT_ON_ERROR, what it would leave in `json_last_error()`).
/// Encoding errors are definite: the same value always fails the same way.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JsonError {
    /// A string or key is not valid UTF-8 (PHP's `JSON_ERROR_UTF8`).
    #[error(
        "cannot encode {at} as JSON: invalid UTF-8 at byte {offset} (PHP: \"Malformed UTF-8 \
         characters, possibly incorrectly encoded\"); set the JSON flag INVALID_UTF8_SUBSTITUTE \
         or INVALID_UTF8_IGNORE to accept such text"
    )]
    InvalidUtf8 {
        /// The string or key.
        at: JsonPlace,
        /// Offset in the string of the first invalid sequence.
        offset: usize,
    },
    /// Arrays are nested deeper than the depth (PHP's `JSON_ERROR_DEPTH`).
    #[error(
        "cannot encode {at} as JSON: depth {depth} exceeds the limit {limit} (PHP: \"Maximum \
         stack depth exceeded\"); raise the JSON depth"
    )]
    DepthExceeded {
        /// The array that is too deep.
        at: JsonPlace,
        /// Its depth: 1 for the top-level array.
        depth: u32,
        /// The configured depth.
        limit: u32,
    },
    /// A float is infinite or NaN (PHP's `JSON_ERROR_INF_OR_NAN`).
    #[error(
        "cannot encode {at} as JSON: the float {value} is not finite (PHP: \"Inf and NaN cannot \
         be JSON encoded\")"
    )]
    NonFinite {
        /// The float.
        at: JsonPlace,
        /// Its value.
        value: f64,
    },
}

impl JsonError {
    /// PHP's `json_last_error_msg()` for this error.
    pub fn php_message(&self) -> &'static str {
        match self {
            Self::InvalidUtf8 { .. } => "Malformed UTF-8 characters, possibly incorrectly encoded",
            Self::DepthExceeded { .. } => "Maximum stack depth exceeded",
            Self::NonFinite { .. } => "Inf and NaN cannot be JSON encoded",
        }
    }
}

/// PHP's `json_encode` with fixed flags and depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonSerializer {
    flags: JsonFlags,
    depth: u32,
}

impl JsonSerializer {
    /// The plugin's default depth.
    pub const DEFAULT_DEPTH: u32 = 16;

    /// The largest depth PHP handles (a C `int`; larger values wrap).
    pub const MAX_DEPTH: u32 = i32::MAX as u32;

    /// A serializer with these flags and depth (`$depth` of `json_encode`:
    /// how many arrays may be nested, the outermost counting 1).
    ///
    /// # Errors
    ///
    /// [`JsonConfigError::DepthOutOfRange`] for depth 0, which fails every
    /// array, or above [`Self::MAX_DEPTH`].
    pub fn new(flags: JsonFlags, depth: u32) -> Result<Self, JsonConfigError> {
        if depth == 0 || depth > Self::MAX_DEPTH {
            return Err(JsonConfigError::DepthOutOfRange {
                depth: depth.into(),
            });
        }
        Ok(Self { flags, depth })
    }

    /// The flags.
    pub fn flags(&self) -> JsonFlags {
        self.flags
    }

    /// The depth.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// The bytes PHP's `json_encode` returns for `value`.
    ///
    /// # Errors
    ///
    /// The [`JsonError`] PHP would report where it returns `false`. With
    /// PARTIAL_OUTPUT_ON_ERROR this never fails.
    pub fn encode(&self, value: &Value) -> Result<Vec<u8>, JsonError> {
        let mut out = Vec::new();
        self.encode_into(value, &mut out)?;
        Ok(out)
    }

    /// Appends what [`Self::encode`] returns to `out`; on error `out` is
    /// left as it was.
    ///
    /// # Errors
    ///
    /// As [`Self::encode`].
    pub fn encode_into(&self, value: &Value, out: &mut Vec<u8>) -> Result<(), JsonError> {
        self.encode_with_warning_into(value, out).map(|_| ())
    }

    /// Like [`Self::encode`], but also returns the error PHP leaves in
    /// `json_last_error()` when PARTIAL_OUTPUT_ON_ERROR replaced something
    /// (`null` for a string, `""` for a key, `0` for Inf or NaN) or let a
    /// too-deep array through; worth a warning.
    ///
    /// # Errors
    ///
    /// As [`Self::encode`].
    pub fn encode_with_warning(
        &self,
        value: &Value,
    ) -> Result<(Vec<u8>, Option<JsonError>), JsonError> {
        let mut out = Vec::new();
        let warning = self.encode_with_warning_into(value, &mut out)?;
        Ok((out, warning))
    }

    fn encode_with_warning_into(
        &self,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> Result<Option<JsonError>, JsonError> {
        let start = out.len();
        let error = Encoder::new(self.flags, self.depth, out).run(value);
        match error {
            Some(error) if !self.flags.contains(JsonFlags::PARTIAL_OUTPUT_ON_ERROR) => {
                out.truncate(start);
                Err(error)
            }
            warning => Ok(warning),
        }
    }
}

/// The plugin's defaults: flags 1328, depth 16.
impl Default for JsonSerializer {
    fn default() -> Self {
        Self {
            flags: JsonFlags::PLUGIN_DEFAULT,
            depth: Self::DEFAULT_DEPTH,
        }
    }
}
