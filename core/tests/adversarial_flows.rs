//! The flows against a scripted gateway that tells the truth but says it badly: a model of the
//! order under the charge code (none, this payment's, or another payment's, with a state that
//! moves on as the customer confirms and the gateway acts), behind replies that are lost, late,
//! refused with 503, missing `STATE`, spelled in lower case, numbers as text, about another
//! order, contradicting themselves or under another root. Whatever the script, the outcome
//! must agree with the model's final truth (BEHAVIOUR.md):
//!
//! * `Paid` only if this payment's order ends in a paid state (1, 4, 5, 8, 9), with the order
//!   shown for this payment's amount;
//! * `Cancelled` only if this payment's order ends cancelled (2);
//! * `Failed` only if no money is or can still be taken: no order of this payment, or it is
//!   closed (6) or cancelled (2);
//! * `Conflict` only if the order under the code is another payment's;
//! * another payment's order is never cancelled;
//! * the flow ends within its `max_duration` (plus scheduling slack).
//!
//! `Unresolved` is always allowed (nothing proven); how often it happens is printed.
//! `ADVERSARIAL_CASES` sets the number of cases per flow (default 40; docs/RELIABILITY.md).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use sosopay::models::MicropayRequest;
use sosopay::{
    Amount, AwaitedOrder, CancelToken, Channel, Client, ClientConfig, Envelope, FlowControl,
    MerchantKey, OutcomeStatus, PaymentOutcome, RetryPolicy, WaitOptions,
};

const BUSI: &str = "0010000001";
const KEY: &str = "98SDKFUO432HNODS098EEE07U9DUOIUE";
const PAID: [u8; 5] = [1, 4, 5, 8, 9];
/// The `MERCHANTPARA` of this payment, when the plan gives one.
const PARA: &str = "this-order";

/// How an exchange goes at the HTTP level.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fate {
    /// The request is carried out and the reply delivered.
    Deliver,
    /// Carried out; the connection then closes without a reply.
    LostAfter,
    /// Never reaches the gateway: the connection closes without a reply.
    DropBefore,
    /// Refused with HTTP 503 before it is carried out.
    Busy,
    /// Carried out; the reply comes after the client's timeout.
    Slow,
}

/// How a delivered reply is written (every form says the same truth, or nothing).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Form {
    Clean,
    /// `STATE` left out.
    NoState,
    /// `STATE` as an object.
    StateObject,
    /// The order's field names in lower case.
    LowerCase,
    /// Numbers as text (`"AMT":"1250"`, `"STATE":"1"`).
    Text,
    /// `SUCESS`, the appendix's spelling.
    Sucess,
    /// A reply about another charge code (meant for another request).
    OtherCode,
    /// `state` with another value before the real `STATE`.
    Contradict,
    /// Under another operation's root element.
    WrongRoot,
    /// `AMT` left out.
    NoAmount,
    /// `DYNAMIC_ID` masked (`1307**********4036`).
    Masked,
    /// `RESULT` alone: no order fields at all.
    Bare,
    /// Not JSON at all (a truncated document).
    Garbled,
    /// In XML, every value in a CDATA section (`<AMT><![CDATA[1250]]></AMT>`), and the document
    /// indented; in JSON, indented.
    Wrapped,
}

/// What the gateway does with this payment's micropay when no order holds the code.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reception {
    /// Refused with a definite code: no order.
    Refuse(&'static str),
    /// An order in this state (0: the customer is confirming, 1: paid, 6: closed).
    Create(u8),
}

/// An order under the code before the flow starts: another payment's.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Foreign {
    /// How it differs from this payment.
    differs: Differs,
    state: u8,
    /// The micropay is answered with `SERIAL_REPEAT` (else: `SUCCESS` showing that order).
    serial_repeat: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CancelEffect {
    /// The order is cancelled (a payment reversed): `SUCCESS`.
    Works,
    /// Refused with `FAIL`; nothing changes.
    Refused,
    /// Answered `SUCCESS`, but the order stays as it was (a cancel that did not take).
    Ignored,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Differs {
    /// Another amount (this many fen more).
    Amount(u64),
    /// The same amount, another customer's payment code.
    Customer,
    /// The same amount and customer, another channel (the request fixes WeChat).
    Channel,
    /// The same amount and customer, another `MERCHANTPARA` (the request gives one).
    Para,
}

/// What this payment's micropay asks for, as the gateway records it.
#[derive(Debug, Clone)]
struct Sale {
    amount_fen: u64,
    dynamic_id: String,
    para: Option<String>,
}

#[derive(Debug, Clone)]
struct Plan {
    amount_fen: u64,
    /// The request fixes the channel (WeChat) instead of auto-detection.
    fixed_channel: bool,
    /// The request gives `MERCHANTPARA`.
    with_para: bool,
    foreign: Option<Foreign>,
    reception: Reception,
    /// The micropay exchange; with `DropBefore`, `late_ms` makes the dropped micropay reach
    /// the gateway that much later (else it never does).
    micropay_fate: Fate,
    micropay_form: Form,
    late_ms: Option<u64>,
    /// After this many queries an order awaiting payment moves to `moves_to` (0: never).
    moves_after: u8,
    moves_to: u8,
    /// After that many more queries a paid order moves on (a refund: 4, 5, 8).
    then_to: Option<u8>,
    query_fates: Vec<Fate>,
    query_forms: Vec<Form>,
    cancel_fates: Vec<Fate>,
    /// What a cancel of this payment's open or paid order does.
    cancel_effect: CancelEffect,
    deadline_ms: u64,
    hold_ms: u64,
    /// The till flow's cancel token is cancelled this long after the start (the cashier's
    /// cancel button).
    stop_after_ms: Option<u64>,
    /// The client uses the 3DES envelope (requests and replies Base64 ciphertext).
    encrypt: bool,
    /// The client asks for XML replies (the gateway's default) instead of JSON.
    xml: bool,
    /// What the gateway answers a micropay under a code whose order exists: `SERIAL_REPEAT`
    /// (the document), or a plain `FAIL` (a gateway that words it so).
    duplicate_answer: &'static str,
}

#[derive(Debug, Clone)]
struct Order {
    ours: bool,
    amount_fen: u64,
    dynamic_id: String,
    /// `CHANNEL_TYPE`.
    channel: u8,
    para: Option<String>,
    state: u8,
    queries: u32,
    paid_queries: u32,
}

/// The gateway's truth and its script, per charge code.
#[derive(Default)]
struct World {
    cases: HashMap<String, Case>,
}

struct Case {
    plan: Plan,
    order: Option<Order>,
    /// A micropay that reaches the gateway late, and when.
    late: Option<(Instant, Sale)>,
    micropays: u32,
    /// Every exchange, for the failure message.
    trace: Vec<String>,
    started: Instant,
    queries: usize,
    cancels: usize,
    foreign_cancelled: bool,
    /// A cancel was answered `SUCCESS` without taking effect, and no query has shown the
    /// order's state since (the flow cannot have seen the lie then).
    unseen_ignored_cancel: bool,
}

enum Action {
    Reply(u16, String),
    /// The reply after a pause (the client has given up by then).
    Later(Duration, String),
    Close,
}

fn order_fields(code: &str, o: &Order) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("CHARGE_CODE".into(), json!(code));
    m.insert("AMT".into(), json!(o.amount_fen));
    m.insert("STATE".into(), json!(o.state));
    m.insert("DYNAMIC_ID".into(), json!(o.dynamic_id));
    m.insert("CHANNEL_TYPE".into(), json!(o.channel));
    if let Some(p) = &o.para {
        m.insert("MERCHANTPARA".into(), json!(p));
    }
    m.insert("BUSI_ID".into(), json!(BUSI));
    m.insert("CHARGE_DOWN_CODE".into(), json!(format!("D{code}")));
    m
}

/// The reply text: `RESULT` and the fields, under `root`, written in `form`, as JSON or (`xml`)
/// as the gateway's default XML.
fn reply(root: &str, code: &str, mut fields: Map<String, Value>, form: Form, xml: bool) -> String {
    let ok = code == "SUCCESS";
    let state = fields.get("STATE").cloned();
    match form {
        Form::NoState => {
            fields.remove("STATE");
        }
        Form::StateObject => {
            if let Some(s) = state.clone() {
                fields.insert("STATE".into(), json!({ "value": s }));
            }
        }
        Form::LowerCase => {
            fields = fields
                .into_iter()
                .map(|(k, v)| (k.to_lowercase(), v))
                .collect();
        }
        Form::Text => {
            for v in fields.values_mut() {
                if let Value::Number(n) = v {
                    *v = Value::String(n.to_string());
                }
            }
        }
        Form::NoAmount => {
            fields.remove("AMT");
        }
        Form::Bare => fields.clear(),
        Form::Masked => {
            if let Some(Value::String(d)) = fields.get_mut("DYNAMIC_ID") {
                if d.len() > 8 {
                    let stars = "*".repeat(d.len() - 8);
                    *d = format!("{}{stars}{}", &d[..4], &d[d.len() - 4..]);
                }
            }
        }
        Form::OtherCode => {
            if let Some(Value::String(cc)) = fields.get_mut("CHARGE_CODE") {
                cc.push('X');
            }
        }
        _ => {}
    }
    let result_code = if ok && form == Form::Sucess {
        "SUCESS"
    } else {
        code
    };
    let mut inner = Map::new();
    inner.insert(
        "RESULT".into(),
        json!({"CODE": result_code, "INFO": "scripted"}),
    );
    inner.extend(fields);
    let root = if form == Form::WrongRoot {
        "REFUND_RESP"
    } else {
        root
    };
    if form == Form::Contradict {
        if let Some(s) = state.as_ref().and_then(Value::as_u64) {
            // `state` with the other value, before the real `STATE`.
            let other = if s == 1 { 0 } else { 1 };
            let mut first = Map::new();
            first.insert("state".into(), json!(other.to_string()));
            first.extend(inner);
            inner = first;
        }
    }
    let wrapped = form == Form::Wrapped;
    let text = if xml {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        write_xml(root, &Value::Object(inner), wrapped, 0, &mut out);
        out
    } else {
        let mut doc = Map::new();
        doc.insert(root.into(), Value::Object(inner));
        let doc = Value::Object(doc);
        if wrapped {
            serde_json::to_string_pretty(&doc).expect("JSON")
        } else {
            doc.to_string()
        }
    };
    if form == Form::Garbled {
        return text[..text.len() / 2].to_owned();
    }
    text
}

fn nonexistent(root: &str, xml: bool) -> String {
    reply(root, "CHARGE_NONEXISTENT", Map::new(), Form::Clean, xml)
}

/// `v` as the element `name`, as the gateway writes XML: a field per child element, a list as
/// repeated elements, every value as text; `wrapped`: values in CDATA sections, one element per
/// line, indented by `depth`.
fn write_xml(name: &str, v: &Value, wrapped: bool, depth: usize, out: &mut String) {
    if let Value::Array(items) = v {
        for item in items {
            write_xml(name, item, wrapped, depth, out);
        }
        return;
    }
    if wrapped {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    }
    let text = match v {
        Value::Object(m) => {
            out.push_str(&format!("<{name}>"));
            for (k, c) in m {
                write_xml(k, c, wrapped, depth + 1, out);
            }
            if wrapped {
                out.push('\n');
                out.push_str(&"  ".repeat(depth));
            }
            out.push_str(&format!("</{name}>"));
            return;
        }
        Value::Null => return out.push_str(&format!("<{name}/>")),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let text = if wrapped {
        format!("<![CDATA[{text}]]>")
    } else {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    out.push_str(&format!("<{name}>{text}</{name}>"));
}

impl Case {
    /// A late micropay that has reached the gateway by now.
    fn arrive(&mut self, now: Instant) {
        if let Some((at, sale)) = self.late.clone() {
            if now >= at {
                self.late = None;
                self.receive(sale);
            }
        }
    }

    /// The gateway carries out a micropay; what it answers (`None`: answers from the order).
    fn receive(&mut self, sale: Sale) -> Option<&'static str> {
        self.micropays += 1;
        if self.order.is_some() {
            return Some(self.plan.duplicate_answer);
        }
        match self.plan.reception {
            Reception::Refuse(code) => Some(code),
            Reception::Create(state) => {
                self.order = Some(Order {
                    ours: true,
                    amount_fen: sale.amount_fen,
                    dynamic_id: sale.dynamic_id,
                    channel: 2,
                    para: sale.para,
                    state,
                    queries: 0,
                    paid_queries: 0,
                });
                None
            }
        }
    }

    fn micropay(&mut self, body: &Value) -> Action {
        let code = body["CHARGE_CODE"].as_str().unwrap_or_default().to_owned();
        let amount = Amount::parse_yuan(body["AMT"].as_str().unwrap_or_default())
            .map(Amount::fen)
            .unwrap_or(0);
        let sale = Sale {
            amount_fen: amount,
            dynamic_id: body["DYNAMIC_ID"].as_str().unwrap_or_default().to_owned(),
            para: body["MERCHANTPARA"].as_str().map(str::to_owned),
        };
        let first = self.micropays == 0 && self.late.is_none();
        let fate = if first {
            self.plan.micropay_fate
        } else {
            Fate::Deliver
        };
        match fate {
            Fate::Busy => return Action::Reply(503, "busy".into()),
            Fate::DropBefore => {
                if let (true, Some(ms)) = (first, self.plan.late_ms) {
                    self.late = Some((Instant::now() + Duration::from_millis(ms), sale));
                }
                return Action::Close;
            }
            _ => {}
        }
        // An order of another payment answers the micropay: SERIAL_REPEAT, or its details.
        if let (Some(f), Some(o)) = (self.plan.foreign, self.order.as_ref()) {
            if !o.ours {
                self.micropays += 1;
                let text = if f.serial_repeat {
                    reply(
                        "ORDER_RESP",
                        "SERIAL_REPEAT",
                        Map::new(),
                        Form::Clean,
                        self.plan.xml,
                    )
                } else {
                    reply(
                        "ORDER_RESP",
                        "SUCCESS",
                        order_fields(&code, o),
                        self.plan.micropay_form,
                        self.plan.xml,
                    )
                };
                return self.deliver(fate, text);
            }
        }
        let text = match self.receive(sale) {
            Some(refusal) => reply(
                "ORDER_RESP",
                refusal,
                Map::new(),
                Form::Clean,
                self.plan.xml,
            ),
            None => match self.order.as_ref() {
                Some(o) => reply(
                    "ORDER_RESP",
                    "SUCCESS",
                    order_fields(&code, o),
                    self.plan.micropay_form,
                    self.plan.xml,
                ),
                None => nonexistent("ORDER_RESP", self.plan.xml),
            },
        };
        self.deliver(fate, text)
    }

    fn deliver(&self, fate: Fate, text: String) -> Action {
        match fate {
            Fate::LostAfter => Action::Close,
            Fate::Slow => Action::Later(Duration::from_millis(400), text),
            _ => Action::Reply(200, text),
        }
    }

    fn query(&mut self, code: &str) -> Action {
        let i = self.queries;
        self.queries += 1;
        let fate = self.plan.query_fates[i % self.plan.query_fates.len()];
        let form = self.plan.query_forms[i % self.plan.query_forms.len()];
        match fate {
            Fate::Busy => return Action::Reply(503, "busy".into()),
            Fate::DropBefore => return Action::Close,
            _ => {}
        }
        self.arrive(Instant::now());
        let plan = self.plan.clone();
        let Some(o) = self.order.as_mut() else {
            return self.deliver(fate, nonexistent("QUERY_RESP", plan.xml));
        };
        o.queries += 1;
        if o.state == 0 && plan.moves_to != 0 && o.queries > u32::from(plan.moves_after) {
            o.state = plan.moves_to;
        }
        if o.state == 1 {
            o.paid_queries += 1;
            if let Some(to) = plan.then_to {
                if o.paid_queries > 2 {
                    o.state = to;
                }
            }
        }
        let text = reply(
            "QUERY_RESP",
            "SUCCESS",
            order_fields(code, o),
            form,
            plan.xml,
        );
        let shows_state = !matches!(
            form,
            Form::NoState
                | Form::StateObject
                | Form::OtherCode
                | Form::Contradict
                | Form::WrongRoot
                | Form::Bare
                | Form::Garbled
        );
        if fate == Fate::Deliver && shows_state {
            self.unseen_ignored_cancel = false;
        }
        self.deliver(fate, text)
    }

    fn cancel(&mut self) -> Action {
        let i = self.cancels;
        self.cancels += 1;
        let fate = self.plan.cancel_fates[i % self.plan.cancel_fates.len()];
        match fate {
            Fate::Busy => return Action::Reply(503, "busy".into()),
            Fate::DropBefore => return Action::Close,
            _ => {}
        }
        self.arrive(Instant::now());
        let effect = self.plan.cancel_effect;
        let code = match self.order.as_mut() {
            None => "CHARGE_NONEXISTENT",
            Some(o) if !o.ours => {
                self.foreign_cancelled = true;
                "FAIL"
            }
            Some(o) => match o.state {
                2 => "AREADY_REVOKED",
                0 | 1 => match effect {
                    CancelEffect::Works => {
                        o.state = 2;
                        "SUCCESS"
                    }
                    CancelEffect::Ignored => {
                        self.unseen_ignored_cancel = fate == Fate::Deliver;
                        "SUCCESS"
                    }
                    CancelEffect::Refused => "FAIL",
                },
                _ => "FAIL",
            },
        };
        let text = reply(
            "CANCELTRADE_RESP",
            code,
            Map::new(),
            Form::Clean,
            self.plan.xml,
        );
        self.deliver(fate, text)
    }
}

impl World {
    fn handle(&mut self, method: &str, target: &str, body: &[u8]) -> Action {
        let path = target.split('?').next().unwrap_or_default();
        let rest = path
            .strip_prefix("/openGateway/openService/")
            .unwrap_or(path);
        let mut parts = rest.split('/');
        let op = parts.next().unwrap_or_default();
        let started = Instant::now();
        // The 3DES envelope, when the request asks for it: the body is Base64 ciphertext, and
        // so is every reply (an HTTP error page is not).
        let envelope = target
            .contains("encrypt=3DES")
            .then(|| Envelope::new(MerchantKey::new(KEY).expect("key")));
        let plain = match &envelope {
            Some(e) if !body.is_empty() => match std::str::from_utf8(body).map(|b| e.decrypt(b)) {
                Ok(Ok(p)) => p,
                _ => return Action::Reply(400, "bad ciphertext".into()),
            },
            _ => body.to_vec(),
        };
        // The gateway answers in XML unless `_type=json` asks for JSON: a client asking for
        // what its plan does not say is refused, so that the plan's format is the one tested.
        let asks_xml = !target.contains("_type=json");
        let (code, action) = match (method, op) {
            ("POST", "preOrder") => {
                let Ok(v) = serde_json::from_slice::<Value>(&plain) else {
                    return Action::Reply(400, "bad body".into());
                };
                let code = v["CHARGE_CODE"].as_str().unwrap_or_default().to_owned();
                let action = match self.cases.get_mut(&code) {
                    Some(c) if c.plan.xml != asks_xml => Action::Reply(400, "format".into()),
                    Some(c) => c.micropay(&v),
                    None => Action::Reply(404, "no case".into()),
                };
                (code, action)
            }
            ("GET", "query") | ("GET", "cancelTrade") => {
                let code = parts.next().unwrap_or_default().to_owned();
                let action = match self.cases.get_mut(&code) {
                    Some(c) if c.plan.xml != asks_xml => Action::Reply(400, "format".into()),
                    Some(c) if op == "query" => c.query(&code),
                    Some(c) => c.cancel(),
                    None => Action::Reply(200, nonexistent("QUERY_RESP", asks_xml)),
                };
                (code, action)
            }
            _ => return Action::Reply(404, "not scripted".into()),
        };
        if let Some(c) = self.cases.get_mut(&code) {
            let at = started.duration_since(c.started).as_millis();
            let what = match &action {
                Action::Reply(status, text) => format!("{status} {text}"),
                Action::Later(pause, text) => format!("after {pause:?}: {text}"),
                Action::Close => "closed, no reply".into(),
            };
            let how = if envelope.is_some() { " (3DES)" } else { "" };
            c.trace.push(format!("{at:>5} ms {op}{how}: {what}"));
        }
        match (envelope, action) {
            (Some(e), Action::Reply(200, text)) => Action::Reply(200, e.encrypt(text.as_bytes())),
            (Some(e), Action::Later(pause, text)) => {
                Action::Later(pause, e.encrypt(text.as_bytes()))
            }
            (_, action) => action,
        }
    }
}

fn serve(world: Arc<Mutex<World>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let w = world.clone();
            std::thread::spawn(move || connection(stream, &w));
        }
    });
    format!("http://{addr}/openGateway/openService/")
}

fn connection(mut s: TcpStream, world: &Mutex<World>) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let head_end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        while buf.len() < head_end + len {
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body: Vec<u8> = buf[head_end..head_end + len].to_vec();
        buf.drain(..head_end + len);
        let mut first = head.lines().next().unwrap_or_default().split(' ');
        let (method, target) = (
            first.next().unwrap_or_default(),
            first.next().unwrap_or_default(),
        );
        let action = world
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .handle(method, target, &body);
        match action {
            Action::Close => {
                let _ = s.shutdown(Shutdown::Both);
                return;
            }
            Action::Later(pause, text) => {
                std::thread::sleep(pause);
                let out = format!(
                    "HTTP/1.1 200 X\r\nContent-Length: {}\r\n\r\n{text}",
                    text.len()
                );
                if s.write_all(out.as_bytes()).is_err() {
                    return;
                }
            }
            Action::Reply(status, text) => {
                let kind = if text.starts_with('<') {
                    "text/xml"
                } else {
                    "application/json"
                };
                let out = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: {kind};charset=UTF-8\r\nContent-Length: {}\r\n\r\n{text}",
                    text.len()
                );
                if s.write_all(out.as_bytes()).is_err() {
                    return;
                }
            }
        }
    }
}

fn client(base: &str, encrypt: bool, xml: bool) -> Client {
    let mut c = ClientConfig::new(BUSI, KEY, base).expect("config");
    c.encrypt = encrypt;
    if xml {
        c.format = sosopay::codec::Format::Xml;
    }
    c.timeout = Duration::from_millis(300);
    c.micropay_timeout = Duration::from_millis(300);
    c.retry = RetryPolicy {
        max_attempts: 2,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(10),
    };
    c.default_oper_id = Some("op".into());
    c.default_dev_id = Some("dev".into());
    Client::new(c).expect("client")
}

fn options(p: &Plan) -> WaitOptions {
    WaitOptions {
        deadline: Duration::from_millis(p.deadline_ms),
        poll_interval: Duration::from_millis(10),
        max_poll_interval: Duration::from_millis(25),
        cancel_attempts: 3,
        max_duration: Duration::from_millis(p.deadline_ms + 700),
        gateway_hold: Duration::from_millis(p.hold_ms),
    }
}

fn fate() -> impl Strategy<Value = Fate> {
    prop_oneof![
        6 => Just(Fate::Deliver),
        1 => Just(Fate::LostAfter),
        1 => Just(Fate::DropBefore),
        1 => Just(Fate::Busy),
        1 => Just(Fate::Slow),
    ]
}

fn form() -> impl Strategy<Value = Form> {
    prop_oneof![
        6 => Just(Form::Clean),
        1 => Just(Form::NoState),
        1 => Just(Form::StateObject),
        1 => Just(Form::LowerCase),
        1 => Just(Form::Text),
        1 => Just(Form::Sucess),
        1 => Just(Form::OtherCode),
        1 => Just(Form::Contradict),
        1 => Just(Form::WrongRoot),
        1 => Just(Form::NoAmount),
        1 => Just(Form::Masked),
        1 => Just(Form::Bare),
        1 => Just(Form::Garbled),
        1 => Just(Form::Wrapped),
    ]
}

fn plan() -> impl Strategy<Value = Plan> {
    let foreign = proptest::option::weighted(
        0.25,
        (
            prop_oneof![
                (1u64..500).prop_map(Differs::Amount),
                Just(Differs::Customer),
                Just(Differs::Channel),
                Just(Differs::Para),
            ],
            prop::sample::select(vec![0u8, 1, 2, 4, 6]),
            any::<bool>(),
        )
            .prop_map(|(differs, state, serial_repeat)| Foreign {
                differs,
                state,
                serial_repeat,
            }),
    );
    let reception = prop_oneof![
        1 => prop::sample::select(vec!["FAIL", "AMT_ERROR", "ILLEGAL_PARAMETER"]).prop_map(Reception::Refuse),
        4 => prop::sample::select(vec![0u8, 0, 1, 6]).prop_map(Reception::Create),
    ];
    (
        (
            1u64..100_000,
            foreign,
            reception,
            fate(),
            form(),
            proptest::option::of(0u64..200),
        ),
        (
            0u8..6,
            prop::sample::select(vec![0u8, 1, 1, 2, 3, 6]),
            proptest::option::weighted(0.2, prop::sample::select(vec![4u8, 5, 8, 9])),
        ),
        (
            prop::collection::vec(fate(), 1..5),
            prop::collection::vec(form(), 1..5),
            prop::collection::vec(fate(), 1..4),
            prop_oneof![
                8 => Just(CancelEffect::Works),
                1 => Just(CancelEffect::Refused),
                1 => Just(CancelEffect::Ignored),
            ],
        ),
        (
            prop::sample::select(vec![60u64, 150, 300]),
            prop::sample::select(vec![0u64, 100, 5_000]),
            proptest::option::weighted(0.15, 0u64..400),
            (
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                prop::bool::weighted(0.3),
            ),
            prop::sample::select(vec!["SERIAL_REPEAT", "SERIAL_REPEAT", "FAIL"]),
        ),
    )
        .prop_map(
            |(
                (amount_fen, foreign, reception, micropay_fate, micropay_form, late_ms),
                (moves_after, moves_to, then_to),
                (query_fates, query_forms, cancel_fates, cancel_effect),
                (
                    deadline_ms,
                    hold_ms,
                    stop_after_ms,
                    (fixed_channel, with_para, encrypt, xml),
                    duplicate_answer,
                ),
            )| Plan {
                amount_fen,
                fixed_channel,
                with_para,
                // Another channel or MERCHANTPARA tells another payment only when the
                // request fixes them; else that order is another amount's.
                foreign: foreign.map(|mut f| {
                    if (f.differs == Differs::Channel && !fixed_channel)
                        || (f.differs == Differs::Para && !with_para)
                    {
                        f.differs = Differs::Amount(1);
                    }
                    f
                }),
                reception,
                micropay_fate,
                micropay_form,
                // A late arrival within what the flow must allow for: the hold, counted from
                // when the client stopped waiting (here at once: the connection closed). The
                // gateway carries out nothing later (WaitOptions::gateway_hold).
                late_ms: late_ms.map(|ms| ms.min(hold_ms)),
                moves_after,
                moves_to,
                then_to,
                query_fates,
                query_forms,
                cancel_fates,
                cancel_effect,
                deadline_ms,
                hold_ms,
                stop_after_ms,
                encrypt,
                xml,
                duplicate_answer,
            },
        )
}

struct Harness {
    world: Arc<Mutex<World>>,
    /// By (3DES, XML): the four clients.
    clients: [[Client; 2]; 2],
    seq: Mutex<u64>,
    tally: Mutex<HashMap<String, u32>>,
}

impl Harness {
    fn new() -> Self {
        let world = Arc::new(Mutex::new(World::default()));
        let base = serve(world.clone());
        Harness {
            clients: [false, true].map(|e| [false, true].map(|x| client(&base, e, x))),
            world,
            seq: Mutex::new(0),
            tally: Mutex::new(HashMap::new()),
        }
    }

    /// The client for `plan`: with the 3DES envelope or without, asking for JSON or XML.
    fn client(&self, plan: &Plan) -> &Client {
        &self.clients[usize::from(plan.encrypt)][usize::from(plan.xml)]
    }

    fn code(&self, kind: &str) -> String {
        let mut s = self.seq.lock().unwrap_or_else(|e| e.into_inner());
        *s += 1;
        format!("ADV-{kind}-{}-{}", std::process::id(), *s)
    }

    fn install(&self, code: &str, plan: &Plan, dynamic_id: &str) {
        let order = plan.foreign.map(|f| Order {
            ours: false,
            amount_fen: plan.amount_fen
                + match f.differs {
                    Differs::Amount(extra) => extra,
                    _ => 0,
                },
            dynamic_id: if f.differs == Differs::Customer {
                "289999999999999999".into()
            } else {
                dynamic_id.into()
            },
            channel: if f.differs == Differs::Channel { 1 } else { 2 },
            para: match (f.differs, plan.with_para) {
                (Differs::Para, _) => Some("their-order".into()),
                (_, true) => Some(PARA.into()),
                _ => None,
            },
            state: f.state,
            queries: 0,
            paid_queries: 0,
        });
        self.world
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .cases
            .insert(
                code.to_owned(),
                Case {
                    plan: plan.clone(),
                    order,
                    late: None,
                    micropays: 0,
                    trace: Vec::new(),
                    started: Instant::now(),
                    queries: 0,
                    cancels: 0,
                    foreign_cancelled: false,
                    unseen_ignored_cancel: false,
                },
            );
    }

    /// This payment's order exists before the flow runs (a QR order created beforehand, or an
    /// earlier attempt of the payment), as the gateway's reception of it makes it; no micropay
    /// of this flow is counted.
    fn create_ours(&self, code: &str, plan: &Plan, dynamic_id: &str) {
        let mut w = self.world.lock().unwrap_or_else(|e| e.into_inner());
        let case = w.cases.get_mut(code).expect("case");
        case.receive(Sale {
            amount_fen: plan.amount_fen,
            dynamic_id: dynamic_id.to_owned(),
            para: None,
        });
        case.micropays = 0;
    }

    /// From now on the gateway answers every exchange cleanly (its truth unchanged).
    fn calm(&self, code: &str) {
        let mut w = self.world.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = w.cases.get_mut(code) {
            c.plan.micropay_fate = Fate::Deliver;
            c.plan.micropay_form = Form::Clean;
            c.plan.query_fates = vec![Fate::Deliver];
            c.plan.query_forms = vec![Form::Clean];
            c.plan.cancel_fates = vec![Fate::Deliver];
            c.trace.push(
                "----- the gateway answers cleanly from here; the flow is called again".into(),
            );
        }
    }

    /// Checks `out` against the model's final truth; returns what is wrong.
    fn judge(
        &self,
        code: &str,
        plan: &Plan,
        out: &PaymentOutcome,
        amount_known: bool,
        took: Duration,
        budget: Duration,
    ) -> Result<(), String> {
        // Let any exchange still under way (an abandoned micropay) land first.
        std::thread::sleep(Duration::from_millis(20));
        let w = self.world.lock().unwrap_or_else(|e| e.into_inner());
        let case = &w.cases[code];
        let truth = case.order.as_ref().map(|o| (o.ours, o.state, o.amount_fen));
        let ours_state = truth.filter(|t| t.0).map(|t| t.1);
        *self
            .tally
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(format!("{:?}", out.status))
            .or_default() += 1;
        let wrong = |why: &str| {
            Err(format!(
                "{why}: outcome {:?} ({}; code {:?}), final order {truth:?} (ours, state, fen), \
                 micropays {}, queries {}, cancels {}, late pending {}\nexchanges:\n{}",
                out.status,
                out.reason,
                out.code,
                case.micropays,
                case.queries,
                case.cancels,
                case.late.is_some(),
                case.trace.join("\n"),
            ))
        };
        if case.foreign_cancelled {
            return wrong("another payment's order was cancelled");
        }
        if took > budget + Duration::from_secs(3) {
            return wrong(&format!("took {took:?}, budget {budget:?}"));
        }
        match out.status {
            OutcomeStatus::Paid => {
                if !ours_state.is_some_and(|s| PAID.contains(&s)) {
                    return wrong("Paid, but this payment's order is not paid");
                }
                let shown = out.order.as_ref().and_then(|o| o.amount).map(Amount::fen);
                // Waiting without the amount, any order under the code counts, with or
                // without its amount shown.
                if shown.map_or(amount_known, |fen| fen != plan.amount_fen) {
                    return wrong(&format!("Paid with the order shown for {shown:?} fen"));
                }
            }
            OutcomeStatus::Cancelled => {
                // A gateway that confirms a cancel it did not carry out, with no answer since
                // to show it, cannot be caught: the confirmation is all there is to go on.
                if ours_state != Some(2) && !case.unseen_ignored_cancel {
                    return wrong("Cancelled, but this payment's order is not cancelled");
                }
            }
            OutcomeStatus::Failed => {
                // A micropay still on its way would be received like the first (refused
                // alike, or creating the order).
                let late_creates =
                    case.late.is_some() && matches!(plan.reception, Reception::Create(_));
                if ours_state.is_some_and(|s| s != 2 && s != 6) || late_creates {
                    return wrong(
                        "Failed (no money moved), but this payment's order can hold money",
                    );
                }
            }
            OutcomeStatus::Conflict => {
                if truth.is_none_or(|t| t.0) {
                    return wrong(
                        "Conflict, but the order under the code is not another payment's",
                    );
                }
            }
            OutcomeStatus::Pending => {
                if ours_state != Some(0) && ours_state.is_some() {
                    return wrong("Pending, but the order is settled");
                }
            }
            OutcomeStatus::Unresolved => {}
        }
        Ok(())
    }
}

fn cases() -> u32 {
    std::env::var("ADVERSARIAL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

#[test]
fn the_till_flow_agrees_with_the_truth_whatever_the_gateway_says() {
    let h = Harness::new();
    let config = ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(plan in plan(), calm_again in any::<bool>())| {
        let code = h.code("TILL");
        let dynamic_id = "130730865806264036";
        h.install(&code, &plan, dynamic_id);
        let amount = Amount::from_fen(plan.amount_fen).expect("amount");
        let mut req = MicropayRequest::new(&code, amount, dynamic_id, "adversarial");
        if plan.fixed_channel {
            req.channel = Channel::Wechat;
        }
        if plan.with_para {
            req.merchant_para = Some(PARA.into());
        }
        let opts = options(&plan);
        let ctl = FlowControl {
            cancel: plan.stop_after_ms.map(|_| CancelToken::new()),
            ..FlowControl::default()
        };
        if let (Some(token), Some(ms)) = (ctl.cancel.clone(), plan.stop_after_ms) {
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(ms));
                token.cancel();
            });
        }
        let started = Instant::now();
        let out = h.client(&plan).micropay_and_wait_with(&req, &opts, &ctl).expect("a valid request");
        let took = started.elapsed();
        if let Err(why) = h.judge(&code, &plan, &out, true, took, opts.max_duration + Duration::from_millis(300)) {
            prop_assert!(false, "{why}\nplan: {plan:#?}");
        }
        // Unresolved: "call it again" (BEHAVIOUR.md, "After a crash"), with the same charge
        // code, amount and customer code, the gateway now answering cleanly or as badly as
        // before. The second flow must not charge again, and must agree with the truth too.
        if out.status == OutcomeStatus::Unresolved {
            if calm_again {
                h.calm(&code);
            }
            let again = FlowControl::default();
            let started = Instant::now();
            let second = h.client(&plan).micropay_and_wait_with(&req, &opts, &again).expect("a valid request");
            let took = started.elapsed();
            if let Err(why) = h.judge(&code, &plan, &second, true, took, opts.max_duration + Duration::from_millis(300)) {
                prop_assert!(false, "called again after Unresolved: {why}\nplan: {plan:#?}");
            }
        }
    });
    eprintln!(
        "till outcomes: {:?}",
        h.tally.lock().unwrap_or_else(|e| e.into_inner())
    );
}

#[test]
fn waiting_for_a_qr_order_agrees_with_the_truth_whatever_the_gateway_says() {
    let h = Harness::new();
    let config = ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(plan in plan(), with_amount in prop::bool::weighted(0.8))| {
        let code = h.code("QR");
        let dynamic_id = "130730865806264036";
        // The order exists before the wait: this payment's (created awaiting payment), or
        // another payment's under the same code.
        let mut plan = plan;
        if plan.foreign.is_none() {
            plan.reception = Reception::Create(0);
        } else if let Some(f) = plan.foreign.as_mut() {
            // Without the amount, any order under the code counts: not another payment's.
            if !with_amount || !matches!(f.differs, Differs::Amount(_)) {
                plan.foreign = None;
                plan.reception = Reception::Create(0);
            }
        }
        h.install(&code, &plan, dynamic_id);
        if plan.foreign.is_none() {
            h.create_ours(&code, &plan, dynamic_id);
        }
        let amount = Amount::from_fen(plan.amount_fen).expect("amount");
        let awaited = if with_amount { AwaitedOrder::new(&code).with_amount(amount) } else { AwaitedOrder::new(&code) };
        let opts = options(&plan);
        let started = Instant::now();
        let out = h.client(&plan).wait_for_payment(awaited, &opts).expect("a valid request");
        let took = started.elapsed();
        if let Err(why) = h.judge(&code, &plan, &out, with_amount, took, opts.max_duration + Duration::from_millis(300)) {
            prop_assert!(false, "{why}\nplan: {plan:#?}");
        }
    });
    eprintln!(
        "wait outcomes: {:?}",
        h.tally.lock().unwrap_or_else(|e| e.into_inner())
    );
}

/// A plan of one payment of 12.50 whose every exchange goes well, for the fixed cases below.
fn calm_plan() -> Plan {
    Plan {
        amount_fen: 1250,
        fixed_channel: false,
        with_para: false,
        foreign: None,
        reception: Reception::Create(0),
        micropay_fate: Fate::Deliver,
        micropay_form: Form::Clean,
        late_ms: None,
        moves_after: 0,
        moves_to: 0,
        then_to: None,
        query_fates: vec![Fate::Deliver],
        query_forms: vec![Form::Clean],
        cancel_fates: vec![Fate::Deliver],
        cancel_effect: CancelEffect::Works,
        deadline_ms: 60,
        hold_ms: 0,
        stop_after_ms: None,
        encrypt: false,
        xml: false,
        duplicate_answer: "SERIAL_REPEAT",
    }
}

/// Runs the till flow for `plan` on a fresh harness; the outcome, judged. `earlier`: an
/// earlier attempt of this very payment already created its order (a till restarted after a
/// crash calls the flow again).
fn till_once(plan: &Plan, earlier: bool) -> PaymentOutcome {
    let h = Harness::new();
    let code = h.code("FIXED");
    let dynamic_id = "130730865806264036";
    h.install(&code, plan, dynamic_id);
    if earlier {
        h.create_ours(&code, plan, dynamic_id);
    }
    let amount = Amount::from_fen(plan.amount_fen).expect("amount");
    let req = MicropayRequest::new(&code, amount, dynamic_id, "x");
    let opts = options(plan);
    let started = Instant::now();
    let out = h
        .client(plan)
        .micropay_and_wait(&req, &opts)
        .expect("a valid request");
    let verdict = h.judge(
        &code,
        plan,
        &out,
        true,
        started.elapsed(),
        opts.max_duration,
    );
    assert_eq!(verdict, Ok(()));
    out
}

/// Found by the property above: a micropay reply showing the order under the code for another
/// customer's payment code (same amount), with every query lost afterwards. The reply's
/// `DYNAMIC_ID` was not read, so the order was taken as this payment's and cancelled at the
/// deadline: another customer's payment reversed.
#[test]
fn a_reply_showing_another_customers_code_never_leads_to_a_cancel() {
    let out = till_once(
        &Plan {
            foreign: Some(Foreign {
                differs: Differs::Customer,
                state: 0,
                serial_repeat: false,
            }),
            reception: Reception::Refuse("FAIL"),
            query_fates: vec![Fate::LostAfter],
            ..calm_plan()
        },
        false,
    );
    assert_eq!(out.status, OutcomeStatus::Conflict, "{}", out.reason);
}

/// Found by the property above: at the deadline the gateway confirms the cancel (`SUCCESS`), but
/// the query after it still shows the order awaiting payment (a cancel that did not take). The
/// flow reported `Cancelled` at once, while the customer could still pay the order. Now it queries
/// on and, the order never showing cancelled, ends `Unresolved`.
#[test]
fn a_confirmed_cancel_of_an_order_still_awaiting_payment_is_not_cancelled() {
    let out = till_once(
        &Plan {
            cancel_effect: CancelEffect::Ignored,
            ..calm_plan()
        },
        false,
    );
    assert_eq!(out.status, OutcomeStatus::Unresolved, "{}", out.reason);
    assert!(
        out.reason.contains("confirmed the cancel"),
        "{}",
        out.reason
    );
}

/// A till restarted after a crash calls the flow again for a payment whose first attempt was
/// paid; this gateway answers the repeated micropay with a plain `FAIL` (not `SERIAL_REPEAT`),
/// and the query confirming that refusal is lost. The refusal alone was taken as "no money
/// moved" (`Failed`), though the first attempt's order is paid: the cashier would charge the
/// customer again. Now a refusal stands only once a query shows no order; a failed query is
/// no answer, and the flow queries on (here: the order, paid).
#[test]
fn a_refusal_whose_confirming_query_fails_is_not_failed() {
    let out = till_once(
        &Plan {
            reception: Reception::Create(1),
            duplicate_answer: "FAIL",
            query_fates: vec![Fate::LostAfter, Fate::LostAfter, Fate::Deliver],
            deadline_ms: 150,
            ..calm_plan()
        },
        true,
    );
    assert_eq!(out.status, OutcomeStatus::Paid, "{}", out.reason);
}

/// The gateway's own default is XML (a client configured with `format = xml`): every form of
/// reply the model writes in JSON is understood the same in XML, with and without 3DES,
/// including values in CDATA sections and indented documents.
#[test]
fn an_xml_gateway_is_understood_as_a_json_one() {
    for form in [
        Form::Clean,
        Form::Wrapped,
        Form::Text,
        Form::LowerCase,
        Form::Sucess,
    ] {
        for encrypt in [false, true] {
            let plan = Plan {
                reception: Reception::Create(1),
                micropay_form: form,
                query_forms: vec![form],
                encrypt,
                xml: true,
                ..calm_plan()
            };
            let out = till_once(&plan, false);
            assert_eq!(out.status, OutcomeStatus::Paid, "{form:?}: {}", out.reason);
            assert_eq!(
                out.order.and_then(|o| o.amount).map(Amount::fen),
                Some(1250)
            );
        }
    }
}
