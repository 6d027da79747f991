//! Differential test of the JSON serializer against PHP's own `json_encode`.
//!
//! Thousands of seeded random values (numeric-looking strings of every
//! shape, unicode, escapes, invalid UTF-8, floats, nesting) are encoded
//! under single flags, random flag combinations and several depths, by the
//! serializer and by one `php` process per batch. Values travel to PHP in a
//! small token format that rebuilds them exactly (strings and keys in
//! Base64, floats as their IEEE bits); PHP answers with the Base64 of its
//! output, or its error message. Any difference fails the test with the
//! input, the flags and both outputs.
//!
//! Without `php` on the PATH the test reports that it was skipped and
//! passes; `integration/servers.sh install` installs PHP.

#[path = "php_json/values.rs"]
mod values;

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use osticket_cdc::codec::json::{JsonFlags, JsonSerializer};
use osticket_cdc::codec::value::Value;
use rand::SeedableRng;
use rand::rngs::StdRng;

use values::{random_depth, random_flags, random_value};

/// Rebuilds each case's value and prints what `json_encode` returns.
const PHP_SCRIPT: &str = r#"<?php
function build(array $t, int &$i) {
    $tok = $t[$i++];
    $rest = substr($tok, 1);
    switch ($tok[0]) {
        case 'N': return null;
        case 'T': return true;
        case 'F': return false;
        case 'I': return (int)$rest;
        case 'D': return unpack('E', hex2bin($rest))[1];
        case 'S': return base64_decode($rest);
        case 'L':
            $a = [];
            for ($k = 0; $k < (int)$rest; $k++) { $a[] = build($t, $i); }
            return $a;
        case 'M':
            $a = [];
            for ($k = 0; $k < (int)$rest; $k++) {
                $key = base64_decode(substr($t[$i++], 1));
                $a[$key] = build($t, $i);
            }
            return $a;
    }
    throw new Exception("bad token $tok");
}
foreach (file($argv[1], FILE_IGNORE_NEW_LINES) as $line) {
    $t = explode(' ', $line);
    $i = 2;
    $json = json_encode(build($t, $i), (int)$t[0], (int)$t[1]);
    if ($json === false) {
        echo "ERR:", json_last_error_msg(), "\n";
    } else {
        echo "OK:", base64_encode($json), ":", json_last_error() ? json_last_error_msg() : "", "\n";
    }
}
"#;

/// The seed; set `PHP_JSON_SEED` to explore others.
const SEED: u64 = 0x05_71c6_e7cd;
const BATCHES: usize = 5;
const VALUES_PER_BATCH: usize = 8_000;

/// One `json_encode` call.
struct Case {
    value: Value,
    flags: JsonFlags,
    depth: u32,
}

/// The token form the PHP script reads.
fn write_tokens(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str(" N"),
        Value::Bool(true) => out.push_str(" T"),
        Value::Bool(false) => out.push_str(" F"),
        Value::Int(int) => write!(out, " I{int}").unwrap(),
        Value::Float(float) => write!(out, " D{:016x}", float.to_bits()).unwrap(),
        Value::Str(bytes) => write!(out, " S{}", STANDARD.encode(bytes)).unwrap(),
        Value::List(items) => {
            write!(out, " L{}", items.len()).unwrap();
            items.iter().for_each(|item| write_tokens(item, out));
        }
        Value::Map(pairs) => {
            write!(out, " M{}", pairs.len()).unwrap();
            for (key, item) in pairs {
                write!(out, " K{}", STANDARD.encode(key)).unwrap();
                write_tokens(item, out);
            }
        }
    }
}

/// What the serializer answers, in the PHP script's format.
fn rust_answer(case: &Case) -> String {
    let serializer = JsonSerializer::new(case.flags, case.depth).expect("depth is 1 or more");
    match serializer.encode_with_warning(&case.value) {
        Ok((bytes, warning)) => format!(
            "OK:{}:{}",
            STANDARD.encode(bytes),
            warning.map_or("", |w| w.php_message())
        ),
        Err(error) => format!("ERR:{}", error.php_message()),
    }
}

/// Runs one batch through PHP; one answer line per case.
fn php_answers(cases: &[Case]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("encode.php");
    std::fs::write(&script, PHP_SCRIPT).unwrap();
    let input = dir.path().join("cases.txt");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
    for case in cases {
        let mut line = format!("{} {}", case.flags.bits(), case.depth);
        write_tokens(&case.value, &mut line);
        writeln!(file, "{line}").unwrap();
    }
    file.flush().unwrap();
    drop(file);

    // Defaults only (-n), with the precision the plugin's PHP runs with.
    let output = Command::new("php")
        .args([
            "-n",
            "-d",
            "serialize_precision=-1",
            "-d",
            "memory_limit=1G",
        ])
        .arg(&script)
        .arg(&input)
        .output()
        .expect("php runs");
    assert!(
        output.status.success(),
        "php failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answers: Vec<String> = String::from_utf8(output.stdout)
        .expect("php prints ASCII")
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(answers.len(), cases.len(), "one php answer per case");
    answers
}

/// An answer with the Base64 decoded, for a readable failure.
fn readable(answer: &str) -> String {
    match answer
        .strip_prefix("OK:")
        .and_then(|rest| rest.split_once(':'))
    {
        Some((b64, warning)) => {
            let bytes = STANDARD.decode(b64).unwrap_or_default();
            format!("{:?} warning={warning:?}", String::from_utf8_lossy(&bytes))
        }
        None => answer.to_owned(),
    }
}

fn php_installed() -> bool {
    Command::new("php")
        .arg("-v")
        .output()
        .is_ok_and(|out| out.status.success())
}

#[test]
fn json_encode_matches_php_byte_for_byte() {
    if !php_installed() {
        println!("skipped: php not installed (integration/servers.sh install)");
        return;
    }
    let seed = std::env::var("PHP_JSON_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(SEED);
    let mut rng = StdRng::seed_from_u64(seed);
    let single_flags: Vec<JsonFlags> = std::iter::once(JsonFlags::NONE)
        .chain(std::iter::once(JsonFlags::PLUGIN_DEFAULT))
        .chain(
            JsonFlags::ALL
                .names()
                .map(|name| JsonFlags::from_name(name).unwrap()),
        )
        .collect();
    let (mut compared, mut differing, mut failures) = (0usize, 0usize, Vec::new());
    let (mut errors, mut warnings) = (0usize, 0usize);

    for batch in 0..BATCHES {
        // Each value under one flag alone, and under two random sets.
        let mut cases = Vec::new();
        for i in 0..VALUES_PER_BATCH {
            let value = random_value(&mut rng, 0);
            let alone = single_flags[(batch * VALUES_PER_BATCH + i) % single_flags.len()];
            let depth = random_depth(&mut rng);
            cases.push(Case {
                value: value.clone(),
                flags: alone,
                depth,
            });
            cases.push(Case {
                value: value.clone(),
                flags: random_flags(&mut rng),
                depth,
            });
            let depth = random_depth(&mut rng);
            cases.push(Case {
                value,
                flags: random_flags(&mut rng),
                depth,
            });
        }

        let answers = php_answers(&cases);
        for (case, php) in cases.iter().zip(&answers) {
            let ours = rust_answer(case);
            compared += 1;
            errors += usize::from(php.starts_with("ERR:"));
            warnings += usize::from(php.starts_with("OK:") && !php.ends_with(':'));
            if &ours == php {
                continue;
            }
            differing += 1;
            if failures.len() < 20 {
                failures.push(format!(
                    "value: {:?}\nflags: {} ({:?})  depth: {}\nphp:  {}\nrust: {}\n",
                    case.value,
                    case.flags.bits(),
                    case.flags,
                    case.depth,
                    readable(php),
                    readable(&ours)
                ));
            }
        }
    }

    println!(
        "compared {compared} json_encode cases with php (seed {seed}): {errors} errors, \
         {warnings} partial outputs with an error"
    );
    assert!(
        differing == 0,
        "{differing} differences from PHP (first {} shown):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
