//! What the tool makes of its input, run as a user would: an empty `SOSOPAY_*` variable counts
//! as unset, conflicting or incomplete flags are refused (exit 2) before anything is sent, and
//! errors name what the user typed (the flag, or the variable a value came from).

mod common;

use std::process::{Command, Output};

use sosopay_sandbox::{Sandbox, SandboxConfig};

const BUSI: &str = "0010000001";
const KEY: &str = "98SDKFUO432HNODS098EEE07U9DUOIUE";
const OLD_KEY: &str = "OLDKEYOLDKEYOLDKEYOLDKEYOLDKEY12";
const PAY_NOW: &str = "130730865806264036";
const VARS: &[&str] = &[
    "SOSOPAY_BUSI_CODE",
    "SOSOPAY_KEY",
    "SOSOPAY_BASE_URL",
    "SOSOPAY_CA_FILE",
    "SOSOPAY_PREVIOUS_KEYS",
];

/// Runs `sosopay args` with only the variables `env` set (of the tool's), `stdin` as input.
fn run(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sosopay"));
    cmd.args(args);
    for v in VARS {
        cmd.env_remove(v);
    }
    cmd.envs(env.iter().copied());
    common::run_with_stdin(&mut cmd, stdin)
}

fn err(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Refused as invalid input (exit 2) in one line containing every one of `parts`.
fn refused(out: &Output, parts: &[&str]) {
    let e = err(out);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    for p in parts {
        assert!(e.contains(p), "{p:?} in: {e}");
    }
}

fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        time_scale: 0.02,
        ..SandboxConfig::default()
    })
    .expect("start sandbox")
}

/// A notification signed with `key`, and its query string.
fn notification(key: &str) -> (String, String) {
    let body =
        r#"{"PAY_NODIFY":{"BUSI_ID":"0010000001","CHARGE_CODE":"IN-1","STATE":1,"AMT":100}}"#;
    let key = sosopay::MerchantKey::new(key).expect("key");
    let ts = sosopay::envelope::now_millis().to_string();
    let sign = sosopay::envelope::sign_body(&key, &ts, body).expect("sign");
    (body.to_owned(), format!("_type=json&sign={sign}"))
}

#[test]
fn empty_variables_count_as_unset() {
    let (body, query) = notification(KEY);
    let notify = |env: &[(&str, &str)]| {
        run(
            &["notify", "--key", KEY, "--query", &query],
            env,
            body.as_bytes(),
        )
    };
    for env in [
        &[("SOSOPAY_PREVIOUS_KEYS", "")][..],
        &[("SOSOPAY_BUSI_CODE", "")][..],
        &[("SOSOPAY_PREVIOUS_KEYS", " "), ("SOSOPAY_BUSI_CODE", "")][..],
    ] {
        let out = notify(env);
        assert_eq!(out.status.code(), Some(0), "{env:?}: {}", err(&out));
    }

    // The key from an empty variable is missing, said so.
    let out = run(&["sign"], &[("SOSOPAY_KEY", "")], b"{}");
    refused(&out, &["--key"]);
    let out = run(
        &["query", "X", "--busi-code", BUSI],
        &[("SOSOPAY_KEY", "")],
        b"",
    );
    refused(&out, &["no merchant key", "SOSOPAY_KEY is set but empty"]);
    let out = run(
        &["query", "X", "--key", KEY],
        &[("SOSOPAY_BUSI_CODE", "")],
        b"",
    );
    refused(
        &out,
        &["no merchant code", "SOSOPAY_BUSI_CODE is set but empty"],
    );

    // An empty base URL is no second gateway beside --env; a CA file from the variable is named
    // as such (and read before anything is sent).
    let out = run(
        &["query", "X", "--busi-code", BUSI, "--env", "production"],
        &[
            ("SOSOPAY_KEY", KEY),
            ("SOSOPAY_BASE_URL", ""),
            ("SOSOPAY_CA_FILE", "/nonexistent/ca.pem"),
        ],
        b"",
    );
    refused(
        &out,
        &[
            "invalid --ca-file: cannot read",
            "(the value of SOSOPAY_CA_FILE)",
        ],
    );
    assert!(!err(&out).contains("two gateways"), "{}", err(&out));

    // An empty CA file is the built-in roots: the sandbox answers.
    let sb = sandbox();
    let out = run(
        &[
            "order",
            "--charge-code",
            "IN-CA",
            "--amount",
            "1.00",
            "--subject",
            "s",
        ],
        &[
            ("SOSOPAY_BUSI_CODE", BUSI),
            ("SOSOPAY_KEY", KEY),
            ("SOSOPAY_BASE_URL", &sb.base_url()),
            ("SOSOPAY_CA_FILE", ""),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", err(&out));
}

#[test]
fn previous_keys_from_the_variable_are_trimmed_and_named_in_errors() {
    let (body, query) = notification(OLD_KEY);
    let notify = |keys: &str| {
        run(
            &["notify", "--key", KEY, "--query", &query],
            &[("SOSOPAY_PREVIOUS_KEYS", keys)],
            body.as_bytes(),
        )
    };
    for keys in [
        OLD_KEY.to_string(),
        format!("OTHERKEYOTHERKEYOTHERKEYOTHERKE1, {OLD_KEY}"),
        format!(" {OLD_KEY} ,"),
    ] {
        let out = notify(&keys);
        assert_eq!(out.status.code(), Some(0), "{keys:?}: {}", err(&out));
    }
    let out = notify("OLD KEY");
    refused(
        &out,
        &[
            "invalid --previous-key",
            "(the value of SOSOPAY_PREVIOUS_KEYS)",
        ],
    );
    // Given as a flag, an empty key is still refused, and the variable not named.
    let out = run(
        &[
            "notify",
            "--key",
            KEY,
            "--previous-key",
            "",
            "--query",
            &query,
        ],
        &[],
        body.as_bytes(),
    );
    refused(&out, &["invalid --previous-key"]);
    assert!(
        !err(&out).contains("SOSOPAY_PREVIOUS_KEYS"),
        "{}",
        err(&out)
    );
}

#[test]
fn conflicting_or_incomplete_flags_are_refused() {
    let out = run(
        &[
            "sign",
            "--key",
            KEY,
            "--timestamp",
            "1700000000000",
            "--query",
            "A",
            "--cancel",
            "B",
            "C",
        ],
        &[],
        b"",
    );
    refused(&out, &["--query", "--cancel", "sosopay sign --help"]);
    assert!(out.stdout.is_empty());

    let sb = sandbox();
    let url = sb.base_url();
    let env = [
        ("SOSOPAY_BUSI_CODE", BUSI),
        ("SOSOPAY_KEY", KEY),
        ("SOSOPAY_BASE_URL", url.as_str()),
    ];
    let out = run(
        &[
            "order",
            "--charge-code",
            "IN-SUB",
            "--amount",
            "1.00",
            "--subject",
            "s",
            "--sub-appid",
            "wx1",
        ],
        &env,
        b"",
    );
    refused(&out, &["--jsapi-openid", "sosopay order --help"]);
    assert!(sb.order("IN-SUB").is_none(), "nothing sent");

    let out = run(
        &[
            "micropay",
            "--charge-code",
            "IN-DL",
            "--amount",
            "1.00",
            "--dynamic-id",
            PAY_NOW,
            "--subject",
            "s",
            "--wait",
            "--deadline",
            "0",
        ],
        &env,
        b"",
    );
    refused(&out, &["--deadline", "seconds", "sosopay micropay --help"]);
    assert!(!err(&out).contains(" ms"), "{}", err(&out));
    // The longest deadline accepted runs (nothing listens on port 9: never sent, a failure).
    let out = run(
        &[
            "micropay",
            "--charge-code",
            "IN-DL",
            "--amount",
            "1.00",
            "--dynamic-id",
            PAY_NOW,
            "--subject",
            "s",
            "--wait",
            "--deadline",
            "1800",
        ],
        &[
            ("SOSOPAY_BUSI_CODE", BUSI),
            ("SOSOPAY_KEY", KEY),
            (
                "SOSOPAY_BASE_URL",
                "http://127.0.0.1:9/openGateway/openService/",
            ),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1), "{}", err(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("Failed: the request never reached"),
        "{}",
        err(&out)
    );
}

#[test]
fn errors_name_the_flags_typed() {
    let sb = sandbox();
    let url = sb.base_url();
    let env = [
        ("SOSOPAY_BUSI_CODE", BUSI),
        ("SOSOPAY_KEY", KEY),
        ("SOSOPAY_BASE_URL", url.as_str()),
    ];
    let micropay = |amount: &str, subject: &str| {
        run(
            &[
                "micropay",
                "--charge-code",
                "IN-M",
                "--amount",
                amount,
                "--dynamic-id",
                PAY_NOW,
                "--subject",
                subject,
            ],
            &env,
            b"",
        )
    };
    refused(&micropay("-1", "s"), &["invalid --amount", "-1"]);
    refused(&micropay("1.00", ""), &["invalid --subject"]);
    assert!(!err(&micropay("1.00", "")).contains("pay_subject"));
    let out = run(
        &[
            "order",
            "--charge-code",
            "IN-O",
            "--amount",
            "1.00",
            "--subject",
            "s",
            "--time-expire",
            "60",
        ],
        &env,
        b"",
    );
    refused(&out, &["invalid --time-expire"]);
    let out = run(
        &["refund", "--refund-no", "IN-R", "--amount", "-0.01"],
        &env,
        b"",
    );
    refused(&out, &["invalid --amount"]);
    let out = run(
        &["refund", "--refund-no", "IN-R", "--amount", "1"],
        &env,
        b"",
    );
    refused(&out, &["--charge-code or --charge-down-code"]);
    assert!(!err(&out).contains("charge_code"), "{}", err(&out));
    let out = run(&["micropay", "--bogus"], &env, b"");
    refused(&out, &["see `sosopay micropay --help`"]);
}

#[test]
fn environment_names_accepted_are_the_ones_listed() {
    let out = run(
        &["query", "X", "--busi-code", BUSI, "--env", "staging"],
        &[("SOSOPAY_KEY", KEY)],
        b"",
    );
    refused(
        &out,
        &[
            "invalid --env",
            "\"staging\"",
            "prod",
            "prod-http",
            "uat (or test)",
        ],
    );
    let help = run(&["query", "--help"], &[], b"");
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("production (or prod)") && text.contains("uat (or test)"),
        "{text}"
    );
}
