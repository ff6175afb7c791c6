//! `cancelTrade`: immediate cancellation, or a cancel applied for (`opType=ACO`).

use std::sync::Arc;

use sosopay::codec::Node;
use sosopay::{OrderState, ResultCode};

use crate::server::wire::only_result;
use crate::state::{Effects, Shared, Transition, ACO_COMPLETE_SECS};

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
        let state = g.orders[idx].state.clone();
        let epoch = g.epoch;
        match state {
            OrderState::Cancelled => (
                only_result(
                    ResultCode::AreadyRevoked,
                    "该订单已经撤销 (already cancelled)",
                ),
                None,
            ),
            OrderState::PartiallyRefunded | OrderState::Refunded => (
                only_result(
                    ResultCode::Fail,
                    "已退款的订单不能撤销 (the order has refunds; refund the rest instead)",
                ),
                None,
            ),
            OrderState::Closed => (
                only_result(
                    ResultCode::Fail,
                    "交易已关闭 (the order is closed; no money was taken)",
                ),
                None,
            ),
            OrderState::CancelApplied if apply => (
                only_result(
                    ResultCode::Success,
                    "撤单申请已受理 (cancel already applied for)",
                ),
                None,
            ),
            _ if apply => {
                g.orders[idx].state = OrderState::CancelApplied;
                fx.changed = true;
                (
                    only_result(ResultCode::Success, "撤单申请成功 (cancel applied for)"),
                    Some((epoch, idx)),
                )
            }
            _ => {
                g.transition(idx, &Transition::Cancel, &mut fx);
                (only_result(ResultCode::Success, "撤单成功"), None)
            }
        }
    };
    shared.apply_effects(fx);
    if let Some((epoch, idx)) = schedule {
        shared.schedule(
            epoch,
            idx,
            shared.scaled(ACO_COMPLETE_SECS),
            Transition::CompleteCancel,
        );
    }
    node
}
