use std::io::Write;
use std::process::Command;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use osticket_cdc::codec::encoding::SourceEncoding;
use rand::{Rng, SeedableRng, rngs::StdRng};

#[test]
fn explore() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    for name in SourceEncoding::names() {
        for b in 0..=255u8 { cases.push((name, vec![b])); }
        for _ in 0..2000 {
            let len = rng.random_range(0..12);
            let v: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            cases.push((name, v));
        }
    }
    let mut f = tempfile::NamedTempFile::new().unwrap();
    for (n, v) in &cases { writeln!(f, "{}\t{}", n, STANDARD.encode(v)).unwrap(); }
    f.flush().unwrap();
    let script = r#"$h=fopen($argv[1],"r"); while(($l=fgets($h))!==false){ [$e,$b]=explode("\t",rtrim($l,"\n")); echo base64_encode(mb_convert_encoding(base64_decode($b),'UTF-8',$e)),"\n"; }"#;
    let out = Command::new("php").arg("-r").arg(script).arg(f.path()).output().unwrap();
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(lines.len(), cases.len());
    let mut report = std::collections::BTreeMap::<&str,(usize,usize,Vec<String>)>::new();
    for ((n, v), l) in cases.iter().zip(lines) {
        let php = STANDARD.decode(l).unwrap();
        let ours = SourceEncoding::parse(n).unwrap().to_utf8(v);
        let e = report.entry(n).or_default();
        e.0 += 1;
        if php != ours { e.1 += 1; if e.2.len() < 12 { e.2.push(format!("{} php={:?} ours={:?}", hex(v), String::from_utf8_lossy(&php), String::from_utf8_lossy(&ours))); } }
    }
    for (n, (t, m, ex)) in report { println!("{n}: {m}/{t} mismatches"); for x in ex { println!("    {x}"); } }
}
fn hex(v: &[u8]) -> String { v.iter().map(|b| format!("{b:02x}")).collect() }
