//! `sosopay::Error` → the Python exception hierarchy of `sosopay.errors`.
//!
//! The exception classes are defined in Python (so that `ValidationError` can also be a
//! `ValueError` and the timeout error a builtin `TimeoutError`); this module hands the error's
//! kind, message and fields to `sosopay.errors._from_native`, which picks the class.

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use sosopay::Error;

static FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn factory(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    let f = FACTORY.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py
            .import("sosopay.errors")?
            .getattr("_from_native")?
            .unbind())
    })?;
    Ok(f.bind(py))
}

fn fields<'py>(py: Python<'py>, e: &Error) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("outcome_unknown", e.outcome_unknown())?;
    d.set_item("retryable", e.is_retryable())?;
    match e {
        Error::Validation { field, reason } => {
            d.set_item("field", field)?;
            d.set_item("reason", reason)?;
        }
        Error::Signature { reason } => {
            d.set_item("reason", reason)?;
        }
        Error::Crypto { reason, operation } | Error::Decode { reason, operation } => {
            d.set_item("reason", reason)?;
            d.set_item("operation", operation)?;
        }
        Error::Gateway {
            code,
            info,
            operation,
        } => {
            d.set_item("code", code.as_wire())?;
            d.set_item("info", info)?;
            d.set_item("operation", operation)?;
        }
        Error::HttpStatus { status, operation } => {
            d.set_item("status", *status)?;
            d.set_item("operation", operation)?;
        }
        Error::Transport {
            operation,
            reason,
            maybe_sent,
        } => {
            d.set_item("operation", operation)?;
            d.set_item("reason", reason)?;
            d.set_item("maybe_sent", *maybe_sent)?;
        }
        Error::Timeout {
            operation,
            after_ms,
        } => {
            d.set_item("operation", operation)?;
            d.set_item("after_ms", *after_ms)?;
        }
        Error::OutcomeUnknown {
            operation,
            charge_code,
            reason,
        } => {
            d.set_item("operation", operation)?;
            d.set_item("charge_code", charge_code)?;
            d.set_item("reason", reason)?;
        }
        // A variant added to the core later still maps (to the base class) by its kind.
        #[allow(unreachable_patterns)]
        _ => {}
    }
    Ok(d)
}

/// Converts a core error into the matching Python exception.
pub fn to_py(py: Python<'_>, e: &Error) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let exc = factory(py)?.call1((e.kind(), e.to_string(), fields(py, e)?))?;
        Ok(PyErr::from_value(exc))
    };
    match build() {
        Ok(err) => err,
        // Only if `sosopay.errors` itself cannot be imported: still an exception, never a panic.
        Err(import_err) => {
            let err = PyRuntimeError::new_err(format!("sosopay: {e}"));
            err.set_cause(py, Some(import_err));
            err
        }
    }
}

/// `Result<T, sosopay::Error>` → `PyResult<T>`.
pub trait OrPyErr<T> {
    /// Maps the error with [`to_py`].
    fn or_py(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> OrPyErr<T> for sosopay::Result<T> {
    fn or_py(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, &e))
    }
}

/// A validation error for `field`, as the core would raise it.
pub fn validation(py: Python<'_>, field: &str, reason: impl Into<String>) -> PyErr {
    to_py(
        py,
        &Error::Validation {
            field: field.to_owned(),
            reason: reason.into(),
        },
    )
}

/// A `TypeError` naming the argument.
pub fn type_error(field: &str, msg: &str) -> PyErr {
    PyTypeError::new_err(format!("{field}: {msg}"))
}
