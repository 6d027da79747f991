//! CSV: one row of fields, byte for byte as PHP 8's `fputcsv` writes it.
//!
//! Values enter as a slice of [`Value`]s (or a [`Value::Map`], whose values
//! are taken in order; keys are never written: there is no header row) and
//! leave as the row's bytes followed by a single LF.
//!
//! What must stay true, each rule checked against PHP 8.2:
//!
//! - A field is enclosed when it contains the separator, the enclosure, the
//!   escape byte (only while escaping is on), LF, CR, tab or space. No other
//!   byte triggers enclosure: NUL, vertical tab, form feed, DEL and bytes
//!   above 0x7F are written bare.
//! - Inside an enclosed field the enclosure byte is doubled, except when it
//!   directly follows the escape byte (or a run of escape bytes): with the
//!   default options `a\"b` is written `"a\"b"`. Escape bytes themselves are
//!   written once, never doubled.
//! - PHP accepts options that collide (the enclosure equal to the separator,
//!   the escape equal to the enclosure) and applies the same rules blindly,
//!   producing rows no parser reads back; so do we, to stay byte-equal.
//! - `null` and `false` are empty fields, `true` is `1`, integers are
//!   decimal, strings are their bytes unchanged (no UTF-8 requirement).
//!   Floats are converted as PHP's string conversion does with the default
//!   `precision` ini of 14 (not `serialize_precision`): `0.1 + 0.2` is `0.3`,
//!   `1e25` is `1.0E+25`, `1e-5` is `1.0E-5`, `-0.0` is `-0`, and infinities
//!   and NaN are `INF`, `-INF` and `NAN`.
//! - A nested array is an error: PHP would write the word `Array` and only
//!   warn, which is data loss no consumer could detect.

mod number;

pub use self::number::{PHP_PRECISION, php_float_to_string};

use super::value::Value;

/// Why options were rejected or a row could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    /// An option is not the single byte (or, for the escape, zero or one
    /// byte) that `fputcsv` requires.
    #[error("invalid csv {option} {value:?}: it must be {requirement}")]
    InvalidOption {
        /// The option: `separator`, `enclosure` or `escape`.
        option: &'static str,
        /// The value that was given.
        value: String,
        /// What the option must be.
        requirement: &'static str,
    },
    /// A field holds an array, which PHP would write as the word `Array`.
    #[error(
        "cannot write field {index} as csv: it is an array, which PHP's fputcsv \
         writes as the word `Array`; only scalar fields can be written"
    )]
    NestedArray {
        /// The field's position in the row, from 0.
        index: usize,
    },
    /// The value given as a row is not a map or a list.
    #[error("cannot write a {kind} as a csv row: a row is a map or a list of fields")]
    NotARow {
        /// What was given instead (`string`, `integer`, ...).
        kind: &'static str,
    },
}

/// The separator, enclosure and escape bytes of [`CsvSerializer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvOptions {
    separator: u8,
    enclosure: u8,
    escape: Option<u8>,
}

impl Default for CsvOptions {
    /// PHP's defaults: `,`, `"` and `\`.
    fn default() -> Self {
        Self {
            separator: b',',
            enclosure: b'"',
            escape: Some(b'\\'),
        }
    }
}

impl CsvOptions {
    /// Options from their configured text; an empty `escape` turns escaping
    /// off, as in PHP.
    ///
    /// # Errors
    ///
    /// [`CsvError::InvalidOption`] naming the option when the separator or
    /// enclosure is not exactly one byte, or the escape is longer than one.
    pub fn new(separator: &str, enclosure: &str, escape: &str) -> Result<Self, CsvError> {
        let escape = match escape.as_bytes() {
            [] => None,
            [byte] => Some(*byte),
            _ => return Err(invalid("escape", escape, "empty or a single byte")),
        };
        Ok(Self {
            separator: single_byte("separator", separator)?,
            enclosure: single_byte("enclosure", enclosure)?,
            escape,
        })
    }

    /// The byte between fields.
    pub fn separator(&self) -> u8 {
        self.separator
    }

    /// The byte around enclosed fields.
    pub fn enclosure(&self) -> u8 {
        self.enclosure
    }

    /// The escape byte, or `None` when escaping is off.
    pub fn escape(&self) -> Option<u8> {
        self.escape
    }
}

fn single_byte(option: &'static str, value: &str) -> Result<u8, CsvError> {
    match value.as_bytes() {
        [byte] => Ok(*byte),
        _ => Err(invalid(option, value, "a single byte")),
    }
}

fn invalid(option: &'static str, value: &str, requirement: &'static str) -> CsvError {
    CsvError::InvalidOption {
        option,
        value: value.to_owned(),
        requirement,
    }
}

/// Writes rows as PHP 8's `fputcsv` does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CsvSerializer {
    options: CsvOptions,
}

impl CsvSerializer {
    /// A serializer with these options.
    pub fn new(options: CsvOptions) -> Self {
        Self { options }
    }

    /// The options in use.
    pub fn options(&self) -> CsvOptions {
        self.options
    }

    /// One row: the fields joined by the separator, then LF.
    ///
    /// # Errors
    ///
    /// [`CsvError::NestedArray`] when a field is a map or a list.
    pub fn encode(&self, fields: &[Value]) -> Result<Vec<u8>, CsvError> {
        let mut row = Vec::new();
        for (index, field) in fields.iter().enumerate() {
            if index > 0 {
                row.push(self.options.separator);
            }
            let text = field_text(field).ok_or(CsvError::NestedArray { index })?;
            self.write_field(&text, &mut row);
        }
        row.push(b'\n');
        Ok(row)
    }

    /// One row from a map's values (in order; keys are not written) or a
    /// list's elements.
    ///
    /// # Errors
    ///
    /// [`CsvError::NotARow`] for a scalar, [`CsvError::NestedArray`] when a
    /// field is a map or a list.
    pub fn encode_row(&self, row: &Value) -> Result<Vec<u8>, CsvError> {
        match row {
            Value::Map(entries) => {
                let fields: Vec<Value> = entries.iter().map(|(_, v)| v.clone()).collect();
                self.encode(&fields)
            }
            Value::List(fields) => self.encode(fields),
            Value::Null => Err(CsvError::NotARow { kind: "null" }),
            Value::Bool(_) => Err(CsvError::NotARow { kind: "boolean" }),
            Value::Int(_) => Err(CsvError::NotARow { kind: "integer" }),
            Value::Float(_) => Err(CsvError::NotARow { kind: "float" }),
            Value::Str(_) => Err(CsvError::NotARow { kind: "string" }),
        }
    }

    /// Appends one field, enclosed when one of its bytes requires it.
    fn write_field(&self, text: &[u8], row: &mut Vec<u8>) {
        let CsvOptions {
            separator,
            enclosure,
            escape,
        } = self.options;
        let special = |b: u8| {
            b == separator
                || b == enclosure
                || Some(b) == escape
                || matches!(b, b'\n' | b'\r' | b'\t' | b' ')
        };
        if !text.iter().any(|&b| special(b)) {
            row.extend_from_slice(text);
            return;
        }

        // PHP tests the escape byte first, so with escape == enclosure the
        // enclosure is never doubled; `escaped` survives a run of escapes.
        row.push(enclosure);
        let mut escaped = false;
        for &b in text {
            if Some(b) == escape {
                escaped = true;
            } else if !escaped && b == enclosure {
                row.push(enclosure);
            } else {
                escaped = false;
            }
            row.push(b);
        }
        row.push(enclosure);
    }
}

/// A scalar's text as PHP converts it to a string; `None` for arrays.
fn field_text(value: &Value) -> Option<Vec<u8>> {
    Some(match value {
        Value::Null | Value::Bool(false) => Vec::new(),
        Value::Bool(true) => b"1".to_vec(),
        Value::Int(n) => n.to_string().into_bytes(),
        Value::Float(x) => php_float_to_string(*x, PHP_PRECISION).into_bytes(),
        Value::Str(bytes) => bytes.clone(),
        Value::Map(_) | Value::List(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(options: CsvOptions, fields: &[Value]) -> String {
        let bytes = CsvSerializer::new(options).encode(fields).unwrap();
        String::from_utf8(bytes).unwrap()
    }

    fn one(field: &str) -> String {
        row(CsvOptions::default(), &[Value::str(field)])
    }

    #[test]
    fn encloses_only_for_separator_enclosure_escape_and_white_space() {
        assert_eq!(one("a b"), "\"a b\"\n");
        assert_eq!(one("a\tb"), "\"a\tb\"\n");
        assert_eq!(one("a\rb"), "\"a\rb\"\n");
        assert_eq!(one("a\nb"), "\"a\nb\"\n");
        assert_eq!(one("a,b"), "\"a,b\"\n");
        assert_eq!(one("a\\b"), "\"a\\b\"\n");
        // NUL, vertical tab, form feed and DEL are written bare.
        assert_eq!(one("a\0b\x0b\x0c\x7f"), "a\0b\x0b\x0c\x7f\n");
        assert_eq!(one(""), "\n");
        let no_escape = CsvOptions::new(",", "\"", "").unwrap();
        assert_eq!(row(no_escape, &[Value::str("a\\b")]), "a\\b\n");
    }

    #[test]
    fn doubles_the_enclosure_except_after_the_escape_byte() {
        assert_eq!(one("\""), "\"\"\"\"\n");
        assert_eq!(one("a\"b"), "\"a\"\"b\"\n");
        assert_eq!(one("a\\\"b"), "\"a\\\"b\"\n");
        assert_eq!(one("a\\\\\"b"), "\"a\\\\\"b\"\n");
        assert_eq!(one("\\\"\""), "\"\\\"\"\"\"\n");
        let no_escape = CsvOptions::new(",", "\"", "").unwrap();
        assert_eq!(row(no_escape, &[Value::str("a\\\"b")]), "\"a\\\"\"b\"\n");
    }

    #[test]
    fn colliding_options_are_applied_as_php_does() {
        let comma_enclosure = CsvOptions::new(",", ",", "\\").unwrap();
        assert_eq!(row(comma_enclosure, &[Value::str("a,\"b")]), ",a,,\"b,\n");
        let quote_escape = CsvOptions::new(",", "\"", "\"").unwrap();
        assert_eq!(row(quote_escape, &[Value::str("a\"b\\c")]), "\"a\"b\\c\"\n");
    }

    #[test]
    fn scalars_convert_as_php_strings() {
        let fields = [
            Value::Null,
            Value::Bool(true),
            Value::Bool(false),
            Value::Int(0),
            Value::Int(i64::MIN),
            Value::Float(1.5),
            Value::Float(0.1 + 0.2),
            Value::Float(1e25),
            Value::Float(1e14),
            Value::Float(1e13),
            Value::Float(0.0001),
            Value::Float(0.00001),
            Value::Float(-0.0),
            Value::Float(f64::INFINITY),
            Value::Float(f64::NEG_INFINITY),
            Value::Float(f64::NAN),
            Value::Float(100.0),
            Value::Float(1.0 / 3.0),
            Value::Float(-1.5e-7),
        ];
        assert_eq!(
            row(CsvOptions::default(), &fields),
            ",1,,0,-9223372036854775808,1.5,0.3,1.0E+25,1.0E+14,10000000000000,0.0001,\
             1.0E-5,-0,INF,-INF,NAN,100,0.33333333333333,-1.5E-7\n"
        );
    }

    #[test]
    fn strings_are_bytes_unchanged() {
        let fields = [Value::Str(vec![0xff, 0xc3]), Value::str("é")];
        let bytes = CsvSerializer::default().encode(&fields).unwrap();
        assert_eq!(bytes, b"\xff\xc3,\xc3\xa9\n");
    }

    #[test]
    fn map_values_in_order_without_keys() {
        let map = Value::map([("k", Value::str("v")), ("z", Value::Int(2))]);
        assert_eq!(CsvSerializer::default().encode_row(&map).unwrap(), b"v,2\n");
        assert_eq!(CsvSerializer::default().encode(&[]).unwrap(), b"\n");
    }

    #[test]
    fn arrays_and_bad_options_are_errors_naming_what_failed() {
        let err = CsvSerializer::default()
            .encode(&[Value::Int(1), Value::List(vec![])])
            .unwrap_err();
        assert_eq!(err, CsvError::NestedArray { index: 1 });
        assert!(err.to_string().starts_with("cannot write field 1 as csv"));
        let err = CsvOptions::new(",,", "\"", "\\").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid csv separator \",,\": it must be a single byte"
        );
        let err = CsvOptions::new(",", "", "\\").unwrap_err();
        assert!(err.to_string().starts_with("invalid csv enclosure \"\""));
        let err = CsvOptions::new(",", "\"", "ab").unwrap_err();
        assert!(err.to_string().ends_with("must be empty or a single byte"));
        let err = CsvSerializer::default()
            .encode_row(&Value::Int(1))
            .unwrap_err();
        assert_eq!(err, CsvError::NotARow { kind: "integer" });
    }
}
