//! `refund`: full and partial refunds, idempotent by `OUT_REFUND_NO`.

use std::sync::Arc;

use sosopay::codec::Node;
use sosopay::models::{GatewayResult, RefundReply, RefundRequest};
use sosopay::{Channel, OrderState, ResultCode};

use crate::server::wire::only_result;
use crate::state::{now_ms, Inner, Order, Refund, Shared};

/// `refund`: replays a known `OUT_REFUND_NO`, else refunds part or all of what remains of a
/// paid order. `by_number_alone`: the `replay_by_number` fault (see [`replay`]).
pub(crate) fn refund(
    shared: &Arc<Shared>,
    busi: &str,
    r: RefundRequest,
    by_number_alone: bool,
) -> Node {
    let mut g = shared.lock();
    if let Some(replayed) = replay(&mut g, busi, &r, by_number_alone) {
        return replayed;
    }
    let idx = match (&r.charge_down_code, &r.charge_code) {
        (Some(d), _) => g
            .by_down
            .get(d)
            .copied()
            .filter(|i| g.orders[*i].busi_id == busi),
        (None, Some(c)) => g.find(busi, c),
        (None, None) => None,
    };
    let Some(idx) = idx else {
        return only_result(
            ResultCode::ChargeNonexistent,
            "交易记录不存在 (no such order)",
        );
    };
    let amount = r.refund_amount.fen();
    if let Err(rejected) = refundable(&g.orders[idx], amount) {
        return rejected;
    }
    let o = &mut g.orders[idx];
    o.refunded_fen += amount;
    o.set_state(if o.refunded_fen == o.amount_fen {
        OrderState::Refunded
    } else {
        OrderState::PartiallyRefunded
    });
    let rf = Refund {
        busi_id: busi.to_owned(),
        out_refund_no: Some(r.out_refund_no.clone()).filter(|n| !n.is_empty()),
        charge_code: o.charge_code.clone(),
        charge_down_code: o.charge_down_code.clone(),
        amount_fen: amount,
        state_after: o.state.clone(),
        created_at_ms: now_ms(),
        replays: 0,
    };
    let (channel, state) = (o.channel.clone(), o.state.clone());
    let ri = g.refunds.len();
    if !r.out_refund_no.is_empty() {
        g.by_refund_no
            .insert((busi.to_owned(), r.out_refund_no.clone()), ri);
    }
    g.refunds.push(rf.clone());
    drop(g);
    shared.changed.notify_waiters();
    refund_reply(&rf, channel, state)
}

/// The answer to a refund whose `OUT_REFUND_NO` was seen before: the same refund again, or
/// `SERIAL_REPEAT` when the number was used for a different one (with `by_number_alone`, the
/// `replay_by_number` fault: that earlier refund again all the same). `None` for a new number.
fn replay(g: &mut Inner, busi: &str, r: &RefundRequest, by_number_alone: bool) -> Option<Node> {
    let no = Some(&r.out_refund_no).filter(|n| !n.is_empty())?;
    let ri = *g.by_refund_no.get(&(busi.to_owned(), no.clone()))?;
    let rf = &g.refunds[ri];
    let same = rf.amount_fen == r.refund_amount.fen()
        && r.charge_code.as_ref().is_none_or(|c| *c == rf.charge_code)
        && r.charge_down_code
            .as_ref()
            .is_none_or(|c| *c == rf.charge_down_code);
    if !same && !by_number_alone {
        return Some(only_result(
            ResultCode::SerialRepeat,
            "退款流水号重复 (OUT_REFUND_NO was already used for another refund)",
        ));
    }
    g.refunds[ri].replays += 1;
    let rf = g.refunds[ri].clone();
    let oi = g.by_down.get(&rf.charge_down_code).copied();
    let (channel, state) = oi
        .and_then(|i| g.orders.get(i))
        .map(|o| (o.channel.clone(), o.state.clone()))
        .unwrap_or((Channel::Unknown(String::new()), rf.state_after.clone()));
    Some(refund_reply(&rf, channel, state))
}

/// Whether `amount` fen can be refunded from `o`: it must be paid (or partly refunded) and
/// the amount within what remains. `Err` holds the gateway's rejection.
fn refundable(o: &Order, amount: u64) -> Result<(), Node> {
    match o.state {
        OrderState::Paid | OrderState::PartiallyRefunded => {}
        OrderState::Cancelled => {
            return Err(only_result(
                ResultCode::AreadyRevoked,
                "该订单已经撤销 (already cancelled)",
            ))
        }
        OrderState::Refunded => {
            return Err(only_result(
                ResultCode::AmtError,
                "金额错误: the order is fully refunded (0.00 remains)",
            ))
        }
        OrderState::Closed => {
            return Err(only_result(
                ResultCode::Fail,
                "交易已关闭 (the order is closed)",
            ))
        }
        _ => {
            return Err(only_result(
                ResultCode::Fail,
                "订单未支付，不能退款 (the order is not paid)",
            ))
        }
    }
    let remaining = o.amount_fen - o.refunded_fen;
    if amount <= remaining {
        return Ok(());
    }
    let yuan = |fen| {
        sosopay::Amount::from_fen(fen)
            .map(|a| a.to_yuan_string())
            .unwrap_or_default()
    };
    Err(only_result(
        ResultCode::AmtError,
        format!(
            "金额错误: CHARGE_REFUND_FEE {} is above what remains of the payment ({})",
            yuan(amount),
            yuan(remaining)
        ),
    ))
}

fn refund_reply(rf: &Refund, channel: Channel, state: OrderState) -> Node {
    let fund_bills = sosopay::Amount::from_fen(rf.amount_fen)
        .map(|a| {
            vec![sosopay::models::FundBill {
                fund_channel: match channel {
                    Channel::Wechat => sosopay::FundChannel::WechatPay,
                    Channel::Alipay | Channel::AlipayWap => sosopay::FundChannel::AlipayBalance,
                    Channel::QqWallet => sosopay::FundChannel::QqWalletPay,
                    _ => sosopay::FundChannel::BankCard,
                },
                amount: a,
            }]
        })
        .unwrap_or_default();
    RefundReply {
        result: GatewayResult::success("退款成功!"),
        channel: Some(channel),
        fund_bills,
        charge_code: Some(rf.charge_code.clone()),
        charge_down_code: Some(rf.charge_down_code.clone()),
        out_refund_no: rf.out_refund_no.clone(),
        state: Some(state),
        raw: Default::default(),
    }
    .to_wire()
}
