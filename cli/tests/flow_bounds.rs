//! The flows' time bounds and error meanings (#11 §5, §6): the deadline is honoured, the whole
//! flow is bounded even against a gateway that never answers, a TLS rejection means nothing
//! was sent, and configuration numbers are validated.

use std::io::Read as _;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sosopay::models::MicropayRequest;
use sosopay::{
    Amount, Client, ClientConfig, Error, OutcomeStatus, PaymentOutcome, ResultCode, RetryPolicy,
    WaitOptions,
};
use sosopay_sandbox::{Sandbox, SandboxConfig};

mod common;
use common::{assert_not_sent, untrusted_tls_server};

const BUSI: &str = "0010000001";
const KEY: &str = "98SDKFUO432HNODS098EEE07U9DUOIUE";
const PAY_NOW: &str = "130730865806264036";
const PAYING_NEVER: &str = "130000000000005000";

fn request(cc: &str, code: &str) -> MicropayRequest {
    let mut r = MicropayRequest::new(cc, Amount::from_fen(100).expect("amount"), code, "t");
    r.oper_id = "o".into();
    r.dev_id = "d".into();
    r
}

/// A sandbox at `time_scale` (0.05: the 80 s micropay hold lasts 4 s), no faults.
fn sandbox(time_scale: f64) -> Sandbox {
    Sandbox::start(SandboxConfig {
        time_scale,
        ..Default::default()
    })
    .expect("sandbox")
}

/// A sandbox at time scale 0.05 applying one fault rule to every request it names.
fn faulty_sandbox(rule: &str) -> Sandbox {
    Sandbox::start(SandboxConfig {
        time_scale: 0.05,
        faults: vec![rule.parse().expect("rule")],
        ..Default::default()
    })
    .expect("sandbox")
}

fn opts(deadline_ms: u64, max_ms: u64) -> WaitOptions {
    WaitOptions {
        deadline: Duration::from_millis(deadline_ms),
        poll_interval: Duration::from_millis(400),
        max_poll_interval: Duration::from_millis(400),
        cancel_attempts: 3,
        max_duration: Duration::from_millis(max_ms),
        gateway_hold: Duration::from_millis(1600),
    }
}

#[test]
fn the_cancel_comes_at_the_deadline_not_before() {
    let sb = sandbox(0.02);
    let log: Arc<Mutex<Vec<(&'static str, Instant)>>> = Arc::default();
    let mut c = ClientConfig::new(BUSI, KEY, sb.base_url()).expect("config");
    let sink = log.clone();
    c.on_request = Some(Arc::new(move |l: &sosopay::RequestLog| {
        sink.lock()
            .expect("lock")
            .push((l.operation, Instant::now() - l.duration))
    }));
    let client = Client::new(c).expect("client");
    let started = Instant::now();
    // A 1.3 s deadline with 400 ms polls: the old flow cancelled at the last poll before it.
    let out = client
        .micropay_and_wait(&request("DL-A", PAYING_NEVER), &opts(1300, 5000))
        .expect("flow");
    assert_eq!(out.status, OutcomeStatus::Cancelled, "{out:?}");
    let log = log.lock().expect("lock");
    let cancel_at = log
        .iter()
        .find(|(op, _)| *op == "cancelTrade")
        .map(|(_, at)| at.duration_since(started))
        .expect("a cancel was sent");
    assert!(cancel_at >= Duration::from_millis(1300), "{cancel_at:?}");
    let last_query_before_cancel = log
        .iter()
        .filter(|(op, at)| *op == "query" && at.duration_since(started) < cancel_at)
        .map(|(_, at)| at.duration_since(started))
        .max()
        .expect("queries");
    assert!(
        last_query_before_cancel >= Duration::from_millis(1300),
        "the last poll is made at the deadline: {last_query_before_cancel:?}"
    );
}

/// A gateway that accepts connections and reads requests but never answers.
fn silent_gateway() -> (String, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/openGateway/openService/",
        l.local_addr().expect("addr")
    );
    let h = std::thread::spawn(move || {
        let mut held = Vec::new();
        l.set_nonblocking(true).expect("nonblocking");
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            match l.accept() {
                Ok((mut s, _)) => {
                    let _ = s.set_read_timeout(Some(Duration::from_millis(50)));
                    let mut buf = [0u8; 4096];
                    let _ = s.read(&mut buf);
                    held.push(s);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    (url, h)
}

#[test]
fn a_silent_gateway_cannot_hold_a_till_past_max_duration() {
    let (url, _h) = silent_gateway();
    let mut c = ClientConfig::new(BUSI, KEY, url).expect("config");
    // The defaults: 20 s per request, 95 s for micropay, 3 attempts; the flow's budget wins.
    c.retry = RetryPolicy::default();
    let client = Client::new(c).expect("client");
    let started = Instant::now();
    let out = client
        .micropay_and_wait(&request("SILENT-1", PAY_NOW), &opts(1000, 2500))
        .expect("flow");
    let took = started.elapsed();
    assert_eq!(out.status, OutcomeStatus::Unresolved, "{out:?}");
    assert!(took >= Duration::from_millis(2400), "{took:?}");
    // Generous slack for a loaded machine; without the budget this took minutes.
    assert!(took < Duration::from_secs(8), "{took:?}");
}

#[test]
fn a_certificate_rejection_sent_nothing() {
    let (_server, url) = untrusted_tls_server();
    let client = Client::new(ClientConfig::new(BUSI, KEY, url).expect("config")).expect("client");
    let e = client
        .micropay(&request("TLS-1", PAY_NOW))
        .expect_err("untrusted certificate");
    assert_not_sent(&e);
    let started = Instant::now();
    let out = client
        .micropay_and_wait(&request("TLS-2", PAY_NOW), &opts(3000, 6000))
        .expect("flow");
    assert_eq!(out.status, OutcomeStatus::Failed, "{out:?}");
    assert_eq!(out.queries, 0, "nothing to settle: {out:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "ends at once");
}

#[test]
fn failed_queries_do_not_claim_money_may_have_moved() {
    let (url, _h) = silent_gateway();
    let mut c = ClientConfig::new(BUSI, KEY, url).expect("config");
    c.timeout = Duration::from_millis(200);
    c.retry = RetryPolicy::none();
    let client = Client::new(c).expect("client");
    let e = client.query_charge("Q-1").expect_err("timeout");
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(!e.outcome_unknown(), "a query moves no money");
    let e = client
        .cancel(&sosopay::models::CancelRequest::new("Q-1"))
        .expect_err("timeout");
    assert!(e.outcome_unknown(), "a cancel may have reversed a payment");
}

#[test]
fn configuration_numbers_are_validated() {
    let base = || ClientConfig::new(BUSI, KEY, "http://127.0.0.1:1/").expect("config");
    let field = |c: ClientConfig| match Client::new(c) {
        Err(Error::Validation { field, .. }) => field,
        other => panic!("expected a validation error, got {other:?}"),
    };
    let mut c = base();
    c.retry.max_attempts = 0;
    assert_eq!(field(c), "retry.max_attempts");
    let mut c = base();
    c.retry.max_attempts = u32::MAX;
    assert_eq!(field(c), "retry.max_attempts");
    let mut c = base();
    c.timeout = Duration::ZERO;
    assert_eq!(field(c), "timeout");
    let mut c = base();
    c.retry.base_delay = Duration::from_secs(5);
    c.retry.max_delay = Duration::from_secs(1);
    assert_eq!(field(c), "retry.base_delay");
    let client = Client::new(base()).expect("client");
    let bad = WaitOptions {
        cancel_attempts: 0,
        ..Default::default()
    };
    match client.micropay_and_wait(&request("V-1", PAY_NOW), &bad) {
        Err(Error::Validation { field, .. }) => assert_eq!(field, "cancel_attempts"),
        other => panic!("{other:?}"),
    }
    match client.wait_for_payment(
        "V-1",
        &WaitOptions {
            max_duration: Duration::from_secs(1),
            ..Default::default()
        },
    ) {
        Err(Error::Validation { field, .. }) => assert_eq!(field, "max_duration"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn cancelling_a_held_payment_reverses_it_at_once() {
    // At time scale 0.05 the gateway holds an unconfirmed micropay for 4 s.
    let sb = sandbox(0.05);
    let mut c = ClientConfig::new(BUSI, KEY, sb.base_url()).expect("config");
    c.micropay_timeout = Duration::from_secs(30);
    let client = Client::new(c).expect("client");
    let events: Arc<Mutex<Vec<sosopay::FlowEvent>>> = Arc::default();
    let sink = events.clone();
    let token = sosopay::CancelToken::new();
    let ctl = sosopay::FlowControl {
        cancel: Some(token.clone()),
        observer: Some(Arc::new(move |e: &sosopay::FlowEvent| {
            sink.lock().expect("lock").push(e.clone())
        })),
        interrupt: None,
    };
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(600));
        token.cancel();
    });
    let started = Instant::now();
    let out = client
        .micropay_and_wait_with(
            &request("CXL-1", "130000000000004000"),
            &opts(20_000, 30_000),
            &ctl,
        )
        .expect("flow");
    let took = started.elapsed();
    canceller.join().expect("canceller");
    assert_eq!(out.status, OutcomeStatus::Cancelled, "{out:?}");
    assert!(
        took < Duration::from_millis(3500),
        "stopped before the hold ended: {took:?}"
    );
    assert_eq!(
        sb.order("CXL-1").and_then(|o| o.state.map(u64::from)),
        Some(2),
        "the order is reversed in the ledger"
    );
    let events = events.lock().expect("lock");
    assert!(matches!(
        events.first(),
        Some(sosopay::FlowEvent::Sending { .. })
    ));
    assert!(events.iter().any(|e| matches!(
        e,
        sosopay::FlowEvent::Cancelling {
            requested: true,
            ..
        }
    )));
    // Every event says when it happened, in order.
    assert!(events.windows(2).all(|w| w[0].elapsed() <= w[1].elapsed()));
    assert!(events
        .iter()
        .any(|e| matches!(e, sosopay::FlowEvent::Queried { .. })));
    assert!(matches!(
        events.last(),
        Some(sosopay::FlowEvent::Done {
            status: OutcomeStatus::Cancelled,
            ..
        })
    ));
}

#[test]
fn an_interrupt_asked_on_the_flows_thread_cancels_it_as_a_token_does() {
    // Python's Ctrl-C: seen only when asked on the calling thread. The flow asks while the
    // gateway holds the payment (4 s here) and while it polls; `true` cancels it.
    let sb = sandbox(0.05);
    let mut c = ClientConfig::new(BUSI, KEY, sb.base_url()).expect("config");
    c.micropay_timeout = Duration::from_secs(30);
    let client = Client::new(c).expect("client");
    let caller = std::thread::current().id();
    let asked = Arc::new(Mutex::new((0u32, true)));
    let seen = asked.clone();
    let started = Instant::now();
    let ctl = sosopay::FlowControl {
        cancel: Some(sosopay::CancelToken::new()),
        observer: None,
        interrupt: Some(Arc::new(move || {
            let mut s = seen.lock().expect("lock");
            s.0 += 1;
            s.1 &= std::thread::current().id() == caller;
            started.elapsed() > Duration::from_millis(600)
        })),
    };
    let out = client
        .micropay_and_wait_with(
            &request("INT-1", "130000000000004000"),
            &opts(20_000, 30_000),
            &ctl,
        )
        .expect("flow");
    let took = started.elapsed();
    assert_eq!(out.status, OutcomeStatus::Cancelled, "{out:?}");
    assert!(
        took < Duration::from_millis(3500),
        "stopped before the hold ended: {took:?}"
    );
    assert_eq!(
        sb.order("INT-1").and_then(|o| o.state.map(u64::from)),
        Some(2),
        "the order is reversed in the ledger"
    );
    let (times, on_caller) = *asked.lock().expect("lock");
    assert!(times >= 5, "asked while waiting: {times}");
    assert!(on_caller, "asked on the calling thread only");
    assert!(ctl
        .cancel
        .as_ref()
        .is_some_and(sosopay::CancelToken::is_cancelled));
}

/// A QR order of 1.00 created under `cc`.
fn qr_order(client: &Client, cc: &str) -> sosopay::models::OrderRequest {
    let mut o = sosopay::models::OrderRequest::new(
        cc,
        Amount::from_fen(100).expect("amount"),
        sosopay::Channel::Wechat,
        "qr",
    );
    o.oper_id = "o".into();
    o.dev_id = "d".into();
    client.create_qr_order(&o).expect("order");
    o
}

/// A cancel token and the flow control that holds it.
fn cancellable() -> (sosopay::CancelToken, sosopay::FlowControl) {
    let token = sosopay::CancelToken::new();
    let ctl = sosopay::FlowControl {
        cancel: Some(token.clone()),
        observer: None,
        interrupt: None,
    };
    (token, ctl)
}

#[test]
fn cancelling_a_wait_stops_waiting() {
    let sb = sandbox(0.05);
    let client =
        Client::new(ClientConfig::new(BUSI, KEY, sb.base_url()).expect("config")).expect("client");
    qr_order(&client, "CXL-QR");
    let (token, ctl) = cancellable();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        token.cancel();
    });
    let started = Instant::now();
    let out = client
        .wait_for_payment_with("CXL-QR", &opts(20_000, 30_000), &ctl)
        .expect("wait");
    t.join().expect("thread");
    assert_eq!(out.status, OutcomeStatus::Pending, "{out:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn an_unreadable_query_reply_moves_no_money() {
    let sb = faulty_sandbox("query:garble:1");
    let mut c = ClientConfig::new(BUSI, KEY, sb.base_url()).expect("config");
    c.retry = RetryPolicy::none();
    let client = Client::new(c).expect("client");
    let e = client.query_charge("G-1").expect_err("garbled");
    assert!(
        matches!(&e, Error::Decode { operation, .. } | Error::Crypto { operation, .. } if operation == "query"),
        "{e:?}"
    );
    assert!(!e.outcome_unknown(), "{e:?}");
    // The same code on a money-moving operation leaves the outcome open.
    let unknown = Error::Gateway {
        code: sosopay::ResultCode::ServiceUnavailable,
        info: String::new(),
        operation: "preOrder".into(),
    };
    assert!(unknown.outcome_unknown());
    let read = Error::Gateway {
        code: sosopay::ResultCode::ServiceUnavailable,
        info: String::new(),
        operation: "query".into(),
    };
    assert!(!read.outcome_unknown());
}

#[test]
fn a_flow_cancelled_before_it_starts_sends_nothing() {
    let sb = sandbox(0.05);
    let client =
        Client::new(ClientConfig::new(BUSI, KEY, sb.base_url()).expect("config")).expect("client");
    let token = sosopay::CancelToken::new();
    token.cancel();
    let ctl = sosopay::FlowControl {
        cancel: Some(token),
        observer: None,
        interrupt: None,
    };
    let out = client
        .micropay_and_wait_with(&request("PRE-1", PAY_NOW), &opts(3000, 6000), &ctl)
        .expect("flow");
    assert_eq!(out.status, OutcomeStatus::Failed, "{out:?}");
    assert!(sb.order("PRE-1").is_none(), "nothing reached the gateway");
    // A wait cancelled before it starts still asks the gateway once.
    let out = client
        .wait_for_payment_with("PRE-1", &opts(3000, 6000), &ctl)
        .expect("wait");
    assert_eq!(out.queries, 1, "{out:?}");
}

/// A gateway that answers each operation (a segment of the request's path) with a fixed JSON
/// reply, and records the operations asked for, in order.
fn scripted_gateway(replies: &[(&'static str, &'static str)]) -> (String, Arc<Mutex<Vec<String>>>) {
    let replies = replies.to_vec();
    let ops: Vec<&'static str> = replies.iter().map(|(o, _)| *o).collect();
    answering_gateway(&ops, move |op, _| {
        let body = replies
            .iter()
            .find(|(o, _)| *o == op)
            .map_or("{}", |(_, b)| *b);
        (200, body.to_owned())
    })
}

/// A gateway that answers each of `ops` (a segment of the request's path) with `answer(op,
/// operations asked before)`: an HTTP status and a body. Records the operations asked for.
fn answering_gateway<F>(ops: &[&'static str], answer: F) -> (String, Arc<Mutex<Vec<String>>>)
where
    F: Fn(&str, &[String]) -> (u16, String) + Send + Sync + 'static,
{
    answering_gateway_after(ops, |_| Duration::ZERO, answer)
}

/// [`answering_gateway`], each answer to `op` sent `delay(op)` after it was decided (other
/// requests are answered meanwhile).
fn answering_gateway_after<D, F>(
    ops: &[&'static str],
    delay: D,
    answer: F,
) -> (String, Arc<Mutex<Vec<String>>>)
where
    D: Fn(&str) -> Duration + Send + Sync + 'static,
    F: Fn(&str, &[String]) -> (u16, String) + Send + Sync + 'static,
{
    use std::io::{BufRead as _, BufReader, Write as _};
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/openGateway/openService/",
        l.local_addr().expect("addr")
    );
    let asked = Arc::new(Mutex::new(Vec::new()));
    let (ops, log, answer) = (ops.to_vec(), Arc::clone(&asked), Arc::new(answer));
    let delay = Arc::new(delay);
    std::thread::spawn(move || {
        for stream in l.incoming().flatten() {
            let (ops, log, answer) = (ops.clone(), Arc::clone(&log), Arc::clone(&answer));
            let delay = Arc::clone(&delay);
            std::thread::spawn(move || {
                let mut r = BufReader::new(stream.try_clone().expect("clone"));
                let mut w = stream;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let path = line.split(' ').nth(1).unwrap_or("").to_owned();
                    let op = path
                        .split(['/', '?'])
                        .find(|seg| ops.contains(seg))
                        .unwrap_or(&path)
                        .to_owned();
                    let mut length = 0usize;
                    loop {
                        let mut h = String::new();
                        if r.read_line(&mut h).unwrap_or(0) == 0 {
                            return;
                        }
                        if h.trim().is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            if k.eq_ignore_ascii_case("content-length") {
                                length = v.trim().parse().unwrap_or(0);
                            }
                        }
                    }
                    let mut body = vec![0u8; length];
                    if r.read_exact(&mut body).is_err() {
                        return;
                    }
                    let (status, reply) = {
                        let mut log = log.lock().expect("log");
                        let reply = answer(&op, &log);
                        log.push(op.clone());
                        reply
                    };
                    std::thread::sleep(delay(&op));
                    let head = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: {}\r\n\r\n",
                        reply.len()
                    );
                    if w.write_all(head.as_bytes()).is_err()
                        || w.write_all(reply.as_bytes()).is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (url, asked)
}

/// A client of `url` that tries each request once (what the scripted gateway counts).
fn no_retry_client(url: String) -> Client {
    let mut c = ClientConfig::new(BUSI, KEY, url).expect("config");
    c.retry = RetryPolicy::none();
    Client::new(c).expect("client")
}

#[test]
fn a_definite_refusal_echoing_the_request_with_no_order_is_failed_at_once() {
    // The gateway refuses the payment with a definite code; its reply echoes the charge code
    // and the amount but names no state, and it has no such order. The refusal proves the
    // request will not be carried out, and the echo proves no order: `Failed` with the
    // gateway's code after one query. Before: the echo counted as "an order of this payment
    // seen", so "no such order" proved nothing; the flow polled to the deadline, tried to
    // cancel a nonexistent order and ended `Unresolved`.
    let (url, asked) = scripted_gateway(&[
        (
            "preOrder",
            r#"{"ORDER_RESP":{"RESULT":{"CODE":"FAIL","INFO":"insufficient funds"},"CHARGE_CODE":"REFUSED-1","AMT":100}}"#,
        ),
        (
            "query",
            r#"{"QUERY_RESP":{"RESULT":{"CODE":"CHARGE_NONEXISTENT","INFO":"no such order"}}}"#,
        ),
    ]);
    let client = no_retry_client(url);
    let out = client
        .micropay_and_wait(&request("REFUSED-1", PAY_NOW), &opts(1500, 3000))
        .expect("flow");
    assert_eq!(out.status, OutcomeStatus::Failed, "{out:?}");
    assert_eq!(
        out.code.as_ref().map(|c| c.as_wire()),
        Some("FAIL"),
        "{out:?}"
    );
    assert_eq!(out.queries, 1, "{out:?}");
    assert_eq!(*asked.lock().expect("log"), ["preOrder", "query"]);
}

#[test]
fn no_such_order_beside_the_order_paid_is_never_failed() {
    // The micropay is refused (FAIL); every query answers CHARGE_NONEXISTENT yet shows this
    // order, for its amount, paid. "No such order" and "paid" cannot both hold. Before: `Failed`
    // after one query ("nothing was charged": charge again). Now the answer proves nothing:
    // the flow queries on and ends `Unresolved`, never cancelling what it never proved ours.
    let (url, asked) = scripted_gateway(&[
        (
            "preOrder",
            r#"{"ORDER_RESP":{"RESULT":{"CODE":"FAIL","INFO":"insufficient funds"},"CHARGE_CODE":"NX-PAID"}}"#,
        ),
        (
            "query",
            r#"{"QUERY_RESP":{"RESULT":{"CODE":"CHARGE_NONEXISTENT","INFO":"no such order"},"BUSI_ID":"0010000001","CHARGE_CODE":"NX-PAID","AMT":"100","STATE":"1"}}"#,
        ),
    ]);
    let client = no_retry_client(url);
    let out = client
        .micropay_and_wait(&request("NX-PAID", PAY_NOW), &opts(600, 1200))
        .expect("flow");
    assert_eq!(out.status, OutcomeStatus::Unresolved, "{out:?}");
    let asked = asked.lock().expect("log").clone();
    assert!(
        asked.iter().filter(|op| *op == "query").count() > 1,
        "{asked:?}"
    );
    // A plain query says the same: a Decode error, not "no such order".
    let e = client.query_charge("NX-PAID").expect_err("two things");
    assert!(
        matches!(&e, sosopay::Error::Decode { reason, .. } if reason.contains("CHARGE_NONEXISTENT")),
        "{e:?}"
    );
}

#[test]
fn answers_about_another_order_are_no_refusal_to_stop_on() {
    // The micropay's reply is lost; every query is answered, readably, about another charge
    // code, or giving STATE twice with two values. Such answers prove nothing and the flow asks
    // again until its time runs out. Before: after 4 of them it stopped early, saying the
    // gateway "refused 4 queries in a row: check the base URL, the merchant code and the key"
    // (the advice for answers that cannot be read).
    for answer in [
        query_reply("SOMEONE-ELSES", "0"),
        r#"{"QUERY_RESP":{"RESULT":{"CODE":"SUCCESS"},"CHARGE_CODE":"FOREIGN-Q","STATE":"0","STATE":"1"}}"#
            .to_owned(),
    ] {
        another_orders_answers(answer);
    }
}

fn another_orders_answers(answer: String) {
    let (url, asked) = answering_gateway_after(
        &["preOrder", "query"],
        |op| Duration::from_millis(if op == "preOrder" { 1500 } else { 0 }),
        move |op, _| match op {
            "preOrder" => (200, order_reply("FOREIGN-Q", "0")),
            _ => (200, answer.clone()),
        },
    );
    let mut c = ClientConfig::new(BUSI, KEY, url).expect("config");
    c.retry = RetryPolicy::none();
    c.micropay_timeout = Duration::from_millis(200);
    let client = Client::new(c).expect("client");
    let mut o = opts(1200, 3200);
    o.poll_interval = Duration::from_millis(150);
    o.max_poll_interval = Duration::from_millis(150);
    let out = client
        .micropay_and_wait(&request("FOREIGN-Q", PAY_NOW), &o)
        .expect("flow");
    assert_eq!(out.status, OutcomeStatus::Unresolved, "{out:?}");
    assert!(!out.reason.contains("refused"), "{out:?}");
    let asked = asked.lock().expect("log").clone();
    let queries = asked.iter().filter(|op| *op == "query").count();
    assert!(queries > 6, "it asked on: {asked:?}");
    assert!(!asked.iter().any(|op| op == "cancelTrade"), "{asked:?}");
}

#[test]
fn a_cancel_confirmation_showing_the_order_paid_is_no_cancel() {
    // The order is proven this payment's and awaiting the customer at the deadline; the
    // cancel's answer is SUCCESS (or AREADY_REVOKED) beside the order shown paid, and every
    // query after it fails. Before: `Cancelled` ("not paid before the deadline"), the customer
    // sent away charged. Now the cancel is unconfirmed and the outcome `Unresolved`.
    for code in ["SUCCESS", "AREADY_REVOKED"] {
        let cancel = format!(
            r#"{{"CANCELTRADE_RESP":{{"RESULT":{{"CODE":"{code}","INFO":"ok"}},"CHARGE_CODE":"PAID-CANCEL","STATE":"1"}}}}"#
        );
        let (url, _) =
            answering_gateway(&["preOrder", "query", "cancelTrade"], move |op, asked| {
                let cancelled = asked.iter().any(|o| o == "cancelTrade");
                match op {
                    "preOrder" => (200, order_reply("PAID-CANCEL", "0")),
                    "cancelTrade" => (200, cancel.clone()),
                    _ if cancelled => (503, String::new()),
                    _ => (200, query_reply("PAID-CANCEL", "0")),
                }
            });
        let out = no_retry_client(url)
            .micropay_and_wait(&request("PAID-CANCEL", PAY_NOW), &opts(300, 1500))
            .expect("flow");
        assert_eq!(out.status, OutcomeStatus::Unresolved, "{code}: {out:?}");
    }
}

#[test]
fn a_refund_naming_both_numbers_needs_an_answer_naming_the_gateways_number() {
    // The query by the gateway's number is answered about ORDER-1 but without naming that
    // number: it may be about any order, so that D-2 is ORDER-1's cannot be checked. Before:
    // the refund was sent (and the gateway refunds whatever order D-2 is). Now nothing is sent.
    let (url, asked) = scripted_gateway(&[(
        "query",
        r#"{"QUERY_RESP":{"RESULT":{"CODE":"SUCCESS"},"BUSI_ID":"0010000001","CHARGE_CODE":"ORDER-1","AMT":"100","STATE":"1"}}"#,
    )]);
    let mut refund = sosopay::models::RefundRequest::new(
        "ORDER-1",
        "R-1",
        Amount::from_fen(100).expect("amount"),
        "r",
    );
    refund.charge_down_code = Some("D-2".into());
    refund.oper_id = "o".into();
    refund.dev_id = "d".into();
    match no_retry_client(url).refund(&refund) {
        Err(Error::Validation { field, reason }) => {
            assert_eq!(field, "charge_down_code");
            assert!(reason.contains("does not show that number"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        *asked.lock().expect("log"),
        vec!["query".to_owned()],
        "nothing sent"
    );
}

/// The till flow of `cc` against a gateway answering the micropay with `reply` and the n-th
/// query with `queries[n]` (the last one from then on): its outcome and what was asked.
fn sequence(
    cc: &'static str,
    reply: String,
    queries: Vec<String>,
) -> (PaymentOutcome, Vec<String>) {
    let (url, asked) =
        answering_gateway(&["preOrder", "query", "cancelTrade"], move |op, asked| {
            let n = asked.iter().filter(|o| *o == "query").count();
            match op {
                "preOrder" => (200, reply.clone()),
                "query" => (200, queries[n.min(queries.len() - 1)].clone()),
                _ => (503, String::new()),
            }
        });
    let mut o = opts(1000, 2000);
    o.poll_interval = Duration::from_millis(100);
    o.max_poll_interval = Duration::from_millis(100);
    let out = no_retry_client(url)
        .micropay_and_wait(&request(cc, PAY_NOW), &o)
        .expect("flow");
    let asked = asked.lock().expect("log").clone();
    (out, asked)
}

#[test]
fn the_order_of_answers_never_changes_what_they_prove() {
    // Paid, then awaiting payment, then closed: a paid order is never closed, however many
    // answers come between (before: `Failed`, as if nothing was charged).
    let (out, _) = sequence(
        "SEQ-1",
        order_reply("SEQ-1", "1"),
        vec![query_reply("SEQ-1", "0"), query_reply("SEQ-1", "6")],
    );
    assert_eq!(out.status, OutcomeStatus::Unresolved, "{out:?}");
    // Reversed, then "no such order" or awaiting, then paid: a reversed order is never paid
    // again (before: `Paid`, goods handed over for money that went back).
    for between in [
        query_reply("SEQ-2", "0"),
        r#"{"QUERY_RESP":{"RESULT":{"CODE":"CHARGE_NONEXISTENT","INFO":"no"}}}"#.to_owned(),
        query_reply("SEQ-2", "3"),
    ] {
        let (out, _) = sequence(
            "SEQ-2",
            order_reply("SEQ-2", "2"),
            vec![between, query_reply("SEQ-2", "1")],
        );
        assert_eq!(out.status, OutcomeStatus::Unresolved, "{out:?}");
    }
    // The same when the reply left out the amount (so it proved nothing by itself): a
    // missing field never turns a disagreement into `Paid`.
    for state in ["2", "6"] {
        let reply = format!(
            r#"{{"ORDER_RESP":{{"RESULT":{{"CODE":"SUCCESS","INFO":"ok"}},"CHARGE_CODE":"SEQ-3","STATE":"{state}"}}}}"#
        );
        let (out, _) = sequence("SEQ-3", reply, vec![query_reply("SEQ-3", "1")]);
        assert_eq!(out.status, OutcomeStatus::Unresolved, "{state}: {out:?}");
    }
    // A gateway flipping between the two stories never settles on the first one told.
    for (reply, states) in [
        (order_reply("SEQ-5", "6"), ["1", "6"]),
        (order_reply("SEQ-5", "1"), ["6", "1"]),
        // Cancelled, paid, cancelled: no cancel was sent, so no reversal explains it.
        (order_reply("SEQ-5", "2"), ["1", "2"]),
        (order_reply("SEQ-5", "1"), ["6", "2"]),
    ] {
        let queries = states.iter().map(|s| query_reply("SEQ-5", s)).collect();
        let (out, _) = sequence("SEQ-5", reply, queries);
        assert_eq!(out.status, OutcomeStatus::Unresolved, "{states:?}: {out:?}");
    }
    // Paid throughout, with an awaiting answer between (a lagging record): paid.
    let (out, _) = sequence(
        "SEQ-4",
        order_reply("SEQ-4", "1"),
        vec![query_reply("SEQ-4", "0"), query_reply("SEQ-4", "1")],
    );
    assert_eq!(out.status, OutcomeStatus::Paid, "{out:?}");
}

#[test]
fn waiting_for_an_order_never_takes_cancelled_or_closed_then_paid_as_paid() {
    // A QR order shown cancelled or closed (without its amount: proving nothing by itself),
    // then paid for its amount. Before: `Paid`. A cancelled or closed order is never paid.
    for state in ["2", "6"] {
        let first = format!(
            r#"{{"QUERY_RESP":{{"RESULT":{{"CODE":"SUCCESS","INFO":"ok"}},"CHARGE_CODE":"QR-SEQ","STATE":"{state}"}}}}"#
        );
        let (url, _) = answering_gateway(&["query"], move |_, asked| {
            if asked.is_empty() {
                (200, first.clone())
            } else {
                (200, query_reply("QR-SEQ", "1"))
            }
        });
        let mut o = opts(800, 1600);
        o.poll_interval = Duration::from_millis(100);
        o.max_poll_interval = Duration::from_millis(100);
        let order = sosopay::models::AwaitedOrder::new("QR-SEQ")
            .with_amount(Amount::from_fen(100).expect("amount"));
        let out = no_retry_client(url)
            .wait_for_payment(order, &o)
            .expect("wait");
        assert_eq!(out.status, OutcomeStatus::Unresolved, "{state}: {out:?}");
    }
}

#[test]
fn a_cashier_cancel_while_the_answers_disagree_reverses_the_order() {
    // The reply shows the order closed (without its amount); every query shows it paid for
    // this payment's amount: disputed. The cashier cancels meanwhile. Before: no cancel was
    // sent; the flow queried to its budget's end and reported `Unresolved`, the payment left
    // standing. Now the safe path reverses it: `Cancelled` once the gateway shows it so.
    let reply = r#"{"ORDER_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"},"CHARGE_CODE":"DISPUTE-C","STATE":"6"}}"#;
    let (url, asked) =
        answering_gateway(&["preOrder", "query", "cancelTrade"], move |op, asked| {
            let cancelled = asked.iter().any(|o| o == "cancelTrade");
            match op {
                "preOrder" => (200, reply.to_owned()),
                "cancelTrade" => (
                    200,
                    r#"{"CANCELTRADE_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"}}}"#.to_owned(),
                ),
                _ if cancelled => (200, query_reply("DISPUTE-C", "2")),
                _ => (200, query_reply("DISPUTE-C", "1")),
            }
        });
    let client = no_retry_client(url);
    let (out, took) = micropay_cancelled_after(
        &client,
        "DISPUTE-C",
        PAY_NOW,
        Duration::from_millis(300),
        &quick_polls(1000, 3000, 5000),
    );
    assert_eq!(out.status, OutcomeStatus::Cancelled, "{out:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(asked
        .lock()
        .expect("log")
        .iter()
        .any(|o| o == "cancelTrade"));
}

#[test]
fn a_refused_cancel_during_a_dispute_is_tried_again() {
    // A proven dispute (reply closed with its amount, queries paid); the cashier cancels; the
    // first cancel is refused, the second confirmed. Before: one cancel, then queries to the
    // budget's end, `Unresolved`, the order never reversed. Now: `Cancelled`.
    let (url, asked) = answering_gateway(&["preOrder", "query", "cancelTrade"], |op, asked| {
        let cancels = asked.iter().filter(|o| *o == "cancelTrade").count();
        match op {
            "preOrder" => (200, order_reply("DISPUTE-R", "6")),
            "cancelTrade" if cancels == 0 => (
                200,
                r#"{"CANCELTRADE_RESP":{"RESULT":{"CODE":"FAIL","INFO":"busy"}}}"#.to_owned(),
            ),
            "cancelTrade" => (
                200,
                r#"{"CANCELTRADE_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"}}}"#.to_owned(),
            ),
            _ if cancels >= 2 => (200, query_reply("DISPUTE-R", "2")),
            _ => (200, query_reply("DISPUTE-R", "1")),
        }
    });
    let (out, _) = micropay_cancelled_after(
        &no_retry_client(url),
        "DISPUTE-R",
        PAY_NOW,
        Duration::from_millis(300),
        &quick_polls(1000, 3000, 5000),
    );
    assert_eq!(out.status, OutcomeStatus::Cancelled, "{out:?}");
    let cancels = asked
        .lock()
        .expect("log")
        .iter()
        .filter(|o| *o == "cancelTrade")
        .count();
    assert_eq!(cancels, 2);
}

#[test]
fn a_cashier_cancel_during_a_dispute_about_an_unproven_order_keeps_the_pace() {
    // Reply paid without its amount, queries closed without it: a dispute, the order never
    // proven ours, so nothing is cancelled. A cashier's cancel must not turn the wait into a
    // busy loop of queries (before: about twice as many, as fast as the gateway answered).
    let reply = r#"{"ORDER_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"},"CHARGE_CODE":"DISPUTE-U","STATE":"1"}}"#;
    let query = r#"{"QUERY_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"},"CHARGE_CODE":"DISPUTE-U","STATE":"6"}}"#;
    let (url, asked) =
        answering_gateway(
            &["preOrder", "query", "cancelTrade"],
            move |op, _| match op {
                "preOrder" => (200, reply.to_owned()),
                "query" => (200, query.to_owned()),
                _ => (503, String::new()),
            },
        );
    let (out, _) = micropay_cancelled_after(
        &no_retry_client(url),
        "DISPUTE-U",
        PAY_NOW,
        Duration::from_millis(300),
        &quick_polls(1000, 1500, 2500),
    );
    assert_eq!(out.status, OutcomeStatus::Unresolved, "{out:?}");
    let asked = asked.lock().expect("log").clone();
    let queries = asked.iter().filter(|o| *o == "query").count();
    // 100 ms apart over a 2.5 s budget: about 25.
    assert!(queries <= 30, "{queries} queries: {asked:?}");
    assert!(!asked.iter().any(|o| o == "cancelTrade"), "{asked:?}");
}

#[test]
fn a_refusal_echoing_another_amount_shows_no_order_the_query_does() {
    // The micropay is refused (FAIL, no state) with an echo of another amount; the query shows
    // this payment's order paid. Before: `Conflict` at once ("this payment did not happen"),
    // no query made, the customer charged. Now the query's state wins: `Paid`.
    let reply = r#"{"ORDER_RESP":{"RESULT":{"CODE":"FAIL","INFO":"x"},"CHARGE_CODE":"ECHO-1","AMT":"200"}}"#;
    let (out, asked) = sequence("ECHO-1", reply.to_owned(), vec![query_reply("ECHO-1", "1")]);
    assert_eq!(out.status, OutcomeStatus::Paid, "{out:?}");
    assert!(asked.iter().any(|o| o == "query"), "{asked:?}");
}

#[test]
fn a_top_up_reply_is_compared_whole() {
    // A top-up cannot be sent again safely, so a reply that is another top-up's, or says two
    // things, must never read as this one done.
    let flow = |phone: &str, val: &str, status: &str| {
        format!(r#"{{"phoneNo":"{phone}","flowVal":"{val}","status":"{status}"}}"#)
    };
    let reply =
        |flow: String| format!(r#"{{"result":{{"CODE":"SUCCESS","INFO":"ok"}},"flow":{flow}}}"#);
    let ours = flow("13800138000", "100", "1");
    let theirs = flow("13900000000", "100", "1");
    for (body, ok) in [
        (reply(ours.clone()), true),
        // The same flow twice is that flow.
        (reply(format!("[{ours},{ours}]")), true),
        // Another phone's, given twice (or in a list): never "no flow shown".
        (reply(format!("[{theirs},{theirs}]")), false),
        (reply(format!("[{theirs}]")), false),
        (reply(format!("[{ours},{theirs}]")), false),
        (reply(r#""13800138000""#.to_owned()), false),
        // Another size: another request's answer.
        (reply(flow("13800138000", "500", "1")), false),
        // Accepted, and shown failed (in any spelling); refused, and shown done or under way.
        (reply(flow("13800138000", "100", "3")), false),
        (reply(flow("13800138000", "100", " 03")), false),
        (
            format!(
                r#"{{"result":{{"CODE":"FAIL","INFO":"no"}},"flow":{}}}"#,
                flow("13800138000", "100", "2")
            ),
            false,
        ),
        // Two answers in one document (beside the root, or under it).
        (
            format!(
                r#"{{"FLOWRECHARGE_RESP":{{"result":{{"CODE":"SUCCESS"}},"flow":{ours},"QUERY_RESP":{{"RESULT":{{"CODE":"FAIL"}}}}}}}}"#
            ),
            false,
        ),
        (
            format!(
                r#"{{"FLOWRECHARGE_RESP":{{"result":{{"CODE":"SUCCESS"}},"flow":{ours}}},"result":{{"CODE":"FAIL"}}}}"#
            ),
            false,
        ),
        (
            format!(
                r#"{{"result":{{"CODE":"SUCCESS"}},"QUERY_RESP":{{"RESULT":{{"CODE":"FAIL"}}}},"flow":{ours}}}"#
            ),
            false,
        ),
    ] {
        let answer = body.clone();
        let (url, _) = answering_gateway(&["flowRecharge"], move |_, _| (200, answer.clone()));
        let got = no_retry_client(url).flow_recharge(&sosopay::models::FlowRechargeRequest::new(
            "13800138000",
            100,
        ));
        match got {
            Ok(_) => assert!(ok, "{body}: accepted"),
            Err(e) => {
                assert!(!ok, "{body}: {e:?}");
                assert!(
                    matches!(e, Error::Decode { .. }) && e.outcome_unknown(),
                    "{body}: {e:?}"
                );
            }
        }
    }
}

#[test]
fn a_client_error_status_with_a_reply_in_its_body_is_not_not_carried_out() {
    // HTTP 400 says "not carried out"; a body that is this operation's reply (the order paid,
    // SERIAL_REPEAT) says it was. Which holds cannot be told: the outcome is unknown (query
    // before charging again), never a definite refusal. A 400 with an error page stays one.
    for (body, unknown) in [
        (order_reply("HTTP-400", "1"), true),
        (
            r#"{"ORDER_RESP":{"RESULT":{"CODE":"SERIAL_REPEAT","INFO":"repeat"}}}"#.to_owned(),
            true,
        ),
        ("<html><body>Bad Request</body></html>".to_owned(), false),
        // A refusal in the body agrees with the status: not carried out.
        (
            r#"{"ORDER_RESP":{"RESULT":{"CODE":"FAIL","INFO":"no"}}}"#.to_owned(),
            false,
        ),
        // The sandbox's (and a gateway's) answer to a wrong path or an oversized body.
        (
            r#"{"RESULT":{"CODE":"ILLEGAL_PARAMETER","INFO":"no such operation"}}"#.to_owned(),
            false,
        ),
        (String::new(), false),
    ] {
        let reply = body.clone();
        let (url, _) = answering_gateway(&["preOrder"], move |_, _| (400, reply.clone()));
        let e = no_retry_client(url)
            .micropay(&request("HTTP-400", PAY_NOW))
            .expect_err("400");
        assert_eq!(e.outcome_unknown(), unknown, "{body}: {e:?}");
        if !unknown {
            assert!(
                matches!(e, sosopay::Error::HttpStatus { status: 400, .. }),
                "{e:?}"
            );
        }
    }
    // A cancel "already revoked" and a top-up shown done are confirmations too.
    let revoked = r#"{"CANCELTRADE_RESP":{"RESULT":{"CODE":"AREADY_REVOKED","INFO":"done"}}}"#;
    let (url, _) = answering_gateway(&["cancelTrade"], move |_, _| (400, revoked.to_owned()));
    let e = no_retry_client(url)
        .cancel(&sosopay::models::CancelRequest::new("HTTP-400"))
        .expect_err("400");
    assert!(
        matches!(e, Error::Decode { .. }) && e.outcome_unknown(),
        "{e:?}"
    );
    let done = r#"{"result":{"CODE":"FAIL","INFO":"x"},"flow":{"phoneNo":"13800138000","flowVal":100,"status":"2"}}"#;
    let (url, _) = answering_gateway(&["flowRecharge"], move |_, _| (400, done.to_owned()));
    let e = no_retry_client(url)
        .flow_recharge(&sosopay::models::FlowRechargeRequest::new(
            "13800138000",
            100,
        ))
        .expect_err("400");
    assert!(
        matches!(e, Error::Decode { .. }) && e.outcome_unknown(),
        "{e:?}"
    );
}

#[test]
fn a_cancel_confirmation_without_its_root_does_not_cancel_the_flow() {
    // The order is proven this payment's and awaiting the customer at the deadline; the
    // cancel's answer is a bare {"RESULT":SUCCESS} (no CANCELTRADE_RESP root), and every query
    // after it fails. Before: `Cancelled` (the till lets the customer go while the order may
    // still be paid). Now the cancel is unconfirmed and the outcome `Unresolved`.
    let (url, _) = answering_gateway(&["preOrder", "query", "cancelTrade"], |op, asked| {
        let cancelled = asked.iter().any(|o| o == "cancelTrade");
        match op {
            "preOrder" => (200, order_reply("BARE-CANCEL", "0")),
            "cancelTrade" => (
                200,
                r#"{"RESULT":{"CODE":"SUCCESS","INFO":"ok"}}"#.to_owned(),
            ),
            _ if cancelled => (503, String::new()),
            _ => (200, query_reply("BARE-CANCEL", "0")),
        }
    });
    let out = no_retry_client(url)
        .micropay_and_wait(&request("BARE-CANCEL", PAY_NOW), &opts(300, 1500))
        .expect("flow");
    assert_eq!(out.status, OutcomeStatus::Unresolved, "{out:?}");
}

#[test]
fn an_order_seen_matching_then_not_is_unresolved_never_a_conflict() {
    // The micropay reply shows this payment's order paid (its charge code and amount); the
    // query after it shows the same charge code with another amount. A charge code names one
    // order, so one answer is wrong: `Conflict` would tell the shop this payment did not
    // happen, though the gateway said it was paid. Before: `Conflict`. Now `Unresolved`
    // (query later), and nothing is cancelled.
    let (out, asked) = two_views("TWO-VIEWS", (100, "1"), (50, "1"), 1500);
    assert_eq!(out.status, OutcomeStatus::Unresolved, "{out:?}");
    assert!(out.reason.contains("disagree"), "{out:?}");
    assert_eq!(asked, ["preOrder", "query"]);
}

/// An order as a scripted answer shows it: (amount in fen, state).
type View = (u32, &'static str);

/// The till flow (1.00 yuan, deadline `deadline_ms`, budget twice that) against a scripted
/// gateway whose micropay reply shows `reply` and whose queries show `query`, under the
/// requested charge code; with the operations asked for.
fn two_views(
    cc: &'static str,
    reply: View,
    query: View,
    deadline_ms: u64,
) -> (sosopay::PaymentOutcome, Vec<String>) {
    let body = |root: &str, (amt, state): View| -> &'static str {
        let b = format!(
            r#"{{"{root}":{{"RESULT":{{"CODE":"SUCCESS","INFO":"ok"}},"CHARGE_CODE":"{cc}","AMT":{amt},"STATE":"{state}"}}}}"#
        );
        Box::leak(b.into_boxed_str())
    };
    let (url, asked) = scripted_gateway(&[
        ("preOrder", body("ORDER_RESP", reply)),
        ("query", body("QUERY_RESP", query)),
    ]);
    let client = no_retry_client(url);
    let out = client
        .micropay_and_wait(&request(cc, PAY_NOW), &opts(deadline_ms, 2 * deadline_ms))
        .expect("flow");
    let asked = asked.lock().expect("log").clone();
    (out, asked)
}

#[test]
fn another_payments_order_in_a_success_reply_is_confirmed_by_a_query() {
    // Confirmed: the query shows the other payment's order too.
    let (out, asked) = two_views("OTHER-TWICE", (50, "1"), (50, "1"), 1500);
    assert_eq!(out.status, OutcomeStatus::Conflict, "{out:?}");
    assert_eq!(out.queries, 1, "{out:?}");
    assert_eq!(asked, ["preOrder", "query"]);
    // Contradicted: the reply shows another amount, the query this payment's order paid. One
    // answer is wrong; `Conflict` ("this payment did not happen") would be a guess. Before:
    // `Conflict` from the reply alone, no query.
    let (out, asked) = two_views("OTHER-THEN-OURS", (50, "1"), (100, "1"), 1500);
    assert_eq!(out.status, OutcomeStatus::Unresolved, "{out:?}");
    assert!(out.reason.contains("disagree"), "{out:?}");
    assert_eq!(asked, ["preOrder", "query"]);
}

#[test]
fn a_masked_customer_code_in_the_answers_is_this_customers() {
    // A gateway may mask the customer's payment code in its answers. A masked code is not
    // another customer's: before, this paid order was `Conflict` ("this payment did not happen").
    let masked = "1307**********4036";
    assert_eq!(PAY_NOW.len(), masked.len());
    let pre = r#"{"ORDER_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"},"CHARGE_CODE":"MASKED-1","AMT":100,"STATE":"1","DYNAMIC_ID":"1307**********4036"}}"#;
    let query = r#"{"QUERY_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"},"CHARGE_CODE":"MASKED-1","AMT":100,"STATE":"1","DYNAMIC_ID":"1307**********4036"}}"#;
    let (url, _asked) = scripted_gateway(&[("preOrder", pre), ("query", query)]);
    let client = no_retry_client(url);
    let out = client
        .micropay_and_wait(&request("MASKED-1", PAY_NOW), &opts(1500, 3000))
        .expect("flow");
    assert_eq!(out.status, OutcomeStatus::Paid, "{out:?}");
}

#[test]
fn a_paid_reply_then_a_closed_order_is_unresolved_never_failed() {
    // The micropay reply shows this payment's order paid; every query after it shows the
    // order closed (state 6). A paid order is never closed (it is refunded or reversed), so
    // one answer is wrong. `Failed` ("no money moved": charge the customer again) would risk a
    // double charge. Before: `Failed` after one query. Now the flow queries on and reports
    // `Unresolved` when its budget runs out.
    let (out, asked) = two_views("PAID-CLOSED", (100, "1"), (100, "6"), 1000);
    assert_eq!(out.status, OutcomeStatus::Unresolved, "{out:?}");
    assert!(out.reason.contains("closed"), "{out:?}");
    assert!(asked.len() > 2, "it queried on: {asked:?}");
    assert!(
        !asked.iter().any(|op| op.contains("cancelTrade")),
        "{asked:?}"
    );
}

#[test]
fn a_reversed_reply_then_a_paid_order_is_unresolved_never_paid() {
    // The micropay reply shows the order cancelled (state 2: reversed, the money returned);
    // the queries after it show it paid, as an order record lagging behind the reversal would.
    // A reversed order is never paid again. Before: `Paid` (goods handed over for money that
    // went back). Now `Unresolved` when the time runs out.
    let (out, asked) = two_views("REV-PAID", (100, "2"), (100, "1"), 1000);
    assert_eq!(out.status, OutcomeStatus::Unresolved, "{out:?}");
    assert!(
        out.reason.contains("cancelled") && out.reason.contains("paid"),
        "{out:?}"
    );
    assert!(asked.len() > 2, "it queried on: {asked:?}");
}

#[test]
fn an_order_reply_for_another_amount_is_not_this_order() {
    // A QR order of 10.00 whose reply shows the order for 1.00 (its charge code used before,
    // or an answer meant for another request): showing that QR code would charge the customer
    // 1.00. Before: the reply was returned as this order's. Now a `Decode` error whose outcome
    // is unknown (query the order, with its amount, before doing anything).
    let order = r#"{"ORDER_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"},"CHARGE_CODE":"QR-AMT","AMT":100,"BAR_CODE":"https://pay.example/x"}}"#;
    let pre = r#"{"ORDER_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"},"CHARGE_CODE":"QR-AMT","AMT":100,"STATE":"1"}}"#;
    let (url, _asked) = scripted_gateway(&[("order", order), ("preOrder", pre)]);
    let client = no_retry_client(url);
    let ten = Amount::from_fen(1000).expect("amount");
    let mut req = sosopay::models::OrderRequest::new("QR-AMT", ten, sosopay::Channel::Wechat, "t");
    req.oper_id = "o".into();
    req.dev_id = "d".into();
    let e = client.create_qr_order(&req).expect_err("another amount");
    assert!(
        matches!(&e, Error::Decode { reason, .. } if reason.contains("of 1.00 yuan (this one is 10.00 yuan)")),
        "{e:?}"
    );
    assert!(e.outcome_unknown(), "{e:?}");
    // A plain micropay of 10.00 whose reply shows 1.00 paid: the same.
    let mut sale = request("QR-AMT", PAY_NOW);
    sale.amount = ten;
    let e = client.micropay(&sale).expect_err("another amount");
    assert!(
        matches!(&e, Error::Decode { .. }) && e.outcome_unknown(),
        "{e:?}"
    );
    // The same amount is this order.
    let one = sosopay::models::OrderRequest {
        amount: Amount::from_fen(100).expect("amount"),
        ..req
    };
    assert!(client.create_qr_order(&one).is_ok());
}

#[test]
fn waiting_with_the_amount_needs_answers_that_show_it() {
    // Every query answer lacks AMT: the order under the charge code cannot be proven to be
    // the one of this amount, so it is never `Paid`, and the reason says why.
    let sb = faulty_sandbox("query:omit:1:AMT");
    let mut c = ClientConfig::new(BUSI, KEY, sb.base_url()).expect("config");
    c.default_oper_id = Some("o".into());
    c.default_dev_id = Some("d".into());
    let client = Client::new(c).expect("client");
    let one = Amount::from_fen(100).expect("amount");
    let order = sosopay::models::OrderRequest::new("NO-AMT", one, sosopay::Channel::Wechat, "t");
    client.create_qr_order(&order).expect("order");
    sb.pay("NO-AMT").expect("pay");
    let out = client
        .wait_for_payment(&order, &opts(600, 1200))
        .expect("wait");
    assert_eq!(out.status, OutcomeStatus::Unresolved, "{out:?}");
    assert!(out.reason.contains("amount"), "{out:?}");
    // Without the amount, any order under the code counts.
    let out = client
        .wait_for_payment("NO-AMT", &opts(600, 1200))
        .expect("wait");
    assert_eq!(out.status, OutcomeStatus::Paid, "{out:?}");
}

#[test]
fn waiting_for_an_order_checks_its_merchant_para_too() {
    // A charge code reused: the order under it was created with another MERCHANTPARA. Waiting
    // with the new request (or an AwaitedOrder naming it) finds another payment's order:
    // `Conflict`, never `Paid`; with the same MERCHANTPARA it is this payment.
    let sb = sandbox(0.05);
    let mut c = ClientConfig::new(BUSI, KEY, sb.base_url()).expect("config");
    c.default_oper_id = Some("o".into());
    c.default_dev_id = Some("d".into());
    let client = Client::new(c).expect("client");
    let one = Amount::from_fen(100).expect("amount");
    let mut first = sosopay::models::OrderRequest::new("MP-1", one, sosopay::Channel::Wechat, "t");
    first.merchant_para = Some("c2hvcC0x".into());
    client.create_qr_order(&first).expect("order");
    sb.pay("MP-1").expect("pay");
    let second = sosopay::models::OrderRequest {
        merchant_para: Some("c2hvcC0y".into()),
        ..first.clone()
    };
    let out = client
        .wait_for_payment(&second, &opts(600, 1200))
        .expect("wait");
    assert_eq!(out.status, OutcomeStatus::Conflict, "{out:?}");
    let named = sosopay::AwaitedOrder {
        merchant_para: Some("c2hvcC0y".into()),
        ..sosopay::AwaitedOrder::new("MP-1").with_amount(one)
    };
    let out = client
        .wait_for_payment(named, &opts(600, 1200))
        .expect("wait");
    assert_eq!(out.status, OutcomeStatus::Conflict, "{out:?}");
    let out = client
        .wait_for_payment(&first, &opts(600, 1200))
        .expect("wait");
    assert_eq!(out.status, OutcomeStatus::Paid, "{out:?}");
}

#[test]
fn a_paid_qr_order_of_another_device_under_the_charge_code_is_a_conflict_not_paid() {
    // The shop's web backend (device "web") made a QR order under the charge code a till
    // (device "d") then uses: the query shows no customer code, but the order's DEV_ID is
    // another device's, so the till's customer did not pay: `Conflict`, never `Paid`, and the
    // other order is not cancelled. The same device's order is this sale's (one charge code is
    // one sale): paid.
    let sb = sandbox(0.02);
    let client =
        Client::new(ClientConfig::new(BUSI, KEY, sb.base_url()).expect("config")).expect("client");
    for (cc, device, want) in [
        ("QR-WEB-1", "web", OutcomeStatus::Conflict),
        ("QR-TILL-1", "d", OutcomeStatus::Paid),
    ] {
        let mut qr = sosopay::models::OrderRequest::new(
            cc,
            Amount::from_fen(100).expect("amount"),
            sosopay::Channel::Wechat,
            "t",
        );
        qr.oper_id = "o".into();
        qr.dev_id = device.into();
        client.create_qr_order(&qr).expect("qr order");
        sb.pay(cc).expect("someone pays the QR order");
        let out = client
            .micropay_and_wait(&request(cc, PAY_NOW), &opts(3_000, 6_000))
            .expect("flow");
        assert_eq!(out.status, want, "{cc}: {out:?}");
        if want == OutcomeStatus::Conflict {
            assert!(out.reason.contains("device \"web\""), "{out:?}");
        }
        assert_eq!(
            sb.order(cc).and_then(|o| o.state),
            Some(1),
            "{cc}: the QR order stays paid (never cancelled)"
        );
    }
}

#[test]
fn a_gateway_that_refuses_every_query_ends_the_flow_soon_after_the_deadline() {
    // A wrong key (plain), an unknown merchant (plain), a wrong key with 3DES: every request
    // is refused, so nothing about the order can ever be learnt. The flow does not query on
    // to its 30 s deadline and 60 s budget: after four refusals of the same kind it ends `Unresolved`
    // (never `Failed`: an earlier attempt under this charge code might have an order), and no
    // cancel is ever sent for an order not proven this payment's.
    let sb = sandbox(0.02);
    for (busi, key, encrypt, refused) in [
        (BUSI, "WRONGKEYWRONGKEYWRONGKEY", false, "INVALID_SIGN"),
        ("0099999999", KEY, false, "UNREGISTERED_BUSI"),
        (BUSI, "WRONGKEYWRONGKEYWRONGKEY", true, "decrypt"),
        ("0099999999", KEY, true, "unencrypted reply"),
        // A base URL without the gateway's path: every request is HTTP 404.
        (BUSI, KEY, false, "HTTP 404"),
    ] {
        let log: Arc<Mutex<Vec<&'static str>>> = Arc::default();
        let url = if refused == "HTTP 404" {
            sb.base_url().replace("openGateway/openService/", "")
        } else {
            sb.base_url().to_owned()
        };
        let mut c = ClientConfig::new(busi, key, url).expect("config");
        c.encrypt = encrypt;
        let sink = log.clone();
        c.on_request = Some(Arc::new(move |l: &sosopay::RequestLog| {
            sink.lock().expect("lock").push(l.operation)
        }));
        let client = Client::new(c).expect("client");
        let started = Instant::now();
        let out = client
            .micropay_and_wait(
                &request(&format!("RF-{}", refused.replace(" ", "-")), PAY_NOW),
                &opts(30_000, 60_000),
            )
            .expect("flow");
        let took = started.elapsed();
        assert_eq!(out.status, OutcomeStatus::Unresolved, "{refused}: {out:?}");
        assert!(
            out.reason.contains("queries in a row") && out.reason.contains(refused),
            "{refused}: {}",
            out.reason
        );
        assert!(took < Duration::from_secs(15), "{refused}: {took:?}");
        {
            let log = log.lock().expect("lock");
            assert!(!log.contains(&"cancelTrade"), "{refused}: {log:?}");
            assert_eq!(
                log.iter().filter(|op| **op == "preOrder").count(),
                1,
                "{log:?}"
            );
        }
        // Waiting for a QR order ends the same way, with the refusal's code as the till's.
        let waited = client
            .wait_for_payment("RF-WAIT", &opts(30_000, 60_000))
            .expect("wait");
        assert_eq!(
            waited.status,
            OutcomeStatus::Unresolved,
            "{refused}: {waited:?}"
        );
        assert_eq!(waited.code, out.code, "{refused}: {waited:?}");
        if !encrypt && refused != "HTTP 404" {
            assert_eq!(
                waited.code.as_ref().map(|c| c.as_wire().to_owned()),
                Some(refused.to_owned()),
                "{waited:?}"
            );
        }
    }
}

/// A micropay's reply showing order `cc` of 1.00 in `state`.
fn order_reply(cc: &str, state: &str) -> String {
    format!(
        r#"{{"ORDER_RESP":{{"RESULT":{{"CODE":"SUCCESS","INFO":"ok"}},"CHARGE_CODE":"{cc}","AMT":100,"STATE":"{state}"}}}}"#
    )
}

/// A query's reply showing order `cc` of 1.00 in `state`.
fn query_reply(cc: &str, state: &str) -> String {
    format!(
        r#"{{"QUERY_RESP":{{"RESULT":{{"CODE":"SUCCESS","INFO":"ok"}},"CHARGE_CODE":"{cc}","AMT":100,"STATE":"{state}"}}}}"#
    )
}

/// `micropay_and_wait_with` of `cc` (paid with `code`) on `client`, cancelled `after` it
/// starts: the outcome and how long the flow took.
fn micropay_cancelled_after(
    client: &Client,
    cc: &str,
    code: &str,
    after: Duration,
    wait: &WaitOptions,
) -> (sosopay::PaymentOutcome, Duration) {
    let (token, ctl) = cancellable();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(after);
        token.cancel();
    });
    let started = Instant::now();
    let out = client
        .micropay_and_wait_with(&request(cc, code), wait, &ctl)
        .expect("flow");
    canceller.join().expect("canceller");
    (out, started.elapsed())
}

/// Flow options polling every 100 ms with a gateway hold of `hold_ms`, a deadline of
/// `deadline_ms` and a budget of `max_ms`.
fn quick_polls(hold_ms: u64, deadline_ms: u64, max_ms: u64) -> WaitOptions {
    WaitOptions {
        poll_interval: Duration::from_millis(100),
        max_poll_interval: Duration::from_millis(100),
        gateway_hold: Duration::from_millis(hold_ms),
        ..opts(deadline_ms, max_ms)
    }
}

/// `micropay_and_wait_with` on `sb`'s client, cancelled `cancel_after` after it starts, with a
/// gateway hold of `hold_ms`: the outcome and how long the flow took.
fn cancelled_flow(
    sb: &Sandbox,
    cc: &str,
    code: &str,
    cancel_after: Duration,
    hold_ms: u64,
) -> (sosopay::PaymentOutcome, Duration) {
    let client =
        Client::new(ClientConfig::new(BUSI, KEY, sb.base_url()).expect("config")).expect("client");
    micropay_cancelled_after(
        &client,
        cc,
        code,
        cancel_after,
        &quick_polls(hold_ms, 10_000, 20_000),
    )
}

#[test]
fn a_cancel_while_the_micropay_is_in_flight_never_reports_failed_for_a_payment_made_later() {
    // The micropay reaches the gateway 1.5 s after it is sent (the connection open, the client
    // still waiting for its reply); the cashier cancels at 0.2 s; the gateway's hold is 0.3 s.
    // Before: the hold counted from the cancel, "no such order" at 0.5 s proved nothing was
    // charged (`Failed`), and the customer was charged at 1.5 s. The request may reach the
    // gateway until it ends, so the flow waits for it; the order it then finds paid is
    // reversed, as the cancel asked (a cancelled coroutine or task never receives the outcome,
    // so keeping the payment would leave the customer charged with nobody told): `Cancelled`.
    let sb = faulty_sandbox("preOrder:late:1:1500");
    let (out, _) = cancelled_flow(&sb, "INFLIGHT-1", PAY_NOW, Duration::from_millis(200), 300);
    std::thread::sleep(Duration::from_millis(300));
    let state = sb.order("INFLIGHT-1").and_then(|o| o.state.map(u64::from));
    assert_eq!(
        out.status,
        OutcomeStatus::Cancelled,
        "{out:?}, ledger {state:?}"
    );
    assert_eq!(state, Some(2), "reversed in the ledger: {out:?}");
}

#[test]
fn a_refusal_that_comes_after_a_cancel_settles_the_flow_without_waiting_out_the_hold() {
    // The gateway refuses the payment (a malformed code) 1 s after it is sent; the cashier
    // cancels at 0.2 s; the hold is 5 s. The refusal, when it comes, proves the gateway will
    // not carry the request out: `Failed` with the gateway's code, long before the hold ends
    // (before: the refusal was thrown away and the flow waited out the hold).
    let sb = faulty_sandbox("preOrder:delay:1:1000");
    let (out, took) = cancelled_flow(&sb, "INFLIGHT-2", "12345", Duration::from_millis(200), 5000);
    assert_eq!(out.status, OutcomeStatus::Failed, "{out:?}");
    assert_ne!(out.code, Some(ResultCode::ChargeNonexistent), "{out:?}");
    assert!(took < Duration::from_millis(4000), "{took:?} {out:?}");
    assert!(sb.order("INFLIGHT-2").is_none());
}

#[test]
fn a_cancel_while_the_micropay_cannot_connect_ends_failed_when_the_connection_fails() {
    // The gateway's TLS handshake never completes (connect timeout 1 s); the cashier cancels
    // at 0.2 s. The micropay's own end says it never reached the gateway: `Failed` then, as
    // without the cancel (before: the flow queried an unreachable gateway until its budget
    // ended, `Unresolved` after the whole 10 s).
    let (url, _h) = silent_gateway();
    let url = url.replace("http://", "https://");
    let mut c = ClientConfig::new(BUSI, KEY, url).expect("config");
    c.connect_timeout = Duration::from_secs(1);
    let client = Client::new(c).expect("client");
    let (out, took) = micropay_cancelled_after(
        &client,
        "NEVER-SENT-1",
        PAY_NOW,
        Duration::from_millis(200),
        &quick_polls(5000, 2000, 10_000),
    );
    assert_eq!(out.status, OutcomeStatus::Failed, "{out:?}");
    assert!(out.reason.contains("never reached the gateway"), "{out:?}");
    // Its one query (three attempts of 1 s each) ends before the flow sees the answer.
    assert!(took < Duration::from_secs(7), "{took:?} {out:?}");
}

#[test]
fn a_payment_made_at_once_whose_reply_is_still_on_its_way_is_reversed_when_cancelled() {
    // The gateway charges at once but its reply takes 1.5 s; the cashier cancels at 0.2 s.
    // Before: the flow's first query found the order paid and the flow kept it (`Paid`), while
    // a cancelled coroutine or task never receives that: the customer stayed charged with
    // nobody told. The cancel asked for the payment to be undone: it is reversed.
    let sb = faulty_sandbox("preOrder:delay:1:1500");
    let (out, _) = cancelled_flow(&sb, "INFLIGHT-3", PAY_NOW, Duration::from_millis(200), 300);
    let state = sb.order("INFLIGHT-3").and_then(|o| o.state.map(u64::from));
    assert_eq!(
        out.status,
        OutcomeStatus::Cancelled,
        "{out:?}, ledger {state:?}"
    );
    assert_eq!(state, Some(2), "reversed in the ledger: {out:?}");
}

/// A till flow for `cc` whose micropay is answered `late_ms` late, showing the order paid,
/// while queries get `query` and cancels `cancel`, cancelled at 0.2 s (`(deadline_ms,
/// max_ms)`): its outcome and the operations the gateway was asked.
fn late_paid_then(
    cc: &'static str,
    late_ms: u64,
    query: &'static str,
    cancel: &'static str,
    (deadline_ms, max_ms): (u64, u64),
) -> (sosopay::PaymentOutcome, Vec<String>) {
    let paid = order_reply(cc, "1");
    let (url, asked) = answering_gateway_after(
        &["preOrder", "query", "cancelTrade"],
        move |op| Duration::from_millis(if op == "preOrder" { late_ms } else { 0 }),
        move |op, _| match op {
            "preOrder" => (200, paid.clone()),
            "cancelTrade" => (200, cancel.to_owned()),
            _ => (200, query.to_owned()),
        },
    );
    let (out, _) = micropay_cancelled_after(
        &no_retry_client(url),
        cc,
        PAY_NOW,
        Duration::from_millis(200),
        &quick_polls(200, deadline_ms, max_ms),
    );
    let asked = asked.lock().expect("log").clone();
    (out, asked)
}

#[test]
fn the_late_reply_of_a_cancelled_micropay_counts_for_what_it_shows() {
    // The micropay's reply, 1 s late (after the cancel at 0.2 s), shows the order paid, for
    // this amount; the queries answer "no such order" (an order index that lags). Before: only
    // the reply's code was used, the hold passed, and "no such order" made it `Failed`
    // ("nothing was charged") for money the gateway said it took.
    let cc = "LATE-PAID";
    let none = r#"{"QUERY_RESP":{"RESULT":{"CODE":"CHARGE_NONEXISTENT","INFO":"no such order"}}}"#;
    let (out, _) = late_paid_then(cc, 1000, none, none, (3000, 4000));
    assert_ne!(out.status, OutcomeStatus::Failed, "{out:?}");
    assert_eq!(out.status, OutcomeStatus::Unresolved, "{out:?}");
}

#[test]
fn a_cancel_during_a_failing_confirming_query_still_reverses_the_payment() {
    // The micropay's reply shows the order paid at once; the query confirming it fails (HTTP
    // 503, retried); the cashier cancels meanwhile. Before: the reply's state stood (`Paid`),
    // no cancel sent, while a cancelled coroutine or task never receives it. Now: reversed.
    let sb = faulty_sandbox("query:http503:1");
    let (out, _) = cancelled_flow(
        &sb,
        "CONFIRM-FAILS",
        PAY_NOW,
        Duration::from_millis(60),
        300,
    );
    let state = sb
        .order("CONFIRM-FAILS")
        .and_then(|o| o.state.map(u64::from));
    assert_eq!(state, Some(2), "reversed in the ledger: {out:?}");
    assert_eq!(out.status, OutcomeStatus::Cancelled, "{out:?}");
}

#[test]
fn waiting_cancelled_after_the_payment_reports_it_paid_not_pending() {
    // Paid at 0.3 s, the wait cancelled at 0.45 s while it sleeps between queries (2 s apart):
    // before, `Pending` ("still awaiting payment") with no last look, while the order was paid:
    // a caller acting on it (cancelling the QR order) could reverse a payment.
    let sb = Arc::new(sandbox(0.05));
    let client =
        Client::new(ClientConfig::new(BUSI, KEY, sb.base_url()).expect("config")).expect("client");
    let o = qr_order(&client, "LATE-LOOK");
    let (token, ctl) = cancellable();
    let sb2 = Arc::clone(&sb);
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        sb2.pay("LATE-LOOK").expect("pay");
        std::thread::sleep(Duration::from_millis(150));
        token.cancel();
    });
    let wait = WaitOptions {
        poll_interval: Duration::from_millis(2000),
        max_poll_interval: Duration::from_millis(2000),
        ..opts(20_000, 30_000)
    };
    let out = client.wait_for_payment_with(&o, &wait, &ctl).expect("wait");
    t.join().expect("thread");
    assert_eq!(out.status, OutcomeStatus::Paid, "{out:?}");
    assert_eq!(
        sb.order("LATE-LOOK").and_then(|o| o.state.map(u64::from)),
        Some(1),
        "a wait never reverses"
    );
}

#[test]
fn a_cancelled_wait_asks_once_more_but_is_not_held_up_by_a_hanging_gateway() {
    // The first query answers at once (awaiting payment); every later one hangs for 30 s. A
    // cancel during the 2 s pause makes one last look, bounded to 1 s: back in about 1 s with
    // `Unresolved` (the last query failed), not after the client's 20 s timeout and retries.
    let cc = "WAIT-HANG";
    let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (url, _) = answering_gateway_after(
        &["query"],
        move |_| {
            let n = asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Duration::from_secs(if n == 0 { 0 } else { 30 })
        },
        move |_, _| (200, query_reply(cc, "0")),
    );
    let client = Client::new(ClientConfig::new(BUSI, KEY, url).expect("config")).expect("client");
    let (token, ctl) = cancellable();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        token.cancel();
    });
    let wait = WaitOptions {
        poll_interval: Duration::from_millis(2000),
        max_poll_interval: Duration::from_millis(2000),
        ..opts(20_000, 30_000)
    };
    let started = Instant::now();
    let out = client.wait_for_payment_with(cc, &wait, &ctl).expect("wait");
    let took = started.elapsed();
    canceller.join().expect("canceller");
    assert_eq!(out.status, OutcomeStatus::Unresolved, "{out:?}");
    assert!(took < Duration::from_millis(2500), "{took:?}");
}

#[test]
fn unreadable_queries_do_not_end_a_cancelled_flow_before_its_micropay_answers() {
    // The micropay's reply comes 1.5 s late and shows the order paid; every query is answered
    // with garbage; the cashier cancels at 0.2 s. Before: four unreadable queries in a row
    // ended the flow `Unresolved` while the request was still out, and the payment it then made
    // stood with nobody told. Now the flow waits for the reply, and reverses the payment.
    let cc = "LATE-GARBLED";
    let cancelled = r#"{"CANCELTRADE_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"}}}"#;
    let (out, asked) = late_paid_then(cc, 1500, "garbage", cancelled, (5000, 8000));
    assert!(
        asked.iter().any(|o| o == "cancelTrade"),
        "{asked:?} {out:?}"
    );
    assert_eq!(out.status, OutcomeStatus::Cancelled, "{out:?}");
    assert_eq!(out.reason, "cancelled on request", "{out:?}");
}

/// A gateway where order `cc` of 1.00 awaits payment, and every cancel is answered HTTP 500
/// (no clear outcome); with `paid_after_cancel`, queries after the first cancel show it paid.
fn unanswered_cancels(
    cc: &'static str,
    paid_after_cancel: bool,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let pre = order_reply(cc, "0");
    answering_gateway(&["preOrder", "query", "cancelTrade"], move |op, before| {
        let paid = paid_after_cancel && before.iter().any(|o| o == "cancelTrade");
        match op {
            "preOrder" => (200, pre.clone()),
            "query" => (200, query_reply(cc, if paid { "1" } else { "0" })),
            _ => (500, String::new()),
        }
    })
}

#[test]
fn a_budget_that_ends_at_the_deadline_sends_no_cancel_and_says_so() {
    // `max_duration` equal to the deadline (allowed) leaves no time to cancel: the flow sends
    // none and its reason says so, rather than counting a cancel it never sent as an attempt.
    let cc = "NO-TIME";
    let (url, asked) = unanswered_cancels(cc, false);
    let out = no_retry_client(url)
        .micropay_and_wait(&request(cc, PAY_NOW), &opts(300, 300))
        .expect("flow");
    assert_eq!(out.status, OutcomeStatus::Unresolved, "{out:?}");
    assert!(
        out.reason
            .contains("the time ran out before a cancel could be sent"),
        "{out:?}"
    );
    let asked = asked.lock().expect("log").clone();
    assert!(!asked.iter().any(|o| o == "cancelTrade"), "{asked:?}");
}

#[test]
fn paid_after_a_cancel_whose_outcome_is_unknown_is_unresolved_never_paid() {
    // The order awaits payment to the deadline; the flow cancels it; the cancel's answer is
    // lost (HTTP 500: it may have reversed the payment) and the queries after it show the order
    // paid, as a record not yet showing the reversal would. Before: `Paid` ("it could not be
    // cancelled"): goods handed over for money that may have gone back. Now the flow cancels
    // again and, with no clear answer, reports `Unresolved`.
    let cc = "UNK-CANCEL";
    let (url, asked) = unanswered_cancels(cc, true);
    let client = no_retry_client(url);
    let out = client
        .micropay_and_wait(&request(cc, PAY_NOW), &opts(800, 4000))
        .expect("flow");
    assert_eq!(out.status, OutcomeStatus::Unresolved, "{out:?}");
    assert!(
        out.reason
            .contains("could not confirm the cancel after 3 attempts"),
        "{out:?}"
    );
    let asked = asked.lock().expect("log").clone();
    assert_eq!(
        asked.iter().filter(|o| *o == "cancelTrade").count(),
        3,
        "{asked:?}"
    );

    // The same, but the later cancels are refused (a failure code, a bad signature, "no such
    // order"): such an answer says nothing about what the first cancel did, so the paid order
    // still proves nothing. Before (a first fix): `Paid` after the refusal.
    for refusal in ["FAIL", "INVALID_SIGN", "CHARGE_NONEXISTENT"] {
        let cc = format!("UNK-THEN-{refusal}");
        let pre = format!(
            r#"{{"ORDER_RESP":{{"RESULT":{{"CODE":"SUCCESS","INFO":"ok"}},"CHARGE_CODE":"{cc}","AMT":100,"STATE":"0"}}}}"#
        );
        let code = cc.clone();
        let (url, _) = answering_gateway(
            &["preOrder", "query", "cancelTrade"],
            move |op, before| {
                let cancels = before.iter().filter(|o| *o == "cancelTrade").count();
                match op {
                    "preOrder" => (200, pre.clone()),
                    "query" => (200, query_reply(&code, if cancels > 0 { "1" } else { "0" })),
                    _ if cancels == 0 => (500, String::new()),
                    _ => (
                        200,
                        format!(
                            r#"{{"CANCELTRADE_RESP":{{"RESULT":{{"CODE":"{refusal}","INFO":"refused"}}}}}}"#
                        ),
                    ),
                }
            },
        );
        let out = no_retry_client(url)
            .micropay_and_wait(&request(&cc, PAY_NOW), &opts(800, 4000))
            .expect("flow");
        assert_eq!(out.status, OutcomeStatus::Unresolved, "{refusal}: {out:?}");
    }
}

#[test]
fn paid_without_its_amount_then_closed_or_gone_is_unresolved_never_failed() {
    // The till's micropay reply is lost (EXCEPTION); a query shows the order paid but not its
    // amount (proving nothing about this payment), the later ones show it closed, or no order
    // at all. A paid order is never closed and never vanishes: the answers disagree. Before:
    // `Failed` ("nothing was charged"), in the wait flow too for "closed".
    for later in ["closed", "gone"] {
        let cc = format!("PAID-NOAMT-{later}");
        let code = cc.clone();
        let (url, _) = answering_gateway(
            &["preOrder", "query", "cancelTrade"],
            move |op, before| {
                let queries = before.iter().filter(|o| *o == "query").count();
                match op {
                "preOrder" => (200, r#"{"ORDER_RESP":{"RESULT":{"CODE":"EXCEPTION","INFO":"busy"}}}"#.to_owned()),
                "query" if queries == 0 => (
                    200,
                    format!(r#"{{"QUERY_RESP":{{"RESULT":{{"CODE":"SUCCESS","INFO":"ok"}},"CHARGE_CODE":"{code}","STATE":"1"}}}}"#),
                ),
                "query" if later == "closed" => (200, query_reply(&code, "6")),
                "query" => (
                    200,
                    r#"{"QUERY_RESP":{"RESULT":{"CODE":"CHARGE_NONEXISTENT","INFO":"no such order"}}}"#.to_owned(),
                ),
                _ => (500, String::new()),
            }
            },
        );
        let mut o = opts(600, 2500);
        o.gateway_hold = Duration::from_millis(100);
        o.poll_interval = Duration::from_millis(100);
        o.max_poll_interval = Duration::from_millis(100);
        let out = no_retry_client(url.clone())
            .micropay_and_wait(&request(&cc, PAY_NOW), &o)
            .expect("flow");
        assert_eq!(
            out.status,
            OutcomeStatus::Unresolved,
            "till, {later}: {out:?}"
        );
        assert!(out.reason.contains("paid before"), "{out:?}");
    }
}

#[test]
fn serial_repeat_then_no_such_order_is_unresolved_never_failed() {
    // The micropay is answered SERIAL_REPEAT (an order under this charge code exists: an
    // earlier attempt of this payment, which may be paid), then every query says there is no
    // such order. The two answers contradict each other. Before: `Failed` ("nothing was
    // charged") once the gateway's hold passed. Now `Unresolved`, and nothing is cancelled.
    let (url, asked) = scripted_gateway(&[
        (
            "preOrder",
            r#"{"ORDER_RESP":{"RESULT":{"CODE":"SERIAL_REPEAT","INFO":"repeated"},"CHARGE_CODE":"SR-1","AMT":100}}"#,
        ),
        (
            "query",
            r#"{"QUERY_RESP":{"RESULT":{"CODE":"CHARGE_NONEXISTENT","INFO":"no such order"}}}"#,
        ),
    ]);
    let mut o = opts(600, 2500);
    o.gateway_hold = Duration::from_millis(300);
    let out = no_retry_client(url)
        .micropay_and_wait(&request("SR-1", PAY_NOW), &o)
        .expect("flow");
    assert_eq!(out.status, OutcomeStatus::Unresolved, "{out:?}");
    assert!(out.reason.contains("SERIAL_REPEAT"), "{out:?}");
    let asked = asked.lock().expect("log").clone();
    assert!(!asked.iter().any(|o| o == "cancelTrade"), "{asked:?}");
}

#[test]
fn a_cancel_reply_naming_another_order_is_not_this_cancel() {
    // The documented cancel reply names no order; one naming another CHARGE_CODE is an answer
    // meant for another request. Before: taken as this order's cancel (SUCCESS).
    let (url, _) = scripted_gateway(&[(
        "cancelTrade",
        r#"{"CANCELTRADE_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"},"CHARGE_CODE":"OTHER-1"}}"#,
    )]);
    let client = no_retry_client(url);
    let e = client
        .cancel(&sosopay::models::CancelRequest::new("MINE-1"))
        .expect_err("another order's reply");
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    assert!(e.outcome_unknown(), "{e:?}");
    assert!(e.to_string().contains("OTHER-1"), "{e}");
    // Under a root that is not its own, a cancel reply (which shows no order) confirms nothing.
    let (url, _) = scripted_gateway(&[(
        "cancelTrade",
        r#"{"FOO":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"}}}"#,
    )]);
    let e = no_retry_client(url)
        .cancel(&sosopay::models::CancelRequest::new("MINE-1"))
        .expect_err("an unknown root");
    assert!(
        matches!(e, Error::Decode { .. }) && e.outcome_unknown(),
        "{e:?}"
    );
    // Naming this order, or none (the documented reply), it is this cancel's.
    for body in [
        r#"{"CANCELTRADE_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"},"CHARGE_CODE":"MINE-2"}}"#,
        r#"{"CANCELTRADE_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"}}}"#,
    ] {
        let (url, _) = scripted_gateway(&[("cancelTrade", body)]);
        let r = no_retry_client(url)
            .cancel(&sosopay::models::CancelRequest::new("MINE-2"))
            .expect("this order's cancel");
        assert!(r.result.code.is_success(), "{r:?}");
    }
}

#[test]
fn paid_then_awaiting_payment_is_unresolved_never_pending() {
    // wait_for_payment with the amount known: the first answer shows the order paid but not
    // its amount (so it proves nothing about this payment), the later ones awaiting payment.
    // A paid order never goes back to awaiting payment: the answers disagree. Before:
    // `Pending` ("no money yet": the shop may make a new order the customer pays again).
    let cc = "PAID-THEN-OPEN";
    let (url, _) = answering_gateway(&["query"], move |_, before| {
        let body = if before.is_empty() {
            format!(
                r#"{{"QUERY_RESP":{{"RESULT":{{"CODE":"SUCCESS","INFO":"ok"}},"CHARGE_CODE":"{cc}","STATE":"1"}}}}"#
            )
        } else {
            query_reply(cc, "0")
        };
        (200, body)
    });
    let awaited = sosopay::AwaitedOrder {
        charge_code: cc.into(),
        amount: Some(Amount::from_fen(100).expect("amount")),
        merchant_para: None,
    };
    let mut o = opts(900, 2000);
    o.poll_interval = Duration::from_millis(100);
    o.max_poll_interval = Duration::from_millis(100);
    let out = no_retry_client(url)
        .wait_for_payment(awaited, &o)
        .expect("wait");
    assert_eq!(out.status, OutcomeStatus::Unresolved, "{out:?}");
    assert!(out.reason.contains("disagree"), "{out:?}");
    // Then closed (state 6): not `Failed` either.
    let cc = "PAID-THEN-CLOSED";
    let (url, _) = answering_gateway(&["query"], move |_, before| {
        let body = if before.is_empty() {
            format!(
                r#"{{"QUERY_RESP":{{"RESULT":{{"CODE":"SUCCESS","INFO":"ok"}},"CHARGE_CODE":"{cc}","STATE":"1"}}}}"#
            )
        } else {
            query_reply(cc, "6")
        };
        (200, body)
    });
    let awaited = sosopay::AwaitedOrder {
        charge_code: cc.into(),
        amount: Some(Amount::from_fen(100).expect("amount")),
        merchant_para: None,
    };
    let out = no_retry_client(url)
        .wait_for_payment(awaited, &o)
        .expect("wait");
    assert_eq!(out.status, OutcomeStatus::Unresolved, "{out:?}");
    assert!(out.reason.contains("paid before"), "{out:?}");
}

#[test]
fn an_http_status_that_is_not_a_refusal_leaves_a_payments_outcome_unknown() {
    // 202 "accepted", 204, a redirect: the request reached something that may have acted on
    // it. Before: only a 5xx was unknown, so a refund answered 202 read "not made" and could
    // be made again under a new number. A 4xx still says it was not carried out.
    for (status, unknown) in [
        (202u16, true),
        (204, true),
        (302, true),
        (500, true),
        (400, false),
        (404, false),
    ] {
        let (url, _) = answering_gateway(&["refund", "query"], move |_, _| (status, String::new()));
        let client = no_retry_client(url);
        let mut req = sosopay::models::RefundRequest::new(
            "RF-1",
            "R-1",
            Amount::from_fen(100).expect("amount"),
            "t",
        );
        req.oper_id = "o".into();
        req.dev_id = "d".into();
        let e = client.refund(&req).expect_err("not 200");
        assert!(matches!(e, Error::HttpStatus { .. }), "{status}: {e:?}");
        assert_eq!(e.outcome_unknown(), unknown, "{status}");
        // A query moves no money, whatever the status.
        let q = client
            .query(&sosopay::models::QueryRequest::by_charge_code("RF-1"))
            .expect_err("not 200");
        assert!(!q.outcome_unknown(), "{status}: {q:?}");
    }
}
