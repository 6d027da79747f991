//! Numbers as PHP 8.2's `json_encode` sees them: which strings
//! `NUMERIC_CHECK` writes as numbers, and how a float is printed.
//!
//! A string is numeric when PHP 8's `is_numeric` says so: optional leading
//! white space (space, `\t`, `\n`, `\r`, `\v`, `\f`), an optional sign, then
//! digits with an optional fraction and exponent, or a fraction alone
//! (`.5`); `5.` counts, and so does trailing white space (new in PHP 8).
//! Hex (`0x1A`), `_` separators, a bare `.` or a dangling exponent (`1e`,
//! `1e+`) do not. Integers stay integers while they fit in 64 bits; from 20
//! significant digits, or on overflow, PHP reads a float instead. One quirk
//! is kept on purpose: PHP compares the digits of a 19-digit integer with
//! `9223372036854775808` *including* any trailing white space, so
//! `"-9223372036854775808 "` becomes a float where the same text without the
//! space is `i64::MIN`.
//!
//! Floats are printed the way `serialize_precision = -1` prints them: the
//! shortest digits that read back to the same float (a float exactly halfway
//! between two such candidates takes the even one, as C's `dtoa` does), in
//! plain notation while the decimal exponent is between -4 and 16
//! (`0.0001`, `1.0e-5`, `10000000000000000`, `1.0e+17`), else as `d.ddde±x`
//! with at least one fractional digit and no padding of the exponent.

/// A numeric string's value, as PHP reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Numeric {
    /// Fits in 64 bits.
    Int(i64),
    /// Has a fraction or exponent, or too many digits; may be infinite.
    Float(f64),
}

/// Significant integer digits from which PHP reads a float (its
/// `MAX_LENGTH_OF_LONG`).
const FLOAT_FROM_DIGITS: usize = 20;

/// The digits of `i64::MIN`: the 19-digit threshold of integer overflow.
const LONG_MIN_DIGITS: &[u8] = b"9223372036854775808";

/// PHP's white space around numeric strings.
fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// The value of a string PHP 8 considers numeric, `None` otherwise.
pub(super) fn parse_numeric(text: &[u8]) -> Option<Numeric> {
    // Leading white space is skipped; an all-blank string is not numeric.
    let start = text.iter().position(|&b| !is_space(b))?;
    let body = &text[start..];
    let at = |i: usize| body.get(i).copied().unwrap_or(0);
    let negative = at(0) == b'-';
    let mut pos = usize::from(matches!(at(0), b'-' | b'+'));
    let mut significant = pos;

    // Integer digits decide between PHP's integer and float paths.
    let is_float = if at(pos).is_ascii_digit() {
        while at(pos) == b'0' {
            pos += 1;
        }
        significant = pos;
        while at(pos).is_ascii_digit() {
            pos += 1;
        }
        pos - significant >= FLOAT_FROM_DIGITS || at(pos) == b'.' || exponent_len(body, pos) > 0
    } else if at(pos) == b'.' && at(pos + 1).is_ascii_digit() {
        true
    } else {
        return None;
    };
    let end = if is_float {
        float_prefix_len(body)
    } else {
        pos
    };

    // Only white space may follow.
    if !body[end..].iter().all(|&b| is_space(b)) {
        return None;
    }
    if is_float {
        return Some(Numeric::Float(parse_float(&body[..end])));
    }

    // 19 digits may overflow; PHP's comparison runs to the end of the text.
    let digits = &body[significant..end];
    if digits.len() == LONG_MIN_DIGITS.len() {
        let order = body[significant..].cmp(LONG_MIN_DIGITS);
        if !(order.is_lt() || (order.is_eq() && negative)) {
            return Some(Numeric::Float(parse_float(&body[..end])));
        }
    }
    let magnitude = digits
        .iter()
        .fold(0u64, |acc, &d| acc * 10 + u64::from(d - b'0'));
    // Two's complement: the magnitude of i64::MIN wraps onto itself.
    let value = magnitude as i64;
    Some(Numeric::Int(if negative {
        value.wrapping_neg()
    } else {
        value
    }))
}

/// The length of an exponent (`e`, optional sign, digits) at `pos`, or 0.
fn exponent_len(body: &[u8], pos: usize) -> usize {
    if !matches!(body.get(pos), Some(b'e' | b'E')) {
        return 0;
    }
    let sign = usize::from(matches!(body.get(pos + 1), Some(b'-' | b'+')));
    let digits = body[(pos + 1 + sign).min(body.len())..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 { 0 } else { 1 + sign + digits }
}

/// How much of `body` a C `strtod` reads: sign, digits, fraction, exponent.
fn float_prefix_len(body: &[u8]) -> usize {
    let digits_from = |pos: usize| {
        body[pos.min(body.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut pos = usize::from(matches!(body.first(), Some(b'-' | b'+')));
    pos += digits_from(pos);
    if body.get(pos) == Some(&b'.') {
        pos += 1 + digits_from(pos + 1);
    }
    pos + exponent_len(body, pos)
}

/// Correctly rounded, as PHP's `zend_strtod`; infinite when out of range.
fn parse_float(ascii: &[u8]) -> f64 {
    std::str::from_utf8(ascii)
        .ok()
        .and_then(|text| text.parse().ok())
        .expect("float_prefix_len yields an ASCII float Rust parses")
}

/// Appends a finite float as PHP prints it with `serialize_precision = -1`;
/// with `zero_fraction`, a float without `.` gets `.0` (PRESERVE_ZERO_FRACTION).
pub(super) fn write_float(out: &mut Vec<u8>, value: f64, zero_fraction: bool) {
    debug_assert!(value.is_finite(), "callers handle Inf and NaN");

    let (digits, exponent) = shortest_digits(value.abs());
    let start = out.len();
    if value.is_sign_negative() {
        out.push(b'-');
    }

    // PHP's `php_gcvt` with 17 digits: `decpt` is the exponent plus one.
    let decpt = exponent + 1;
    if !(-3..=17).contains(&decpt) {
        out.push(digits[0]);
        out.push(b'.');
        if digits.len() == 1 {
            out.push(b'0');
        } else {
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exponent < 0 { b'-' } else { b'+' });
        out.extend_from_slice(exponent.unsigned_abs().to_string().as_bytes());
    } else if decpt < 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', decpt.unsigned_abs() as usize));
        out.extend_from_slice(&digits);
    } else {
        let whole = decpt as usize;
        if whole == 0 {
            out.push(b'0');
        }
        out.extend((0..whole).map(|i| digits.get(i).copied().unwrap_or(b'0')));
        if digits.len() > whole {
            out.push(b'.');
            out.extend_from_slice(&digits[whole..]);
        }
    }

    if zero_fraction && !out[start..].contains(&b'.') {
        out.extend_from_slice(b".0");
    }
}

/// The shortest digits that read back to `value` (finite, not negative),
/// and the decimal exponent of the first: `(b"15", 0)` for 1.5.
///
/// Rust's `{:e}` and PHP's `zend_dtoa` (mode 0) agree on the shortest digits
/// and pick the closest candidate, except when the float lies exactly halfway
/// between two: Rust rounds the last digit up, `zend_dtoa` to even
/// (564337239473984.25 is `…984.2` in PHP). Such ties are found exactly and
/// corrected here.
fn shortest_digits(value: f64) -> (Vec<u8>, i32) {
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`{:e}` always writes an exponent");
    let mut digits: Vec<u8> = mantissa.bytes().filter(|&b| b != b'.').collect();
    let exponent: i32 = exponent.parse().expect("`{:e}` writes a decimal exponent");

    let last = *digits.last().expect("at least one digit");
    if (last - b'0') % 2 == 1 {
        let last_position = exponent - (digits.len() as i32 - 1);
        if is_exactly_below_midpoint(value, &digits, last_position) {
            *digits.last_mut().expect("at least one digit") -= 1;
            let lower = format!(
                "{}e{last_position}",
                std::str::from_utf8(&digits).expect("ASCII digits")
            );
            if lower.parse::<f64>() != Ok(value) {
                // The even neighbour does not read back: zend_dtoa keeps the odd digit.
                *digits.last_mut().expect("at least one digit") += 1;
            }
        }
    }
    (digits, exponent)
}

/// Whether `value` equals `(digits - 1/2) × 10^position` exactly: the point
/// halfway between `digits` and the same digits with the last one lowered.
fn is_exactly_below_midpoint(value: f64, digits: &[u8], position: i32) -> bool {
    // The midpoint is N × 10^K with N = digits × 10 - 5 (at most 18 digits).
    let Some(scaled) = digits
        .iter()
        .try_fold(0u64, |acc, &d| {
            acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
        .and_then(|d| d.checked_mul(10))
    else {
        return false;
    };
    let midpoint = scaled - 5;
    let power = position - 1;

    // value = m × 2^e with m odd. N is odd, so N × 10^K = m × 2^e needs
    // e = K and m = n × 5^(a + K), where N = n × 5^a and 5 does not divide n.
    let bits = value.to_bits();
    let (raw_exponent, fraction) = ((bits >> 52) as i32, bits & ((1 << 52) - 1));
    let (mut m, mut e) = if raw_exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), raw_exponent - 1075)
    };
    if m == 0 {
        return false;
    }
    e += m.trailing_zeros() as i32;
    m >>= m.trailing_zeros();
    if e != power {
        return false;
    }
    let (mut n, mut fives) = (midpoint, 0i32);
    while n % 5 == 0 {
        n /= 5;
        fives += 1;
    }
    let Ok(times) = u32::try_from(fives + power) else {
        return false;
    };
    5u128
        .checked_pow(times)
        .and_then(|p| p.checked_mul(u128::from(n)))
        .is_some_and(|product| product == u128::from(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(text: &str) -> Option<Numeric> {
        parse_numeric(text.as_bytes())
    }

    fn float(value: f64, zero_fraction: bool) -> String {
        let mut out = Vec::new();
        write_float(&mut out, value, zero_fraction);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numeric_strings_follow_php8_is_numeric() {
        use Numeric::{Float, Int};
        let cases = [
            ("2024", Some(Int(2024))),
            ("007", Some(Int(7))),
            ("-0", Some(Int(0))),
            ("+1", Some(Int(1))),
            (" 12", Some(Int(12))),
            ("12 ", Some(Int(12))),
            ("\t1\n", Some(Int(1))),
            ("\x0b1\x0c", Some(Int(1))),
            ("1.50", Some(Float(1.5))),
            ("1e3", Some(Float(1000.0))),
            (".5", Some(Float(0.5))),
            ("5.", Some(Float(5.0))),
            ("1.e3", Some(Float(1000.0))),
            ("-.5", Some(Float(-0.5))),
            ("1e999", Some(Float(f64::INFINITY))),
            ("9223372036854775807", Some(Int(i64::MAX))),
            ("-9223372036854775808", Some(Int(i64::MIN))),
            ("9223372036854775808", Some(Float(9.223372036854776e18))),
            ("-9223372036854775808 ", Some(Float(-9.223372036854776e18))),
            ("0000000000000000000000001", Some(Int(1))),
            ("12345678901234567890", Some(Float(1.2345678901234567e19))),
            ("0x1A", None),
            ("1_000", None),
            ("1e", None),
            ("1e+", None),
            ("1e3.5", None),
            ("+-1", None),
            (".", None),
            ("", None),
            ("  ", None),
            ("1 2", None),
            ("١", None),
        ];
        for (text, expected) in cases {
            assert_eq!(numeric(text), expected, "{text:?}");
        }
        assert_eq!(
            numeric("-0.0").map(|n| matches!(n, Float(f) if f.is_sign_negative())),
            Some(true)
        );
    }

    #[test]
    fn floats_print_like_serialize_precision_minus_one() {
        let cases = [
            (1e15, "1000000000000000", "1000000000000000.0"),
            (1e16, "10000000000000000", "10000000000000000.0"),
            (1e17, "1.0e+17", "1.0e+17"),
            (
                1.2345678901234568e17,
                "1.2345678901234568e+17",
                "1.2345678901234568e+17",
            ),
            (0.0001, "0.0001", "0.0001"),
            (0.00001, "1.0e-5", "1.0e-5"),
            (2.5e-5, "2.5e-5", "2.5e-5"),
            (-0.0, "-0", "-0.0"),
            (0.0, "0", "0.0"),
            (0.1 + 0.2, "0.30000000000000004", "0.30000000000000004"),
            (100.0, "100", "100.0"),
            (0.5, "0.5", "0.5"),
            (123.456, "123.456", "123.456"),
            (1e20, "1.0e+20", "1.0e+20"),
            (5e-324, "5.0e-324", "5.0e-324"),
            (
                f64::MAX,
                "1.7976931348623157e+308",
                "1.7976931348623157e+308",
            ),
        ];
        for (value, plain, zero_fraction) in cases {
            assert_eq!(float(value, false), plain, "{value:e}");
            assert_eq!(float(value, true), zero_fraction, "{value:e}");
        }
    }
}
