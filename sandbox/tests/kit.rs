//! The testing kits' shared layer (`sosopay_sandbox::kit`): options, closing, fault rules as
//! text, and the waits every kit (Python, Node, Kotlin/Swift) exposes.

mod common;

use std::time::{Duration, Instant};

use common::{unique, Receiver};
use sosopay::models::OrderRequest;
use sosopay::{Amount, Channel, Client, ClientConfig};
use sosopay_sandbox::kit::TimeUnit;
use sosopay_sandbox::{KitOptions, SandboxError, SandboxHandle, TEST_BUSI_ID, TEST_KEY};

fn started(time_scale: f64) -> SandboxHandle {
    SandboxHandle::start(&KitOptions {
        time_scale,
        ..KitOptions::default()
    })
    .expect("starts")
}

fn qr(sb: &SandboxHandle, cc: &str, notify_url: Option<&str>) {
    let client =
        Client::new(ClientConfig::new(TEST_BUSI_ID, TEST_KEY, sb.base_url()).expect("config"))
            .expect("client");
    let mut order = OrderRequest::new(
        cc,
        Amount::from_fen(1250).expect("amount"),
        Channel::Wechat,
        "Tea",
    );
    order.oper_id = "op".into();
    order.dev_id = "dev".into();
    order.notify_url = notify_url.map(str::to_owned);
    client.create_qr_order(&order).expect("QR order");
}

fn config_field(e: SandboxError) -> String {
    match e {
        SandboxError::Config { field, .. } => field,
        other => panic!("expected a Config error, got {other:?}"),
    }
}

#[test]
fn options_are_validated_naming_the_setting() {
    let bad = |o: KitOptions| config_field(o.to_config().expect_err("refused"));
    let d = KitOptions::default;
    assert_eq!(
        bad(KitOptions {
            host: "localhost".into(),
            ..d()
        }),
        "host"
    );
    assert_eq!(
        bad(KitOptions {
            time_scale: 0.0,
            ..d()
        }),
        "time_scale"
    );
    assert_eq!(
        bad(KitOptions {
            max_request_age: Some(f64::NAN),
            ..d()
        }),
        "max_request_age"
    );
    assert_eq!(
        bad(KitOptions {
            faults: vec!["query:http503:1".into(), "nope".into()],
            ..d()
        }),
        "faults[1]"
    );
    let c = KitOptions {
        merchants: vec![("0010000002".into(), TEST_KEY.into())],
        max_request_age: Some(30.0),
        ..d()
    }
    .to_config()
    .expect("valid");
    assert_eq!(c.merchants.len(), 1);
    assert_eq!(c.max_request_age, Some(Duration::from_secs(30)));
    // Empty merchants: the document's test merchant.
    let c = d().to_config().expect("valid");
    assert_eq!(c.merchants[0].0, TEST_BUSI_ID);
}

#[test]
fn faults_as_text_and_a_closed_handle() {
    let sb = started(0.01);
    sb.set_faults(&["query:http503:0.5".into()], Some(7))
        .expect("set");
    sb.add_faults(&["notify:duplicate:1".into()]).expect("add");
    let (rules, seed) = sb.faults().expect("faults");
    assert_eq!(rules, ["query:http503:0.5", "notify:duplicate:1"]);
    assert_eq!(seed, 7);
    assert_eq!(
        config_field(sb.add_faults(&["x".into()]).expect_err("bad rule")),
        "faults[0]"
    );
    assert!(!sb.is_closed());
    sb.close();
    sb.close();
    assert!(sb.is_closed());
    let e = sb.ledger().expect_err("closed");
    assert!(matches!(e, SandboxError::Closed), "{e:?}");
    assert_eq!(e.status(), 410);
}

#[test]
fn wait_for_state_returns_the_order_once_paid() {
    let sb = std::sync::Arc::new(started(0.01));
    let cc = unique("kit");
    qr(&sb, &cc, None);
    let (sb2, cc2) = (sb.clone(), cc.clone());
    let payer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        sb2.pay(&cc2).expect("pay");
    });
    let o = sb
        .wait_for_state(&cc, &["Paid".into(), "6".into()], Duration::from_secs(5))
        .expect("paid");
    assert_eq!(o.state, Some(1));
    payer.join().expect("payer");
    // Not reached in time: a Timeout naming the state it is in.
    let other = unique("kit");
    qr(&sb, &other, None);
    let t = Instant::now();
    let e = sb
        .wait_for_state(&other, &["Cancelled".into()], Duration::from_millis(60))
        .expect_err("times out");
    assert!(t.elapsed() >= Duration::from_millis(60));
    assert_eq!(e.status(), 408);
    assert!(e.to_string().contains("not in Cancelled"), "{e}");
    assert!(e.to_string().contains("AwaitingPayment"), "{e}");
    let e = sb
        .wait_for_state("never-seen", &["Paid".into()], Duration::ZERO)
        .expect_err("no such order");
    assert!(e.to_string().contains("no such order"), "{e}");
    assert_eq!(
        config_field(
            sb.wait_for_state(&cc, &["Sleeping".into()], Duration::ZERO)
                .expect_err("bad state")
        ),
        "states[0]"
    );
    assert_eq!(
        config_field(
            sb.wait_for_state(&cc, &[], Duration::ZERO)
                .expect_err("no state")
        ),
        "states"
    );
}

#[test]
fn wait_for_notifications_counts_accepted_or_made_attempts() {
    let sb = started(0.01);
    // The merchant refuses the first attempt and accepts the second.
    let recv = Receiver::start(|i, _| if i == 0 { 503 } else { 200 });
    let cc = unique("kitn");
    qr(&sb, &cc, Some(&recv.url));
    sb.pay(&cc).expect("pay");
    let made = sb
        .wait_for_notification(Some(&cc), 1, false, Duration::from_secs(5))
        .expect("one made");
    assert!(!made.is_empty());
    let accepted = sb
        .wait_for_notification(Some(&cc), 1, true, Duration::from_secs(5))
        .expect("one accepted");
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].http_status, Some(200));
    assert_eq!(accepted[0].attempt, 2);
    // Two accepted never come: the timeout lists the attempts seen.
    let e = sb
        .wait_for_notification(Some(&cc), 2, true, Duration::from_millis(200))
        .expect_err("times out");
    let m = e.to_string();
    assert!(m.contains("no 2 accepted notification(s) for"), "{m}");
    assert!(
        m.contains("#1 HTTP 503") && m.contains("#2 HTTP 200"),
        "{m}"
    );
    // Another order's attempts do not count.
    let e = sb
        .wait_for_notification(Some("other"), 1, false, Duration::ZERO)
        .expect_err("none for it");
    assert!(matches!(e, SandboxError::Timeout { .. }), "{e:?}");
    // Closing while waiting ends the wait.
    let sb = std::sync::Arc::new(sb);
    let waiter = {
        let sb = sb.clone();
        std::thread::spawn(move || {
            sb.wait_for_notification(None, 99, true, Duration::from_secs(30))
        })
    };
    std::thread::sleep(Duration::from_millis(30));
    sb.close();
    let r = waiter.join().expect("waiter");
    assert!(matches!(r, Err(SandboxError::Closed)), "{r:?}");
}

#[test]
fn the_kits_merchant_and_keys_come_from_the_handle() {
    let sb = started(1.0);
    assert_eq!(
        sb.merchant(),
        (TEST_BUSI_ID.to_owned(), TEST_KEY.to_owned())
    );
    assert_eq!(
        sb.key_of(TEST_BUSI_ID).expect("open").as_deref(),
        Some(TEST_KEY)
    );
    assert_eq!(sb.key_of("0020000002").expect("open"), None);
    let other = "A".repeat(32);
    sb.add_merchant("0020000002", &other).expect("added");
    assert_eq!(
        sb.key_of("0020000002").expect("open").as_deref(),
        Some(other.as_str())
    );
    sb.add_merchant(TEST_BUSI_ID, &other).expect("re-keyed");
    assert_eq!(sb.merchant(), (TEST_BUSI_ID.to_owned(), other.clone()));
    // A bad merchant names the argument at fault, as the client's options do.
    for (busi, key, field) in [("", other.as_str(), "busi_code"), ("0050000005", "", "key")] {
        match sb.add_merchant(busi, key) {
            Err(SandboxError::Config { field: f, reason }) => {
                assert_eq!(f, field, "{reason}");
                assert!(!reason.contains("invalid"), "{reason}");
            }
            other => panic!("{busi:?}/{key:?}: {other:?}"),
        }
    }
    assert_eq!(sb.key_of("0050000005").expect("open"), None);
    sb.close();
    // A refused registration changes nothing.
    assert!(sb.add_merchant("0030000003", &other).is_err());
    assert!(matches!(sb.key_of("0030000003"), Err(SandboxError::Closed)));

    let bad = SandboxHandle::start(&KitOptions {
        merchants: vec![("0040000004".into(), String::new())],
        ..KitOptions::default()
    });
    match bad {
        Err(SandboxError::Config { field, reason }) => {
            assert_eq!(
                (field.as_str(), reason.as_str()),
                ("merchants", "invalid key: the merchant key is empty")
            );
        }
        other => panic!("{:?}", other.err()),
    }

    let own = SandboxHandle::start(&KitOptions {
        merchants: vec![("0040000004".into(), "B".repeat(32))],
        ..KitOptions::default()
    })
    .expect("starts");
    assert_eq!(own.merchant(), ("0040000004".to_owned(), "B".repeat(32)));
    assert_eq!(own.key_of(TEST_BUSI_ID).expect("open"), None);
    own.close();
    // Closed: the kits' client() asks for the key, and learns at once.
    assert!(matches!(
        own.key_of("0040000004"),
        Err(sosopay_sandbox::SandboxError::Closed)
    ));
}

#[test]
fn the_documented_defaults_are_the_defaults() {
    // KitOptions' field docs (which every kit's options show) state these.
    let d = KitOptions::default();
    assert_eq!(d.time_scale, 1.0);
    assert_eq!(d.seed, 0);
    assert!(d.faults.is_empty() && d.merchants.is_empty());
    assert_eq!(d.host, "127.0.0.1");
    assert_eq!(d.port, 0);
    assert_eq!(d.max_request_age, None);
    // A wait without a timeout waits the kit's default.
    let unset =
        sosopay_sandbox::kit::timeout("timeoutMs", None, TimeUnit::Milliseconds).expect("default");
    assert_eq!(unset, sosopay_sandbox::kit::DEFAULT_WAIT);
    assert_eq!(unset, Duration::from_secs(5));
    let given =
        sosopay_sandbox::kit::timeout("timeout", Some(0.25), TimeUnit::Seconds).expect("given");
    assert_eq!(given, Duration::from_millis(250));
}

#[test]
fn the_gateway_hold_covers_the_late_faults_in_force_and_settles_a_late_payment() {
    use sosopay::models::MicropayRequest;
    use sosopay::{OutcomeStatus, WaitOptions};
    use sosopay_sandbox::codes;

    let sb = started(0.01);
    assert_eq!(sb.micropay_hold(), Duration::from_millis(800));
    assert_eq!(sb.gateway_hold(), Duration::from_millis(800));
    sb.set_faults(
        &["preOrder:late:1:1500".into(), "query:late:0.1:200".into()],
        None,
    )
    .expect("set");
    assert_eq!(sb.gateway_hold(), Duration::from_millis(2300));

    // The tester's case: the micropay reaches the gateway 1.5 s late, long after the client
    // (300 ms micropay timeout) gave up on it. With the kit's hold the flow waits for it and
    // ends Paid; with the scaled hold alone it says FAILED for a customer who is charged.
    let mut config = ClientConfig::new(TEST_BUSI_ID, TEST_KEY, sb.base_url()).expect("config");
    config.micropay_timeout = Duration::from_millis(300);
    config.default_oper_id = Some("cashier-1".into());
    config.default_dev_id = Some("till-1".into());
    let client = Client::new(config).expect("client");
    let pay = |cc: &str, gateway_hold: Duration| {
        let req = MicropayRequest::new(
            cc,
            Amount::from_fen(100).expect("amount"),
            codes::PAY_NOW,
            "x",
        );
        let opts = WaitOptions {
            deadline: Duration::from_millis(300),
            poll_interval: Duration::from_millis(50),
            gateway_hold,
            ..WaitOptions::default()
        };
        client.micropay_and_wait(&req, &opts).expect("an outcome")
    };
    let (late, short) = (unique("LATE"), unique("SHORT"));
    let out = pay(&late, sb.gateway_hold());
    assert_eq!(out.status, OutcomeStatus::Paid, "{out:?}");
    let out = pay(&short, sb.micropay_hold());
    assert_eq!(
        out.status,
        OutcomeStatus::Failed,
        "the scaled hold alone: {out:?}"
    );
    let charged = sb
        .wait_for_state(&short, &["Paid".into()], Duration::from_secs(5))
        .expect("the late request is carried out all the same");
    assert_eq!(charged.amount_fen, 100);

    sb.set_faults(&[], None).expect("clear");
    assert_eq!(sb.gateway_hold(), Duration::from_millis(800));
    sb.close();
    assert_eq!(
        sb.gateway_hold(),
        Duration::from_millis(800),
        "closed: the scaled hold"
    );
}
