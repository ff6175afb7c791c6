//! Durations that a runtime gives as a plain number (seconds in Python, milliseconds in
//! JavaScript): one rule for every timeout, wait and replay window, so that no binding checks
//! them its own way (and none can panic on `1e30` or `NaN`).

use std::time::Duration;

use crate::error::{Error, Result};

/// The unit of a runtime's duration numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    /// Seconds (Python).
    Seconds,
    /// Milliseconds (JavaScript, Kotlin, Swift).
    Milliseconds,
}

impl TimeUnit {
    fn name(self) -> &'static str {
        match self {
            TimeUnit::Seconds => "seconds",
            TimeUnit::Milliseconds => "milliseconds",
        }
    }
}

/// The longest duration a runtime may give: 10^7 s (about 116 days).
pub const MAX_DURATION: Duration = Duration::from_secs(10_000_000);

/// `value` in `unit` as a duration, from 0 to [`MAX_DURATION`]; anything else (negative, too
/// large, infinite, NaN) is a `Validation` error naming `field`. Only zero is zero: a positive
/// value shorter than a nanosecond is one nanosecond (zero often means "off", as for the
/// notification replay window; a tiny window must never turn it off).
pub fn duration(field: &str, value: f64, unit: TimeUnit) -> Result<Duration> {
    let secs = match unit {
        TimeUnit::Seconds => value,
        TimeUnit::Milliseconds => value / 1000.0,
    };
    if (0.0..=MAX_DURATION.as_secs_f64()).contains(&secs) {
        let d = Duration::from_secs_f64(secs);
        if d.is_zero() && value > 0.0 {
            return Ok(Duration::from_nanos(1));
        }
        return Ok(d);
    }
    // A huge value in exponent form: its plain digits (9223372036854776000 for a Long.MAX_VALUE
    // made a double) would read as exact.
    let shown = if value.abs() >= 1e15 {
        format!("{value:e}")
    } else {
        format!("{value}")
    };
    let unit = unit.name();
    let why = if value.is_nan() {
        format!("is not a number of {unit}")
    } else if value < 0.0 {
        format!("{shown} {unit} is negative")
    } else {
        format!("{shown} {unit} is longer than any setting takes (at most 10^7 s)")
    };
    Err(Error::validation(field, why))
}

/// The largest whole number a JavaScript number holds exactly (2^53 - 1).
pub const MAX_SAFE_INTEGER: u64 = 9_007_199_254_740_991;

/// `value`, a number of a runtime whose numbers are doubles (JavaScript), as a whole number from
/// 0 to `max` (at most [`MAX_SAFE_INTEGER`]), in `max`'s type (`u16`, `u32`, `u64`): `-1`,
/// `1.5`, `NaN` and anything above `max` are a `Validation` error naming `field`, never wrapped
/// or truncated.
pub fn whole<T: Copy + Into<u64> + TryFrom<u64>>(field: &str, value: f64, max: T) -> Result<T> {
    let top = max.into().min(MAX_SAFE_INTEGER);
    #[allow(clippy::cast_precision_loss)]
    if value.fract() == 0.0 && (0.0..=top as f64).contains(&value) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        if let Ok(n) = T::try_from(value as u64) {
            return Ok(n);
        }
    }
    Err(Error::validation(
        field,
        format!("{value} is not a whole number from 0 to {top}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_in_range_is_a_duration_in_its_unit() {
        let ms = duration("timeoutMs", 1500.0, TimeUnit::Milliseconds).expect("in range");
        assert_eq!(ms, Duration::from_millis(1500));
        assert_eq!(
            duration("timeout", 2.5, TimeUnit::Seconds).expect("in range"),
            Duration::from_millis(2500)
        );
        assert_eq!(
            duration("timeout", 0.0, TimeUnit::Seconds).expect("in range"),
            Duration::ZERO
        );
        assert_eq!(
            duration("timeout", 1.0e7, TimeUnit::Seconds).expect("in range"),
            MAX_DURATION
        );
    }

    #[test]
    fn a_positive_duration_never_rounds_to_zero() {
        // Zero turns the replay window off: a tiny window must stay a window (the shortest).
        for (v, unit) in [
            (1e-10, TimeUnit::Seconds),
            (4e-10, TimeUnit::Seconds),
            (1e-7, TimeUnit::Milliseconds),
            (f64::MIN_POSITIVE, TimeUnit::Milliseconds),
            (5e-324, TimeUnit::Seconds),
        ] {
            let d = duration("max_age", v, unit).expect("in range");
            assert_eq!(d, Duration::from_nanos(1), "{v} {unit:?}");
        }
        for zero in [0.0, -0.0] {
            assert_eq!(
                duration("max_age", zero, TimeUnit::Seconds).expect("zero"),
                Duration::ZERO
            );
        }
        assert_eq!(
            duration("max_age", 1e-6, TimeUnit::Seconds).expect("1 us"),
            Duration::from_micros(1)
        );
    }

    #[test]
    fn whole_numbers_in_range_only() {
        assert_eq!(whole("count", 7.0, 10u32).expect("whole"), 7);
        assert_eq!(whole("count", -0.0, 10u32).expect("zero"), 0);
        assert_eq!(
            whole("ts", 9_007_199_254_740_991.0, u64::MAX).expect("2^53 - 1"),
            MAX_SAFE_INTEGER
        );
        // In the bound's type: a port is a u16, 65536 is refused rather than wrapped.
        let port: u16 = whole("port", 65_535.0, u16::MAX).expect("u16::MAX");
        assert_eq!(port, u16::MAX);
        assert!(whole("port", 65_536.0, u16::MAX).is_err());
        for bad in [-1.0, 1.5, 11.0, f64::NAN, f64::INFINITY, 1.0e300] {
            match whole("count", bad, 10u32) {
                Err(Error::Validation { field, reason }) => {
                    assert_eq!(field, "count");
                    assert!(
                        reason.ends_with("is not a whole number from 0 to 10"),
                        "{reason}"
                    );
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn an_out_of_range_duration_says_which_way_and_a_huge_one_is_not_shown_as_exact() {
        let reason = |v: f64| match duration("timeoutMs", v, TimeUnit::Milliseconds) {
            Err(Error::Validation { reason, .. }) => reason,
            other => panic!("{v}: {other:?}"),
        };
        assert_eq!(reason(-1.0), "-1 milliseconds is negative");
        #[allow(clippy::cast_precision_loss)]
        let long_max = i64::MAX as f64;
        assert_eq!(
            reason(long_max),
            "9.223372036854776e18 milliseconds is longer than any setting takes (at most 10^7 s)"
        );
        assert_eq!(reason(f64::NAN), "is not a number of milliseconds");
    }

    #[test]
    fn anything_else_names_the_field_and_never_panics() {
        for bad in [-1.0, -0.001, 1.0e7 + 1.0, 1.0e30, f64::INFINITY, f64::NAN] {
            for unit in [TimeUnit::Seconds, TimeUnit::Milliseconds] {
                let v = if unit == TimeUnit::Milliseconds {
                    bad * 1000.0
                } else {
                    bad
                };
                match duration("maxAgeMs", v, unit) {
                    Err(Error::Validation { field, reason }) => {
                        assert_eq!(field, "maxAgeMs");
                        assert!(reason.contains(unit.name()), "{reason}");
                    }
                    other => panic!("{v} {unit:?}: {other:?}"),
                }
            }
        }
    }
}
