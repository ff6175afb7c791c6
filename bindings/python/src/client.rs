//! The gateway client: a method's keyword arguments (a `dict`) → a core request (the generated
//! `requests.rs`), core replies → `dict`s that the Python layer turns into dataclasses. Every
//! network call runs with the GIL released.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use sosopay::{AwaitedOrder, Client, RequestLog};

use crate::args::Args;
use crate::errors::OrPyErr;
use crate::flows;
use crate::requests;
use crate::topy::to_py;

/// Whether a call of the client's method `name` (`micropay`, `query`, ...) can move money: the
/// core's rule (`error::moves_money`), by which `AsyncClient` logs the result of such a call
/// whose awaiting task was cancelled.
#[pyfunction]
pub fn _moves_money(name: &str) -> bool {
    sosopay::error::moves_money(name)
}

/// The native client. `Send + Sync`; one instance may serve many threads.
#[pyclass(frozen, name = "NativeClient", module = "sosopay._native")]
pub struct PyClient {
    inner: Client,
}

impl PyClient {
    /// Runs `call` on the core client with the GIL released; the reply as a `dict`. `args`: the
    /// call's arguments, so that an error about an amount given in fen names it as given
    /// (`amount_fen`).
    fn run<'py, R: serde::Serialize + Send>(
        &self,
        args: &Bound<'py, PyDict>,
        call: impl FnOnce(&Client) -> sosopay::Result<R> + Send,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = args.py();
        let client = self.inner.clone();
        let reply = py
            .detach(move || call(&client))
            .map_err(|e| e.as_given_in_fen(|field| Args(args).given(&format!("{field}_fen"))))
            .or_py(py)?;
        to_py(py, &reply)
    }
}

#[pymethods]
impl PyClient {
    /// `options`: `Client()`'s other keyword arguments.
    #[new]
    #[pyo3(signature = (options, on_request = None))]
    fn new(options: &Bound<'_, PyDict>, on_request: Option<Py<PyAny>>) -> PyResult<Self> {
        let py = options.py();
        let named = |e: sosopay::Error| e.renamed_fields(requests::CONFIG_FIELDS);
        let mut cfg = requests::client_options(&Args(options))?
            .into_config()
            .map_err(named)
            .or_py(py)?;
        if let Some(cb) = on_request {
            cfg.on_request = Some(Arc::new(move |log: &RequestLog| {
                Python::attach(|py| {
                    let res =
                        requests::request_log(py, log).and_then(|d| cb.call1(py, (d,)).map(|_| ()));
                    if let Err(e) = res {
                        // A failing logging hook must not fail the payment call.
                        e.write_unraisable(py, None);
                    }
                });
            }));
        }
        let inner = Client::new(cfg).map_err(named).or_py(py)?;
        Ok(PyClient { inner })
    }

    /// The merchant code.
    #[getter]
    fn busi_code(&self) -> String {
        self.inner.config().busi_code.clone()
    }

    /// The base URL.
    #[getter]
    fn base_url(&self) -> String {
        self.inner.config().base_url.clone()
    }

    /// Whether the 3DES envelope is used.
    #[getter]
    fn encrypt(&self) -> bool {
        self.inner.config().encrypt
    }

    fn __repr__(&self) -> String {
        let c = self.inner.config();
        format!(
            "sosopay.Client(busi_code={:?}, base_url={:?}, encrypt={}, key=<redacted>)",
            c.busi_code,
            c.base_url,
            if c.encrypt { "True" } else { "False" }
        )
    }

    // Each operation takes its method's keyword arguments as one dict (see `requests.rs`).

    // --- generated from core/src/client.rs (scripts/gen-foreign.py, Operations)
    fn micropay<'py>(&self, req: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        let r = requests::micropay_request(&Args(req))?;
        self.run(req, move |c| c.micropay(&r))
    }

    fn create_qr_order<'py>(&self, req: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        let r = requests::order_request(&Args(req))?;
        self.run(req, move |c| c.create_qr_order(&r))
    }

    fn create_jsapi_order<'py>(&self, req: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        let r = requests::order_request_jsapi(&Args(req))?;
        self.run(req, move |c| c.create_jsapi_order(&r))
    }

    fn query<'py>(&self, req: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        let r = requests::query_request(&Args(req))?;
        self.run(req, move |c| c.query(&r))
    }

    fn refund<'py>(&self, req: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        let r = requests::refund_request(&Args(req))?;
        self.run(req, move |c| c.refund(&r))
    }

    fn cancel<'py>(&self, req: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        let r = requests::cancel_request(&Args(req))?;
        self.run(req, move |c| c.cancel(&r))
    }

    fn flow_recharge<'py>(&self, req: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        let r = requests::flow_recharge_request(&Args(req))?;
        self.run(req, move |c| c.flow_recharge(&r))
    }

    // --- end of generated

    /// `wait`: the flow options; `cancel` and `on_progress` as in `Client.micropay_and_wait`.
    #[pyo3(signature = (req, wait, cancel = None, on_progress = None))]
    fn micropay_and_wait<'py>(
        &self,
        req: &Bound<'py, PyDict>,
        wait: &Bound<'py, PyDict>,
        cancel: Option<&Bound<'py, PyAny>>,
        on_progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let r = requests::micropay_request(&Args(req))?;
        let opts = requests::wait_options(&Args(wait))?;
        let (ctl, interrupted) = flows::control(req.py(), cancel, on_progress)?;
        let out = self.run(req, move |c| c.micropay_and_wait_with(&r, &opts, &ctl));
        interrupted.finish(req.py(), out)
    }

    #[pyo3(signature = (order, wait, cancel = None, on_progress = None))]
    fn wait_for_payment<'py>(
        &self,
        order: &Bound<'py, PyDict>,
        wait: &Bound<'py, PyDict>,
        cancel: Option<&Bound<'py, PyAny>>,
        on_progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let a = Args(order);
        let mut order = AwaitedOrder::new(a.text("charge_code")?);
        order.amount = a.opt_amount("amount")?;
        order.merchant_para = a.opt_text("merchant_para")?;
        let opts = requests::wait_options(&Args(wait))?;
        let (ctl, interrupted) = flows::control(wait.py(), cancel, on_progress)?;
        let out = self.run(a.0, move |c| c.wait_for_payment_with(order, &opts, &ctl));
        interrupted.finish(wait.py(), out)
    }
}
