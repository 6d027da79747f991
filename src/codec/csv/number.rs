//! PHP's float to string conversion, which `fputcsv` applies to floats.
//!
//! This is `zend_gcvt` with the `precision` ini setting (14 by default),
//! not `serialize_precision` (-1, shortest round trip) that `json_encode`
//! and `var_export` use: `0.1 + 0.2` is `0.3` here and
//! `0.30000000000000004` in JSON. The digits come from Rust's exact
//! formatting, which rounds ties to even as PHP's `zend_dtoa` does.

/// Significant digits of PHP's float to string conversion: the default of
/// the `precision` ini setting, which `fputcsv` uses.
pub const PHP_PRECISION: usize = 14;

/// A float as PHP's `(string)` conversion writes it with `precision`
/// significant digits (PHP's `zend_gcvt`): at most that many digits,
/// correctly rounded (ties to even), trailing zeros dropped; exponent form
/// `d.dddE+x` when the decimal exponent is below -4 or at least `precision`,
/// with `.0` after a lone digit.
pub fn php_float_to_string(x: f64, precision: usize) -> String {
    if x.is_nan() {
        return "NAN".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "INF" } else { "-INF" }.to_owned();
    }
    let precision = precision.max(1);
    let sign = if x.is_sign_negative() { "-" } else { "" };

    // Rust's exact formatting gives the correctly rounded digits; `decpt` is
    // where the decimal point sits relative to them, as in dtoa.
    let formatted = format!("{:.*e}", precision - 1, x.abs());
    let (mantissa, exponent) = formatted
        .split_once('e')
        .expect("`e` format has an exponent");
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let trimmed = digits.trim_end_matches('0').len();
    digits.truncate(trimmed);
    let mut decpt: i32 = exponent.parse::<i32>().expect("exponent is decimal") + 1;
    if digits.is_empty() {
        digits.push('0');
        decpt = 1;
    }

    let mut out = String::from(sign);
    if decpt < -3 || decpt > precision as i32 {
        let exp = decpt - 1;
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if digits.len() > 1 { &digits[1..] } else { "0" });
        out.push_str(if exp < 0 { "E-" } else { "E+" });
        out.push_str(&exp.unsigned_abs().to_string());
    } else if decpt <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', decpt.unsigned_abs() as usize));
        out.push_str(&digits);
    } else {
        let whole = decpt as usize;
        if digits.len() > whole {
            out.push_str(&digits[..whole]);
            out.push('.');
            out.push_str(&digits[whole..]);
        } else {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', whole - digits.len()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_ties_round_to_even_like_php() {
        assert_eq!(
            php_float_to_string(123456789012345.0, 14),
            "1.2345678901234E+14"
        );
        assert_eq!(
            php_float_to_string(123456789012335.0, 14),
            "1.2345678901234E+14"
        );
        assert_eq!(php_float_to_string(0.1, 17), "0.10000000000000001");
    }

    #[test]
    fn exponent_form_below_1e_minus_4_and_from_the_precision_up() {
        assert_eq!(php_float_to_string(1e-4, 14), "0.0001");
        assert_eq!(php_float_to_string(1.25e-5, 14), "1.25E-5");
        assert_eq!(php_float_to_string(99999999999999.0, 14), "99999999999999");
        assert_eq!(php_float_to_string(1e100, 14), "1.0E+100");
        assert_eq!(php_float_to_string(-2.5, 14), "-2.5");
        assert_eq!(php_float_to_string(0.0, 14), "0");
    }
}
