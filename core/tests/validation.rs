//! Validation before sending: every request type's `validate()`, each error naming the field;
//! and the wire bodies `to_wire` produces.

use sosopay::codec::Node;
use sosopay::models::{
    validate_code, CancelRequest, FlowRechargeRequest, Goods, MicropayRequest, OrderRequest,
    QueryRequest, RefundRequest,
};
use sosopay::{Amount, Channel, DynamicIdType, Error, SerType, TradeType};

fn fen(n: u64) -> Amount {
    Amount::from_fen(n).expect("fen")
}

/// Asserts `r` is a validation error naming `field`.
#[track_caller]
fn rejects(r: sosopay::Result<()>, field: &str) {
    match r {
        Err(Error::Validation { field: f, reason }) => {
            assert_eq!(f, field, "wrong field named (reason: {reason})");
            assert!(!reason.is_empty());
            let e = Error::Validation {
                field: f,
                reason: reason.clone(),
            };
            assert!(e.to_string().contains(field), "{e}");
            assert!(!e.outcome_unknown(), "nothing was sent");
        }
        other => panic!("expected a validation error on {field}, got {other:?}"),
    }
}

/// A named mutation that must make `validate()` fail on that field.
type Case<T> = (&'static str, fn(&mut T));

fn goods() -> Goods {
    Goods {
        id: "2010".into(),
        name: "可乐".into(),
        class: "饮料".into(),
        price: fen(350),
        subject: "330ml".into(),
        quantity: 2,
        show_url: Some("https://shop.example/cola".into()),
    }
}

fn micropay() -> MicropayRequest {
    let mut r = MicropayRequest::new(
        "20150324001069125999",
        fen(15800),
        "284214903060794755",
        "二维码产品支付",
    );
    r.oper_id = "oper01".into();
    r.dev_id = "dev01".into();
    r
}

fn qr() -> OrderRequest {
    let mut r = OrderRequest::new(
        "D3820833-F310-4658-BF98-52959454FCA0",
        fen(1),
        Channel::Alipay,
        "SOUSHOU product 2",
    );
    r.oper_id = "oper01".into();
    r.dev_id = "dev01".into();
    r
}

fn jsapi() -> OrderRequest {
    let mut r = OrderRequest::jsapi("J-1", fen(1), "公众号支付", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
    r.oper_id = "oper01".into();
    r.dev_id = "dev01".into();
    r.sub_appid = Some("wx77a451e8627239de".into());
    r
}

fn refund() -> RefundRequest {
    let mut r = RefundRequest::new("C-1", "R-1", fen(1), "退款");
    r.oper_id = "oper01".into();
    r.dev_id = "dev01".into();
    r
}

/// Characters that would break, or change the meaning of, a URL path segment.
const PATH_BREAKERS: &[&str] = &[
    "a/b", "a?b", "a#b", "a%2Fb", "a b", "订单1", "a\\b", "a&b", "a;b", "a\u{0}b", "a\nb", "a+b",
    "é", "a:b", "a\"b", "a<b", "..", ".",
];

// ---------------------------------------------------------------------------------------------
// Micropay

#[test]
fn micropay_valid_forms_pass() {
    micropay().validate().expect("minimal");
    let mut r = micropay();
    r.register_id = Some("02016".into());
    r.merchant_para = Some("MDEwMDAwMDE=".into());
    r.time_expire = Some(120);
    r.goods = vec![goods(), goods()];
    r.verify_codes = Some("A1234455".into());
    r.notify_url = Some("https://merchant.example/notify?_type=json&encrypt=3DES".into());
    r.channel = Channel::Wechat;
    r.dynamic_id_type = DynamicIdType::Nfc;
    r.validate().expect("every field set");
}

#[test]
fn a_payment_code_refusal_says_what_is_wrong_with_it() {
    let said = |code: &str| {
        let mut r = micropay();
        r.dynamic_id = code.into();
        match r.validate() {
            Err(Error::Validation { field, reason }) if field == "dynamic_id" => reason,
            other => panic!("{code:?}: {other:?}"),
        }
    };
    assert!(said("130730865806264036\r\n").contains("a line break (a scanner's Enter key?)"));
    assert!(
        said("1307 3086 5806 2640 36").contains("contains a space: give the code without spaces")
    );
    assert!(said("1307\t3086").contains("contains a tab"));
    assert!(said("1307\u{200b}3086").contains("contains U+200B"));
    let long = format!("{}\n", "9".repeat(129));
    assert!(said(&long).contains("line break") && said(&long).contains("130 characters long"));
    assert!(said("1307-3086").contains("contains '-'"));
    assert!(said("").contains("it is empty"));
    assert!(said(&"9".repeat(129)).contains("it is 129 characters long"));
}

#[test]
fn micropay_required_fields() {
    let cases: Vec<Case<MicropayRequest>> = vec![
        ("charge_code", |r| r.charge_code.clear()),
        ("amount", |r| r.amount = Amount::ZERO),
        ("dynamic_id", |r| r.dynamic_id.clear()),
        ("dynamic_id", |r| r.dynamic_id = "1234 5678".into()),
        ("dynamic_id", |r| r.dynamic_id = "9".repeat(129)),
        ("dynamic_id_type", |r| {
            r.dynamic_id_type = DynamicIdType::Unknown("4".into())
        }),
        ("channel", |r| r.channel = Channel::Unknown("wx".into())),
        ("channel", |r| r.channel = Channel::Unknown(String::new())),
        ("pay_subject", |r| r.pay_subject.clear()),
        ("pay_subject", |r| r.pay_subject = "   ".into()),
        ("pay_subject", |r| r.pay_subject = "x".repeat(257)),
        ("pay_subject", |r| r.pay_subject = "a\u{7}b".into()),
        ("oper_id", |r| r.oper_id.clear()),
        ("dev_id", |r| r.dev_id.clear()),
        ("register_id", |r| r.register_id = Some("a\nb".into())),
        ("merchant_para", |r| {
            r.merchant_para = Some("not base64!".into())
        }),
        ("merchant_para", |r| {
            r.merchant_para = Some("A".repeat(1025))
        }),
        ("time_expire", |r| r.time_expire = Some(119)),
        ("time_expire", |r| r.time_expire = Some(0)),
        ("goods[0].id", |r| {
            r.goods = vec![Goods {
                id: String::new(),
                ..goods()
            }]
        }),
        ("goods[1].name", |r| {
            r.goods = vec![
                goods(),
                Goods {
                    name: " ".into(),
                    ..goods()
                },
            ]
        }),
        ("goods[0].class", |r| {
            r.goods = vec![Goods {
                class: String::new(),
                ..goods()
            }]
        }),
        ("goods[0].subject", |r| {
            r.goods = vec![Goods {
                subject: String::new(),
                ..goods()
            }]
        }),
        ("goods[0].quantity", |r| {
            r.goods = vec![Goods {
                quantity: 0,
                ..goods()
            }]
        }),
        ("verify_codes", |r| r.verify_codes = Some("x\u{0}".into())),
        ("notify_url", |r| r.notify_url = Some("ftp://x".into())),
        ("notify_url", |r| {
            r.notify_url = Some("merchant.example/notify".into())
        }),
        ("notify_url", |r| {
            r.notify_url = Some("https://a.example/ b".into())
        }),
    ];
    for (field, mutate) in cases {
        let mut r = micropay();
        mutate(&mut r);
        rejects(r.validate(), field);
    }
}

#[test]
fn time_expire_boundary() {
    for (t, ok) in [
        (119, false),
        (120, true),
        (121, true),
        (86_400, true),
        (1, false),
    ] {
        let mut r = micropay();
        r.time_expire = Some(t);
        assert_eq!(r.validate().is_ok(), ok, "micropay TIME_EXPIRE {t}");
        let mut q = qr();
        q.time_expire = Some(t);
        assert_eq!(q.validate().is_ok(), ok, "order TIME_EXPIRE {t}");
        if !ok {
            rejects(q.validate(), "time_expire");
        }
    }
}

#[test]
fn charge_codes_that_break_a_path_are_refused_everywhere() {
    for bad in PATH_BREAKERS {
        let mut m = micropay();
        m.charge_code = (*bad).into();
        rejects(m.validate(), "charge_code");
        let mut o = qr();
        o.charge_code = (*bad).into();
        rejects(o.validate(), "charge_code");
        let mut r = refund();
        r.charge_code = Some((*bad).into());
        rejects(r.validate(), "charge_code");
        let mut r = refund();
        r.charge_code = None;
        r.charge_down_code = Some((*bad).into());
        rejects(r.validate(), "charge_down_code");
        let mut r = refund();
        r.out_refund_no = (*bad).into();
        rejects(r.validate(), "out_refund_no");
        rejects(QueryRequest::by_charge_code(*bad).validate(), "code");
        rejects(CancelRequest::new(*bad).validate(), "charge_code");
        rejects(validate_code("busi_id", bad), "busi_id");
    }
    // Length: 64 is the limit.
    validate_code("charge_code", &"a".repeat(64)).expect("64");
    rejects(validate_code("charge_code", &"a".repeat(65)), "charge_code");
    // What real codes look like passes.
    for good in [
        "E4E0D212-789B-4914-A4EB-19550F751066",
        "20151014100000000953",
        "a_b.c-9",
        "..a",
        "X",
    ] {
        validate_code("charge_code", good).expect(good);
        CancelRequest::new(good).validate().expect(good);
    }
}

#[test]
fn amounts_must_be_positive() {
    let mut m = micropay();
    m.amount = Amount::ZERO;
    rejects(m.validate(), "amount");
    let mut o = qr();
    o.amount = Amount::ZERO;
    rejects(o.validate(), "amount");
    let mut r = refund();
    r.refund_amount = Amount::ZERO;
    rejects(r.validate(), "refund_amount");
    // Negative amounts cannot even be built.
    rejects(Amount::from_fen_i64(-1).map(|_| ()), "amount");
    rejects(
        Amount::parse_yuan_named("-0.01", "refund_amount").map(|_| ()),
        "refund_amount",
    );
    // One fen and the maximum are fine.
    m.amount = fen(1);
    m.validate().expect("1 fen");
    m.amount = fen(Amount::MAX_FEN);
    m.validate().expect("max");
}

// ---------------------------------------------------------------------------------------------
// QR and JSAPI orders

#[test]
fn order_required_fields() {
    qr().validate().expect("minimal QR order");
    let cases: Vec<Case<OrderRequest>> = vec![
        ("charge_code", |r| r.charge_code.clear()),
        ("amount", |r| r.amount = Amount::ZERO),
        ("channel", |r| r.channel = Channel::Auto),
        ("channel", |r| r.channel = Channel::Unknown("x".into())),
        ("pay_subject", |r| r.pay_subject.clear()),
        ("oper_id", |r| r.oper_id.clear()),
        ("dev_id", |r| r.dev_id = " ".into()),
        ("merchant_para", |r| r.merchant_para = Some("a b".into())),
        ("notify_url", |r| {
            r.notify_url = Some("javascript:alert(1)".into())
        }),
        ("goods[0].quantity", |r| {
            r.goods = vec![Goods {
                quantity: 0,
                ..goods()
            }]
        }),
        ("trade_type", |r| {
            r.trade_type = Some(TradeType::Unknown("MWEB".into()))
        }),
        ("sub_appid", |r| r.sub_appid = Some("x".repeat(300))),
    ];
    for (field, mutate) in cases {
        let mut r = qr();
        mutate(&mut r);
        rejects(r.validate(), field);
    }
}

#[test]
fn jsapi_needs_sub_openid_and_wechat() {
    jsapi().validate().expect("valid JSAPI order");
    let mut r = jsapi();
    r.sub_openid = None;
    rejects(r.validate(), "sub_openid");
    let mut r = jsapi();
    r.sub_openid = Some("  ".into());
    rejects(r.validate(), "sub_openid");
    let mut r = jsapi();
    r.channel = Channel::Alipay;
    rejects(r.validate(), "channel");
    // A NATIVE order needs no openid.
    let mut r = qr();
    r.trade_type = Some(TradeType::Native);
    r.validate().expect("native");
}

// ---------------------------------------------------------------------------------------------
// Refund

/// A refund without its unique number could not be retried safely after a lost reply (each
/// attempt would be another refund), so the SDK never sends one, though the gateway would take it.
#[test]
fn refund_needs_out_refund_no() {
    let mut r = refund();
    r.out_refund_no = String::new();
    rejects(r.validate(), "out_refund_no");
    let e = r.validate().expect_err("no refund number").to_string();
    assert!(e.contains("is required") && e.contains("retrying"), "{e}");
    // As the gateway (and the sandbox) receives a refund: no number is accepted, a bad one not,
    // and every other field is still checked.
    r.validate_received()
        .expect("the gateway takes a refund without a number");
    r.out_refund_no = "a/b".into();
    rejects(r.validate_received(), "out_refund_no");
    r.out_refund_no = String::new();
    r.dev_id = String::new();
    rejects(r.validate_received(), "dev_id");
}

#[test]
fn refund_needs_charge_code_or_charge_down_code() {
    refund().validate().expect("by charge code");
    let mut r = refund();
    r.charge_code = None;
    rejects(r.validate(), "charge_code");
    r.charge_down_code = Some("20151014100000000953".into());
    r.validate().expect("by charge down code");
    r.charge_code = Some("C-1".into());
    r.validate().expect("both");
    // Empty is not "given".
    let mut r = refund();
    r.charge_code = Some(String::new());
    rejects(r.validate(), "charge_code");
}

#[test]
fn refund_required_fields() {
    let cases: Vec<Case<RefundRequest>> = vec![
        ("refund_amount", |r| r.refund_amount = Amount::ZERO),
        ("refund_subject", |r| r.refund_subject.clear()),
        ("oper_id", |r| r.oper_id.clear()),
        ("dev_id", |r| r.dev_id.clear()),
        ("out_refund_no", |r| r.out_refund_no = "x".repeat(65)),
    ];
    for (field, mutate) in cases {
        let mut r = refund();
        mutate(&mut r);
        rejects(r.validate(), field);
    }
}

// ---------------------------------------------------------------------------------------------
// Query, cancel, top-up

#[test]
fn query_and_cancel() {
    for t in [
        SerType::ChargeCode,
        SerType::ChargeDownCode,
        SerType::VerifyCode,
    ] {
        QueryRequest {
            code: "C-1".into(),
            ser_type: t,
        }
        .validate()
        .expect("ser type");
    }
    rejects(
        QueryRequest {
            code: "C-1".into(),
            ser_type: SerType::Unknown("3".into()),
        }
        .validate(),
        "ser_type",
    );
    rejects(QueryRequest::by_charge_code("").validate(), "code");
    CancelRequest {
        charge_code: "C-1".into(),
        apply: true,
    }
    .validate()
    .expect("ACO");
    rejects(CancelRequest::new("").validate(), "charge_code");
}

#[test]
fn flow_recharge() {
    let mut r = FlowRechargeRequest::new("13857142493", 10);
    r.validate().expect("valid");
    r.flow_type = Some("1".into());
    r.notify_url = Some("http://merchant.example/flow".into());
    r.validate().expect("all fields");
    let cases: Vec<Case<FlowRechargeRequest>> = vec![
        ("phone_no", |r| r.phone_no.clear()),
        ("phone_no", |r| r.phone_no = "138-5714-2493".into()),
        ("phone_no", |r| r.phone_no = "1".repeat(21)),
        ("flow_val", |r| r.flow_val = 0),
        ("flow_type", |r| r.flow_type = Some("2".into())),
        ("notify_url", |r| r.notify_url = Some("not a url".into())),
    ];
    for (field, mutate) in cases {
        let mut r = FlowRechargeRequest::new("13857142493", 10);
        mutate(&mut r);
        rejects(r.validate(), field);
    }
    let body: serde_json::Value =
        serde_json::from_str(&FlowRechargeRequest::new("13857142493", 10).to_wire_json())
            .expect("json");
    assert_eq!(
        body,
        serde_json::json!({"phoneNo": "13857142493", "flowVal": 10})
    );
}

// ---------------------------------------------------------------------------------------------
// Wire bodies

fn wire_json(n: &Node) -> serde_json::Map<String, serde_json::Value> {
    let text = n.to_json_value().to_string();
    match serde_json::from_str(&text).expect("json") {
        serde_json::Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// Every value is a JSON string, or a list/object of them.
fn assert_all_strings(v: &serde_json::Value, path: &str) {
    match v {
        serde_json::Value::String(_) => {}
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                assert_all_strings(x, &format!("{path}[{i}]"));
            }
        }
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                assert_all_strings(x, &format!("{path}.{k}"));
            }
        }
        other => panic!("{path} is {other}, not a JSON string"),
    }
}

fn keys(m: &serde_json::Map<String, serde_json::Value>) -> Vec<&str> {
    m.keys().map(String::as_str).collect()
}

#[test]
fn micropay_wire_body() {
    let mut r = micropay();
    r.register_id = Some("02016".into());
    r.merchant_para = Some("MDEwMDAwMDE=".into());
    r.time_expire = Some(120);
    r.goods = vec![goods()];
    r.verify_codes = Some("A1234455".into());
    r.notify_url = Some("https://merchant.example/n".into());
    let m = wire_json(&r.to_wire("0010000001"));
    assert_all_strings(&serde_json::Value::Object(m.clone()), "body");
    let mut k = keys(&m);
    k.sort_unstable();
    assert_eq!(
        k,
        [
            "AMT",
            "BUSI_ID",
            "CHANNEL_TYPE",
            "CHARGE_CODE",
            "DEV_ID",
            "DYNAMIC_ID",
            "DYNAMIC_ID_TYPE",
            "GOODS_DETAIL",
            "MERCHANTPARA",
            "NODIFY_URL",
            "OPER_ID",
            "PAY_SUBJECT",
            "REGISTER_ID",
            "TIME_EXPIRE",
            "verifyCodes"
        ]
    );
    assert_eq!(m["AMT"], "158.00");
    assert_eq!(m["BUSI_ID"], "0010000001");
    assert_eq!(m["CHANNEL_TYPE"], "0");
    assert_eq!(m["DYNAMIC_ID_TYPE"], "1");
    assert_eq!(m["TIME_EXPIRE"], "120");
    assert_eq!(m["verifyCodes"], "A1234455");
    assert_eq!(m["NODIFY_URL"], "https://merchant.example/n");
    let g = &m["GOODS_DETAIL"][0];
    assert_eq!(g["GOOD_PRICE"], "3.50", "GOOD_PRICE is yuan on the wire");
    assert_eq!(g["GOOD_QUANTITY"], "2");
    assert_eq!(g["GOOD_ID"], "2010");
    assert_eq!(g["GOOD_NAME"], "可乐");
    assert_eq!(g["GOOD_CLASS"], "饮料");
    assert_eq!(g["GOOD_SUBJECT"], "330ml");
    assert_eq!(g["GOOD_SHOWURL"], "https://shop.example/cola");

    // Unset optionals are left out, not sent empty.
    let m = wire_json(&micropay().to_wire("0010000001"));
    for absent in [
        "REGISTER_ID",
        "MERCHANTPARA",
        "TIME_EXPIRE",
        "GOODS_DETAIL",
        "verifyCodes",
        "NODIFY_URL",
    ] {
        assert!(!m.contains_key(absent), "{absent}");
    }
}

#[test]
fn order_and_jsapi_wire_bodies() {
    let m = wire_json(&qr().to_wire("0010000001"));
    assert_all_strings(&serde_json::Value::Object(m.clone()), "body");
    assert_eq!(m["AMT"], "0.01");
    assert_eq!(m["CHANNEL_TYPE"], "1");
    assert!(!m.contains_key("TRADE_TYPE"));
    assert!(!m.contains_key("subOpenid"));

    let mut r = jsapi();
    r.notify_url = Some("http://m.example/n?_type=json".into());
    r.goods = vec![goods(), goods()];
    let m = wire_json(&r.to_wire("0010000001"));
    assert_all_strings(&serde_json::Value::Object(m.clone()), "body");
    assert_eq!(m["TRADE_TYPE"], "JSAPI");
    assert_eq!(m["subAppid"], "wx77a451e8627239de");
    assert_eq!(m["subOpenid"], "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
    assert_eq!(m["CHANNEL_TYPE"], "2");
    assert_eq!(m["NODIFY_URL"], "http://m.example/n?_type=json");
    assert_eq!(m["GOODS_DETAIL"].as_array().map(Vec::len), Some(2));
    // No snake_case or differently-cased names leak onto the wire.
    for k in keys(&m) {
        assert!(
            [
                "BUSI_ID",
                "OPER_ID",
                "DEV_ID",
                "AMT",
                "CHANNEL_TYPE",
                "TRADE_TYPE",
                "subAppid",
                "subOpenid",
                "CHARGE_CODE",
                "NODIFY_URL",
                "PAY_SUBJECT",
                "GOODS_DETAIL"
            ]
            .contains(&k),
            "unexpected wire name {k}"
        );
    }
}

#[test]
fn refund_wire_body() {
    let mut r = refund();
    r.refund_amount = fen(15800);
    r.charge_down_code = Some("20151014100000000953".into());
    let m = wire_json(&r.to_wire("0010000001"));
    assert_all_strings(&serde_json::Value::Object(m.clone()), "body");
    assert_eq!(m["CHARGE_REFUND_FEE"], "158.00");
    assert_eq!(m["REFUND_SUBJECT"], "退款");
    assert_eq!(m["CHARGE_CODE"], "C-1");
    assert_eq!(m["CHARGE_DOWN_CODE"], "20151014100000000953");
    assert_eq!(m["OUT_REFUND_NO"], "R-1");
    assert_eq!(m["BUSI_ID"], "0010000001");
    assert_eq!(m["OPER_ID"], "oper01");
    assert_eq!(m["DEV_ID"], "dev01");
    assert_eq!(m.len(), 8);
}
