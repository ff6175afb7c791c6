//! `sosopay._native.NativeSandbox`: the sandbox gateway (`sosopay-sandbox`) in-process, behind
//! the cargo feature `sandbox` (on in the published wheel). `sosopay.testing` wraps it; nothing
//! runs until a `NativeSandbox` is constructed (then a background thread with its own tokio
//! runtime serves on a local port), so `import sosopay` costs nothing more.

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyOSError, PyTimeoutError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sosopay_sandbox::kit::{self, KitOptions, SandboxHandle};
use sosopay_sandbox::SandboxError;

use crate::args::{
    flag, int, number, text, Args, BusiCode, ChargeCode, Key, Rules, States, Text, Texts,
};
use crate::convert::whole_from_py;
use crate::errors::validation;
use crate::topy::to_py;

create_exception!(
    _native,
    NativeSandboxError,
    PyException,
    "A sandbox admin action was refused: args are (message, status, reason)."
);

/// A bad setting or argument is the SDK's `ValidationError` (a `ValueError`) naming it in
/// `.field`, a sandbox that cannot listen an `OSError`, a wait that ran out of time the builtin
/// `TimeoutError`; the rest (refused, closed) a `NativeSandboxError` with the status.
fn sandbox_err(e: SandboxError) -> PyErr {
    match e {
        SandboxError::Config { field, reason } => {
            Python::attach(|py| validation(py, &field, reason))
        }
        SandboxError::Bind { .. } => PyOSError::new_err(e.to_string()),
        SandboxError::Timeout { reason, .. } => PyTimeoutError::new_err(reason),
        other => NativeSandboxError::new_err((
            format!("sandbox: {}", other.reason()),
            other.status(),
            other.reason(),
        )),
    }
}

// --- generated from sandbox/src/kit.rs (scripts/gen-foreign.py, KitSettings)
/// `Sandbox()`'s keyword arguments as the sandbox crate's options: a wrong type is a `TypeError`,
/// a bad value a `ValidationError`, each naming the setting; unset ones take `KitOptions::default`.
fn kit_options(a: &Args<'_, '_>) -> PyResult<KitOptions> {
    let d = KitOptions::default();
    Ok(KitOptions {
        time_scale: a.number("time_scale")?.unwrap_or(d.time_scale),
        seed: a.whole("seed", u64::MAX)?.unwrap_or(d.seed),
        faults: a.texts("faults", "a list of rules")?.unwrap_or(d.faults),
        merchants: a
            .text_pairs("merchants", "a mapping {busi_code: key}")?
            .unwrap_or(d.merchants),
        host: a
            .typed_text("host", "an IP address as a str")?
            .unwrap_or(d.host),
        port: a.whole("port", u16::MAX)?.unwrap_or(d.port),
        max_request_age: a.number("max_request_age")?.or(d.max_request_age),
    })
}
// --- end of generated

/// A running sandbox gateway (the sandbox crate's `SandboxHandle`).
#[pyclass(frozen, name = "NativeSandbox", module = "sosopay._native")]
pub struct PySandbox(SandboxHandle);

#[pymethods]
impl PySandbox {
    /// `options`: `Sandbox()`'s keyword arguments, checked here (a wrong type is a `TypeError`,
    /// a bad value a `ValidationError`, each naming the setting); unset ones take the sandbox
    /// crate's defaults (`KitOptions::default`).
    #[new]
    fn new(py: Python<'_>, options: &Bound<'_, PyDict>) -> PyResult<Self> {
        let options = kit_options(&Args(options))?;
        let h = py.detach(move || SandboxHandle::start(&options));
        Ok(PySandbox(h.map_err(sandbox_err)?))
    }

    // --- generated from sandbox/src/kit.rs (scripts/gen-foreign.py, KitMethods)
    /// `http://127.0.0.1:PORT/openGateway/openService/`: the clients' base URL.
    #[getter]
    fn base_url(&self) -> &str {
        self.0.base_url()
    }

    /// `http://127.0.0.1:PORT/`: the admin endpoints (`_sandbox/...`) and `flowRecharge`.
    #[getter]
    fn root_url(&self) -> &str {
        self.0.root_url()
    }

    /// The multiplier of every gateway duration it runs at.
    #[getter]
    fn time_scale(&self) -> f64 {
        self.0.time_scale()
    }

    /// Everything that happened: orders, refunds, notification attempts, top-ups, faults (the
    /// ledger, as `GET /_sandbox/ledger` answers it).
    fn ledger<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.ledger_json().map_err(sandbox_err)?)
    }

    /// One order as in the ledger, by charge code, if the gateway saw it (an error, 409, when
    /// several merchants used that charge code: give each merchant's orders their own codes).
    fn order<'py>(
        &self,
        py: Python<'py>,
        charge_code: Text<ChargeCode>,
    ) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.order(&charge_code).map_err(sandbox_err)?)
    }

    /// The customer pays an order awaiting payment (a QR or JSAPI order, or a micropay whose
    /// customer is confirming); returns the order as in the ledger.
    fn pay<'py>(
        &self,
        py: Python<'py>,
        charge_code: Text<ChargeCode>,
    ) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.pay(&charge_code).map_err(sandbox_err)?)
    }

    /// The payment of an order awaiting payment fails: it is closed (STATE 6); returns the order
    /// as in the ledger.
    fn fail<'py>(
        &self,
        py: Python<'py>,
        charge_code: Text<ChargeCode>,
    ) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.fail(&charge_code).map_err(sandbox_err)?)
    }

    /// Adds fault rules (`"preOrder:drop_reply:1"`, `"query:delay:0.5:2000"`, ...) to those in
    /// force (the seed stays).
    fn add_faults(&self, rules: Texts<Rules>) -> PyResult<()> {
        self.0.add_faults(&rules).map_err(sandbox_err)
    }

    /// Forgets every order, refund, notification and fault count (merchants and rules stay).
    fn reset(&self) -> PyResult<()> {
        self.0.reset().map_err(sandbox_err)
    }

    /// Registers (or re-keys) a merchant.
    fn add_merchant(&self, busi_id: Text<BusiCode>, key: Text<Key>) -> PyResult<()> {
        self.0.add_merchant(&busi_id, &key).map_err(sandbox_err)
    }

    /// The key of a merchant registered at start or with `add_merchant`, if there is one. A
    /// closed sandbox says so (the kits' `client()` asks for the key: a client for a closed
    /// sandbox would only fail at its first request, with "connection refused").
    fn key_of<'py>(&self, py: Python<'py>, busi_id: Text<BusiCode>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.key_of(&busi_id).map_err(sandbox_err)?)
    }

    /// The gateway's micropay hold at its time scale: 80 s × `time_scale` (0.8 s at 0.01), the
    /// core's default `gateway_hold` scaled.
    ///
    /// Here: in seconds.
    #[getter]
    fn micropay_hold(&self) -> f64 {
        self.0.micropay_hold().as_secs_f64()
    }

    /// The `gateway_hold` a client's flows should use against this sandbox (the Python and
    /// Node kits' clients default to it; Kotlin and Swift give it to `WaitOptions`): its
    /// micropay hold, 80 s × `time_scale` (0.8 s at 0.01), plus the longest `late` fault in
    /// force (a late request is carried out after that wall-time wait, however long ago the
    /// client gave up on it: a shorter hold could settle a payment that then goes through as
    /// `FAILED`). Ask again after changing the faults. Once closed: the micropay hold alone.
    ///
    /// Here: in seconds.
    #[getter]
    fn gateway_hold(&self) -> f64 {
        self.0.gateway_hold().as_secs_f64()
    }

    // --- end of generated

    /// Whether `shutdown` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.0.is_closed()
    }

    /// The merchant a kit's client uses: the first the sandbox started with.
    #[getter]
    fn busi_code(&self) -> String {
        self.0.merchant().0
    }

    /// That merchant's key.
    #[getter]
    fn key(&self) -> String {
        self.0.merchant().1
    }

    /// Replaces the fault rules (strings `op:kind:prob[:param]`), and the seed if given.
    #[pyo3(signature = (rules, seed = None))]
    fn set_faults(&self, rules: Texts<Rules>, seed: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let seed = seed
            .filter(|s| !s.is_none())
            .map(|s| whole_from_py(s, "seed", u64::MAX))
            .transpose()?;
        self.0.set_faults(&rules, seed).map_err(sandbox_err)
    }

    /// The rules in force, as strings, and the seed.
    fn faults(&self) -> PyResult<(Vec<String>, u64)> {
        self.0.faults().map_err(sandbox_err)
    }

    /// Blocks (without the GIL) until `count` notification attempts were accepted (or made);
    /// returns them (ledger form). `TimeoutError` lists what was seen, and why none came when
    /// the ledger tells (no such order, no notify URL, not paid). `timeout`: seconds
    /// (`None`: the kit's `DEFAULT_WAIT`).
    #[pyo3(signature = (charge_code, count, accepted, timeout = None))]
    fn wait_for_notifications<'py>(
        &self,
        py: Python<'py>,
        charge_code: Option<Text<ChargeCode>>,
        count: &Bound<'py, PyAny>,
        accepted: &Bound<'py, PyAny>,
        timeout: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let accepted = flag(accepted, "accepted")?;
        let count = u32::try_from(int(count, "count")?)
            .map_err(|_| validation(py, "count", format!("{count} is not from 0 to 2^32 - 1")))?;
        let t = kit::timeout(
            "timeout",
            timeout.map(|t| number(t, "timeout")).transpose()?,
            kit::TimeUnit::Seconds,
        )
        .map_err(sandbox_err)?;
        let hits = py
            .detach(|| {
                let c = charge_code.as_deref();
                self.0
                    .wait_for_notification(c, count, accepted, t)
                    .map_err(|e| match self.0.ledger() {
                        // A timeout says why none came, when the ledger tells.
                        Ok(l) => l.explain_notification_wait(c, e),
                        Err(_) => e,
                    })
            })
            .map_err(sandbox_err)?;
        to_py(py, &hits)
    }

    /// Blocks (without the GIL) until the order is in one of `states` (names or wire codes);
    /// returns it (ledger form). `timeout` as for `wait_for_notifications`.
    #[pyo3(signature = (charge_code, states, timeout = None))]
    fn wait_for_state<'py>(
        &self,
        py: Python<'py>,
        charge_code: Text<ChargeCode>,
        states: Texts<States>,
        timeout: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let t = kit::timeout(
            "timeout",
            timeout.map(|t| number(t, "timeout")).transpose()?,
            kit::TimeUnit::Seconds,
        )
        .map_err(sandbox_err)?;
        let order = py
            .detach(|| self.0.wait_for_state(&charge_code, &states, t))
            .map_err(sandbox_err)?;
        to_py(py, &order)
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

/// A test payment code (the sandbox's `codes::code_from_parts`): `ValidationError` naming the
/// argument at fault (`TypeError` for a wrong type).
#[pyfunction]
pub fn _test_code(
    py: Python<'_>,
    behaviour: &Bound<'_, PyAny>,
    seconds: &Bound<'_, PyAny>,
    channel: &Bound<'_, PyAny>,
) -> PyResult<String> {
    let (behaviour, seconds) = (int(behaviour, "behaviour")?, int(seconds, "seconds")?);
    sosopay_sandbox::codes::code_from_parts(behaviour, seconds, &text(channel, "channel")?)
        .map_err(|(field, reason)| validation(py, field, reason))
}
