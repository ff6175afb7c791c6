//! Every operation and result code, plain and 3DES, JSON and XML; the micropay test codes;
//! bad input; the admin endpoints.

mod common;

use std::time::{Duration, Instant};

use common::{envelope, eventually, json_body, micropay_fields, unique, Gw, Mode, MODES};
use sosopay::envelope::now_millis;
use sosopay::models::{FlowRechargeReply, OrderReply, QueryReply, RefundReply, Reply};
use sosopay::{Channel, OrderState, ResultCode};
use sosopay_sandbox::{SandboxConfig, TEST_BUSI_ID};

const JSON: Mode = Mode {
    json: true,
    encrypt: false,
    xml_body: false,
};

fn scenario(gw: &Gw, mode: Mode) {
    let m = format!("{mode:?}");
    // Micropay that pays at once, decoded with the core's lenient decoder.
    let cc = unique("mp");
    let r = gw.micropay(&cc, "12.34", "130730865806264036", mode);
    assert_eq!(r.status, 200);
    assert_eq!(r.text.trim_start().starts_with('{'), mode.json, "{m}");
    let rep = OrderReply::decode(&r.text).expect("ORDER_RESP");
    assert_eq!(rep.result.code, ResultCode::Success, "{m}: {}", r.text);
    assert_eq!(rep.state, Some(OrderState::Paid));
    assert_eq!(rep.channel, Some(Channel::Wechat));
    assert_eq!(rep.amount.map(|a| a.fen()), Some(1234));
    assert_eq!(rep.fund_bills.len(), 1);
    let down = rep.charge_down_code.clone().expect("CHARGE_DOWN_CODE");

    // Again with the same charge code: never charged twice.
    let r = gw.micropay(&cc, "12.34", "284214903060794755", mode);
    assert_eq!(r.code(), "SERIAL_REPEAT", "{m}");

    // Query by charge code and by the gateway's number.
    for (code, ser) in [(cc.as_str(), "0"), (down.as_str(), "1")] {
        let q = QueryReply::decode(&gw.query(code, ser, mode).text).expect("QUERY_RESP");
        assert_eq!(q.result.code, ResultCode::Success, "{m}");
        assert_eq!(q.order.state, Some(OrderState::Paid));
        assert_eq!(q.order.charge_code.as_deref(), Some(cc.as_str()));
        assert_eq!(q.order.real_amount.map(|a| a.fen()), Some(1234));
    }
    assert_eq!(
        gw.query(&unique("none"), "0", mode).code(),
        "CHARGE_NONEXISTENT"
    );

    // Refunds: partial (4), replay of the same OUT_REFUND_NO (no second refund), over what
    // remains (AMT_ERROR), the rest (5), then nothing remains.
    let rn = unique("rf");
    let r = RefundReply::decode(&gw.refund(&cc, "2.34", &rn, mode).text).expect("REFUND_RESP");
    assert_eq!(r.result.code, ResultCode::Success, "{m}");
    assert_eq!(r.state, Some(OrderState::PartiallyRefunded));
    let again = gw.refund(&cc, "2.34", &rn, mode);
    assert_eq!(again.code(), "SUCCESS", "{m}: idempotent on OUT_REFUND_NO");
    assert_eq!(gw.ledger_order(&cc)["refunded_fen"], 234);
    assert_eq!(
        gw.refund(&cc, "1.00", &rn, mode).code(),
        "SERIAL_REPEAT",
        "{m}: the same OUT_REFUND_NO for another amount"
    );
    // Without OUT_REFUND_NO (the gateway accepts it; only the SDK requires one): a new refund
    // each time, so a lost reply cannot be retried safely.
    for _ in 0..2 {
        let r = gw.post(
            "refund",
            &[
                ("BUSI_ID", TEST_BUSI_ID),
                ("OPER_ID", "oper01"),
                ("DEV_ID", "dev01"),
                ("CHARGE_REFUND_FEE", "0.01"),
                ("REFUND_SUBJECT", "退款"),
                ("CHARGE_CODE", &cc),
            ],
            mode,
        );
        assert_eq!(r.code(), "SUCCESS", "{m}: a refund without OUT_REFUND_NO");
    }
    assert_eq!(gw.ledger_order(&cc)["refunded_fen"], 236);
    let over = gw.refund(&cc, "10.01", &unique("rf"), mode);
    assert_eq!(over.code(), "AMT_ERROR", "{m}");
    let r = RefundReply::decode(&gw.refund(&cc, "9.98", &unique("rf"), mode).text).expect("REFUND");
    assert_eq!(r.state, Some(OrderState::Refunded));
    assert_eq!(
        gw.refund(&cc, "0.01", &unique("rf"), mode).code(),
        "AMT_ERROR"
    );
    assert_eq!(gw.query(&cc, "0", mode).state().as_deref(), Some("5"));
    assert_eq!(
        gw.cancel(&cc, false, mode).code(),
        "FAIL",
        "{m}: refunded orders are not reversed"
    );
    assert_eq!(
        gw.refund(&unique("none"), "0.01", &unique("rf"), mode)
            .code(),
        "CHARGE_NONEXISTENT"
    );

    // QR order: awaiting until paid through the admin endpoint.
    let qr = unique("qr");
    let r = gw.qr(&qr, "0.10", "1", mode);
    let rep = OrderReply::decode(&r.text).expect("ORDER_RESP");
    assert_eq!(rep.result.code, ResultCode::Success, "{m}: {}", r.text);
    assert!(rep
        .bar_code
        .as_deref()
        .is_some_and(|b| b.starts_with("https://qr.alipay.com/")));
    assert_eq!(gw.query(&qr, "0", mode).state().as_deref(), Some("0"));
    gw.sb.pay(&qr).expect("admin pay");
    assert_eq!(gw.query(&qr, "0", mode).state().as_deref(), Some("1"));
    assert_eq!(gw.qr(&qr, "0.10", "1", mode).code(), "SERIAL_REPEAT");
    // Same-day reversal of a paid order, then again.
    assert_eq!(gw.cancel(&qr, false, mode).code(), "SUCCESS", "{m}");
    assert_eq!(gw.query(&qr, "0", mode).state().as_deref(), Some("2"));
    assert_eq!(gw.cancel(&qr, false, mode).code(), "AREADY_REVOKED");
    assert_eq!(
        gw.refund(&qr, "0.01", &unique("rf"), mode).code(),
        "AREADY_REVOKED"
    );
    assert_eq!(
        gw.cancel(&unique("none"), false, mode).code(),
        "CHARGE_NONEXISTENT"
    );

    // Cancel of an awaiting order; a refund of an unpaid order fails.
    let qr2 = unique("qr");
    assert_eq!(gw.qr(&qr2, "1", "2", mode).code(), "SUCCESS");
    assert_eq!(gw.refund(&qr2, "1", &unique("rf"), mode).code(), "FAIL");
    assert_eq!(gw.cancel(&qr2, false, mode).code(), "SUCCESS");
    assert!(gw.sb.pay(&qr2).is_err(), "a cancelled order cannot be paid");

    // Apply to cancel (ACO): state 3, then 2.
    let qr3 = unique("qr");
    assert_eq!(gw.qr(&qr3, "1", "2", mode).code(), "SUCCESS");
    assert_eq!(gw.cancel(&qr3, true, mode).code(), "SUCCESS");
    // Again: still pending (SUCCESS) or already done (AREADY_REVOKED), 5 ms later here.
    let again = gw.cancel(&qr3, true, mode).code();
    assert!(again == "SUCCESS" || again == "AREADY_REVOKED", "{again}");
    let s = gw.query(&qr3, "0", mode).state();
    assert!(matches!(s.as_deref(), Some("3") | Some("2")), "{s:?}");
    eventually(Duration::from_secs(5), || {
        (gw.query(&qr3, "0", mode).state().as_deref() == Some("2")).then_some(())
    });

    // JSAPI order.
    let js = unique("js");
    let mut fields = common::order_fields(&js, "0.01", "2");
    fields.extend([
        ("TRADE_TYPE", "JSAPI"),
        ("subAppid", "wxb1c959c78e070e58"),
        ("subOpenid", "oa58kwTYbuSGryFQKk8SOu-VMi-M"),
    ]);
    let rep = OrderReply::decode(&gw.post("order", &fields, mode).text).expect("ORDER_RESP");
    assert_eq!(rep.result.code, ResultCode::Success, "{m}");
    let j = rep.jsapi.expect("JSAPI parameters");
    assert_eq!(j.app_id, "wxb1c959c78e070e58");
    assert!(j.package.starts_with("prepay_id="));
    assert_eq!(j.sign_type, "MD5");
    assert_eq!(gw.ledger_order(&js)["kind"], "jsapi");
    // JSAPI without subOpenid names the field.
    let bad = unique("js");
    let mut fields = common::order_fields(&bad, "0.01", "2");
    fields.push(("TRADE_TYPE", "JSAPI"));
    let r = gw.post("order", &fields, mode);
    assert_eq!(r.code(), "ILLEGAL_PARAMETER");
    assert!(r.info().contains("subOpenid"), "{}", r.info());

    // Top-up.
    let r = gw.flow(
        r#"{"phoneNo":"13812345678","flowVal":100,"flowType":"0","notifyURL":"http://127.0.0.1/notify"}"#,
        mode,
    );
    let f = FlowRechargeReply::decode(&r.text).expect("flow reply");
    assert_eq!(f.result.code, ResultCode::Success, "{m}: {}", r.text);
    let flow = f.flow.expect("flow");
    assert_eq!(flow.flow_val, Some(100));
    assert_eq!(flow.busi_code.as_deref(), Some(TEST_BUSI_ID));
    let r = gw.flow(r#"{"phoneNo":"12","flowVal":100}"#, mode);
    let f = FlowRechargeReply::decode(&r.text).expect("flow reply");
    assert_eq!(f.result.code, ResultCode::IllegalParameter);
    assert!(f.result.info.contains("phoneNo"), "{}", f.result.info);

    // Result codes of bad requests.
    let cc = unique("bad");
    let mut fields = micropay_fields(&cc, "1.00", "130730865806264036", "0");
    fields.retain(|(k, _)| *k != "AMT");
    let r = gw.post("preOrder", &fields, mode);
    assert_eq!(r.code(), "ILLEGAL_PARAMETER", "{m}");
    assert!(r.info().contains("AMT"), "names the field: {}", r.info());
    let r = gw.post(
        "preOrder",
        &micropay_fields(&cc, "1.001", "130730865806264036", "0"),
        mode,
    );
    assert!(r.info().contains("AMT"), "{}", r.info());
    let r = gw.post(
        "preOrder",
        &micropay_fields("a/b", "1", "130730865806264036", "0"),
        mode,
    );
    assert!(r.info().contains("CHARGE_CODE"), "{}", r.info());
    let mut f = common::order_fields(&cc, "1", "2");
    f.push(("TIME_EXPIRE", "60"));
    let r = gw.post("order", &f, mode);
    assert_eq!(r.code(), "ILLEGAL_PARAMETER");
    assert!(r.info().contains("TIME_EXPIRE"), "{}", r.info());
    // Signed with the wrong key.
    let wrong = envelope("0123456789ABCDEF0123456789ABCDEF");
    if !mode.encrypt {
        let body = json_body(&micropay_fields(&cc, "1", "130730865806264036", "0"));
        let r = gw.post_as(&wrong, "preOrder", &body, mode);
        assert_eq!(r.code(), "INVALID_SIGN", "{m}");
    }
    // An unknown merchant.
    let mut f = micropay_fields(&cc, "1", "130730865806264036", "0");
    f.retain(|(k, _)| *k != "BUSI_ID");
    f.push(("BUSI_ID", "9999999999"));
    if !mode.encrypt {
        let r = gw.post("preOrder", &f, mode);
        assert_eq!(r.code(), "UNREGISTERED_BUSI", "{m}");
    }
    assert!(
        gw.sb.order(&cc).is_none(),
        "rejected requests create no order"
    );
}

#[test]
fn every_operation_plain_and_3des_json_and_xml() {
    let gw = Gw::start(0.001);
    for mode in MODES {
        scenario(&gw, mode);
    }
    let ledger = gw.sb.ledger_json();
    let requests = &ledger["requests"];
    for op in [
        "preOrder",
        "order",
        "refund",
        "query",
        "cancelTrade",
        "flowRecharge",
    ] {
        assert!(requests[op].as_u64().unwrap_or(0) > 0, "{op}: {requests}");
    }
}

#[test]
fn micropay_test_codes() {
    // 80 s of hold become 0.8 s.
    let gw = Gw::start(0.01);
    let pay = |code: &str| {
        let cc = unique("code");
        let t = Instant::now();
        let r = gw.micropay(&cc, "0.01", code, JSON);
        (cc, r, t.elapsed())
    };
    // Pays at once (Alipay prefix).
    let (cc, r, _) = pay("284214903060794755");
    assert_eq!(
        (r.code().as_str(), r.state().as_deref()),
        ("SUCCESS", Some("1"))
    );
    assert_eq!(gw.ledger_order(&cc)["channel"], 1);
    // Confirming, pays after 3 s (30 ms here): the request is held until paid.
    let (_, r, t) = pay("130000000000001003");
    assert_eq!(
        (r.code().as_str(), r.state().as_deref()),
        ("SUCCESS", Some("1"))
    );
    assert!(t >= Duration::from_millis(25), "{t:?}");
    assert!(t < Duration::from_millis(700), "{t:?}");
    // Confirming, pays only after the hold (90 s): reply at 80 s with STATE 0, paid later.
    let (cc, r, t) = pay("130000000000001090");
    assert_eq!(
        (r.code().as_str(), r.state().as_deref()),
        ("SUCCESS", Some("0"))
    );
    assert!(t >= Duration::from_millis(750), "{t:?}");
    eventually(Duration::from_secs(3), || {
        (gw.query(&cc, "0", JSON).state().as_deref() == Some("1")).then_some(())
    });
    // "User paying" at once, pays after 20 s (0.2 s): the client must poll.
    let (cc, r, t) = pay("130000000000002020");
    assert_eq!(r.state().as_deref(), Some("0"));
    assert!(t < Duration::from_millis(600), "not held: {t:?}");
    assert_eq!(gw.query(&cc, "0", JSON).state().as_deref(), Some("0"));
    eventually(Duration::from_secs(3), || {
        (gw.query(&cc, "0", JSON).state().as_deref() == Some("1")).then_some(())
    });
    // Insufficient funds: at once, and after 5 s of confirming.
    let (cc, r, _) = pay("280000000000003000");
    assert_eq!(
        (r.code().as_str(), r.state().as_deref()),
        ("FAIL", Some("6"))
    );
    assert!(r.info().contains("NOTENOUGH"));
    assert_eq!(gw.ledger_order(&cc)["state"], 6);
    let (_, r, t) = pay("280000000000003005");
    assert_eq!(
        (r.code().as_str(), r.state().as_deref()),
        ("FAIL", Some("6"))
    );
    assert!(t >= Duration::from_millis(45), "{t:?}");
    // Never confirms: held the whole 80 s, then cancelled.
    let (cc, r, t) = pay("130000000000004000");
    assert_eq!(
        (r.code().as_str(), r.state().as_deref()),
        ("FAIL", Some("2"))
    );
    assert!(t >= Duration::from_millis(790), "{t:?}");
    assert_eq!(gw.ledger_order(&cc)["state"], 2);
    // "User paying", never confirms: STATE 0 at once, cancelled at 80 s.
    let (cc, r, _) = pay("130000000000005000");
    assert_eq!(r.state().as_deref(), Some("0"));
    eventually(Duration::from_secs(3), || {
        (gw.query(&cc, "0", JSON).state().as_deref() == Some("2")).then_some(())
    });
    // Expired payment code.
    let (_, r, _) = pay("130000000000006000");
    assert_eq!(
        (r.code().as_str(), r.state().as_deref()),
        ("FAIL", Some("6"))
    );
    // Paid, but the reply says EXCEPTION: the client must query.
    let (cc, r, _) = pay("130000000000007002");
    assert_eq!(r.code(), "EXCEPTION");
    assert_eq!(gw.query(&cc, "0", JSON).state().as_deref(), Some("1"));
    // Unknown prefix with CHANNEL_TYPE=0; accepted with an explicit channel.
    let (cc, r, _) = pay("990000000000000000");
    assert_eq!(r.code(), "ILLEGAL_PARAMETER");
    assert!(r.info().contains("DYNAMIC_ID"));
    let r = gw.post(
        "preOrder",
        &micropay_fields(&cc, "0.01", "990000000000000000", "31"),
        JSON,
    );
    assert_eq!(r.state().as_deref(), Some("1"));
    let (_, r, _) = pay("13abc");
    assert_eq!(r.code(), "ILLEGAL_PARAMETER");
}

#[test]
fn holds_show_state_0_and_cancel_ends_them() {
    let gw = Gw::start(0.01);
    std::thread::scope(|s| {
        // A query during the hold shows STATE 0.
        let cc = unique("hold");
        let h = {
            let (gw, cc) = (&gw, cc.clone());
            s.spawn(move || gw.micropay(&cc, "1", "130000000000001050", JSON))
        };
        eventually(Duration::from_secs(2), || gw.sb.order(&cc));
        assert_eq!(gw.query(&cc, "0", JSON).state().as_deref(), Some("0"));
        let r = h.join().expect("thread");
        assert_eq!(r.state().as_deref(), Some("1"));

        // A cancel during the hold ends it early with STATE 2.
        let cc = unique("hold");
        let t = Instant::now();
        let h = {
            let (gw, cc) = (&gw, cc.clone());
            s.spawn(move || gw.micropay(&cc, "1", "130000000000004000", JSON))
        };
        eventually(Duration::from_secs(2), || gw.sb.order(&cc));
        assert_eq!(gw.cancel(&cc, false, JSON).code(), "SUCCESS");
        let r = h.join().expect("thread");
        assert_eq!(
            (r.code().as_str(), r.state().as_deref()),
            ("FAIL", Some("2"))
        );
        assert!(
            !r.info().contains("80"),
            "ended by the cancel, not by the hold: {}",
            r.info()
        );
        assert!(t.elapsed() < Duration::from_millis(790));

        // The admin pays a held order.
        let cc = unique("hold");
        let h = {
            let (gw, cc) = (&gw, cc.clone());
            s.spawn(move || gw.micropay(&cc, "1", "130000000000004000", JSON))
        };
        eventually(Duration::from_secs(2), || gw.sb.order(&cc));
        gw.sb.pay(&cc).expect("pay");
        assert_eq!(h.join().expect("thread").state().as_deref(), Some("1"));
    });
    // The auto-cancel timer of that order must not reverse the admin's payment.
    std::thread::sleep(Duration::from_millis(900));
    let ledger = gw.sb.ledger_json();
    let last = ledger["orders"]
        .as_array()
        .and_then(|o| o.last())
        .expect("order");
    assert_eq!(last["state"], 1);
}

#[test]
fn concurrent_reuse_of_a_charge_code_charges_once() {
    let gw = Gw::start(0.01);
    let cc = unique("race");
    let codes: Vec<String> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..12)
            .map(|_| s.spawn(|| gw.micropay(&cc, "5", "130730865806264036", JSON).code()))
            .collect();
        hs.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    assert_eq!(
        codes.iter().filter(|c| *c == "SUCCESS").count(),
        1,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| *c == "SERIAL_REPEAT").count(),
        11,
        "{codes:?}"
    );
    assert_eq!(
        gw.sb.ledger_json()["orders"].as_array().map(Vec::len),
        Some(1)
    );
}

#[test]
fn qr_orders_expire_after_time_expire() {
    let gw = Gw::start(0.001);
    let cc = unique("exp");
    let mut f = common::order_fields(&cc, "1", "2");
    f.push(("TIME_EXPIRE", "120"));
    assert_eq!(gw.post("order", &f, JSON).code(), "SUCCESS");
    eventually(Duration::from_secs(3), || {
        (gw.query(&cc, "0", JSON).state().as_deref() == Some("6")).then_some(())
    });
    assert!(gw.sb.pay(&cc).is_err(), "an expired order cannot be paid");
    assert_eq!(gw.cancel(&cc, false, JSON).code(), "FAIL");
}

#[test]
fn request_age_check_is_optional() {
    let old_ts = "1473431447"; // 2016, 10 digits (seconds)
    for (age, expect) in [(None, "SUCCESS"), (Some(300), "INVALID_SIGN")] {
        let gw = Gw::with_config(SandboxConfig {
            max_request_age: age.map(Duration::from_secs),
            ..SandboxConfig::default()
        });
        let body = json_body(&micropay_fields(
            &unique("age"),
            "1",
            "130730865806264036",
            "0",
        ));
        let sign = gw.env.sign_body(old_ts, &body).expect("sign");
        let url = format!("{}preOrder?sign={sign}&_type=json", gw.sb.base_url());
        let r = gw.send("POST", &url, body.as_bytes(), false);
        assert_eq!(r.code(), expect, "{age:?}");
        // 13-digit (milliseconds) timestamps are accepted too.
        let body = json_body(&micropay_fields(
            &unique("age"),
            "1",
            "130730865806264036",
            "0",
        ));
        let sign = gw
            .env
            .sign_body(&now_millis().to_string(), &body)
            .expect("sign");
        let url = format!("{}preOrder?sign={sign}&_type=json", gw.sb.base_url());
        assert_eq!(
            gw.send("POST", &url, body.as_bytes(), false).code(),
            "SUCCESS"
        );
    }
}

#[test]
fn bad_input_always_gets_a_proper_reply() {
    let gw = Gw::start(0.01);
    let base = gw.sb.base_url();
    let root = gw.sb.root_url();
    // Unknown paths: 404 with a gateway-style RESULT.
    for path in [
        "nope",
        "openGateway/openService/",
        "openGateway/openService/query/x",
    ] {
        let r = gw.send("GET", &format!("{root}{path}?_type=json"), b"", false);
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.code(), "ILLEGAL_PARAMETER");
    }
    // Wrong method.
    let r = gw.send("GET", &format!("{base}preOrder"), b"", false);
    assert_eq!(r.status, 405);
    assert_eq!(r.code(), "ILLEGAL_PARAMETER");
    // Too big: 2 MiB.
    let big = vec![b'x'; 2 << 20];
    let r = gw.send(
        "POST",
        &format!("{base}preOrder?sign=x&_type=json"),
        &big,
        false,
    );
    assert_eq!(r.status, 413);
    assert_eq!(r.code(), "ILLEGAL_PARAMETER");
    // Garbage bodies and signatures.
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (b"".to_vec(), "sign=x", "ILLEGAL_PARAMETER"),
        (b"not json".to_vec(), "sign=x", "ILLEGAL_PARAMETER"),
        (vec![0xff, 0xfe, 0x00], "sign=x", "ILLEGAL_PARAMETER"),
        (b"[1,2]".to_vec(), "sign=x", "ILLEGAL_PARAMETER"),
        (b"<a><b>".to_vec(), "sign=x", "ILLEGAL_PARAMETER"),
        (
            br#"<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#.to_vec(),
            "sign=x",
            "ILLEGAL_PARAMETER",
        ),
        (
            format!(r#"{{"BUSI_ID":"{TEST_BUSI_ID}"}}"#).into_bytes(),
            "sign=zz",
            "INVALID_SIGN",
        ),
        (
            format!(r#"{{"BUSI_ID":"{TEST_BUSI_ID}"}}"#).into_bytes(),
            "x=1",
            "ILLEGAL_PARAMETER",
        ),
        (
            b"not base64!".to_vec(),
            "sign=x&encrypt=3DES&busiCode=0010000001",
            "ILLEGAL_PARAMETER",
        ),
        (b"AAAA".to_vec(), "sign=x&encrypt=3DES", "ILLEGAL_PARAMETER"),
        (
            b"AAAA".to_vec(),
            "sign=x&encrypt=AES&busiCode=0010000001",
            "ILLEGAL_PARAMETER",
        ),
    ];
    for (body, q, code) in cases {
        for op in ["preOrder", "order", "refund"] {
            let url = format!("{base}{op}?{q}&_type=json");
            let encrypted = q.contains("busiCode") && q.contains("3DES");
            let r = gw.send("POST", &url, &body, encrypted);
            assert_eq!(r.status, 200, "{op} {q}");
            assert_eq!(
                r.code(),
                code,
                "{op} {q} {:?}",
                String::from_utf8_lossy(&body)
            );
        }
    }
    // GET with a malformed or missing sign, a bad serType, an unknown merchant.
    for (path, code) in [
        ("query/abc/0010000001?sign=nope", "INVALID_SIGN"),
        ("query/abc/0010000001", "ILLEGAL_PARAMETER"),
        (
            "cancelTrade/abc/0010000001?sign=00000000000000000000000000000000%3A1473431447",
            "INVALID_SIGN",
        ),
        ("query/abc/9999999999?sign=x", "UNREGISTERED_BUSI"),
    ] {
        let sep = if path.contains('?') { '&' } else { '?' };
        let r = gw.send("GET", &format!("{base}{path}{sep}_type=json"), b"", false);
        assert_eq!(r.code(), code, "{path}: {}", r.text);
    }
    let ts = now_millis().to_string();
    let sign = sosopay::envelope::sign_query(gw.env.key(), &ts, "abc").expect("sign");
    let r = gw.send(
        "GET",
        &format!("{base}query/abc/{TEST_BUSI_ID}?sign={sign}&serType=9"),
        b"",
        false,
    );
    assert_eq!(r.code(), "ILLEGAL_PARAMETER");
    assert!(
        r.text.starts_with("<?xml"),
        "XML is the default: {}",
        r.text
    );
    // Still healthy.
    let r = gw.send("GET", &format!("{root}_sandbox/health"), b"", false);
    assert_eq!(r.status, 200);
    assert!(gw.sb.ledger_json()["orders"]
        .as_array()
        .is_some_and(Vec::is_empty));
}

#[test]
fn admin_endpoints() {
    let gw = Gw::start(0.01);
    let root = gw.sb.root_url();
    let admin = |method: &str, path: &str, body: &str| {
        let url = format!("{root}_sandbox/{path}");
        let mut r = match method {
            "GET" => gw.agent.get(&url).call(),
            "DELETE" => gw.agent.delete(&url).call(),
            _ => gw
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.as_bytes()),
        }
        .expect("admin request");
        let status = r.status().as_u16();
        let v: serde_json::Value =
            serde_json::from_str(&r.body_mut().read_to_string().expect("body")).expect("JSON");
        (status, v)
    };
    let (s, h) = admin("GET", "health", "");
    assert_eq!((s, h["status"].as_str()), (200, Some("ok")));
    assert_eq!(h["base_url"], gw.sb.base_url());

    let qr = unique("adm");
    assert_eq!(gw.qr(&qr, "3", "2", JSON).code(), "SUCCESS");
    let (s, o) = admin("POST", &format!("orders/{qr}/pay"), "");
    assert_eq!((s, o["state"].as_u64()), (200, Some(1)));
    let (s, e) = admin("POST", &format!("orders/{qr}/pay"), "");
    assert_eq!(s, 409, "{e}");
    let (s, _) = admin("POST", "orders/nope/pay", "");
    assert_eq!(s, 404);
    let qr2 = unique("adm");
    assert_eq!(gw.qr(&qr2, "3", "2", JSON).code(), "SUCCESS");
    let (s, o) = admin("POST", &format!("orders/{qr2}/fail"), "");
    assert_eq!((s, o["state"].as_u64()), (200, Some(6)));
    let (s, o) = admin("GET", &format!("orders/{qr2}"), "");
    assert_eq!((s, o["charge_code"].as_str()), (200, Some(qr2.as_str())));
    let (_, l) = admin("GET", "ledger", "");
    assert_eq!(l, gw.sb.ledger_json());
    assert_eq!(l["orders"].as_array().map(Vec::len), Some(2));

    let (s, f) = admin(
        "POST",
        "faults",
        r#"{"seed": 5, "faults": ["query:delay:0.5:10", {"op":"order","kind":"http502","probability":0.1,"param":"after"}]}"#,
    );
    assert_eq!(s, 200, "{f}");
    assert_eq!(f["seed"], 5);
    assert_eq!(f["faults"][1]["kind"], "http502");
    let (s, e) = admin("POST", "faults", r#"["query:explode:1"]"#);
    assert_eq!(s, 400, "{e}");
    let (s, f) = admin("DELETE", "faults", "");
    assert_eq!((s, f["faults"].as_array().map(Vec::len)), (200, Some(0)));

    let (s, _) = admin(
        "POST",
        "merchants",
        r#"{"busi_id":"0020000002","key":"0123456789abcdef0123456789abcdef"}"#,
    );
    assert_eq!(s, 200);
    let (_, h) = admin("GET", "health", "");
    assert_eq!(h["merchants"].as_array().map(Vec::len), Some(2));

    let (s, _) = admin("POST", "reset", "");
    assert_eq!(s, 200);
    assert!(gw.sb.ledger_json()["orders"]
        .as_array()
        .is_some_and(Vec::is_empty));
    assert_eq!(
        gw.qr(&qr, "3", "2", JSON).code(),
        "SUCCESS",
        "reset forgets orders"
    );
    // Cancel: a paid order is reversed; cancelling it again is refused, saying it is already
    // cancelled (not that cancel applies only to an unpaid order: it just applied to a paid one).
    let (s, o) = admin("POST", &format!("orders/{qr}/pay"), "");
    assert_eq!((s, o["state"].as_u64()), (200, Some(1)));
    let (s, o) = admin("POST", &format!("orders/{qr}/cancel"), "");
    assert_eq!((s, o["state"].as_u64()), (200, Some(2)), "{o}");
    let (s, e) = admin("POST", &format!("orders/{qr}/cancel"), "");
    let why = e["error"].as_str().unwrap_or_default();
    assert_eq!(s, 409, "{e}");
    assert!(
        why.contains("already cancelled (state 2, Cancelled: reversed"),
        "{why}"
    );
    assert!(!why.contains("applies to"), "{why}");
    // An unpaid order cancelled, then again; a closed one: the reason names the states cancel
    // applies to.
    let qr3 = unique("adm");
    assert_eq!(gw.qr(&qr3, "3", "2", JSON).code(), "SUCCESS");
    let (s, o) = admin("POST", &format!("orders/{qr3}/cancel"), "");
    assert_eq!((s, o["state"].as_u64()), (200, Some(2)), "{o}");
    let (s, e) = admin("POST", &format!("orders/{qr3}/cancel"), "");
    assert_eq!(s, 409, "{e}");
    assert!(
        e["error"].as_str().is_some_and(
            |w| w.contains("already cancelled (state 2, Cancelled: before it was paid")
        ),
        "{e}"
    );
    let qr4 = unique("adm");
    assert_eq!(gw.qr(&qr4, "3", "2", JSON).code(), "SUCCESS");
    let (s, _) = admin("POST", &format!("orders/{qr4}/fail"), "");
    assert_eq!(s, 200);
    let (s, e) = admin("POST", &format!("orders/{qr4}/cancel"), "");
    assert_eq!(s, 409, "{e}");
    assert!(
        e["error"].as_str().is_some_and(|w| w.contains(
            "is in state 6 (Closed); cancel applies to an order awaiting payment (0), paid (1)"
        )),
        "{e}"
    );
    let (s, _) = admin("GET", "nothing-here", "");
    assert_eq!(s, 404);
}

#[test]
fn binary_prints_the_base_url_first_and_serves() {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sosopay-sandbox"))
        .args(["--time-scale", "0.01", "--seed", "3"])
        .args(["--merchant", "0020000002:0123456789abcdef0123456789abcdef"])
        .args(["--fault", "query:delay:0.5:10"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn the sandbox binary");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut first)
        .expect("first line");
    let base = first.trim().to_owned();
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with("/openGateway/openService/"),
        "{base:?}"
    );
    let root = base.trim_end_matches("openGateway/openService/");
    let mut r = common::agent()
        .get(&format!("{root}_sandbox/health"))
        .call()
        .expect("health");
    let v: serde_json::Value =
        serde_json::from_str(&r.body_mut().read_to_string().expect("body")).expect("json");
    assert_eq!(v["merchants"], serde_json::json!(["0020000002"]));
    assert_eq!(v["time_scale"], 0.01);
    let mut r = common::agent()
        .get(&format!("{root}_sandbox/faults"))
        .call()
        .expect("faults");
    let v: serde_json::Value =
        serde_json::from_str(&r.body_mut().read_to_string().expect("body")).expect("json");
    assert_eq!(v["seed"], 3);
    assert_eq!(v["faults"][0]["kind"], "delay");
    child.kill().expect("kill");
    let _ = child.wait();
}

#[test]
fn serve_runs_in_the_callers_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = rt.spawn(sosopay_sandbox::serve(listener, SandboxConfig::default()));
    let mut r = common::agent()
        .get(&format!("http://{addr}/_sandbox/health"))
        .call()
        .expect("health");
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.body_mut().read_to_string().expect("body").contains("ok"));
    task.abort();
}

/// A slow-drip upload (a client that announces a body and sends it a byte at a time, or not at
/// all) is answered 408 after `body_timeout` and closed: a user's test never hangs on it.
#[test]
fn a_slow_drip_body_times_out() {
    use std::io::{Read as _, Write as _};
    let sb = sosopay_sandbox::Sandbox::start(SandboxConfig {
        body_timeout: Duration::from_millis(300),
        ..Default::default()
    })
    .expect("sandbox");
    let mut s = std::net::TcpStream::connect(sb.addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let started = Instant::now();
    write!(
        s,
        "POST /openGateway/openService/preOrder?sign=x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{"
    )
    .expect("write");
    let mut reply = String::new();
    let _ = s.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(sosopay_sandbox::Sandbox::start(SandboxConfig {
        body_timeout: Duration::ZERO,
        ..Default::default()
    })
    .is_err());
}
