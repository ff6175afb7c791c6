//! The vendor client's own request bodies (`tests/vectors/vendor-requests.jsonl`) decode into
//! our request models, validate, and re-encode with the same wire names and values.

use std::path::PathBuf;

use sosopay::codec::{Document, Node};
use sosopay::envelope::{Envelope, MerchantKey};
use sosopay::models::{MicropayRequest, OrderRequest, RefundRequest};
use sosopay::Amount;

/// Fields the vendor client sends that the document does not list for that operation.
const NOT_IN_DOCUMENT: &[(&str, &str)] = &[("order", "DYNAMIC_ID_TYPE"), ("refund", "NODIFY_URL")];

fn same_value(name: &str, vendor: &str, ours: &str) -> bool {
    match name {
        // Yuan: the vendor passes the merchant's text ("0.1"); we always send two decimals.
        "AMT" | "CHARGE_REFUND_FEE" | "GOOD_PRICE" => {
            Amount::parse_yuan(vendor).ok() == Amount::parse_yuan(ours).ok()
        }
        // Decoding trims surrounding spaces (" oper1").
        _ => vendor.trim() == ours,
    }
}

fn compare(op: &str, vendor: &Node, ours: &Node) {
    let Node::Map(fields) = vendor else {
        panic!("{op}: not an object")
    };
    for (name, v) in fields {
        if NOT_IN_DOCUMENT.contains(&(op, name.as_str())) {
            continue;
        }
        // The vendor client sends the literal "null" for an unset NODIFY_URL; we leave it out.
        if name == "NODIFY_URL" && v.as_text() == Some("null") {
            assert!(ours.get(name).is_none(), "{op}: NODIFY_URL null");
            continue;
        }
        // Our encoder uses exactly the vendor's spelling of every name.
        let o = match ours {
            Node::Map(f) => f.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        };
        let o = o.unwrap_or_else(|| panic!("{op}: we do not send {name}"));
        match (v, o) {
            (Node::Text(a), Node::Text(b)) => {
                assert!(
                    same_value(name, a, b),
                    "{op}.{name}: vendor {a:?}, ours {b:?}"
                )
            }
            (Node::List(a), Node::List(b)) => {
                assert_eq!(a.len(), b.len(), "{op}.{name}");
                for (x, y) in a.iter().zip(b) {
                    compare(op, x, y);
                }
            }
            other => panic!("{op}.{name}: shapes differ: {other:?}"),
        }
    }
}

#[test]
fn vendor_bodies_decode_validate_and_reencode() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let text = std::fs::read_to_string(dir.join("vendor-requests.jsonl")).expect("jsonl");
    let env = Envelope::new(MerchantKey::new("98SDKFUO432HNODS098EEE07U9DUOIUE").expect("key"));
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let r: serde_json::Value = serde_json::from_str(line).expect("line");
        if r["method"] != "POST" {
            continue;
        }
        let body = match r["body_plaintext"].as_str() {
            Some(p) => p.to_owned(),
            None => {
                let b = r["body"].as_str().expect("body");
                // An encrypted body is Base64; a plain one is JSON.
                if b.starts_with('{') {
                    b.to_owned()
                } else {
                    env.decrypt_to_string(b).expect("decrypt")
                }
            }
        };
        let op = r["path"]
            .as_str()
            .and_then(|p| p.rsplit('/').next())
            .expect("path")
            .to_owned();
        let doc = Document::parse(&body).expect("vendor body parses");
        let vendor = &doc.root;
        let busi = vendor.text("BUSI_ID").expect("BUSI_ID");
        let ours = match op.as_str() {
            "preOrder" => {
                let m = MicropayRequest::from_wire(vendor).expect("micropay");
                m.validate().expect("the vendor's micropay validates");
                assert_eq!(m.notify_url, None, "\"null\" is no URL");
                m.to_wire(busi)
            }
            "order" => {
                let o = OrderRequest::from_wire(vendor).expect("order");
                o.validate().expect("the vendor's order validates");
                assert_eq!(o.goods.len(), 1);
                assert_eq!(o.goods[0].price.fen(), 200);
                assert_eq!(o.oper_id, "oper1");
                o.to_wire(busi)
            }
            "refund" => {
                let f = RefundRequest::from_wire(vendor).expect("refund");
                f.validate().expect("the vendor's refund validates");
                assert_eq!(f.refund_amount.fen(), 1);
                f.to_wire(busi)
            }
            other => panic!("unexpected POST {other}"),
        };
        compare(&op, vendor, &ours);
        *seen.entry(op).or_default() += 1;
    }
    assert_eq!(seen.get("preOrder"), Some(&2));
    assert_eq!(seen.get("order"), Some(&2));
    assert_eq!(seen.get("refund"), Some(&2));
}
