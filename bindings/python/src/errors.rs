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
    // The variant's own fields, by their core names (one mapping for every variant).
    let d =
        crate::topy::to_py(py, &serde_json::Value::Object(e.fields()))?.cast_into::<PyDict>()?;
    d.set_item("outcome_unknown", e.outcome_unknown())?;
    d.set_item("retryable", e.is_retryable())?;
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
