//! `query`: one order by charge code, gateway order number or verification code.

use std::sync::Arc;
use std::time::Instant;

use sosopay::codec::Node;
use sosopay::models::{GatewayResult, QueryReply};
use sosopay::{ResultCode, SerType};

use crate::server::wire::only_result;
use crate::state::Shared;

pub(crate) fn query(shared: &Arc<Shared>, busi: &str, code: &str, ser: &SerType) -> Node {
    let g = shared.lock();
    let idx = match ser {
        SerType::ChargeDownCode => g
            .by_down
            .get(code)
            .copied()
            .filter(|i| g.orders[*i].busi_id == busi),
        SerType::VerifyCode => g
            .by_verify
            .get(&(busi.to_owned(), code.to_owned()))
            .copied(),
        _ => g.find(busi, code),
    };
    match idx.and_then(|i| g.orders.get(i)) {
        Some(o) => {
            let mut order = o.details();
            // The `stale_reversal` fault: the order record lags behind a reversal.
            if let Some((state, until)) = &o.stale_view {
                if Instant::now() < *until {
                    order.state = Some(state.clone());
                }
            }
            QueryReply {
                result: GatewayResult::success("查询成功"),
                order,
                raw: Default::default(),
            }
            .to_wire()
        }
        None => only_result(
            ResultCode::ChargeNonexistent,
            "交易记录不存在 (no such order)",
        ),
    }
}
