//! `sosopay._native.NativeSandbox`: the sandbox gateway (`sosopay-sandbox`) in-process, behind
//! the cargo feature `sandbox` (on in the published wheel). `sosopay.testing` wraps it; nothing
//! runs until a `NativeSandbox` is constructed (then a background thread with its own tokio
//! runtime serves on a local port), so `import sosopay` costs nothing more.

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use sosopay_sandbox::kit::{self, KitOptions, SandboxHandle};
use sosopay_sandbox::SandboxError;

use crate::args::{BusiCode, ChargeCode, Key, Text};
use crate::convert::json_to_py;

create_exception!(
    _native,
    NativeSandboxError,
    PyException,
    "A sandbox admin action was refused: args are (message, status, reason)."
);

/// A bad setting or argument is a `ValueError` naming it, a wait that ran out of time the
/// builtin `TimeoutError`; the rest (refused, closed) a `NativeSandboxError` with the status.
fn sandbox_err(e: SandboxError) -> PyErr {
    match e {
        SandboxError::Config { .. } | SandboxError::Bind { .. } => {
            PyValueError::new_err(e.to_string())
        }
        SandboxError::Timeout { reason } => PyTimeoutError::new_err(reason),
        other => NativeSandboxError::new_err((
            format!("sandbox: {}", other.reason()),
            other.status(),
            other.reason(),
        )),
    }
}

fn json<'py, T: serde::Serialize>(py: Python<'py>, v: &T) -> PyResult<Bound<'py, PyAny>> {
    json_to_py(
        py,
        &serde_json::to_value(v).unwrap_or(serde_json::Value::Null),
    )
}

/// A running sandbox gateway (the sandbox crate's `SandboxHandle`).
#[pyclass(frozen, name = "NativeSandbox", module = "sosopay._native")]
pub struct PySandbox(SandboxHandle);

#[pymethods]
impl PySandbox {
    #[new]
    #[pyo3(signature = (*, time_scale = 1.0, seed = 0, faults = Vec::new(), merchants = Vec::new(), host = "127.0.0.1".to_owned(), port = 0, max_request_age = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        time_scale: f64,
        seed: u64,
        faults: Vec<String>,
        merchants: Vec<(String, String)>,
        host: String,
        port: u16,
        max_request_age: Option<f64>,
    ) -> PyResult<Self> {
        let options = KitOptions {
            time_scale,
            seed,
            faults,
            merchants,
            host,
            port,
            max_request_age,
        };
        let h = py.detach(move || SandboxHandle::start(&options));
        Ok(PySandbox(h.map_err(sandbox_err)?))
    }

    /// `http://127.0.0.1:PORT/openGateway/openService/`.
    #[getter]
    fn base_url(&self) -> &str {
        self.0.base_url()
    }

    /// `http://127.0.0.1:PORT/`.
    #[getter]
    fn root_url(&self) -> &str {
        self.0.root_url()
    }

    /// Whether `shutdown` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.0.is_closed()
    }

    /// The ledger as Python objects.
    fn ledger<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.0.ledger_json().map_err(sandbox_err)?)
    }

    /// One order (ledger form), or `None`.
    fn order<'py>(
        &self,
        py: Python<'py>,
        charge_code: Text<ChargeCode>,
    ) -> PyResult<Bound<'py, PyAny>> {
        json(py, &self.0.order(&charge_code).map_err(sandbox_err)?)
    }

    /// The customer pays an order awaiting payment.
    fn pay<'py>(
        &self,
        py: Python<'py>,
        charge_code: Text<ChargeCode>,
    ) -> PyResult<Bound<'py, PyAny>> {
        json(py, &self.0.pay(&charge_code).map_err(sandbox_err)?)
    }

    /// The payment of an order awaiting payment fails (STATE 6).
    fn fail<'py>(
        &self,
        py: Python<'py>,
        charge_code: Text<ChargeCode>,
    ) -> PyResult<Bound<'py, PyAny>> {
        json(py, &self.0.fail(&charge_code).map_err(sandbox_err)?)
    }

    /// Replaces the fault rules (strings `op:kind:prob[:param]`), and the seed if given.
    #[pyo3(signature = (rules, seed = None))]
    fn set_faults(&self, rules: Vec<String>, seed: Option<u64>) -> PyResult<()> {
        self.0.set_faults(&rules, seed).map_err(sandbox_err)
    }

    /// Adds fault rules to those in force.
    fn add_faults(&self, rules: Vec<String>) -> PyResult<()> {
        self.0.add_faults(&rules).map_err(sandbox_err)
    }

    /// The rules in force, as strings, and the seed.
    fn faults(&self) -> PyResult<(Vec<String>, u64)> {
        self.0.faults().map_err(sandbox_err)
    }

    /// Forgets every order, refund, notification and fault count.
    fn reset(&self) -> PyResult<()> {
        self.0.reset().map_err(sandbox_err)
    }

    /// Registers (or re-keys) a merchant.
    fn add_merchant(&self, busi_id: Text<BusiCode>, key: Text<Key>) -> PyResult<()> {
        self.0.add_merchant(&busi_id, &key).map_err(sandbox_err)
    }

    /// Blocks (without the GIL) until `count` notification attempts were accepted (or made);
    /// returns them (ledger form). `TimeoutError` lists what was seen.
    #[pyo3(signature = (charge_code, count, accepted, timeout))]
    fn wait_for_notifications<'py>(
        &self,
        py: Python<'py>,
        charge_code: Option<String>,
        count: u32,
        accepted: bool,
        timeout: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let t = kit::timeout("timeout", timeout, false).map_err(sandbox_err)?;
        let hits = py
            .detach(|| {
                self.0
                    .wait_for_notification(charge_code.as_deref(), count, accepted, t)
            })
            .map_err(sandbox_err)?;
        json(py, &hits)
    }

    /// Blocks (without the GIL) until the order is in one of `states` (names or wire codes);
    /// returns it (ledger form).
    fn wait_for_state<'py>(
        &self,
        py: Python<'py>,
        charge_code: Text<ChargeCode>,
        states: Vec<String>,
        timeout: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let t = kit::timeout("timeout", timeout, false).map_err(sandbox_err)?;
        let order = py
            .detach(|| self.0.wait_for_state(&charge_code, &states, t))
            .map_err(sandbox_err)?;
        json(py, &order)
    }

    /// Stops serving (idempotent); waits for the background thread without holding the GIL.
    fn shutdown(&self, py: Python<'_>) {
        py.detach(|| self.0.close());
    }

    fn __repr__(&self) -> String {
        format!(
            "NativeSandbox(base_url={:?}, closed={})",
            self.0.base_url(),
            self.0.is_closed()
        )
    }
}

/// A test payment code (the sandbox's `codes::code_from_parts`): `ValueError` naming the
/// argument at fault.
#[pyfunction]
pub fn _test_code(behaviour: i64, seconds: i64, channel: &str) -> PyResult<String> {
    sosopay_sandbox::codes::code_from_parts(behaviour, seconds, channel)
        .map_err(|(field, reason)| PyValueError::new_err(format!("{field}: {reason}")))
}
