//! Cancellation and progress of the flows: `sosopay.CancelToken` (a core `CancelToken`) and
//! the progress callback (a core `FlowObserver` that calls back into Python with the GIL).

use std::sync::Arc;
use std::time::Instant;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use sosopay::{CancelToken, FlowControl, FlowEvent, FlowObserver, OutcomeStatus};

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

/// The Python-facing fields of an event: kind, elapsed seconds, state (wire text), status,
/// requested. `None` for an event kind this binding does not know yet (it is not reported).
type EventFields = (
    &'static str,
    f64,
    Option<String>,
    Option<String>,
    Option<bool>,
);

fn event_fields(e: &FlowEvent, started: Instant) -> Option<EventFields> {
    let since_start = started.elapsed().as_secs_f64();
    Some(match e {
        FlowEvent::Sending => ("sending", since_start, None, None, None),
        FlowEvent::Waiting { elapsed } => ("waiting", elapsed.as_secs_f64(), None, None, None),
        FlowEvent::Queried { state, elapsed } => (
            "queried",
            elapsed.as_secs_f64(),
            state.as_ref().map(|s| s.as_wire().to_owned()),
            None,
            None,
        ),
        FlowEvent::Cancelling { requested } => {
            ("cancelling", since_start, None, None, Some(*requested))
        }
        FlowEvent::Done { status } => (
            "done",
            since_start,
            None,
            Some(status_name(*status).to_owned()),
            None,
        ),
        // A kind added to the core later: not reported until this binding knows it.
        #[allow(unreachable_patterns)]
        _ => return None,
    })
}

/// `OutcomeStatus` as the Python enum's value.
fn status_name(s: OutcomeStatus) -> &'static str {
    match s {
        OutcomeStatus::Paid => "paid",
        OutcomeStatus::Failed => "failed",
        OutcomeStatus::Cancelled => "cancelled",
        OutcomeStatus::Pending => "pending",
        OutcomeStatus::Unresolved => "unresolved",
        OutcomeStatus::Conflict => "conflict",
    }
}

/// A core observer calling `callback(dict)` with the GIL, on the flow's thread. An exception
/// the callback raises goes to `sys.unraisablehook` (the Python layer already logs and drops
/// ordinary exceptions): it never fails the payment, and nothing panics across the boundary.
fn observer(callback: Py<PyAny>, started: Instant) -> FlowObserver {
    Arc::new(move |e: &FlowEvent| {
        let Some((kind, elapsed, state, status, requested)) = event_fields(e, started) else {
            return;
        };
        // Not at all while the interpreter shuts down.
        let _ = Python::try_attach(|py| {
            let call = || -> PyResult<()> {
                let d = PyDict::new(py);
                d.set_item("kind", kind)?;
                d.set_item("elapsed", elapsed)?;
                d.set_item("state", state.as_deref())?;
                d.set_item("status", status.as_deref())?;
                d.set_item("requested", requested)?;
                callback.call1(py, (d,))?;
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
    let started = Instant::now();
    FlowControl {
        cancel: cancel.map(|t| t.get().inner.clone()),
        observer: on_progress.map(|cb| observer(cb, started)),
    }
}
