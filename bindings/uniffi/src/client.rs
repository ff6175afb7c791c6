//! The gateway client and the two flows. Every call blocks until the gateway answers (or the
//! configured timeout): call it from a background thread or coroutine, never the UI thread.

use std::sync::Arc;

use crate::config::ClientConfig;
use crate::enums::ResultCode;
use crate::error::{Result, SosopayError};
use crate::flows::{self, CancelToken, FlowProgress};
use crate::models::fen_in;
use crate::options::{RequestLog, WaitOptions};
use crate::replies::{
    CancelReply, FlowRechargeReply, OrderDetails, OrderReply, QueryReply, RefundReply,
};
use crate::requests::{
    CancelRequest, FlowRechargeRequest, MicropayRequest, OrderRequest, QueryRequest, RefundRequest,
};

/// The base URL of a published environment, for `ClientConfig.baseUrl`.
#[uniffi::export]
pub fn environment_base_url(environment: GatewayEnvironment) -> String {
    sosopay::Environment::from(environment)
        .base_url()
        .to_owned()
}

/// Receives a [`RequestLog`] after every attempt (implemented in Kotlin or Swift). It is called
/// on the thread making the request; keep it quick. An exception it throws is ignored.
#[uniffi::export(with_foreign)]
pub trait RequestLogger: Send + Sync {
    /// Called after every attempt.
    fn on_request(&self, log: RequestLog) -> Result<()>;
}

impl From<uniffi::UnexpectedUniFFICallbackError> for SosopayError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        SosopayError::Other {
            kind: "callback".to_owned(),
            reason: e.reason,
        }
    }
}

// --- generated from core/src/client.rs, codec.rs and flows.rs (scripts/gen-foreign.py)
/// The gateway's published environments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum GatewayEnvironment {
    /// Production over HTTPS (recommended).
    Production,
    /// Production over plain HTTP: use `encrypt`, which hides the requests; the replies are
    /// only as trustworthy as the network path (3DES in ECB mode, without authentication, lets
    /// anyone on it replay or splice captured replies: `Production` has TLS).
    ProductionHttp,
    /// The vendor's UAT / test environment.
    Uat,
}

impl From<GatewayEnvironment> for sosopay::Environment {
    fn from(v: GatewayEnvironment) -> Self {
        match v {
            GatewayEnvironment::Production => sosopay::Environment::Production,
            GatewayEnvironment::ProductionHttp => sosopay::Environment::ProductionHttp,
            GatewayEnvironment::Uat => sosopay::Environment::Uat,
        }
    }
}

/// The wire format of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ReplyFormat {
    /// JSON (`_type=json`).
    Json,
    /// XML (the gateway's default when `_type` is absent).
    Xml,
}

impl From<ReplyFormat> for sosopay::codec::Format {
    fn from(v: ReplyFormat) -> Self {
        match v {
            ReplyFormat::Json => sosopay::codec::Format::Json,
            ReplyFormat::Xml => sosopay::codec::Format::Xml,
        }
    }
}

/// How a payment flow (`micropayAndWait`, `waitForPayment`) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OutcomeStatus {
    /// The customer paid (the order is in a paid state: 1, or 4, 5, 8, 9 after refunds).
    Paid,
    /// The payment did not happen and no money moved: declined, closed (state 6), never
    /// sent, or refused by the gateway with a definite failure code.
    Failed,
    /// The order was cancelled (state 2: by us at the deadline, or by the gateway); if it had
    /// been paid meanwhile, the cancel reversed it.
    Cancelled,
    /// `waitForPayment` only: the deadline passed and the order still awaits payment.
    Pending,
    /// Nothing could be proven before the flow's time ran out (the gateway unreachable, or the
    /// request possibly still in transit), or the gateway's answers disagreed: query
    /// `chargeCode` later before doing anything else; never charge the customer again under a
    /// new charge code before that.
    Unresolved,
    /// The charge code belongs to another payment (another amount, customer code, channel or
    /// `MERCHANTPARA`). That order was left untouched; this payment did not happen under this
    /// code.
    Conflict,
}

impl From<sosopay::OutcomeStatus> for OutcomeStatus {
    fn from(v: sosopay::OutcomeStatus) -> Self {
        match v {
            sosopay::OutcomeStatus::Paid => OutcomeStatus::Paid,
            sosopay::OutcomeStatus::Failed => OutcomeStatus::Failed,
            sosopay::OutcomeStatus::Cancelled => OutcomeStatus::Cancelled,
            sosopay::OutcomeStatus::Pending => OutcomeStatus::Pending,
            sosopay::OutcomeStatus::Unresolved => OutcomeStatus::Unresolved,
            sosopay::OutcomeStatus::Conflict => OutcomeStatus::Conflict,
        }
    }
}

/// The result of a flow.
///
/// One case per way it can end (the core's `OutcomeStatus`), each with the core's fields;
/// `Paid` always has the paid order (never null), the others the order as last seen, if any
/// (for `Conflict`, the other payment's order). Kotlin: a sealed class (`when (outcome) { is
/// PaymentOutcome.Paid -> outcome.order.amountFen ... }`); Swift: an enum with associated
/// values. `status()`, `isPaid()` and an accessor per field read any case.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum PaymentOutcome {
    /// The customer paid (the order is in a paid state: 1, or 4, 5, 8, 9 after refunds).
    Paid {
        /// The merchant's order number.
        charge_code: String,
        /// The order as last seen (always present when paid; for `Conflict`, the other order).
        order: OrderDetails,
        /// The gateway code behind a failure, when there is one.
        result_code: Option<ResultCode>,
        /// Why, in words.
        reason: String,
        /// How many queries were made.
        queries: i32,
    },
    /// The payment did not happen and no money moved: declined, closed (state 6), never
    /// sent, or refused by the gateway with a definite failure code.
    Failed {
        /// The merchant's order number.
        charge_code: String,
        /// The order as last seen (always present when paid; for `Conflict`, the other order).
        order: Option<OrderDetails>,
        /// The gateway code behind a failure, when there is one.
        result_code: Option<ResultCode>,
        /// Why, in words.
        reason: String,
        /// How many queries were made.
        queries: i32,
    },
    /// The order was cancelled (state 2: by us at the deadline, or by the gateway); if it had
    /// been paid meanwhile, the cancel reversed it.
    Cancelled {
        /// The merchant's order number.
        charge_code: String,
        /// The order as last seen (always present when paid; for `Conflict`, the other order).
        order: Option<OrderDetails>,
        /// The gateway code behind a failure, when there is one.
        result_code: Option<ResultCode>,
        /// Why, in words.
        reason: String,
        /// How many queries were made.
        queries: i32,
    },
    /// `waitForPayment` only: the deadline passed and the order still awaits payment.
    Pending {
        /// The merchant's order number.
        charge_code: String,
        /// The order as last seen (always present when paid; for `Conflict`, the other order).
        order: Option<OrderDetails>,
        /// The gateway code behind a failure, when there is one.
        result_code: Option<ResultCode>,
        /// Why, in words.
        reason: String,
        /// How many queries were made.
        queries: i32,
    },
    /// Nothing could be proven before the flow's time ran out (the gateway unreachable, or the
    /// request possibly still in transit), or the gateway's answers disagreed: query
    /// `chargeCode` later before doing anything else; never charge the customer again under a
    /// new charge code before that.
    Unresolved {
        /// The merchant's order number.
        charge_code: String,
        /// The order as last seen (always present when paid; for `Conflict`, the other order).
        order: Option<OrderDetails>,
        /// The gateway code behind a failure, when there is one.
        result_code: Option<ResultCode>,
        /// Why, in words.
        reason: String,
        /// How many queries were made.
        queries: i32,
    },
    /// The charge code belongs to another payment (another amount, customer code, channel or
    /// `MERCHANTPARA`). That order was left untouched; this payment did not happen under this
    /// code.
    Conflict {
        /// The merchant's order number.
        charge_code: String,
        /// The order as last seen (always present when paid; for `Conflict`, the other order).
        order: Option<OrderDetails>,
        /// The gateway code behind a failure, when there is one.
        result_code: Option<ResultCode>,
        /// Why, in words.
        reason: String,
        /// How many queries were made.
        queries: i32,
    },
}

#[uniffi::export]
impl PaymentOutcome {
    /// How it ended: `Paid`, `Failed`, `Cancelled`, `Pending` (waiting for a QR or JSAPI
    /// order only), `Unresolved` (query the charge code later before doing anything else) or
    /// `Conflict` (the charge code belongs to another payment, which was left untouched).
    pub fn status(&self) -> OutcomeStatus {
        match self {
            PaymentOutcome::Paid { .. } => OutcomeStatus::Paid,
            PaymentOutcome::Failed { .. } => OutcomeStatus::Failed,
            PaymentOutcome::Cancelled { .. } => OutcomeStatus::Cancelled,
            PaymentOutcome::Pending { .. } => OutcomeStatus::Pending,
            PaymentOutcome::Unresolved { .. } => OutcomeStatus::Unresolved,
            PaymentOutcome::Conflict { .. } => OutcomeStatus::Conflict,
        }
    }

    /// Was the customer charged (and not reversed)?
    pub fn is_paid(&self) -> bool {
        matches!(self, PaymentOutcome::Paid { .. })
    }

    /// The merchant's order number.
    pub fn charge_code(&self) -> String {
        match self {
            PaymentOutcome::Paid { charge_code, .. }
            | PaymentOutcome::Failed { charge_code, .. }
            | PaymentOutcome::Cancelled { charge_code, .. }
            | PaymentOutcome::Pending { charge_code, .. }
            | PaymentOutcome::Unresolved { charge_code, .. }
            | PaymentOutcome::Conflict { charge_code, .. } => charge_code.clone(),
        }
    }

    /// The order as last seen (always present when paid; for `Conflict`, the other order).
    pub fn order(&self) -> Option<OrderDetails> {
        match self {
            PaymentOutcome::Paid { order, .. } => Some(order.clone()),
            PaymentOutcome::Failed { order, .. } => order.clone(),
            PaymentOutcome::Cancelled { order, .. } => order.clone(),
            PaymentOutcome::Pending { order, .. } => order.clone(),
            PaymentOutcome::Unresolved { order, .. } => order.clone(),
            PaymentOutcome::Conflict { order, .. } => order.clone(),
        }
    }

    /// The gateway code behind a failure, when there is one.
    pub fn result_code(&self) -> Option<ResultCode> {
        match self {
            PaymentOutcome::Paid { result_code, .. }
            | PaymentOutcome::Failed { result_code, .. }
            | PaymentOutcome::Cancelled { result_code, .. }
            | PaymentOutcome::Pending { result_code, .. }
            | PaymentOutcome::Unresolved { result_code, .. }
            | PaymentOutcome::Conflict { result_code, .. } => result_code.clone(),
        }
    }

    /// Why, in words.
    pub fn reason(&self) -> String {
        match self {
            PaymentOutcome::Paid { reason, .. }
            | PaymentOutcome::Failed { reason, .. }
            | PaymentOutcome::Cancelled { reason, .. }
            | PaymentOutcome::Pending { reason, .. }
            | PaymentOutcome::Unresolved { reason, .. }
            | PaymentOutcome::Conflict { reason, .. } => reason.clone(),
        }
    }

    /// How many queries were made.
    pub fn queries(&self) -> i32 {
        match self {
            PaymentOutcome::Paid { queries, .. }
            | PaymentOutcome::Failed { queries, .. }
            | PaymentOutcome::Cancelled { queries, .. }
            | PaymentOutcome::Pending { queries, .. }
            | PaymentOutcome::Unresolved { queries, .. }
            | PaymentOutcome::Conflict { queries, .. } => *queries,
        }
    }
}

impl From<sosopay::PaymentOutcome> for PaymentOutcome {
    fn from(o: sosopay::PaymentOutcome) -> Self {
        let charge_code = o.charge_code;
        let result_code = o.code.map(Into::into);
        let reason = o.reason;
        let queries = crate::models::count_out(o.queries);
        match (o.status, o.order.map(OrderDetails::from)) {
            (sosopay::OutcomeStatus::Paid, Some(order)) => PaymentOutcome::Paid {
                charge_code,
                order,
                result_code,
                reason,
                queries,
            },
            // The core never reports Paid without the order; were it to, nothing is proven
            // here: the caller must query, as for any unresolved payment.
            (sosopay::OutcomeStatus::Paid, None) => PaymentOutcome::Unresolved {
                charge_code,
                order: None,
                result_code,
                reason: format!("paid, but the order details are missing: query it ({reason})"),
                queries,
            },
            (sosopay::OutcomeStatus::Failed, order) => PaymentOutcome::Failed {
                charge_code,
                order,
                result_code,
                reason,
                queries,
            },
            (sosopay::OutcomeStatus::Cancelled, order) => PaymentOutcome::Cancelled {
                charge_code,
                order,
                result_code,
                reason,
                queries,
            },
            (sosopay::OutcomeStatus::Pending, order) => PaymentOutcome::Pending {
                charge_code,
                order,
                result_code,
                reason,
                queries,
            },
            (sosopay::OutcomeStatus::Unresolved, order) => PaymentOutcome::Unresolved {
                charge_code,
                order,
                result_code,
                reason,
                queries,
            },
            (sosopay::OutcomeStatus::Conflict, order) => PaymentOutcome::Conflict {
                charge_code,
                order,
                result_code,
                reason,
                queries,
            },
        }
    }
}
// --- end of generated

/// A core result as this binding's: an error names the request's field as this record spells
/// it (`amount` → `amountFen`).
fn named<T, U: From<T>>(r: sosopay::Result<T>, fields: &[(&str, &str)]) -> Result<U> {
    r.map(U::from)
        .map_err(|e| SosopayError::from(e.renamed_fields(fields)))
}

/// A flow's error, its fields named as here: the request's and the wait options' (a flow checks
/// its options against the gateway too: `gatewayHoldMs` under 80 s against the vendor's).
fn flow_error(e: sosopay::Error, request: &[(&str, &str)]) -> SosopayError {
    SosopayError::from(
        e.renamed_fields(request)
            .renamed_fields(crate::options::WAIT_FIELDS),
    )
}

/// The gateway client. Thread-safe: build one per merchant and share it. Every plain method
/// blocks until the gateway answers; call it from a background thread (Kotlin:
/// `Dispatchers.IO`; Swift: a detached `Task` or a background queue), or call its `…Async`
/// variant (Kotlin `suspend`, Swift `async`), which runs it on a thread of its own.
#[derive(Debug, uniffi::Object)]
pub struct SosopayClient {
    inner: sosopay::Client,
}

#[uniffi::export]
impl SosopayClient {
    /// Builds the client and its HTTP agent (TLS verified). `logger` receives every attempt.
    #[uniffi::constructor(default(logger = None))]
    pub fn new(config: ClientConfig, logger: Option<Arc<dyn RequestLogger>>) -> Result<Arc<Self>> {
        let mut c = config.to_core()?;
        if let Some(logger) = logger {
            c.on_request = Some(Arc::new(move |l: &sosopay::RequestLog| {
                // A failing logger must not affect the payment: its error is dropped.
                let _ = logger.on_request(RequestLog::from(l));
            }));
        }
        let inner = sosopay::Client::new(c)?;
        Ok(Arc::new(SosopayClient { inner }))
    }

    /// The merchant code.
    pub fn busi_code(&self) -> String {
        self.inner.config().busi_code.clone()
    }

    /// The base URL in use.
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
    pub fn micropay(&self, request: MicropayRequest) -> Result<OrderReply> {
        named(
            self.inner.micropay(&request.to_core()?),
            MicropayRequest::FIELDS,
        )
    }

    /// A QR order (主扫): the reply's `barCode` is the link to render as a QR code.
    pub fn create_qr_order(&self, request: OrderRequest) -> Result<OrderReply> {
        named(
            self.inner.create_qr_order(&request.to_core()?),
            OrderRequest::FIELDS,
        )
    }

    /// A WeChat JSAPI order (公众号): `TRADE_TYPE=JSAPI` is set; the reply's `jsapi` holds
    /// the six parameters for `WeixinJSBridge`.
    pub fn create_jsapi_order(&self, request: OrderRequest) -> Result<OrderReply> {
        named(
            self.inner.create_jsapi_order(&request.to_core()?),
            OrderRequest::FIELDS,
        )
    }

    /// Queries an order (retried on transport errors and 5xx).
    pub fn query(&self, request: QueryRequest) -> Result<QueryReply> {
        named(self.inner.query(&request.to_core()?), QueryRequest::FIELDS)
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
    pub fn refund(&self, request: RefundRequest) -> Result<RefundReply> {
        named(
            self.inner.refund(&request.to_core()?),
            RefundRequest::FIELDS,
        )
    }

    /// Cancels (reverses) an order: immediately, or as an application (`opType=ACO`). Retried
    /// like a query. `AREADY_REVOKED` (the order is cancelled already: by an earlier attempt
    /// whose reply was lost, by this call made before, or otherwise) is returned as a reply with
    /// that code, never as an error: the order is cancelled, as asked.
    pub fn cancel(&self, request: CancelRequest) -> Result<CancelReply> {
        named(
            self.inner.cancel(&request.to_core()?),
            CancelRequest::FIELDS,
        )
    }

    /// A mobile data top-up (`platService/flowRecharge/{BUSI_CODE}`).
    pub fn flow_recharge(&self, request: FlowRechargeRequest) -> Result<FlowRechargeReply> {
        named(
            self.inner.flow_recharge(&request.to_core()?),
            FlowRechargeRequest::FIELDS,
        )
    }

    /// `micropay` as a Kotlin `suspend` function / Swift `async` method: the request runs on a
    /// thread of its own (`sosopay-call`) while the caller suspends, so it may be called from the
    /// main thread. Cancelling the coroutine does not unsend the request: it runs to its end
    /// (a `RequestLogger` still receives it) and its result is dropped; after a cancelled
    /// payment, order or refund, query the charge code before charging again.
    pub async fn micropay_async(&self, request: MicropayRequest) -> Result<OrderReply> {
        let (c, r) = (self.inner.clone(), request.to_core()?);
        flows::on_own_thread("sosopay-call", move || {
            named(c.micropay(&r), MicropayRequest::FIELDS)
        })
        .await
    }

    /// `createQrOrder` as a Kotlin `suspend` function / Swift `async` method: the request runs on a
    /// thread of its own (`sosopay-call`) while the caller suspends, so it may be called from the
    /// main thread. Cancelling the coroutine does not unsend the request: it runs to its end
    /// (a `RequestLogger` still receives it) and its result is dropped; after a cancelled
    /// payment, order or refund, query the charge code before charging again.
    pub async fn create_qr_order_async(&self, request: OrderRequest) -> Result<OrderReply> {
        let (c, r) = (self.inner.clone(), request.to_core()?);
        flows::on_own_thread("sosopay-call", move || {
            named(c.create_qr_order(&r), OrderRequest::FIELDS)
        })
        .await
    }

    /// `createJsapiOrder` as a Kotlin `suspend` function / Swift `async` method: the request runs on a
    /// thread of its own (`sosopay-call`) while the caller suspends, so it may be called from the
    /// main thread. Cancelling the coroutine does not unsend the request: it runs to its end
    /// (a `RequestLogger` still receives it) and its result is dropped; after a cancelled
    /// payment, order or refund, query the charge code before charging again.
    pub async fn create_jsapi_order_async(&self, request: OrderRequest) -> Result<OrderReply> {
        let (c, r) = (self.inner.clone(), request.to_core()?);
        flows::on_own_thread("sosopay-call", move || {
            named(c.create_jsapi_order(&r), OrderRequest::FIELDS)
        })
        .await
    }

    /// `query` as a Kotlin `suspend` function / Swift `async` method: the request runs on a
    /// thread of its own (`sosopay-call`) while the caller suspends, so it may be called from the
    /// main thread. Cancelling the coroutine does not unsend the request: it runs to its end
    /// (a `RequestLogger` still receives it) and its result is dropped; after a cancelled
    /// payment, order or refund, query the charge code before charging again.
    pub async fn query_async(&self, request: QueryRequest) -> Result<QueryReply> {
        let (c, r) = (self.inner.clone(), request.to_core()?);
        flows::on_own_thread("sosopay-call", move || {
            named(c.query(&r), QueryRequest::FIELDS)
        })
        .await
    }

    /// `refund` as a Kotlin `suspend` function / Swift `async` method: the request runs on a
    /// thread of its own (`sosopay-call`) while the caller suspends, so it may be called from the
    /// main thread. Cancelling the coroutine does not unsend the request: it runs to its end
    /// (a `RequestLogger` still receives it) and its result is dropped; after a cancelled
    /// payment, order or refund, query the charge code before charging again.
    pub async fn refund_async(&self, request: RefundRequest) -> Result<RefundReply> {
        let (c, r) = (self.inner.clone(), request.to_core()?);
        flows::on_own_thread("sosopay-call", move || {
            named(c.refund(&r), RefundRequest::FIELDS)
        })
        .await
    }

    /// `cancel` as a Kotlin `suspend` function / Swift `async` method: the request runs on a
    /// thread of its own (`sosopay-call`) while the caller suspends, so it may be called from the
    /// main thread. Cancelling the coroutine does not unsend the request: it runs to its end
    /// (a `RequestLogger` still receives it) and its result is dropped; after a cancelled
    /// payment, order or refund, query the charge code before charging again.
    pub async fn cancel_async(&self, request: CancelRequest) -> Result<CancelReply> {
        let (c, r) = (self.inner.clone(), request.to_core()?);
        flows::on_own_thread("sosopay-call", move || {
            named(c.cancel(&r), CancelRequest::FIELDS)
        })
        .await
    }

    /// `flowRecharge` as a Kotlin `suspend` function / Swift `async` method: the request runs on a
    /// thread of its own (`sosopay-call`) while the caller suspends, so it may be called from the
    /// main thread. Cancelling the coroutine does not unsend the request: it runs to its end
    /// (a `RequestLogger` still receives it) and its result is dropped; after a cancelled
    /// payment, order or refund, query the charge code before charging again.
    pub async fn flow_recharge_async(
        &self,
        request: FlowRechargeRequest,
    ) -> Result<FlowRechargeReply> {
        let (c, r) = (self.inner.clone(), request.to_core()?);
        flows::on_own_thread("sosopay-call", move || {
            named(c.flow_recharge(&r), FlowRechargeRequest::FIELDS)
        })
        .await
    }

    // --- end of generated

    /// Queries an order by the merchant's charge code.
    pub fn query_charge(&self, charge_code: String) -> Result<QueryReply> {
        Ok(self.inner.query_charge(&charge_code)?.into())
    }

    /// `queryCharge` as a Kotlin `suspend` function / Swift `async` method: the query runs on
    /// a thread of its own (`sosopay-call`) while the caller suspends (see `queryAsync`).
    pub async fn query_charge_async(&self, charge_code: String) -> Result<QueryReply> {
        let c = self.inner.clone();
        flows::on_own_thread("sosopay-call", move || {
            Ok(c.query_charge(&charge_code)?.into())
        })
        .await
    }

    /// The till flow: micropay, then settle any unknown outcome by querying, and cancel at the
    /// deadline. Throws only for an invalid request (nothing was sent); every other situation
    /// is a [`PaymentOutcome`]. Blocks up to about `deadline_ms` plus the cancel attempts.
    ///
    /// `cancel`: a [`CancelToken`] another thread may cancel (the cashier's cancel button): the
    /// flow then reverses the order at once and returns (`Cancelled`, or `Paid` / `Unresolved`).
    /// `progress`: receives each [`FlowEvent`] on this (the calling) thread.
    #[uniffi::method(default(options = None, cancel = None, progress = None))]
    pub fn micropay_and_wait(
        &self,
        request: MicropayRequest,
        options: Option<WaitOptions>,
        cancel: Option<Arc<CancelToken>>,
        progress: Option<Arc<dyn FlowProgress>>,
    ) -> Result<PaymentOutcome> {
        let opts = WaitOptions::to_core(options)?;
        let req = request.to_core()?;
        let ctl = flows::control(cancel.map(|t| t.inner.clone()), progress);
        self.inner
            .micropay_and_wait_with(&req, &opts, &ctl)
            .map(Into::into)
            .map_err(|e| flow_error(e, MicropayRequest::FIELDS))
    }

    /// Waits for a QR or JSAPI order to be paid: polls until paid, cancelled or closed, or the
    /// deadline (then `Pending`, or `Unresolved` if the gateway could not be asked). `cancel`
    /// stops waiting; `progress` as in `micropayAndWait`. `amountFen`: the amount the order
    /// was created for (recommended): an order under `chargeCode` for another amount (the code
    /// was used before, for another payment) is then `CONFLICT`, never `PAID`.
    #[uniffi::method(default(
        options = None,
        cancel = None,
        progress = None,
        amount_fen = None,
        merchant_para = None
    ))]
    pub fn wait_for_payment(
        &self,
        charge_code: String,
        options: Option<WaitOptions>,
        cancel: Option<Arc<CancelToken>>,
        progress: Option<Arc<dyn FlowProgress>>,
        amount_fen: Option<i64>,
        merchant_para: Option<String>,
    ) -> Result<PaymentOutcome> {
        let order = awaited(charge_code, amount_fen, merchant_para)?;
        let opts = WaitOptions::to_core(options)?;
        let ctl = flows::control(cancel.map(|t| t.inner.clone()), progress);
        self.inner
            .wait_for_payment_with(order, &opts, &ctl)
            .map(Into::into)
            .map_err(|e| flow_error(e, &[]))
    }

    /// `micropayAndWait` as a Kotlin `suspend` function / Swift `async` method: it suspends
    /// (never blocks the caller's thread) while the flow runs on a thread of its own.
    ///
    /// Cancelling the Kotlin coroutine cancels the flow: it reverses the order at once (prove
    /// it ours, cancel, confirm) and finishes on its own thread, reporting to `progress` until
    /// its `Done` event; the coroutine ends with a `CancellationException` at once. To get the
    /// outcome returned instead (a cancel button), pass `cancel` and call `cancel.cancel()`.
    /// Swift does not pass task cancellation to the Rust future: there, call `cancel.cancel()`
    /// from `withTaskCancellationHandler`.
    #[uniffi::method(default(options = None, cancel = None, progress = None))]
    pub async fn micropay_and_wait_async(
        &self,
        request: MicropayRequest,
        options: Option<WaitOptions>,
        cancel: Option<Arc<CancelToken>>,
        progress: Option<Arc<dyn FlowProgress>>,
    ) -> Result<PaymentOutcome> {
        let opts = WaitOptions::to_core(options)?;
        let req = request.to_core()?;
        let token = cancel.map(|t| t.inner.clone()).unwrap_or_default();
        let ctl = flows::control(Some(token.clone()), progress);
        let client = self.inner.clone();
        let out = flows::run_detached(token, move || {
            client
                .micropay_and_wait_with(&req, &opts, &ctl)
                .map_err(|e| flow_error(e, MicropayRequest::FIELDS))
        })
        .await?;
        Ok(out.into())
    }

    /// `waitForPayment` as a Kotlin `suspend` function / Swift `async` method. Cancelling the
    /// coroutine stops the waiting (the order is left as it is).
    #[uniffi::method(default(
        options = None,
        cancel = None,
        progress = None,
        amount_fen = None,
        merchant_para = None
    ))]
    pub async fn wait_for_payment_async(
        &self,
        charge_code: String,
        options: Option<WaitOptions>,
        cancel: Option<Arc<CancelToken>>,
        progress: Option<Arc<dyn FlowProgress>>,
        amount_fen: Option<i64>,
        merchant_para: Option<String>,
    ) -> Result<PaymentOutcome> {
        let order = awaited(charge_code, amount_fen, merchant_para)?;
        let opts = WaitOptions::to_core(options)?;
        let token = cancel.map(|t| t.inner.clone()).unwrap_or_default();
        let ctl = flows::control(Some(token.clone()), progress);
        let client = self.inner.clone();
        let out = flows::run_detached(token, move || {
            client
                .wait_for_payment_with(order, &opts, &ctl)
                .map_err(|e| flow_error(e, &[]))
        })
        .await?;
        Ok(out.into())
    }
}

/// The order `waitForPayment` waits for: `chargeCode`, and `amountFen` and `merchantPara`
/// when given.
fn awaited(
    charge_code: String,
    amount_fen: Option<i64>,
    merchant_para: Option<String>,
) -> Result<sosopay::AwaitedOrder> {
    let mut order = sosopay::AwaitedOrder::new(charge_code);
    order.amount = amount_fen.map(|f| fen_in("amount_fen", f)).transpose()?;
    order.merchant_para = merchant_para;
    order
        .validate()
        .map_err(|e| e.renamed_fields(&[("amount", "amount_fen")]))?;
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core(status: sosopay::OutcomeStatus) -> sosopay::PaymentOutcome {
        sosopay::PaymentOutcome {
            status,
            charge_code: "C1".to_owned(),
            order: None,
            code: None,
            reason: "why".to_owned(),
            queries: 3,
        }
    }

    #[test]
    fn each_status_is_its_case_and_paid_needs_the_order() {
        use sosopay::OutcomeStatus as S;
        for (s, want) in [
            (S::Failed, OutcomeStatus::Failed),
            (S::Cancelled, OutcomeStatus::Cancelled),
            (S::Pending, OutcomeStatus::Pending),
            (S::Unresolved, OutcomeStatus::Unresolved),
            (S::Conflict, OutcomeStatus::Conflict),
        ] {
            let o = PaymentOutcome::from(core(s));
            assert_eq!(o.status(), want);
            assert_eq!(
                (o.charge_code(), o.reason(), o.queries()),
                ("C1".to_owned(), "why".to_owned(), 3)
            );
            assert!(o.order().is_none() && !o.is_paid());
        }
        // Paid without the order proves nothing here: the caller is told to query.
        let o = PaymentOutcome::from(core(S::Paid));
        assert_eq!(o.status(), OutcomeStatus::Unresolved);
        assert!(o.reason().contains("query"), "{}", o.reason());
    }
}
