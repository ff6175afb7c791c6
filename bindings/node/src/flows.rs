//! Cancellation and progress of the flows. The JS layer (`node/sosopay.js`) turns an
//! `AbortSignal` into a [`CancelToken`] and wraps the `onProgress` callback; this module holds
//! the core token and the observer, which queues each event onto the JS thread through a
//! non-blocking threadsafe function.

use std::sync::Arc;
use std::time::Instant;

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

fn event(e: &CoreEvent, started: Instant) -> Option<FlowEvent> {
    let since_start = started.elapsed().as_secs_f64() * 1000.0;
    let mut out = FlowEvent {
        kind: String::new(),
        elapsed_ms: since_start,
        state: None,
        state_code: None,
        status: None,
        requested: None,
    };
    match e {
        CoreEvent::Sending => out.kind = "sending".into(),
        CoreEvent::Waiting { elapsed } => {
            out.kind = "waiting".into();
            out.elapsed_ms = elapsed.as_secs_f64() * 1000.0;
        }
        CoreEvent::Queried { state, elapsed } => {
            out.kind = "queried".into();
            out.elapsed_ms = elapsed.as_secs_f64() * 1000.0;
            out.state = name_of::<OrderState>(state);
            out.state_code = wire_of::<OrderState>(state);
        }
        CoreEvent::Cancelling { requested } => {
            out.kind = "cancelling".into();
            out.requested = Some(*requested);
        }
        CoreEvent::Done { status } => {
            out.kind = "done".into();
            out.status = Some(status.name().to_owned());
        }
        // A kind added to the core later: not reported until this binding knows it.
        #[allow(unreachable_patterns)]
        _ => return None,
    }
    Some(out)
}

/// The flow control of one call.
pub fn control(cancel: Option<&CancelToken>, on_progress: Option<ProgressFn>) -> FlowControl {
    let started = Instant::now();
    let observer = on_progress.map(|f| {
        let f = Arc::new(f);
        let o: FlowObserver = Arc::new(move |e: &CoreEvent| {
            if let Some(ev) = event(e, started) {
                // Non-blocking: a slow JS thread never holds up the payment.
                f.call(ev, ThreadsafeFunctionCallMode::NonBlocking);
            }
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
