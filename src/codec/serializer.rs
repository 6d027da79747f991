//! The three serializers the plugin offers, behind one type: a data
//! serializer and a record serializer are each one of these.

use super::csv::{CsvError, CsvSerializer};
use super::json::{JsonError, JsonSerializer, NdjsonSerializer};
use super::value::Value;

/// JSON, NDJSON or CSV, with its options.
#[derive(Debug, Clone)]
pub enum Serializer {
    /// PHP's `json_encode` with flags and depth.
    Json(JsonSerializer),
    /// JSON followed by a terminator.
    Ndjson(NdjsonSerializer),
    /// PHP's `fputcsv`: the map's values as one row ending in LF.
    Csv(CsvSerializer),
}

/// Why a value could not be serialized.
#[derive(Debug, thiserror::Error)]
pub enum SerializeError {
    /// JSON or NDJSON failed (invalid UTF-8, depth, INF/NaN).
    #[error(transparent)]
    Json(#[from] JsonError),
    /// CSV failed (a nested array).
    #[error(transparent)]
    Csv(#[from] CsvError),
}

impl Default for Serializer {
    /// The plugin's JSON with its default flags (1328) and depth (16).
    fn default() -> Self {
        Serializer::Json(JsonSerializer::default())
    }
}

impl Serializer {
    /// Serializes `value` (a map: the event or the record).
    ///
    /// # Errors
    ///
    /// [`SerializeError`] saying why, as PHP would have failed.
    pub fn encode(&self, value: &Value) -> Result<Vec<u8>, SerializeError> {
        Ok(match self {
            Serializer::Json(json) => json.encode(value)?,
            Serializer::Ndjson(ndjson) => ndjson.encode(value)?,
            Serializer::Csv(csv) => csv.encode_row(value)?,
        })
    }

    /// The name users write in configuration: `json`, `ndjson`, `csv`.
    pub fn name(&self) -> &'static str {
        match self {
            Serializer::Json(_) => "json",
            Serializer::Ndjson(_) => "ndjson",
            Serializer::Csv(_) => "csv",
        }
    }
}
