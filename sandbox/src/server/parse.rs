//! Parsing and verifying a gateway request: the merchant, the signature (and its age), the
//! decryption, the body under its root, and the typed request it carries.

use axum::body::Bytes;
use sosopay::codec::{Document, Format, Node};
use sosopay::envelope::{verify_body, verify_cancel, verify_query};
use sosopay::models::{
    validate_code, FlowRechargeRequest, MicropayRequest, OrderRequest, RefundRequest,
};
use sosopay::{Envelope, ResultCode, SerType};

use super::wire::{param, Reject};
use crate::faults::Operation;
use crate::state::{now_ms, Shared};

pub(crate) enum ReqKind {
    Micropay(MicropayRequest),
    Order(OrderRequest),
    Refund(RefundRequest),
    Query { code: String, ser: SerType },
    Cancel { code: String, apply: bool },
    Flow(FlowRechargeRequest),
}

pub(crate) struct Parsed {
    pub(crate) busi: String,
    pub(crate) env: Envelope,
    pub(crate) kind: ReqKind,
    /// The `replay_by_number` fault was drawn for this request: a refund number used before
    /// answers with its earlier refund whatever this one asks.
    pub(crate) replay_by_number: bool,
}

impl Parsed {
    pub(crate) fn charge_code(&self) -> Option<String> {
        match &self.kind {
            ReqKind::Micropay(r) => Some(r.charge_code.clone()),
            ReqKind::Order(r) => Some(r.charge_code.clone()),
            ReqKind::Refund(r) => r.charge_code.clone().or(r.charge_down_code.clone()),
            ReqKind::Query { code, .. } | ReqKind::Cancel { code, .. } => Some(code.clone()),
            ReqKind::Flow(_) => None,
        }
    }
}

pub(crate) fn merchant(shared: &Shared, busi: &str) -> Option<Envelope> {
    shared.lock().merchants.get(busi).cloned()
}

pub(crate) fn check_age(
    shared: &Shared,
    sig: &sosopay::Signature,
    env: &Envelope,
) -> Result<(), Reject> {
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
pub(crate) fn request_body(format: Format, root: &Node) -> &Node {
    if let Node::Map(fields) = root {
        if fields.len() == 1 && fields[0].1.is_map() {
            let inner_looks_like_body = format == Format::Xml
                || fields[0].1.get("BUSI_ID").is_some()
                || fields[0].1.get("CHARGE_CODE").is_some()
                || fields[0].1.get("phoneNo").is_some();
            if inner_looks_like_body {
                return &fields[0].1;
            }
        }
    }
    root
}

pub(crate) fn parse(
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

/// A GET operation (`query`, `cancelTrade`): the charge code and merchant from the path, the
/// signature from the query.
pub(crate) fn parse_get(
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
    let env = merchant_or_reject(shared, busi)?;
    if let Some(b) = param(params, "BUSI_ID") {
        if b != busi {
            return Err(Reject::new(
                ResultCode::IllegalParameter,
                format!("参数错误 (illegal parameter): BUSI_ID {b} differs from the path's {busi}"),
                Some(&env),
            ));
        }
    }
    let sign = sign_param(params, &env)?;
    let verified = if op == Operation::Query {
        verify_query(env.key(), sign, code)
    } else {
        verify_cancel(env.key(), sign, code, busi)
    };
    accept_signature(shared, verified, &env)?;
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
        replay_by_number: false,
    })
}

/// A POST operation: the body (decrypted when `encrypted`), its merchant and signature, and
/// the typed request it carries, validated.
pub(crate) fn parse_post(
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
    let (plaintext, known_env) = if encrypted {
        let (pt, env) = decrypt(shared, text, query_busi)?;
        (pt, Some(env))
    } else {
        (text.to_owned(), None)
    };
    if plaintext.trim().is_empty() {
        return Err(Reject::new(
            ResultCode::IllegalParameter,
            "参数错误 (illegal parameter): the body is empty",
            known_env.as_ref(),
        ));
    }
    let (format, root) = Document::parse_root(&plaintext).map_err(|e| {
        Reject::new(
            ResultCode::IllegalParameter,
            format!("参数错误 (illegal parameter): the body is not a JSON or XML document: {e}"),
            known_env.as_ref(),
        )
    })?;
    let node = request_body(format, &root);
    let busi = match (op, path_busi) {
        (Operation::FlowRecharge, Some(b)) => b.to_owned(),
        _ => busi_of(node, query_busi, known_env.as_ref())?,
    };
    let env = match known_env {
        Some(e) => e,
        None => merchant_or_reject(shared, &busi)?,
    };
    let sign = sign_param(params, &env)?;
    accept_signature(shared, verify_body(env.key(), sign, &plaintext), &env)?;
    let kind = typed_request(op, node).map_err(|e| Reject::illegal(op, e, Some(&env)))?;
    Ok(Parsed {
        busi,
        env,
        kind,
        replay_by_number: false,
    })
}

/// A signature check's result: `INVALID_SIGN` when it failed, then the replay window.
fn accept_signature(
    shared: &Shared,
    verified: sosopay::Result<sosopay::Signature>,
    env: &Envelope,
) -> Result<(), Reject> {
    let sig = verified.map_err(|e| {
        Reject::new(
            ResultCode::InvalidSign,
            format!("签名错误 (invalid sign): {e}"),
            Some(env),
        )
    })?;
    check_age(shared, &sig, env)
}

/// The registered merchant `busi`, or `UNREGISTERED_BUSI`.
fn merchant_or_reject(shared: &Shared, busi: &str) -> Result<Envelope, Reject> {
    merchant(shared, busi).ok_or_else(|| {
        Reject::new(
            ResultCode::UnregisteredBusi,
            format!("未注册的商户 (unregistered merchant): {busi}"),
            None,
        )
    })
}

/// The `sign` query parameter, required.
fn sign_param<'a>(params: &'a [(String, String)], env: &Envelope) -> Result<&'a str, Reject> {
    param(params, "sign").ok_or_else(|| {
        Reject::new(
            ResultCode::IllegalParameter,
            "参数错误 (illegal parameter): sign is required",
            Some(env),
        )
    })
}

/// Decrypts a 3DES body with the key of the merchant named in the query (`busiCode`).
fn decrypt(
    shared: &Shared,
    text: &str,
    query_busi: Option<&str>,
) -> Result<(String, Envelope), Reject> {
    let busi = query_busi.ok_or_else(|| {
        Reject::new(
            ResultCode::IllegalParameter,
            "参数错误 (illegal parameter): busiCode is required with encrypt=3DES",
            None,
        )
    })?;
    let env = merchant_or_reject(shared, busi)?;
    let pt = env.decrypt_to_string(text).map_err(|e| {
        Reject::new(
            ResultCode::IllegalParameter,
            format!("参数错误 (illegal parameter): the body could not be decrypted with the merchant's key: {e}"),
            Some(&env),
        )
    })?;
    Ok((pt, env))
}

/// The merchant of a POST body: its `BUSI_ID`, which must agree with the query's when both
/// are given.
fn busi_of(
    node: &Node,
    query_busi: Option<&str>,
    env: Option<&Envelope>,
) -> Result<String, Reject> {
    match (node.text("BUSI_ID"), query_busi) {
        (Some(b), Some(q)) if b != q => Err(Reject::new(
            ResultCode::IllegalParameter,
            format!("参数错误 (illegal parameter): BUSI_ID {b} differs from busiCode {q}"),
            env,
        )),
        (Some(b), _) => Ok(b.to_owned()),
        (None, Some(q)) => Ok(q.to_owned()),
        (None, None) => Err(Reject::new(
            ResultCode::IllegalParameter,
            "参数错误 (illegal parameter): BUSI_ID is required",
            env,
        )),
    }
}

/// The typed, validated request of a POST operation.
fn typed_request(op: Operation, node: &Node) -> Result<ReqKind, sosopay::Error> {
    Ok(match op {
        Operation::PreOrder => {
            let r = MicropayRequest::from_wire(node)?;
            r.validate()?;
            ReqKind::Micropay(r)
        }
        Operation::Order => {
            let r = OrderRequest::from_wire(node)?;
            r.validate()?;
            ReqKind::Order(r)
        }
        Operation::Refund => {
            let r = RefundRequest::from_wire(node)?;
            // The gateway accepts a refund without OUT_REFUND_NO; only the SDK requires one.
            r.validate_received()?;
            ReqKind::Refund(r)
        }
        _ => {
            let r = FlowRechargeRequest::from_wire(node)?;
            r.validate()?;
            ReqKind::Flow(r)
        }
    })
}
