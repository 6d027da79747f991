//! Strings as PHP 8.2's `json_encode` writes them: escaping, and what PHP
//! calls invalid UTF-8.
//!
//! Escapes: `\"`, `\\`, `\/` (unless UNESCAPED_SLASHES), `\b \f \n \r \t`,
//! other bytes below 0x20 as `\u00XX` with lowercase hex; DEL (0x7F) stays
//! raw. The HEX_* flags write `\u003C \u003E \u0026 \u0027 \u0022` with
//! *uppercase* hex. Non-ASCII is `\uXXXX` with lowercase hex and surrogate
//! pairs above U+FFFF, or raw with UNESCAPED_UNICODE, where U+2028 and
//! U+2029 still stay escaped unless UNESCAPED_LINE_TERMINATORS is set too.
//!
//! Invalid UTF-8 follows PHP's decoder (`php_next_utf8_char`), which decides
//! how many bytes one invalid sequence covers, and so how many U+FFFD
//! INVALID_UTF8_SUBSTITUTE writes: overlong forms (`C0 80` is two errors,
//! `E0 80 80` one), UTF-16 surrogates (`ED A0 80`), code points above
//! U+10FFFF and bytes F5..FF are invalid; a truncated sequence ends at the
//! first byte that could start a character, but a byte that can neither
//! continue nor start one (C0, C1, F5..FF) is swallowed into the error:
//! `C3 FF` is a single U+FFFD.

use super::JsonFlags;

/// Bytes that leave the fast path: escapes, flag-dependent characters and
/// the start of every non-ASCII sequence.
const SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = byte < 0x20
            || byte >= 0x80
            || matches!(byte as u8, b'"' | b'\\' | b'/' | b'<' | b'>' | b'&' | b'\'');
        byte += 1;
    }
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `text` as a quoted JSON string.
///
/// # Errors
///
/// The byte offset of the first invalid UTF-8 sequence, when neither
/// INVALID_UTF8_IGNORE nor INVALID_UTF8_SUBSTITUTE is set. What was written
/// is left in `out` for the caller to discard.
pub(super) fn write_escaped(out: &mut Vec<u8>, text: &[u8], flags: JsonFlags) -> Result<(), usize> {
    out.push(b'"');
    let mut pos = 0;
    while pos < text.len() {
        // Copy the run of bytes that need nothing.
        let run = text[pos..]
            .iter()
            .take_while(|&&b| !SPECIAL[usize::from(b)])
            .count();
        out.extend_from_slice(&text[pos..pos + run]);
        pos += run;
        let Some(&byte) = text.get(pos) else { break };

        if byte < 0x80 {
            write_ascii(out, byte, flags);
            pos += 1;
            continue;
        }
        match next_utf8_char(text, pos) {
            Ok((ch, next)) => {
                let raw = flags.contains(JsonFlags::UNESCAPED_UNICODE)
                    && (flags.contains(JsonFlags::UNESCAPED_LINE_TERMINATORS)
                        || !(0x2028..=0x2029).contains(&ch));
                if raw {
                    out.extend_from_slice(&text[pos..next]);
                } else {
                    write_unicode_escape(out, ch);
                }
                pos = next;
            }
            Err(next) => {
                if flags.contains(JsonFlags::INVALID_UTF8_IGNORE) {
                    // Dropped.
                } else if flags.contains(JsonFlags::INVALID_UTF8_SUBSTITUTE) {
                    if flags.contains(JsonFlags::UNESCAPED_UNICODE) {
                        out.extend_from_slice("\u{fffd}".as_bytes());
                    } else {
                        out.extend_from_slice(b"\\ufffd");
                    }
                } else {
                    return Err(pos);
                }
                pos = next;
            }
        }
    }
    out.push(b'"');
    Ok(())
}

/// One ASCII byte of the special table.
fn write_ascii(out: &mut Vec<u8>, byte: u8, flags: JsonFlags) {
    let hex_if = |flag: JsonFlags, escaped: &'static [u8], raw: &'static [u8]| {
        if flags.contains(flag) { escaped } else { raw }
    };
    let bytes: &[u8] = match byte {
        b'"' => hex_if(JsonFlags::HEX_QUOT, b"\\u0022", b"\\\""),
        b'\\' => b"\\\\",
        b'/' => hex_if(JsonFlags::UNESCAPED_SLASHES, b"/", b"\\/"),
        0x08 => b"\\b",
        0x0c => b"\\f",
        b'\n' => b"\\n",
        b'\r' => b"\\r",
        b'\t' => b"\\t",
        b'<' => hex_if(JsonFlags::HEX_TAG, b"\\u003C", b"<"),
        b'>' => hex_if(JsonFlags::HEX_TAG, b"\\u003E", b">"),
        b'&' => hex_if(JsonFlags::HEX_AMP, b"\\u0026", b"&"),
        b'\'' => hex_if(JsonFlags::HEX_APOS, b"\\u0027", b"'"),
        control => {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(control >> 4)]);
            out.push(HEX[usize::from(control & 0xf)]);
            return;
        }
    };
    out.extend_from_slice(bytes);
}

/// `\uXXXX`, lowercase, as a surrogate pair above U+FFFF.
fn write_unicode_escape(out: &mut Vec<u8>, ch: u32) {
    let mut unit = |unit: u32| {
        out.extend_from_slice(b"\\u");
        for shift in [12, 8, 4, 0] {
            out.push(HEX[((unit >> shift) & 0xf) as usize]);
        }
    };
    if ch >= 0x1_0000 {
        let offset = ch - 0x1_0000;
        unit(0xd800 | (offset >> 10));
        unit(0xdc00 | (offset & 0x3ff));
    } else {
        unit(ch);
    }
}

/// A byte that may start a character (PHP's `utf8_lead`).
fn is_lead(byte: u8) -> bool {
    byte < 0x80 || (0xc2..=0xf4).contains(&byte)
}

/// A continuation byte (PHP's `utf8_trail`).
fn is_trail(byte: u8) -> bool {
    (0x80..=0xbf).contains(&byte)
}

/// The character at `pos` and the offset after it, or, for an invalid
/// sequence, the offset where decoding resumes; as `php_next_utf8_char`.
pub(super) fn next_utf8_char(text: &[u8], pos: usize) -> Result<(u32, usize), usize> {
    let lead = text[pos];
    let avail = text.len() - pos;
    let byte = |i: usize| text[pos + i];
    let low6 = |i: usize| u32::from(byte(i) & 0x3f);

    // How far a truncated or broken sequence of `len` bytes reaches: up to
    // the first byte that could start a character, or all `len` bytes.
    let broken = |len: usize| {
        let reach = (1..len)
            .find(|&i| avail <= i || is_lead(byte(i)))
            .unwrap_or(len);
        Err(pos + reach)
    };
    let complete = |len: usize| avail >= len && (1..len).all(|i| is_trail(byte(i)));

    match lead {
        0x00..=0x7f => Ok((u32::from(lead), pos + 1)),
        0x80..=0xc1 | 0xf5..=0xff => Err(pos + 1),
        0xc2..=0xdf => {
            if !complete(2) {
                return broken(2);
            }
            Ok(((u32::from(lead & 0x1f) << 6) | low6(1), pos + 2))
        }
        0xe0..=0xef => {
            if !complete(3) {
                return broken(3);
            }
            let ch = (u32::from(lead & 0x0f) << 12) | (low6(1) << 6) | low6(2);
            if ch < 0x800 || (0xd800..=0xdfff).contains(&ch) {
                return Err(pos + 3);
            }
            Ok((ch, pos + 3))
        }
        0xf0..=0xf4 => {
            if !complete(4) {
                return broken(4);
            }
            let ch = (u32::from(lead & 0x07) << 18) | (low6(1) << 12) | (low6(2) << 6) | low6(3);
            if !(0x1_0000..=0x10_ffff).contains(&ch) {
                return Err(pos + 4);
            }
            Ok((ch, pos + 4))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &[u8], flags: JsonFlags) -> Result<String, usize> {
        let mut out = Vec::new();
        write_escaped(&mut out, text, flags)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn escapes_like_php() {
        let text = "a/b\\c\"d<>&' \0\x01\x08\t\n\x0b\x0c\r\x1f\x7f é 😀 \u{2028}\u{2029} \u{85}";
        let plain = r#""a\/b\\c\"d<>&' \u0000\u0001\b\t\n\u000b\f\r\u001f"#;
        let cases = [
            (
                JsonFlags::NONE,
                format!("{plain}\x7f \\u00e9 \\ud83d\\ude00 \\u2028\\u2029 \\u0085\""),
            ),
            (
                JsonFlags::from_bits(15).unwrap(),
                format!(
                    "{}\x7f \\u00e9 \\ud83d\\ude00 \\u2028\\u2029 \\u0085\"",
                    r#""a\/b\\c\u0022d\u003C\u003E\u0026\u0027 \u0000\u0001\b\t\n\u000b\f\r\u001f"#
                ),
            ),
            (
                JsonFlags::UNESCAPED_UNICODE,
                format!("{plain}\x7f é 😀 \\u2028\\u2029 \u{85}\""),
            ),
            (
                JsonFlags::UNESCAPED_UNICODE | JsonFlags::UNESCAPED_LINE_TERMINATORS,
                format!("{plain}\x7f é 😀 \u{2028}\u{2029} \u{85}\""),
            ),
        ];
        for (flags, expected) in cases {
            assert_eq!(
                escaped(text.as_bytes(), flags).unwrap(),
                expected,
                "{flags}"
            );
        }
        assert_eq!(
            escaped(b"a/b", JsonFlags::UNESCAPED_SLASHES).unwrap(),
            r#""a/b""#
        );
    }

    #[test]
    fn invalid_sequences_are_cut_like_php() {
        // Input bytes between `<` and `>`, and how many U+FFFD PHP writes.
        let cases: [(&[u8], &str); 13] = [
            (b"\xc3\xff", "\\ufffd"),
            (b"\xc3", "\\ufffd"),
            (b"\xe2\x82A", "\\ufffdA"),
            (b"\xe2\x82\xc0", "\\ufffd"),
            (b"\xe0\x80\x80", "\\ufffd"),
            (b"\xed\xa0\x80", "\\ufffd"),
            (b"\xf4\x90\x80\x80", "\\ufffd"),
            (b"\xf5x", "\\ufffdx"),
            (b"\xc0\x80", "\\ufffd\\ufffd"),
            (b"\x80", "\\ufffd"),
            (b"\xf0\x9f\x98", "\\ufffd"),
            (b"\xf0\x9f\x98A", "\\ufffdA"),
            (b"\xf0\x9fA", "\\ufffdA"),
        ];
        for (bytes, expected) in cases {
            let text = [b"<", bytes, b">"].concat();
            let substituted = escaped(&text, JsonFlags::INVALID_UTF8_SUBSTITUTE).unwrap();
            assert_eq!(substituted, format!("\"<{expected}>\""), "{bytes:x?}");
            let raw = escaped(
                &text,
                JsonFlags::INVALID_UTF8_SUBSTITUTE | JsonFlags::UNESCAPED_UNICODE,
            )
            .unwrap();
            assert_eq!(
                raw,
                format!("\"<{}>\"", expected.replace("\\ufffd", "\u{fffd}"))
            );
            let ignored = escaped(&text, JsonFlags::INVALID_UTF8_IGNORE).unwrap();
            assert_eq!(
                ignored,
                format!("\"<{}>\"", expected.replace("\\ufffd", ""))
            );
            assert_eq!(escaped(&text, JsonFlags::NONE), Err(1), "{bytes:x?}");
        }
    }
}
