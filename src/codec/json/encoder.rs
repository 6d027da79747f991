//! The walk over a [`Value`], as PHP 8.2's `php_json_encode_zval` and
//! `php_json_encode_array` make it, errors included.
//!
//! PHP's error handling is reproduced step by step because it decides both
//! the output and which error is reported:
//!
//! - an invalid string fails at once, unless PARTIAL_OUTPUT_ON_ERROR writes
//!   `null` instead (`""` for a key) and goes on;
//! - an invalid key does *not* stop the walk, nor does Inf or NaN (written
//!   as `0`): they only record the error;
//! - the depth of an array is checked after its elements are written, so an
//!   error inside a too-deep array wins over the depth error;
//! - the error reported is the last one recorded.
//!
//! A [`Value::Map`] is the PHP array that inserting its pairs in order
//! builds: a repeated key keeps its first position and takes the last
//! value, and keys `"0"`, `"1"`, ... in order make it a list, written
//! `[...]` (an empty map is `[]`). FORCE_OBJECT writes every list as an
//! object with keys `"0"`, `"1"`, ...

use std::fmt::Display;
use std::io::Write as _;

use super::number::{Numeric, parse_numeric, write_float};
use super::string::write_escaped;
use super::{JsonError, JsonFlags, JsonPlace};
use crate::codec::value::Value;

/// One step from the top of the value to where an error happened.
#[derive(Clone, Copy)]
enum Step<'v> {
    Key(&'v [u8]),
    Index(usize),
}

/// The state of one `json_encode` call.
pub(super) struct Encoder<'v, 'o> {
    flags: JsonFlags,
    max_depth: u32,
    depth: u32,
    out: &'o mut Vec<u8>,
    path: Vec<Step<'v>>,
    /// The error `json_last_error()` would report; the last recorded wins.
    error: Option<JsonError>,
}

impl<'v, 'o> Encoder<'v, 'o> {
    /// An encoder appending to `out`.
    pub(super) fn new(flags: JsonFlags, max_depth: u32, out: &'o mut Vec<u8>) -> Self {
        Self {
            flags,
            max_depth,
            depth: 0,
            out,
            path: Vec::new(),
            error: None,
        }
    }

    /// Encodes `value`, returning the error PHP would report, if any.
    pub(super) fn run(mut self, value: &'v Value) -> Option<JsonError> {
        self.value(value);
        self.error
    }

    fn partial(&self) -> bool {
        self.flags.contains(JsonFlags::PARTIAL_OUTPUT_ON_ERROR)
    }

    /// Where the walk is now, for an error message.
    fn place(&self, in_key: bool) -> JsonPlace {
        let mut path = String::new();
        for step in &self.path {
            match step {
                Step::Key(key) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(&String::from_utf8_lossy(key));
                }
                Step::Index(index) => path.push_str(&format!("[{index}]")),
            }
        }
        JsonPlace { path, in_key }
    }

    /// Writes one value; `false` is PHP's FAILURE, which stops the walk
    /// unless PARTIAL_OUTPUT_ON_ERROR is set.
    fn value(&mut self, value: &'v Value) -> bool {
        match value {
            Value::Null => self.out.extend_from_slice(b"null"),
            Value::Bool(true) => self.out.extend_from_slice(b"true"),
            Value::Bool(false) => self.out.extend_from_slice(b"false"),
            Value::Int(int) => write_int(self.out, int),
            Value::Float(float) => self.float(*float),
            Value::Str(text) => return self.string(text, false),
            Value::List(items) => {
                let entries = items.iter().enumerate().map(|(i, v)| (Step::Index(i), v));
                return self.array(!self.flags.contains(JsonFlags::FORCE_OBJECT), entries);
            }
            Value::Map(pairs) => return self.map(pairs),
        }
        true
    }

    fn float(&mut self, value: f64) {
        if value.is_finite() {
            let zero_fraction = self.flags.contains(JsonFlags::PRESERVE_ZERO_FRACTION);
            write_float(self.out, value, zero_fraction);
        } else {
            // PHP records the error and writes 0, without failing.
            self.error = Some(JsonError::NonFinite {
                at: self.place(false),
                value,
            });
            self.out.push(b'0');
        }
    }

    /// A string value, or a key (`in_key`: never numeric).
    fn string(&mut self, text: &[u8], in_key: bool) -> bool {
        if text.is_empty() {
            self.out.extend_from_slice(b"\"\"");
            return true;
        }
        if !in_key && self.flags.contains(JsonFlags::NUMERIC_CHECK) {
            match parse_numeric(text) {
                Some(Numeric::Int(int)) => {
                    write_int(self.out, int);
                    return true;
                }
                // An infinite float stays a string: `"1e999"`.
                Some(Numeric::Float(float)) if float.is_finite() => {
                    self.float(float);
                    return true;
                }
                _ => {}
            }
        }

        let checkpoint = self.out.len();
        let Err(offset) = write_escaped(self.out, text, self.flags) else {
            return true;
        };
        self.out.truncate(checkpoint);
        self.error = Some(JsonError::InvalidUtf8 {
            at: self.place(in_key),
            offset,
        });
        if self.partial() {
            self.out
                .extend_from_slice(if in_key { b"\"\"" } else { b"null" });
        }
        false
    }

    fn map(&mut self, pairs: &'v [(Vec<u8>, Value)]) -> bool {
        // The rare repeated key: PHP overwrites the value in place.
        let repeated = pairs
            .iter()
            .enumerate()
            .any(|(i, (key, _))| pairs[..i].iter().any(|(seen, _)| seen == key));
        if repeated {
            let mut merged: Vec<(&'v [u8], &'v Value)> = Vec::with_capacity(pairs.len());
            for (key, value) in pairs {
                match merged.iter_mut().find(|(seen, _)| *seen == key.as_slice()) {
                    Some(slot) => slot.1 = value,
                    None => merged.push((key, value)),
                }
            }
            return self.keyed(merged.into_iter());
        }
        self.keyed(pairs.iter().map(|(key, value)| (key.as_slice(), value)))
    }

    /// A PHP array of distinct keys: a list when they are 0, 1, ... in order.
    fn keyed<I>(&mut self, entries: I) -> bool
    where
        I: Iterator<Item = (&'v [u8], &'v Value)> + Clone,
    {
        let is_list = entries
            .clone()
            .enumerate()
            .all(|(i, (key, _))| key == i.to_string().as_bytes());
        let as_list = is_list && !self.flags.contains(JsonFlags::FORCE_OBJECT);
        self.array(as_list, entries.map(|(key, value)| (Step::Key(key), value)))
    }

    /// `[...]` or `{...}`, with PHP's pretty layout and depth check.
    fn array<I>(&mut self, as_list: bool, entries: I) -> bool
    where
        I: Iterator<Item = (Step<'v>, &'v Value)>,
    {
        let pretty = self.flags.contains(JsonFlags::PRETTY_PRINT);
        self.out.push(if as_list { b'[' } else { b'{' });
        self.depth += 1;
        let mut any = false;

        for (step, value) in entries {
            if any {
                self.out.push(b',');
            }
            any = true;
            self.newline_indent(pretty);
            self.path.push(step);

            // Keys: integer keys need no escaping; a bad key only records.
            if !as_list {
                match step {
                    Step::Index(index) => {
                        self.out.push(b'"');
                        write_int(self.out, index);
                        self.out.push(b'"');
                    }
                    Step::Key(key) => {
                        self.string(key, true);
                    }
                }
                self.out.push(b':');
                if pretty {
                    self.out.push(b' ');
                }
            }
            if !self.value(value) && !self.partial() {
                return false;
            }
            self.path.pop();
        }

        if self.depth > self.max_depth {
            self.error = Some(JsonError::DepthExceeded {
                at: self.place(false),
                depth: self.depth,
                limit: self.max_depth,
            });
            if !self.partial() {
                return false;
            }
        }
        self.depth -= 1;
        if any {
            self.newline_indent(pretty);
        }
        self.out.push(if as_list { b']' } else { b'}' });
        true
    }

    fn newline_indent(&mut self, pretty: bool) {
        if pretty {
            self.out.push(b'\n');
            for _ in 0..self.depth {
                self.out.extend_from_slice(b"    ");
            }
        }
    }
}

/// A decimal integer.
fn write_int(out: &mut Vec<u8>, int: impl Display) {
    write!(out, "{int}").expect("writing to a Vec cannot fail");
}
