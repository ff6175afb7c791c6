//! The reply samples of the gateway document (§2.6, §3.6, §4.5, §5.3, §6.5, §7.3, §8.3, §9.5),
//! copied verbatim into `tests/fixtures/*.json`, and their XML forms written by hand from
//! PROTOCOL.md's XML rules (`tests/fixtures/*.xml`): both forms decode to the same typed values.

use std::path::PathBuf;

use sosopay::codec::Format;
use sosopay::models::{
    CancelReply, FlowRechargeReply, Notification, OrderReply, QueryReply, RefundReply, Reply,
};
use sosopay::{Amount, Channel, FundChannel, OrderState, ResultCode};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Both forms of fixture `stem`, checked to really be JSON and XML.
fn both(stem: &str) -> (String, String) {
    let json = fixture(&format!("{stem}.json"));
    let xml = fixture(&format!("{stem}.xml"));
    assert_eq!(Format::sniff(&json), Format::Json, "{stem}.json");
    assert_eq!(Format::sniff(&xml), Format::Xml, "{stem}.xml");
    (json, xml)
}

fn fen(n: u64) -> Amount {
    Amount::from_fen(n).expect("fen")
}

/// Decodes both forms of `stem` as `R`, asserts they are equal apart from `raw`, and that the
/// raw documents record the right format; returns the JSON form's value.
fn decode_both<R: Reply + PartialEq + std::fmt::Debug + Clone>(
    stem: &str,
    strip_raw: fn(&mut R),
) -> R {
    let (json, xml) = both(stem);
    let mut from_json = R::decode(&json).unwrap_or_else(|e| panic!("{stem}.json: {e}"));
    let mut from_xml = R::decode(&xml).unwrap_or_else(|e| panic!("{stem}.xml: {e}"));
    let keep = from_json.clone();
    strip_raw(&mut from_json);
    strip_raw(&mut from_xml);
    assert_eq!(from_json, from_xml, "{stem}: JSON and XML forms differ");
    keep
}

#[test]
fn micropay_order_resp_2_6() {
    let r: OrderReply = decode_both("micropay_order_resp", |r| r.raw = Default::default());
    assert_eq!(r.result.code, ResultCode::Success);
    assert!(r.result.into_result().is_ok());
    assert_eq!(r.result.info, "请求并支付成功!");
    assert_eq!(
        r.channel,
        Some(Channel::Wechat),
        "CHANNEL_TYPE 2 (a JSON number)"
    );
    assert_eq!(
        r.charge_code.as_deref(),
        Some("E4E0D212-789B-4914-A4EB-19550F751066")
    );
    assert_eq!(r.charge_down_code.as_deref(), Some("20151014100000000953"));
    assert_eq!(r.charge_third_code.as_deref(), Some("2088110245121545154"));
    // AMT in a reply is fen: 1 means 0.01 yuan.
    assert_eq!(r.amount, Some(fen(1)));
    assert_eq!(r.fund_bills.len(), 1);
    assert_eq!(r.fund_bills[0].fund_channel, FundChannel::WechatPay);
    // FUND_BILL_LIST.AMOUNT is yuan: "0.01" is 1 fen.
    assert_eq!(r.fund_bills[0].amount, fen(1));
    assert_eq!(r.oper_id.as_deref(), Some("TEST1"));
    assert_eq!(r.dev_id.as_deref(), Some("收银机1"));
    assert_eq!(r.begin_time.as_deref(), Some("2015-10-14 04:43:14"));
    assert_eq!(r.state, None);
    assert_eq!(r.bar_code, None);
    assert_eq!(r.jsapi, None);
    // The raw document is the JSON as sent (numbers stay numbers).
    assert_eq!(r.raw["ORDER_RESP"]["AMT"], serde_json::json!(1));
}

#[test]
fn qr_order_resp_3_6() {
    let r: OrderReply = decode_both("qr_order_resp", |r| r.raw = Default::default());
    assert_eq!(r.result.code, ResultCode::Success);
    assert_eq!(r.result.info, "请求成功!");
    assert_eq!(
        r.charge_code.as_deref(),
        Some("D3820833-F310-4658-BF98-52959454FCA0")
    );
    assert_eq!(r.charge_down_code.as_deref(), Some("20151014100000000950"));
    assert_eq!(
        r.bar_code.as_deref(),
        Some("weixin://wxpay/bizpayurl?pr=59tFp8e")
    );
    assert_eq!(r.amount, None);
    assert!(r.fund_bills.is_empty());
    assert_eq!(r.jsapi, None);
}

#[test]
fn jsapi_order_resp_4_5() {
    let r: OrderReply = decode_both("jsapi_order_resp", |r| r.raw = Default::default());
    assert_eq!(r.result.code, ResultCode::Success);
    assert_eq!(r.charge_down_code.as_deref(), Some("20151014100000000950"));
    let j = r.jsapi.expect("the six JSAPI parameters");
    assert_eq!(j.app_id, "wx77a451e8627239de");
    assert_eq!(j.time_stamp, "1465698073386");
    assert_eq!(j.nonce_str, "53f02f8bdb8942c382787e7ec0d09ab6");
    assert_eq!(j.package, "prepay_id=wx2016061210212283e40a2ca90319983999");
    assert_eq!(j.sign_type, "MD5");
    assert_eq!(j.pay_sign, "1C082A5DD99475AEED5938887F8AAC4D");
    assert_eq!(r.bar_code, None);
}

#[test]
fn pay_nodify_5_3() {
    let (json, xml) = both("pay_nodify");
    let n = Notification::decode(&json).expect("json notification");
    let x = Notification::decode(&xml).expect("xml notification");
    assert_eq!(n.order, x.order, "JSON and XML forms differ");
    let o = &n.order;
    assert_eq!(o.busi_id.as_deref(), Some("0010000001"));
    assert_eq!(
        o.charge_code.as_deref(),
        Some("1C88FADB-75D2-4517-9C38-F273D423FFF3")
    );
    assert_eq!(o.charge_down_code.as_deref(), Some("20151123100000095182"));
    assert_eq!(o.channel, Some(Channel::Alipay));
    assert_eq!(o.state, Some(OrderState::Paid));
    assert!(o.state.as_ref().is_some_and(OrderState::money_taken));
    assert_eq!(o.amount, Some(fen(1)));
    assert_eq!(o.real_amount, None);
    assert_eq!(o.oper_id.as_deref(), Some("TEST1"));
    assert_eq!(o.pay_subject.as_deref(), Some("搜搜商品1"));
    assert_eq!(o.dev_id.as_deref(), Some("QQQQ"));
    assert_eq!(o.merchant_para.as_deref(), Some("111111111111111111111111"));
    assert_eq!(o.fund_bills.len(), 1);
    assert_eq!(o.fund_bills[0].fund_channel, FundChannel::AlipayBalance);
    assert_eq!(o.fund_bills[0].amount, fen(1));
    assert!(o.goods.is_empty());
    assert_eq!(n.raw["PAY_NODIFY"]["STATE"], serde_json::json!(1));
    assert_eq!(x.raw["PAY_NODIFY"]["STATE"], serde_json::json!("1"));
}

#[test]
fn refund_resp_6_5() {
    let r: RefundReply = decode_both("refund_resp", |r| r.raw = Default::default());
    assert_eq!(r.result.code, ResultCode::Success);
    assert_eq!(r.result.info, "退款成功!");
    assert_eq!(r.channel, Some(Channel::Alipay));
    assert_eq!(r.fund_bills.len(), 1);
    assert_eq!(r.fund_bills[0].fund_channel, FundChannel::AlipayBalance);
    assert_eq!(r.fund_bills[0].amount, fen(1));
    assert_eq!(r.charge_code, None);
    assert_eq!(r.state, None);
}

#[test]
fn query_resp_7_3() {
    let r: QueryReply = decode_both("query_resp", |r| r.raw = Default::default());
    assert_eq!(r.result.code, ResultCode::Success);
    assert_eq!(r.result.info, "The query was successful");
    let o = &r.order;
    assert_eq!(o.busi_id.as_deref(), Some("0010000001"));
    assert_eq!(
        o.charge_code.as_deref(),
        Some("1FD7DA99-997C-4C27-99F9-40C1EC170D5C")
    );
    assert_eq!(o.charge_down_code.as_deref(), Some("20151014100000000952"));
    assert_eq!(o.channel, Some(Channel::Wechat));
    assert_eq!(o.state, Some(OrderState::Paid));
    // AMT 1 is fen; realAMT 0.01 (a JSON number) is yuan: both 1 fen.
    assert_eq!(o.amount, Some(fen(1)));
    assert_eq!(o.real_amount, Some(fen(1)));
    assert_eq!(o.dynamic_id.as_deref(), Some("130730865806264036"));
    assert_eq!(o.register_id.as_deref(), Some("02016"));
    assert_eq!(o.pay_subject.as_deref(), Some("SOUSHOU product 2"));
    assert_eq!(o.oper_id.as_deref(), Some("TEST1"));
    assert_eq!(o.dev_id.as_deref(), Some("Cash Register 1"));
    assert_eq!(o.begin_time.as_deref(), Some("2015-10-14 04:38:25"));
    assert_eq!(o.end_time.as_deref(), Some("2015-10-14 04:43:29"));
    assert_eq!(o.fund_bills.len(), 1);
    assert_eq!(o.fund_bills[0].fund_channel, FundChannel::WechatPay);
    assert_eq!(o.fund_bills[0].amount, fen(1));
    assert_eq!(
        o.goods.len(),
        2,
        "GOODS_DETAIL: a JSON array / repeated XML elements"
    );
    for g in &o.goods {
        assert_eq!(g.id, "product ID");
        assert_eq!(g.name, "product name");
        assert_eq!(g.class, "product type");
        assert_eq!(g.subject, "product description");
        assert_eq!(g.quantity, 5);
        // GOOD_PRICE is yuan: 2 is 200 fen.
        assert_eq!(g.price, fen(200));
        assert_eq!(g.show_url.as_deref(), Some("WWW.****.COM"));
    }
    // The unknown field is not lost.
    assert_eq!(
        r.raw["QUERY_RESP"]["dynamic_ID_TYPE_STR"],
        serde_json::json!("")
    );
}

#[test]
fn canceltrade_resp_8_3() {
    let r: CancelReply = decode_both("canceltrade_resp", |r| r.raw = Default::default());
    assert_eq!(r.result.code, ResultCode::Success);
    assert_eq!(r.result.info, "撤单成功");
    assert!(r.result.into_result().is_ok());
}

#[test]
fn flow_recharge_resp_9_5() {
    let (json, xml) = both("flow_recharge_resp");
    let mut j = FlowRechargeReply::decode(&json).expect("json");
    let mut x = FlowRechargeReply::decode(&xml).expect("xml");
    let raw = std::mem::take(&mut j.raw);
    x.raw = Default::default();
    assert_eq!(j, x, "JSON and XML forms differ");
    assert_eq!(j.result.code, ResultCode::Success);
    assert_eq!(j.result.info, "充值流量请求提交成功，请等待最终结果");
    let f = j.flow.expect("flow");
    assert_eq!(f.id.as_deref(), Some("20170112100000233510"));
    assert_eq!(f.phone_no.as_deref(), Some("13857142493"));
    assert_eq!(f.flow_val, Some(10));
    assert_eq!(f.flow_type.as_deref(), Some("0"));
    assert_eq!(f.order_id.as_deref(), Some("20170112100000233509"));
    assert_eq!(f.plat_order_id.as_deref(), Some("CT_201701129796"));
    assert_eq!(f.create_time.as_deref(), Some("2017-01-12 06:04:52"));
    assert_eq!(f.status.as_deref(), Some("1"));
    assert_eq!(f.busi_code.as_deref(), Some("0010000001"));
    assert_eq!(raw["flow"]["flowVal"], serde_json::json!(10));
}

/// Each JSON fixture, re-encoded by the codec as XML (and as JSON again), decodes to the same
/// typed value: the codec's own XML writer follows the same rules as the hand-written fixtures.
#[test]
fn fixtures_survive_codec_reencoding() {
    fn check<R: Reply + PartialEq + std::fmt::Debug>(stem: &str, strip_raw: fn(&mut R)) {
        let (json, _) = both(stem);
        let doc = Document::parse(&json).expect("json");
        let body = doc.root.get(R::ROOT).expect("root");
        let mut want = R::decode(&json).expect("decode");
        strip_raw(&mut want);
        for fmt in [Format::Json, Format::Xml] {
            let again = encode(fmt, R::ROOT, body);
            let mut got = R::decode(&again).unwrap_or_else(|e| panic!("{stem} via {fmt:?}: {e}"));
            strip_raw(&mut got);
            assert_eq!(got, want, "{stem} via {fmt:?}");
        }
    }
    use sosopay::codec::{encode, Document};
    check::<OrderReply>("micropay_order_resp", |r| r.raw = Default::default());
    check::<OrderReply>("qr_order_resp", |r| r.raw = Default::default());
    check::<OrderReply>("jsapi_order_resp", |r| r.raw = Default::default());
    check::<RefundReply>("refund_resp", |r| r.raw = Default::default());
    check::<QueryReply>("query_resp", |r| r.raw = Default::default());
    check::<CancelReply>("canceltrade_resp", |r| r.raw = Default::default());

    let (json, _) = both("pay_nodify");
    let n = Notification::decode(&json).expect("json");
    let body = Document::parse(&json).expect("json");
    let body = body.root.get(Notification::ROOT).expect("root");
    for fmt in [Format::Json, Format::Xml] {
        let again = encode(fmt, Notification::ROOT, body);
        assert_eq!(
            Notification::decode(&again).expect("re-encoded").order,
            n.order,
            "PAY_NODIFY via {fmt:?}"
        );
    }
}
