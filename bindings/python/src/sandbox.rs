//! `sosopay._native.NativeSandbox`: the sandbox gateway (`sosopay-sandbox`) in-process, behind
//! the cargo feature `sandbox` (on in the published wheel). `sosopay.testing` wraps it; nothing
//! runs until a `NativeSandbox` is constructed (then a background thread with its own tokio
//! runtime serves on a local port), so `import sosopay` costs nothing more.

use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use sosopay_sandbox::{FaultRule, Sandbox, SandboxConfig, SandboxError};

use crate::convert::json_to_py;

create_exception!(
    _native,
    NativeSandboxError,
    PyException,
    "A sandbox admin action was refused: args are (message, status, reason)."
);

fn sandbox_err(e: SandboxError) -> PyErr {
    match e {
        SandboxError::Admin { status, reason } => {
            NativeSandboxError::new_err((format!("sandbox: {reason}"), status, reason))
        }
        SandboxError::Config { .. } | SandboxError::Bind { .. } => {
            PyValueError::new_err(e.to_string())
        }
        other => NativeSandboxError::new_err((other.to_string(), 500u16, other.to_string())),
    }
}

fn parse_rules(rules: Vec<String>) -> PyResult<Vec<FaultRule>> {
    rules
        .iter()
        .map(|r| {
            r.parse::<FaultRule>()
                .map_err(|e| PyValueError::new_err(format!("fault rule {r:?}: {e}")))
        })
        .collect()
}

fn closed() -> PyErr {
    NativeSandboxError::new_err((
        "sandbox: closed".to_owned(),
        410u16,
        "the sandbox is shut down".to_owned(),
    ))
}

/// A running sandbox gateway.
#[pyclass(frozen, name = "NativeSandbox", module = "sosopay._native")]
pub struct PySandbox {
    inner: Mutex<Option<Sandbox>>,
    base_url: String,
    root_url: String,
}

impl PySandbox {
    fn with<T>(&self, f: impl FnOnce(&Sandbox) -> T) -> PyResult<T> {
        let g = self
            .inner
            .lock()
            .map_err(|_| PyValueError::new_err("sandbox: poisoned lock"))?;
        g.as_ref().map(f).ok_or_else(closed)
    }
}

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
        let ip: IpAddr = host
            .parse()
            .map_err(|_| PyValueError::new_err(format!("host {host:?} is not an IP address")))?;
        let max_request_age = match max_request_age {
            None => None,
            Some(s) if s.is_finite() && s > 0.0 => Some(Duration::from_secs_f64(s)),
            Some(s) => {
                return Err(PyValueError::new_err(format!(
                    "max_request_age {s} must be a number of seconds above 0"
                )))
            }
        };
        let mut config = SandboxConfig {
            addr: SocketAddr::new(ip, port),
            seed,
            time_scale,
            faults: parse_rules(faults)?,
            max_request_age,
            ..SandboxConfig::default()
        };
        if !merchants.is_empty() {
            config.merchants = merchants;
        }
        let sb = py
            .detach(move || Sandbox::start(config))
            .map_err(sandbox_err)?;
        Ok(PySandbox {
            base_url: sb.base_url(),
            root_url: sb.root_url(),
            inner: Mutex::new(Some(sb)),
        })
    }

    /// `http://127.0.0.1:PORT/openGateway/openService/`.
    #[getter]
    fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `http://127.0.0.1:PORT/`.
    #[getter]
    fn root_url(&self) -> &str {
        &self.root_url
    }

    /// Whether `shutdown` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.lock().map(|g| g.is_none()).unwrap_or(true)
    }

    /// The ledger as Python objects.
    fn ledger<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = self.with(Sandbox::ledger_json)?;
        json_to_py(py, &v)
    }

    /// One order (ledger form), or `None`.
    fn order<'py>(&self, py: Python<'py>, charge_code: &str) -> PyResult<Bound<'py, PyAny>> {
        match self.with(|s| s.order(charge_code))? {
            Some(v) => json_to_py(py, &v.to_json()),
            None => Ok(py.None().into_bound(py)),
        }
    }

    /// The customer pays an order awaiting payment.
    fn pay<'py>(&self, py: Python<'py>, charge_code: &str) -> PyResult<Bound<'py, PyAny>> {
        let v = self.with(|s| s.pay(charge_code))?.map_err(sandbox_err)?;
        json_to_py(py, &v.to_json())
    }

    /// The payment of an order awaiting payment fails (STATE 6).
    fn fail<'py>(&self, py: Python<'py>, charge_code: &str) -> PyResult<Bound<'py, PyAny>> {
        let v = self.with(|s| s.fail(charge_code))?.map_err(sandbox_err)?;
        json_to_py(py, &v.to_json())
    }

    /// Replaces the fault rules (strings `op:kind:prob[:param]`), and the seed if given.
    #[pyo3(signature = (rules, seed = None))]
    fn set_faults(&self, rules: Vec<String>, seed: Option<u64>) -> PyResult<()> {
        let rules = parse_rules(rules)?;
        self.with(|s| match seed {
            Some(seed) => s.set_faults_with_seed(rules, seed),
            None => s.set_faults(rules),
        })
    }

    /// The rules in force, as strings, and the seed.
    fn faults(&self) -> PyResult<(Vec<String>, u64)> {
        let (rules, seed) = self.with(Sandbox::faults)?;
        Ok((rules.iter().map(FaultRule::to_string).collect(), seed))
    }

    /// Forgets every order, refund, notification and fault count.
    fn reset(&self) -> PyResult<()> {
        self.with(Sandbox::reset)
    }

    /// Registers (or re-keys) a merchant.
    fn add_merchant(&self, busi_id: &str, key: &str) -> PyResult<()> {
        self.with(|s| s.add_merchant(busi_id, key))?
            .map_err(sandbox_err)
    }

    /// Stops serving (idempotent); waits for the background thread without holding the GIL.
    fn shutdown(&self, py: Python<'_>) {
        let sb = self.inner.lock().ok().and_then(|mut g| g.take());
        if let Some(sb) = sb {
            py.detach(move || sb.shutdown());
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "NativeSandbox(base_url={:?}, closed={})",
            self.base_url,
            self.closed()
        )
    }
}

impl Drop for PySandbox {
    fn drop(&mut self) {
        // Collected without `shutdown()`: stop serving on another thread, so that the
        // collector (holding the GIL) never waits for the sandbox's thread.
        if let Ok(mut g) = self.inner.lock() {
            if let Some(sb) = g.take() {
                let _ = std::thread::Builder::new()
                    .name("sosopay-sandbox-stop".into())
                    .spawn(move || sb.shutdown());
            }
        }
    }
}

/// A test payment code (the sandbox's `codes::code_from_parts`): `ValueError` naming the
/// argument at fault.
#[pyfunction]
pub fn _test_code(behaviour: i64, seconds: i64, channel: &str) -> PyResult<String> {
    sosopay_sandbox::codes::code_from_parts(behaviour, seconds, channel)
        .map_err(|(field, reason)| PyValueError::new_err(format!("{field}: {reason}")))
}
