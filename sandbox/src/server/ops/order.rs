//! `order`: QR and JSAPI orders, awaiting payment until `TIME_EXPIRE`.

use std::sync::Arc;

use md5::{Digest, Md5};
use sosopay::codec::Node;
use sosopay::models::{JsapiParams, OrderRequest};
use sosopay::{Channel, ResultCode};

use super::{new_order, order_reply, serial_repeat};
use crate::state::{now_ms, OrderKind, Shared, Transition, DEFAULT_TIME_EXPIRE_SECS};

fn md5_hex_upper(s: &str) -> String {
    let d = Md5::digest(s.as_bytes());
    d.iter().map(|b| format!("{b:02X}")).collect()
}

pub(crate) fn order(shared: &Arc<Shared>, busi: &str, r: OrderRequest) -> Node {
    let kind = if r.is_jsapi() {
        OrderKind::Jsapi
    } else {
        OrderKind::Qr
    };
    let expire = shared.scaled(
        r.time_expire
            .map(u64::from)
            .unwrap_or(DEFAULT_TIME_EXPIRE_SECS) as f64,
    );
    let (idx, epoch, mut reply) = {
        let mut g = shared.lock();
        if g.find(busi, &r.charge_code).is_some() {
            return serial_repeat(&r.charge_code);
        }
        let seq = g.next_seq();
        let mut o = new_order(
            seq,
            busi,
            &r.charge_code,
            kind,
            r.channel.clone(),
            r.amount.fen(),
        );
        o.pay_subject = r.pay_subject.clone();
        o.oper_id = r.oper_id.trim().to_owned();
        o.dev_id = r.dev_id.trim().to_owned();
        o.register_id = r.register_id.clone();
        o.merchant_para = r.merchant_para.clone();
        o.goods = r.goods.clone();
        o.verify_code = r.verify_codes.clone();
        o.notify_url = r.notify_url.clone();
        o.expires_at_ms = Some(o.created_at_ms + expire.as_millis() as u64);
        let reply = order_reply(&o, ResultCode::Success, "请求成功!");
        let idx = g.insert_order(o);
        (idx, g.epoch, reply)
    };
    shared.schedule(
        epoch,
        idx,
        expire,
        Transition::Close("订单已过期 (TIME_EXPIRE passed unpaid)".into()),
    );
    let down = reply.charge_down_code.clone().unwrap_or_default();
    if kind == OrderKind::Jsapi {
        reply.jsapi = Some(jsapi_params(&down, r.sub_appid.clone()));
    } else {
        reply.bar_code = Some(bar_code(&r.channel, &down));
    }
    reply.to_wire()
}

/// The parameters a WeChat JSAPI page passes to `WeixinJSBridge`, signed like WeChat does
/// (with the sandbox's key `sandbox`).
fn jsapi_params(down: &str, sub_appid: Option<String>) -> JsapiParams {
    let app_id = sub_appid.unwrap_or_else(|| "wx77a451e8627239de".to_owned());
    let time_stamp = (now_ms() / 1000).to_string();
    let nonce = md5_hex_upper(&format!("{down}:{time_stamp}")).to_ascii_lowercase();
    let package = format!("prepay_id=wx{down}");
    let sign_input = format!(
        "appId={app_id}&nonceStr={nonce}&package={package}&signType=MD5&timeStamp={time_stamp}&key=sandbox"
    );
    JsapiParams {
        app_id,
        time_stamp,
        nonce_str: nonce,
        package,
        sign_type: "MD5".into(),
        pay_sign: md5_hex_upper(&sign_input),
    }
}

/// The QR code's content for a QR order, in the channel's own URL shape.
fn bar_code(channel: &Channel, down: &str) -> String {
    let token = &md5_hex_upper(down)[..10];
    match channel {
        Channel::Wechat => format!("weixin://wxpay/bizpayurl?pr={token}"),
        Channel::Alipay | Channel::AlipayWap => {
            format!("https://qr.alipay.com/bax0{}", token.to_ascii_lowercase())
        }
        _ => format!("https://qr.sssyin.cn/sandbox/{down}"),
    }
}
