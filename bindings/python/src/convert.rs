//! Python ↔ core value conversions: amounts, timestamps, JSON documents, enums.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString};
use sosopay::{Amount, OutcomeStatus};

use crate::errors::{type_error, validation, OrPyErr};

static DECIMAL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

pub(crate) fn decimal_type(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    let d = DECIMAL.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("decimal")?.getattr("Decimal")?.unbind())
    })?;
    Ok(d.bind(py))
}

/// A yuan amount from `str` or `decimal.Decimal`; `float` (inexact) and `int` (fen or yuan?)
/// are refused with a `TypeError`.
pub fn yuan_from_py(value: &Bound<'_, PyAny>, field: &str) -> PyResult<Amount> {
    let py = value.py();
    if value.is_instance_of::<PyFloat>() {
        return Err(type_error(
            field,
            &format!(
                "a float is not accepted for money (binary floating point is inexact); \
                 pass a str like \"0.01\", a decimal.Decimal, or {field}_fen=<int>"
            ),
        ));
    }
    if value.is_instance_of::<PyBool>() || value.is_instance_of::<PyInt>() {
        return Err(type_error(
            field,
            &format!(
                "an int is ambiguous (yuan or fen?); pass yuan as a str like \"12.00\" or a \
                 decimal.Decimal, or fen as {field}_fen=<int>"
            ),
        ));
    }
    if let Ok(s) = value.cast::<PyString>() {
        let text = crate::args::text_of(s, field)?;
        return Amount::parse_yuan_named(&text, field).or_py(py);
    }
    if value.is_instance(decimal_type(py)?)? {
        if !value.call_method0("is_finite")?.is_truthy()? {
            return Err(validation(py, field, "is not a finite number"));
        }
        // Plain notation ("1E+2" → "100"), then the core's exact parser; an exponent far out
        // of any amount's range is refused as the core words it, quoting the short form
        // (`1E+30000000` written out would be 30 million digits).
        // `as_tuple` needs no context (`normalize` would trap on such an exponent).
        let (_, digits, exponent): (i64, Vec<u8>, i64) =
            value.call_method0("as_tuple")?.extract()?;
        let zeros = digits.iter().rev().take_while(|d| **d == 0).count();
        let why = if zeros == digits.len() {
            None // zero, however written
        } else if exponent + digits.len() as i64 > 40 {
            Some("too large")
        } else if exponent + (zeros as i64) < -40 {
            Some("more than two decimals (smaller than one fen)")
        } else {
            None
        };
        if let Some(why) = why {
            let shown: String = value.str()?.extract()?;
            return Err(validation(
                py,
                field,
                format!("{shown:?} is not a yuan amount: {why}"),
            ));
        }
        if zeros == digits.len() && exponent < -40 {
            return Amount::parse_yuan_named("0", field).or_py(py);
        }
        let text: String = py
            .import("builtins")?
            .getattr("format")?
            .call1((value, "f"))?
            .extract()?;
        return Amount::parse_yuan_named(&text, field).or_py(py);
    }
    Err(crate::args::wrong_type(
        value,
        field,
        "a str or decimal.Decimal amount in yuan",
    ))
}

/// An amount in fen from an `int` (not `bool`, not `float`).
pub fn fen_from_py(value: &Bound<'_, PyAny>, field: &str) -> PyResult<Amount> {
    let py = value.py();
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        return Err(crate::args::wrong_type(value, field, "an int of fen"));
    }
    match value.extract::<i64>() {
        Ok(v) => Amount::from_fen_i64_named(v, field).or_py(py),
        Err(_) => Err(validation(py, field, "is too large")),
    }
}

/// A whole number from 0 to `max` for `field`: a Python `int` (not a `bool`). Any other type
/// (a `float`, even `2.0`; a `str`) and any int out of range is a `ValidationError` naming the
/// field, never pyo3's `OverflowError`/`TypeError`, and never truncated or wrapped.
pub fn whole_from_py<T: Copy + Into<u64> + TryFrom<u64> + std::fmt::Display>(
    value: &Bound<'_, PyAny>,
    field: &str,
    max: T,
) -> PyResult<T> {
    let py = value.py();
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        return Err(validation(
            py,
            field,
            format!(
                "must be an int from 0 to {max}, got {}",
                value.get_type().name()?
            ),
        ));
    }
    match value.extract::<u64>().ok().filter(|n| *n <= max.into()) {
        Some(n) => T::try_from(n).map_err(|_| validation(py, field, "is out of range")),
        None => Err(validation(
            py,
            field,
            format!("{value} is not a whole number from 0 to {max}"),
        )),
    }
}

/// Exactly one of `amount` (yuan) and `amount_fen` (fen), for the argument pair named
/// `field` / `{field}_fen`.
pub fn amount_arg(
    py: Python<'_>,
    yuan: Option<&Bound<'_, PyAny>>,
    fen: Option<&Bound<'_, PyAny>>,
    field: &str,
) -> PyResult<Amount> {
    let yuan = yuan.filter(|v| !v.is_none());
    let fen = fen.filter(|v| !v.is_none());
    let fen_field = format!("{field}_fen");
    match (yuan, fen) {
        (Some(y), None) => yuan_from_py(y, field),
        (None, Some(f)) => fen_from_py(f, &fen_field),
        (y, _) => Err(Amount::unit_error(field, &fen_field, y.is_some())).or_py(py),
    }
}

/// A signature timestamp: `str` of digits or a non-negative `int`; `None` means now (Unix ms).
pub fn timestamp_arg(value: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
    match value {
        None => Ok(sosopay::envelope::now_millis().to_string()),
        Some(v) if v.is_none() => Ok(sosopay::envelope::now_millis().to_string()),
        Some(v) if v.is_instance_of::<PyBool>() => Err(type_error(
            "timestamp",
            "expected a str of digits or an int",
        )),
        Some(v) if v.is_instance_of::<PyInt>() => match v.extract::<u64>() {
            Ok(n) => Ok(n.to_string()),
            Err(_) => Err(validation(
                v.py(),
                "timestamp",
                "must be 10 decimal digits (Unix seconds) or 13 (milliseconds), as a signature's is read",
            )),
        },
        Some(v) => match v.cast::<PyString>() {
            Ok(s) => Ok(crate::args::text_of(s, "timestamp")?.into_owned()),
            Err(_) => Err(type_error(
                "timestamp",
                "expected a str of digits or an int",
            )),
        },
    }
}

/// `(VariantName, wire)` for every known value of the core enum `enum_name`.
#[pyfunction]
pub fn _enum_members(py: Python<'_>, enum_name: String) -> PyResult<Vec<(String, String)>> {
    if enum_name == "OutcomeStatus" {
        return outcome_statuses();
    }
    sosopay::enums::dictionary_members(&enum_name)
        .map(|m| {
            m.into_iter()
                .map(|(n, w)| (n.to_owned(), w.to_owned()))
                .collect()
        })
        .ok_or_else(|| not_an_enum(py, &enum_name))
}

fn not_an_enum(py: Python<'_>, name: &str) -> PyErr {
    validation(py, "enum_name", format!("{name:?} is not a sosopay enum"))
}

/// `(Variant, text)` of every flow outcome, the text as the core serializes it (`"conflict"`).
fn outcome_statuses() -> PyResult<Vec<(String, String)>> {
    Ok(OutcomeStatus::KNOWN
        .iter()
        .map(|s| (s.name().to_owned(), s.as_str().to_owned()))
        .collect())
}

/// The canonical wire text of `raw` read as the core enum `enum_name` (lenient: `"1.0"` → `"1"`,
/// `"sucess"` → `"SUCCESS"`); unknown codes come back unchanged.
#[pyfunction]
pub fn _normalize_enum(
    py: Python<'_>,
    enum_name: String,
    raw: crate::args::Text<crate::args::Value>,
) -> PyResult<String> {
    sosopay::enums::normalize_wire(&enum_name, &raw).ok_or_else(|| not_an_enum(py, &enum_name))
}

/// A rule of the core about a dictionary value (`"OrderState"`, `"money_taken"`, `"5"` → true).
#[pyfunction]
pub fn _dictionary_rule(
    py: Python<'_>,
    enum_name: String,
    rule: String,
    raw: String,
) -> PyResult<bool> {
    sosopay::enums::dictionary_rule(&enum_name, &rule, &raw).ok_or_else(|| {
        validation(
            py,
            "rule",
            format!("{enum_name}.{rule} is not a rule of the core"),
        )
    })
}

/// The fen of a yuan `str`/`Decimal` (or of an `int` of fen when `fen` is true), by the
/// core's exact rules; the Python layer uses it for `Goods(price=...)`.
#[pyfunction]
#[pyo3(signature = (value, field = "amount", fen = false))]
pub fn to_fen(value: &Bound<'_, PyAny>, field: &str, fen: bool) -> PyResult<u64> {
    let a = if fen {
        fen_from_py(value, field)?
    } else {
        yuan_from_py(value, field)?
    };
    Ok(a.fen())
}

/// `"158.00"` for 15800 fen.
#[pyfunction]
pub fn fen_to_yuan(py: Python<'_>, fen: &Bound<'_, PyAny>) -> PyResult<String> {
    let _ = py;
    Ok(fen_from_py(fen, "fen")?.to_yuan_string())
}
