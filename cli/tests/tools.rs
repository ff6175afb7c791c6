//! The support tools, run as a user would: bytes on stdin, result on stdout.

mod common;

use std::process::{Command, Output};

const KEY: &str = "98SDKFUO432HNODS098EEE07U9DUOIUE";

fn sosopay(args: &[&str], stdin: &[u8]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sosopay"));
    cmd.args(args)
        .env_remove("SOSOPAY_KEY")
        .env_remove("SOSOPAY_PREVIOUS_KEYS");
    common::run_with_stdin(&mut cmd, stdin)
}

fn vectors() -> serde_json::Value {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/envelope.json"
    );
    serde_json::from_str(&std::fs::read_to_string(p).expect("read vectors")).expect("parse vectors")
}

#[test]
fn sign_matches_every_vector() {
    let v = vectors();
    for t in v["sign"].as_array().expect("sign").iter().take(40) {
        let out = sosopay(
            &[
                "sign",
                "--key",
                t["key"].as_str().expect("key"),
                "--timestamp",
                t["timestamp"].as_str().expect("ts"),
            ],
            t["body"].as_str().expect("body").as_bytes(),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim_end(),
            t["sign"].as_str().expect("sign")
        );
    }
    let q = &v["query_sign"][0];
    let out = sosopay(
        &[
            "sign",
            "--key",
            KEY,
            "--timestamp",
            q["timestamp"].as_str().expect("ts"),
            "--query",
            q["charge_code"].as_str().expect("cc"),
        ],
        b"",
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        q["sign"].as_str().expect("sign")
    );
    let c = &v["cancel_sign"][0];
    let out = sosopay(
        &[
            "sign",
            "--key",
            KEY,
            "--timestamp",
            c["timestamp"].as_str().expect("ts"),
            "--cancel",
            c["charge_code"].as_str().expect("cc"),
            c["busi_code"].as_str().expect("bc"),
        ],
        b"",
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        c["sign"].as_str().expect("sign")
    );
}

#[test]
fn encrypt_decrypt_vectors_and_binary() {
    let v = vectors();
    for t in v["des3"].as_array().expect("des3") {
        let key = t["key"].as_str().expect("key");
        let out = sosopay(
            &["encrypt", "--key", key],
            t["plaintext"].as_str().expect("pt").as_bytes(),
        );
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim_end(),
            t["ciphertext_base64"].as_str().expect("ct")
        );
        let back = sosopay(
            &["decrypt", "--key", key],
            t["ciphertext_base64"].as_str().expect("ct").as_bytes(),
        );
        assert_eq!(back.stdout, t["plaintext"].as_str().expect("pt").as_bytes());
    }
    let binary: Vec<u8> = (0..=255u8).chain([0, 10, 13, 0]).collect();
    let ct = sosopay(&["encrypt", "--key", KEY], &binary);
    let back = sosopay(&["decrypt", "--key", KEY], &ct.stdout);
    assert!(back.status.success());
    assert_eq!(back.stdout, binary, "binary-safe round trip");
}

#[test]
fn bad_input_is_one_line_error() {
    let out = sosopay(&["decrypt", "--key", KEY], b"not base64 at all!!!");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.starts_with("sosopay: "), "{err}");
    assert!(!err.contains("panicked") && !err.contains(KEY));
    let out = sosopay(&["sign", "--key", KEY, "--timestamp", "12ab"], b"{}");
    assert!(!out.status.success());
}

#[test]
fn notify_verifies_and_rejects() {
    let body = r#"{"PAY_NODIFY":{"BUSI_ID":"0010000001","CHARGE_CODE":"C-1","CHARGE_DOWN_CODE":"D-1","CHARGE_THIRD_CODE":"T-1","CHANNEL_TYPE":1,"STATE":1,"AMT":158,"OPER_ID":"o","DEV_ID":"d","PAY_SUBJECT":"s","MERCHANTPARA":"AAAA","FUND_BILL_LIST":{"TRADEFUNDBILL":[{"FUND_CHANNEL":"00","AMOUNT":"1.58"}]}}}"#;
    let ts = sosopay::envelope::now_millis().to_string();
    let key = sosopay::MerchantKey::new(KEY).expect("key");
    let sign = sosopay::envelope::sign_body(&key, &ts, body).expect("sign");
    let query = format!("_type=json&sign={sign}");
    let out = sosopay(
        &["notify", "--key", KEY, "--query", &query],
        body.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(j["busi_id"], "0010000001");
    assert_eq!(j["charge_code"], "C-1");
    assert_eq!(j["charge_down_code"], "D-1");
    assert_eq!(j["charge_third_code"], "T-1");
    assert_eq!(j["channel_type"], 1);
    assert_eq!(j["state"], 1);
    assert_eq!(j["amount_fen"], 158);
    assert_eq!(j["fund_bills"][0]["fund_channel"], "00");
    assert_eq!(j["fund_bills"][0]["amount_fen"], 158);
    assert_eq!(j["merchant_para"], "AAAA");
    assert!(j["raw"]["PAY_NODIFY"].is_object());
    // Encrypted.
    let ct = sosopay::Envelope::new(key.clone()).encrypt(body.as_bytes());
    let out = sosopay(
        &[
            "notify",
            "--key",
            KEY,
            "--query",
            &format!("_type=json&encrypt=3DES&sign={}", sign.replace(':', "%3A")),
        ],
        ct.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Tampered, wrong key, stale.
    let tampered = body.replace("158", "1580");
    let out = sosopay(
        &["notify", "--key", KEY, "--query", &query],
        tampered.as_bytes(),
    );
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr)
            .trim_end()
            .lines()
            .count(),
        1
    );
    let out = sosopay(
        &["notify", "--key", "WRONGKEY", "--query", &query],
        body.as_bytes(),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("outcome unknown") && err.contains("--key or SOSOPAY_KEY"),
        "a hint for a notification, not for a payment: {err}"
    );
    let old = (sosopay::envelope::now_millis() - 3_600_000).to_string();
    let old_sign = sosopay::envelope::sign_body(&key, &old, body).expect("sign");
    let out = sosopay(
        &[
            "notify",
            "--key",
            KEY,
            "--query",
            &format!("sign={old_sign}"),
        ],
        body.as_bytes(),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("replay window"));
    let out = sosopay(
        &[
            "notify",
            "--key",
            KEY,
            "--query",
            &format!("sign={old_sign}"),
            "--max-age",
            "0",
        ],
        body.as_bytes(),
    );
    assert!(out.status.success());
}

#[test]
fn usage_errors_are_one_line() {
    for args in [
        &["sign"][..],
        &["frob"][..],
        &["query"][..],
        &["micropay", "--bogus"][..],
    ] {
        let out = sosopay(args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("sosopay: "), "{err}");
    }
    let help = sosopay(&["--help"], b"");
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("demo"));
}

/// A notification signed with a key being rotated out verifies with `--previous-key` (or
/// `SOSOPAY_PREVIOUS_KEYS`), and not without it.
#[test]
fn notify_accepts_a_previous_key_when_given() {
    let body = r#"{"PAY_NODIFY":{"BUSI_ID":"0010000001","CHARGE_CODE":"C-9","STATE":1,"AMT":1}}"#;
    let ts = sosopay::envelope::now_millis().to_string();
    let old = sosopay::MerchantKey::new(KEY).expect("key");
    let query = format!(
        "sign={}",
        sosopay::envelope::sign_body(&old, &ts, body).expect("sign")
    );
    let new = "NEWKEYNEWKEYNEWKEYNEWKEYNEWKEY12";
    let without = sosopay(
        &["notify", "--key", new, "--query", &query],
        body.as_bytes(),
    );
    assert!(!without.status.success());
    let with = sosopay(
        &[
            "notify",
            "--key",
            new,
            "--previous-key",
            KEY,
            "--query",
            &query,
        ],
        body.as_bytes(),
    );
    assert!(
        with.status.success(),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&with.stdout).expect("json");
    assert_eq!(j["charge_code"], "C-9");
    let bad = sosopay(
        &[
            "notify",
            "--key",
            new,
            "--previous-key",
            "",
            "--query",
            &query,
        ],
        body.as_bytes(),
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--previous-key"));
}
