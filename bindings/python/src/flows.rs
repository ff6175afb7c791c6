//! Cancellation and progress of the flows: `sosopay.CancelToken` (a core `CancelToken`) and
//! the progress callback (a core `FlowObserver` that calls back into Python with the GIL).

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use sosopay::{CancelToken, FlowControl, FlowEvent, FlowObserver};

/// Stops a running `micropay_and_wait` / `wait_for_payment` from another thread (the cashier's
/// cancel button). The till flow then takes the deadline's safe path at once (prove the order
/// ours, cancel it, confirm) and returns `CANCELLED`, `PAID` (if the customer had paid and the
/// reversal was refused) or `UNRESOLVED`; `wait_for_payment` just stops waiting. Use one token
/// per flow; cancelling is idempotent and never blocks.
#[pyclass(frozen, name = "CancelToken", module = "sosopay._native")]
pub struct PyCancelToken {
    pub(crate) inner: CancelToken,
}

#[pymethods]
impl PyCancelToken {
    #[new]
    fn new() -> Self {
        PyCancelToken {
            inner: CancelToken::new(),
        }
    }

    /// Asks the flow to stop waiting (idempotent; safe from any thread).
    fn cancel(&self) {
        self.inner.cancel();
    }

    /// Whether `cancel()` was called.
    fn is_cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }

    fn __repr__(&self) -> String {
        format!(
            "sosopay.CancelToken(cancelled={})",
            if self.inner.is_cancelled() {
                "True"
            } else {
                "False"
            }
        )
    }
}

/// A core observer calling `callback(dict)` with the GIL, on the flow's thread. An exception
/// the callback raises goes to `sys.unraisablehook` (the Python layer already logs and drops
/// ordinary exceptions): it never fails the payment, and nothing panics across the boundary.
fn observer(callback: Py<PyAny>) -> FlowObserver {
    Arc::new(move |e: &FlowEvent| {
        // Not at all while the interpreter shuts down.
        let _ = Python::try_attach(|py| {
            let call = || -> PyResult<()> {
                callback.call1(py, (event_dict(py, e)?,))?;
                Ok(())
            };
            if let Err(err) = call() {
                err.write_unraisable(py, None);
            }
        });
    })
}

/// The flow control of one call: the caller's token (if any) and the progress callback (if
/// any).
pub fn control(
    cancel: Option<&Bound<'_, PyCancelToken>>,
    on_progress: Option<Py<PyAny>>,
) -> FlowControl {
    FlowControl {
        cancel: cancel.map(|t| t.get().inner.clone()),
        observer: on_progress.map(observer),
    }
}

// --- generated from core/src/flows.rs (scripts/gen-foreign.py)
/// The event as the dict `FlowEvent._from_native` reads (`elapsed` in seconds; states as
/// wire text, statuses by name).
fn event_dict<'py>(py: Python<'py>, e: &FlowEvent) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("kind", e.kind())?;
    d.set_item("elapsed", e.elapsed().as_secs_f64())?;
    match e {
        FlowEvent::Queried { state, .. } => {
            d.set_item("state", state.as_ref().map(|s| s.as_wire()))?;
        }
        FlowEvent::Cancelling { requested, .. } => {
            d.set_item("requested", *requested)?;
        }
        FlowEvent::Done { status, .. } => {
            d.set_item("status", status.as_str())?;
        }
        _ => {}
    }
    Ok(d)
}
// --- end of generated
