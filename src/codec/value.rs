//! The value model of the plugin's serializers: what PHP's `json_encode` and
//! `fputcsv` receive. Strings are bytes, as in PHP, so that invalid UTF-8 can
//! be represented and handled the way PHP handles it.

/// A PHP value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A PHP integer (64-bit).
    Int(i64),
    /// A PHP float.
    Float(f64),
    /// A PHP string: bytes, not necessarily valid UTF-8.
    Str(Vec<u8>),
    /// A PHP array with string keys, in insertion order (a JSON object).
    Map(Vec<(Vec<u8>, Value)>),
    /// A PHP array with keys 0..n (a JSON list).
    List(Vec<Value>),
}

impl Value {
    /// A string value from text.
    pub fn str(text: impl Into<String>) -> Self {
        Value::Str(text.into().into_bytes())
    }

    /// A string value, or `null` for `None`.
    pub fn opt_str(text: Option<impl Into<String>>) -> Self {
        text.map_or(Value::Null, Value::str)
    }

    /// A map from `(key, value)` pairs, in order.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Self {
        Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.into().into_bytes(), v))
                .collect(),
        )
    }
}
