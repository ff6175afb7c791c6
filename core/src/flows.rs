//! Payment flows on top of the client: the till's micropay-and-wait, and waiting for a QR or
//! JSAPI order to be paid.
//!
//! The rule throughout: a payment's outcome is never guessed. An unknown outcome is settled by
//! querying; if the deadline passes with the order still open, it is cancelled, and the cancel
//! is retried until the gateway confirms it. The same `CHARGE_CODE` is used throughout and the
//! micropay request is never re-sent, so a double charge is impossible.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::client::Client;
use crate::enums::{OrderState, ResultCode};
use crate::error::{Error, Result};
use crate::models::{CancelRequest, MicropayRequest, OrderDetails, OrderReply};

/// Timing of the flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitOptions {
    /// How long to wait for the payment before cancelling (micropay) or giving up (wait).
    /// Measured from the start of the flow. Default 90 s (the gateway gives up at 80 s).
    pub deadline: Duration,
    /// The first pause between queries. Default 2 s.
    pub poll_interval: Duration,
    /// The pause grows by half each time up to this. Default 5 s.
    pub max_poll_interval: Duration,
    /// How many times to try cancelling before reporting the outcome unresolved. Default 5.
    pub cancel_attempts: u32,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            deadline: Duration::from_secs(90),
            poll_interval: Duration::from_secs(2),
            max_poll_interval: Duration::from_secs(5),
            cancel_attempts: 5,
        }
    }
}

/// How a flow ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    /// The customer paid.
    Paid,
    /// The payment definitely did not happen (declined, invalid, never recorded).
    Failed,
    /// The order was cancelled (by us at the deadline, by the gateway, or closed); if it had
    /// been paid meanwhile, the cancel reversed it.
    Cancelled,
    /// `wait_for_payment` only: the deadline passed and the order still awaits payment.
    Pending,
    /// Even cancelling could not be confirmed (the gateway unreachable): query
    /// `charge_code` later before doing anything else.
    Unresolved,
}

/// The result of a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentOutcome {
    /// How it ended.
    pub status: OutcomeStatus,
    /// The merchant's order number.
    pub charge_code: String,
    /// The order as last seen (always present when paid).
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
    fn next(&mut self) -> Duration {
        let d = self.interval;
        self.interval = (self.interval + self.interval / 2).min(self.max);
        d
    }
}

fn details_from_reply(r: &OrderReply) -> OrderDetails {
    OrderDetails {
        busi_id: None,
        charge_code: r.charge_code.clone(),
        charge_down_code: r.charge_down_code.clone(),
        charge_third_code: r.charge_third_code.clone(),
        channel: r.channel.clone(),
        state: r.state.clone().or(Some(OrderState::Paid)),
        amount: r.amount,
        real_amount: None,
        pay_subject: None,
        oper_id: r.oper_id.clone(),
        dev_id: r.dev_id.clone(),
        register_id: None,
        merchant_para: r.merchant_para.clone(),
        dynamic_id: None,
        goods: Vec::new(),
        fund_bills: r.fund_bills.clone(),
        begin_time: r.begin_time.clone(),
        end_time: None,
    }
}

/// What one query said about the order.
enum Seen {
    Final(OutcomeStatus, Box<OrderDetails>),
    Open,
    Missing,
    Error(Error),
}

struct Flow<'a> {
    client: &'a Client,
    charge_code: String,
    started: Instant,
    opts: WaitOptions,
    queries: u32,
    last: Option<OrderDetails>,
    expected_amount: Option<crate::Amount>,
}

impl Flow<'_> {
    fn outcome(
        &self,
        status: OutcomeStatus,
        code: Option<ResultCode>,
        reason: impl Into<String>,
    ) -> PaymentOutcome {
        PaymentOutcome {
            status,
            charge_code: self.charge_code.clone(),
            order: self.last.clone(),
            code,
            reason: reason.into(),
            queries: self.queries,
        }
    }

    fn look(&mut self) -> Seen {
        self.queries += 1;
        match self.client.query_charge(&self.charge_code) {
            Ok(q) => {
                let order = q.order;
                self.last = Some(order.clone());
                match order.state.clone() {
                    Some(s) if s.money_taken() => Seen::Final(OutcomeStatus::Paid, Box::new(order)),
                    Some(OrderState::Cancelled) | Some(OrderState::Closed) => {
                        Seen::Final(OutcomeStatus::Cancelled, Box::new(order))
                    }
                    _ => Seen::Open,
                }
            }
            Err(Error::Gateway {
                code: ResultCode::ChargeNonexistent,
                ..
            }) => Seen::Missing,
            Err(e) => Seen::Error(e),
        }
    }

    fn remaining(&self) -> Duration {
        self.opts.deadline.saturating_sub(self.started.elapsed())
    }

    /// Polls until a final state or the deadline. `None` at the deadline.
    fn poll(&mut self, query_first: bool) -> Option<PaymentOutcome> {
        let mut poller = Poller {
            interval: self.opts.poll_interval,
            max: self.opts.max_poll_interval.max(self.opts.poll_interval),
        };
        let mut first = query_first;
        let mut missing_in_a_row = 0;
        loop {
            if !first {
                let pause = poller.next();
                if self.remaining() <= pause {
                    return None;
                }
                std::thread::sleep(pause);
            }
            first = false;
            match self.look() {
                Seen::Final(status, order) => {
                    if let (Some(expected), Some(got)) = (self.expected_amount, order.amount) {
                        if expected != got {
                            return Some(self.outcome(
                                OutcomeStatus::Failed,
                                Some(ResultCode::SerialRepeat),
                                format!(
                                    "charge code {} already belongs to another order of {} yuan",
                                    self.charge_code, got
                                ),
                            ));
                        }
                    }
                    let reason = final_reason(status, &order, "");
                    return Some(self.outcome(status, None, reason));
                }
                Seen::Missing => {
                    missing_in_a_row += 1;
                    if missing_in_a_row >= 2 {
                        // Twice unknown to the gateway: stop waiting, cancel to be sure.
                        return None;
                    }
                }
                Seen::Open | Seen::Error(_) => missing_in_a_row = 0,
            }
            if self.remaining().is_zero() {
                return None;
            }
        }
    }

    /// Cancels until confirmed, then reports.
    fn cancel_until_confirmed(&mut self) -> PaymentOutcome {
        let attempts = self.opts.cancel_attempts.max(1);
        let mut last_err = String::new();
        for attempt in 1..=attempts {
            match self
                .client
                .cancel(&CancelRequest::new(self.charge_code.clone()))
            {
                Ok(_) => {
                    return self.outcome(
                        OutcomeStatus::Cancelled,
                        None,
                        "not paid before the deadline: cancelled",
                    );
                }
                Err(Error::Gateway {
                    code: ResultCode::AreadyRevoked,
                    ..
                }) => {
                    return self.outcome(
                        OutcomeStatus::Cancelled,
                        Some(ResultCode::AreadyRevoked),
                        "the order was already cancelled",
                    );
                }
                Err(Error::Gateway {
                    code: ResultCode::ChargeNonexistent,
                    ..
                }) => {
                    return self.outcome(
                        OutcomeStatus::Failed,
                        Some(ResultCode::ChargeNonexistent),
                        "the gateway never recorded the payment: nothing was charged",
                    );
                }
                Err(e) => {
                    last_err = e.to_string();
                    // The cancel may have been refused because the order is already final.
                    if let Seen::Final(status, order) = self.look() {
                        let reason = final_reason(status, &order, " (it could not be cancelled)");
                        return self.outcome(status, None, reason);
                    }
                }
            }
            if attempt < attempts {
                let backoff =
                    Duration::from_millis(500u64.saturating_mul(1 << (attempt - 1).min(4)))
                        .min(self.opts.max_poll_interval);
                std::thread::sleep(backoff);
            }
        }
        self.outcome(
            OutcomeStatus::Unresolved,
            None,
            format!("could not confirm the cancel after {attempts} attempts ({last_err}); query {} later", self.charge_code),
        )
    }
}

/// Why a flow ended on a final state: `paid` (with `paid_note` appended), or the state.
fn final_reason(status: OutcomeStatus, order: &OrderDetails, paid_note: &str) -> String {
    match status {
        OutcomeStatus::Paid => format!("paid{paid_note}"),
        _ => format!("the order is {}", describe(order.state.as_ref())),
    }
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
    /// deadline. Returns `Err` only for invalid requests (nothing was sent); every other
    /// situation is a [`PaymentOutcome`].
    pub fn micropay_and_wait(
        &self,
        req: &MicropayRequest,
        opts: &WaitOptions,
    ) -> Result<PaymentOutcome> {
        let mut flow = Flow {
            client: self,
            charge_code: req.charge_code.clone(),
            started: Instant::now(),
            opts: *opts,
            queries: 0,
            last: None,
            expected_amount: None,
        };
        match self.micropay(req) {
            Ok(reply) => {
                let state = reply.state.clone();
                match state {
                    None => {
                        // Success without a state: paid. Fetch the full details by a query; if that
                        // fails, the micropay reply's own details are kept.
                        if !matches!(flow.look(), Seen::Final(OutcomeStatus::Paid, _)) {
                            flow.last = Some(details_from_reply(&reply));
                        }
                        return Ok(flow.outcome(OutcomeStatus::Paid, None, "paid"));
                    }
                    Some(s) if s.money_taken() => {
                        if !matches!(flow.look(), Seen::Final(OutcomeStatus::Paid, _)) {
                            flow.last = Some(details_from_reply(&reply));
                        }
                        return Ok(flow.outcome(OutcomeStatus::Paid, None, "paid"));
                    }
                    Some(OrderState::Cancelled) | Some(OrderState::Closed) => {
                        flow.last = Some(details_from_reply(&reply));
                        return Ok(flow.outcome(
                            OutcomeStatus::Cancelled,
                            None,
                            "the gateway cancelled the payment",
                        ));
                    }
                    _ => {} // awaiting the customer: poll
                }
            }
            Err(e @ Error::Validation { .. }) => return Err(e),
            Err(Error::Gateway {
                code: ResultCode::SerialRepeat,
                ..
            }) => {
                // The code was used before: settle by querying, but only accept the order if it
                // is this payment (same amount).
                flow.expected_amount = Some(req.amount);
            }
            Err(Error::Gateway { code, info }) if code.definitely_failed() => {
                return Ok(flow.outcome(OutcomeStatus::Failed, Some(code), info));
            }
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
            Err(_) => {} // unknown outcome: query
        }
        if let Some(done) = flow.poll(true) {
            return Ok(done);
        }
        Ok(flow.cancel_until_confirmed())
    }

    /// Waits for a QR or JSAPI order to be paid: polls until paid, cancelled/closed, or the
    /// deadline (then `Pending`, or `Unresolved` if the gateway could not be asked).
    pub fn wait_for_payment(
        &self,
        charge_code: &str,
        opts: &WaitOptions,
    ) -> Result<PaymentOutcome> {
        crate::models::validate_code("charge_code", charge_code)?;
        let mut flow = Flow {
            client: self,
            charge_code: charge_code.to_owned(),
            started: Instant::now(),
            opts: *opts,
            queries: 0,
            last: None,
            expected_amount: None,
        };
        let mut poller = Poller {
            interval: opts.poll_interval,
            max: opts.max_poll_interval.max(opts.poll_interval),
        };
        let mut last_error: Option<Error>;
        let mut seen_open = false;
        loop {
            match flow.look() {
                Seen::Final(status, order) => {
                    let reason = final_reason(status, &order, "");
                    return Ok(flow.outcome(status, None, reason));
                }
                Seen::Missing => {
                    return Ok(flow.outcome(
                        OutcomeStatus::Failed,
                        Some(ResultCode::ChargeNonexistent),
                        "the gateway has no such order",
                    ));
                }
                Seen::Open => {
                    seen_open = true;
                    last_error = None;
                }
                Seen::Error(e) => last_error = Some(e),
            }
            let pause = poller.next();
            if flow.remaining() <= pause {
                break;
            }
            std::thread::sleep(pause);
        }
        match last_error {
            Some(e) if !seen_open || flow.last.is_none() => Ok(flow.outcome(
                OutcomeStatus::Unresolved,
                None,
                format!("could not query the order: {e}"),
            )),
            Some(e) => Ok(flow.outcome(
                OutcomeStatus::Unresolved,
                None,
                format!("the last query failed: {e}"),
            )),
            None => Ok(flow.outcome(
                OutcomeStatus::Pending,
                None,
                "still awaiting payment at the deadline",
            )),
        }
    }
}
