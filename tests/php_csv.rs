//! `CsvSerializer` against PHP 8.2's `fputcsv`, the oracle, and against the
//! `csv` crate as a reader.
//!
//! Every combination of separator, enclosure and escape drawn from a set of
//! bytes that matter (`,` `;` tab `|` space `"` `'` `\` `#`, and no escape)
//! writes generated rows: quotes, escape bytes before quotes, separators,
//! CR, LF, tab, leading and trailing spaces, NUL, invalid UTF-8, integers,
//! floats, null, booleans, empty strings. All rows go to one `php` process
//! through a temporary file (base64 in, base64 out). Without `php` the test
//! says so and passes.

use std::io::Write;
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use osticket_cdc::codec::csv::{CsvOptions, CsvSerializer};
use osticket_cdc::codec::value::Value;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Bytes tried as separator, enclosure and escape.
const OPTION_BYTES: &[u8] = b",;\t| \"'\\#";

/// Rows written with each combination of options.
const ROWS_PER_COMBINATION: usize = 12;

/// Reads `sep enc esc field...` lines (options and strings in base64, other
/// fields typed by their first letter), writes each row's base64.
const SCRIPT: &str = r#"<?php
$in = fopen($argv[1], 'r');
while (($line = fgets($in)) !== false) {
    $parts = explode("\t", rtrim($line, "\n"));
    [$sep, $enc, $esc] = array_map('base64_decode', array_slice($parts, 0, 3));
    $fields = [];
    foreach (array_slice($parts, 3) as $f) {
        $rest = substr($f, 1);
        $fields[] = match ($f[0]) {
            'n' => null, 't' => true, 'f' => false,
            'i' => intval($rest),
            'd' => unpack('E', hex2bin($rest))[1],
            's' => base64_decode($rest),
        };
    }
    $h = fopen('php://memory', 'w+');
    fputcsv($h, $fields, $sep, $enc, $esc);
    rewind($h);
    echo base64_encode(stream_get_contents($h)), "\n";
}
"#;

fn php_installed() -> bool {
    Command::new("php")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `script` once over `lines`, returning its output lines.
fn run_php(script: &str, lines: &[String]) -> Vec<String> {
    let mut script_file = tempfile::NamedTempFile::new().unwrap();
    script_file.write_all(script.as_bytes()).unwrap();
    let mut input = tempfile::NamedTempFile::new().unwrap();
    for line in lines {
        writeln!(input, "{line}").unwrap();
    }
    input.flush().unwrap();
    let output = Command::new("php")
        .args(["-d", "precision=14", "-d", "display_errors=stderr"])
        .arg(script_file.path())
        .arg(input.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "php failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn interesting_float(rng: &mut StdRng) -> f64 {
    const FIXED: &[f64] = &[
        0.0,
        -0.0,
        0.1,
        0.5,
        1.5,
        100.0,
        1e13,
        1e14,
        1e15,
        1e25,
        1e-4,
        1e-5,
        0.30000000000000004,
        123456789012345.0,
        123456789012335.0,
        99999999999999.5,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ];
    match rng.random_range(0..4) {
        0 => FIXED[rng.random_range(0..FIXED.len())],
        1 => f64::from_bits(rng.random()),
        2 => rng.random_range(-1e6..1e6),
        _ => rng.random_range(-99_999i64..99_999) as f64 * 10f64.powi(rng.random_range(-22..24)),
    }
}

fn field(rng: &mut StdRng, specials: &[u8]) -> Value {
    const OTHER: &[u8] = b"ab1 \t\r\n\0\x0b\x0c\x7f\xff\xc3\xa9\\\"',;";
    match rng.random_range(0..20) {
        0 => Value::Null,
        1 => Value::Bool(rng.random()),
        2 => Value::Int(rng.random()),
        3 => Value::Int(rng.random_range(-1000..1000)),
        4 | 5 => Value::Float(interesting_float(rng)),
        6 => Value::Str(Vec::new()),
        _ => {
            let len = rng.random_range(1..10);
            let pick = |rng: &mut StdRng| match rng.random_range(0..3) {
                0 => specials[rng.random_range(0..specials.len())],
                1 => OTHER[rng.random_range(0..OTHER.len())],
                _ => rng.random(),
            };
            Value::Str((0..len).map(|_| pick(rng)).collect())
        }
    }
}

fn php_field(value: &Value) -> String {
    match value {
        Value::Null => "n".into(),
        Value::Bool(b) => if *b { "t" } else { "f" }.into(),
        Value::Int(n) => format!("i{n}"),
        Value::Float(x) => format!("d{:016x}", x.to_bits()),
        Value::Str(bytes) => format!("s{}", STANDARD.encode(bytes)),
        Value::Map(_) | Value::List(_) => unreachable!("rows are flat"),
    }
}

/// Every option combination, as PHP receives them.
fn combinations() -> Vec<(String, String, String)> {
    let byte = |b: u8| char::from(b).to_string();
    let mut all = Vec::new();
    for &sep in OPTION_BYTES {
        for &enc in OPTION_BYTES {
            all.push((byte(sep), byte(enc), String::new()));
            for &esc in OPTION_BYTES {
                all.push((byte(sep), byte(enc), byte(esc)));
            }
        }
    }
    all
}

#[test]
fn fputcsv_matches_php_for_every_option_combination() {
    if !php_installed() {
        println!("skipped: php not installed (integration/servers.sh install)");
        return;
    }
    let mut rng = StdRng::seed_from_u64(0x0c5f);
    let mut cases = Vec::new();
    let mut lines = Vec::new();
    for (sep, enc, esc) in combinations() {
        let options = CsvOptions::new(&sep, &enc, &esc).unwrap();
        let specials = format!("{sep}{enc}{esc}").into_bytes();
        for _ in 0..ROWS_PER_COMBINATION {
            let fields: Vec<Value> = (0..rng.random_range(0..6))
                .map(|_| field(&mut rng, &specials))
                .collect();
            let mut line = [&sep, &enc, &esc].map(|o| STANDARD.encode(o)).join("\t");
            for f in &fields {
                line.push('\t');
                line.push_str(&php_field(f));
            }
            lines.push(line);
            cases.push((options, fields));
        }
    }

    let php = run_php(SCRIPT, &lines);
    assert_eq!(php.len(), cases.len());
    for ((options, fields), php_row) in cases.iter().zip(&php) {
        let ours = CsvSerializer::new(*options).encode(fields).unwrap();
        let theirs = STANDARD.decode(php_row).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs),
            "options {options:?}, fields {fields:?}"
        );
        assert_eq!(ours, theirs, "options {options:?}, fields {fields:?}");
    }
    println!("compared {} rows with PHP's fputcsv", cases.len());
}

/// Floats alone, many of them: PHP's `precision`-14 conversion, with its
/// exponent form, rounding ties to even and trailing zeros dropped.
#[test]
fn float_fields_match_php() {
    if !php_installed() {
        println!("skipped: php not installed (integration/servers.sh install)");
        return;
    }
    let mut rng = StdRng::seed_from_u64(0xf10a7);
    let floats: Vec<f64> = (0..5000).map(|_| interesting_float(&mut rng)).collect();
    let options = [",", "\"", "\\"].map(|o| STANDARD.encode(o)).join("\t");
    let lines: Vec<String> = floats
        .chunks(5)
        .map(|chunk| {
            let fields: Vec<String> = chunk.iter().map(|x| php_field(&Value::Float(*x))).collect();
            format!("{options}\t{}", fields.join("\t"))
        })
        .collect();
    let php = run_php(SCRIPT, &lines);
    assert_eq!(php.len(), lines.len());
    let serializer = CsvSerializer::default();
    for (chunk, php_row) in floats.chunks(5).zip(&php) {
        let fields: Vec<Value> = chunk.iter().map(|x| Value::Float(*x)).collect();
        let ours = String::from_utf8(serializer.encode(&fields).unwrap()).unwrap();
        let theirs = String::from_utf8(STANDARD.decode(php_row).unwrap()).unwrap();
        assert_eq!(ours, theirs, "floats {chunk:?}");
    }
    println!(
        "compared {} floats with PHP's string conversion",
        floats.len()
    );
}

/// The text a reader should return for a field: a string's bytes, or the
/// scalar's conversion (which never needs enclosing with these options).
fn field_text(value: &Value) -> Vec<u8> {
    match value {
        Value::Str(bytes) => bytes.clone(),
        _ => {
            let mut row = CsvSerializer::default()
                .encode(std::slice::from_ref(value))
                .unwrap();
            row.pop();
            row
        }
    }
}

/// Without an escape byte `fputcsv` writes RFC 4180 (enclosure doubled, no
/// other escaping), so a standard reader gets the fields back. With one,
/// PHP leaves `\"` undoubled and keeps the backslash, which no RFC reader
/// (nor the `csv` crate's escape mode, which drops the backslash) undoes.
#[test]
fn rows_without_escape_read_back_with_the_csv_crate() {
    let mut rng = StdRng::seed_from_u64(0x4180);
    let mut checked = 0;
    for (sep, enc, esc) in combinations() {
        if !esc.is_empty() || sep == enc {
            continue;
        }
        let options = CsvOptions::new(&sep, &enc, &esc).unwrap();
        let specials = format!("{sep}{enc}").into_bytes();
        for _ in 0..40 {
            // A row that is only an empty field is a blank line, which
            // readers skip; give every row two fields or more.
            let fields: Vec<Value> = (0..rng.random_range(2..6))
                .map(|_| field(&mut rng, &specials))
                .collect();
            let row = CsvSerializer::new(options).encode(&fields).unwrap();
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(options.separator())
                .quote(options.enclosure())
                .escape(None)
                .from_reader(row.as_slice());
            let record = reader.byte_records().next().expect("one record").unwrap();
            let read: Vec<&[u8]> = record.iter().collect();
            let expected: Vec<Vec<u8>> = fields.iter().map(field_text).collect();
            assert_eq!(
                read,
                expected,
                "options {options:?}, row {:?}",
                String::from_utf8_lossy(&row)
            );
            checked += 1;
        }
    }
    println!("read back {checked} rows with the csv crate");
}
