//! The double-byte East Asian sources, decoded the way PHP 8.2's mbstring
//! does: encoding_rs supplies the character tables, this module supplies
//! mbstring's structure around them.
//!
//! The two disagree in three ways, each measured against PHP over every
//! byte pair:
//!
//! - Error recovery. After a lead byte mbstring always consumes the next
//!   byte, whatever it is, and writes one `?` for an invalid pair; WHATWG
//!   decoders give an ASCII second byte back to be decoded on its own.
//! - Which bytes are valid. mbstring's Shift_JIS (`SJIS`) has no NEC or IBM
//!   extension rows, its EUC-KR and EUC-CN accept only the KS X 1001 and
//!   GB 2312 ranges; encoding_rs decodes their supersets (Windows-31J, UHC,
//!   GBK). The ranges below reject what mbstring rejects.
//! - A few table entries: mbstring's Shift_JIS follows JIS X 0208 for six
//!   characters where Windows-31J differs (`〜` U+301C, not U+FF5E, ...);
//!   its EUC-CN writes U+30FB and U+2015 for A1A4 and A1AA; its CP936 keeps
//!   the older private-use code points for about a hundred GBK characters
//!   that GB 18030-2005 later assigned.
//!
//! A lead byte at the end of the input is one `?`.

use encoding_rs::Encoding;

/// How one double-byte source is laid out.
#[derive(Debug)]
pub(super) struct DoubleByte {
    /// The superset whose table answers for valid pairs.
    table: &'static Encoding,
    /// Bytes that start a pair (and consume the next byte).
    leads: &'static [(u8, u8)],
    /// Single bytes above 0x7F that stand for a character; every other
    /// non-lead byte above 0x7F is one `?`.
    singles: fn(u8) -> Option<char>,
    /// Whether mbstring accepts this pair at all (before the table).
    accepts: fn(u8, u8) -> bool,
    /// Pairs mbstring decodes differently from the table:
    /// `(first pair, last pair, code point of the first)`, consecutive.
    overrides: &'static [(u16, u16, u32)],
}

/// mbstring's `SJIS`: JIS X 0208 only.
pub(super) static SJIS: DoubleByte = DoubleByte {
    table: encoding_rs::SHIFT_JIS,
    leads: &[(0x81, 0x9F), (0xE0, 0xEF)],
    singles: half_width_katakana,
    accepts: |lead, trail| !matches!(lead, 0x85..=0x87 | 0xEB..=0xEF) && sjis_trail(trail),
    overrides: &[
        (0x8160, 0x8160, 0x301C),
        (0x8161, 0x8161, 0x2016),
        (0x817C, 0x817C, 0x2212),
        (0x8191, 0x8192, 0x00A2),
        (0x81CA, 0x81CA, 0x00AC),
    ],
};

/// mbstring's `CP932` and `SJIS-win`: Windows-31J, as encoding_rs has it.
pub(super) static CP932: DoubleByte = DoubleByte {
    table: encoding_rs::SHIFT_JIS,
    leads: &[(0x81, 0x9F), (0xE0, 0xFC)],
    singles: half_width_katakana,
    accepts: |_, trail| sjis_trail(trail),
    overrides: &[],
};

/// mbstring's `UHC` (CP949), which is WHATWG's EUC-KR.
pub(super) static UHC: DoubleByte = DoubleByte {
    table: encoding_rs::EUC_KR,
    leads: &[(0x81, 0xC8), (0xCA, 0xFD)],
    singles: none,
    accepts: |_, _| true,
    overrides: &[],
};

/// mbstring's `EUC-KR`: KS X 1001 rows only.
pub(super) static EUC_KR: DoubleByte = DoubleByte {
    table: encoding_rs::EUC_KR,
    leads: &[(0xA1, 0xAC), (0xB0, 0xC8), (0xCA, 0xFD)],
    singles: none,
    accepts: |_, trail| (0xA1..=0xFE).contains(&trail),
    overrides: &[],
};

/// mbstring's `EUC-CN`: GB 2312 only.
pub(super) static EUC_CN: DoubleByte = DoubleByte {
    table: encoding_rs::GBK,
    leads: &[(0xA1, 0xA9), (0xB0, 0xF7)],
    singles: none,
    accepts: gb2312_pair,
    overrides: &[(0xA1A4, 0xA1A4, 0x30FB), (0xA1AA, 0xA1AA, 0x2015)],
};

/// mbstring's `CP936` (GBK), with its older private-use assignments.
pub(super) static CP936: DoubleByte = DoubleByte {
    table: encoding_rs::GBK,
    leads: &[(0x81, 0xFE)],
    singles: |byte| match byte {
        0x80 => Some('\u{20AC}'),
        0xFF => Some('\u{F8F5}'),
        _ => None,
    },
    accepts: |_, trail| matches!(trail, 0x40..=0x7E | 0x80..=0xFE),
    overrides: &[
        (0xA2E3, 0xA2E3, 0xE76C),
        (0xA3A0, 0xA3A0, 0xE5E5),
        (0xA6D9, 0xA6DF, 0xE78D),
        (0xA6EC, 0xA6ED, 0xE794),
        (0xA6F3, 0xA6F3, 0xE796),
        (0xA8BC, 0xA8BC, 0xE7C7),
        (0xA8BF, 0xA8BF, 0xE7C8),
        (0xA989, 0xA995, 0xE7E7),
        (0xFE50, 0xFE7E, 0xE815),
        (0xFE80, 0xFEA0, 0xE844),
    ],
};

fn half_width_katakana(byte: u8) -> Option<char> {
    match byte {
        0xA1..=0xDF => char::from_u32(0xFF61 + u32::from(byte - 0xA1)),
        _ => None,
    }
}

fn none(_: u8) -> Option<char> {
    None
}

fn sjis_trail(trail: u8) -> bool {
    matches!(trail, 0x40..=0x7E | 0x80..=0xFC)
}

/// GB 2312's defined cells; GBK fills the gaps with characters mbstring's
/// EUC-CN does not know.
fn gb2312_pair(lead: u8, trail: u8) -> bool {
    let ranges: &[(u8, u8)] = match lead {
        0xA2 => &[(0xB1, 0xE2), (0xE5, 0xEE), (0xF1, 0xFC)],
        0xA4 => &[(0xA1, 0xF3)],
        0xA5 => &[(0xA1, 0xF6)],
        0xA6 => &[(0xA1, 0xB8), (0xC1, 0xD8)],
        0xA7 => &[(0xA1, 0xC1), (0xD1, 0xF1)],
        0xA8 => &[(0xA1, 0xBA), (0xC5, 0xE9)],
        0xA9 => &[(0xA4, 0xEF)],
        0xD7 => &[(0xA1, 0xF9)],
        _ => &[(0xA1, 0xFE)],
    };
    ranges
        .iter()
        .any(|&(low, high)| (low..=high).contains(&trail))
}

impl DoubleByte {
    /// Decodes `input` to UTF-8, one `?` for each invalid byte or pair.
    pub(super) fn to_utf8(&self, input: &[u8]) -> Vec<u8> {
        let mut out = String::with_capacity(input.len() * 2);
        let mut bytes = input.iter().copied();
        while let Some(byte) = bytes.next() {
            let decoded = if byte < 0x80 {
                Some(char::from(byte))
            } else if self.is_lead(byte) {
                bytes.next().and_then(|trail| self.pair(byte, trail))
            } else {
                (self.singles)(byte)
            };
            out.push(decoded.unwrap_or('?'));
        }
        out.into_bytes()
    }

    fn is_lead(&self, byte: u8) -> bool {
        self.leads
            .iter()
            .any(|&(low, high)| (low..=high).contains(&byte))
    }

    /// The character of a pair, or `None` when mbstring rejects it.
    fn pair(&self, lead: u8, trail: u8) -> Option<char> {
        if !(self.accepts)(lead, trail) {
            return None;
        }
        let code = u16::from_be_bytes([lead, trail]);
        let overridden = self
            .overrides
            .iter()
            .find(|&&(first, last, _)| (first..=last).contains(&code));
        if let Some(&(first, _, point)) = overridden {
            return char::from_u32(point + u32::from(code - first));
        }

        // A valid pair decodes to exactly one character; anything else
        // (an error, or an ASCII trail given back) is mbstring's `?`.
        let bytes = [lead, trail];
        let text = self
            .table
            .decode_without_bom_handling_and_without_replacement(&bytes)?;
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Some(c),
            _ => None,
        }
    }
}
