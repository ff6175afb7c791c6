//! The admin endpoints under `/_sandbox/` (docs/SANDBOX.md) and the typed admin calls
//! `Sandbox` makes directly.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use sosopay::OrderState;

use super::wire::{json_response, param, read_capped};
use crate::faults::FaultRule;
use crate::ledger::LedgerOrder;
use crate::state::{Effects, Order, Shared, Transition};

/// Pays or fails an awaiting order (admin); `Err((http status, message))`.
pub(crate) fn admin_transition(
    shared: &Arc<Shared>,
    busi: Option<&str>,
    charge_code: &str,
    action: &str,
) -> Result<LedgerOrder, (u16, String)> {
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
            return Err((409, refusal(&g.orders[idx], &t, action)));
        }
        g.orders[idx].record()
    };
    shared.apply_effects(fx);
    Ok(out)
}

/// Why `action` (transition `t`) does not apply to `o`, in its state: the 409's reason.
fn refusal(o: &Order, t: &Transition, action: &str) -> String {
    let (cc, wire, name) = (&o.charge_code, o.state.as_wire(), o.state.name());
    match t {
        Transition::Cancel if o.state == OrderState::Cancelled => {
            let how = if o.paid_at_ms.is_some() {
                "reversed, the payment given back"
            } else {
                "before it was paid"
            };
            format!("order {cc} is already cancelled (state {wire}, {name}: {how}); there is nothing left to cancel")
        }
        Transition::Cancel => format!(
            "order {cc} is in state {wire} ({name}); cancel applies to an order awaiting payment (0), paid (1) or with a cancel applied for (3)"
        ),
        _ => format!(
            "order {cc} is in state {wire} ({name}); {action} applies to an order awaiting payment (0)"
        ),
    }
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

/// An admin error: `{"error": msg}` with `status`.
fn err(status: u16, msg: String) -> Response {
    json_response(
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        &json!({ "error": msg }),
    )
}

/// Reads an admin request's JSON body (at most 1 MiB, within the body timeout); an empty body
/// is `Null`. `Err` is the error response to send.
async fn read_json(shared: &Shared, body: Body) -> Result<Value, Response> {
    let b: Bytes = match tokio::time::timeout(
        shared.settings.body_timeout,
        read_capped(body, 1 << 20),
    )
    .await
    {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => return Err(err(413, "the body is over 1 MiB".into())),
        Err(_) => return Err(err(408, "the body did not arrive in time".into())),
    };
    if b.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&b).map_err(|e| err(400, format!("invalid JSON: {e}")))
}

/// Routes `/_sandbox/{rest}`.
pub(crate) async fn admin(
    shared: &Arc<Shared>,
    method: &Method,
    rest: &[&str],
    params: &[(String, String)],
    body: Body,
) -> Response {
    let busi = param(params, "busi_id");
    let rest: Vec<&str> = rest.iter().copied().filter(|s| !s.is_empty()).collect();
    match (method.as_str(), rest.as_slice()) {
        ("GET" | "HEAD", ["health"]) => health(shared),
        ("GET", ["ledger"]) => json_response(StatusCode::OK, &shared.ledger().to_json()),
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
        ("POST" | "PUT", ["faults"]) => set_faults(shared, body).await,
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
            Ok(o) => json_response(StatusCode::OK, &o.to_json()),
            Err((s, e)) => err(s, e),
        },
        ("POST" | "PUT", ["merchants"]) => add_merchant(shared, body).await,
        _ => err(
            404,
            format!(
                "no admin endpoint {method} /_sandbox/{}; see docs/SANDBOX.md",
                rest.join("/")
            ),
        ),
    }
}

/// `GET /_sandbox/health`.
fn health(shared: &Shared) -> Response {
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

/// `POST /_sandbox/faults`: replaces the fault rules (and the seed).
async fn set_faults(shared: &Shared, body: Body) -> Response {
    let v = match read_json(shared, body).await {
        Ok(Value::Null) => Value::Array(vec![]),
        Ok(v) => v,
        Err(r) => return r,
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

/// `POST /_sandbox/merchants`: registers `{"busi_id", "key"}`.
async fn add_merchant(shared: &Shared, body: Body) -> Response {
    let v = match read_json(shared, body).await {
        Ok(v) => v,
        Err(r) => return r,
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
