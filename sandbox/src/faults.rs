//! Fault injection: which operation misbehaves, how, and how often; deterministic under a seed.
//!
//! The decision for the `n`-th request of an operation (counted from when the faults were last
//! set) depends only on the seed, the operation, `n` and the rule's position, so the same seed
//! and the same sequence of requests give the same faults.

use std::fmt;
use std::str::FromStr;

use serde_json::{json, Value};

/// An operation faults can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// `POST preOrder` (micropay).
    PreOrder,
    /// `POST order` (QR and JSAPI).
    Order,
    /// `POST refund`.
    Refund,
    /// `GET query/...`.
    Query,
    /// `GET cancelTrade/...`.
    CancelTrade,
    /// `POST .../platService/flowRecharge/...`.
    FlowRecharge,
    /// Each delivery attempt of a payment notification.
    Notify,
    /// In a rule: every gateway operation (all of the above except `Notify`).
    Any,
}

impl Operation {
    /// Every concrete operation (not `Any`).
    pub const ALL: [Operation; 7] = [
        Operation::PreOrder,
        Operation::Order,
        Operation::Refund,
        Operation::Query,
        Operation::CancelTrade,
        Operation::FlowRecharge,
        Operation::Notify,
    ];

    /// The name used in rules and in the ledger (`preOrder`, `cancelTrade`, `*`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::PreOrder => "preOrder",
            Operation::Order => "order",
            Operation::Refund => "refund",
            Operation::Query => "query",
            Operation::CancelTrade => "cancelTrade",
            Operation::FlowRecharge => "flowRecharge",
            Operation::Notify => "notify",
            Operation::Any => "*",
        }
    }

    fn index(self) -> u64 {
        match self {
            Operation::PreOrder => 1,
            Operation::Order => 2,
            Operation::Refund => 3,
            Operation::Query => 4,
            Operation::CancelTrade => 5,
            Operation::FlowRecharge => 6,
            Operation::Notify => 7,
            Operation::Any => 8,
        }
    }

    /// Does a rule for `self` apply to a request of `op`?
    pub fn covers(self, op: Operation) -> bool {
        self == op || (self == Operation::Any && op != Operation::Notify)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Operation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let all = Operation::ALL
            .iter()
            .copied()
            .chain(std::iter::once(Operation::Any));
        for op in all {
            if t.eq_ignore_ascii_case(op.as_str()) {
                return Ok(op);
            }
        }
        if t.eq_ignore_ascii_case("any") || t.eq_ignore_ascii_case("all") {
            return Ok(Operation::Any);
        }
        if t.eq_ignore_ascii_case("micropay") {
            return Ok(Operation::PreOrder);
        }
        if t.eq_ignore_ascii_case("cancel") {
            return Ok(Operation::CancelTrade);
        }
        Err(format!(
            "unknown operation {t:?}: expected preOrder, order, refund, query, cancelTrade, flowRecharge, notify or *"
        ))
    }
}

/// A top-level reply field the `omit` fault can remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OmitField {
    /// `STATE`: the order state.
    State,
    /// `AMT`: the amount.
    Amt,
    /// `CHARGE_CODE`: the merchant's order number.
    ChargeCode,
    /// `CHANNEL_TYPE`: the payment channel.
    ChannelType,
    /// `DYNAMIC_ID`: the customer's payment code (query replies of micropay orders).
    DynamicId,
}

impl OmitField {
    /// Every field `omit` accepts.
    pub const ALL: [OmitField; 5] = [
        OmitField::State,
        OmitField::Amt,
        OmitField::ChargeCode,
        OmitField::ChannelType,
        OmitField::DynamicId,
    ];

    /// The field's wire name (`STATE`, `AMT`, `CHARGE_CODE`, `CHANNEL_TYPE`, `DYNAMIC_ID`).
    pub fn as_wire(self) -> &'static str {
        match self {
            OmitField::State => "STATE",
            OmitField::Amt => "AMT",
            OmitField::ChargeCode => "CHARGE_CODE",
            OmitField::ChannelType => "CHANNEL_TYPE",
            OmitField::DynamicId => "DYNAMIC_ID",
        }
    }
}

impl fmt::Display for OmitField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_wire())
    }
}

impl FromStr for OmitField {
    type Err = String;
    /// The wire name, case-insensitively (`-` for `_` accepted).
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim().replace('-', "_");
        OmitField::ALL
            .iter()
            .copied()
            .find(|f| t.eq_ignore_ascii_case(f.as_wire()))
            .ok_or_else(|| {
                format!(
                    "omit parameter {s:?} is not a field omit can remove: expected STATE, AMT, CHARGE_CODE, CHANNEL_TYPE or DYNAMIC_ID"
                )
            })
    }
}

/// How an operation misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Close the connection without processing the request and without a reply.
    Drop,
    /// Process the request (money may move), then close the connection without a reply.
    DropReply,
    /// Process the request, then wait this many milliseconds (wall time, not scaled) before
    /// replying. For `notify`: wait before the delivery attempt.
    Delay {
        /// Milliseconds.
        ms: u64,
    },
    /// Answer with this HTTP status (500, 502 or 503) and an HTML body. The request is not
    /// processed unless `processed` is true (then it is processed and its reply replaced).
    HttpStatus {
        /// 500, 502 or 503.
        status: u16,
        /// Whether the request was processed before the error was returned.
        processed: bool,
    },
    /// Process the request, then reply 200 with a garbled body (bytes flipped).
    Garble,
    /// Process the request, then reply 200 with only the first half of the body.
    Truncate,
    /// `notify` only: sign the notification with a wrong signature.
    BadSign,
    /// `notify` only: after an attempt the merchant accepted (HTTP 200), send the same
    /// notification once more.
    Duplicate,
    /// Gateway only: the request is delayed in transit. Wait this many milliseconds (wall
    /// time, not scaled) **before** processing it, then process it (money may move) and reply.
    /// The request is processed even when the client has given up and closed the connection
    /// meanwhile (the work runs in its own task); it is checked (signature, timestamp age) as
    /// it arrives after the wait. It is dropped only if the sandbox is reset during the wait.
    Late {
        /// Milliseconds.
        ms: u64,
    },
    /// Gateway only: process the request, then remove this top-level field from the reply.
    Omit {
        /// The removed field (matched case-insensitively).
        field: OmitField,
    },
    /// Gateway only: process the request, then render the reply under another operation's
    /// root element: `REFUND_RESP` (`QUERY_RESP` for `refund`).
    WrongRoot,
    /// Gateway only: process the request, then turn a scalar top-level `STATE` into a list
    /// holding it: `"STATE":["1"]` in JSON; in XML the element is repeated
    /// (`<STATE>1</STATE><STATE>1</STATE>`), since a one-item list reads as a scalar there.
    ListState,
    /// Gateway only: process the request, then make a top-level `CHARGE_CODE` in the reply name
    /// another order (the code with `-OTHER` appended): a reply meant for another request.
    ForeignCode,
    /// Gateway only: process the request, then give the top-level `STATE` a second time, before
    /// it and spelled `state`, with a contradicting value (`1`, paid, unless the
    /// state is `1`; then `0`): a reply that says two things.
    Contradict,
    /// `cancelTrade` only: the customer's payment lands just as the cancel arrives. An order
    /// awaiting payment is paid, then the cancel reverses it (state 2, the money returned, the
    /// reply `SUCCESS`), but for this many milliseconds (wall time, not scaled) queries still
    /// show it paid: a gateway whose order record lags behind a reversal.
    StaleReversal {
        /// Milliseconds.
        ms: u64,
    },
    /// `query` only: process, then, if the order's state changed less than this many
    /// milliseconds ago (wall time, not scaled), show the state it had before: a gateway whose
    /// order record lags behind its last change.
    Lag {
        /// Milliseconds.
        ms: u64,
    },
    /// `refund` only: a refund whose `OUT_REFUND_NO` was used before for another refund (another
    /// amount or order) is answered with that earlier refund's reply (`SUCCESS`, its fund bills)
    /// instead of `SERIAL_REPEAT`, and nothing is refunded: a gateway that replays by number
    /// alone. A new number is refunded as usual.
    ReplayByNumber,
}

impl FaultKind {
    /// The kind's name in rules (`drop`, `drop_reply`, `delay`, `http502`, ...).
    pub fn name(&self) -> String {
        match self {
            FaultKind::Drop => "drop".into(),
            FaultKind::DropReply => "drop_reply".into(),
            FaultKind::Delay { .. } => "delay".into(),
            FaultKind::HttpStatus { status, .. } => format!("http{status}"),
            FaultKind::Garble => "garble".into(),
            FaultKind::Truncate => "truncate".into(),
            FaultKind::BadSign => "bad_sign".into(),
            FaultKind::Duplicate => "duplicate".into(),
            FaultKind::Late { .. } => "late".into(),
            FaultKind::Omit { .. } => "omit".into(),
            FaultKind::WrongRoot => "wrong_root".into(),
            FaultKind::ListState => "list_state".into(),
            FaultKind::ForeignCode => "foreign_code".into(),
            FaultKind::Contradict => "contradict".into(),
            FaultKind::StaleReversal { .. } => "stale_reversal".into(),
            FaultKind::Lag { .. } => "lag".into(),
            FaultKind::ReplayByNumber => "replay_by_number".into(),
        }
    }

    /// The rule parameter, if any (`delay`, `late`: milliseconds; `httpNNN`: `after`; `omit`:
    /// the field).
    pub fn param(&self) -> Option<String> {
        match self {
            FaultKind::Delay { ms }
            | FaultKind::Late { ms }
            | FaultKind::StaleReversal { ms }
            | FaultKind::Lag { ms } => Some(ms.to_string()),
            FaultKind::Omit { field } => Some(field.as_wire().into()),
            FaultKind::HttpStatus {
                processed: true, ..
            } => Some("after".into()),
            _ => None,
        }
    }

    fn parse(kind: &str, param: Option<&str>) -> Result<FaultKind, String> {
        let k = kind.trim().to_ascii_lowercase().replace('-', "_");
        let param = param.map(str::trim).filter(|p| !p.is_empty());
        let no_param = |fk: FaultKind| match param {
            None => Ok(fk),
            Some(p) => Err(format!("fault {k:?} takes no parameter (got {p:?})")),
        };
        match k.as_str() {
            "drop" => no_param(FaultKind::Drop),
            "drop_reply" | "dropreply" => no_param(FaultKind::DropReply),
            "delay" | "late" | "stale_reversal" | "stalereversal" | "lag" => {
                let ms = match param {
                    None => 1000,
                    Some(p) => p
                        .trim_end_matches("ms")
                        .parse::<u64>()
                        .map_err(|_| format!("{k} parameter {p:?} is not milliseconds"))?,
                };
                Ok(match k.as_str() {
                    "late" => FaultKind::Late { ms },
                    "delay" => FaultKind::Delay { ms },
                    "lag" => FaultKind::Lag { ms },
                    _ => FaultKind::StaleReversal { ms },
                })
            }
            "omit" => {
                let p = param.ok_or(
                    "fault \"omit\" needs the field to remove: STATE, AMT, CHARGE_CODE, CHANNEL_TYPE or DYNAMIC_ID (e.g. preOrder:omit:1:STATE)",
                )?;
                Ok(FaultKind::Omit { field: p.parse()? })
            }
            "wrong_root" | "wrongroot" => no_param(FaultKind::WrongRoot),
            "list_state" | "liststate" => no_param(FaultKind::ListState),
            "foreign_code" | "foreigncode" => no_param(FaultKind::ForeignCode),
            "contradict" => no_param(FaultKind::Contradict),
            "replay_by_number" | "replaybynumber" => no_param(FaultKind::ReplayByNumber),
            "http500" | "http502" | "http503" | "500" | "502" | "503" => {
                let status: u16 = k.trim_start_matches("http").parse().unwrap_or(500);
                let processed = match param {
                    None => false,
                    Some(p) if p.eq_ignore_ascii_case("after") => true,
                    Some(p) if p.eq_ignore_ascii_case("before") => false,
                    Some(p) => {
                        return Err(format!(
                            "http fault parameter {p:?} must be \"after\" or \"before\""
                        ))
                    }
                };
                Ok(FaultKind::HttpStatus { status, processed })
            }
            "garble" | "garbled" => no_param(FaultKind::Garble),
            "truncate" | "truncated" => no_param(FaultKind::Truncate),
            "bad_sign" | "badsign" | "wrong_sign" => no_param(FaultKind::BadSign),
            "duplicate" | "dup" => no_param(FaultKind::Duplicate),
            _ => Err(format!(
                "unknown fault kind {kind:?}: expected drop, drop_reply, delay, late, http500, http502, http503, garble, truncate, omit, wrong_root, list_state, foreign_code, contradict, stale_reversal, lag, replay_by_number, bad_sign or duplicate"
            )),
        }
    }
}

/// One fault rule: on `op`, with `probability`, misbehave as `kind`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultRule {
    /// The operation (`Operation::Any`: every gateway operation, not `notify`).
    pub op: Operation,
    /// What happens.
    pub kind: FaultKind,
    /// Chance per request, 0.0 to 1.0.
    pub probability: f64,
}

impl FaultRule {
    /// A rule; checks that the kind fits the operation and the probability is in 0..=1.
    pub fn new(op: Operation, kind: FaultKind, probability: f64) -> Result<FaultRule, String> {
        if !probability.is_finite() || !(0.0..=1.0).contains(&probability) {
            return Err(format!("probability {probability} is not between 0 and 1"));
        }
        let notify_only = matches!(kind, FaultKind::BadSign | FaultKind::Duplicate);
        let gateway_only = matches!(
            kind,
            FaultKind::Drop
                | FaultKind::DropReply
                | FaultKind::HttpStatus { .. }
                | FaultKind::Late { .. }
                | FaultKind::Omit { .. }
                | FaultKind::WrongRoot
                | FaultKind::ListState
                | FaultKind::ForeignCode
                | FaultKind::Contradict
        );
        if op == Operation::Notify && gateway_only {
            return Err(format!(
                "fault {} does not apply to notify (use delay, garble, truncate, bad_sign or duplicate)",
                kind.name()
            ));
        }
        if op != Operation::Notify && notify_only {
            return Err(format!("fault {} applies to notify only", kind.name()));
        }
        if matches!(kind, FaultKind::StaleReversal { .. }) && op != Operation::CancelTrade {
            return Err(format!("fault {} applies to cancelTrade only", kind.name()));
        }
        if matches!(kind, FaultKind::Lag { .. }) && op != Operation::Query {
            return Err(format!("fault {} applies to query only", kind.name()));
        }
        if kind == FaultKind::ReplayByNumber && op != Operation::Refund {
            return Err(format!("fault {} applies to refund only", kind.name()));
        }
        Ok(FaultRule {
            op,
            kind,
            probability,
        })
    }

    /// The rule as JSON: `{"op", "kind", "probability", "param"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "op": self.op.as_str(),
            "kind": self.kind.name(),
            "probability": self.probability,
            "param": self.kind.param(),
        })
    }

    /// From JSON: either the string form `"op:kind:prob[:param]"` or an object
    /// `{"op": "preOrder", "kind": "drop_reply", "probability": 0.3, "param": ...}`.
    pub fn from_json(v: &Value) -> Result<FaultRule, String> {
        match v {
            Value::String(s) => s.parse(),
            Value::Object(m) => {
                let op: Operation = m
                    .get("op")
                    .and_then(Value::as_str)
                    .ok_or("a fault rule needs \"op\"")?
                    .parse()?;
                let kind_s = m
                    .get("kind")
                    .and_then(Value::as_str)
                    .ok_or("a fault rule needs \"kind\"")?;
                let probability = match m.get("probability").or_else(|| m.get("prob")) {
                    None => 1.0,
                    Some(Value::Number(n)) => n.as_f64().ok_or("bad probability")?,
                    Some(Value::String(s)) => s
                        .trim()
                        .parse::<f64>()
                        .map_err(|_| format!("probability {s:?} is not a number"))?,
                    Some(_) => return Err("probability must be a number".into()),
                };
                let param = match m.get("param") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    Some(_) => return Err("param must be a string or a number".into()),
                };
                FaultRule::new(op, FaultKind::parse(kind_s, param.as_deref())?, probability)
            }
            _ => Err("a fault rule is a string \"op:kind:prob[:param]\" or an object".into()),
        }
    }
}

impl FromStr for FaultRule {
    type Err = String;
    /// Parses `op:kind:prob[:param]`, e.g. `preOrder:drop_reply:0.3`, `query:delay:0.5:2000`,
    /// `*:http502:0.1:after`, `notify:duplicate:1`, `preOrder:late:1:1500`,
    /// `query:omit:0.5:AMT`, `refund:wrong_root:1`, `query:list_state:1`,
    /// `preOrder:foreign_code:1`.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.splitn(4, ':');
        let op = parts.next().unwrap_or("");
        let kind = parts
            .next()
            .ok_or_else(|| format!("fault {s:?} is not op:kind:prob[:param]"))?;
        let prob = match parts.next() {
            None => 1.0,
            Some(p) => p
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("probability {p:?} in {s:?} is not a number"))?,
        };
        let param = parts.next();
        FaultRule::new(op.parse()?, FaultKind::parse(kind, param)?, prob)
    }
}

impl fmt::Display for FaultRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.op.as_str(),
            self.kind.name(),
            self.probability
        )?;
        if let Some(p) = self.kind.param() {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A uniform draw in [0, 1) for (seed, op, n, rule).
fn draw(seed: u64, op: Operation, n: u64, rule: usize) -> f64 {
    let h = splitmix64(
        splitmix64(splitmix64(seed ^ op.index().wrapping_mul(0x1000_0000_01B3)) ^ n)
            ^ (rule as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93),
    );
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// The fault, if any, for the `n`-th request (1-based) of `op`: the first matching rule whose
/// draw falls under its probability.
pub(crate) fn decide(seed: u64, rules: &[FaultRule], op: Operation, n: u64) -> Option<FaultKind> {
    rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.op.covers(op))
        .find(|(i, r)| draw(seed, op, n, *i) < r.probability)
        .map(|(_, r)| r.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        let r: FaultRule = "preOrder:drop_reply:0.3".parse().expect("rule");
        assert_eq!(r.op, Operation::PreOrder);
        assert_eq!(r.kind, FaultKind::DropReply);
        let r: FaultRule = "query:delay:0.5:250".parse().expect("rule");
        assert_eq!(r.kind, FaultKind::Delay { ms: 250 });
        let r: FaultRule = "*:http502:1:after".parse().expect("rule");
        assert_eq!(
            r.kind,
            FaultKind::HttpStatus {
                status: 502,
                processed: true
            }
        );
        assert_eq!(r.to_string(), "*:http502:1:after");
        assert!("notify:drop:1".parse::<FaultRule>().is_err());
        assert!("order:bad_sign:1".parse::<FaultRule>().is_err());
        assert!("order:drop:1.5".parse::<FaultRule>().is_err());
        assert!("nope:drop:1".parse::<FaultRule>().is_err());
        let j = FaultRule::from_json(&r.to_json()).expect("json");
        assert_eq!(j, r);
    }

    #[test]
    fn reply_shaping_kinds_parse_and_round_trip() {
        let cases = [
            ("preOrder:late:1:1500", FaultKind::Late { ms: 1500 }),
            ("refund:late:0.5:20ms", FaultKind::Late { ms: 20 }),
            ("query:late:1", FaultKind::Late { ms: 1000 }),
            (
                "preOrder:omit:1:STATE",
                FaultKind::Omit {
                    field: OmitField::State,
                },
            ),
            (
                "query:omit:0.5:amt",
                FaultKind::Omit {
                    field: OmitField::Amt,
                },
            ),
            (
                "*:omit:1:charge-code",
                FaultKind::Omit {
                    field: OmitField::ChargeCode,
                },
            ),
            (
                "order:omit:1:Channel_Type",
                FaultKind::Omit {
                    field: OmitField::ChannelType,
                },
            ),
            (
                "query:omit:1:DYNAMIC_ID",
                FaultKind::Omit {
                    field: OmitField::DynamicId,
                },
            ),
            ("refund:wrong_root:1", FaultKind::WrongRoot),
            ("order:wrong-root:1", FaultKind::WrongRoot),
            ("query:list_state:0.25", FaultKind::ListState),
            ("preOrder:foreign_code:1", FaultKind::ForeignCode),
            (
                "cancelTrade:stale_reversal:1",
                FaultKind::StaleReversal { ms: 1000 },
            ),
            (
                "cancelTrade:stale_reversal:0.5:400",
                FaultKind::StaleReversal { ms: 400 },
            ),
            ("query:lag:1", FaultKind::Lag { ms: 1000 }),
            ("query:lag:0.2:250", FaultKind::Lag { ms: 250 }),
            ("refund:replay_by_number:1", FaultKind::ReplayByNumber),
        ];
        for (text, kind) in cases {
            let r: FaultRule = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(r.kind, kind, "{text}");
            // The string form round-trips (canonical names and parameters)...
            let again: FaultRule = r.to_string().parse().expect("display parses");
            assert_eq!(again, r, "{text} -> {r}");
            // ...and so does the JSON form.
            let j = r.to_json();
            assert_eq!(j["kind"], kind.name());
            assert_eq!(FaultRule::from_json(&j).expect("json"), r, "{j}");
            assert_eq!(
                FaultRule::from_json(&Value::String(text.into())).expect("json string"),
                r
            );
        }
        let r: FaultRule = "preOrder:late:1:1500".parse().expect("rule");
        assert_eq!(r.to_string(), "preOrder:late:1:1500");
        assert_eq!(
            r.to_json(),
            json!({"op": "preOrder", "kind": "late", "probability": 1.0, "param": "1500"})
        );
        let r: FaultRule = "query:omit:0.5:amt".parse().expect("rule");
        assert_eq!(r.to_string(), "query:omit:0.5:AMT");
        assert_eq!(r.to_json()["param"], "AMT");
        assert_eq!(
            "refund:wrong_root:1"
                .parse::<FaultRule>()
                .expect("rule")
                .to_json()["param"],
            Value::Null
        );
        // Object form with a numeric parameter.
        let j = json!({"op": "preOrder", "kind": "late", "probability": 1, "param": 250});
        assert_eq!(
            FaultRule::from_json(&j).expect("json").kind,
            FaultKind::Late { ms: 250 }
        );

        // Bad forms.
        for bad in [
            "preOrder:omit:1",
            "preOrder:omit:1:BUSI_ID",
            "preOrder:late:1:soon",
            "preOrder:wrong_root:1:x",
            "preOrder:list_state:1:STATE",
            "notify:late:1:100",
            "notify:omit:1:STATE",
            "notify:wrong_root:1",
            "notify:list_state:1",
            "preOrder:foreign_code:1:x",
            "notify:foreign_code:1",
            "query:stale_reversal:1",
            "*:stale_reversal:1",
            "notify:stale_reversal:1",
            "cancelTrade:stale_reversal:1:soon",
            "query:replay_by_number:1",
            "*:replay_by_number:1",
            "refund:replay_by_number:1:x",
        ] {
            assert!(bad.parse::<FaultRule>().is_err(), "{bad} should not parse");
        }
        let e = "query:nope:1"
            .parse::<FaultRule>()
            .expect_err("unknown kind");
        for k in [
            "late",
            "omit",
            "wrong_root",
            "list_state",
            "foreign_code",
            "stale_reversal",
            "lag",
            "replay_by_number",
        ] {
            assert!(e.contains(k), "{e}");
        }
        let e = "query:omit:1:FOO"
            .parse::<FaultRule>()
            .expect_err("bad field");
        assert!(e.contains("CHANNEL_TYPE"), "{e}");
    }

    #[test]
    fn deterministic_and_roughly_fair() {
        let rules = vec![FaultRule::new(Operation::Query, FaultKind::Drop, 0.25).expect("rule")];
        let a: Vec<bool> = (1..=4000)
            .map(|n| decide(7, &rules, Operation::Query, n).is_some())
            .collect();
        let b: Vec<bool> = (1..=4000)
            .map(|n| decide(7, &rules, Operation::Query, n).is_some())
            .collect();
        assert_eq!(a, b);
        let hits = a.iter().filter(|x| **x).count();
        assert!((800..1200).contains(&hits), "{hits}");
        let c: Vec<bool> = (1..=4000)
            .map(|n| decide(8, &rules, Operation::Query, n).is_some())
            .collect();
        assert_ne!(a, c);
        assert!(decide(7, &rules, Operation::Order, 1).is_none());
    }
}
