//! Cancellation and progress of the flows, and their async (Kotlin `suspend`, Swift `async`)
//! variants.
//!
//! The async variants need no async runtime: the flow (blocking, as everywhere in the core)
//! runs on a thread of its own, and the future only waits for its result through a one-shot
//! channel. When the foreign side drops the future (a cancelled Kotlin coroutine: uniffi frees
//! the Rust future), a guard cancels the flow's [`CancelToken`]: the flow takes its safe path
//! (the till flow reverses the order) and runs to completion on its thread, reporting to the
//! progress callback until its `Done` event.

use std::sync::Arc;

use crate::client::OutcomeStatus;
use crate::enums::OrderState;
use crate::error::{Result, SosopayError};

/// Stops a running flow from another thread (the cashier's cancel button, a closed screen).
/// The till flow then stops waiting for the customer and takes the deadline's safe path at
/// once: prove the order is this payment's, cancel it, confirm; it returns `Cancelled` (or
/// `Paid` if the customer had paid and the reversal was refused, or `Unresolved`).
/// `waitForPayment` stops waiting. A token already cancelled when a flow starts makes it send
/// nothing (`Failed`). Use one token per flow; `cancel()` is idempotent and never blocks.
#[derive(Debug, Default, uniffi::Object)]
pub struct CancelToken {
    pub(crate) inner: sosopay::CancelToken,
}

#[uniffi::export]
impl CancelToken {
    /// A token not cancelled yet.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(CancelToken::default())
    }

    /// Asks the flow to stop waiting (idempotent; from any thread).
    pub fn cancel(&self) {
        self.inner.cancel();
    }

    /// Whether `cancel()` was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }
}

// --- generated from core/src/flows.rs (scripts/gen-foreign.py)
/// What a flow is doing, for a progress display ("waiting for the customer… 12 s"). Events
/// come in order: `Sending` first (the till flow only), `Done` last.
/// `elapsedMs`: time since the flow started.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum FlowEvent {
    /// The micropay request is being sent.
    Sending {
        /// Time since the flow started, ms.
        elapsed_ms: i64,
    },
    /// The payment is not settled yet: the gateway holds it while the customer confirms, or its
    /// outcome is being settled by querying.
    Waiting {
        /// Time since the flow started, ms.
        elapsed_ms: i64,
    },
    /// A query answered; `state` is the order's state when the gateway showed one.
    Queried {
        /// The order's state, when the gateway showed one.
        state: Option<OrderState>,
        /// Time since the flow started, ms.
        elapsed_ms: i64,
    },
    /// The flow is cancelling the order: at the deadline, or because cancelling was requested.
    Cancelling {
        /// `true` when the caller cancelled (rather than the deadline passing).
        requested: bool,
        /// Time since the flow started, ms.
        elapsed_ms: i64,
    },
    /// The flow ended with this status.
    Done {
        /// The final status (the same as the returned outcome's).
        status: OutcomeStatus,
        /// Time since the flow started, ms.
        elapsed_ms: i64,
    },
}

impl FlowEvent {
    /// `None` for an event kind this binding does not know yet (it is not reported).
    fn from_core(e: &sosopay::FlowEvent) -> Option<Self> {
        let elapsed_ms = i64::try_from(e.elapsed().as_millis()).unwrap_or(i64::MAX);
        Some(match e {
            sosopay::FlowEvent::Sending { .. } => FlowEvent::Sending { elapsed_ms },
            sosopay::FlowEvent::Waiting { .. } => FlowEvent::Waiting { elapsed_ms },
            sosopay::FlowEvent::Queried { state, .. } => FlowEvent::Queried {
                state: state.clone().map(Into::into),
                elapsed_ms,
            },
            sosopay::FlowEvent::Cancelling { requested, .. } => FlowEvent::Cancelling {
                requested: *requested,
                elapsed_ms,
            },
            sosopay::FlowEvent::Done { status, .. } => FlowEvent::Done {
                status: (*status).into(),
                elapsed_ms,
            },
            #[allow(unreachable_patterns)]
            _ => return None,
        })
    }
}
// --- end of generated

/// Receives a flow's progress (implemented in Kotlin or Swift). Called on the flow's thread (a
/// background thread): hop to the UI thread to show it, and keep it quick. An exception it
/// throws is ignored: it never affects the payment.
#[uniffi::export(with_foreign)]
pub trait FlowProgress: Send + Sync {
    /// Called for every event, in order.
    fn on_event(&self, event: FlowEvent) -> Result<()>;
}

/// The flow control of one call.
pub(crate) fn control(
    token: Option<sosopay::CancelToken>,
    progress: Option<Arc<dyn FlowProgress>>,
) -> sosopay::FlowControl {
    sosopay::FlowControl {
        cancel: token,
        observer: progress.map(|p| {
            let o: sosopay::FlowObserver = Arc::new(move |e: &sosopay::FlowEvent| {
                if let Some(ev) = FlowEvent::from_core(e) {
                    // A failing callback must not affect the payment: its error is dropped.
                    let _ = p.on_event(ev);
                }
            });
            o
        }),
        interrupt: None,
    }
}

// ---------------------------------------------------------------------------------------------
// The async variants' plumbing

/// Cancels the flow's token when dropped before [`CancelOnDrop::disarm`]: the foreign caller
/// went away (a cancelled coroutine), so the flow must take its safe path.
struct CancelOnDrop {
    token: Option<sosopay::CancelToken>,
}

impl CancelOnDrop {
    fn disarm(mut self) {
        self.token = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(t) = self.token.take() {
            t.cancel();
        }
    }
}

/// Runs `flow` on a thread of its own and waits for its result without blocking the caller.
/// The flow's token is cancelled if this future is dropped before the result arrives; the flow
/// then finishes on its thread.
pub(crate) async fn run_detached<F>(
    token: sosopay::CancelToken,
    flow: F,
) -> Result<PaymentOutcomeCore>
where
    F: FnOnce() -> Result<PaymentOutcomeCore> + Send + 'static,
{
    let guard = CancelOnDrop { token: Some(token) };
    let result = on_own_thread("sosopay-flow", flow).await;
    guard.disarm();
    result
}

/// Runs `work` on a new thread named `name` and waits for its result without blocking the
/// caller. Dropping this future does not stop `work`: it runs to its end and its result is
/// dropped (a request already sent is never cut off half-way).
pub(crate) async fn on_own_thread<T, F>(name: &str, work: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    // The thread sends the result; dropped unsent (a panic), the channel is cancelled.
    let (tx, rx) = futures_channel::oneshot::channel();
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .map_err(|e| SosopayError::Other {
            kind: "thread".to_owned(),
            reason: format!("could not start a thread ({name}): {e}"),
        })?;
    rx.await.unwrap_or_else(|_| {
        Err(SosopayError::Other {
            kind: "internal".to_owned(),
            reason: format!(
                "the {name} thread ended without a result; if it was a payment, query the charge code"
            ),
        })
    })
}

/// The core's outcome (converted by the caller).
pub(crate) type PaymentOutcomeCore = sosopay::PaymentOutcome;

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::task::{Context, Poll, Wake, Waker};

    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    fn waker() -> Waker {
        Waker::from(Arc::new(Unpark(std::thread::current())))
    }

    /// Polls `f` to completion on this thread, parking between polls.
    fn block_on<F: Future>(f: F) -> F::Output {
        let waker = waker();
        let mut cx = Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }

    fn outcome() -> PaymentOutcomeCore {
        sosopay::PaymentOutcome {
            status: sosopay::OutcomeStatus::Failed,
            charge_code: "C1".to_owned(),
            order: None,
            code: None,
            reason: "declined".to_owned(),
            queries: 0,
        }
    }

    #[test]
    fn the_flows_result_arrives_and_a_panic_is_an_error_not_a_hang() {
        let out = block_on(run_detached(sosopay::CancelToken::new(), || Ok(outcome())));
        assert_eq!(out.map(|o| o.reason).ok().as_deref(), Some("declined"));
        let r = block_on(run_detached(sosopay::CancelToken::new(), || panic!("boom")));
        match r {
            Err(SosopayError::Other { kind, reason }) => {
                assert_eq!(kind, "internal");
                assert!(reason.contains("query"), "{reason}");
            }
            other => panic!("expected an internal error, got {other:?}"),
        }
    }

    #[test]
    fn dropping_the_future_cancels_the_flow_which_still_ends() {
        let token = sosopay::CancelToken::new();
        let (seen_tx, seen_rx) = std::sync::mpsc::channel();
        let t = token.clone();
        let fut = run_detached(token.clone(), move || {
            while !t.is_cancelled() {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            let _ = seen_tx.send(());
            Ok(outcome())
        });
        let waker = waker();
        let mut fut = Box::pin(fut);
        assert!(fut
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        drop(fut);
        assert!(token.is_cancelled());
        seen_rx
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("the flow saw the cancel and ended on its thread");
    }

    #[test]
    fn dropping_the_guard_cancels_unless_disarmed() {
        let t = sosopay::CancelToken::new();
        drop(CancelOnDrop {
            token: Some(t.clone()),
        });
        assert!(t.is_cancelled());
        let t = sosopay::CancelToken::new();
        CancelOnDrop {
            token: Some(t.clone()),
        }
        .disarm();
        assert!(!t.is_cancelled());
    }
}
