//! Random values, flags and depths for the PHP differential test, biased
//! towards what PHP's `json_encode` treats specially.

use osticket_cdc::codec::json::JsonFlags;
use osticket_cdc::codec::value::Value;
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

/// Strings whose numeric reading is easy to get wrong.
const TRICKY_NUMBERS: &[&str] = &[
    "2024",
    "007",
    "1.50",
    "1e3",
    " 12",
    "12 ",
    "\t1\n",
    "\x0b1\x0c",
    "0x1A",
    "1_000",
    ".5",
    "5.",
    "-0",
    "+1",
    "-.5",
    "+.5e3",
    "-0.0",
    "1e",
    "1e+",
    "1e-",
    "1e3.5",
    "1.e3",
    "0e0",
    "-0e0",
    "1e999",
    "-1e999",
    "1e-999",
    "1e308",
    "1e309",
    "2.4e-320",
    "4.9e-324",
    ".",
    "-",
    "+",
    " ",
    "1 2",
    "+-1",
    "١",
    "1\0",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "-9223372036854775808 ",
    "9223372036854775807 ",
    "09223372036854775807",
    "12345678901234567890",
    "99999999999999999999",
    "0.1",
    "0.30000000000000004",
    "100",
    "1E5",
    "1e+05",
    "0000",
    "0.0001",
    "0.00001",
    "1e16",
    "1e17",
    "123456789012345678",
    "inf",
    "NAN",
    "1,5",
];

/// Characters that the escaper treats specially.
const PALETTE: &[char] = &[
    'a',
    'Z',
    '0',
    '9',
    ' ',
    '.',
    'e',
    '-',
    '+',
    '/',
    '"',
    '\\',
    '<',
    '>',
    '&',
    '\'',
    '\0',
    '\u{1}',
    '\u{8}',
    '\t',
    '\n',
    '\u{b}',
    '\u{c}',
    '\r',
    '\u{1f}',
    '\u{7f}',
    'é',
    'ß',
    '\u{85}',
    '\u{a0}',
    '\u{2028}',
    '\u{2029}',
    '€',
    '中',
    '\u{e000}',
    '\u{fffd}',
    '\u{ffff}',
    '😀',
    '\u{10ffff}',
];

/// Byte sequences around invalid UTF-8.
const BYTES: &[&[u8]] = &[
    b"\x80",
    b"\xbf",
    b"\xc0",
    b"\xc1",
    b"\xc2",
    b"\xc3\xa9",
    b"\xc3",
    b"\xdf\xbf",
    b"\xe0\x80\x80",
    b"\xe0\xa0\x80",
    b"\xe2\x82",
    b"\xe2\x82\xac",
    b"\xed\xa0\x80",
    b"\xed\x9f\xbf",
    b"\xef\xbf\xbf",
    b"\xf0\x9f\x98",
    b"\xf0\x9f\x98\x80",
    b"\xf0\x80\x80\x80",
    b"\xf4\x8f\xbf\xbf",
    b"\xf4\x90\x80\x80",
    b"\xf5",
    b"\xf8",
    b"\xfe",
    b"\xff",
    b"A",
    b" ",
    b"/",
    b"\"",
    b"1",
];

/// Bits of a random flag set: each flag with probability 0.3.
pub fn random_flags(rng: &mut StdRng) -> JsonFlags {
    let names: Vec<&str> = JsonFlags::ALL.names().collect();
    JsonFlags::from_names(names.into_iter().filter(|_| rng.random_bool(0.3))).unwrap()
}

/// A depth from those that matter: tight limits and the default.
pub fn random_depth(rng: &mut StdRng) -> u32 {
    *[1, 1, 2, 2, 3, 4, 6, 16, 512].choose(rng).unwrap()
}

/// A random value; `level` is the current nesting.
pub fn random_value(rng: &mut StdRng, level: u32) -> Value {
    let arrays = if level < 6 { 30 } else { 0 };
    match rng.random_range(0..100 + arrays) {
        0..4 => Value::Null,
        4..8 => Value::Bool(rng.random_bool(0.5)),
        8..16 => Value::Int(random_int(rng)),
        16..26 => Value::Float(random_float(rng)),
        26..100 => Value::Str(random_string(rng)),
        100..115 => {
            let len = rng.random_range(0..5);
            Value::List((0..len).map(|_| random_value(rng, level + 1)).collect())
        }
        _ => random_map(rng, level),
    }
}

fn random_map(rng: &mut StdRng, level: u32) -> Value {
    let len = rng.random_range(0..5);
    let list_like = rng.random_bool(0.15);
    let pairs = (0..len)
        .map(|i| {
            let key = match rng.random_range(0..10) {
                _ if list_like => i.to_string().into_bytes(),
                0 => b"dup".to_vec(),
                1 => ["0", "1", "-1", "01", "12", "-0", ""]
                    .choose(rng)
                    .unwrap()
                    .as_bytes()
                    .to_vec(),
                _ => random_string(rng),
            };
            (key, random_value(rng, level + 1))
        })
        .collect();
    Value::Map(pairs)
}

fn random_int(rng: &mut StdRng) -> i64 {
    match rng.random_range(0..4) {
        0 => *[0, 1, -1, i64::MAX, i64::MIN, 2024].choose(rng).unwrap(),
        1 => rng.random_range(-1000..1000),
        _ => rng.random(),
    }
}

fn random_float(rng: &mut StdRng) -> f64 {
    match rng.random_range(0..9) {
        0 => *[
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            1e15,
            1e16,
            1e17,
            0.0001,
            0.00001,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            0.1,
            1.5,
        ]
        .choose(rng)
        .unwrap(),
        1 => f64::from(rng.random_range(-100_000..100_000i32)),
        2 => 10f64.powi(rng.random_range(-30..30)) * if rng.random_bool(0.5) { 1.0 } else { -1.5 },
        3 => f64::from(rng.random_range(0..10_000i32)) / 1000.0,
        // Any bit pattern: subnormals, NaN payloads, everything.
        4 => f64::from_bits(rng.random()),
        // Quarters and eighths near 2^53, where ties between two shortest
        // candidates happen.
        5 => rng.random_range(1u64 << 47..1 << 53) as f64 / f64::from(1 << rng.random_range(1..7)),
        _ => rng.random::<f64>() * 10f64.powi(rng.random_range(-8..24)),
    }
}

fn random_string(rng: &mut StdRng) -> Vec<u8> {
    match rng.random_range(0..10) {
        0 => Vec::new(),
        1..3 => TRICKY_NUMBERS.choose(rng).unwrap().as_bytes().to_vec(),
        3..5 => random_number_text(rng),
        5..8 => {
            let len = rng.random_range(1..12);
            (0..len)
                .map(|_| *PALETTE.choose(rng).unwrap())
                .collect::<String>()
                .into_bytes()
        }
        8 => {
            let len = rng.random_range(1..8);
            (0..len)
                .flat_map(|_| BYTES.choose(rng).unwrap().iter().copied())
                .collect()
        }
        _ => {
            let len = rng.random_range(1..10);
            (0..len).map(|_| rng.random()).collect()
        }
    }
}

/// Text shaped like a number: white space, sign, digits, fraction,
/// exponent, and sometimes something that spoils it.
fn random_number_text(rng: &mut StdRng) -> Vec<u8> {
    let mut text = String::new();
    let pick = |rng: &mut StdRng, options: &[&str]| options.choose(rng).unwrap().to_string();
    let digits = |rng: &mut StdRng, max: usize| -> String {
        let len = rng.random_range(0..=max);
        (0..len)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect()
    };
    text += &pick(rng, &["", "", "", " ", "\t", "\n ", "\x0b", "\r"]);
    text += &pick(rng, &["", "", "-", "+"]);
    text += &pick(rng, &["", "", "0", "000"]);
    let max = if rng.random_bool(0.1) { 400 } else { 22 };
    text += &digits(rng, max);
    if rng.random_bool(0.4) {
        text.push('.');
        text += &digits(rng, 20);
    }
    if rng.random_bool(0.3) {
        text += &pick(rng, &["e", "E", "e+", "e-", "E-"]);
        text += &digits(rng, 4);
    }
    text += &pick(rng, &["", "", "", " ", "\n", "  \t", "x", "_0", ".", "e"]);
    text.into_bytes()
}
