//! Exact decimal numbers for literals and unit conversions.
//!
//! `1%` against a ratio must become `0.01`, and `99.9%` must become `0.999`, not
//! `0.9990000000000001`: thresholds are converted by shifting a decimal point, never through floats.

use std::cmp::Ordering;
use std::fmt;

/// A decimal number `mantissa × 10^-scale`, kept normalized (no trailing zero digits after the point).
///
/// The mantissa is an `i128` stored as two halves: an `i128` field would align every syntax-tree
/// node holding a number to 16 bytes, which makes a project's syntax trees a quarter larger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    mantissa_high: i64,
    mantissa_low: u64,
    scale: u32,
}

/// More fractional digits than this are rejected as a literal, which keeps every operation in range.
const MAX_SCALE: u32 = 18;

impl Decimal {
    /// Zero.
    pub const ZERO: Decimal = Decimal::new(0, 0);

    const fn new(mantissa: i128, scale: u32) -> Decimal {
        Decimal {
            mantissa_high: (mantissa >> 64) as i64,
            mantissa_low: mantissa as u64,
            scale,
        }
    }

    fn mantissa(self) -> i128 {
        (i128::from(self.mantissa_high) << 64) | i128::from(self.mantissa_low)
    }

    /// The integer `value`.
    pub fn from_int(value: i128) -> Decimal {
        Decimal::new(value, 0)
    }

    /// Parses `-?digits(.digits)?`; `None` when the text is not of that form or does not fit.
    pub fn parse(text: &str) -> Option<Decimal> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let valid = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !valid(whole) || !valid(fraction) || (digits.contains('.') && fraction.is_empty()) {
            return None;
        }
        let scale = u32::try_from(fraction.len()).ok().filter(|s| *s <= MAX_SCALE)?;
        let mut mantissa: i128 = 0;
        for byte in whole.bytes().chain(fraction.bytes()) {
            mantissa = mantissa.checked_mul(10)?.checked_add(i128::from(byte - b'0'))?;
        }
        if mantissa > MAX_MANTISSA {
            return None;
        }
        let mantissa = if negative { -mantissa } else { mantissa };
        Some(Decimal::new(mantissa, scale).normalized())
    }

    fn normalized(self) -> Decimal {
        let (mut mantissa, mut scale) = (self.mantissa(), self.scale);
        while scale > 0 && mantissa % 10 == 0 {
            mantissa /= 10;
            scale -= 1;
        }
        Decimal::new(mantissa, scale)
    }

    /// `self × factor`, or `None` on overflow.
    pub fn checked_mul_int(self, factor: i128) -> Option<Decimal> {
        let mantissa = self.mantissa().checked_mul(factor)?;
        (mantissa.abs() <= MAX_MANTISSA).then(|| Decimal::new(mantissa, self.scale).normalized())
    }

    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: Decimal) -> Option<Decimal> {
        let scale = self.scale.max(other.scale);
        let a = self.mantissa().checked_mul(10i128.checked_pow(scale - self.scale)?)?;
        let b = other.mantissa().checked_mul(10i128.checked_pow(scale - other.scale)?)?;
        let mantissa = a.checked_add(b)?;
        (mantissa.abs() <= MAX_MANTISSA).then(|| Decimal::new(mantissa, scale).normalized())
    }

    /// `self / 10^power`: exact, it only moves the decimal point.
    pub fn shift_down(self, power: u32) -> Decimal {
        Decimal::new(self.mantissa(), self.scale + power).normalized()
    }

    /// True when there is no fractional part.
    pub fn is_integer(self) -> bool {
        self.scale == 0
    }

    /// True below zero.
    pub fn is_negative(self) -> bool {
        self.mantissa() < 0
    }

    /// The value as an integer, when it is one.
    pub fn to_integer(self) -> Option<i128> {
        self.is_integer().then_some(self.mantissa())
    }

    /// The value as a `u64`, when it is a whole number in range.
    pub fn to_u64(self) -> Option<u64> {
        self.to_integer().and_then(|value| u64::try_from(value).ok())
    }

    /// The value as a `u32`, when it is a whole number in range.
    pub fn to_u32(self) -> Option<u32> {
        self.to_integer().and_then(|value| u32::try_from(value).ok())
    }
}

/// Mantissas stay below 10^30 so that products of two in-range values still fit in an `i128`.
const MAX_MANTISSA: i128 = 1_000_000_000_000_000_000_000_000_000_000;

impl Ord for Decimal {
    fn cmp(&self, other: &Decimal) -> Ordering {
        let scale = self.scale.max(other.scale);
        let widen = |d: &Decimal| {
            10i128
                .checked_pow(scale - d.scale)
                .and_then(|factor| d.mantissa().checked_mul(factor))
        };
        match (widen(self), widen(other)) {
            (Some(a), Some(b)) => a.cmp(&b),
            // Both mantissas are bounded, so widening cannot overflow; compare signs as a fallback.
            _ => self.mantissa().signum().cmp(&other.mantissa().signum()),
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Decimal) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Decimal {
    /// Plain notation, never an exponent: `0.01`, `1500`, `-2.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.mantissa().unsigned_abs().to_string();
        let sign = if self.mantissa() < 0 { "-" } else { "" };
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (whole, fraction) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{whole}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    #[test]
    fn parses_and_prints_exactly() {
        for (text, shown) in [
            ("0", "0"),
            ("1.50", "1.5"),
            ("-2.25", "-2.25"),
            ("0.001", "0.001"),
            ("007", "7"),
        ] {
            assert_eq!(d(text).to_string(), shown);
        }
        for bad in ["", "-", "1.", ".5", "1e3", "1.2.3", "١"] {
            assert_eq!(Decimal::parse(bad), None, "{bad}");
        }
        assert_eq!(Decimal::parse("99999999999999999999999999999999999999999"), None);
    }

    #[test]
    fn mantissas_wider_than_64_bits_survive_storage() {
        for text in [
            "123456789012345678901234567890",
            "-123456789012345678901234567890",
            "-18446744073709551616",
            "18446744073709551615.5",
            "-0.000000000000000001",
        ] {
            assert_eq!(d(text).to_string(), text);
        }
        assert!(d("-18446744073709551616") < d("-18446744073709551615"));
        assert_eq!(d("-1").to_integer(), Some(-1));
    }

    #[test]
    fn unit_shifts_are_exact() {
        let cases = [
            ("1", 2, "0.01"),
            ("99.9", 2, "0.999"),
            ("500", 3, "0.5"),
            ("0.5", 2, "0.005"),
            ("1500", 3, "1.5"),
        ];
        for (text, power, expected) in cases {
            assert_eq!(d(text).shift_down(power).to_string(), expected);
        }
        assert_eq!(d("1.5").checked_mul_int(1024).unwrap().to_string(), "1536");
        assert_eq!(d("0.1").checked_add(d("0.2")).unwrap().to_string(), "0.3");
    }

    #[test]
    fn orders_by_value() {
        assert!(d("0.5") < d("1"));
        assert!(d("-1") < d("0.001"));
        assert_eq!(d("2.50").cmp(&d("2.5")), Ordering::Equal);
        assert!(d("1000") > d("999.999"));
    }
}
