//! Waiting for QR orders under faults, with charge codes re-used for other amounts: the
//! outcome of `wait_for_payment` with the order's amount always agrees with the gateway's
//! ledger. `Paid` only for an order of this amount that was paid; `Conflict` only when the
//! order under the code is for another amount; `Pending` only for this order still awaiting
//! payment; never a wrong answer whatever the faults (`Unresolved` is allowed: the faults may
//! hide the order).

use std::time::Duration;

use sosopay::models::OrderRequest;
use sosopay::{
    Amount, AwaitedOrder, Channel, Client, ClientConfig, OutcomeStatus, RetryPolicy, WaitOptions,
};
use sosopay_sandbox::{Sandbox, SandboxConfig};

const BUSI: &str = "0010000001";
const KEY: &str = "98SDKFUO432HNODS098EEE07U9DUOIUE";

#[test]
fn waiting_with_the_amount_agrees_with_the_ledger_under_faults() {
    let faults = [
        "order:drop_reply:0.1",
        "order:http503:0.05",
        "query:http502:0.1",
        "query:omit:0.05:AMT",
        "query:omit:0.05:STATE",
        "query:foreign_code:0.05",
        "query:lag:0.1:300",
        "query:garble:0.05",
    ];
    let sb = Sandbox::start(SandboxConfig {
        time_scale: 0.05,
        seed: 37,
        faults: faults.iter().map(|f| f.parse().expect("rule")).collect(),
        ..Default::default()
    })
    .expect("sandbox");
    let mut cfg = ClientConfig::new(BUSI, KEY, sb.base_url()).expect("config");
    cfg.default_oper_id = Some("web".into());
    cfg.default_dev_id = Some("shop".into());
    cfg.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    };
    let client = Client::new(cfg).expect("client");
    let opts = WaitOptions {
        deadline: Duration::from_millis(400),
        poll_interval: Duration::from_millis(20),
        max_poll_interval: Duration::from_millis(50),
        max_duration: Duration::from_millis(1000),
        ..Default::default()
    };
    let mut seen = std::collections::HashMap::<OutcomeStatus, u32>::new();
    let mut wrong = Vec::new();
    for i in 0..80u64 {
        // Every fourth order re-uses an earlier charge code for another amount.
        let (cc, fen) = if i % 4 == 3 {
            (format!("QF-{:03}", i - 3), 5_000 + i)
        } else {
            (format!("QF-{i:03}"), 100 + i)
        };
        let amount = Amount::from_fen(fen).expect("amount");
        let _ = client.create_qr_order(&OrderRequest::new(&cc, amount, Channel::Wechat, "qr"));
        if i % 3 != 0 {
            let _ = sb.pay(&cc); // the customer pays, when the order exists and awaits payment
        }
        let out = client
            .wait_for_payment(AwaitedOrder::new(&cc).with_amount(amount), &opts)
            .expect("wait");
        *seen.entry(out.status).or_default() += 1;
        let ledger = sb.order(&cc);
        let (state, ledger_fen) = match &ledger {
            Some(o) => (o.state, Some(o.amount_fen)),
            None => (None, None),
        };
        let ok = match out.status {
            OutcomeStatus::Paid => ledger_fen == Some(fen) && state == Some(1),
            OutcomeStatus::Conflict => ledger_fen.is_some_and(|f| f != fen),
            OutcomeStatus::Pending => ledger_fen == Some(fen) && state == Some(0),
            OutcomeStatus::Failed | OutcomeStatus::Cancelled => {
                ledger_fen == Some(fen) && matches!(state, Some(2 | 6))
            }
            OutcomeStatus::Unresolved => true,
        };
        if !ok {
            wrong.push(format!("{cc} ({fen} fen): {out:?}, ledger {ledger:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // The campaign exercised what it is about.
    for s in [
        OutcomeStatus::Paid,
        OutcomeStatus::Conflict,
        OutcomeStatus::Pending,
    ] {
        assert!(
            seen.get(&s).copied().unwrap_or(0) > 0,
            "no {s:?} in {seen:?}"
        );
    }
    let injected = &sb.ledger_json()["faults"]["injected"];
    assert!(
        injected["query:lag"].as_u64().unwrap_or(0) > 0,
        "{injected}"
    );
}
