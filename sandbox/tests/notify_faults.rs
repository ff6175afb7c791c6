//! Payment notifications (retry schedule, formats, signatures) and fault injection.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{eventually, unique, Gw, Mode, Receiver};
use sosopay::codec::Document;
use sosopay::envelope::verify_body;
use sosopay::models::Notification;
use sosopay_sandbox::{FaultKind, FaultRule, Operation, SandboxConfig};

const JSON: Mode = Mode {
    json: true,
    encrypt: false,
    xml_body: false,
};

fn qr_with_notify(gw: &Gw, cc: &str, url: &str) {
    let mut f = common::order_fields(cc, "0.01", "2");
    f.push(("NODIFY_URL", url));
    assert_eq!(gw.post("order", &f, JSON).code(), "SUCCESS");
}

fn attempts(gw: &Gw, cc: &str) -> Vec<serde_json::Value> {
    gw.sb.ledger_json()["notifications"]
        .as_array()
        .expect("notifications")
        .iter()
        .filter(|n| n["charge_code"] == cc)
        .cloned()
        .collect()
}

#[test]
fn notification_retry_schedule_500_500_200_is_three_attempts() {
    // 5 s between attempts become 50 ms.
    let gw = Gw::start(0.01);
    let key = gw.env.key().clone();
    let recv = Receiver::start(move |i, hit| {
        // Every attempt is correctly signed over the plaintext body.
        let body = String::from_utf8(hit.body.clone()).expect("utf-8");
        assert!(verify_body(&key, &hit.sign(), &body).is_ok(), "signature");
        if i < 2 {
            500
        } else {
            200
        }
    });
    let cc = unique("ntf");
    qr_with_notify(&gw, &cc, &recv.url);
    gw.sb.pay(&cc).expect("pay");
    let att = eventually(Duration::from_secs(5), || {
        let a = attempts(&gw, &cc);
        (a.len() == 3).then_some(a)
    });
    // Nothing more comes after the 200.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(attempts(&gw, &cc).len(), 3);
    assert_eq!(recv.hits().len(), 3);
    let statuses: Vec<_> = att.iter().map(|a| a["http_status"].as_u64()).collect();
    assert_eq!(statuses, [Some(500), Some(500), Some(200)]);
    let numbers: Vec<_> = att.iter().map(|a| a["attempt"].as_u64()).collect();
    assert_eq!(numbers, [Some(1), Some(2), Some(3)]);
    let hits = recv.hits();
    for w in hits.windows(2) {
        let gap = w[1].at.duration_since(w[0].at);
        assert!(
            gap >= Duration::from_millis(45),
            "5 s × 0.01 apart: {gap:?}"
        );
    }
    // The default format is XML, unencrypted.
    let body = String::from_utf8(hits[0].body.clone()).expect("utf-8");
    assert!(body.starts_with("<?xml"), "{body}");
    let n = Notification::decode(&body).expect("PAY_NODIFY");
    assert_eq!(n.order.charge_code.as_deref(), Some(cc.as_str()));
    assert_eq!(n.order.state, Some(sosopay::OrderState::Paid));
    assert_eq!(n.order.amount.map(|a| a.fen()), Some(1));
    assert_eq!(att[0]["format"], "xml");
}

#[test]
fn notifications_honour_type_and_encrypt_and_give_up_after_30() {
    let gw = Gw::start(0.001);
    // JSON + 3DES, accepted at once; also a micropay notifies.
    let recv = Receiver::start(|_, _| 200);
    let cc = unique("ntf");
    let url = format!("{}?_type=json&encrypt=3DES", recv.url);
    let mut f = common::micropay_fields(&cc, "0.02", "284214903060794755", "0");
    f.retain(|(k, _)| *k != "NODIFY_URL");
    f.push(("NODIFY_URL", &url));
    assert_eq!(gw.post("preOrder", &f, JSON).state().as_deref(), Some("1"));
    eventually(Duration::from_secs(5), || {
        (recv.hits().len() == 1).then_some(())
    });
    let hit = &recv.hits()[0];
    assert!(hit
        .path_and_query
        .starts_with("/notify?_type=json&encrypt=3DES&sign="));
    let plain = gw
        .env
        .decrypt_to_string(std::str::from_utf8(&hit.body).expect("base64"))
        .expect("decrypts with the merchant key");
    verify_body(gw.env.key(), &hit.sign(), &plain).expect("signed over the plaintext");
    let doc = Document::parse(&plain).expect("json");
    assert!(doc.root.get("PAY_NODIFY").is_some(), "{plain}");
    let n = Notification::decode(&plain).expect("PAY_NODIFY");
    assert_eq!(n.order.channel, Some(sosopay::Channel::Alipay));
    eventually(Duration::from_secs(2), || {
        (attempts(&gw, &cc).len() == 1).then_some(())
    });
    assert_eq!(attempts(&gw, &cc)[0]["encrypted"], true);

    // A receiver that always fails: exactly 30 attempts, then the gateway gives up.
    let down = Receiver::start(|_, _| 503);
    let cc = unique("ntf");
    qr_with_notify(&gw, &cc, &down.url);
    gw.sb.pay(&cc).expect("pay");
    eventually(Duration::from_secs(10), || {
        (attempts(&gw, &cc).len() == 30).then_some(())
    });
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(attempts(&gw, &cc).len(), 30);
    assert_eq!(down.hits().len(), 30);

    // An unreachable URL: every attempt records the error.
    let cc = unique("ntf");
    qr_with_notify(&gw, &cc, "http://127.0.0.1:9/nothing");
    gw.sb.pay(&cc).expect("pay");
    let a = eventually(Duration::from_secs(20), || {
        let a = attempts(&gw, &cc);
        (a.len() == 30).then_some(a)
    });
    assert!(a
        .iter()
        .all(|x| x["http_status"].is_null() && x["error"].is_string()));
}

#[test]
fn notification_faults_bad_sign_and_duplicates() {
    let gw = Gw::with_config(SandboxConfig {
        time_scale: 0.001,
        seed: 3,
        faults: vec!["notify:bad_sign:0.5".parse().expect("rule")],
        ..SandboxConfig::default()
    });
    let key = gw.env.key().clone();
    // A merchant that verifies: 400 on a bad signature, 200 on a good one.
    let recv = Receiver::start(move |_, hit| {
        let body = String::from_utf8(hit.body.clone()).expect("utf-8");
        if verify_body(&key, &hit.sign(), &body).is_ok() {
            200
        } else {
            400
        }
    });
    let mut bad_seen = 0;
    for _ in 0..6 {
        let cc = unique("bs");
        qr_with_notify(&gw, &cc, &recv.url);
        gw.sb.pay(&cc).expect("pay");
        let a = eventually(Duration::from_secs(5), || {
            let a = attempts(&gw, &cc);
            (a.last().is_some_and(|l| l["http_status"] == 200)).then_some(a)
        });
        for x in &a[..a.len() - 1] {
            assert_eq!(x["fault"], "bad_sign");
            assert_eq!(x["http_status"], 400);
            bad_seen += 1;
        }
        assert!(a[a.len() - 1]["fault"].is_null());
    }
    assert!(
        bad_seen > 0,
        "with p=0.5 over 6 orders some signatures are bad"
    );
    let injected = &gw.sb.ledger_json()["faults"]["injected"]["notify:bad_sign"];
    assert_eq!(injected.as_u64(), Some(bad_seen));

    // Duplicates: the accepted notification comes twice.
    gw.sb.set_faults(vec![FaultRule::new(
        Operation::Notify,
        FaultKind::Duplicate,
        1.0,
    )
    .expect("rule")]);
    let dup = Receiver::start(|_, _| 200);
    let cc = unique("dup");
    qr_with_notify(&gw, &cc, &dup.url);
    gw.sb.pay(&cc).expect("pay");
    let a = eventually(Duration::from_secs(5), || {
        let a = attempts(&gw, &cc);
        (a.len() == 2).then_some(a)
    });
    assert_eq!(a[0]["duplicate"], false);
    assert_eq!(a[1]["duplicate"], true);
    assert_eq!(a[1]["attempt"], 1);
    let hits = dup.hits();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].body, hits[1].body);
}

/// What the client saw: status and body, or a transport error.
fn try_query(gw: &Gw, code: &str) -> Result<(u16, Vec<u8>), String> {
    let ts = sosopay::envelope::now_millis().to_string();
    let sign = sosopay::envelope::sign_query(gw.env.key(), &ts, code).expect("sign");
    let url = format!(
        "{}query/{code}/{}?sign={sign}&_type=json",
        gw.sb.base_url(),
        gw.busi
    );
    let mut r = gw.agent.get(&url).call().map_err(|e| e.to_string())?;
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_vec().map_err(|e| e.to_string())?;
    Ok((status, body))
}

fn outcome(r: &Result<(u16, Vec<u8>), String>) -> String {
    match r {
        Err(_) => "transport-error".into(),
        Ok((s, _)) if *s != 200 => format!("{s}"),
        Ok((s, b)) => match Document::parse(&String::from_utf8_lossy(b)) {
            Ok(_) => format!("{s}"),
            Err(_) => format!("{s}-undecodable"),
        },
    }
}

#[test]
fn gateway_faults_each_kind() {
    let gw = Gw::start(0.01);
    let set = |rules: &[&str]| gw.set_faults(rules);

    // drop: no reply, nothing processed.
    set(&["preOrder:drop:1"]);
    let cc = unique("f");
    let body = common::json_body(&common::micropay_fields(
        &cc,
        "1",
        "130730865806264036",
        "0",
    ));
    let ts = sosopay::envelope::now_millis().to_string();
    let sign = gw.env.sign_body(&ts, &body).expect("sign");
    let url = format!("{}preOrder?sign={sign}&_type=json", gw.sb.base_url());
    let post = || {
        gw.agent
            .post(&url)
            .send(body.as_bytes())
            .and_then(|mut r| Ok((r.status().as_u16(), r.body_mut().read_to_vec()?)))
    };
    assert!(post().is_err(), "connection dropped");
    assert!(gw.sb.order(&cc).is_none(), "not processed");

    // drop_reply: no reply, but the customer paid.
    set(&["preOrder:drop_reply:1"]);
    assert!(post().is_err(), "reply dropped");
    assert_eq!(gw.ledger_order(&cc)["state"], 1, "processed: money moved");
    set(&[]);
    let (s, b) = post().expect("reply");
    assert_eq!(s, 200);
    assert!(String::from_utf8_lossy(&b).contains("SERIAL_REPEAT"));

    // http502 before processing; http503 after processing.
    let cc2 = unique("f");
    set(&["order:http502:1"]);
    let mut f = common::order_fields(&cc2, "1", "2");
    let r = gw.send(
        "POST",
        &{
            let body = common::json_body(&f);
            let sign = gw
                .env
                .sign_body(&sosopay::envelope::now_millis().to_string(), &body)
                .expect("sign");
            format!("{}order?sign={sign}&_type=json", gw.sb.base_url())
        },
        common::json_body(&f).as_bytes(),
        false,
    );
    assert_eq!(r.status, 502);
    assert!(gw.sb.order(&cc2).is_none());
    set(&["order:http503:1:after"]);
    f.push(("REGISTER_ID", "s1"));
    let r = gw.post("order", &f, JSON);
    assert_eq!(r.status, 503);
    assert_eq!(
        gw.ledger_order(&cc2)["state"],
        0,
        "processed before the 503"
    );

    // delay, garble, truncate on query.
    set(&["query:delay:1:300"]);
    let t = Instant::now();
    assert_eq!(outcome(&try_query(&gw, &cc)), "200");
    assert!(t.elapsed() >= Duration::from_millis(290));
    set(&["query:garble:1"]);
    assert_eq!(outcome(&try_query(&gw, &cc)), "200-undecodable");
    set(&["query:truncate:1"]);
    let r = try_query(&gw, &cc);
    assert_eq!(outcome(&r), "200-undecodable");
    set(&[]);
    let full = try_query(&gw, &cc).expect("reply").1;
    assert_eq!(r.expect("reply").1.len(), full.len() / 2);

    // "*" covers every gateway operation.
    set(&["*:http500:1"]);
    assert_eq!(outcome(&try_query(&gw, &cc)), "500");
    assert_eq!(gw.cancel(&cc, false, JSON).status, 500);

    let injected = &gw.sb.ledger_json()["faults"]["injected"];
    assert_eq!(injected["preOrder:drop"], 1);
    assert_eq!(injected["preOrder:drop_reply"], 1);
    assert_eq!(injected["order:http502"], 1);
    assert_eq!(injected["order:http503"], 1);
    assert_eq!(injected["query:delay"], 1);
    assert_eq!(injected["query:garble"], 1);
    assert_eq!(injected["query:truncate"], 1);
    assert_eq!(injected["query:http500"], 1);
    assert_eq!(injected["cancelTrade:http500"], 1);
    let events = gw.sb.ledger_json()["faults"]["events"].clone();
    assert_eq!(
        events[0]["charge_code"],
        cc.as_str(),
        "events name the order"
    );
}

#[test]
fn fault_injection_is_deterministic_under_the_seed() {
    let rules: Vec<FaultRule> = ["query:drop:0.2", "query:http503:0.2", "query:garble:0.2"]
        .iter()
        .map(|r| r.parse().expect("rule"))
        .collect();
    let run = |seed: u64| {
        let gw = Gw::with_config(SandboxConfig {
            seed,
            faults: rules.clone(),
            ..SandboxConfig::default()
        });
        let pattern: Vec<String> = (0..40).map(|_| outcome(&try_query(&gw, "x1"))).collect();
        // Setting the same rules again restarts the sequence.
        gw.sb.set_faults(rules.clone());
        let again: Vec<String> = (0..40).map(|_| outcome(&try_query(&gw, "x1"))).collect();
        assert_eq!(pattern, again, "same seed, same sequence");
        pattern
    };
    let a = run(11);
    let b = run(11);
    let c = run(12);
    assert_eq!(a, b);
    assert_ne!(a, c, "another seed gives another sequence");
    for kind in ["transport-error", "503", "200-undecodable", "200"] {
        assert!(a.iter().any(|o| o == kind), "{kind} in {a:?}");
    }

    // Concurrent clients: the number of faults per operation is still fixed by the seed.
    let counts = |seed: u64| {
        let gw = Gw::with_config(SandboxConfig {
            seed,
            faults: rules.clone(),
            ..SandboxConfig::default()
        });
        let done = Arc::new(AtomicUsize::new(0));
        std::thread::scope(|s| {
            for _ in 0..4 {
                let (gw, done) = (&gw, done.clone());
                s.spawn(move || {
                    for _ in 0..10 {
                        let _ = try_query(gw, "x1");
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        assert_eq!(done.load(Ordering::Relaxed), 40);
        gw.sb.ledger_json()["faults"]["injected"].clone()
    };
    assert_eq!(counts(11), counts(11));
}

/// A signed micropay POST of `cc` (a code that pays at once), as URL and body, for raw clients.
fn micropay_request(gw: &Gw, cc: &str) -> (String, String) {
    let body = common::json_body(&common::micropay_fields(
        cc,
        "0.01",
        "130730865806264036",
        "0",
    ));
    let ts = sosopay::envelope::now_millis().to_string();
    let sign = gw.env.sign_body(&ts, &body).expect("sign");
    let url = format!("{}preOrder?sign={sign}&_type=json", gw.sb.base_url());
    (url, body)
}

#[test]
fn late_request_is_processed_after_the_client_gave_up() {
    let gw = Gw::start(0.01);
    let set = |rules: &[&str]| gw.set_faults(rules);

    // The client waits 500 ms; the request "arrives" 1.5 s after it was sent.
    set(&["preOrder:late:1:1500"]);
    let cc = unique("late");
    let (url, body) = micropay_request(&gw, &cc);
    let impatient = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_millis(500)))
            .build(),
    );
    let sent = Instant::now();
    let r = impatient
        .post(&url)
        .header("Content-Type", "application/json;charset=UTF-8")
        .send(body.as_bytes());
    let gave_up = sent.elapsed();
    assert!(r.is_err(), "the client times out: {r:?}");
    assert!(gave_up < Duration::from_millis(1400), "{gave_up:?}");
    assert!(gw.sb.order(&cc).is_none(), "not processed yet");
    // The client has closed its connection; the request is still processed, ~1.5 s after it
    // was sent.
    let order = eventually(Duration::from_secs(5), || gw.sb.order(&cc));
    let found = sent.elapsed();
    assert!(found >= Duration::from_millis(1450), "{found:?}");
    assert_eq!(order.state, Some(1), "the customer paid");
    set(&[]);
    let q = gw.query(&cc, "0", JSON);
    assert_eq!(q.code(), "SUCCESS");
    assert_eq!(q.state().as_deref(), Some("1"));

    // A patient client gets the reply after the wait.
    set(&["preOrder:late:1:300"]);
    let cc2 = unique("late");
    let t = Instant::now();
    let r = gw.micropay(&cc2, "0.01", "130730865806264036", JSON);
    assert!(t.elapsed() >= Duration::from_millis(290));
    assert_eq!((r.status, r.code()), (200, "SUCCESS".to_owned()));
    assert_eq!(r.state().as_deref(), Some("1"));

    // Reset during the wait: the request is lost (no reply, nothing processed).
    set(&["preOrder:late:1:400"]);
    let cc3 = unique("late");
    let (url, body) = micropay_request(&gw, &cc3);
    std::thread::scope(|s| {
        let h = s.spawn(|| gw.agent.post(&url).send(body.as_bytes()).map(|_| ()));
        std::thread::sleep(Duration::from_millis(150));
        gw.sb.reset();
        assert!(h.join().expect("thread").is_err(), "no reply");
    });
    std::thread::sleep(Duration::from_millis(100));
    assert!(gw.sb.order(&cc3).is_none());
    // The late fault was recorded when the request arrived; the reset cleared the events.
    let events = gw.sb.ledger_json()["faults"]["events"].clone();
    assert_eq!(events.as_array().map(Vec::len), Some(0));
}

#[test]
fn reply_shaping_faults_omit_wrong_root_list_state_foreign_code() {
    let gw = Gw::start(0.01);
    let set = |rules: &[&str]| gw.set_faults(rules);
    let code = "130730865806264036";

    // omit: processed, the field is gone (every format, plain and 3DES).
    set(&["preOrder:omit:1:STATE"]);
    let mut paid = Vec::new();
    for mode in common::MODES {
        let cc = unique("omit");
        let r = gw.micropay(&cc, "0.01", code, mode);
        assert_eq!(r.code(), "SUCCESS", "{mode:?}: {}", r.text);
        assert_eq!(r.state(), None, "{mode:?}: {}", r.text);
        assert!(!r.text.contains("STATE"), "{mode:?}: {}", r.text);
        assert_eq!(r.field("CHARGE_CODE").as_deref(), Some(cc.as_str()));
        assert_eq!(gw.ledger_order(&cc)["state"], 1, "processed");
        paid.push(cc);
    }
    set(&["query:omit:1:amt"]);
    let q = gw.query(&paid[0], "0", JSON);
    assert_eq!(q.code(), "SUCCESS");
    assert!(!q.text.contains("\"AMT\""), "{}", q.text);
    assert_eq!(q.state().as_deref(), Some("1"));

    // wrong_root: another operation's root element.
    set(&["preOrder:wrong_root:1"]);
    let cc = unique("root");
    let r = gw.micropay(&cc, "0.01", code, JSON);
    assert!(r.text.starts_with("{\"REFUND_RESP\":{"), "{}", r.text);
    assert!(!r.text.contains("ORDER_RESP"), "{}", r.text);
    assert_eq!(r.code(), "SUCCESS");
    assert_eq!(gw.ledger_order(&cc)["state"], 1, "processed");
    set(&["refund:wrong_root:1"]);
    let xml = common::MODES[1];
    let r = gw.refund(&cc, "0.01", &unique("rf"), xml);
    assert!(r.text.contains("<QUERY_RESP>"), "{}", r.text);
    assert!(!r.text.contains("REFUND_RESP"), "{}", r.text);
    assert_eq!(r.code(), "SUCCESS");
    assert_eq!(gw.ledger_order(&cc)["state"], 5, "fully refunded");

    // list_state: STATE is a list, not a scalar.
    set(&["preOrder:list_state:1", "query:list_state:1"]);
    let cc = unique("list");
    let r = gw.micropay(&cc, "0.01", code, JSON);
    let v: serde_json::Value = serde_json::from_str(&r.text).expect("JSON");
    assert_eq!(v["ORDER_RESP"]["STATE"], serde_json::json!(["1"]), "{v}");
    assert_eq!(r.state(), None, "not a scalar");
    let q = gw.query(&cc, "0", xml);
    assert_eq!(q.code(), "SUCCESS");
    assert_eq!(q.text.matches("<STATE>1</STATE>").count(), 2, "{}", q.text);
    match q.body().get("STATE") {
        Some(sosopay::codec::Node::List(items)) => assert_eq!(items.len(), 2),
        other => panic!("STATE is {other:?} in {}", q.text),
    }
    let q = gw.query(&cc, "0", common::MODES[2]);
    let v: serde_json::Value = serde_json::from_str(&q.text).expect("JSON");
    assert_eq!(v["QUERY_RESP"]["STATE"], serde_json::json!(["1"]), "{v}");

    // foreign_code: the reply names another order; this one is processed.
    set(&["preOrder:foreign_code:1", "query:foreign_code:1"]);
    let cc = unique("foreign");
    let r = gw.micropay(&cc, "0.01", code, JSON);
    assert_eq!(r.code(), "SUCCESS", "{}", r.text);
    assert_eq!(
        r.field("CHARGE_CODE").as_deref(),
        Some(format!("{cc}-OTHER").as_str())
    );
    assert_eq!(gw.ledger_order(&cc)["state"], 1, "processed");
    let q = gw.query(&cc, "0", xml);
    assert_eq!(q.code(), "SUCCESS", "{}", q.text);
    assert_eq!(
        q.field("CHARGE_CODE").as_deref(),
        Some(format!("{cc}-OTHER").as_str())
    );

    let injected = &gw.sb.ledger_json()["faults"]["injected"];
    assert_eq!(injected["preOrder:foreign_code"], 1);
    assert_eq!(injected["query:foreign_code"], 1);
    assert_eq!(injected["preOrder:omit"], 4);
    assert_eq!(injected["query:omit"], 1);
    assert_eq!(injected["preOrder:wrong_root"], 1);
    assert_eq!(injected["refund:wrong_root"], 1);
    assert_eq!(injected["preOrder:list_state"], 1);
    assert_eq!(injected["query:list_state"], 2);
}

#[test]
fn stale_reversal_pays_reverses_and_lags() {
    let gw = Gw::start(0.01);
    // A customer still confirming: the order awaits payment.
    let waiting = "130000000000005000";
    gw.set_faults(&["cancelTrade:stale_reversal:1:300"]);
    let cc = unique("stale");
    let r = gw.micropay(&cc, "0.01", waiting, JSON);
    assert_eq!(r.state().as_deref(), Some("0"), "{}", r.text);
    let c = gw.cancel(&cc, false, JSON);
    assert_eq!(c.code(), "SUCCESS", "{}", c.text);
    // Paid as the cancel arrived, then reversed: the ledger shows the truth...
    let o = gw.ledger_order(&cc);
    assert_eq!(o["state"], 2, "{o}");
    assert!(o["paid_at_ms"].is_u64(), "it was paid first: {o}");
    // ...while queries lag behind it, then catch up.
    assert_eq!(gw.query(&cc, "0", JSON).state().as_deref(), Some("1"));
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(gw.query(&cc, "0", JSON).state().as_deref(), Some("2"));
    // A huge lag is "for good", not an overflow.
    gw.set_faults(&["cancelTrade:stale_reversal:1:18446744073709551615"]);
    let cc = unique("stale");
    gw.micropay(&cc, "0.01", waiting, JSON);
    assert_eq!(gw.cancel(&cc, false, JSON).code(), "SUCCESS");
    assert_eq!(gw.query(&cc, "0", JSON).state().as_deref(), Some("1"));
    let injected = &gw.sb.ledger_json()["faults"]["injected"];
    assert_eq!(injected["cancelTrade:stale_reversal"], 2);
}

#[test]
fn lag_shows_the_state_before_the_last_change_for_a_while() {
    let gw = Gw::start(0.01);
    let paying = "130730865806264036"; // pays at once
    let cc = unique("lag");
    assert_eq!(
        gw.micropay(&cc, "0.01", paying, JSON).state().as_deref(),
        Some("1")
    );
    // Paid just now: a lagging query shows it awaiting payment, in XML too...
    gw.set_faults(&["query:lag:1:1500"]);
    assert_eq!(gw.query(&cc, "0", JSON).state().as_deref(), Some("0"));
    let xml = Mode {
        json: false,
        ..JSON
    };
    assert_eq!(gw.query(&cc, "0", xml).state().as_deref(), Some("0"));
    // ...then catches up; a change that old is not lagged behind.
    std::thread::sleep(Duration::from_millis(1600));
    assert_eq!(gw.query(&cc, "0", JSON).state().as_deref(), Some("1"));
    // Reversed just now: the lagging query shows it paid; without the fault, cancelled.
    assert_eq!(gw.cancel(&cc, false, JSON).code(), "SUCCESS");
    assert_eq!(gw.query(&cc, "0", JSON).state().as_deref(), Some("1"));
    gw.set_faults(&[]);
    assert_eq!(gw.query(&cc, "0", JSON).state().as_deref(), Some("2"));
    // An order that never changed has nothing to lag behind; the ledger always shows the truth.
    gw.set_faults(&["query:lag:1:60000"]);
    let fresh = unique("lag");
    assert_eq!(
        gw.query(&fresh, "0", JSON).code(),
        "CHARGE_NONEXISTENT",
        "no order, no state"
    );
    assert_eq!(gw.ledger_order(&cc)["state"], 2);
    assert!("cancelTrade:lag:1".parse::<FaultRule>().is_err());
}
