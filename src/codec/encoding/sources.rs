//! The table of supported source encodings, by mbstring's names and
//! aliases, and the decoders that need no table of their own: UTF-8,
//! UTF-16 and the single-byte sources (patched where mbstring and WHATWG
//! disagree).

use encoding_rs::{DecoderResult, Encoding};

use super::double_byte::{CP932, CP936, DoubleByte, EUC_CN, EUC_KR, SJIS, UHC};

/// How a source encoding is decoded.
#[derive(Debug, Clone, Copy)]
enum Decoder {
    Utf8,
    /// A byte table; `patches` are the bytes where mbstring differs from
    /// the base (`None`: mbstring leaves the byte undefined).
    SingleByte {
        base: Base,
        patches: &'static [(u8, Option<char>)],
    },
    Utf16(ByteOrder),
    DoubleByte(&'static DoubleByte),
}

/// What a single-byte source is before its patches.
#[derive(Debug, Clone, Copy)]
enum Base {
    Whatwg(&'static Encoding),
    Latin1,
    Ascii,
}

/// How UTF-16 finds its byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ByteOrder {
    /// From a leading BOM, which is dropped; big-endian without one.
    Bom,
    Big,
    Little,
}

/// One supported source encoding.
pub(super) struct Source {
    /// mbstring's name.
    pub(super) name: &'static str,
    /// The other names mbstring accepts.
    pub(super) aliases: &'static [&'static str],
    decoder: Decoder,
}

const fn table(encoding: &'static Encoding) -> Decoder {
    Decoder::SingleByte {
        base: Base::Whatwg(encoding),
        patches: &[],
    }
}

const fn source(name: &'static str, aliases: &'static [&'static str], decoder: Decoder) -> Source {
    Source {
        name,
        aliases,
        decoder,
    }
}

/// The supported sources, mbstring's name first, then its aliases.
#[rustfmt::skip]
pub(super) static SOURCES: &[Source] = &[
    source("UTF-8", &["utf8"], Decoder::Utf8),
    source("ASCII", &["US-ASCII", "ANSI_X3.4-1968", "iso-ir-6", "ANSI_X3.4-1986",
        "ISO_646.irv:1991", "ISO646-US", "us", "IBM367", "IBM-367", "cp367", "csASCII"],
        Decoder::SingleByte { base: Base::Ascii, patches: &[] }),
    source("ISO-8859-1", &["ISO8859-1", "latin1"],
        Decoder::SingleByte { base: Base::Latin1, patches: &[] }),
    source("ISO-8859-2", &["ISO8859-2", "latin2"], table(encoding_rs::ISO_8859_2)),
    source("ISO-8859-3", &["ISO8859-3", "latin3"], table(encoding_rs::ISO_8859_3)),
    source("ISO-8859-4", &["ISO8859-4", "latin4"], table(encoding_rs::ISO_8859_4)),
    source("ISO-8859-5", &["ISO8859-5", "cyrillic"], table(encoding_rs::ISO_8859_5)),
    source("ISO-8859-6", &["ISO8859-6", "arabic"], table(encoding_rs::ISO_8859_6)),
    source("ISO-8859-7", &["ISO8859-7", "greek"], table(encoding_rs::ISO_8859_7)),
    source("ISO-8859-8", &["ISO8859-8", "hebrew"], table(encoding_rs::ISO_8859_8)),
    source("ISO-8859-9", &["ISO8859-9", "latin5"], Decoder::SingleByte {
        base: Base::Latin1,
        patches: &[(0xD0, Some('Ğ')), (0xDD, Some('İ')), (0xDE, Some('Ş')),
            (0xF0, Some('ğ')), (0xFD, Some('ı')), (0xFE, Some('ş'))],
    }),
    source("ISO-8859-10", &["ISO8859-10", "latin6"], table(encoding_rs::ISO_8859_10)),
    source("ISO-8859-13", &["ISO8859-13"], table(encoding_rs::ISO_8859_13)),
    source("ISO-8859-14", &["ISO8859-14", "latin8"], table(encoding_rs::ISO_8859_14)),
    source("ISO-8859-15", &["ISO8859-15"], table(encoding_rs::ISO_8859_15)),
    source("ISO-8859-16", &["ISO8859-16"], table(encoding_rs::ISO_8859_16)),
    source("Windows-1251", &["CP1251", "CP-1251"], Decoder::SingleByte {
        base: Base::Whatwg(encoding_rs::WINDOWS_1251),
        patches: &[(0x98, None)],
    }),
    source("Windows-1252", &["cp1252"], table(encoding_rs::WINDOWS_1252)),
    source("Windows-1254", &["CP1254", "CP-1254"], Decoder::SingleByte {
        base: Base::Whatwg(encoding_rs::WINDOWS_1254),
        patches: &[(0x81, None), (0x8D, None), (0x8E, None), (0x8F, None),
            (0x90, None), (0x9D, None), (0x9E, None)],
    }),
    source("CP866", &["CP-866", "IBM866", "IBM-866"], table(encoding_rs::IBM866)),
    source("KOI8-R", &["KOI8R"], table(encoding_rs::KOI8_R)),
    source("KOI8-U", &["KOI8U"], Decoder::SingleByte {
        base: Base::Whatwg(encoding_rs::KOI8_U),
        patches: &[(0xAE, Some('╝')), (0xBE, Some('╬'))],
    }),
    source("UTF-16", &["utf16"], Decoder::Utf16(ByteOrder::Bom)),
    source("UTF-16BE", &[], Decoder::Utf16(ByteOrder::Big)),
    source("UTF-16LE", &[], Decoder::Utf16(ByteOrder::Little)),
    source("SJIS", &["Shift_JIS", "x-sjis", "SHIFT-JIS"], Decoder::DoubleByte(&SJIS)),
    source("CP932", &["MS932", "Windows-31J", "MS_Kanji"], Decoder::DoubleByte(&CP932)),
    source("SJIS-win", &["SJIS-ms", "SJIS-open"], Decoder::DoubleByte(&CP932)),
    source("EUC-KR", &["EUC_KR", "eucKR", "x-euc-kr"], Decoder::DoubleByte(&EUC_KR)),
    source("UHC", &["CP949"], Decoder::DoubleByte(&UHC)),
    source("EUC-CN", &["CN-GB", "EUC_CN", "eucCN", "x-euc-cn", "gb2312"],
        Decoder::DoubleByte(&EUC_CN)),
    source("CP936", &["CP-936", "GBK"], Decoder::DoubleByte(&CP936)),
];

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl Source {
    /// `input` converted to UTF-8, with `?` for what is invalid.
    pub(super) fn decode_to_utf8(&self, input: &[u8]) -> Vec<u8> {
        match self.decoder {
            Decoder::Utf8 => decode_utf8(input),
            Decoder::SingleByte { base, patches } => {
                let mut out = String::with_capacity(input.len() * 2);
                for &byte in input {
                    let patched = patches.iter().find(|(b, _)| *b == byte);
                    let decoded = patched.map_or_else(|| base.decode(byte), |&(_, c)| c);
                    out.push(decoded.unwrap_or('?'));
                }
                out.into_bytes()
            }
            Decoder::Utf16(order) => decode_utf16(input, order),
            Decoder::DoubleByte(layout) => layout.to_utf8(input),
        }
    }
}

impl Base {
    fn decode(self, byte: u8) -> Option<char> {
        match self {
            _ if byte < 0x80 => Some(char::from(byte)),
            Base::Latin1 => Some(char::from(byte)),
            Base::Ascii => None,
            Base::Whatwg(encoding) => {
                let bytes = [byte];
                let text = encoding.decode_without_bom_handling_and_without_replacement(&bytes);
                text.as_deref().and_then(|t| t.chars().next())
            }
        }
    }
}

/// UTF-8 to UTF-8, one `?` per maximal invalid subpart.
fn decode_utf8(input: &[u8]) -> Vec<u8> {
    let mut decoder = encoding_rs::UTF_8.new_decoder_without_bom_handling();
    let mut out = vec![0; input.len() + 16];
    let (mut read, mut written) = (0, 0);
    loop {
        let (result, r, w) =
            decoder.decode_to_utf8_without_replacement(&input[read..], &mut out[written..], true);
        read += r;
        written += w;
        match result {
            DecoderResult::InputEmpty => break,
            DecoderResult::OutputFull => out.resize(out.len() * 2, 0),
            DecoderResult::Malformed(..) => {
                // A malformed sequence is at least one byte and `?` is one,
                // so the buffer sized for the input always has room.
                out[written] = b'?';
                written += 1;
            }
        }
    }
    out.truncate(written);
    out
}

/// UTF-16 to UTF-8 as mbstring does it: an unpaired surrogate is `?` (the
/// unit after a lone high surrogate is decoded on its own), a dangling odd
/// byte is another `?`.
fn decode_utf16(input: &[u8], order: ByteOrder) -> Vec<u8> {
    let (input, little) = match (order, input) {
        (ByteOrder::Bom, [0xFE, 0xFF, rest @ ..]) => (rest, false),
        (ByteOrder::Bom, [0xFF, 0xFE, rest @ ..]) => (rest, true),
        (ByteOrder::Little, _) => (input, true),
        _ => (input, false),
    };
    let units = input.chunks_exact(2).map(|pair| {
        let pair = [pair[0], pair[1]];
        if little {
            u16::from_le_bytes(pair)
        } else {
            u16::from_be_bytes(pair)
        }
    });

    let mut out = String::with_capacity(input.len() * 2);
    let mut high: Option<u16> = None;
    for unit in units {
        if let Some(h) = high.take() {
            if (0xDC00..=0xDFFF).contains(&unit) {
                let point = 0x10000 + ((u32::from(h) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                out.push(char::from_u32(point).expect("a surrogate pair is a scalar value"));
                continue;
            }
            out.push('?');
        }
        match unit {
            0xD800..=0xDBFF => high = Some(unit),
            _ => out.push(char::from_u32(u32::from(unit)).unwrap_or('?')),
        }
    }
    if high.is_some() {
        out.push('?');
    }
    if input.len() % 2 == 1 {
        out.push('?');
    }
    out.into_bytes()
}
