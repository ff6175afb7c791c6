//! The shared behaviour scenarios (`tests/scenarios/*.json`, format in its README), run
//! against the sandbox. The Python, Node and Kotlin suites run the same files.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use sosopay::models::{MicropayRequest, OrderRequest};
use sosopay::{
    Amount, AwaitedOrder, Channel, Client, ClientConfig, Error, RetryPolicy, WaitOptions,
};
use sosopay_sandbox::{FaultRule, Sandbox, SandboxConfig};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios")
}

fn read(path: &PathBuf) -> Value {
    let text = std::fs::read_to_string(path).expect("read scenario");
    serde_json::from_str(&text).expect("scenario JSON")
}

fn ms(v: &Value, key: &str) -> Option<Duration> {
    v.get(key)
        .and_then(Value::as_u64)
        .map(Duration::from_millis)
}

fn client(sb: &Sandbox, defaults: &Value, overrides: Option<&Value>) -> Client {
    let mut settings = defaults["client"].clone();
    if let (Some(Value::Object(o)), Value::Object(s)) = (overrides, &mut settings) {
        for (k, v) in o {
            s.insert(k.clone(), v.clone());
        }
    }
    let busi = defaults["busi_code"].as_str().expect("busi_code");
    let key = defaults["key"].as_str().expect("key");
    let mut c = ClientConfig::new(busi, key, sb.base_url()).expect("config");
    c.timeout = ms(&settings, "timeout_ms").expect("timeout_ms");
    c.micropay_timeout = ms(&settings, "micropay_timeout_ms").expect("micropay_timeout_ms");
    c.retry = RetryPolicy {
        max_attempts: settings["retry_max_attempts"].as_u64().expect("attempts") as u32,
        base_delay: ms(&settings, "retry_base_delay_ms").expect("base delay"),
        max_delay: ms(&settings, "retry_max_delay_ms").expect("max delay"),
    };
    c.default_oper_id = settings["oper_id"].as_str().map(str::to_owned);
    c.default_dev_id = settings["dev_id"].as_str().map(str::to_owned);
    Client::new(c).expect("client")
}

fn options(o: Option<&Value>) -> WaitOptions {
    let d = WaitOptions::default();
    let Some(o) = o else { return d };
    WaitOptions {
        deadline: ms(o, "deadline_ms").unwrap_or(d.deadline),
        poll_interval: ms(o, "poll_interval_ms").unwrap_or(d.poll_interval),
        max_poll_interval: ms(o, "max_poll_interval_ms").unwrap_or(d.max_poll_interval),
        cancel_attempts: o
            .get("cancel_attempts")
            .and_then(Value::as_u64)
            .map_or(d.cancel_attempts, |n| n as u32),
        max_duration: ms(o, "max_duration_ms").unwrap_or(d.max_duration),
        gateway_hold: ms(o, "gateway_hold_ms").unwrap_or(d.gateway_hold),
    }
}

fn micropay_request(r: &Value) -> MicropayRequest {
    let text = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
    MicropayRequest::new(
        text("charge_code"),
        Amount::parse_yuan(&text("amount")).expect("amount"),
        text("dynamic_id"),
        text("subject"),
    )
}

fn snake(status: sosopay::OutcomeStatus) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn check_outcome(name: &str, out: &sosopay::PaymentOutcome, expect: &Value) -> Vec<String> {
    let mut wrong = Vec::new();
    if let Some(s) = expect.get("status").and_then(Value::as_str) {
        if snake(out.status) != s {
            wrong.push(format!(
                "{name}: status {:?} ({}), expected {s}",
                out.status, out.reason
            ));
        }
    }
    if let Some(c) = expect.get("code").and_then(Value::as_str) {
        if out.code.as_ref().map(|c| c.as_wire()) != Some(c) {
            wrong.push(format!("{name}: code {:?}, expected {c}", out.code));
        }
    }
    if let Some(f) = expect.get("order_amount_fen").and_then(Value::as_u64) {
        let got = out.order.as_ref().and_then(|o| o.amount).map(Amount::fen);
        if got != Some(f) {
            wrong.push(format!("{name}: order amount {got:?}, expected {f}"));
        }
    }
    wrong
}

/// A refund step's result against its `expect`: `result_code` (of the reply or of the gateway
/// error; `SUCCESS` when not given), or `error` (the error's kind) with `outcome_unknown`.
fn check_refund(
    name: &str,
    got: sosopay::Result<sosopay::models::RefundReply>,
    expect: &Value,
) -> Vec<String> {
    let (code, error) = match &got {
        Ok(reply) => (Some(reply.result.code.as_wire().to_owned()), None),
        Err(Error::Gateway { code, .. }) => (Some(code.as_wire().to_owned()), None),
        Err(e) => (None, Some(e)),
    };
    let mut wrong = Vec::new();
    match (expect.get("error").and_then(Value::as_str), error) {
        (Some(kind), Some(e)) => {
            if e.kind() != kind {
                wrong.push(format!(
                    "{name}: refund failed with {e}, expected a {kind} error"
                ));
            }
            let unknown = expect.get("outcome_unknown").and_then(Value::as_bool);
            if unknown.is_some_and(|u| u != e.outcome_unknown()) {
                wrong.push(format!(
                    "{name}: refund error {e}: outcome_unknown is not {unknown:?}"
                ));
            }
        }
        (Some(kind), None) => wrong.push(format!(
            "{name}: refund answered {code:?}, expected a {kind} error"
        )),
        (None, Some(e)) => wrong.push(format!("{name}: refund failed: {e}")),
        (None, None) => {
            let want = expect
                .get("result_code")
                .and_then(Value::as_str)
                .unwrap_or("SUCCESS");
            if code.as_deref() != Some(want) {
                wrong.push(format!("{name}: refund answered {code:?}, expected {want}"));
            }
        }
    }
    wrong
}

fn run(sb: &Sandbox, defaults: &Value, sc: &Value) -> Vec<String> {
    let name = sc["name"].as_str().unwrap_or("?");
    sb.reset();
    sb.set_faults(Vec::new());
    let c = client(sb, defaults, sc.get("client"));
    let mut wrong = Vec::new();
    for step in sc["steps"].as_array().expect("steps") {
        let expect = step.get("expect").cloned().unwrap_or(Value::Null);
        if let Some(rules) = step.get("set_faults") {
            let rules = rules
                .as_array()
                .expect("rules")
                .iter()
                .map(|r| {
                    r.as_str()
                        .expect("rule")
                        .parse::<FaultRule>()
                        .expect("rule")
                })
                .collect();
            sb.set_faults(rules);
        } else if let Some(r) = step.get("micropay") {
            let code = match c.micropay(&micropay_request(r)) {
                Ok(reply) => reply.result.code.as_wire().to_owned(),
                Err(Error::Gateway { code, .. }) => code.as_wire().to_owned(),
                Err(e) => format!("error: {e}"),
            };
            if let Some(want) = expect.get("result_code").and_then(Value::as_str) {
                if code != want {
                    wrong.push(format!("{name}: micropay answered {code}, expected {want}"));
                }
            }
        } else if let Some(r) = step.get("micropay_and_wait") {
            let out = c
                .micropay_and_wait(&micropay_request(r), &options(step.get("options")))
                .expect("the flow returns an outcome for a valid request");
            wrong.extend(check_outcome(name, &out, &expect));
        } else if let Some(r) = step.get("create_qr_order") {
            let text = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            c.create_qr_order(&OrderRequest::new(
                text("charge_code"),
                Amount::parse_yuan(&text("amount")).expect("amount"),
                Channel::from_wire(&text("channel")),
                text("subject"),
            ))
            .expect("QR order");
        } else if let Some(r) = step.get("refund") {
            let text = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            let got = c.refund(&sosopay::models::RefundRequest::new(
                text("charge_code"),
                text("out_refund_no"),
                Amount::parse_yuan(&text("amount")).expect("amount"),
                text("subject"),
            ));
            wrong.extend(check_refund(name, got, &expect));
        } else if let Some(action) = step.get("admin").and_then(Value::as_str) {
            let cc = step["charge_code"].as_str().expect("charge_code");
            match action {
                "pay" => sb.pay(cc).map(drop).expect("pay"),
                "fail" => sb.fail(cc).map(drop).expect("fail"),
                other => panic!("{name}: unknown admin action {other}"),
            }
        } else if let Some(r) = step.get("wait_for_payment") {
            let mut order = AwaitedOrder::new(r["charge_code"].as_str().expect("charge_code"));
            if let Some(a) = r.get("amount").and_then(Value::as_str) {
                order = order.with_amount(Amount::parse_yuan(a).expect("amount"));
            }
            let out = c
                .wait_for_payment(order, &options(step.get("options")))
                .expect("wait");
            wrong.extend(check_outcome(name, &out, &expect));
        } else if let Some(n) = step.get("sleep_ms").and_then(Value::as_u64) {
            std::thread::sleep(Duration::from_millis(n));
        } else {
            panic!("{name}: unknown step {step}");
        }
    }
    let ledger = sb.ledger_json();
    let orders = ledger["orders"].as_array().cloned().unwrap_or_default();
    for (cc, want) in sc["ledger"].as_object().expect("ledger") {
        let mine: Vec<&Value> = orders
            .iter()
            .filter(|o| o["charge_code"].as_str() == Some(cc))
            .collect();
        if let Some(n) = want.get("orders").and_then(Value::as_u64) {
            if mine.len() as u64 != n {
                wrong.push(format!(
                    "{name}: {} orders {cc} in the ledger, expected {n}",
                    mine.len()
                ));
            }
        }
        for key in ["state", "amount_fen"] {
            if let Some(v) = want.get(key) {
                let got = mine.first().map(|o| o[key].clone()).unwrap_or(Value::Null);
                if &got != v {
                    wrong.push(format!("{name}: ledger {cc} {key} {got}, expected {v}"));
                }
            }
        }
    }
    wrong
}

#[test]
fn every_shared_scenario() {
    let defaults = read(&dir().join("_defaults.json"));
    let sb = Sandbox::start(SandboxConfig {
        time_scale: defaults["time_scale"].as_f64().expect("time_scale"),
        ..Default::default()
    })
    .expect("sandbox");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("scenario dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('_'))
        })
        .collect();
    files.sort();
    assert!(files.len() >= 20, "scenarios found: {}", files.len());
    let mut wrong = Vec::new();
    for f in &files {
        wrong.extend(run(&sb, &defaults, &read(f)));
    }
    assert!(
        wrong.is_empty(),
        "scenarios disagree:\n{}",
        wrong.join("\n")
    );
}
