//! The sandbox's state: merchants, orders, refunds, notification attempts, faults; the order
//! state machine; the ledger.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use sosopay::models::{FundBill, Goods, OrderDetails};
use sosopay::{Amount, Channel, Envelope, FundChannel, OrderState};

use crate::faults::{decide, FaultKind, FaultRule, Operation};
use crate::ledger::{
    FaultLog, FaultRuleRecord, InjectedFault, Ledger, LedgerOrder, LedgerRefund,
    NotificationAttempt, TopUp,
};

/// The unscaled micropay hold: an unpaid micropay is settled by the gateway after 80 s.
pub(crate) const MICROPAY_HOLD_SECS: f64 = 80.0;
/// Notification schedule: at most 30 attempts, 5 s apart.
pub(crate) const NOTIFY_MAX_ATTEMPTS: u32 = 30;
pub(crate) const NOTIFY_INTERVAL_SECS: f64 = 5.0;
/// ACO (apply to cancel) completes after this long.
pub(crate) const ACO_COMPLETE_SECS: f64 = 5.0;
/// Default `TIME_EXPIRE` of QR/JSAPI orders.
pub(crate) const DEFAULT_TIME_EXPIRE_SECS: u64 = 7200;

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `YYYY-MM-DD hh:mm:ss` in gateway local time (UTC+8).
pub(crate) fn gateway_time(ms: u64) -> String {
    let secs = ms / 1000 + 8 * 3600;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

/// `YYYYMMDD` in gateway local time.
pub(crate) fn gateway_date(ms: u64) -> String {
    let secs = ms / 1000 + 8 * 3600;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}{m:02}{d:02}")
}

// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// What kind of order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrderKind {
    Micropay,
    Qr,
    Jsapi,
}

impl OrderKind {
    fn as_str(self) -> &'static str {
        match self {
            OrderKind::Micropay => "micropay",
            OrderKind::Qr => "qr",
            OrderKind::Jsapi => "jsapi",
        }
    }
}

/// A micropay customer's behaviour, chosen by the `DYNAMIC_ID` (see docs/SANDBOX.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Behaviour {
    /// Pays at once.
    PayNow,
    /// 1: confirming on the phone, pays after `secs` (the request is held up to 80 s).
    ConfirmThenPay { secs: u32 },
    /// 2: "user paying": the reply comes at once (STATE 0), the customer pays after `secs`.
    PayingThenPay { secs: u32 },
    /// 3: insufficient funds, after `secs` of confirming (held).
    InsufficientFunds { secs: u32 },
    /// 4: never confirms; held 80 s, then cancelled (STATE 2).
    NeverConfirms,
    /// 5: "user paying" at once (STATE 0), never confirms; cancelled at 80 s.
    PayingNeverConfirms,
    /// 6: the payment code has expired: FAIL at once, order closed (STATE 6).
    CodeExpired,
    /// 7: the payment succeeds after `secs` (held) but the reply says `EXCEPTION`.
    ExceptionButPaid { secs: u32 },
}

impl Behaviour {
    /// Classifies a payment code `PP000000000000BNNN`; any other code pays at once.
    pub(crate) fn of(code: &str) -> Behaviour {
        let b = code.as_bytes();
        if b.len() != 18 || !b[2..14].iter().all(|c| *c == b'0') {
            return Behaviour::PayNow;
        }
        let secs: u32 = code[15..18].parse().unwrap_or(0);
        match b[14] {
            b'1' => Behaviour::ConfirmThenPay { secs },
            b'2' => Behaviour::PayingThenPay { secs },
            b'3' => Behaviour::InsufficientFunds { secs },
            b'4' => Behaviour::NeverConfirms,
            b'5' => Behaviour::PayingNeverConfirms,
            b'6' => Behaviour::CodeExpired,
            b'7' => Behaviour::ExceptionButPaid { secs },
            _ => Behaviour::PayNow,
        }
    }
}

/// Channel auto-detection from a payment code's first two digits.
pub(crate) fn detect_channel(code: &str) -> Option<Channel> {
    let p: u32 = code.get(..2)?.parse().ok()?;
    match p {
        10..=15 => Some(Channel::Wechat),
        25..=30 => Some(Channel::Alipay),
        91 => Some(Channel::QqWallet),
        62 => Some(Channel::UnionPay),
        _ => None,
    }
}

fn fund_channel(c: &Channel) -> FundChannel {
    match c {
        Channel::Alipay | Channel::AlipayWap => FundChannel::AlipayBalance,
        Channel::Wechat => FundChannel::WechatPay,
        Channel::QqWallet => FundChannel::QqWalletPay,
        Channel::BaiduWallet => FundChannel::BaiduWalletPay,
        Channel::Bestpay => FundChannel::BestpayPay,
        _ => FundChannel::BankCard,
    }
}

/// One order.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub busi_id: String,
    pub charge_code: String,
    pub charge_down_code: String,
    pub charge_third_code: Option<String>,
    pub kind: OrderKind,
    pub channel: Channel,
    pub amount_fen: u64,
    pub refunded_fen: u64,
    pub state: OrderState,
    pub pay_subject: String,
    pub oper_id: String,
    pub dev_id: String,
    pub register_id: Option<String>,
    pub merchant_para: Option<String>,
    pub dynamic_id: Option<String>,
    pub goods: Vec<Goods>,
    pub verify_code: Option<String>,
    pub notify_url: Option<String>,
    pub behaviour: Option<Behaviour>,
    pub fail_reason: Option<String>,
    pub created_at_ms: u64,
    pub paid_at_ms: Option<u64>,
    pub ended_at_ms: Option<u64>,
    pub expires_at_ms: Option<u64>,
    /// The `stale_reversal` fault: until the instant, queries show this state instead.
    pub stale_view: Option<(OrderState, std::time::Instant)>,
    /// The state before the last change, and when it changed (the `lag` fault).
    pub previous: Option<(OrderState, std::time::Instant)>,
}

impl Order {
    /// Changes the state, remembering the one before (the `lag` fault shows it).
    pub(crate) fn set_state(&mut self, state: OrderState) {
        let before = std::mem::replace(&mut self.state, state);
        self.previous = Some((before, std::time::Instant::now()));
    }

    pub(crate) fn details(&self) -> OrderDetails {
        let paid = self.paid_at_ms.is_some();
        let amount = Amount::from_fen(self.amount_fen).ok();
        OrderDetails {
            busi_id: Some(self.busi_id.clone()),
            charge_code: Some(self.charge_code.clone()),
            charge_down_code: Some(self.charge_down_code.clone()),
            charge_third_code: self.charge_third_code.clone(),
            channel: Some(self.channel.clone()),
            state: Some(self.state.clone()),
            amount,
            real_amount: if paid { amount } else { None },
            pay_subject: Some(self.pay_subject.clone()),
            oper_id: Some(self.oper_id.clone()),
            dev_id: Some(self.dev_id.clone()),
            register_id: self.register_id.clone(),
            merchant_para: self.merchant_para.clone(),
            dynamic_id: self.dynamic_id.clone(),
            goods: self.goods.clone(),
            fund_bills: self.fund_bills(),
            begin_time: Some(gateway_time(self.created_at_ms)),
            end_time: self.ended_at_ms.map(gateway_time),
        }
    }

    pub(crate) fn fund_bills(&self) -> Vec<FundBill> {
        match (self.paid_at_ms, Amount::from_fen(self.amount_fen)) {
            (Some(_), Ok(a)) => vec![FundBill {
                fund_channel: fund_channel(&self.channel),
                amount: a,
            }],
            _ => Vec::new(),
        }
    }

    /// The order's ledger record.
    pub(crate) fn record(&self) -> LedgerOrder {
        LedgerOrder {
            busi_id: self.busi_id.clone(),
            charge_code: self.charge_code.clone(),
            charge_down_code: self.charge_down_code.clone(),
            charge_third_code: self.charge_third_code.clone(),
            kind: self.kind.as_str().to_owned(),
            channel: self.channel.as_wire().parse().ok(),
            amount_fen: self.amount_fen,
            refunded_fen: self.refunded_fen,
            state: self.state.as_wire().parse().ok(),
            state_name: self.state.name().to_owned(),
            pay_subject: self.pay_subject.clone(),
            dynamic_id: self.dynamic_id.clone(),
            verify_code: self.verify_code.clone(),
            notify_url: self.notify_url.clone(),
            fail_reason: self.fail_reason.clone(),
            created_at_ms: self.created_at_ms,
            paid_at_ms: self.paid_at_ms,
            ended_at_ms: self.ended_at_ms,
            expires_at_ms: self.expires_at_ms,
            begin_time: gateway_time(self.created_at_ms),
        }
    }

    /// The order's ledger record as JSON.
    pub(crate) fn to_json(&self) -> Value {
        self.record().to_json()
    }
}

/// One refund.
#[derive(Debug, Clone)]
pub(crate) struct Refund {
    pub busi_id: String,
    pub out_refund_no: Option<String>,
    pub charge_code: String,
    pub charge_down_code: String,
    pub amount_fen: u64,
    pub state_after: OrderState,
    pub created_at_ms: u64,
    pub replays: u32,
}

impl Refund {
    fn record(&self) -> LedgerRefund {
        LedgerRefund {
            busi_id: self.busi_id.clone(),
            out_refund_no: self.out_refund_no.clone(),
            charge_code: self.charge_code.clone(),
            charge_down_code: self.charge_down_code.clone(),
            amount_fen: self.amount_fen,
            state_after: self.state_after.as_wire().parse().ok(),
            created_at_ms: self.created_at_ms,
            replays: self.replays,
        }
    }
}

/// One notification delivery attempt.
#[derive(Debug, Clone)]
pub(crate) struct NotifyAttempt {
    pub busi_id: String,
    pub charge_code: String,
    pub url: String,
    pub attempt: u32,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub at_ms: u64,
    pub format: &'static str,
    pub encrypted: bool,
    pub fault: Option<String>,
    pub duplicate: bool,
}

impl NotifyAttempt {
    fn record(&self) -> NotificationAttempt {
        NotificationAttempt {
            busi_id: self.busi_id.clone(),
            charge_code: self.charge_code.clone(),
            url: self.url.clone(),
            attempt: self.attempt,
            http_status: self.http_status,
            accepted: self.http_status == Some(200),
            error: self.error.clone(),
            at_ms: self.at_ms,
            format: self.format.to_owned(),
            encrypted: self.encrypted,
            fault: self.fault.clone(),
            duplicate: self.duplicate,
        }
    }
}

/// One top-up.
#[derive(Debug, Clone)]
pub(crate) struct FlowRecord {
    pub busi_id: String,
    pub order_id: String,
    pub phone_no: String,
    pub flow_val: u32,
    pub flow_type: String,
    pub created_at_ms: u64,
}

/// One injected fault.
#[derive(Debug, Clone)]
pub(crate) struct FaultEvent {
    pub op: Operation,
    pub kind: String,
    pub request_no: u64,
    pub charge_code: Option<String>,
    pub at_ms: u64,
}

/// Everything behind the lock.
#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub merchants: HashMap<String, Envelope>,
    pub orders: Vec<Order>,
    pub by_code: HashMap<(String, String), usize>,
    pub by_down: HashMap<String, usize>,
    pub by_verify: HashMap<(String, String), usize>,
    pub refunds: Vec<Refund>,
    pub by_refund_no: HashMap<(String, String), usize>,
    pub notifications: Vec<NotifyAttempt>,
    pub flows: Vec<FlowRecord>,
    pub faults: Vec<FaultRule>,
    pub seed: u64,
    pub fault_counters: HashMap<Operation, u64>,
    pub fault_counts: BTreeMap<String, u64>,
    pub fault_events: Vec<FaultEvent>,
    pub requests: BTreeMap<String, u64>,
    /// Never reset: keeps gateway numbers unique for the sandbox's life.
    pub next_seq: u64,
    /// Bumped by reset: timers and deliveries of an older epoch do nothing.
    pub epoch: u64,
}

/// What a state change asks for after the lock is released.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    pub notify: Vec<PendingNotification>,
    pub changed: bool,
}

/// A notification to deliver.
#[derive(Debug, Clone)]
pub(crate) struct PendingNotification {
    pub epoch: u64,
    pub busi_id: String,
    pub charge_code: String,
    pub url: String,
    pub details: OrderDetails,
    pub envelope: Envelope,
}

/// A scheduled transition of an awaiting order.
#[derive(Debug, Clone)]
pub(crate) enum Transition {
    Pay,
    Close(String),
    Cancel,
    /// Cancel only if still awaiting payment (the micropay hold ran out).
    CancelUnpaid(String),
    /// An applied-for cancel (state 3) completes.
    CompleteCancel,
}

impl Inner {
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    pub(crate) fn count_request(&mut self, op: &str) {
        *self.requests.entry(op.to_owned()).or_insert(0) += 1;
    }

    /// Draws the fault for the next request of `op`.
    pub(crate) fn next_fault(&mut self, op: Operation) -> (u64, Option<FaultKind>) {
        let n = {
            let c = self.fault_counters.entry(op).or_insert(0);
            *c += 1;
            *c
        };
        (n, decide(self.seed, &self.faults, op, n))
    }

    pub(crate) fn record_fault(
        &mut self,
        op: Operation,
        kind: &FaultKind,
        request_no: u64,
        charge_code: Option<String>,
    ) {
        let name = kind.name();
        *self
            .fault_counts
            .entry(format!("{}:{name}", op.as_str()))
            .or_insert(0) += 1;
        self.fault_events.push(FaultEvent {
            op,
            kind: name,
            request_no,
            charge_code,
            at_ms: now_ms(),
        });
    }

    pub(crate) fn set_faults(&mut self, faults: Vec<FaultRule>, seed: Option<u64>) {
        self.faults = faults;
        if let Some(s) = seed {
            self.seed = s;
        }
        self.fault_counters.clear();
    }

    pub(crate) fn find(&self, busi: &str, charge_code: &str) -> Option<usize> {
        self.by_code
            .get(&(busi.to_owned(), charge_code.to_owned()))
            .copied()
    }

    /// Finds an order by charge code across merchants (admin); `Err` when ambiguous.
    pub(crate) fn find_any(&self, busi: Option<&str>, charge_code: &str) -> Result<usize, String> {
        if let Some(b) = busi {
            return self
                .find(b, charge_code)
                .ok_or_else(|| format!("no order {charge_code} of merchant {b}"));
        }
        let hits: Vec<usize> = self
            .orders
            .iter()
            .enumerate()
            .filter(|(_, o)| o.charge_code == charge_code)
            .map(|(i, _)| i)
            .collect();
        match hits.as_slice() {
            [] => Err(format!("no order {charge_code}")),
            [i] => Ok(*i),
            _ => Err(format!(
                "charge code {charge_code} exists for several merchants: give each merchant's orders their own codes (the HTTP admin endpoints take ?busi_id= to pick one)"
            )),
        }
    }

    pub(crate) fn insert_order(&mut self, order: Order) -> usize {
        let idx = self.orders.len();
        self.by_code
            .insert((order.busi_id.clone(), order.charge_code.clone()), idx);
        self.by_down.insert(order.charge_down_code.clone(), idx);
        if let Some(v) = &order.verify_code {
            self.by_verify
                .insert((order.busi_id.clone(), v.clone()), idx);
        }
        self.orders.push(order);
        idx
    }

    /// Applies a transition if the order is in a state it applies to; returns what to do next.
    pub(crate) fn transition(&mut self, idx: usize, t: &Transition, fx: &mut Effects) -> bool {
        let epoch = self.epoch;
        let Some(o) = self.orders.get_mut(idx) else {
            return false;
        };
        let now = now_ms();
        let applies = match t {
            Transition::Pay | Transition::Close(_) | Transition::CancelUnpaid(_) => {
                o.state == OrderState::AwaitingPayment
            }
            Transition::Cancel => matches!(
                o.state,
                OrderState::AwaitingPayment | OrderState::Paid | OrderState::CancelApplied
            ),
            Transition::CompleteCancel => o.state == OrderState::CancelApplied,
        };
        if !applies {
            return false;
        }
        match t {
            Transition::Pay => {
                o.set_state(OrderState::Paid);
                o.paid_at_ms = Some(now);
                o.ended_at_ms = Some(now);
                let third = match o.channel {
                    Channel::Alipay | Channel::AlipayWap => format!("2088{}", o.charge_down_code),
                    _ => format!("42000{}", o.charge_down_code),
                };
                o.charge_third_code = Some(third);
                if let Some(url) = &o.notify_url {
                    if let Some(env) = self.merchants.get(&o.busi_id) {
                        fx.notify.push(PendingNotification {
                            epoch,
                            busi_id: o.busi_id.clone(),
                            charge_code: o.charge_code.clone(),
                            url: url.clone(),
                            details: o.details(),
                            envelope: env.clone(),
                        });
                    }
                }
            }
            Transition::Close(reason) => {
                o.set_state(OrderState::Closed);
                o.ended_at_ms = Some(now);
                o.fail_reason = Some(reason.clone());
            }
            Transition::CancelUnpaid(reason) => {
                o.set_state(OrderState::Cancelled);
                o.ended_at_ms = Some(now);
                o.fail_reason = Some(reason.clone());
            }
            Transition::Cancel | Transition::CompleteCancel => {
                if o.paid_at_ms.is_some() {
                    // A same-day reversal gives the whole payment back.
                    o.refunded_fen = o.amount_fen;
                }
                o.set_state(OrderState::Cancelled);
                o.ended_at_ms = Some(now);
            }
        }
        fx.changed = true;
        true
    }

    pub(crate) fn ledger(&self, time_scale: f64) -> Ledger {
        let flow_recharges = self
            .flows
            .iter()
            .map(|f| TopUp {
                busi_id: f.busi_id.clone(),
                order_id: f.order_id.clone(),
                phone_no: f.phone_no.clone(),
                flow_val: f.flow_val,
                flow_type: f.flow_type.clone(),
                created_at_ms: f.created_at_ms,
            })
            .collect();
        let events = self
            .fault_events
            .iter()
            .map(|e| InjectedFault {
                op: e.op.as_str().to_owned(),
                kind: e.kind.clone(),
                request_no: e.request_no,
                charge_code: e.charge_code.clone(),
                at_ms: e.at_ms,
            })
            .collect();
        let rules = self
            .faults
            .iter()
            .map(|r| FaultRuleRecord {
                op: r.op.as_str().to_owned(),
                kind: r.kind.name(),
                probability: r.probability,
                param: r.kind.param(),
            })
            .collect();
        let counts = |m: &BTreeMap<String, u64>| m.clone().into_iter().collect();
        let paid = || self.orders.iter().filter(|o| o.state.money_taken());
        Ledger {
            paid_fen: paid().map(|o| o.amount_fen).sum(),
            refunded_fen: paid().map(|o| o.refunded_fen).sum(),
            orders: self.orders.iter().map(Order::record).collect(),
            refunds: self.refunds.iter().map(Refund::record).collect(),
            notifications: self
                .notifications
                .iter()
                .map(NotifyAttempt::record)
                .collect(),
            flow_recharges,
            faults: FaultLog {
                seed: self.seed,
                rules,
                injected: counts(&self.fault_counts),
                events,
            },
            // Every gateway operation, with 0 for one never requested (`requests["preOrder"]`
            // reads 0, not a missing key, in every kit).
            requests: Operation::ALL
                .iter()
                .filter(|op| **op != Operation::Notify)
                .map(|op| (op.as_str().to_owned(), 0))
                .chain(self.requests.clone())
                .collect(),
            time_scale,
        }
    }

    pub(crate) fn reset(&mut self) {
        let merchants = std::mem::take(&mut self.merchants);
        let next_seq = self.next_seq;
        let epoch = self.epoch + 1;
        let seed = self.seed;
        let faults = std::mem::take(&mut self.faults);
        *self = Inner::default();
        self.merchants = merchants;
        self.next_seq = next_seq;
        self.epoch = epoch;
        self.seed = seed;
        self.faults = faults;
    }
}

/// Settings fixed at start.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub time_scale: f64,
    pub max_request_age: Option<Duration>,
    pub max_body_bytes: usize,
    pub body_timeout: Duration,
}

/// Shared by every task of one sandbox.
pub(crate) struct Shared {
    pub settings: Settings,
    pub inner: Mutex<Inner>,
    pub changed: tokio::sync::Notify,
    pub rt: tokio::runtime::Handle,
    /// Where state changes post the notifications they owe; `notify` delivers them (so this
    /// module never calls into `notify`: the state machine only emits).
    pub outbox: tokio::sync::mpsc::UnboundedSender<PendingNotification>,
    pub root_url: String,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Scales a gateway duration in seconds by `time_scale`.
    pub(crate) fn scaled(&self, secs: f64) -> Duration {
        Duration::from_secs_f64((secs * self.settings.time_scale).clamp(0.0, 1.0e9))
    }

    /// Runs the effects of a state change (outside the lock).
    pub(crate) fn apply_effects(self: &Arc<Self>, fx: Effects) {
        for n in fx.notify {
            // The receiver lives as long as the runtime's delivery task; after shutdown
            // there is nobody left to notify.
            let _ = self.outbox.send(n);
        }
        if fx.changed {
            self.changed.notify_waiters();
        }
    }

    /// Applies `t` to order `idx` now, if the epoch still matches.
    pub(crate) fn transition_now(self: &Arc<Self>, epoch: u64, idx: usize, t: &Transition) -> bool {
        let mut fx = Effects::default();
        let done = {
            let mut g = self.lock();
            if g.epoch != epoch {
                return false;
            }
            g.transition(idx, t, &mut fx)
        };
        self.apply_effects(fx);
        done
    }

    /// Applies `t` to order `idx` after `delay`.
    pub(crate) fn schedule(
        self: &Arc<Self>,
        epoch: u64,
        idx: usize,
        delay: Duration,
        t: Transition,
    ) {
        let me = self.clone();
        self.rt.spawn(async move {
            tokio::time::sleep(delay).await;
            me.transition_now(epoch, idx, &t);
        });
    }

    pub(crate) fn ledger(&self) -> Ledger {
        self.lock().ledger(self.settings.time_scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        // 2015-10-14 04:43:14 UTC+8 = 2015-10-13 20:43:14 UTC = 1444768994
        assert_eq!(gateway_time(1_444_768_994_000), "2015-10-14 04:43:14");
        assert_eq!(gateway_date(1_444_768_994_000), "20151014");
    }

    #[test]
    fn behaviours() {
        assert_eq!(Behaviour::of("130730865806264036"), Behaviour::PayNow);
        assert_eq!(
            Behaviour::of("130000000000001003"),
            Behaviour::ConfirmThenPay { secs: 3 }
        );
        assert_eq!(
            Behaviour::of("280000000000003000"),
            Behaviour::InsufficientFunds { secs: 0 }
        );
        assert_eq!(detect_channel("284214903060794755"), Some(Channel::Alipay));
        assert_eq!(detect_channel("130730865806264036"), Some(Channel::Wechat));
        assert_eq!(detect_channel("990000000000000000"), None);
    }
}
