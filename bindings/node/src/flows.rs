//! Cancellation and progress of the flows. The JS layer (`node/sosopay.js`) turns an
//! `AbortSignal` into a [`CancelToken`] and wraps the `onProgress` callback; this module holds
//! the core token and the observer, which queues each event onto the JS thread through a
//! non-blocking threadsafe function.

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

/// Progress of a flow, for a till screen.
#[napi(object)]
pub struct FlowEvent {
    /// `'sending'` (the micropay request; till flow only, first), `'waiting'` (not settled
    /// yet: the gateway holds the payment, or the next query is due), `'queried'` (a query
    /// answered), `'cancelling'` (the flow cancels the order), `'done'` (last).
    #[napi(ts_type = "'sending' | 'waiting' | 'queried' | 'cancelling' | 'done'")]
    pub kind: String,
    /// Time since the flow started, ms.
    pub elapsed_ms: f64,
    /// `'queried'`: the order's state, when the gateway showed one.
    #[napi(ts_type = "OrderState")]
    pub state: Option<String>,
    /// `'queried'`: `STATE` as sent.
    pub state_code: Option<String>,
    /// `'done'`: the final status (the same as the outcome's).
    #[napi(ts_type = "OutcomeStatus")]
    pub status: Option<String>,
    /// `'cancelling'`: true when the caller cancelled (rather than the deadline passing).
    pub requested: Option<bool>,
}

/// The `onProgress` callback: queued onto the JS thread without blocking the flow; weak, so it
/// never keeps the process alive.
pub type ProgressFn = ThreadsafeFunction<FlowEvent, (), FlowEvent, Status, false, true>;

fn event(e: &CoreEvent) -> FlowEvent {
    let (state, status, requested) = match e {
        CoreEvent::Queried { state, .. } => (state.clone(), None, None),
        CoreEvent::Done { status, .. } => (None, Some(status.name().to_owned()), None),
        CoreEvent::Cancelling { requested, .. } => (None, None, Some(*requested)),
        _ => (None, None, None),
    };
    FlowEvent {
        kind: e.kind().to_owned(),
        elapsed_ms: e.elapsed().as_secs_f64() * 1000.0,
        state: name_of::<OrderState>(&state),
        state_code: wire_of::<OrderState>(&state),
        status,
        requested,
    }
}

/// The flow control of one call.
pub fn control(cancel: Option<&CancelToken>, on_progress: Option<ProgressFn>) -> FlowControl {
    let observer = on_progress.map(|f| {
        let f = Arc::new(f);
        let o: FlowObserver = Arc::new(move |e: &CoreEvent| {
            // Non-blocking: a slow JS thread never holds up the payment.
            f.call(event(e), ThreadsafeFunctionCallMode::NonBlocking);
        });
        o
    });
    FlowControl {
        cancel: cancel.map(|t| t.inner.clone()),
        observer,
    }
}

/// The rejection of a flow aborted before it started (nothing was sent): the JS layer makes it
/// an `AbortError`.
pub fn aborted() -> napi::Error {
    let payload = serde_json::json!({
        "code": "aborted",
        "message": "the flow was aborted before it started: nothing was sent",
        "outcomeUnknown": false,
        "retryable": false,
    });
    napi::Error::new(Status::GenericFailure, format!("{PREFIX}{payload}"))
}
