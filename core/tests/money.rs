//! Money: exact yuan parsing, rejections, formatting; never a float.

use sosopay::{Amount, Error};

fn yuan(s: &str) -> u64 {
    Amount::parse_yuan(s)
        .unwrap_or_else(|e| panic!("{s:?}: {e}"))
        .fen()
}

#[test]
fn parses_yuan_exactly() {
    for (text, fen) in [
        ("158.00", 15800),
        ("158", 15800),
        ("158.0", 15800),
        ("0.1", 10),
        ("0.10", 10),
        ("0.01", 1),
        ("0.00", 0),
        ("0", 0),
        ("1", 100),
        ("12.34", 1234),
        ("007.50", 750),
        ("0000000000000000000000001.00", 100),
        (" 2.50 ", 250),
        ("\t3\n", 300),
        // Values where binary floating point goes wrong.
        ("0.29", 29),
        ("1.15", 115),
        ("4.35", 435),
        ("19.99", 1999),
        ("1234567.89", 123_456_789),
        // Zero decimals beyond the second are still exact.
        ("1.500", 150),
        ("0.010", 1),
        ("2.000000", 200),
    ] {
        assert_eq!(yuan(text), fen, "{text:?}");
        assert_eq!(
            text.parse::<Amount>().map(Amount::fen),
            Ok(fen),
            "FromStr {text:?}"
        );
    }
}

#[test]
fn every_cent_of_a_few_yuan_is_exact() {
    for fen in 0..=1000u64 {
        let text = format!("{}.{:02}", fen / 100, fen % 100);
        assert_eq!(yuan(&text), fen, "{text}");
        let one_decimal = format!("{}.{}", fen / 100, (fen % 100) / 10);
        assert_eq!(yuan(&one_decimal), fen - fen % 10, "{one_decimal}");
    }
}

#[test]
fn maximum_and_overflow() {
    let max = Amount::MAX_FEN;
    assert_eq!(max, 9_007_199_254_740_991);
    assert_eq!(yuan("90071992547409.91"), max);
    for over in [
        "90071992547409.92",
        "90071992547410",
        "99999999999999999",
        "18446744073709551616",
        "184467440737095516.15",
        "99999999999999999999999999999999999999.99",
    ] {
        let e = Amount::parse_yuan(over).expect_err(over);
        assert!(matches!(e, Error::Validation { .. }), "{over}: {e:?}");
    }
    Amount::from_fen(max).expect("max");
    assert!(Amount::from_fen(max + 1).is_err());
    assert!(Amount::from_fen(u64::MAX).is_err());
    assert!(Amount::from_fen_i64(i64::MAX).is_err());
    assert!(Amount::from_fen_i64(i64::MIN).is_err());
    assert!(Amount::from_fen_i64(-1).is_err());
    assert_eq!(Amount::from_fen_i64(0).map(Amount::fen), Ok(0));
    // The `_named` forms name the caller's field, with the same reasons.
    for (e, field) in [
        (Amount::from_fen_named(max + 1, "price_fen"), "price_fen"),
        (Amount::from_fen_i64_named(-1, "amount_fen"), "amount_fen"),
        (Amount::from_fen_i64_named(i64::MAX, "x_fen"), "x_fen"),
    ] {
        assert!(
            matches!(&e, Err(Error::Validation { field: f, .. }) if f == field),
            "{e:?}"
        );
    }
    assert_eq!(
        Amount::from_fen_i64_named(-1, "amount_fen").map_err(|e| e.to_string()),
        Amount::from_fen_i64(-1).map_err(|e| e.to_string().replace("amount", "amount_fen"))
    );
    let m = Amount::from_fen(max).expect("max");
    assert_eq!(m.checked_add(Amount::from_fen(1).expect("1")), None);
    assert_eq!(m.checked_add(Amount::ZERO), Some(m));
    assert_eq!(
        Amount::ZERO.checked_sub(Amount::from_fen(1).expect("1")),
        None
    );
    assert_eq!(m.to_yuan_string(), "90071992547409.91");
}

#[test]
fn rejects_what_is_not_an_exact_yuan_amount() {
    for bad in [
        // empty
        "",
        " ",
        "\t",
        // signs
        "-1",
        "-0.01",
        "-0",
        "+1",
        "+0.01",
        "\u{2212}1",
        // more than two (non-zero) decimals
        "1.234",
        "0.001",
        "0.015",
        "158.001",
        "1.2345678",
        // exponent forms and float syntax
        "1e2",
        "1E2",
        "1e-2",
        "1.5e1",
        "0.1f",
        "1.0d",
        "1f",
        "0x10",
        "0b1",
        "1_000",
        "NaN",
        "nan",
        "inf",
        "Infinity",
        "-inf",
        // malformed decimals
        "1.",
        ".5",
        ".",
        "..",
        "1..2",
        "1.2.3",
        "1,00",
        "1,000.00",
        "1 000",
        "1 .00",
        "1. 00",
        // letters, currency, non-ASCII digits
        "abc",
        "¥1",
        "1元",
        "1yuan",
        "$1",
        "１",
        "٣",
        "1.０",
        // control characters and nulls
        "1\u{0}",
        "\u{0}",
    ] {
        match Amount::parse_yuan(bad) {
            Err(Error::Validation { field, reason }) => {
                assert_eq!(field, "amount", "{bad:?}");
                assert!(
                    reason.contains(&format!("{bad:?}")),
                    "the reason quotes the input: {reason}"
                );
            }
            other => panic!("{bad:?} should be rejected, got {other:?}"),
        }
    }
    // Which advice: only a bare point lacks digits after it; "1.5e2" is not a decimal at all.
    let reason = |text: &str| match Amount::parse_yuan(text) {
        Err(Error::Validation { reason, .. }) => reason,
        other => panic!("{text:?}: {other:?}"),
    };
    assert!(reason("12.").ends_with("expected digits after the decimal point"));
    for text in ["1.5e2", "1.0d", "1,00", "1.2.3", "1.０"] {
        assert!(
            reason(text).ends_with("like \"158.00\""),
            "{text:?}: {}",
            reason(text)
        );
    }
}

#[test]
fn errors_name_the_field() {
    let e = Amount::parse_yuan_named("1e2", "refund_amount").expect_err("exponent");
    assert!(matches!(e, Error::Validation { ref field, .. } if field == "refund_amount"));
    assert!(e.to_string().contains("refund_amount"), "{e}");
    let e = Amount::parse_fen("1.5", "AMT").expect_err("fractional fen");
    assert!(matches!(e, Error::Validation { ref field, .. } if field == "AMT"));
}

#[test]
fn parses_reply_fen() {
    for (text, fen) in [
        ("1", 1),
        ("15800", 15800),
        (" 7 ", 7),
        ("0", 0),
        ("0015800", 15800),
    ] {
        assert_eq!(
            Amount::parse_fen(text, "AMT").map(Amount::fen),
            Ok(fen),
            "{text:?}"
        );
    }
    for bad in [
        "",
        "-1",
        "+1",
        "1.5",
        "0.01",
        "1e3",
        "abc",
        "9007199254740992",
        "99999999999999999999999",
    ] {
        assert!(Amount::parse_fen(bad, "AMT").is_err(), "{bad:?}");
    }
    assert_eq!(
        Amount::parse_fen("9007199254740991", "AMT").map(Amount::fen),
        Ok(Amount::MAX_FEN)
    );
}

#[test]
fn formats_request_yuan_strings() {
    for (fen, text) in [
        (0, "0.00"),
        (1, "0.01"),
        (9, "0.09"),
        (10, "0.10"),
        (99, "0.99"),
        (100, "1.00"),
        (101, "1.01"),
        (15800, "158.00"),
        (123_456_789, "1234567.89"),
    ] {
        let a = Amount::from_fen(fen).expect("fen");
        assert_eq!(a.to_yuan_string(), text);
        assert_eq!(a.to_string(), text, "Display");
        assert_eq!(Amount::parse_yuan(text), Ok(a), "round trip {text}");
    }
}

#[test]
fn serializes_as_integer_fen() {
    let a = Amount::from_fen(15800).expect("fen");
    assert_eq!(serde_json::to_string(&a).expect("json"), "15800");
    assert!(Amount::from_fen(1).expect("1") > Amount::ZERO);
    assert!(Amount::ZERO.is_zero());
    assert_eq!(Amount::default(), Amount::ZERO);
}

#[test]
fn fen_from_a_double_is_whole_in_range_or_refused_naming_the_field() {
    assert_eq!(
        Amount::from_fen_f64_named(150.0, "amountFen")
            .expect("whole")
            .fen(),
        150
    );
    assert_eq!(
        Amount::from_fen_f64_named(9_007_199_254_740_991.0, "amountFen")
            .expect("max")
            .fen(),
        Amount::MAX_FEN
    );
    for (bad, says) in [
        (1.5, "not a whole number"),
        (f64::NAN, "not a whole number"),
        (f64::INFINITY, "not a whole number"),
        (-1.0, "negative"),
        (9_007_199_254_740_992.0, "above the maximum"),
        (1e300, "above the maximum"),
        (f64::NEG_INFINITY, "not a whole number"),
        (1e-7, "not a whole number"),
    ] {
        match Amount::from_fen_f64_named(bad, "priceFen") {
            Err(sosopay::Error::Validation { field, reason }) => {
                assert_eq!(field, "priceFen");
                assert!(reason.contains(says), "{bad}: {reason}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    // The number is spelled as the JavaScript caller would print it.
    for (bad, spelled) in [
        (f64::NAN, "NaN is not"),
        (f64::INFINITY, "Infinity is not"),
        (f64::NEG_INFINITY, "-Infinity is not"),
        (1e300, "1e+300 fen is above"),
        (2f64.powi(60), "1152921504606847000 fen is above"),
        (1e-7, "1e-7 is not"),
        (0.5, "0.5 is not"),
        (-3.0, "-3 fen is negative"),
    ] {
        let reason = Amount::from_fen_f64_named(bad, "amountFen")
            .expect_err("refused")
            .to_string();
        assert!(reason.contains(spelled), "{bad}: {reason}");
    }
}

#[test]
fn an_amount_in_yuan_or_fen_names_both_when_both_or_neither_were_given() {
    let both = Amount::unit_error("amount", "amountFen", true).to_string();
    assert!(
        both.contains("amount") && both.contains("amountFen") && both.contains("not both"),
        "{both}"
    );
    let neither = Amount::unit_error("amount", "amount_fen", false).to_string();
    assert!(
        neither.contains("is required") && neither.contains("amount_fen"),
        "{neither}"
    );
}
