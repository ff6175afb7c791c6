//! The core's async client (feature `async`, what the Node binding runs on) against the
//! sandbox: every operation gives the same replies as the blocking client, errors keep their
//! kinds (gateway codes, HTTP status with retries, refused connections as "not sent",
//! timeouts as outcome unknown), and under faults no error ever hides a payment that happened.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sosopay::codec::Format;
use sosopay::models::{
    CancelRequest, FlowRechargeRequest, MicropayRequest, OrderRequest, QueryRequest, RefundRequest,
};
use sosopay::{Amount, Client, Error, OrderState, ResultCode};
mod common;
use common::{
    assert_not_sent, config, gateway_code as code_of, sandbox, untrusted_tls_server, yuan,
};

const PAY_NOW: &str = "130730865806264036";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn every_operation_async_matches_the_blocking_client() {
    for (encrypt, format) in [
        (false, Format::Json),
        (true, Format::Json),
        (true, Format::Xml),
    ] {
        let sb = sandbox(0.02, 1, &[]);
        let c = Client::new(config(&sb.base_url(), encrypt, format)).expect("client");
        let tag = format!("{}{format:?}", u8::from(encrypt));
        runtime().block_on(async {
            let mp = format!("AMP-{tag}");
            let r = c
                .micropay_async(&MicropayRequest::new(&mp, yuan("0.01"), PAY_NOW, "coffee"))
                .await
                .expect("micropay");
            assert_eq!(r.state, Some(OrderState::Paid));
            assert_eq!(r.amount.map(Amount::fen), Some(1));
            let e = c
                .micropay_async(&MicropayRequest::new(&mp, yuan("0.01"), PAY_NOW, "coffee"))
                .await
                .expect_err("repeat");
            assert_eq!(code_of(&e), Some(ResultCode::SerialRepeat));
            assert!(e.outcome_unknown());

            // The same order read by both clients: the same reply.
            let q = QueryRequest::by_charge_code(&mp);
            let a = c.query_async(&q).await.expect("query");
            let b = c.query(&q).expect("blocking query");
            assert_eq!(a.order, b.order);
            assert_eq!(a.result, b.result);

            let qr = format!("AQR-{tag}");
            let o = OrderRequest::new(&qr, yuan("158.00"), sosopay::Channel::Alipay, "goods");
            let r = c.create_qr_order_async(&o).await.expect("qr order");
            assert!(r.bar_code.is_some());
            sb.pay(&qr).expect("pay");
            let r = c
                .refund_async(&RefundRequest::new(
                    &qr,
                    format!("ARF-{tag}"),
                    yuan("58.00"),
                    "part",
                ))
                .await
                .expect("refund");
            assert!(r.result.code.is_success());
            let e = c
                .refund_async(&RefundRequest::new(
                    &qr,
                    format!("ARF2-{tag}"),
                    yuan("100.01"),
                    "too much",
                ))
                .await
                .expect_err("amt");
            assert_eq!(code_of(&e), Some(ResultCode::AmtError));
            assert!(!e.outcome_unknown());
            let q = c
                .query_async(&QueryRequest::by_charge_code(&qr))
                .await
                .expect("q");
            assert_eq!(q.order.state, Some(OrderState::PartiallyRefunded));

            let mut j = OrderRequest::jsapi(format!("AJS-{tag}"), yuan("0.10"), "oa", "oUser1");
            j.sub_appid = Some("wxb1c959c78e070e58".into());
            let r = c.create_jsapi_order_async(&j).await.expect("jsapi");
            assert!(r.jsapi.is_some_and(|p| !p.pay_sign.is_empty()));
            let e = c.create_qr_order_async(&j).await.expect_err("jsapi as qr");
            assert!(matches!(e, Error::Validation { ref field, .. } if field == "trade_type"));

            let cx = format!("ACX-{tag}");
            c.create_qr_order_async(&OrderRequest::new(
                &cx,
                yuan("1.00"),
                sosopay::Channel::Wechat,
                "x",
            ))
            .await
            .expect("order");
            c.cancel_async(&CancelRequest::new(&cx))
                .await
                .expect("cancel");
            let again = c
                .cancel_async(&CancelRequest::new(&cx))
                .await
                .expect("again: the order is cancelled");
            assert_eq!(again.result.code, ResultCode::AreadyRevoked);
            assert_eq!(
                c.query_async(&QueryRequest::by_charge_code(&cx))
                    .await
                    .expect("q")
                    .order
                    .state,
                Some(OrderState::Cancelled)
            );

            let e = c
                .query_async(&QueryRequest::by_charge_code(format!("NONE-{tag}")))
                .await
                .expect_err("nonexistent");
            assert_eq!(code_of(&e), Some(ResultCode::ChargeNonexistent));

            let f = c
                .flow_recharge_async(&FlowRechargeRequest::new("13800138000", 100))
                .await
                .expect("top-up");
            assert!(f.result.code.is_success());

            // Invalid requests: nothing is sent.
            let e = c
                .micropay_async(&MicropayRequest::new("", yuan("1.00"), PAY_NOW, "x"))
                .await
                .expect_err("invalid");
            assert!(matches!(e, Error::Validation { .. }));
        });
    }
}

#[test]
fn async_errors_keep_their_kinds() {
    let rt = runtime();
    // HTTP 503 on every query: retried, each attempt logged, then the status.
    let sb = sandbox(0.02, 3, &["query:http503:1.0", "preOrder:delay:1.0:3000"]);
    let logs: Arc<Mutex<Vec<sosopay::RequestLog>>> = Arc::default();
    let mut cfg = config(&sb.base_url(), true, Format::Json);
    let sink = logs.clone();
    cfg.on_request = Some(Arc::new(move |l: &sosopay::RequestLog| {
        sink.lock().expect("lock").push(l.clone())
    }));
    cfg.micropay_timeout = Duration::from_millis(300);
    cfg.retry.max_attempts = 3;
    let c = Client::new(cfg).expect("client");
    rt.block_on(async {
        let e = c
            .query_async(&QueryRequest::by_charge_code("ANY-1"))
            .await
            .expect_err("503");
        assert!(matches!(e, Error::HttpStatus { status: 503, .. }), "{e:?}");
        assert_eq!(
            logs.lock()
                .expect("lock")
                .iter()
                .map(|l| l.attempt)
                .collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert!(logs
            .lock()
            .expect("lock")
            .iter()
            .all(|l| l.http_status == Some(503)));

        // A micropay whose reply comes too late: a timeout, outcome unknown, not retried.
        let e = c
            .micropay_async(&MicropayRequest::new("SLOW-1", yuan("1.00"), PAY_NOW, "x"))
            .await
            .expect_err("timeout");
        assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
        assert!(e.outcome_unknown());
    });

    // Nobody listening: surely not sent.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}/openGateway/openService/");
    let c = Client::new(config(&url, false, Format::Json)).expect("client");
    rt.block_on(async {
        let e = c
            .micropay_async(&MicropayRequest::new(
                "REFUSED-1",
                yuan("1.00"),
                PAY_NOW,
                "x",
            ))
            .await
            .expect_err("refused");
        assert_not_sent(&e);
    });
}

/// TLS is verified: a server whose certificate no public root signs is refused during the
/// handshake, so nothing was sent.
#[test]
fn async_client_refuses_an_untrusted_certificate_before_sending() {
    let (_server, url) = untrusted_tls_server();
    let c = Client::new(config(&url, false, Format::Json)).expect("client");
    let e = runtime().block_on(async {
        c.micropay_async(&MicropayRequest::new("TLS-A1", yuan("1.00"), PAY_NOW, "x"))
            .await
            .expect_err("untrusted certificate")
    });
    assert_not_sent(&e);
    assert!(
        e.to_string().to_lowercase().contains("certificate"),
        "{e:?}"
    );
}

/// Concurrent micropays through a misbehaving gateway: whatever the async client answers must
/// agree with the gateway's ledger. A success is a paid order; an error that says the outcome
/// is known (not `outcome_unknown`) is an order that was not paid.
#[test]
fn async_fault_campaign_never_hides_a_payment() {
    let faults = [
        "preOrder:drop_reply:0.15",
        "preOrder:drop:0.1",
        "preOrder:http503:0.1",
        "preOrder:http500:0.05:after",
        "preOrder:garble:0.08",
        "preOrder:truncate:0.05",
        "preOrder:delay:0.1:400",
    ];
    let sb = sandbox(0.02, 20261204, &faults);
    let mut cfg = config(&sb.base_url(), true, Format::Json);
    cfg.micropay_timeout = Duration::from_millis(300);
    let c = Client::new(cfg).expect("client");
    let results = runtime().block_on(async {
        let tasks: Vec<_> = (0..120)
            .map(|i| {
                let c = c.clone();
                tokio::spawn(async move {
                    let cc = format!("CAMP-{i}");
                    let r = c
                        .micropay_async(&MicropayRequest::new(&cc, yuan("2.00"), PAY_NOW, "x"))
                        .await;
                    (cc, r)
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("task"));
        }
        out
    });
    let (mut ok, mut unknown, mut known_failed) = (0, 0, 0);
    for (cc, r) in &results {
        let paid = sb.order(cc).is_some_and(|o| o.state_name == "Paid");
        match r {
            Ok(reply) => {
                ok += 1;
                assert_eq!(reply.state, Some(OrderState::Paid), "{cc}");
                assert!(paid, "{cc}: a success must be a paid order");
            }
            Err(e) if e.outcome_unknown() => unknown += 1,
            Err(e) => {
                known_failed += 1;
                assert!(
                    !paid,
                    "{cc}: {e} says the outcome is known, but the ledger has it paid"
                );
            }
        }
    }
    eprintln!("async campaign: {ok} paid, {unknown} outcome unknown, {known_failed} failed");
    assert!(
        ok > 0 && unknown > 0,
        "the campaign must meet faults: ok {ok}, unknown {unknown}, failed {known_failed}"
    );
}
