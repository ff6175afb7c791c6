//! `cancelTrade`: immediate cancellation, or a cancel applied for (`opType=ACO`).

use std::sync::Arc;

use sosopay::codec::Node;
use sosopay::{OrderState, ResultCode};

use crate::server::wire::only_result;
use crate::state::{Effects, Shared, Transition, ACO_COMPLETE_SECS};

/// `cancelTrade`: cancels an order at once, or (with `apply`, `opType=ACO`) applies for a
/// cancellation that completes `ACO_COMPLETE_SECS` later.
pub(crate) fn cancel(shared: &Arc<Shared>, busi: &str, code: &str, apply: bool) -> Node {
    let mut fx = Effects::default();
    let (node, schedule) = {
        let mut g = shared.lock();
        let Some(idx) = g.find(busi, code) else {
            return only_result(
                ResultCode::ChargeNonexistent,
                "交易记录不存在 (no such order)",
            );
        };
        if let Some(refused) = refusal(&g.orders[idx].state, apply) {
            return refused;
        }
        if apply {
            g.orders[idx].set_state(OrderState::CancelApplied);
            fx.changed = true;
            let applied = only_result(ResultCode::Success, "撤单申请成功 (cancel applied for)");
            (applied, Some((g.epoch, idx)))
        } else {
            g.transition(idx, &Transition::Cancel, &mut fx);
            (only_result(ResultCode::Success, "撤单成功"), None)
        }
    };
    shared.apply_effects(fx);
    if let Some((epoch, idx)) = schedule {
        let delay = shared.scaled(ACO_COMPLETE_SECS);
        shared.schedule(epoch, idx, delay, Transition::CompleteCancel);
    }
    node
}

/// The answer when an order in `state` is not (or no longer) to be cancelled: already
/// cancelled, refunded, closed, or a cancellation already applied for. `None`: go ahead.
fn refusal(state: &OrderState, apply: bool) -> Option<Node> {
    let (code, info) = match state {
        OrderState::Cancelled => (
            ResultCode::AreadyRevoked,
            "该订单已经撤销 (already cancelled)",
        ),
        OrderState::PartiallyRefunded | OrderState::Refunded => (
            ResultCode::Fail,
            "已退款的订单不能撤销 (the order has refunds; refund the rest instead)",
        ),
        OrderState::Closed => (
            ResultCode::Fail,
            "交易已关闭 (the order is closed; no money was taken)",
        ),
        OrderState::CancelApplied if apply => (
            ResultCode::Success,
            "撤单申请已受理 (cancel already applied for)",
        ),
        _ => return None,
    };
    Some(only_result(code, info))
}
