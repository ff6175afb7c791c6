//! `Client`: every gateway operation and flow as a Promise. The seven operations run on the
//! core's async client on the addon's tokio runtime (one worker, `lib.rs`; no thread waits on the network); the two flows,
//! blocking in the core, run on that runtime's blocking pool (`spawn_blocking`). Either way the
//! JS event loop keeps running and a 90 s micropay never occupies libuv's small thread pool.

use std::time::Duration;

use std::sync::Arc;

use napi::bindgen_prelude::{spawn_blocking, Object};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use napi_derive::napi;
use sosopay::units::TimeUnit;
use sosopay::{ClientConfig, Error};

use crate::config::{client_options, ClientOptions, CONFIG_FIELDS};
use crate::convert::Json;
use crate::error::{to_napi, IntoNapi};
use crate::flows::{self, CancelToken, ProgressFn};
use crate::input::CodeOr;
use crate::options::{wait_in, PaymentOutcome, RequestLog, WaitOptions};
use crate::replies::{CancelReply, FlowRechargeReply, OrderReply, QueryReply, RefundReply};
use crate::requests::{
    AwaitedOrder, CancelRequest, FlowRechargeRequest, MicropayRequest, OrderRequest, QueryRequest,
    RefundRequest,
};

// ---------------------------------------------------------------------------------------------
// Configuration (the options object and its reading are generated from the core's: config.rs)

/// The `onRequest` callback: called from the worker thread, queued onto the JS thread; weak, so
/// it never keeps the process alive.
pub(crate) type RequestHookFn = ThreadsafeFunction<RequestLog, (), RequestLog, Status, false, true>;

/// A whole number from 0 to `u32::MAX` (JavaScript numbers are doubles: `-1`, `1.5`, `2**32`
/// and `NaN` are refused, naming the field, rather than wrapped or truncated).
pub fn count(v: Option<f64>, field: &str) -> Result<Option<u32>, Error> {
    v.map(|n| sosopay::units::whole(field, n, u32::MAX))
        .transpose()
}

/// Milliseconds from JS → `Duration`; `None` stays `None`.
pub fn millis(v: Option<f64>, field: &str) -> Result<Option<Duration>, Error> {
    v.map(|ms| sosopay::units::duration(field, ms, TimeUnit::Milliseconds))
        .transpose()
}

/// The core's configuration, with the `onRequest` hook queued onto the JS thread.
fn config(o: ClientOptions) -> Result<ClientConfig, Error> {
    let (options, hook) = client_options(o)?;
    let mut c = options.into_config()?;
    if let Some(f) = hook {
        let f = Arc::new(f);
        c.on_request = Some(Arc::new(move |log: &sosopay::RequestLog| {
            f.call(
                RequestLog::from(log),
                ThreadsafeFunctionCallMode::NonBlocking,
            );
        }));
    }
    Ok(c)
}

// ---------------------------------------------------------------------------------------------
// The client (the request and reply objects and their conversions are generated from the
// core's: requests.rs, replies.rs, options.rs)

/// Runs the operation `job` (the core's async client) on the addon's tokio runtime and settles a
/// Promise with its result. A conversion error (`job` is `Err`) rejects the Promise too: these
/// methods never throw synchronously.
///
/// No thread waits on the network: the runtime's threads drive every request in flight, and
/// the reply crosses as JSON text made there ([`Json`]), turned into an object by one
/// `JSON.parse` on the event loop (`docs/BENCHMARKS.md`).
fn promise<T, Fut>(env: &Env, job: Result<Fut, Error>) -> napi::Result<Object<'_>>
where
    T: serde::Serialize,
    Fut: std::future::Future<Output = Result<T, Error>> + Send + 'static,
{
    let (pending, promise) = crate::settle::promise(env)?;
    match job {
        Err(e) => pending.settle(Err(to_napi(e))),
        Ok(fut) => {
            // A panic in the task is caught here and rejects the Promise (a Promise never
            // settled would stay pending forever).
            let mut fut = Box::pin(fut);
            let guarded = std::future::poll_fn(move |cx| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fut.as_mut().poll(cx)))
                    .map_or_else(|_| std::task::Poll::Ready(None), |p| p.map(Some))
            });
            drop(napi::bindgen_prelude::spawn(async move {
                pending.settle(match guarded.await {
                    Some(done) => done.napi().and_then(|v| Json::new(&v)),
                    None => Err(napi::Error::from_reason(
                        "the SDK's worker task failed (a bug: please report it)",
                    )),
                });
            }));
        }
    }
    Ok(promise)
}

/// Runs a flow `job` on the blocking pool and settles a Promise with its result: `job` returns
/// the napi error itself (an abort before the start is not a core error). The job is handed to
/// the pool on a later turn of the event loop ([`crate::settle::on_next_turn`]), once the JS code
/// that called the flow has run to its end: a cancel made there (`const p = client.micropayAndWait
/// (...); ac.abort()`) is always seen before anything is sent, instead of racing the pool's
/// thread. The blocking thread settles the Promise through the completion channel.
fn flow_promise<F>(env: &Env, job: Result<F, Error>) -> napi::Result<Object<'_>>
where
    F: FnOnce() -> napi::Result<Json> + Send + 'static,
{
    let (pending, promise) = crate::settle::promise(env)?;
    match job {
        Err(e) => pending.settle(Err(to_napi(e))),
        Ok(f) => {
            // The JoinHandle is not awaited: the closure settles the Promise, and a panic in it
            // is caught here rather than left to the pool. (Should the start never run, the
            // environment torn down first, `pending` is dropped with it.)
            crate::settle::on_next_turn(env, move || {
                drop(spawn_blocking(move || {
                    pending.settle(
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(
                            |_| {
                                Err(napi::Error::from_reason(
                                    "the SDK's worker task failed (a bug: please report it)",
                                ))
                            },
                        ),
                    );
                }));
            })?;
        }
    }
    Ok(promise)
}

/// The progress callback of the options (taken out: the rest are timings).
fn take_progress(options: &mut Option<WaitOptions>) -> Option<ProgressFn> {
    options.as_mut().and_then(|o| o.on_progress.take())
}

/// The gateway client. Every method returns a Promise and runs off the main thread.
#[napi]
pub struct Client {
    inner: sosopay::Client,
}

#[napi]
impl Client {
    /// Builds the client (validates the options; nothing is sent).
    #[napi(constructor)]
    pub fn new(options: ClientOptions) -> napi::Result<Self> {
        let inner = config(options)
            .and_then(sosopay::Client::new)
            .map_err(|e| e.renamed_fields(CONFIG_FIELDS))
            .napi()?;
        Ok(Client { inner })
    }

    /// The merchant code.
    #[napi(getter)]
    pub fn busi_code(&self) -> String {
        self.inner.config().busi_code.clone()
    }

    /// The base URL in use.
    #[napi(getter)]
    pub fn base_url(&self) -> String {
        self.inner.config().base_url.clone()
    }

    // --- generated from core/src/client.rs (scripts/gen-foreign.py, Operations)
    /// Micropay (被扫, `preOrder`): charge the customer's scanned code. The gateway may hold the
    /// request up to 80 s while the customer confirms. A lost reply is an error whose
    /// `outcomeUnknown` is true: prefer `micropayAndWait`, which settles it.
    ///
    /// A successful reply showing another payment's order (another amount, customer code,
    /// fixed channel or `MERCHANTPARA`) is a `Decode` error (`outcomeUnknown`). A reply that
    /// leaves those fields out is returned as it is; the till flow would query such an order
    /// before taking it as this payment's.
    #[napi(ts_return_type = "Promise<OrderReply>")]
    pub fn micropay<'e>(&self, env: &'e Env, request: MicropayRequest) -> napi::Result<Object<'e>> {
        let c = self.inner.clone();
        let fen = request.in_fen();
        let job = request.into_core().map(|r| async move {
            c.micropay_async(&r)
                .await
                .map(OrderReply::from)
                .map_err(|e| e.as_given_in_fen(|f| fen.contains(&f)))
        });
        promise(env, job)
    }

    /// A QR order (主扫): the reply's `barCode` is the link to render as a QR code.
    #[napi(ts_return_type = "Promise<OrderReply>")]
    pub fn create_qr_order<'e>(
        &self,
        env: &'e Env,
        request: OrderRequest,
    ) -> napi::Result<Object<'e>> {
        let c = self.inner.clone();
        let fen = request.in_fen();
        let job = request.into_core().map(|r| async move {
            c.create_qr_order_async(&r)
                .await
                .map(OrderReply::from)
                .map_err(|e| e.as_given_in_fen(|f| fen.contains(&f)))
        });
        promise(env, job)
    }

    /// A WeChat JSAPI order (公众号): `TRADE_TYPE=JSAPI` is set; the reply's `jsapi` holds
    /// the six parameters for `WeixinJSBridge`.
    #[napi(ts_return_type = "Promise<OrderReply>")]
    pub fn create_jsapi_order<'e>(
        &self,
        env: &'e Env,
        request: OrderRequest,
    ) -> napi::Result<Object<'e>> {
        let c = self.inner.clone();
        let fen = request.in_fen();
        let job = request.into_jsapi_core().map(|r| async move {
            c.create_jsapi_order_async(&r)
                .await
                .map(OrderReply::from)
                .map_err(|e| e.as_given_in_fen(|f| fen.contains(&f)))
        });
        promise(env, job)
    }

    /// Queries an order (retried on transport errors and 5xx).
    ///
    /// `request`: the request, or a charge code alone (a string).
    #[napi(ts_return_type = "Promise<QueryReply>")]
    pub fn query<'e>(
        &self,
        env: &'e Env,
        #[napi(ts_arg_type = "string | QueryRequest")] request: CodeOr<QueryRequest>,
    ) -> napi::Result<Object<'e>> {
        let c = self.inner.clone();
        let job = match request {
            CodeOr::Code(code) => Ok(sosopay::models::QueryRequest::by_charge_code(code)),
            CodeOr::Request(r) => r.into_core(),
        }
        .map(|r| async move { c.query_async(&r).await.map(QueryReply::from) });
        promise(env, job)
    }

    /// A refund (partial or full). Reuse `outRefundNo` to retry a refund safely.
    ///
    /// A successful reply whose `FUND_BILL_LIST` adds up to another amount than
    /// `refundAmount` (the refund made before under this `outRefundNo`, or an answer meant
    /// for another request) is a `Decode` error (`outcomeUnknown`): this refund was not shown
    /// done. So is a successful reply showing the order in another `STATE` than refunded (5)
    /// or partially refunded (4) (refund failed, still paid, ...: a reply that says two
    /// things), and one naming another `CHARGE_CODE`, `CHARGE_DOWN_CODE` or `OUT_REFUND_NO`
    /// than the request.
    ///
    /// A refund naming its order by both numbers is sent only once a query by the gateway's
    /// number shows that order under this `chargeCode`: given both, the gateway refunds the
    /// order `chargeDownCode` names, so a `chargeDownCode` of another order would move that
    /// order's money. Two numbers of different orders are a `Validation` error naming
    /// `chargeDownCode`, and nothing is refunded.
    #[napi(ts_return_type = "Promise<RefundReply>")]
    pub fn refund<'e>(&self, env: &'e Env, request: RefundRequest) -> napi::Result<Object<'e>> {
        let c = self.inner.clone();
        let fen = request.in_fen();
        let job = request.into_core().map(|r| async move {
            c.refund_async(&r)
                .await
                .map(RefundReply::from)
                .map_err(|e| e.as_given_in_fen(|f| fen.contains(&f)))
        });
        promise(env, job)
    }

    /// Cancels (reverses) an order: immediately, or as an application (`opType=ACO`). Retried
    /// like a query. `AREADY_REVOKED` (the order is cancelled already: by an earlier attempt
    /// whose reply was lost, by this call made before, or otherwise) is returned as a reply with
    /// that code, never as an error: the order is cancelled, as asked.
    ///
    /// `request`: the request, or a charge code alone (a string).
    #[napi(ts_return_type = "Promise<CancelReply>")]
    pub fn cancel<'e>(
        &self,
        env: &'e Env,
        #[napi(ts_arg_type = "string | CancelRequest")] request: CodeOr<CancelRequest>,
    ) -> napi::Result<Object<'e>> {
        let c = self.inner.clone();
        let job = match request {
            CodeOr::Code(code) => Ok(sosopay::models::CancelRequest::new(code)),
            CodeOr::Request(r) => r.into_core(),
        }
        .map(|r| async move { c.cancel_async(&r).await.map(CancelReply::from) });
        promise(env, job)
    }

    /// A mobile data top-up (`platService/flowRecharge/{BUSI_CODE}`).
    #[napi(ts_return_type = "Promise<FlowRechargeReply>")]
    pub fn flow_recharge<'e>(
        &self,
        env: &'e Env,
        request: FlowRechargeRequest,
    ) -> napi::Result<Object<'e>> {
        let c = self.inner.clone();
        let job = request
            .into_core()
            .map(|r| async move { c.flow_recharge_async(&r).await.map(FlowRechargeReply::from) });
        promise(env, job)
    }

    // --- end of generated

    /// The till flow: micropay, settle an unknown outcome by querying, cancel at the deadline.
    /// Rejects only for invalid requests (nothing sent); everything else is an outcome.
    /// `cancel` (the JS layer passes one for `options.signal`): cancelling it makes the flow
    /// reverse the order at once and resolve with the outcome; if it is cancelled before the
    /// micropay request is sent (always so when cancelled by the code that made the call, before
    /// it returns to the event loop: the flow starts on a later turn), nothing is sent and the
    /// Promise rejects (`AbortError`), never resolves `Failed`.
    #[napi(ts_return_type = "Promise<PaymentOutcome>")]
    pub fn micropay_and_wait<'e>(
        &self,
        env: &'e Env,
        request: MicropayRequest,
        mut options: Option<WaitOptions>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<Object<'e>> {
        let c = self.inner.clone();
        let ctl = flows::control(cancel, take_progress(&mut options), true);
        let fen = request.in_fen();
        let job = request.into_core().and_then(|r| {
            let opts = wait_in(options)?;
            Ok(move || {
                // The core checks the token before it sends (and reports `Failed`, "cancelled
                // before the payment was sent"): that is the one check, so that a cancel made
                // at any moment before the request left is the same rejection.
                let out = c.micropay_and_wait_with(&r, &opts, &ctl.flow);
                if out.is_ok() && ctl.never_sent() {
                    return Err(flows::aborted());
                }
                out.map_err(|e| flow_error(e, &fen))
                    .napi()
                    .and_then(|o| Json::new(&PaymentOutcome::from(o)))
            })
        });
        flow_promise(env, job)
    }

    /// Waits for a QR or JSAPI order to be paid: polls until paid, cancelled or closed, or the
    /// deadline (`"Pending"`). `order`: the charge code, or `{ chargeCode, amount }` with the
    /// amount the order was created for (recommended: an order under that code for another
    /// amount is then `"Conflict"`, never `"Paid"`). `cancel` stops waiting (the outcome says
    /// where the order stands); cancelled before the start, the Promise rejects (`AbortError`).
    #[napi(ts_return_type = "Promise<PaymentOutcome>")]
    pub fn wait_for_payment<'e>(
        &self,
        env: &'e Env,
        #[napi(ts_arg_type = "string | AwaitedOrder")] order: CodeOr<AwaitedOrder>,
        mut options: Option<WaitOptions>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<Object<'e>> {
        let c = self.inner.clone();
        let ctl = flows::control(cancel, take_progress(&mut options), false);
        let (order, fen) = match order {
            CodeOr::Code(code) => (Ok(sosopay::AwaitedOrder::new(code)), Vec::new()),
            CodeOr::Request(r) => {
                let fen = r.in_fen();
                (r.into_core(), fen)
            }
        };
        let job = order.and_then(|order| {
            let opts = wait_in(options)?;
            Ok(move || {
                // The core's wait always queries first: cancelled before that, nothing is sent.
                if ctl.cancelled() {
                    return Err(flows::aborted());
                }
                c.wait_for_payment_with(order, &opts, &ctl.flow)
                    .map_err(|e| flow_error(e, &fen))
                    .napi()
                    .and_then(|o| Json::new(&PaymentOutcome::from(o)))
            })
        });
        flow_promise(env, job)
    }
}

/// A flow's error, its fields named as given: the request's (in fen where given so) and the
/// wait options' (a flow checks its options against the gateway too: `gatewayHoldMs` under
/// 80 s against the vendor's).
fn flow_error(e: sosopay::Error, fen: &[&str]) -> sosopay::Error {
    e.as_given_in_fen(|f| fen.contains(&f))
        .renamed_fields(crate::options::WAIT_FIELDS)
}
