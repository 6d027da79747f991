//! The plugin's stored settings to osticket-cdc's keys: a pure function of
//! the `(key, value)` rows, tested without a database.
//!
//! Each value is read the way the plugin's constructors read it, so that
//! the file reproduces the plugin's bytes rather than its form's intent:
//!
//! - choice fields hold the bare key (`srz_json`) or, on osTicket 1.17+, a
//!   JSON object mapping it to its label (`{"srz_json":"JSON"}`);
//! - JSON flags are an integer sum; the plugin keeps only bits that name a
//!   flag, and an empty value means no flag at all (not the default 1328);
//! - a JSON depth that is not positive means the default, 16;
//! - CSV: an empty separator means `,`, a blank enclosure `"`, and a blank
//!   escape turns escaping off; otherwise the first byte counts (after
//!   trimming, for enclosure and escape);
//! - the use case runs only when `tickets_creation_enabled` is `1`.
//!
//! A setting that is absent takes the plugin's field default, which is the
//! connector's default too, so it is not written.

use std::collections::BTreeMap;

use super::text::{TomlText, quote};
use crate::codec::encoding::SourceEncoding;
use crate::codec::json::{JsonFlags, JsonSerializer};

/// A stored setting: `key` and `value` (`None` for SQL NULL).
pub type StoredSetting = (String, Option<String>);

/// Where the settings came from, for the header and `[source]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The database URL to write, its password already replaced.
    pub url: String,
    /// osTicket's table prefix.
    pub table_prefix: String,
    /// The namespace the settings were read from (`plugin.3.instance.1`).
    pub namespace: String,
}

/// The converted configuration and what could not be carried over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    /// The osticket-cdc TOML configuration.
    pub toml: String,
    /// One line for each setting that is not carried over, or not as the
    /// plugin used it.
    pub warnings: Vec<String>,
}

/// The data serializer's options namespace in the plugin.
const DATA: &str = "tickets_creation_tpl_sequence";
/// The Kinesis record's options namespace in the plugin.
const KINESIS: &str = "tickets_creation_rec_kinesis";
/// The plugin's Beanstalk settings, kept as comments until issue #4.
const BEANSTALK: [&str; 6] = [
    "stm_beanstalk_host",
    "stm_beanstalk_port",
    "stm_beanstalk_priority",
    "stm_beanstalk_delay",
    "stm_beanstalk_ttr",
    "tickets_creation_stm_beanstalk_queue",
];
/// The plugin's own keys besides the Beanstalk and serializer options;
/// the section titles of its form are listed in case they were stored.
const OTHER_KEYS: [&str; 12] = [
    "code",
    "stm",
    "tickets_creation_enabled",
    "tickets_creation_tpl_sequence_srz",
    "tickets_creation_rec",
    "tickets_creation_rec_kinesis_stream",
    "tickets_creation_rec_kinesis_enc",
    "tickets_creation_rec_kinesis_enc_utf8_encoding",
    "tickets_creation_rec_kinesis_srz",
    "general_options_subtitle",
    "stream_section",
    "tickets_creation_subtitle",
];
/// The serializer options, after `<namespace>_srz_`.
const SERIALIZER_OPTIONS: [&str; 7] = [
    "json_flags",
    "json_depth",
    "ndjson_eol",
    "csv_separator",
    "csv_enclosure",
    "csv_escape",
    "csv_memory",
];

/// Converts the plugin's settings (one namespace of `<prefix>config`).
pub fn convert(settings: &[StoredSetting], origin: &Origin) -> Conversion {
    let mut converter = Converter {
        stored: settings
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_deref()))
            .collect(),
        doc: TomlText::default(),
        warnings: Vec::new(),
    };
    converter.header_and_source(origin);
    converter.helpdesk();
    converter.sink();
    converter.tickets_creation();
    for (key, value) in settings {
        if !is_known(key) {
            let value = value.as_deref().map_or("NULL".to_owned(), quote);
            converter.warn(format!(
                "unknown plugin setting `{key}` = {value}: not an option of bfx-ost-streamer \
                 that osticket-cdc knows; not carried over"
            ));
        }
    }
    Conversion {
        toml: converter.doc.finish(),
        warnings: converter.warnings,
    }
}

fn is_known(key: &str) -> bool {
    let option = [DATA, KINESIS]
        .iter()
        .filter_map(|ns| key.strip_prefix(ns)?.strip_prefix("_srz_"))
        .any(|rest| SERIALIZER_OPTIONS.contains(&rest));
    option || BEANSTALK.contains(&key) || OTHER_KEYS.contains(&key)
}

struct Converter<'a> {
    stored: BTreeMap<&'a str, Option<&'a str>>,
    doc: TomlText,
    warnings: Vec<String>,
}

impl Converter<'_> {
    fn warn(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    /// The stored value; `None` when absent or NULL.
    fn get(&self, key: &str) -> Option<&str> {
        self.stored.get(key).copied().flatten()
    }

    /// A choice field's key: the bare value, or the only key of osTicket
    /// 1.17's `{"key":"label"}`; `None` when absent or empty.
    fn choice(&self, key: &str) -> Option<String> {
        let value = self.get(key)?.trim();
        if value.starts_with('{') {
            let object: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(value).ok()?;
            return object.keys().next().cloned();
        }
        (!value.is_empty()).then(|| value.to_owned())
    }

    fn header_and_source(&mut self, origin: &Origin) {
        self.doc.comment(&format!(
            "osticket-cdc configuration converted by `osticket-cdc config from-plugin` from \
             the bfx-ost-streamer plugin's settings (namespace `{}` of table `{}config`). \
             Keys not written take their defaults, which are the plugin's.",
            origin.namespace, origin.table_prefix
        ));
        self.doc.table("source");
        self.doc.comment(
            "osTicket's database, as given to `config from-plugin`. The password is not \
             copied: set OSTICKET_CDC_SOURCE__PASSWORD (or source.password), which replaces \
             the URL's, before `osticket-cdc run`. The user needs REPLICATION SLAVE, \
             REPLICATION CLIENT (BINLOG MONITOR on MariaDB 10.5+) and SELECT on the ticket, \
             department and help topic tables.",
        );
        self.doc.string("url", &origin.url);
        self.doc.string("table_prefix", &origin.table_prefix);
    }

    fn helpdesk(&mut self) {
        self.doc.table("helpdesk");
        match self.get("code").filter(|code| !code.is_empty()) {
            Some(code) => {
                let code = code.to_owned();
                self.doc.comment("Plugin: `code`.");
                self.doc.string("code", &code);
            }
            None => {
                self.doc
                    .comment("Plugin: `code` is not set: no helpdesk code.");
                self.doc.string("code", "");
            }
        }
    }

    fn sink(&mut self) {
        self.doc.table("sink");
        let stream = self.choice("stm");
        match stream.as_deref() {
            Some("stm_beanstalk") => {
                self.doc.comment(
                    "The plugin streamed to Beanstalk (`stm` = stm_beanstalk). The Beanstalk \
                     sink comes with issue #4; until then records go to standard output. The \
                     plugin's Beanstalk settings:",
                );
                self.warn(
                    "`stm` = \"stm_beanstalk\": the Beanstalk sink comes with issue #4; \
                     sink.type is stdout until then"
                        .to_owned(),
                );
            }
            Some(other) => {
                self.doc.comment("The plugin's Beanstalk settings:");
                self.warn(format!(
                    "`stm` = {}: not a stream the plugin offers (stm_beanstalk); \
                     sink.type is stdout",
                    quote(other)
                ));
            }
            None => self.doc.comment("The plugin's Beanstalk settings:"),
        }
        for key in BEANSTALK {
            match self.get(key).filter(|value| !value.is_empty()) {
                Some(value) => {
                    let value = quote(value);
                    self.doc.comment_line(&format!("  {key} = {value}"));
                    self.warn(format!(
                        "`{key}` = {value}: the Beanstalk sink comes with issue #4; kept as \
                         a comment in [sink]"
                    ));
                }
                None => self.doc.comment_line(&format!("  {key}: not set")),
            }
        }
        self.doc.string("type", "stdout");
    }

    fn tickets_creation(&mut self) {
        self.doc.table("tickets_creation");
        let key = "tickets_creation_enabled";
        let stored = self.get(key).map(str::to_owned);
        match stored.as_deref() {
            Some(value) if !value.is_empty() && value != "0" => {
                self.doc
                    .comment(&format!("Plugin: `{key}` = {}.", quote(value)));
                self.doc.boolean("enabled", true);
            }
            _ => {
                let shown = stored
                    .as_deref()
                    .map_or("is not set".to_owned(), |v| format!("= {}", quote(v)));
                self.doc.comment(&format!(
                    "Plugin: `{key}` {shown}: the use case was disabled. Set true to stream."
                ));
                self.doc.boolean("enabled", false);
                self.warn(format!(
                    "`{key}` {shown}: the plugin's tickets creation use case was disabled; \
                     written as tickets_creation.enabled = false (set it to true to stream)"
                ));
            }
        }

        let data = self.serializer_choice(&format!("{DATA}_srz"), "data_serializer");
        self.record_kind();
        self.stream_name();
        self.encoder();
        let record = self.serializer_choice(&format!("{KINESIS}_srz"), "record_serializer");
        self.serializer_options(DATA, "tickets_creation.data", data);
        self.serializer_options(KINESIS, "tickets_creation.record_options", record);
    }

    /// Writes `target` for the serializer chosen in `key`, and returns it.
    fn serializer_choice(&mut self, key: &str, target: &str) -> Option<&'static str> {
        let choice = self.choice(key);
        let name = match choice.as_deref() {
            Some("srz_json") => "json",
            Some("srz_ndjson") => "ndjson",
            Some("srz_csv") => "csv",
            other => {
                let shown = other.map_or("is not set".to_owned(), |v| format!("= {}", quote(v)));
                self.warn(format!(
                    "`{key}` {shown}: not a serializer the plugin offers (srz_json, \
                     srz_ndjson, srz_csv); tickets_creation.{target} is left at its default, json"
                ));
                return None;
            }
        };
        self.doc.comment(&format!("Plugin: `{key}` = srz_{name}."));
        self.doc.string(target, name);
        Some(name)
    }

    fn record_kind(&mut self) {
        let key = "tickets_creation_rec";
        match self.choice(key).as_deref() {
            Some("rec_kinesis") => self.doc.comment(&format!("Plugin: `{key}` = rec_kinesis.")),
            other => {
                let shown = other.map_or("is not set".to_owned(), |v| format!("= {}", quote(v)));
                self.doc
                    .comment(&format!("Plugin: `{key}` {shown}; the Kinesis record."));
                self.warn(format!(
                    "`{key}` {shown}: the plugin's only record is rec_kinesis; written as \
                     tickets_creation.record = \"kinesis\""
                ));
            }
        }
        self.doc.string("record", "kinesis");
    }

    fn stream_name(&mut self) {
        let key = "tickets_creation_rec_kinesis_stream";
        match self.get(key).filter(|name| !name.is_empty()) {
            Some(name) => {
                let name = name.to_owned();
                self.doc.comment(&format!("Plugin: `{key}`."));
                self.doc.string("stream_name", &name);
            }
            None => {
                self.doc
                    .comment(&format!("Plugin: `{key}` is not set; a placeholder."));
                self.doc.string("stream_name", "set-me");
                self.warn(format!(
                    "`{key}` is not set: the plugin could not build records without it; \
                     written as tickets_creation.stream_name = \"set-me\": put the consumers' \
                     stream name there"
                ));
            }
        }
    }

    fn encoder(&mut self) {
        let key = "tickets_creation_rec_kinesis_enc";
        let stored = self.choice(key);
        let name = match stored.as_deref() {
            Some("enc_utf8") => "utf8",
            Some("enc_hex") => "base16",
            Some("enc_base64") => "base64",
            other => {
                let shown = other.map_or("is not set".to_owned(), |v| format!("= {}", quote(v)));
                self.warn(format!(
                    "`{key}` {shown}: not an encoder the plugin offers (enc_utf8, enc_hex, \
                     enc_base64); tickets_creation.encoder is left at its default, base64"
                ));
                return;
            }
        };
        let stored = stored.unwrap_or_default();
        self.doc.comment(&format!("Plugin: `{key}` = {stored}."));
        self.doc.string("encoder", name);
        if name == "utf8" {
            self.source_encoding();
        }
    }

    fn source_encoding(&mut self) {
        let key = "tickets_creation_rec_kinesis_enc_utf8_encoding";
        let Some(name) = self.choice(key) else {
            self.doc.comment(&format!(
                "Plugin: `{key}` is not set: mbstring's internal encoding, UTF-8."
            ));
            self.doc.string("source_encoding", "UTF-8");
            return;
        };
        if SourceEncoding::parse(&name).is_ok() {
            self.doc.comment(&format!("Plugin: `{key}`."));
            self.doc.string("source_encoding", &name);
        } else {
            self.doc.comment(&format!(
                "Plugin: `{key}` = {}, which osticket-cdc cannot convert from.",
                quote(&name)
            ));
            self.warn(format!(
                "`{key}` = {}: osticket-cdc cannot convert from this encoding; \
                 tickets_creation.source_encoding is left at UTF-8, so records with \
                 non-ASCII text differ from the plugin's",
                quote(&name)
            ));
        }
    }
}

mod options;
