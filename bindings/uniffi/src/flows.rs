//! Cancellation and progress of the flows, and their async (Kotlin `suspend`, Swift `async`)
//! variants.
//!
//! The async variants need no async runtime: the flow (blocking, as everywhere in the core)
//! runs on a thread of its own, and the future only waits for its result through a one-shot
//! channel. When the foreign side drops the future (a cancelled Kotlin coroutine: uniffi frees
//! the Rust future), a guard cancels the flow's [`CancelToken`]: the flow takes its safe path
//! (the till flow reverses the order) and runs to completion on its thread, reporting to the
//! progress callback until its `Done` event.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

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
    }
}

// ---------------------------------------------------------------------------------------------
// The async variants' plumbing

struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
    closed: bool,
}

/// The sending half: the flow's thread sends the result; dropped unsent (a panic), it closes
/// the channel.
struct Sender<T>(Arc<Mutex<Slot<T>>>);

/// The receiving half: a future of the result (`None`: the sender went away unsent).
struct Receiver<T>(Arc<Mutex<Slot<T>>>);

fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Mutex::new(Slot {
        value: None,
        waker: None,
        closed: false,
    }));
    (Sender(slot.clone()), Receiver(slot))
}

impl<T> Sender<T> {
    fn send(self, value: T) {
        let waker = match self.0.lock() {
            Ok(mut s) => {
                s.value = Some(value);
                s.waker.take()
            }
            Err(_) => None,
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = match self.0.lock() {
            Ok(mut s) => {
                s.closed = true;
                s.waker.take()
            }
            Err(_) => None,
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let Ok(mut s) = self.0.lock() else {
            return Poll::Ready(None);
        };
        if let Some(v) = s.value.take() {
            return Poll::Ready(Some(v));
        }
        if s.closed {
            return Poll::Ready(None);
        }
        s.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

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
    let (tx, rx) = oneshot();
    std::thread::Builder::new()
        .name("sosopay-flow".to_owned())
        .spawn(move || tx.send(flow()))
        .map_err(|e| SosopayError::Other {
            kind: "thread".to_owned(),
            reason: format!("could not start the flow's thread: {e}"),
        })?;
    let result = rx.await;
    guard.disarm();
    result.unwrap_or_else(|| {
        Err(SosopayError::Other {
            kind: "internal".to_owned(),
            reason: "the flow's thread ended without an outcome; query the charge code".to_owned(),
        })
    })
}

/// The core's outcome (converted by the caller).
pub(crate) type PaymentOutcomeCore = sosopay::PaymentOutcome;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::Wake;

    struct Flag(AtomicBool);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    fn poll_once<F: Future + Unpin>(f: &mut F, flag: &Arc<Flag>) -> Poll<F::Output> {
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        Pin::new(f).poll(&mut cx)
    }

    #[test]
    fn oneshot_delivers_and_wakes() {
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let (tx, mut rx) = oneshot::<u32>();
        assert!(poll_once(&mut rx, &flag).is_pending());
        tx.send(7);
        assert!(flag.0.load(Ordering::SeqCst));
        assert_eq!(poll_once(&mut rx, &flag), Poll::Ready(Some(7)));
    }

    #[test]
    fn oneshot_closed_unsent() {
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let (tx, mut rx) = oneshot::<u32>();
        assert!(poll_once(&mut rx, &flag).is_pending());
        drop(tx);
        assert!(flag.0.load(Ordering::SeqCst));
        assert_eq!(poll_once(&mut rx, &flag), Poll::Ready(None));
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
