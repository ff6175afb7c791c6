//! The HTTP side: the accept loop (with a per-connection kill switch for the drop faults), the
//! routing, and the request pipeline (read, parse, inject faults, execute, render). The
//! operations live in `ops`, one module each; parsing in `parse`; the admin endpoints in
//! `admin`; shared wire helpers in `wire`.

mod admin;
mod ops;
mod parse;
mod wire;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;
use hyper_util::rt::{TokioIo, TokioTimer};
use sosopay::codec::{Format, MapBuilder};
use sosopay::ResultCode;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

use admin::admin;
pub(crate) use admin::admin_transition;
use ops::execute;
use parse::{parse, Parsed};
use wire::{
    bytes_response, http_error, only_result, param, parse_query, percent_decode, read_capped,
    result_node, wrong_root, GwReply, Reject,
};

use crate::faults::{FaultKind, Operation};
use crate::notify::{garble, truncate};
use crate::state::Shared;

/// Lets a handler close its own connection without a reply.
#[derive(Clone)]
struct ConnCtl(Arc<Notify>);

/// Accepts connections until `shutdown` turns true.
pub(crate) async fn serve_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
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
        let shared = shared.clone();
        let mut sd = shutdown.clone();
        tokio::spawn(async move {
            let kill = Arc::new(Notify::new());
            let ctl = ConnCtl(kill.clone());
            let svc = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ctl.clone());
                // Every request goes to `dispatch` (no router: it routes by itself).
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(dispatch(shared, req.map(Body::new)).await) }
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

// ---------------------------------------------------------------------------------------------
// Dispatch

async fn dispatch(shared: Arc<Shared>, req: Request) -> Response {
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

    let Some((op, args, want)) = route(&segs) else {
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

/// One gateway request: reads the body (bounded in size and time), parses it, draws the next
/// The gateway operation a path names, with its path arguments and its HTTP method.
fn route(segs: &[&str]) -> Option<(Operation, Vec<String>, Method)> {
    let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    Some(match segs {
        ["openGateway", "openService", "preOrder"] => (Operation::PreOrder, vec![], Method::POST),
        ["openGateway", "openService", "order"] => (Operation::Order, vec![], Method::POST),
        ["openGateway", "openService", "refund"] => (Operation::Refund, vec![], Method::POST),
        ["openGateway", "openService", "query", rest @ ..] if rest.len() == 2 => {
            (Operation::Query, owned(rest), Method::GET)
        }
        ["openGateway", "openService", "cancelTrade", rest @ ..] if rest.len() == 2 => {
            (Operation::CancelTrade, owned(rest), Method::GET)
        }
        ["openGateway", "platService", "flowRecharge", busi] => {
            (Operation::FlowRecharge, owned(&[busi]), Method::POST)
        }
        _ => return None,
    })
}

/// fault for the operation, processes, and lets the fault shape or replace the reply.
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
    let body = match read_body(shared, op, format, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let parsed = parse(shared, op, params, args, &body, encrypt);
    let charge_code = parsed.as_ref().ok().and_then(Parsed::charge_code);
    let fault = {
        let mut g = shared.lock();
        let (no, f) = g.next_fault(op);
        if let Some(k) = &f {
            g.record_fault(op, k, no, charge_code.clone());
        }
        f
    };
    let parsed = parsed.map(|p| Parsed {
        replay_by_number: fault == Some(FaultKind::ReplayByNumber),
        ..p
    });
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
            let late = LateRequest {
                op,
                format,
                params: params.to_vec(),
                args: args.to_vec(),
                body,
                encrypt: encrypt.map(str::to_owned),
            };
            match late_reply(shared, late, ms).await {
                Ok(r) => r,
                Err(None) => return kill_connection(ctl).await,
                Err(Some(r)) => return r,
            }
        }
        Some(FaultKind::StaleReversal { ms }) => {
            pay_as_the_cancel_arrives(shared, charge_code.as_deref());
            let reply = process(shared, op, format, parsed, encrypt.is_some()).await;
            lag_behind_the_reversal(shared, charge_code.as_deref(), ms);
            reply
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
        Some(FaultKind::ForeignCode) => {
            reply.foreign_code();
            None
        }
        Some(FaultKind::Contradict) => {
            reply.contradict();
            None
        }
        Some(FaultKind::Lag { ms }) => {
            lag_behind_the_last_change(shared, &mut reply, ms);
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

/// The `lag` fault: a query's reply shows the order's state before its last change, if that
/// change is under `ms` milliseconds old.
fn lag_behind_the_last_change(shared: &Arc<Shared>, reply: &mut GwReply, ms: u64) {
    let Some(code) = reply.text("CHARGE_CODE") else {
        return;
    };
    let before = {
        let g = shared.lock();
        let Ok(idx) = g.find_any(None, &code) else {
            return;
        };
        match &g.orders[idx].previous {
            Some((state, at)) if at.elapsed() < Duration::from_millis(ms) => state.clone(),
            _ => return,
        }
    };
    reply.set_text("STATE", before.as_wire());
}

/// The `stale_reversal` fault, before the cancel of `charge_code`: the customer's payment
/// lands (an order awaiting payment is paid, and its notification goes out).
fn pay_as_the_cancel_arrives(shared: &Arc<Shared>, charge_code: Option<&str>) {
    let found = charge_code.and_then(|code| {
        let g = shared.lock();
        g.find_any(None, code).ok().map(|idx| (g.epoch, idx))
    });
    if let Some((epoch, idx)) = found {
        shared.transition_now(epoch, idx, &crate::state::Transition::Pay);
    }
}

/// The `stale_reversal` fault, after the cancel: if it reversed a paid order, queries show the
/// order paid for `ms` more milliseconds (a huge `ms` means for good, not an overflow).
fn lag_behind_the_reversal(shared: &Arc<Shared>, charge_code: Option<&str>, ms: u64) {
    let Some(code) = charge_code else { return };
    let mut g = shared.lock();
    let Ok(idx) = g.find_any(None, code) else {
        return;
    };
    let o = &mut g.orders[idx];
    if o.state == sosopay::OrderState::Cancelled && o.paid_at_ms.is_some() {
        let now = std::time::Instant::now();
        let until = now
            .checked_add(Duration::from_millis(ms))
            .unwrap_or(now + Duration::from_secs(365 * 24 * 3600));
        o.stale_view = Some((sosopay::OrderState::Paid, until));
    }
}

/// Reads a gateway request's body: `Err` is the response for a body over the size cap (413,
/// in the gateway's format) or one that takes longer than `body_timeout` (408, and the
/// connection closes).
async fn read_body(
    shared: &Shared,
    op: Operation,
    format: Format,
    body: Body,
) -> Result<Bytes, Response> {
    let max = shared.settings.max_body_bytes;
    match tokio::time::timeout(shared.settings.body_timeout, read_capped(body, max)).await {
        Ok(Ok(b)) => Ok(b),
        Err(_) => {
            // A slow-drip upload: answer 408 and close, rather than hold the connection.
            let mut r = http_error(408);
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            Err(r)
        }
        Ok(Err(_)) => {
            let reply = GwReply {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                op,
                node: only_result(
                    ResultCode::IllegalParameter,
                    format!("参数错误 (illegal parameter): the body is over {max} bytes"),
                ),
                format,
                env: None,
            };
            let (ct, b) = reply.render(None);
            Err(bytes_response(reply.status, ct, b))
        }
    }
}

/// The `late` fault: the request is delayed in transit and processed after the wait even
/// when the client has given up meanwhile (the connection task drops the handler when the
/// client closes the connection, but not the spawned task). `Err(None)`: the sandbox was
/// reset during the wait and the request is lost (the connection is dropped);
/// `Err(Some(response))`: the task failed.
async fn late_reply(
    shared: &Arc<Shared>,
    late: LateRequest,
    ms: u64,
) -> Result<GwReply, Option<Response>> {
    let epoch = shared.lock().epoch;
    let task = tokio::spawn(process_late(
        shared.clone(),
        late,
        epoch,
        Duration::from_millis(ms),
    ));
    match task.await {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(None),
        Err(_) => Err(Some(http_error(500))),
    }
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
            let node = execute(shared, p).await;
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
