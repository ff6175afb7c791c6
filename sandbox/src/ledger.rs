//! The ledger: everything the sandbox did, as typed records. `GET /_sandbox/ledger` (and
//! [`Sandbox::ledger_json`](crate::Sandbox::ledger_json)) is these records serialized, field
//! for field; the testing kits of the bindings read the same shapes (Kotlin and Swift get them
//! generated through uniffi with the `uniffi` feature).

use std::collections::{BTreeMap, HashMap};

use serde::{Serialize, Serializer};

/// Serializes a map with its keys in order (a `HashMap` has none of its own).
fn sorted<S: Serializer>(map: &HashMap<String, u64>, s: S) -> Result<S::Ok, S::Error> {
    map.iter().collect::<BTreeMap<_, _>>().serialize(s)
}

/// One order as the gateway holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LedgerOrder {
    /// The merchant (`BUSI_ID`).
    pub busi_id: String,
    /// The merchant's order number (`CHARGE_CODE`).
    pub charge_code: String,
    /// The gateway's order number (`CHARGE_DOWN_CODE`).
    pub charge_down_code: String,
    /// The channel's order number, once paid.
    pub charge_third_code: Option<String>,
    /// `micropay`, `qr` or `jsapi`.
    pub kind: String,
    /// The channel's wire code (`CHANNEL_TYPE`), when numeric.
    pub channel: Option<u32>,
    /// The amount, in fen.
    pub amount_fen: u64,
    /// What was refunded of it, in fen.
    pub refunded_fen: u64,
    /// The order state's wire code (`STATE`: 0 awaiting payment, 1 paid, ...).
    pub state: Option<u32>,
    /// The state's name (`Paid`, `AwaitingPayment`, ...: the core's `OrderState` names).
    pub state_name: String,
    /// `PAY_SUBJECT`.
    pub pay_subject: String,
    /// The customer's payment code (micropay only).
    pub dynamic_id: Option<String>,
    /// The verification code(s) sent with the order.
    pub verify_code: Option<String>,
    /// Where notifications go (`NODIFY_URL`).
    pub notify_url: Option<String>,
    /// Why the payment failed or was cancelled, when it did.
    pub fail_reason: Option<String>,
    /// When the order was created (ms since the Unix epoch).
    pub created_at_ms: u64,
    /// When it was paid.
    pub paid_at_ms: Option<u64>,
    /// When it reached a final state.
    pub ended_at_ms: Option<u64>,
    /// When an unpaid order expires (or a micropay's hold ends).
    pub expires_at_ms: Option<u64>,
    /// `BEGIN_TIME` as the gateway writes it (`yyyy-MM-dd HH:mm:ss`, UTC+8).
    pub begin_time: String,
}

/// One refund.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LedgerRefund {
    /// The merchant.
    pub busi_id: String,
    /// The merchant's refund number (`OUT_REFUND_NO`), when given.
    pub out_refund_no: Option<String>,
    /// The refunded order's `CHARGE_CODE`.
    pub charge_code: String,
    /// The refunded order's `CHARGE_DOWN_CODE`.
    pub charge_down_code: String,
    /// The refunded amount, in fen.
    pub amount_fen: u64,
    /// The order's state code after the refund (4 partly refunded, 5 refunded).
    pub state_after: Option<u32>,
    /// When the refund was made.
    pub created_at_ms: u64,
    /// How many times the same refund was asked for again (and answered the same).
    pub replays: u32,
}

/// One attempt at delivering a payment notification (`PAY_NODIFY`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NotificationAttempt {
    /// The merchant.
    pub busi_id: String,
    /// The order notified about.
    pub charge_code: String,
    /// The order's `NODIFY_URL`.
    pub url: String,
    /// 1 for the first attempt, then 2, 3, ...
    pub attempt: u32,
    /// The HTTP status the merchant answered, if it answered.
    pub http_status: Option<u16>,
    /// The merchant answered HTTP 200: the gateway stops retrying.
    pub accepted: bool,
    /// Why there was no answer (connection refused, timeout, ...).
    pub error: Option<String>,
    /// When the attempt was made.
    pub at_ms: u64,
    /// `json` or `xml`.
    pub format: String,
    /// Whether the body was 3DES-encrypted.
    pub encrypted: bool,
    /// The fault injected into this attempt, if any.
    pub fault: Option<String>,
    /// Whether this was the second copy sent by the `duplicate` fault.
    pub duplicate: bool,
}

/// One mobile data top-up (`flowRecharge`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TopUp {
    /// The merchant.
    pub busi_id: String,
    /// The gateway's order id.
    pub order_id: String,
    /// The phone number topped up.
    pub phone_no: String,
    /// The data volume, in MB.
    pub flow_val: u32,
    /// The top-up type (`0` national, ...).
    pub flow_type: String,
    /// When it was made.
    pub created_at_ms: u64,
}

/// A fault rule in force, in its parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FaultRuleRecord {
    /// The operation (`preOrder`, `query`, ..., `notify`, `*`).
    pub op: String,
    /// The fault (`drop_reply`, `delay`, ...).
    pub kind: String,
    /// Chance per request, 0.0 to 1.0.
    pub probability: f64,
    /// The fault's parameter (milliseconds, status, field), if it has one.
    pub param: Option<String>,
}

/// One fault that was injected.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct InjectedFault {
    /// The operation it hit.
    pub op: String,
    /// The fault.
    pub kind: String,
    /// The operation's request number it hit (1 for the first).
    pub request_no: u64,
    /// The order the request named, when it named one.
    pub charge_code: Option<String>,
    /// When.
    pub at_ms: u64,
}

/// The faults: the rules in force and what they did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FaultLog {
    /// The seed of the deterministic draws.
    pub seed: u64,
    /// The rules in force.
    pub rules: Vec<FaultRuleRecord>,
    /// How many faults of each kind were injected, by `op:kind`.
    #[serde(serialize_with = "sorted")]
    pub injected: HashMap<String, u64>,
    /// Every injected fault, in order.
    pub events: Vec<InjectedFault>,
}

/// Everything that happened since the sandbox started (or was last reset).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Ledger {
    /// Every order, in the order they were created.
    pub orders: Vec<LedgerOrder>,
    /// Every refund.
    pub refunds: Vec<LedgerRefund>,
    /// Every notification delivery attempt.
    pub notifications: Vec<NotificationAttempt>,
    /// Every top-up.
    pub flow_recharges: Vec<TopUp>,
    /// The fault rules and what they injected.
    pub faults: FaultLog,
    /// How many requests each gateway operation received (every one, 0 if never requested).
    #[serde(serialize_with = "sorted")]
    pub requests: HashMap<String, u64>,
    /// The time scale the sandbox runs at.
    pub time_scale: f64,
    /// The sum of the amounts of the orders the customer paid (`STATE` 1, 4 or 5), in fen:
    /// their refunds are not deducted. A paid order reversed (cancelled: the whole payment went
    /// back) is counted in neither total: paid minus refunded is what the shop kept.
    pub paid_fen: u64,
    /// The sum of the refunds of the orders counted as paid, in fen.
    pub refunded_fen: u64,
}

impl Ledger {
    /// The ledger as JSON (the shape of `GET /_sandbox/ledger`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Why no payment notification (for `charge_code`, if given) is to be expected, when the
    /// ledger can tell: no such order, no notify URL, not paid (a notification goes out only
    /// when an order with a notify URL is paid). `None` when one is (or was) due. The kits add
    /// it to a notification wait's timeout message.
    pub fn why_no_notification(&self, charge_code: Option<&str>) -> Option<String> {
        let orders: Vec<&LedgerOrder> = self
            .orders
            .iter()
            .filter(|o| charge_code.is_none_or(|c| o.charge_code == c))
            .collect();
        let with_url: Vec<&LedgerOrder> = orders
            .iter()
            .copied()
            .filter(|o| o.notify_url.is_some())
            .collect();
        let paid = with_url.iter().any(|o| o.paid_at_ms.is_some());
        Some(match charge_code {
            Some(c) if orders.is_empty() => {
                format!("no order {c} exists (the sandbox never received it)")
            }
            Some(c) if with_url.is_empty() => format!(
                "order {c} has no notify URL (created without notify_url): the sandbox sends it no notification"
            ),
            Some(c) if !paid => format!(
                "order {c} was not paid (it is {}): a notification goes out once it is paid",
                with_url.last().map_or("?", |o| o.state_name.as_str())
            ),
            None if orders.is_empty() => "the sandbox has no orders".to_owned(),
            None if with_url.is_empty() => {
                "no order has a notify URL (created without notify_url): the sandbox sends no notification".to_owned()
            }
            None if !paid => {
                "no order with a notify URL was paid: a notification goes out once one is".to_owned()
            }
            _ => return None,
        })
    }

    /// A notification wait's error with [`Ledger::why_no_notification`] added to a timeout's
    /// reason (`...; attempts: []; order A-1 has no notify URL ...`); any other error as it is.
    pub fn explain_notification_wait(
        &self,
        charge_code: Option<&str>,
        e: crate::SandboxError,
    ) -> crate::SandboxError {
        match (e, self.why_no_notification(charge_code)) {
            (crate::SandboxError::Timeout { reason, after_ms }, Some(why)) => {
                crate::SandboxError::Timeout {
                    reason: format!("{reason}; {why}"),
                    after_ms,
                }
            }
            (e, _) => e,
        }
    }
}

impl LedgerOrder {
    /// The order as JSON (the shape of `GET /_sandbox/orders/{charge_code}`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::{KitOptions, SandboxHandle};

    fn order(code: &str, notify_url: Option<&str>, paid: bool) -> LedgerOrder {
        LedgerOrder {
            busi_id: "B".into(),
            charge_code: code.into(),
            charge_down_code: "D".into(),
            charge_third_code: None,
            kind: "qr".into(),
            channel: Some(2),
            amount_fen: 100,
            refunded_fen: 0,
            state: Some(u32::from(paid)),
            state_name: if paid { "Paid" } else { "AwaitingPayment" }.into(),
            pay_subject: "x".into(),
            dynamic_id: None,
            verify_code: None,
            notify_url: notify_url.map(str::to_owned),
            fail_reason: None,
            created_at_ms: 0,
            paid_at_ms: paid.then_some(1),
            ended_at_ms: None,
            expires_at_ms: None,
            begin_time: String::new(),
        }
    }

    fn ledger(orders: Vec<LedgerOrder>) -> Ledger {
        Ledger {
            orders,
            refunds: vec![],
            notifications: vec![],
            flow_recharges: vec![],
            faults: FaultLog {
                seed: 0,
                rules: vec![],
                injected: HashMap::new(),
                events: vec![],
            },
            requests: HashMap::new(),
            time_scale: 1.0,
            paid_fen: 0,
            refunded_fen: 0,
        }
    }

    #[test]
    fn why_no_notification_names_the_cause() {
        let why = |l: &Ledger, c| l.why_no_notification(c).unwrap_or_default();
        let empty = ledger(vec![]);
        assert_eq!(why(&empty, None), "the sandbox has no orders");
        assert!(why(&empty, Some("A")).starts_with("no order A exists"));
        let l = ledger(vec![
            order("NO-URL", None, true),
            order("UNPAID", Some("http://x/"), false),
            order("DUE", Some("http://x/"), true),
        ]);
        assert!(why(&l, Some("NO-URL")).starts_with("order NO-URL has no notify URL"));
        assert!(why(&l, Some("UNPAID"))
            .starts_with("order UNPAID was not paid (it is AwaitingPayment)"));
        assert_eq!(l.why_no_notification(Some("DUE")), None);
        assert_eq!(l.why_no_notification(None), None);
        let l = ledger(vec![order("NO-URL", None, true)]);
        assert!(why(&l, None).starts_with("no order has a notify URL"));
        let l = ledger(vec![order("UNPAID", Some("http://x/"), false)]);
        assert!(why(&l, None).starts_with("no order with a notify URL was paid"));
    }

    #[test]
    fn explain_notification_wait_extends_a_timeout_only() {
        let l = ledger(vec![]);
        let timeout = crate::SandboxError::Timeout {
            reason: "no 1 notification(s) for A within 5ms; attempts: []".into(),
            after_ms: 5,
        };
        match l.explain_notification_wait(Some("A"), timeout) {
            crate::SandboxError::Timeout { reason, after_ms } => {
                assert_eq!(after_ms, 5);
                assert!(
                    reason.ends_with(
                        "attempts: []; no order A exists (the sandbox never received it)"
                    ),
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        }
        let closed = l.explain_notification_wait(Some("A"), crate::SandboxError::Closed);
        assert!(matches!(closed, crate::SandboxError::Closed));
    }

    #[test]
    fn requests_name_every_gateway_operation() {
        let sb = SandboxHandle::start(&KitOptions::default()).expect("start");
        let zeros: HashMap<String, u64> = [
            "preOrder",
            "order",
            "refund",
            "query",
            "cancelTrade",
            "flowRecharge",
        ]
        .into_iter()
        .map(|op| (op.to_owned(), 0))
        .collect();
        assert_eq!(sb.ledger().expect("ledger").requests, zeros);
        let json = sb.ledger_json().expect("ledger");
        assert_eq!(json["requests"]["preOrder"], 0);
        assert!(json["requests"].get("notify").is_none());
        sb.close();
    }
}
