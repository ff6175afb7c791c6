//! The client and its flows against the sandbox gateway: every operation plain and 3DES, JSON
//! and XML; the result codes; the till flow; and a seeded fault campaign reconciled with the
//! sandbox's ledger.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sosopay::codec::Format;
use sosopay::models::{
    CancelRequest, FlowRechargeRequest, MicropayRequest, OrderRequest, QueryRequest, RefundRequest,
};
use sosopay::{
    Amount, Channel, Client, ClientConfig, Error, OrderState, OutcomeStatus, ResultCode,
    RetryPolicy, SerType, WaitOptions,
};
use sosopay_sandbox::Sandbox;

mod common;
use common::{config, gateway_code, sandbox, yuan, BUSI, KEY};

// Sandbox test codes (docs/SANDBOX.md): PP000000000000BNNN.
const PAY_NOW: &str = "130730865806264036";
const ALIPAY_NOW: &str = "284214903060794755";
const CONFIRM_1S: &str = "130000000000001001";
const PAYING_THEN_PAY_1S: &str = "130000000000002001";
const INSUFFICIENT: &str = "280000000000003000";
const NEVER_CONFIRMS: &str = "130000000000004000";
const PAYING_NEVER: &str = "130000000000005000";
const EXPIRED: &str = "130000000000006000";
const EXCEPTION_BUT_PAID: &str = "130000000000007000";

fn client(sb: &Sandbox, encrypt: bool, format: Format) -> Client {
    Client::new(config(&sb.base_url(), encrypt, format)).expect("client")
}

fn fast() -> WaitOptions {
    WaitOptions {
        deadline: Duration::from_secs(6),
        poll_interval: Duration::from_millis(100),
        max_poll_interval: Duration::from_millis(300),
        cancel_attempts: 5,
        max_duration: Duration::from_secs(12),
        // The sandbox runs at time scale 0.02: its 80 s hold lasts 1.6 s.
        gateway_hold: Duration::from_millis(1600),
    }
}

fn every_operation(encrypt: bool, format: Format) {
    let sb = sandbox(0.02, 1, &[]);
    let c = client(&sb, encrypt, format);
    let tag = format!(
        "{}{}",
        if encrypt { "E" } else { "P" },
        if format == Format::Json { "J" } else { "X" }
    );

    // Micropay that pays at once.
    let mp_code = format!("MP-{tag}-1");
    let r = c
        .micropay(&MicropayRequest::new(
            &mp_code,
            yuan("0.01"),
            PAY_NOW,
            "coffee",
        ))
        .expect("micropay");
    assert!(r.result.code.is_success());
    assert_eq!(r.amount.map(Amount::fen), Some(1));
    assert_eq!(r.channel, Some(Channel::Wechat), "auto-detected WeChat");
    assert!(r.charge_down_code.is_some());
    // The same charge code again: SERIAL_REPEAT.
    let e = c
        .micropay(&MicropayRequest::new(
            &mp_code,
            yuan("0.01"),
            PAY_NOW,
            "coffee",
        ))
        .expect_err("repeat");
    assert_eq!(gateway_code(&e), Some(ResultCode::SerialRepeat));
    assert!(e.outcome_unknown());

    // QR order → pay → query → refunds.
    let qr = format!("QR-{tag}-1");
    let mut o = OrderRequest::new(&qr, yuan("158.00"), Channel::Alipay, "goods");
    o.time_expire = Some(120);
    let r = c.create_qr_order(&o).expect("qr order");
    assert!(r.bar_code.as_deref().is_some_and(|b| !b.is_empty()));
    let q = c.query(&QueryRequest::by_charge_code(&qr)).expect("query");
    assert_eq!(q.order.state, Some(OrderState::AwaitingPayment));
    sb.pay(&qr).expect("pay");
    let q = c.query_charge(&qr).expect("query");
    assert_eq!(q.order.state, Some(OrderState::Paid));
    assert_eq!(q.order.amount.map(Amount::fen), Some(15800));
    // Query by the gateway's order number.
    let down = q.order.charge_down_code.clone().expect("down code");
    let q2 = c
        .query(&QueryRequest {
            code: down,
            ser_type: SerType::ChargeDownCode,
        })
        .expect("query by down code");
    assert_eq!(q2.order.charge_code.as_deref(), Some(qr.as_str()));
    // Partial, then too much (AMT_ERROR), then the rest, idempotent on OUT_REFUND_NO.
    let r1 = c
        .refund(&RefundRequest::new(
            &qr,
            format!("RF-{tag}-1"),
            yuan("58.00"),
            "partial",
        ))
        .expect("refund");
    assert!(r1.result.code.is_success());
    assert_eq!(
        c.query_charge(&qr).expect("q").order.state,
        Some(OrderState::PartiallyRefunded)
    );
    let e = c
        .refund(&RefundRequest::new(
            &qr,
            format!("RF-{tag}-2"),
            yuan("100.01"),
            "too much",
        ))
        .expect_err("amt");
    assert_eq!(gateway_code(&e), Some(ResultCode::AmtError));
    assert!(!e.outcome_unknown());
    let again = c
        .refund(&RefundRequest::new(
            &qr,
            format!("RF-{tag}-1"),
            yuan("58.00"),
            "partial",
        ))
        .expect("idempotent refund");
    assert!(again.result.code.is_success());
    c.refund(&RefundRequest::new(
        &qr,
        format!("RF-{tag}-3"),
        yuan("100.00"),
        "rest",
    ))
    .expect("refund rest");
    assert_eq!(
        c.query_charge(&qr).expect("q").order.state,
        Some(OrderState::Refunded)
    );

    // JSAPI order.
    let js = format!("JS-{tag}-1");
    let mut j = OrderRequest::jsapi(
        &js,
        yuan("0.10"),
        "official account",
        "oa58kwTYbuSGryFQKk8SOu-VMi-M",
    );
    j.sub_appid = Some("wxb1c959c78e070e58".into());
    let r = c.create_jsapi_order(&j).expect("jsapi");
    let p = r.jsapi.expect("pay params");
    assert!(
        !p.app_id.is_empty()
            && !p.package.is_empty()
            && !p.pay_sign.is_empty()
            && !p.nonce_str.is_empty()
    );

    // Cancel an awaiting order, then again: AREADY_REVOKED, a reply (the order is cancelled).
    let cc = format!("CX-{tag}-1");
    c.create_qr_order(&OrderRequest::new(
        &cc,
        yuan("1.00"),
        Channel::Wechat,
        "to cancel",
    ))
    .expect("order");
    c.cancel(&CancelRequest::new(&cc)).expect("cancel");
    assert_eq!(
        c.query_charge(&cc).expect("q").order.state,
        Some(OrderState::Cancelled)
    );
    let again = c.cancel(&CancelRequest::new(&cc)).expect("again");
    assert_eq!(again.result.code, ResultCode::AreadyRevoked);
    // Same-day reversal of a paid micropay.
    c.cancel(&CancelRequest::new(&mp_code))
        .expect("reverse paid");
    assert_eq!(
        c.query_charge(&mp_code).expect("q").order.state,
        Some(OrderState::Cancelled)
    );
    // Apply to cancel.
    let aco = format!("ACO-{tag}-1");
    c.create_qr_order(&OrderRequest::new(
        &aco,
        yuan("1.00"),
        Channel::Wechat,
        "aco",
    ))
    .expect("order");
    c.cancel(&CancelRequest {
        charge_code: aco.clone(),
        apply: true,
    })
    .expect("apply to cancel");

    // Unknown orders.
    let e = c
        .query_charge(&format!("NOPE-{tag}"))
        .expect_err("nonexistent");
    assert_eq!(gateway_code(&e), Some(ResultCode::ChargeNonexistent));
    let e = c
        .refund(&RefundRequest::new(
            format!("NOPE-{tag}"),
            "RF-X",
            yuan("1.00"),
            "x",
        ))
        .expect_err("nonexistent");
    assert_eq!(gateway_code(&e), Some(ResultCode::ChargeNonexistent));

    // Flow recharge.
    let f = c
        .flow_recharge(&FlowRechargeRequest::new("13812345678", 100))
        .expect("flow");
    assert!(f.result.code.is_success());
    assert_eq!(
        f.flow.and_then(|f| f.phone_no).as_deref(),
        Some("13812345678")
    );

    // Wrong key: INVALID_SIGN; unknown merchant: UNREGISTERED_BUSI.
    let mut bad =
        ClientConfig::new(BUSI, "WRONGKEYWRONGKEYWRONGKEY", sb.base_url()).expect("config");
    bad.encrypt = false;
    bad.format = format;
    bad.default_oper_id = Some("o".into());
    bad.default_dev_id = Some("d".into());
    let e = Client::new(bad)
        .expect("client")
        .micropay(&MicropayRequest::new(
            format!("BK-{tag}"),
            yuan("1.00"),
            PAY_NOW,
            "x",
        ))
        .expect_err("bad key");
    assert_eq!(gateway_code(&e), Some(ResultCode::InvalidSign));
    let mut unknown = ClientConfig::new("0099999999", KEY, sb.base_url()).expect("config");
    unknown.format = format;
    let e = Client::new(unknown)
        .expect("client")
        .query_charge("ANY-1")
        .expect_err("unregistered");
    assert_eq!(gateway_code(&e), Some(ResultCode::UnregisteredBusi));
    // With 3DES on, the gateway cannot encrypt that rejection, and an unencrypted reply is
    // never taken as the answer (anyone on the path could write one): a decode error that
    // quotes it; after a money request, the outcome is unknown.
    let mut unknown = ClientConfig::new("0099999999", KEY, sb.base_url()).expect("config");
    unknown.format = format;
    unknown.encrypt = true;
    unknown.default_oper_id = Some("o".into());
    unknown.default_dev_id = Some("d".into());
    let unknown = Client::new(unknown).expect("client");
    let e = unknown.query_charge("ANY-1").expect_err("unregistered");
    assert!(
        matches!(&e, Error::Decode { reason, .. } if reason.contains("UNREGISTERED_BUSI")),
        "{e}"
    );
    assert!(!e.outcome_unknown());
    let e = unknown
        .micropay(&MicropayRequest::new(
            format!("UB-{tag}"),
            Amount::from_fen(1).expect("fen"),
            "130730865806264036",
            "x",
        ))
        .expect_err("unregistered");
    assert!(
        matches!(e, Error::Decode { .. }) && e.outcome_unknown(),
        "{e}"
    );
}

#[test]
fn every_operation_plain_json() {
    every_operation(false, Format::Json);
}

#[test]
fn every_operation_3des_json() {
    every_operation(true, Format::Json);
}

#[test]
fn every_operation_plain_xml() {
    every_operation(false, Format::Xml);
}

#[test]
fn every_operation_3des_xml() {
    every_operation(true, Format::Xml);
}

#[test]
fn validation_happens_before_sending() {
    let sb = sandbox(0.02, 1, &[]);
    let c = client(&sb, false, Format::Json);
    let e = c
        .micropay(&MicropayRequest::new(
            "BAD/CODE",
            yuan("1.00"),
            PAY_NOW,
            "x",
        ))
        .expect_err("invalid");
    assert!(
        matches!(e, Error::Validation { ref field, .. } if field == "charge_code"),
        "{e:?}"
    );
    let mut o = OrderRequest::new("OK-1", yuan("1.00"), Channel::Wechat, "x");
    o.time_expire = Some(60);
    let e = c.create_qr_order(&o).expect_err("expire");
    assert!(matches!(e, Error::Validation { ref field, .. } if field == "time_expire"));
    assert_eq!(
        sb.ledger_json()["orders"].as_array().map(Vec::len),
        Some(0),
        "nothing reached the gateway"
    );
}

#[test]
fn till_flow_outcomes() {
    let sb = sandbox(0.02, 2, &[]);
    for encrypt in [false, true] {
        let c = client(&sb, encrypt, Format::Json);
        let t = if encrypt { "E" } else { "P" };
        let cases: [(&str, OutcomeStatus); 8] = [
            (PAY_NOW, OutcomeStatus::Paid),
            (ALIPAY_NOW, OutcomeStatus::Paid),
            (CONFIRM_1S, OutcomeStatus::Paid),
            (PAYING_THEN_PAY_1S, OutcomeStatus::Paid),
            (INSUFFICIENT, OutcomeStatus::Failed),
            (EXPIRED, OutcomeStatus::Failed),
            (EXCEPTION_BUT_PAID, OutcomeStatus::Paid),
            (PAYING_NEVER, OutcomeStatus::Cancelled),
        ];
        for (i, (code, expected)) in cases.iter().enumerate() {
            let cc = format!("TILL-{t}-{i}");
            let out = c
                .micropay_and_wait(
                    &MicropayRequest::new(&cc, yuan("9.99"), *code, "till"),
                    &fast(),
                )
                .expect("flow");
            assert_eq!(out.status, *expected, "code {code}: {out:?}");
            // The cashier hears the gateway's words, not just "the order is closed".
            let words = match *code {
                INSUFFICIENT => Some("NOTENOUGH"),
                EXPIRED => Some("EXPIRED"),
                _ => None,
            };
            if let Some(w) = words {
                assert!(
                    out.reason.contains("(the gateway refused the payment: ")
                        && out.reason.contains(w),
                    "{out:?}"
                );
            }
            if out.status == OutcomeStatus::Paid {
                let o = out.order.as_ref().expect("details");
                assert_eq!(o.amount.map(Amount::fen), Some(999));
                assert!(o.state.as_ref().is_some_and(OrderState::money_taken));
            }
        }
        // Never confirms: the gateway holds 80 s (1.6 s scaled), then cancels the order
        // (state 2) and answers FAIL: the status table says Cancelled, on every path.
        let cc = format!("TILL-{t}-never");
        let out = c
            .micropay_and_wait(
                &MicropayRequest::new(&cc, yuan("1.00"), NEVER_CONFIRMS, "till"),
                &fast(),
            )
            .expect("flow");
        assert_eq!(out.status, OutcomeStatus::Cancelled, "{out:?}");
        assert_eq!(
            sb.order(&cc).and_then(|o| o.state.map(u64::from)),
            Some(2),
            "cancelled by the gateway"
        );
    }
    // QR: wait_for_payment paid, and pending at the deadline.
    let c = client(&sb, false, Format::Json);
    c.create_qr_order(&OrderRequest::new(
        "WAIT-1",
        yuan("2.00"),
        Channel::Wechat,
        "qr",
    ))
    .expect("order");
    let sb_url = sb.root_url();
    let payer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let agent = ureq::Agent::new_with_defaults();
        agent
            .post(format!("{sb_url}_sandbox/orders/WAIT-1/pay"))
            .send("")
            .map(|r| r.status().as_u16())
    });
    let out = c.wait_for_payment("WAIT-1", &fast()).expect("wait");
    assert_eq!(out.status, OutcomeStatus::Paid);
    assert_eq!(payer.join().expect("payer").expect("pay request"), 200);
    c.create_qr_order(&OrderRequest::new(
        "WAIT-2",
        yuan("2.00"),
        Channel::Wechat,
        "qr",
    ))
    .expect("order");
    let short = WaitOptions {
        deadline: Duration::from_millis(600),
        ..fast()
    };
    assert_eq!(
        c.wait_for_payment("WAIT-2", &short).expect("wait").status,
        OutcomeStatus::Pending
    );
}

#[test]
fn request_log_hook_never_shows_the_key() {
    let sb = sandbox(0.02, 3, &["query:http503:1.0"]);
    let logs: Arc<Mutex<Vec<sosopay::RequestLog>>> = Arc::default();
    let mut cfg = ClientConfig::new(BUSI, KEY, sb.base_url()).expect("config");
    let sink = logs.clone();
    cfg.on_request = Some(Arc::new(move |l: &sosopay::RequestLog| {
        sink.lock().expect("lock").push(l.clone())
    }));
    cfg.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(10),
    };
    let c = Client::new(cfg).expect("client");
    let e = c.query_charge("ANY-1").expect_err("503");
    assert!(matches!(e, Error::HttpStatus { status: 503, .. }));
    let logs = logs.lock().expect("lock");
    assert_eq!(logs.len(), 3, "three attempts: {logs:?}");
    assert_eq!(
        logs.iter().map(|l| l.attempt).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(logs.iter().all(|l| !format!("{l:?}").contains(KEY)));
}

/// A reply naming another `CHARGE_CODE` (meant for another request) is never handed out as
/// facts about this order: a `Decode` error, retried for a query, an unknown outcome for a
/// payment (which did happen).
#[test]
fn a_reply_about_another_order_is_a_decode_error() {
    let sb = sandbox(
        0.02,
        4,
        &["preOrder:foreign_code:1", "query:foreign_code:1"],
    );
    let mut cfg = config(&sb.base_url(), false, Format::Json);
    cfg.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(10),
    };
    let c = Client::new(cfg).expect("client");
    let req = MicropayRequest::new("FOREIGN-1", yuan("1.00"), PAY_NOW, "tea");
    let e = c.micropay(&req).expect_err("a reply about FOREIGN-1-OTHER");
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    assert!(e.outcome_unknown(), "the payment may have happened: {e}");
    assert!(e.to_string().contains("\"FOREIGN-1-OTHER\""), "{e}");
    let e = c
        .query_charge("FOREIGN-1")
        .expect_err("a reply about another order");
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    assert!(!e.outcome_unknown());
    let injected = &sb.ledger_json()["faults"]["injected"];
    assert_eq!(injected["query:foreign_code"], 3, "retried: {injected}");
    // It did happen: without the fault, the query shows this very order paid.
    sb.set_faults(Vec::new());
    let q = c.query_charge("FOREIGN-1").expect("query");
    assert_eq!(q.order.charge_code.as_deref(), Some("FOREIGN-1"));
    assert_eq!(q.order.state, Some(OrderState::Paid));
    // A query by another kind of code is answered with the order's own CHARGE_CODE: not refused.
    sb.set_faults(vec!["query:foreign_code:1".parse().expect("rule")]);
    let by_down = QueryRequest {
        code: q.order.charge_down_code.clone().expect("CHARGE_DOWN_CODE"),
        ser_type: SerType::ChargeDownCode,
    };
    assert!(c.query(&by_down).is_ok());
    // A refund reply about another refund (by the gateway's number: no CHARGE_CODE to compare,
    // but the OUT_REFUND_NO is another): an unknown outcome too, and the retry is safe.
    sb.set_faults(vec!["refund:foreign_code:1".parse().expect("rule")]);
    let mut part = RefundRequest::new("FOREIGN-1", "FOREIGN-R0", yuan("0.40"), "part");
    part.charge_code = None;
    part.charge_down_code = q.order.charge_down_code.clone();
    let e = c.refund(&part).expect_err("a reply about another refund");
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    assert!(e.outcome_unknown(), "{e}");
    assert!(e.to_string().contains("\"FOREIGN-R0-OTHER\""), "{e}");
    sb.set_faults(Vec::new());
    let r = c.refund(&part).expect("the same refund again");
    assert_eq!(r.out_refund_no.as_deref(), Some("FOREIGN-R0"));
    assert_eq!(
        sb.ledger_json()["refunds"].as_array().map(Vec::len),
        Some(1)
    );
    // A refund reply about another order: an unknown outcome (it was carried out); the retry
    // with the same OUT_REFUND_NO is safe and answers about this order.
    sb.set_faults(vec!["refund:foreign_code:1".parse().expect("rule")]);
    let refund = RefundRequest::new("FOREIGN-1", "FOREIGN-R1", yuan("0.60"), "back");
    let e = c.refund(&refund).expect_err("a reply about another order");
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    assert!(e.outcome_unknown(), "{e}");
    sb.set_faults(Vec::new());
    let r = c.refund(&refund).expect("the same refund again");
    assert_eq!(r.charge_code.as_deref(), Some("FOREIGN-1"));
    assert_eq!(
        c.query_charge("FOREIGN-1").expect("q").order.state,
        Some(OrderState::Refunded)
    );
    // A top-up reply about another phone: an unknown outcome (this top-up was submitted).
    sb.set_faults(vec!["flowRecharge:foreign_code:1".parse().expect("rule")]);
    let e = c
        .flow_recharge(&FlowRechargeRequest::new("13812345678", 100))
        .expect_err("a reply about another phone");
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    assert!(e.outcome_unknown(), "{e}");
    assert!(e.to_string().contains("\"138123456789\""), "{e}");
    sb.set_faults(Vec::new());
    let top_up = c
        .flow_recharge(&FlowRechargeRequest::new("13812345678", 100))
        .expect("top-up");
    assert_eq!(
        top_up.flow.and_then(|f| f.phone_no).as_deref(),
        Some("13812345678")
    );
}

/// A top-up reply under another operation's root element (`REFUND_RESP`) answers something
/// else: never "done", never a refusal; the top-up was carried out (the ledger holds it), so
/// its outcome is unknown. A refund by the gateway's number is answered with that number, and
/// a reply naming another one is another order's.
#[test]
fn a_top_up_under_another_root_is_unknown_and_a_refund_by_the_gateways_number_is_checked() {
    for format in [Format::Json, Format::Xml] {
        let sb = sandbox(0.02, 4, &["flowRecharge:wrong_root:1"]);
        let c = Client::new(config(&sb.base_url(), false, format)).expect("client");
        let e = c
            .flow_recharge(&FlowRechargeRequest::new("13812345678", 100))
            .expect_err("a reply under REFUND_RESP");
        assert!(matches!(e, Error::Decode { .. }), "{format:?}: {e:?}");
        assert!(e.outcome_unknown(), "{format:?}: {e}");
        assert!(
            e.to_string().contains("got a REFUND_RESP document"),
            "{format:?}: {e}"
        );
        assert_eq!(sb.ledger().flow_recharges.len(), 1, "{format:?}");
    }

    let sb = sandbox(0.02, 4, &[]);
    let c = Client::new(config(&sb.base_url(), false, Format::Json)).expect("client");
    let req = MicropayRequest::new("DOWN-1", yuan("1.00"), PAY_NOW, "tea");
    let paid = c.micropay(&req).expect("paid");
    let down = paid.charge_down_code.clone().expect("CHARGE_DOWN_CODE");
    let mut refund = RefundRequest::new("unused", "DOWN-R1", yuan("0.40"), "part");
    refund.charge_code = None;
    refund.charge_down_code = Some(down.clone());
    let r = c.refund(&refund).expect("refunded");
    assert_eq!(r.charge_down_code.as_deref(), Some(down.as_str()));
    assert_eq!(r.state, Some(OrderState::PartiallyRefunded));

    // Both numbers, of two different orders: the gateway would refund the order the gateway's
    // number names (DOWN-1's), not DOWN-2. Nothing is sent.
    let other = c
        .micropay(&MicropayRequest::new(
            "DOWN-2",
            yuan("1.00"),
            PAY_NOW,
            "tea",
        ))
        .expect("paid");
    let mut both = RefundRequest::new("DOWN-2", "DOWN-R2", yuan("0.10"), "part");
    both.charge_down_code = Some(down.clone());
    match c.refund(&both) {
        Err(Error::Validation { field, reason }) => {
            assert_eq!(field, "charge_down_code");
            assert!(
                reason.contains("CHARGE_CODE \"DOWN-1\", not \"DOWN-2\"")
                    && reason.contains("nothing was sent"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sb.ledger().refunds.len(), 1, "only the first refund");
    // Both numbers of one order: refunded.
    both.charge_down_code = other.charge_down_code.clone();
    let r = c.refund(&both).expect("both numbers of DOWN-2");
    assert_eq!(r.charge_code.as_deref(), Some("DOWN-2"));
    assert_eq!(sb.ledger().refunds.len(), 2);
}

/// Many till payments against a misbehaving gateway; afterwards every reported outcome must
/// agree with the gateway's ledger.
#[test]
fn fault_campaign_reconciles_with_ledger() {
    let faults = [
        "preOrder:drop_reply:0.2",
        "preOrder:drop:0.08",
        "preOrder:http503:0.08",
        "preOrder:http500:0.05:after",
        "preOrder:garble:0.08",
        "preOrder:truncate:0.05",
        "preOrder:delay:0.1:200",
        "query:http502:0.15",
        "query:drop:0.08",
        "query:garble:0.05",
        "cancelTrade:drop_reply:0.15",
        "cancelTrade:http503:0.1",
    ];
    let sb = sandbox(0.02, 20261126, &faults);
    let codes = [
        PAY_NOW,
        ALIPAY_NOW,
        CONFIRM_1S,
        PAYING_THEN_PAY_1S,
        INSUFFICIENT,
        PAYING_NEVER,
        EXCEPTION_BUT_PAID,
        NEVER_CONFIRMS,
    ];
    let runs = 48;
    let results: Arc<Mutex<Vec<(String, OutcomeStatus, String)>>> = Arc::default();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let c = client(&sb, t % 2 == 1, Format::Json);
            let results = results.clone();
            std::thread::spawn(move || {
                for i in (t..runs).step_by(4) {
                    let cc = format!("FC-{i:03}");
                    let out = c
                        .micropay_and_wait(
                            &MicropayRequest::new(
                                &cc,
                                yuan("3.00"),
                                codes[i % codes.len()],
                                "campaign",
                            ),
                            &fast(),
                        )
                        .expect("flow never errs for a valid request");
                    results
                        .lock()
                        .expect("lock")
                        .push((cc, out.status, out.reason));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("campaign thread");
    }
    let ledger = sb.ledger_json();
    let orders = ledger["orders"].as_array().expect("orders");
    let mut per_code: HashMap<&str, Vec<&serde_json::Value>> = HashMap::new();
    for o in orders {
        per_code
            .entry(o["charge_code"].as_str().expect("charge_code"))
            .or_default()
            .push(o);
    }
    let results = results.lock().expect("lock");
    let mut counts: HashMap<OutcomeStatus, u32> = HashMap::new();
    let mut wrong = Vec::new();
    for (cc, status, reason) in results.iter() {
        *counts.entry(*status).or_default() += 1;
        let recs = per_code.get(cc.as_str()).cloned().unwrap_or_default();
        if recs.len() > 1 {
            wrong.push(format!(
                "{cc}: {} orders in the ledger (double charge)",
                recs.len()
            ));
        }
        let state = recs.first().and_then(|o| o["state"].as_u64());
        let taken = matches!(state, Some(1 | 4 | 5 | 8 | 9));
        let ok = match status {
            OutcomeStatus::Paid => taken,
            OutcomeStatus::Failed | OutcomeStatus::Cancelled => !taken,
            OutcomeStatus::Pending | OutcomeStatus::Unresolved | OutcomeStatus::Conflict => false,
        };
        if !ok {
            wrong.push(format!(
                "{cc}: reported {status:?} ({reason}) but the ledger says state {state:?}"
            ));
        }
    }
    let fault_counts = &ledger["faults"]["injected"];
    println!(
        "fault campaign: {} runs: paid {}, failed {}, cancelled {}, unresolved {}, pending {}; faults injected: {}",
        results.len(),
        counts.get(&OutcomeStatus::Paid).unwrap_or(&0),
        counts.get(&OutcomeStatus::Failed).unwrap_or(&0),
        counts.get(&OutcomeStatus::Cancelled).unwrap_or(&0),
        counts.get(&OutcomeStatus::Unresolved).unwrap_or(&0),
        counts.get(&OutcomeStatus::Pending).unwrap_or(&0),
        fault_counts
    );
    assert_eq!(results.len(), runs);
    assert!(
        wrong.is_empty(),
        "outcomes disagree with the ledger:\n{}",
        wrong.join("\n")
    );
    assert!(counts.get(&OutcomeStatus::Paid).copied().unwrap_or(0) > 0);
    let injected: u64 = fault_counts
        .as_object()
        .map(|m| m.values().filter_map(serde_json::Value::as_u64).sum())
        .unwrap_or(0);
    assert!(
        injected >= 10,
        "the campaign must actually meet faults: {fault_counts}"
    );
}
