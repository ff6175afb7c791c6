//! Notifications end to end: the sandbox delivers `PAY_NODIFY` (with duplicate and
//! wrongly-signed deliveries injected) to a webhook built on the SDK; each payment is
//! processed exactly once and forged deliveries are rejected.

#[path = "../src/receiver.rs"]
#[allow(dead_code)]
mod receiver;

use std::time::{Duration, Instant};

use receiver::{Event, Receiver};
use sosopay::models::OrderRequest;
use sosopay::notify::Delivery;
use sosopay::{Amount, Channel, Client, ClientConfig, MerchantKey};
use sosopay_sandbox::{FaultRule, Sandbox, SandboxConfig};

const BUSI: &str = "0010000001";
const KEY: &str = "98SDKFUO432HNODS098EEE07U9DUOIUE";

fn collect(rx: &Receiver, until: impl Fn(&[Event]) -> bool, max: Duration) -> Vec<Event> {
    let start = Instant::now();
    let mut events = Vec::new();
    while start.elapsed() < max && !until(&events) {
        if let Some(e) = rx.next(Duration::from_millis(100)) {
            events.push(e);
        }
    }
    // Let stragglers (duplicates) arrive.
    while let Some(e) = rx.next(Duration::from_millis(400)) {
        events.push(e);
    }
    events
}

fn run(notify_query: &str, faults: &[&str], encrypt: bool) -> (Vec<Event>, serde_json::Value) {
    let config = SandboxConfig {
        time_scale: 0.02,
        seed: 7,
        faults: faults
            .iter()
            .map(|f| f.parse::<FaultRule>().expect("rule"))
            .collect(),
        ..Default::default()
    };
    let sb = Sandbox::start(config).expect("sandbox");
    let rx = Receiver::start(MerchantKey::new(KEY).expect("key"), BUSI).expect("receiver");
    let mut cfg = ClientConfig::new(BUSI, KEY, sb.base_url()).expect("config");
    cfg.encrypt = encrypt;
    cfg.default_oper_id = Some("o".into());
    cfg.default_dev_id = Some("d".into());
    let client = Client::new(cfg).expect("client");
    let mut codes = Vec::new();
    for i in 0..3 {
        let cc = format!("N-{i}");
        let mut o = OrderRequest::new(
            &cc,
            Amount::from_fen(100 + i).expect("amount"),
            Channel::Alipay,
            "webhook test",
        );
        o.notify_url = Some(format!("{}{notify_query}", rx.url));
        client.create_qr_order(&o).expect("order");
        sb.pay(&cc).expect("pay");
        codes.push(cc);
    }
    let events = collect(
        &rx,
        |ev| {
            ev.iter()
                .filter(|e| matches!(e, Event::Verified(_, Delivery::Processed)))
                .count()
                >= 3
        },
        Duration::from_secs(20),
    );
    (events, sb.ledger_json())
}

fn processed(events: &[Event]) -> Vec<String> {
    let mut v: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Verified(n, Delivery::Processed) => n.order.charge_code.clone(),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

#[test]
fn each_payment_processed_once_despite_duplicates() {
    for (query, encrypt) in [
        ("?_type=json", false),
        ("?_type=json&encrypt=3DES", true),
        ("", false),
        ("?encrypt=3DES", true),
    ] {
        let (events, ledger) = run(query, &["notify:duplicate:1.0"], encrypt);
        assert_eq!(
            processed(&events),
            vec!["N-0", "N-1", "N-2"],
            "query {query:?}: {events:?}"
        );
        let dups = events
            .iter()
            .filter(|e| matches!(e, Event::Verified(_, Delivery::Duplicate)))
            .count();
        assert!(
            dups >= 1,
            "duplicates were delivered and recognised ({query:?})"
        );
        let attempts = ledger["notifications"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0);
        assert!(attempts >= 3 + dups, "the ledger records every attempt");
        // Amounts are exact fen.
        for e in &events {
            if let Event::Verified(n, _) = e {
                let cc = n.order.charge_code.clone().unwrap_or_default();
                let i: u64 = cc.trim_start_matches("N-").parse().expect("index");
                assert_eq!(n.order.amount.map(Amount::fen), Some(100 + i));
            }
        }
    }
}

#[test]
fn forged_deliveries_are_rejected_and_retried() {
    let (events, ledger) = run("?_type=json", &["notify:bad_sign:0.5"], false);
    assert_eq!(processed(&events), vec!["N-0", "N-1", "N-2"], "{events:?}");
    let rejected = events
        .iter()
        .filter(|e| matches!(e, Event::Rejected(_)))
        .count();
    let bad = ledger["notifications"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|n| n["fault"].as_str() == Some("bad_sign"))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(
        rejected, bad,
        "every wrongly-signed delivery was rejected, and only those"
    );
    assert!(bad >= 1, "the seed injects at least one forged delivery");
    let answered_400 = ledger["notifications"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|n| n["http_status"].as_u64() == Some(400))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(answered_400, bad);
}
