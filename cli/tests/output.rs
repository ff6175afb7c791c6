//! What the operations print, run as a user would against a sandbox gateway: one JSON shape
//! per record (numbers for codes and amounts), `paid at` only for paid orders, exit statuses,
//! error hints, and a closed stdout.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use sosopay_sandbox::{Sandbox, SandboxConfig};

const BUSI: &str = "0010000001";
const KEY: &str = "98SDKFUO432HNODS098EEE07U9DUOIUE";
const PAY_NOW: &str = "130730865806264036";

fn command(args: &[&str], base_url: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sosopay"));
    cmd.args(args)
        .env_remove("SOSOPAY_BUSI_CODE")
        .env_remove("SOSOPAY_KEY")
        .env_remove("SOSOPAY_BASE_URL");
    if let Some(url) = base_url {
        cmd.env("SOSOPAY_BUSI_CODE", BUSI)
            .env("SOSOPAY_KEY", KEY)
            .env("SOSOPAY_BASE_URL", url);
    }
    cmd
}

fn run(args: &[&str], base_url: Option<&str>, stdin: &[u8]) -> Output {
    common::run_with_stdin(&mut command(args, base_url), stdin)
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8 stdout")
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&ok(out)).expect("JSON on stdout")
}

fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        time_scale: 0.02,
        ..SandboxConfig::default()
    })
    .expect("start sandbox")
}

/// The fields of an order, as `query --json` and `notify` print them.
fn order_fields(v: &Value) -> serde_json::Map<String, Value> {
    let mut m = v.as_object().expect("an object").clone();
    m.shift_remove("result");
    m.shift_remove("raw");
    m
}

fn assert_numbers(what: &str, o: &Value) {
    assert!(o["state"].is_u64(), "{what}: state {}", o["state"]);
    assert!(
        o["channel_type"].is_u64(),
        "{what}: channel_type {}",
        o["channel_type"]
    );
    assert!(
        o["amount_fen"].is_u64(),
        "{what}: amount_fen {}",
        o["amount_fen"]
    );
    for b in o["fund_bills"].as_array().expect("fund_bills") {
        assert!(b["amount_fen"].is_u64(), "{what}: {b}");
    }
}

#[test]
fn query_and_notify_print_one_order_shape_with_numbers() {
    let sb = sandbox();
    let url = sb.base_url();
    let url = Some(url.as_str());

    let paid = json(&run(
        &[
            "micropay",
            "--charge-code",
            "SHAPE-1",
            "--amount",
            "12.34",
            "--dynamic-id",
            PAY_NOW,
            "--subject",
            "shape",
            "--wait",
            "--json",
        ],
        url,
        b"",
    ));
    assert_eq!(paid["status"], "paid", "{paid}");
    assert_numbers("micropay --wait order", &paid["order"]);
    assert_eq!(paid["order"]["state"], 1);
    assert_eq!(paid["order"]["amount_fen"], 1234);

    let q = json(&run(&["query", "SHAPE-1", "--json"], url, b""));
    assert_eq!(q["result"]["code"], "SUCCESS");
    assert_numbers("query", &q);
    assert_eq!(q["state"], 1);
    assert_eq!(q["channel_type"], 2);
    assert_eq!(q["amount_fen"], 1234);
    assert_eq!(q["real_amount_fen"], 1234);
    assert_eq!(q["charge_code"], "SHAPE-1");
    assert_eq!(
        q["raw"]["QUERY_RESP"]["STATE"], "1",
        "raw stays as received"
    );
    assert_eq!(
        order_fields(&q),
        order_fields(&paid["order"]),
        "the order of micropay --wait has the query's shape"
    );

    // The order named as `refund` names it: --charge-code, or the gateway's --charge-down-code.
    let by_flag = json(&run(
        &["query", "--charge-code", "SHAPE-1", "--json"],
        url,
        b"",
    ));
    assert_eq!(order_fields(&by_flag), order_fields(&q));
    let down = q["charge_down_code"].as_str().expect("charge_down_code");
    let by_down = json(&run(
        &["query", "--charge-down-code", down, "--json"],
        url,
        b"",
    ));
    assert_eq!(order_fields(&by_down), order_fields(&q));
    for both in [
        &["query", "SHAPE-1", "--charge-code", "SHAPE-1"][..],
        &["query", "--charge-code", "SHAPE-1", "--ser-type", "1"][..],
        &["query"][..],
        &["cancel", "SHAPE-1", "--charge-code", "SHAPE-1"][..],
        &["cancel"][..],
    ] {
        let out = run(both, url, b"");
        assert_eq!(out.status.code(), Some(2), "{both:?}: a usage error");
    }

    // The same order as a notification: the fields of the query, minus RESULT.
    let mut fields = q["raw"]["QUERY_RESP"]
        .as_object()
        .expect("QUERY_RESP")
        .clone();
    fields.shift_remove("RESULT");
    let body = serde_json::json!({ "PAY_NODIFY": fields }).to_string();
    let key = sosopay::MerchantKey::new(KEY).expect("key");
    let ts = sosopay::envelope::now_millis().to_string();
    let sign = sosopay::envelope::sign_body(&key, &ts, &body).expect("sign");
    let n = json(&run(
        &[
            "notify",
            "--key",
            KEY,
            "--query",
            &format!("_type=json&sign={sign}"),
        ],
        None,
        body.as_bytes(),
    ));
    assert_numbers("notify", &n);
    // Restricted to one merchant: this one's is accepted; another merchant's is refused, and
    // the error names the field as the command spells it when the code is invalid.
    let notify_as = |busi: &str| {
        let query = format!("_type=json&sign={sign}");
        run(
            &[
                "notify",
                "--key",
                KEY,
                "--query",
                &query,
                "--busi-code",
                busi,
            ],
            None,
            body.as_bytes(),
        )
    };
    assert_eq!(json(&notify_as(BUSI))["busi_id"], BUSI);
    let other = notify_as("0010000002");
    let err = String::from_utf8_lossy(&other.stderr);
    assert!(!other.status.success(), "{err}");
    assert!(
        err.contains(r#"BUSI_ID "0010000001", not "0010000002""#),
        "{err}"
    );
    let invalid = notify_as("a/b");
    let err = String::from_utf8_lossy(&invalid.stderr);
    assert!(
        !invalid.status.success() && err.contains("--busi-code"),
        "{err}"
    );
    assert!(n["raw"]["PAY_NODIFY"].is_object());
    let (qf, nf) = (order_fields(&q), order_fields(&n));
    assert_eq!(
        qf.keys().collect::<Vec<_>>(),
        nf.keys().collect::<Vec<_>>(),
        "query and notify print the same fields, in the same order"
    );
    assert_eq!(qf, nf, "the same order prints the same JSON");

    // The other replies use the same names and types.
    let r = json(&run(
        &[
            "refund",
            "--charge-code",
            "SHAPE-1",
            "--refund-no",
            "SHAPE-R1",
            "--amount",
            "1.00",
            "--json",
        ],
        url,
        b"",
    ));
    assert!(r["state"].is_u64(), "{r}");
    assert!(r["channel_type"].is_u64(), "{r}");
    assert!(r.get("channel").is_none(), "{r}");
    let o = json(&run(
        &[
            "order",
            "--charge-code",
            "SHAPE-2",
            "--amount",
            "1.00",
            "--subject",
            "qr",
            "--json",
        ],
        url,
        b"",
    ));
    assert_eq!(o["state"], 0, "{o}");
    assert_eq!(o["channel_type"], 2, "{o}");
    assert_eq!(o["amount_fen"], 100, "{o}");
}

#[test]
fn paid_at_only_for_paid_orders() {
    let sb = sandbox();
    let url = sb.base_url();
    let url = Some(url.as_str());
    // A QR order awaiting payment, then cancelled: never paid.
    ok(&run(
        &[
            "order",
            "--charge-code",
            "PAIDAT-QR",
            "--amount",
            "2.00",
            "--subject",
            "qr",
        ],
        url,
        b"",
    ));
    let text = ok(&run(&["query", "PAIDAT-QR"], url, b""));
    assert!(text.contains("AwaitingPayment (0)"), "{text}");
    assert!(text.contains("created at"), "{text}");
    assert!(!text.contains("paid at"), "{text}");
    ok(&run(&["cancel", "PAIDAT-QR"], url, b""));
    let text = ok(&run(&["query", "PAIDAT-QR"], url, b""));
    assert!(text.contains("Cancelled (2)"), "{text}");
    assert!(!text.contains("paid at"), "{text}");
    // A paid till order, and after a partial refund (still a paid state).
    let text = ok(&run(
        &[
            "micropay",
            "--charge-code",
            "PAIDAT-TILL",
            "--amount",
            "3.00",
            "--dynamic-id",
            PAY_NOW,
            "--subject",
            "till",
            "--wait",
        ],
        url,
        b"",
    ));
    let first = text.lines().next().unwrap_or_default();
    assert_eq!(first, "Paid", "the status once, not `Paid: paid`:\n{text}");
    assert!(text.contains("paid at"), "{text}");
    ok(&run(
        &[
            "refund",
            "--charge-code",
            "PAIDAT-TILL",
            "--refund-no",
            "PAIDAT-R1",
            "--amount",
            "1.00",
        ],
        url,
        b"",
    ));
    let text = ok(&run(&["query", "PAIDAT-TILL"], url, b""));
    assert!(text.contains("PartiallyRefunded (4)"), "{text}");
    assert!(text.contains("paid at"), "{text}");
}

#[test]
fn missing_credentials_are_invalid_input() {
    for (args, env) in [
        (&["query", "X"][..], Vec::<(&str, &str)>::new()),
        (&["query", "X", "--key", KEY][..], vec![]),
        (&["query", "X", "--busi-code", BUSI][..], vec![]),
        (
            &["query", "X", "--busi-code", BUSI, "--key", KEY][..],
            vec![],
        ),
        (
            &[
                "query",
                "X",
                "--busi-code",
                BUSI,
                "--key",
                KEY,
                "--env",
                "moon",
            ][..],
            vec![],
        ),
        (&["cancel", "X"][..], vec![("SOSOPAY_KEY", KEY)]),
        // Two gateways: an exported base URL and an explicit --env (one would be ignored).
        (
            &[
                "query",
                "X",
                "--busi-code",
                BUSI,
                "--key",
                KEY,
                "--env",
                "uat",
            ][..],
            vec![(
                "SOSOPAY_BASE_URL",
                "http://127.0.0.1:9/openGateway/openService/",
            )],
        ),
        (
            &[
                "micropay",
                "--charge-code",
                "C",
                "--amount",
                "1",
                "--dynamic-id",
                PAY_NOW,
                "--subject",
                "s",
            ][..],
            vec![("SOSOPAY_BUSI_CODE", BUSI)],
        ),
        (&["encrypt"][..], vec![]),
    ] {
        let out = command(args, None)
            .envs(env)
            .stdin(Stdio::null())
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("sosopay: "), "{err}");
    }
}

#[test]
fn a_rejected_notification_gets_a_notification_hint() {
    let body = r#"{"PAY_NODIFY":{"BUSI_ID":"0010000001","CHARGE_CODE":"C-1","STATE":1,"AMT":158}}"#;
    let key = sosopay::MerchantKey::new(KEY).expect("key");
    let ts = sosopay::envelope::now_millis().to_string();
    let sign = sosopay::envelope::sign_body(&key, &ts, body).expect("sign");
    let query = format!("_type=json&sign={sign}");
    let wrong_key = "12345678901234567890123456789012";
    let tampered = body.replace("158", "1580");
    for (key, body) in [(wrong_key, body), (KEY, tampered.as_str())] {
        let out = run(
            &["notify", "--key", key, "--query", &query],
            None,
            body.as_bytes(),
        );
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains("signature"), "{err}");
        assert!(!err.contains("outcome unknown"), "{err}");
        assert!(!err.contains("query the order"), "{err}");
        assert!(err.contains("--key or SOSOPAY_KEY"), "{err}");
        assert!(err.contains("as received"), "{err}");
    }
    let old = (sosopay::envelope::now_millis() - 3_600_000).to_string();
    let old_sign = sosopay::envelope::sign_body(&key, &old, body).expect("sign");
    let out = run(
        &[
            "notify",
            "--key",
            KEY,
            "--query",
            &format!("sign={old_sign}"),
        ],
        None,
        body.as_bytes(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("replay window") && err.contains("clock"),
        "{err}"
    );
    assert!(!err.contains("outcome unknown"), "{err}");
    // An encrypted notification under another key fails to decrypt: no outcome hint either.
    let ct = sosopay::Envelope::new(key.clone()).encrypt(body.as_bytes());
    let out = run(
        &[
            "notify",
            "--key",
            wrong_key,
            "--query",
            &format!("_type=json&encrypt=3DES&sign={sign}"),
        ],
        None,
        ct.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("outcome unknown"), "{err}");
    assert!(err.contains("--key or SOSOPAY_KEY"), "{err}");
}

/// Runs with stdout's reader gone before anything is written: stdin is held open until the
/// read end of stdout is closed, and these commands read all of stdin first.
fn run_with_closed_stdout(args: &[&str], base_url: Option<&str>, stdin: &[u8]) -> Output {
    let mut child = command(args, base_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sosopay");
    drop(child.stdout.take());
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

#[test]
fn a_closed_stdout_is_quiet() {
    let big = vec![b'x'; 1 << 20];
    let out = run_with_closed_stdout(&["encrypt", "--key", KEY], None, &big);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let body = r#"{"PAY_NODIFY":{"BUSI_ID":"0010000001","CHARGE_CODE":"C-1","STATE":1,"AMT":158}}"#;
    let key = sosopay::MerchantKey::new(KEY).expect("key");
    let ts = sosopay::envelope::now_millis().to_string();
    let sign = sosopay::envelope::sign_body(&key, &ts, body).expect("sign");
    let out = run_with_closed_stdout(
        &["notify", "--key", KEY, "--query", &format!("sign={sign}")],
        None,
        body.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty());

    let sb = sandbox();
    let url = sb.base_url();
    let url = Some(url.as_str());
    ok(&run(
        &[
            "order",
            "--charge-code",
            "PIPE-1",
            "--amount",
            "1.00",
            "--subject",
            "qr",
        ],
        url,
        b"",
    ));
    for args in [
        &["query", "PIPE-1"][..],
        &["query", "PIPE-1", "--json"][..],
        &["--help"][..],
        &["query", "--help"][..],
    ] {
        let out = run_with_closed_stdout(args, url, b"");
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The demo stops at its first line.
    let out = run_with_closed_stdout(&["demo"], None, b"");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_held_till_payment_reverses_it_and_prints_the_outcome() {
    // At time scale 0.05 the gateway holds an unconfirmed micropay for 4 s.
    let sb = Sandbox::start(SandboxConfig {
        time_scale: 0.05,
        ..SandboxConfig::default()
    })
    .expect("start sandbox");
    let base = sb.base_url();
    let args = [
        "micropay",
        "--charge-code",
        "CLI-INT-1",
        "--amount",
        "1.00",
        "--dynamic-id",
        "130000000000004000",
        "--subject",
        "held",
        "--wait",
        "--oper-id",
        "o",
        "--dev-id",
        "d",
    ];
    let started = std::time::Instant::now();
    let child = command(&args, Some(&base))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sosopay");
    std::thread::sleep(std::time::Duration::from_millis(700));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("wait");
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "not paid\n{stdout}\n{stderr}");
    assert!(stdout.starts_with("Cancelled"), "{stdout}\n{stderr}");
    assert!(stderr.contains("cancelling the payment"), "{stderr}");
    assert!(
        took < std::time::Duration::from_secs(3),
        "before the hold ended: {took:?}"
    );
    assert_eq!(
        sb.order("CLI-INT-1").and_then(|o| o.state.map(u64::from)),
        Some(2),
        "reversed, not abandoned"
    );
}

#[cfg(unix)]
#[test]
fn a_second_ctrl_c_quits_and_names_the_order_to_query() {
    // The cancel after the first Ctrl-C is slow (its query and cancel answered late), so the
    // second one comes while it runs.
    let sb = Sandbox::start(SandboxConfig {
        time_scale: 0.05,
        faults: ["query:delay:1:3000", "cancelTrade:delay:1:3000"]
            .iter()
            .map(|f| f.parse().expect("fault rule"))
            .collect(),
        ..SandboxConfig::default()
    })
    .expect("start sandbox");
    let base = sb.base_url();
    let args = [
        "micropay",
        "--charge-code",
        "CLI-INT-2",
        "--amount",
        "1.00",
        "--dynamic-id",
        "130000000000004000",
        "--subject",
        "held",
        "--wait",
    ];
    let child = command(&args, Some(&base))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sosopay");
    let interrupt = || {
        Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("kill")
    };
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert!(interrupt().success());
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(interrupt().success());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("the outcome is unknown")
            && stderr.contains("`sosopay query --charge-code CLI-INT-2`"),
        "{stderr}"
    );
}
