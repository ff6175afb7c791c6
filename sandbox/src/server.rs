//! The HTTP side: the accept loop (with a per-connection kill switch for the drop faults), the
//! gateway's operations and the admin endpoints.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use http_body_util::BodyExt as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use md5::{Digest, Md5};
use serde_json::{json, Value};
use sosopay::codec::{self, Document, Format, MapBuilder, Node};
use sosopay::envelope::{verify_body, verify_cancel, verify_query};
use sosopay::models::{
    validate_code, FlowRechargeRequest, GatewayResult, JsapiParams, MicropayRequest, OrderReply,
    OrderRequest, QueryReply, RefundReply, RefundRequest,
};
use sosopay::{Channel, Envelope, OrderState, ResultCode, SerType};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tower::ServiceExt as _;

use crate::faults::{FaultKind, FaultRule, Operation};
use crate::notify::{garble, truncate};
use crate::state::{
    gateway_date, gateway_time, now_ms, Behaviour, Effects, FlowRecord, Order, OrderKind, Refund,
    Shared, Transition, ACO_COMPLETE_SECS, DEFAULT_TIME_EXPIRE_SECS, MICROPAY_HOLD_SECS,
};

/// Lets a handler close its own connection without a reply.
#[derive(Clone)]
struct ConnCtl(Arc<Notify>);

/// Accepts connections until `shutdown` turns true.
pub(crate) async fn serve_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let router = Router::new().fallback(dispatch).with_state(shared);
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.changed() => break,
        };
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(_) => {
                // Out of file descriptors and the like: back off briefly.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let mut sd = shutdown.clone();
        tokio::spawn(async move {
            let kill = Arc::new(Notify::new());
            let ctl = ConnCtl(kill.clone());
            let svc = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ctl.clone());
                let router = router.clone();
                async move {
                    let resp = router.oneshot(req.map(Body::new)).await;
                    Ok::<_, Infallible>(match resp {
                        Ok(r) => r,
                        Err(never) => match never {},
                    })
                }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .keep_alive(true)
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30));
            let conn = builder.serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = kill.notified() => {}
                _ = sd.changed() => {}
            }
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

fn percent_decode(s: &str) -> String {
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
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
}

fn result_node(code: &ResultCode, info: &str) -> Node {
    MapBuilder::new()
        .text("CODE", code.as_wire())
        .text("INFO", info)
        .build()
}

fn only_result(code: ResultCode, info: impl Into<String>) -> Node {
    MapBuilder::new()
        .node("RESULT", result_node(&code, &info.into()))
        .build()
}

fn root_of(op: Operation) -> &'static str {
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
fn wire_field(op: Operation, field: &str) -> String {
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
struct Reject {
    code: ResultCode,
    info: String,
    env: Option<Envelope>,
}

impl Reject {
    fn new(code: ResultCode, info: impl Into<String>, env: Option<&Envelope>) -> Self {
        Reject {
            code,
            info: info.into(),
            env: env.cloned(),
        }
    }

    fn illegal(op: Operation, e: sosopay::Error, env: Option<&Envelope>) -> Self {
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

enum ReqKind {
    Micropay(MicropayRequest),
    Order(OrderRequest),
    Refund(RefundRequest),
    Query { code: String, ser: SerType },
    Cancel { code: String, apply: bool },
    Flow(FlowRechargeRequest),
}

struct Parsed {
    busi: String,
    env: Envelope,
    kind: ReqKind,
}

impl Parsed {
    fn charge_code(&self) -> Option<String> {
        match &self.kind {
            ReqKind::Micropay(r) => Some(r.charge_code.clone()),
            ReqKind::Order(r) => Some(r.charge_code.clone()),
            ReqKind::Refund(r) => r.charge_code.clone().or(r.charge_down_code.clone()),
            ReqKind::Query { code, .. } | ReqKind::Cancel { code, .. } => Some(code.clone()),
            ReqKind::Flow(_) => None,
        }
    }
}

/// A reply ready to encode.
struct GwReply {
    status: StatusCode,
    op: Operation,
    node: Node,
    format: Format,
    env: Option<Envelope>,
}

impl GwReply {
    /// Encodes the reply (and encrypts it when asked), under `root_override` instead of the
    /// operation's own root element when given (the `wrong_root` fault).
    fn render(&self, root_override: Option<&str>) -> (&'static str, Vec<u8>) {
        let text = match root_override {
            Some(root) => codec::encode(self.format, root, &self.node),
            // The top-up reply has lower-case `result` and `flow` at the top level.
            None if self.op == Operation::FlowRecharge && self.format == Format::Json => {
                self.node.to_json_value().to_string()
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

    /// The `omit` fault: removes the top-level field `name` (case-insensitively).
    fn omit(&mut self, name: &str) {
        if let Node::Map(fields) = &mut self.node {
            fields.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        }
    }

    /// The `list_state` fault: a scalar top-level `STATE` becomes a list holding it. In JSON
    /// that is a one-item array; XML writes a list as repeated elements and one element reads
    /// back as a scalar, so there the element is repeated (a two-item list).
    fn list_state(&mut self) {
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
fn wrong_root(op: Operation) -> &'static str {
    match op {
        Operation::Refund => "QUERY_RESP",
        _ => "REFUND_RESP",
    }
}

fn bytes_response(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn json_response(status: StatusCode, v: &Value) -> Response {
    let mut text = serde_json::to_string_pretty(v).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    bytes_response(status, "application/json;charset=UTF-8", text.into_bytes())
}

fn http_error(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = code.canonical_reason().unwrap_or("Error");
    bytes_response(
        code,
        "text/html;charset=UTF-8",
        format!("<html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}</h1><hr><center>nginx</center></body></html>\n")
            .into_bytes(),
    )
}

async fn kill_connection(ctl: Option<ConnCtl>) -> Response {
    match ctl {
        Some(c) => {
            c.0.notify_one();
            // The connection task drops this future along with the connection.
            std::future::pending::<Response>().await
        }
        None => http_error(500),
    }
}

/// Past the cap, a body is still read (and thrown away) up to this many bytes, so the client
/// gets its reply instead of a broken pipe.
const DRAIN_LIMIT: usize = 64 << 20;

/// Reads a body of at most `max` bytes; `Err(())` when it is bigger or the read fails.
async fn read_capped(mut body: Body, max: usize) -> Result<Bytes, ()> {
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

// ---------------------------------------------------------------------------------------------
// Dispatch

async fn dispatch(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let ctl = parts.extensions.get::<ConnCtl>().cloned();
    let params = parse_query(parts.uri.query().unwrap_or(""));
    let format = match param(&params, "_type") {
        Some(t) if t.eq_ignore_ascii_case("json") => Format::Json,
        _ => Format::Xml,
    };
    let path = parts.uri.path().to_owned();
    let segs: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let method = parts.method.clone();

    if segs.first() == Some(&"_sandbox") {
        return admin(&shared, &method, &segs[1..], &params, body).await;
    }

    let (op, args, want): (Operation, Vec<String>, Method) = match segs.as_slice() {
        ["openGateway", "openService", "preOrder"] => (Operation::PreOrder, vec![], Method::POST),
        ["openGateway", "openService", "order"] => (Operation::Order, vec![], Method::POST),
        ["openGateway", "openService", "refund"] => (Operation::Refund, vec![], Method::POST),
        ["openGateway", "openService", "query", code, busi] => (
            Operation::Query,
            vec![(*code).to_owned(), (*busi).to_owned()],
            Method::GET,
        ),
        ["openGateway", "openService", "cancelTrade", code, busi] => (
            Operation::CancelTrade,
            vec![(*code).to_owned(), (*busi).to_owned()],
            Method::GET,
        ),
        ["openGateway", "platService", "flowRecharge", busi] => (
            Operation::FlowRecharge,
            vec![(*busi).to_owned()],
            Method::POST,
        ),
        _ => {
            let reply = GwReply {
                status: StatusCode::NOT_FOUND,
                op: Operation::Any,
                node: only_result(
                    ResultCode::IllegalParameter,
                    format!("no such service: {path}"),
                ),
                format,
                env: None,
            };
            let (ct, b) = reply.render(None);
            return bytes_response(reply.status, ct, b);
        }
    };
    if method != want && !(want == Method::GET && method == Method::HEAD) {
        let reply = GwReply {
            status: StatusCode::METHOD_NOT_ALLOWED,
            op,
            node: only_result(
                ResultCode::IllegalParameter,
                format!("{} must be called with {want}", op.as_str()),
            ),
            format,
            env: None,
        };
        let (ct, b) = reply.render(None);
        return bytes_response(reply.status, ct, b);
    }
    gateway(&shared, ctl, op, format, &params, &args, body).await
}

async fn gateway(
    shared: &Arc<Shared>,
    ctl: Option<ConnCtl>,
    op: Operation,
    format: Format,
    params: &[(String, String)],
    args: &[String],
    body: Body,
) -> Response {
    shared.lock().count_request(op.as_str());
    let encrypt = param(params, "encrypt");
    let body = match tokio::time::timeout(
        shared.settings.body_timeout,
        read_capped(body, shared.settings.max_body_bytes),
    )
    .await
    {
        Ok(Ok(b)) => b,
        Err(_) => {
            // A slow-drip upload: answer 408 and close, rather than hold the connection.
            let mut r = http_error(408);
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return r;
        }
        Ok(Err(_)) => {
            let reply = GwReply {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                op,
                node: only_result(
                    ResultCode::IllegalParameter,
                    format!(
                        "参数错误 (illegal parameter): the body is over {} bytes",
                        shared.settings.max_body_bytes
                    ),
                ),
                format,
                env: None,
            };
            let (ct, b) = reply.render(None);
            return bytes_response(reply.status, ct, b);
        }
    };
    let parsed = parse(shared, op, params, args, &body, encrypt);
    let charge_code = parsed.as_ref().ok().and_then(Parsed::charge_code);
    let fault = {
        let mut g = shared.lock();
        let (no, f) = g.next_fault(op);
        if let Some(k) = &f {
            g.record_fault(op, k, no, charge_code);
        }
        f
    };
    match fault {
        Some(FaultKind::Drop) => return kill_connection(ctl).await,
        Some(FaultKind::HttpStatus {
            status,
            processed: false,
        }) => return http_error(status),
        _ => {}
    }
    let mut reply = match fault {
        Some(FaultKind::Late { ms }) => {
            // Delayed in transit: the request is processed after the wait even when the client
            // has given up meanwhile (the connection task drops this handler when the client
            // closes the connection, but not the spawned task).
            let epoch = shared.lock().epoch;
            let task = tokio::spawn(process_late(
                shared.clone(),
                LateRequest {
                    op,
                    format,
                    params: params.to_vec(),
                    args: args.to_vec(),
                    body,
                    encrypt: encrypt.map(str::to_owned),
                },
                epoch,
                Duration::from_millis(ms),
            ));
            match task.await {
                Ok(Some(r)) => r,
                // The sandbox was reset during the wait: the request is lost.
                Ok(None) => return kill_connection(ctl).await,
                Err(_) => return http_error(500),
            }
        }
        _ => process(shared, op, format, parsed, encrypt.is_some()).await,
    };
    let root_override = match fault {
        Some(FaultKind::Omit { field }) => {
            reply.omit(field.as_wire());
            None
        }
        Some(FaultKind::ListState) => {
            reply.list_state();
            None
        }
        Some(FaultKind::WrongRoot) => Some(wrong_root(op)),
        _ => None,
    };
    let (ct, mut bytes) = reply.render(root_override);
    match fault {
        Some(FaultKind::DropReply) => return kill_connection(ctl).await,
        Some(FaultKind::Delay { ms }) => tokio::time::sleep(Duration::from_millis(ms)).await,
        Some(FaultKind::HttpStatus { status, .. }) => return http_error(status),
        Some(FaultKind::Garble) => garble(&mut bytes),
        Some(FaultKind::Truncate) => truncate(&mut bytes),
        _ => {}
    }
    bytes_response(reply.status, ct, bytes)
}

/// Executes a parsed request, or answers its rejection: the reply before faults shape it.
async fn process(
    shared: &Arc<Shared>,
    op: Operation,
    format: Format,
    parsed: Result<Parsed, Reject>,
    wants_encryption: bool,
) -> GwReply {
    match parsed {
        Ok(p) => {
            let env = p.env.clone();
            let node = execute(shared, op, p).await;
            GwReply {
                status: StatusCode::OK,
                op,
                node,
                format,
                env: wants_encryption.then_some(env),
            }
        }
        Err(r) => GwReply {
            status: StatusCode::OK,
            op,
            node: if op == Operation::FlowRecharge {
                MapBuilder::new()
                    .node("result", result_node(&r.code, &r.info))
                    .build()
            } else {
                only_result(r.code, r.info)
            },
            format,
            env: if wants_encryption { r.env } else { None },
        },
    }
}

/// A request held back by the `late` fault, owned so that it outlives its connection.
struct LateRequest {
    op: Operation,
    format: Format,
    params: Vec<(String, String)>,
    args: Vec<String>,
    body: Bytes,
    encrypt: Option<String>,
}

/// The `late` fault: waits, then checks and processes the request as if it arrived only now
/// (so the timestamp-age check sees the delay). `None` when the sandbox was reset meanwhile
/// (like timers and deliveries, a request of an older epoch does nothing).
async fn process_late(
    shared: Arc<Shared>,
    req: LateRequest,
    epoch: u64,
    wait: Duration,
) -> Option<GwReply> {
    tokio::time::sleep(wait).await;
    if shared.lock().epoch != epoch {
        return None;
    }
    let LateRequest {
        op,
        format,
        params,
        args,
        body,
        encrypt,
    } = req;
    let parsed = parse(&shared, op, &params, &args, &body, encrypt.as_deref());
    Some(process(&shared, op, format, parsed, encrypt.is_some()).await)
}

// ---------------------------------------------------------------------------------------------
// Parsing and verification

fn merchant(shared: &Shared, busi: &str) -> Option<Envelope> {
    shared.lock().merchants.get(busi).cloned()
}

fn check_age(shared: &Shared, sig: &sosopay::Signature, env: &Envelope) -> Result<(), Reject> {
    if let Some(max) = shared.settings.max_request_age {
        let now = now_ms();
        let ts = sig.timestamp_millis();
        let age = now.abs_diff(ts);
        if age > max.as_millis() as u64 {
            return Err(Reject::new(
                ResultCode::InvalidSign,
                format!(
                    "签名错误 (invalid sign): the timestamp is {} s away from the gateway's clock (at most {} s allowed)",
                    age / 1000,
                    max.as_secs()
                ),
                Some(env),
            ));
        }
    }
    Ok(())
}

/// The request body under its root: a JSON object as is (or the single object it wraps); an
/// XML document's root element (`ORDER_REQ`, ...).
fn request_body(doc: &Document) -> &Node {
    if let Node::Map(fields) = &doc.root {
        if fields.len() == 1 && fields[0].1.is_map() {
            let inner_looks_like_body = doc.format == Format::Xml
                || fields[0].1.get("BUSI_ID").is_some()
                || fields[0].1.get("CHARGE_CODE").is_some()
                || fields[0].1.get("phoneNo").is_some();
            if inner_looks_like_body {
                return &fields[0].1;
            }
        }
    }
    &doc.root
}

fn parse(
    shared: &Shared,
    op: Operation,
    params: &[(String, String)],
    args: &[String],
    body: &Bytes,
    encrypt: Option<&str>,
) -> Result<Parsed, Reject> {
    if let Some(e) = encrypt {
        if !e.eq_ignore_ascii_case("3DES") {
            return Err(Reject::new(
                ResultCode::IllegalParameter,
                format!("参数错误 (illegal parameter): encrypt {e:?} is not supported (3DES only)"),
                None,
            ));
        }
    }
    let encrypted = encrypt.is_some();
    match op {
        Operation::Query | Operation::CancelTrade => parse_get(shared, op, params, args),
        _ => parse_post(shared, op, params, args, body, encrypted),
    }
}

fn parse_get(
    shared: &Shared,
    op: Operation,
    params: &[(String, String)],
    args: &[String],
) -> Result<Parsed, Reject> {
    let (code, busi) = match args {
        [c, b] => (c.as_str(), b.as_str()),
        _ => {
            return Err(Reject::new(
                ResultCode::IllegalParameter,
                "参数错误 (illegal parameter): the path needs /{CHARGE_CODE}/{BUSI_CODE}",
                None,
            ))
        }
    };
    let env = merchant(shared, busi).ok_or_else(|| {
        Reject::new(
            ResultCode::UnregisteredBusi,
            format!("未注册的商户 (unregistered merchant): {busi}"),
            None,
        )
    })?;
    if let Some(b) = param(params, "BUSI_ID") {
        if b != busi {
            return Err(Reject::new(
                ResultCode::IllegalParameter,
                format!("参数错误 (illegal parameter): BUSI_ID {b} differs from the path's {busi}"),
                Some(&env),
            ));
        }
    }
    let sign = param(params, "sign").ok_or_else(|| {
        Reject::new(
            ResultCode::IllegalParameter,
            "参数错误 (illegal parameter): sign is required",
            Some(&env),
        )
    })?;
    let verified = if op == Operation::Query {
        verify_query(env.key(), sign, code)
    } else {
        verify_cancel(env.key(), sign, code, busi)
    };
    let sig = verified.map_err(|e| {
        Reject::new(
            ResultCode::InvalidSign,
            format!("签名错误 (invalid sign): {e}"),
            Some(&env),
        )
    })?;
    check_age(shared, &sig, &env)?;
    let kind = if op == Operation::Query {
        let ser = SerType::from_wire(param(params, "serType").unwrap_or(""));
        if let SerType::Unknown(raw) = &ser {
            return Err(Reject::new(
                ResultCode::IllegalParameter,
                format!("参数错误 (illegal parameter): serType {raw:?} is not 0, 1 or 2"),
                Some(&env),
            ));
        }
        validate_code("CHARGE_CODE", code).map_err(|e| Reject::illegal(op, e, Some(&env)))?;
        ReqKind::Query {
            code: code.to_owned(),
            ser,
        }
    } else {
        validate_code("CHARGE_CODE", code).map_err(|e| Reject::illegal(op, e, Some(&env)))?;
        let apply = param(params, "opType").is_some_and(|t| t.eq_ignore_ascii_case("ACO"));
        ReqKind::Cancel {
            code: code.to_owned(),
            apply,
        }
    };
    Ok(Parsed {
        busi: busi.to_owned(),
        env,
        kind,
    })
}

fn parse_post(
    shared: &Shared,
    op: Operation,
    params: &[(String, String)],
    args: &[String],
    body: &Bytes,
    encrypted: bool,
) -> Result<Parsed, Reject> {
    let path_busi = args.first().map(String::as_str);
    let query_busi = path_busi
        .or(param(params, "busiCode"))
        .or(param(params, "BUSI_ID"));
    let text = std::str::from_utf8(body).map_err(|_| {
        Reject::new(
            ResultCode::IllegalParameter,
            "参数错误 (illegal parameter): the body is not UTF-8",
            None,
        )
    })?;
    let mut known_env: Option<Envelope> = None;
    let plaintext = if encrypted {
        let busi = query_busi.ok_or_else(|| {
            Reject::new(
                ResultCode::IllegalParameter,
                "参数错误 (illegal parameter): busiCode is required with encrypt=3DES",
                None,
            )
        })?;
        let env = merchant(shared, busi).ok_or_else(|| {
            Reject::new(
                ResultCode::UnregisteredBusi,
                format!("未注册的商户 (unregistered merchant): {busi}"),
                None,
            )
        })?;
        let pt = env.decrypt_to_string(text).map_err(|e| {
            Reject::new(
                ResultCode::IllegalParameter,
                format!("参数错误 (illegal parameter): the body could not be decrypted with the merchant's key: {e}"),
                Some(&env),
            )
        })?;
        known_env = Some(env);
        pt
    } else {
        text.to_owned()
    };
    if plaintext.trim().is_empty() {
        return Err(Reject::new(
            ResultCode::IllegalParameter,
            "参数错误 (illegal parameter): the body is empty",
            known_env.as_ref(),
        ));
    }
    let doc = Document::parse(&plaintext).map_err(|e| {
        Reject::new(
            ResultCode::IllegalParameter,
            format!("参数错误 (illegal parameter): the body is not a JSON or XML document: {e}"),
            known_env.as_ref(),
        )
    })?;
    let node = request_body(&doc);
    let busi = match (op, path_busi) {
        (Operation::FlowRecharge, Some(b)) => b.to_owned(),
        _ => match (node.text("BUSI_ID"), query_busi) {
            (Some(b), Some(q)) if b != q => {
                return Err(Reject::new(
                    ResultCode::IllegalParameter,
                    format!("参数错误 (illegal parameter): BUSI_ID {b} differs from busiCode {q}"),
                    known_env.as_ref(),
                ))
            }
            (Some(b), _) => b.to_owned(),
            (None, Some(q)) => q.to_owned(),
            (None, None) => {
                return Err(Reject::new(
                    ResultCode::IllegalParameter,
                    "参数错误 (illegal parameter): BUSI_ID is required",
                    known_env.as_ref(),
                ))
            }
        },
    };
    let env = match known_env {
        Some(e) => e,
        None => merchant(shared, &busi).ok_or_else(|| {
            Reject::new(
                ResultCode::UnregisteredBusi,
                format!("未注册的商户 (unregistered merchant): {busi}"),
                None,
            )
        })?,
    };
    let sign = param(params, "sign").ok_or_else(|| {
        Reject::new(
            ResultCode::IllegalParameter,
            "参数错误 (illegal parameter): sign is required",
            Some(&env),
        )
    })?;
    let sig = verify_body(env.key(), sign, &plaintext).map_err(|e| {
        Reject::new(
            ResultCode::InvalidSign,
            format!("签名错误 (invalid sign): {e}"),
            Some(&env),
        )
    })?;
    check_age(shared, &sig, &env)?;
    let ill = |e| Reject::illegal(op, e, Some(&env));
    let kind = match op {
        Operation::PreOrder => {
            let r = MicropayRequest::from_wire(node).map_err(ill)?;
            r.validate().map_err(ill)?;
            ReqKind::Micropay(r)
        }
        Operation::Order => {
            let r = OrderRequest::from_wire(node).map_err(ill)?;
            r.validate().map_err(ill)?;
            ReqKind::Order(r)
        }
        Operation::Refund => {
            let r = RefundRequest::from_wire(node).map_err(ill)?;
            r.validate().map_err(ill)?;
            ReqKind::Refund(r)
        }
        _ => {
            let r = FlowRechargeRequest::from_wire(node).map_err(ill)?;
            r.validate().map_err(ill)?;
            ReqKind::Flow(r)
        }
    };
    Ok(Parsed { busi, env, kind })
}

// ---------------------------------------------------------------------------------------------
// Operations

async fn execute(shared: &Arc<Shared>, op: Operation, p: Parsed) -> Node {
    let Parsed { busi, kind, .. } = p;
    match kind {
        ReqKind::Micropay(r) => micropay(shared, &busi, r).await,
        ReqKind::Order(r) => order(shared, &busi, r),
        ReqKind::Refund(r) => refund(shared, &busi, r),
        ReqKind::Query { code, ser } => query(shared, &busi, &code, &ser),
        ReqKind::Cancel { code, apply } => cancel(shared, &busi, &code, apply),
        ReqKind::Flow(r) => {
            let _ = op;
            flow(shared, &busi, r)
        }
    }
}

fn serial_repeat(charge_code: &str) -> Node {
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

fn new_order(
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
    }
}

fn order_reply(o: &Order, code: ResultCode, info: &str) -> OrderReply {
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
        fund_bills: o.fund_bills(),
        oper_id: Some(o.oper_id.clone()),
        dev_id: Some(o.dev_id.clone()),
        begin_time: Some(gateway_time(o.created_at_ms)),
        bar_code: None,
        jsapi: None,
        raw: Value::Null,
    }
}

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

async fn micropay(shared: &Arc<Shared>, busi: &str, r: MicropayRequest) -> Node {
    let code = r.dynamic_id.as_str();
    if !(16..=24).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return only_result(
            ResultCode::IllegalParameter,
            "参数错误 (illegal parameter): DYNAMIC_ID must be the customer's payment code (16 to 24 digits)",
        );
    }
    let channel = if r.channel == Channel::Auto {
        match crate::state::detect_channel(code) {
            Some(c) => c,
            None => {
                return only_result(
                    ResultCode::IllegalParameter,
                    "参数错误 (illegal parameter): DYNAMIC_ID: cannot detect the channel of this payment code (WeChat codes start 10-15, Alipay 25-30, QQ Wallet 91, UnionPay 62); set CHANNEL_TYPE",
                )
            }
        }
    } else {
        r.channel.clone()
    };
    let behaviour = Behaviour::of(code);
    let start = tokio::time::Instant::now();
    let hold = shared.scaled(MICROPAY_HOLD_SECS);
    let (idx, epoch) = {
        let mut fx = Effects::default();
        let mut g = shared.lock();
        if g.find(busi, &r.charge_code).is_some() {
            return serial_repeat(&r.charge_code);
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
        match behaviour {
            Behaviour::PayNow => {
                g.transition(idx, &Transition::Pay, &mut fx);
            }
            Behaviour::CodeExpired => {
                g.transition(idx, &Transition::Close(REASON_EXPIRED_CODE.into()), &mut fx);
            }
            Behaviour::InsufficientFunds { secs: 0 } => {
                g.transition(idx, &Transition::Close(REASON_NOT_ENOUGH.into()), &mut fx);
            }
            Behaviour::ConfirmThenPay { secs: 0 }
            | Behaviour::PayingThenPay { secs: 0 }
            | Behaviour::ExceptionButPaid { secs: 0 } => {
                g.transition(idx, &Transition::Pay, &mut fx);
            }
            _ => {}
        }
        let epoch = g.epoch;
        drop(g);
        shared.apply_effects(fx);
        (idx, epoch)
    };
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

fn md5_hex_upper(s: &str) -> String {
    let d = Md5::digest(s.as_bytes());
    d.iter().map(|b| format!("{b:02X}")).collect()
}

fn order(shared: &Arc<Shared>, busi: &str, r: OrderRequest) -> Node {
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
        let app_id = r
            .sub_appid
            .clone()
            .unwrap_or_else(|| "wx77a451e8627239de".to_owned());
        let time_stamp = (now_ms() / 1000).to_string();
        let nonce = md5_hex_upper(&format!("{down}:{time_stamp}")).to_ascii_lowercase();
        let package = format!("prepay_id=wx{down}");
        let sign_input = format!(
            "appId={app_id}&nonceStr={nonce}&package={package}&signType=MD5&timeStamp={time_stamp}&key=sandbox"
        );
        reply.jsapi = Some(JsapiParams {
            app_id,
            time_stamp,
            nonce_str: nonce,
            package,
            sign_type: "MD5".into(),
            pay_sign: md5_hex_upper(&sign_input),
        });
    } else {
        let token = &md5_hex_upper(&down)[..10];
        reply.bar_code = Some(match r.channel {
            Channel::Wechat => format!("weixin://wxpay/bizpayurl?pr={token}"),
            Channel::Alipay | Channel::AlipayWap => {
                format!("https://qr.alipay.com/bax0{}", token.to_ascii_lowercase())
            }
            _ => format!("https://qr.sssyin.cn/sandbox/{down}"),
        });
    }
    reply.to_wire()
}

fn refund(shared: &Arc<Shared>, busi: &str, r: RefundRequest) -> Node {
    let mut g = shared.lock();
    let amount = r.refund_amount.fen();
    if let Some(no) = &r.out_refund_no {
        if let Some(&ri) = g.by_refund_no.get(&(busi.to_owned(), no.clone())) {
            let same = {
                let rf = &g.refunds[ri];
                rf.amount_fen == amount
                    && r.charge_code.as_ref().is_none_or(|c| *c == rf.charge_code)
                    && r.charge_down_code
                        .as_ref()
                        .is_none_or(|c| *c == rf.charge_down_code)
            };
            if !same {
                return only_result(
                    ResultCode::SerialRepeat,
                    "退款流水号重复 (OUT_REFUND_NO was already used for another refund)",
                );
            }
            g.refunds[ri].replays += 1;
            let rf = g.refunds[ri].clone();
            let oi = g.by_down.get(&rf.charge_down_code).copied();
            let (channel, state) = oi
                .and_then(|i| g.orders.get(i))
                .map(|o| (o.channel.clone(), o.state.clone()))
                .unwrap_or((Channel::Unknown(String::new()), rf.state_after.clone()));
            return refund_reply(&rf, channel, state);
        }
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
    let o = &mut g.orders[idx];
    match o.state {
        OrderState::Paid | OrderState::PartiallyRefunded => {}
        OrderState::Cancelled => {
            return only_result(
                ResultCode::AreadyRevoked,
                "该订单已经撤销 (already cancelled)",
            )
        }
        OrderState::Refunded => {
            return only_result(
                ResultCode::AmtError,
                "金额错误: the order is fully refunded (0.00 remains)",
            )
        }
        OrderState::Closed => {
            return only_result(ResultCode::Fail, "交易已关闭 (the order is closed)")
        }
        _ => {
            return only_result(
                ResultCode::Fail,
                "订单未支付，不能退款 (the order is not paid)",
            )
        }
    }
    let remaining = o.amount_fen - o.refunded_fen;
    if amount > remaining {
        return only_result(
            ResultCode::AmtError,
            format!(
                "金额错误: CHARGE_REFUND_FEE {} is above what remains of the payment ({})",
                sosopay::Amount::from_fen(amount)
                    .map(|a| a.to_yuan_string())
                    .unwrap_or_default(),
                sosopay::Amount::from_fen(remaining)
                    .map(|a| a.to_yuan_string())
                    .unwrap_or_default()
            ),
        );
    }
    o.refunded_fen += amount;
    o.state = if o.refunded_fen == o.amount_fen {
        OrderState::Refunded
    } else {
        OrderState::PartiallyRefunded
    };
    let rf = Refund {
        busi_id: busi.to_owned(),
        out_refund_no: r.out_refund_no.clone(),
        charge_code: o.charge_code.clone(),
        charge_down_code: o.charge_down_code.clone(),
        amount_fen: amount,
        state_after: o.state.clone(),
        created_at_ms: now_ms(),
        replays: 0,
    };
    let (channel, state) = (o.channel.clone(), o.state.clone());
    let ri = g.refunds.len();
    if let Some(no) = &r.out_refund_no {
        g.by_refund_no.insert((busi.to_owned(), no.clone()), ri);
    }
    g.refunds.push(rf.clone());
    drop(g);
    shared.changed.notify_waiters();
    refund_reply(&rf, channel, state)
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
        out_refund_no: rf.out_refund_no.clone(),
        state: Some(state),
        raw: Value::Null,
    }
    .to_wire()
}

fn query(shared: &Arc<Shared>, busi: &str, code: &str, ser: &SerType) -> Node {
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
        Some(o) => QueryReply {
            result: GatewayResult::success("查询成功"),
            order: o.details(),
            raw: Value::Null,
        }
        .to_wire(),
        None => only_result(
            ResultCode::ChargeNonexistent,
            "交易记录不存在 (no such order)",
        ),
    }
}

fn cancel(shared: &Arc<Shared>, busi: &str, code: &str, apply: bool) -> Node {
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

fn flow(shared: &Arc<Shared>, busi: &str, r: FlowRechargeRequest) -> Node {
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

// ---------------------------------------------------------------------------------------------
// Admin

/// Pays or fails an awaiting order (admin); `Err((http status, message))`.
pub(crate) fn admin_transition(
    shared: &Arc<Shared>,
    busi: Option<&str>,
    charge_code: &str,
    action: &str,
) -> Result<Value, (u16, String)> {
    let t = match action {
        "pay" => Transition::Pay,
        "fail" | "close" => Transition::Close("支付失败 (failed through the sandbox admin)".into()),
        "cancel" => Transition::Cancel,
        _ => return Err((404, format!("unknown order action {action:?}"))),
    };
    let mut fx = Effects::default();
    let out = {
        let mut g = shared.lock();
        let idx = g.find_any(busi, charge_code).map_err(|e| (404, e))?;
        if !g.transition(idx, &t, &mut fx) {
            let o = &g.orders[idx];
            return Err((
                409,
                format!(
                    "order {} is in state {} ({}); {action} applies to an order awaiting payment (0)",
                    o.charge_code,
                    o.state.as_wire(),
                    o.state.name()
                ),
            ));
        }
        g.orders[idx].to_json()
    };
    shared.apply_effects(fx);
    Ok(out)
}

/// Parses a faults document: `[rule, ...]` or `{"seed": N, "faults": [rule, ...]}`.
pub(crate) fn parse_faults(v: &Value) -> Result<(Vec<FaultRule>, Option<u64>), String> {
    let (list, seed) = match v {
        Value::Array(a) => (a.as_slice(), None),
        Value::Object(m) => {
            let seed = match m.get("seed") {
                None | Some(Value::Null) => None,
                Some(s) => Some(
                    s.as_u64()
                        .or_else(|| s.as_str().and_then(|t| t.parse().ok()))
                        .ok_or("seed must be a whole number")?,
                ),
            };
            let list = match m.get("faults").or_else(|| m.get("rules")) {
                None | Some(Value::Null) => &[][..],
                Some(Value::Array(a)) => a.as_slice(),
                Some(_) => return Err("\"faults\" must be a list".into()),
            };
            (list, seed)
        }
        _ => return Err("expected a list of fault rules or {\"seed\", \"faults\"}".into()),
    };
    let rules = list
        .iter()
        .map(FaultRule::from_json)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((rules, seed))
}

async fn admin(
    shared: &Arc<Shared>,
    method: &Method,
    rest: &[&str],
    params: &[(String, String)],
    body: Body,
) -> Response {
    let err = |status: u16, msg: String| {
        json_response(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            &json!({ "error": msg }),
        )
    };
    let read_json = |b: Bytes| -> Result<Value, String> {
        if b.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&b).map_err(|e| format!("invalid JSON: {e}"))
    };
    let busi = param(params, "busi_id");
    let rest: Vec<&str> = rest.iter().copied().filter(|s| !s.is_empty()).collect();
    match (method.as_str(), rest.as_slice()) {
        ("GET" | "HEAD", ["health"]) => {
            let g = shared.lock();
            let mut merchants: Vec<&String> = g.merchants.keys().collect();
            merchants.sort();
            json_response(
                StatusCode::OK,
                &json!({
                    "status": "ok",
                    "base_url": format!("{}openGateway/openService/", shared.root_url),
                    "merchants": merchants,
                    "orders": g.orders.len(),
                    "time_scale": shared.settings.time_scale,
                }),
            )
        }
        ("GET", ["ledger"]) => json_response(StatusCode::OK, &shared.ledger()),
        ("POST", ["reset"]) => {
            shared.lock().reset();
            shared.changed.notify_waiters();
            json_response(StatusCode::OK, &json!({ "status": "reset" }))
        }
        ("GET", ["faults"]) => {
            let g = shared.lock();
            json_response(
                StatusCode::OK,
                &json!({
                    "seed": g.seed,
                    "faults": g.faults.iter().map(FaultRule::to_json).collect::<Vec<_>>(),
                    "injected": g.fault_counts,
                }),
            )
        }
        ("POST" | "PUT", ["faults"]) => {
            let b = match tokio::time::timeout(
                shared.settings.body_timeout,
                read_capped(body, 1 << 20),
            )
            .await
            {
                Ok(Ok(b)) => b,
                Ok(Err(_)) => return err(413, "the body is over 1 MiB".into()),
                Err(_) => return err(408, "the body did not arrive in time".into()),
            };
            let v = match read_json(b) {
                Ok(Value::Null) => Value::Array(vec![]),
                Ok(v) => v,
                Err(e) => return err(400, e),
            };
            match parse_faults(&v) {
                Ok((rules, seed)) => {
                    let mut g = shared.lock();
                    g.set_faults(rules, seed);
                    json_response(
                        StatusCode::OK,
                        &json!({
                            "seed": g.seed,
                            "faults": g.faults.iter().map(FaultRule::to_json).collect::<Vec<_>>(),
                        }),
                    )
                }
                Err(e) => err(400, e),
            }
        }
        ("DELETE", ["faults"]) => {
            shared.lock().set_faults(Vec::new(), None);
            json_response(StatusCode::OK, &json!({ "faults": [] }))
        }
        ("GET", ["orders"]) => {
            let g = shared.lock();
            json_response(
                StatusCode::OK,
                &Value::Array(g.orders.iter().map(Order::to_json).collect()),
            )
        }
        ("GET", ["orders", cc]) => {
            let g = shared.lock();
            match g.find_any(busi, cc) {
                Ok(i) => json_response(StatusCode::OK, &g.orders[i].to_json()),
                Err(e) => err(404, e),
            }
        }
        ("POST", ["orders", cc, action]) => match admin_transition(shared, busi, cc, action) {
            Ok(v) => json_response(StatusCode::OK, &v),
            Err((s, e)) => err(s, e),
        },
        ("POST" | "PUT", ["merchants"]) => {
            let b = match tokio::time::timeout(
                shared.settings.body_timeout,
                read_capped(body, 1 << 20),
            )
            .await
            {
                Ok(Ok(b)) => b,
                Ok(Err(_)) => return err(413, "the body is over 1 MiB".into()),
                Err(_) => return err(408, "the body did not arrive in time".into()),
            };
            let v = match read_json(b) {
                Ok(v) => v,
                Err(e) => return err(400, e),
            };
            let busi_id = v.get("busi_id").and_then(Value::as_str);
            let key = v.get("key").and_then(Value::as_str);
            match (busi_id, key) {
                (Some(b), Some(k)) => match crate::register_merchant(shared, b, k) {
                    Ok(()) => json_response(StatusCode::OK, &json!({ "busi_id": b })),
                    Err(e) => err(400, e.to_string()),
                },
                _ => err(400, "expected {\"busi_id\": ..., \"key\": ...}".into()),
            }
        }
        _ => err(
            404,
            format!(
                "no admin endpoint {method} /_sandbox/{}; see docs/SANDBOX.md",
                rest.join("/")
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        let p = parse_query("sign=ab%3A12&_type=json&x=%zz&y");
        assert_eq!(param(&p, "sign"), Some("ab:12"));
        assert_eq!(param(&p, "_TYPE"), Some("json"));
        assert_eq!(param(&p, "x"), Some("%zz"));
        assert_eq!(param(&p, "y"), None);
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("a%4"), "a%4");
        assert_eq!(percent_decode("%E5%97%96"), "嗖");
    }
}
