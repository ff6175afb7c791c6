//! Cancellation and progress of the flows: `sosopay.CancelToken` (a core `CancelToken`) and
//! the progress callback (a core `FlowObserver` that calls back into Python with the GIL).

use std::sync::{Arc, Mutex};

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use sosopay::{CancelToken, FlowControl, FlowEvent, FlowInterrupt, FlowObserver};

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
/// A `KeyboardInterrupt` (or another exception a signal handler raised there, which is not an
/// `Exception`) is an interrupt instead: kept, and the flow cancelled.
fn observer(callback: Py<PyAny>, interrupted: Interrupted) -> FlowObserver {
    Arc::new(move |e: &FlowEvent| {
        // Not at all while the interpreter shuts down.
        let _ = Python::try_attach(|py| {
            let call = || -> PyResult<()> {
                callback.call1(py, (event_dict(py, e)?,))?;
                Ok(())
            };
            if let Err(err) = call() {
                if err.is_instance_of::<PyException>(py) {
                    err.write_unraisable(py, None);
                } else {
                    interrupted.keep(err);
                }
            }
        });
    })
}

/// An interrupt of a flow running on Python's main thread: the exception a signal handler
/// raised meanwhile (`KeyboardInterrupt` for Ctrl-C), kept to be raised once the flow has
/// ended. Python runs signal handlers only on the main thread, and only when asked while a
/// native call runs: the flow asks about every 50 ms while it waits (`FlowControl::interrupt`),
/// and an interrupt cancels it as its token would (the order proven ours is reversed), so
/// Ctrl-C neither waits out the gateway's 80 s hold nor abandons a payment half-way.
#[derive(Clone, Default)]
pub struct Interrupted {
    err: Arc<Mutex<Option<PyErr>>>,
    token: Option<CancelToken>,
}

impl Interrupted {
    /// Keeps the first interrupt and cancels the flow.
    fn keep(&self, e: PyErr) {
        let mut slot = self.err.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert(e);
        if let Some(t) = &self.token {
            t.cancel();
        }
    }

    /// The flow's result, or the interrupt that cancelled it (the outcome then logged on the
    /// `sosopay` logger, as `AsyncClient` does for a cancelled task).
    pub fn finish<'py>(
        &self,
        py: Python<'py>,
        out: PyResult<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let kept = self.err.lock().unwrap_or_else(|p| p.into_inner()).take();
        // A signal that came during the flow's last request, after the hook last asked: raised
        // now, with the outcome logged as for one that cancelled the flow.
        let err = match kept {
            Some(e) => e,
            None => match py.check_signals() {
                Ok(()) => return out,
                Err(e) => e,
            },
        };
        if let Ok(d) = &out {
            // How it ended, on the `sosopay` logger: the Python layer's one rule for a flow
            // whose outcome is not returned (as `AsyncClient` logs a cancelled task's).
            // Texts read without running Python code (a second signal may be pending: its
            // handler would run inside a `str()` and leave "<unprintable ...>").
            let text = |v: PyResult<Bound<'py, PyAny>>| {
                v.ok()
                    .and_then(|v| v.cast_into::<PyString>().ok())
                    .and_then(|s| s.to_cow().ok().map(|c| c.into_owned()))
                    .unwrap_or_else(|| "?".to_owned())
            };
            let field = |k: &str| text(d.get_item(k));
            let name = text(err.get_type(py).name().map(Bound::into_any));
            let logged = py.import("sosopay.client").and_then(|m| {
                m.call_method1(
                    "_log_flow_end",
                    (
                        format!("interrupted ({name}) during the flow of %s"),
                        field("charge_code"),
                        field("status"),
                        field("reason"),
                    ),
                )
            });
            if let Err(e) = logged {
                // A second interrupt (Ctrl-C again) while logging: raised, not swallowed.
                if !e.is_instance_of::<PyException>(py) {
                    return Err(e);
                }
                e.write_unraisable(py, None);
            }
        }
        Err(err)
    }
}

/// The flow control of one call: the caller's token (if any) and the progress callback (if
/// any); on the main thread, interrupts too (with a token of the call's own if the caller gave
/// none). What the flow returns goes through [`Interrupted::finish`].
pub fn control(
    py: Python<'_>,
    cancel: Option<&Bound<'_, PyAny>>,
    on_progress: Option<Py<PyAny>>,
) -> PyResult<(FlowControl, Interrupted)> {
    let cancel = cancel
        .map(|t| {
            t.cast::<PyCancelToken>()
                .map_err(|_| crate::args::wrong_type(t, "cancel", "a sosopay.CancelToken"))
        })
        .transpose()?;
    let threading = py.import("threading")?;
    let main = threading
        .call_method0("current_thread")?
        .is(&threading.call_method0("main_thread")?);
    let token = cancel
        .map(|t| t.get().inner.clone())
        .or_else(|| main.then(CancelToken::new));
    let interrupted = Interrupted {
        err: Arc::default(),
        token: token.clone(),
    };
    let interrupt = main.then(|| {
        let i = interrupted.clone();
        let f: FlowInterrupt = Arc::new(move || {
            Python::try_attach(|py| match py.check_signals() {
                Ok(()) => false,
                Err(e) => {
                    i.keep(e);
                    true
                }
            })
            .unwrap_or(false)
        });
        f
    });
    let ctl = FlowControl {
        cancel: token,
        observer: on_progress.map(|cb| observer(cb, interrupted.clone())),
        interrupt,
    };
    Ok((ctl, interrupted))
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
