//! What a script can rely on from the money operations, run as a user would against a sandbox
//! gateway: exit status 0 only for a payment shown paid, 1 for a definite failure, 3 when the
//! outcome is unknown or not settled (query before acting), with advice that names the order.

use std::process::{Command, Output, Stdio};

use serde_json::Value;
use sosopay_sandbox::{FaultRule, Sandbox, SandboxConfig};

const BUSI: &str = "0010000001";
const KEY: &str = "98SDKFUO432HNODS098EEE07U9DUOIUE";
const PAY_NOW: &str = "130730865806264036";
const USER_PAYING: &str = "130000000000002003";
const INSUFFICIENT_FUNDS: &str = "130000000000003000";
const USER_PAYING_NEVER_CONFIRMS: &str = "130000000000005000";
const REPLY_LOST: &str = "130000000000007000";

fn sandbox(faults: &[&str]) -> Sandbox {
    Sandbox::start(SandboxConfig {
        time_scale: 0.02,
        faults: faults
            .iter()
            .map(|f| f.parse::<FaultRule>().expect("fault rule"))
            .collect(),
        ..SandboxConfig::default()
    })
    .expect("start sandbox")
}

fn run(args: &[&str], base_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sosopay"))
        .args(args)
        .env("SOSOPAY_BUSI_CODE", BUSI)
        .env("SOSOPAY_KEY", KEY)
        .env("SOSOPAY_BASE_URL", base_url)
        .env_remove("SOSOPAY_CA_FILE")
        .stdin(Stdio::null())
        .output()
        .expect("run sosopay")
}

fn micropay(cc: &str, code: &str, extra: &[&str], base_url: &str) -> Output {
    let mut args = vec![
        "micropay",
        "--charge-code",
        cc,
        "--amount",
        "1.00",
        "--dynamic-id",
        code,
        "--subject",
        "exit",
    ];
    args.extend_from_slice(extra);
    run(&args, base_url)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Plain `micropay` exits 0 only for a reply showing the order paid; a reply showing it
/// awaiting the customer (STATE 0), or naming no state, is not proven paid: exit 3, the state
/// shown, and advice to query that order until final.
#[test]
fn plain_micropay_succeeds_only_when_the_reply_shows_paid() {
    let sb = sandbox(&[]);
    let url = sb.base_url();

    let paid = micropay("EX-PAID", PAY_NOW, &[], &url);
    let out = text(&paid.stdout);
    assert_eq!(paid.status.code(), Some(0), "{out}{}", text(&paid.stderr));
    assert!(out.contains("state             Paid (1)"), "{out}");
    assert!(paid.stderr.is_empty(), "{}", text(&paid.stderr));

    for json in [false, true] {
        let cc = format!("EX-PAYING-{json}");
        let extra: &[&str] = if json { &["--json"] } else { &[] };
        let paying = micropay(&cc, USER_PAYING, extra, &url);
        let (out, err) = (text(&paying.stdout), text(&paying.stderr));
        assert_eq!(
            paying.status.code(),
            Some(3),
            "STATE 0 is not paid: {out}{err}"
        );
        if json {
            let v: Value = serde_json::from_str(&out).expect("JSON on stdout");
            assert_eq!(v["state"], 0, "{v}");
        } else {
            assert!(
                out.contains("state             AwaitingPayment (0)"),
                "{out}"
            );
        }
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains("not proven"), "{err}");
        assert!(err.contains("AwaitingPayment (0)"), "{err}");
        assert!(
            err.contains(&format!("`sosopay query --charge-code {cc}`")),
            "{err}"
        );
        assert!(err.contains("--wait"), "{err}");
    }
    drop(sb);

    // The reply names no state, and the customer never confirms: not proven either.
    let sb = sandbox(&["preOrder:omit:1:STATE"]);
    let url = sb.base_url();
    let none = micropay("EX-NOSTATE", USER_PAYING_NEVER_CONFIRMS, &[], &url);
    let (out, err) = (text(&none.stdout), text(&none.stderr));
    assert_eq!(none.status.code(), Some(3), "{out}{err}");
    assert!(
        out.contains("state             (not in the reply)"),
        "{out}"
    );
    assert!(
        err.contains("no order state") && err.contains("not proven"),
        "{err}"
    );
}

/// A decline is a definite failure (1); a payment whose reply was lost, or said EXCEPTION,
/// may have happened (3), and the advice names the real charge code.
#[test]
fn an_unknown_outcome_exits_3_and_a_decline_1() {
    let sb = sandbox(&[]);
    let url = sb.base_url();
    let declined = micropay("EX-DECLINED", INSUFFICIENT_FUNDS, &["--json"], &url);
    assert_eq!(
        declined.status.code(),
        Some(1),
        "{}",
        text(&declined.stderr)
    );
    assert!(!text(&declined.stderr).contains("outcome unknown"));

    let lost = micropay("EX-LOST", REPLY_LOST, &["--json"], &url);
    let err = text(&lost.stderr);
    assert_eq!(lost.status.code(), Some(3), "{err}");
    assert!(err.contains("outcome unknown"), "{err}");
    assert!(
        err.contains("`sosopay query --charge-code EX-LOST`"),
        "{err}"
    );
    assert!(!err.contains("CHARGE_CODE"), "no placeholder: {err}");
    drop(sb);

    // The request arrives, its reply is lost: a micropay, then a refund.
    let sb = sandbox(&["preOrder:drop_reply:1", "refund:drop_reply:1"]);
    let url = sb.base_url();
    let dropped = micropay("EX-DROP", PAY_NOW, &["--json"], &url);
    let err = text(&dropped.stderr);
    assert_eq!(dropped.status.code(), Some(3), "{err}");
    assert!(dropped.stdout.is_empty());
    assert!(
        err.contains("`sosopay query --charge-code EX-DROP`"),
        "{err}"
    );

    let refund = run(
        &[
            "refund",
            "--charge-code",
            "EX-DROP",
            "--refund-no",
            "EX-R1",
            "--amount",
            "0.50",
        ],
        &url,
    );
    let err = text(&refund.stderr);
    assert_eq!(refund.status.code(), Some(3), "{err}");
    assert!(
        err.contains("`sosopay query --charge-code EX-DROP`"),
        "{err}"
    );
    assert!(
        err.contains("the same --refund-no EX-R1"),
        "a refund is retried under its number: {err}"
    );
    assert!(!err.contains("charging again"), "{err}");

    let by_down = run(
        &[
            "refund",
            "--charge-down-code",
            "20261207999",
            "--refund-no",
            "EX-R2",
            "--amount",
            "0.50",
        ],
        &url,
    );
    let err = text(&by_down.stderr);
    assert_eq!(by_down.status.code(), Some(3), "{err}");
    assert!(
        err.contains("`sosopay query --charge-down-code 20261207999`"),
        "{err}"
    );
}

/// The `order` of `micropay --wait --json` is the order as the flow last saw it, decoded: the
/// one order shape without `raw` (the flow keeps no document), as README says; every reply
/// printed as such carries `raw`.
#[test]
fn raw_is_in_every_reply_and_not_in_a_flows_order() {
    let sb = sandbox(&[]);
    let url = sb.base_url();
    let waited = micropay("EX-RAW", PAY_NOW, &["--wait", "--json"], &url);
    assert_eq!(waited.status.code(), Some(0), "{}", text(&waited.stderr));
    let v: Value = serde_json::from_slice(&waited.stdout).expect("JSON");
    assert_eq!(v["status"], "paid");
    assert!(
        v["order"].is_object() && v["order"].get("raw").is_none(),
        "{v}"
    );
    assert!(v.get("raw").is_none(), "{v}");

    let plain = micropay("EX-RAW-2", PAY_NOW, &["--json"], &url);
    for (what, out) in [
        ("micropay", plain),
        ("query", run(&["query", "EX-RAW", "--json"], &url)),
        (
            "refund",
            run(
                &[
                    "refund",
                    "--charge-code",
                    "EX-RAW",
                    "--refund-no",
                    "EX-RAW-R",
                    "--amount",
                    "0.10",
                    "--json",
                ],
                &url,
            ),
        ),
        ("cancel", run(&["cancel", "EX-RAW-2", "--json"], &url)),
    ] {
        assert_eq!(out.status.code(), Some(0), "{what}: {}", text(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert!(v["raw"].is_object(), "{what}: {v}");
    }
}
