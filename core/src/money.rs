//! Money in exact integer fen (分). No binary floating point anywhere.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// An amount of money in fen (1 yuan = 100 fen). Always non-negative and at most
/// [`Amount::MAX_FEN`] (2^53 − 1, so it is exact in JavaScript too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(u64);

impl Amount {
    /// The largest amount: 2^53 − 1 fen.
    pub const MAX_FEN: u64 = (1 << 53) - 1;
    /// Zero.
    pub const ZERO: Amount = Amount(0);

    /// From integer fen; fails above [`Amount::MAX_FEN`].
    pub fn from_fen(fen: u64) -> Result<Self> {
        Self::from_fen_named(fen, "amount")
    }

    /// Like [`Amount::from_fen`], naming `field` in the error.
    pub fn from_fen_named(fen: u64, field: &str) -> Result<Self> {
        if fen > Self::MAX_FEN {
            return Err(Error::validation(
                field,
                format!("{fen} fen is above the maximum of {} fen", Self::MAX_FEN),
            ));
        }
        Ok(Amount(fen))
    }

    /// From a signed integer of fen (for bindings); negative is rejected.
    pub fn from_fen_i64(fen: i64) -> Result<Self> {
        Self::from_fen_i64_named(fen, "amount")
    }

    /// Like [`Amount::from_fen_i64`], naming `field` in the error.
    pub fn from_fen_i64_named(fen: i64, field: &str) -> Result<Self> {
        if fen < 0 {
            return Err(Error::validation(field, format!("{fen} fen is negative")));
        }
        Self::from_fen_named(fen as u64, field)
    }

    /// From fen given as a double, as JavaScript numbers are: a whole number from 0 to
    /// [`Amount::MAX_FEN`]; `1.5`, `NaN`, a negative or a larger number is refused naming
    /// `field`, never truncated or saturated.
    /// The number in the error is spelled as JavaScript prints it (`NaN`, `Infinity`, `1e+300`).
    pub fn from_fen_f64_named(fen: f64, field: &str) -> Result<Self> {
        let js = || js_number(fen);
        if !fen.is_finite() || fen.fract() != 0.0 {
            Err(Error::validation(
                field,
                format!("{} is not a whole number of fen", js()),
            ))
        } else if fen < 0.0 {
            Err(Error::validation(
                field,
                format!("{} fen is negative", js()),
            ))
        } else if fen > Self::MAX_FEN as f64 {
            Err(Error::validation(
                field,
                format!("{} fen is above the maximum of {} fen", js(), Self::MAX_FEN),
            ))
        } else {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok(Amount(fen as u64))
        }
    }

    /// The error when a caller, in a runtime where an amount is given either in yuan
    /// (`field`) or in integer fen (`fen_field`), gave both (`both`) or neither of them.
    pub fn unit_error(field: &str, fen_field: &str, both: bool) -> Error {
        let reason = if both {
            format!("give {field} (yuan) or {fen_field} (integer fen), not both")
        } else {
            format!("is required: give {field} (yuan, like \"0.01\") or {fen_field} (integer fen)")
        };
        Error::validation(field, reason)
    }

    /// The amount in fen.
    pub fn fen(self) -> u64 {
        self.0
    }

    /// Is it zero?
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Parses a yuan decimal string exactly: digits, optionally `.` and one or two digits
    /// (`"158.00"`, `"0.1"`, `"12"`). Rejects signs, exponents, spaces inside the number,
    /// a decimal smaller than one fen and overflow; whitespace around it is ignored, and
    /// decimals past the second may be zeros (`"1.500"` is 150 fen, exactly). Zero is accepted
    /// here; requests that forbid zero check it themselves.
    pub fn parse_yuan(text: &str) -> Result<Self> {
        parse_yuan_field(text, "amount")
    }

    /// Like [`Amount::parse_yuan`], naming `field` in the error.
    pub fn parse_yuan_named(text: &str, field: &str) -> Result<Self> {
        parse_yuan_field(text, field)
    }

    /// Parses integer fen text (`"15800"`, as in reply `AMT`).
    pub fn parse_fen(text: &str, field: &str) -> Result<Self> {
        let t = text.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::validation(
                field,
                format!("{text:?} is not a whole number of fen"),
            ));
        }
        let v: u64 = t
            .parse()
            .map_err(|_| Error::validation(field, format!("{text:?} is too large")))?;
        Self::from_fen(v).map_err(|_| Error::validation(field, format!("{text:?} is too large")))
    }

    /// The yuan string for requests: always two decimals (`"158.00"`, `"0.01"`).
    pub fn to_yuan_string(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }

    /// Checked addition.
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0
            .checked_add(other.0)
            .filter(|v| *v <= Self::MAX_FEN)
            .map(Amount)
    }

    /// Checked subtraction.
    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.0.checked_sub(other.0).map(Amount)
    }
}

fn parse_yuan_field(text: &str, field: &str) -> Result<Amount> {
    let bad = |why: &str| Error::validation(field, format!("{text:?} is not a yuan amount: {why}"));
    let t = text.trim();
    if t.is_empty() {
        return Err(bad("empty"));
    }
    if t.starts_with('-') {
        return Err(bad("negative"));
    }
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (t, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !f.is_empty() && !digits(f)) {
        // "1e3", "1.5e2", "1,000", "１２": not digits with at most two decimals.
        return Err(bad(
            "expected digits with at most two decimals, like \"158.00\"",
        ));
    }
    let frac_fen: u64 = match frac {
        None => 0,
        Some("") => return Err(bad("expected digits after the decimal point")),
        Some(f) if f.len() > 2 => {
            // "1.500" is still exact: allow trailing zeros only.
            if f[2..].bytes().all(|b| b == b'0') {
                (f.as_bytes()[0] - b'0') as u64 * 10 + (f.as_bytes()[1] - b'0') as u64
            } else {
                return Err(bad("more than two decimals (smaller than one fen)"));
            }
        }
        Some(f) if f.len() == 1 => (f.as_bytes()[0] - b'0') as u64 * 10,
        Some(f) => (f.as_bytes()[0] - b'0') as u64 * 10 + (f.as_bytes()[1] - b'0') as u64,
    };
    let int = int.trim_start_matches('0');
    if int.len() > 16 {
        return Err(bad("too large"));
    }
    let yuan: u64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| bad("too large"))?
    };
    let fen = yuan
        .checked_mul(100)
        .and_then(|v| v.checked_add(frac_fen))
        .filter(|v| *v <= Amount::MAX_FEN)
        .ok_or_else(|| bad("too large"))?;
    Ok(Amount(fen))
}

impl FromStr for Amount {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Amount::parse_yuan(s)
    }
}

impl fmt::Display for Amount {
    /// Yuan with two decimals: `158.00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

/// A double as JavaScript's `String(n)` spells it, for messages about a JS number: `NaN`,
/// `Infinity`, exponents from 1e21 up and below 1e-6 (`1e+300`, `1e-7`), plain digits between.
fn js_number(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let a = n.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        let e = format!("{n:e}");
        return match e.split_once('e') {
            Some((m, x)) if !x.starts_with('-') => format!("{m}e+{x}"),
            _ => e,
        };
    }
    format!("{n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly() {
        assert_eq!(Amount::parse_yuan("158.00").map(Amount::fen), Ok(15800));
        assert_eq!(Amount::parse_yuan("0.1").map(Amount::fen), Ok(10));
        assert_eq!(Amount::parse_yuan("0.01").map(Amount::fen), Ok(1));
        assert_eq!(Amount::parse_yuan("12").map(Amount::fen), Ok(1200));
        assert_eq!(Amount::parse_yuan("1.500").map(Amount::fen), Ok(150));
        assert_eq!(Amount::parse_yuan("0").map(Amount::fen), Ok(0));
        for bad in [
            "",
            "-1",
            "1.234",
            "1e3",
            "1.",
            ".5",
            "+1",
            "1,00",
            "NaN",
            "inf",
            "0x10",
            "1 0",
            "99999999999999999999",
        ] {
            assert!(Amount::parse_yuan(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn formats() {
        assert_eq!(Amount(1).to_yuan_string(), "0.01");
        assert_eq!(Amount(15800).to_yuan_string(), "158.00");
        assert_eq!(Amount(10).to_string(), "0.10");
    }

    #[test]
    fn error_names_field() {
        let e = Amount::parse_yuan_named("1.234", "refund_amount").expect_err("bad");
        assert!(matches!(e, Error::Validation { ref field, .. } if field == "refund_amount"));
    }
}
