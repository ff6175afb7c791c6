//! `flowRecharge`: a mobile data top-up, recorded in the ledger.

use std::sync::Arc;

use sosopay::codec::{MapBuilder, Node};
use sosopay::models::FlowRechargeRequest;
use sosopay::ResultCode;

use crate::server::wire::result_node;
use crate::state::{gateway_date, gateway_time, now_ms, FlowRecord, Shared};

pub(crate) fn flow(shared: &Arc<Shared>, busi: &str, r: FlowRechargeRequest) -> Node {
    let now = now_ms();
    let mut g = shared.lock();
    let seq = g.next_seq();
    let date = gateway_date(now);
    let order_id = format!("{date}1{seq:011}");
    let flow_type = r.flow_type.clone().unwrap_or_else(|| "0".into());
    g.flows.push(FlowRecord {
        busi_id: busi.to_owned(),
        order_id: order_id.clone(),
        phone_no: r.phone_no.clone(),
        flow_val: r.flow_val,
        flow_type: flow_type.clone(),
        created_at_ms: now,
    });
    MapBuilder::new()
        .node(
            "result",
            result_node(&ResultCode::Success, "充值流量请求提交成功，请等待最终结果"),
        )
        .node(
            "flow",
            MapBuilder::new()
                .text("id", format!("{date}2{seq:011}"))
                .text("phoneNo", &r.phone_no)
                .text("flowVal", r.flow_val.to_string())
                .text("flowType", flow_type)
                .text("orderID", &order_id)
                .text("platOrderID", format!("CT_{date}{seq:04}"))
                .text("creatTime", gateway_time(now))
                .text("status", "1")
                .text("busiCode", busi)
                .build(),
        )
        .build()
}
