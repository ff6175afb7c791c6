//! The gateway's operations, one module each; this module holds what several share.

mod cancel;
mod flow;
mod micropay;
mod order;
mod query;
mod refund;

use std::sync::Arc;

use sosopay::codec::{MapBuilder, Node};
use sosopay::models::{GatewayResult, OrderReply};
use sosopay::{Channel, OrderState, ResultCode};

use super::parse::{Parsed, ReqKind};
use super::wire::result_node;
use crate::state::{gateway_date, gateway_time, now_ms, Order, OrderKind, Shared};

/// Runs a parsed request against the sandbox's state; the reply body before faults.
pub(crate) async fn execute(shared: &Arc<Shared>, p: Parsed) -> Node {
    let Parsed {
        busi,
        kind,
        replay_by_number,
        ..
    } = p;
    match kind {
        ReqKind::Micropay(r) => micropay::micropay(shared, &busi, r).await,
        ReqKind::Order(r) => order::order(shared, &busi, r),
        ReqKind::Refund(r) => refund::refund(shared, &busi, r, replay_by_number),
        ReqKind::Query { code, ser } => query::query(shared, &busi, &code, &ser),
        ReqKind::Cancel { code, apply } => cancel::cancel(shared, &busi, &code, apply),
        ReqKind::Flow(r) => flow::flow(shared, &busi, r),
    }
}

pub(crate) fn serial_repeat(charge_code: &str) -> Node {
    MapBuilder::new()
        .node(
            "RESULT",
            result_node(
                &ResultCode::SerialRepeat,
                "上行流水号与系统中重复 (this CHARGE_CODE was already used; query it)",
            ),
        )
        .text("CHARGE_CODE", charge_code)
        .build()
}

pub(crate) fn new_order(
    seq: u64,
    busi: &str,
    charge_code: &str,
    kind: OrderKind,
    channel: Channel,
    amount_fen: u64,
) -> Order {
    let now = now_ms();
    Order {
        busi_id: busi.to_owned(),
        charge_code: charge_code.to_owned(),
        charge_down_code: format!("{}1{seq:011}", gateway_date(now)),
        charge_third_code: None,
        kind,
        channel,
        amount_fen,
        refunded_fen: 0,
        state: OrderState::AwaitingPayment,
        pay_subject: String::new(),
        oper_id: String::new(),
        dev_id: String::new(),
        register_id: None,
        merchant_para: None,
        dynamic_id: None,
        goods: Vec::new(),
        verify_code: None,
        notify_url: None,
        behaviour: None,
        fail_reason: None,
        created_at_ms: now,
        paid_at_ms: None,
        ended_at_ms: None,
        expires_at_ms: None,
        stale_view: None,
        previous: None,
    }
}

pub(crate) fn order_reply(o: &Order, code: ResultCode, info: &str) -> OrderReply {
    OrderReply {
        result: GatewayResult {
            code,
            info: info.to_owned(),
        },
        charge_code: Some(o.charge_code.clone()),
        charge_down_code: Some(o.charge_down_code.clone()),
        charge_third_code: o.charge_third_code.clone(),
        channel: Some(o.channel.clone()),
        state: Some(o.state.clone()),
        amount: sosopay::Amount::from_fen(o.amount_fen).ok(),
        merchant_para: o.merchant_para.clone(),
        // The document's replies do not echo the customer's code.
        dynamic_id: None,
        fund_bills: o.fund_bills(),
        oper_id: Some(o.oper_id.clone()),
        dev_id: Some(o.dev_id.clone()),
        begin_time: Some(gateway_time(o.created_at_ms)),
        bar_code: None,
        jsapi: None,
        raw: Default::default(),
    }
}
