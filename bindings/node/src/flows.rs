//! Cancellation and progress of the flows. The JS layer (`node/sosopay.js`) turns an
//! `AbortSignal` into a [`CancelToken`] and wraps the `onProgress` callback; this module holds
//! the core token and the observer, which queues each event onto the JS thread through a
//! non-blocking threadsafe function.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;
use sosopay::{FlowControl, FlowEvent as CoreEvent, FlowObserver, OrderState};

use crate::convert::{name_of, wire_of};
use crate::error::PREFIX;

/// Stops a running `micropayAndWait` / `waitForPayment`. Prefer the `signal` option (an
/// `AbortSignal`), which drives one of these; a token is for code that has no signal. One per
/// flow; cancelling is idempotent.
#[napi]
pub struct CancelToken {
    pub(crate) inner: sosopay::CancelToken,
}

#[napi]
impl CancelToken {
    /// A token not cancelled yet.
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        CancelToken {
            inner: sosopay::CancelToken::new(),
        }
    }

    /// Asks the flow to stop waiting: the till flow reverses the order at once (prove it ours,
    /// cancel, confirm); `waitForPayment` stops waiting.
    #[napi]
    pub fn cancel(&self) {
        self.inner.cancel();
    }

    /// Whether `cancel()` was called.
    #[napi]
    pub fn is_cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }
}

// --- generated from core/src/flows.rs (scripts/gen-foreign.py)
/// What a flow is doing, for a progress display ("waiting for the customer… 12 s"). Events
/// come in order: `Sending` first (the till flow only), `Done` last.
#[napi(object)]
pub struct FlowEvent {
    /// The kind:
    /// - 'sending': The micropay request is being sent.
    /// - 'waiting': The payment is not settled yet: the gateway holds it while the customer confirms, or its outcome is being settled by querying.
    /// - 'queried': A query answered; `state` is the order's state when the gateway showed one.
    /// - 'cancelling': The flow is cancelling the order: at the deadline, or because cancelling was requested.
    /// - 'done': The flow ended with this status.
    #[napi(ts_type = "'sending' | 'waiting' | 'queried' | 'cancelling' | 'done'")]
    pub kind: String,
    /// Time since the flow started, ms.
    pub elapsed_ms: f64,
    /// `'queried'`: The order's state, when the gateway showed one.
    #[napi(ts_type = "OrderState")]
    pub state: Option<String>,
    /// `'queried'`: `STATE` as sent.
    pub state_code: Option<String>,
    /// `'cancelling'`: `true` when the caller cancelled (rather than the deadline passing).
    pub requested: Option<bool>,
    /// `'done'`: The final status (the same as the returned outcome's).
    #[napi(ts_type = "OutcomeStatus")]
    pub status: Option<String>,
}

/// The JS form of a core event.
fn event(e: &CoreEvent) -> FlowEvent {
    let mut ev = FlowEvent {
        kind: e.kind().to_owned(),
        elapsed_ms: e.elapsed().as_secs_f64() * 1000.0,
        state: None,
        state_code: None,
        requested: None,
        status: None,
    };
    match e {
        CoreEvent::Queried { state, .. } => {
            ev.state = name_of::<OrderState>(state);
            ev.state_code = wire_of::<OrderState>(state);
        }
        CoreEvent::Cancelling { requested, .. } => {
            ev.requested = Some(*requested);
        }
        CoreEvent::Done { status, .. } => {
            ev.status = Some(status.name().to_owned());
        }
        _ => {}
    }
    ev
}
// --- end of generated

/// The `onProgress` callback: queued onto the JS thread without blocking the flow; weak, so it
/// never keeps the process alive.
pub type ProgressFn = ThreadsafeFunction<FlowEvent, (), FlowEvent, Status, false, true>;

/// The flow control of one call, and whether the till flow sent its micropay request.
pub struct Control {
    /// What the core's flow is given.
    pub flow: FlowControl,
    /// Set when the till flow emits `Sending` (it checks its token just before).
    sending: Arc<AtomicBool>,
}

impl Control {
    /// Whether the flow's token is cancelled.
    pub fn cancelled(&self) -> bool {
        self.flow
            .cancel
            .as_ref()
            .is_some_and(sosopay::CancelToken::is_cancelled)
    }

    /// A till flow that ended without sending its micropay request, because it was cancelled
    /// before (the core checks its token just before `Sending`): the JS caller gets an
    /// `AbortError`, nothing was sent.
    pub fn never_sent(&self) -> bool {
        !self.sending.load(Ordering::SeqCst) && self.cancelled()
    }
}

/// The flow control of one call. `till`: the till flow, whose `Done` event is not passed on
/// when it never sent its request (the Promise rejects then: [`Control::never_sent`]).
pub fn control(
    cancel: Option<&CancelToken>,
    on_progress: Option<ProgressFn>,
    till: bool,
) -> Control {
    let sending = Arc::new(AtomicBool::new(false));
    let seen = sending.clone();
    let token = cancel.map(|t| t.inner.clone());
    let cancelled = token.clone();
    let on_progress = on_progress.map(Arc::new);
    let observer: FlowObserver = Arc::new(move |e: &CoreEvent| {
        match e {
            CoreEvent::Sending { .. } => seen.store(true, Ordering::SeqCst),
            // `Control::never_sent`, as the flow ends.
            CoreEvent::Done { .. }
                if till
                    && !seen.load(Ordering::SeqCst)
                    && cancelled
                        .as_ref()
                        .is_some_and(sosopay::CancelToken::is_cancelled) =>
            {
                return
            }
            _ => {}
        }
        if let Some(f) = &on_progress {
            // Non-blocking: a slow JS thread never holds up the payment.
            f.call(event(e), ThreadsafeFunctionCallMode::NonBlocking);
        }
    });
    Control {
        flow: FlowControl {
            cancel: token,
            observer: Some(observer),
            interrupt: None,
        },
        sending,
    }
}

/// The rejection of a flow aborted before it started (nothing was sent): the JS layer makes it
/// an `AbortError`. For the till flow, that is before its micropay request was sent, whenever
/// the cancel came; for `waitForPayment`, before its first query.
pub fn aborted() -> napi::Error {
    let payload = serde_json::json!({
        "code": "aborted",
        "message": "the flow was aborted before it started: nothing was sent",
        "outcomeUnknown": false,
        "retryable": false,
    });
    napi::Error::new(Status::GenericFailure, format!("{PREFIX}{payload}"))
}
