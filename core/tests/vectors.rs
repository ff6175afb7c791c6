//! Runs every golden vector of `tests/vectors/` (made by the vendor's own client).

use std::path::PathBuf;

use sosopay::envelope::{self, Envelope, MerchantKey};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

fn load() -> serde_json::Value {
    let text =
        std::fs::read_to_string(vectors_dir().join("envelope.json")).expect("read envelope.json");
    serde_json::from_str(&text).expect("parse envelope.json")
}

fn s<'a>(v: &'a serde_json::Value, k: &str) -> &'a str {
    v[k].as_str()
        .unwrap_or_else(|| panic!("vector field {k} missing"))
}

#[test]
fn sign_vectors() {
    let v = load();
    let list = v["sign"].as_array().expect("sign list");
    assert_eq!(list.len(), 100);
    for (i, t) in list.iter().enumerate() {
        let key = MerchantKey::new(s(t, "key")).expect("key");
        let body = s(t, "body");
        let expected_input = s(t, "sign_input");
        let stripped = envelope::strip_java_whitespace(body);
        assert_eq!(
            format!("{}{}{}", s(t, "timestamp"), key.expose(), stripped),
            expected_input,
            "sign_input #{i}"
        );
        let got = envelope::sign_body(&key, s(t, "timestamp"), body).expect("sign");
        assert_eq!(got, s(t, "sign"), "sign #{i}");
        envelope::verify_body(&key, &got, body).expect("verify own");
        let wrong = MerchantKey::new("WRONGKEY").expect("key");
        assert!(envelope::verify_body(&wrong, &got, body).is_err());
    }
}

#[test]
fn query_and_cancel_vectors() {
    let v = load();
    let q = v["query_sign"].as_array().expect("query list");
    assert_eq!(q.len(), 5);
    for t in q {
        let key = MerchantKey::new(s(t, "key")).expect("key");
        let got = envelope::sign_query(&key, s(t, "timestamp"), s(t, "charge_code")).expect("sign");
        assert_eq!(got, s(t, "sign"));
        envelope::verify_query(&key, &got, s(t, "charge_code")).expect("verify");
    }
    let c = v["cancel_sign"].as_array().expect("cancel list");
    assert_eq!(c.len(), 5);
    for t in c {
        let key = MerchantKey::new(s(t, "key")).expect("key");
        let got = envelope::sign_cancel(
            &key,
            s(t, "timestamp"),
            s(t, "charge_code"),
            s(t, "busi_code"),
        )
        .expect("sign");
        assert_eq!(got, s(t, "sign"));
        envelope::verify_cancel(&key, &got, s(t, "charge_code"), s(t, "busi_code"))
            .expect("verify");
    }
}

#[test]
fn des3_vectors() {
    let v = load();
    let list = v["des3"].as_array().expect("des3 list");
    assert_eq!(list.len(), 40);
    for (i, t) in list.iter().enumerate() {
        let env = Envelope::new(MerchantKey::new(s(t, "key")).expect("key"));
        let pt = s(t, "plaintext");
        assert_eq!(
            env.encrypt(pt.as_bytes()),
            s(t, "ciphertext_base64"),
            "encrypt #{i}"
        );
        assert_eq!(
            env.decrypt_to_string(s(t, "ciphertext_base64"))
                .expect("decrypt"),
            pt,
            "decrypt #{i}"
        );
    }
}

#[test]
fn vendor_requests_sign_and_decrypt() {
    let text =
        std::fs::read_to_string(vectors_dir().join("vendor-requests.jsonl")).expect("read jsonl");
    let key = MerchantKey::new("98SDKFUO432HNODS098EEE07U9DUOIUE").expect("key");
    let env = Envelope::new(key.clone());
    let mut n = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let r: serde_json::Value = serde_json::from_str(line).expect("jsonl line");
        let query = s(&r, "query");
        let sign_raw = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("sign="))
            .expect("sign param");
        let sign = sign_raw.replace("%3A", ":");
        let path = s(&r, "path");
        if s(&r, "method") == "POST" {
            let plaintext = match r.get("body_plaintext").and_then(|b| b.as_str()) {
                Some(p) => {
                    assert_eq!(
                        env.decrypt_to_string(s(&r, "body")).expect("decrypt body"),
                        p
                    );
                    assert_eq!(env.encrypt(p.as_bytes()), s(&r, "body"));
                    p.to_owned()
                }
                None => s(&r, "body").to_owned(),
            };
            envelope::verify_body(&key, &sign, &plaintext).expect("POST signature");
        } else {
            let segs: Vec<&str> = path.rsplitn(3, '/').collect();
            let (busi, charge) = (segs[0], segs[1]);
            if path.contains("/query/") {
                envelope::verify_query(&key, &sign, charge).expect("query signature");
            } else {
                envelope::verify_cancel(&key, &sign, charge, busi).expect("cancel signature");
            }
        }
        n += 1;
    }
    assert_eq!(n, 10);
}
