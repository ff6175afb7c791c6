//! Replays the vendor client's captured requests against a fresh sandbox, in file order.

mod common;

use common::{agent, envelope};
use sosopay::models::{CancelReply, OrderReply, QueryReply, RefundReply, Reply};
use sosopay::{OrderState, ResultCode};
use sosopay_sandbox::{Sandbox, SandboxConfig, TEST_KEY};

#[test]
fn vendor_requests_replay_with_real_business_results() {
    let sb = Sandbox::start(SandboxConfig::default()).expect("sandbox");
    let agent = agent();
    let env = envelope(TEST_KEY);
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/vendor-requests.jsonl"
    ))
    .expect("vectors");
    let root = sb.root_url();
    let mut got = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("jsonl");
        let method = v["method"].as_str().expect("method");
        let path = v["path"].as_str().expect("path");
        let query = v["query"].as_str().expect("query");
        let body = v["body"].as_str().expect("body");
        let ct = v["content_type"].as_str().expect("content type");
        let url = format!("{}{}?{}", root.trim_end_matches('/'), path, query);
        let mut resp = if method == "GET" {
            agent.get(&url).header("Content-Type", ct).call()
        } else {
            agent
                .post(&url)
                .header("Content-Type", ct)
                .send(body.as_bytes())
        }
        .expect("request");
        assert_eq!(resp.status().as_u16(), 200, "{method} {path}");
        let raw = resp.body_mut().read_to_string().expect("body");
        let encrypted = query.contains("encrypt=3DES");
        let reply = if encrypted {
            // The encrypted replies decrypt with the merchant key.
            env.decrypt_to_string(&raw)
                .unwrap_or_else(|e| panic!("{path}: {raw:?} does not decrypt: {e}"))
        } else {
            raw.clone()
        };
        assert!(
            reply.trim_start().starts_with('{'),
            "_type=json asks for JSON: {reply}"
        );
        let op = path.rsplit("/openService/").next().unwrap_or("");
        let (code, state) = if op.starts_with("preOrder") || op.starts_with("order") {
            let r = OrderReply::decode(&reply).expect("ORDER_RESP");
            (r.result.code, r.state)
        } else if op.starts_with("query") {
            let r = QueryReply::decode(&reply).expect("QUERY_RESP");
            (r.result.code, r.order.state)
        } else if op.starts_with("cancelTrade") {
            (
                CancelReply::decode(&reply)
                    .expect("CANCELTRADE_RESP")
                    .result
                    .code,
                None,
            )
        } else {
            let r = RefundReply::decode(&reply).expect("REFUND_RESP");
            (r.result.code, r.state)
        };
        got.push((
            op.split('/').next().unwrap_or("").to_owned(),
            encrypted,
            code,
            state,
        ));
    }
    let expected = [
        (
            "order",
            false,
            ResultCode::Success,
            Some(OrderState::AwaitingPayment),
        ),
        (
            "preOrder",
            false,
            ResultCode::Success,
            Some(OrderState::Paid),
        ),
        ("query", false, ResultCode::Success, Some(OrderState::Paid)),
        // A same-day reversal of the paid micropay.
        ("cancelTrade", false, ResultCode::Success, None),
        // The refund names an order the gateway never saw.
        ("refund", false, ResultCode::ChargeNonexistent, None),
        // The encrypted half reuses the same charge codes.
        ("order", true, ResultCode::SerialRepeat, None),
        ("preOrder", true, ResultCode::SerialRepeat, None),
        (
            "query",
            true,
            ResultCode::Success,
            Some(OrderState::Cancelled),
        ),
        ("cancelTrade", true, ResultCode::AreadyRevoked, None),
        ("refund", true, ResultCode::ChargeNonexistent, None),
    ];
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(expected.iter()) {
        assert_eq!(
            (g.0.as_str(), g.1, &g.2, &g.3),
            (e.0, e.1, &e.2, &e.3),
            "replay results {got:#?}"
        );
    }
    let ledger = sb.ledger_json();
    let orders = ledger["orders"].as_array().expect("orders");
    assert_eq!(orders.len(), 2, "one order per charge code");
    assert_eq!(orders[0]["kind"], "qr");
    assert_eq!(orders[0]["state"], 0);
    assert_eq!(orders[0]["amount_fen"], 10);
    assert_eq!(orders[1]["kind"], "micropay");
    assert_eq!(orders[1]["channel"], 2, "13… codes are WeChat");
    assert_eq!(orders[1]["state"], 2);
    assert_eq!(
        orders[1]["notify_url"],
        serde_json::Value::Null,
        "\"null\" is no URL"
    );
    assert!(ledger["refunds"].as_array().expect("refunds").is_empty());
}
