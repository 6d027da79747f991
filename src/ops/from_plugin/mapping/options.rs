//! The serializer options of one plugin namespace (`<namespace>_srz_*`) to
//! a `[tickets_creation.data]` or `[tickets_creation.record_options]`
//! table: only the options of the chosen serializer are written, read as
//! the plugin's serializer constructors read them.

use super::{Converter, JsonFlags, JsonSerializer, quote};

/// The plugin's line endings: the base64 of the bytes is the choice key.
const LINE_ENDINGS: [(&str, &str, &str); 6] = [
    ("AA==", "nul", "NUL"),
    ("Cg==", "lf", "LF"),
    ("woU=", "nel", "NEL, U+0085"),
    ("4oCo", "ls", "LS, U+2028"),
    ("4oCp", "ps", "PS, U+2029"),
    ("DQo=", "crlf", "CR LF"),
];

impl Converter<'_> {
    /// Writes `table` with the options the chosen `serializer` uses.
    pub(super) fn serializer_options(
        &mut self,
        namespace: &str,
        table: &str,
        serializer: Option<&str>,
    ) {
        let Some(serializer) = serializer else {
            return;
        };
        self.doc.table(table);
        let prefix = format!("{namespace}_srz");
        self.doc.comment(&format!(
            "Options of the {serializer} serializer (plugin: `{prefix}_*`)."
        ));
        if serializer == "csv" {
            self.csv_options(&prefix);
        } else {
            self.json_flags(&format!("{prefix}_json_flags"));
            self.json_depth(&format!("{prefix}_json_depth"));
            if serializer == "ndjson" {
                self.line_ending(&format!("{prefix}_ndjson_eol"));
            }
        }
    }

    fn json_flags(&mut self, key: &str) {
        let Some(stored) = self.get(key).map(str::to_owned) else {
            return self
                .doc
                .comment(&format!("Plugin: `{key}` is not set: the default, 1328."));
        };
        // The plugin's field keeps the bits of the flags it offers, which
        // are the flags PHP defines; anything else reads as no flag.
        let (bits, note) = match php_number(&stored) {
            Some(number) => {
                let bits = (number as u64 & u64::from(JsonFlags::ALL.bits())) as u32;
                let dropped = number as u64 & !u64::from(JsonFlags::ALL.bits());
                let note = if dropped == 0 {
                    String::new()
                } else {
                    format!(" (bits {dropped} name no flag: the plugin ignored them)")
                };
                (bits, note)
            }
            None => (0, " (not a number: the plugin used no flag)".to_owned()),
        };
        let flags = JsonFlags::from_bits(bits).unwrap_or(JsonFlags::NONE);
        let names: Vec<&str> = flags.names().collect();
        let names = if names.is_empty() {
            "no flag".to_owned()
        } else {
            names.join(" | ")
        };
        self.doc.comment(&format!(
            "Plugin: `{key}` = {}{note}: {names}.",
            quote(&stored)
        ));
        self.doc.integer("json_flags", u64::from(bits));
    }

    fn json_depth(&mut self, key: &str) {
        let Some(stored) = self.get(key).map(str::to_owned) else {
            return self
                .doc
                .comment(&format!("Plugin: `{key}` is not set: the default, 16."));
        };
        let depth = php_intval(&stored);
        if depth > i64::from(JsonSerializer::MAX_DEPTH) {
            self.doc.comment(&format!(
                "Plugin: `{key}` = {}, more than PHP accepts.",
                quote(&stored)
            ));
            return self.warn(format!(
                "`{key}` = {}: PHP rejects a JSON depth above {}, so the plugin sent no \
                 record; json_depth is left at 16",
                quote(&stored),
                JsonSerializer::MAX_DEPTH
            ));
        }
        if depth <= 0 {
            self.doc.comment(&format!(
                "Plugin: `{key}` = {}, not positive: the plugin used 16.",
                quote(&stored)
            ));
            return self.doc.integer("json_depth", 16);
        }
        self.doc.comment(&format!("Plugin: `{key}`."));
        self.doc.integer("json_depth", depth as u64);
    }

    fn line_ending(&mut self, key: &str) {
        if self.get(key).is_none() {
            return self
                .doc
                .comment(&format!("Plugin: `{key}` is not set: the default, LF."));
        }
        let choice = self.choice(key).unwrap_or_default();
        if choice.is_empty() {
            self.doc
                .comment(&format!("Plugin: `{key}` is empty: the plugin used LF."));
            return self.doc.string("ndjson_terminator", "lf");
        }
        match LINE_ENDINGS.iter().find(|(code, _, _)| *code == choice) {
            Some((code, name, bytes)) => {
                self.doc
                    .comment(&format!("Plugin: `{key}` = {code} ({bytes})."));
                self.doc.string("ndjson_terminator", name);
            }
            None => {
                let codes: Vec<&str> = LINE_ENDINGS.iter().map(|(code, _, _)| *code).collect();
                self.doc.comment(&format!(
                    "Plugin: `{key}` = {}, not a line ending osticket-cdc writes.",
                    quote(&choice)
                ));
                self.warn(format!(
                    "`{key}` = {}: not one of the plugin's line endings ({}); \
                     ndjson_terminator is left at lf",
                    quote(&choice),
                    codes.join(", ")
                ));
            }
        }
    }

    fn csv_options(&mut self, prefix: &str) {
        for option in ["separator", "enclosure", "escape"] {
            let key = format!("{prefix}_csv_{option}");
            let Some(stored) = self.get(&key).map(str::to_owned) else {
                self.doc
                    .comment(&format!("Plugin: `{key}` is not set: the default."));
                continue;
            };
            // CsvSerializer's constructor: the first byte of a non-empty
            // separator, of a trimmed non-blank enclosure or escape.
            let used: &[u8] = match option {
                "separator" if stored.is_empty() => b",",
                "separator" => stored.as_bytes().get(..1).unwrap_or_default(),
                "enclosure" if !not_blank(&stored) => b"\"",
                "escape" if !not_blank(&stored) => b"",
                _ => php_trim(&stored).as_bytes().get(..1).unwrap_or_default(),
            };
            let Ok(used) = std::str::from_utf8(used) else {
                self.doc.comment(&format!(
                    "Plugin: `{key}` = {}: its first byte is not a character.",
                    quote(&stored)
                ));
                self.warn(format!(
                    "`{key}` = {}: the plugin used its first byte alone, which is not ASCII \
                     and cannot be written in TOML; csv_{option} is left at its default",
                    quote(&stored)
                ));
                continue;
            };
            let note = match (used == stored, used.is_empty()) {
                (true, _) => String::new(),
                (false, true) => " (blank: the plugin turned escaping off)".to_owned(),
                (false, false) => format!(" (the plugin used {})", quote(used)),
            };
            let used = used.to_owned();
            self.doc
                .comment(&format!("Plugin: `{key}` = {}{note}.", quote(&stored)));
            self.doc.string(&format!("csv_{option}"), &used);
        }

        let key = format!("{prefix}_csv_memory");
        if let Some(memory) = self.get(&key).filter(|m| !m.is_empty()) {
            let memory = quote(memory);
            self.warn(format!(
                "`{key}` = {memory}: the CSV memory limit never changed the output (PHP's \
                 php://temp only moves to a file above it); not carried over"
            ));
        }
    }
}

/// PHP's `is_numeric` then `intval`: `None` for text that is not a number.
fn php_number(text: &str) -> Option<i64> {
    let trimmed = text.trim_matches(|c: char| " \t\n\r\x0b\x0c".contains(c));
    if let Ok(n) = trimmed.parse::<i64>() {
        return Some(n);
    }
    let numeric = trimmed.bytes().any(|b| b.is_ascii_digit())
        && trimmed
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
    let float = trimmed.parse::<f64>().ok().filter(|_| numeric)?;
    // `as` saturates, as PHP 8 does for out-of-range floats on 64 bits.
    Some(float as i64)
}

/// PHP's `intval` of a string: a leading number, else 0.
fn php_intval(text: &str) -> i64 {
    if let Some(n) = php_number(text) {
        return n;
    }
    let rest = text.trim_start_matches(|c: char| " \t\n\r\x0b\x0c".contains(c));
    let (sign, digits) = match rest.strip_prefix('-') {
        Some(digits) => (-1, digits),
        None => (1, rest.strip_prefix('+').unwrap_or(rest)),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse::<i64>().map_or(0, |n| sign * n)
}

/// The plugin's `NotBlankValidator`: something besides white space.
fn not_blank(text: &str) -> bool {
    text.bytes().any(|b| !b" \t\n\x0b\x0c\r".contains(&b))
}

/// PHP's `trim` with its default characters.
fn php_trim(text: &str) -> &str {
    text.trim_matches(|c: char| " \t\n\r\0\x0b".contains(c))
}
