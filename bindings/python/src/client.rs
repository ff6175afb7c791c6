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
        let client = self.inner.clone();
        let result = args.py().detach(move || call(&client));
        Self::finish(args, result)
    }

    /// `run` for the client's operation `op` (`micropay`, `refund`, ...). A call that can move
    /// money is finished even when Ctrl-C comes meanwhile; if a signal handler's exception
    /// (`KeyboardInterrupt`) is pending as it returns, that exception is raised, and the
    /// result, which nobody will receive, is logged first (WARNING on `sosopay`).
    fn run_op<'py, R: serde::Serialize + Send>(
        &self,
        args: &Bound<'py, PyDict>,
        op: &str,
        call: impl FnOnce(&Client) -> sosopay::Result<R> + Send,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = args.py();
        let client = self.inner.clone();
        let result = py.detach(move || call(&client));
        if sosopay::error::moves_money(op) {
            if let Err(interrupt) = py.check_signals() {
                let what = match &result {
                    Ok(reply) => serde_json::to_string(reply).unwrap_or_else(|e| e.to_string()),
                    Err(e) => format!("{} error: {e}", e.kind()),
                };
                let name = interrupt
                    .get_type(py)
                    .name()
                    .map_or_else(|_| "a signal".to_owned(), |n| n.to_string());
                // What names the request: its charge code, refund number or phone.
                let about: Vec<String> = [
                    "charge_code",
                    "charge_down_code",
                    "out_refund_no",
                    "phone_no",
                ]
                .iter()
                .filter_map(|k| {
                    let v = args.get_item(k).ok().flatten()?;
                    (!v.is_none()).then(|| {
                        format!("{k}={}", v.str().map(|s| s.to_string()).unwrap_or_default())
                    })
                })
                .collect();
                let message = format!(
                    "sosopay: {op} ({}) ended after the caller was interrupted ({name}); its result, which nobody received: {what}",
                    about.join(", ")
                );
                let logged = py
                    .import("logging")
                    .and_then(|l| l.call_method1("getLogger", ("sosopay",)))
                    .and_then(|l| l.call_method1("warning", (message,)));
                if let Err(e) = logged {
                    e.write_unraisable(py, None);
                }
                return Err(interrupt);
            }
        }
        Self::finish(args, result)
    }

    /// A call's result as Python sees it: the reply as a `dict`, or the error's exception.
    fn finish<'py, R: serde::Serialize>(
        args: &Bound<'py, PyDict>,
        result: sosopay::Result<R>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = args.py();
        let reply = result
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
        self.run_op(req, "micropay", move |c| c.micropay(&r))
    }

    fn create_qr_order<'py>(&self, req: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        let r = requests::order_request(&Args(req))?;
        self.run_op(req, "create_qr_order", move |c| c.create_qr_order(&r))
    }

    fn create_jsapi_order<'py>(&self, req: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        let r = requests::order_request_jsapi(&Args(req))?;
        self.run_op(req, "create_jsapi_order", move |c| c.create_jsapi_order(&r))
    }

    fn query<'py>(&self, req: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        let r = requests::query_request(&Args(req))?;
        self.run_op(req, "query", move |c| c.query(&r))
    }

    fn refund<'py>(&self, req: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        let r = requests::refund_request(&Args(req))?;
        self.run_op(req, "refund", move |c| c.refund(&r))
    }

    fn cancel<'py>(&self, req: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        let r = requests::cancel_request(&Args(req))?;
        self.run_op(req, "cancel", move |c| c.cancel(&r))
    }

    fn flow_recharge<'py>(&self, req: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
        let r = requests::flow_recharge_request(&Args(req))?;
        self.run_op(req, "flow_recharge", move |c| c.flow_recharge(&r))
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
