//! Payment flows on top of the client: the till's micropay-and-wait, and waiting for a QR or
//! JSAPI order to be paid.
//!
//! The rule throughout: **an outcome is a function of facts proven about this very payment**,
//! never of the path taken or of a missing field.
//!
//! * An order is "this payment" only when it matches the request: same `CHARGE_CODE`, same
//!   amount, and every other field the reply carries that the request fixed (the customer's
//!   code, the channel, `MERCHANTPARA`). A mismatch is [`OutcomeStatus::Conflict`], never
//!   `Paid`, and an order not proven ours is never cancelled. Answers that disagree about
//!   whether the order is this payment's (matching once, not another time) prove neither:
//!   [`OutcomeStatus::Unresolved`], and nothing is cancelled. An answer naming another
//!   `CHARGE_CODE` (a reply meant for another request) proves nothing, not even a conflict:
//!   neither its state nor its code counts, and the order is queried.
//! * The status comes from the order's explicit state through one table,
//!   [`status_of_state`] (and, only when no order exists, from the gateway's code). A reply
//!   without a state, with a state that is not a scalar, or under another operation's root is
//!   "not known yet" and is settled by querying; the freshest query wins, except where two
//!   answers tell two stories about the money that no transition joins (paid, then closed;
//!   reversed, then paid; a confirmed cancel, then paid): then neither is proven, the flow
//!   queries on, and ends `Unresolved` if the order still shows the disputed state.
//! * "Does not exist" proves nothing while the request could still be processed (see
//!   [`WaitOptions::gateway_hold`]), unless the gateway refused the request outright.
//! * The whole flow is bounded by [`WaitOptions::max_duration`]; the micropay request, the
//!   queries and the cancel phase all share it.
//!
//! The same `CHARGE_CODE` is used throughout and the micropay request is never re-sent, so a
//! double charge is impossible.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::client::Client;
use crate::enums::{Channel, OrderState, ResultCode};
use crate::error::{Error, Result};
pub use crate::models::AwaitedOrder;
use crate::models::{CancelRequest, MicropayRequest, OrderDetails, OrderReply, QueryRequest};
use crate::money::Amount;

/// The vendor's domain: a base URL under it is the real gateway (production or UAT), whose
/// micropay hold [`WaitOptions::gateway_hold`] must cover.
pub const VENDOR_DOMAIN: &str = "sssyin.cn";

/// The longest any flow duration setting may be (deadline, total budget, hold).
pub const MAX_FLOW_DURATION: Duration = Duration::from_secs(30 * 60);

/// Timing of the flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitOptions {
    /// How long to wait for the customer before cancelling (micropay) or giving up (wait),
    /// from the start of the flow. The last query is made at the deadline, not before.
    /// Default 60 s.
    pub deadline: Duration,
    /// The first pause between queries. Default 2 s.
    pub poll_interval: Duration,
    /// The pause grows by half each time up to this. Default 5 s.
    pub max_poll_interval: Duration,
    /// How many times to try cancelling before reporting the outcome unresolved. Default 5.
    pub cancel_attempts: u32,
    /// The upper bound of the whole flow: the micropay request, every query and the cancel
    /// phase. When it runs out the flow returns (`Unresolved` if nothing is proven).
    /// Default 90 s; at least `deadline`.
    pub max_duration: Duration,
    /// How long after the client gave up on a request the gateway may still carry it out
    /// (the gateway holds a micropay up to 80 s). Until then, "order does not exist" proves
    /// nothing. Default 80 s: against the vendor's gateway (a base URL under
    /// [`VENDOR_DOMAIN`]) a shorter one is refused, since it could report `Failed` for a
    /// payment the customer then confirms; lower it only for a time-scaled sandbox.
    pub gateway_hold: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            deadline: Duration::from_secs(60),
            poll_interval: Duration::from_secs(2),
            max_poll_interval: Duration::from_secs(5),
            cancel_attempts: 5,
            max_duration: Duration::from_secs(90),
            gateway_hold: Duration::from_secs(80),
        }
    }
}

impl WaitOptions {
    /// The flow's budget when only the deadline is chosen: the default 90 s, or the deadline
    /// plus 30 s for the cancel phase when that is longer, within [`MAX_FLOW_DURATION`] (a
    /// deadline of 29 min 50 s leaves the cancel phase 10 s rather than an invalid budget).
    pub fn default_max_duration(deadline: Duration) -> Duration {
        let cap = MAX_FLOW_DURATION.max(deadline);
        WaitOptions::default()
            .max_duration
            .max(deadline.saturating_add(Duration::from_secs(30)).min(cap))
    }

    /// The defaults with another deadline (and a budget that fits it, see
    /// [`WaitOptions::default_max_duration`]).
    pub fn with_deadline(deadline: Duration) -> Self {
        WaitOptions {
            deadline,
            max_duration: Self::default_max_duration(deadline),
            ..Default::default()
        }
    }

    /// Checks every setting, naming the field: durations positive (the hold may be zero) and
    /// at most [`MAX_FLOW_DURATION`], `poll_interval` at least 10 ms, `max_poll_interval` at
    /// least `poll_interval`, `cancel_attempts` 1 to 100, `max_duration` at least `deadline`.
    pub fn validate(&self) -> Result<()> {
        // `floor`: the other setting the minimum is, if it is one (named in the message).
        let check_at_least = |field: &str, d: Duration, min: Duration, floor: Option<&str>| {
            if d < min {
                let min_ms = min.as_millis();
                return Err(Error::validation(
                    field,
                    match floor {
                        Some(other) => format!("must be at least {other} ({min_ms} ms)"),
                        None => format!("must be at least {min_ms} ms"),
                    },
                ));
            }
            if d > MAX_FLOW_DURATION {
                return Err(Error::validation(
                    field,
                    format!("must be at most {} s", MAX_FLOW_DURATION.as_secs()),
                ));
            }
            Ok(())
        };
        let check = |field: &str, d: Duration, min: Duration| check_at_least(field, d, min, None);
        let ms = Duration::from_millis;
        check("deadline", self.deadline, ms(1))?;
        check("poll_interval", self.poll_interval, ms(10))?;
        check_at_least(
            "max_poll_interval",
            self.max_poll_interval,
            self.poll_interval,
            Some("poll_interval"),
        )?;
        check_at_least(
            "max_duration",
            self.max_duration,
            self.deadline,
            Some("the deadline"),
        )?;
        check("gateway_hold", self.gateway_hold, Duration::ZERO)?;
        if !(1..=100).contains(&self.cancel_attempts) {
            return Err(Error::validation(
                "cancel_attempts",
                "must be between 1 and 100",
            ));
        }
        Ok(())
    }
}

/// Stops a running flow from another thread (the cashier's "cancel" button, a closed screen, a
/// cancelled coroutine or task). Cheap to clone; every clone cancels the same flow.
///
/// Cancelling never abandons money: the till flow stops waiting for the customer and takes the
/// deadline's safe path at once (prove the order ours, cancel it, confirm), still within
/// [`WaitOptions::max_duration`]; it reports `Cancelled`, or `Paid` if the customer had paid
/// and the reversal was refused, or `Unresolved`. `wait_for_payment` just stops waiting.
#[derive(Clone, Default)]
pub struct CancelToken(Arc<(Mutex<bool>, Condvar)>);

impl std::fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CancelToken")
            .field(&self.is_cancelled())
            .finish()
    }
}

impl CancelToken {
    /// A token not cancelled yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the flow to stop waiting (idempotent).
    pub fn cancel(&self) {
        let (lock, cv) = &*self.0;
        if let Ok(mut c) = lock.lock() {
            *c = true;
        }
        cv.notify_all();
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0 .0.lock().map(|c| *c).unwrap_or(true)
    }

    /// Sleeps up to `d`; returns early (true) when cancelled.
    fn sleep(&self, d: Duration) -> bool {
        let (lock, cv) = &*self.0;
        let Ok(guard) = lock.lock() else { return true };
        match cv.wait_timeout_while(guard, d, |c| !*c) {
            Ok((c, _)) => *c,
            Err(_) => true,
        }
    }
}

/// What a flow is doing, for a progress display ("waiting for the customer… 12 s"). Events
/// come in order: `Sending` first (the till flow only), `Done` last.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlowEvent {
    /// The micropay request is being sent.
    Sending {
        /// Time since the flow started.
        elapsed: Duration,
    },
    /// The payment is not settled yet: the gateway holds it while the customer confirms, or its
    /// outcome is being settled by querying.
    Waiting {
        /// Time since the flow started.
        elapsed: Duration,
    },
    /// A query answered; `state` is the order's state when the gateway showed one.
    Queried {
        /// The order's state, when the gateway showed one.
        state: Option<OrderState>,
        /// Time since the flow started.
        elapsed: Duration,
    },
    /// The flow is cancelling the order: at the deadline, or because cancelling was requested.
    Cancelling {
        /// `true` when the caller cancelled (rather than the deadline passing).
        requested: bool,
        /// Time since the flow started.
        elapsed: Duration,
    },
    /// The flow ended with this status.
    Done {
        /// The final status (the same as the returned outcome's).
        status: OutcomeStatus,
        /// Time since the flow started.
        elapsed: Duration,
    },
}

impl FlowEvent {
    /// Time since the flow started (every event has it).
    pub fn elapsed(&self) -> Duration {
        match self {
            FlowEvent::Sending { elapsed }
            | FlowEvent::Waiting { elapsed }
            | FlowEvent::Queried { elapsed, .. }
            | FlowEvent::Cancelling { elapsed, .. }
            | FlowEvent::Done { elapsed, .. } => *elapsed,
        }
    }

    /// The kind in lower case (`"sending"`, `"waiting"`, `"queried"`, `"cancelling"`,
    /// `"done"`), as the bindings name it.
    pub fn kind(&self) -> &'static str {
        match self {
            FlowEvent::Sending { .. } => "sending",
            FlowEvent::Waiting { .. } => "waiting",
            FlowEvent::Queried { .. } => "queried",
            FlowEvent::Cancelling { .. } => "cancelling",
            FlowEvent::Done { .. } => "done",
        }
    }
}

/// Receives a flow's [`FlowEvent`]s, on the flow's own thread. Keep it quick.
pub type FlowObserver = Arc<dyn Fn(&FlowEvent) + Send + Sync>;

/// Asked by a waiting flow, on the flow's own thread, about every 50 ms: `true` cancels the
/// flow as its [`CancelToken`] would. For a runtime whose interrupts can only be seen on the
/// calling thread (Python runs signal handlers, `KeyboardInterrupt`, only on its main thread,
/// and only when asked while a call runs).
pub type FlowInterrupt = Arc<dyn Fn() -> bool + Send + Sync>;

/// How often a waiting flow asks its [`FlowInterrupt`].
const INTERRUPT_EVERY: Duration = Duration::from_millis(50);

/// Cancellation and progress for one flow run (all optional).
#[derive(Clone, Default)]
pub struct FlowControl {
    /// Stops the flow early (see [`CancelToken`]).
    pub cancel: Option<CancelToken>,
    /// Sees every [`FlowEvent`].
    pub observer: Option<FlowObserver>,
    /// Asked while the flow waits; `true` cancels `cancel` (which it needs: without a token
    /// it is never asked).
    pub interrupt: Option<FlowInterrupt>,
}

impl std::fmt::Debug for FlowControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowControl")
            .field("cancel", &self.cancel)
            .field("observer", &self.observer.as_ref().map(|_| "<observer>"))
            .field("interrupt", &self.interrupt.as_ref().map(|_| "<interrupt>"))
            .finish()
    }
}

impl FlowControl {
    fn emit(&self, e: FlowEvent) {
        if let Some(o) = &self.observer {
            o(&e);
        }
    }

    /// Whether the flow was asked to stop: its token, or (cancelling the token) its interrupt.
    fn cancelled(&self) -> bool {
        let Some(token) = &self.cancel else {
            return false;
        };
        if !token.is_cancelled() && self.interrupt.as_ref().is_some_and(|i| i()) {
            token.cancel();
        }
        token.is_cancelled()
    }

    /// Sleeps up to `d`, waking early when cancelled (true); with an interrupt, asking it
    /// every [`INTERRUPT_EVERY`].
    fn sleep(&self, token: &CancelToken, d: Duration) -> bool {
        if self.interrupt.is_none() {
            return token.sleep(d);
        }
        let until = Instant::now() + d;
        loop {
            let now = Instant::now();
            if now >= until {
                return self.cancelled();
            }
            if token.sleep((until - now).min(INTERRUPT_EVERY)) || self.cancelled() {
                return true;
            }
        }
    }
}

/// How a payment flow (`micropay_and_wait`, `wait_for_payment`) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    /// The customer paid (the order is in a paid state: 1, or 4, 5, 8, 9 after refunds).
    Paid,
    /// The payment did not happen and no money moved: declined, closed (state 6), never
    /// sent, or refused by the gateway with a definite failure code.
    Failed,
    /// The order was cancelled (state 2: by us at the deadline, or by the gateway); if it had
    /// been paid meanwhile, the cancel reversed it.
    Cancelled,
    /// `wait_for_payment` only: the deadline passed and the order still awaits payment.
    Pending,
    /// Nothing could be proven before the flow's time ran out (the gateway unreachable, or the
    /// request possibly still in transit), or the gateway's answers disagreed: query
    /// `charge_code` later before doing anything else; never charge the customer again under a
    /// new charge code before that.
    Unresolved,
    /// The charge code belongs to another payment (another amount, customer code, channel or
    /// `MERCHANTPARA`). That order was left untouched; this payment did not happen under this
    /// code.
    Conflict,
}

impl OutcomeStatus {
    /// Every status, in this order.
    pub const KNOWN: &'static [OutcomeStatus] = &[
        OutcomeStatus::Paid,
        OutcomeStatus::Failed,
        OutcomeStatus::Cancelled,
        OutcomeStatus::Pending,
        OutcomeStatus::Unresolved,
        OutcomeStatus::Conflict,
    ];

    /// The variant's name (`"Paid"`), for bindings; the serde form is `"paid"`
    /// ([`as_str`](Self::as_str)).
    pub fn name(self) -> &'static str {
        match self {
            OutcomeStatus::Paid => "Paid",
            OutcomeStatus::Failed => "Failed",
            OutcomeStatus::Cancelled => "Cancelled",
            OutcomeStatus::Pending => "Pending",
            OutcomeStatus::Unresolved => "Unresolved",
            OutcomeStatus::Conflict => "Conflict",
        }
    }

    /// The text form (`"paid"`), as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeStatus::Paid => "paid",
            OutcomeStatus::Failed => "failed",
            OutcomeStatus::Cancelled => "cancelled",
            OutcomeStatus::Pending => "pending",
            OutcomeStatus::Unresolved => "unresolved",
            OutcomeStatus::Conflict => "conflict",
        }
    }
}

/// The status table: the outcome an order's state means, or `None` while it is not final
/// (0 awaiting payment, 3 cancel applied, 7 reserved, or a state this SDK does not know).
///
/// | state | meaning | status |
/// |---|---|---|
/// | 0 | awaiting payment | not final |
/// | 1 | paid | `Paid` |
/// | 2 | cancelled (reversed) | `Cancelled` |
/// | 3 | cancel applied for | not final |
/// | 4 | partially refunded | `Paid` |
/// | 5 | refunded | `Paid` |
/// | 6 | closed | `Failed` |
/// | 7 | reserved (query only) | not final |
/// | 8 | refund in progress | `Paid` |
/// | 9 | refund failed | `Paid` |
/// | other | unknown | not final |
pub fn status_of_state(state: &OrderState) -> Option<OutcomeStatus> {
    match state {
        OrderState::Paid
        | OrderState::PartiallyRefunded
        | OrderState::Refunded
        | OrderState::RefundInProgress
        | OrderState::RefundFailed => Some(OutcomeStatus::Paid),
        OrderState::Cancelled => Some(OutcomeStatus::Cancelled),
        OrderState::Closed => Some(OutcomeStatus::Failed),
        OrderState::AwaitingPayment
        | OrderState::CancelApplied
        | OrderState::Reserved
        | OrderState::Unknown(_) => None,
    }
}

/// The outcome a micropay reply's result code means when the reply names no order state:
/// `Some(Failed)` for a definite failure (nothing was charged), `None` when the code leaves
/// the outcome open (success without a state, `SERIAL_REPEAT`, exceptions, unknown codes):
/// then the order is queried.
pub fn status_of_code(code: &ResultCode) -> Option<OutcomeStatus> {
    code.definitely_failed().then_some(OutcomeStatus::Failed)
}

/// The result of a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentOutcome {
    /// How it ended: `Paid`, `Failed`, `Cancelled`, `Pending` (waiting for a QR or JSAPI
    /// order only), `Unresolved` (query the charge code later before doing anything else) or
    /// `Conflict` (the charge code belongs to another payment, which was left untouched).
    pub status: OutcomeStatus,
    /// The merchant's order number.
    pub charge_code: String,
    /// The order as last seen (always present when paid; for `Conflict`, the other order).
    pub order: Option<OrderDetails>,
    /// The gateway code behind a failure, when there is one.
    pub code: Option<ResultCode>,
    /// Why, in words.
    pub reason: String,
    /// How many queries were made.
    pub queries: u32,
}

impl PaymentOutcome {
    /// Was the customer charged (and not reversed)?
    pub fn is_paid(&self) -> bool {
        self.status == OutcomeStatus::Paid
    }
}

struct Poller {
    interval: Duration,
    max: Duration,
}

impl Poller {
    fn new(opts: &WaitOptions) -> Self {
        Poller {
            interval: opts.poll_interval,
            max: opts.max_poll_interval.max(opts.poll_interval),
        }
    }

    fn next(&mut self) -> Duration {
        let d = self.interval;
        self.interval = (self.interval + self.interval / 2).min(self.max);
        d
    }
}

/// The order a micropay reply describes (its state as given: a missing state stays missing).
pub(crate) fn details_from_reply(r: &OrderReply) -> OrderDetails {
    OrderDetails {
        busi_id: None,
        charge_code: r.charge_code.clone(),
        charge_down_code: r.charge_down_code.clone(),
        charge_third_code: r.charge_third_code.clone(),
        channel: r.channel.clone(),
        state: r.state.clone(),
        amount: r.amount,
        real_amount: None,
        pay_subject: None,
        oper_id: r.oper_id.clone(),
        dev_id: r.dev_id.clone(),
        register_id: None,
        merchant_para: r.merchant_para.clone(),
        dynamic_id: r.dynamic_id.clone(),
        goods: Vec::new(),
        fund_bills: r.fund_bills.clone(),
        begin_time: r.begin_time.clone(),
        end_time: None,
    }
}

/// What the request fixed, to recognise this payment's order. The flows judge every answer by
/// it; the plain micropay and QR / JSAPI order calls refuse a successful reply showing another
/// payment's order by it.
pub(crate) struct Expected {
    charge_code: String,
    amount: Option<Amount>,
    dynamic_id: Option<String>,
    channel: Option<Channel>,
    merchant_para: Option<String>,
    /// The till's device (`DEV_ID`) of a micropay: an order made from another device (a QR
    /// order of the shop's web backend under the same charge code) is not this payment,
    /// although a query shows neither the customer's code nor the kind of order.
    dev_id: Option<String>,
}

impl Expected {
    pub(crate) fn of(req: &MicropayRequest) -> Self {
        Expected {
            charge_code: req.charge_code.clone(),
            amount: Some(req.amount),
            dynamic_id: Some(req.dynamic_id.trim().to_owned()),
            channel: (req.channel != Channel::Auto).then(|| req.channel.clone()),
            merchant_para: req.merchant_para.clone(),
            dev_id: Some(req.dev_id.trim().to_owned()).filter(|d| !d.is_empty()),
        }
    }

    /// What a QR or JSAPI order request fixes that its reply echoes: the amount and
    /// `MERCHANTPARA`. (Not the channel: how the gateway reports a QR order's channel is not
    /// documented, and refusing a good reply would leave the shop without its QR code.)
    pub(crate) fn of_order(req: &crate::models::OrderRequest) -> Self {
        Expected {
            charge_code: req.charge_code.clone(),
            amount: Some(req.amount),
            dynamic_id: None,
            channel: None,
            merchant_para: req.merchant_para.clone(),
            dev_id: None,
        }
    }

    /// Whether `o` names another charge code: an answer about another order (a reply meant
    /// for another request), which proves nothing about this payment, not even a conflict.
    fn foreign(&self, o: &OrderDetails) -> bool {
        o.charge_code
            .as_deref()
            .is_some_and(|cc| cc.trim() != self.charge_code)
    }

    /// Why `o`, an order under this charge code, is not this payment's order, if it is not.
    pub(crate) fn mismatch(&self, o: &OrderDetails) -> Option<String> {
        let code = &self.charge_code;
        if let (Some(want), Some(got)) = (self.amount, o.amount) {
            if want != got {
                return Some(format!(
                    "charge code {code} belongs to another payment of {got} yuan (this one is {want} yuan)"
                ));
            }
        }
        if let (Some(want), Some(got)) = (&self.dynamic_id, o.dynamic_id.as_deref()) {
            if !same_customer_code(want, got.trim()) {
                return Some(format!(
                    "charge code {code} belongs to another payment (another customer's code)"
                ));
            }
        }
        if let (Some(want), Some(got)) = (&self.channel, &o.channel) {
            if want != got {
                return Some(format!(
                    "charge code {code} belongs to another payment (channel {got}, not {want})"
                ));
            }
        }
        if let (Some(want), Some(got)) = (&self.merchant_para, o.merchant_para.as_deref()) {
            if want.trim() != got.trim() {
                return Some(format!(
                    "charge code {code} belongs to another payment (another MERCHANTPARA)"
                ));
            }
        }
        if let (Some(want), Some(got)) = (&self.dev_id, o.dev_id.as_deref()) {
            if want != got.trim() {
                return Some(format!(
                    "charge code {code} belongs to another payment (made from device {got:?}, not {want:?})"
                ));
            }
        }
        None
    }

    /// Whether `o` (already checked for mismatches) is proven to be this payment's order: it
    /// must name its charge code (an answer that names none may be about any order), and its
    /// amount must be present when the request fixed one.
    fn proves(&self, o: &OrderDetails) -> bool {
        o.charge_code
            .as_deref()
            .is_some_and(|c| !c.trim().is_empty())
            && (self.amount.is_none() || o.amount.is_some())
    }
}

/// How long a cancelled `wait_for_payment` asks the gateway once more, at most.
const WAIT_LAST_LOOK: Duration = Duration::from_secs(1);

/// What one look at the order said.
enum Seen {
    /// A final state of this payment's order.
    Final(OutcomeStatus),
    /// Another payment's order.
    Conflict(String),
    /// An order under this charge code that was seen matching this payment before, and now
    /// does not: the gateway's answers disagree about whose order it is, so neither is proven
    /// (the flow ends `Unresolved`, and cancels nothing).
    Contradiction(String),
    /// This payment's order, not final; or an answer that proves nothing yet.
    Open,
    /// The gateway says the order does not exist, at a time when that proves nothing was
    /// charged.
    Absent,
    /// The query failed.
    Failed(Error),
    /// This charge code's order in a final state (the first field) that no transition leads
    /// to from the one an earlier answer showed it in (paid, then closed; cancelled or closed,
    /// then paid), whatever proved it this payment's: the answers tell two stories about the
    /// money, so neither holds (the flow queries on for another final state; `Unresolved`
    /// otherwise). The second field says what was shown.
    Disputed(OutcomeStatus, String),
}

struct Flow<'a> {
    client: &'a Client,
    ctl: FlowControl,
    expected: Expected,
    opts: WaitOptions,
    started: Instant,
    /// The end of the whole flow's budget.
    ends: Instant,
    queries: u32,
    last: Option<OrderDetails>,
    /// An order matching this payment has been seen (so it may be cancelled).
    owned: bool,
    /// An order under this charge code not matching this payment has been seen (why not).
    disowned: Option<String>,
    /// From when "does not exist" proves nothing was charged; `None`: never.
    absence_proves_after: Option<Instant>,
    /// The gateway code of the micropay reply, when it was not success.
    reply_code: Option<ResultCode>,
    /// The gateway's words (`RESULT.INFO`) when it refused the payment definitely
    /// (insufficient funds, an expired code, ...): what a cashier needs to hear.
    refusal_info: Option<String>,
    /// The last look showed the order under this charge code in an explicit state other than
    /// cancelled (awaiting payment, paid, ...), proven this payment's or not.
    shown_uncancelled: bool,
    /// An answer showed the order under this charge code paid without proving it this
    /// payment's (no amount, say). A paid order never goes back: awaiting payment, closed or
    /// "no such order" after it contradicts it rather than proving nothing was charged.
    paid_unproven: bool,
    /// The final states answers showed this charge code's order in (proven this payment's or
    /// not), each once, and how it was first shown: a later one that no transition leads to
    /// from one of them is [`Seen::Disputed`], whichever answer came first; a dispute, once
    /// seen, stays (a gateway flip-flopping between two stories never settles on the first).
    shown_final: Vec<(OutcomeStatus, String)>,
    /// In the cancel phase (so a disputed wait does not enter it again).
    cancelling: bool,
    /// The answers disagreed about the money ([`Seen::Disputed`]): until this flow sends a
    /// cancel (whose reversal a cancelled order then shows), no final state settles it, the
    /// first story told included.
    dispute_seen: bool,
    /// This flow sent a cancel.
    cancel_sent: bool,
    last_error: Option<Error>,
    /// Queries refused in a row the same way ([`refusal`]): how many, and how.
    refused: (u32, &'static str),
    /// The micropay request a cancel stopped waiting for while it was in flight: its thread
    /// still waits for the reply, and until that ends the request may still reach the
    /// gateway ("no such order" proves nothing). Its answer, when it comes, counts.
    in_flight: Option<InFlight>,
    /// Why the micropay left in flight by a cancel never reached the gateway (its connection
    /// could not be set up), once its end says so: nothing was charged, as when that answer
    /// comes at once.
    never_sent: Option<String>,
    /// The till flow (not `wait_for_payment`): a cancel requested reverses even a paid order.
    till: bool,
    /// The last query was sent after a cancel had been requested.
    looked_cancelled: bool,
}

/// The answer of a flow's micropay request that is still being waited for on its own thread.
type InFlight = std::sync::mpsc::Receiver<Result<OrderReply>>;

/// Queries refused in a row the same way after which the cancel phase stops asking: the
/// gateway answers, but never about the order (a wrong key or merchant code), so the outcome
/// cannot be proven. (Faults on the way refuse a query now and then, rarely four times
/// running, and never the same way for long.)
const REFUSALS_TO_STOP: u32 = 4;

/// How a query's error is the gateway answering, but not about the order, in a way asking
/// again is not expected to change: it refuses this client (`INVALID_SIGN`,
/// `UNREGISTERED_BUSI`, `INVALID_CONTRACT`), or its answers cannot be opened or read (a wrong
/// key with 3DES, an unencrypted rejection). `None` for a network failure, a timeout or a
/// transient gateway fault.
fn refusal(e: &Error) -> Option<&'static str> {
    match e {
        Error::Gateway { code, .. } => match code {
            ResultCode::InvalidSign => Some("INVALID_SIGN"),
            ResultCode::UnregisteredBusi => Some("UNREGISTERED_BUSI"),
            ResultCode::InvalidContract => Some("INVALID_CONTRACT"),
            _ => None,
        },
        Error::Crypto { .. } => Some("crypto"),
        Error::Decode { .. } => Some("decode"),
        // No such endpoint: a base URL without the gateway's path (`/openGateway/openService/`).
        Error::HttpStatus { status: 404, .. } => Some("HTTP 404"),
        _ => None,
    }
}

impl Flow<'_> {
    fn new<'c>(
        client: &'c Client,
        expected: Expected,
        opts: &WaitOptions,
        ctl: &FlowControl,
    ) -> Flow<'c> {
        let started = Instant::now();
        Flow {
            client,
            ctl: ctl.clone(),
            expected,
            opts: *opts,
            started,
            ends: started + opts.max_duration,
            queries: 0,
            last: None,
            owned: false,
            disowned: None,
            absence_proves_after: None,
            reply_code: None,
            refusal_info: None,
            shown_uncancelled: false,
            paid_unproven: false,
            shown_final: Vec::new(),
            cancelling: false,
            dispute_seen: false,
            cancel_sent: false,
            last_error: None,
            refused: (0, ""),
            in_flight: None,
            never_sent: None,
            till: false,
            looked_cancelled: false,
        }
    }

    /// A till flow cancelled on request (the cashier, a closed screen, a cancelled coroutine or
    /// task, Ctrl-C) that sees the order proven this payment's, paid: the order is reversed in
    /// the cancel phase, not kept. The caller of a cancelled coroutine or task never receives
    /// the outcome, so a payment kept would leave the customer charged with nobody told.
    fn reverses(&self, seen: &Seen) -> bool {
        self.till
            && self.ctl.cancelled()
            && self.owned
            && matches!(seen, Seen::Final(OutcomeStatus::Paid))
    }

    /// Takes the answer of the micropay request a cancel stopped waiting for, once it has
    /// come: from then on "no such order" proves nothing was charged as it would have had the
    /// flow waited (at once after a refusal or a request that never left; after the gateway's
    /// hold otherwise; never after `SERIAL_REPEAT`).
    fn collect_in_flight(&mut self) {
        use std::sync::mpsc::TryRecvError;
        let Some(rx) = &self.in_flight else { return };
        let result = match rx.try_recv() {
            Ok(r) => r,
            Err(TryRecvError::Empty) => return,
            // The request's thread ended without an answer: as a lost reply.
            Err(TryRecvError::Disconnected) => Err(Error::Timeout {
                operation: "preOrder".into(),
                after_ms: 0,
            }),
        };
        self.in_flight = None;
        let now = Instant::now();
        let hold = now + self.opts.gateway_hold;
        self.absence_proves_after = match result {
            Ok(reply) => {
                // What it shows of the order counts as if it had come at once: proven this
                // payment's (and paid), or another's.
                let _ = self.judge_reply(&reply);
                let code = reply.result.code.clone();
                let paid =
                    reply.state.as_ref().and_then(status_of_state) == Some(OutcomeStatus::Paid);
                if code.is_success() {
                    Some(hold)
                } else if code.definitely_failed() && !paid {
                    // Refused: the gateway will not carry it out later.
                    self.note_refusal(&reply);
                    Some(now)
                } else {
                    let serial_repeat = code == ResultCode::SerialRepeat;
                    self.reply_code = Some(code);
                    (!serial_repeat).then_some(hold)
                }
            }
            Err(Error::Transport {
                maybe_sent: false,
                reason,
                ..
            }) => {
                self.never_sent = Some(reason);
                Some(now)
            }
            Err(_) => Some(hold),
        };
    }

    /// The micropay refused definitely: its code and the gateway's words (what the cashier
    /// needs to hear) for the outcome.
    fn note_refusal(&mut self, reply: &OrderReply) {
        self.reply_code = Some(reply.result.code.clone());
        let info = reply.result.info.trim();
        self.refusal_info = (!info.is_empty()).then(|| info.to_owned());
    }

    fn outcome(
        &self,
        status: OutcomeStatus,
        code: Option<ResultCode>,
        reason: impl Into<String>,
    ) -> PaymentOutcome {
        PaymentOutcome {
            status,
            charge_code: self.expected.charge_code.clone(),
            order: self.last.clone(),
            code,
            reason: reason.into(),
            queries: self.queries,
        }
    }

    /// Judges the micropay reply. Only a successful reply (or a query) shows an order: a
    /// refusal or an exception that echoes the request's fields shows none, so it records
    /// neither that an order of this payment was seen (nothing to cancel) nor that another
    /// one was (nothing to contradict); its own final state still counts.
    fn judge_reply(&mut self, reply: &OrderReply) -> Seen {
        let (owned, disowned, last) = (self.owned, self.disowned.clone(), self.last.clone());
        let seen = self.judge(details_from_reply(reply));
        if !reply.result.code.is_success() {
            (self.owned, self.disowned) = (owned, disowned);
            // Its echo of another amount or customer is no other payment's order either: the
            // order, if any, is what a query shows.
            if matches!(seen, Seen::Conflict(_) | Seen::Contradiction(_)) {
                self.last = last;
                return Seen::Open;
            }
        }
        seen
    }

    /// Judges an order (from a reply or a query) against the request.
    fn judge(&mut self, order: OrderDetails) -> Seen {
        if self.expected.foreign(&order) {
            // Not this charge code's order (the client already refuses such replies as
            // `Decode` errors): not known yet, never recorded as seen nor cancelled.
            return Seen::Open;
        }
        if let Some(why) = self.expected.mismatch(&order) {
            self.last = Some(order);
            if self.owned {
                // Seen matching before: a charge code names one order, so one of the two
                // answers is wrong. Not a conflict (which would say this payment did not
                // happen), and not ours to cancel either.
                return Seen::Contradiction(format!(
                    "{why}, yet the gateway showed it matching this payment before"
                ));
            }
            self.disowned = Some(why.clone());
            return Seen::Conflict(why);
        }
        if let Some(why) = &self.disowned {
            // The other way round: seen not matching before, matching now.
            let why = format!("the gateway now shows it matching this payment, but before: {why}");
            self.last = Some(order);
            return Seen::Contradiction(why);
        }
        let proven = self.expected.proves(&order);
        if proven {
            self.owned = true;
        }
        let status = order.state.as_ref().and_then(status_of_state);
        self.shown_uncancelled = order.state.is_some() && status != Some(OutcomeStatus::Cancelled);
        let paid_before = self.paid_unproven;
        self.paid_unproven |= status == Some(OutcomeStatus::Paid) && !proven;
        let shown = describe(order.state.as_ref());
        self.last = Some(order);
        let sticky = self.dispute_seen && !self.cancel_sent;
        let before = status.and_then(|s| {
            let before = self
                .shown_final
                .iter()
                .find(|(b, _)| sticky && *b != s || disagree(*b, s))
                .map(|(_, how)| how.clone());
            if !self.shown_final.iter().any(|(b, _)| *b == s) {
                self.shown_final.push((s, shown.clone()));
            }
            before
        });
        match status {
            Some(s) if proven && paid_before && disagree(OutcomeStatus::Paid, s) => {
                Seen::Contradiction(format!(
                    "the gateway showed it paid before (without its amount), and now {shown}"
                ))
            }
            Some(s) if before.is_some() => {
                self.dispute_seen = true;
                Seen::Disputed(
                    s,
                    format!(
                        "the gateway showed the order {} before, and now {shown}",
                        before.unwrap_or_default()
                    ),
                )
            }
            Some(s) if proven => Seen::Final(s),
            _ => Seen::Open,
        }
    }

    fn look(&mut self) -> Seen {
        self.look_within(self.ends)
    }

    /// [`Flow::look`] with its query (attempts and retries) ending by `ends`, if sooner than
    /// the budget's end.
    fn look_within(&mut self, ends: Instant) -> Seen {
        self.collect_in_flight();
        // The micropay never reached the gateway: nothing to query for (the gateway may be
        // unreachable as well), unless an order under this charge code was seen (an earlier
        // attempt of this payment's).
        if self.never_sent.is_some() && !self.owned && !self.paid_unproven && self.last.is_none() {
            return Seen::Absent;
        }
        let sent = Instant::now();
        let ends = ends.min(self.ends);
        self.looked_cancelled = self.ctl.cancelled();
        if sent >= ends {
            return Seen::Failed(Error::Timeout {
                operation: "query".into(),
                after_ms: 0,
            });
        }
        self.queries += 1;
        self.shown_uncancelled = false;
        let req = QueryRequest::by_charge_code(self.expected.charge_code.clone());
        let (result, answered) = self.client.query_answered(&req, Some(ends));
        let state = result.as_ref().ok().and_then(|q| q.order.state.clone());
        self.ctl.emit(FlowEvent::Queried {
            state,
            elapsed: self.started.elapsed(),
        });
        // An answer that was read but is not about this order (another charge code, one that
        // says two things) is no refusal: the gateway answers; it proves nothing, and the flow
        // asks again.
        let refused = result
            .as_ref()
            .err()
            .filter(|e| !(answered && matches!(e, Error::Decode { .. })))
            .and_then(refusal);
        self.refused = match refused {
            Some(how) if how == self.refused.1 => (self.refused.0 + 1, how),
            Some(how) => (1, how),
            None => (0, ""),
        };
        match result {
            Ok(q) => {
                self.last_error = None;
                self.judge(q.order)
            }
            Err(Error::Gateway {
                code: ResultCode::ChargeNonexistent,
                ..
            }) => {
                self.last_error = None;
                let proves = !self.owned && self.absence_proves_after.is_some_and(|t| sent >= t);
                if proves && self.paid_unproven {
                    Seen::Contradiction(
                        "the gateway showed it paid before (without its amount), and now has no such order".to_owned(),
                    )
                } else if proves {
                    Seen::Absent
                } else {
                    Seen::Open
                }
            }
            Err(e) => {
                self.last_error = Some(e.clone());
                Seen::Failed(e)
            }
        }
    }

    /// The outcome a settled look means; `None` to go on.
    fn settled(&self, seen: &Seen, note: &str) -> Option<PaymentOutcome> {
        match seen {
            Seen::Final(status) => Some(self.final_outcome(*status, note)),
            Seen::Conflict(why) => Some(self.outcome(
                OutcomeStatus::Conflict,
                Some(ResultCode::SerialRepeat),
                why.clone(),
            )),
            // The gateway refused the payment (its reply came late, e.g. after a cancel):
            // its code and words are what the cashier needs, as when the reply came at once.
            Seen::Absent => match &self.reply_code {
                _ if self.never_sent.is_some() && self.last.is_none() => Some(self.outcome(
                    OutcomeStatus::Failed,
                    None,
                    format!(
                        "the request never reached the gateway: {}",
                        self.never_sent.as_deref().unwrap_or_default()
                    ),
                )),
                Some(code) if code.definitely_failed() => Some(self.outcome(
                    OutcomeStatus::Failed,
                    Some(code.clone()),
                    self.refusal_info.clone().unwrap_or_else(|| {
                        format!("the gateway refused the payment ({code}): nothing was charged")
                    }),
                )),
                _ => Some(self.outcome(
                    OutcomeStatus::Failed,
                    Some(ResultCode::ChargeNonexistent),
                    format!(
                        "the gateway has no order {}, and the request can no longer be carried out: nothing was charged",
                        self.expected.charge_code
                    ),
                )),
            },
            Seen::Contradiction(why) | Seen::Disputed(_, why) => Some(self.outcome(
                OutcomeStatus::Unresolved,
                self.reply_code.clone(),
                format!(
                    "the gateway's answers disagree about order {}: {why}; query it later",
                    self.expected.charge_code
                ),
            )),
            Seen::Open | Seen::Failed(_) => None,
        }
    }

    fn final_outcome(&self, status: OutcomeStatus, note: &str) -> PaymentOutcome {
        let state = self.last.as_ref().and_then(|o| o.state.as_ref());
        let reason = match (status, &self.refusal_info) {
            (OutcomeStatus::Paid, _) => format!("paid{note}"),
            (_, Some(info)) => format!(
                "the order is {}{note} (the gateway refused the payment: {info})",
                describe(state)
            ),
            (_, None) => format!("the order is {}{note}", describe(state)),
        };
        let code = match status {
            OutcomeStatus::Paid => None,
            _ => self.reply_code.clone(),
        };
        self.outcome(status, code, reason)
    }

    /// Sleeps `pause`, not past `until`. `interruptible`: a cancel ends the sleep early.
    fn sleep_until_at_most(&self, pause: Duration, until: Instant, interruptible: bool) {
        let now = Instant::now();
        let wake = (now + pause).min(until);
        if wake > now {
            match (&self.ctl.cancel, interruptible) {
                (Some(token), true) => {
                    self.ctl.sleep(token, wake - now);
                }
                _ => std::thread::sleep(wake - now),
            }
        }
    }

    /// Queries until the order is settled, or until `until` (a last query is made then).
    fn poll_until(&mut self, until: Instant, query_first: bool) -> Option<PaymentOutcome> {
        let until = until.min(self.ends);
        let mut poller = Poller::new(&self.opts);
        let mut first = query_first;
        loop {
            // The first query is always made: a flow cancelled before it started still reports
            // what the gateway says rather than nothing.
            if !first && self.ctl.cancelled() {
                return None;
            }
            if !first {
                if Instant::now() >= until {
                    return None;
                }
                self.ctl.emit(FlowEvent::Waiting {
                    elapsed: self.started.elapsed(),
                });
                self.sleep_until_at_most(poller.next(), until, true);
                if self.ctl.cancelled() {
                    return None;
                }
            }
            first = false;
            let seen = self.look();
            if self.reverses(&seen) {
                return None; // on to the cancel phase, which reverses it
            }
            if let Seen::Disputed(now, why) = seen {
                // Two stories about the money: query on for another final state, to the end of
                // the budget; `Unresolved` if none comes.
                return Some(self.after_contradiction(&mut poller, now, "", &why));
            }
            if let Some(done) = self.settled(&seen, "") {
                return Some(done);
            }
            if let Seen::Failed(e) = &seen {
                if let Some(done) = self.refused_outcome(e) {
                    return Some(done);
                }
            }
        }
    }

    /// `Unresolved` once the gateway has refused [`REFUSALS_TO_STOP`] queries in a row the
    /// same way (the last one `e`) and no order was proven this payment's (so there is nothing
    /// to cancel): asking on, to the deadline or the budget's end, cannot prove anything.
    fn refused_outcome(&self, e: &Error) -> Option<PaymentOutcome> {
        // Not while the micropay request is still in flight: its answer may yet prove the
        // order this payment's (and paid, to be reversed after a cancel).
        (!self.owned && self.in_flight.is_none() && self.refused.0 >= REFUSALS_TO_STOP).then(|| {
            // The code of the refusal (`INVALID_SIGN`, ...) when the payment's own reply had
            // none: `wait_for_payment` reports it as the till flow does.
            let code = self.reply_code.clone().or_else(|| match e {
                Error::Gateway { code, .. } => Some(code.clone()),
                _ => None,
            });
            self.outcome(
                OutcomeStatus::Unresolved,
                code,
                format!(
                    "the gateway refused {} queries in a row ({e}): check the base URL, the merchant code and the key, then query {} later",
                    self.refused.0, self.expected.charge_code
                ),
            )
        })
    }

    /// At the deadline with the order still open: prove the order ours (querying), then
    /// cancel until the gateway confirms, within the flow's budget.
    fn cancel_phase(&mut self) -> PaymentOutcome {
        self.cancelling = true;
        self.ctl.emit(FlowEvent::Cancelling {
            requested: self.ctl.cancelled(),
            elapsed: self.started.elapsed(),
        });
        let mut poller = Poller::new(&self.opts);
        let mut attempts = 0u32;
        let mut last_err = String::new();
        // A cancel answered with no clear outcome: it may have reversed the payment, whatever
        // a later attempt answers (a refusal for a bad signature, a rate limit, "no such
        // order" say nothing about it), so a paid order no longer proves `Paid`.
        let mut unknown_before = false;
        loop {
            if !self.owned {
                // Never cancel an order not proven to be this payment's: query instead.
                let seen = self.look();
                if let Seen::Disputed(now, why) = seen {
                    // Two stories about the money: query on for another final state.
                    return self.after_contradiction(&mut poller, now, "", &why);
                }
                // Cancelled on request (the cashier, a closed screen, a cancelled coroutine or
                // task), the order first proven ours here, paid: reversed like one proven ours
                // before the cancel, not kept (the caller of a cancelled coroutine or task never
                // receives the outcome).
                if let (false, Some(done)) = (self.reverses(&seen), self.settled(&seen, "")) {
                    return done;
                }
                if let Seen::Failed(e) = &seen {
                    last_err = e.to_string();
                    if let Some(done) = self.refused_outcome(e) {
                        return done;
                    }
                }
            }
            if self.owned {
                // No time left to send a cancel: not an attempt (the reason counts those sent).
                if attempts >= self.opts.cancel_attempts || Instant::now() >= self.ends {
                    break;
                }
                attempts += 1;
                self.cancel_sent = true;
                let req = CancelRequest::new(self.expected.charge_code.clone());
                let result = self.client.cancel_within(&req, Some(self.ends));
                // `unknown`: the cancel may have been carried out without a clear answer.
                let (confirmed, unknown, code) = match result {
                    Ok(reply) => {
                        let code = reply.result.code;
                        (true, false, (!code.is_success()).then_some(code))
                    }
                    Err(Error::Gateway {
                        code: ResultCode::AreadyRevoked,
                        ..
                    }) => (true, false, Some(ResultCode::AreadyRevoked)),
                    Err(e) => {
                        last_err = e.to_string();
                        (false, e.outcome_unknown(), None)
                    }
                };
                // The freshest query wins: a cancel refused because the order is final, or a
                // cancel that reversed a payment made meanwhile, shows in the order's state.
                let seen = self.look();
                if confirmed
                    && matches!(
                        seen,
                        Seen::Final(OutcomeStatus::Paid) | Seen::Disputed(OutcomeStatus::Paid, _)
                    )
                {
                    return self.after_contradiction(
                        &mut poller,
                        OutcomeStatus::Paid,
                        " (after the gateway confirmed the cancel)",
                        "the gateway confirmed the cancel, but its queries still show the order paid",
                    );
                }
                let note = match seen {
                    Seen::Final(OutcomeStatus::Paid) if !confirmed => {
                        " (it could not be cancelled)"
                    }
                    _ => "",
                };
                // Paid after a cancel whose outcome is unknown (this attempt's or an earlier
                // one's) proves nothing: that cancel may have reversed the payment, its record
                // not showing it yet. Cancel again (a reversed order answers `AREADY_REVOKED`,
                // then the order must show cancelled), within the attempts; `Unresolved` after.
                unknown_before |= unknown;
                let disputed = unknown_before
                    && matches!(
                        seen,
                        Seen::Final(OutcomeStatus::Paid) | Seen::Disputed(OutcomeStatus::Paid, _)
                    );
                // Two stories about the money after a cancel that was refused: cancel again,
                // within the attempts (the reversal is what settles it).
                let retry = !confirmed
                    && matches!(seen, Seen::Disputed(..))
                    && attempts < self.opts.cancel_attempts;
                if let (false, false, Seen::Disputed(now, why)) = (disputed, retry, &seen) {
                    // Two stories about the money: query on for another final state.
                    let (now, why) = (*now, why.clone());
                    return self.after_contradiction(&mut poller, now, note, &why);
                }
                if let (false, false, Some(done)) = (disputed, retry, self.settled(&seen, note)) {
                    return done;
                }
                if confirmed && matches!(seen, Seen::Open) && self.shown_uncancelled {
                    // Confirmed, yet the order still shows awaiting payment (or another state
                    // but cancelled, in an answer that proves nothing by itself, e.g. paid
                    // without its amount): a cancel that did not take leaves it payable, so
                    // `Cancelled` is not proven. Query on until it shows cancelled; a payment
                    // shown meanwhile is disputed as above.
                    return self.after_contradiction(
                        &mut poller,
                        OutcomeStatus::Paid,
                        " (after the gateway confirmed the cancel)",
                        "the gateway confirmed the cancel, but its queries do not show the order cancelled",
                    );
                }
                if confirmed {
                    let why = if self.ctl.cancelled() {
                        "cancelled on request"
                    } else {
                        "not paid before the deadline: cancelled"
                    };
                    return self.outcome(OutcomeStatus::Cancelled, code, why);
                }
            }
            if Instant::now() >= self.ends {
                break;
            }
            // The safe path is not interruptible: a cancel request is what brought us here.
            self.sleep_until_at_most(poller.next(), self.ends, false);
            if Instant::now() >= self.ends {
                break;
            }
        }
        let why = if !self.owned {
            match &self.last_error {
                Some(e) => format!("could not prove the order is this payment's before the time ran out ({e})"),
                None if self.reply_code == Some(ResultCode::SerialRepeat) => {
                    "the gateway answered that an order under this charge code exists (SERIAL_REPEAT), but its queries do not show it".to_owned()
                }
                None if self.paid_unproven => "the gateway shows an order under this charge code paid, but not what proves it this payment's (its amount, say), so it was neither reported paid nor cancelled".to_owned(),
                None if self.last.is_some() => "the gateway shows an order under this charge code, but not what proves it this payment's, so it was not cancelled".to_owned(),
                None => "the gateway does not show the order yet, but the request may still be carried out".to_owned(),
            }
        } else if attempts == 0 {
            "the time ran out before a cancel could be sent".to_owned()
        } else {
            let s = if attempts == 1 { "" } else { "s" };
            format!("could not confirm the cancel after {attempts} attempt{s} ({last_err})")
        };
        self.outcome(
            OutcomeStatus::Unresolved,
            self.reply_code.clone(),
            format!("{why}; query {} later", self.expected.charge_code),
        )
    }

    /// Two facts about this order disagree, and the order shows `disputed`, which only one of
    /// them allows: the gateway confirmed the cancel, yet the order shows paid (a reversal
    /// not yet recorded, or a cancel that did not take); or the micropay reply and the query
    /// confirming it tell two stories about the money (see [`disagree`]). Neither is proven,
    /// so the flow queries on, within its budget, until the order shows a state that settles
    /// it; if it still shows `disputed` when the time runs out, the outcome is `Unresolved`
    /// (`why`): never `Paid` for money that may have gone back, never `Failed` for money that
    /// may have been taken.
    fn after_contradiction(
        &mut self,
        poller: &mut Poller,
        disputed: OutcomeStatus,
        note: &str,
        why: &str,
    ) -> PaymentOutcome {
        // Cancelled on request while the answers disagree about an order proven this payment's:
        // the safe path (prove it ours, cancel it, confirm) reverses it, paid or not, rather than
        // leave a payment that may stand. (Within the cancel phase, waiting is not interrupted.)
        let reversible = |f: &Self| f.till && !f.cancelling && f.owned && f.ctl.cancelled();
        loop {
            if reversible(self) {
                return self.cancel_phase();
            }
            if Instant::now() >= self.ends {
                break;
            }
            // Interrupted by a cancel only where one reverses the order (else the pace holds).
            let interruptible = self.till && !self.cancelling && self.owned;
            self.sleep_until_at_most(poller.next(), self.ends, interruptible);
            if Instant::now() >= self.ends {
                break;
            }
            if reversible(self) {
                return self.cancel_phase();
            }
            let seen = self.look();
            if matches!(&seen, Seen::Final(s) | Seen::Disputed(s, _) if *s == disputed) {
                continue;
            }
            if let Some(done) = self.settled(&seen, note) {
                return done;
            }
        }
        self.outcome(
            OutcomeStatus::Unresolved,
            self.reply_code.clone(),
            format!("{why}; query {} later", self.expected.charge_code),
        )
    }
}

/// Whether an order shown `before` (in the micropay reply) and `after` (by the query
/// confirming it) tells two stories about the money: one says it was taken, the other not, and
/// no transition leads from the first to the second (a paid order is reversed, never closed;
/// a cancelled or closed one is never paid). A lagging order record shows exactly this.
fn disagree(before: OutcomeStatus, after: OutcomeStatus) -> bool {
    let paid = |s| s == OutcomeStatus::Paid;
    paid(before) != paid(after)
        && !(before == OutcomeStatus::Paid && after == OutcomeStatus::Cancelled)
}

/// Whether `got`, the customer's payment code as an answer shows it, may be `want`: equal, or
/// masked (`1307********4036`: a mask character stands for any digit). A masked code of
/// another length (`1307****4036`: the mask stands for any number of digits) may be `want`
/// when the digits it shows before and after the mask are `want`'s first and last ones. Mask
/// characters: `*`, the full-width `＊`, `x`/`X` and `•` (a payment code has digits only, and
/// a mask the gateway or a channel chose must not read as another customer: `Conflict` would
/// say a paid payment did not happen).
fn same_customer_code(want: &str, got: &str) -> bool {
    let mask = |c: char| matches!(c, '*' | '＊' | 'x' | 'X' | '•');
    let g: Vec<char> = got.chars().collect();
    let (Some(first), Some(last)) = (
        g.iter().position(|&c| mask(c)),
        g.iter().rposition(|&c| mask(c)),
    ) else {
        return want == got;
    };
    let w: Vec<char> = want.chars().collect();
    if w.len() == g.len() {
        return w.iter().zip(&g).all(|(&wc, &gc)| mask(gc) || wc == gc);
    }
    let (head, tail) = (&g[..first], &g[last + 1..]);
    w.len() >= head.len() + tail.len() && w.starts_with(head) && w.ends_with(tail)
}

fn describe(state: Option<&OrderState>) -> String {
    match state {
        Some(OrderState::Cancelled) => "cancelled".into(),
        Some(OrderState::Closed) => "closed".into(),
        Some(OrderState::Paid) => "paid".into(),
        Some(s) => format!("in state {}", s.as_wire()),
        None => "in an unknown state".into(),
    }
}

impl Client {
    /// The till flow: micropay, then settle any unknown outcome by querying, and cancel at the
    /// deadline an order proven to be this payment's. Returns `Err` only for invalid requests
    /// or options (nothing was sent); every other situation is a [`PaymentOutcome`], within
    /// [`WaitOptions::max_duration`].
    ///
    /// `Failed` means no money moved: the gateway refused the payment with a definite code or
    /// closed the order (state 6), the request never left this machine (refused connection,
    /// DNS or TLS failure), or the gateway still had no such order after the request could no
    /// longer be carried out: [`WaitOptions::gateway_hold`] after the client stopped waiting for
    /// the micropay's reply (its timeout, or the connection failing).
    pub fn micropay_and_wait(
        &self,
        req: &MicropayRequest,
        opts: &WaitOptions,
    ) -> Result<PaymentOutcome> {
        self.micropay_and_wait_with(req, opts, &FlowControl::default())
    }

    /// [`Client::micropay_and_wait`] with cancellation and progress (see [`FlowControl`]).
    pub fn micropay_and_wait_with(
        &self,
        req: &MicropayRequest,
        opts: &WaitOptions,
        ctl: &FlowControl,
    ) -> Result<PaymentOutcome> {
        let started = Instant::now();
        let out = self.till_flow(req, opts, ctl)?;
        ctl.emit(FlowEvent::Done {
            status: out.status,
            elapsed: started.elapsed(),
        });
        Ok(out)
    }

    /// The micropay request of a flow. With a cancel token it runs on its own thread, so that
    /// a cancel stops waiting for a held payment at once: then the error comes with the
    /// request's answer still to come ([`InFlight`]; the request ends by its timeout), which
    /// the flow takes when it arrives.
    fn flow_micropay(
        &self,
        req: &MicropayRequest,
        timeout: Duration,
        limit: Instant,
        ctl: &FlowControl,
    ) -> (Result<OrderReply>, Option<InFlight>) {
        if ctl.cancel.is_none() {
            return (self.micropay_call(req, timeout, Some(limit), true), None);
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let client = self.clone();
        let req = req.clone();
        std::thread::spawn(move || {
            let _ = tx.send(client.micropay_call(&req, timeout, Some(limit), true));
        });
        let lost = || Error::Timeout {
            operation: "preOrder".into(),
            after_ms: 0,
        };
        loop {
            match rx.recv_timeout(Duration::from_millis(20)) {
                Ok(r) => return (r, None),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) if ctl.cancelled() => {
                    return (Err(lost()), Some(rx));
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return (Err(lost()), None),
            }
        }
    }

    /// Against the vendor's own gateway (production or UAT: a host under `sssyin.cn`), a
    /// [`WaitOptions::gateway_hold`] shorter than the default 80 s is refused: the gateway
    /// holds a micropay that long, and a shorter hold could report `Failed` for a payment the
    /// customer then confirms. Any other host (a sandbox, a proxy) takes any hold.
    fn check_gateway_hold(&self, opts: &WaitOptions) -> Result<()> {
        let host = crate::models::url_host(&self.config().base_url);
        let host = host.trim_end_matches('.');
        let vendor = host == VENDOR_DOMAIN || host.ends_with(&format!(".{VENDOR_DOMAIN}"));
        let min = WaitOptions::default().gateway_hold;
        if vendor && opts.gateway_hold < min {
            return Err(Error::validation(
                "gateway_hold",
                format!(
                    "must be at least {} s against the vendor's gateway ({host}): it holds a micropay up to 80 s, and a shorter hold could report Failed for a payment the customer then confirms (shorter holds are for sandboxes)",
                    min.as_secs()
                ),
            ));
        }
        Ok(())
    }

    fn till_flow(
        &self,
        req: &MicropayRequest,
        opts: &WaitOptions,
        ctl: &FlowControl,
    ) -> Result<PaymentOutcome> {
        opts.validate()?;
        self.check_gateway_hold(opts)?;
        let mut checked = req.clone();
        self.fill_defaults(&mut checked);
        checked.validate()?;
        // Expected of the request as sent (the client's default device filled in).
        let mut flow = Flow::new(self, Expected::of(&checked), opts, ctl);
        flow.till = true;
        if ctl.cancelled() {
            // Cancelled before it started: send nothing (rather than send, then reverse).
            return Ok(flow.outcome(
                OutcomeStatus::Failed,
                None,
                "cancelled before the payment was sent: nothing was charged",
            ));
        }
        let deadline = flow.started + opts.deadline;
        let timeout = self
            .config()
            .micropay_timeout
            .min(opts.deadline)
            .max(Duration::from_millis(1));
        ctl.emit(FlowEvent::Sending {
            elapsed: flow.started.elapsed(),
        });
        let (sent, in_flight) = self.flow_micropay(req, timeout, flow.ends, ctl);
        if !matches!(sent, Err(Error::Validation { .. })) {
            ctl.emit(FlowEvent::Waiting {
                elapsed: flow.started.elapsed(),
            });
        }
        match sent {
            Ok(reply) => {
                let code = reply.result.code.clone();
                let seen = flow.judge_reply(&reply);
                if flow.reverses(&seen) {
                    // Paid, but cancelled meanwhile: on to the cancel phase, which reverses it.
                } else if code.is_success() {
                    match seen {
                        Seen::Final(status) => {
                            // Confirm by a query: the freshest answer wins, unless the two
                            // tell two stories about the money (then neither does); if it
                            // fails, the reply's explicit state of this very order stands.
                            let fresh = flow.look();
                            if let Seen::Final(now) | Seen::Disputed(now, _) = fresh {
                                if disagree(status, now) {
                                    let shown = flow.last.as_ref().and_then(|o| o.state.as_ref());
                                    let why = format!(
                                        "the gateway's reply showed the order {}, but its queries show it {}",
                                        describe(reply.state.as_ref()),
                                        describe(shown)
                                    );
                                    return Ok(flow.after_contradiction(
                                        &mut Poller::new(opts),
                                        now,
                                        " (after the gateway's reply said otherwise)",
                                        &why,
                                    ));
                                }
                            }
                            match fresh {
                                _ if flow.reverses(&fresh) => {} // cancelled meanwhile
                                Seen::Final(_)
                                | Seen::Conflict(_)
                                | Seen::Contradiction(_)
                                | Seen::Disputed(..) => {
                                    if let Some(done) = flow.settled(&fresh, "") {
                                        return Ok(done);
                                    }
                                }
                                Seen::Open => {} // the gateway says otherwise now: poll
                                // The reply's own state stands, unless a cancel came meanwhile
                                // for a payment it shows made: on to reverse it.
                                _ if flow.reverses(&seen) => {}
                                Seen::Absent | Seen::Failed(_) => {
                                    flow.last = Some(details_from_reply(&reply));
                                    return Ok(flow.final_outcome(status, ""));
                                }
                            }
                        }
                        Seen::Conflict(_) => {
                            // Confirm by a query too: another payment's order is proven when
                            // the gateway says so again (or cannot be asked); if it now shows
                            // this payment's order, the answers disagree.
                            let fresh = flow.look();
                            let done = match fresh {
                                Seen::Conflict(_) | Seen::Contradiction(_) | Seen::Disputed(..) => {
                                    &fresh
                                }
                                _ => &seen,
                            };
                            if let Some(done) = flow.settled(done, "") {
                                return Ok(done);
                            }
                        }
                        _ => {} // no state, an open or unknown state: poll
                    }
                } else if code.definitely_failed() {
                    flow.note_refusal(&reply);
                    match seen {
                        Seen::Final(OutcomeStatus::Paid) => {} // contradictory: query
                        Seen::Final(_) | Seen::Conflict(_) => {
                            if let Some(done) = flow.settled(&seen, "") {
                                return Ok(done);
                            }
                        }
                        _ => {
                            // The reply names no final state: the status is the order's, if
                            // one exists; else the code's. The gateway refused this request,
                            // so it will not carry it out later: "no such order" now proves
                            // nothing was charged (no waiting out the hold). A query that
                            // fails proves nothing either way (an earlier attempt of this
                            // payment may have an order): the flow queries on.
                            flow.absence_proves_after = Some(Instant::now());
                            let fresh = flow.look();
                            match fresh {
                                Seen::Final(OutcomeStatus::Paid) | Seen::Open | Seen::Failed(_) => {
                                }
                                Seen::Final(_)
                                | Seen::Conflict(_)
                                | Seen::Contradiction(_)
                                | Seen::Disputed(..) => {
                                    if let Some(done) = flow.settled(&fresh, "") {
                                        return Ok(done);
                                    }
                                }
                                Seen::Absent => {
                                    return Ok(flow.outcome(
                                        OutcomeStatus::Failed,
                                        Some(code),
                                        reply.result.info.clone(),
                                    ));
                                }
                            }
                        }
                    }
                } else {
                    // SERIAL_REPEAT (the code was used before: the order found must be this
                    // payment's, a retry of it, else it is a conflict), an exception or an
                    // unknown code: settled by querying; the gateway may still act on it.
                    flow.reply_code = Some(code);
                }
                // Not settled by the reply: until the gateway's hold is over, "does not
                // exist" proves nothing (after a refusal, set above: at once). After
                // SERIAL_REPEAT it never does: the gateway said an order under this charge
                // code exists (an earlier attempt of this payment's, which may be paid), so
                // "no such order" contradicts it rather than proving nothing was charged.
                if flow.reply_code != Some(ResultCode::SerialRepeat) {
                    flow.absence_proves_after
                        .get_or_insert_with(|| Instant::now() + opts.gateway_hold);
                }
            }
            Err(e @ Error::Validation { .. }) => return Err(e),
            Err(Error::Transport {
                maybe_sent: false,
                reason,
                ..
            }) => {
                return Ok(flow.outcome(
                    OutcomeStatus::Failed,
                    None,
                    format!("the request never reached the gateway: {reason}"),
                ));
            }
            Err(_) if in_flight.is_some() => {
                // Cancelled while the request was in flight: it may still reach the gateway
                // until it ends, and the hold counts from then (its answer, taken when it
                // comes, says from when "no such order" proves nothing was charged).
                flow.in_flight = in_flight;
            }
            Err(e) => {
                // Unknown outcome: the request may still be carried out until the hold ends.
                flow.last_error = Some(e);
                flow.absence_proves_after = Some(Instant::now() + opts.gateway_hold);
            }
        }
        if let Some(done) = flow.poll_until(deadline, true) {
            return Ok(done);
        }
        Ok(flow.cancel_phase())
    }

    /// Waits for a QR or JSAPI order to be paid: polls until its state is final (see
    /// [`status_of_state`]) or the deadline. At the deadline: `Pending` if the order still
    /// awaits payment, else `Unresolved` (the gateway could not be asked, or does not show the
    /// order).
    ///
    /// `order`: the [`OrderRequest`](crate::models::OrderRequest) the order was created with
    /// (recommended), an [`AwaitedOrder`], or just the charge code. With the amount known, an
    /// order under the charge code for another amount (a charge code used before) is
    /// `Conflict`, never `Paid`.
    pub fn wait_for_payment(
        &self,
        order: impl Into<AwaitedOrder>,
        opts: &WaitOptions,
    ) -> Result<PaymentOutcome> {
        self.wait_for_payment_with(order, opts, &FlowControl::default())
    }

    /// [`Client::wait_for_payment`] with cancellation and progress (see [`FlowControl`]): a
    /// cancel stops waiting and reports as at the deadline.
    pub fn wait_for_payment_with(
        &self,
        order: impl Into<AwaitedOrder>,
        opts: &WaitOptions,
        ctl: &FlowControl,
    ) -> Result<PaymentOutcome> {
        let started = Instant::now();
        let out = self.wait_flow(&order.into(), opts, ctl)?;
        ctl.emit(FlowEvent::Done {
            status: out.status,
            elapsed: started.elapsed(),
        });
        Ok(out)
    }

    fn wait_flow(
        &self,
        order: &AwaitedOrder,
        opts: &WaitOptions,
        ctl: &FlowControl,
    ) -> Result<PaymentOutcome> {
        let charge_code = order.charge_code.as_str();
        order.validate()?;
        opts.validate()?;
        let expected = Expected {
            charge_code: charge_code.to_owned(),
            amount: order.amount,
            dynamic_id: None,
            channel: None,
            merchant_para: order.merchant_para.clone(),
            dev_id: None,
        };
        let mut flow = Flow::new(self, expected, opts, ctl);
        let deadline = flow.started + opts.deadline;
        if let Some(done) = flow.poll_until(deadline, true) {
            return Ok(done);
        }
        if ctl.cancelled() && !flow.looked_cancelled {
            // One last look, what the order shows now (a payment made since the last query:
            // `Paid`, never a stale `Pending`), bounded so that a cancel is not held up by a
            // gateway that hangs.
            let seen = flow.look_within(Instant::now() + WAIT_LAST_LOOK);
            if let Some(done) = flow.settled(&seen, "") {
                return Ok(done);
            }
        }
        let awaiting = flow
            .last
            .as_ref()
            .is_some_and(|o| o.state == Some(OrderState::AwaitingPayment));
        Ok(match (&flow.last_error, awaiting) {
            (None, true) if flow.paid_unproven => flow.outcome(
                OutcomeStatus::Unresolved,
                None,
                format!(
                    "the gateway showed order {charge_code} paid, then awaiting payment (a paid order never goes back): its answers disagree; query it later"
                ),
            ),
            (None, true) if ctl.cancelled() => flow.outcome(
                OutcomeStatus::Pending,
                None,
                "still awaiting payment when waiting was cancelled",
            ),
            (None, true) => flow.outcome(
                OutcomeStatus::Pending,
                None,
                "still awaiting payment at the deadline",
            ),
            (Some(e), _) => flow.outcome(
                OutcomeStatus::Unresolved,
                None,
                format!("the last query failed: {e}; query {charge_code} later"),
            ),
            (None, false) if flow.last.is_none() => flow.outcome(
                OutcomeStatus::Unresolved,
                Some(ResultCode::ChargeNonexistent),
                format!("the gateway does not show order {charge_code}; query it later"),
            ),
            (None, false) => {
                let last = flow.last.as_ref();
                let state = last.and_then(|o| o.state.as_ref());
                let reason = match last {
                    Some(o) if !flow.expected.proves(o) => format!(
                        "the gateway's answers about order {charge_code} do not show its amount, so it is not proven to be this payment ({} at the deadline); query it later",
                        describe(state)
                    ),
                    _ => format!("the order is {} at the deadline", describe(state)),
                };
                flow.outcome(OutcomeStatus::Unresolved, None, reason)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_reply_and_query_states_disagree_about_the_money() {
        use OutcomeStatus::{Cancelled, Failed, Paid};
        // Paid, then reversed: a real transition. Paid, then closed; cancelled or closed,
        // then paid: two stories.
        assert!(!disagree(Paid, Cancelled));
        assert!(disagree(Paid, Failed));
        assert!(disagree(Cancelled, Paid));
        assert!(disagree(Failed, Paid));
        // No money either way, or the same story.
        assert!(!disagree(Cancelled, Failed));
        assert!(!disagree(Failed, Cancelled));
        assert!(!disagree(Paid, Paid));
    }

    #[test]
    fn a_deadline_alone_always_gives_valid_options() {
        for secs in [1, 60, 61, 1769, 1770, 1771, 1799, 1800] {
            let o = WaitOptions::with_deadline(Duration::from_secs(secs));
            o.validate().unwrap_or_else(|e| panic!("{secs} s: {e}"));
            assert!(o.max_duration >= o.deadline, "{secs} s");
        }
        assert_eq!(
            WaitOptions::default_max_duration(Duration::from_secs(1790)),
            MAX_FLOW_DURATION
        );
        assert_eq!(
            WaitOptions::default_max_duration(Duration::from_secs(100)),
            Duration::from_secs(130)
        );
    }

    #[test]
    fn a_short_gateway_hold_is_refused_against_the_vendors_gateway_before_anything_is_sent() {
        use crate::{ClientConfig, Environment};
        let short = WaitOptions {
            gateway_hold: Duration::from_secs(5),
            ..WaitOptions::with_deadline(Duration::from_millis(50))
        };
        let req = MicropayRequest {
            oper_id: "till".into(),
            dev_id: "T1".into(),
            ..MicropayRequest::new(
                "HOLD-1",
                Amount::from_fen(1).expect("fen"),
                "130730865806264036",
                "x",
            )
        };
        let client = |url: &str| {
            Client::new(
                ClientConfig::new("0010000001", "98SDKFUO432HNODS098EEE07U9DUOIUE", url)
                    .expect("config"),
            )
            .expect("client")
        };
        for url in [
            Environment::Production.base_url(),
            Environment::ProductionHttp.base_url(),
            Environment::Uat.base_url(),
            "https://SSSYIN.CN./openGateway/openService/",
        ] {
            match client(url).micropay_and_wait(&req, &short) {
                Err(Error::Validation { field, reason }) => {
                    assert_eq!(field, "gateway_hold");
                    assert!(
                        reason.contains("at least 80 s against the vendor's gateway"),
                        "{reason}"
                    );
                }
                other => panic!("{url}: expected the hold refused, got {other:?}"),
            }
        }
        // The default hold is fine there (checked without sending: the deadline is past).
        let ok = WaitOptions {
            gateway_hold: Duration::from_secs(80),
            ..short
        };
        assert!(client(Environment::Production.base_url())
            .check_gateway_hold(&ok)
            .is_ok());
        // Any other host takes any hold: a sandbox, or a name that only ends like the vendor's.
        for url in [
            "http://127.0.0.1:9/",
            "https://evilsssyin.cn/",
            "https://sssyin.cn.example/",
        ] {
            assert!(client(url).check_gateway_hold(&short).is_ok(), "{url}");
            let zero = WaitOptions {
                gateway_hold: Duration::ZERO,
                ..short
            };
            assert!(client(url).check_gateway_hold(&zero).is_ok(), "{url}");
        }
    }

    #[test]
    fn a_masked_customer_code_is_not_another_customers() {
        let code = "130730865806264036";
        assert!(same_customer_code(code, code));
        assert!(same_customer_code(code, "1307**********4036"));
        // Another length: the stars stand for any number of digits; the shown ones count.
        for masked in ["1307****4036", "1****6", "13073086580626403*", "*", "****"] {
            assert!(same_customer_code(code, masked), "{masked}");
        }
        for masked in [
            "2899****9999",
            "1307****4037",
            "2307****4036",
            "1307*******************40369",
        ] {
            assert!(!same_customer_code(code, masked), "{masked}");
        }
        assert!(!same_customer_code(code, "130730865806264037"));
        assert!(!same_customer_code(code, "1307**********4037"));
        assert!(!same_customer_code(code, "2807**********4036"));
        // Other masks a gateway or a channel may use.
        for masked in [
            "1307xxxxxxxxxx4036",
            "1307XXXXXXXXXX4036",
            "1307＊＊＊＊＊＊＊＊＊＊4036",
            "1307••••4036",
        ] {
            assert!(same_customer_code(code, masked), "{masked}");
        }
        assert!(!same_customer_code(code, "2899xxxx9999"));
    }

    #[test]
    fn outcome_status_names_and_text() {
        for s in OutcomeStatus::KNOWN {
            let exhaustive = match s {
                OutcomeStatus::Paid
                | OutcomeStatus::Failed
                | OutcomeStatus::Cancelled
                | OutcomeStatus::Pending
                | OutcomeStatus::Unresolved
                | OutcomeStatus::Conflict => *s,
            };
            assert_eq!(format!("{exhaustive:?}"), s.name());
            assert_eq!(
                serde_json::to_value(s).ok(),
                Some(serde_json::Value::from(s.as_str()))
            );
        }
        assert_eq!(OutcomeStatus::KNOWN.len(), 6);
    }

    #[test]
    fn status_table_has_a_row_for_every_state() {
        let expect = [
            ("0", None),
            ("1", Some(OutcomeStatus::Paid)),
            ("2", Some(OutcomeStatus::Cancelled)),
            ("3", None),
            ("4", Some(OutcomeStatus::Paid)),
            ("5", Some(OutcomeStatus::Paid)),
            ("6", Some(OutcomeStatus::Failed)),
            ("7", None),
            ("8", Some(OutcomeStatus::Paid)),
            ("9", Some(OutcomeStatus::Paid)),
            ("42", None),
        ];
        for (wire, status) in expect {
            assert_eq!(
                status_of_state(&OrderState::from_wire(wire)),
                status,
                "{wire}"
            );
        }
        assert_eq!(OrderState::KNOWN.len(), 10);
    }

    #[test]
    fn terminal_codes() {
        assert_eq!(
            status_of_code(&ResultCode::Fail),
            Some(OutcomeStatus::Failed)
        );
        assert_eq!(status_of_code(&ResultCode::SerialRepeat), None);
        assert_eq!(status_of_code(&ResultCode::Success), None);
        assert_eq!(status_of_code(&ResultCode::Exception), None);
        assert_eq!(status_of_code(&ResultCode::Unknown("X".into())), None);
    }

    #[test]
    fn options_are_validated() {
        assert!(WaitOptions::default().validate().is_ok());
        let bad = [
            WaitOptions {
                deadline: Duration::ZERO,
                ..Default::default()
            },
            WaitOptions {
                poll_interval: Duration::ZERO,
                ..Default::default()
            },
            WaitOptions {
                cancel_attempts: 0,
                ..Default::default()
            },
            WaitOptions {
                max_duration: Duration::from_secs(10),
                ..Default::default()
            },
            WaitOptions {
                gateway_hold: Duration::from_secs(3600),
                ..Default::default()
            },
        ];
        for o in bad {
            assert!(
                matches!(o.validate(), Err(Error::Validation { .. })),
                "{o:?}"
            );
        }
        // A minimum that is another setting names it (a snake_case name is renamed with the
        // fields by a runtime that spells them otherwise: `pollIntervalMs`).
        let short = WaitOptions {
            deadline: Duration::from_secs(5),
            max_duration: Duration::from_secs(1),
            ..Default::default()
        };
        let slow = WaitOptions {
            poll_interval: Duration::from_millis(800),
            max_poll_interval: Duration::from_millis(500),
            ..Default::default()
        };
        for (opts, says, js_names, js_says) in [
            (
                short,
                "invalid max_duration: must be at least the deadline (5000 ms)",
                [
                    ("max_duration", "maxDurationMs"),
                    ("deadline", "deadlineMs"),
                ],
                "invalid maxDurationMs: must be at least the deadline (5000 ms)",
            ),
            (
                slow,
                "invalid max_poll_interval: must be at least poll_interval (800 ms)",
                [
                    ("max_poll_interval", "maxPollIntervalMs"),
                    ("poll_interval", "pollIntervalMs"),
                ],
                "invalid maxPollIntervalMs: must be at least pollIntervalMs (800 ms)",
            ),
        ] {
            let e = opts.validate().expect_err(says);
            assert_eq!(e.to_string(), says);
            assert_eq!(e.renamed_fields(&js_names).to_string(), js_says);
        }
    }

    #[test]
    fn mismatch_names_the_reason() {
        let mut req = MicropayRequest::new(
            "C-1",
            Amount::from_fen(999).expect("amt"),
            "130730865806264036",
            "x",
        );
        req.merchant_para = Some("abc".into());
        let e = Expected::of(&req);
        let mut o = details_from_reply(&OrderReply {
            state: Some(OrderState::Paid),
            amount: Some(Amount::from_fen(9900).expect("amt")),
            ..OrderReply::success_about("C-1")
        });
        assert!(e.mismatch(&o).is_some_and(|w| w.contains("99.00")));
        o.amount = Some(Amount::from_fen(999).expect("amt"));
        assert!(e.mismatch(&o).is_none());
        o.dynamic_id = Some("134000000000000000".into());
        assert!(e.mismatch(&o).is_some());
        o.dynamic_id = None;
        // Another charge code: an answer about another order, not a conflict.
        o.charge_code = Some("C-2".into());
        assert!(e.foreign(&o));
        assert!(e.mismatch(&o).is_none());
        o.charge_code = Some(" C-1 ".into());
        assert!(!e.foreign(&o));
        o.charge_code = None;
        assert!(!e.foreign(&o));
        o.merchant_para = Some("xyz".into());
        assert!(e.mismatch(&o).is_some());
        o.merchant_para = None;
        // An answer that names no charge code proves nothing (it may be about any order).
        assert!(!e.proves(&o));
        o.charge_code = Some("C-1".into());
        assert!(e.proves(&o));
        o.amount = None;
        assert!(!e.proves(&o));
    }
}
