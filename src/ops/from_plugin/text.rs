//! A small TOML writer for the converted configuration: tables, keys with
//! string, integer and boolean values, and comments wrapped near 80
//! columns. Only what the converter writes; values are quoted so that the
//! `config` crate reads back exactly the text given.

use std::fmt::Write as _;

/// Where comments wrap.
const WIDTH: usize = 79;

/// A TOML document being written.
#[derive(Debug, Default)]
pub(super) struct TomlText {
    text: String,
}

impl TomlText {
    /// A comment, word-wrapped; each line starts with `# `.
    pub(super) fn comment(&mut self, text: &str) {
        let mut line = String::from("#");
        for word in text.split_whitespace() {
            if line.len() > 1 && line.len() + 1 + word.len() > WIDTH {
                self.text.push_str(&line);
                self.text.push('\n');
                line = String::from("#");
            }
            line.push(' ');
            line.push_str(word);
        }
        self.text.push_str(&line);
        self.text.push('\n');
    }

    /// A comment line kept as it is (for listed values).
    pub(super) fn comment_line(&mut self, text: &str) {
        let _ = writeln!(self.text, "# {text}");
    }

    /// `[name]`, after a blank line.
    pub(super) fn table(&mut self, name: &str) {
        let _ = writeln!(self.text, "\n[{name}]");
    }

    /// `key = "value"`.
    pub(super) fn string(&mut self, key: &str, value: &str) {
        let _ = writeln!(self.text, "{key} = {}", quote(value));
    }

    /// `key = value` for an integer.
    pub(super) fn integer(&mut self, key: &str, value: u64) {
        let _ = writeln!(self.text, "{key} = {value}");
    }

    /// `key = true|false`.
    pub(super) fn boolean(&mut self, key: &str, value: bool) {
        let _ = writeln!(self.text, "{key} = {value}");
    }

    /// The document.
    pub(super) fn finish(self) -> String {
        self.text
    }
}

/// `text` as a TOML basic string: `"` and `\` escaped, control characters
/// as `\uXXXX` (or their short escapes).
pub(super) fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(quoted, "\\u{:04X}", u32::from(c));
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_what_toml_requires() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quote("\t\0\u{85}é"), r#""\t\u0000\u0085é""#);
    }

    #[test]
    fn comments_wrap_at_words() {
        let mut doc = TomlText::default();
        doc.comment(&"word ".repeat(30));
        let text = doc.finish();
        assert!(
            text.lines()
                .all(|l| l.len() <= WIDTH && l.starts_with("# "))
        );
        assert_eq!(text.lines().count(), 2);
    }
}
