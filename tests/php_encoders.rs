//! The encoders against PHP 8.2, the oracle: `bin2hex`, `base64_encode` and
//! `mb_convert_encoding($s, 'UTF-8', $from)` for every supported source
//! encoding, over every single byte, every byte pair of the double-byte
//! sources, random bytes and valid text; then the round trips of Base16 and
//! Base64. One `php` process reads every case from a temporary file (base64
//! in, base64 out). Without `php` the PHP test says so and passes.

use std::io::Write;
use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use encoding_rs::Encoding;
use osticket_cdc::codec::encoding::{Encoder, SourceEncoding};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Reads `operation name base64` lines, writes each result's base64 (or
/// `ERR` and the message when PHP rejects the encoding name).
const SCRIPT: &str = r#"<?php
$in = fopen($argv[1], 'r');
while (($line = fgets($in)) !== false) {
    [$op, $name, $data] = explode("\t", rtrim($line, "\n"));
    $data = base64_decode($data);
    try {
        $out = match ($op) {
            'hex' => bin2hex($data),
            'b64' => base64_encode($data),
            'utf8' => mb_convert_encoding($data, 'UTF-8', $name),
        };
        echo base64_encode($out), "\n";
    } catch (Throwable $e) {
        echo 'ERR ', str_replace("\n", ' ', $e->getMessage()), "\n";
    }
}
"#;

/// Sources whose every byte pair is compared.
const DOUBLE_BYTE: &[&str] = &[
    "SJIS", "CP932", "SJIS-win", "EUC-KR", "UHC", "EUC-CN", "CP936",
];

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
        .args(["-d", "display_errors=stderr"])
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

/// Bytes that start, continue or break multi-byte sequences, drawn more
/// often than uniform random bytes would.
const STRUCTURAL: &[u8] = &[
    0x00, 0x0A, 0x3F, 0x40, 0x41, 0x5C, 0x7E, 0x7F, 0x80, 0x81, 0x8E, 0x8F, 0x9F, 0xA0, 0xA1, 0xBF,
    0xC0, 0xC1, 0xC2, 0xC9, 0xD8, 0xDC, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFC, 0xFD, 0xFE,
    0xFF,
];

fn random_bytes(rng: &mut StdRng) -> Vec<u8> {
    let len = rng.random_range(0..16);
    (0..len)
        .map(|_| match rng.random_range(0..2) {
            0 => STRUCTURAL[rng.random_range(0..STRUCTURAL.len())],
            _ => rng.random(),
        })
        .collect()
}

/// Characters from the scripts the sources cover; each source keeps those
/// it can encode.
fn character_pool() -> Vec<char> {
    let ranges = [
        (0x20, 0x7E),
        (0xA0, 0x17F),
        (0x370, 0x3CE),
        (0x400, 0x45F),
        (0x5D0, 0x5EA),
        (0x621, 0x64A),
        (0x2010, 0x2040),
        (0x20AC, 0x20AC),
        (0x2190, 0x2199),
        (0x2500, 0x257F),
        (0x3000, 0x30FF),
        (0x4E00, 0x4F00),
        (0x9F00, 0x9FA5),
        (0xAC00, 0xAD00),
        (0xFF01, 0xFF9F),
        (0xE000, 0xE010),
        (0x1F600, 0x1F610),
        (0x20000, 0x20010),
    ];
    ranges
        .iter()
        .flat_map(|&(low, high)| (low..=high).filter_map(char::from_u32))
        .collect()
}

/// `text` in `source`, or `None` when a character has no encoding there.
fn encode_text(source: &str, text: &str) -> Option<Vec<u8>> {
    let with = |encoding: &'static Encoding| {
        let (bytes, _, unmappable) = encoding.encode(text);
        (!unmappable).then(|| bytes.into_owned())
    };
    match source {
        "UTF-8" => Some(text.as_bytes().to_vec()),
        "ASCII" => text.is_ascii().then(|| text.as_bytes().to_vec()),
        "ISO-8859-1" => text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).ok())
            .collect(),
        "ISO-8859-9" => with(encoding_rs::WINDOWS_1254),
        "UTF-16" | "UTF-16BE" => Some(text.encode_utf16().flat_map(u16::to_be_bytes).collect()),
        "UTF-16LE" => Some(text.encode_utf16().flat_map(u16::to_le_bytes).collect()),
        "SJIS" | "CP932" | "SJIS-win" => with(encoding_rs::SHIFT_JIS),
        "EUC-KR" | "UHC" => with(encoding_rs::EUC_KR),
        "EUC-CN" | "CP936" => with(encoding_rs::GBK),
        other => with(Encoding::for_label(other.as_bytes()).expect("a WHATWG label")),
    }
}

/// Strings of characters `source` can encode.
fn valid_texts(rng: &mut StdRng, source: &str, pool: &[char], count: usize) -> Vec<Vec<u8>> {
    let usable: Vec<char> = pool
        .iter()
        .copied()
        .filter(|c| encode_text(source, &c.to_string()).is_some())
        .collect();
    (0..count)
        .map(|_| {
            let text: String = (0..rng.random_range(1..20))
                .map(|_| usable[rng.random_range(0..usable.len())])
                .collect();
            encode_text(source, &text).expect("every character is encodable")
        })
        .collect()
}

struct Case {
    operation: &'static str,
    name: String,
    input: Vec<u8>,
}

fn ours(case: &Case) -> Vec<u8> {
    match case.operation {
        "hex" => Encoder::Base16.encode(&case.input),
        "b64" => Encoder::Base64.encode(&case.input),
        _ => SourceEncoding::parse(&case.name)
            .unwrap()
            .decode_to_utf8(&case.input),
    }
}

fn all_cases(rng: &mut StdRng) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |operation: &'static str, name: &str, input: Vec<u8>| {
        cases.push(Case {
            operation,
            name: name.into(),
            input,
        });
    };
    for _ in 0..1000 {
        let input: Vec<u8> = (0..rng.random_range(0..40)).map(|_| rng.random()).collect();
        add("hex", "", input.clone());
        add("b64", "", input);
    }

    // Each source: every byte, random bytes, valid text; each alias too.
    let pool = character_pool();
    for source in SourceEncoding::all() {
        let name = source.name();
        (0..=255u8).for_each(|b| add("utf8", name, vec![b]));
        (0..2000).for_each(|_| add("utf8", name, random_bytes(rng)));
        valid_texts(rng, name, &pool, 300)
            .into_iter()
            .for_each(|text| add("utf8", name, text));
        for alias in source.aliases() {
            (0..50).for_each(|_| add("utf8", alias, random_bytes(rng)));
        }
    }
    for &name in DOUBLE_BYTE {
        for lead in 0x80..=0xFFu8 {
            (0..=0xFFu8).for_each(|trail| add("utf8", name, vec![lead, trail]));
        }
    }
    cases
}

#[test]
fn encoders_match_php() {
    if !php_installed() {
        println!("skipped: php not installed (integration/servers.sh install)");
        return;
    }
    let mut rng = StdRng::seed_from_u64(0xe4c0);
    let cases = all_cases(&mut rng);
    let lines: Vec<String> = cases
        .iter()
        .map(|c| format!("{}\t{}\t{}", c.operation, c.name, STANDARD.encode(&c.input)))
        .collect();
    let php = run_php(SCRIPT, &lines);
    assert_eq!(php.len(), cases.len());

    for (case, php_line) in cases.iter().zip(&php) {
        assert!(
            !php_line.starts_with("ERR"),
            "PHP rejects {:?}: {php_line}",
            case.name
        );
        let theirs = STANDARD.decode(php_line).unwrap();
        let ours = ours(case);
        assert!(
            ours == theirs,
            "{} {} of {:02x?}: ours {:?}, PHP's {:?}",
            case.operation,
            case.name,
            case.input,
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs),
        );
    }
    println!("compared {} encoder cases with PHP", cases.len());
}

#[test]
fn base16_and_base64_decode_back() {
    let mut rng = StdRng::seed_from_u64(0xb16);
    for _ in 0..5000 {
        let input: Vec<u8> = (0..rng.random_range(0..100))
            .map(|_| rng.random())
            .collect();

        let hex = Encoder::Base16.encode(&input);
        assert_eq!(hex.len(), input.len() * 2);
        let decoded: Vec<u8> = hex
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
            .collect();
        assert_eq!(decoded, input);
        assert!(
            hex.iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
        );

        let b64 = Encoder::Base64.encode(&input);
        assert_eq!(b64.len(), input.len().div_ceil(3) * 4);
        assert_eq!(STANDARD.decode(&b64).unwrap(), input);
    }
}

#[test]
fn utf8_source_passes_valid_utf8_unchanged() {
    let mut rng = StdRng::seed_from_u64(0x0808);
    let pool = character_pool();
    let utf8 = Encoder::parse("utf-8").unwrap();
    for _ in 0..2000 {
        let text: String = (0..rng.random_range(0..30))
            .map(|_| pool[rng.random_range(0..pool.len())])
            .collect();
        assert_eq!(utf8.encode(text.as_bytes()), text.as_bytes());
    }
}
