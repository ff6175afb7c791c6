//! Wire-level helpers shared by every operation: query strings, result nodes, the reply and
//! its rendering (with the faults that reshape it), HTTP responses, bounded body reads.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use http_body_util::BodyExt as _;
use serde_json::Value;
use sosopay::codec::{self, Format, MapBuilder, Node};
use sosopay::{Envelope, ResultCode};

use crate::faults::Operation;

pub(crate) fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

pub(crate) fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

pub(crate) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
}

pub(crate) fn result_node(code: &ResultCode, info: &str) -> Node {
    MapBuilder::new()
        .text("CODE", code.as_wire())
        .text("INFO", info)
        .build()
}

pub(crate) fn only_result(code: ResultCode, info: impl Into<String>) -> Node {
    MapBuilder::new()
        .node("RESULT", result_node(&code, &info.into()))
        .build()
}

pub(crate) fn root_of(op: Operation) -> &'static str {
    match op {
        Operation::PreOrder | Operation::Order => "ORDER_RESP",
        Operation::Refund => "REFUND_RESP",
        Operation::Query => "QUERY_RESP",
        Operation::CancelTrade => "CANCELTRADE_RESP",
        Operation::FlowRecharge => "FLOWRECHARGE_RESP",
        Operation::Notify | Operation::Any => "GATEWAY_RESP",
    }
}

/// The wire name of a field named by a validation error.
pub(crate) fn wire_field(op: Operation, field: &str) -> String {
    if let Some(rest) = field.strip_prefix("goods[") {
        if let Some((i, f)) = rest.split_once("].") {
            return format!("GOODS_DETAIL[{i}].GOOD_{}", f.to_ascii_uppercase());
        }
    }
    let w = match field {
        "charge_code" => "CHARGE_CODE",
        "amount" => "AMT",
        "dynamic_id" => "DYNAMIC_ID",
        "dynamic_id_type" => "DYNAMIC_ID_TYPE",
        "channel" => "CHANNEL_TYPE",
        "pay_subject" => "PAY_SUBJECT",
        "oper_id" => "OPER_ID",
        "dev_id" => "DEV_ID",
        "register_id" => "REGISTER_ID",
        "merchant_para" => "MERCHANTPARA",
        "time_expire" => "TIME_EXPIRE",
        "verify_codes" => "verifyCodes",
        "notify_url" if op == Operation::FlowRecharge => "notifyURL",
        "notify_url" => "NODIFY_URL",
        "trade_type" => "TRADE_TYPE",
        "sub_appid" => "subAppid",
        "sub_openid" => "subOpenid",
        "charge_down_code" => "CHARGE_DOWN_CODE",
        "out_refund_no" => "OUT_REFUND_NO",
        "refund_amount" => "CHARGE_REFUND_FEE",
        "refund_subject" => "REFUND_SUBJECT",
        "phone_no" => "phoneNo",
        "flow_val" => "flowVal",
        "flow_type" => "flowType",
        "ser_type" => "serType",
        other => other,
    };
    w.to_owned()
}

/// A rejected request: the result code, the message, and the merchant's envelope when known
/// (so the reply can be encrypted as asked).
pub(crate) struct Reject {
    pub(crate) code: ResultCode,
    pub(crate) info: String,
    pub(crate) env: Option<Envelope>,
}

impl Reject {
    pub(crate) fn new(code: ResultCode, info: impl Into<String>, env: Option<&Envelope>) -> Self {
        Reject {
            code,
            info: info.into(),
            env: env.cloned(),
        }
    }

    pub(crate) fn illegal(op: Operation, e: sosopay::Error, env: Option<&Envelope>) -> Self {
        let info = match &e {
            sosopay::Error::Validation { field, reason } => {
                format!(
                    "参数错误 (illegal parameter): {} {reason}",
                    wire_field(op, field)
                )
            }
            other => format!("参数错误 (illegal parameter): {other}"),
        };
        Reject::new(ResultCode::IllegalParameter, info, env)
    }
}

/// A reply ready to encode.
pub(crate) struct GwReply {
    pub(crate) status: StatusCode,
    pub(crate) op: Operation,
    pub(crate) node: Node,
    pub(crate) format: Format,
    pub(crate) env: Option<Envelope>,
}

impl GwReply {
    /// Encodes the reply (and encrypts it when asked), under `root_override` instead of the
    /// operation's own root element when given (the `wrong_root` fault).
    pub(crate) fn render(&self, root_override: Option<&str>) -> (&'static str, Vec<u8>) {
        let text = match root_override {
            Some(root) => codec::encode(self.format, root, &self.node),
            // The top-up reply has lower-case `result` and `flow` at the top level.
            None if self.op == Operation::FlowRecharge && self.format == Format::Json => {
                self.node.to_json_text()
            }
            None => codec::encode(self.format, root_of(self.op), &self.node),
        };
        match &self.env {
            Some(env) => (
                "text/plain;charset=UTF-8",
                env.encrypt(text.as_bytes()).into_bytes(),
            ),
            None => (
                match self.format {
                    Format::Json => "application/json;charset=UTF-8",
                    Format::Xml => "text/xml;charset=UTF-8",
                },
                text.into_bytes(),
            ),
        }
    }

    /// The top-level text field `name` (case-insensitively), if there is one.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        match &self.node {
            Node::Map(fields) => fields.iter().find_map(|(k, v)| match v {
                Node::Text(t) if k.eq_ignore_ascii_case(name) => Some(t.clone()),
                _ => None,
            }),
            _ => None,
        }
    }

    /// Replaces the top-level text field `name` (case-insensitively) with `value`.
    pub(crate) fn set_text(&mut self, name: &str, value: &str) {
        if let Node::Map(fields) = &mut self.node {
            for (k, v) in fields.iter_mut() {
                if k.eq_ignore_ascii_case(name) {
                    *v = Node::Text(value.to_owned());
                }
            }
        }
    }

    /// The `omit` fault: removes the top-level field `name` (case-insensitively).
    pub(crate) fn omit(&mut self, name: &str) {
        if let Node::Map(fields) = &mut self.node {
            fields.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        }
    }

    /// The `foreign_code` fault: a top-level `CHARGE_CODE` names another order, a refund's
    /// `OUT_REFUND_NO` another refund (each with `-OTHER` appended), and a top-up's
    /// `flow.phoneNo` another phone (with `9` appended), as a reply meant for another request
    /// would. A reply without them is unchanged.
    pub(crate) fn foreign_code(&mut self) {
        if let Node::Map(fields) = &mut self.node {
            for (k, v) in fields.iter_mut() {
                match v {
                    Node::Text(t)
                        if k.eq_ignore_ascii_case("CHARGE_CODE")
                            || k.eq_ignore_ascii_case("OUT_REFUND_NO") =>
                    {
                        t.push_str("-OTHER");
                    }
                    Node::Map(flow) if k == "flow" => {
                        for (fk, fv) in flow.iter_mut() {
                            match fv {
                                Node::Text(t) if fk == "phoneNo" => t.push('9'),
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// The `contradict` fault: a second top-level `STATE`, spelled `state`, before the real one,
    /// with a contradicting value: `1` (paid) unless the state is `1`, then `0`.
    pub(crate) fn contradict(&mut self) {
        if let Node::Map(fields) = &mut self.node {
            let Some(at) = fields
                .iter()
                .position(|(k, v)| k.eq_ignore_ascii_case("STATE") && v.as_text().is_some())
            else {
                return;
            };
            let real = fields[at].1.as_text().unwrap_or_default().trim().to_owned();
            let other = if real == "1" { "0" } else { "1" };
            fields.insert(at, ("state".to_owned(), Node::Text(other.to_owned())));
        }
    }

    /// The `list_state` fault: a scalar top-level `STATE` becomes a list holding it. In JSON
    /// that is a one-item array; XML writes a list as repeated elements and one element reads
    /// back as a scalar, so there the element is repeated (a two-item list).
    pub(crate) fn list_state(&mut self) {
        let copies = match self.format {
            Format::Json => 1,
            Format::Xml => 2,
        };
        if let Node::Map(fields) = &mut self.node {
            for (k, v) in fields.iter_mut() {
                if k.eq_ignore_ascii_case("STATE") {
                    if let Node::Text(t) = v {
                        let item = Node::Text(std::mem::take(t));
                        *v = Node::List(vec![item; copies]);
                    }
                }
            }
        }
    }
}

/// The root element the `wrong_root` fault renders `op`'s reply under: another operation's.
pub(crate) fn wrong_root(op: Operation) -> &'static str {
    match op {
        Operation::Refund => "QUERY_RESP",
        _ => "REFUND_RESP",
    }
}

pub(crate) fn bytes_response(
    status: StatusCode,
    content_type: &'static str,
    body: Vec<u8>,
) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

pub(crate) fn json_response(status: StatusCode, v: &Value) -> Response {
    let mut text = serde_json::to_string_pretty(v).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    bytes_response(status, "application/json;charset=UTF-8", text.into_bytes())
}

pub(crate) fn http_error(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = code.canonical_reason().unwrap_or("Error");
    bytes_response(
        code,
        "text/html;charset=UTF-8",
        format!("<html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}</h1><hr><center>nginx</center></body></html>\n")
            .into_bytes(),
    )
}

/// Past the cap, a body is still read (and thrown away) up to this many bytes, so the client
/// gets its reply instead of a broken pipe.
pub(crate) const DRAIN_LIMIT: usize = 64 << 20;

/// Reads a body of at most `max` bytes; `Err(())` when it is bigger or the read fails.
pub(crate) async fn read_capped(mut body: Body, max: usize) -> Result<Bytes, ()> {
    let mut buf: Vec<u8> = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return Err(()) };
        if let Ok(data) = frame.into_data() {
            total = total.saturating_add(data.len());
            if total > DRAIN_LIMIT {
                return Err(());
            }
            if total <= max {
                buf.extend_from_slice(&data);
            }
        }
    }
    if total > max {
        Err(())
    } else {
        Ok(Bytes::from(buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(crate) fn query_decoding() {
        let p = parse_query("sign=ab%3A12&_type=json&x=%zz&y");
        assert_eq!(param(&p, "sign"), Some("ab:12"));
        assert_eq!(param(&p, "_TYPE"), Some("json"));
        assert_eq!(param(&p, "x"), Some("%zz"));
        assert_eq!(param(&p, "y"), None);
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("a%4"), "a%4");
        assert_eq!(percent_decode("%E5%97%96"), "嗖");
        assert_eq!(percent_decode("a%FFb"), "a\u{fffd}b");
        assert_eq!(percent_decode("plain+text"), "plain+text");
    }
}
