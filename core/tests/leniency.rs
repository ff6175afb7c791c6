//! Lenient decoding, per PROTOCOL.md "Things real replies do that a strict parser breaks on".

use sosopay::codec::Document;
use sosopay::models::{
    CancelReply, FlowRechargeReply, Notification, OrderReply, QueryReply, RefundReply, Reply,
};
use sosopay::{Amount, Channel, Error, FundChannel, OrderState, ResultCode};

fn fen(n: u64) -> Amount {
    Amount::from_fen(n).expect("fen")
}

fn order(body: &str) -> OrderReply {
    let text = format!(r#"{{"ORDER_RESP":{{"RESULT":{{"CODE":"SUCCESS","INFO":"ok"}},{body}}}}}"#);
    OrderReply::decode(&text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn query(body: &str) -> QueryReply {
    let text = format!(r#"{{"QUERY_RESP":{{"RESULT":{{"CODE":"SUCCESS","INFO":"ok"}},{body}}}}}"#);
    QueryReply::decode(&text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn query_xml(body: &str) -> QueryReply {
    let text = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><QUERY_RESP><RESULT><CODE>SUCCESS</CODE><INFO>ok</INFO></RESULT>{body}</QUERY_RESP>"
    );
    QueryReply::decode(&text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Numbers and strings interchange

#[test]
fn amt_number_or_string_is_fen() {
    assert_eq!(order(r#""AMT":1"#).amount, Some(fen(1)));
    assert_eq!(order(r#""AMT":"1""#).amount, Some(fen(1)));
    assert_eq!(order(r#""AMT":15800"#).amount, Some(fen(15800)));
    assert_eq!(order(r#""AMT":"15800""#).amount, Some(fen(15800)));
    assert_eq!(order(r#""AMT":" 15800 ""#).amount, Some(fen(15800)));
    // A whole number written as a serialised double (one zero decimal) is still whole fen.
    assert_eq!(order(r#""AMT":15800.0"#).amount, Some(fen(15800)));
    assert_eq!(order(r#""AMT":"15800.0""#).amount, Some(fen(15800)));
}

#[test]
fn amt_written_as_yuan_is_refused_not_read_as_fen() {
    // "12.00" is how yuan are written: read as fen it would be 100 times too small.
    for bad in [r#""AMT":"12.00""#, r#""AMT":"15800.00""#, r#""AMT":"0.01""#] {
        let text = format!(r#"{{"ORDER_RESP":{{"RESULT":{{"CODE":"SUCCESS"}},{bad}}}}}"#);
        let e = OrderReply::decode(&text).expect_err(bad);
        assert!(
            matches!(&e, Error::Decode { reason, .. } if reason.contains("written as yuan")),
            "{bad}: {e:?}"
        );
    }
}

#[test]
fn amt_that_is_not_whole_fen_is_a_decode_error() {
    for bad in [
        r#""AMT":1.5"#,
        r#""AMT":"-1""#,
        r#""AMT":-1"#,
        r#""AMT":"abc""#,
        r#""AMT":1e3"#,
        r#""AMT":"99999999999999999999999""#,
    ] {
        let text = format!(r#"{{"ORDER_RESP":{{"RESULT":{{"CODE":"SUCCESS"}},{bad}}}}}"#);
        let e = OrderReply::decode(&text).expect_err(bad);
        assert!(matches!(e, Error::Decode { .. }), "{bad}: {e:?}");
        assert!(e.to_string().contains("AMT"), "{bad}: {e}");
    }
}

#[test]
fn amount_number_or_string_is_yuan() {
    for (field, fen_) in [
        (r#""AMOUNT":0.01"#, 1),
        (r#""AMOUNT":"0.01""#, 1),
        (r#""AMOUNT":158"#, 15800),
        (r#""AMOUNT":"158.00""#, 15800),
        (r#""AMOUNT":0.1"#, 10),
        (r#""AMOUNT":"0.010""#, 1),
    ] {
        let r = order(&format!(
            r#""FUND_BILL_LIST":{{"TRADEFUNDBILL":[{{"FUND_CHANNEL":"10",{field}}}]}}"#
        ));
        assert_eq!(r.fund_bills.len(), 1, "{field}");
        assert_eq!(r.fund_bills[0].amount, fen(fen_), "{field}");
    }
}

#[test]
fn real_amt_number_or_string_is_yuan() {
    assert_eq!(query(r#""realAMT":0.01"#).order.real_amount, Some(fen(1)));
    assert_eq!(query(r#""realAMT":"0.01""#).order.real_amount, Some(fen(1)));
    assert_eq!(
        query(r#""realAMT":158"#).order.real_amount,
        Some(fen(15800))
    );
    assert_eq!(
        query(r#""realAMT":"1.5""#).order.real_amount,
        Some(fen(150))
    );
    // Sub-fen yuan cannot be represented exactly: rejected, not rounded.
    let e = QueryReply::decode(r#"{"QUERY_RESP":{"RESULT":{"CODE":"SUCCESS"},"realAMT":0.001}}"#)
        .expect_err("0.001 yuan");
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
}

#[test]
fn channel_state_and_goods_numbers_or_strings() {
    assert_eq!(order(r#""CHANNEL_TYPE":2"#).channel, Some(Channel::Wechat));
    assert_eq!(
        order(r#""CHANNEL_TYPE":"2""#).channel,
        Some(Channel::Wechat)
    );
    assert_eq!(
        order(r#""CHANNEL_TYPE":"02""#).channel,
        Some(Channel::Wechat)
    );
    assert_eq!(query(r#""STATE":1"#).order.state, Some(OrderState::Paid));
    assert_eq!(query(r#""STATE":"1""#).order.state, Some(OrderState::Paid));
    assert_eq!(
        query(r#""STATE":0"#).order.state,
        Some(OrderState::AwaitingPayment)
    );
    let q = query(
        r#""GOODS_DETAIL":[{"GOOD_ID":1,"GOOD_NAME":"n","GOOD_PRICE":2,"GOOD_QUANTITY":"3"},
                          {"GOOD_ID":"2","GOOD_NAME":"m","GOOD_PRICE":"2.50","GOOD_QUANTITY":4}]"#,
    );
    assert_eq!(q.order.goods.len(), 2);
    assert_eq!(q.order.goods[0].id, "1");
    assert_eq!(q.order.goods[0].price, fen(200));
    assert_eq!(q.order.goods[0].quantity, 3);
    assert_eq!(q.order.goods[1].price, fen(250));
    assert_eq!(q.order.goods[1].quantity, 4);
}

#[test]
fn fund_channel_number_or_string() {
    let r = order(
        r#""FUND_BILL_LIST":{"TRADEFUNDBILL":[{"FUND_CHANNEL":11,"AMOUNT":1},{"FUND_CHANNEL":"00","AMOUNT":"0.5"},{"FUND_CHANNEL":0,"AMOUNT":"0.5"}]}"#,
    );
    let got: Vec<_> = r
        .fund_bills
        .iter()
        .map(|b| b.fund_channel.clone())
        .collect();
    assert_eq!(
        got,
        [
            FundChannel::WechatPay,
            FundChannel::AlipayRedPacket,
            FundChannel::AlipayRedPacket
        ]
    );
    assert_eq!(r.fund_bills[0].amount, fen(100));
    assert_eq!(r.fund_bills[1].amount, fen(50));
}

// ---------------------------------------------------------------------------------------------
// A field given twice

#[test]
fn a_reply_giving_a_field_twice_with_different_values_is_refused() {
    // Awaiting payment or paid? Before, the first or the last spelling silently won (an exact
    // repeat: the last; a case variant: the first), so the same reply could read as paid.
    for body in [
        r#"{"QUERY_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"},"CHARGE_CODE":"A","STATE":"0","STATE":"1","AMT":"100"}}"#,
        r#"{"QUERY_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"},"CHARGE_CODE":"A","state":"0","STATE":"1","AMT":"100"}}"#,
        r#"{"QUERY_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"},"CHARGE_CODE":"A","STATE":"1","AMT":"100","amt":"1"}}"#,
        r#"{"QUERY_RESP":{"RESULT":{"CODE":"SUCCESS","code":"FAIL"},"CHARGE_CODE":"A","STATE":"1","AMT":"100"}}"#,
        "<QUERY_RESP><RESULT><CODE>SUCCESS</CODE></RESULT><CHARGE_CODE>A</CHARGE_CODE><STATE>0</STATE><state>1</state></QUERY_RESP>",
    ] {
        match QueryReply::decode(body) {
            Err(Error::Decode { reason, .. }) => {
                assert!(reason.contains("different values"), "{body}: {reason}")
            }
            other => panic!("{body}: {other:?}"),
        }
    }
    // The same value twice, or a blank one beside it, is not ambiguous.
    let q = QueryReply::decode(
        r#"{"QUERY_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok"},"CHARGE_CODE":"A","STATE":"1","state":"1","AMT":"","AMT":"100"}}"#,
    )
    .expect("no conflict");
    assert_eq!(q.order.state, Some(OrderState::Paid));
    assert_eq!(q.order.amount, Some(fen(100)));
    // In XML too, whichever comes first (the element was read blank when it came first).
    let q = QueryReply::decode(
        "<QUERY_RESP><RESULT><CODE>SUCCESS</CODE></RESULT><CHARGE_CODE>A</CHARGE_CODE><STATE/><state>1</state><AMT>100</AMT><amt/></QUERY_RESP>",
    )
    .expect("no conflict");
    assert_eq!(q.order.state, Some(OrderState::Paid));
    assert_eq!(q.order.amount, Some(fen(100)));
}

// ---------------------------------------------------------------------------------------------
// Field-name case

#[test]
fn field_names_match_case_insensitively() {
    let r =
        order(r#""charge_THIRD_CODE":"4200000001","Charge_Code":"C1","amt":"5","channel_type":1"#);
    assert_eq!(r.charge_third_code.as_deref(), Some("4200000001"));
    assert_eq!(r.charge_code.as_deref(), Some("C1"));
    assert_eq!(r.amount, Some(fen(5)));
    assert_eq!(r.channel, Some(Channel::Alipay));

    // The root, RESULT and its children too.
    let r = RefundReply::decode(r#"{"refund_resp":{"result":{"code":"SUCCESS","info":"ok"},"fund_bill_list":{"tradefundbill":[{"fund_channel":"10","amount":"0.01"}]}}}"#)
        .expect("lower-case refund reply");
    assert!(r.result.code.is_success());
    assert_eq!(r.result.info, "ok");
    assert_eq!(r.fund_bills.len(), 1);
    assert_eq!(r.fund_bills[0].amount, fen(1));

    // XML element names likewise.
    let q = query_xml("<charge_THIRD_CODE>T1</charge_THIRD_CODE><realamt>0.02</realamt>");
    assert_eq!(q.order.charge_third_code.as_deref(), Some("T1"));
    assert_eq!(q.order.real_amount, Some(fen(2)));

    // Notifications and top-up replies.
    let n = Notification::decode(r#"{"pay_nodify":{"charge_code":"C9","Amt":7,"state":"1"}}"#)
        .expect("lower-case notification");
    assert_eq!(n.order.charge_code.as_deref(), Some("C9"));
    assert_eq!(n.order.amount, Some(fen(7)));
    assert_eq!(n.order.state, Some(OrderState::Paid));
    let f = FlowRechargeReply::decode(
        r#"{"RESULT":{"CODE":"FAIL","INFO":"x"},"FLOW":{"PHONENO":"13800000000","FLOWVAL":"20"}}"#,
    )
    .expect("upper-case flow reply");
    assert_eq!(f.result.code, ResultCode::Fail);
    let flow = f.flow.expect("flow");
    assert_eq!(flow.phone_no.as_deref(), Some("13800000000"));
    assert_eq!(flow.flow_val, Some(20));
}

// ---------------------------------------------------------------------------------------------
// Result codes

#[test]
fn sucess_and_success_both_mean_success() {
    for code in ["SUCCESS", "SUCESS", "success", " SUCCESS "] {
        let text = format!(r#"{{"CANCELTRADE_RESP":{{"RESULT":{{"CODE":"{code}","INFO":"x"}}}}}}"#);
        let r = CancelReply::decode(&text).expect("decode");
        assert_eq!(r.result.code, ResultCode::Success, "{code:?}");
        assert!(r.result.into_result().is_ok());
    }
    let x =
        "<CANCELTRADE_RESP><RESULT><CODE>SUCESS</CODE><INFO>x</INFO></RESULT></CANCELTRADE_RESP>";
    assert!(CancelReply::decode(x)
        .expect("xml")
        .result
        .code
        .is_success());
}

#[test]
fn failure_codes_become_gateway_errors_with_code_and_info() {
    let r = CancelReply::decode(
        r#"{"CANCELTRADE_RESP":{"RESULT":{"CODE":"AREADY_REVOKED","INFO":"该订单已经撤销"}}}"#,
    )
    .expect("decode");
    assert_eq!(r.result.code, ResultCode::AreadyRevoked);
    let e = r.result.into_result().expect_err("not success");
    assert_eq!(
        e,
        Error::Gateway {
            code: ResultCode::AreadyRevoked,
            info: "该订单已经撤销".into(),
            operation: String::new(),
        }
    );
    assert!(e.to_string().contains("AREADY_REVOKED"));
    assert!(e.to_string().contains("该订单已经撤销"));
    assert!(!e.outcome_unknown());

    for (code, unknown) in [
        ("SERVICE_UNAVAILABLE", true),
        ("IO_EXCEPTION", true),
        ("EXCEPTION", true),
        ("DATABASE_ERROR", true),
        ("SERIAL_REPEAT", true),
        ("A_CODE_FROM_2030", true),
        ("FAIL", false),
        ("ILLEGAL_PARAMETER", false),
        ("INVALID_SIGN", false),
        ("AMT_ERROR", false),
        ("CHARGE_NONEXISTENT", false),
    ] {
        let text = format!(r#"{{"ORDER_RESP":{{"RESULT":{{"CODE":"{code}","INFO":"i"}}}}}}"#);
        let r = OrderReply::decode(&text).expect("decode");
        assert_eq!(r.result.code.outcome_unknown(), unknown, "{code}");
        assert_eq!(r.result.code.definitely_failed(), !unknown, "{code}");
        let e = r.result.into_result().expect_err(code);
        assert_eq!(e.outcome_unknown(), unknown, "{code}");
    }
}

#[test]
fn missing_result_or_code_is_a_decode_error() {
    for text in [
        r#"{"ORDER_RESP":{"CHARGE_CODE":"C1"}}"#,
        r#"{"ORDER_RESP":{"RESULT":{"INFO":"no code"}}}"#,
        r#"{"ORDER_RESP":{"RESULT":{"CODE":""}}}"#,
        r#"{"ORDER_RESP":{"RESULT":"SUCCESS"}}"#,
        r#"{"OTHER":1}"#,
        r#"[]"#,
        r#""SUCCESS""#,
        "",
        "<ORDER_RESP><RESULT/></ORDER_RESP>",
    ] {
        let e = OrderReply::decode(text).expect_err(text);
        assert!(matches!(e, Error::Decode { .. }), "{text}: {e:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Unknown fields and nested objects

#[test]
fn unknown_fields_are_ignored_but_kept_in_raw() {
    let text = r#"{"ORDER_RESP":{"RESULT":{"CODE":"SUCCESS","INFO":"ok","TRACE":"abc"},
        "AMT":1,
        "BUYER":{"ID":"2088","LOGON":{"NAME":"x","TAGS":[1,2,{"deep":null}]}},
        "CHANNEL_RAW":"{\"trade_no\":\"1\"}",
        "NEW_LIST":[1,"2",3.25],
        "NEW_FLAG":true,
        "GMT_PAYMENT":"2024-01-01 12:00:00"}}"#;
    let r = OrderReply::decode(text).expect("decode");
    assert_eq!(r.amount, Some(fen(1)));
    assert!(r.result.code.is_success());
    let body = &r.raw["ORDER_RESP"];
    assert_eq!(body["BUYER"]["LOGON"]["NAME"], "x");
    assert_eq!(
        body["BUYER"]["LOGON"]["TAGS"][2]["deep"],
        serde_json::Value::Null
    );
    assert_eq!(body["NEW_LIST"][2], serde_json::json!(3.25));
    assert_eq!(body["NEW_FLAG"], serde_json::json!(true));
    assert_eq!(body["RESULT"]["TRACE"], "abc");
    // The raw document is exactly the JSON received.
    let expected: serde_json::Value = serde_json::from_str(text).expect("json");
    assert_eq!(r.raw, expected);

    // The same in XML: unknown elements, nested and with attributes, are skipped.
    let x = r#"<?xml version="1.0" encoding="UTF-8"?>
<ORDER_RESP>
  <RESULT><CODE>SUCCESS</CODE><INFO>ok</INFO></RESULT>
  <BUYER kind="alipay"><ID>2088</ID><LOGON><NAME>x</NAME></LOGON></BUYER>
  <AMT>1</AMT>
  <!-- a comment -->
  <NOTE><![CDATA[<not> & markup]]></NOTE>
</ORDER_RESP>"#;
    let r = OrderReply::decode(x).expect("xml");
    assert_eq!(r.amount, Some(fen(1)));
    assert_eq!(r.raw["ORDER_RESP"]["BUYER"]["LOGON"]["NAME"], "x");
    assert_eq!(r.raw["ORDER_RESP"]["NOTE"], "<not> & markup");
}

#[test]
fn unknown_fields_in_notifications_and_queries_are_kept() {
    let n = Notification::decode(
        r#"{"PAY_NODIFY":{"CHARGE_CODE":"C1","AMT":"100","EXTRA":{"openid":"o-1"},"STATE":1}}"#,
    )
    .expect("decode");
    assert_eq!(n.order.amount, Some(fen(100)));
    assert_eq!(n.raw["PAY_NODIFY"]["EXTRA"]["openid"], "o-1");
    let q = query(r#""dynamic_ID_TYPE_STR":"","X":{"Y":[{"Z":1}]}"#);
    assert_eq!(q.raw["QUERY_RESP"]["X"]["Y"][0]["Z"], serde_json::json!(1));
}

// ---------------------------------------------------------------------------------------------
// FUND_BILL_LIST shapes

fn bills_json(list: &str) -> Vec<(FundChannel, u64)> {
    order(&format!(r#""FUND_BILL_LIST":{list}"#))
        .fund_bills
        .into_iter()
        .map(|b| (b.fund_channel, b.amount.fen()))
        .collect()
}

fn bills_xml(list: &str) -> Vec<(FundChannel, u64)> {
    let text = format!(
        "<ORDER_RESP><RESULT><CODE>SUCCESS</CODE></RESULT><FUND_BILL_LIST>{list}</FUND_BILL_LIST></ORDER_RESP>"
    );
    OrderReply::decode(&text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .fund_bills
        .into_iter()
        .map(|b| (b.fund_channel, b.amount.fen()))
        .collect()
}

#[test]
fn fund_bill_list_shapes_json() {
    let two = vec![
        (FundChannel::AlipayBalance, 100),
        (FundChannel::DiscountVoucher, 58),
    ];
    // The documented shape: an object holding a list.
    assert_eq!(
        bills_json(
            r#"{"TRADEFUNDBILL":[{"FUND_CHANNEL":"10","AMOUNT":"1.00"},{"FUND_CHANNEL":"40","AMOUNT":"0.58"}]}"#
        ),
        two
    );
    // An object holding a single object (XML converted to JSON by a proxy).
    assert_eq!(
        bills_json(r#"{"TRADEFUNDBILL":{"FUND_CHANNEL":"10","AMOUNT":"1.00"}}"#),
        vec![(FundChannel::AlipayBalance, 100)]
    );
    // A bare list of items, or of holders.
    assert_eq!(
        bills_json(
            r#"[{"FUND_CHANNEL":"10","AMOUNT":"1.00"},{"FUND_CHANNEL":"40","AMOUNT":0.58}]"#
        ),
        two
    );
    // A list of holders is the list given more than once (as an XML FUND_BILL_LIST repeated):
    // the same bills twice are those bills; different ones cannot be told apart (below).
    assert_eq!(
        bills_json(
            r#"[{"TRADEFUNDBILL":[{"FUND_CHANNEL":"10","AMOUNT":"1.00"},{"FUND_CHANNEL":"40","AMOUNT":"0.58"}]},{"TRADEFUNDBILL":[{"FUND_CHANNEL":"10","AMOUNT":"1.00"},{"FUND_CHANNEL":"40","AMOUNT":0.58}]},{}]"#
        ),
        two
    );
    // A single bare item.
    assert_eq!(
        bills_json(r#"{"FUND_CHANNEL":"10","AMOUNT":"1.00"}"#),
        vec![(FundChannel::AlipayBalance, 100)]
    );
    // Empty forms.
    for empty in [
        r#"{}"#,
        r#"[]"#,
        r#""""#,
        "null",
        r#"{"TRADEFUNDBILL":[]}"#,
        r#"{"TRADEFUNDBILL":null}"#,
    ] {
        assert_eq!(bills_json(empty), vec![], "{empty}");
    }
}

#[test]
fn fund_bill_list_shapes_xml() {
    let one = "<TRADEFUNDBILL><FUND_CHANNEL>11</FUND_CHANNEL><AMOUNT>0.01</AMOUNT></TRADEFUNDBILL>";
    let other = "<TRADEFUNDBILL><FUND_CHANNEL>41</FUND_CHANNEL><AMOUNT>2</AMOUNT></TRADEFUNDBILL>";
    assert_eq!(bills_xml(one), vec![(FundChannel::WechatPay, 1)]);
    assert_eq!(
        bills_xml(&format!("{one}{other}")),
        vec![
            (FundChannel::WechatPay, 1),
            (FundChannel::WechatCoupon, 200)
        ]
    );
    assert_eq!(
        bills_xml(&format!("{one}{other}{one}")).len(),
        3,
        "three repeated items"
    );
    assert_eq!(bills_xml(""), vec![]);
    assert_eq!(bills_xml("   \n  "), vec![]);
}

// ---------------------------------------------------------------------------------------------
// Empty optionals

#[test]
fn empty_and_missing_optionals_read_as_none() {
    let r = order(
        r#""CHARGE_CODE":"","CHARGE_THIRD_CODE":null,"AMT":"","CHANNEL_TYPE":" ","STATE":null,"BAR_CODE":"","FUND_BILL_LIST":"""#,
    );
    assert_eq!(r.charge_code, None);
    assert_eq!(r.charge_third_code, None);
    assert_eq!(r.amount, None);
    assert_eq!(r.channel, None);
    assert_eq!(r.state, None);
    assert_eq!(r.bar_code, None);
    assert!(r.fund_bills.is_empty());
    assert_eq!(r.jsapi, None);

    let q = query_xml("<CHARGE_CODE/><AMT></AMT><realAMT> </realAMT><STATE/><GOODS_DETAIL/><FUND_BILL_LIST/><END_TIME></END_TIME>");
    assert_eq!(q.order.charge_code, None);
    assert_eq!(q.order.amount, None);
    assert_eq!(q.order.real_amount, None);
    assert_eq!(q.order.state, None);
    assert!(q.order.goods.is_empty());
    assert!(q.order.fund_bills.is_empty());
    assert_eq!(q.order.end_time, None);

    // A bare RESULT and nothing else.
    let r = OrderReply::decode(r#"{"ORDER_RESP":{"RESULT":{"CODE":"FAIL"}}}"#).expect("decode");
    assert_eq!(r.result.info, "");
    assert_eq!(r.charge_code, None);
}

// ---------------------------------------------------------------------------------------------
// Unknown dictionary codes

#[test]
fn unknown_codes_are_kept_raw() {
    let r = order(
        r#""CHANNEL_TYPE":"99","STATE":"42","FUND_BILL_LIST":{"TRADEFUNDBILL":[{"FUND_CHANNEL":"7777","AMOUNT":"0.01"}]}"#,
    );
    assert_eq!(r.channel, Some(Channel::Unknown("99".into())));
    assert_eq!(r.state, Some(OrderState::Unknown("42".into())));
    assert_eq!(
        r.fund_bills[0].fund_channel,
        FundChannel::Unknown("7777".into())
    );
    assert_eq!(r.fund_bills[0].fund_channel.as_wire(), "7777");

    let text = r#"{"REFUND_RESP":{"RESULT":{"CODE":"REFUND_LIMITED","INFO":"new"}}}"#;
    let r = RefundReply::decode(text).expect("decode");
    assert_eq!(r.result.code, ResultCode::Unknown("REFUND_LIMITED".into()));
    assert_eq!(r.result.code.as_wire(), "REFUND_LIMITED");
    let e = r.result.into_result().expect_err("not success");
    assert!(e.to_string().contains("REFUND_LIMITED"));
    // Not knowing a code means not knowing the outcome.
    assert!(e.outcome_unknown());

    let q = query(r#""CHANNEL_TYPE":"ALIPAY_NEW","STATE":"PAID""#);
    assert_eq!(q.order.channel, Some(Channel::Unknown("ALIPAY_NEW".into())));
    assert_eq!(q.order.state, Some(OrderState::Unknown("PAID".into())));
}

#[test]
fn every_known_code_round_trips_through_its_wire_text() {
    for c in ResultCode::KNOWN {
        assert_eq!(&ResultCode::from_wire(c.as_wire()), c);
    }
    for c in OrderState::KNOWN {
        assert_eq!(&OrderState::from_wire(c.as_wire()), c);
    }
    for c in Channel::KNOWN {
        assert_eq!(&Channel::from_wire(c.as_wire()), c);
    }
    for c in FundChannel::KNOWN {
        assert_eq!(&FundChannel::from_wire(c.as_wire()), c);
    }
    for c in sosopay::DynamicIdType::KNOWN {
        assert_eq!(&sosopay::DynamicIdType::from_wire(c.as_wire()), c);
    }
    assert_eq!(ResultCode::KNOWN.len(), 16);
    assert_eq!(OrderState::KNOWN.len(), 10);
    assert_eq!(Channel::KNOWN.len(), 12);
}

// ---------------------------------------------------------------------------------------------
// Odd but valid documents

#[test]
fn bom_whitespace_and_bare_bodies() {
    let r = CancelReply::decode(
        "\u{feff}  \n{\"CANCELTRADE_RESP\":{\"RESULT\":{\"CODE\":\"SUCCESS\"}}}",
    )
    .expect("BOM + whitespace");
    assert!(r.result.code.is_success());
    let r = CancelReply::decode("\u{feff}<?xml version=\"1.0\"?>\n<CANCELTRADE_RESP><RESULT><CODE>SUCCESS</CODE></RESULT></CANCELTRADE_RESP>\n")
        .expect("xml BOM");
    assert!(r.result.code.is_success());
    // A body without its root key.
    let r = QueryReply::decode(r#"{"RESULT":{"CODE":"FAIL","INFO":"x"}}"#).expect("bare");
    assert_eq!(r.result.code, ResultCode::Fail);
}

#[test]
fn a_bare_body_is_no_cancel_confirmation_and_none_beside_another_reply() {
    // A cancel's reply shows no order to check it by: without its root (a bare RESULT, a
    // top-up's lower-case `result`) it is not taken as an answer, as under another root.
    for bare in [
        r#"{"RESULT":{"CODE":"SUCCESS","INFO":"ok"}}"#,
        r#"{"result":{"CODE":"SUCCESS","INFO":"ok"},"flow":{"phoneNo":"13800138000"}}"#,
        r#"<?xml version="1.0"?><RESULT><CODE>SUCCESS</CODE><INFO>ok</INFO></RESULT>"#,
        r#"{"RESULT":{"CODE":"AREADY_REVOKED"},"CHARGE_CODE":"C-1"}"#,
    ] {
        let e = CancelReply::decode(bare).expect_err(bare);
        assert!(matches!(e, Error::Decode { .. }), "{bare}: {e:?}");
    }
    // A RESULT beside another operation's root: which answers cannot be told, for any reply.
    let mixed = r#"{"REFUND_RESP":{"RESULT":{"CODE":"SUCCESS"}},"RESULT":{"CODE":"SUCCESS"}}"#;
    let e = CancelReply::decode(mixed).expect_err("cancel");
    assert!(e.to_string().contains("beside a REFUND_RESP"), "{e}");
    let e = QueryReply::decode(mixed).expect_err("query");
    assert!(e.to_string().contains("beside a REFUND_RESP"), "{e}");
    // A refusal without its root is read as one (it confirms nothing).
    let refused =
        CancelReply::decode(r#"{"RESULT":{"CODE":"FAIL","INFO":"no"}}"#).expect("bare FAIL");
    assert_eq!(refused.result.code, ResultCode::Fail);
    // Its own root beside another answer: two answers, whichever order they come in.
    for two in [
        r#"{"CANCELTRADE_RESP":{"RESULT":{"CODE":"SUCCESS"}},"RESULT":{"CODE":"FAIL","INFO":"no"}}"#,
        r#"{"RESULT":{"CODE":"FAIL"},"CANCELTRADE_RESP":{"RESULT":{"CODE":"SUCCESS"}}}"#,
        r#"{"CANCELTRADE_RESP":{"RESULT":{"CODE":"SUCCESS"}},"REFUND_RESP":{"RESULT":{"CODE":"FAIL"}}}"#,
    ] {
        let e = CancelReply::decode(two).expect_err(two);
        assert!(e.to_string().contains("two answers"), "{two}: {e}");
    }
    let paid_and_none = r#"{"QUERY_RESP":{"RESULT":{"CODE":"SUCCESS"},"CHARGE_CODE":"A","STATE":"1"},"RESULT":{"CODE":"CHARGE_NONEXISTENT"}}"#;
    assert!(QueryReply::decode(paid_and_none).is_err());
}

#[test]
fn fund_bill_lists_that_cannot_be_read_are_refused_never_read_as_none() {
    let refund = |text: &str| RefundReply::decode(text);
    let bill =
        "<TRADEFUNDBILL><FUND_CHANNEL>10</FUND_CHANNEL><AMOUNT>0.50</AMOUNT></TRADEFUNDBILL>";
    let xml = |lists: &str| {
        format!("<REFUND_RESP><RESULT><CODE>SUCCESS</CODE></RESULT><OUT_REFUND_NO>RF-1</OUT_REFUND_NO>{lists}</REFUND_RESP>")
    };
    // The list repeated with the same bills: those bills, once (never 0.50 + 0.50).
    let same = xml(&format!(
        "<FUND_BILL_LIST>{bill}</FUND_BILL_LIST><FUND_BILL_LIST>{bill}</FUND_BILL_LIST>"
    ));
    let r = refund(&same).expect("the same list twice");
    assert_eq!(
        r.fund_bills
            .iter()
            .map(|b| b.amount.fen())
            .collect::<Vec<_>>(),
        vec![50]
    );
    // ... with other bills: which list holds cannot be told.
    let other = bill.replace("0.50", "1.00");
    let differ = xml(&format!(
        "<FUND_BILL_LIST>{bill}</FUND_BILL_LIST><FUND_BILL_LIST>{other}</FUND_BILL_LIST>"
    ));
    let e = refund(&differ).expect_err("two lists");
    assert!(
        e.to_string()
            .contains("FUND_BILL_LIST is given more than once"),
        "{e}"
    );
    // Shapes holding no bill that can be read, yet not empty: refused, not "no bills".
    for list in [
        r#"{"BILL":[{"AMOUNT":"0.01"}]}"#,
        r#"["0.50","0.50"]"#,
        r#""1.00""#,
        r#"{"TRADEFUNDBILL":["1.00"]}"#,
        r#"{"TRADEFUNDBILL":[{"X":"1"}]}"#,
    ] {
        let text = format!(
            r#"{{"REFUND_RESP":{{"RESULT":{{"CODE":"SUCCESS"}},"FUND_BILL_LIST":{list}}}}}"#
        );
        let e = refund(&text).expect_err(list);
        assert!(e.to_string().contains("not a fund bill"), "{list}: {e}");
    }
    // A holder holds its list and nothing else; holders and bare bills are not mixed.
    let a = r#"{"FUND_CHANNEL":"10","AMOUNT":"0.50"}"#;
    for list in [
        format!(r#"{{"TRADEFUNDBILL":[{a}],"FUND_CHANNEL":"30","AMOUNT":"0.50"}}"#),
        format!(r#"{{"TRADEFUNDBILL":[{a}],"BILL":[{a}]}}"#),
        format!(r#"[{{"TRADEFUNDBILL":[{a}]}},{a},{a}]"#),
    ] {
        let text = format!(
            r#"{{"REFUND_RESP":{{"RESULT":{{"CODE":"SUCCESS"}},"FUND_BILL_LIST":{list}}}}}"#
        );
        let e = refund(&text).expect_err(&list);
        assert!(
            e.to_string().contains("beside its TRADEFUNDBILL list"),
            "{list}: {e}"
        );
    }
    let beside_xml = xml(&format!(
        "<FUND_BILL_LIST><FUND_CHANNEL>30</FUND_CHANNEL><AMOUNT>0.50</AMOUNT>{bill}</FUND_BILL_LIST>"
    ));
    assert!(refund(&beside_xml).is_err());
    // Empty copies and empty items add nothing, in XML as in JSON.
    let empty_copy = xml(&format!(
        "<FUND_BILL_LIST/><FUND_BILL_LIST>{bill}</FUND_BILL_LIST>"
    ));
    assert_eq!(
        refund(&empty_copy).expect("an empty copy").fund_bills.len(),
        1
    );
    for list in [
        format!(r#"[null,{{"TRADEFUNDBILL":[{a}]}}]"#),
        format!(r#"{{"TRADEFUNDBILL":[null,{a}]}}"#),
    ] {
        let text = format!(
            r#"{{"REFUND_RESP":{{"RESULT":{{"CODE":"SUCCESS"}},"FUND_BILL_LIST":{list}}}}}"#
        );
        assert_eq!(refund(&text).expect(&list).fund_bills.len(), 1, "{list}");
    }
    // A notification refuses a list given twice at all (any repeated field is refused there).
    let n = "<PAY_NODIFY><CHARGE_CODE>C</CHARGE_CODE><STATE>1</STATE><AMT>50</AMT>";
    let twice = format!("{n}<FUND_BILL_LIST>{bill}</FUND_BILL_LIST><FUND_BILL_LIST>{bill}</FUND_BILL_LIST></PAY_NODIFY>");
    let e = Notification::decode(&twice).expect_err("notification");
    assert!(
        e.to_string()
            .contains("<FUND_BILL_LIST> is given more than once"),
        "{e}"
    );
}

#[test]
fn xml_dtds_and_entities_are_refused() {
    for x in [
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><ORDER_RESP><RESULT><CODE>&x;</CODE></RESULT></ORDER_RESP>",
        "<!DOCTYPE ORDER_RESP><ORDER_RESP><RESULT><CODE>SUCCESS</CODE></RESULT></ORDER_RESP>",
        "<ORDER_RESP><RESULT><CODE>&unknown;</CODE></RESULT></ORDER_RESP>",
    ] {
        let e = OrderReply::decode(x).expect_err(x);
        assert!(matches!(e, Error::Decode { .. }), "{x}: {e:?}");
    }
    // The five predefined entities and character references are fine.
    let r = OrderReply::decode(
        "<ORDER_RESP><RESULT><CODE>SUCCESS</CODE><INFO>&lt;a&gt; &amp; &quot;b&quot; &apos;c&apos; &#x4E2D;&#25991;</INFO></RESULT></ORDER_RESP>",
    )
    .expect("entities");
    assert_eq!(r.result.info, "<a> & \"b\" 'c' 中文");
}

#[test]
fn malformed_documents_are_decode_errors() {
    for text in [
        "{",
        "{\"ORDER_RESP\":",
        "<ORDER_RESP>",
        "<ORDER_RESP><RESULT></ORDER_RESP>",
        "<ORDER_RESP></ORDER_RESP><X/>",
        "<a><b></a></b>",
        "text",
        "<>",
    ] {
        let e = Document::parse(text).and_then(|_| OrderReply::decode(text).map(|_| ()));
        assert!(matches!(e, Err(Error::Decode { .. })), "{text:?}: {e:?}");
    }
    // Deep nesting is bounded, not a stack overflow.
    let deep_xml = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
    assert!(Document::parse(&deep_xml).is_err());
    let deep_json = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(Document::parse(&deep_json).is_err());
    let deep_obj = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    assert!(Document::parse(&deep_obj).is_err());
}

#[test]
fn empty_fund_bill_placeholders_are_not_bills() {
    assert_eq!(bills_json(r#"{"TRADEFUNDBILL":{}}"#), vec![]);
    assert_eq!(
        bills_json(r#"{"TRADEFUNDBILL":[{},{"FUND_CHANNEL":"","AMOUNT":""}]}"#),
        vec![]
    );
    assert_eq!(bills_xml("<TRADEFUNDBILL/>"), vec![]);
    assert_eq!(bills_xml("<TRADEFUNDBILL><X></X></TRADEFUNDBILL>"), vec![]);
    // A bill with a channel but no amount is still a bill (of zero).
    assert_eq!(
        bills_json(r#"{"TRADEFUNDBILL":[{"FUND_CHANNEL":"10"}]}"#),
        vec![(FundChannel::AlipayBalance, 0)]
    );
}

#[test]
fn a_fund_bill_giving_its_amount_twice_is_refused_in_xml_as_in_json() {
    let refund = |body: &str| {
        RefundReply::decode(&format!(
            "<REFUND_RESP><RESULT><CODE>SUCCESS</CODE></RESULT><FUND_BILL_LIST>{body}</FUND_BILL_LIST></REFUND_RESP>"
        ))
    };
    let refund_json = |bill: &str| {
        RefundReply::decode(&format!(
            r#"{{"REFUND_RESP":{{"RESULT":{{"CODE":"SUCCESS"}},"FUND_BILL_LIST":{{"TRADEFUNDBILL":[{bill}]}}}}}}"#
        ))
    };
    // Which amount was refunded cannot be told: never an empty placeholder (which would skip
    // the refund-amount check), with or without a channel, in XML and in JSON.
    for xml in [
        "<TRADEFUNDBILL><AMOUNT>5.00</AMOUNT><AMOUNT>9.00</AMOUNT></TRADEFUNDBILL>",
        "<TRADEFUNDBILL><FUND_CHANNEL>10</FUND_CHANNEL><AMOUNT>5.00</AMOUNT><AMOUNT>9.00</AMOUNT></TRADEFUNDBILL>",
        "<TRADEFUNDBILL><AMOUNT>5.00</AMOUNT><amount>9.00</amount></TRADEFUNDBILL>",
        "<TRADEFUNDBILL><FUND_CHANNEL>10</FUND_CHANNEL><FUND_CHANNEL>30</FUND_CHANNEL><AMOUNT>5.00</AMOUNT></TRADEFUNDBILL>",
    ] {
        match refund(xml) {
            Err(Error::Decode { reason, .. }) => {
                assert!(reason.contains("different values"), "{xml}: {reason}")
            }
            other => panic!("{xml}: {other:?}"),
        }
    }
    for json in [
        r#"{"AMOUNT":"5.00","AMOUNT":"9.00"}"#,
        r#"{"FUND_CHANNEL":"10","AMOUNT":"5.00","amount":"9.00"}"#,
        r#"{"AMOUNT":["5.00","9.00"]}"#,
        r#"{"FUND_CHANNEL":"10","AMOUNT":{"V":"5.00"}}"#,
        r#"{"FUND_CHANNEL":["10","30"],"AMOUNT":"5.00"}"#,
    ] {
        match refund_json(json) {
            Err(Error::Decode { reason, .. }) => {
                assert!(
                    reason.contains("AMOUNT")
                        || reason.contains("FUND_CHANNEL")
                        || reason.contains("amount"),
                    "{json}: {reason}"
                )
            }
            other => panic!("{json}: {other:?}"),
        }
    }
    // The same value again says one thing: that amount (as a JSON field given twice with one
    // value is).
    for xml in [
        "<TRADEFUNDBILL><AMOUNT>5.00</AMOUNT><AMOUNT>5.00</AMOUNT></TRADEFUNDBILL>",
        "<TRADEFUNDBILL><AMOUNT>5.00</AMOUNT><AMOUNT/></TRADEFUNDBILL>",
    ] {
        let r = refund(xml).unwrap_or_else(|e| panic!("{xml}: {e}"));
        assert_eq!(r.fund_bills.len(), 1, "{xml}");
        assert_eq!(r.fund_bills[0].amount, fen(500), "{xml}");
    }
    let r = refund_json(r#"{"AMOUNT":["5.00","5.00"],"FUND_CHANNEL":"10"}"#).expect("one value");
    assert_eq!(r.fund_bills[0].amount, fen(500));
}

#[test]
fn a_top_up_reply_under_another_operations_root_is_refused() {
    let body = r#"{"result":{"CODE":"SUCCESS","INFO":"ok"},"flow":{"phoneNo":"13800000000","flowVal":10}}"#;
    for root in [
        "REFUND_RESP",
        "QUERY_RESP",
        "ORDER_RESP",
        "CANCELTRADE_RESP",
        "pay_nodify",
    ] {
        let json = format!(r#"{{"{root}":{body}}}"#);
        let xml = format!(
            "<{root}><result><CODE>SUCCESS</CODE></result><flow><phoneNo>13800000000</phoneNo></flow></{root}>"
        );
        for text in [json, xml] {
            match FlowRechargeReply::decode(&text) {
                Err(Error::Decode { reason, .. }) => assert!(
                    reason.contains(&format!("got a {root} document")),
                    "{text}: {reason}"
                ),
                other => panic!("{text}: {other:?}"),
            }
        }
    }
    // Its own forms: bare JSON, and XML under FLOWRECHARGE_RESP (or a root no operation has).
    for text in [
        body.to_owned(),
        format!(r#"{{"FLOWRECHARGE_RESP":{body}}}"#),
        "<FLOWRECHARGE_RESP><result><CODE>SUCCESS</CODE></result><flow><phoneNo>13800000000</phoneNo></flow></FLOWRECHARGE_RESP>".to_owned(),
        "<xml><result><CODE>SUCCESS</CODE></result><flow><phoneNo>13800000000</phoneNo></flow></xml>".to_owned(),
    ] {
        let r = FlowRechargeReply::decode(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert!(r.result.code.is_success());
        assert_eq!(
            r.flow.and_then(|f| f.phone_no).as_deref(),
            Some("13800000000")
        );
    }
}

#[test]
fn goods_detail_shapes() {
    let item = r#"{"GOOD_ID":"1","GOOD_NAME":"n","GOOD_CLASS":"c","GOOD_PRICE":"1.5","GOOD_SUBJECT":"s","GOOD_QUANTITY":2}"#;
    for list in [
        format!("[{item}]"),
        item.to_owned(),
        format!(r#"{{"GOOD":[{item}]}}"#),
        format!(r#"{{"GOOD":{item}}}"#),
    ] {
        let q = query(&format!(r#""GOODS_DETAIL":{list}"#));
        assert_eq!(q.order.goods.len(), 1, "{list}");
        assert_eq!(q.order.goods[0].price, fen(150), "{list}");
        assert_eq!(q.order.goods[0].quantity, 2, "{list}");
    }
    let x = "<GOOD_ID>1</GOOD_ID><GOOD_NAME>n</GOOD_NAME><GOOD_PRICE>1.5</GOOD_PRICE><GOOD_QUANTITY>2</GOOD_QUANTITY>";
    // Repeated elements (the documented form), single, and wrapped in an item element.
    assert_eq!(
        query_xml(&format!("<GOODS_DETAIL>{x}</GOODS_DETAIL>"))
            .order
            .goods
            .len(),
        1
    );
    assert_eq!(
        query_xml(&format!(
            "<GOODS_DETAIL>{x}</GOODS_DETAIL><GOODS_DETAIL>{x}</GOODS_DETAIL>"
        ))
        .order
        .goods
        .len(),
        2
    );
    assert_eq!(
        query_xml(&format!(
            "<GOODS_DETAIL><GOOD>{x}</GOOD><GOOD>{x}</GOOD></GOODS_DETAIL>"
        ))
        .order
        .goods
        .len(),
        2
    );
    for empty in [
        r#""GOODS_DETAIL":[]"#,
        r#""GOODS_DETAIL":"""#,
        r#""GOODS_DETAIL":null"#,
    ] {
        assert!(query(empty).order.goods.is_empty(), "{empty}");
    }
    // Goods only describe the order: a price or quantity that cannot be read is read as one
    // not given (0), the rest of the item and of the reply stay readable, and the raw document
    // keeps what was sent. (A request's goods are checked: `goods_in_a_request_are_checked`.)
    let q = QueryReply::decode(
        r#"{"QUERY_RESP":{"RESULT":{"CODE":"SUCCESS"},"CHARGE_CODE":"C-1","STATE":"1","AMT":100,"GOODS_DETAIL":[{"GOOD_ID":"1","GOOD_PRICE":"abc","GOOD_QUANTITY":"1.5"}]}}"#,
    )
    .expect("readable");
    assert_eq!(q.order.amount, Some(fen(100)));
    assert_eq!(q.order.goods.len(), 1);
    assert_eq!(q.order.goods[0].id, "1");
    assert_eq!(q.order.goods[0].price, fen(0));
    assert_eq!(q.order.goods[0].quantity, 0);
    assert!(q.raw.to_string().contains(r#""GOOD_PRICE":"abc""#));
}

#[test]
fn a_notification_whose_goods_cannot_be_read_is_still_read() {
    // The testers' cases: a fractional quantity, a price in fractions of a fen, a negative
    // quantity, blank ones. The payment's facts (CHARGE_CODE, STATE, AMT) are what count.
    let read = |field: &str, value: &str| {
        let mut item = serde_json::json!({
            "GOOD_ID": "1", "GOOD_NAME": "n", "GOOD_CLASS": "c", "GOOD_PRICE": "2.00",
            "GOOD_SUBJECT": "s", "GOOD_QUANTITY": "5",
        });
        item[field] = serde_json::from_str(value).expect("value");
        let text = serde_json::json!({"PAY_NODIFY": {
            "CHARGE_CODE": "C-1", "STATE": "1", "AMT": 1, "GOODS_DETAIL": [item],
        }})
        .to_string();
        let n = Notification::decode(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(n.order.state, Some(OrderState::Paid), "{text}");
        assert_eq!(n.order.amount, Some(fen(1)), "{text}");
        assert_eq!(n.order.goods.len(), 1, "{text}");
        assert_eq!(n.order.goods[0].name, "n", "{text}");
        n.order.goods[0].clone()
    };
    assert_eq!(read("GOOD_QUANTITY", r#""1.5""#).quantity, 0);
    assert_eq!(read("GOOD_QUANTITY", r#""-1""#).quantity, 0);
    assert_eq!(read("GOOD_QUANTITY", r#""""#).quantity, 0);
    assert_eq!(read("GOOD_QUANTITY", r#""3""#).quantity, 3);
    assert_eq!(read("GOOD_PRICE", r#""0.015""#).price, fen(0));
    assert_eq!(read("GOOD_PRICE", r#""""#).price, fen(0));
    assert_eq!(read("GOOD_PRICE", "4999").price, fen(499_900));
    assert_eq!(read("GOOD_PRICE", r#""2.50""#).price, fen(250));
}

#[test]
fn goods_in_a_request_are_checked() {
    // What a merchant sends (the sandbox reads requests so) is still refused when unreadable.
    let req = |goods: &str| {
        Document::parse(&format!(
            r#"{{"CHARGE_CODE":"C-1","AMT":"1.00","CHANNEL_TYPE":"2","PAY_SUBJECT":"p","OPER_ID":"o","DEV_ID":"d","GOODS_DETAIL":[{goods}]}}"#
        ))
        .expect("json")
        .root
    };
    for (goods, field) in [
        (
            r#"{"GOOD_ID":"1","GOOD_PRICE":"0.015","GOOD_QUANTITY":"1"}"#,
            "GOOD_PRICE",
        ),
        (
            r#"{"GOOD_ID":"1","GOOD_PRICE":"1.00","GOOD_QUANTITY":"1.5"}"#,
            "GOOD_QUANTITY",
        ),
    ] {
        let e = sosopay::models::OrderRequest::from_wire(&req(goods)).expect_err(goods);
        assert!(e.to_string().contains(field), "{goods}: {e}");
    }
}

#[test]
fn goods_placeholders_are_not_goods() {
    for list in [
        r#"[{"X":"y"}]"#,
        r#"{"GOOD":{"X":"y"}}"#,
        r#"{"COUNT":"2"}"#,
        r#"[{}]"#,
        r#"{}"#,
        r#"["a","b"]"#,
    ] {
        let q = query(&format!(r#""GOODS_DETAIL":{list}"#));
        assert!(q.order.goods.is_empty(), "{list}: {:?}", q.order.goods);
    }
    // An item with only some GOOD_ fields is still an item.
    let q = query(r#""GOODS_DETAIL":[{"GOOD_QUANTITY":"3","GOOD_CLASS":"c"}]"#);
    assert_eq!(q.order.goods.len(), 1);
    assert_eq!(q.order.goods[0].quantity, 3);
    let q = query_xml(
        "<GOODS_DETAIL><GOOD><GOOD_SUBJECT>s</GOOD_SUBJECT></GOOD><NOTE>x</NOTE></GOODS_DETAIL>",
    );
    assert_eq!(q.order.goods.len(), 1);
    assert_eq!(q.order.goods[0].subject, "s");
}

#[test]
fn numeric_state_forms_only_when_the_same_number() {
    for (text, want) in [
        ("1", OrderState::Paid),
        ("01", OrderState::Paid),
        ("1.0", OrderState::Paid),
        ("1.00", OrderState::Paid),
        ("0", OrderState::AwaitingPayment),
        ("00", OrderState::AwaitingPayment),
        ("0.0", OrderState::AwaitingPayment),
        ("5", OrderState::Refunded),
    ] {
        assert_eq!(OrderState::from_wire(text), want, "{text}");
    }
    for text in ["1.5", "1.x", "1e0", "-1", "+1", ".0", "1a", "10", "01.5"] {
        assert_eq!(
            OrderState::from_wire(text),
            OrderState::Unknown(text.into()),
            "{text}"
        );
    }
    // As a JSON number in a reply.
    assert_eq!(query(r#""STATE":1.0"#).order.state, Some(OrderState::Paid));
    assert_eq!(
        query(r#""STATE":1.5"#).order.state,
        Some(OrderState::Unknown("1.5".into()))
    );
}

/// Many distinct sibling elements (a hostile or broken document) group in linear time: this
/// used to be quadratic (minutes for a 4 MB document). Not timed here; it checks the result.
#[test]
fn many_distinct_xml_children_parse() {
    let n = 20_000;
    let mut x = String::from("<QUERY_RESP><RESULT><CODE>SUCCESS</CODE></RESULT>");
    for i in 0..n {
        x.push_str(&format!("<F{i}>{i}</F{i}><R>{i}</R>"));
    }
    x.push_str("<AMT>5</AMT></QUERY_RESP>");
    let doc = Document::parse(&x).expect("parse");
    let body = doc.root.get("QUERY_RESP").expect("root");
    let sosopay::codec::Node::Map(fields) = body else {
        panic!("not a map")
    };
    // RESULT, F0..F19999, R (one list), AMT.
    assert_eq!(fields.len(), n + 3);
    assert_eq!(body.get("R").map(|r| r.items().len()), Some(n));
    assert_eq!(body.text("F19999"), Some("19999"));
    let q = QueryReply::decode(&x).expect("decode");
    assert_eq!(q.order.amount, Some(fen(5)));
}
