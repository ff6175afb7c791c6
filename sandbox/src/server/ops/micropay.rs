//! `preOrder`: the till's micropay, held while the customer confirms.

use std::sync::Arc;

use sosopay::codec::{MapBuilder, Node};
use sosopay::models::MicropayRequest;
use sosopay::{Channel, OrderState, ResultCode};

use super::{new_order, order_reply, serial_repeat};
use crate::server::wire::{only_result, result_node};
use crate::state::{Behaviour, Effects, Order, OrderKind, Shared, Transition, MICROPAY_HOLD_SECS};

fn micropay_reply(o: &Order) -> Node {
    if let Some(Behaviour::ExceptionButPaid { .. }) = o.behaviour {
        return MapBuilder::new()
            .node(
                "RESULT",
                result_node(
                    &ResultCode::Exception,
                    "未知异常 (channel busy: SYSTEMERROR); query the order",
                ),
            )
            .text("CHARGE_CODE", &o.charge_code)
            .build();
    }
    let reason = o.fail_reason.as_deref();
    let (code, info) = match o.state {
        OrderState::Paid => (ResultCode::Success, "请求并支付成功!"),
        OrderState::AwaitingPayment => (
            ResultCode::Success,
            "用户支付中，请查询订单状态 (USERPAYING: the customer is confirming; STATE 0, query until final)",
        ),
        OrderState::Cancelled => (ResultCode::Fail, reason.unwrap_or("订单已撤销 (cancelled)")),
        OrderState::Closed => (ResultCode::Fail, reason.unwrap_or("交易关闭 (closed)")),
        OrderState::CancelApplied => (ResultCode::Fail, "申请撤单中 (cancel applied for)"),
        _ => (ResultCode::Fail, "支付失败"),
    };
    order_reply(o, code, info).to_wire()
}

/// Waits while order `idx` is awaiting payment, until `deadline`.
async fn wait_while_awaiting(
    shared: &Arc<Shared>,
    epoch: u64,
    idx: usize,
    deadline: tokio::time::Instant,
) {
    loop {
        let notified = shared.changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let g = shared.lock();
            if g.epoch != epoch {
                return;
            }
            match g.orders.get(idx) {
                Some(o) if o.state == OrderState::AwaitingPayment => {}
                _ => return,
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return;
        }
        tokio::select! {
            _ = &mut notified => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
}

const REASON_NOT_ENOUGH: &str = "余额不足 (NOTENOUGH: insufficient funds)";
const REASON_EXPIRED_CODE: &str = "付款码已过期 (AUTH_CODE_EXPIRED: the payment code has expired)";
const REASON_NEVER_CONFIRMED: &str =
    "用户未在80秒内确认支付，订单已撤销 (the customer did not confirm within 80 s; cancelled)";

/// `preOrder`: checks the payment code, records the order, plays the code's behaviour (pay
/// now, confirm later, decline, ...) and holds the reply while the customer confirms.
pub(crate) async fn micropay(shared: &Arc<Shared>, busi: &str, r: MicropayRequest) -> Node {
    let channel = match channel_of(&r) {
        Ok(c) => c,
        Err(reply) => return reply,
    };
    let behaviour = Behaviour::of(&r.dynamic_id);
    let start = tokio::time::Instant::now();
    let hold = shared.scaled(MICROPAY_HOLD_SECS);
    let Some((idx, epoch)) = insert(shared, busi, &r, channel, behaviour, hold) else {
        return serial_repeat(&r.charge_code);
    };
    schedule_behaviour(shared, epoch, idx, behaviour, hold);
    let deadline = match behaviour {
        Behaviour::PayingThenPay { .. } | Behaviour::PayingNeverConfirms => start,
        _ => start + hold,
    };
    wait_while_awaiting(shared, epoch, idx, deadline).await;
    if behaviour == Behaviour::NeverConfirms {
        // The hold ran out: settle it now rather than race the timer.
        shared.transition_now(
            epoch,
            idx,
            &Transition::CancelUnpaid(REASON_NEVER_CONFIRMED.into()),
        );
    }
    let g = shared.lock();
    match (g.epoch == epoch, g.orders.get(idx)) {
        (true, Some(o)) => micropay_reply(o),
        _ => only_result(ResultCode::Exception, "未知异常: the sandbox was reset"),
    }
}

/// The channel of the payment: the one asked for, or detected from the payment code; `Err`
/// holds the rejection when the code is not a payment code or its channel is unknown.
fn channel_of(r: &MicropayRequest) -> Result<Channel, Node> {
    let code = r.dynamic_id.as_str();
    if !(16..=24).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(only_result(
            ResultCode::IllegalParameter,
            "参数错误 (illegal parameter): DYNAMIC_ID must be the customer's payment code (16 to 24 digits)",
        ));
    }
    if r.channel != Channel::Auto {
        return Ok(r.channel.clone());
    }
    crate::state::detect_channel(code).ok_or_else(|| {
        only_result(
            ResultCode::IllegalParameter,
            "参数错误 (illegal parameter): DYNAMIC_ID: cannot detect the channel of this payment code (WeChat codes start 10-15, Alipay 25-30, QQ Wallet 91, UnionPay 62); set CHANNEL_TYPE",
        )
    })
}

/// Records the order and applies the behaviours that settle at once; `None` when the charge
/// code is taken. Returns the order's index and the epoch it belongs to.
fn insert(
    shared: &Arc<Shared>,
    busi: &str,
    r: &MicropayRequest,
    channel: Channel,
    behaviour: Behaviour,
    hold: std::time::Duration,
) -> Option<(usize, u64)> {
    let mut fx = Effects::default();
    let mut g = shared.lock();
    if g.find(busi, &r.charge_code).is_some() {
        return None;
    }
    let seq = g.next_seq();
    let mut o = new_order(
        seq,
        busi,
        &r.charge_code,
        OrderKind::Micropay,
        channel,
        r.amount.fen(),
    );
    o.pay_subject = r.pay_subject.clone();
    o.oper_id = r.oper_id.trim().to_owned();
    o.dev_id = r.dev_id.trim().to_owned();
    o.register_id = r.register_id.clone();
    o.merchant_para = r.merchant_para.clone();
    o.dynamic_id = Some(r.dynamic_id.clone());
    o.goods = r.goods.clone();
    o.verify_code = r.verify_codes.clone();
    o.notify_url = r.notify_url.clone();
    o.behaviour = Some(behaviour);
    o.expires_at_ms = Some(o.created_at_ms + hold.as_millis() as u64);
    let idx = g.insert_order(o);
    let now = match behaviour {
        Behaviour::PayNow
        | Behaviour::ConfirmThenPay { secs: 0 }
        | Behaviour::PayingThenPay { secs: 0 }
        | Behaviour::ExceptionButPaid { secs: 0 } => Some(Transition::Pay),
        Behaviour::CodeExpired => Some(Transition::Close(REASON_EXPIRED_CODE.into())),
        Behaviour::InsufficientFunds { secs: 0 } => {
            Some(Transition::Close(REASON_NOT_ENOUGH.into()))
        }
        _ => None,
    };
    if let Some(t) = now {
        g.transition(idx, &t, &mut fx);
    }
    let epoch = g.epoch;
    drop(g);
    shared.apply_effects(fx);
    Some((idx, epoch))
}

/// Schedules what the payment code's behaviour does later: pay, decline, or cancel unpaid
/// when the customer never confirms.
fn schedule_behaviour(
    shared: &Arc<Shared>,
    epoch: u64,
    idx: usize,
    behaviour: Behaviour,
    hold: std::time::Duration,
) {
    match behaviour {
        Behaviour::ConfirmThenPay { secs }
        | Behaviour::PayingThenPay { secs }
        | Behaviour::ExceptionButPaid { secs }
            if secs > 0 =>
        {
            shared.schedule(epoch, idx, shared.scaled(secs as f64), Transition::Pay);
        }
        Behaviour::InsufficientFunds { secs } if secs > 0 => {
            let d = shared.scaled((secs as f64).min(MICROPAY_HOLD_SECS));
            shared.schedule(epoch, idx, d, Transition::Close(REASON_NOT_ENOUGH.into()));
        }
        Behaviour::NeverConfirms | Behaviour::PayingNeverConfirms => {
            shared.schedule(
                epoch,
                idx,
                hold,
                Transition::CancelUnpaid(REASON_NEVER_CONFIRMED.into()),
            );
        }
        _ => {}
    }
}
